"""Bulk sample and result files as Arrow columns, checked column by column.

A file becomes one Arrow table of text columns and the line number of each row
(``core.frames``, the reader the person import shares). The checks of a line's own fields
then run per column: text trimmed and measured in Arrow, and the values a file repeats
(times, points, labs, result words, Ct values) looked at once per distinct value. Only lines
found bad are looked at one by one, to report each problem with its line and field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fangkong.core.errors import Problem
from fangkong.core.frames import PARQUET_MAGIC, Frame, read
from fangkong.core.messages import Text
from fangkong.testing.messages import T

__all__ = ["PARQUET_MAGIC", "Checks", "Frame", "read"]


# -- checks ----------------------------------------------------------------------------------

Message = Callable[[int], str | Text]


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
            self.add(blank, name, lambda _row: T("line.required"))
        self.add(pc.greater(length, limit), name,
                 lambda _row: T("line.too_long", limit=limit))
        return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)

    def distinct(self, name: str, kind: pa.DataType,
                 judge: Callable[[str], tuple[Any, str | Text | None]],
                 blank: str | Text | None = None) -> pa.Array:
        """The column's values through ``judge`` (value, problem or None), called once per
        distinct text; ``blank``: the problem of an empty cell (None: allowed, null)."""
        raw = self.frame.text(name)
        encoded = pc.dictionary_encode(raw)
        verdicts = [judge(text) for text in encoded.dictionary.to_pylist()]
        values = pa.array([v if m is None else None for v, m in verdicts], kind)
        wrong = pa.array([m is not None for _, m in verdicts], pa.bool_())
        indices = encoded.indices
        self.add(pc.take(wrong, indices), name,
                 lambda row: verdicts[indices[row].as_py()][1] or "")
        if blank is not None:
            self.add(pc.is_null(indices), name, lambda _row: blank)
        return pc.take(values, indices)
