"""Reading the analytics' input files (CSV or XLSX), with errors naming file, line and field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid, Problem
from fangkong.core.tabular import open_table

MAX_BYTES = 64 * 1024 * 1024


@dataclass
class Series:
    t: list[int]
    values: dict[str, list[float]]
    dates: list[date] | None


def _number(raw: Any, *, name: str, line: int, column: str, integer: bool,
            problems: list[Problem]) -> float:
    text = "" if raw is None else str(raw).strip()
    if not text:
        problems.append(Problem(A("value_missing"), file=name, line=line, field=column))
        return math.nan
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(A("not_number", value=repr(text)), file=name, line=line,
                                field=column))
        return math.nan
    if not math.isfinite(value) or value < 0:
        problems.append(Problem(A("number_positive"), file=name, line=line, field=column))
    elif integer and not value.is_integer():
        problems.append(Problem(A("not_whole", value=repr(text)), file=name, line=line,
                                field=column))
    return value


def _date(raw: Any, *, name: str, line: int, column: str, problems: list[Problem]) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        problems.append(Problem(A("not_date", value=repr(raw)), file=name, line=line,
                                field=column))
        return None


def read_columns(path: Path, *, expected: list[str], required: list[str],
                 integer: set[str], date_column: str | None = None) -> Series:
    """Rows with a 1-based, consecutive ``t`` and numeric columns."""
    table = open_table(path, expected=expected, required=required, max_bytes=MAX_BYTES)
    name = table.filename
    problems: list[Problem] = []
    t: list[int] = []
    numeric = [c for c in table.columns if c and c not in ("t", date_column)]
    values: dict[str, list[float]] = {c: [] for c in numeric}
    dates: list[date | None] = []
    for line, row in table.rows:
        if "__extra__" in row:
            problems.append(Problem(A("extra_cells"), file=name,
                                    line=line))
            continue
        tv = _number(row.get("t"), name=name, line=line, column="t", integer=True,
                     problems=problems)
        if not math.isnan(tv) and int(tv) != len(t) + 1:
            problems.append(Problem(A("t_gaps", expected=len(t) + 1),
                                    file=name, line=line, field="t"))
        t.append(len(t) + 1)
        for c in numeric:
            values[c].append(_number(row.get(c), name=name, line=line, column=c,
                                     integer=c in integer, problems=problems))
        if date_column and date_column in table.columns:
            dates.append(_date(row.get(date_column), name=name, line=line, column=date_column,
                               problems=problems))
    if not t:
        problems.append(Problem(A("no_rows"), file=name))
    if problems:
        raise Invalid(A("file_problems", file=name, count=len(problems)), problems=problems)
    return Series(t, values, [d for d in dates if d is not None] if dates else None)


def read_incidence(path: Path) -> tuple[list[float], list[float] | None]:
    """``t,local[,imported]`` or ``t,I`` → (local or total, imported or None)."""
    s = read_columns(path, expected=["t", "local", "imported", "i", "date"], required=["t"],
                     integer={"local", "imported", "i"}, date_column="date")
    cols = set(s.values)
    if "i" in cols and cols & {"local", "imported"}:
        raise Invalid(A("i_or_local", file=path.name))
    if "i" in cols:
        return s.values["i"], None
    if "local" not in cols:
        raise Invalid(A("needs_i_or_local", file=path.name),
                      problems=[Problem(A("column_missing"), file=path.name, line=1,
                                        field="local")])
    return s.values["local"], s.values.get("imported")


def read_si_distr(path: Path) -> list[float]:
    """``k,p`` with k = 0, 1, 2, … (the probability of a serial interval of k days)."""
    table = open_table(path, expected=["k", "p"], required=["k", "p"], max_bytes=MAX_BYTES)
    problems: list[Problem] = []
    out: list[float] = []
    for line, row in table.rows:
        k = _number(row.get("k"), name=table.filename, line=line, column="k", integer=True,
                    problems=problems)
        if not math.isnan(k) and int(k) != len(out):
            problems.append(Problem(A("k_run", expected=len(out)),
                                    file=table.filename, line=line, field="k"))
        out.append(_number(row.get("p"), name=table.filename, line=line, column="p",
                           integer=False, problems=problems))
    if problems:
        raise Invalid(A("file_problems", file=table.filename, count=len(problems)),
                      problems=problems)
    return out


def read_si_sample(path: Path) -> list[list[float]]:
    """``sample,k,p``: several discrete serial intervals, each ``sample`` (1, 2, …, in order)
    with its k = 0, 1, 2, …; samples shorter than the longest are padded with zeros."""
    table = open_table(path, expected=["sample", "k", "p"], required=["sample", "k", "p"],
                       max_bytes=MAX_BYTES)
    problems: list[Problem] = []
    out: list[list[float]] = []
    name = table.filename
    for line, row in table.rows:
        sample = _number(row.get("sample"), name=name, line=line, column="sample", integer=True,
                         problems=problems)
        k = _number(row.get("k"), name=name, line=line, column="k", integer=True,
                    problems=problems)
        p = _number(row.get("p"), name=name, line=line, column="p", integer=False,
                    problems=problems)
        if math.isnan(sample) or math.isnan(k):
            continue
        if int(sample) == len(out) + 1:
            out.append([])
        elif int(sample) != len(out) or not out:
            problems.append(Problem(A("samples_order", previous=len(out), next=len(out) + 1),
                                    file=name, line=line, field="sample"))
            continue
        if int(k) != len(out[-1]):
            problems.append(Problem(A("k_run_sample", expected=len(out[-1])), file=name,
                                    line=line, field="k"))
        out[-1].append(p)
    if not out and not problems:
        problems.append(Problem(A("no_rows"), file=name))
    if problems:
        raise Invalid(A("file_problems", file=name, count=len(problems)), problems=problems)
    width = max(len(d) for d in out)
    return [d + [0.0] * (width - len(d)) for d in out]


def read_series(path: Path) -> tuple[list[float], list[date] | None]:
    """``t,count[,week_start]`` → (counts, period start dates or None)."""
    s = read_columns(path, expected=["t", "count", "week_start"], required=["t", "count"],
                     integer={"count"}, date_column="week_start")
    return s.values["count"], s.dates
