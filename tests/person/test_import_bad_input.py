"""Bulk person import: what lands, what is refused, and that a refused file writes nothing."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.core.errors import Invalid, TooLarge
from fangkong.person import importer
from fangkong.person.models import Person
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Person)) or 0


def _refused(session: Session, actor: Actor, data: bytes, name: str = "p.csv",
             **kw: str) -> Invalid:
    before = _count(session)
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, actor=actor, source=data, filename=name, **kw)
    assert _count(session) == before
    return caught.value


def _where(exc: Invalid) -> set[tuple[int | None, str | None]]:
    return {(p.line, p.field) for p in exc.problems}


def test_import_is_atomic_and_idempotent(session: Session, admin: Actor) -> None:
    rows = person_rows(50)
    data = csv_bytes(rows)
    first = importer.import_file(session, actor=admin, source=data, filename="p.csv")
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (50, 50, 0, 0)
    stamp = dict(session.execute(select(Person.ref, Person.updated_at)).all())
    again = importer.import_file(session, actor=admin, source=data, filename="p.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50)
    session.expire_all()
    assert dict(session.execute(select(Person.ref, Person.updated_at)).all()) == stamp
    rows[3]["name"] = "改名"
    changed = importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                   filename="p.csv")
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 49)
    assert session.scalar(select(Person.name).where(Person.ref == rows[3]["ref"])) == "改名"


def _mutate(field: str, value: str, line: int = 3) -> Callable[[list[dict[str, str]]], None]:
    def apply(rows: list[dict[str, str]]) -> None:
        rows[line - 2][field] = value
    return apply


@pytest.mark.parametrize(("mutation", "field"), [
    (_mutate("birth_date", "1990-02-30"), "birth_date"),
    (_mutate("id_number", "440802199001011235"), "id_number"),
    (_mutate("division_code", "440899999999"), "division_code"),
    (_mutate("phone", "12345"), "phone"),
    (_mutate("sex", "x"), "sex"),
    (_mutate("name", ""), "name"),
])
def test_a_bad_field_is_named_by_line(session: Session, admin: Actor,
                                      mutation: Callable[[list[dict[str, str]]], None],
                                      field: str) -> None:
    rows = person_rows(5)
    mutation(rows)
    exc = _refused(session, admin, csv_bytes(rows))
    assert (3, field) in _where(exc)
    assert all(p.file == "p.csv" for p in exc.problems)


def test_duplicates_inside_a_file(session: Session, admin: Actor) -> None:
    rows = person_rows(4)
    rows[2]["ref"] = rows[0]["ref"]
    rows[3]["id_number"] = rows[1]["id_number"]
    exc = _refused(session, admin, csv_bytes(rows))
    assert {(4, "ref"), (5, "id_number")} <= _where(exc)


def test_id_number_held_by_another_person(session: Session, admin: Actor) -> None:
    rows = person_rows(3)
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="a.csv")
    other = person_rows(2, seed=9, prefix="U")
    for field in ("id_number", "birth_date", "sex"):
        other[1][field] = rows[0][field]
    exc = _refused(session, admin, csv_bytes(other))
    assert (3, "id_number") in _where(exc)


def test_header_problems(session: Session, admin: Actor) -> None:
    rows = person_rows(2)
    missing = _refused(session, admin, csv_bytes(rows, columns=["ref", "name"]))
    assert (1, "division_code") in _where(missing)
    unknown = _refused(session, admin, b"ref,name,division_code,divison\nA,B,440802,x\n")
    assert (1, "divison") in _where(unknown)
    extra = _refused(session, admin, b"ref,name,division_code\nA,B,440802001001,x\n")
    assert _where(extra) == {(2, None)}
    with pytest.raises(Invalid, match="empty"):
        importer.import_file(session, actor=admin, source=b"", filename="e.csv")


def test_wrong_encoding_is_explained_and_can_be_named(session: Session, admin: Actor) -> None:
    data = csv_bytes(person_rows(3), encoding="gb18030")
    exc = _refused(session, admin, data)
    assert "gb18030" in exc.message and "UTF-8" in exc.message
    report = importer.import_file(session, actor=admin, source=data, filename="p.csv",
                                  encoding="gb18030")
    assert report.inserted == 3


def test_too_large(session: Session, admin: Actor) -> None:
    with pytest.raises(TooLarge):
        importer.import_file(session, actor=admin, source=b"x" * (2 * 1024 * 1024 + 1),
                             filename="big.csv")


def test_outside_jurisdiction(session: Session) -> None:
    county = make_actor(Role.epidemiologist, "440802")
    rows = person_rows(3, places=[("440802001001", 1.0)])
    rows[1]["division_code"] = "440803001001"
    exc = _refused(session, county, csv_bytes(rows))
    assert _where(exc) == {(3, "division_code")}
    assert "outside your jurisdiction" in exc.problems[0].message


def test_xlsx_imports_like_csv(session: Session, admin: Actor) -> None:
    rows = person_rows(6)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    sheet["D2"].value = __import__("datetime").date.fromisoformat(rows[0]["birth_date"])
    buf = io.BytesIO()
    book.save(buf)
    report = importer.import_file(session, actor=admin, source=buf.getvalue(),
                                  filename="p.xlsx")
    assert report.inserted == 6
    again = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert again.unchanged == 6
