"""Arrow tables as PostgreSQL's binary COPY stream (``COPY ... FROM STDIN (FORMAT binary)``).

PostgreSQL parses binary COPY rows faster than text (no numbers, times, dates or hex bytes
to parse: about 2 s of a million persons' COPY), and the rows need not be formatted as text
first (Arrow's CSV writer took longer than the COPY itself for a million samples, most of it
formatting times). The encoding is pgpq's (Arrow → PostgreSQL binary format, written in
Rust): here the columns are only given the Arrow type of their PostgreSQL column (``typed``),
since a binary row carries no type and PostgreSQL reads each field as its column's type.
Bulk imports of persons (``person.staging``) and of testing samples and results use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
from pgpq import ArrowToPostgresBinaryEncoder

_ARROW = {
    "int4": pa.int32(), "int8": pa.int64(), "float8": pa.float64(), "text": pa.string(),
    "timestamptz": pa.timestamp("us", tz="UTC"), "bool": pa.bool_(), "bytea": pa.binary(),
    "date": pa.date32(),
}
KINDS = tuple(_ARROW)
"""The PostgreSQL types a column may be written as (``typed``)."""


def typed(table: pa.Table, kinds: Sequence[str] | None) -> pa.Table:
    """The table with each column cast to the Arrow type of its PostgreSQL type (``kinds``,
    in ``KINDS``; None: the columns' types are already those). A value that does not fit
    (an integer beyond int4) raises OverflowError."""
    if kinds is None:
        return table
    columns = []
    for column, kind in zip(table.columns, kinds, strict=True):
        if kind not in _ARROW:
            raise ValueError(f"no binary COPY of {kind}")
        try:
            columns.append(column.cast(_ARROW[kind]))
        except pa.ArrowInvalid as exc:
            raise OverflowError(f"a value does not fit PostgreSQL's {kind}: {exc}") from None
    return pa.table(columns, names=table.column_names)


HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
"""The stream's signature, flags and header extension length."""
TRAILER = b"\xff\xff"


def _rows(schema: pa.Schema, batch: pa.RecordBatch) -> bytes:
    """A batch's rows, without the stream's header and trailer. (pgpq's encoder keeps the
    rows it is given until ``finish``; one encoder per batch, so that a stream of many
    batches is sent as it is made.)"""
    encoder = ArrowToPostgresBinaryEncoder(schema)
    encoder.write_header()
    body = encoder.write_batch(batch) + encoder.finish()
    if not body.endswith(TRAILER):
        raise ValueError("pgpq's stream does not end with COPY's trailer")
    return body[: -len(TRAILER)]


def chunks(table: pa.Table, kinds: Sequence[str] | None = None,
           rows: int = 200_000) -> Iterator[bytes]:
    """The whole binary COPY stream of the table (its columns in order): header, batches of
    at most ``rows`` rows, trailer."""
    table = typed(table, kinds)
    yield HEADER
    for batch in table.to_batches(max_chunksize=rows):
        if batch.num_rows:
            yield _rows(table.schema, batch)
    yield TRAILER


def encode(table: pa.Table, kinds: Sequence[str] | None = None) -> bytes:
    """``chunks`` as one bytes object."""
    return b"".join(chunks(table, kinds, rows=max(table.num_rows, 1)))
