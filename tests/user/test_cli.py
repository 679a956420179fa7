"""`fangkong user disable|enable|password` (issue 19, item 7)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.audit import AuditEntry
from fangkong.core.config import get_settings
from fangkong.core.db import get_engine, session_scope
from fangkong.core.errors import Unauthenticated
from fangkong.core.migrate import upgrade
from fangkong.user import service as users
from fangkong.user.models import User

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, " ".join(result.output.split())


def test_disable_enable_and_password_from_the_command_line(fresh_db: str) -> None:
    upgrade(get_engine())
    settings = get_settings()
    code, out = run("user", "add", "li", "--role", "analyst", "--jurisdiction", "CN",
                    "--password-stdin", stdin="aaaaaaaaaaaa\n")
    assert code == 2 and "one character repeated" in out
    code, _ = run("user", "add", "li", "--role", "analyst", "--jurisdiction", "CN",
                  "--password-stdin", stdin="first long phrase\n")
    assert code == 0

    def sign_in(password: str) -> str:
        return users.sign_in(lambda: session_scope(get_engine()), settings, "li", password,
                             address="127.0.0.1", source="test")

    def live(token: str) -> bool:
        with session_scope(get_engine()) as session:
            try:
                users.actor_from_token(session, settings, token, source="test")
            except Unauthenticated:
                return False
            return True

    token = sign_in("first long phrase")
    code, out = run("user", "disable", "li")
    assert code == 0 and "disabled li" in out
    assert not live(token)
    with pytest.raises(Unauthenticated):
        sign_in("first long phrase")
    assert run("user", "enable", "li", "--json")[0] == 0
    token = sign_in("first long phrase")
    assert live(token)

    code, out = run("user", "password", "li", "--password-stdin", stdin="li-2026-phrase!\n")
    assert code == 2 and "contains the username" in out
    code, out = run("user", "password", "li", "--password-stdin", stdin="second long phrase\n")
    assert code == 0 and "sessions were ended" in out
    assert not live(token)
    assert live(sign_in("second long phrase"))
    assert run("user", "disable", "nobody")[0] == 3
    with session_scope(get_engine()) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
        assert session.scalar(select(User.active).where(User.username == "li")) is True
    assert [a for a in actions if a in ("disable", "enable", "password")] == [
        "disable", "enable", "password"]
