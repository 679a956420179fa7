"""The co-presence engine's semantics (DuckDB), and the DuckDB/Spark contract."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fangkong.tracing import engine, index, store
from tests.tracing.helpers import T0, at, make_store, random_stays, reference

Case = tuple[int, datetime, datetime]


def run(directory: Path, cases: list[Case], m: int = 0, linger: int = 0,
        kind: engine.Engine = "duckdb") -> list[tuple[object, ...]]:
    table = engine.colocate(directory, engine.cases_table(cases),
                            engine.Params(min_overlap_minutes=m, linger_minutes=linger),
                            engine=kind)
    return [tuple(r.values()) for r in table.to_pylist()]


WHOLE_DAY = (at(0), at(24 * 60))


def test_half_open_stays_that_only_touch_do_not_overlap(tmp_path: Path) -> None:
    d = make_store(tmp_path, [(1, 7, at(60), at(120)), (2, 7, at(120), at(180)),
                              (3, 7, at(0), at(60)), (4, 7, at(119), at(121))])
    assert run(d, [(1, *WHOLE_DAY)]) == [(1, 4, 7, at(119), at(120))]


def test_linger_extends_the_case_stay_only(tmp_path: Path) -> None:
    d = make_store(tmp_path, [(1, 7, at(60), at(120)), (2, 7, at(130), at(200)),
                              (3, 7, at(0), at(50))])
    assert run(d, [(1, *WHOLE_DAY)], linger=10) == []
    assert run(d, [(1, *WHOLE_DAY)], linger=11) == [(1, 2, 7, at(130), at(131))]
    # A contact who left 10 minutes before the case came is not caught by the case's linger.
    assert run(d, [(1, *WHOLE_DAY)], linger=60) == [(1, 2, 7, at(130), at(180))]


def test_window_clips_the_case_stay_and_its_linger(tmp_path: Path) -> None:
    d = make_store(tmp_path, [(1, 7, at(60), at(120)), (2, 7, at(0), at(300))])
    assert run(d, [(1, at(90), at(100))]) == [(1, 2, 7, at(90), at(100))]
    assert run(d, [(1, at(110), at(140))], linger=30) == [(1, 2, 7, at(110), at(140))]
    assert run(d, [(1, at(150), at(160))], linger=30) == [(1, 2, 7, at(150), at(150))][:0]
    assert run(d, [(1, at(120), at(160))], linger=30) == [(1, 2, 7, at(120), at(150))]
    assert run(d, [(1, at(0), at(60))]) == []  # window ends when the stay starts


def test_min_overlap_is_inclusive_and_zero_means_any_positive_overlap(tmp_path: Path) -> None:
    d = make_store(tmp_path, [(1, 7, at(0), at(100)), (2, 7, at(90), at(200)),
                              (3, 7, at(91), at(200)), (4, 7, at(100), at(200))])
    assert [r[1] for r in run(d, [(1, *WHOLE_DAY)], m=10)] == [2]
    assert [r[1] for r in run(d, [(1, *WHOLE_DAY)], m=9)] == [2, 3]
    assert [r[1] for r in run(d, [(1, *WHOLE_DAY)], m=0)] == [2, 3]  # 4 only touches


def test_no_self_pairs_other_venues_and_one_row_per_pair_of_stays(tmp_path: Path) -> None:
    d = make_store(tmp_path, [(1, 7, at(0), at(100)), (1, 7, at(50), at(150)),
                              (2, 8, at(0), at(100)), (3, 7, at(40), at(60)),
                              (3, 7, at(120), at(130)), (4, 7, at(20), at(30))])
    rows = run(d, [(1, *WHOLE_DAY), (4, *WHOLE_DAY)])
    assert rows == [(1, 3, 7, at(40), at(60)), (1, 3, 7, at(50), at(60)),
                    (1, 3, 7, at(120), at(130)), (1, 4, 7, at(20), at(30)),
                    (4, 1, 7, at(20), at(30))]


def test_stays_across_midnight_and_long_stays_are_found(tmp_path: Path) -> None:
    day = 24 * 60
    d = make_store(tmp_path, [(1, 7, at(day + 600), at(day + 660)),
                              (2, 7, at(day - 30), at(day + 610)),   # began the day before
                              (3, 7, at(10), at(3 * day))])          # 3-day stay
    assert [r[1] for r in run(d, [(1, at(0), at(3 * day))])] == [2, 3]


@pytest.mark.parametrize(("seed", "indexed"), [(1, True), (2, True), (1, False), (2, False)])
def test_engine_matches_the_definition_on_random_stays(tmp_path: Path, seed: int, indexed: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "ROW_GROUP_SIZE", 2048)  # many row groups: pruning is exercised
    rows = random_stays(seed, n=6000, days=2)
    d = make_store(tmp_path, rows)
    assert any(pq.ParquetFile(f).num_row_groups > 1 for f in store.parquet_files(d))
    if not indexed:  # without the sidecar indexes: Parquet row-group pruning
        for f in store.parquet_files(d):
            for side in index.sidecars(f):
                side.unlink()
    calls = _spy(monkeypatch)
    cases = [(1, at(300), at(2000)), (2, T0, at(4000)), (3, at(3000), at(3001))]
    for m, linger in [(0, 0), (15, 30)]:
        got = set(run(d, cases, m=m, linger=linger))
        assert got == reference(rows, cases, m, linger) and got
    assert set(calls) == {"_run_indexed" if indexed else "_run_parquet"}


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for name in ("_run_indexed", "_run_parquet"):
        real = getattr(engine, name)
        monkeypatch.setattr(engine, name, lambda *a, _r=real, _n=name, **k: (
            calls.append(_n), _r(*a, **k))[1])
    return calls


def test_stale_or_foreign_sidecars_fall_back_to_parquet_until_reindexed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sidecar older than its file, or of another layout (the Arrow sidecars of earlier
    versions), is not used; ``store.reindex`` (``fangkong tracing reindex``) rewrites them."""
    import os

    rows = random_stays(4, n=3000, days=2)
    d = make_store(tmp_path, rows)
    cases = [(1, at(300), at(2000)), (2, T0, at(4000))]
    want = reference(rows, cases, 5, 10)
    calls = _spy(monkeypatch)
    files = store.parquet_files(d)
    venues_side, persons_side = index.sidecars(files[0])
    earlier = files[0].stat().st_mtime_ns - 10**9
    os.utime(persons_side, ns=(earlier, earlier))  # the file changed after this was written
    assert set(run(d, cases, m=5, linger=10)) == want and calls[-1] == "_run_parquet"
    persons_side.write_bytes(b"ARROW1" + bytes(5000))  # not this layout
    venues_side.unlink()
    files[0].with_name(files[0].name + ".arrow").write_bytes(b"ARROW1")
    assert set(run(d, cases, m=5, linger=10)) == want and calls[-1] == "_run_parquet"
    with store.locked(d):
        assert store.reindex(d) == len(files)
    assert not files[0].with_name(files[0].name + ".arrow").exists()
    assert set(run(d, cases, m=5, linger=10)) == want and calls[-1] == "_run_indexed"


def test_any_ids_and_times_and_a_file_spanning_days(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids beyond 32 bits (negative too), whole-second and microsecond times, and a Parquet
    file put in the store by hand that spans a week (wider time slots) are indexed and
    queried exactly."""
    from datetime import timedelta

    from tests.tracing.helpers import stays_table

    big = 2**40
    rows = [(p * big - 3, v * big + 1, t_in, t_out)
            for p, v, t_in, t_out in random_stays(5, n=2500, people=60, venues=6, days=7)]
    whole = [(p, v, t.replace(microsecond=0), u.replace(microsecond=0) + timedelta(seconds=1))
             for p, v, t, u in random_stays(6, n=800, people=40, venues=4, days=2)]
    d = tmp_path / "store"
    (d / "by-hand").mkdir(parents=True)
    pq.write_table(stays_table(rows), d / "by-hand" / "week.parquet")
    make_store(d, whole, batch="w")
    with store.locked(d):
        store.reindex(d)
    (d / store.MANIFEST).write_text('{"batches": {}, "max_dwell_seconds": 90000}', "utf-8")
    calls = _spy(monkeypatch)
    cases = [(1 * big - 3, at(600), at(5000)), (7 * big - 3, T0, at(7 * 1440)),
             (3, at(100), at(2000)), (5, T0, at(2 * 1440))]
    for m, linger in [(0, 0), (10, 30)]:
        got = set(run(d, cases, m=m, linger=linger))
        assert got == reference(rows + whole, cases, m, linger) and got
    assert set(calls) == {"_run_indexed"}


def test_one_case_reads_a_small_part_of_the_sidecars(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout's point: a query for one person reads the headers, one bucket of the
    person side per day, the venue directories and the runs of the venues visited."""
    rows = random_stays(8, n=60_000, people=3000, venues=2000, days=2)
    d = make_store(tmp_path, rows)
    read: list[int] = []
    real = index.read_runs
    monkeypatch.setattr(index, "read_runs", lambda runs: (
        read.extend(n for _fd, _off, n in runs), real(runs))[1])
    cases = [(17, T0, at(2 * 1440))]
    got = set(run(d, cases, m=0))
    assert got == reference(rows, cases, 0, 0) and got
    total = sum(side.stat().st_size for f in store.parquet_files(d)
                for side in index.sidecars(f))
    assert 0 < sum(read) < total / 20, (sum(read), total)


def test_a_store_without_manifest_computes_the_longest_stay(tmp_path: Path) -> None:
    d = make_store(tmp_path / "s", [(1, 7, at(0), at(10)), (2, 7, at(-3000), at(5))])
    (d / store.MANIFEST).unlink()
    assert run(d, [(1, *WHOLE_DAY)]) == [(1, 2, 7, at(0), at(5))]


def _spark_available() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[dev]')"
    if shutil.which("java") is None:
        return "no Java runtime on PATH (pyspark needs Java 17+)"
    return None


@pytest.mark.skipif(_spark_available() is not None, reason=str(_spark_available()))
def test_duckdb_and_spark_return_identical_rows(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "ROW_GROUP_SIZE", 2048)
    rows = random_stays(7, n=5000, days=2)
    d = make_store(tmp_path, rows)
    cases = [(5, at(100), at(3000)), (6, T0, at(5000)), (7, at(2000), at(2600))]
    session = engine.spark_session()
    cases_t = engine.cases_table(cases)
    for m, linger in [(0, 0), (10, 20)]:
        params = engine.Params(min_overlap_minutes=m, linger_minutes=linger)
        duck = engine.colocate(d, cases_t, params)
        spark = engine.run_spark(store.parquet_files(d), cases_t, params, session=session)
        assert duck.num_rows > 0 and duck.equals(spark)
        assert {tuple(r.values()) for r in duck.to_pylist()} == reference(rows, cases, m, linger)


def test_the_queries_transpile_for_spark() -> None:
    text = engine.sql("colocate", dialect="spark", min_overlap_minutes=10, max_dwell_seconds=60)
    assert "EXPLODE(SEQUENCE(" in text and "INTERVAL '10' MINUTE" in text
    with pytest.raises(TypeError):
        engine.sql("case_stays", linger_minutes="1; DROP TABLE x")  # type: ignore[arg-type]
