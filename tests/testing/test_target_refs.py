"""A round's target rows refer to their round and person through triggers, not foreign keys
(migration 0020: a city's round writes millions of them in one statement), kept from both
sides on both databases; on PostgreSQL under migration 0017's advisory lock."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.db import get_engine
from fangkong.person.models import Person
from fangkong.testing import importer
from fangkong.testing.models import Round, Target
from tests.testing.helpers import VILLAGE_B, make_persons, make_round, refused


@pytest.fixture
def ids(session: Session, admin: Actor) -> dict[str, int]:
    make_persons(session, admin, 2)  # 赤坎区: in the round's area
    make_persons(session, admin, 1, code=VILLAGE_B, prefix="OUT")  # 霞山区: outside it
    round_id = make_round(session, admin, area=["440802"])
    persons = dict(session.execute(select(Person.ref, Person.id)).tuples().all())
    return {"round": round_id, "person": persons["P0000"], "person2": persons["P0001"],
            "outsider": persons["OUT0000"]}


def _target(ids: dict[str, int], **changes: int) -> dict[str, object]:
    row: dict[str, object] = {"round_id": ids["round"], "person_id": ids["outsider"],
                              "division_code": VILLAGE_B, "pool_max": 20,
                              "household": False, "at_site": False}
    row.update(changes)
    return row


def _targets(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Target)) or 0


def test_a_round_writes_its_target_and_a_known_person_can_be_added(
        session: Session, ids: dict[str, int]) -> None:
    assert _targets(session) == 2
    session.execute(insert(Target), [_target(ids)])
    assert _targets(session) == 3


@pytest.mark.parametrize("bad", ["person_id", "round_id"])
def test_a_target_with_an_unknown_reference_is_refused(session: Session, ids: dict[str, int],
                                                       bad: str) -> None:
    # one bad row among good ones: the statement fails whole
    rows = [_target(ids), _target(ids, person_id=ids["person2"]) | {bad: 10**9}]
    refused(session, lambda: session.execute(insert(Target), rows))
    assert _targets(session) == 2


@pytest.mark.parametrize("column", ["person_id", "round_id"])
def test_a_target_cannot_be_pointed_at_something_unknown(session: Session,
                                                         ids: dict[str, int],
                                                         column: str) -> None:
    refused(session, lambda: session.execute(
        update(Target).where(Target.person_id == ids["person"]).values({column: 10**9})))
    assert session.scalar(select(Target.round_id).where(
        Target.person_id == ids["person"])) == ids["round"]


def test_targeted_persons_and_rounds_cannot_be_deleted_or_renumbered(
        session: Session, ids: dict[str, int]) -> None:
    for model, key in ((Person, "person"), (Round, "round")):
        refused(session, lambda m=model, k=key: session.execute(
            delete(m).where(m.id == ids[k])))
        refused(session, lambda m=model, k=key: session.execute(
            update(m).where(m.id == ids[k]).values(id=10**9)))
        assert session.get(model, ids[key]) is not None
    # a person no round targets may go
    with session.begin_nested():
        session.execute(delete(Person).where(Person.id == ids["outsider"]))
    assert session.get(Person, ids["outsider"]) is None


def test_targeted_persons_and_rounds_cannot_be_truncated(session: Session,
                                                        ids: dict[str, int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    for table in ("person", "testing_round"):
        refused(session, lambda t=table: session.execute(text(f"TRUNCATE {t} CASCADE")))
    assert _targets(session) == 2


def test_a_round_being_created_holds_the_references_lock(session: Session,
                                                         ids: dict[str, int]) -> None:
    """Until the round's transaction ends, a deletion of a person (which takes the lock
    exclusively) would wait: another connection cannot take it."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with get_engine().connect() as other:
        taken = other.scalar(text(
            f"SELECT pg_try_advisory_xact_lock({importer.SAMPLE_REFS_LOCK})"))
        other.rollback()
    assert taken is False
