"""A plain UTF-8 CSV is read by Arrow and checked per column; any other file row by row.
Both ways find the same problems on the same lines and fields, and write the same records."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import frames
from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.person import importer, records
from fangkong.person.models import Person
from tests.helpers import csv_bytes, person_rows

CSV_PATH: dict[str, str] = {}
ROW_PATH = {"encoding": "gb18030"}  # not UTF-8: read row by row by core.tabular


def _text(rows: list[dict[str, str]]) -> str:
    return csv_bytes(rows).decode()


def _read(text: str, path: dict[str, str]) -> bytes:
    return text.encode(path.get("encoding", "utf-8"))


def _problems(session: Session, actor: Actor, data: bytes, **kw: str
              ) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(Invalid) as caught:
        importer.import_file(session, actor=actor, source=data, filename="p.csv", **kw)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_the_two_ways_are_the_ones_taken() -> None:
    text = _text(person_rows(3))
    args = {"expected": importer.COLUMNS, "required": records.REQUIRED}
    assert frames.plain_csv("p.csv", _read(text, CSV_PATH), encoding=None, **args) is not None
    assert frames.plain_csv("p.csv", _read(text, ROW_PATH), **ROW_PATH, **args) is None


def test_bad_lines_are_reported_alike(session: Session, admin: Actor) -> None:
    rows = person_rows(12)
    rows[0]["birth_date"] = "1990-02-30"
    rows[1]["id_number"] = rows[1]["id_number"][:17] + ("1" if rows[1]["id_number"][17] != "1"
                                                        else "2")
    rows[2]["division_code"] = "440899999999"
    rows[3]["phone"] = "12345"
    rows[4]["sex"] = "x"
    rows[5]["name"] = ""
    rows[6]["ref"] = rows[7]["ref"]
    rows[8]["id_number"] = rows[9]["id_number"]  # and so rows[8]'s birth date disagrees
    rows[10]["synthetic"] = "maybe"
    rows[11]["name"] = " 周 "  # padded: fine, trimmed
    text = _text(rows)
    lines = text.splitlines(keepends=True)
    text = "".join([*lines[:4], ",,,,,,,,,,\r\n", *lines[4:]])  # a blank line: skipped
    found = _problems(session, admin, _read(text, CSV_PATH))
    assert found == _problems(session, admin, _read(text, ROW_PATH), **ROW_PATH)
    assert {(line, field) for line, field, _ in found} == {
        (2, "birth_date"), (3, "id_number"), (4, "division_code"), (6, "phone"), (7, "sex"),
        (8, "name"), (10, "ref"), (11, "birth_date"), (12, "id_number"), (13, "synthetic")}


def test_records_are_written_alike(session: Session, admin: Actor) -> None:
    rows = person_rows(30)
    rows[0]["name"] = "\u3000张三 "
    rows[1]["sex"], rows[1]["birth_date"] = "", ""
    rows[2]["phone"] = "+86 138 1234 5678"
    rows[3]["id_number"] = rows[3]["id_number"].lower()
    rows[4]["synthetic"] = "是"
    rows[5]["id_type"], rows[5]["id_number"] = "passport", "E12345678"
    text = _text(rows)
    first = importer.import_file(session, actor=admin, source=_read(text, CSV_PATH),
                                 filename="p.csv")
    assert first.inserted == 30
    again = importer.import_file(session, actor=admin, source=_read(text, ROW_PATH),
                                 filename="p.csv", **ROW_PATH)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30)
    assert session.scalar(select(Person.name).where(Person.ref == rows[0]["ref"])) == "张三"
