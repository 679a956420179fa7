"""The planning files of ``fangkong isolation assign``: people and sites, read from CSV or XLSX
with every bad cell reported by file, line and field (nothing is solved until both files are
clean)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fangkong.core.config import get_settings
from fangkong.core.errors import Problem
from fangkong.core.messages import joined
from fangkong.core.tabular import Collector, open_table
from fangkong.isolation.enums import AssignRole, MedicalLevel, Need, SiteType
from fangkong.isolation.messages import ISO

PEOPLE_COLUMNS = ["person_ref", "household_ref", "role", "needs", "lon", "lat", "case_ref"]
PEOPLE_REQUIRED = ["person_ref", "role", "lon", "lat"]
SITE_COLUMNS = ["site_id", "type", "lon", "lat", "rooms", "room_capacity", "family_rooms",
                "accessible_rooms", "medical_level"]
SITE_REQUIRED = ["site_id", "type", "lon", "lat", "rooms", "room_capacity"]
MAX_ROOMS = 100_000
MAX_ROOM_CAPACITY = 20


@dataclass(frozen=True)
class PlanPerson:
    ref: str
    household: str
    """The household_ref, or the person's own ref when blank (a household of one)."""
    role: AssignRole
    needs: frozenset[Need]
    lon: float
    lat: float
    case_ref: str
    line: int


@dataclass(frozen=True)
class PlanSite:
    site_id: str
    type: SiteType
    lon: float
    lat: float
    rooms: int
    room_capacity: int
    family_rooms: int
    accessible_rooms: int
    medical_level: MedicalLevel
    line: int


def _text(raw: dict[str, Any], field: str) -> str:
    value = raw.get(field)
    return "" if value is None else str(value).strip()


def _coordinate(raw: dict[str, Any], field: str, limit: float,
                problems: list[Problem]) -> float:
    text = _text(raw, field)
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(ISO("expected_degrees", raw=repr(text)) if text
                                else ISO("required"), field=field))
        return 0.0
    if not math.isfinite(value) or not -limit <= value <= limit:
        problems.append(Problem(ISO("outside_limit", text=text, limit=f"{limit:g}"), field=field))
    return value


def _count(raw: dict[str, Any], field: str, low: int, high: int, default: int | None,
           problems: list[Problem]) -> int:
    text = _text(raw, field)
    if not text and default is not None:
        return default
    try:
        value = int(text)
    except ValueError:
        problems.append(Problem(ISO("expected_whole", raw=repr(text)) if text
                                else ISO("required"), field=field))
        return low
    if not low <= value <= high:
        problems.append(Problem(ISO("outside_range", value=value, low=low, high=high), field=field))
    return value


def _choice(raw: dict[str, Any], field: str, enum: Any, problems: list[Problem],
            default: Any = None) -> Any:
    text = _text(raw, field)
    if not text and default is not None:
        return default
    try:
        return enum(text)
    except ValueError:
        problems.append(Problem(ISO("unknown_value", raw=repr(text),
                                    values=joined(e.value for e in enum))
                                if text else ISO("required"),
                                field=field))
        return None


def read_people(source: Path | bytes, filename: str | None = None) -> list[PlanPerson]:
    settings = get_settings()
    table = open_table(source, expected=PEOPLE_COLUMNS, required=PEOPLE_REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename)
    collector = Collector(table.filename, settings.import_max_errors)
    people: list[PlanPerson] = []
    seen: dict[str, int] = {}
    for line, raw in collector.rows(table):
        problems: list[Problem] = []
        ref = _text(raw, "person_ref")
        if not ref:
            problems.append(Problem(ISO("required"), field="person_ref"))
        elif ref in seen:
            problems.append(Problem(ISO("ref_again", ref=ref, line=seen[ref]),
                                    field="person_ref"))
        else:
            seen[ref] = line
        role = _choice(raw, "role", AssignRole, problems)
        needs: set[Need] = set()
        for token in filter(None, (t.strip() for t in _text(raw, "needs").split(";"))):
            try:
                needs.add(Need(token))
            except ValueError:
                problems.append(Problem(ISO("unknown_need", raw=repr(token),
                                            values=joined(n.value for n in Need)),
                                        field="needs"))
        lon = _coordinate(raw, "lon", 180, problems)
        lat = _coordinate(raw, "lat", 90, problems)
        if problems:
            collector.add(line, problems)
            continue
        people.append(PlanPerson(ref=ref, household=_text(raw, "household_ref") or f"\0{ref}",
                                 role=role, needs=frozenset(needs), lon=lon, lat=lat,
                                 case_ref=_text(raw, "case_ref"), line=line))
    collector.check()
    return people


def read_sites(source: Path | bytes, filename: str | None = None) -> list[PlanSite]:
    settings = get_settings()
    table = open_table(source, expected=SITE_COLUMNS, required=SITE_REQUIRED,
                       max_bytes=settings.import_max_bytes, filename=filename)
    collector = Collector(table.filename, settings.import_max_errors)
    sites: list[PlanSite] = []
    seen: dict[str, int] = {}
    for line, raw in collector.rows(table):
        problems: list[Problem] = []
        site_id = _text(raw, "site_id")
        if not site_id:
            problems.append(Problem(ISO("required"), field="site_id"))
        elif site_id == "home":
            problems.append(Problem(ISO("home_reserved"), field="site_id"))
        elif site_id in seen:
            problems.append(Problem(ISO("site_again", id=site_id, line=seen[site_id]),
                                    field="site_id"))
        else:
            seen[site_id] = line
        kind = _choice(raw, "type", SiteType, problems)
        if kind is SiteType.home:
            problems.append(Problem(ISO("home_virtual"), field="type"))
        lon = _coordinate(raw, "lon", 180, problems)
        lat = _coordinate(raw, "lat", 90, problems)
        rooms = _count(raw, "rooms", 0, MAX_ROOMS, None, problems)
        capacity = _count(raw, "room_capacity", 1, MAX_ROOM_CAPACITY, None, problems)
        family = _count(raw, "family_rooms", 0, MAX_ROOMS, 0, problems)
        accessible = _count(raw, "accessible_rooms", 0, MAX_ROOMS, 0, problems)
        level = _choice(raw, "medical_level", MedicalLevel, problems, MedicalLevel.none)
        if family > rooms:
            problems.append(Problem(ISO("family_over", family=family, rooms=rooms),
                                    field="family_rooms"))
        if accessible > rooms:
            problems.append(Problem(ISO("accessible_over", accessible=accessible, rooms=rooms),
                                    field="accessible_rooms"))
        if family and capacity < 2:
            problems.append(Problem(ISO("family_two"),
                                    field="room_capacity"))
        if problems:
            collector.add(line, problems)
            continue
        sites.append(PlanSite(site_id=site_id, type=kind, lon=lon, lat=lat, rooms=rooms,
                              room_capacity=capacity, family_rooms=family,
                              accessible_rooms=accessible, medical_level=level, line=line))
    collector.check()
    return sites
