"""Records in two counties of Zhanjiang for the jurisdiction contract test, built through the
services: 赤坎区 (440802, "own": the county user's) and 霞山区 (440803, "other").

Every free text of an ``other`` record carries :data:`MARKER`, and the other county's persons'
refs, ID numbers and phones are kept, so that a leak is found by looking for them in a
response's text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode
from fangkong.case.schemas import CaseCreate
from fangkong.core.auth import Role
from fangkong.core.clock import utc_now
from fangkong.isolation import service as isolation
from fangkong.isolation.schemas import RoomSpec, SiteCreate, StayCreate
from fangkong.monitoring import service as monitoring
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.surveillance import alerting
from fangkong.surveillance import service as surveillance
from fangkong.surveillance.schemas import ReportIn, RuleCreate, SentinelCreate
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.testing import importer as testing_importer
from fangkong.testing import service as testing
from fangkong.testing.schemas import RoundCreate
from fangkong.tracing import service as tracing
from fangkong.tracing import venues
from fangkong.tracing.schemas import ExposureCreate, VenueCreate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from fangkong.zone import service as zones
from fangkong.zone.schemas import MemberIn, ZoneCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes
from tests.testing.helpers import START, issue, lab, results_csv, samples_csv

OWN, OTHER, CITY, PROVINCE = "440802", "440803", "4408", "44"
MARKER = "OTHERCOUNTY"
SERIES = "全员核酸"
PASSWORD = "correct horse battery"
OWN_MARK = "OWNCOUNTY"
ALERT_VALUES = [10, 12, 9, 11, 10, 13, 12, 11, 10, 12, 11, 10, 9, 12, 11, 60]
PERSONS = 6  # per county
CASES = 3  # per county: persons 0..2 are cases, 3 is the exposed contact of case 0


@dataclass
class County:
    code: str
    person_ids: list[int] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    id_numbers: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    case_refs: list[str] = field(default_factory=list)
    task_ids: list[int] = field(default_factory=list)
    zone_ids: list[int] = field(default_factory=list)
    site_ids: list[int] = field(default_factory=list)
    stay_ids: list[int] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    venue_ids: list[int] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)  # one of each role, granted this county
    period_ids: list[int] = field(default_factory=list)  # the contact's home monitoring
    period_start: str = ""

    def markers(self) -> list[str]:
        """The texts that only this county's records carry."""
        return [*self.refs, *self.id_numbers, *self.phones, *self.case_refs, *self.usernames]


@dataclass
class Fixture:
    own: County
    other: County
    round_id: int
    user_ids: dict[tuple[Role, str], int]  # (role, jurisdiction) -> a user of that role there


def id_number(code: str, i: int) -> str:
    """A resident ID number (GB 11643) born in ``code``, with its check digit."""
    body = f"{code}198001{i + 1:02d}{i:02d}2"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _county(session: Session, code: str, mark: str, n: int) -> County:
    admin = make_actor()
    county = County(code)
    tag = "A" if code == OWN else "B"
    rows = [{"ref": f"{mark}-P{i}", "name": f"{mark}人{i}", "sex": "female",
             "birth_date": f"1980-01-{i + 1:02d}", "id_type": "resident_id",
             "id_number": id_number(code, i), "phone": f"199{code[-2:]}0000{i:02d}",
             "address": f"{mark}路{i}号", "division_code": code + "001001",
             "household_ref": f"{mark}-H{i // 2}"} for i in range(PERSONS)]
    person_importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                filename=f"{mark}.csv")
    by_ref = {p.ref: p for p in session.scalars(
        select(Person).where(Person.ref.in_([r["ref"] for r in rows])))}
    county.person_ids = [by_ref[r["ref"]].id for r in rows]
    county.refs = [r["ref"] for r in rows]
    county.id_numbers = [r["id_number"] for r in rows]
    county.phones = [r["phone"] for r in rows]
    now = utc_now()
    for i in range(CASES):
        case = cases.create(session, actor=admin, data=CaseCreate(
            ref=f"{mark}-C{i}", person_ref=rows[i]["ref"],
            classification=Classification.confirmed, severity="mild",
            onset_date=(now - timedelta(days=2 + i)).date(), reported_at=now - timedelta(hours=i),
            detection_mode=DetectionMode.fever_clinic, owning_division_code=code))
        county.case_ids.append(case.id)
        county.case_refs.append(case.ref)
    exposure = tracing.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=county.case_ids[0], exposed_person_id=county.person_ids[3],
        first_exposure=(now - timedelta(days=3)).date(),
        last_exposure=(now - timedelta(days=1)).date(), setting="household"))
    county.contact_ids = [c.id for c in tracing.contacts_of(
        session, actor=admin, case_id=county.case_ids[0])]
    assert exposure is not None and county.contact_ids
    periods = monitoring.start_periods(session, actor=admin, contact_ids=county.contact_ids)
    county.period_ids = [p.id for p in periods]
    county.period_start = periods[0].start.isoformat()
    for hours in (-30, 20):
        county.task_ids.append(tasks.create(session, actor=admin, data=TaskCreate(
            type="investigate_case", title=f"{mark}任务{hours}",
            due_at=now + timedelta(hours=hours), owning_division_code=code)).id)
    county.zone_ids.append(zones.designate(session, actor=admin, data=ZoneCreate(
        name=f"{mark}小区", level="high", owning_division_code=code, pack_id="cn_v9",
        members=[MemberIn(division_code=code + "001001", detail=f"{mark}3栋")],
        last_infection_date=(now - timedelta(days=3)).date())).id)
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code=f"{mark}-H", name=f"{mark}酒店", type="quarantine_hotel", division_code=code + "001",
        rooms=[RoomSpec(label=f"{tag}{n:03d}") for n in range(1, 5)]))
    county.site_ids.append(site.id)
    today = now.date()
    county.stay_ids.append(isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=rows[4]["ref"], kind="quarantine", site_id=site.id,
        room_id=isolation.rooms_of(session, site.id)[0].id,
        start_date=today - timedelta(days=2), planned_end=today + timedelta(days=5))).id)
    surveillance.create_sentinel(session, actor=admin, data=SentinelCreate(
        code=f"{mark}-S", name=f"{mark}诊所", kind="fever_clinic", division_code=code + "001"))
    for d in range(3):
        report, _ = surveillance.submit_report(session, actor=admin, data=ReportIn(
            unit_code=f"{mark}-S", indicator="visits", period_start=today - timedelta(days=d),
            value=10 + d))
        county.report_ids.append(report.id)
    for d, value in enumerate(ALERT_VALUES):  # a spike on the last day: an alert
        surveillance.submit_report(session, actor=admin, data=ReportIn(
            unit_code=f"{mark}-S", indicator="sales_cough",
            period_start=today - timedelta(days=len(ALERT_VALUES) - 1 - d), value=value))
    rule = alerting.create_rule(session, actor=admin, data=RuleCreate(
        name=f"{mark}咳嗽药", series="sentinel", indicator="sales_cough", method="ears-c1",
        params={"alpha": 0.05}, division_codes=[code]))
    county.alert_ids = [a.id for a in alerting.list_alerts(session, actor=admin, rule_id=rule.id)
                        ] if alerting.evaluate_rule(
        session, actor=admin, rule_id=rule.id, start=today - timedelta(days=8), end=today,
        notifiers=[]).new_alerts else []
    assert county.alert_ids, "the spike raises an alert"
    county.venue_ids.append(venues.create_venue(session, actor=admin, data=VenueCreate(
        code=f"{mark}-V", name=f"{mark}餐厅", venue_type="restaurant",
        division_code=code + "001")).id)
    return county


def build(session: Session) -> Fixture:
    own = _county(session, OWN, OWN_MARK, PERSONS)
    other = _county(session, OTHER, MARKER, PERSONS)
    start = START
    round_id = testing.create_round(session, actor=make_actor(), data=RoundCreate(
        name="全员核酸", area=[OWN, OTHER], start_at=start, series=SERIES,
        deadline_at=start + timedelta(hours=24))).round_id
    # sampled today: persons 0-1 of each county in one pooled tube each, both tubes positive
    # (positive pools to follow up: their members are named), persons 2-5 not sampled yet
    lab(session, make_actor(), code="LAB-C")
    for county, tube in ((own, "TUBE-A"), (other, f"{MARKER}-T")):
        issue(session, make_actor(), round_id, [tube], capacity=10)
        testing_importer.import_samples(
            session, actor=make_actor(), round_id=round_id, filename=f"{tube}.csv",
            source=samples_csv([(tube, ref, 5) for ref in county.refs[:2]]))
        testing_importer.import_results(session, actor=make_actor(), filename=f"{tube}-r.csv",
                                        source=results_csv([(tube, "positive", 60)], "LAB-C"))
    user_ids = {}
    digest = users.new_password_hash(PASSWORD, "contract")  # one hash for all: sign-in untested
    for role in Role:
        for code in (OWN, OTHER, CITY, PROVINCE):
            name = f"{'othercounty' if code == OTHER else 'u' + code}_{role.value}"
            user_ids[role, code] = users.create_user(session, actor=make_actor(), data=UserCreate(
                username=name, role=role, jurisdictions=[code], password=PASSWORD),
                password_hash=digest).id
            if code == OTHER:
                other.usernames.append(name)
            if code in (OWN, OTHER):
                (own if code == OWN else other).user_ids.append(user_ids[role, code])
    session.flush()
    return Fixture(own, other, round_id, user_ids)
