"""A drill's strategy: every knob in one YAML file (see drill/strategies/*.yaml)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fangkong.core import validation
from fangkong.core.errors import Invalid, Problem
from fangkong.drill.messages import D


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Outbreak(_Strict):
    district: str = Field("440803", description="county-level code where it starts")
    infections: int = Field(10, ge=1)
    key_group: bool = Field(True, description="start among port and other key-place workers")


class Rounds(_Strict):
    enabled: bool = True
    interval_days: int = Field(1, ge=1)
    pool: int = Field(10, ge=1, le=20, description="samples per tube (10混1 = 10)")


class AreaRounds(Rounds):
    scope: Literal["zones", "districts", "city"] = "zones"
    interval_days: int = Field(2, ge=1)


class Detection(_Strict):
    fever_clinic: bool = True
    key_groups: Rounds = Rounds(interval_days=2)
    area_rounds: AreaRounds = AreaRounds()


class Response(_Strict):
    tracing: bool = True
    isolation: bool = Field(True, description="isolate cases and quarantine contacts")
    trace_work: bool = True
    trace_venues: bool = True
    secondary_contacts: bool = False
    work_contacts: int = Field(10, ge=0, description="colleagues or classmates per case")
    lockdown_high_risk: bool = Field(True, description="high-risk zone residents stay home")
    zones: bool = True
    home_compliance: float = Field(
        0.9, ge=0, le=1, description="share of people told to stay home (home quarantine, "
        "waiting for a room or transfer) who do so on a given day (assumption)")
    isolation_days: int = Field(10, ge=1, description="days in hospital or 方舱 (assumption)")
    investigation_hours: int = Field(24, ge=1, description="due time of the 流调 task")


class Capacity(_Strict):
    """Capacities per 100,000 residents of the real city (scaled to the agents), per day
    unless stated."""

    tracers: float = Field(10, ge=0, description="cases traced per day")
    lab_tubes: float = Field(2000, ge=0, description="PCR tubes processed per day")
    lab_turnaround_days: int = Field(1, ge=0, le=7)
    # As a real city scales testing: when its own labs first fall behind (samples left at the
    # end of a day), it sends for mobile labs (方舱/气膜实验室) from the province, which test
    # from ``mobile_lab_days`` days later on.
    mobile_lab_tubes: float = Field(0, ge=0, description="PCR tubes a day the mobile labs "
                                    "add once they arrive (0: none sent for)")
    mobile_lab_days: int = Field(3, ge=1, le=30, description="days from sending for the "
                                 "mobile labs to their first day of testing")
    # 20 rooms per 10,000 residents, the reserve quoted in 2022 guidance to cities (每万人20间);
    # not checked against the text here, treat as an assumption. One person per room.
    rooms: float = Field(200, ge=0, description="quarantine rooms (one person each)")
    isolation_beds: float = Field(300, ge=0, description="hospital and 方舱 beds")
    vehicles: float = Field(3, ge=0, description="transfer vehicles")
    vehicle_trips: int = Field(4, ge=1, description="trips per vehicle per day")
    vehicle_seats: int = Field(6, ge=1, description="people per trip")


class Strategy(_Strict):
    name: str = Field("baseline", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    description: str = ""
    pack: str | None = Field(None, description="policy pack; default the active pack")
    city: str = "4408"
    agents: int = Field(20_000, ge=100)
    fraction: float | None = Field(None, gt=0, le=1, description="agents as a fraction of the "
                                   "city's 2020 census population (overrides agents)")
    days: int = Field(60, ge=1, le=365)
    seed: int = 7
    start_date: date = date(2022, 5, 1)
    outbreak: Outbreak = Outbreak()
    detection: Detection = Detection()
    response: Response = Response()
    capacity: Capacity = Capacity()


def recent_start(days: int, today: date, like: date = date(2022, 5, 1)) -> date:
    """A start date such that a drill of ``days`` days ends before ``today`` (at most a week
    before) on the weekdays of a drill starting on ``like``: the dashboard shows it as recent,
    and the figures do not depend on the day it is run."""
    start = today - timedelta(days=days + 1)
    return start - timedelta(days=(start - like).days % 7)


def _line(root: yaml.Node | None, loc: tuple[object, ...]) -> int | None:
    """The line of the YAML node at ``loc`` (or of its nearest parent that exists)."""
    node, line = root, None
    for key in loc:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if k.value == str(key)), None)
        if found is None:
            break
        line, node = found[0].start_mark.line + 1, found[1]
    return line


def load(path: Path) -> Strategy:
    if not path.exists():
        raise Invalid(D("no_file", path=path))
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise Invalid(D("not_yaml", path=path), problems=[Problem(
            str(exc).splitlines()[0], file=path.name,
            line=mark.line + 1 if mark else None)]) from None
    if not isinstance(data, dict):
        raise Invalid(D("not_mapping", path=path))
    try:
        return Strategy.model_validate(data)
    except ValidationError as exc:
        root = yaml.compose(path.read_text("utf-8"))
        raise Invalid(D("invalid", path=path), problems=[
            Problem(validation.text(e), file=path.name, line=_line(root, tuple(e["loc"])),
                    field=validation.where(e["loc"])) for e in exc.errors()]) from None
