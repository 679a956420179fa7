"""``fangkong user``. The service (the ORM, the password hasher) is imported by the command
that runs, not for ``--help``."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors, say
from fangkong.core.auth import Role
from fangkong.core.errors import Invalid
from fangkong.core.messages import CORE, role_term
from fangkong.user.messages import U

app = typer.Typer(help="Users, roles and jurisdiction grants.", no_args_is_help=True)


def _stdin_password(password_stdin: bool) -> str:
    if not password_stdin:
        raise Invalid(CORE("password_stdin"))
    return sys.stdin.readline().rstrip("\r\n")


@app.command("add")
@handle_errors
def add(
    name: str,
    role: Role = typer.Option(..., help="The user's role."),
    jurisdiction: list[str] = typer.Option(
        ..., help="Division code the user acts in (repeatable); CN for the whole country."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from standard input."),
    display_name: str = typer.Option("", help="Name shown in the interface."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a user. The password is read from standard input, never from an argument."""
    from fangkong.user import service
    from fangkong.user.schemas import UserCreate, UserRead

    data = UserCreate(username=name, display_name=display_name, role=role,
                      jurisdictions=jurisdiction, password=_stdin_password(password_stdin))
    digest = service.new_password_hash(data.password, name)  # before the transaction
    with db_session() as session:
        user = UserRead.model_validate(service.create_user(session, actor=cli_actor(),
                                                           data=data, password_hash=digest))
    where = ", ".join(user.jurisdictions)
    emit(user, as_json, lambda: console.print(say(
        U("cli.created", username=user.username, role=role_term(user.role), where=where))))


@app.command("password")
@handle_errors
def password(
    name: str,
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the new password from standard input."),
) -> None:
    """Set a user's password (checked against the policy); every session of theirs ends."""
    from fangkong.user import service

    digest = service.new_password_hash(_stdin_password(password_stdin), name)
    with db_session() as session:
        actor = cli_actor()
        user = service.find_user(session, actor=actor, username=name)
        service.set_password_hash(session, actor=actor, user_id=user.id, password_hash=digest)
    console.print(f"[green]{escape(say(U('cli.password_set', name=name)))}[/]")


def _set_active(name: str, active: bool, as_json: bool) -> None:
    from fangkong.user import service
    from fangkong.user.schemas import UserRead

    with db_session() as session:
        actor = cli_actor()
        user = service.find_user(session, actor=actor, username=name)
        read = UserRead.model_validate(service.set_active(session, actor=actor,
                                                          user_id=user.id, active=active))
    emit(read, as_json, lambda: console.print(say(
        U("cli.enabled" if active else "cli.disabled", name=name))))


@app.command("disable")
@handle_errors
def disable(name: str, as_json: bool = JsonOpt) -> None:
    """Disable a user: they cannot sign in, and every session of theirs ends."""
    _set_active(name, False, as_json)


@app.command("enable")
@handle_errors
def enable(name: str, as_json: bool = JsonOpt) -> None:
    """Enable a disabled user again."""
    _set_active(name, True, as_json)
