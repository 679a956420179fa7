"""``fangkong tracing chain | clusters | indicators | proposals | confirm | reject | graph`` on
a fresh database of the suite's kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.schemas import CaseCreate
from fangkong.cli import app
from fangkong.core.auth import system_actor
from fangkong.core.db import get_engine, session_scope
from fangkong.person.models import Person
from fangkong.tracing import service
from fangkong.tracing.enums import Setting
from fangkong.tracing.models import Link
from fangkong.tracing.schemas import ExposureCreate
from tests.helpers import csv_bytes

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_chain_clusters_indicators_and_review(fresh_db: str, tmp_path: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    people = [{"ref": f"GC{i}", "name": f"人{i}", "division_code": "440802001001",
               "household_ref": "H1" if i < 3 else f"H{i}"} for i in range(6)]
    (tmp_path / "p.csv").write_bytes(csv_bytes(people))
    assert run("import", "persons", str(tmp_path / "p.csv"))[0] == 0
    actor = system_actor("test")

    def report(session: object, ref: str, person_ref: str, onset: str, at: datetime) -> int:
        return cases.create(session, actor=actor, data=CaseCreate(  # type: ignore[arg-type]
            ref=ref, person_ref=person_ref, classification=Classification.confirmed,
            severity=Severity.mild, onset_date=onset,  # type: ignore[arg-type]
            reported_at=at, detection_mode=DetectionMode.fever_clinic,
            owning_division_code="440802")).id

    with session_scope(get_engine()) as s:
        ids = {p.ref: p.id for p in s.scalars(select(Person))}
        a = report(s, "CA", "GC0", "2022-04-29", datetime(2022, 4, 30, tzinfo=UTC))
        b = report(s, "CB", "GC3", "2022-05-20", datetime(2022, 5, 21, tzinfo=UTC))
        service.add_exposure(s, actor=actor, data=ExposureCreate(
            source_case_id=a, exposed_person_id=ids["GC3"], first_exposure="2022-04-29",  # type: ignore[arg-type]
            last_exposure="2022-04-29", setting=Setting.workplace))  # type: ignore[arg-type]
        service.propose(s, actor=actor, case_id=a)  # household members GC1, GC2

    code, out = run("tracing", "chain", str(b), "--json")
    assert code == 0, out
    info = json.loads(out)
    assert (info["cluster_id"], info["size"], info["generations"]) == (a, 2, 2)
    assert [(e["source"], e["target"], e["setting"]) for e in info["edges"]] == [
        (a, b, "workplace")]
    code, out = run("tracing", "chain", str(a), "--layout", "timeline")
    assert code == 0 and f"cluster {a}: 2 case(s), 2 generation(s)" in out
    assert run("tracing", "chain", "999999")[0] != 0

    code, out = run("tracing", "clusters", "--json")
    assert code == 0 and [(c["cluster_id"], c["size"], c["span_days"])
                          for c in json.loads(out)] == [(a, 2, 21)]
    code, out = run("tracing", "indicators", "--start", "2022-04-25", "--end", "2022-05-31",
                    "--json")
    ind = json.loads(out)
    # GC3 was identified as a contact (now) after CB's report: not a known contact before it.
    assert (ind["new_cases"], ind["new_cases_in_chains"], ind["new_cases_known_contacts"]) == (
        2, 2, 0)
    assert ind["suspicious_links"] == [{"source": a, "target": b, "onset_gap_days": 21}]
    code, out = run("tracing", "indicators", "--start", "2022-04-25", "--end", "2022-05-31")
    assert code == 0 and "in known chains: 2 (100.0%)" in out

    code, out = run("tracing", "proposals", str(a), "--pending", "--json")
    pending = json.loads(out)
    assert sorted(p["person_id"] for p in pending) == [ids["GC1"], ids["GC2"]]
    first, second = sorted(p["exposure_id"] for p in pending)
    code, out = run("tracing", "confirm", str(first), "--json")
    assert code == 0 and json.loads(out)["review"] == "confirmed"
    assert json.loads(out)["contact_id"] is not None
    code, out = run("tracing", "reject", "--case", str(a), "--note", "not at home", "--json")
    assert code == 0 and json.loads(out) == [  # every proposal of the case still pending
        {"exposure_id": second, "review": "rejected", "contact_id": None}]
    assert run("tracing", "confirm")[0] != 0  # nothing given
    assert run("tracing", "reject", str(second))[0] != 0  # reviewed already
    assert json.loads(run("tracing", "proposals", str(a), "--pending", "--json")[1]) == []

    code, out = run("tracing", "graph", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    with session_scope(get_engine()) as s:  # a write that bypasses the listener
        s.execute(Link.__table__.delete())
    code, out = run("tracing", "graph")
    assert code == 1 and "links differ" in out
    code, out = run("tracing", "graph", "--rebuild", "--json")
    assert code == 0 and json.loads(out)["rebuilt"]["links"] == 1
