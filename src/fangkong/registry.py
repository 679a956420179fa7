"""What each domain contributes to the platform, in one place.

Each domain package declares in its ``__init__`` a :class:`Contribution` named ``CONTRIBUTES``:
its API routers, its command group, the handlers of domain events it listens to, the modules
that listen to every database session, the scheduled jobs it runs and what it mounts on the
app (the pages), its dashboard sections and its records that carry a policy pack. Everything
is named by dotted path (``"package.module:attribute"``) and nothing is imported to declare it,
so reading the registry imports only the domains' package files (a few lines each):
``fangkong --help`` lists every command with its help without importing a domain, and a
command imports only its own module.

:data:`DOMAINS` is the one list of the domains, in order (of ``fangkong --help``, of the
routers under ``/api/v1``, of the handlers of one event, of the jobs in a scheduler tick);
:data:`PLATFORM` is what belongs to no domain (``serve``, ``demo``, ``db``, ``import``,
``audit``, the anchoring of the audit chain). The readers: :func:`fangkong.app.create_app`
(routers, pages, listeners, session listeners), :mod:`fangkong.cli` (commands, listeners,
session listeners), :func:`fangkong.app.escalation_loop` (jobs) and
:mod:`fangkong.core.events`, which installs the listeners at the first event published in a
process that has not (a script or a test calling the services directly).

A new domain adds its package name to :data:`DOMAINS` and its ``CONTRIBUTES``; nothing else
wires it (``tests/test_registry.py`` checks that every ``api.py`` router and ``cli.py`` group
in the package is named here)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Command:
    """A command group (a Typer app) or a single command (a function) of ``fangkong``:
    ``help`` is the first paragraph of its own help, shown by ``fangkong --help`` before its
    module is imported."""

    name: str
    target: str
    help: str


@dataclass(frozen=True)
class Listener:
    """``target(session, event)`` runs when ``event`` is published (``"*"``: every event),
    in the publishing session and transaction (:mod:`fangkong.core.events`)."""

    event: str
    target: str


@dataclass(frozen=True)
class Job:
    """A scheduled job of ``fangkong serve``: ``target(session, actor)`` runs in a transaction
    of its own at every tick of the scheduler (``FANGKONG_ESCALATION_INTERVAL_SECONDS``), or,
    when ``daily``, once a local day: at each tick until it has returned anything but
    ``False`` that day (False: not yet, as the morning brief before its hour)."""

    name: str
    target: str
    daily: bool = False


@dataclass(frozen=True)
class Packed:
    """Records made under a policy pack that name it: ``model`` (``"module:Class"``) stores
    the pack's id in ``pack`` and its version in ``version`` (``fangkong db check-packs``
    checks that each version is still on disk). ``kind`` names the records to the user."""

    kind: str
    model: str
    pack: str = "pack_id"
    version: str = "pack_version"


@dataclass(frozen=True)
class Contribution:
    routers: tuple[str, ...] = ()
    """FastAPI routers, mounted under ``/api/v1``."""
    commands: tuple[Command, ...] = ()
    listeners: tuple[Listener, ...] = ()
    session_listeners: tuple[str, ...] = ()
    """Modules that listen to every database session once imported (SQLAlchemy events):
    imported before the app serves or a command opens the database."""
    jobs: tuple[Job, ...] = ()
    mounts: tuple[str, ...] = ()
    """``target(app)`` functions that add to the app what is not an API router (the pages),
    called after the API's routers and error handlers."""
    packed: tuple[Packed, ...] = ()
    """The domain's records that carry the policy pack they were made under."""
    sections: tuple[str, ...] = ()
    """Modules of the domain's dashboard sections (they register their providers with
    :func:`fangkong.web.sections.provider` when imported), loaded before the sections first
    run."""


DOMAINS: tuple[str, ...] = (
    "fangkong.user", "fangkong.geo", "fangkong.person", "fangkong.case", "fangkong.task",
    "fangkong.policy", "fangkong.zone", "fangkong.isolation", "fangkong.surveillance",
    "fangkong.tracing", "fangkong.testing", "fangkong.analytics", "fangkong.drill",
    "fangkong.brief", "fangkong.web", "fangkong.monitoring",
)

PLATFORM = Contribution(
    commands=(
        Command("serve", "fangkong.commands:serve",
                "Serve the API (docs at /docs) with the scheduled overdue-task check."),
        Command("demo", "fangkong.commands:demo",
                "The main job: a drill of Zhanjiang (湛江) with the platform in the loop, the "
                "report, then the API (the database is left filled with the drill's persons, "
                "cases and tasks)."),
        Command("db", "fangkong.commands:db_app", "Database schema."),
        Command("import", "fangkong.commands:import_app",
                "Bulk imports from CSV or XLSX (atomic, idempotent)."),
        Command("audit", "fangkong.commands:audit_app",
                "The audit log of personal-data access."),
    ),
    jobs=(Job("anchor the audit chain", "fangkong.core.audit:anchor_job"),),
)


def contributions() -> dict[str, Contribution]:
    """Each domain's contribution, by package name, in :data:`DOMAINS` order, then the
    platform's (under ``"fangkong"``)."""
    out: dict[str, Contribution] = {}
    for package in DOMAINS:
        declared = getattr(import_module(package), "CONTRIBUTES", None)
        if not isinstance(declared, Contribution):
            raise TypeError(f"{package} is listed in fangkong.registry.DOMAINS but declares "
                            "no CONTRIBUTES = Contribution(...) in its __init__")
        out[package] = declared
    out["fangkong"] = PLATFORM
    return out


def routers() -> list[str]:
    return [r for c in contributions().values() for r in c.routers]


def commands() -> list[Command]:
    """The platform's commands first (``serve``, ``demo``: what one starts with), then the
    domains'."""
    domains = contributions()
    platform = domains.pop("fangkong")
    out = [*platform.commands, *(cmd for c in domains.values() for cmd in c.commands)]
    names = [cmd.name for cmd in out]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"command name(s) {', '.join(twice)} declared twice in the registry")
    return out


def listeners() -> list[Listener]:
    return [x for c in contributions().values() for x in c.listeners]


def session_listeners() -> list[str]:
    return [m for c in contributions().values() for m in c.session_listeners]


def jobs() -> list[Job]:
    """The domains' jobs, then the platform's (the audit chain's anchor, last, takes in what
    the tick wrote)."""
    return [j for c in contributions().values() for j in c.jobs]


def sections() -> list[str]:
    return [m for c in contributions().values() for m in c.sections]


def packed() -> list[Packed]:
    return [x for c in contributions().values() for x in c.packed]


def mounts() -> list[str]:
    return [m for c in contributions().values() for m in c.mounts]


def resolve(target: str) -> Any:
    """The object named ``"package.module:attribute"``, its module imported."""
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def install_listeners() -> None:
    """Subscribe every listener by name: each handler's module is imported at the first
    publish of an event it hears (:func:`fangkong.core.events.subscribe_lazy`; idempotent)."""
    from fangkong.core import events

    events.mark_installed()
    for listener in listeners():
        events.subscribe_lazy(listener.event, listener.target)


def install() -> None:
    """Everything a process that works on the database needs from the domains before its
    first session: the listeners, and the modules listening to every session imported."""
    install_listeners()
    for module in session_listeners():
        import_module(module)
