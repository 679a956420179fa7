"""A server process freezes its long-lived objects out of the garbage collector's passes at its
first request and again at its ``again_at``-th (fangkong.core.gcsettle); apps made without
``settle_gc`` (tests, tools) never freeze."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fangkong.core.gcsettle import SettleCollector, settle


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects stay collectable


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _noop(_message: Any) -> None:
    return None


def _request(app: SettleCollector) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(app({"type": "http", "path": "/", "method": "GET"}, receive, _noop))


def test_settle_collects_then_freezes(unfrozen: None) -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    garbage = Cycle()
    kept = [Cycle()]
    alive = id(kept[0])
    del garbage  # a cycle: only the collector frees it
    frozen = settle()
    assert frozen == gc.get_freeze_count() > 0
    # the live cycle is frozen, the dead one was collected rather than frozen with it
    assert not any(type(o) is Cycle and id(o) != alive for o in gc.get_objects())
    assert not any(o is kept[0] for o in gc.get_objects())  # out of the collector's sight


def test_middleware_settles_at_the_first_and_the_nth_request(unfrozen: None,
                                                            monkeypatch: Any) -> None:
    from fangkong.core import gcsettle

    settled: list[int] = []
    monkeypatch.setattr(gcsettle, "settle", lambda: settled.append(app.seen) or 0)
    app = SettleCollector(_ok, again_at=5)
    for _ in range(12):
        _request(app)
    assert settled == [1, 5]
    assert app.seen == 6  # it stops counting once settled twice


def test_only_server_apps_settle(unfrozen: None, engine: Any) -> None:
    from fangkong.app import create_app
    from fangkong.core.config import get_settings

    with TestClient(create_app(get_settings(), engine=engine)) as client:
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(get_settings(), engine=engine, settle_gc=True)) as client:
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() > 0
