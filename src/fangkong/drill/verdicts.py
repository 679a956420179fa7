"""The drill's verdicts: what a commander asks after an outbreak (复盘), from a run's daily rows.

- time to control: days from the first case found to the last of ``CONTROL_DAYS`` days in a
  row without a case found in the community (outside quarantine). No shipped pack defines
  control, so the default applies: 7 days (the packs' lifting rules count clean days per
  zone, not for the city);
- total infections (the simulation's truth);
- peak demand for quarantine rooms (in a room or waiting for one) and for isolation beds (in
  hospital or 方舱, or positive waiting for transfer) against the strategy's capacity;
- the share of cases found among known contacts (in quarantine);
- the share of contacts in a quarantine room within 24 hours of being identified;
- the platform's tasks closed on time;
- the bottleneck of each day: the capability whose work left at the end of the day is the
  longest in days of its own capacity (tracing: cases waiting for a tracer; lab: samples
  waiting, only on a day the lab used every tube it had, its own and the mobile labs'; rooms:
  contacts and cases waiting for a room or bed, at least a day when the rooms or beds are
  full), or none when no work of a whole day's capacity is left;
- what is still running at the end: contacts still under the plan and cases still isolated
  (stays that end after the drill, not work left undone).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fangkong.drill.strategy import Strategy

CONTROL_DAYS = 7
LIMITS = ("tracing", "lab", "rooms")


@dataclass
class Verdict:
    days: int
    first_case_day: int | None
    controlled_day: int | None  # the last of the clean days, or None
    infections: int
    cases_found: int
    peak_rooms: int
    rooms: int
    peak_beds: int
    beds: int
    found_among_contacts: float | None
    quarantined_in_24h: float | None
    tasks_on_time: float | None
    bottleneck: list[str] = field(default_factory=list)  # each day: a LIMITS entry or "none"
    still_in_quarantine: int = 0
    still_isolated: int = 0

    @property
    def time_to_control(self) -> int | None:
        if self.first_case_day is None or self.controlled_day is None:
            return None
        return self.controlled_day - self.first_case_day

    def bottleneck_days(self) -> dict[str, int]:
        counts = Counter(self.bottleneck)
        return {k: counts[k] for k in (*LIMITS, "none")}

    def figures(self) -> dict[str, Any]:
        """The verdicts as plain figures (metrics, JSON, comparisons)."""
        return {
            "time_to_control_days": self.time_to_control,
            "infections": self.infections, "cases_found": self.cases_found,
            "peak_room_demand": self.peak_rooms, "rooms": self.rooms,
            "peak_bed_demand": self.peak_beds, "beds": self.beds,
            "found_among_contacts_share": self.found_among_contacts,
            "quarantined_within_24h_share": self.quarantined_in_24h,
            "tasks_on_time_share": self.tasks_on_time,
            **{f"bottleneck_days_{k}": v for k, v in self.bottleneck_days().items()},
            "still_in_quarantine": self.still_in_quarantine,
            "still_isolated": self.still_isolated,
        }


def _num(v: Any) -> float:
    return float(v) if v not in ("", None) else 0.0


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 3) if whole else None


def controlled_on(rows: list[dict[str, Any]], first: int | None) -> int | None:
    """The last day of the first ``CONTROL_DAYS`` days in a row after the first case with no
    case found in the community."""
    if first is None:
        return None
    clean = 0
    for r in rows[first + 1:]:
        clean = clean + 1 if _num(r["detected_in_community"]) == 0 else 0
        if clean == CONTROL_DAYS:
            return int(r["day"])
    return None


def bottleneck(row: dict[str, Any], s: Strategy) -> str:
    """What limited the response on the day of ``row`` (see the module's notes)."""
    scale = s.agents / 100_000
    cap = s.capacity
    delays: dict[str, float] = {}
    tracers = cap.tracers * scale
    if tracers > 0:
        delays["tracing"] = _num(row["cases_waiting_tracing"]) / tracers
    # the day's tubes (the mobile labs' too, once they test); rows without: the city's lab
    tubes = _num(row.get("lab_capacity")) if row.get("lab_capacity") not in ("", None) \
        else cap.lab_tubes * scale
    ran_out = row.get("lab_capacity") in ("", None) or _num(row["tests_used"]) >= tubes
    if tubes > 0 and ran_out:
        ar = s.detection.area_rounds
        per_tube = ar.pool if ar.enabled else 1  # samples a tube holds, at most
        delays["lab"] = _num(row["lab_backlog"]) / (tubes * per_tube)
    waiting = _num(row["contacts_waiting_room"]) + _num(row["cases_waiting_transfer"])
    seats = cap.vehicles * scale * cap.vehicle_trips * cap.vehicle_seats
    full = (_num(row["rooms_occupied"]) >= cap.rooms * scale
            or _num(row["in_isolation"]) >= cap.isolation_beds * scale)
    if waiting:
        delays["rooms"] = max(waiting / seats if seats else 1.0, 1.0 if full else 0.0)
    worst = max(LIMITS, key=lambda k: delays.get(k, 0.0))
    return worst if delays.get(worst, 0.0) >= 1.0 else "none"


def verdict(rows: list[dict[str, Any]], s: Strategy) -> Verdict:
    scale = s.agents / 100_000
    first = next((int(r["day"]) for r in rows if _num(r["new_detected"]) > 0), None)
    found = sum(_num(r["new_detected"]) for r in rows)
    due = sum(_num(r["tasks_due"]) for r in rows)
    last = rows[-1] if rows else {}
    return Verdict(
        days=len(rows), first_case_day=first, controlled_day=controlled_on(rows, first),
        infections=int(_num(last.get("cumulative_infections"))), cases_found=int(found),
        peak_rooms=int(max((_num(r["in_quarantine"]) + _num(r["contacts_waiting_room"])
                            for r in rows), default=0)),
        rooms=round(s.capacity.rooms * scale),
        peak_beds=int(max((_num(r["in_isolation"]) + _num(r["cases_waiting_transfer"])
                           for r in rows), default=0)),
        beds=round(s.capacity.isolation_beds * scale),
        found_among_contacts=_share(sum(_num(r["detected_in_quarantine"]) for r in rows),
                                    found),
        quarantined_in_24h=_share(sum(_num(r["quarantined_within_24h"]) for r in rows),
                                  sum(_num(r["contacts_managed"]) for r in rows)),
        tasks_on_time=_share(sum(_num(r["tasks_on_time"]) for r in rows), due),
        bottleneck=[bottleneck(r, s) for r in rows],
        still_in_quarantine=int(sum(_num(last.get(k)) for k in (
            "contacts_waiting", "contacts_in_facility", "contacts_at_home"))),
        still_isolated=int(_num(last.get("in_isolation"))))
