"""Hardening of every response: security headers (CSP, framing, sniffing, referrer, HSTS only
over HTTPS), cookie flags, and the CSRF check of every state-changing page request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.config import get_settings
from fangkong.web.models import WebPreference
from tests.web.seed import PASSWORD, Seeded, seed
from tests.web.test_pages import form, sign_in

TEMPLATES = Path(__file__).parents[2] / "src" / "fangkong" / "web" / "templates"


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def csp(resp: object) -> dict[str, str]:
    header = resp.headers["content-security-policy"]  # type: ignore[attr-defined]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in header.split("; ")}


def assert_secured(resp: object, *, https: bool = False) -> None:
    where = f"{resp.request.method} {resp.request.url} ({resp.status_code})"  # type: ignore[attr-defined]
    headers = resp.headers  # type: ignore[attr-defined]
    assert "content-security-policy" in headers, where
    policy = csp(resp)
    assert policy["frame-ancestors"] == "'none'", where
    assert "'unsafe-inline'" not in policy["script-src"], where
    assert re.fullmatch(r"'self' 'nonce-[\w-]{20,}'( https://cdn\.jsdelivr\.net)?",
                        policy["script-src"]), where
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'", where
    assert headers["x-frame-options"] == "DENY", where
    assert headers["x-content-type-options"] == "nosniff", where
    assert headers["referrer-policy"] == "same-origin", where
    assert ("strict-transport-security" in headers) == https, where


def _a_round(session: Session) -> int:
    from datetime import timedelta

    from fangkong.core.clock import utc_now
    from fangkong.testing import service as testing
    from fangkong.testing.schemas import RoundCreate
    from tests.conftest import make_actor

    return testing.create_round(session, actor=make_actor(), data=RoundCreate(
        name="安全头", area=["440802"], start_at=utc_now(),
        deadline_at=utc_now() + timedelta(hours=8))).round_id


def test_every_response_carries_the_security_headers(app: FastAPI, client: TestClient,
                                                     session: Session, seeded: Seeded) -> None:
    """Every GET route of the app (pages, API, documentation), a static file, the public
    notice, a redirect, a 404, a 422, an unexpected error's 500."""

    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("boom")

    sign_in(client, "wcity")
    from sqlalchemy import func, select

    from fangkong.isolation.models import Site, Stay

    # the desks' pages of a real site and stay: ids are not 1 on PostgreSQL, whose sequences
    # go on across the tests
    samples = {"case_id": str(seeded.chikan_case_ids[0]), "code": "4408",
               "round_id": str(_a_round(session)),  # the testing desk's round page
               "site_id": str(session.scalar(select(func.min(Site.id)))),
               "stay_id": str(session.scalar(select(func.min(Stay.id))))}
    assert "None" not in samples.values(), samples
    pages = 0
    for route in routing.iter_route_contexts(app.routes):  # the included routers' routes too
        if "GET" not in (route.methods or ()):
            continue
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: samples.get(m.group(1), "1"), route.path)
        resp = client.get(path, follow_redirects=False)
        assert_secured(resp)
        if not path.startswith(("/api/", "/boom")):
            assert resp.status_code == 200, f"{path}: {resp.status_code}"
            pages += 1
    assert pages >= 12
    for path, status in (("/static/app.js", 200), ("/static/vendor/echarts.min.js", 200),
                         ("/api/v1/public/zones.html", 200), ("/no-such-page", 404),
                         ("/cases?reported_from=yesterday", 422), ("/boom-for-test", 500)):
        resp = client.get(path)
        assert resp.status_code == status, path
        assert_secured(resp)
    client.cookies.clear()
    assert_secured(client.get("/tasks", follow_redirects=False))  # 303 to the sign-in page


def test_inline_code_runs_only_with_the_nonce_of_its_response(client: TestClient,
                                                              seeded: Seeded) -> None:
    """No page of the dashboard has inline script; the two pages made with inline code (the
    public notice's <style>, the API documentation's <script>) carry the header's nonce,
    which is new for every response."""
    notice = client.get("/api/v1/public/zones.html")
    nonce = re.search(r"'nonce-([\w-]+)'", csp(notice)["style-src"])
    assert nonce and f'<style nonce="{nonce.group(1)}">' in notice.text
    again = client.get("/api/v1/public/zones.html")
    assert csp(again)["style-src"] != csp(notice)["style-src"]
    docs = client.get("/docs")
    nonce = re.search(r"'nonce-([\w-]+)'", csp(docs)["script-src"])
    assert nonce and docs.text.count(f'<script nonce="{nonce.group(1)}">') == 1
    assert "<script>" not in docs.text
    assert "https://cdn.jsdelivr.net" in csp(docs)["script-src"]
    sign_in(client, "wcity")
    page = client.get("/")
    assert "https://cdn" not in page.headers["content-security-policy"]
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == []
    assert re.findall(r"<style", page.text) == []


def _cookie(resp: object, name: str) -> str:
    [value] = [v for v in resp.headers.get_list("set-cookie")  # type: ignore[attr-defined]
               if v.startswith(name + "=")]
    return value.lower()


def test_cookie_flags_and_hsts_follow_the_scheme(app: FastAPI, seeded: Seeded) -> None:
    for base, https in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(app, base_url=base) as client:
            page = client.get("/login")
            assert_secured(page, https=https)
            resp = client.post("/login", data=form(client, username="wcity", password=PASSWORD,
                                                   next="/"), follow_redirects=False)
            assert resp.status_code == 303
            assert_secured(resp, https=https)
            for name, seen in (("fangkong_session", resp), ("fangkong_csrf", page)):
                flags = {f.strip() for f in _cookie(seen, name).split(";")[1:]}
                assert {"httponly", "samesite=lax"} <= flags, (base, name, flags)
                assert ("secure" in flags) == https, (base, name, flags)
            if https:
                assert resp.headers["strict-transport-security"].startswith("max-age=31536000")


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(engine: object,
                                                               seeded: Seeded) -> None:
    from fangkong.app import create_app

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    for proxies, https in (((), False), (("10.0.0.1",), False), (("testclient",), True)):
        settings = get_settings().model_copy(update={"trusted_proxies": proxies})
        with TestClient(create_app(settings, engine=engine)) as client:  # type: ignore[arg-type]
            resp = client.get("/login", headers=forwarded)
            assert_secured(resp, https=https)
            assert ("secure" in _cookie(resp, "fangkong_csrf")) == https


def test_state_changing_forms_need_the_csrf_token(client: TestClient, session: Session,
                                                  seeded: Seeded) -> None:
    login = {"username": "wchikan", "password": PASSWORD, "next": "/"}
    # none at all (a cross-site form: no cookie, no field), a field without the cookie, a
    # wrong token, another client's token
    assert client.post("/login", data=login).status_code == 403
    other = TestClient(client.app)
    other.get("/login")
    stolen = other.cookies["fangkong_csrf"]
    assert client.post("/login", data={**login, "csrftoken": stolen}).status_code == 403
    client.get("/login")
    mine = client.cookies["fangkong_csrf"]
    for token in ("", mine[:-2] + "xx", stolen):
        resp = client.post("/login", data={**login, "csrftoken": token}, follow_redirects=False)
        assert resp.status_code == 403, token
        assert "fangkong_session" not in resp.cookies
    client.cookies.set("fangkong_lang", "en")
    refused = client.post("/login", data=login)
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    assert_secured(refused)
    client.cookies.set("fangkong_lang", "zh-Hant")
    assert "並非來自本站" in client.post("/login", data=login).text
    client.cookies.delete("fangkong_lang")

    sign_in(client, "wchikan")
    for path, data in (("/prefs", {"lang": "en", "next": "/"}), ("/logout", {})):
        resp = client.post(path, data=data, follow_redirects=False)
        assert resp.status_code == 403 and "并非来自本站" in resp.text, path
    assert session.scalars(select(WebPreference)).all() == []  # the refused request did nothing
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in
    # the header, as htmx sends it (app.js), does as well as the field
    resp = client.post("/prefs", data={"lang": "en", "next": "/"},
                       headers={"X-CSRFToken": client.cookies["fangkong_csrf"]},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert client.post("/logout", data=form(client), follow_redirects=False).status_code == 303


def test_the_api_is_not_checked(client: TestClient, seeded: Seeded) -> None:
    """A bearer-token API never relies on cookies: with the page's cookies present and no CSRF
    token, the API's sign-in and a write by bearer token go through."""
    sign_in(client, "wcity")
    token = client.post("/api/v1/auth/token",
                        data={"username": "wcity", "password": PASSWORD})
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    resp = client.post("/api/v1/tracing/venues", headers=headers, json={
        "code": "V-CSRF", "name": "市场", "venue_type": "market", "division_code": "440802"})
    assert resp.status_code in (200, 201), resp.text


def test_every_post_form_carries_the_csrf_field() -> None:
    """Each <form method="post"> of the templates (those of future pages too) has
    {{ csrf_field() }}."""
    forms = 0
    for template in TEMPLATES.glob("*.html"):
        for body in re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>",
                               template.read_text(), flags=re.S | re.I):
            assert "{{ csrf_field() }}" in body, template.name
            forms += 1
    assert forms >= 3
