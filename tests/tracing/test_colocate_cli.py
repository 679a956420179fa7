"""``fangkong tracing colocate``: options, output columns, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from fangkong.cli import app
from tests.tracing.helpers import at, make_store

runner = CliRunner()


def test_colocate_writes_the_pairs_with_the_documented_columns(tmp_path: Path) -> None:
    d = make_store(tmp_path / "checkins", [(1, 7, at(60), at(120)), (2, 7, at(100), at(200)),
                                           (3, 7, at(125), at(200))])
    cases = tmp_path / "cases.csv"
    cases.write_text("person_id,window_start,window_end\n"
                     "1,2022-05-01T00:00:00Z,2022-05-02T00:00:00+00:00\n", "utf-8")
    out = tmp_path / "out.parquet"
    args = ["tracing", "colocate", "--checkins", str(d), "--cases", str(cases), "--out", str(out),
            "--json"]
    result = runner.invoke(app, [*args, "--min-overlap-minutes", "5", "--linger-minutes", "10"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 2
    table = pq.read_table(out)
    assert table.column_names == ["case_person_id", "contact_person_id", "venue_id",
                                  "overlap_start", "overlap_end"]
    assert [tuple(r.values()) for r in table.to_pylist()] == [
        (1, 2, 7, at(100), at(130)), (1, 3, 7, at(125), at(130))]
    # Without options, the active pack's rules apply (cn_v9: M = 10, L = 0).
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and json.loads(result.output)["min_overlap_minutes"] == 10
    assert [r["contact_person_id"] for r in pq.read_table(out).to_pylist()] == [2]


def test_a_bad_cases_file_is_reported_by_line_and_field(tmp_path: Path) -> None:
    d = make_store(tmp_path / "checkins", [(1, 7, at(60), at(120))])
    cases = tmp_path / "cases.csv"
    cases.write_text("person_id,window_start,window_end\n"
                     "x,2022-05-01T00:00:00Z,2022-05-02T00:00:00Z\n"
                     "1,2022-05-02T00:00:00Z,2022-05-01T00:00:00Z\n"
                     "2,2022-05-01T00:00:00Z,2022-05-02T00:00:00Z\n"
                     "2,2022-05-01T00:00:00Z,yesterday\n", "utf-8")
    result = runner.invoke(app, ["tracing", "colocate", "--checkins", str(d), "--cases",
                                 str(cases), "--out", str(tmp_path / "o.parquet")])
    text = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "cases.csv:2 person_id" in text and "cases.csv:3 window_end" in text
    assert "cases.csv:5 window_end" in text and not (tmp_path / "o.parquet").exists()
    result = runner.invoke(app, ["tracing", "colocate", "--checkins", str(d), "--cases",
                                 str(cases), "--out", "o.parquet", "--engine", "hive"])
    assert result.exit_code == 2 and "hive" in result.output
