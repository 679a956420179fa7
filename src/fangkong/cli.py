"""The ``fangkong`` command.

The root imports only what parsing needs. Every command group and command is listed in
:data:`COMMANDS` by name, ``"module:attribute"`` and help text; `fangkong --help` shows that
help, and a command's module (with its domain and the libraries it uses) is imported only when
the command runs. What the domains contribute besides commands, event handlers and session
listeners, is named here the same way (:data:`LISTENERS`, :data:`SESSION_LISTENERS`)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.20 carries its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer, on click
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

# (name, "module:attribute", help): a Typer group or a command function, in the order of
# `fangkong --help`. The help is the module's own (tests/test_cli_startup.py compares them).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("brief", "fangkong.brief.cli:brief",
     "Write the daily brief (每日一研判) as HTML, PDF and XLSX."),
    ("serve", "fangkong.commands:serve",
     "Serve the API (docs at /docs) with the scheduled overdue-task check."),
    ("demo", "fangkong.commands:demo",
     "The main job: a drill of Zhanjiang (湛江) with the platform in the loop, the report, "
     "then the API (the database is left filled with the drill's persons, cases and tasks)."),
    ("db", "fangkong.commands:db_app", "Database schema."),
    ("geo", "fangkong.geo.cli:app", "Administrative divisions and field units (指挥体系)."),
    ("policy", "fangkong.policy.cli:app",
     "Policy packs: plans, look-back windows, zone clocks, the nine prohibitions (九不准)."),
    ("user", "fangkong.user.cli:app", "Users, roles and jurisdiction grants."),
    ("import", "fangkong.commands:import_app",
     "Bulk imports from CSV or XLSX (atomic, idempotent)."),
    ("task", "fangkong.task.cli:app", "Tasks and supervision (督查督办)."),
    ("zone", "fangkong.zone.cli:app", "Risk areas (风险区 / 三区)."),
    ("tracing", "fangkong.tracing.cli:app",
     "Tracing (流调溯源): co-presence, check-ins, contacts."),
    ("testing", "fangkong.testing.cli:app",
     "Mass testing (筛查检测): rounds, pooled tubes, labs, positive pools, coverage."),
    ("audit", "fangkong.commands:audit_app", "The audit log of personal-data access."),
    ("isolation", "fangkong.isolation.cli:app",
     "Transfer and isolation (转运隔离): sites, rooms, assignment."),
    ("analytics", "fangkong.analytics.cli:app",
     "Epidemic analytics (Rt, aberration detection, growth) on files."),
    ("surveillance", "fangkong.surveillance.cli:app", "Surveillance and early warning (监测预警)."),
    ("drill", "fangkong.drill.cli:app",
     "Drills (平战结合): a simulated outbreak the platform responds to."),
)
# (event, "module:function"): handlers of domain events, imported at the event's first publish.
LISTENERS: tuple[tuple[str, str], ...] = (
    ("case.reported", "fangkong.tracing.contacts:on_case_reported"),
    ("transfer.arrived", "fangkong.tracing.contacts:on_transfer_arrived"),
    ("*", "fangkong.task.service:end_tasks"),  # events.EVERY: an event ends its tasks
)
# Modules that listen to every database session, imported before a command opens one.
SESSION_LISTENERS: tuple[str, ...] = ("fangkong.tracing.graph",)

_JSON = "fangkong.json"


class _Unloaded(TyperCommand):
    """What `--help` lists for a command whose module is not imported yet."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name=name, help=help)
        self.target = target


def load(name: str, target: str) -> Any:
    """The click command of ``target`` (a Typer group or a command function) named ``name``."""
    module, _, attr = target.partition(":")
    obj = getattr(import_module(module), attr)
    parent = typer.Typer(add_completion=False)
    if isinstance(obj, typer.Typer):
        parent.add_typer(obj, name=name)
        group = typer.main.get_command(parent)
        assert isinstance(group, TyperGroup)
        return group.commands[name]
    parent.command(name)(obj)
    return typer.main.get_command(parent)


class LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` without importing them; imports the one run.
    Under ``--json``, a usage error (a missing or bad option) is the API's JSON error object
    too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, target, help_ in COMMANDS:
            self.commands.setdefault(name, _Unloaded(name, target, help_))

    def resolve_command(self, ctx: typer.Context, args: list[str]  # type: ignore[override]
                        ) -> tuple[str | None, Any, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(cmd, _Unloaded):
            cmd = self.commands[name] = load(name, cmd.target)
        return name, cmd, rest

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        as_json = ctx.meta[_JSON] = "--json" in ctx.args
        try:
            return super().invoke(ctx)
        except click_exceptions.UsageError as exc:
            if not as_json or isinstance(exc, click_exceptions.NoArgsIsHelpError):
                raise
            from fangkong.cliutil import fail
            from fangkong.core.errors import Invalid

            error = Invalid(exc.format_message())
            error.exit_code = exc.exit_code
            fail(error, as_json=True)


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Fangkong (防控): epidemic prevention-and-control command platform.")


@app.callback()
def _start(ctx: typer.Context, lang: str | None = typer.Option(
        None, "--lang", help="Language of the messages: zh-Hans, zh-Hant or en (default: "
        "FANGKONG_LANG, else zh-Hans).")) -> None:
    # Runs before every command: refuse bad settings, name what the domains listen to.
    if ctx.resilient_parsing:
        return
    from fangkong.cliutil import choose_lang, fail, listen_on_session, show_warnings
    from fangkong.config import SettingError, get_settings
    from fangkong.core import events

    choose_lang(lang, as_json=bool(ctx.meta.get(_JSON)))
    try:
        get_settings()
    except SettingError as exc:
        fail(exc, as_json=bool(ctx.meta.get(_JSON)))
    show_warnings()
    for event, target in LISTENERS:
        events.subscribe_lazy(event, target)
    listen_on_session(*SESSION_LISTENERS)


def main() -> None:
    app()
