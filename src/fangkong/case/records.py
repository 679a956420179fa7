"""One path from raw case fields (API payload or a file's line) to checked values."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.case.enums import LABELS, Classification, DetectionMode, Severity
from fangkong.case.messages import C
from fangkong.core.clock import parse_datetime, utc_now
from fangkong.core.errors import Problem
from fangkong.core.messages import Term
from fangkong.core.validation import reason
from fangkong.person.records import parse_date

FIELDS = ("ref", "person_ref", "disease", "classification", "severity", "onset_date",
          "first_positive_sample_date", "reported_at", "detection_mode",
          "owning_division_code", "current_division_code")
REQUIRED = ("ref", "person_ref", "classification", "reported_at", "detection_mode",
            "owning_division_code")
_ENUMS: dict[str, type] = {"classification": Classification, "severity": Severity,
                           "detection_mode": DetectionMode}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise(raw: Mapping[str, Any], *, zone: str) -> tuple[dict[str, Any], list[Problem]]:
    out: dict[str, Any] = {f: None for f in FIELDS}
    problems: list[Problem] = []
    for field in REQUIRED:
        if _blank(raw.get(field)):
            problems.append(Problem(C("required"), field=field))
    for field in ("ref", "person_ref", "owning_division_code", "current_division_code"):
        if not _blank(raw.get(field)):
            out[field] = str(raw[field]).strip()
    out["disease"] = str(raw.get("disease") or "covid19").strip().lower()
    for field, enum in _ENUMS.items():
        if not _blank(raw.get(field)):
            try:
                out[field] = enum(str(raw[field]).strip().lower())
            except ValueError:
                allowed = ", ".join(e.value for e in enum)  # type: ignore[attr-defined]
                problems.append(Problem(C("one_of", allowed=allowed), field=field))
    for field in ("onset_date", "first_positive_sample_date"):
        if not _blank(raw.get(field)):
            try:
                out[field] = parse_date(raw[field])
            except ValueError as exc:
                problems.append(Problem(reason(exc), field=field))
    if not _blank(raw.get("reported_at")):
        try:
            out["reported_at"] = parse_datetime(raw["reported_at"], zone)
            if out["reported_at"] > utc_now():
                problems.append(Problem(C("in_future"), field="reported_at"))
        except ValueError as exc:
            problems.append(Problem(reason(exc), field="reported_at"))
    out["current_division_code"] = out["current_division_code"] or out["owning_division_code"]
    problems += consistency(out, zone=zone)
    return out, problems


def consistency(values: Mapping[str, Any], *, zone: str) -> list[Problem]:
    """Rules that tie fields together: severity only for confirmed cases, dates in order."""
    problems = []
    cls, sev = values.get("classification"), values.get("severity")
    if cls == Classification.confirmed and sev is None:
        problems.append(Problem(C("needs_severity"), field="severity"))
    if cls not in (None, Classification.confirmed) and sev is not None:
        problems.append(Problem(C("severity_confirmed_only",
                                  classification=Term(LABELS.get(cls, {"en": str(cls)}))),
                                field="severity"))
    onset: date | None = values.get("onset_date")
    reported = values.get("reported_at")
    if reported is not None:
        reported = reported.astimezone(ZoneInfo(zone))
    if onset and reported and onset > reported.date():
        problems.append(Problem(C("onset_after_report"), field="onset_date"))
    sampled: date | None = values.get("first_positive_sample_date")
    if sampled and reported and sampled > reported.date():
        problems.append(Problem(C("sampled_after_report"),
                                field="first_positive_sample_date"))
    return problems


def row_hash(values: Mapping[str, Any]) -> str:
    text = "\x1f".join("" if values.get(f) is None else str(values[f]) for f in FIELDS)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
