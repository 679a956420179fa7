"""Bulk sample and result files as Arrow columns, checked column by column.

A file (CSV, Parquet, or anything ``core.tabular`` reads) becomes one Arrow table of text
columns and the line number of each row. A plain UTF-8 CSV whose every physical line is one
row (the usual export) is parsed by Arrow's CSV reader; Parquet by Arrow's Parquet reader
(row *n* is line *n*; typed columns are read as their text: timestamps with an offset keep it,
those without one are read in the jurisdiction's time zone as a CSV time without an offset
is); anything else (XLSX, another encoding, quoted line breaks, blank or short lines) goes
through ``core.tabular`` row by row, which reports malformed lines exactly.

The checks of a line's own fields then run per column: text trimmed and measured in Arrow,
and the values a file repeats (times, points, labs, result words, Ct values) looked at once
per distinct value. Only lines found bad are looked at one by one, to report each problem
with its line and field.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fangkong.core.errors import Invalid, Problem
from fangkong.core.tabular import XLSX_MAGIC, Collector, open_table, read_source
from fangkong.core.tabular import _check_header as check_header

PARQUET_MAGIC = b"PAR1"
_UTF8 = {None, "utf-8", "utf8", "utf-8-sig", "utf_8"}


@dataclass
class Frame:
    """A file's rows as text columns (``None`` for a blank cell) and their line numbers."""

    filename: str
    sha256: str
    columns: list[str]
    table: pa.Table
    collector: Collector

    def __len__(self) -> int:
        return self.table.num_rows

    def text(self, name: str) -> pa.Array:
        if name in self.table.column_names:
            return self.table.column(name).combine_chunks()
        return pa.nulls(self.table.num_rows, pa.string())


def read(source: Path | bytes, *, expected: Sequence[str], required: Sequence[str],
         max_bytes: int, max_errors: int, filename: str | None = None,
         encoding: str | None = None) -> Frame:
    name, data = read_source(source, filename=filename, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if data[:4] == PARQUET_MAGIC or name.lower().endswith(".parquet"):
        columns, table = _parquet(name, data, expected, required)
        return Frame(name, digest, columns, table, Collector(name, max_errors))
    if (encoding in _UTF8 and not data.startswith(XLSX_MAGIC)
            and not name.lower().endswith((".xlsx", ".xlsm")) and data.strip()):
        fast = _csv(name, data, expected, required)
        if fast is not None:
            return Frame(name, digest, fast[0], fast[1], Collector(name, max_errors))
    return _rows(source, name, digest, expected, required, max_bytes, max_errors, encoding)


def _csv(name: str, data: bytes, expected: Sequence[str], required: Sequence[str]
         ) -> tuple[list[str], pa.Table] | None:
    """Arrow's CSV reader, when each physical line is one row; None to read row by row."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    end = body.find(b"\n")
    try:
        header = next(csv.reader([body[:end if end >= 0 else len(body)].decode("utf-8")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    columns = check_header(name, header, expected, required)
    names = [c or f"__blank{i}" for i, c in enumerate(columns)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(body),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
        return None
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if lines != table.num_rows + 1:
        return None  # blank lines or line breaks inside values: the numbers would drift
    keep = [c for c in columns if c]
    table = table.select(keep).append_column(
        "line", pa.array(range(2, table.num_rows + 2), pa.int64()))
    return keep, table


def _parquet(name: str, data: bytes, expected: Sequence[str], required: Sequence[str]
             ) -> tuple[list[str], pa.Table]:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise Invalid(f"{name}: not a readable Parquet file ({exc})") from None
    header = list(table.column_names)
    columns = check_header(name, header, expected, required)
    out: dict[str, pa.Array] = {}
    for raw, col in zip(header, columns, strict=True):
        if col:
            out[col] = _as_text(table.column(raw).combine_chunks())
    out["line"] = pa.array(range(1, table.num_rows + 1), pa.int64())
    return [c for c in columns if c], pa.table(out)


def _as_text(arr: pa.Array) -> pa.Array:
    kind = arr.type
    if pa.types.is_timestamp(kind):
        fmt = "%Y-%m-%dT%H:%M:%S%z" if kind.tz else "%Y-%m-%dT%H:%M:%S"
        return pc.strftime(arr, fmt)
    if pa.types.is_dictionary(kind):
        return _as_text(arr.dictionary_decode())
    if pa.types.is_string(kind):
        return arr
    if pa.types.is_large_string(kind):
        return arr.cast(pa.string())
    return arr.cast(pa.string())


def _rows(source: Path | bytes, name: str, digest: str, expected: Sequence[str],
          required: Sequence[str], max_bytes: int, max_errors: int,
          encoding: str | None) -> Frame:
    """Row by row through core.tabular (XLSX, other encodings, irregular CSV)."""
    table = open_table(source, expected=expected, required=required, max_bytes=max_bytes,
                       filename=name, encoding=encoding)
    collector = Collector(table.filename, max_errors)
    columns = [c for c in table.columns if c]
    cells: dict[str, list[str | None]] = {c: [] for c in columns}
    lines: list[int] = []
    for line, raw in collector.rows(table):
        lines.append(line)
        for c in columns:
            cells[c].append(_cell_text(raw.get(c)))
    out = {c: pa.array(v, pa.string()) for c, v in cells.items()}
    out["line"] = pa.array(lines, pa.int64())
    return Frame(table.filename, digest or table.sha256, columns, pa.table(out), collector)


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


# -- checks ----------------------------------------------------------------------------------

Message = Callable[[int], str]


@dataclass
class Checks:
    """The problems of a frame's lines, gathered per column as boolean masks."""

    frame: Frame
    found: list[tuple[pa.Array, str, Message]] = field(default_factory=list)

    def add(self, mask: pa.Array, field_: str, message: Message) -> None:
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.found.append((mask, field_, message))

    def report(self) -> None:
        """Every bad line's problems, in line order and field order, to the collector."""
        if not self.found:
            return
        bad = self.found[0][0]
        for mask, _, _ in self.found[1:]:
            bad = pc.or_(bad, mask)
        rows = pc.indices_nonzero(bad).to_pylist()
        masks = [(m.to_pylist(), f, msg) for m, f, msg in self.found]
        lines = self.frame.table.column("line")
        for row in rows:
            problems = [Problem(msg(row), field=f) for m, f, msg in masks if m[row]]
            self.frame.collector.add(lines[row].as_py(), problems)

    def text(self, name: str, limit: int, required: bool = True) -> pa.Array:
        """The column trimmed; blank cells null; 'is required' and length checked."""
        trimmed = pc.utf8_trim_whitespace(self.frame.text(name))
        length = pc.utf8_length(trimmed)
        blank = pc.fill_null(pc.equal(length, 0), True)
        if required:
            self.add(blank, name, lambda _row: "is required")
        self.add(pc.greater(length, limit), name,
                 lambda _row: f"is longer than {limit} characters")
        return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)

    def distinct(self, name: str, kind: pa.DataType,
                 judge: Callable[[str], tuple[Any, str | None]],
                 blank: str | None = None) -> pa.Array:
        """The column's values through ``judge`` (value, problem or None), called once per
        distinct text; ``blank``: the problem of an empty cell (None: allowed, null)."""
        raw = self.frame.text(name)
        encoded = pc.dictionary_encode(raw)
        verdicts = [judge(text) for text in encoded.dictionary.to_pylist()]
        values = pa.array([v if m is None else None for v, m in verdicts], kind)
        wrong = pa.array([m is not None for _, m in verdicts], pa.bool_())
        indices = encoded.indices
        self.add(pc.take(wrong, indices), name,
                 lambda row: str(verdicts[indices[row].as_py()][1]))
        if blank is not None:
            self.add(pc.is_null(indices), name, lambda _row: blank)
        return pc.take(values, indices)
