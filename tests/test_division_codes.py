"""Empty and malformed division codes are refused everywhere: every API parameter and body field
that takes one (found from the app's OpenAPI, so a new route is covered the day it is added),
and the CLI's options. An empty code would otherwise be a prefix of every code: a county user's
round over ``[""]`` covered the whole country."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.division import MESSAGES
from tests.conftest import login, make_actor
from tests.testing.helpers import make_persons

BAD = ["", "abc", "44080", "4408a2", "４４０８", "4408 ", "4408' OR '1'='1"]
PARAM = re.compile(r"^(division|within|parent|area|jurisdiction|county|j)$")
FIELD = re.compile(r"(^|_)(division|division_codes?|area|jurisdictions)$")


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return [(method, path, op) for path, ops in spec["paths"].items()
            for method, op in ops.items()]


def _example(schema: dict[str, Any]) -> str:
    """A valid value for a parameter that is not the one under test."""
    schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("format") == "date":
        return "2026-01-01"
    if schema.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return {"integer": "1", "number": "0.5", "boolean": "true"}.get(schema.get("type", ""), "x")


def _division_params(op: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters", []) if PARAM.match(p["name"])
            or (p["name"] == "code" and path.startswith("/api/v1/divisions/"))]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.fixture
def commander(client: TestClient, session: Session) -> dict[str, str]:
    """A national administrator: every write route is open to the role, so what refuses a
    request is its input (a role without a route's permission is refused first, with 403)."""
    return login(client, session, "chief", Role.administrator, "CN")


def test_every_division_parameter_refuses_malformed_codes(
        client: TestClient, commander: dict[str, str]) -> None:
    checked = set()
    for method, path, op in _operations(client.app):
        for param in _division_params(op, path):
            for bad in BAD:
                if (param["in"] == "path" and bad.strip() != bad) or (
                        param["in"] == "path" and not bad):
                    continue  # not a path a client can send
                query = {p["name"]: _example(p["schema"]) for p in op.get("parameters", [])
                         if p["in"] == "query" and p.get("required") and p is not param}
                url = path
                for p in op.get("parameters", []):
                    if p["in"] == "path":
                        value = bad if p is param else _example(p["schema"])
                        url = url.replace("{" + p["name"] + "}", value)
                if param["in"] == "query":
                    query[param["name"]] = bad
                resp = client.request(method.upper(), url, params=query, headers=commander)
                where = f"{method.upper()} {path} {param['name']}={bad!r}"
                assert resp.status_code == 422, (where, resp.status_code, resp.text)
                problems = resp.json()["error"]["problems"]
                assert {"field": param["name"], "message": MESSAGES["en"]} in problems, where
                checked.add((method, path, param["name"]))
    print(f"{len(checked)} division parameters checked")
    # the filters the review found (about 19 list endpoints) and the others
    assert len(checked) >= 25
    assert ("get", "/api/v1/public/zones.html", "division") in checked


def test_every_division_body_field_refuses_malformed_codes(
        client: TestClient, commander: dict[str, str]) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    checked = set()
    for method, path, op in _operations(client.app):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        schema = _resolve(spec, content["application/json"]["schema"])
        for name, prop in schema.get("properties", {}).items():
            if not FIELD.search(name):
                continue
            prop = _resolve(spec, prop)
            many = prop.get("type") == "array"
            url = re.sub(r"\{[^}]+\}", "1", path)
            for bad in BAD:
                resp = client.request(method.upper(), url, headers=commander,
                                      json={name: [bad] if many else bad})
                where = f"{method.upper()} {path} {name}={bad!r}"
                assert resp.status_code == 422, (where, resp.status_code, resp.text)
                field = f"{name}.0" if many else name
                assert {"field": field, "message": MESSAGES["en"]} in \
                    resp.json()["error"]["problems"], (where, resp.text)
            checked.add((method, path, name))
    print(f"{len(checked)} division body fields checked")
    assert {("post", "/api/v1/testing/rounds", "area"), ("post", "/api/v1/users", "jurisdictions"),
            ("post", "/api/v1/zones", "owning_division_code")} <= checked
    assert len(checked) >= 12


def test_the_message_is_translated(client: TestClient, commander: dict[str, str]) -> None:
    for header, lang in (("zh-TW,zh;q=0.8", "zh-Hant"), ("zh-CN", "zh-Hans"),
                         ("en-GB", "en"), ("fr", "en")):
        resp = client.get("/api/v1/public/zones", params={"division": "x"},
                          headers={"Accept-Language": header})
        assert resp.status_code == 422
        assert resp.json()["error"]["problems"] == [
            {"field": "division", "message": MESSAGES[lang]}]


def test_a_county_officer_cannot_create_a_city_wide_round(
        client: TestClient, session: Session) -> None:
    """Issue 19, item 5: {"area": [""]} made a round over every county of the city."""
    make_persons(session, make_actor(), 3, code="440802001001", prefix="CW")
    make_persons(session, make_actor(), 2, code="440803001001", prefix="CX")
    headers = login(client, session, "county", Role.testing_officer, "440802")
    start = datetime.now(UTC)
    body = {"name": "R", "start_at": start.isoformat(),
            "deadline_at": (start + timedelta(days=1)).isoformat()}
    for area in ([""], ["440802", ""], ["44080x"]):
        resp = client.post("/api/v1/testing/rounds", json=body | {"area": area}, headers=headers)
        assert resp.status_code == 422, resp.text
    resp = client.post("/api/v1/testing/rounds", headers=headers,
                       json=body | {"area": ["440802"], "zones": {"": "high"}})
    assert resp.status_code == 422 and "zones" in resp.text
    epidemiologist = login(client, session, "epi", Role.epidemiologist, "440802")
    resp = client.post("/api/v1/zones", headers=epidemiologist, json={
        "name": "Z", "level": "high", "owning_division_code": "440802",
        "members": [{"division_code": ""}], "last_infection_date": "2026-01-01"})
    assert resp.status_code == 422
    assert {"field": "members.0.division_code", "message": MESSAGES["en"]} in \
        resp.json()["error"]["problems"]
    resp = client.post("/api/v1/testing/rounds", json=body | {"area": ["440802"]},
                       headers=headers)
    assert resp.status_code == 201 and resp.json()["target"] == 3
    resp = client.get("/api/v1/testing/plan", params={"area": "440802,"}, headers=headers)
    assert resp.status_code == 422


def test_users_get_no_empty_jurisdiction(client: TestClient, commander: dict[str, str],
                                         session: Session) -> None:
    admin = login(client, session, "root", Role.administrator, "CN")
    body = {"username": "u1", "role": "analyst", "password": "long enough password"}
    assert client.post("/api/v1/users", json=body | {"jurisdictions": [""]},
                       headers=admin).status_code == 422
    assert client.post("/api/v1/users", json=body | {"jurisdictions": ["CN"]},
                       headers=admin).status_code == 201


@pytest.mark.parametrize("args", [
    ["testing", "coverage", "--round", "1", "--within", ""],
    ["testing", "unsampled", "--round", "1", "--within", "44x"],
    ["testing", "plan", "--area", "440802,"],
    ["zone", "list", "--division", ""],
    ["zone", "notice", "--division", "4408 "],
    ["isolation", "beds", "--on", "2026-01-01", "--division", "abc"],
    ["surveillance", "alerts", "--division", ""],
    ["brief", "--jurisdiction", ""],
])
def test_cli_refuses_malformed_codes(args: list[str]) -> None:
    from typer.testing import CliRunner

    from fangkong.cli import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "not a division code" in result.output
