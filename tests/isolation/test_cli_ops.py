"""The operational CLI: a site, a stay from the plan, occupancy, a refused and a real release."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fangkong.cli import app
from tests.helpers import csv_bytes, person_rows

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output if not result.exit_code else " ".join(
        result.output.split())


def test_site_stay_occupancy_release(fresh_db: str, tmp_path: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    people = tmp_path / "people.csv"
    rows = person_rows(2, places=[("440802001001", 1.0)])
    people.write_bytes(csv_bytes(rows))
    assert run("import", "persons", str(people))[0] == 0
    code, out = run("isolation", "site-add", "--code", "H9", "--name", "酒店", "--type",
                    "quarantine_hotel", "--division", "440802", "--rooms", "2",
                    "--family-rooms", "1", "--json")
    assert code == 0, out
    site = json.loads(out)
    assert (site["rooms"], site["beds"]) == (3, 5)
    code, out = run("isolation", "stay-add", "--person", rows[0]["ref"], "--kind", "quarantine",
                    "--site-id", str(site["id"]), "--room", "1", "--role", "close_contact",
                    "--anchor", "2022-07-01", "--json")
    assert code == 0, out
    stay = json.loads(out)
    assert [t["test_date"] for t in stay["tests"]][-1] == "2022-07-08"
    code, out = run("isolation", "stay-add", "--person", rows[1]["ref"], "--kind", "quarantine",
                    "--site-id", str(site["id"]), "--room", "1", "--role", "close_contact",
                    "--anchor", "2022-07-03")
    assert code == 4 and "room 1 is already booked on 2022-07-04" in out
    code, out = run("isolation", "occupancy", str(site["id"]), "--start", "2022-07-08",
                    "--end", "2022-07-09", "--json")
    assert [d["people"] for d in json.loads(out)] == [1, 0]
    code, out = run("isolation", "release", str(stay["id"]), "--on", "2022-07-09")
    assert code == 4 and "5 required test(s) not negative" in out and "2022-07-02" in out
    for test in stay["tests"]:
        assert run("isolation", "test-result", str(stay["id"]), "--date", test["test_date"],
                   "--result", "negative")[0] == 0
    code, out = run("isolation", "release", str(stay["id"]), "--on", "2022-07-09", "--json")
    assert code == 0, out
    released = json.loads(out)
    assert released["next_stay"]["kind"] == "home_health_monitoring"
    assert released["transfer"]["kind"] == "return_home"
    assert json.loads(run("isolation", "sites", "--json")[1])[0]["code"] == "H9"
    code, out = run("isolation", "clocks", "--json")
    assert code == 0 and json.loads(out) == []
    code, out = run("isolation", "beds", "--on", "2022-07-05", "--json")
    assert code == 0 and json.loads(out) == []  # a hotel has no hospital beds
    code, out = run("isolation", "reserve", "--on", "2022-07-05", "--json")
    assert code == 0 and json.loads(out) == [{
        "county": "440802", "active_rooms": 3, "standby_rooms": 0, "occupied_rooms": 1,
        "people": 1, "rooms_needed": 2, "free_active_rooms": 2, "shortfall": 0}]  # ratio 1.5
