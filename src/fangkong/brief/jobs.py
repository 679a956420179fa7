"""The brief's scheduled job (named in :mod:`fangkong.brief`'s ``CONTRIBUTES``)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fangkong.brief import render, service
from fangkong.core.auth import Actor
from fangkong.core.clock import utc_now
from fangkong.core.config import get_settings

log = logging.getLogger("fangkong")


def morning_briefs(session: Session, actor: Actor) -> bool:
    """Once a day, from the local hour ``brief_hour``: the daily briefs of the jurisdictions
    in ``brief_jurisdictions``, in every format, to ``<data dir>/briefs/<day>/``. False
    (not yet: the scheduler asks again at its next tick) before that hour or with none."""
    settings = get_settings()
    now = utc_now().astimezone(ZoneInfo(settings.timezone))
    if not settings.brief_jurisdictions or now.hour < settings.brief_hour:
        return False
    day = datetime.date(now)
    for code in settings.brief_jurisdictions:
        files = service.write(session, actor=actor, jurisdiction=code, day=day,
                              out=settings.data_dir / "briefs" / day.isoformat(),
                              formats=list(render.FORMATS), lang="zh-Hans",
                              zone=settings.timezone)
        log.info("brief of %s for %s: %s", code, day, ", ".join(f.name for f in files))
    return True
