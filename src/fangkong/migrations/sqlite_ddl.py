"""Editing a table's definition in place on SQLite, for the migrations that need it.

SQLite changes neither a column's type nor a table's foreign keys with ALTER TABLE, and the
usual way round (copy into a new table, drop the old one, rename) fails inside a migration's
transaction, where ``PRAGMA foreign_keys`` cannot be turned off: dropping a table that other
tables' rows refer to is refused (or deletes them), and renaming rewrites their references.
Changes that leave the stored rows' format as it is (a declared type is only an affinity;
a foreign key is only a check) take SQLite's documented procedure ("Making Other Kinds Of Table
Schema Changes", sqlite.org/lang_altertable): the table's CREATE statement is edited in
``sqlite_schema`` and the schema version bumped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op


def redefine_table(table: str, edit: Callable[[str], str]) -> None:
    """Replace ``table``'s CREATE statement by ``edit`` of it (which raises if the statement
    is not as expected)."""
    bind = op.get_bind()
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_schema WHERE type = 'table' AND "
                               "name = :t"), {"t": table}).scalar_one()
    new = edit(sql)
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    op.execute("PRAGMA writable_schema = ON")
    try:
        bind.execute(sa.text("UPDATE sqlite_schema SET sql = :sql "
                             "WHERE type = 'table' AND name = :t"), {"sql": new, "t": table})
        op.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        op.execute("PRAGMA writable_schema = OFF")


def replace_once(sql: str, before: str, after: str, what: str) -> str:
    """``sql`` with ``before`` (found exactly once, else an error naming ``what``) replaced."""
    if sql.count(before) != 1:
        raise RuntimeError(f"{what} is not as expected: {sql}")
    return sql.replace(before, after)
