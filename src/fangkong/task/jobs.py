"""The task domain's scheduled job (named in :mod:`fangkong.task`'s ``CONTRIBUTES``)."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.task import service

log = logging.getLogger("fangkong")


def escalate(session: Session, actor: Actor) -> None:
    """Every tick: overdue tasks escalate (:func:`fangkong.task.service.escalate_overdue`)."""
    report = service.escalate_overdue(session, actor=actor)
    if report.escalated:
        log.info("escalated %d overdue task(s)", report.escalated)
