"""Zones over the API (scoping without a tell-tale status, the public notice as JSON and page)
and the ``fangkong zone`` commands."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.cli import app as cli_app
from fangkong.core.auth import Role
from tests.conftest import login

ZONE = {"name": "海滨花园小区", "level": "high", "owning_division_code": "440802",
        "members": [{"division_code": "440802001001", "detail": "3栋"}],
        "last_infection_date": "2022-05-10", "pack_id": "cn_v9"}


def test_zone_api_is_scoped_and_public_notice_is_open(client: TestClient,
                                                      session: Session) -> None:
    chikan = login(client, session, "ck", Role.epidemiologist, "440802")
    xiashan = login(client, session, "xs", Role.epidemiologist, "440803")
    resp = client.post("/api/v1/zones", json=ZONE, headers=chikan)
    assert resp.status_code == 201, resp.text
    zone = resp.json()
    assert zone["code"].startswith("440802-Z") and zone["events"][0]["kind"] == "designated"
    outside = client.post("/api/v1/zones", json=ZONE, headers=xiashan)
    assert outside.status_code == 422
    assert "outside your jurisdiction" in json.dumps(outside.json(), ensure_ascii=False)
    hidden = client.get(f"/api/v1/zones/{zone['id']}", headers=xiashan)
    missing = client.get("/api/v1/zones/999999", headers=xiashan)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"]
    assert client.get("/api/v1/zones", headers=xiashan).json() == []
    assert client.get("/api/v1/zones").status_code == 401

    notice = client.get("/api/v1/public/zones").json()
    assert [z["code"] for z in notice["zones"]] == [zone["code"]]
    assert "persons" not in json.dumps(notice)
    page = client.get("/api/v1/public/zones.html", params={"lang": "zh-Hant"})
    assert page.status_code == 200 and "風險區域公告" in page.text and "高風險區" in page.text
    english = client.get("/api/v1/public/zones.html", params={"lang": "en"}).text
    assert "high-risk area" in english and "designated" in english
    assert client.get("/api/v1/public/zones.html", params={"lang": "fr"}).status_code == 422

    evaluated = client.post("/api/v1/zones/evaluate", params={"on": "2022-05-11"},
                            headers=chikan).json()
    assert evaluated[0]["due"] is None and evaluated[0]["requires"]
    assert client.post("/api/v1/zones/evaluate", headers=chikan, params={
        "on": "2022-05-11", "zone_id": [evaluated[0]["zone_id"] + 1]}).json() == []
    assert len(client.post("/api/v1/zones/evaluate", headers=chikan, params={
        "on": "2022-05-11", "zone_id": [evaluated[0]["zone_id"]]}).json()) == 1
    assert client.get("/api/v1/zone-checks/prohibitions", headers=chikan).json() == []


def test_zone_commands(fresh_db: str, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, list(args))
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    spec = tmp_path / "zone.json"
    spec.write_text(json.dumps(ZONE, ensure_ascii=False), encoding="utf-8")
    code, out = run("zone", "designate", str(spec), "--json")
    assert code == 0, out
    assert json.loads(out)["level"] == "high"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(ZONE | {"level": "sealed"}), encoding="utf-8")
    code, out = run("zone", "designate", str(bad))
    assert code != 0 and "no level 'sealed'" in out
    code, out = run("zone", "list", "--json")
    assert [z["level"] for z in json.loads(out)] == ["high"]
    code, out = run("zone", "evaluate", "--on", "2022-05-18", "--json")
    assert code == 0 and json.loads(out)[0]["due"] is None  # no round recorded on day 7
    code, out = run("zone", "notice", "--json")
    assert json.loads(out)["zones"][0]["level_label"]["en"] == "high-risk area"
    code, out = run("zone", "check", "--json")
    assert (code, json.loads(out)) == (0, [])
    code, out = run("zone", "approve", "12345")
    assert code != 0 and "not found" in out
