"""Bulk ingest of check-ins (场所码 scans) from CSV or Parquet into the check-in store.

Input columns: ``person_id, venue_code, t_in, t_out`` (ISO timestamps; UTC when no offset is
given; ``t_out`` may be empty: the venue type's default dwell applies). The whole file is checked
first, in DuckDB: unknown venues and persons, unreadable times, a time out not after the time in
and rows repeated in the file are reported with their line and field, and nothing is stored. A
good file adds one Parquet file per day it touches (see :mod:`fangkong.tracing.store`);
ingesting the same file again is a no-op, and rows already stored from another file are
skipped and counted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings
from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import joined
from fangkong.person import service as persons
from fangkong.tracing import store
from fangkong.tracing.enums import VenueType
from fangkong.tracing.messages import T
from fangkong.tracing.models import Venue
from fangkong.tracing.schemas import IngestReport

COLUMNS = ("person_id", "venue_code", "t_in", "t_out")


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _load(con: Any, path: Path) -> int:
    """The file as text columns with its line numbers (CSV: the header is line 1)."""
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".parquet":
        con.execute(f"CREATE TEMP TABLE raw AS SELECT row_number() OVER () AS line, * "
                    f"FROM read_parquet('{quoted}')")
    elif path.suffix.lower() in (".csv", ".txt"):
        con.execute(f"CREATE TEMP TABLE raw AS SELECT row_number() OVER () + 1 AS line, * "
                    f"FROM read_csv('{quoted}', all_varchar = true, header = true)")
    else:
        raise Invalid(T("csv_or_parquet", file=path.name))
    names = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE raw)").fetchall()]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise Invalid(T("missing_columns", file=path.name, columns=joined(missing)), problems=[
            Problem(T("expected_columns", columns=",".join(COLUMNS)), line=1,
                    file=path.name)])
    return int(con.execute("SELECT count(*) FROM raw").fetchall()[0][0])


def _venues(session: Session) -> pa.Table:
    rows = session.execute(select(Venue.code, Venue.id, Venue.venue_type)).all()
    return pa.table({"code": pa.array([r[0] for r in rows], pa.string()),
                     "id": pa.array([r[1] for r in rows], pa.int64()),
                     "dwell": pa.array([VenueType(r[2]).default_dwell_minutes for r in rows],
                                       pa.int64())})


def _known_persons(session: Session, ids: list[int]) -> pa.Table:
    return pa.table({"id": pa.array(persons.known_ids(session, ids), pa.int64())})


_PARSE = """
CREATE TEMP TABLE parsed AS
SELECT r.line,
       trim(CAST(r.person_id AS VARCHAR)) AS person_raw,
       trim(CAST(r.venue_code AS VARCHAR)) AS venue_raw,
       CAST(r.t_in AS VARCHAR) AS t_in_raw,
       nullif(trim(CAST(r.t_out AS VARCHAR)), '') AS t_out_raw,
       TRY_CAST(trim(CAST(r.person_id AS VARCHAR)) AS BIGINT) AS person_id,
       v.id AS venue_id, v.dwell,
       CAST(TRY_CAST(trim(CAST(r.t_in AS VARCHAR)) AS TIMESTAMPTZ) AS TIMESTAMP) AS t_in,
       CAST(TRY_CAST(nullif(trim(CAST(r.t_out AS VARCHAR)), '') AS TIMESTAMPTZ) AS TIMESTAMP)
         AS t_out_given
FROM raw AS r LEFT JOIN venues AS v ON v.code = trim(CAST(r.venue_code AS VARCHAR))
"""

_PROBLEMS = """
SELECT line, field, message FROM (
  SELECT line, 'person_id' AS field, 'expected a person id (a whole number), got '
         || coalesce('''' || person_raw || '''', 'nothing') AS message
  FROM parsed WHERE person_id IS NULL
  UNION ALL
  SELECT p.line, 'person_id', 'unknown person ' || p.person_raw
  FROM parsed AS p WHERE p.person_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM persons AS k WHERE k.id = p.person_id)
  UNION ALL
  SELECT line, 'venue_code', 'unknown venue ' || coalesce('''' || venue_raw || '''', '(empty)')
  FROM parsed WHERE venue_id IS NULL
  UNION ALL
  SELECT line, 't_in', 'expected an ISO timestamp, got ' || coalesce('''' || t_in_raw || '''',
         'nothing') FROM parsed WHERE t_in IS NULL
  UNION ALL
  SELECT line, 't_out', 'expected an ISO timestamp or nothing, got ''' || t_out_raw || ''''
  FROM parsed WHERE t_out_raw IS NOT NULL AND t_out_given IS NULL
  UNION ALL
  SELECT line, 't_out', 'must be after t_in (' || CAST(t_in AS VARCHAR) || ')'
  FROM parsed WHERE t_out_given IS NOT NULL AND t_in IS NOT NULL AND t_out_given <= t_in
  UNION ALL
  SELECT line, 'person_id', 'duplicate of line ' || CAST(first_line AS VARCHAR)
  FROM (SELECT line, min(line) OVER (PARTITION BY person_id, venue_id, t_in) AS first_line
        FROM parsed WHERE person_id IS NOT NULL AND venue_id IS NOT NULL AND t_in IS NOT NULL)
  WHERE line <> first_line
) ORDER BY line, field LIMIT {limit}
"""


def ingest(session: Session, *, actor: Actor, source: Path,
           directory: Path | None = None) -> IngestReport:
    """Check and store one file of check-ins (atomic: all rows or none)."""
    import duckdb

    actor.require(Perm.person_write)
    directory = directory or store.checkin_dir()
    if not source.is_file():
        raise Invalid(T("no_file", path=source))
    size = source.stat().st_size
    if size > get_settings().import_max_bytes:
        raise Invalid(T("too_big", file=source.name, size=size,
                        limit=get_settings().import_max_bytes))
    digest = _digest(source)
    batch = digest[:24]
    with store.locked(directory):
        if batch in store.read_manifest(directory)["batches"]:
            return IngestReport(file=source.name, sha256=digest, rows=0, stored=0,
                                already_stored=0, unchanged=True, days={})
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            rows = _load(con, source)
            con.register("venues", _venues(session))
            ids = [int(r[0]) for r in con.execute(
                "SELECT DISTINCT TRY_CAST(trim(CAST(person_id AS VARCHAR)) AS BIGINT) AS p "
                "FROM raw WHERE p IS NOT NULL").fetchall()]
            con.register("persons", _known_persons(session, ids))
            con.execute(_PARSE)
            found = con.execute(_PROBLEMS.format(
                limit=get_settings().import_max_errors)).fetchall()
            if found:
                raise Invalid(T("bad_rows_stored", file=source.name), problems=[
                    Problem(msg, field=field, line=int(line), file=source.name)
                    for line, field, msg in found])
            con.execute("CREATE TEMP TABLE good AS SELECT person_id, venue_id, t_in, "
                        "coalesce(t_out_given, t_in + to_minutes(dwell)) AS t_out FROM parsed")
            already = _drop_stored(con, directory)
            stored = int(con.execute("SELECT count(*) FROM good").fetchall()[0][0])
            days = store.append(directory, "good", batch=batch, con=con, meta={
                "file": source.name, "sha256": digest, "at": utc_now().isoformat(),
                "by": actor.username}) if stored else {}
            if not stored:
                manifest = store.read_manifest(directory)
                manifest["batches"][batch] = {"file": source.name, "sha256": digest,
                                              "rows": 0, "days": {}}
                store.write_manifest(directory, manifest)
        finally:
            con.close()
    audit.record(session, actor, action="import", record_type="checkin",
                 detail={"file": source.name, "sha256": digest, "rows": rows, "stored": stored,
                         "already_stored": already})
    return IngestReport(file=source.name, sha256=digest, rows=rows, stored=stored,
                        already_stored=already, unchanged=False, days=days)


def _drop_stored(con: Any, directory: Path) -> int:
    """Remove from ``good`` the rows the store already holds (from other files)."""
    days = [r[0].isoformat() for r in con.execute(
        "SELECT DISTINCT CAST(t_in AS DATE) FROM good").fetchall()]
    files = [f for d in days for f in sorted((directory / f"day={d}").glob("*.parquet"))]
    if not files:
        return 0
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    before = int(con.execute("SELECT count(*) FROM good").fetchall()[0][0])
    con.execute(f"DELETE FROM good AS g WHERE EXISTS (SELECT 1 FROM read_parquet([{listed}]) "
                f"AS s WHERE s.person_id = g.person_id AND s.venue_id = g.venue_id "
                f"AND CAST(s.t_in AS TIMESTAMP) = g.t_in AND CAST(s.t_out AS TIMESTAMP) = g.t_out)")
    return before - int(con.execute("SELECT count(*) FROM good").fetchall()[0][0])
