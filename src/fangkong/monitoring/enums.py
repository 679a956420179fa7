from __future__ import annotations

from enum import StrEnum


class PeriodStatus(StrEnum):
    active = "active"
    ended = "ended"


class Channel(StrEnum):
    """How a report was entered."""

    self_link = "self_link"  # the person, through their personal link
    worker_visit = "worker_visit"  # a community worker, after a visit
    worker_call = "worker_call"  # a community worker, after a call


WORKER_CHANNELS = (Channel.worker_visit, Channel.worker_call)

HOME_PHASES = ("home_quarantine", "home_health_monitoring")
"""The plan phases whose people report daily from home."""
