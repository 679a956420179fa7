from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from tests.conftest import login


def test_divisions_api(client: TestClient, session: Session) -> None:
    headers = login(client, session, "analyst1", Role.analyst, "4408")
    assert client.get("/api/v1/divisions").status_code == 401
    provinces = client.get("/api/v1/divisions", headers=headers).json()
    assert {"code": "44", "name": "广东省", "level": "province", "parent_code": None} in provinces
    detail = client.get("/api/v1/divisions/440802001", headers=headers).json()
    assert [a["code"] for a in detail["ancestors"]] == ["44", "4408", "440802"]
    towns = client.get("/api/v1/divisions", params={"within": "440802", "level": "town"},
                       headers=headers).json()
    assert towns and all(t["code"].startswith("440802") and len(t["code"]) == 9 for t in towns)
    missing = client.get("/api/v1/divisions/999999", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    feature = client.get("/api/v1/divisions/440802/boundary", headers=headers).json()
    assert feature["type"] == "Feature" and feature["properties"]["name"] == "赤坎区"
