"""Bulk import of persons from CSV or XLSX: all lines checked, then one atomic upsert.

A plain UTF-8 CSV file is read into Arrow columns (``core.frames``, the reader the testing
imports use too) and its lines are checked per column, a chunk at a time, with
``records.normalise_columns``; any other file (XLSX, another encoding, irregular lines) is read
row by row (``core.tabular``) and checked line by line with ``records.normalise``. Both are the
API's own checks, with the same messages by line and field. Valid rows become
columns with ``records.bulk_columns`` (encryption, keyed hashes, masks: ``to_columns`` for many
rows), a chunk of rows at a time; on PostgreSQL, an Arrow table that is sent with a binary COPY
(``staging``). There, while no chunk has met a record already in the
database, a chunk is COPYed straight into the person table (in a savepoint: its unique indexes
find any conflict, and then the chunk is rolled back and goes the next way). Otherwise a chunk
goes into a temporary staging table (COPY on PostgreSQL, executemany on SQLite); there SQL joins
find its conflicts with the records already in the database, and it is merged with ``INSERT ...
SELECT ... ON CONFLICT (ref) DO UPDATE ... WHERE row_hash changed`` (a plain INSERT when none of
its refs is recorded yet). A worker thread does a chunk's work in the database while the next
chunk's lines are checked here; where the settings ask for it (``import_second_process``, for
machines with more than two cores), a large chunk's columns (encryption, hashes) are made
meanwhile in a second process (``staging``). The file is never held in memory as Python
objects.

It is all one batch: everything runs in a savepoint of the caller's transaction, and unless every
line of the file is valid and no row conflicts, the savepoint is rolled back and the problems
(file, line, field) are raised; what is reported is what checking the whole file against the
database as it was before the import finds (see ``merge.Batch``). Importing the same file again
changes nothing.

This module reads and checks the file's lines; :mod:`fangkong.person.merge` writes them.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from itertools import repeat
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from fangkong.core import audit, frames
from fangkong.core.auth import Actor, Perm
from fangkong.core.config import get_settings
from fangkong.core.errors import Problem
from fangkong.core.tabular import Collector, open_table, read_source
from fangkong.person import records
from fangkong.person.merge import CHUNK, Batch, Clock
from fangkong.person.messages import PM
from fangkong.person.schemas import ImportReport

COLUMNS = [c for c in records.FIELDS]
FIRST_CHUNK = 10_000
"""Rows of the first chunk: fewer, so that the database starts on them sooner (it then works
on a chunk while the next one is checked here)."""

__all__ = ["CHUNK", "COLUMNS", "FIRST_CHUNK", "import_file", "write"]


def import_file(
    session: Session,
    *,
    actor: Actor,
    source: Path | bytes,
    filename: str | None = None,
    encoding: str | None = None,
    progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> ImportReport:
    """Check every line of the file, then write all of it or, if anything is wrong, nothing.

    ``progress`` is called with 50,000 every 50,000 lines read; ``timings``, if given, gets
    the seconds spent per phase.
    """
    actor.require(Perm.person_write)
    settings = get_settings()
    clock = Clock(timings)
    t0 = time.perf_counter()
    name, data = read_source(source, filename=filename, max_bytes=settings.import_max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    today = date.today()
    plain = frames.plain_csv(name, data, expected=COLUMNS, required=records.REQUIRED,
                             encoding=encoding, skip_blank_lines=True)
    collector = Collector(name, settings.import_max_errors)
    lines: Iterable[tuple[int, dict[str, Any], Sequence[Problem]]]
    if plain is not None:
        lines = _checked_columns(*plain, today)
    else:
        table = open_table(data, expected=COLUMNS, required=records.REQUIRED,
                           max_bytes=settings.import_max_bytes, filename=name,
                           encoding=encoding)
        lines = ((line, *records.normalise(raw, today=today))
                 for line, raw in collector.rows(table))
    del data
    clock.add("parse+validate", t0)
    with Batch(session, actor, collector, clock) as batch, _gc_paused():
        rows = _check_lines(actor, collector, lines, progress, batch, clock)
        report = batch.finish(name, rows)
    _audit(session, actor, report, sha256)
    return report


def _checked_columns(columns: list[str], table: pa.Table, today: date
                     ) -> Iterator[tuple[int, dict[str, Any], Sequence[Problem]]]:
    """A file's lines read by Arrow, checked per column a chunk at a time
    (``records.normalise_columns``): each line's number, values and own problems."""
    start = 0
    while start < table.num_rows:
        size = min(FIRST_CHUNK, CHUNK) if start == 0 else CHUNK
        part = table.slice(start, size)
        start += size
        values, problems = records.normalise_columns(
            {c: part.column(c).combine_chunks() for c in columns}, today)
        lines = part.column("line").to_pylist()
        if not problems:
            yield from zip(lines, values, repeat(()))
            continue
        for i, (line, row) in enumerate(zip(lines, values, strict=True)):
            yield line, row, problems.get(i, ())


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while lines are checked and staged: that makes
    millions of short-lived dicts and lists, none in reference cycles, and the collector's
    passes over them cost a sixth of the time. Reference counting still frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_lines(actor: Actor, collector: Collector,
                 lines: Iterable[tuple[int, dict[str, Any], Sequence[Problem]]],
                 progress: Callable[[int], None] | None, batch: Batch, clock: Clock) -> int:
    """Check the lines across the file (refs and ID numbers that repeat, jurisdiction); hand
    valid rows to ``batch`` a chunk at a time. Returns their number.

    Each line comes with its values and its own problems (``records.normalise``); all its
    problems go to ``collector`` as the line is read.
    """
    refs: dict[str, int] = {}
    numbers: dict[str, int] = {}
    chunk: list[tuple[int, dict[str, Any]]] = []
    size = min(FIRST_CHUNK, CHUNK)
    everywhere = actor.national
    valid = 0
    t = time.perf_counter()
    for n, (line, values, problems) in enumerate(lines, start=1):
        ref, number = values.get("ref"), values.get("id_number")
        if ref in refs:
            problems = [*problems, Problem(PM("ref_again", ref=ref, line=refs[ref]),
                                           field="ref")]
        elif ref:
            refs[ref] = line
        if number in numbers:
            problems = [*problems, Problem(PM("same_id", line=numbers[number]),
                                           field="id_number")]
        elif number:
            numbers[number] = line
        code = values.get("division_code")
        if code and not everywhere and not actor.covers(code):
            problems = [*problems, Problem(PM("outside", code=code),
                                           field="division_code")]
        if problems:
            collector.add(line, problems)
        else:
            valid += 1
            chunk.append((line, values))
            if len(chunk) == size:
                clock.add("parse+validate", t)
                batch.add(chunk)
                chunk, size = [], CHUNK
                t = time.perf_counter()
        if progress and n % 50_000 == 0:
            progress(50_000)
    clock.add("parse+validate", t)
    batch.add(chunk)
    return valid


def write(
    session: Session,
    *,
    actor: Actor,
    rows: list[tuple[int, dict[str, Any]]],
    filename: str,
    collector: Collector | None = None,
    file_sha256: str | None = None,
) -> ImportReport:
    """Write checked rows as one batch. Raises (and writes nothing) on any conflict."""
    collector = collector or Collector(filename, get_settings().import_max_errors)
    with Batch(session, actor, collector, Clock(None), check_divisions=False) as batch:
        for start in range(0, len(rows), CHUNK):
            batch.add(rows[start : start + CHUNK])
        report = batch.finish(filename, len(rows))
    _audit(session, actor, report, file_sha256)
    return report


def _audit(session: Session, actor: Actor, report: ImportReport, sha256: str | None) -> None:
    audit.record(session, actor, action="import", record_type="person",
                 fields=list(records.FIELDS), detail={**report.model_dump(), "sha256": sha256})
