"""Benchmark: the server time of each workspace form submission and of the global search, at
N persons (1,000,000 by default), in process: the FastAPI app as ``fangkong serve`` makes it
(``create_app(settle_gc=True)``), driven through Starlette's TestClient (ASGI, the real
middleware, CSRF, session, read/write transactions and audit), so a figure is the server's
time of one request without a network or a browser.

The database is the one ``bench_pages.py`` builds (N synthetic persons over Zhanjiang's
villages, ``--cases`` cases, ``--tasks`` tasks, contacts, a city-wide testing round; the same
options for its distribution), or one such a run kept (``--reuse DIR``, with ``--db`` and
``--pg-url`` as then). Each submission is timed ``--runs`` times (after ``--warmup``), each on
a record of its own prepared before the clock starts (a person without a case, a fresh case,
a contact still to be notified, an open task...), and must answer what a person would get (a
redirect or the page with the saved message); anything else stops the benchmark.

Timed, as the county epidemiologist (``--district``), the community worker of that county
this benchmark adds, and the city commander:

- report a case for an existing person (``POST /report/case``);
- report with a new person (``POST /report/person``: the duplicate check, then the person);
- save an interview draft, then complete it (``POST /cases/{id}/interview``, on the cases just
  reported: a symptom, a day's places, a person met; completing feeds tracing);
- confirm the case's proposed contacts in bulk (``POST /cases/{id}/contacts/review``);
- record a follow-up (``POST /community/contacts/{id}/notified``);
- close a task (``POST /tasks/{id}``, action done, as the city commander);
- sync an entry made offline (``POST /sync``, a contact notified);
- the global search (``GET /search?q=``: names' first two characters, phones' last four
  digits, ID numbers, case numbers).

Baselines in the same process: ``GET /healthz`` (routing and middleware) and the exact
lookup by ID number through the global search. Prints p50/p95/max per form and the ratios of
its p50 to both baselines; a p95 over ``--goal-ms`` (100) is flagged and the exit code is 1.

    .venv/bin/python bench/bench_forms.py --persons 1000000 --db postgresql   # build, measure
    .venv/bin/python bench/bench_forms.py --db postgresql --pg-url URL --reuse DIR  # a kept one
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pages

COMMUNITY, PASSWORD = "bench-community", "bench-password-0123"
SQL: list[tuple[str, float]] = []
"""With ``--sql``: each statement the server ran during a form's requests, and its seconds."""


def watch_sql() -> None:
    from sqlalchemy import event

    from fangkong.core.db import get_engine

    engine = get_engine()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *a: Any) -> None:
        SQL.append((statement, time.perf_counter() - conn.info["bench_t0"].pop()))


def add_build_options(ap: argparse.ArgumentParser) -> None:
    """bench_pages' options for the database it builds (the distribution)."""
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--cases", type=int, default=2_000)
    ap.add_argument("--tasks", type=int, default=3_000)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--sampled", type=float, default=0.6)
    ap.add_argument("--answered", type=float, default=0.5)
    ap.add_argument("--hotspot", type=float, default=0.5)
    ap.add_argument("--hotspot-county", default="440802")
    ap.add_argument("--contacts-per-case", type=float, default=8.0)
    ap.add_argument("--hours-to-identify", type=float, default=8.0)
    ap.add_argument("--overdue", type=float, default=0.3)


def pct(values: list[float], q: float) -> float:
    return bench_pages.pct(values, q)


def form(client: Any, **fields: Any) -> dict[str, Any]:
    return {**fields, "csrftoken": client.cookies["fangkong_csrf"]}


def scrape(pattern: str, html: str) -> list[str]:
    return re.findall(pattern, html, re.S)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        from fangkong.app import create_app
        from fangkong.core.config import get_settings

        self.args = args
        self.rng = random.Random(args.seed)
        self.settings = get_settings()
        self.app = create_app(self.settings, settle_gc=True)
        self.epi = bench_pages.sign_in(self.app, "district", PASSWORD)
        self.city = bench_pages.sign_in(self.app, "city", PASSWORD)
        self.community = bench_pages.sign_in(self.app, COMMUNITY, PASSWORD)
        self.results: list[tuple[str, list[float]]] = []
        self.n = args.warmup + args.runs

    def timed(self, label: str, calls: list[Callable[[], Any]],
              ok: Callable[[Any], bool]) -> list[float]:
        """Each call once (a request on a record of its own); the first ``--warmup`` are not
        counted."""
        out = []
        SQL.clear()
        prof = None
        if self.args.profile:
            import cProfile

            prof = cProfile.Profile()
        for i, call in enumerate(calls):
            if prof is not None and i >= self.args.warmup:
                prof.enable()
            t0 = time.perf_counter()
            resp = call()
            took = time.perf_counter() - t0
            if prof is not None:
                prof.disable()
            if not ok(resp):
                raise SystemExit(f"{label}: {resp.status_code} {resp.text[:300]}")
            if i >= self.args.warmup:
                out.append(took)
        self.results.append((label, out))
        if self.args.sql and SQL:
            timed_n = len(calls)
            total: dict[str, list[float]] = {}
            for stmt, took in SQL:
                total.setdefault(stmt, []).append(took)
            print(f"  {label}: {len(SQL) / timed_n:.1f} statements a request, "
                  f"{sum(t for _, t in SQL) / timed_n * 1000:.1f} ms in the database; "
                  f"the costliest:")
            for stmt, times in sorted(total.items(), key=lambda kv: -sum(kv[1]))[:5]:
                print(f"    {sum(times) / timed_n * 1000:7.1f} ms x{len(times) / timed_n:4.1f}  "
                      f"{' '.join(stmt.split())[:160]}")
        if prof is not None:
            self.args.profile.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(self.args.profile / (re.sub(r"\W+", "-", label).strip("-")
                                                 + ".prof"))
        return out


def ensure_community_worker(district: str) -> None:
    from sqlalchemy import select

    from fangkong.core.auth import Role, system_actor
    from fangkong.core.db import session_scope
    from fangkong.user import service as users
    from fangkong.user.models import User
    from fangkong.user.schemas import UserCreate

    with session_scope() as session:
        if session.scalar(select(User.id).where(User.username == COMMUNITY)) is None:
            users.create_user(session, actor=system_actor("bench"), data=UserCreate(
                username=COMMUNITY, role=Role.community_worker, jurisdictions=[district],
                password=PASSWORD))


def pick(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """The records the submissions are made on, chosen before any clock starts."""
    from sqlalchemy import and_, exists, func, select

    from fangkong.case.models import Case
    from fangkong.core.auth import system_actor
    from fangkong.core.db import session_scope
    from fangkong.geo.models import Division
    from fangkong.person import service as persons
    from fangkong.person.models import Person
    from fangkong.task.enums import TaskStatus
    from fangkong.task.models import Task
    from fangkong.tracing.enums import ContactStatus
    from fangkong.tracing.models import ContactEpisode
    from fangkong.web.command.tasks import task_version
    from fangkong.web.workspace.community import contact_version

    d = args.district
    in_d = and_(Person.division_code >= d, Person.division_code < d + "~")
    with session_scope() as session:
        free = session.scalars(select(Person.id).where(in_d, ~exists().where(
            Case.person_id == Person.id)).order_by(func.random()).limit(2 * n)).all()
        others = session.execute(select(Person.ref, Person.name, Person.phone_masked, Person.id)
                                 .where(in_d).order_by(func.random()).limit(4 * n)).all()
        ids = [persons.identifiers(session, actor=system_actor("bench"),
                                   person_id=r.id).id_number for r in others[:n]]
        contacts = session.scalars(select(ContactEpisode).where(
            ContactEpisode.status == ContactStatus.identified,
            ContactEpisode.division_code >= d, ContactEpisode.division_code < d + "~")
            .order_by(ContactEpisode.id).limit(2 * n)).all()
        contact_rows = [(c.id, contact_version(c)) for c in contacts]
        tasks = session.scalars(select(Task).where(
            Task.status == TaskStatus.open, Task.owning_division_code >= "4408",
            Task.owning_division_code < "4408~").order_by(func.random()).limit(n)).all()
        task_rows = [(t.id, task_version(t)) for t in tasks]
        villages = session.scalars(select(Division.code).where(
            Division.code >= d, Division.code < d + "~", func.length(Division.code) == 12)
            .limit(50)).all()
        case_refs = session.scalars(select(Case.ref).where(
            Case.owning_division_code == d).limit(n)).all()
    if len(free) < 2 * n or len(contact_rows) < 2 * n or len(task_rows) < n:
        raise SystemExit(f"too few records for {n} submissions: {len(free)} persons without "
                         f"a case, {len(contact_rows)} contacts identified, "
                         f"{len(task_rows)} open tasks")
    return {"free": free, "others": others, "ids": ids, "contacts": contact_rows,
            "tasks": task_rows, "villages": villages, "case_refs": case_refs}


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from fangkong.core.clock import utc_now
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade

    upgrade(get_engine())  # a database kept by an older version: brought to this one's schema
    ensure_community_worker(args.district)
    if args.db == "postgresql":
        with session_scope() as session:
            session.execute(text("ANALYZE"))
    if args.sql:
        watch_sql()
    b = Bench(args)
    n = b.n
    got = pick(args, n)
    rng = b.rng
    d = args.district
    now = utc_now()
    stamp = uuid.uuid4().hex[:4].upper()
    print(f"bench_forms on {b.settings.resolved_database_url.split('@')[-1]}, "
          f"{args.runs} submissions each (after {args.warmup}), county {d}", flush=True)

    def redirect(r: Any) -> bool:
        return bool(r.status_code == 303)

    def page_ok(r: Any) -> bool:
        return bool(r.status_code == 200)

    # baselines
    health = b.timed("baseline: GET /healthz", [lambda: b.epi.get("/healthz")] * n, page_ok)
    exact = b.timed("baseline: search, exact ID number",
                    [lambda q=q: b.epi.get("/search", params={"q": q}) for q in got["ids"]],
                    page_ok)

    # the global search, as typed
    typed: list[str] = []
    for ref, name, phone, _ in got["others"][:n]:
        typed.append(rng.choice([name[:2], (phone or "0000")[-4:], ref]))
    typed = [*typed[: n - len(got["case_refs"][: n // 4])], *got["case_refs"][: n // 4]]
    b.timed("global search (name, phone, ref, case no.)",
            [lambda q=q: b.epi.get("/search", params={"q": q}) for q in typed], page_ok)

    # report a case for an existing person
    onset = (now - timedelta(days=2)).date().isoformat()
    reported = now.strftime("%Y-%m-%dT%H:%M")
    persons_for_cases = got["free"][:n]

    def case_fields(pid: int, k: int) -> dict[str, str]:
        return {"person": str(pid), "ref": f"BF-{stamp}-{k:05d}", "classification": "confirmed",
                "severity": "mild", "reported_at": reported, "onset_date": onset,
                "detection_mode": "fever_clinic", "owning_division_code": d}

    cases_made: list[int] = []

    def report(pid: int, k: int) -> Any:
        r = b.epi.post("/report/case", data=form(b.epi, **case_fields(pid, k)),
                       follow_redirects=False)
        if r.status_code == 303:
            cases_made.append(int(r.headers["location"].split("/")[2]))
        return r

    b.timed("report a case, existing person",
            [lambda pid=pid, k=k: report(pid, k) for k, pid in enumerate(persons_for_cases)],
            redirect)

    # report with a new person: the duplicate check, then the person
    from fangkong.demo.synthetic import resident_id

    fresh = random.Random(uuid.uuid4().int)  # new ID numbers and phones on every run

    def new_person(k: int) -> dict[str, str]:
        born = now.date() - timedelta(days=fresh.randrange(365 * 5, 365 * 80))
        female = bool(k % 2)
        return {"name": f"测{rng.choice('甲乙丙丁戊己庚辛')}{k:04d}{stamp}",
                "sex": "female" if female else "male", "birth_date": born.isoformat(),
                "id_number": resident_id(fresh, d, born, female),
                "phone": f"139{fresh.randrange(10**8):08d}", "address": "海滨路 1 号",
                "division_code": rng.choice(got["villages"]), "household_ref": ""}

    b.timed("report, new person (duplicate check, create)",
            [lambda k=k: b.epi.post("/report/person", data=form(b.epi, **new_person(k)),
                                    follow_redirects=False) for k in range(n)], redirect)

    # the interview: a draft, then completed, on the cases just reported
    named = got["others"][n: 2 * n]

    def interview(case_id: int, k: int, version: str, action: str) -> Any:
        fields = {"version": version, "action": action, "onset_date": onset,
                  "symptom_note": "咳嗽两天", "people-0-who": named[k].ref,
                  "people-0-first_exposure": onset, "people-0-last_exposure": onset,
                  "people-0-setting": "workplace", "people-0-proximity": "within_1m",
                  "people-0-note": "同事", **slots[case_id]}
        return b.epi.post(f"/cases/{case_id}/interview",
                          data={**form(b.epi, **fields), "symptoms": ["fever", "cough"]},
                          follow_redirects=False)

    slots: dict[int, dict[str, str]] = {}
    for cid in cases_made:  # the form's day fields, as shown (not timed)
        html = b.epi.get(f"/cases/{cid}/interview").text
        names = scrape(r'name="(days-\d+-places)"', html)
        slots[cid] = {names[-3]: "08:00–12:00 单位；12:00 海滨餐厅"} if len(names) > 2 else {}
    b.timed("interview, save a draft",
            [lambda c=c, k=k: interview(c, k, "0", "draft") for k, c in enumerate(cases_made)],
            redirect)
    b.timed("interview, complete",
            [lambda c=c, k=k: interview(c, k, "1", "complete")
             for k, c in enumerate(cases_made)], redirect)

    # confirm the proposed contacts in bulk
    reviews = []
    for cid in cases_made:
        html = b.epi.get(f"/cases/{cid}/contacts").text
        version = scrape(r'action="/cases/\d+/contacts/review".*?name="version" '
                         r'value="([0-9a-f]+)"', html)
        picked = scrape(r'name="exposure" value="(\d+)"', html)
        if version and picked:
            reviews.append((cid, version[0], picked))
    if len(reviews) < n:
        raise SystemExit(f"only {len(reviews)} of {n} cases have proposals to review")
    sizes = [len(p) for _, _, p in reviews]
    b.timed(f"confirm proposals in bulk ({statistics.median(sizes):.0f} a case)",
            [lambda c=c, v=v, p=p: b.epi.post(f"/cases/{c}/contacts/review", data={
                **form(b.epi, version=v, action="confirm", note="同住"), "exposure": p})
             for c, v, p in reviews], page_ok)

    # record a follow-up; sync an entry made offline
    contacts = got["contacts"]
    b.timed("record a follow-up (notified)",
            [lambda c=c, v=v: b.community.post(f"/community/contacts/{c}/notified",
                                               data=form(b.community, version=v))
             for c, v in contacts[:n]], page_ok)

    def sync(c: int, v: str) -> Any:
        token = b.community.cookies["fangkong_csrf"]
        return b.community.post("/sync", headers={"X-CSRFToken": token}, json={
            "entry": str(uuid.uuid4()), "kind": "contact.notified", "target": c,
            "version": v, "note": "", "made_at": utc_now().isoformat()})

    b.timed("sync an offline entry (notified)",
            [lambda c=c, v=v: sync(c, v) for c, v in contacts[n: 2 * n]], page_ok)

    # close a task, as the city commander
    b.timed("close a task (commander)",
            [lambda t=t, v=v: b.city.post(f"/tasks/{t}", data=form(
                b.city, version=v, action="done")) for t, v in got["tasks"]], page_ok)

    base_h = statistics.median(health)
    base_x = statistics.median(exact)
    flagged = 0
    print(f"\n{'':46s} {'p50':>8s} {'p95':>8s} {'max':>8s} ms   x healthz  x exact ID")
    for label, took in b.results:
        p95 = pct(took, 0.95)
        flag = f"  ** p95 over {args.goal_ms:.0f} ms" if p95 * 1000 > args.goal_ms else ""
        flagged += bool(flag) and not label.startswith("baseline")
        print(f"  {label:44s} {statistics.median(took) * 1000:8.1f} {p95 * 1000:8.1f} "
              f"{max(took) * 1000:8.1f}      x{statistics.median(took) / base_h:6.1f}   "
              f"x{statistics.median(took) / base_x:5.2f}{flag}", flush=True)
    return 1 if flagged else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    add_build_options(ap)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--goal-ms", type=float, default=100)
    ap.add_argument("--district", default="440802")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                    "fangkong_bench_forms",
                    help="PostgreSQL URL; without --reuse THAT DATABASE IS DROPPED AND CREATED")
    ap.add_argument("--profile", type=Path, help="a cProfile of each form's timed requests, "
                    "to DIR/<form>.prof (the times are then the profiler's, not to quote)")
    ap.add_argument("--sql", action="store_true", help="print each form's statements a "
                    "request, its time in the database and its costliest statements")
    ap.add_argument("--keep", type=Path, help="build in this directory and keep it")
    ap.add_argument("--reuse", type=Path, help="measure the database a run with --keep DIR "
                    "(of this benchmark or bench_pages.py) built, with --db and --pg-url as then")
    args = ap.parse_args(argv)
    import bench_dashboard
    from bench_persons import use_database

    if args.reuse:
        use_database(bench_dashboard.reuse_database(args.db, args.pg_url, args.reuse))
        return run(args)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        bench_pages.build(args, args.keep)
        return run(args)
    with tempfile.TemporaryDirectory(prefix="fangkong-bench-forms-") as name:
        bench_pages.build(args, Path(name))
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
