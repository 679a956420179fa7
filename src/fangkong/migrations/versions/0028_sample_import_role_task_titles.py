"""testing on PostgreSQL: the samples import's fast path is bound to a database role, not to a
setting any session can change; generated tasks keep their title's message key and parameters

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

Migration 0018 let ``testing_sample_refs_known()`` skip its join of a statement's samples with
``person`` and ``testing_tube`` (a fifth of a city's samples import) when the session had set
``fangkong.sample_refs = 'resolved'``. Any session can set any ``fangkong.*`` setting, and
``ALTER ROLE/DATABASE ... SET`` can set it for every session: one ``set_config`` switched an
integrity check off for whatever the session wrote next.

The check is now skipped only for statements run as the role ``fangkong_sample_import``
(``current_user``; NOLOGIN). Becoming it needs membership of it, which only the DBA (or this
migration, for the role that runs it: the application's) grants; a reporting login, another
application or a user of the database without it cannot. The role may only insert and update
samples (and read what the trigger and the import's staging table need); the samples import
(``fangkong.testing.importer``) switches to it for its one INSERT and its repeat flags, after
finding every person and tube by a join under the references' advisory lock (migration 0017),
and switches back at once. Any other statement is checked, whatever its settings. The
collection points are still checked for every statement. A member could still write a bad
sample by hand as the role, as the tables' owner could drop the trigger: the role is the
privilege, and revoking it (``REVOKE fangkong_sample_import FROM app``) turns the fast path
off (the import then falls back to the checked INSERT).

Roles belong to the cluster, not to one database: the role is created if missing (when the
migrating role may create roles; if not, the import always takes the checked path), and the
downgrade revokes its privileges in this database but leaves it for the others.

Tasks the platform makes (notify a contact, sample a stay, ...) had English-only titles, shown
as such inside Chinese pages. ``task.title_key`` and ``task.title_params`` (nullable: a typed
title has neither) keep the message (``fangkong.task.titles``) and its parameters, so each
reader sees it in their language; ``title`` keeps the English text.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

ROLE = "fangkong_sample_import"
"""The role the samples import's INSERT runs as (``fangkong.testing.importer.IMPORT_ROLE``)."""


def _samples() -> str:
    """0018's function, with the role in place of the setting."""
    old = importlib.import_module(
        "fangkong.migrations.versions.0018_testing_sample_refs_resolved")._SAMPLES
    was = ("-- the samples import found these persons and tubes by a join, holding the lock\n"
           "        IF coalesce(current_setting('fangkong.sample_refs', true), '') "
           "<> 'resolved' THEN")
    assert was in old
    return old.replace(was, (
        "-- statements run as the samples import's role only (migration 0028): it found\n"
        f"        -- these persons and tubes by a join, holding the lock\n"
        f"        IF current_user::text <> '{ROLE}' THEN"))


_ROLE = f"""DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}')
       AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
        CREATE ROLE {ROLE} NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO {ROLE}', current_schema());
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {ROLE}', current_database());
        GRANT SELECT, INSERT, UPDATE ON testing_sample TO {ROLE};
        GRANT SELECT ON testing_point TO {ROLE};
        BEGIN
            EXECUTE format('GRANT {ROLE} TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            NULL;  -- not ours to grant: the DBA grants it, or the import checks every row
        END;
    END IF;
END $$"""

_UNROLE = f"""DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
        REVOKE ALL ON testing_sample FROM {ROLE};
        REVOKE ALL ON testing_point FROM {ROLE};
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM {ROLE}', current_schema());
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM {ROLE}', current_database());
    END IF;
END $$"""


def upgrade() -> None:
    # plain ALTER TABLE (SQLite's too, as migration 0024): the task table is referred to, so
    # a batch copy of it could not be dropped
    op.add_column("task", sa.Column("title_key", sa.String(50), nullable=True))
    op.add_column("task", sa.Column("title_params", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_ROLE)
        op.execute(_samples())


def downgrade() -> None:
    op.drop_column("task", "title_params")
    op.drop_column("task", "title_key")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(importlib.import_module(
            "fangkong.migrations.versions.0018_testing_sample_refs_resolved")._SAMPLES)
        op.execute(_UNROLE)
