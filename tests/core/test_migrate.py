"""The schema check every command makes reads one row and the file names, not Alembic."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, head, is_current, newest, upgrade

VERSIONS = Path(__file__).resolve().parents[2] / "src" / "fangkong" / "migrations" / "versions"


def test_newest_is_alembics_head_and_files_are_named_by_revision() -> None:
    assert newest() == head()
    scripts = ScriptDirectory.from_config(alembic_config())
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert len(list(VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))) == len(
        list(scripts.walk_revisions()))


def test_a_database_behind_is_refused(fresh_db: str) -> None:
    engine = get_engine()
    assert not is_current(engine)
    scripts = ScriptDirectory.from_config(alembic_config())
    before = scripts.get_revision(newest()).down_revision
    assert isinstance(before, str)
    upgrade(engine, before)
    assert not is_current(engine)
    result = CliRunner().invoke(app, ["user", "add", "li", "--role", "analyst", "--jurisdiction",
                                      "CN", "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 7 and "fangkong db upgrade" in result.stderr
    upgrade(engine)
    assert is_current(engine)


@pytest.mark.parametrize("name", ["0021_x.py", "0100_more_things.py"])
def test_the_pattern_reads_the_number(name: str) -> None:
    from fangkong.core.migrate import _VERSION_FILE

    match = _VERSION_FILE.fullmatch(name)
    assert match and match.group(1) == name[:4]
