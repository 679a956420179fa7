"""The CLI as the issue specifies it, on a fresh database of the suite's kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app
from tests.helpers import csv_bytes

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _persons(tmp_path: Path, n: int, prefix: str) -> list[dict[str, str]]:
    """A migrated database with the divisions and ``n`` persons of one village."""
    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    people = [{"ref": f"{prefix}{i:03d}", "name": f"人{i}", "division_code": "440802001001",
               "household_ref": f"H{i}"} for i in range(n)]
    (tmp_path / "p.csv").write_bytes(csv_bytes(people))
    assert run("import", "persons", str(tmp_path / "p.csv"))[0] == 0
    return people


def _round(name: str, area: str, start: datetime) -> dict[str, object]:
    code, out = run("testing", "round", "create", "--name", name, "--area", area,
                    "--start", start.isoformat(), "--deadline",
                    (start + timedelta(days=1)).isoformat(), "--json")
    assert code == 0, out
    return dict(json.loads(out))


def test_round_samples_results_status_advise(fresh_db: str, tmp_path: Path) -> None:
    people = _persons(tmp_path, 25, "CP")
    start = datetime.now(UTC) - timedelta(hours=5)
    created = _round("R1", "440802,440803", start)
    round_id = created["round_id"]
    assert created["target"] == 25 and created["by_ratio"] == {"20": 25}
    code, out = run("testing", "tubes", "issue", "--round", str(round_id), "--prefix", "T",
                    "--count", "3", "--capacity", "20")
    assert code == 0 and "3 tubes issued" in out and "T00000001 … T00000003" in out, out
    assert run("testing", "lab", "L1", "实验室", "440802", "--daily-capacity", "5000")[0] == 0
    when = (start + timedelta(hours=1)).isoformat()
    rows = [{"tube_id": "T00000001" if i < 20 else "T00000002", "person_ref": p["ref"],
             "sampled_at": when, "point_id": ""} for i, p in enumerate(people[:22])]
    samples = tmp_path / "s.csv"
    samples.write_bytes(csv_bytes(rows))
    code, out = run("testing", "import-samples", "--round", str(round_id), str(samples),
                    "--json")
    assert code == 0, out
    assert json.loads(out)["inserted"] == 22
    code, out = run("testing", "import-samples", "--round", str(round_id), str(samples),
                    "--json")
    assert json.loads(out)["inserted"] == 0 and json.loads(out)["unchanged"] == 22

    bad = tmp_path / "bad.csv"
    bad.write_text("tube_id,person_ref,sampled_at,point_id\nT00000003,NOBODY,"
                   f"{when},\nT00000009,CP024,{when},\n", encoding="utf-8")
    code, out = run("testing", "import-samples", "--round", str(round_id), str(bad))
    flat = " ".join(out.split())
    assert code == 2
    assert "bad.csv:2 person_ref" in flat and "bad.csv:3 tube_id" in flat

    results = tmp_path / "r.csv"
    reported = (start + timedelta(hours=3)).isoformat()
    results.write_text(f"tube_id,result,reported_at,lab_id\nT00000001,negative,{reported},L1\n"
                       f"T00000002,positive,{reported},L1\n", encoding="utf-8")
    code, out = run("testing", "import-results", str(results), "--json")
    assert code == 0, out
    assert json.loads(out)["followups_opened"] == 1
    code, out = run("testing", "round", "close", str(round_id), "--json")
    assert code == 0 and json.loads(out)["status"] == "closed", out
    code, out = run("testing", "status", "--round", str(round_id), "--json")
    status = json.loads(out)
    assert {k: status[k] for k in ("target", "sampled", "tubes", "tubes_without_result",
                                   "positive_tubes", "pending_persons", "cases")} == {
        "target": 25, "sampled": 22, "tubes": 2, "tubes_without_result": 0,
        "positive_tubes": ["T00000002"], "pending_persons": ["CP020", "CP021"], "cases": []}
    assert status["coverage"] == 0.88

    code, out = run("testing", "advise", "--prevalence", "0.0001", "--json")
    advice = json.loads(out)
    assert code == 0 and advice["best_size"] == 20
    assert [o["size"] for o in advice["options"]] == [1, 5, 10, 20]

    out_csv = tmp_path / "todo.csv"
    assert run("testing", "unsampled", "--round", str(round_id), "--out", str(out_csv))[0] == 0
    assert out_csv.read_text().splitlines()[1:] == [
        f"CP{i:03d},人{i},440802001001,H{i}" for i in (22, 23, 24)]


def test_cli_imports_parquet(fresh_db: str, tmp_path: Path) -> None:
    """Samples and results as Parquet files through the CLI."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    people = _persons(tmp_path, 5, "QP")
    start = datetime.now(UTC) - timedelta(hours=5)
    round_id = _round("R", "440802", start)["round_id"]
    assert run("testing", "tubes", "issue", "--round", str(round_id), "--prefix", "Q",
               "--count", "1", "--capacity", "10")[0] == 0
    assert run("testing", "lab", "L1", "实验室", "440802", "--daily-capacity", "50")[0] == 0
    when = start + timedelta(hours=1)
    samples = tmp_path / "s.parquet"
    pq.write_table(pa.table({"tube_id": ["Q00000001"] * 5,
                             "person_ref": [p["ref"] for p in people],
                             "sampled_at": pa.array([when] * 5, pa.timestamp("ms", tz="UTC")),
                             "point_id": pa.nulls(5, pa.string())}), samples)
    code, out = run("testing", "import-samples", "--round", str(round_id), str(samples),
                    "--json")
    assert code == 0, out
    assert json.loads(out)["inserted"] == 5
    results = tmp_path / "r.parquet"
    pq.write_table(pa.table({"tube_id": ["Q00000001"], "result": ["negative"],
                             "reported_at": [(when + timedelta(hours=3)).isoformat()],
                             "lab_id": ["L1"]}), results)
    code, out = run("testing", "import-results", str(results), "--json")
    assert code == 0, out
    assert json.loads(out)["inserted"] == 1


def test_cli_imports_stays(fresh_db: str, tmp_path: Path) -> None:
    """`fangkong import stays`: a visitor staying in the area is in the round's target."""
    _persons(tmp_path, 2, "SV")
    stays = tmp_path / "stays.csv"
    since = datetime.now(UTC) - timedelta(days=2)
    stays.write_text(f"person_ref,division_code,since,until\nSV000,440803001001,"
                     f"{since.isoformat()},\n", encoding="utf-8")
    code, out = run("import", "stays", str(stays), "--json")
    assert code == 0, out
    assert json.loads(out)["inserted"] == 1
    created = _round("R", "440803", datetime.now(UTC) - timedelta(hours=1))
    assert created["target"] == 1
