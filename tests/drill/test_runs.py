"""Drill runs are tagged, listed and removed whole (``fangkong drill runs``, ``drill remove``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.audit import AuditEntry
from fangkong.core.auth import system_actor
from fangkong.core.config import get_settings
from fangkong.core.errors import NotFound
from fangkong.drill import runs as drill_runs
from fangkong.drill.loop import Drill
from fangkong.drill.models import DrillRecord, DrillRun
from fangkong.drill.strategy import Strategy
from fangkong.sim.city import build_city

SMALL = {"agents": 3000, "days": 12, "seed": 13}
runner = CliRunner()


def _counts(session: Session) -> dict[str, int]:
    """Rows of every table (the audit log excepted: it keeps its entries; and the flag that
    the transmission graph is built, which stays built)."""
    meta = MetaData()
    meta.reflect(bind=session.connection())
    return {name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in sorted(meta.tables.items())
            if name not in ("audit_log", "tracing_graph_state")}


def test_a_run_is_removed_whole_and_shared_persons_stay_with_the_other_run(
        session: Session) -> None:
    before = _counts(session)
    actor = system_actor()
    city = build_city(SMALL["agents"], seed=SMALL["seed"])
    strategy = Strategy.model_validate(SMALL)
    first = Drill(strategy, session=session, actor=actor, city=city)
    first.run_all()
    after_first = _counts(session)
    second = Drill(strategy, session=session, actor=actor, city=city)
    again = second.run_all()
    assert first.platform is not None and second.platform is not None
    one, two = first.platform.run_id, second.platform.run_id
    listed = drill_runs.list_runs(session, actor=actor)
    assert [r.key for r in listed] == [first.platform.case_prefix, second.platform.case_prefix]
    assert all(r.finished_at is not None for r in listed)
    mine = listed[0].records
    assert mine["person"] == SMALL["agents"] and mine["case_episode"] > 0
    assert {"iso_site", "iso_vehicle", "testing_lab", "testing_round", "zone", "task",
            "tracing_venue"} <= set(mine)
    cases_two = drill_runs.tagged(session, "case_episode", run_id=two)
    grown = {k: v - before[k] for k, v in after_first.items() if v != before[k]}
    assert {"tracing_exposure", "tracing_contact", "iso_stay", "iso_transfer", "testing_tube",
            "testing_sample", "task_event"} <= set(grown)

    done = drill_runs.remove(session, actor=actor, run=first.platform.case_prefix)
    assert done.kept == {"person": SMALL["agents"], "tracing_venue": mine["tracing_venue"]}
    assert done.removed["case_episode"] == mine["case_episode"]
    assert done.removed["iso_site"] == mine["iso_site"]
    assert session.get(DrillRun, one) is None
    assert drill_runs.tagged(session, "case_episode", run_id=two) == cases_two
    # The second run's records are untouched: its cases, persons, rooms are all there.
    left = _counts(session)
    assert left["person"] == before["person"] + SMALL["agents"]
    assert left["case_episode"] == before["case_episode"] + len(cases_two)
    assert sum(r["new_detected"] for r in again.rows) == len(cases_two)
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.record_type == "drill_run", AuditEntry.action == "delete")).one()
    assert entry.detail is not None and entry.detail["removed"] == done.removed

    drill_runs.remove(session, actor=actor, run=str(two))
    # Nothing either run made is left: every table as it was before the first drill.
    assert _counts(session) == before
    with pytest.raises(NotFound):
        drill_runs.remove(session, actor=actor, run=str(two))


def test_remove_is_all_or_nothing_and_lists_and_removes_from_the_command_line(
        fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["drill", "run", "--agents", "2000", "--days", "6",
                                 "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["drill", "runs", "--json"])
    assert result.exit_code == 0, result.output
    (run,) = json.loads(result.output)
    assert run["records"]["person"] == 2000 and run["records"]["case_episode"] > 0
    listed = runner.invoke(app, ["--lang", "zh-Hans", "drill", "runs"])
    assert f"{run['key']}（编号 {run['id']}）" in listed.output and "种子 3，6 天" in listed.output
    assert "agents" not in listed.output
    store = get_settings().data_dir / "drill" / f"checkins-{run['key']}"
    assert store.exists()
    from fangkong.core.db import get_engine

    def count(table: str) -> int:
        with get_engine().connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())

    held = {t: count(t) for t in ("person", "case_episode", "iso_site", "drill_record",
                                  "tracing_contact")}
    assert all(held.values())

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    # A failure after the deletions (the audit entry cannot be written): nothing is removed.
    monkeypatch.setattr(drill_runs.audit, "record", broken)
    result = runner.invoke(app, ["drill", "remove", run["key"]])
    assert result.exit_code != 0
    assert {t: count(t) for t in held} == held and store.exists()
    monkeypatch.undo()
    monkeypatch.setenv("FANGKONG_DATABASE_URL", fresh_db)
    monkeypatch.setenv("FANGKONG_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()

    result = runner.invoke(app, ["drill", "remove", run["key"], "--json"])
    assert result.exit_code == 0, result.output
    removed = json.loads(result.output)["removed"]
    assert removed["person"] == 2000 and removed["case_episode"] == run["records"][
        "case_episode"]
    assert {t: count(t) for t in held} == dict.fromkeys(held, 0) and not store.exists()
    result = runner.invoke(app, ["drill", "runs", "--json"])
    assert json.loads(result.output) == []
    listed = runner.invoke(app, ["--lang", "zh-Hant", "drill", "runs"])
    assert listed.output.strip() == "沒有演練記錄"
    with get_engine().connect() as conn:
        assert conn.execute(select(func.count()).select_from(DrillRecord)).scalar_one() == 0
    result = runner.invoke(app, ["drill", "remove", run["key"]])
    assert result.exit_code != 0 and "not found" in result.output
