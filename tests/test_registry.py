"""The registry is the one place the domains are wired: a domain it lists (a fake one here)
is in the app, the CLI, the event bus and the scheduler, with nothing else changed; every
router and command group of the package is named there; no module subscribes itself to an
event when imported."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong import registry
from fangkong.app import create_app
from fangkong.cli import app as cli_app
from fangkong.core import events
from tests.conftest import make_actor
from tests.fakedomain import parts

SRC = Path(__file__).resolve().parent.parent / "src" / "fangkong"


@pytest.fixture
def fake_domain(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "DOMAINS", (*registry.DOMAINS, "tests.fakedomain"))
    parts.HEARD.clear()
    parts.RUNS.clear()
    yield


@pytest.fixture
def fresh_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The event bus as a new process has it: nothing subscribed, the registry not read."""
    monkeypatch.setattr(events, "_handlers", {})
    monkeypatch.setattr(events, "_lazy", {})
    monkeypatch.setattr(events, "_installed", False)
    yield


def test_a_registered_domain_is_in_the_app(fake_domain: None) -> None:
    app = create_app()
    assert "/api/v1/fake/ping" in app.openapi()["paths"]
    with TestClient(app) as client:
        assert client.get("/api/v1/fake/ping").json() == {"fake": "pong"}
        assert client.get("/fake-page").json() == {"page": "fake"}


def test_an_unregistered_domain_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app()
    assert "/api/v1/fake/ping" not in app.openapi()["paths"]
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/fake/ping").status_code == 404


def test_a_registered_domain_is_in_the_cli(fake_domain: None) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["--help"])
    assert listed.exit_code == 0 and "A domain of the registry's test." in listed.output
    done = runner.invoke(cli_app, ["fake", "hello"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "hello from the fake domain"


def test_two_domains_cannot_declare_one_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.registry import Command, Contribution

    clash = Contribution(commands=(Command("user", "tests.fakedomain.parts:app", "Clash."),))
    monkeypatch.setattr(registry, "PLATFORM", clash)
    with pytest.raises(ValueError, match=r"command name\(s\) user declared twice"):
        registry.commands()


def test_a_registered_listener_hears_its_event(fake_domain: None, fresh_events: None,
                                               session: Session) -> None:
    """A process that never installed the listeners (a script calling the services) has the
    registry's installed at its first publish: the fake domain's handler and the domains'."""
    event = events.Event("zone.lifted", actor=make_actor(), subject_type="zone",
                         subject_ids=[987654], reason="test")
    events.publish(session, event)
    assert parts.HEARD == [("zone.lifted", (987654,))]
    from fangkong.task.service import end_tasks

    assert events._handlers[events.EVERY] == [end_tasks]
    events.publish(session, event)  # installed once: each handler still hears it once
    assert parts.HEARD == [("zone.lifted", (987654,))] * 2


def test_the_scheduler_runs_the_registered_jobs(fake_domain: None, fresh_db: str) -> None:
    from fangkong.app import escalation_loop
    from fangkong.core.db import get_engine
    from fangkong.core.migrate import upgrade

    engine = get_engine()
    upgrade(engine)
    stop = threading.Event()
    worker = threading.Thread(target=escalation_loop, args=(engine, 0.02, stop))
    worker.start()
    try:
        for _ in range(200):
            if parts.RUNS.count("job as scheduler") >= 4:
                break
            stop.wait(0.02)
    finally:
        stop.set()
        worker.join(10)
    assert parts.RUNS.count("job as scheduler") >= 4
    # the daily job was asked again after its "not yet" (False), then not again that day
    assert parts.RUNS.count("daily") == 2


def _module_objects(kind: type) -> set[str]:
    """``module:attribute`` of every module-level ``kind`` in the package's interface
    modules (``api.py``, ``*_api.py``, ``cli.py``)."""
    found = set()
    for path in sorted(SRC.glob("*/*.py")):
        if not (path.stem == "api" or path.stem.endswith("_api") or path.stem == "cli"):
            continue
        name = f"fangkong.{path.parent.name}.{path.stem}"
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, kind):
                found.add(f"{name}:{attr}")
    return found


def test_every_router_of_the_package_is_registered_and_the_api_is_theirs() -> None:
    named = registry.routers()
    assert len(named) == len(set(named))
    assert set(named) == _module_objects(APIRouter)
    # the OpenAPI of the app is exactly the registered routers' operations under /api/v1
    expected = set()
    for target in named:
        router = registry.resolve(target)
        for route in router.routes:
            if isinstance(route, APIRoute) and route.include_in_schema:
                expected |= {(m.lower(), "/api/v1" + route.path) for m in route.methods}
    spec = create_app().openapi()
    served = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert served == expected
    assert len(served) >= 130


def test_every_command_group_of_the_package_is_registered() -> None:
    """Each module-level Typer app of a ``cli.py`` is registered, or is a sub-group the
    registered one adds (``testing round``)."""
    registered = {c.target for c in registry.commands()}
    for target in _module_objects(typer.Typer):
        if target in registered:
            continue
        module = target.partition(":")[0]
        parent = next(t for t in registered if t.startswith(module + ":"))
        group = registry.resolve(parent)
        assert any(info.typer_instance is registry.resolve(target)
                   for info in group.registered_groups), target


def test_every_listener_is_a_handler_of_a_known_event() -> None:
    for listener in registry.listeners():
        assert listener.event == events.EVERY or listener.event in events.CATALOGUE
        assert callable(registry.resolve(listener.target)), listener.target
    for job in registry.jobs():
        assert callable(registry.resolve(job.target)), job.target
    for module in registry.session_listeners():
        importlib.import_module(module)


def test_no_module_subscribes_itself_when_imported() -> None:
    """Import every module of the package in a fresh interpreter: nothing is subscribed to
    any event until the registry is read (one way to listen)."""
    modules = []
    for path in sorted(SRC.rglob("*.py")):
        parts_ = path.relative_to(SRC.parent).with_suffix("").parts
        if "migrations" in parts_ or parts_[-1] == "__main__":  # alembic's env; runs the CLI
            continue
        modules.append(".".join(parts_[:-1] if parts_[-1] == "__init__" else parts_))
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "from fangkong.core import events\n"
            "print(json.dumps([len(sys.modules), {k: len(v) for k, v in "
            "events._handlers.items()}, events._lazy, events._installed]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=300)
    count, handlers, lazy, installed = json.loads(done.stdout.splitlines()[-1])
    assert count > len(modules)
    assert (handlers, lazy, installed) == ({}, {}, False)


def test_each_domain_declares_its_contribution_in_its_package_file() -> None:
    """The declarations import nothing but the registry (so reading them is cheap)."""
    for package in registry.DOMAINS:
        tree = ast.parse((SRC / package.split(".")[1] / "__init__.py").read_text())
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert [getattr(n, "module", None) for n in imports] == ["fangkong.registry"], package


def test_every_record_that_carries_a_pack_is_declared() -> None:
    """``fangkong db check-packs`` reads the registry's ``packed`` declarations: every mapped
    table with a pack version column is declared by its own domain (a new domain's records
    cannot be forgotten), and every declaration names real columns."""
    import fangkong.models  # noqa: F401  (every domain's models mapped)
    from fangkong.core.db import Base

    declared = {}
    for package, contribution in registry.contributions().items():
        for packed in contribution.packed:
            model = registry.resolve(packed.model)
            assert packed.model.startswith(f"{package}."), (package, packed.model)
            assert {packed.pack, packed.version} <= set(model.__table__.c.keys()), packed
            declared[model.__table__.name] = packed.kind
    carrying = {mapper.local_table.name for mapper in Base.registry.mappers
                if "pack_version" in mapper.local_table.c}
    assert carrying == set(declared), carrying ^ set(declared)
    assert len(set(declared.values())) == len(declared)  # one name per kind of record
