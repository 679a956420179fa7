"""Issue 19, item 4: a round in 440802 that tested registered visitors from 440803. Their
positive results are stored with the rest of the lab's file; the case of a positive single
tube and the re-collection tasks of a positive household pool are created in the visitors'
home jurisdiction and handed to it (协查: a task for its command), never refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.models import Case
from fangkong.core.auth import Actor, Role
from fangkong.core.errors import NotFound
from fangkong.person import stays
from fangkong.task import service as tasks
from fangkong.task.enums import TaskStatus
from fangkong.task.models import Task
from fangkong.testing import importer
from fangkong.testing.enums import MemberStatus, Result
from fangkong.testing.models import FollowupMember, Tube
from tests.conftest import make_actor
from tests.helpers import csv_bytes
from tests.testing.helpers import (
    START,
    VILLAGE_A,
    VILLAGE_B,
    issue,
    lab,
    make_persons,
    make_round,
    results_csv,
    samples_csv,
)


def test_visitors_positive_results_are_handed_to_their_home(session: Session,
                                                            admin: Actor) -> None:
    residents = make_persons(session, admin, 2, code=VILLAGE_A, prefix="RS")
    [single] = make_persons(session, admin, 1, code=VILLAGE_B, prefix="VS")
    family = make_persons(session, admin, 2, code=VILLAGE_B, prefix="VH", household_size=2)
    since = (START - timedelta(days=2)).isoformat()
    stays.import_file(session, actor=admin, filename="s.csv", source=csv_bytes(
        [{"person_ref": r, "division_code": VILLAGE_A, "since": since}
         for r in [single, *family]], columns=stays.COLUMNS))
    lab(session, admin)
    # high zone: one household per tube (1户1管)
    round_id = make_round(session, admin, area=["440802"], zones={VILLAGE_A: "high"})
    issue(session, admin, round_id, ["VS1"], capacity=1)
    issue(session, admin, round_id, ["VH1", "R1", "R2", "VR1"], capacity=10)
    officer = make_actor(Role.testing_officer, "440802", name="officer")
    importer.import_samples(session, actor=officer, round_id=round_id, filename="s", source=
                            samples_csv([("VS1", single, 1), ("VH1", family[0], 1),
                                         ("VH1", family[1], 1), ("R1", residents[0], 1),
                                         ("R2", residents[1], 1)]))
    report = importer.import_results(session, actor=officer, filename="r", source=results_csv(
        [("VS1", "positive", 60), ("VH1", "positive", 60), ("R1", "negative", 60),
         ("R2", "negative", 60)]))
    # the whole file is stored
    assert (report.inserted, report.positive_tubes, report.cases,
            report.followups_opened) == (4, 2, 1, 1)
    assert set(session.scalars(select(Tube.result).where(
        Tube.round_id == round_id, Tube.result.is_not(None)))) == {
        Result.positive, Result.negative}
    # the case is the home district's, with a task telling its command
    case = session.scalars(select(Case)).one()
    assert (case.owning_division_code, case.current_division_code) == (VILLAGE_B, VILLAGE_B)
    with pytest.raises(NotFound):
        cases.get(session, actor=officer, case_id=case.id)
    home = make_actor(Role.epidemiologist, "440803", name="home")
    assert cases.get(session, actor=home, case_id=case.id).id == case.id
    [notice] = session.scalars(select(Task).where(Task.type == "assist_case")).all()
    assert (notice.owning_division_code, notice.subject_type, notice.subject_id) == (
        "440803", "case", case.id)
    assert notice.id in {t.id for t in tasks.list_(session, actor=home)[0]}
    # the household pool's members: re-collection tasks in their home district
    resample = session.scalars(select(Task).where(Task.type == "resample")).all()
    assert len(resample) == 2 and {t.owning_division_code for t in resample} == {VILLAGE_B}
    assert tasks.list_(session, actor=officer)[0] == []
    # a member's re-test closes the home district's task
    importer.import_samples(session, actor=officer, round_id=round_id, filename="re",
                            source=samples_csv([("VR1", family[0], 120)]))
    importer.import_results(session, actor=officer, filename="rr",
                            source=results_csv([("VR1", "negative", 180)]))
    released = session.scalars(select(FollowupMember).where(
        FollowupMember.status == MemberStatus.released)).one()
    task = session.get(Task, released.task_id)
    assert task is not None and task.status == TaskStatus.done
    # sampled again in the next round: the same case, no second hand-over
    again = make_round(session, admin, area=["440802"], zones={VILLAGE_A: "high"})
    issue(session, admin, again, ["VS2"], capacity=1)
    importer.import_samples(session, actor=officer, round_id=again, filename="s2",
                            source=samples_csv([("VS2", single, 200)]))
    report = importer.import_results(session, actor=officer, filename="r2",
                                     source=results_csv([("VS2", "positive", 260)]))
    assert (report.cases, report.known_cases) == (0, 1)
    assert len(session.scalars(select(Task).where(Task.type == "assist_case")).all()) == 1
