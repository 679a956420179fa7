"""Start-up: `fangkong --help` lists every command group with its help and imports no domain;
a command imports its own module only, and no heavy library it does not use; what the root
names for the domains (event handlers, session listeners) still takes effect."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from fangkong import cli
from fangkong.cli import COMMANDS, app, load

SRC = Path(__file__).resolve().parent.parent / "src" / "fangkong"
HEAVY = ("ortools", "duckdb", "weasyprint", "scipy", "statsmodels", "pyarrow", "numpy",
         "shapely", "pandas", "sqlglot", "networkx", "alembic", "fastapi", "jwt", "pgpq",
         "openpyxl", "babel")
runner = CliRunner()


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def test_help_lists_every_group_with_the_help_its_module_gives() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    panel = result.output.split("─ Commands ")[1].split("\n", 1)[1].split("╰")[0]
    listed = [line[2:].split()[0] for line in panel.splitlines() if line[2:3].strip()]
    assert listed == [name for name, _, _ in COMMANDS]
    for name, target, help_ in COMMANDS:
        assert _first_paragraph(load(name, target).help) == help_, name
        assert help_[:40] in " ".join(panel.replace("│", " ").split()), name


def test_every_domain_cli_is_listed() -> None:
    """A new domain's `cli.py` appears in `fangkong --help` only once it is in COMMANDS."""
    modules = {target.partition(":")[0] for _, target, _ in COMMANDS}
    domains = sorted(SRC.glob("*/cli.py"))
    assert len(domains) >= 12
    for path in domains:
        assert f"fangkong.{path.parent.name}.cli" in modules, path
    for _, target, _ in COMMANDS:
        module, _, attr = target.partition(":")
        value = getattr(__import__(module, fromlist=["_"]), attr)
        assert isinstance(value, typer.Typer) or callable(value), target


def test_a_typo_is_told_the_command_it_meant() -> None:
    result = runner.invoke(app, ["usr", "add"])
    assert result.exit_code == 2 and "Did you mean 'user'" in result.output


def _modules_after(args: list[str], env: dict[str, str] | None = None,
                   stdin: str = "") -> dict[str, object]:
    """Run the command in a fresh interpreter; the modules it imported and what it printed."""
    code = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from fangkong.cli import app\n"
        f"r = CliRunner().invoke(app, {args!r}, input={stdin!r})\n"
        "events = sys.modules.get('fangkong.core.events')\n"
        "print(json.dumps({'code': r.exit_code, 'output': r.output,\n"
        "                  'modules': sorted(sys.modules),\n"
        "                  'lazy': events._lazy if events else None}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=True, timeout=120)
    out: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return out


def _imported(modules: object, prefix: str) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if m == prefix or m.startswith(prefix + ".")]


def test_help_imports_no_domain_and_no_database_layer() -> None:
    found = _modules_after(["--help"])
    assert found["code"] == 0
    assert [m for m in found["modules"] if m.startswith("fangkong.")] == [  # type: ignore[attr-defined]
        "fangkong.cli"]
    for lib in (*HEAVY, "sqlalchemy", "pydantic_settings"):
        assert not _imported(found["modules"], lib), lib


def test_user_add_imports_no_heavy_library(fresh_db: str, tmp_path: Path) -> None:
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade

    upgrade(get_engine())
    found = _modules_after(
        ["user", "add", "li", "--role", "epidemiologist", "--jurisdiction", "CN",
         "--password-stdin", "--json"],
        {"FANGKONG_DATABASE_URL": fresh_db, "FANGKONG_DATA_DIR": str(tmp_path)},
        "a-long-password\n")
    assert found["code"] == 0, found["output"]
    assert json.loads(str(found["output"]))["username"] == "li"
    for lib in HEAVY:
        assert not _imported(found["modules"], lib), lib
    # Other domains are not imported, yet their listeners are in place: the graph listens to
    # the session, and a reported case reaches tracing when it is published.
    assert "fangkong.tracing.graph" in found["modules"]  # type: ignore[operator]
    for domain in ("case.service", "tracing.service", "testing", "isolation", "drill", "web"):
        assert not _imported(found["modules"], f"fangkong.{domain}"), domain
    assert found["lazy"] == {event: [target] for event, target in cli.LISTENERS}


def test_the_listeners_named_are_the_domains_handlers() -> None:
    """Each listener named for the CLI is the handler its module subscribes itself, to a
    known event; and every handler a domain subscribes is named (else the CLI, which imports
    domains lazily, would publish an event nobody hears)."""
    from importlib import import_module

    from fangkong.core import events

    import_module("fangkong.task.service")
    named = set()
    for event, target in cli.LISTENERS:
        module, _, name = target.partition(":")
        handler = getattr(import_module(module), name)
        assert handler in events._handlers.get(event, []), target
        assert event == events.EVERY or event in events.CATALOGUE, event
        named.add((event, target))
    subscribed = {(event, f"{h.__module__}:{h.__name__}")
                  for event, handlers in events._handlers.items() for h in handlers
                  if h.__module__.startswith("fangkong.")}
    assert subscribed == named
    for module in cli.SESSION_LISTENERS:
        assert module in sys.modules  # importable (conftest imports tracing, hence the graph)


def test_the_dummy_password_hash_has_the_hashers_parameters() -> None:
    from fangkong.core.security import _hasher
    from fangkong.user.service import _DUMMY_HASH

    assert not _hasher.check_needs_rehash(_DUMMY_HASH)


def test_or_tools_is_imported_only_to_solve() -> None:
    """The isolation group and the brief (through the dashboard's isolation section) import
    the isolation service, which imports OR-Tools (and pandas with it) only to solve."""
    for group in ("isolation", "brief"):
        found = _modules_after([group, "--help"])
        assert found["code"] == 0
        for lib in ("ortools", "pandas", "duckdb", "weasyprint", "statsmodels"):
            assert not _imported(found["modules"], lib), (group, lib)
