"""The risk-area domain's scheduled job (named in :mod:`fangkong.zone`'s ``CONTRIBUTES``)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.zone import service

log = logging.getLogger("fangkong")


def evaluate(session: Session, actor: Actor) -> None:
    """Once a day: the risk areas are evaluated under their packs' lifting rules
    (:func:`fangkong.zone.service.evaluate`)."""
    rows = service.evaluate(session, actor=actor)
    log.info("risk areas evaluated: %d due", sum(1 for r in rows if r.due))
