"""The person → division reference is kept by the database (triggers, not a foreign key), and
the keyed lookup hashes are stored as 32 bytes and still find persons by exact number."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Conflict
from fangkong.core.tabular import Collector
from fangkong.geo.models import Division
from fangkong.person import importer, merge, service
from fangkong.person.enums import Sex
from fangkong.person.models import Person
from tests.helpers import csv_bytes, person_rows

KEY = b"k" * 32  # FANGKONG_LOOKUP_KEY of the test suite (tests/conftest.py)


def _person(ref: str, code: str) -> Person:
    now = datetime.now(UTC)
    return Person(ref=ref, name="测试", sex=Sex.unknown, division_code=code, synthetic=True,
                  row_hash="0" * 32, created_at=now, updated_at=now)


def _refused_by_database(session: Session, write: object) -> str:
    """Run ``write`` (a callable) in a savepoint; it must fail in the database (the
    savepoint is rolled back)."""
    with pytest.raises(DBAPIError) as caught, session.begin_nested():
        write()  # type: ignore[operator]
        session.flush()
    return str(caught.value.orig)


def test_a_person_of_an_unknown_division_is_refused_by_the_database(session: Session) -> None:
    message = _refused_by_database(session, lambda: session.add(_person("NODIV", "440899999999")))
    assert "unknown division code" in message
    assert session.scalar(select(Person.id).where(Person.ref == "NODIV")) is None


def test_a_person_cannot_be_moved_to_an_unknown_division(session: Session) -> None:
    session.add(_person("MOVE", "440802001001"))
    session.flush()
    move = update(Person).where(Person.ref == "MOVE").values(division_code="440899999999")
    message = _refused_by_database(session, lambda: session.execute(move))
    assert "unknown division code" in message
    assert session.scalar(select(Person.division_code).where(Person.ref == "MOVE")) == \
        "440802001001"
    session.execute(update(Person).where(Person.ref == "MOVE")
                    .values(division_code="440803001001"))  # a known one is fine
    assert session.scalar(select(Person.division_code).where(Person.ref == "MOVE")) == \
        "440803001001"


def test_a_division_with_persons_cannot_be_deleted_or_renumbered(session: Session) -> None:
    session.add(_person("STAY", "440802001001"))
    session.flush()
    gone = delete(Division).where(Division.code == "440802001001")
    assert "division" in _refused_by_database(session, lambda: session.execute(gone))
    renumber = update(Division).where(Division.code == "440802001001").values(
        code="440802001999")
    _refused_by_database(session, lambda: session.execute(renumber))
    assert session.get(Division, "440802001001") is not None


def test_a_division_without_persons_can_still_be_deleted(session: Session) -> None:
    leaf = session.scalar(select(Division.code).where(
        Division.code.like("4408%"), ~Division.code.in_(select(Division.parent_code).where(
            Division.parent_code.is_not(None))),
        ~Division.code.in_(select(Person.division_code))).limit(1))
    assert leaf is not None
    with session.begin_nested() as savepoint:
        session.execute(text("DELETE FROM division_boundary WHERE code = :c"), {"c": leaf})
        session.execute(delete(Division).where(Division.code == leaf))
        assert session.get(Division, leaf) is None
        savepoint.rollback()


def test_imported_hashes_are_32_bytes_and_find_persons(session: Session, admin: Actor) -> None:
    rows = person_rows(20, seed=11)
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    target = next(r for r in rows if r["id_number"] and r["phone"])
    stored = session.execute(select(Person.id_number_hash, Person.phone_hash).where(
        Person.ref == target["ref"])).one()
    expected_id = hmac.new(KEY, f"resident_id:{target['id_number']}".encode(),
                           hashlib.sha256).digest()
    expected_phone = hmac.new(KEY, target["phone"].encode(), hashlib.sha256).digest()
    assert (bytes(stored[0]), bytes(stored[1])) == (expected_id, expected_phone)
    by_number, _ = service.list_(session, actor=admin, id_number=target["id_number"].lower())
    assert [p.ref for p in by_number] == [target["ref"]]
    by_phone, _ = service.list_(session, actor=admin, phone=target["phone"])
    assert target["ref"] in [p.ref for p in by_phone]
    other = next(r for r in rows if r["id_number"] and r["ref"] != target["ref"])
    found, _ = service.list_(session, actor=admin, id_number=other["id_number"])
    assert [p.ref for p in found] == [other["ref"]]


def test_a_ref_written_meanwhile_makes_the_batch_a_conflict(session: Session,
                                                            admin: Actor) -> None:
    """A chunk checked as all-new is inserted without the upsert; should one of its refs have
    been written since (by another transaction), the batch is refused as a conflict."""
    rows = person_rows(3, seed=12)
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    clock = merge.Clock(None)
    collector = Collector("p.csv", 100)
    with pytest.raises(Conflict, match="import the file again"):  # noqa: SIM117
        with merge.Batch(session, admin, collector, clock) as batch:
            session.execute(batch.stage.insert().from_select(
                merge.STAGE_COLS,
                select(Person.id, *[Person.__table__.c[c] for c in merge.WRITE_COLS])))
            merge.merge(session, batch.stage, new_only=True)
    assert session.scalar(select(func.count()).select_from(Person)) == 3


def test_a_statement_of_many_persons_with_one_unknown_division_is_refused(
        session: Session, dialect: str) -> None:
    codes = session.scalars(select(Division.code).where(
        Division.code.like("4408%"), func.length(Division.code) == 12).limit(30)).all()
    assert len(codes) == 30
    persons = [_person(f"MANY{i}", codes[i % 30]) for i in range(90)]
    persons.insert(45, _person("MANYX", "440899999999"))
    message = _refused_by_database(session, lambda: session.add_all(persons))
    assert "unknown division code" in message
    if dialect == "postgresql":  # the statement trigger names the code (SQLite's cannot)
        assert "440899999999" in message
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.ref.like("MANY%"))) == 0
    session.add_all([_person(f"MANY{i}", codes[i % 30]) for i in range(90)])
    session.flush()
    assert session.scalar(select(func.count()).select_from(Person).where(
        Person.ref.like("MANY%"))) == 90


def test_the_divisions_of_persons_written_are_locked_until_commit(
        session: Session, engine: Engine, dialect: str) -> None:
    """As a foreign key would: another transaction cannot delete or renumber a division that
    persons not yet committed are written into (it waits; here NOWAIT makes it fail)."""
    if dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    used, free = session.scalars(select(Division.code).where(
        Division.code.like("440803%"), func.length(Division.code) == 12).limit(2)).all()
    session.add_all([_person("LOCK1", used), _person("LOCK2", used)])
    session.flush()
    lock = text("SELECT code FROM division WHERE code = :c FOR UPDATE NOWAIT")
    with engine.connect() as other:
        with pytest.raises(DBAPIError) as caught:
            other.execute(lock, {"c": used})
        assert "could not obtain lock" in str(caught.value.orig)
        other.rollback()
        assert other.execute(lock, {"c": free}).scalar() == free
        other.rollback()
