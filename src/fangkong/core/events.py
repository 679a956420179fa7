"""In-process domain events: a domain announces what happened (``case.reported``) and other
domains that registered a handler act on it in the same session and transaction, without the
announcing domain importing them (a case does not know about tracing; tracing listens).

Handlers run synchronously, in registration order; an exception in one propagates to the
caller, so the whole unit of work (the report and what follows from it) commits or rolls back
together. Registration happens when the listening domain's module is imported."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """Call ``handler(session, **payload)`` whenever ``event`` is published (once per handler)."""
    listeners = _handlers.setdefault(event, [])
    if handler not in listeners:
        listeners.append(handler)


def publish(event: str, session: Session, **payload: Any) -> None:
    for handler in list(_handlers.get(event, [])):
        handler(session, **payload)
