"""A positive screening result of someone who already has a case episode belongs to that
episode (daily rounds sample cases again); a new infection is handed to tracing at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Basis, Classification, DetectionMode
from fangkong.case.models import Case
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core.auth import Actor
from fangkong.person.models import Person
from fangkong.testing import importer, service
from fangkong.testing.models import Round
from fangkong.tracing import proposals
from fangkong.tracing.enums import Origin
from fangkong.tracing.models import Exposure
from tests.testing.helpers import (
    START,
    issue,
    lab,
    make_persons,
    make_round,
    results_csv,
    samples_csv,
)


def _positive_single(session: Session, admin: Actor, ref: str, barcode: str, *,
                     round_start: int = 0) -> importer.ImportReport:
    """A round starting ``round_start`` hours after START; ``ref`` sampled alone in tube
    ``barcode`` an hour after the round starts, reported positive an hour later."""
    round_id = make_round(session, admin, start=START + timedelta(hours=round_start))
    issue(session, admin, round_id, [barcode], capacity=1)
    minutes = round_start * 60
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([(barcode, ref, minutes + 60)]))
    return importer.import_results(session, actor=admin, filename="r",
                                   source=results_csv([(barcode, "positive", minutes + 120)]))


def _proposed(session: Session, ref: str) -> set[Origin]:
    person = session.scalars(select(Person).where(Person.ref == ref)).one()
    return set(session.scalars(select(Exposure.origin).where(
        Exposure.exposed_person_id == person.id)))


def test_a_case_positive_again_in_the_next_daily_round_is_the_same_case(
        session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 2, prefix="D", household_size=2)
    lab(session, admin)
    first = _positive_single(session, admin, refs[0], "DAY1", round_start=-24)
    assert (first.cases, first.known_cases) == (1, 0)
    (case,) = session.scalars(select(Case)).all()
    assert case.classification == Classification.asymptomatic  # cn_v9's positive class
    # handed to tracing: the household member is proposed as a contact at once
    assert _proposed(session, refs[1]) == {Origin.household}

    again = _positive_single(session, admin, refs[0], "DAY2")
    assert (again.cases, again.known_cases) == (0, 1)
    assert [c.id for c in session.scalars(select(Case))] == [case.id]
    assert len(case.history) == 1  # nothing changed in the episode
    # each round lists the person among its cases
    for round_id in session.scalars(select(Round.id)):
        assert service.status(session, actor=admin, round_id=round_id).cases == [refs[0]]


def test_a_suspected_case_found_positive_becomes_an_infection(session: Session,
                                                              admin: Actor) -> None:
    refs = make_persons(session, admin, 2, prefix="S", household_size=2)
    lab(session, admin)
    suspected = cases.create(session, actor=admin, data=CaseCreate(
        ref="SUSP1", person_ref=refs[0], classification=Classification.suspected,
        reported_at=START, detection_mode=DetectionMode.fever_clinic,
        owning_division_code="440802"))
    assert _proposed(session, refs[1]) == set()  # a suspected case is not traced yet
    report = _positive_single(session, admin, refs[0], "SUSP-T")
    assert (report.cases, report.known_cases) == (0, 1)
    (case,) = session.scalars(select(Case)).all()
    assert case.id == suspected.id
    assert case.classification == Classification.asymptomatic
    assert case.first_positive_sample_date == (START + timedelta(minutes=60)).date()
    step = case.history[-1]
    assert (step.from_classification, step.to_classification, step.basis) == (
        Classification.suspected, Classification.asymptomatic, Basis.rule)
    assert "SUSP-T" in (step.note or "")
    assert _proposed(session, refs[1]) == {Origin.household}


def test_a_discarded_episode_does_not_take_a_new_positive(session: Session,
                                                          admin: Actor) -> None:
    refs = make_persons(session, admin, 1, prefix="X")
    lab(session, admin)
    old = cases.create(session, actor=admin, data=CaseCreate(
        ref="OLD1", person_ref=refs[0], classification=Classification.suspected,
        reported_at=START, detection_mode=DetectionMode.fever_clinic,
        owning_division_code="440802"))
    cases.reclassify(session, actor=admin, case_id=old.id, data=Reclassify(
        classification=Classification.discarded, note="negative twice"))
    report = _positive_single(session, admin, refs[0], "NEWT")
    assert (report.cases, report.known_cases) == (1, 0)
    assert old.classification == Classification.discarded
    assert len(session.scalars(select(Case)).all()) == 2


def test_a_results_file_hands_its_new_infections_to_tracing_in_one_batch(
        session: Session, admin: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    refs = make_persons(session, admin, 4, prefix="B", household_size=2)
    lab(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["B1", "B2"], capacity=1)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("B1", refs[0], 60), ("B2", refs[2], 60)]))
    calls: list[list[int]] = []
    real = proposals.propose_many

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(list(kw["case_ids"]))
        return real(*args, **kw)

    monkeypatch.setattr(proposals, "propose_many", counted)
    report = importer.import_results(session, actor=admin, filename="r", source=results_csv(
        [("B1", "positive", 120), ("B2", "positive", 120)]))
    assert report.cases == 2
    assert calls == [sorted(session.scalars(select(Case.id)))]  # one engine run for both
    assert _proposed(session, refs[1]) == _proposed(session, refs[3]) == {Origin.household}
