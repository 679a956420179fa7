"""The co-presence (时空伴随) engine: the SQL in ``sql/`` (DuckDB's dialect) run by DuckDB, or
transpiled by sqlglot and run by Apache Spark.

The semantics live in the SQL files only; this module binds their inputs (``stays``, ``cases``)
and, for DuckDB, reads little: files whose time range misses every case window are skipped, and
of the rest only the Parquet row groups whose venue and time ranges can hold an overlapping
stay are read (the store sorts each day by venue and entry time, see :mod:`store`). Skipping is
conservative (by row-group statistics), so both engines see every stay that can match; the
contract test checks that they return identical rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.core.messages import joined
from fangkong.tracing import index, store
from fangkong.tracing.messages import T

Engine = Literal["duckdb", "spark"]
SQL_FILES = ("case_stays", "max_dwell", "colocate")

OUT_SCHEMA = pa.schema([
    ("case_person_id", pa.int64()),
    ("contact_person_id", pa.int64()),
    ("venue_id", pa.int64()),
    ("overlap_start", pa.timestamp("us", tz="UTC")),
    ("overlap_end", pa.timestamp("us", tz="UTC")),
])
CASES_SCHEMA = pa.schema([
    ("person_id", pa.int64()),
    ("window_start", pa.timestamp("us", tz="UTC")),
    ("window_end", pa.timestamp("us", tz="UTC")),
])
# Above this share of the rows, reading chosen row groups costs more than a plain scan.
_PRUNE_MAX_SHARE = 0.5


@dataclass(frozen=True)
class Params:
    min_overlap_minutes: int
    linger_minutes: int

    def __post_init__(self) -> None:
        for name in ("min_overlap_minutes", "linger_minutes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1440:
                raise ValueError(f"{name} must be a whole number of minutes from 0 to 1440")


def sql(name: str, *, dialect: str = "duckdb", **params: int) -> str:
    """The text of query ``name`` with its integer parameters filled in, in ``dialect``."""
    text = resources.files("fangkong.tracing").joinpath(f"sql/{name}.sql").read_text("utf-8")
    if any(not isinstance(v, int) or isinstance(v, bool) for v in params.values()):
        raise TypeError("query parameters are whole numbers")
    text = text.format(**params)
    if dialect == "duckdb":
        return text
    import sqlglot

    return str(sqlglot.transpile(text, read="duckdb", write=dialect)[0])


def cases_table(rows: list[tuple[int, datetime, datetime]]) -> pa.Table:
    """Cases as an Arrow table (person_id, window_start, window_end), times in UTC."""
    ids, starts, ends = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.table([pa.array(ids, pa.int64()),
                     pa.array([s.astimezone(UTC) for s in starts], CASES_SCHEMA[1].type),
                     pa.array([e.astimezone(UTC) for e in ends], CASES_SCHEMA[2].type)],
                    schema=CASES_SCHEMA)


def colocate(checkins: Path, cases: pa.Table, params: Params, *,
             engine: Engine = "duckdb") -> pa.Table:
    """Every overlapping pair of stays, sorted, in :data:`OUT_SCHEMA`."""
    files = store.parquet_files(checkins)
    if engine == "spark":
        return run_spark(files, cases, params)
    return run_duckdb(files, cases, params, max_dwell=store.max_dwell_seconds(checkins))


# --- DuckDB ---------------------------------------------------------------------------------

def _connect() -> Any:
    import duckdb

    from fangkong.core.config import get_settings

    threads = get_settings().duckdb_threads or os.cpu_count() or 1
    con = duckdb.connect(config={"threads": threads})
    con.execute("SET TimeZone = 'UTC'")
    return con


_STAYS_COLUMNS = ("CAST(person_id AS BIGINT) AS person_id, CAST(venue_id AS BIGINT) AS venue_id, "
                  "CAST(t_in AS TIMESTAMP) AS t_in, CAST(t_out AS TIMESTAMP) AS t_out")


def _bind_stays(con: Any, name: str, relation: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {_STAYS_COLUMNS} FROM {relation}")


def _file_list(files: list[Path]) -> str:
    return "read_parquet([" + ", ".join("'" + str(f).replace("'", "''") + "'"
                                         for f in files) + "])"


def run_duckdb(files: list[Path], cases: pa.Table, params: Params, *,
               max_dwell: int | None = None) -> pa.Table:
    con = _connect()
    try:
        return _run_duckdb(con, files, cases, params, max_dwell)
    finally:
        con.close()


def _run_duckdb(con: Any, files: list[Path], cases: pa.Table, params: Params,
                max_dwell: int | None) -> pa.Table:
    if cases.num_rows == 0 or not files:
        return OUT_SCHEMA.empty_table()
    con.register("cases_in", cases)
    con.execute("CREATE TEMP VIEW cases AS SELECT CAST(person_id AS BIGINT) AS person_id, "
                "CAST(window_start AS TIMESTAMP) AS window_start, "
                "CAST(window_end AS TIMESTAMP) AS window_end FROM cases_in")
    linger = params.linger_minutes * 60_000_000
    lo = pc.min(cases.column("window_start").cast(pa.int64())).as_py() - linger
    hi = pc.max(cases.column("window_end").cast(pa.int64())).as_py()
    if max_dwell is not None:
        with index.Reader() as reader:
            days = reader.open_days(files)
            if days is not None:
                return normalize(_run_indexed(con, reader, days, cases, params, max_dwell,
                                              lo, hi))
    stats = store.row_group_stats(files)
    # Files whose stays all end before the first window opens or start after the last closes
    # cannot hold a case stay.
    in_range = sorted({int(f) for f, _rg, _n, _vmin, _vmax, t0, t1 in stats.rows
                       if t0 < hi and t1 > lo})
    if not in_range:
        return OUT_SCHEMA.empty_table()
    return normalize(_run_parquet(con, files, stats, in_range, params, max_dwell))


def _run_indexed(con: Any, reader: index.Reader, days: list[index.Day], cases: pa.Table,
                 params: Params, max_dwell: int, lo: int, hi: int) -> pa.Table:
    """With the store's sidecar indexes: the case persons' stays (their buckets on the
    person side), then the stays at the case stays' venues that can overlap them (their
    buckets and hours on the venue side); the SQL then runs on those rows only."""
    ids = np.unique(cases.column("person_id").to_numpy())
    con.register("stays_of_cases", reader.stays_of_persons(days, ids, lo, hi))
    _bind_stays(con, "stays", "stays_of_cases")
    con.execute("CREATE TEMP TABLE case_stays AS "
                + sql("case_stays", linger_minutes=params.linger_minutes))
    got = con.execute("SELECT venue_id, epoch_us(cs_start) AS a, epoch_us(cs_end) AS b "
                      "FROM case_stays").fetchnumpy()
    near = reader.stays_near(days, np.asarray(got["venue_id"], np.int64),
                             np.asarray(got["a"], np.int64), np.asarray(got["b"], np.int64))
    con.register("stays_near", near)
    _bind_stays(con, "stays", "stays_near")
    return con.sql(sql("colocate", min_overlap_minutes=params.min_overlap_minutes,
                       max_dwell_seconds=max_dwell)).to_arrow_table()


def _run_parquet(con: Any, files: list[Path], stats: store.RowGroupStats, in_range: list[int],
                 params: Params, max_dwell: int | None) -> pa.Table:
    """Without sidecars: read the case persons' stays from the Parquet files, then only the
    row groups whose venue and time ranges can hold an overlapping stay."""
    _bind_stays(con, "stays", _file_list([files[i] for i in in_range]))
    con.execute("CREATE TEMP TABLE case_stays AS "
                + sql("case_stays", linger_minutes=params.linger_minutes))
    if max_dwell is None:
        max_dwell = int(con.execute(sql("max_dwell")).fetchall()[0][0])
    chosen = _chosen_row_groups(con, stats)
    wanted = set(in_range)
    total = sum(n for f, _rg, n, *_ in stats.rows if f in wanted)
    if chosen is not None and chosen.num_rows <= _PRUNE_MAX_SHARE * total:
        con.register("stays_chosen", chosen)
        _bind_stays(con, "stays", "stays_chosen")
    return con.sql(sql("colocate", min_overlap_minutes=params.min_overlap_minutes,
                       max_dwell_seconds=max_dwell)).to_arrow_table()


def _chosen_row_groups(con: Any, stats: store.RowGroupStats) -> pa.Table | None:
    """The stays of the row groups that can hold a stay overlapping a case stay."""
    con.register("rg_stats", stats.table())
    picked = con.execute(
        "SELECT DISTINCT r.file, r.rg FROM rg_stats AS r JOIN case_stays AS c "
        "ON c.venue_id BETWEEN r.venue_min AND r.venue_max "
        "AND r.t_in_min < c.cs_end AND r.t_out_max > c.cs_start ORDER BY 1, 2").fetchall()
    if not picked:
        return None
    return store.read_row_groups(stats.files, picked)


def normalize(table: pa.Table) -> pa.Table:
    """Cast to :data:`OUT_SCHEMA` and sort by every column (results are sets of rows)."""
    cols = []
    for field in OUT_SCHEMA:
        col = table.column(field.name)
        if pa.types.is_timestamp(col.type) and col.type.tz is None:
            col = col.cast(pa.timestamp("us")).cast(field.type)
        cols.append(col.cast(field.type))
    out = pa.table(cols, schema=OUT_SCHEMA)
    return out.sort_by([(name, "ascending") for name in OUT_SCHEMA.names])


# --- Spark ----------------------------------------------------------------------------------

def spark_session() -> Any:
    """A local Spark session in UTC (pyspark; needs Java 17+)."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("fangkong-colocate")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark(files: list[Path], cases: pa.Table, params: Params,
              session: Any | None = None) -> pa.Table:
    from pyspark.sql.types import LongType, StructField, StructType, TimestampType

    spark = session or spark_session()
    if cases.num_rows == 0 or not files:
        return OUT_SCHEMA.empty_table()
    stays = spark.read.parquet(*[str(f) for f in files]).selectExpr(
        "CAST(person_id AS BIGINT) AS person_id", "CAST(venue_id AS BIGINT) AS venue_id",
        "CAST(t_in AS TIMESTAMP) AS t_in", "CAST(t_out AS TIMESTAMP) AS t_out")
    stays.createOrReplaceTempView("stays")
    schema = StructType([StructField("person_id", LongType()),
                         StructField("window_start", TimestampType()),
                         StructField("window_end", TimestampType())])
    spark.createDataFrame([tuple(r.values()) for r in cases.to_pylist()],
                          schema).createOrReplaceTempView("cases")
    spark.sql(sql("case_stays", dialect="spark", linger_minutes=params.linger_minutes)
              ).cache().createOrReplaceTempView("case_stays")
    max_dwell = int(spark.sql(sql("max_dwell", dialect="spark")).collect()[0][0])
    spark.sql(sql("colocate", dialect="spark", min_overlap_minutes=params.min_overlap_minutes,
                  max_dwell_seconds=max_dwell)).createOrReplaceTempView("colocated")
    rows = spark.sql("SELECT case_person_id, contact_person_id, venue_id, "
                     "unix_micros(overlap_start) AS s, unix_micros(overlap_end) AS e "
                     "FROM colocated").collect()
    spark.catalog.dropTempView("case_stays")
    ts = pa.timestamp("us", tz="UTC")
    table = pa.table({
        "case_person_id": pa.array([r[0] for r in rows], pa.int64()),
        "contact_person_id": pa.array([r[1] for r in rows], pa.int64()),
        "venue_id": pa.array([r[2] for r in rows], pa.int64()),
        "overlap_start": pa.array([r[3] for r in rows], pa.int64()).cast(ts),
        "overlap_end": pa.array([r[4] for r in rows], pa.int64()).cast(ts),
    })
    return normalize(table)


# --- CASES.csv --------------------------------------------------------------------------------

def _timestamp(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_cases(path: Path) -> pa.Table:
    """``person_id,window_start,window_end`` (ISO timestamps, UTC when no offset is given).
    Every bad row is reported with its line; a person may appear once."""
    import csv

    from fangkong.core.errors import Invalid, Problem

    if not path.is_file():
        raise Invalid(T("no_file", path=path))
    problems: list[Problem] = []
    rows: list[tuple[int, datetime, datetime]] = []
    seen: dict[int, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CASES_SCHEMA.names if c not in (reader.fieldnames or [])]
        if missing:
            raise Invalid(T("missing_columns", file=path.name, columns=joined(missing)), problems=[
                Problem(T("expected_header"), line=1,
                        file=path.name)])
        for record in reader:
            line = reader.line_num
            parsed: dict[str, Any] = {}
            for name in CASES_SCHEMA.names:
                raw = (record.get(name) or "").strip()
                try:
                    parsed[name] = int(raw) if name == "person_id" else _timestamp(raw)
                except ValueError:
                    kind = "expected_whole" if name == "person_id" else "expected_timestamp"
                    problems.append(Problem(T(kind, raw=repr(raw)), field=name,
                                            line=line, file=path.name))
            if len(parsed) < 3:
                continue
            if parsed["window_end"] <= parsed["window_start"]:
                problems.append(Problem(T("after_start"), field="window_end",
                                        line=line, file=path.name))
            elif parsed["person_id"] in seen:
                problems.append(Problem(T("person_again", line=seen[parsed["person_id"]]),
                                        field="person_id",
                                        line=line, file=path.name))
            else:
                seen[parsed["person_id"]] = line
                rows.append((parsed["person_id"], parsed["window_start"], parsed["window_end"]))
    if problems:
        raise Invalid(T("bad_rows_run", file=path.name, count=len(problems)),
                      problems=problems)
    return cases_table(rows)


def write_result(table: pa.Table, out: Path) -> None:
    import pyarrow.parquet as pq

    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
