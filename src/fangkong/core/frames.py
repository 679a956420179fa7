"""Tabular files as Arrow columns: one reader for the bulk imports that check per column.

A file (CSV, Parquet, or anything ``core.tabular`` reads) becomes one Arrow table of text
columns and the line number of each row. A plain UTF-8 CSV whose every physical line is one
row (the usual export) is parsed by Arrow's CSV reader (``plain_csv``); Parquet by Arrow's
Parquet reader (row *n* is line *n*; typed columns are read as their text: timestamps with an
offset keep it, those without one are read in the jurisdiction's time zone as a CSV time
without an offset is); anything else (XLSX, another encoding, quoted line breaks, blank or
short lines) goes through ``core.tabular`` row by row, which reports malformed lines exactly.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from fangkong.core.errors import Invalid
from fangkong.core.messages import CORE
from fangkong.core.tabular import XLSX_MAGIC, Collector, _check_header, open_table, read_source

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
    fast = plain_csv(name, data, expected=expected, required=required, encoding=encoding)
    if fast is not None:
        return Frame(name, digest, fast[0], fast[1], Collector(name, max_errors))
    return _rows(source, name, digest, expected, required, max_bytes, max_errors, encoding)


def plain_csv(name: str, data: bytes, *, expected: Sequence[str], required: Sequence[str],
              encoding: str | None, skip_blank_lines: bool = False
              ) -> tuple[list[str], pa.Table] | None:
    """A UTF-8 CSV file read by Arrow's CSV reader, when each physical line is one row: its
    named columns (header checked as ``core.tabular`` checks it) and a table of their text
    (``None`` for a blank cell) with each row's ``line``. None for anything else (XLSX,
    another encoding, malformed or irregular lines), which is to be read row by row.

    ``skip_blank_lines``: leave out the lines whose every cell is blank, as ``core.tabular``
    does (counting cells under a blank header too)."""
    if (encoding not in _UTF8 or data.startswith(XLSX_MAGIC)
            or name.lower().endswith((".xlsx", ".xlsm")) or not data.strip()):
        return None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    end = body.find(b"\n")
    try:
        header = next(csv.reader([body[:end if end >= 0 else len(body)].decode("utf-8")]))
    except (UnicodeDecodeError, StopIteration, csv.Error):
        return None
    columns = _check_header(name, header, expected, required)
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
    lines_of_rows = pa.array(range(2, table.num_rows + 2), pa.int64())
    if skip_blank_lines and table.num_rows:
        blank = pc.is_null(table.column(0))
        for column in table.columns[1:]:
            blank = pc.and_(blank, pc.is_null(column))
        if pc.any(blank).as_py():
            table = table.filter(pc.invert(blank))
            lines_of_rows = lines_of_rows.filter(pc.invert(blank))
    table = table.select(keep).append_column("line", lines_of_rows)
    return keep, table


def _parquet(name: str, data: bytes, expected: Sequence[str], required: Sequence[str]
             ) -> tuple[list[str], pa.Table]:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise Invalid(CORE("bad_parquet", file=name, error=exc)) from None
    header = list(table.column_names)
    columns = _check_header(name, header, expected, required)
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
