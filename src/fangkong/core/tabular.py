"""Reading bulk files (CSV, XLSX) into numbered rows, with errors that say file, line and field;
and writing the CSV and XLSX files the platform hands out, with no cell a spreadsheet would run.

Reading is used by every bulk import; it checks size, encoding and header before any row is
looked at. Writing (:func:`csv_writer`, :func:`xlsx_append`) is used by every export a person
opens (the brief's XLSX, the not-yet-sampled list, the drill's metrics); the CSVs the drill and
the demo build in memory to feed the importers are not exports and are written plainly.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fangkong.core.errors import Invalid, Problem, TooLarge
from fangkong.core.messages import CORE, joined

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    filename: str
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]
    """(line number as a person sees it in the file, {column: value})"""
    sha256: str = ""
    """Hex SHA-256 of the file's bytes."""


def read_source(source: Path | bytes, *, filename: str | None, max_bytes: int) -> tuple[str, bytes]:
    if isinstance(source, Path):
        name = filename or source.name
        if not source.is_file():
            raise Invalid(CORE("no_file", file=name))
        size = source.stat().st_size
        if size > max_bytes:
            raise TooLarge(CORE("over_limit", file=name, size=f"{size:,}",
                                limit=f"{max_bytes:,}"))
        return name, source.read_bytes()
    name = filename or "upload"
    if len(source) > max_bytes:
        raise TooLarge(CORE("over_limit", file=name, size=f"{len(source):,}",
                            limit=f"{max_bytes:,}"))
    return name, source


def open_table(
    source: Path | bytes,
    *,
    expected: Sequence[str],
    required: Sequence[str],
    max_bytes: int,
    filename: str | None = None,
    encoding: str | None = None,
) -> Table:
    name, data = read_source(source, filename=filename, max_bytes=max_bytes)
    if not data.strip():
        raise Invalid(CORE("file_empty", file=name))
    if data.startswith(XLSX_MAGIC) or name.lower().endswith((".xlsx", ".xlsm")):
        header, rows = _xlsx(name, data)
    else:
        header, rows = _csv(name, data, encoding)
    columns = _check_header(name, header, expected, required)
    return Table(name, columns, _as_dicts(columns, rows), hashlib.sha256(data).hexdigest())


def _decode(name: str, data: bytes, encoding: str | None) -> str:
    try:
        return data.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError) as exc:
        if isinstance(exc, LookupError):
            raise Invalid(CORE("unknown_encoding", file=name, encoding=repr(encoding))) from None
        line = data[: exc.start].count(b"\n") + 1
        key = "bad_text"
        if encoding is None:
            try:
                data.decode("gb18030")
                key = "bad_text_gbk"
            except UnicodeDecodeError:
                pass
        raise Invalid(
            CORE(key, file=name, line=line, encoding=encoding or "UTF-8",
                 byte=f"{data[exc.start]:02x}"),
            problems=[Problem(CORE("not_text"), file=name, line=line)],
        ) from None


def _csv(name: str, data: bytes, encoding: str | None
         ) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    _decode(name, data, encoding)  # the whole file is valid text: fail before any row
    # Decoded again as the rows are read, so that the whole text is never held at once.
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding=encoding or "utf-8-sig",
                                         newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise Invalid(CORE("no_header", file=name)) from exc

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for record in reader:
                yield reader.line_num, record
        except csv.Error as exc:
            raise Invalid(CORE("bad_csv", file=name, line=reader.line_num, error=exc),
                          problems=[Problem(str(exc), file=name, line=reader.line_num)]) from None

    return header, rows()


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None if value is None else str(value)


def _xlsx(name: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise Invalid(CORE("bad_xlsx", file=name, error=exc.__class__.__name__)) from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    first = next(it, None)
    if first is None:
        raise Invalid(CORE("sheet_empty", file=name))
    header = ["" if c is None else str(c) for c in first]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for line, record in enumerate(it, start=2):
            yield line, [_cell(c) for c in record]
        book.close()

    return header, rows()


def _check_header(name: str, header: list[str], expected: Sequence[str],
                  required: Sequence[str]) -> list[str]:
    columns = [h.strip().lower() for h in header]
    problems = [Problem(CORE("unknown_column", column=repr(c), expected=joined(expected)),
                        file=name, line=1, field=c) for c in columns if c and c not in expected]
    problems += [Problem(CORE("column_missing"), file=name, line=1, field=c)
                 for c in required if c not in columns]
    dupes = {c for c in columns if c and columns.count(c) > 1}
    problems += [Problem(CORE("column_twice"), file=name, line=1, field=c) for c in dupes]
    if problems:
        raise Invalid(CORE("bad_header", file=name), problems=problems)
    return columns


def _as_dicts(columns: list[str], rows: Iterator[tuple[int, list[Any]]]
              ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Records → {column: cell}, skipping blank lines; a line with more (non-blank) cells than
    the header has columns is given as ``{"__extra__": number of cells}``.

    Cells are strings, None, or dates (``_cell``), so a cell is blank exactly when it is falsy.
    """
    width = len(columns)
    named = [(i, c) for i, c in enumerate(columns) if c]
    every_column_named = len(named) == width
    for line, record in rows:
        if not any(record):
            continue  # blank line
        cells = len(record)
        if cells > width and any(record[width:]):
            yield line, {"__extra__": cells}
        elif every_column_named and cells >= width:
            yield line, dict(zip(columns, record, strict=False))  # extra cells are blank
        else:
            yield line, {c: (record[i] if i < cells else None) for i, c in named}


class Collector:
    """Gathers the problems of a whole file so that one run reports them all (up to a limit)."""

    def __init__(self, filename: str, limit: int) -> None:
        self.filename, self.limit = filename, limit
        self.problems: list[Problem] = []
        self.total = 0
        self.bad_lines: set[int] = set()

    def add(self, line: int, problems: Sequence[Problem]) -> None:
        for p in problems:
            self.total += 1
            self.bad_lines.add(line)
            if len(self.problems) < self.limit:
                self.problems.append(Problem(p.text, field=p.field, line=line,
                                             file=self.filename))

    def rows(self, table: Table) -> Iterator[tuple[int, dict[str, Any]]]:
        """The table's rows, with lines that have cells beyond the header reported."""
        for line, row in table.rows:
            if "__extra__" in row:
                self.add(line, [Problem(CORE("extra_cells", cells=row["__extra__"],
                                             columns=len(table.columns)))])
                continue
            yield line, row

    def check(self) -> None:
        if self.total:
            raise Invalid(
                CORE("file_problems" if self.total <= self.limit else "file_problems_first",
                     file=self.filename, count=self.total, lines=len(self.bad_lines),
                     limit=self.limit),
                problems=self.problems,
            )


# --- writing ------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these is read as a formula by Excel, LibreOffice or Google
Sheets (OWASP, CSV injection)."""
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_like(value: object) -> bool:
    """Is ``value`` text that a spreadsheet would run as a formula? Numbers are not, and neither
    is text that is just a number (``-3``, ``+86``): a spreadsheet reads it as that number."""
    return (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            and _NUMBER.fullmatch(value) is None)


def neutralise(value: Any) -> Any:
    """A CSV cell that cannot run: formula-like text gets a leading single quote (OWASP's
    advice); every other value is unchanged."""
    return "'" + value if formula_like(value) else value


class _Writer(Protocol):
    def writerow(self, row: Iterable[Any], /) -> Any: ...


class SafeCsvWriter:
    """``csv.writer`` with every cell passed through :func:`neutralise`."""

    def __init__(self, handle: Any, **kwargs: Any) -> None:
        self._writer: _Writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(c) for c in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: Any, **kwargs: Any) -> SafeCsvWriter:
    """The writer for every CSV the platform hands out (file, stdout or HTTP response)."""
    return SafeCsvWriter(handle, **kwargs)


def xlsx_append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append a row to an XLSX sheet with formula-like text stored as text: the cell is typed
    as a string with Excel's quote prefix (what typing ``'=...`` in Excel stores), so it shows
    the text as given and never runs; numbers and dates stay numbers and dates."""
    cells = list(values)
    sheet.append(cells)
    # the row just appended (``max_row`` would scan every cell of the sheet at each row: a
    # 3,700-row export took 8 s)
    row = sheet._current_row
    for col, value in enumerate(cells, start=1):
        if formula_like(value):
            cell = sheet.cell(row, col)
            cell.data_type = "s"
            cell.quotePrefix = True
