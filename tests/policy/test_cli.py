from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Exit code and output (error output with its line wrapping undone)."""
    result = runner.invoke(app, ["policy", *args])
    out = result.output
    return result.exit_code, out if result.exit_code in (0, 1) else " ".join(out.split())


def test_list() -> None:
    code, out = run("list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert {r["id"] for r in rows} >= {"cn_v9", "cn_20_measures", "cn_new_10", "who_2021",
                                       "cn_shanghai_2022_04", "cn_v8_local_3zones"}
    assert all(r["version"] and r["digest"] for r in rows)
    assert run("list")[0] == 0


def test_plan_reference_case() -> None:
    code, out = run("plan", "--pack", "cn_v9", "--role", "close_contact", "--anchor",
                    "2022-05-09", "--json")
    assert code == 0
    plan = json.loads(out)
    assert {k: plan[k] for k in ("pack", "pack_version", "role", "anchor", "release_date")} == {
        "pack": "cn_v9", "pack_version": "1.0.0", "role": "close_contact",
        "anchor": "2022-05-09", "release_date": "2022-05-20"}
    assert [{k: p[k] for k in ("kind", "start", "end", "test_dates")} for p in plan["phases"]] == [
        {"kind": "centralized_quarantine", "start": "2022-05-10", "end": "2022-05-16",
         "test_dates": ["2022-05-10", "2022-05-11", "2022-05-12", "2022-05-14", "2022-05-16"]},
        {"kind": "home_health_monitoring", "start": "2022-05-17", "end": "2022-05-19",
         "test_dates": ["2022-05-19"]}]
    assert isinstance(plan["conditions"], list)
    code, out = run("plan", "--pack", "cn_v9", "--role", "close_contact", "--anchor",
                    "2022-05-09")
    assert code == 0 and "2022-05-20" in out


def test_plan_errors() -> None:
    code, out = run("plan", "--pack", "cn_v9", "--role", "tourist", "--anchor", "2022-05-09")
    assert code == 2 and "no role 'tourist'" in out and "close_contact" in out
    code, out = run("plan", "--pack", "nope", "--role", "close_contact", "--anchor", "2022-05-09")
    assert code == 3 and "no policy pack 'nope'" in out
    code, _ = run("plan", "--role", "close_contact", "--anchor", "09/05/2022")
    assert code != 0


def test_zone_schedule() -> None:
    code, out = run("zone-schedule", "--pack", "cn_v9", "--level", "high", "--last-infection",
                    "2022-05-10", "--json")
    assert code == 0
    steps = json.loads(out)["steps"]
    assert [(s["to_level"], s["effective"]) for s in steps] == [("medium", "2022-05-18"),
                                                               ("low", "2022-05-21")]
    assert steps[0]["requires"][1] == "a negative area-wide round on day 7 (2022-05-17)"
    assert run("zone-schedule", "--level", "high", "--last-infection", "2022-05-10")[0] == 0


def test_zone_evaluate() -> None:
    code, out = run("zone-evaluate", "--pack", "cn_v9", "--level", "high", "--last-infection",
                    "2022-05-10", "--on", "2022-05-18", "--round", "2022-05-17", "--json")
    assert code == 0 and json.loads(out)["due"] == "medium"
    code, out = run("zone-evaluate", "--pack", "cn_v9", "--level", "high", "--last-infection",
                    "2022-05-10", "--on", "2022-05-18", "--round", "2022-05-17",
                    "--infection", "2022-05-15")
    assert code == 0 and "clock restarted" in out and "missing" in out


def test_lookback() -> None:
    code, out = run("lookback", "--pack", "cn_v9", "--onset", "2022-05-10", "--isolated",
                    "2022-05-12", "--json")
    assert code == 0
    assert (json.loads(out)["start"], json.loads(out)["end"]) == ("2022-05-08", "2022-05-12")


def test_check(tmp_path: Path) -> None:
    measures = tmp_path / "measures.json"
    measures.write_text(json.dumps([
        {"kind": "close_venues", "area_level": "low", "venue_type": "超市", "essential": True},
        {"kind": "travel_restriction", "from_levels": ["high"]},
        {"kind": "management", "role": "secondary_contact",
         "phases": [{"kind": "home_quarantine", "days": 7}]},
    ], ensure_ascii=False))
    code, out = run("check", "--pack", "cn_20_measures", "--measures", str(measures), "--json")
    assert code == 1  # a breach exits non-zero, after printing the report
    violations = json.loads(out)["violations"]
    assert [(v["measure"], v["prohibition"]) for v in violations] == [(0, 9), (2, 4)]
    assert set(violations[0]) == {"measure", "prohibition", "text", "why"}
    code, out = run("check", "--pack", "cn_20_measures", "--measures", str(measures))
    assert code == 1 and "breaks 9" in out


def test_check_compliant_and_malformed(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('[{"kind": "travel_restriction", "from_levels": ["high"]}]')
    code, out = run("check", "--measures", str(good), "--json")
    assert code == 0 and json.loads(out)["violations"] == []
    bad = tmp_path / "bad.json"
    bad.write_text('[{"kind": "checkpoint", "blocks": []}]')
    code, out = run("check", "--measures", str(bad))
    assert code == 2 and "bad.json [0].blocks" in out
    broken = tmp_path / "broken.json"
    broken.write_text('[{"kind": ')
    code, out = run("check", "--measures", str(broken))
    assert code == 2 and "not valid JSON" in out and "broken.json:1" in out
    code, out = run("check", "--measures", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in out


def test_show() -> None:
    code, out = run("show", "cn_new_10", "--json")
    assert code == 0
    pack = json.loads(out)
    assert pack["lineage"] == ["cn_new_10", "cn_20_measures", "cn_v9"]
    assert "medium" not in pack["zones"]["levels"]
