"""Keep the garbage collector's full passes off the requests' clock.

A server process holds some 350,000 long-lived objects (modules, the app and its routes,
SQLAlchemy's mappers and compiled statements, templates, Babel's data, the pack). CPython's
collector walks all of them in each of its oldest-generation passes, which a request that
allocates a few thousand ORM rows and template nodes triggers every few requests: measured on
the demo's database, one city overview in six cost 330 ms of CPU instead of 95-110 ms, all of
it in that pass (issue 18 item 0: the pages' p95 was two to three times their median in CPU
time, not only in wall time).

:func:`settle` collects once and then freezes what survives (``gc.freeze``): those objects
are never walked again, and the passes left see only what requests made since. A frozen object
is still freed when its last reference goes; only a reference cycle among frozen objects would
stay, which is why everything is collected just before. :class:`SettleCollector` settles a
server process at its first request (everything imported at start-up is alive by then) and
again at its ``again_at``-th, when the modules and caches that the first pages load lazily
exist too. Both are one pause of about a tenth of a second each, once per process.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

AGAIN_AT = 200
"""The request at which a process is settled a second time (after its first)."""


def settle() -> int:
    """Collect every generation, then freeze all that is alive; the number frozen in all."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class SettleCollector:
    """ASGI middleware: :func:`settle` before the process's first HTTP request and before its
    ``again_at``-th; otherwise it only counts."""

    def __init__(self, app: ASGIApp, *, again_at: int = AGAIN_AT) -> None:
        self.app = app
        self.again_at = again_at
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.seen <= self.again_at:
            self.seen += 1
            if self.seen in (1, self.again_at):
                settle()
        await self.app(scope, receive, send)
