"""Start-up: `fangkong --help` lists every command group with its help and imports no domain;
a command imports its own module only, and no heavy library it does not use; what the root
names for the domains (event handlers, session listeners) still takes effect."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from fangkong import registry
from fangkong.cli import app, load

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
    commands = registry.commands()
    assert listed == [c.name for c in commands]
    for c in commands:
        assert _first_paragraph(load(c.name, c.target).help) == c.help, c.name
        assert c.help[:40] in " ".join(panel.replace("│", " ").split()), c.name


def test_every_domain_cli_is_listed() -> None:
    """A new domain's `cli.py` appears in `fangkong --help` only once the registry names it."""
    commands = registry.commands()
    modules = {c.target.partition(":")[0] for c in commands}
    domains = sorted(SRC.glob("*/cli.py"))
    assert len(domains) >= 12
    for path in domains:
        assert f"fangkong.{path.parent.name}.cli" in modules, path
    for c in commands:
        module, _, attr = c.target.partition(":")
        value = getattr(__import__(module, fromlist=["_"]), attr)
        assert isinstance(value, typer.Typer) or callable(value), c.target


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


# Every library `fangkong user add` imports (distributions, as pip names them): each one is
# CPU that every command writing to the database pays before it starts
# (`bench/bench_startup.py --parts`). A library that joins them fails the test below: import it
# where it is used, or add it here when the command does need it.
USER_ADD_LIBRARIES = frozenset({
    "fangkong", "typer", "shellingham", "annotated-doc", "rich", "pydantic", "pydantic-core",
    "pydantic-settings", "python-dotenv", "typing-extensions", "typing-inspection",
    "annotated-types", "sqlalchemy", "argon2-cffi", "argon2-cffi-bindings", "cffi", "zxcvbn",
    "psycopg", "psycopg-binary", "psycopg-c",  # PostgreSQL's driver, on PostgreSQL
})


def _libraries(modules: object) -> set[str]:
    """The distributions that ``modules`` come from, less those the interpreter imports at
    start-up (a ``.pth`` hook) and the standard library."""
    assert isinstance(modules, list)
    at_start = set(json.loads(subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True).stdout))
    owners = packages_distributions()
    return {re.sub(r"[-_.]+", "-", dist).lower() for m in modules if m not in at_start
            for dist in owners.get(m.partition(".")[0], ())}


def _imported(modules: object, prefix: str) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if m == prefix or m.startswith(prefix + ".")]


def test_help_imports_no_domain_and_no_database_layer() -> None:
    found = _modules_after(["--help"])
    assert found["code"] == 0
    # the root, the registry and the domains' package files that declare what they contribute
    assert sorted(m for m in found["modules"] if m.startswith("fangkong.")) == sorted(  # type: ignore[attr-defined]
        ["fangkong.cli", "fangkong.registry", *registry.DOMAINS])
    # nor pydantic: typer builds its option adapters (pydantic TypeAdapters) only for the
    # command that runs, and the settings are read only before a command runs
    for lib in (*HEAVY, "sqlalchemy", "pydantic", "pydantic_core", "pydantic_settings"):
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
    assert _libraries(found["modules"]) <= USER_ADD_LIBRARIES, (
        sorted(_libraries(found["modules"]) - USER_ADD_LIBRARIES))
    # Other domains are not imported, yet their listeners are in place: the graph listens to
    # the session, and a reported case reaches tracing when it is published.
    assert "fangkong.tracing.graph_hook" in found["modules"]  # type: ignore[operator]
    # the graph, with the tracing and case models, only once a flush holds such a record
    for module in ("tracing.graph", "tracing.models", "case.models"):
        assert not _imported(found["modules"], f"fangkong.{module}"), module
    for module in ("case.service", "tracing.service"):
        assert not _imported(found["modules"], f"fangkong.{module}"), module
    for domain in ("testing", "isolation", "drill", "web"):  # but their registry declarations
        assert not [m for m in found["modules"]  # type: ignore[attr-defined]
                    if m.startswith(f"fangkong.{domain}.")], domain
    named: dict[str, list[str]] = {}
    for listener in registry.listeners():
        named.setdefault(listener.event, []).append(listener.target)
    assert found["lazy"] == named




NUMERICAL = ("numpy", "pandas", "pyarrow", "scipy", "duckdb", "weasyprint", "ortools",
             "statsmodels")


@pytest.mark.parametrize("args", [["--help"], ["user", "add", "--help"], ["brief", "--help"],
                                  ["user", "--help"]], ids=" ".join)
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    """What a person types first answers without the numerical, PDF and solver libraries
    (the brief imports them when it is written; user commands import neither them nor the
    ORM for their help)."""
    found = _modules_after(args)
    assert found["code"] == 0, found["output"]
    assert "Usage: " in str(found["output"])
    for lib in (*NUMERICAL, *HEAVY, "sqlalchemy"):
        assert not _imported(found["modules"], lib), (args, lib)


def test_a_command_freezes_its_objects_and_closes_its_database_at_exit(tmp_path: Path) -> None:
    """`fangkong.cli.main` freezes the objects out of the collector's passes at exit; the
    database connections are closed all the same (SQLite's write-ahead log folded back into
    the file, none of its side files left)."""
    env = {**os.environ, "FANGKONG_DATA_DIR": str(tmp_path),
           "FANGKONG_DATABASE_URL": f"sqlite:///{tmp_path / 'fk.db'}"}
    code = ("import gc, sys\n"
            "from fangkong.cli import main\n"
            "sys.argv[1:] = sys.argv[1].split()\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "print(gc.get_freeze_count())\n")
    for args, stdin in (("db upgrade", ""),
                        ("user add li --role epidemiologist --jurisdiction CN --password-stdin",
                         "a-long-password\n")):
        done = subprocess.run([sys.executable, "-c", code, args], input=stdin, env=env,
                              capture_output=True, text=True, check=True, timeout=120)
        assert int(done.stdout.splitlines()[-1]) > 1000, done.stdout
        assert sorted(p.name for p in tmp_path.glob("fk.db*")) == ["fk.db"], args


# OWASP's Password Storage Cheat Sheet: Argon2id with one of these configurations (memory in
# KiB, passes), each "an equal level of defense", at one degree of parallelism or more. Start-up
# time is not a reason to go below them: the hash is a fifth of `fangkong user add`'s CPU
# (bench/bench_startup.py --parts), and that is the cost it is meant to have.
OWASP_ARGON2ID = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def test_the_password_hash_is_at_least_owasps_argon2id() -> None:
    from argon2 import Type, extract_parameters

    from fangkong.core.security import _hasher, hash_password

    for params in (_hasher, extract_parameters(hash_password("a-long-password"))):
        assert params.type is Type.ID
        assert params.parallelism >= 1 and params.salt_len >= 16 and params.hash_len >= 16
        assert any(params.memory_cost >= memory and params.time_cost >= passes
                   for memory, passes in OWASP_ARGON2ID), params


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
