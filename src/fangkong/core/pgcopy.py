"""Arrow columns as PostgreSQL's binary COPY format, built with numpy a batch at a time.

PostgreSQL parses binary COPY rows faster than CSV text (no number or time text to parse),
and building them from Arrow's buffers avoids formatting every value as text first (Arrow's
CSV writer took longer than the COPY itself for a million samples, most of it formatting
times). Each row is a field count (int16) and, per field, its length (int32, -1 for null)
and its bytes, big-endian; see PostgreSQL's COPY documentation, "Binary Format".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
_PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 00:00:00 UTC, PostgreSQL's epoch for times, in microseconds since 1970."""

KINDS = ("int4", "int8", "float8", "text", "timestamptz", "bool")
_WIDTH = {"int4": 4, "int8": 8, "float8": 8, "timestamptz": 8, "bool": 1}


def _fixed(arr: pa.Array, kind: str) -> np.ndarray:
    """The values as big-endian bytes, one row per line (nulls as zeros)."""
    if kind == "timestamptz":
        if not pa.types.is_timestamp(arr.type) or arr.type.unit != "us":
            raise TypeError(f"timestamptz needs Arrow timestamps in microseconds, not {arr.type}")
        values = pc.fill_null(arr.cast(pa.int64()), 0).to_numpy() - _PG_EPOCH_US
        dtype = ">i8"
    elif kind == "bool":
        values = pc.fill_null(arr, False).to_numpy(zero_copy_only=False)
        dtype = "u1"
    else:
        values = pc.fill_null(arr, 0).to_numpy(zero_copy_only=False)
        dtype = {"int4": ">i4", "int8": ">i8", "float8": ">f8"}[kind]
        if kind == "int4" and len(values) and (values.min() < -2**31 or values.max() >= 2**31):
            raise OverflowError("a value does not fit PostgreSQL's integer")
    return np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(len(arr), -1)


def _put(out: np.ndarray, at: np.ndarray, data: np.ndarray) -> None:
    """Each row's bytes (``data``, rows x width) at its position in ``out``."""
    if len(at):
        out[at[:, None] + np.arange(data.shape[1])] = data


def batch_bytes(columns: list[pa.Array | pa.ChunkedArray], kinds: list[str]) -> bytes:
    """The rows of equally long Arrow arrays, each field of a PostgreSQL type in ``KINDS``,
    without COPY's header and trailer."""
    columns = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
    n = len(columns[0]) if columns else 0
    sizes = np.full(n, 2, np.int64)
    prepared: list[tuple[str, np.ndarray, np.ndarray, Any]] = []
    for arr, kind in zip(columns, kinds, strict=True):
        if kind not in KINDS:
            raise ValueError(f"no binary COPY of {kind}")
        valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        if kind == "text":
            if pa.types.is_large_string(arr.type):
                arr = arr.cast(pa.string())
            offsets = np.frombuffer(arr.buffers()[1], np.int32, n + 1, arr.offset * 4)
            data = np.frombuffer(arr.buffers()[2] or b"", np.uint8)
            lengths = np.diff(offsets).astype(np.int64)
            width = np.where(valid, lengths, 0)
            prepared.append((kind, valid, width, (offsets[:-1].astype(np.int64), data)))
        else:
            width = np.where(valid, _WIDTH[kind], 0)
            prepared.append((kind, valid, width, _fixed(arr, kind)))
        sizes += 4 + width
    ends = np.cumsum(sizes)
    out = np.empty(int(ends[-1]) if n else 0, np.uint8)
    cursor = ends - sizes
    _put(out, cursor, np.full((n, 1), len(columns), ">i2").view(np.uint8).reshape(n, 2))
    cursor = cursor + 2
    for kind, valid, width, values in prepared:
        length = np.where(valid, width, -1).astype(">i4").view(np.uint8).reshape(n, 4)
        _put(out, cursor, length)
        cursor = cursor + 4
        if kind == "text":
            starts, data = values
            total = int(width.sum())
            if total:
                # byte j of row i goes to cursor[i] + (j - starts[i])
                shift = np.repeat(cursor - starts, width)
                source = np.repeat(starts, width) + (np.arange(total) - np.repeat(
                    np.cumsum(width) - width, width))
                out[source + shift] = data[source]
        else:
            _put(out, cursor[valid], values[valid])
        cursor = cursor + width
    return out.tobytes()


def chunks(table: pa.Table, kinds: list[str], rows: int) -> Iterator[bytes]:
    """A whole binary COPY stream of the table: header, batches of ``rows``, trailer."""
    yield HEADER
    for batch in table.to_batches(max_chunksize=rows):
        if batch.num_rows:
            yield batch_bytes(list(batch.columns), kinds)
    yield TRAILER
