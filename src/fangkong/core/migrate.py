"""Running Alembic from the package (``fangkong db upgrade``), without an alembic.ini."""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "fangkong:migrations"
_VERSION_FILE = re.compile(r"(\d{4})_\w+\.py")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def newest() -> str:
    """The head revision read from the file names alone (``NNNN_what.py``, revision NNNN, each
    after the one before: tests/core/test_migrate.py checks that this is Alembic's head), so
    that a command checks the schema without importing Alembic and every migration."""
    versions = resources.files("fangkong.migrations").joinpath("versions")
    return max(m.group(1) for p in versions.iterdir() if (m := _VERSION_FILE.fullmatch(p.name)))


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is at :func:`newest` (one small query)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return list(conn.scalars(text("SELECT version_num FROM alembic_version"))) == [newest()]
