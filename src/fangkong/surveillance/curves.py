"""Case-based epidemic curves from the case registry: counts per day (by onset or report date)
and division, split by how cases were found (under control, i.e. in quarantine or closed-loop
management, versus in the community: ``DetectionMode.community``). Discarded cases are left
out; cases without an onset date are left out of onset-date curves (and counted as such)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.config import get_settings
from fangkong.core.errors import Invalid, Problem
from fangkong.surveillance.enums import CaseSplit, DateBasis
from fangkong.surveillance.messages import S
from fangkong.surveillance.schemas import CurvePoint

LEVELS = {"province": 2, "city": 4, "county": 6, "town": 9, "village": 12}


def _rows(session: Session, actor: Actor, division: str, basis: DateBasis,
          disease: str | None, start: date, end: date
          ) -> list[tuple[date, str, bool]]:
    zone = ZoneInfo(get_settings().timezone)
    if basis == DateBasis.onset:
        stmt = cases.dated(actor, division=division, disease=disease, onset=(start, end))
    else:  # a day's margin either side for the zone; the exact local day is checked below
        lo = datetime.combine(start - timedelta(days=1), time.min, tzinfo=UTC)
        hi = datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC)
        stmt = cases.dated(actor, division=division, disease=disease, reported=(lo, hi))
    out = []
    ids = []
    for onset, reported, mode, code, cid in session.execute(stmt):
        day = onset if basis == DateBasis.onset else reported.astimezone(zone).date()
        if day is None or not start <= day <= end:
            continue
        out.append((day, code, mode.community))
        ids.append(cid)
    if ids:
        audit.record(session, actor, action="read", record_type="case",
                     fields=["onset_date", "reported_at", "detection_mode",
                             "owning_division_code"],
                     detail={"purpose": "epidemic curve", "cases": len(ids)})
    return out


def curve(session: Session, *, actor: Actor, division: str, start: date, end: date,
          basis: DateBasis = DateBasis.onset, level: str | None = None,
          disease: str | None = None) -> list[CurvePoint]:
    """Daily counts per division (at ``level``, default the division itself), every day of
    the range present (zeros included)."""
    actor.require(Perm.case_read)
    if end < start:
        raise Invalid(S("curve.end_before_start"))
    if (end - start).days > 3660:
        raise Invalid(S("curve.too_long"))
    if level is not None and level not in LEVELS:
        raise Invalid(S("curve.unknown_level", level=repr(level), allowed=", ".join(LEVELS)),
                      problems=[Problem(S("curve.level_unknown"), field="level")])
    if not (actor.covers(division) or any(g.startswith(division) for g in actor.grants)):
        # a curve of zeros would read as "no cases there"; the pages refuse it the same way
        raise Invalid(S("curve.not_yours", code=division),
                      problems=[Problem(S("curve.not_yours_short"), field="division")])
    digits = LEVELS[level] if level else len(division)
    if level and digits < len(division):
        raise Invalid(S("curve.level_above", level=level, code=division))
    counts: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for day, code, community in _rows(session, actor, division, basis, disease, start, end):
        counts[(day, code[:digits])][0 if community else 1] += 1
    codes = sorted({c for _, c in counts} or {division[:digits]})
    out = []
    day = start
    while day <= end:
        for code in codes:
            com, quar = counts.get((day, code), [0, 0])
            out.append(CurvePoint(date=day, division_code=code, community=com,
                                  in_quarantine=quar, total=com + quar))
        day += timedelta(days=1)
    return out


def case_series(session: Session, *, actor: Actor, divisions: list[str], start: date, end: date,
                basis: DateBasis, split: CaseSplit, disease: str | None
                ) -> dict[str, NDArray[np.float64]]:
    """Daily counts for each division (prefix) in ``divisions``, for the alert rules."""
    actor.require(Perm.case_read)
    n = (end - start).days + 1
    out = {d: np.zeros(n) for d in divisions}
    for division in divisions:
        for day, _code, community in _rows(session, actor, division, basis, disease, start,
                                            end):
            if split == CaseSplit.all or community == (split == CaseSplit.community):
                out[division][(day - start).days] += 1
    return out
