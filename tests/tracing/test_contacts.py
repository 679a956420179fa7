"""Exposures, proposals (household, venue co-presence, secondary), review, contact episodes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.case.schemas import Reclassify
from fangkong.core.auth import Actor
from fangkong.core.clock import set_clock
from fangkong.core.errors import Conflict, Invalid
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.task.models import Task
from fangkong.tracing import importer, service
from fangkong.tracing.enums import ContactStatus, Origin, Review, Setting
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from tests.tracing.helpers import confirmed_case

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)  # the case was reported at 02:00 UTC



@pytest.fixture(autouse=True)
def _manual_proposals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """These tests call ``propose`` themselves: no proposals when a case is reported."""
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_TRACING_AUTO_PROPOSE", "false")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()

@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    set_clock(lambda: NOW)
    yield
    set_clock(None)


@pytest.fixture
def checkins(session: Session, admin: Actor, people: list[Person], venues: list[int],
             tmp_path: Path) -> Path:
    p = [x.id for x in people]
    rows = [
        (p[0], "V-MKT", "2022-05-04T10:00:00+08:00", "2022-05-04T11:00:00+08:00"),
        (p[5], "V-MKT", "2022-05-04T10:30:00+08:00", "2022-05-04T11:30:00+08:00"),  # 30 min
        (p[6], "V-MKT", "2022-05-04T10:55:00+08:00", "2022-05-04T12:00:00+08:00"),  # 5 min
        (p[7], "V-MKT", "2022-05-01T10:00:00+08:00", "2022-05-01T11:00:00+08:00"),  # too early
        (p[1], "V-REST", "2022-05-06T18:00:00+08:00", "2022-05-06T19:00:00+08:00"),
        (p[6], "V-REST", "2022-05-06T18:30:00+08:00", "2022-05-06T20:00:00+08:00"),  # 2nd
    ]
    src = tmp_path / "c.csv"
    src.write_text("person_id,venue_code,t_in,t_out\n"
                   + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows), "utf-8")
    d = tmp_path / "store"
    importer.ingest(session, actor=admin, source=src, directory=d)
    return d


def test_proposals_say_why_and_confirmation_makes_a_managed_contact_with_tasks(
        session: Session, admin: Actor, people: list[Person], checkins: Path) -> None:
    case_id = confirmed_case(session, admin, people[0])
    report = service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                             pack="cn_v9")
    assert (report["household"], report["co_presence"], report["secondary"]) == (2, 1, 0)
    assert (report["window_start"], report["window_end"]) == (
        datetime(2022, 5, 3).date(), datetime(2022, 5, 7).date())
    by_person = {e.exposed_person_id: e for e in report["proposals"]}
    assert set(by_person) == {people[1].id, people[2].id, people[5].id}
    venue = by_person[people[5].id]
    assert (venue.origin, venue.proposed_role, venue.setting) == (
        Origin.co_presence, "venue_exposed", Setting.venue)
    assert "V-MKT" in venue.reason and "30 min" in venue.reason
    assert "household" in by_person[people[1].id].reason
    # Running it again proposes nothing new.
    again = service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                            pack="cn_v9")
    assert again["proposals"] == []

    exposure = service.review(session, actor=admin, exposure_id=by_person[people[1].id].id,
                              confirm=True)
    assert exposure.review == Review.confirmed and exposure.contact_id is not None
    contact = service.get_contact(session, actor=admin, contact_id=exposure.contact_id)
    assert (contact.role, contact.pack, contact.status) == (
        "close_contact", "cn_v9", ContactStatus.identified)
    version = policy.get_pack("cn_v9").version
    assert (exposure.pack_id, exposure.pack_version, contact.pack_version) == (
        "cn_v9", version, version)
    assert [p["kind"] for p in contact.plan["phases"]] == [
        "centralized_quarantine", "home_health_monitoring"]
    assert contact.release_date == datetime(2022, 5, 18).date()  # last exposure 05-07 + 10 + 1
    assert service.hours_between(contact.case_reported_at, contact.identified_at) == 4.0
    made = session.scalars(select(Task).where(Task.subject_type == "contact",
                                              Task.subject_id == contact.id)).all()
    assert {(t.type, t.owning_division_code, (t.due_at - NOW).total_seconds() / 3600)
            for t in made} == {("notify_contact", people[1].division_code, 4.0),
                               ("transfer_to_quarantine", people[1].division_code, 12.0)}
    assert {(t.pack_id, t.pack_version) for t in made} == {("cn_v9", version)}
    with pytest.raises(Conflict):
        service.review(session, actor=admin, exposure_id=exposure.id, confirm=False)
    rejected = service.review(session, actor=admin, exposure_id=venue.id, confirm=False)
    assert (rejected.review, rejected.active, rejected.contact_id) == (
        Review.rejected, False, None)

    # Secondary contacts of the new close contact (cn_v9 identifies them).
    second = service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                             pack="cn_v9")
    assert second["secondary"] == 1
    (sec,) = second["proposals"]
    assert (sec.exposed_person_id, sec.proposed_role, sec.source_contact_id) == (
        people[6].id, "secondary_contact", contact.id)
    service.review(session, actor=admin, exposure_id=sec.id, confirm=True)
    (sec_contact,) = [c for c in service.contacts_of(session, actor=admin, case_id=case_id)
                      if c.role == "secondary_contact"]
    assert [p["kind"] for p in sec_contact.plan["phases"]] == ["home_quarantine"]


def test_no_secondary_contacts_under_the_20_measures(
        session: Session, admin: Actor, people: list[Person], checkins: Path) -> None:
    case_id = confirmed_case(session, admin, people[0])
    report = service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                             pack="cn_20_measures")
    household = next(e for e in report["proposals"] if e.exposed_person_id == people[1].id)
    # the review reads the exposure's pack: no pack to give again, none to get wrong
    confirmed = service.review(session, actor=admin, exposure_id=household.id, confirm=True)
    contact = service.get_contact(session, actor=admin, contact_id=confirmed.contact_id)
    assert (household.pack_id, contact.pack) == ("cn_20_measures", "cn_20_measures")
    assert service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                           pack="cn_20_measures")["secondary"] == 0


def test_status_history_hours_and_conversion_to_aconfirmed_case(
        session: Session, admin: Actor, people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0])
    exposure = service.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=people[3].id,
        first_exposure=datetime(2022, 5, 4).date(), last_exposure=datetime(2022, 5, 6).date(),
        setting=Setting.workplace))
    assert exposure.review == Review.confirmed and exposure.origin == Origin.manual
    cid = exposure.contact_id
    assert cid is not None
    with pytest.raises(Invalid):
        service.set_status(session, actor=admin, contact_id=cid,
                           data=StatusUpdate(status=ContactStatus.released))
    service.set_status(session, actor=admin, contact_id=cid,
                       data=StatusUpdate(status=ContactStatus.notified))
    contact = service.set_status(session, actor=admin, contact_id=cid, data=StatusUpdate(
        status=ContactStatus.under_management, at=datetime(2022, 5, 7, 9, 0, tzinfo=UTC)))
    assert service.hours_between(contact.case_reported_at,
                                 contact.management_started_at) == 7.0
    other = confirmed_case(session, admin, people[4], ref="TC2")
    with pytest.raises(Invalid):  # not the contact's own case
        service.set_status(session, actor=admin, contact_id=cid, data=StatusUpdate(
            status=ContactStatus.became_case, converted_case_id=other))
    own = confirmed_case(session, admin, people[3], ref="TC3")
    contact = service.set_status(session, actor=admin, contact_id=cid, data=StatusUpdate(
        status=ContactStatus.became_case, converted_case_id=own))
    assert contact.converted_case_id == own and contact.index_case_id == case_id
    assert [h.to_status for h in contact.history] == [
        ContactStatus.identified, ContactStatus.notified, ContactStatus.under_management,
        ContactStatus.became_case]


def test_exposures_to_a_discarded_case_stop_counting(
        session: Session, admin: Actor, people: list[Person]) -> None:
    case_id = confirmed_case(session, admin, people[0])
    service.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=people[3].id,
        first_exposure=datetime(2022, 5, 4).date(), last_exposure=datetime(2022, 5, 4).date(),
        setting=Setting.other))
    cases.reclassify(session, actor=admin, case_id=case_id,
                     data=Reclassify(classification=Classification.discarded))
    assert service.deactivate_discarded(session, actor=admin, case_id=case_id) == 1
    assert not any(e.active for e in service.exposures_of(session, actor=admin,
                                                          case_id=case_id))
    with pytest.raises(Invalid):
        service.propose(session, actor=admin, case_id=case_id)


def test_contacts_across_a_border(session: Session, admin: Actor,
                                  people: list[Person]) -> None:
    """Issue 19, item 9. A tracer names only persons they may read: another district's person
    id is "no such person", as one that does not exist. A proposed contact who lives in another
    district (the platform's proposal) is confirmed, and its tasks go to that district, instead
    of an error naming the contact's residence code."""
    from fangkong.core.auth import Role
    from tests.conftest import make_actor

    people[2].division_code = "440803001001"  # shares household H1 with the case
    session.flush()
    case_id = confirmed_case(session, admin, people[0])
    county = make_actor(Role.epidemiologist, "440802", name="epi")
    messages = []
    for person_id in (people[2].id, 99_999_999):
        with pytest.raises(Invalid) as caught:
            service.add_exposure(session, actor=county, data=ExposureCreate(
                source_case_id=case_id, exposed_person_id=person_id,
                first_exposure=NOW.date(), last_exposure=NOW.date(),
                setting=Setting.household))
        messages.append(caught.value.as_dict())
    assert messages[0] == messages[1]
    service.propose(session, actor=county, case_id=case_id)
    [proposal] = [e for e in service.exposures_of(session, actor=admin, case_id=case_id)
                  if e.exposed_person_id == people[2].id]
    service.review(session, actor=county, exposure_id=proposal.id, confirm=True)
    made = session.scalars(select(Task).where(Task.subject_type == "contact")).all()
    assert made and {t.owning_division_code for t in made} == {"440803001001"}


def test_a_contact_the_pack_does_not_manage_gets_no_task(
        session: Session, admin: Actor, people: list[Person], checkins: Path) -> None:
    """cn_v9 declares venue contacts (涉疫场所暴露人员) but gives them no management: confirming
    one counts the contact and asks nobody for work (before: a notify task that no event of the
    contact would ever end, open and overdue on the supervision board); a household contact
    confirmed in the same batch gets its tasks."""
    case_id = confirmed_case(session, admin, people[0])
    report = service.propose(session, actor=admin, case_id=case_id, checkins=checkins,
                             pack="cn_v9")
    by_origin = {e.origin: e for e in report["proposals"]}
    venue, household = by_origin[Origin.co_presence], by_origin[Origin.household]
    done = service.review_many(session, actor=admin, exposure_ids=[venue.id, household.id],
                               confirm=True)
    unmanaged, managed = (service.get_contact(session, actor=admin, contact_id=e.contact_id)
                          for e in done if e.contact_id is not None)
    assert (unmanaged.role, unmanaged.plan["managed"], unmanaged.status) == (
        "venue_exposed", False, ContactStatus.identified)
    made = {(t.subject_id, t.type) for t in session.scalars(select(Task).where(
        Task.subject_type == "contact"))}
    assert made == {(managed.id, "notify_contact"), (managed.id, "transfer_to_quarantine")}


def test_a_contact_already_in_isolation_or_already_a_case_needs_no_one_sent(
        session: Session, admin: Actor, people: list[Person]) -> None:
    """Named as the contact of a new case: a person already in a stay (here quarantine at
    home) is under management at once, one already a case of the disease has become one (that
    case named); neither gets a notify or transfer task, which no later event would end
    (before: 873 such tasks open after the demo). A third contact gets its tasks."""
    from fangkong.isolation import service as isolation
    from fangkong.isolation.enums import StayKind
    from fangkong.isolation.schemas import StayCreate

    staying, ill, fresh = people[3], people[4], people[5]
    isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=staying.ref, kind=StayKind.quarantine, role="close_contact",
        anchor=datetime(2022, 5, 3).date(), pack="cn_v9"))
    their_case = confirmed_case(session, admin, ill, ref="TC9")
    case_id = confirmed_case(session, admin, people[0])
    made = service.add_exposures(session, actor=admin, data=[ExposureCreate(
        source_case_id=case_id, exposed_person_id=p.id, first_exposure=datetime(2022, 5, 4).date(),
        last_exposure=datetime(2022, 5, 6).date(), setting=Setting.workplace)
        for p in (staying, ill, fresh)])
    contacts = {c.person_id: c for c in (
        service.get_contact(session, actor=admin, contact_id=e.contact_id)
        for e in made if e.contact_id is not None)}
    assert contacts[staying.id].status == ContactStatus.under_management
    assert contacts[staying.id].management_started_at is not None
    assert contacts[ill.id].status == ContactStatus.became_case
    assert contacts[ill.id].converted_case_id == their_case
    assert contacts[fresh.id].status == ContactStatus.identified
    assert [h.to_status for h in contacts[ill.id].history] == [
        ContactStatus.identified, ContactStatus.became_case]
    assert "already case" in (contacts[ill.id].history[-1].note or "")
    tasks_of = {t.subject_id for t in session.scalars(select(Task).where(
        Task.subject_type == "contact"))}
    assert tasks_of == {contacts[fresh.id].id}
