"""A sample's references (tube and round, person, collection point) are kept by the database
(triggers, not foreign keys: migration 0013), from both sides, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.person.models import Person
from fangkong.testing.models import Point, Sample, Tube
from tests.testing.helpers import issue, make_persons, make_round, point, refused

NOW = datetime.now(UTC)


@pytest.fixture
def ids(session: Session, admin: Actor) -> dict[str, int]:
    make_persons(session, admin, 3)
    round_id = make_round(session, admin)
    other = make_round(session, admin)
    issue(session, admin, round_id, ["R1"], capacity=10)
    issue(session, admin, other, ["R2"], capacity=10)
    persons = session.scalars(select(Person.id).where(Person.ref.in_(["P0000", "P0001"]))
                              .order_by(Person.ref)).all()
    tube = session.scalar(select(Tube.id).where(Tube.barcode == "R1"))
    assert tube is not None
    return {"round": round_id, "other": other, "tube": tube, "person": persons[0],
            "person2": persons[1], "point": point(session, admin),
            "unused_point": point(session, admin, code="PT2")}


def _sample(ids: dict[str, int], **changes: int | None) -> dict[str, object]:
    row: dict[str, object] = {"round_id": ids["round"], "tube_id": ids["tube"],
                              "person_id": ids["person"], "sampled_at": NOW,
                              "point_id": ids["point"], "repeat": False}
    row.update(changes)
    return row


def test_samples_with_known_references_are_written(session: Session,
                                                   ids: dict[str, int]) -> None:
    session.execute(insert(Sample), [_sample(ids), _sample(ids, person_id=ids["person2"],
                                                           point_id=None)])
    assert len(session.scalars(select(Sample.person_id)).all()) == 2


@pytest.mark.parametrize("bad", ["person", "tube", "round", "point"])
def test_a_sample_with_an_unknown_reference_isrefused(session: Session, ids: dict[str, int],
                                                       bad: str) -> None:
    changes = {"person": {"person_id": 10**9}, "tube": {"tube_id": 10**9},
               "round": {"round_id": ids["other"]},  # the tube is not of that round
               "point": {"point_id": 10**9}}[bad]
    # one bad row among good ones: the statement fails whole
    rows = [_sample(ids, person_id=ids["person2"]), _sample(ids, **changes)]
    refused(session, lambda: session.execute(insert(Sample), rows))
    assert session.scalars(select(Sample.person_id)).all() == []


@pytest.mark.parametrize("column", ["person_id", "tube_id", "round_id", "point_id"])
def test_a_sample_cannot_be_pointed_at_something_unknown(session: Session,
                                                         ids: dict[str, int],
                                                         column: str) -> None:
    session.execute(insert(Sample), [_sample(ids)])
    value = ids["other"] if column == "round_id" else 10**9
    refused(session, lambda: session.execute(update(Sample).values({column: value})))
    assert session.scalar(select(getattr(Sample, column))) == ids[
        {"person_id": "person", "tube_id": "tube", "round_id": "round",
         "point_id": "point"}[column]]


def test_sampled_persons_tubes_and_points_cannot_be_deleted_or_renumbered(
        session: Session, ids: dict[str, int]) -> None:
    session.execute(insert(Sample), [_sample(ids)])
    for model, key in ((Person, "person"), (Tube, "tube"), (Point, "point")):
        refused(session, lambda m=model, k=key: session.execute(
            delete(m).where(m.id == ids[k])))
        refused(session, lambda m=model, k=key: session.execute(
            update(m).where(m.id == ids[k]).values(id=10**9)))
        assert session.get(model, ids[key]) is not None
    refused(session, lambda: session.execute(
        update(Tube).where(Tube.id == ids["tube"]).values(round_id=ids["other"])))
    # other changes to a sampled tube, and deleting what no sample refers to, are fine
    session.execute(update(Tube).where(Tube.id == ids["tube"]).values(members=1))
    with session.begin_nested():
        session.execute(delete(Point).where(Point.id == ids["unused_point"]))
    assert session.get(Point, ids["unused_point"]) is None


def test_sampled_points_cannot_be_truncated(session: Session, ids: dict[str, int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    session.execute(insert(Sample), [_sample(ids)])
    refused(session, lambda: session.execute(text("TRUNCATE testing_point")))
