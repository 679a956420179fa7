"""The policy engine's public API. Pure functions: no database, no actor, nothing to commit.

Every function takes a pack (a :class:`Pack`, or a pack id looked up among the shipped packs;
``None`` means the deployment's active pack, setting ``active_policy_pack``) and returns a
result that names the pack and its version.

- :func:`packs`, :func:`get_pack`, :func:`active_pack`, :func:`summary`
- :func:`plan`: the management plan of a role from an anchor date
- :func:`lookback_window`, :func:`secondary_window`: which exposures count (tracing)
- :func:`check_level`, :func:`zone_schedule`, :func:`evaluate_zone`: risk-area clocks
- :func:`check_measures`, :func:`parse_measures`: the nine prohibitions
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fangkong.core.config import get_settings
from fangkong.core.errors import Conflict, Invalid
from fangkong.policy import loader, plans, prohibitions, zones
from fangkong.policy.isolation_rules import IsolationRules
from fangkong.policy.measures import Measure, parse_measures
from fangkong.policy.messages import P
from fangkong.policy.pack import Pack
from fangkong.policy.schemas import (
    CheckReport,
    PackSummary,
    Plan,
    Window,
    ZoneFacts,
    ZoneSchedule,
    ZoneVerdict,
)
from fangkong.policy.surveillance_rules import SerialInterval
from fangkong.policy.testing_rules import Testing
from fangkong.policy.tracing_rules import TracingRules

PackRef = Pack | str | None

__all__ = [
    "Measure", "Pack", "PackChanged", "PackPin", "PackRef", "active_pack", "check_level",
    "check_measures", "evaluate_zone", "get_pack", "has_prohibitions", "isolation_rules",
    "load_pack", "load_packs", "lookback_window", "packs", "parse_measures", "pin", "pinned",
    "pinned_by", "plan", "secondary_window", "summary", "testing_rules",
    "traces_secondary_contacts", "tracing_rules", "zone_schedule",
]

load_packs = loader.load_packs
load_pack = loader.load_pack


def packs(directory: Path | None = None) -> list[Pack]:
    """Every pack, by publication date."""
    return sorted(loader.load_packs(directory).values(), key=lambda p: (p.published, p.id))


def get_pack(pack_id: str, directory: Path | None = None) -> Pack:
    return loader.get(pack_id, directory)


def active_pack() -> Pack:
    return get_pack(get_settings().active_policy_pack)


def resolve(pack: PackRef) -> Pack:
    if isinstance(pack, Pack):
        return pack
    return get_pack(pack) if pack else active_pack()


@dataclass(frozen=True)
class PackPin:
    """The pack a piece of work runs under, resolved once where the work starts (a case
    reported, a round created, a zone designated, a stay booked) and stored with its records
    (``pack_id``, ``pack_version``) and in its events' ``detail``: every later rule reads the
    record's pack, never the deployment's active one, which may have changed since."""

    id: str
    version: str

    def detail(self) -> dict[str, str]:
        """What an event carries so that its listeners apply the same pack."""
        return {"pack_id": self.id, "pack_version": self.version}


class PackChanged(Conflict):
    """A record's stored pack version is not the version of that pack on disk: its rules
    cannot be re-read silently under the new version."""

    code = "pack_changed"


def pin(pack: PackRef = None) -> PackPin:
    """Resolve ``pack`` (None: the active pack) once, as the id and version to store."""
    found = resolve(pack)
    return PackPin(found.id, found.version)


def pinned(pack_id: str, pack_version: str, *, record: str) -> Pack:
    """The pack a stored record (``record``, e.g. ``"exposure 12"``) was made under; PackChanged
    (naming the record and both versions) if the pack on disk has another version now."""
    found = get_pack(pack_id)
    if found.version != pack_version:
        raise PackChanged(
            f"{record} was made under policy pack {pack_id} version {pack_version}, but the "
            f"pack on disk is version {found.version}; its rules are not re-read under another "
            "version: re-evaluate the record under the new version explicitly, or restore "
            f"{pack_id} {pack_version}")
    return found


def pinned_by(detail: Mapping[str, object], *, record: str) -> Pack | None:
    """The pack an event's ``detail`` carries (``pack_id``, ``pack_version``; see
    :meth:`PackPin.detail`), checked as :func:`pinned`; None if it carries none."""
    pack_id, version = detail.get("pack_id"), detail.get("pack_version")
    if not isinstance(pack_id, str) or not isinstance(version, str):
        return None
    return pinned(pack_id, version, record=record)


def summary(pack: Pack) -> PackSummary:
    return PackSummary(id=pack.id, version=pack.version, title=pack.title.model_dump(),
                       document=pack.document, published=pack.published,
                       in_force_start=pack.in_force.start, in_force_end=pack.in_force.end,
                       extends=pack.extends, lineage=pack.lineage, roles=list(pack.roles),
                       levels=pack.levels(), has_prohibitions=pack.prohibitions is not None,
                       digest=pack.digest)


def plan(pack: PackRef, role: str, anchor: date) -> Plan:
    return plans.build_plan(resolve(pack), role, anchor)


def lookback_window(pack: PackRef, **dates: date | None) -> Window:
    """See :func:`fangkong.policy.plans.lookback_window` for the keyword dates."""
    return plans.lookback_window(resolve(pack), **dates)


def secondary_window(pack: PackRef, *, close_contact_first_exposure: date,
                     close_contact_isolated_on: date | None) -> Window:
    return plans.secondary_window(resolve(pack),
                                  close_contact_first_exposure=close_contact_first_exposure,
                                  close_contact_isolated_on=close_contact_isolated_on)


def check_level(pack: PackRef, level: str) -> str:
    """The pack's version if ``level`` is one of its levels; Invalid otherwise."""
    return zones.check_level(resolve(pack), level)


def zone_schedule(pack: PackRef, level: str, last_infection: date, *,
                  path_level: str | None = None, level_since: date | None = None) -> ZoneSchedule:
    return zones.schedule(resolve(pack), level, last_infection, path_level=path_level,
                          level_since=level_since)


def evaluate_zone(pack: PackRef, *, level: str, last_infection: date, on: date,
                  facts: ZoneFacts | None = None) -> ZoneVerdict:
    return zones.evaluate(resolve(pack), level=level, last_infection=last_infection, on=on,
                          facts=facts)


def has_prohibitions(pack: PackRef) -> bool:
    return resolve(pack).prohibitions is not None


def check_measures(pack: PackRef, measures: list[Measure] | list[dict[str, Any]]) -> CheckReport:
    """Which of the nine prohibitions each measure breaks under the pack."""
    parsed = parse_measures([m.model_dump() if not isinstance(m, dict) else m for m in measures])
    return prohibitions.check(resolve(pack), parsed)


def isolation_rules(pack: PackRef) -> tuple[Pack, IsolationRules]:
    """The pack's ``isolation:`` section (where each kind of person may be placed); Invalid if
    the pack has none."""
    found = resolve(pack)
    if found.isolation is None:
        raise Invalid(P("no_isolation", pack=found.id))
    return found, found.isolation


def tracing_rules(pack: PackRef) -> TracingRules:
    """The pack's rules for finding contacts automatically (its ``tracing:`` section)."""
    resolved = resolve(pack)
    if resolved.tracing is None:
        from fangkong.core.errors import Invalid

        raise Invalid(P("no_tracing", pack=resolved.id))
    return resolved.tracing


def traces_secondary_contacts(pack: PackRef) -> bool:
    """Whether the pack identifies secondary contacts (次密接): it has a secondary window."""
    resolved = resolve(pack)
    return resolved.lookback is not None and resolved.lookback.secondary is not None


def testing_rules(pack: PackRef) -> Testing:
    """The pack's mass-testing rules (section ``testing``); Invalid if it has none or if its
    pooling names a zone level the pack does not define."""
    resolved = resolve(pack)
    rules = resolved.testing
    if rules is None:
        raise Invalid(P("no_testing", pack=resolved.id))
    levels = set(resolved.levels())
    unknown = sorted(set(rules.pooling.by_level) - levels)
    if unknown:
        raise Invalid(P("testing_levels", pack=resolved.id, levels=", ".join(unknown)))
    return rules


def serial_interval(pack: PackRef) -> tuple[Pack, SerialInterval | None]:
    """The pack's serial interval (section ``surveillance``), or None if it gives none."""
    resolved = resolve(pack)
    return resolved, (resolved.surveillance.serial_interval
                      if resolved.surveillance is not None else None)
