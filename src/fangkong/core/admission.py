"""Admission control: a server works on at most as many requests as it has database
connections, and tells the rest to come back rather than failing them or hanging.

Without it, 200 clients at once each took a worker thread and waited for one of a pool's few
connections (30 s, then a 500), and the server stayed unresponsive long after they left. Here
a request waits (without holding a thread) for one of ``limit`` places; one that has not had
its turn after ``wait_s`` seconds is answered ``503 Service Unavailable`` with ``Retry-After``,
which clients and proxies understand as back-pressure. Static files and the health check are
served without a place: they touch no database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EXEMPT_PREFIXES = ("/static/", "/healthz")


class _Lane:
    """At most ``limit`` requests at once; the rest wait up to ``wait_s`` for a place."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self.limit, self.wait_s = limit, wait_s
        self._places: asyncio.Semaphore | None = None

    def places(self) -> asyncio.Semaphore:
        # Made on first use, inside the server's event loop.
        if self._places is None:
            self._places = asyncio.Semaphore(self.limit)
        return self._places


class AdmissionLimit:
    """ASGI middleware admitting at most ``limit`` HTTP requests at once.

    ``lanes`` give some requests (method, path) places of their own: sign-ins, whose argon2
    work is CPU-bound and slow, go at most a few at once (as many as the cores can hash) and
    wait longer for their turn, so that a storm of sign-ins at 8 a.m. neither takes every
    place from the readers nor is answered 503 while the cores work through it."""

    def __init__(self, app: ASGIApp, *, limit: int, wait_s: float,
                 message: Callable[[Scope], str] | None = None,
                 lanes: Mapping[tuple[str, str], tuple[int, float]] | None = None) -> None:
        self.app = app
        self.message = message or (lambda _scope: "the server is busy; try again shortly")
        self._main = _Lane(limit, wait_s)
        self._lanes = {key: _Lane(*value) for key, value in (lanes or {}).items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        lane = self._lanes.get((scope["method"], scope["path"]), self._main)
        places = lane.places()
        try:
            await asyncio.wait_for(places.acquire(), timeout=lane.wait_s)
        except TimeoutError:
            await self._busy(scope, send, lane.wait_s)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            places.release()

    async def _busy(self, scope: Scope, send: Send, wait_s: float) -> None:
        retry = max(1, round(wait_s))
        body = json.dumps({"error": {"code": "busy", "message": self.message(scope)}},
                          ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 503, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", str(retry).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
