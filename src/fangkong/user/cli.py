from __future__ import annotations

import sys

import typer

from fangkong.cliutil import JsonOpt, cli_actor, console, db_session, emit, handle_errors
from fangkong.core.auth import Role
from fangkong.core.errors import Invalid
from fangkong.user import service
from fangkong.user.schemas import UserCreate, UserRead

app = typer.Typer(help="Users, roles and jurisdiction grants.", no_args_is_help=True)


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
    if not password_stdin:
        raise Invalid("pass --password-stdin and send the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    data = UserCreate(username=name, display_name=display_name, role=role,
                      jurisdictions=jurisdiction, password=password)
    with db_session() as session:
        user = UserRead.model_validate(service.create_user(session, actor=cli_actor(),
                                                           data=data))
    where = ", ".join(user.jurisdictions)
    emit(user, as_json, lambda: console.print(
        f"[green]created[/] {user.username} ({user.role.value}) in {where}"))
