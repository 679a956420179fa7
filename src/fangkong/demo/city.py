"""``fangkong demo``: a small synthetic Zhanjiang (湛江) loaded through the real services.

Until the drill (a simulated outbreak) lands, this is the main job: divisions, synthetic people
in households placed by the districts' population, a few cases, tasks (some overdue), and demo
users. Everything goes through the same importers and services the API uses.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
from datetime import timedelta
from importlib import resources

from rich.console import Console
from sqlalchemy.orm import Session

from fangkong.case import importer as case_importer
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.demo.synthetic import people, to_csv
from fangkong.geo import service as geo
from fangkong.geo.enums import Level
from fangkong.person import importer as person_importer
from fangkong.person import service as persons
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate

CITY = "4408"  # 湛江市
# One user of each role: the city's commander and administrator, and 赤坎区's (440802) field
# staff, so that each role's workspace can be tried on the drill's records.
DEMO_USERS = [("commander", Role.commander, CITY), ("chikan_epi", Role.epidemiologist, "440802"),
              ("chikan_testing", Role.testing_officer, "440802"),
              ("chikan_isolation", Role.isolation_officer, "440802"),
              ("chikan_community", Role.community_worker, "440802"),
              ("analyst", Role.analyst, CITY), ("admin", Role.administrator, CITY)]


def district_weights() -> dict[str, float]:
    """Zhanjiang's county-level population (year-end 2021 estimates, with sources, in
    geo/data/population-seed.csv)."""
    text = (resources.files("fangkong.geo") / "data" / "population-seed.csv").read_text("utf-8")
    out = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["adcode"]
        if (row["basis"] == "yearend2021_resident_estimate" and code.startswith(CITY)
                and len(code) == 6 and code != "440800"):
            out[code] = float(row["population"])
    return out


def build_demo(session: Session, *, persons: int, seed: int, console: Console) -> str:
    from fangkong.cliutil import cli_actor

    actor = cli_actor()
    with console.status("loading Guangdong divisions…"):
        geo.load(session, province="44")
    weights = district_weights()
    villages = geo.descendants(session, CITY, level=Level.village, limit=100_000)
    per_county: dict[str, int] = {}
    for v in villages:
        per_county[v.code[:6]] = per_county.get(v.code[:6], 0) + 1
    places = [(v.code, weights.get(v.code[:6], 0.0) / per_county[v.code[:6]]) for v in villages]
    with console.status(f"importing {persons:,} synthetic persons…"):
        data = to_csv(people(persons, seed=seed, places=places, ref_prefix="ZJ"))
        report = person_importer.import_file(session, actor=actor, source=data,
                                             filename="demo-persons.csv")
    cases = _cases(session, actor, seed, min(40, persons // 50))
    made_tasks = _tasks(session, actor, seed)
    creds = _users(session, actor)
    return (f"[green]demo city ready[/]: 湛江市 with {len(villages):,} villages; persons "
            f"{report.inserted:,} new, {report.unchanged:,} unchanged; cases {cases.inserted} new, "
            f"{cases.updated} updated, {cases.unchanged} unchanged; {made_tasks} tasks created"
            f"\n{creds}")


def _cases(session: Session, actor: Actor, seed: int, n: int) -> case_importer.CaseImportReport:
    rng = random.Random(seed)
    # Anchored on today's midnight so that running the demo again the same day changes nothing.
    now = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["ref", "person_ref", "classification", "severity", "onset_date",
                     "reported_at", "detection_mode", "owning_division_code"])

    picked = [(ref, code) for ref, _, code in persons.refs_with_prefix(
        session, "ZJ", limit=n * 37)][::37][:n]
    for i, (ref, code) in enumerate(picked):
        cls = rng.choice(["asymptomatic", "confirmed", "confirmed", "suspected"])
        reported = now - timedelta(days=rng.randrange(0, 10), hours=rng.randrange(0, 20))
        writer.writerow([f"ZJC{i + 1:05d}", ref, cls, "mild" if cls == "confirmed" else "",
                         (reported - timedelta(days=2)).date().isoformat(),
                         reported.isoformat(timespec="seconds"),
                         rng.choice(["in_quarantine", "community_screening", "fever_clinic"]),
                         code[:6]])
    return case_importer.import_file(session, actor=actor,
                                     source=rows.getvalue().encode(), filename="demo-cases.csv")


def _tasks(session: Session, actor: Actor, seed: int) -> int:
    if tasks.any_task(session):
        return 0
    rng = random.Random(seed)
    now = utc_now()
    counties = [d.code for d in geo.children(session, CITY)]
    kinds = [("investigate_case", "流调：核实病例活动轨迹"), ("notify_contact", "通知密接人员"),
             ("transfer_to_quarantine", "转运密接至集中隔离点")]
    for i in range(12):
        kind, title = kinds[i % 3]
        due = now + timedelta(hours=rng.randrange(-30, 24))
        tasks.create(session, actor=actor,
                     data=TaskCreate(type=kind, title=title, due_at=due,
                                     owning_division_code=rng.choice(counties)))
    tasks.escalate_overdue(session, actor=actor)
    return 12


def ensure_demo_users(session: Session) -> str:
    """Create the demo users once; returns where their passwords are kept (and them)."""
    from fangkong.cliutil import cli_actor

    return _users(session, cli_actor())


def _users(session: Session, actor: Actor) -> str:
    path = get_settings().data_dir / "demo-users.txt"
    lines = []
    for name, role, code in DEMO_USERS:
        if users.username_taken(session, name):
            continue
        password = secrets.token_urlsafe(12)
        users.create_user(session, actor=actor,
                          data=UserCreate(username=name, role=role, jurisdictions=[code],
                                          password=password))
        lines.append(f"{name}\t{role.value}\t{code}\t{password}")
    if lines:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        path.chmod(0o600)
    from fangkong.cliutil import cli_lang
    from fangkong.core.messages import CORE

    return CORE("demo_users", path=path).render(cli_lang()) + "\n" + (
        path.read_text("utf-8") if path.exists() else "")
