"""In-process domain events: a domain announces what happened to its records (``case.reported``,
``contact.released``, ``transfer.arrived``) and other domains that registered a handler act on
it in the same session and transaction, without the announcing domain importing them (a case
does not know about tracing; tracing listens).

An event names the records it happened to (``subject_type`` and ``subject_ids``), who did it
(``actor``) and why, in words kept in the history of what it ends (``reason``), and when, if
not now (``at``); ``detail`` carries what else its listeners need. Handlers run
synchronously, in registration order; those of the event's name first, then those that hear
every event (the task service: an event ends the open tasks of its records that wait for it).
An exception in one propagates to the caller, so the whole unit of work (the report and what
follows from it) commits or rolls back together.

The listeners are those the domains declare in :mod:`fangkong.registry`, subscribed by name
(:func:`subscribe_lazy`: a handler's module is imported when an event it hears is first
published, so that a command imports only the domains it uses). The app and the CLI install
them at start; a process that has not (a script or a test calling the services) has them
installed at its first publish, so that every process hears the same handlers. No domain
subscribes itself when imported."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from fangkong.core.auth import Actor


@dataclass(frozen=True)
class Event:
    name: str
    actor: Actor
    subject_type: str
    subject_ids: Sequence[int]
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    at: Mapping[int, datetime] = field(default_factory=dict)
    """When it happened to a subject, where that was before now (a step recorded later)."""


CATALOGUE: dict[str, str] = {
    "case.reported": "an infection (confirmed or asymptomatic) was reported, by any path: the "
                     "API, an import, a testing result, a reclassification (subject: case; detail: "
                     "pack_id, pack_version, the pack to trace them under)",
    "contact.notified": "the contact was notified (subject: contact)",
    "contact.under_management": "the contact's management began (subject: contact)",
    "contact.released": "the contact was released from management (subject: contact)",
    "contact.became_case": "the contact became a case (subject: contact)",
    "contact.lost_to_follow_up": "the contact was lost to follow-up (subject: contact)",
    "transfer.arrived": "admission transfers arrived at their site (subject: iso_transfer; "
                        "detail: person_ids by passenger class)",
    "stay.sampled": "the sample of a stay's scheduled test was taken (subject: iso_stay_test)",
    "stay.tested": "a stay's scheduled test has its result (subject: iso_stay_test)",
    "stay.released": "a stay was released (subject: iso_stay)",
    "stay.moved": "a stay ended by a move to another facility (subject: its tests still "
                  "to take, iso_stay_test)",
    "stay.ended": "a stay ended early without the release checks (an earlier drill's stays "
                  "when another starts): its tests still to take are moot (subject: "
                  "iso_stay_test)",
    "zone.lifted": "a risk zone was lifted (subject: zone)",
    "testing.resampled": "a person asked for a single-tube re-collection (a member of a "
                         "positive pool, or of an invalid tube) was swabbed in a single tube "
                         "(subject: person)",
    "monitoring.reported": "a daily monitoring report was received (subject: "
                           "monitoring_period)",
    "testing.retested": "a pool member's single-tube re-test has its result (subject: person)",
}
"""Every event the platform publishes: what a task may wait for (``completes_on``,
``cancels_on``)."""

Handler = Callable[["Session", Event], None]
EVERY = "*"
_handlers: dict[str, list[Handler]] = {}
_lazy: dict[str, list[str]] = {}
_installed = False
REGISTRY = "fangkong.registry:install_listeners"
"""Named, not imported: the registry reads the domains, which core does not import."""


def mark_installed() -> None:
    """The registry's listeners are subscribed (called by the registry as it does so)."""
    global _installed
    _installed = True


def subscribe(event: str, handler: Handler) -> None:
    """Call ``handler(session, event)`` whenever ``event`` is published (once per handler);
    ``EVERY`` hears every event."""
    listeners = _handlers.setdefault(event, [])
    if handler not in listeners:
        listeners.append(handler)


def publish(session: Session, event: Event) -> None:
    if event.name not in CATALOGUE:
        raise ValueError(f"unknown event {event.name!r}: add it to events.CATALOGUE")
    if not event.subject_ids:
        return
    if not _installed:
        module, _, name = REGISTRY.partition(":")
        getattr(import_module(module), name)()
    _resolve(event.name)
    _resolve(EVERY)
    for handler in [*_handlers.get(event.name, []), *_handlers.get(EVERY, [])]:
        handler(session, event)


def subscribe_lazy(event: str, target: str) -> None:
    """Subscribe the handler ``"package.module:function"``, imported at the first publish of
    ``event`` (or of any event, for ``EVERY``)."""
    targets = _lazy.setdefault(event, [])
    if target not in targets:
        targets.append(target)


def _resolve(event: str) -> None:
    targets = _lazy.get(event)
    while targets:
        module, _, name = targets[0].partition(":")
        subscribe(event, getattr(import_module(module), name))
        targets.pop(0)
