"""`fangkong monitoring periods|report|due` on a database of their own."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from fangkong.cli import app as cli_app
from fangkong.core.db import get_engine, session_scope
from fangkong.monitoring import service
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows
from tests.monitoring.conftest import managed_contact
from tests.tracing.helpers import confirmed_case


def test_monitoring_commands(fresh_db: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, list(args))
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    admin = make_actor()
    today = service.local_today()
    with session_scope(get_engine()) as session:
        rows = person_rows(4, places=[("440802001001", 1.0)], seed=7, prefix="MC")
        person_importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                    filename="p.csv")
        found = {p.ref: p for p in session.scalars(select(Person))}
        case_id = confirmed_case(session, admin, found[rows[0]["ref"]])
        managed_contact(session, admin, found[rows[3]["ref"]], case_id,
                        last=today - timedelta(days=9))
    code, out = run("monitoring", "periods", "--json")
    assert code == 0, out
    (period,) = json.loads(out)
    assert period["phases"] == "home_health_monitoring"
    code, out = run("monitoring", "due", "--json")
    assert [(d["period_id"], d["reported"]) for d in json.loads(out)] == [(period["id"], False)]
    code, out = run("monitoring", "report", str(period["id"]), "--day", today.isoformat(),
                    "--temperature", "38.1", "--call", "--json")
    assert code == 0, out
    made = json.loads(out)
    assert (made["channel"], made["flagged"], len(made["task_ids"])) == (
        "worker_call", True, 3)
    code, out = run("monitoring", "report", str(period["id"]), "--day", today.isoformat(),
                    "--temperature", "36.5")
    assert code != 0 and "cannot be changed" in out
    code, out = run("monitoring", "report", str(period["id"]), "--day", today.isoformat(),
                    "--temperature", "50")
    assert code != 0 and "between 34.0 and 43.0" in out
    code, out = run("monitoring", "due")
    assert code == 0 and str(period["id"]) in out
    code, out = run("monitoring", "due", "--json")
    assert [(d["reported"], d["flagged"]) for d in json.loads(out)] == [(True, True)]
