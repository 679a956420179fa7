"""Passwords are hashed and checked with no database transaction open (issue 19, item 2): on
SQLite a transaction holds the one write lock while argon2 works, so concurrent sign-ins
queued behind each other's hashing. These tests use a committed database and the real
transactions, as a server does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from fangkong.core.auth import NATIONAL, Role
from fangkong.core.config import get_settings
from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import upgrade
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from tests.conftest import make_actor
from tests.helpers import csrf

PASSWORD = "correct horse battery"


@pytest.fixture
def served(fresh_db: str) -> Iterator[tuple[TestClient, Engine]]:
    from fangkong.app import create_app

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        for name in ("li", "wang", "zhao", "qian", "admin"):
            role = Role.administrator if name == "admin" else Role.analyst
            users.create_user(session, actor=make_actor(), data=UserCreate(
                username=name, role=role, jurisdictions=[NATIONAL], password=PASSWORD))
    with TestClient(create_app(get_settings(), engine=engine),
                    raise_server_exceptions=False) as client:
        yield client, engine


def open_transactions(engine: Engine) -> int:
    """Transactions open on the database by other connections (SQLite: 1 if one holds the
    write lock, which is taken when any transaction begins)."""
    if engine.dialect.name == "sqlite":
        path = make_url(engine.url).database
        assert path is not None
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            probe.close()
    with engine.connect() as conn:
        return int(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")) or 0)


def test_no_transaction_is_open_while_a_password_is_hashed_or_checked(
        served: tuple[TestClient, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    client, engine = served
    seen: list[tuple[str, int]] = []

    def watched(name: str) -> Any:
        real = getattr(users, name)

        def run(*args: str) -> Any:
            seen.append((name, open_transactions(engine)))
            return real(*args)
        return run

    monkeypatch.setattr(users, "verify_password", watched("verify_password"))
    monkeypatch.setattr(users, "hash_password", watched("hash_password"))

    def token(name: str, password: str = PASSWORD) -> Any:
        return client.post("/api/v1/auth/token", data={"username": name, "password": password})

    assert token("li", "nope").status_code == 401
    li = {"Authorization": f"Bearer {token('li').json()['access_token']}"}
    admin = {"Authorization": f"Bearer {token('admin').json()['access_token']}"}
    assert client.put("/api/v1/users/me/password", headers=li, json={
        "old_password": PASSWORD, "new_password": "a fresh long secret"}).status_code == 200
    assert client.post("/api/v1/users", headers=admin, json={
        "username": "sun", "role": "analyst", "jurisdictions": ["CN"],
        "password": "another long secret"}).status_code == 201
    assert client.put("/api/v1/users/1/password", headers=admin,
                      json={"password": "a third long secret"}).status_code == 204
    assert client.post("/login", data=csrf(client, {"username": "wang", "password": PASSWORD}),
                       follow_redirects=False).status_code == 303
    changed = client.post("/password", data=csrf(client, {"old_password": PASSWORD,
                                             "new_password": "a fourth long secret"}))
    assert changed.status_code == 200
    assert [n for n, _ in seen].count("hash_password") == 4
    assert seen == [(name, 0) for name, _ in seen]


def test_concurrent_sign_ins_all_succeed(served: tuple[TestClient, Engine]) -> None:
    client, _ = served

    def sign_in(name: str) -> Any:
        return client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})

    names = ["li", "wang", "zhao", "qian"] * 2
    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(sign_in, names))
    assert [a.status_code for a in answers] == [200] * len(names)
    tokens = {a.json()["access_token"] for a in answers}
    assert len(tokens) == len(names)
    for token in tokens:
        me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
