"""Time in one place: stored UTC, shown in the configured zone; injectable for tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fangkong.core.messages import CORE

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def utc_now() -> datetime:
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests, drills); None restores the wall clock."""
    global _now
    _now = fn or (lambda: datetime.now(UTC))


def as_utc(value: datetime) -> datetime:
    """Naive datetimes (SQLite returns them) are taken to be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_datetime(value: object, zone: str) -> datetime:
    """An ISO date-time; a time without an offset is read in ``zone`` (the jurisdiction's)."""
    from zoneinfo import ZoneInfo

    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip().replace("/", "-")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(CORE("not_datetime", value=repr(text))) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return as_utc(parsed)
