"""The transmission graph's session listener, light to import (SQLAlchemy's event API only).

Every process that opens the database installs it (the registry's ``session_listeners``), so
that a flush that changes cases, exposures or contact episodes is noted and the graph brought
up to date before the commit (:mod:`fangkong.tracing.graph`). The graph itself, with the
tracing and case models, is imported only when a flush holds such a record: a command that
writes none (``fangkong user add``) does not load it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

# graph._PENDING: the session's note of the changed cases and persons (the graph's key)
PENDING = "fangkong.tracing.graph.pending"
# The modules whose records the graph follows (a case, an exposure, a contact episode).
WATCHED = frozenset({"fangkong.case.models", "fangkong.tracing.models"})


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, context: Any) -> None:
    for group in (session.new, session.dirty, session.deleted):
        if any(type(obj).__module__ in WATCHED for obj in group):
            from fangkong.tracing import graph

            graph.note_changes(session)
            return


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(PENDING):
        from fangkong.tracing import graph

        graph.sync(session, build=False)
