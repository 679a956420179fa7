"""The drill's risk zones through the zone registry."""

from __future__ import annotations

import numpy as np

from fangkong.drill import runs as drill_runs
from fangkong.drill.names import name
from fangkong.drill.platform import sim_clock
from fangkong.drill.respond.common import Context, Serviced
from fangkong.drill.responder import Capability
from fangkong.zone import service as zones
from fangkong.zone.schemas import InfectionIn, Lift, MemberIn, RoundIn, ZoneCreate


class Zoning(Serviced, Capability):
    """Risk zones in the platform's registry: towns with community infections designated,
    infections restarting their clocks, the daily evaluation's proposals approved; an
    earlier drill's zones lifted when this one starts."""

    def __init__(self, ctx: Context) -> None:
        self._bind(ctx)
        self.city = ctx.city
        self.zone_of: dict[int, int] = {}  # town index -> active zone id

    def init(self) -> None:
        mine, run = self.platform.case_prefix, self.platform.run_id
        earlier = set(drill_runs.tagged(self.session, "zone", other_than=run))
        for zone in zones.list_(self.session, actor=self.actor):
            if zone.id in earlier:
                zones.lift(self.session, actor=self.actor, zone_id=zone.id,
                           data=Lift(reason=name("ended", run=mine)))
        self.session.flush()

    def zones(self, day: int, towns: np.ndarray, levels: list[str]) -> np.ndarray:
        """Towns with new community infections: designated at the top level, or their zone's
        clock restarted; then the daily evaluation, its proposals approved by the command.
        Returns each town's level (an index into ``levels``; -1: no active zone)."""
        city = self.city
        today = self.date_of(day)
        with sim_clock(self.at(day, 20)):
            for town in towns.tolist():
                zone_id = self.zone_of.get(town)
                if zone_id is not None:
                    zones.add_infection(self.session, actor=self.actor, zone_id=zone_id,
                                        data=InfectionIn(reported_date=today))
                    continue
                d = int(city.town_district[town])
                zone = zones.designate(self.session, actor=self.actor, data=ZoneCreate(
                    name=name("zone", district=city.district_names[d],
                              town=city.town_names[town], run=self.platform.case_prefix),
                    level=levels[0],
                    owning_division_code=city.district_codes[d],
                    members=[MemberIn(division_code=str(city.town_codes[town]))],
                    population=int((city.town == town).sum()), last_infection_date=today,
                    reason=name("zone_reason"), pack_id=self.pack_id))
                self.zone_of[town] = zone.id
                self._tag("zone", [zone.id])
            rows = [r for r in zones.evaluate(self.session, actor=self.actor, on=today,
                                              zone_ids=set(self.zone_of.values()))
                    if r.proposal_id is not None and not r.applied]
            if rows:  # the command approves what the pack's rules make due (its zones only)
                pending = {p.id for p in zones.proposals(self.session, actor=self.actor)}
                for row in rows:
                    if row.proposal_id in pending:
                        zones.decide(self.session, actor=self.actor,
                                     proposal_id=row.proposal_id, approve=True, basis="rule")
        out = np.full(city.town_codes.size, -1, dtype=np.int8)
        for town, zone_id in list(self.zone_of.items()):
            zone = zones.get(self.session, actor=self.actor, zone_id=zone_id)
            if zone.status.value != "active" or zone.level not in levels:
                del self.zone_of[town]
                continue
            out[town] = levels.index(zone.level)
        return out

    def record_round(self, day: int, towns: np.ndarray, positive_towns: set[int]) -> None:
        """A round in zone towns: recorded on their zones (the lifting rule counts them)."""
        with sim_clock(self.at(day, 21)):
            for town in towns.tolist():
                zone_id = self.zone_of.get(town)
                if zone_id is not None:
                    zones.record_round(self.session, actor=self.actor, zone_id=zone_id,
                                       data=RoundIn(round_date=self.date_of(day),
                                                    all_negative=town not in positive_towns))

