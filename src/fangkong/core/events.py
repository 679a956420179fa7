"""In-process domain events: a domain announces what happened (``case.reported``) and other
domains that registered a handler act on it in the same session and transaction, without the
announcing domain importing them (a case does not know about tracing; tracing listens).

Handlers run synchronously, in registration order; an exception in one propagates to the
caller, so the whole unit of work (the report and what follows from it) commits or rolls back
together. Registration happens when the listening domain's module is imported, or, for a
process that imports domains only as it needs them (the CLI), by name with
:func:`subscribe_lazy`: the handler's module is imported when the event is first published."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = {}
_lazy: dict[str, list[str]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """Call ``handler(session, **payload)`` whenever ``event`` is published (once per handler)."""
    listeners = _handlers.setdefault(event, [])
    if handler not in listeners:
        listeners.append(handler)


def subscribe_lazy(event: str, target: str) -> None:
    """Subscribe the handler ``"package.module:function"``, imported at the first publish."""
    targets = _lazy.setdefault(event, [])
    if target not in targets:
        targets.append(target)


def _resolve(event: str) -> None:
    targets = _lazy.get(event)
    while targets:
        module, _, name = targets[0].partition(":")
        subscribe(event, getattr(import_module(module), name))
        targets.pop(0)


def publish(event: str, session: Session, **payload: Any) -> None:
    _resolve(event)
    for handler in list(_handlers.get(event, [])):
        handler(session, **payload)
