"""The ``fangkong`` command.

The root imports only what parsing needs. Its command groups and commands are those of
:mod:`fangkong.registry` (each domain's and the platform's), named there by
``"module:attribute"`` with their help text: `fangkong --help` shows that help, and a
command's module (with its domain and the libraries it uses) is imported only when the
command runs. Before a command runs, the domains' event listeners are subscribed by name and
the modules that listen to every session are named to :mod:`fangkong.cliutil`, which imports
them before the command opens the database."""

from __future__ import annotations

import gc
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from fangkong import registry

try:  # typer >= 0.20 carries its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer, on click
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

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
    """The root group: lists the registry's commands without importing them; imports the one
    run.
    Under ``--json``, a usage error (a missing or bad option) is the API's JSON error object
    too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for command in registry.commands():
            self.commands.setdefault(command.name,
                                     _Unloaded(command.name, command.target, command.help))

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
    from fangkong.core.config import SettingError, get_settings

    choose_lang(lang, as_json=bool(ctx.meta.get(_JSON)))
    try:
        get_settings()
    except SettingError as exc:
        fail(exc, as_json=bool(ctx.meta.get(_JSON)))
    show_warnings()
    registry.install_listeners()
    listen_on_session(*registry.session_listeners())


def main() -> None:
    try:
        app()
    finally:
        # The command is done and the process ends, its memory released whole: the objects it
        # made are frozen out of the garbage collector's passes at exit, which cost
        # `fangkong user add` a sixth of its CPU (bench/bench_startup.py). Its database
        # connections are closed by fangkong.core.db at exit all the same.
        gc.freeze()
