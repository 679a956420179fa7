"""A stay's tests: the plan's test days with their sampling tasks (never due before the stay
was booked), the samples taken and the results recorded, each ending the test's task
(``stay.sampled``, ``stay.tested``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from fangkong.core import audit, events
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.db import insert_many_ids
from fangkong.core.errors import Invalid, NotFound, Problem
from fangkong.core.messages import Day, joined
from fangkong.isolation.enums import SampleResult, StayStatus
from fangkong.isolation.messages import ISO
from fangkong.isolation.models import Stay, StayTest
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate

SAMPLING_TASK = "isolation_sampling"


def _due(day: date) -> datetime:
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def _booked_on() -> date:
    """The day a stay is booked, in the jurisdiction's time zone."""
    return utc_now().astimezone(ZoneInfo(get_settings().timezone)).date()


def plan_tests(session: Session, actor: Actor, plans: Sequence[tuple[Stay, list[date], str]]
              ) -> None:
    """Each stay's sampling days: the test to record and its task (all created at once), the
    task about the test, done when its sample is taken (``stay.sampled``) or its result
    recorded (``stay.tested``), cancelled when the stay moves before it (``stay.moved``) or
    ends early without the release checks (``stay.ended``).

    A task is never due before the stay was booked: a person booked late into their plan
    (a contact found days after the exposure) is sampled for the plan's days already gone
    by the end of the day they are booked, not given tasks overdue from the start."""
    wanted = [(stay, day, where) for stay, days, where in plans for day in days]
    if not wanted:
        return
    booked = _booked_on()
    test_ids = insert_many_ids(session, StayTest.__table__, [
        {"stay_id": stay.id, "test_date": day, "task_id": None, "result": SampleResult.pending,
         "recorded_at": None, "sampled_at": None} for stay, day, _ in wanted])
    ids = tasks.create_many(session, actor=actor, data=[TaskCreate(
        type=SAMPLING_TASK, **tasks.titled("sample_stay", stay=stay.id, where=where,
                                           day=day.isoformat()),
        subject_type="iso_stay_test", subject_id=test_id,
        completes_on=["stay.sampled", "stay.tested"],
        cancels_on=["stay.moved", "stay.ended"], owning_division_code=stay.division_code,
        due_at=_due(max(day, booked)),
        pack_id=stay.pack, pack_version=stay.pack_version)
        for (stay, day, where), test_id in zip(wanted, test_ids, strict=True)])
    table = cast(Table, StayTest.__table__)
    session.execute(update(table).where(table.c.id == bindparam("test_id"))
                    .values(task_id=bindparam("task")),
                    [{"test_id": t, "task": k} for t, k in zip(test_ids, ids, strict=True)])



def tests_of(session: Session, stay_id: int) -> list[StayTest]:
    return list(session.scalars(select(StayTest).where(StayTest.stay_id == stay_id)
                                .order_by(StayTest.test_date)))


def record_test(session: Session, *, actor: Actor, stay_id: int, test_date: date,
                result: SampleResult) -> StayTest:
    return record_tests(session, actor=actor, results=[(stay_id, test_date, result)])[0]


def _stay_tests(session: Session, actor: Actor, wanted: Sequence[tuple[int, date]]
                ) -> list[StayTest]:
    """The tests of (stay id, test date), in the order given, the stays in the actor's
    jurisdiction (404 otherwise), each test one of the stay's plan (else the dates it has)."""
    stays: set[int] = set()
    tests: dict[tuple[int, date], StayTest] = {}
    ordered = sorted({stay_id for stay_id, _ in wanted})
    for chunk in (ordered[k:k + 900] for k in range(0, len(ordered), 900)):
        stays.update(session.scalars(scope(select(Stay.id).where(Stay.id.in_(chunk)), actor,
                                           Stay.division_code)))
        tests.update(((t.stay_id, t.test_date), t) for t in session.scalars(
            select(StayTest).where(StayTest.stay_id.in_(chunk))))
    out = []
    for stay_id, test_date in wanted:
        if stay_id not in stays:
            raise NotFound(ISO("stay_not_found", id=stay_id))
        test = tests.get((stay_id, test_date))
        if test is None:
            dates = sorted(d for s, d in tests if s == stay_id)
            raise Invalid(ISO("no_test_on", id=stay_id, day=Day(test_date)), problems=[Problem(
                ISO("expected_one_of", values=joined(Day(d) for d in dates)),
                field="test_date")])
        out.append(test)
    return out


def record_samples(session: Session, *, actor: Actor, taken: Sequence[tuple[int, date]],
                   at: datetime | None = None) -> list[StayTest]:
    """The samples of (stay id, test date) were taken (at ``at``, default now): each test's
    sampling task is done (``stay.sampled``); the result follows (:func:`record_tests`)."""
    actor.require(Perm.isolation_write)
    found = _stay_tests(session, actor, taken)
    when = at or utc_now()
    for test in found:
        test.sampled_at = when
    session.flush()
    if found:
        events.publish(session, events.Event(
            "stay.sampled", actor=actor, subject_type="iso_stay_test",
            subject_ids=[t.id for t in found],
            reason=f"stay {found[0].stay_id}: sample of {found[0].test_date} taken"
            if len(found) == 1 else f"{len(found)} stay samples taken"))
        audit.record(session, actor, action="update", record_type="iso_stay",
                     record_ids=sorted({t.stay_id for t in found}), fields=["tests"],
                     detail={"sampled": len(found)})
    return found


def record_tests(session: Session, *, actor: Actor,
                 results: Sequence[tuple[int, date, SampleResult]]) -> list[StayTest]:
    """Many (stay id, test date, result) at once (a lab's results for the sites): the same
    checks and records as :func:`record_test` one by one, in the order given, with one audit
    entry; a result ends the test's sampling task (``stay.tested``). All or nothing."""
    actor.require(Perm.isolation_write)
    if not results:
        return []
    out = _stay_tests(session, actor, [(stay_id, day) for stay_id, day, _ in results])
    now = utc_now()
    for test, (_, _, result) in zip(out, results, strict=True):
        test.result, test.recorded_at = result, now
    session.flush()
    done = [(t, r) for t, (_, _, r) in zip(out, results, strict=True)
            if r is not SampleResult.pending]
    if done:
        events.publish(session, events.Event(
            "stay.tested", actor=actor, subject_type="iso_stay_test",
            subject_ids=[t.id for t, _ in done],
            reason=f"stay {done[0][0].stay_id}: test of {done[0][0].test_date} "
            f"{done[0][1].value}" if len(done) == 1 else f"{len(done)} stay test results"))
    audit.record(session, actor, action="update", record_type="iso_stay",
                 record_ids=sorted({stay_id for stay_id, _, _ in results}), fields=["tests"],
                 detail={"test_date": str(results[0][1]), "result": results[0][2].value}
                 if len(results) == 1 else {"results": len(results)})
    return out


def pending_tests(session: Session, person_ids: Sequence[int], on: date) -> list[tuple[int, int]]:
    """(stay id, person id) of the active stays of these persons with a test on ``on`` still
    without its result."""
    out: list[tuple[int, int]] = []
    for k in range(0, len(person_ids), 900):
        out += [(s, p) for s, p in session.execute(
            select(Stay.id, Stay.person_id).join(StayTest, StayTest.stay_id == Stay.id)
            .where(Stay.person_id.in_(person_ids[k:k + 900]), Stay.status == StayStatus.active,
                   StayTest.test_date == on, StayTest.result == SampleResult.pending))]
    return out

