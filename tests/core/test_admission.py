"""Admission lanes: sign-ins (argon2, CPU-bound) go a few at once in a lane of their own,
so a storm of them neither takes the readers' places nor fails; a pool with no connection
free answers 503 with Retry-After, not a 500."""

from __future__ import annotations

import threading
from typing import Any

from fangkong.core import security
from tests.core.test_request_transactions import PASSWORD, _sync_asgi, _token, live

__all__ = ["live"]  # the fixture, used by name


def _held_hashing(monkeypatch: Any) -> tuple[threading.Event, threading.Event]:
    """Password checks held until released: events (inside, release)."""
    from fangkong.user import service as users

    inside, release = threading.Event(), threading.Event()
    real = security.verify_password

    def held(password_hash: str, password: str) -> bool:
        inside.set()
        assert release.wait(20)
        return real(password_hash, password)

    monkeypatch.setattr(users, "verify_password", held)
    return inside, release


def test_sign_ins_wait_in_their_own_lane_and_reads_go_on(live: Any, monkeypatch: Any) -> None:
    from fangkong.app import create_app

    engine, settings = live
    settings = settings.model_copy(update={"login_concurrency": 1, "login_queue_seconds": 0.3,
                                           "db_pool_size": 2})
    with _sync_asgi(create_app(settings, engine=engine)) as client:
        auth = _token(client)  # before the check is held
        inside, release = _held_hashing(monkeypatch)
        got: dict[str, Any] = {}
        signing_in = threading.Thread(target=lambda: got.update(first=client.post(
            "/api/v1/auth/token", data={"username": "boss", "password": PASSWORD})))
        signing_in.start()
        assert inside.wait(10)
        try:
            # the sign-in lane is full: the next waits its 0.3 s, then is told to come back
            second = client.post("/api/v1/auth/token",
                                 data={"username": "boss", "password": PASSWORD})
            # while a sign-in hashes, reads have their places
            read = client.get("/api/v1/persons", headers=auth)
        finally:
            release.set()
            signing_in.join(20)
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert second.json()["error"]["code"] == "busy"
    assert read.status_code == 200
    assert got["first"].status_code == 200


def test_no_free_connection_is_503_not_500(live: Any) -> None:
    from fangkong.app import create_app
    from fangkong.core.db import make_engine

    _, settings = live
    tight = make_engine(settings.resolved_database_url, pool_size=1, max_overflow=0,
                        pool_timeout=0.2)
    try:
        with _sync_asgi(create_app(settings, engine=tight)) as client:
            auth = _token(client)
            with tight.connect():  # the pool's one connection, held
                resp = client.get("/api/v1/persons", headers=auth)
            after = client.get("/api/v1/persons", headers=auth)
    finally:
        tight.dispose()
    assert resp.status_code == 503 and resp.headers["retry-after"] == "2"
    assert resp.json()["error"]["code"] == "busy"
    assert after.status_code == 200
