"""A database that cannot be written (read-only file, connection, server; full disk) stops
`fangkong serve` and every command at start with one red line, not a traceback at the first
write (issue 19, item 10). Root ignores file modes, so the read-only cases are made in ways
that hold for root too: SQLite's ``mode=ro``, an immutable file (chattr), PostgreSQL's
``default_transaction_read_only``, and a full tmpfs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core import db
from fangkong.core.config import get_settings


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANGKONG_DATABASE_URL", url)
    get_settings.cache_clear()


def _refused(kind: str) -> None:
    for args in (["task", "escalate"], ["serve", "--port", "8102"]):
        code, out = run(*args)
        assert code == 7, out
        assert kind in out and "Traceback" not in out, out
        assert out.lower().count("error:") == 1


@pytest.fixture
def migrated(fresh_db: str) -> Iterator[str]:
    assert run("db", "upgrade")[0] == 0
    yield fresh_db
    for url in list(db._engines):
        db._engines.pop(url).dispose()


def test_a_read_only_connection(migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("task", "escalate")[0] == 0  # writable: runs
    if migrated.startswith("sqlite"):
        path = make_url(migrated).database
        ro = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        admin = create_engine(make_url(migrated).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{make_url(migrated).database}" '
                              "SET default_transaction_read_only = on"))
        admin.dispose()
        db._engines.pop(migrated).dispose()
        ro = migrated
    _use(ro, monkeypatch)
    _refused("read-only")


def test_an_immutable_file(migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not migrated.startswith("sqlite"):
        pytest.skip("a file of the embedded database")
    path = Path(str(make_url(migrated).database))
    db._engines.pop(migrated).dispose()  # WAL checkpointed and closed
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        _refused("read-only")
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_full_disk(migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not migrated.startswith("sqlite"):
        pytest.skip("the embedded database's disk")
    path = Path(str(make_url(migrated).database))
    db._engines.pop(migrated).dispose()
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={path.stat().st_size + 300_000}",
                       "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        shutil.copy(path, disk / "full.db")
        with (disk / "filler").open("wb", buffering=0) as fh, pytest.raises(OSError):
            while True:
                fh.write(b"\0" * 4096)
        _use(f"sqlite:///{disk / 'full.db'}", monkeypatch)
        _refused("full")
    finally:
        for url in list(db._engines):
            db._engines.pop(url).dispose()
        subprocess.run(["umount", str(disk)], check=True)
