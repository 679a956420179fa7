"""A small outbreak in Zhanjiang for the dashboard tests, relative to the real 'now'.

赤坎区 (440802): today 2 infections found in quarantine and 3 in the community, 1 suspected
case (not an infection); 4 more infections over the previous days; 2 overdue tasks (one of them
escalated) and 1 not yet due; a high-risk zone drawn today, its last infection 3 days ago; a
quarantine hotel of 10 rooms, one taken this week (a stay with no plan: no sampling tasks).
霞山区 (440803): today 4 community infections, 1 overdue task, a high-risk zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core.auth import Role
from fangkong.core.clock import utc_now
from fangkong.isolation import service as isolation
from fangkong.isolation.schemas import RoomSpec, SiteCreate, StayCreate
from fangkong.person import importer as person_importer
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from fangkong.zone import service as zones
from fangkong.zone.schemas import MemberIn, ZoneCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows

ZONE = "Asia/Shanghai"
PASSWORD = "correct horse battery"
CHIKAN, XIASHAN, CITY = "440802", "440803", "4408"


@dataclass
class Seeded:
    chikan_case_ids: list[int]
    xiashan_case_ids: list[int]
    reclassified_id: int


def seed(session: Session, *, prefix: str = "W") -> Seeded:
    admin = make_actor()
    rows = (person_rows(12, places=[(CHIKAN + "001001", 1.0)], seed=5, prefix=prefix + "A")
            + person_rows(6, places=[(XIASHAN + "001001", 1.0)], seed=6, prefix=prefix + "B"))
    person_importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                filename="people.csv")
    now = utc_now()
    tz = ZoneInfo(ZONE)
    local_now = now.astimezone(tz)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)

    def today(f: float) -> datetime:
        return midnight + (local_now - midnight) * f

    def days_ago(k: int) -> datetime:
        return (midnight - timedelta(days=k)).replace(hour=12)

    plan = [  # (person index, division, classification, mode, reported)
        (0, CHIKAN, "confirmed", "in_quarantine", today(0.2)),
        (1, CHIKAN, "asymptomatic", "closed_loop", today(0.3)),
        (2, CHIKAN, "confirmed", "fever_clinic", today(0.4)),
        (3, CHIKAN, "asymptomatic", "community_screening", today(0.5)),
        (4, CHIKAN, "confirmed", "community_screening", today(0.6)),
        (5, CHIKAN, "suspected", "fever_clinic", today(0.7)),
        (6, CHIKAN, "confirmed", "fever_clinic", days_ago(1)),
        (7, CHIKAN, "confirmed", "in_quarantine", days_ago(3)),
        (8, CHIKAN, "asymptomatic", "community_screening", days_ago(8)),
        (9, CHIKAN, "confirmed", "fever_clinic", days_ago(10)),
        (12, XIASHAN, "confirmed", "fever_clinic", today(0.25)),
        (13, XIASHAN, "confirmed", "community_screening", today(0.35)),
        (14, XIASHAN, "asymptomatic", "community_screening", today(0.45)),
        (15, XIASHAN, "asymptomatic", "fever_clinic", today(0.55)),
    ]
    chikan, xiashan = [], []
    for n, (i, code, cls, mode, at) in enumerate(plan):
        case = cases.create(session, actor=admin, data=CaseCreate(
            ref=f"{prefix}C{n + 1:03d}", person_ref=rows[i]["ref"],
            classification=Classification(cls),
            severity="mild" if cls == "confirmed" else None,
            onset_date=(at - timedelta(days=2)).date() if cls != "asymptomatic" else None,
            reported_at=at, detection_mode=DetectionMode(mode), owning_division_code=code))
        (chikan if code == CHIKAN else xiashan).append(case.id)
    changed = cases.reclassify(session, actor=admin, case_id=chikan[3], data=Reclassify(
        classification=Classification.confirmed, severity="moderate", note="CT changes"))
    def task(code: str, hours: int, title: str) -> None:
        tasks.create(session, actor=admin, data=TaskCreate(
            type="investigate_case", title=title, due_at=now + timedelta(hours=hours),
            owning_division_code=code))

    task(CHIKAN, -30, "流调：核实轨迹")
    task(XIASHAN, -5, "霞山转运")
    tasks.escalate_overdue(session, actor=admin, now=now)  # both overdue ones: level 1
    task(CHIKAN, -2, "通知密接")  # overdue, not escalated yet
    task(CHIKAN, 20, "转运隔离")  # not due yet
    for code, name in ((CHIKAN, "海滨花园"), (XIASHAN, "霞湖小区")):
        zones.designate(session, actor=admin, data=ZoneCreate(
            name=name, level="high", owning_division_code=code, pack_id="cn_v9",
            members=[MemberIn(division_code=code + "001001", detail="3栋")],
            last_infection_date=days_ago(3).date()))
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code=prefix + "H1", name="海湾酒店", type="quarantine_hotel", division_code=CHIKAN + "001",
        rooms=[RoomSpec(label=f"{n:03d}") for n in range(1, 11)]))
    isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=rows[10]["ref"], kind="quarantine", site_id=site.id,
        room_id=isolation.rooms_of(session, site.id)[0].id,
        start_date=midnight.date(), planned_end=(midnight + timedelta(days=7)).date()))
    for name, role, code in ((prefix.lower() + "chikan", Role.epidemiologist, CHIKAN),
                             (prefix.lower() + "city", Role.commander, CITY)):
        users.create_user(session, actor=admin, data=UserCreate(
            username=name, role=role, jurisdictions=[code], password=PASSWORD))
    session.flush()
    return Seeded(chikan, xiashan, changed.id)


def chain_and_transfer(session: Session, prefix: str = "W") -> int:
    """A chain and a transfer for the case page: {prefix}C007 (a day ago) infected
    {prefix}C001 (today), who infected {prefix}C011 (霞山's: masked for 赤坎's users);
    {prefix}C001 is transferred to the 赤坎 hotel and arrives. Returns {prefix}C001's id."""
    from fangkong.case.models import Case
    from fangkong.isolation import transfers
    from fangkong.isolation.models import Site
    from fangkong.isolation.schemas import TransferCreate, VehicleCreate
    from fangkong.person.models import Person
    from fangkong.tracing import service
    from fangkong.tracing.schemas import ExposureCreate

    admin = make_actor()
    case = {ref: session.scalars(select(Case).where(Case.ref == f"{prefix}{ref}")).one()
            for ref in ("C001", "C007", "C011")}
    day = (case["C001"].reported_at - timedelta(days=2)).date()
    for src, dst in (("C007", "C001"), ("C001", "C011")):
        service.add_exposure(session, actor=admin, data=ExposureCreate(
            source_case_id=case[src].id, exposed_person_id=case[dst].person_id,
            first_exposure=day, last_exposure=day, setting="household"))  # type: ignore[arg-type]
    person_ref = session.scalar(select(Person.ref).where(Person.id == case["C001"].person_id))
    site = session.scalars(select(Site).where(Site.code == prefix + "H1")).one()
    now = utc_now()
    moved = transfers.request(session, actor=admin, data=TransferCreate(
        person_ref=person_ref or "", to_site_id=site.id,
        passenger_class="contact", clock_start=now - timedelta(hours=5)))  # type: ignore[arg-type]
    bus = transfers.create_vehicle(session, actor=admin, data=VehicleCreate(
        code=prefix + "B1", kind="bus", capacity=20, division_code=CHIKAN))  # type: ignore[arg-type]
    transfers.dispatch(session, actor=admin, vehicle_id=bus.id, transfer_ids=[moved.id],
                       at=now + timedelta(minutes=1))
    transfers.arrive(session, actor=admin, transfer_id=moved.id, at=now + timedelta(minutes=40))
    session.flush()
    return case["C001"].id
