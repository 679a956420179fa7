"""A tube's lab is kept by the database (triggers, not a foreign key: migration 0015), from
both sides, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import case, delete, insert, select, text, update
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.testing.models import Lab, Tube
from tests.testing.helpers import issue, lab, make_round, refused


@pytest.fixture
def ids(session: Session, admin: Actor) -> dict[str, int]:
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["L1", "L2"], capacity=10)
    tubes = dict(session.execute(select(Tube.barcode, Tube.id)).tuples().all())
    return {"round": round_id, "tube": tubes["L1"], "tube2": tubes["L2"],
            "lab": lab(session, admin), "unused_lab": lab(session, admin, code="LAB2")}


def test_tubes_of_a_known_lab_are_written(session: Session, ids: dict[str, int]) -> None:
    session.execute(update(Tube).values(lab_id=ids["lab"]))
    session.execute(insert(Tube), [{"barcode": "L3", "round_id": ids["round"], "capacity": 1,
                                    "members": 0, "lab_id": ids["lab"]}])
    assert set(session.scalars(select(Tube.lab_id))) == {ids["lab"]}


def test_a_tube_with_an_unknown_lab_isrefused(session: Session, ids: dict[str, int]) -> None:
    # one bad tube among good ones: the statement fails whole
    refused(session, lambda: session.execute(update(Tube).values(
        lab_id=case((Tube.id == ids["tube"], ids["lab"]), else_=10**9))))
    refused(session, lambda: session.execute(insert(Tube), [
        {"barcode": "L3", "round_id": ids["round"], "capacity": 1, "members": 0,
         "lab_id": ids["lab"]},
        {"barcode": "L4", "round_id": ids["round"], "capacity": 1, "members": 0,
         "lab_id": 10**9}]))
    assert set(session.scalars(select(Tube.lab_id))) == {None}
    assert session.scalar(select(Tube.id).where(Tube.barcode == "L3")) is None


def test_a_lab_with_tubes_cannot_be_deleted_or_renumbered(session: Session,
                                                          ids: dict[str, int]) -> None:
    session.execute(update(Tube).where(Tube.id == ids["tube"]).values(lab_id=ids["lab"]))
    refused(session, lambda: session.execute(delete(Lab).where(Lab.id == ids["lab"])))
    refused(session, lambda: session.execute(
        update(Lab).where(Lab.id == ids["lab"]).values(id=10**9)))
    assert session.get(Lab, ids["lab"]) is not None
    # other changes to it, and deleting a lab no tube names, are fine
    session.execute(update(Lab).where(Lab.id == ids["lab"]).values(daily_capacity=5))
    with session.begin_nested():
        session.execute(delete(Lab).where(Lab.id == ids["unused_lab"]))
    assert session.get(Lab, ids["unused_lab"]) is None


def test_labs_with_tubes_cannot_be_truncated(session: Session, ids: dict[str, int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    session.execute(update(Tube).where(Tube.id == ids["tube"]).values(lab_id=ids["lab"]))
    refused(session, lambda: session.execute(text("TRUNCATE testing_lab")))
