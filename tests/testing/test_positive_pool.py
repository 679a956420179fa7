"""The full path: round -> samples -> a positive 10-in-1 pool -> members under control with
re-collection tasks -> re-tests -> one case, nine released."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.core.auth import Actor
from fangkong.task.enums import TaskStatus
from fangkong.task.models import Task
from fangkong.testing import importer, service
from fangkong.testing.enums import FollowupStatus, MemberStatus, Outcome
from fangkong.testing.models import FollowupMember
from tests.testing.helpers import (
    VILLAGE_A,
    community,
    issue,
    lab,
    make_persons,
    make_round,
    point,
    results_csv,
    samples_csv,
)


def test_positive_ten_in_one_pool_to_one_case_nine_released(session: Session,
                                                            admin: Actor) -> None:
    refs = make_persons(session, admin, 10)
    unit_id = community(session)
    lab(session, admin)
    point(session, admin)
    # medium zone: 10-in-1 (pack cn_v9 testing.pooling.by_level.medium)
    round_id = make_round(session, admin, zones={"440802": "medium"})
    issue(session, admin, round_id, ["POOL1"], capacity=10)
    issue(session, admin, round_id, [f"S{i}" for i in range(12)], capacity=1)
    report = importer.import_samples(session, actor=admin, round_id=round_id,
                                     source=samples_csv([("POOL1", r, 5) for r in refs]),
                                     filename="s.csv")
    assert (report.rows, report.inserted) == (10, 10)
    report = importer.import_results(session, actor=admin,
                                     source=results_csv([("POOL1", "positive", 60)]),
                                     filename="r.csv")
    assert (report.positive_tubes, report.followups_opened, report.cases) == (1, 1, 0)

    status = service.status(session, actor=admin, round_id=round_id)
    assert status.positive_tubes == ["POOL1"]
    assert status.pending_persons == sorted(refs)
    assert status.cases == []
    members = session.scalars(select(FollowupMember)).all()
    assert len(members) == 10
    assert {m.status for m in members} == {MemberStatus.pending}
    assert {m.responsible_unit_id for m in members} == {unit_id}
    assert all("社区工作站" in m.responsible for m in members)
    tasks = session.scalars(select(Task).where(Task.type == "resample")).all()
    assert len(tasks) == 10
    assert {t.unit_id for t in tasks} == {unit_id}
    assert {t.owning_division_code for t in tasks} == {VILLAGE_A}
    assert all(t.due_at > t.created_at for t in tasks)
    queue = service.queue(session, actor=admin, round_id=round_id)
    assert [f.tube for f in queue] == ["POOL1"] and queue[0].status == "open"
    assert service.open_pools(session, actor=admin, division="440802") == 1
    assert service.open_pools(session, actor=admin, division="440803") == 0

    # re-collection: one single tube per member; the first is positive, one is invalid first
    retests = [(f"S{i}", r, 120) for i, r in enumerate(refs)]
    importer.import_samples(session, actor=admin, round_id=round_id,
                            source=samples_csv(retests), filename="re.csv")
    results = [("S0", "positive", 180), ("S1", "invalid", 180)]
    results += [(f"S{i}", "negative", 180) for i in range(2, 10)]
    report = importer.import_results(session, actor=admin, source=results_csv(results),
                                     filename="rr.csv")
    assert (report.members_resolved, report.cases) == (9, 1)
    assert service.queue(session, actor=admin, round_id=round_id)[0].status == "open"
    # the invalid re-test scheduled another re-collection for that member
    s1 = session.scalars(select(FollowupMember).where(FollowupMember.retests == 1)).one()
    assert s1.status == MemberStatus.pending
    assert session.get(Task, s1.task_id).status == TaskStatus.open  # type: ignore[union-attr]

    importer.import_samples(session, actor=admin, round_id=round_id,
                            source=samples_csv([("S10", refs[1], 200)]), filename="re2.csv")
    importer.import_results(session, actor=admin, source=results_csv([("S10", "negative", 240)]),
                            filename="rr2.csv")
    status = service.status(session, actor=admin, round_id=round_id)
    assert status.pending_persons == []
    assert status.cases == [refs[0]]
    members = session.scalars(select(FollowupMember)).all()
    assert sorted(m.status.value for m in members) == ["positive"] + ["released"] * 9
    released = [m for m in members if m.status == MemberStatus.released]
    assert all(m.control_ended_at is not None for m in released)
    case = session.scalars(select(Case)).one()
    assert case.person_id == next(m.person_id for m in members if m.case_id)
    assert case.detection_mode.value == "community_screening"
    assert case.classification.value == "asymptomatic"
    resample = session.scalars(select(Task).where(Task.type == "resample")).all()
    assert all(t.status == TaskStatus.done for t in resample)
    # each ended by the person's single-tube swab (not by its result), in the task's history
    assert all((t.events[-1].detail or "").startswith(
        f"done: testing.resampled (single tube sampled in testing round {round_id})")
        for t in resample)
    followups = service.queue(session, actor=admin, round_id=round_id, open_only=False)
    assert [(f.status, f.outcome) for f in followups] == [
        (FollowupStatus.resolved.value, Outcome.case_found.value)]
    assert not service.queue(session, actor=admin, round_id=round_id)
    assert service.open_pools(session, actor=admin, division="440802") == 0


def test_all_negative_retests_release_the_pool(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 3, prefix="N")
    lab(session, admin)
    point(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["P20"], capacity=20)
    issue(session, admin, round_id, ["R0", "R1", "R2"], capacity=1)
    importer.import_samples(session, actor=admin, round_id=round_id,
                            source=samples_csv([("P20", r, 1) for r in refs]), filename="s")
    importer.import_results(session, actor=admin, source=results_csv([("P20", "pos", 30)]),
                            filename="r")
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s2",
                            source=samples_csv([(f"R{i}", r, 40) for i, r in enumerate(refs)]))
    importer.import_results(session, actor=admin, filename="r2", source=results_csv(
        [(f"R{i}", "negative", 50) for i in range(3)]))
    followup = service.queue(session, actor=admin, open_only=False)[0]
    assert (followup.status, followup.outcome) == ("resolved", "released")
    assert {m.status for m in followup.members} == {"released"}
    assert session.scalars(select(Case)).all() == []


def test_positive_single_tube_reports_a_case_directly(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 2, prefix="Q")
    lab(session, admin)
    point(session, admin)
    round_id = make_round(session, admin, sites=[refs[0]])
    issue(session, admin, round_id, ["ONE"], capacity=1)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("ONE", refs[0], 1)]))
    report = importer.import_results(session, actor=admin, filename="r",
                                     source=results_csv([("ONE", "阳性", 30)]))
    assert (report.cases, report.followups_opened) == (1, 0)
    case = session.scalars(select(Case)).one()
    assert case.detection_mode.value == "in_quarantine"  # a quarantine-site person
    assert session.scalars(select(Task).where(Task.type == "resample")).all() == []
    assert service.status(session, actor=admin, round_id=round_id).cases == [refs[0]]


def test_invalid_pool_schedules_recollection(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 4, prefix="V")
    lab(session, admin)
    point(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["INV"], capacity=20)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("INV", r, 1) for r in refs]))
    importer.import_results(session, actor=admin, filename="r",
                            source=results_csv([("INV", "invalid", 30)]))
    tasks = session.scalars(select(Task).where(Task.type == "resample")).all()
    assert len(tasks) == 4 and all("invalid" in t.title for t in tasks)
    assert service.queue(session, actor=admin) == []


def test_many_positive_pools_in_one_file_each_member_their_own_task(session: Session,
                                                                     admin: Actor) -> None:
    """A batch of positive pools is opened together: each pool its follow-up, each member
    their own re-collection task naming them and their pool's tube."""
    refs = make_persons(session, admin, 25)
    community(session)
    lab(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["PA", "PB", "PC", "NEG"], capacity=20)
    layout = {"PA": refs[:7], "PB": refs[7:15], "PC": refs[15:22], "NEG": refs[22:]}
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s.csv",
                            source=samples_csv([(t, r, 5) for t, rs in layout.items()
                                                for r in rs]))
    report = importer.import_results(session, actor=admin, filename="r.csv",
                                     source=results_csv([("PC", "positive", 60),
                                                         ("NEG", "negative", 60),
                                                         ("PA", "positive", 60),
                                                         ("PB", "阳性", 60)]))
    assert (report.positive_tubes, report.followups_opened) == (3, 3)
    from fangkong.person.models import Person
    from fangkong.testing.models import Followup, Tube

    rows = session.execute(
        select(Tube.barcode, Person.ref, Task.subject_id, Task.title, FollowupMember.person_id)
        .join(Followup, Followup.tube_id == Tube.id)
        .join(FollowupMember, FollowupMember.followup_id == Followup.id)
        .join(Person, Person.id == FollowupMember.person_id)
        .join(Task, Task.id == FollowupMember.task_id)).all()
    assert sorted((barcode, ref) for barcode, ref, *_ in rows) == sorted(
        (t, r) for t in ("PA", "PB", "PC") for r in layout[t])
    for barcode, ref, subject, title, person_id in rows:
        assert subject == person_id and ref in title and barcode in title


def test_a_recollection_task_is_done_when_the_swab_is_taken(session: Session,
                                                            admin: Actor) -> None:
    """A re-collection task asks for a swab: it is done when the single tube is sampled (the
    samples import), not when the re-test's result comes back; a swab in a pool is not what
    it asked for. The members of an invalid tube (no follow-up of theirs waits for a
    re-test) are done the same way."""
    refs = make_persons(session, admin, 6, prefix="W")
    lab(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["WP", "WINV", "WP2"], capacity=20)
    issue(session, admin, round_id, ["W0", "W1", "W3"], capacity=1)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("WP", r, 5) for r in refs[:3]]
                                               + [("WINV", r, 5) for r in refs[3:]]))
    importer.import_results(session, actor=admin, filename="r", source=results_csv(
        [("WP", "positive", 60), ("WINV", "invalid", 60)]))

    def open_tasks() -> dict[int, Task]:
        session.expire_all()
        return {t.subject_id or 0: t for t in session.scalars(
            select(Task).where(Task.type == "resample")) if t.status == TaskStatus.open}

    from fangkong.person.models import Person

    ids = {p.ref: p.id for p in session.scalars(select(Person).where(Person.ref.in_(refs)))}
    assert set(open_tasks()) == {ids[r] for r in refs}
    # swabs: W0 and W3 in single tubes, W1 again in a pool (not a re-collection)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s2",
                            source=samples_csv([("W0", refs[0], 120), ("W3", refs[3], 120),
                                                ("WP2", refs[1], 120)]))
    assert set(open_tasks()) == {ids[r] for r in (refs[1], refs[2], refs[4], refs[5])}
    done = [t for t in session.scalars(select(Task).where(
        Task.type == "resample", Task.subject_id.in_([ids[refs[0]], ids[refs[3]]])))]
    assert len(done) == 2
    for task in done:
        assert task.status == TaskStatus.done and task.completed_at is not None
        assert (task.events[-1].detail or "").startswith(
            f"done: testing.resampled (single tube sampled in testing round {round_id})")
    # the re-test's result, later, changes nothing more about the task
    importer.import_results(session, actor=admin, filename="r2",
                            source=results_csv([("W0", "negative", 180)]))
    session.expire_all()
    assert [len(t.events) for t in session.scalars(select(Task).where(
        Task.id.in_([t.id for t in done])))] == [2, 2]
