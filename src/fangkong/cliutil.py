"""What every CLI command shares: the session, errors as one red line, --json output."""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, system_actor
from fangkong.core.db import get_engine, session_scope
from fangkong.core.errors import AppError, Invalid, Problem, Unavailable

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON.")


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Render AppError as one red line (plus its problems) and exit with its code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            try:
                return fn(*args, **kwargs)
            except ValidationError as exc:
                problems = [Problem(str(e["msg"]), field=".".join(str(p) for p in e["loc"]))
                            for e in exc.errors()]
                raise Invalid("invalid input", problems=problems) from None
        except AppError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            for problem in exc.problems[:50]:
                err_console.print(f"  {problem}", highlight=False, markup=False)
            if len(exc.problems) > 50:
                err_console.print(f"  … and {len(exc.problems) - 50} more")
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def cli_actor() -> Actor:
    """Commands run on the server itself act as the system, recorded with the OS user."""
    return system_actor(source=f"cli:{getpass.getuser()}")


@contextmanager
def db_session(check_schema: bool = True) -> Iterator[Session]:
    engine = get_engine()
    if check_schema:
        from fangkong.core.db import check_writable
        from fangkong.core.migrate import current, head

        check_writable(engine)

        if current(engine) != head():
            raise Unavailable("the database schema is not up to date: run `fangkong db upgrade`")
    with session_scope(engine) as session:
        yield session


def emit(value: Any, as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        text()
