"""A file imported in many chunks (checked and merged one after another) gives what checking
the whole file against the database as it was before the import gives."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid
from fangkong.person import importer, merge
from fangkong.person.models import Person
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows


@pytest.fixture(autouse=True, params=[(2, 2), (1, 3)], ids=["even", "small-first"])
def small_chunks(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Chunks of two rows; or a first chunk of one row, then chunks of three."""
    first, chunk = request.param
    monkeypatch.setattr(importer, "FIRST_CHUNK", first)
    monkeypatch.setattr(importer, "CHUNK", chunk)
    monkeypatch.setattr(merge, "_SLICE", 1)


def _snapshot(session: Session) -> list[tuple[str, str | None, str]]:
    return [tuple(r) for r in session.execute(  # type: ignore[misc]
        select(Person.ref, Person.id_number_hash, Person.row_hash).order_by(Person.ref))]


def _bare(row: dict[str, str], number: str) -> dict[str, str]:
    """The row with another ID number (birth date and sex then come from it)."""
    return {**row, "id_number": number, "birth_date": "", "sex": ""}


def _refused(session: Session, actor: Actor, rows: list[dict[str, str]]) -> list[tuple]:
    before = _snapshot(session)
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, actor=actor, source=csv_bytes(rows), filename="p.csv")
    assert _snapshot(session) == before
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_chunks_add_up(session: Session, admin: Actor) -> None:
    rows = person_rows(9, prefix="K")
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="a")
    assert (report.inserted, report.updated, report.unchanged) == (9, 0, 0)
    changed = [{**r, "address": "新地址"} if i % 3 == 0 else r for i, r in enumerate(rows)]
    more = person_rows(4, seed=8, prefix="L")
    report = importer.import_file(session, actor=admin, source=csv_bytes(changed + more),
                                  filename="b")
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (13, 4, 3, 6)
    again = importer.import_file(session, actor=admin, source=csv_bytes(changed + more),
                                 filename="b")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 13)
    assert session.scalar(select(func.count()).where(Person.ref.like("L%"))) == 4


def test_a_number_given_up_by_an_earlier_chunk_is_still_taken(session: Session,
                                                              admin: Actor) -> None:
    rows = person_rows(4, prefix="M")
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="a")
    new = person_rows(8, seed=4, prefix="N")
    # M1 takes a new number in the first chunk; N8, in the fourth, takes M1's old one.
    moved = [_bare(rows[0], new[0]["id_number"]), *new[1:7], _bare(new[7], rows[0]["id_number"])]
    assert _refused(session, admin, moved) == [
        (9, "id_number", "ID number already recorded for another person")]
    # Swapping two persons' numbers, in different chunks, conflicts both ways.
    swap = [_bare(rows[0], rows[1]["id_number"]), *new[1:4], _bare(rows[1], rows[0]["id_number"])]
    assert [p[0] for p in _refused(session, admin, swap)] == [2, 6]


def test_records_outside_the_jurisdiction_in_later_chunks(session: Session,
                                                          admin: Actor) -> None:
    places = [("440803001001", 1.0)]
    outside = person_rows(3, prefix="O", places=places)
    importer.import_file(session, actor=admin, source=csv_bytes(outside), filename="a")
    local = make_actor(Role.epidemiologist, "440802", name="local")
    rows = [*person_rows(5, seed=6, prefix="R", places=[("440802001001", 1.0)]),
            *({**r, "division_code": "440802001001"} for r in outside)]
    problems = _refused(session, local, rows)
    assert problems == [(line, "ref", "this ref cannot be written from your jurisdiction")
                        for line in (7, 8, 9)]


def test_problems_on_lines_win_over_conflicts(session: Session, admin: Actor) -> None:
    rows = person_rows(3, prefix="S")
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="a")
    new = person_rows(6, seed=5, prefix="T")
    bad = [_bare(new[0], rows[0]["id_number"]), *new[1:4],
           {**new[4], "division_code": "440899999999"}, {**new[5], "phone": "123"}]
    problems = _refused(session, admin, bad)
    assert [(line, field) for line, field, _ in problems] == [
        (7, "phone"), (6, "division_code")]


def test_text_with_tabs_backslashes_and_newlines_lands_as_written(session: Session,
                                                                  admin: Actor) -> None:
    rows = person_rows(3, prefix="U")
    odd = ["a\tb", "back\\slash \\N", "two\nlines\r\nand\rmore"]
    rows = [{**r, "address": text} for r, text in zip(rows, odd, strict=True)]
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="a")
    stored = session.scalars(select(Person.address).where(Person.ref.like("U%"))
                             .order_by(Person.ref)).all()
    assert stored == [text.strip() for text in odd]


def test_new_chunks_then_recorded_ones(session: Session, admin: Actor, dialect: str) -> None:
    """On PostgreSQL, chunks of new persons are copied straight into the person table until
    one meets a recorded ref or ID number; that one and the rest are staged and merged. Either
    way the counts are right, and a later conflict undoes the chunks already copied."""
    old = person_rows(3, prefix="V")
    importer.import_file(session, actor=admin, source=csv_bytes(old), filename="a")
    new = person_rows(4, seed=9, prefix="W")
    timings: dict[str, float] = {}
    report = importer.import_file(
        session, actor=admin, source=csv_bytes([*new, {**old[0], "address": "新地址"}, *old[1:]]),
        filename="b", timings=timings)
    assert (report.inserted, report.updated, report.unchanged) == (4, 1, 2)
    if dialect == "postgresql":
        assert "  COPY into person" in timings and "  write to staging table" in timings
    assert session.scalar(select(Person.address).where(Person.ref == old[0]["ref"])) == "新地址"
    more = person_rows(5, seed=10, prefix="X")
    assert _refused(session, admin, [*more[:4], _bare(more[4], old[2]["id_number"])]) == [
        (6, "id_number", "ID number already recorded for another person")]
    assert session.scalar(select(func.count()).where(Person.ref.like("X%"))) == 0
