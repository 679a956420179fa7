"""A testing round's positives are traced under the round's pack, not the deployment's active
one; a round or an exposure whose stored pack version is no longer the pack's on disk is
reported, never re-read under the new version (issue 18, item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.config import get_settings
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.task.models import Task
from fangkong.testing import importer, service
from fangkong.testing.models import Round
from fangkong.testing.schemas import RoundCreate
from fangkong.tracing import service as tracing
from fangkong.tracing.models import Exposure
from tests.testing.helpers import START, issue, lab, make_persons, results_csv, samples_csv

ACTIVE, ROUND = "cn_v9", "cn_20_measures"


@pytest.fixture(autouse=True)
def _active(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FANGKONG_ACTIVE_POLICY_PACK", ACTIVE)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _round_with_a_positive(session: Session, admin: Actor, pack: str) -> tuple[int, list[str]]:
    """A round under ``pack``; the first of a household of two sampled alone and the tube's
    result imported (positive) by the caller."""
    refs = make_persons(session, admin, 2, prefix="R", household_size=2)
    lab(session, admin)
    round_id = service.create_round(session, actor=admin, data=RoundCreate(
        name="全员核酸", area=["4408"], start_at=START, deadline_at=START + timedelta(hours=24),
        pack=pack)).round_id
    issue(session, admin, round_id, ["RP1"], capacity=1)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("RP1", refs[0], 60)]))
    return round_id, refs


def _household_exposure(session: Session, ref: str) -> Exposure:
    person = session.scalars(select(Person).where(Person.ref == ref)).one()
    return session.scalars(select(Exposure).where(
        Exposure.exposed_person_id == person.id)).one()


def test_a_rounds_positive_is_traced_under_the_rounds_pack(session: Session,
                                                           admin: Actor) -> None:
    assert policy.active_pack().id == ACTIVE
    active, found_by = policy.get_pack(ACTIVE), policy.get_pack(ROUND)
    _, refs = _round_with_a_positive(session, admin, ROUND)
    importer.import_results(session, actor=admin, filename="r",
                            source=results_csv([("RP1", "positive", 120)]))
    exposure = _household_exposure(session, refs[1])
    assert (exposure.pack_id, exposure.pack_version) == (found_by.id, found_by.version)

    contact = tracing.get_contact(session, actor=admin, contact_id=tracing.review(
        session, actor=admin, exposure_id=exposure.id, confirm=True).contact_id)
    # the round's pack's management (5+3 days), not the active pack's (7+3)
    ours = policy.plan(found_by, contact.role, exposure.last_exposure)
    theirs = policy.plan(active, contact.role, exposure.last_exposure)
    assert ours.release_date != theirs.release_date
    assert (contact.pack, contact.pack_version, contact.release_date) == (
        found_by.id, found_by.version, ours.release_date)
    assert contact.plan == ours.model_dump(mode="json")
    made = session.scalars(select(Task).where(Task.subject_type == "contact",
                                              Task.subject_id == contact.id)).all()
    assert made and {(t.pack_id, t.pack_version) for t in made} == {
        (found_by.id, found_by.version)}
    # the round's pack identifies no secondary contacts (the active one would)
    assert policy.traces_secondary_contacts(active)
    again = tracing.propose(session, actor=admin, case_id=exposure.source_case_id,
                            pack=exposure.pack_id)
    assert again["secondary"] == 0 and again["pack"] == found_by.id


def test_a_round_whose_pack_version_changed_is_reported_not_reinterpreted(
        session: Session, admin: Actor) -> None:
    round_id, _ = _round_with_a_positive(session, admin, ROUND)
    round_ = session.get(Round, round_id)
    assert round_ is not None
    round_.pack_version = "0.9.0"  # made under a version the disk no longer has
    session.flush()
    on_disk = policy.get_pack(ROUND).version
    with pytest.raises(policy.PackChanged) as raised:
        importer.import_results(session, actor=admin, filename="r",
                                source=results_csv([("RP1", "positive", 120)]))
    message = raised.value.message
    assert f"testing round {round_id}" in message
    assert f"{ROUND} version 0.9.0" in message and f"disk is version {on_disk}" in message


def test_an_exposure_whose_pack_version_changed_is_reported_at_review(
        session: Session, admin: Actor) -> None:
    _, refs = _round_with_a_positive(session, admin, ROUND)
    importer.import_results(session, actor=admin, filename="r",
                            source=results_csv([("RP1", "positive", 120)]))
    exposure = _household_exposure(session, refs[1])
    exposure.pack_version = "0.9.0"
    session.flush()
    with pytest.raises(policy.PackChanged, match=rf"exposure {exposure.id} was made under "
                       rf"policy pack {ROUND} version 0\.9\.0"):
        tracing.review(session, actor=admin, exposure_id=exposure.id, confirm=True)
