"""Sign-in and sessions (issue 19, item 7): lockout with back-off per username and per address,
audited; sessions ended on the server by signing out, disabling or a password change; tokens
that must expire; the password policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Role
from fangkong.core.clock import set_clock, utc_now
from fangkong.core.config import get_settings
from fangkong.deps import get_settings_dep
from fangkong.user import service as users
from fangkong.user.models import User, UserSession
from fangkong.user.passwords import PasswordRejected
from fangkong.user.schemas import UserCreate
from tests.conftest import login, make_actor
from tests.helpers import csrf

PASSWORD = "correct horse battery"
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def clock() -> Iterator[list[timedelta]]:
    """The service clock, moved forward by appending to the returned list."""
    shift = [timedelta()]
    set_clock(lambda: datetime.now(UTC) + sum(shift, timedelta()))
    yield shift
    set_clock(None)


def limits(app: Any, **values: int) -> None:
    settings = get_settings().model_copy(update=values)
    app.dependency_overrides[get_settings_dep] = lambda: settings


def audit_actions(session: Session, *actions: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.seq)
    return list(session.scalars(stmt))


def sign_in(client: TestClient, username: str, password: str) -> Any:
    return client.post(TOKEN, data={"username": username, "password": password})


def test_failed_sign_ins_lock_the_user_out_with_back_off_all_audited(
        app: Any, client: TestClient, session: Session, clock: list[timedelta]) -> None:
    limits(app, login_user_max_failures=3, login_address_max_failures=100,
           login_lockout_seconds=30, login_lockout_max_seconds=3600)
    login(client, session, "li", Role.analyst, "4408")
    assert [sign_in(client, "li", "wrong").status_code for _ in range(2)] == [401, 401]
    third = sign_in(client, "li", "wrong")
    assert third.status_code == 429 and third.headers["Retry-After"] == "30"
    assert third.json()["error"]["code"] == "too_many_attempts"
    locked = sign_in(client, "li", PASSWORD)  # the right password does not open a lock
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 30

    clock.append(timedelta(seconds=31))
    again = sign_in(client, "li", "wrong")  # one more failure: the lockout doubles
    assert again.status_code == 429 and again.headers["Retry-After"] == "60"
    clock.append(timedelta(seconds=61))
    assert sign_in(client, "li", PASSWORD).status_code == 200
    assert sign_in(client, "li", "wrong").status_code == 401  # a success starts over

    failed = audit_actions(session, "login_failed")
    assert len(failed) == 5
    assert {e.detail["reason"] for e in failed} == {"wrong_password"}
    assert all(e.detail["username"] == "li" and e.detail["address"] == "testclient"
               for e in failed)
    lockouts = audit_actions(session, "lockout")
    assert [(e.detail["kind"], e.detail["seconds"]) for e in lockouts] == [("user", 30),
                                                                           ("user", 60)]
    refused = audit_actions(session, "login_refused")
    assert len(refused) == 1 and refused[0].detail["username"] == "li"


def test_back_off_stops_at_the_longest_lockout(app: Any, client: TestClient, session: Session,
                                               clock: list[timedelta]) -> None:
    limits(app, login_user_max_failures=1, login_lockout_seconds=1000,
           login_lockout_max_seconds=1500)
    login(client, session, "li", Role.analyst, "4408")
    assert sign_in(client, "li", "wrong").headers["Retry-After"] == "1000"
    clock.append(timedelta(seconds=1001))
    assert sign_in(client, "li", "wrong").headers["Retry-After"] == "1500"


def test_an_address_is_locked_out_whatever_the_username(
        app: Any, client: TestClient, session: Session) -> None:
    limits(app, login_user_max_failures=100, login_address_max_failures=3,
           login_lockout_seconds=30)
    login(client, session, "li", Role.analyst, "4408")
    codes = [sign_in(client, name, "wrong").status_code for name in ("zhang", "wang", "zhao")]
    assert codes == [401, 401, 429]
    assert sign_in(client, "li", PASSWORD).status_code == 429
    (lockout,) = audit_actions(session, "lockout")
    assert lockout.detail["kind"] == "address" and lockout.detail["key"] == "testclient"
    assert [e.detail["reason"] for e in audit_actions(session, "login_failed")] == [
        "unknown_user"] * 3


def test_web_sign_in_is_locked_out_too_with_a_translated_message(
        app: Any, client: TestClient, session: Session) -> None:
    limits(app, login_user_max_failures=2, login_lockout_seconds=120)
    login(client, session, "li", Role.analyst, "4408")
    form = {"username": "li", "password": "wrong"}
    assert client.post("/login", data=csrf(client, form)).status_code == 401
    client.cookies.set("fangkong_lang", "en")
    resp = client.post("/login", data=csrf(client, form))
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "120"
    assert "Too many failed sign-ins" in resp.text and "2 min" in resp.text
    client.cookies.set("fangkong_lang", "zh-Hant")
    resp = client.post("/login", data=csrf(client, {"username": "li", "password": PASSWORD}))
    assert resp.status_code == 429 and "登入失敗次數過多" in resp.text
    assert "fangkong_session" not in resp.cookies
    assert len(audit_actions(session, "login_failed")) == 2
    assert audit_actions(session, "lockout")[0].source.startswith("web:")


def test_signing_out_ends_the_bearer_token(client: TestClient, session: Session) -> None:
    headers = login(client, session, "li", Role.analyst, "4408")
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    after = client.get("/api/v1/users/me", headers=headers)
    assert after.status_code == 401 and "sign in again" in after.json()["error"]["message"]
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 401
    assert len(audit_actions(session, "logout")) == 1


def test_signing_out_of_the_pages_ends_the_cookie_everywhere(client: TestClient,
                                                             session: Session) -> None:
    login(client, session, "li", Role.analyst, "4408")
    resp = client.post("/login", data=csrf(client, {"username": "li", "password": PASSWORD}),
                       follow_redirects=False)
    assert resp.status_code == 303
    cookie = client.cookies["fangkong_session"]
    bearer = {"Authorization": f"Bearer {cookie}"}
    assert client.get("/api/v1/users/me", headers=bearer).status_code == 401  # not an API token
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.post("/logout", data=csrf(client, {}), follow_redirects=False).status_code == 303
    client.cookies.set("fangkong_session", cookie)  # a copy kept from before signing out
    resp = client.get("/", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")
    row = session.scalar(select(UserSession).where(UserSession.kind == "web"))
    assert row is not None and row.revoked_why == "logout"


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_token_without_exp_is_refused_even_for_a_live_session(client: TestClient,
                                                                session: Session) -> None:
    headers = login(client, session, "li", Role.analyst, "4408")
    claims = _claims(headers["Authorization"].split()[1])
    del claims["exp"]
    forged = jwt.encode(claims, get_settings().key("secret_key"), algorithm="HS256")
    resp = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401


def test_an_expired_session_is_refused(client: TestClient, session: Session) -> None:
    headers = login(client, session, "li", Role.analyst, "4408")
    session.execute(update(UserSession).values(expires_at=utc_now() - timedelta(seconds=1)))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert sign_in(client, "li", PASSWORD).status_code == 200
    assert len(session.scalars(select(UserSession)).all()) == 1  # the expired one deleted


def test_a_disabled_user_is_refused_and_their_sessions_end(client: TestClient,
                                                           session: Session) -> None:
    admin = login(client, session, "admin1", Role.administrator, "4408")
    li = login(client, session, "li", Role.analyst, "440802")
    li_id = client.get("/api/v1/users/me", headers=li).json()["id"]
    admin_id = client.get("/api/v1/users/me", headers=admin).json()["id"]
    assert client.post(f"/api/v1/users/{li_id}/disable", headers=li).status_code == 403
    resp = client.post(f"/api/v1/users/{li_id}/disable", headers=admin)
    assert resp.status_code == 200 and resp.json()["active"] is False
    assert client.get("/api/v1/users/me", headers=li).status_code == 401
    assert sign_in(client, "li", PASSWORD).status_code == 401
    assert audit_actions(session, "login_failed")[-1].detail["reason"] == "disabled"
    assert client.post(f"/api/v1/users/{admin_id}/disable", headers=admin).status_code == 422
    assert client.post(f"/api/v1/users/{li_id}/enable", headers=admin).status_code == 200
    assert sign_in(client, "li", PASSWORD).status_code == 200
    assert [e.action for e in audit_actions(session, "disable", "enable")] == ["disable",
                                                                               "enable"]


def test_an_administrator_of_another_district_cannot_disable(client: TestClient,
                                                              session: Session) -> None:
    other = login(client, session, "admin3", Role.administrator, "440803")
    both = users.create_user(session, actor=make_actor(), data=UserCreate(
        username="li", role=Role.analyst, jurisdictions=["440802", "440803"],
        password=PASSWORD))
    resp = client.post(f"/api/v1/users/{both.id}/disable", headers=other)
    assert resp.status_code == 403  # li also acts in 440802, outside admin3's jurisdiction
    assert client.post("/api/v1/users/999999/disable", headers=other).status_code == 404


def test_changing_ones_password_ends_every_session(client: TestClient,
                                                   session: Session) -> None:
    first = login(client, session, "li", Role.analyst, "4408")
    second = {"Authorization": f"Bearer {sign_in(client, 'li', PASSWORD).json()['access_token']}"}
    url = "/api/v1/users/me/password"
    wrong = client.put(url, headers=first, json={"old_password": "nope",
                                                 "new_password": "a fresh long secret"})
    assert wrong.status_code == 401
    assert audit_actions(session, "login_failed")[-1].detail["reason"] == "wrong_password"
    weak = client.put(url, headers=first, json={"old_password": PASSWORD,
                                                "new_password": "aaaaaaaaaa"})
    assert weak.status_code == 422 and "at least 12" in weak.json()["error"]["message"]
    resp = client.put(url, headers=first, json={"old_password": PASSWORD,
                                                "new_password": "a fresh long secret"})
    assert resp.status_code == 200
    fresh = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert client.get("/api/v1/users/me", headers=first).status_code == 401
    assert client.get("/api/v1/users/me", headers=second).status_code == 401
    assert client.get("/api/v1/users/me", headers=fresh).status_code == 200
    assert sign_in(client, "li", PASSWORD).status_code == 401
    assert sign_in(client, "li", "a fresh long secret").status_code == 200
    (entry,) = audit_actions(session, "password")
    assert entry.detail["sessions_revoked"] == 2


def test_an_administrator_sets_a_password_and_ends_the_sessions(client: TestClient,
                                                                session: Session) -> None:
    admin = login(client, session, "admin1", Role.administrator, "4408")
    li = login(client, session, "li", Role.analyst, "440802")
    li_id = client.get("/api/v1/users/me", headers=li).json()["id"]
    url = f"/api/v1/users/{li_id}/password"
    assert client.put(url, headers=li, json={"password": "another long one"}).status_code == 403
    bad = client.put(url, headers=admin, json={"password": "li-is-my-name-2026"})
    assert bad.status_code == 422 and "username" in bad.json()["error"]["message"]
    assert client.put(url, headers=admin, json={"password": "another long one"}).status_code == 204
    assert client.get("/api/v1/users/me", headers=li).status_code == 401
    assert sign_in(client, "li", "another long one").status_code == 200


@pytest.mark.parametrize(("password", "rule"), [
    ("aaaaaaaaaa", "too_short"),
    ("aaaaaaaaaaaaaaaa", "one_character"),
    ("wangwei-2022-secret", "contains_username"),
    ("password1234", "common"),
    ("QWERTY123456", "common"),
])
def test_the_password_policy(session: Session, password: str, rule: str) -> None:
    with pytest.raises(PasswordRejected) as err:
        users.create_user(session, actor=make_actor(), data=UserCreate(
            username="WangWei", role=Role.analyst, jurisdictions=["4408"], password=password))
    assert err.value.rule == rule
    assert session.scalar(select(User).where(User.username == "WangWei")) is None


def test_the_api_says_which_rule_a_password_breaks(client: TestClient, session: Session) -> None:
    admin = login(client, session, "admin1", Role.administrator, "4408")
    body = {"username": "zhao", "role": "analyst", "jurisdictions": ["440802"],
            "password": "password1234"}
    resp = client.post("/api/v1/users", headers=admin, json=body)
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert "common passwords" in error["message"]
    assert error["problems"] == [{"field": "password",
                                  "message": "it is in a list of common passwords"}]
    body["password"] = "zhao's own phrase"
    assert client.post("/api/v1/users", headers=admin, json=body).status_code == 422
    body["password"] = "a sound long phrase"
    assert client.post("/api/v1/users", headers=admin, json=body).status_code == 201


def test_guesses_sent_in_parallel_gain_nothing(session: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A right password whose check overlapped failures that locked the username out is
    refused like one sent after them."""
    from contextlib import contextmanager

    settings = get_settings().model_copy(update={"login_user_max_failures": 2})
    users.create_user(session, actor=make_actor(), data=UserCreate(
        username="li", role=Role.analyst, jurisdictions=["4408"], password=PASSWORD))

    @contextmanager
    def transaction() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    def attempt(password: str) -> str:
        return users.sign_in(transaction, settings, "li", password, address="10.0.0.1",
                             source="test")

    real, started = users.verify_password, []

    def verify(digest: str, password: str) -> bool:
        if password == PASSWORD and not started:  # meanwhile, two wrong guesses arrive
            started.append(True)
            for _ in range(2):
                with pytest.raises((users.Unauthenticated, users.TooManyAttempts)):
                    attempt("wrong")
        return real(digest, password)

    monkeypatch.setattr(users, "verify_password", verify)
    with pytest.raises(users.TooManyAttempts):
        attempt(PASSWORD)
    assert session.scalar(select(UserSession)) is None
    assert [e.action for e in audit_actions(session, "login", "login_refused")] == [
        "login_refused"]


def test_changing_ones_password_on_the_pages_says_which_rule_failed(
        client: TestClient, session: Session) -> None:
    bearer = login(client, session, "li", Role.analyst, "4408")
    client.post("/login", data=csrf(client, {"username": "li", "password": PASSWORD}))
    old_cookie = client.cookies["fangkong_session"]
    page = client.get("/password")
    assert page.status_code == 200 and "至少 12 个字符" in page.text

    def change(old: str, new: str) -> Any:
        return client.post("/password", data=csrf(client, {"old_password": old,
                                                           "new_password": new}))

    resp = change(PASSWORD, "aaaaaaaaaaaaaaaa")
    assert resp.status_code == 422 and "新密码不能是同一字符重复" in resp.text
    client.cookies.set("fangkong_lang", "en")
    assert "at least 12 characters" in change(PASSWORD, "short").text
    assert "a common password" in change(PASSWORD, "password1234").text
    assert "contains your username" in change(PASSWORD, "xx-li-xx-2026-yy").text
    wrong = change("not the password", "a fresh long secret")
    assert wrong.status_code == 401 and "The current password is wrong" in wrong.text
    client.cookies.set("fangkong_lang", "zh-Hant")
    done = change(PASSWORD, "a fresh long secret")
    assert done.status_code == 200 and "密碼已變更" in done.text
    assert client.cookies["fangkong_session"] != old_cookie
    assert client.get("/", follow_redirects=False).status_code == 200  # the new cookie works
    assert client.get("/api/v1/users/me", headers=bearer).status_code == 401
    client.cookies.set("fangkong_session", old_cookie)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert sign_in(client, "li", "a fresh long secret").status_code == 200
