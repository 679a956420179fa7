"""What every CLI command shares: the session, errors as one red line (or, under ``--json``, as
the API's JSON error shape on standard output), --json output, and progress that shows on a
terminal and in a log alike.

Light on purpose: the root command imports it to report a bad setting, so the database layer
is imported only by the commands that open a session."""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from fangkong.core import validation
from fangkong.core.errors import AppError, Invalid, Unavailable
from fangkong.core.messages import CORE, LANGS, render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fangkong.core.auth import Actor

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON (errors too: the "
                       "API's error object, on standard output).")
_session_listeners: list[str] = []
_lang: list[str] = []  # the root's --lang, when given


def set_lang(lang: str | None) -> None:
    """The language the root command's ``--lang`` chose (over ``FANGKONG_LANG``)."""
    _lang[:] = [lang] if lang else []


def cli_lang() -> str:
    """The language of the command line's messages: ``--lang``, else ``FANGKONG_LANG``, else
    zh-Hans (``FANGKONG_LANG`` alone when the other settings cannot be read)."""
    if _lang:
        return _lang[0]
    from fangkong.core.config import SettingError, get_settings, lang_alone

    try:
        return get_settings().lang
    except SettingError:
        return lang_alone()


def say(text: object) -> str:
    """A message in the command line's language."""
    return str(render(text, cli_lang()))


def choose_lang(value: str | None, as_json: bool) -> None:
    """Take the root's ``--lang`` (refused, in the default language, when it names none)."""
    if value is not None and value not in LANGS:
        fail(Invalid(CORE("bad_lang", value=value, allowed=", ".join(LANGS))), as_json)
    set_lang(value)


def listen_on_session(*modules: str) -> None:
    """Modules to import before a command opens the database, because they listen to every
    session (the transmission graph notes each changed case at flush): the CLI imports no
    domain up front, so it names them (``fangkong.cli``)."""
    _session_listeners.extend(m for m in modules if m not in _session_listeners)


def fail(exc: AppError, as_json: bool) -> NoReturn:
    """Report ``exc`` and exit with its code: under ``--json`` the API's error object
    (``{"error": {"code", "message", "problems"}}``) on standard output, else one red line on
    standard error followed by the problems found."""
    lang = cli_lang()
    if as_json:
        sys.stdout.write(json.dumps(exc.as_dict(lang), ensure_ascii=False) + "\n")
    else:
        # soft_wrap: one line however long (the terminal wraps it; grep finds it whole)
        message = exc.render(lang)
        err_console.print(f"[bold red]{escape(CORE('error').render(lang))}[/]"
                          f"{escape(message)}", highlight=False, soft_wrap=True)
        problems = exc.problems
        if len(problems) == 1 and problems[0].render(lang) == message:
            problems = []  # the line says it already
        for problem in problems[:50]:
            err_console.print(f"  {problem.render(lang)}", highlight=False, markup=False,
                              soft_wrap=True)
        if len(problems) > 50:
            err_console.print("  " + CORE("more", count=len(problems) - 50).render(lang))
    raise typer.Exit(exc.exit_code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Render AppError (and a pydantic ValidationError of the input) through :func:`fail`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            try:
                return fn(*args, **kwargs)
            except ValidationError as exc:
                raise Invalid(CORE("invalid_input"),
                              problems=validation.problems(exc.errors())) from None
        except AppError as exc:
            fail(exc, bool(kwargs.get("as_json")))

    return wrapper


def cli_actor() -> Actor:
    """Commands run on the server itself act as the system, recorded with the OS user."""
    import getpass

    from fangkong.core.auth import system_actor

    return system_actor(source=f"cli:{getpass.getuser()}")


@contextmanager
def db_session(check_schema: bool = True) -> Iterator[Session]:
    from importlib import import_module

    from fangkong.core.db import get_engine, session_scope

    for module in _session_listeners:
        import_module(module)
    engine = get_engine()
    if check_schema:
        from fangkong.core.db import check_writable
        from fangkong.core.migrate import is_current

        check_writable(engine)
        if not is_current(engine):
            raise Unavailable(CORE("schema_old"))
    with session_scope(engine) as session:
        yield session


def emit(value: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        text()


# --- progress --------------------------------------------------------------------------------

def _line(text: str) -> None:
    err_console.print(text, highlight=False, markup=False, soft_wrap=True)


@contextmanager
def busy(message: Any, *, quiet: bool = False) -> Iterator[None]:
    """A spinner while the work runs, on a terminal. Elsewhere (a pipe, a log file, CI), where
    a spinner shows nothing, one plain line on standard error when the work starts and one
    when it ends, with the time it took. ``message`` (a catalogue message) in the command
    line's language."""
    if quiet:
        yield
    elif console.is_terminal:
        with console.status(say(message), spinner="dots"):
            yield
    else:
        start = time.monotonic()
        _line(say(message))
        yield
        _line(say(CORE("done_in", what=message, seconds=f"{time.monotonic() - start:.1f}")))


Tick = Callable[[Any, int, "int | None"], None]


@contextmanager
def progress(unit: Any = "", *, quiet: bool = False, transient: bool = False,
             every_s: float = 10.0) -> Iterator[Tick]:
    """``tick(name, done, total)`` for long work in steps: bars on a terminal; elsewhere a
    plain line on standard error at every tenth of ``total`` (at most every ``every_s``
    seconds when the total is not known) and when a task ends. ``unit`` and a ``name`` may
    be catalogue messages: they are shown in the command line's language."""
    if quiet:
        yield lambda _name, _done, _total: None
        return
    if console.is_terminal:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        tasks: dict[str, Any] = {}
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn(say(unit)), TimeElapsedColumn(), console=console,
                      transient=transient) as bar:

            def tick(name: Any, done: int, total: int | None) -> None:
                if str(name) not in tasks:
                    tasks[str(name)] = bar.add_task(say(name), total=total)
                bar.update(tasks[str(name)], completed=done, total=total)

            yield tick
        return

    start = time.monotonic()
    shown: dict[str, tuple[int, float]] = {}  # name -> (tenth or count shown, when)

    def plain(name: Any, done: int, total: int | None) -> None:
        now, key = time.monotonic(), str(name)
        if total:
            step = done * 10 // total
            if key in shown and shown[key][0] >= step:
                return
        else:
            if key in shown and now - shown[key][1] < every_s:
                return
            step = done
        shown[key] = (step, now)
        count = f"{done:,}/{total:,}" if total else f"{done:,}"
        seconds = f"{now - start:.0f}"
        _line(say(CORE("progress_unit", name=name, count=count, unit=unit, seconds=seconds)
                  if unit else CORE("progress", name=name, count=count, seconds=seconds)))

    yield plain


# --- warnings of the library in the terminal -------------------------------------------------

class _ConsoleWarnings(logging.Handler):
    """Warnings and errors that Fangkong logs (a missing font, a failing notifier) shown to
    the person running the command, in yellow on standard error."""

    def emit(self, record: logging.LogRecord) -> None:
        style = "bold red" if record.levelno >= logging.ERROR else "yellow"
        err_console.print(f"[{style}]{record.levelname.lower()}:[/] ", end="", highlight=False)
        err_console.print(record.getMessage(), highlight=False, markup=False)


def show_warnings() -> None:
    """Install :class:`_ConsoleWarnings` on the ``fangkong`` logger (once)."""
    logger = logging.getLogger("fangkong")
    if not any(isinstance(h, _ConsoleWarnings) for h in logger.handlers):
        logger.addHandler(_ConsoleWarnings(logging.WARNING))
