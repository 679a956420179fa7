"""Strategies compared over seeds: medians, 90 % bands, differences beyond the spread."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.drill import compare
from fangkong.drill.compare import summarise
from fangkong.drill.service import shipped
from fangkong.drill.strategy import load


def _seeds(values: list[float]) -> list[dict[str, float]]:
    return [{"infections": v} for v in values]


def test_medians_bands_and_differences_paired_by_seed() -> None:
    rows = summarise({"ref": _seeds([100, 200, 300, 400, 500]),
                      "worse": _seeds([150, 260, 330, 470, 560]),  # always higher
                      "mixed": _seeds([90, 230, 280, 420, 480])})  # either way
    by = {r.strategy: r for r in rows if r.metric == "infections"}
    assert by["ref"].median == 300 and by["ref"].low == 120 and by["ref"].high == 480
    assert by["ref"].beyond_spread is None
    # the bands overlap, but paired by seed (the same city) "worse" is always worse
    assert by["worse"].beyond_spread is True
    assert by["mixed"].beyond_spread is False


def test_compare_runs_strategies_over_seeds_in_processes(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, [
        "--lang", "en", "drill", "compare", "--strategy", "baseline", "--strategy",
        "no-response", "--seeds", "2", "--agents", "2000", "--days", "20", "--jobs", "2",
        "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text("utf-8")
    assert "Strategies compared over several seeds" in page and "Total infections" in page
    lines = (out / "compare.csv").read_text("utf-8").splitlines()
    assert lines[0].startswith("strategy,metric,median,p5,p95")
    infections = {r.split(",")[0]: float(r.split(",")[2]) for r in lines[1:]
                  if r.split(",")[1] == "infections"}
    # the workers' figures are those of the same runs in this process
    base = load(shipped("no-response")).model_copy(update={"agents": 2000, "days": 20})
    alone = [compare.one(base.model_copy(update={"seed": s}))["infections"] for s in (1, 2)]
    assert infections["no-response"] == sum(alone) / 2 > 0
    assert "baseline" in infections
