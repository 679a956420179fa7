"""The staged form of checked rows is the same whether this process or the second one makes
it, and an import that stages its chunks in the second process stores what one that does not
stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.config import get_settings
from fangkong.core.security import FieldCipher
from fangkong.person import importer, merge, records, service, staging
from fangkong.person.enums import IdType, Sex
from fangkong.person.models import Person
from tests.helpers import csv_bytes, person_rows

_ENC = ("id_number_enc", "phone_enc")


def _keys() -> staging.Keys:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    return staging.Keys(encryption_key=b"e" * 32, lookup_key=b"k" * 32, digest_key=b"k" * 32,
                        now=now, enums={m: m.value for kind in (Sex, IdType) for m in kind})


def _cells(table: pa.Table) -> tuple[dict[str, list[Any]], list[str]]:
    """The staged rows' columns without the encrypted ones (random nonces), and those
    decrypted."""
    cipher = FieldCipher(b"e" * 32, b"k" * 32)
    columns = {name: table.column(name).to_pylist() for name in table.column_names
               if name not in _ENC}
    plain = [cipher.decrypt(x) if x is not None else ""
             for name in _ENC for x in table.column(name).to_pylist()]
    return columns, plain


@pytest.fixture
def second_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Imports with the second process (off by default), for chunks of
    ``merge.STAGE_ELSEWHERE_FROM`` rows or more."""
    monkeypatch.setenv("FANGKONG_IMPORT_SECOND_PROCESS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FANGKONG_IMPORT_SECOND_PROCESS")
    get_settings.cache_clear()


def test_second_process_stages_what_this_one_does() -> None:
    today = date.today()
    values = [records.normalise(r, today=today)[0] for r in person_rows(30, seed=5)]
    values[4]["address"] = "一\t二\\三"
    fields = records.columns_by_field(values)
    here = staging.arrow_rows(fields, _keys())
    there = staging.stage_in_process(fields, _keys()).result(timeout=60)
    assert here.schema == there.schema
    assert here.column_names == staging.WRITE_COLS
    assert _cells(there) == _cells(here)
    columns, plain = _cells(here)
    assert columns["ref"] == [v["ref"] for v in values]
    assert columns["birth_date"] == [v["birth_date"] for v in values]
    assert columns["created_at"] == [_keys().now] * 30
    assert plain[0] == (values[0]["id_number"] or "")
    assert plain[30] == (values[0]["phone"] or "")
    assert columns["address"][4] == "一\t二\\三"


def test_binary_copy_of_the_staged_rows_is_stored_as_given(
        session: Session, dialect: str) -> None:
    """What ``copy_binary`` encodes, PostgreSQL stores: texts with tabs, backslashes and line
    breaks, empty values, dates, bytes and timestamps, with and without the file's lines."""
    if dialect != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's")
    values = [records.normalise(r, today=date.today())[0] for r in person_rows(5, seed=9)]
    values[1]["address"] = "一\t二\\三\n四\r"
    values[2]["phone"] = values[2]["birth_date"] = None
    table = staging.arrow_rows(records.columns_by_field(values), _keys())
    raw = session.connection().connection.driver_connection
    cols = ", ".join(staging.WRITE_COLS)
    with raw.cursor() as cur:
        cur.execute("CREATE TEMPORARY TABLE copy_check AS SELECT 0::bigint AS line, "
                    f"{cols} FROM person WITH NO DATA")
        with cur.copy(f"COPY copy_check ({cols}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(staging.copy_binary(table))
        with cur.copy(f"COPY copy_check (line, {cols}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(staging.copy_binary(table, [7, 8, 9, 10, 11]))
        cur.execute(f"SELECT line, {cols} FROM copy_check ORDER BY line NULLS FIRST, ref")
        stored = cur.fetchall()
        cur.execute("DROP TABLE copy_check")
    expected = sorted(table.to_pylist(), key=lambda row: row["ref"])
    names = ["line", *staging.WRITE_COLS]
    assert [dict(zip(names, row, strict=True)) for row in stored[:5]] == [
        {"line": None, **row} for row in expected]
    assert [row[0] for row in stored[5:]] == [7, 8, 9, 10, 11]
    assert stored[5][1:] == tuple(table.to_pylist()[0].values())
    assert any(row[names.index("address")] == "一\t二\\三\n四\r" for row in stored)
    assert any(row[names.index("phone_enc")] is None and row[names.index("birth_date")] is None
               for row in stored)


def test_an_import_staged_in_the_second_process_stores_the_same(
        session: Session, admin: Actor, dialect: str, monkeypatch: pytest.MonkeyPatch,
        second_process: None) -> None:
    if dialect != "postgresql":
        pytest.skip("the second process stages rows for a binary COPY, PostgreSQL's")
    rows = person_rows(40, seed=6)
    columns = (Person.ref, Person.id_number_hash, Person.phone_hash, Person.id_number_masked,
               Person.row_hash, Person.birth_date, Person.sex)
    importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    here = session.execute(select(*columns).order_by(Person.ref)).all()
    session.rollback()
    assert session.scalar(select(Person.id).limit(1)) is None
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(merge, "STAGE_ELSEWHERE_FROM", 7)
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert report.inserted == 40
    assert session.execute(select(*columns).order_by(Person.ref)).all() == here
    again = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert (again.unchanged, again.inserted, again.updated) == (40, 0, 0)


def test_an_import_goes_on_when_the_second_process_dies(
        session: Session, admin: Actor, dialect: str, monkeypatch: pytest.MonkeyPatch,
        second_process: None) -> None:
    if dialect != "postgresql":
        pytest.skip("the second process stages rows for a binary COPY, PostgreSQL's")
    fields = records.columns_by_field([records.normalise(r)[0] for r in person_rows(2)])
    staging.stage_in_process(fields, _keys()).result(timeout=60)
    assert staging._pool is not None
    for process in list(staging._pool._processes.values()):  # what an OOM kill would do
        process.kill()
        process.join()
    monkeypatch.setattr(importer, "CHUNK", 7)
    monkeypatch.setattr(merge, "STAGE_ELSEWHERE_FROM", 7)
    rows = person_rows(30, seed=8)
    report = importer.import_file(session, actor=admin, source=csv_bytes(rows), filename="p.csv")
    assert report.inserted == 30
    found, _ = service.list_(session, actor=admin, id_number=rows[0]["id_number"])
    assert [p.ref for p in found] == [rows[0]["ref"]]
    # and the next import has a second process again
    assert staging.stage_in_process(fields, _keys()).result(timeout=60)
