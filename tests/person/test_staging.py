"""The staged form of checked rows is the same whether this process or the second one makes
it, and an import that stages its chunks in the second process stores what one that does not
stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.config import get_settings
from fangkong.core.auth import Actor
from fangkong.core.security import FieldCipher
from fangkong.person import importer, records, service, staging
from fangkong.person.enums import IdType, Sex
from fangkong.person.models import Person
from tests.helpers import csv_bytes, person_rows

_ENC = {staging.WRITE_COLS.index(c) + 1 for c in ("id_number_enc", "phone_enc")}


def _keys() -> staging.Keys:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    return staging.Keys(encryption_key=b"e" * 32, lookup_key=b"k" * 32, digest_key=b"k" * 32,
                        now=now, stamp=now.isoformat(),
                        enums={m: m.value for kind in (Sex, IdType) for m in kind})


def _cells(text: str) -> tuple[list[list[str]], list[str]]:
    """The COPY text's rows without their encrypted cells, and those cells decrypted."""
    cipher = FieldCipher(b"e" * 32, b"k" * 32)
    rows, plain = [], []
    for line in text.splitlines():
        cells = line.split("\t")
        rows.append([c for i, c in enumerate(cells) if i not in _ENC])
        plain += [cipher.decrypt(bytes.fromhex(cells[i][3:])) if cells[i] != "\\N" else ""
                  for i in sorted(_ENC)]
    return rows, plain


@pytest.fixture
def second_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Imports with the second process (off by default), for chunks of
    ``importer.STAGE_ELSEWHERE_FROM`` rows or more."""
    monkeypatch.setenv("FANGKONG_IMPORT_SECOND_PROCESS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FANGKONG_IMPORT_SECOND_PROCESS")
    get_settings.cache_clear()


def test_second_process_stages_what_this_one_does() -> None:
    today = date.today()
    values = [records.normalise(r, today=today)[0] for r in person_rows(30, seed=5)]
    values[4]["address"] = "一\t二\\三"  # escaped in COPY text
    lines = list(range(2, 32))
    fields = records.columns_by_field(values)
    here = staging.with_lines(lines, staging.copy_text(fields, _keys()))
    there = staging.stage_in_process(fields, _keys()).result(timeout=60)
    assert _cells(staging.with_lines(lines, there)) == _cells(here)
    rows, plain = _cells(here)
    assert [r[0] for r in rows] == [str(n) for n in lines]
    assert plain[:2] == [values[0]["id_number"] or "", values[0]["phone"] or ""]
    assert "一\\t二\\\\三" in here


def test_an_import_staged_in_the_second_process_stores_the_same(
        session: Session, admin: Actor, dialect: str, monkeypatch: pytest.MonkeyPatch,
        second_process: None) -> None:
    if dialect != "postgresql":
        pytest.skip("the second process stages COPY text, which only PostgreSQL takes")
    rows = person_rows(40, seed=6)
    columns = (Person.ref, Person.id_number_hash, Person.phone_hash, Person.id_number_masked,
               Person.row_hash, Person.birth_date, Person.sex)
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    here = session.execute(select(*columns).order_by(Person.ref)).all()
    session.rollback()
    assert session.scalar(select(Person.id).limit(1)) is None
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(importer, "STAGE_ELSEWHERE_FROM", 7)
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert report.inserted == 40
    assert session.execute(select(*columns).order_by(Person.ref)).all() == here
    again = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert (again.unchanged, again.inserted, again.updated) == (40, 0, 0)


def test_an_import_goes_on_when_the_second_process_dies(
        session: Session, admin: Actor, dialect: str, monkeypatch: pytest.MonkeyPatch,
        second_process: None) -> None:
    if dialect != "postgresql":
        pytest.skip("the second process stages COPY text, which only PostgreSQL takes")
    fields = records.columns_by_field([records.normalise(r)[0] for r in person_rows(2)])
    staging.stage_in_process(fields, _keys()).result(timeout=60)
    assert staging._pool is not None
    for process in list(staging._pool._processes.values()):  # what an OOM kill would do
        process.kill()
        process.join()
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(importer, "STAGE_ELSEWHERE_FROM", 7)
    rows = person_rows(30, seed=8)
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert report.inserted == 30
    found, _ = service.list_(session, actor=admin, id_number=rows[0]["id_number"])
    assert [p.ref for p in found] == [rows[0]["ref"]]
    # and the next import has a second process again
    assert staging.stage_in_process(fields, _keys()).result(timeout=60)
