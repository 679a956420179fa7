"""The jurisdiction contract (issue 18, "scoping written once per model"; issue 19, lookups,
exports and aggregates): every GET route of the app, API and pages, enumerated from the app
itself (a route whose path parameter this test cannot fill fails here the day it is added), is
asked by a user of each role of 赤坎区 (440802) on a fixture with records in 赤坎区 and 霞山区
(440803, tests/jurisdiction_fixture.py), path parameters filled with the other county's ids
and then with the county's own; no answer may carry the other county's records (its refs, ID
numbers, phones, the marker every one of its texts carries, or a JSON row whose
``*division_code`` is in it), and aggregates must count
赤坎区 alone. City (4408) and province (44) users must see both counties (the fixture is
visible where it should be). Every write route aimed at the other county is refused and changes
no row.

What may show the other county: the divisions (geo routes, the map's boundaries, pickers: a
place name is not a record), the public zones notice (published to everyone by design), the
OpenAPI and documentation pages."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from fastapi import Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fangkong.app import create_app
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock, utc_now
from fangkong.core.config import get_settings
from fangkong.deps import get_actor, get_session, get_transactions
from fangkong.user.api import actor_outside
from fangkong.web.auth import Viewer, get_viewer, viewer_outside
from tests import jurisdiction_fixture as jf
from tests.conftest import guarded_session, transactions_in

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Routes that may show the other county, and why (module docstring).
OPEN_ROUTES = {
    "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/healthz",
    "/api/v1/divisions", "/api/v1/divisions/{code}", "/api/v1/divisions/{code}/boundary",
    "/api/v1/divisions/{code}/units", "/map/{code}.geojson",
    "/api/v1/public/zones", "/api/v1/public/zones.html",
    "/api/v1/monitoring/link/{token}",  # a person's own link: its signed token is the key
    "/api/v1/monitoring/link/{token}/page",
}


def _ids(attr: str) -> Callable[[jf.County], str]:
    return lambda county: str(getattr(county, attr)[0])


# How each path parameter is filled for a county: a record of that county where the fixture has
# one; else a value that names no record (the route is still asked, and must answer < 500).
FILL: dict[str, Callable[[jf.County], str]] = {
    "person_id": _ids("person_ids"),
    "case_id": _ids("case_ids"),
    "task_id": _ids("task_ids"),
    "zone_id": _ids("zone_ids"),
    "site_id": _ids("site_ids"),
    "stay_id": _ids("stay_ids"),
    "report_id": _ids("report_ids"),
    "contact_id": _ids("contact_ids"),
    "code": lambda county: county.code,
    "round_id": lambda county: "ROUND",  # the one round spans both counties
    "alert_id": _ids("alert_ids"),
    "cluster_id": lambda county: "999999",
    "request_id": lambda county: "999999",
    "group_id": lambda county: "999999",
    "proposal_id": lambda county: "999999",
    "user_id": _ids("user_ids"),
    "rule_id": lambda county: "999999",
    "exposure_id": lambda county: "999999",
    "transfer_id": lambda county: "999999",
    "series": lambda county: jf.SERIES,
    "pack_id": lambda county: "cn_v9",
    "outcome": lambda county: "notified",  # a community worker's follow-up of a contact
    "decision": lambda county: "approve",  # a commander's decision on a zone's proposal
    "period_id": _ids("period_ids"),
    "token": lambda county: "999999",  # a monitoring link's token: none in the fixture
}
PARAM = re.compile(r"\{([^}]+)\}")


def _routes() -> list[tuple[str, str]]:
    app = create_app(get_settings())
    out = set()
    for route in iter_route_contexts(app.router.routes):
        for method in route.methods or ():
            if method == "GET" or method in WRITE_METHODS:
                out.add((method, route.path))
    return sorted(out)


ROUTES = _routes()
GET_ROUTES = [p for m, p in ROUTES if m == "GET"]
WRITE_ROUTES = [(m, p) for m, p in ROUTES if m in WRITE_METHODS]


def test_every_path_parameter_can_be_filled() -> None:
    """A new route with a parameter this test does not know fails here until FILL has it."""
    unknown = {(p, name) for _, p in ROUTES for name in PARAM.findall(p) if name not in FILL}
    assert not unknown, f"give these path parameters a filling in FILL: {sorted(unknown)}"


@dataclass
class World:
    client: TestClient
    fx: jf.Fixture
    session: Session

    def fill(self, path: str, county: jf.County) -> str:
        def one(m: re.Match[str]) -> str:
            value = FILL[m.group(1)](county)
            return str(self.fx.round_id) if value == "ROUND" else value
        return PARAM.sub(one, path)

    def get(self, path: str, role: Role, grant: str, params: dict[str, str] | None = None
            ) -> Response:
        return self.client.get(path, params=params or {},
                               headers={"X-Role": role.value, "X-Grant": grant})


USER_IDS: dict[tuple[Role, str], int] = {}  # the fixture's users, filled by ``world``


def _actor(request: Request) -> Actor:
    role, grant = Role(request.headers["x-role"]), request.headers["x-grant"]
    return Actor(username=f"{role.value}@{grant}", role=role, grants=(grant,),
                 user_id=USER_IDS[role, grant], source="test")


def _viewer(request: Request) -> Viewer:
    return Viewer(actor=_actor(request), lang="zh-Hans", large_text=False)


@pytest.fixture(scope="module")
def world(engine: Engine) -> Iterator[World]:
    """The fixture built once, in a transaction rolled back at the end; the actor is named by
    the request's ``X-Role`` and ``X-Grant`` headers (sign-in is not what is tested). GET
    requests run under the suite's guard against writes (tests/conftest.py)."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint",
                      expire_on_commit=False)
    fx = jf.build(session)
    USER_IDS.update(fx.user_ids)
    app = create_app(get_settings(), engine=engine)

    app.dependency_overrides.update({
        get_session: guarded_session(session, savepoint_writes=True), get_actor: _actor,
        actor_outside: _actor, get_viewer: _viewer, viewer_outside: _viewer,
        get_transactions: lambda: transactions_in(session)})
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield World(client, fx, session)
    finally:
        session.close()
        outer.rollback()
        conn.close()


def _text(resp: Response) -> str:
    """The answer as text: JSON, HTML and CSV as they are, a workbook's cells."""
    if "spreadsheetml" in resp.headers.get("content-type", ""):
        return "\n".join(map(str, _cells(resp)))
    return resp.text


def _cells(resp: Response) -> list[Any]:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(resp.content), read_only=True)
    return [c for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for c in row if c is not None]


def _leaks(text: str, county: jf.County, asked: dict[str, str] | None = None) -> list[str]:
    """The other county's texts in an answer, but for the values the request itself sent (an
    error saying "person X not found" repeats the X asked; that a looked-up value answers as a
    missing one is :func:`test_lookups_answer_as_for_nothing`'s business)."""
    found = []
    if text[:1] in "[{":  # a JSON record of the county, by its division code
        with contextlib.suppress(ValueError):
            found += [f"{k}={v}" for k, v in _divisions(json.loads(text))
                      if v.startswith(county.code)]
    for value in (asked or {}).values():  # as sent, and as the page's own links encode it
        for form in (value, quote(value, safe=""), quote_plus(value)):
            text = text.replace(form, "")
    found += [m for m in [jf.MARKER, *county.markers()] if m in text]
    return found


def _divisions(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``*division_code`` field's value in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith("division_code") and isinstance(v, str):
                yield k, v
            else:
                yield from _divisions(v)
    elif isinstance(value, list):
        for v in value:
            yield from _divisions(v)


def _openapi_queries() -> dict[str, dict[str, bool]]:
    """Each API GET route's query parameters (name -> required), from the OpenAPI."""
    spec = create_app(get_settings()).openapi()
    return {path: {q["name"]: bool(q.get("required")) for q in ops["get"].get("parameters", [])
                   if q["in"] == "query"}
            for path, ops in spec["paths"].items() if "get" in ops}


QUERIES = _openapi_queries()
TODAY = utc_now().date()
Filler = Callable[[jf.County], str]
# How a required query parameter is filled (a new route with an unknown one fails below).
QUERY_FILL: dict[str, Filler] = {
    "on": lambda c: TODAY.isoformat(),
    "start": lambda c: (TODAY - timedelta(days=7)).isoformat(),
    "end": lambda c: (TODAY + timedelta(days=1)).isoformat(),
    "date_from": lambda c: (TODAY - timedelta(days=14)).isoformat(),
    "date_to": lambda c: TODAY.isoformat(),
    "division": lambda c: c.code,
    "area": lambda c: c.code,
    "person_ref": lambda c: c.refs[0],
    "role": lambda c: "close_contact",
    "anchor": lambda c: TODAY.isoformat(),
    "level": lambda c: "high",
    "last_infection": lambda c: (TODAY - timedelta(days=3)).isoformat(),
    "prevalence": lambda c: "0.01",
}
# More ways of asking a route: lookups by ref, ID number and phone, exports, narrowing to a
# division (the other county's, when filled with it), the pages' jurisdiction picker.
VARIANTS: dict[str, list[dict[str, Filler]]] = {
    "/api/v1/persons": [{"id_number": lambda c: c.id_numbers[1]},
                        {"phone": lambda c: c.phones[1]},
                        {"name": lambda c: f"{c.refs[1].split('-')[0]}人1"},
                        {"household_ref": lambda c: f"{c.refs[0].split('-')[0]}-H0"}],
    "/api/v1/stays": [{"person_ref": lambda c: c.refs[4]}],
    "/api/v1/testing/rounds/{round_id}/unsampled": [{"format": lambda c: "csv"},
                                                   {"within": lambda c: c.code}],
    "/api/v1/testing/rounds/{round_id}/coverage": [{"within": lambda c: c.code}],
    "/brief/download": [{"format": lambda c: "xlsx"}],
    "/cases": [{"division": lambda c: c.code}],
    # the workspace's finders: the global search and the case report's person search, by
    # ID number, phone, name, person ref and case ref; the case form for a chosen person
    **{page: [{"q": lambda c: c.id_numbers[1]}, {"q": lambda c: c.phones[1]},
              {"q": lambda c: f"{c.refs[1].split('-')[0]}人1"}, {"q": lambda c: c.refs[2]},
              {"q": lambda c: c.case_refs[0]}] for page in ("/search", "/report")},
    "/report/case": [{"person": lambda c: str(c.person_ids[0])}],
    # the epidemiologist's interview and chain, as shown after a save
    "/cases/{case_id}/interview": [{"saved": lambda c: "1"}],
    "/cases/{case_id}/chain": [{"done": lambda c: "set"}, {"done": lambda c: "clear"}],
    "/cases/{case_id}/contacts": [{"interviewed": lambda c: "1"}],
    "/tasks": [{"division": lambda c: c.code}],
    "/api/v1/monitoring/due": [{"on": lambda c: c.period_start}],
    # the lists' exports: every row of the filtered list, as CSV and XLSX
    **{page: [{"format": lambda c: "xlsx"}, {"division": lambda c: c.code},
              {"format": lambda c: "xlsx", "division": lambda c: c.code}]
       for page in ("/export/cases", "/export/tasks")},
    **{page: [{"j": lambda c: c.code}] for page in
       ("/", "/brief", "/zones", "/isolation", "/surveillance", "/testing")},
}


# Pages' own defaults replaced: the brief's PDF (its text compressed, not read here; rendering
# it for every role would take most of the test's time) is asked as HTML.
PAGE_BASE: dict[str, dict[str, Filler]] = {"/brief/download": {"format": lambda c: "html"}}


def _calls(path: str) -> list[dict[str, Filler]]:
    """The query strings a route is asked with: its required parameters filled, then each
    variant; every optional ``division`` filter also set."""
    known = QUERIES.get(path, {})
    base = {n: QUERY_FILL[n] for n, required in known.items() if required}
    base.update(PAGE_BASE.get(path, {}))
    calls = [base] + [{**base, **v} for v in VARIANTS.get(path, [])]
    if known.get("division") is False:
        calls.append({**base, "division": QUERY_FILL["division"]})
    return calls


def test_every_required_query_parameter_can_be_filled() -> None:
    unknown = {(p, n) for p, qs in QUERIES.items() for n, req in qs.items()
               if req and n not in QUERY_FILL}
    assert not unknown, f"give these query parameters a filling in QUERY_FILL: {sorted(unknown)}"


def _ask(world: World, path: str, county: jf.County, role: Role, grant: str
         ) -> list[tuple[dict[str, str], Response]]:
    out = []
    for call in _calls(path):
        params = {k: f(county) for k, f in call.items()}
        out.append((params, world.get(world.fill(path, county), role, grant, params)))
    return out


def _names_a_record(path: str, county: jf.County) -> bool:
    return any(FILL[n](county) not in {"999999", "ROUND", "cn_v9", jf.SERIES}
               for n in PARAM.findall(path))


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", GET_ROUTES)
def test_county_user_sees_nothing_of_the_other_county(world: World, path: str,
                                                      role: Role) -> None:
    fx = world.fx
    for params, resp in _ask(world, path, fx.other, role, jf.OWN):
        assert resp.status_code < 500, (params, resp.text)
        if path in OPEN_ROUTES:
            continue
        assert not _leaks(_text(resp), fx.other, params), (params, resp.status_code,
                                                           resp.text[:2000])
        if _names_a_record(path, fx.other):
            # a record of the other county asked by id: answered as one that does not exist
            # (or refused by role), never shown
            assert resp.status_code in (403, 404, 422), (params, resp.status_code,
                                                         resp.text[:500])
    for params, resp in _ask(world, path, fx.own, role, jf.OWN):
        assert resp.status_code < 500, (params, resp.text)
        if _names_a_record(path, fx.own):
            assert resp.status_code != 404, (params, resp.text[:500])  # one's own is there
        if path not in OPEN_ROUTES:
            assert not _leaks(_text(resp), fx.other), (params, resp.status_code,
                                                       resp.text[:2000])


# Routes whose answer shows no record of the fixture even to the city's administrator, and why:
# the county test proves nothing for them until the fixture has such records.
SILENT = {
    "/api/v1/divisions": "places, not records", "/api/v1/divisions/{code}": "a place",
    "/api/v1/divisions/{code}/boundary": "a place", "/api/v1/divisions/{code}/units": "no units",
    "/map/{code}.geojson": "places", "/api/v1/policy/packs": "policy, no records",
    "/api/v1/policy/packs/{pack_id}": "policy", "/api/v1/policy/plan": "policy",
    "/api/v1/policy/lookback": "policy", "/api/v1/policy/zone-schedule": "policy",
    "/api/v1/testing/advice": "a computation", "/api/v1/testing/plan": "counts only",
    "/api/v1/tracing/venue-types": "a list of kinds", "/api/v1/users/me": "oneself",
    "/openapi.json": "", "/docs": "", "/docs/oauth2-redirect": "", "/redoc": "", "/healthz": "",
    "/login": "", "/password": "",
    "/api/v1/isolation/clocks": "counts only (checked by the aggregate test)",
    "/api/v1/isolation/clocks/transfers": "no transfers in the fixture",
    "/api/v1/isolation/beds": "counts only (aggregate test)",
    "/api/v1/isolation/reserve": "counts only (aggregate test)",
    "/api/v1/isolation/release-proposals": "no stay due for release",
    "/api/v1/isolation/sites/{site_id}/occupancy": "counts only",
    "/api/v1/isolation/sites/{site_id}/rooms": "room labels only",
    "/api/v1/testing/keygroups/{group_id}/compliance": "no key groups in the fixture",
    "/api/v1/testing/rounds/{round_id}": "the round spans both counties",
    "/api/v1/testing/rounds/{round_id}/turnaround": "no results in the fixture",
    "/api/v1/testing/series/{series}": "counts only",
    "/api/v1/tracing/assist": "no assist requests in the fixture",
    "/api/v1/tracing/assist/{request_id}": "no assist requests in the fixture",
    "/api/v1/tracing/clusters": "ids only", "/api/v1/tracing/clusters/{cluster_id}": "none",
    "/api/v1/tracing/indicators": "counts only (aggregate test)",
    "/api/v1/stays/requests": "no stay requests in the fixture",
    "/api/v1/zones/proposals": "no proposals in the fixture",
    "/api/v1/zone-checks/prohibitions": "no breaches in the fixture",
    "/isolation": "counts only", "/surveillance": "counts only",
    "/api/v1/stays": "no visitors' stays in the fixture",
    "/sw.js": "the service worker's code", "/manifest.webmanifest": "the app's name",
    "/api/v1/tracing/cases/{case_id}/interview": "no interviews in the fixture",
    "/api/v1/tracing/cases/{case_id}/infector": "no infector decisions in the fixture",
    "/api/v1/monitoring/link/{token}": "no link in the fixture (its token is the key)",
    "/api/v1/monitoring/link/{token}/page": "no link in the fixture (its token is the key)",
}


@pytest.mark.parametrize("grant", [jf.CITY, jf.PROVINCE])
def test_city_and_province_see_both_counties(world: World, grant: str) -> None:
    """The fixture is visible where it should be: the other county's records appear to the
    city's and the province's administrator on every route but those listed in SILENT, so a
    county answer without them means something."""
    shown = {path for path in GET_ROUTES for _, resp in _ask(
        world, path, world.fx.other, Role.administrator, grant)
        if resp.status_code == 200 and _leaks(_text(resp), world.fx.other)}
    silent = set(GET_ROUTES) - shown
    assert silent == set(SILENT), (
        f"shown now, drop from SILENT: {sorted(set(SILENT) - silent)}; "
        f"silent, explain in SILENT or add records to the fixture: {sorted(silent - set(SILENT))}")


NOBODY = {"id_number": jf.id_number(jf.OWN, 9), "phone": "19902009999", "name": "无此人",
          "household_ref": "NOBODY-H0", "person_ref": "NOBODY-P0"}


@pytest.mark.parametrize("role", [Role.administrator, Role.epidemiologist,
                                  Role.community_worker])
@pytest.mark.parametrize(("path", "key", "value"), [
    ("/api/v1/persons", "id_number", lambda c: c.id_numbers[1]),
    ("/api/v1/persons", "phone", lambda c: c.phones[1]),
    ("/api/v1/persons", "name", lambda c: f"{c.refs[1].split('-')[0]}人1"),
    ("/api/v1/persons", "household_ref", lambda c: f"{c.refs[0].split('-')[0]}-H0"),
    ("/api/v1/stays", "person_ref", lambda c: c.refs[4]),
])
def test_lookups_answer_as_for_nothing(world: World, path: str, key: str, value: Filler,
                                       role: Role) -> None:
    """A lookup by ID number, phone, name, household or ref of the other county's person
    answers exactly as one of nobody; the same lookup of one's own county finds the person,
    and the city's user finds the other county's."""
    fx = world.fx
    other = world.get(path, role, jf.OWN, {key: value(fx.other)})
    nobody = world.get(path, role, jf.OWN, {key: NOBODY[key]})
    assert other.status_code == nobody.status_code
    assert other.text.replace(value(fx.other), "?") == nobody.text.replace(NOBODY[key], "?")
    if path == "/api/v1/persons" and nobody.status_code == 200:
        assert nobody.json()["items"] == []
        own = world.get(path, role, jf.OWN, {key: value(fx.own)})
        assert own.json()["items"], own.text
        city = world.get(path, role, jf.CITY, {key: value(fx.other)})
        assert [p["ref"] for p in city.json()["items"]] != [], city.text


def _same_for_county(world: World, path: str, params: dict[str, str],
                     narrowed: dict[str, str]) -> tuple[Any, Any]:
    county = world.get(world.fill(path, world.fx.own), Role.administrator, jf.OWN, params)
    city = world.get(world.fill(path, world.fx.own), Role.administrator, jf.CITY,
                     {**params, **narrowed})
    assert county.status_code == city.status_code == 200, (county.text, city.text)
    return county.json(), city.json()


# Aggregates and lists whose county answer must equal the city's narrowed to the county.
NARROWED = [
    ("/api/v1/tasks/overdue", {}, None),
    ("/api/v1/isolation/beds", {"on": TODAY.isoformat()}, "division"),
    ("/api/v1/isolation/reserve", {"on": TODAY.isoformat()}, "division"),
    ("/api/v1/isolation/sites", {}, "division"),
    ("/api/v1/surveillance/sentinels", {}, "division"),
    ("/api/v1/surveillance/reports", {}, "division"),
    ("/api/v1/zones", {}, "division"),
    ("/api/v1/tracing/venues", {}, "division"),
    ("/api/v1/testing/rounds/{round_id}/coverage", {}, "within"),
    ("/api/v1/testing/rounds/{round_id}/unsampled", {}, "within"),
    ("/api/v1/cases", {}, "division"),
    ("/api/v1/persons", {}, "division"),
    ("/api/v1/tasks", {}, "division"),
]


@pytest.mark.parametrize(("path", "params", "narrow"), NARROWED)
def test_county_aggregates_count_the_county_alone(world: World, path: str,
                                                  params: dict[str, str],
                                                  narrow: str | None) -> None:
    county, city = _same_for_county(world, path, params, {narrow: jf.OWN} if narrow else {})
    if narrow is None:  # a breakdown by division: the city's rows of the county
        city = [r for r in city if r["division_code"].startswith(jf.OWN)]
    assert county == city
    if path != "/api/v1/isolation/beds":  # no beds of a kind it counts in the fixture
        assert county not in ([], {}), "the fixture gives the county something to count here"


def test_county_figures_known_from_the_fixture(world: World) -> None:
    """Figures without a division filter, against the fixture's own numbers."""
    fx = world.fx
    round_path = f"/api/v1/testing/rounds/{fx.round_id}/status"
    for grant, persons in ((jf.OWN, jf.PERSONS), (jf.CITY, 2 * jf.PERSONS),
                           (jf.PROVINCE, 2 * jf.PERSONS)):
        status = world.get(round_path, Role.administrator, grant).json()
        assert (status["target"], status["sampled"]) == (persons, persons // 3), status
    span = {"date_from": (TODAY - timedelta(days=14)).isoformat(),
            "date_to": TODAY.isoformat()}
    curve = world.get("/api/v1/surveillance/curves/cases", Role.administrator, jf.OWN,
                      {**span, "division": jf.OWN})
    assert curve.status_code == 200, curve.text
    city = world.get("/api/v1/surveillance/curves/cases", Role.administrator, jf.CITY,
                     {**span, "division": jf.OWN})
    assert curve.json() == city.json()
    total = sum(p["total"] for p in curve.json())
    assert total == jf.CASES
    # the county user asking the city's curve gets the county's cases only
    wider = world.get("/api/v1/surveillance/curves/cases", Role.administrator, jf.OWN,
                      {**span, "division": jf.CITY})
    assert wider.status_code in (200, 403, 404, 422), wider.text
    if wider.status_code == 200:
        assert sum(p["total"] for p in wider.json()) == total, wider.text
    beside = world.get("/api/v1/surveillance/curves/cases", Role.administrator, jf.OWN,
                       {**span, "division": jf.OTHER})
    assert beside.status_code == 422, beside.text  # not a curve of zeros
    whole = world.get("/api/v1/surveillance/curves/cases", Role.administrator, jf.CITY,
                      {**span, "division": jf.CITY})
    assert sum(p["total"] for p in whole.json()) == 2 * jf.CASES
    span = {"start": span["date_from"], "end": (TODAY + timedelta(days=1)).isoformat()}
    county = world.get("/api/v1/tracing/indicators", Role.administrator, jf.OWN, span)
    city = world.get("/api/v1/tracing/indicators", Role.administrator, jf.CITY, span)
    assert county.status_code == city.status_code == 200, (county.text, city.text)
    assert county.json() != city.json()  # the city counts both counties' cases


def test_county_brief_counts_the_county_alone(world: World) -> None:
    """The brief (an export: its workbook's every cell) of the county user equals the city
    user's brief of the county, at one instant (its rates run with the clock)."""
    params = {"format": "xlsx", "j": jf.OWN}
    instant = utc_now()
    set_clock(lambda: instant)
    try:
        county = world.get("/brief/download", Role.commander, jf.OWN, params)
        city = world.get("/brief/download", Role.commander, jf.CITY, params)
        whole = world.get("/brief/download", Role.commander, jf.CITY, {**params, "j": jf.CITY})
    finally:
        set_clock(None)
    assert county.status_code == city.status_code == whole.status_code == 200
    assert _cells(county) == _cells(city)
    assert _cells(whole) != _cells(city)  # the fixture's other county changes the figures



Body = Callable[[jf.Fixture, jf.County], dict[str, Any]]


def _now() -> str:
    return utc_now().isoformat()


def _day(days: int = 0) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


# Valid bodies aimed at a county (the other one: to be refused; the own one: to be accepted,
# which proves the refusal is the jurisdiction's and not the body's). A write route not here is
# still asked with an empty body at the other county's ids (refused, nothing changed).
BODIES: dict[tuple[str, str], Body] = {
    # (a worker's report of the fixture's period, whose days are all to come, is refused in
    # both counties: tests/monitoring/test_api.py asks it across counties)
    ("POST", "/api/v1/monitoring/periods/{period_id}/link"): lambda fx, c: {},
    ("POST", "/api/v1/persons"): lambda fx, c: {
        "ref": f"NEW-{c.code}", "name": "新人", "division_code": c.code + "001001"},
    ("PATCH", "/api/v1/persons/{person_id}"): lambda fx, c: {"address": "改址"},
    ("POST", "/api/v1/cases"): lambda fx, c: {
        "ref": f"NEWC-{c.code}", "person_ref": c.refs[5], "classification": "confirmed",
        "severity": "mild", "onset_date": _day(-1), "reported_at": _now(),
        "detection_mode": "fever_clinic", "owning_division_code": c.code},
    ("POST", "/api/v1/cases/{case_id}/classification"): lambda fx, c: {
        "classification": "confirmed", "severity": "moderate", "note": "CT"},
    ("POST", "/api/v1/tasks"): lambda fx, c: {
        "type": "investigate_case", "title": "新任务", "due_at": _now(),
        "owning_division_code": c.code},
    ("PATCH", "/api/v1/tasks/{task_id}"): lambda fx, c: {"note": "改"},
    ("POST", "/api/v1/zones"): lambda fx, c: {
        "name": "新区", "level": "high", "owning_division_code": c.code, "pack_id": "cn_v9",
        "members": [{"division_code": c.code + "001001", "detail": "1栋"}],
        "last_infection_date": _day(-1)},
    ("POST", "/api/v1/zones/{zone_id}/infections"): lambda fx, c: {"reported_date": _day()},
    ("POST", "/api/v1/zones/{zone_id}/rounds"): lambda fx, c: {
        "round_date": _day(), "all_negative": True},
    ("POST", "/api/v1/zones/{zone_id}/level"): lambda fx, c: {
        "to_level": "medium", "reason": "降级"},
    ("POST", "/api/v1/zones/{zone_id}/lift"): lambda fx, c: {"reason": "解封"},
    ("POST", "/api/v1/isolation/sites"): lambda fx, c: {
        "code": f"NEWS-{c.code}", "name": "新酒店", "type": "quarantine_hotel",
        "division_code": c.code + "001", "rooms": [{"label": "N1"}]},
    ("POST", "/api/v1/isolation/stays"): lambda fx, c: {
        "person_ref": c.refs[5], "kind": "home_health_monitoring", "start_date": _day(),
        "planned_end": _day(7)},
    ("POST", "/api/v1/isolation/stays/{stay_id}/release"): lambda fx, c: {"on": _day(5)},
    ("POST", "/api/v1/surveillance/sentinels"): lambda fx, c: {
        "code": f"NEWS-{c.code}", "name": "新诊所", "kind": "fever_clinic",
        "division_code": c.code + "001"},
    ("POST", "/api/v1/surveillance/reports"): lambda fx, c: {
        "unit_code": f"{c.refs[0].split('-')[0]}-S", "indicator": "visits",
        "period_start": _day(-5), "value": 3},
    ("POST", "/api/v1/tracing/venues"): lambda fx, c: {
        "code": f"NEWV-{c.code}", "name": "新店", "venue_type": "restaurant",
        "division_code": c.code + "001"},
    ("POST", "/api/v1/tracing/exposures"): lambda fx, c: {
        "source_case_id": c.case_ids[1], "exposed_person_id": c.person_ids[5],
        "first_exposure": _day(-2), "last_exposure": _day(-1), "setting": "household"},
    ("POST", "/api/v1/users"): lambda fx, c: {
        "username": f"new_{c.code}", "role": "analyst", "jurisdictions": [c.code],
        "password": "a long and unusual passphrase 42"},
    ("PUT", "/api/v1/users/{user_id}/password"): lambda fx, c: {
        "password": "a long and unusual passphrase 42"},
    ("POST", "/api/v1/users/{user_id}/disable"): lambda fx, c: {},
    ("POST", "/api/v1/tracing/contacts/{contact_id}/status"): lambda fx, c: {
        "status": "notified"},
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/acknowledge"): lambda fx, c: {"note": "看"},
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/dismiss"): lambda fx, c: {"note": "否"},
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/investigate"): lambda fx, c: {
        "note": "查", "due_at": _now()},
    # a page's form (its fields posted as JSON are not read): an empty draft of the interview
    ("POST", "/cases/{case_id}/interview"): lambda fx, c: {},
    ("PUT", "/api/v1/tracing/cases/{case_id}/interview"): lambda fx, c: {
        "answers": {"symptoms": ["fever"], "symptom_note": "发热"}, "version": 0},
    ("PUT", "/api/v1/tracing/cases/{case_id}/infector"): lambda fx, c: {
        "infector_case_id": None, "reason": "来源不明", "version": 0},
    ("POST", "/api/v1/testing/rounds"): lambda fx, c: {
        "name": "新一轮", "area": [c.code], "start_at": _now(),
        "deadline_at": (utc_now() + timedelta(hours=8)).isoformat()},
}


def _counts(session: Session) -> dict[str, int]:
    """Rows of every table but the audit trail (a refused write may be audited)."""
    from fangkong.core.db import Base

    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables if "audit" not in t.name}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _write(world: World, method: str, path: str, county: jf.County,
           body: dict[str, Any]) -> Response:
    headers = {"X-Role": Role.administrator.value, "X-Grant": jf.OWN}
    if not path.startswith("/api/"):  # a page's form: with its CSRF token
        if "fangkong_csrf" not in world.client.cookies:
            world.client.get("/login")
        headers["X-CSRFToken"] = world.client.cookies["fangkong_csrf"]
    return world.client.request(method, world.fill(path, county), json=body, headers=headers)


# Write routes aimed at no record of anyone else, which a county user may use: what they do is
# the actor's own (their account, their jurisdiction's overdue tasks) or a computation.
OWN_WRITES = {
    ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/logout"), ("POST", "/login"),
    ("POST", "/logout"), ("POST", "/prefs"), ("POST", "/password"),
    ("PUT", "/api/v1/users/me/password"), ("POST", "/api/v1/policy/check"),
    ("POST", "/api/v1/isolation/assign"),
    ("POST", "/api/v1/tasks/escalate"),  # escalates the actor's jurisdiction's tasks only
    ("POST", "/api/v1/zones/evaluate"),  # evaluates the actor's jurisdiction's zones only
    ("POST", "/api/v1/monitoring/check"),  # checks the actor's jurisdiction's periods only
}


def test_every_write_body_names_a_write_route() -> None:
    assert not set(BODIES) - set(WRITE_ROUTES)


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_writes_aimed_at_the_other_county_are_refused(world: World, method: str,
                                                      path: str) -> None:
    """As the county's administrator (every permission: a refusal is the jurisdiction's)."""
    fx = world.fx
    make = BODIES.get((method, path), lambda fx, c: {})
    before = _counts(world.session)
    resp = _write(world, method, path, fx.other, make(fx, fx.other))
    assert resp.status_code < 500, resp.text
    if (method, path) in OWN_WRITES:
        assert not _leaks(resp.text, fx.other), resp.text
        if path == "/api/v1/tasks/escalate" and resp.status_code == 200:
            assert set(resp.json()["task_ids"]) <= set(fx.own.task_ids), resp.text
        if path == "/api/v1/zones/evaluate" and resp.status_code == 200:
            assert {z["zone_id"] for z in resp.json()} <= set(fx.own.zone_ids), resp.text
        return
    assert not 200 <= resp.status_code < 300, resp.text
    sent = {str(i): v for i, v in enumerate(_strings(make(fx, fx.other)))}
    assert not _leaks(resp.text, fx.other, sent), resp.text  # but an echo of what was sent
    assert _counts(world.session) == before
    if (method, path) in BODIES:  # the same write in the county's own is accepted
        own = world.session.begin_nested()
        try:
            resp = _write(world, method, path, fx.own, make(fx, fx.own))
            assert 200 <= resp.status_code < 300, resp.text
        finally:
            own.rollback()


def test_summary(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    api = [p for p in GET_ROUTES if p.startswith("/api/")]
    pages = [p for p in GET_ROUTES if not p.startswith("/api/")]
    calls = sum(len(_calls(p)) for p in GET_ROUTES)
    with capsys.disabled():
        print(f"\njurisdiction contract: covered {len(api)} API GET routes, {len(pages)} pages "
              f"({calls} query variants, x{len(Role)} roles, both counties' ids), "
              f"{len(WRITE_ROUTES)} write routes ({len(BODIES)} with valid bodies)")
    assert api and pages and WRITE_ROUTES
