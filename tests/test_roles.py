"""Every write route against the role table (issue 19, item 6): each POST/PUT/PATCH/DELETE of
the app, enumerated from the app itself (a new route fails here until it is given its
permission below), is asked by a user of each role; a role without the route's permission
under ``ROLE_PERMS`` gets 403 whatever it sends, a role with it never does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fangkong.app import create_app
from fangkong.core.auth import ROLE_PERMS, Actor, Perm, Role
from fangkong.core.config import get_settings
from fangkong.deps import get_actor, get_session
from fangkong.user.api import actor_outside
from fangkong.web.auth import Viewer, get_viewer, viewer_outside
from tests.conftest import make_actor

P = Perm
EXPECTED: dict[tuple[str, str], Perm | None] = {
    # open, or any signed-in user
    ("POST", "/api/v1/auth/token"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): None,
    ("POST", "/prefs"): None,
    ("POST", "/api/v1/policy/check"): None,  # a computation: nothing is written
    ("POST", "/api/v1/auth/logout"): None,
    ("POST", "/password"): None,  # one's own password, the old one given
    ("PUT", "/api/v1/users/me/password"): None,
    ("POST", "/api/v1/users"): P.user_add,  # commanders too, no more rights than theirs
    ("PUT", "/api/v1/users/{user_id}/password"): P.user_admin,
    ("POST", "/api/v1/users/{user_id}/disable"): P.user_admin,
    ("POST", "/api/v1/users/{user_id}/enable"): P.user_admin,
    ("POST", "/api/v1/units"): P.task_write,
    ("POST", "/api/v1/persons"): P.person_write,
    ("POST", "/api/v1/persons/import"): P.person_write,
    ("PATCH", "/api/v1/persons/{person_id}"): P.person_write,
    ("POST", "/api/v1/stays"): P.person_write,
    ("POST", "/api/v1/stays/import"): P.person_write,
    ("POST", "/api/v1/stays/requests"): P.person_write,
    ("POST", "/api/v1/stays/requests/{stay_id}/accept"): P.person_write,
    ("POST", "/api/v1/stays/requests/{stay_id}/decline"): P.person_write,
    ("POST", "/api/v1/cases"): P.case_write,
    ("POST", "/api/v1/cases/import"): P.case_write,
    ("POST", "/api/v1/cases/{case_id}/classification"): P.case_write,
    ("POST", "/api/v1/tasks"): P.task_write,
    ("POST", "/api/v1/tasks/escalate"): P.task_write,
    ("PATCH", "/api/v1/tasks/{task_id}"): P.task_write,
    ("POST", "/api/v1/zones"): P.case_write,
    ("POST", "/api/v1/zones/evaluate"): P.case_write,
    ("POST", "/api/v1/zones/{zone_id}/infections"): P.case_write,
    ("POST", "/api/v1/zones/{zone_id}/rounds"): P.case_write,
    ("POST", "/api/v1/zones/{zone_id}/conditions"): P.case_write,
    # a zone's level and lifting are a commander's decision (README: `zone approve`)
    ("POST", "/api/v1/zones/proposals/{proposal_id}/approve"): P.zone_approve,
    ("POST", "/api/v1/zones/proposals/{proposal_id}/reject"): P.zone_approve,
    ("POST", "/api/v1/zones/{zone_id}/level"): P.zone_approve,
    ("POST", "/api/v1/zones/{zone_id}/lift"): P.zone_approve,
    ("POST", "/api/v1/isolation/assign"): P.isolation_read,  # planning: nothing is written
    ("POST", "/api/v1/isolation/assign/book"): P.isolation_write,
    ("POST", "/api/v1/isolation/sites"): P.isolation_write,
    ("POST", "/api/v1/isolation/stays"): P.isolation_write,
    ("POST", "/api/v1/isolation/stays/{stay_id}/tests"): P.isolation_write,
    ("POST", "/api/v1/isolation/stays/{stay_id}/release"): P.isolation_write,
    ("POST", "/api/v1/isolation/stays/{stay_id}/move"): P.isolation_write,
    ("POST", "/api/v1/isolation/vehicles"): P.isolation_write,
    ("POST", "/api/v1/isolation/transfers"): P.isolation_write,
    ("POST", "/api/v1/isolation/transfers/dispatch"): P.isolation_write,
    ("POST", "/api/v1/isolation/transfers/{transfer_id}/arrival"): P.isolation_write,
    ("POST", "/api/v1/surveillance/sentinels"): P.case_write,
    ("POST", "/api/v1/surveillance/reports"): P.case_write,
    ("POST", "/api/v1/surveillance/reports/import"): P.case_write,
    ("POST", "/api/v1/surveillance/rules"): P.case_write,
    ("POST", "/api/v1/surveillance/rules/{rule_id}/evaluate"): P.case_write,
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/acknowledge"): P.case_write,
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/investigate"): P.case_write,
    ("POST", "/api/v1/surveillance/alerts/{alert_id}/dismiss"): P.case_write,
    ("POST", "/api/v1/tracing/venues"): P.case_write,
    ("POST", "/api/v1/tracing/checkins/import"): P.person_write,
    ("POST", "/api/v1/tracing/cases/{case_id}/proposals"): P.case_write,
    ("POST", "/api/v1/tracing/exposures"): P.case_write,
    ("POST", "/api/v1/tracing/exposures/review"): P.case_write,
    ("POST", "/api/v1/tracing/exposures/{exposure_id}/review"): P.case_write,
    ("POST", "/api/v1/tracing/contacts/{contact_id}/status"): P.case_write,
    ("POST", "/api/v1/tracing/assist"): P.case_write,
    ("POST", "/api/v1/tracing/assist/{request_id}/accept"): P.case_write,
    ("POST", "/api/v1/tracing/assist/{request_id}/answer"): P.case_write,
    ("POST", "/api/v1/testing/rounds"): P.testing_write,
    ("POST", "/api/v1/testing/rounds/{round_id}/close"): P.testing_write,
    ("POST", "/api/v1/testing/rounds/{round_id}/tubes"): P.testing_write,
    ("POST", "/api/v1/testing/rounds/{round_id}/samples"): P.testing_write,
    ("POST", "/api/v1/testing/results"): P.testing_write,
    ("POST", "/api/v1/testing/points"): P.testing_write,
    ("POST", "/api/v1/testing/labs"): P.testing_write,
    ("POST", "/api/v1/testing/keygroups"): P.testing_write,
    ("POST", "/api/v1/testing/keygroups/{group_id}/members"): P.testing_write,
    # the workspace's forms (pages): the same permissions as the API routes they stand for
    ("POST", "/report/person"): P.person_write,
    ("POST", "/report/case"): P.case_write,
    ("POST", "/cases/{case_id}/contacts/review"): P.case_write,
    ("POST", "/cases/{case_id}/contacts/add"): P.case_write,
    # an entry made offline (a follow-up below), sent when the network returns
    ("POST", "/sync"): P.task_write,
    # a community worker's follow-up: notified or not reached, a sampling task done
    ("POST", "/community/contacts/{contact_id}/{outcome}"): P.task_write,
    ("POST", "/community/tasks/{task_id}/done"): P.task_write,
    # the epidemiologist's interview of a case and the infector of a case (the chain)
    ("POST", "/cases/{case_id}/interview"): P.case_write,
    ("POST", "/cases/{case_id}/chain/infector"): P.case_write,
    ("PUT", "/api/v1/tracing/cases/{case_id}/interview"): P.case_write,
    ("PUT", "/api/v1/tracing/cases/{case_id}/infector"): P.case_write,
    # the testing officer's desk: a round, tubes, points, labs, sample and result files
    ("POST", "/testing/desk/rounds"): P.testing_write,
    ("POST", "/testing/desk/rounds/{round_id}/tubes"): P.testing_write,
    ("POST", "/testing/desk/rounds/{round_id}/samples"): P.testing_write,
    ("POST", "/testing/desk/results"): P.testing_write,
    ("POST", "/testing/desk/points"): P.testing_write,
    ("POST", "/testing/desk/labs"): P.testing_write,
    # the isolation officer's desk: a batch planned and booked, a stay's tests and release,
    # transfers requested, dispatched and arrived
    ("POST", "/isolation/desk/batch/plan"): P.isolation_write,
    ("POST", "/isolation/desk/batch/book"): P.isolation_write,
    ("POST", "/isolation/desk/stays/{stay_id}/tests"): P.isolation_write,
    ("POST", "/isolation/desk/stays/{stay_id}/release"): P.isolation_write,
    ("POST", "/isolation/desk/transfers/request"): P.isolation_write,
    ("POST", "/isolation/desk/transfers/dispatch"): P.isolation_write,
    ("POST", "/isolation/desk/transfers/{transfer_id}/arrival"): P.isolation_write,
    # the commander's pages: a task assigned, closed or cancelled; a zone change decided; a
    # user added (the API's permissions)
    ("POST", "/tasks/{task_id}"): P.task_write,
    ("POST", "/zones/proposals/{proposal_id}/{decision}"): P.zone_approve,
    ("POST", "/users"): P.user_add,
    # home monitoring: a worker's report, a person's link, the missed-day check; the link's
    # own report is public, its signed token the only key (tests/monitoring)
    ("POST", "/api/v1/monitoring/periods/{period_id}/reports"): P.person_write,
    ("POST", "/api/v1/monitoring/periods/{period_id}/link"): P.person_write,
    ("POST", "/api/v1/monitoring/check"): P.task_write,
    ("POST", "/api/v1/monitoring/link/{token}/reports"): None,
    ("POST", "/api/v1/monitoring/link/{token}/page"): None,
}


def _write_routes() -> Iterator[tuple[str, str]]:
    app = create_app(get_settings())
    for route in iter_route_contexts(app.router.routes):
        for method in sorted((route.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}):
            yield method, route.path


ROUTES = sorted(set(_write_routes()))


def test_every_write_route_has_its_permission_here() -> None:
    assert set(ROUTES) == set(EXPECTED)


def test_only_commanders_and_administrators_approve_zone_changes() -> None:
    assert {r for r, perms in ROLE_PERMS.items() if P.zone_approve in perms} == {
        Role.commander, Role.administrator}


@pytest.fixture(scope="module")
def as_role(engine: Engine) -> Iterator[TestClient]:
    """One app for the module, in a transaction rolled back at the end; the actor is a user
    of 440802 with the role named in the request's ``X-Role`` header (sign-in is not what is
    tested here)."""
    conn = engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    app = create_app(get_settings(), engine=engine)

    def _session() -> Iterator[Session]:
        yield session

    def _actor(request: Request) -> Actor:
        return make_actor(Role(request.headers["x-role"]), "440802", name="r")

    app.dependency_overrides[get_session] = _session
    app.dependency_overrides[get_actor] = _actor
    app.dependency_overrides[actor_outside] = _actor  # the routes that hash a password

    def _viewer(request: Request) -> Viewer:  # the pages' forms
        return Viewer(actor=_actor(request), lang="en", large_text=False)

    app.dependency_overrides[get_viewer] = _viewer
    app.dependency_overrides[viewer_outside] = _viewer  # the pages that hash a password
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        session.close()
        outer.rollback()
        conn.close()


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_route_against_the_role_table(as_role: TestClient, method: str, path: str,
                                      role: Role) -> None:
    headers = {"X-Role": role.value}
    if not path.startswith("/api/"):  # a page's form: with its CSRF token
        if "fangkong_csrf" not in as_role.cookies:
            as_role.get("/login")
        headers["X-CSRFToken"] = as_role.cookies["fangkong_csrf"]
    resp = as_role.request(method, re.sub(r"\{[^}]+\}", "999999", path), headers=headers)
    perm = EXPECTED[(method, path)]
    if perm is not None and perm not in ROLE_PERMS[role]:
        assert resp.status_code == 403, resp.text
        if path.startswith("/api/"):
            assert resp.json()["error"]["code"] == "forbidden"
    else:
        assert resp.status_code != 403, resp.text
    assert resp.status_code < 500, resp.text
