from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from fangkong.core.db import get_engine
from fangkong.core.migrate import alembic_config, current, head, upgrade
from fangkong.models import metadata


def test_migrations_match_the_models(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    assert current(engine) == head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(fresh_db: str) -> None:
    from alembic import command

    engine = get_engine()
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "person" in inspect(engine).get_table_names()
