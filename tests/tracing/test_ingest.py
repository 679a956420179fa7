"""Venue registry and check-in ingest into the day-partitioned store."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.person.models import Person
from fangkong.tracing import importer, store, venues

HEAD = "person_id,venue_code,t_in,t_out\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_ingest_partitions_by_day_sorts_by_venue_and_is_idempotent(
        session: Session, admin: Actor, people: list[Person], venues: list[int],
        tmp_path: Path) -> None:
    a, b = people[0].id, people[1].id
    src = _write(tmp_path / "c.csv", HEAD +
                 f"{a},V-MKT,2022-05-01T10:00:00Z,2022-05-01T10:30:00Z\n"
                 f"{b},V-REST,2022-05-01T12:00:00+08:00,\n"          # 04:00 UTC, default dwell
                 f"{b},V-REST,2022-05-02T23:30:00Z,2022-05-03T01:00:00Z\n"
                 f"{a},V-REST,2022-05-01T09:00:00Z,2022-05-01T09:05:00Z\n")
    d = tmp_path / "store"
    report = importer.ingest(session, actor=admin, source=src, directory=d)
    assert (report.rows, report.stored, report.unchanged) == (4, 4, False)
    assert report.days == {"2022-05-01": 3, "2022-05-02": 1}
    day1 = pq.read_table(next((d / "day=2022-05-01").glob("*.parquet")))
    assert day1.column("venue_id").to_pylist() == sorted([venues[1], venues[0], venues[0]])
    rest = next(r for r in day1.to_pylist() if r["person_id"] == b)
    assert (rest["t_out"] - rest["t_in"]).total_seconds() == 90 * 60  # restaurant dwell
    assert day1.schema.field("t_in").type == pa.timestamp("us", tz="UTC")
    again = importer.ingest(session, actor=admin, source=src, directory=d)
    assert again.unchanged and again.stored == 0
    assert len(store.parquet_files(d)) == 2
    # Another file repeating a stored row stores only the new one.
    more = _write(tmp_path / "more.csv", HEAD +
                  f"{a},V-MKT,2022-05-01T10:00:00Z,2022-05-01T10:30:00Z\n"
                  f"{a},V-MKT,2022-05-04T10:00:00Z,2022-05-04T10:30:00Z\n")
    report = importer.ingest(session, actor=admin, source=more, directory=d)
    assert (report.stored, report.already_stored, report.days) == (1, 1, {"2022-05-04": 1})
    assert store.read_manifest(d)["max_dwell_seconds"] == 90 * 60


def test_bad_rows_are_reported_with_line_and_field_and_nothing_is_stored(
        session: Session, admin: Actor, people: list[Person], venues: list[int],
        tmp_path: Path) -> None:
    a = people[0].id
    src = _write(tmp_path / "bad.csv", HEAD +
                 f"{a},V-MKT,2022-05-01T10:00:00Z,2022-05-01T10:30:00Z\n"   # 2 ok
                 f"{a},V-NONE,2022-05-01T11:00:00Z,2022-05-01T11:30:00Z\n"  # 3 unknown venue
                 "999999999,V-MKT,2022-05-01T11:00:00Z,\n"                    # 4 unknown person
                 f"{a},V-MKT,2022-05-01T12:00:00Z,2022-05-01T12:00:00Z\n"   # 5 t_out = t_in
                 f"{a},V-MKT,2022-05-01T10:00:00Z,2022-05-01T10:40:00Z\n"   # 6 duplicate of 2
                 f"x{a},V-MKT,yesterday,later\n")                             # 7 three problems
    d = tmp_path / "store"
    with pytest.raises(Invalid) as caught:
        importer.ingest(session, actor=admin, source=src, directory=d)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {(3, "venue_code"), (4, "person_id"), (5, "t_out"), (6, "person_id"),
                     (7, "person_id"), (7, "t_in"), (7, "t_out")}
    assert all(p.file == "bad.csv" for p in caught.value.problems)
    assert "duplicate of line 2" in {p.message for p in caught.value.problems if p.line == 6}
    assert not d.exists() or store.parquet_files(d) == []


def test_parquet_input_and_the_engine_on_the_ingested_store(
        session: Session, admin: Actor, people: list[Person], venues: list[int],
        tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from fangkong.tracing import engine

    a, b = people[0].id, people[1].id
    table = pa.table({"person_id": [a, b], "venue_code": ["V-MKT", "V-MKT"],
                      "t_in": ["2022-05-01T10:00:00Z", "2022-05-01T10:20:00Z"],
                      "t_out": ["2022-05-01T10:30:00Z", None]})
    pq.write_table(table, tmp_path / "c.parquet")
    d = tmp_path / "store"
    assert importer.ingest(session, actor=admin, source=tmp_path / "c.parquet",
                           directory=d).stored == 2
    cases = engine.cases_table([(a, datetime(2022, 5, 1, tzinfo=UTC),
                                 datetime(2022, 5, 2, tzinfo=UTC))])
    rows = engine.colocate(d, cases, engine.Params(min_overlap_minutes=10, linger_minutes=0))
    assert rows.to_pylist() == [{"case_person_id": a, "contact_person_id": b,
                                 "venue_id": venues[1],
                                 "overlap_start": datetime(2022, 5, 1, 10, 20, tzinfo=UTC),
                                 "overlap_end": datetime(2022, 5, 1, 10, 30, tzinfo=UTC)}]


def test_venue_import_is_atomic_and_idempotent(session: Session, admin: Actor) -> None:
    head = "code,name,venue_type,division_code,latitude,longitude,capacity\n"
    good = head + "P1,Market 1,market,440802,21.2,110.4,300\nP2,Cafe,restaurant,440803,,,\n"
    kw = {"filename": "v.csv", "max_bytes": 10**6, "max_errors": 50}
    assert venues.import_venues(session, actor=admin, source=good.encode(), **kw) == {
        "rows": 2, "created": 2, "unchanged": 0}
    assert venues.import_venues(session, actor=admin, source=good.encode(), **kw)[
        "unchanged"] == 2
    bad = head + "P3,X,disco,440802,,,\nP1,Market 1,market,440802,99,110.4,300\nP4,Y,market,1,,,\n"
    with pytest.raises(Invalid) as caught:
        venues.import_venues(session, actor=admin, source=bad.encode(), **kw)
    assert {(p.line, p.field) for p in caught.value.problems} == {
        (2, "venue_type"), (3, "latitude"), (4, "division_code")}
    assert len(venues.list_venues(session, actor=admin)) == 2
