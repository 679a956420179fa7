"""The day's samples and results: fever clinics, quarantine test days of the pack's plan,
routine testing of key groups, area rounds in zones; positives become cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from fangkong.drill.platform import NewCase
from fangkong.drill.responder import ROUTES
from fangkong.drill.state import (
    FACILITY_Q,
    FREE,
    HOME_Q,
    POSITIVE,
    POSITIVE_IN_FACILITY,
    WAITING,
    State,
)


class Detection(State):
    """The day's samples and results: fever clinics, quarantine test days of the pack's plan,"""

    def _sample(self, t: int) -> int:
        s, city, eng, st = self.s, self.city, self.engine, self.status
        resp, taken = self.responder, 0
        managed = np.isin(st, (WAITING, FACILITY_Q, HOME_Q))
        if s.detection.fever_clinic:
            visit = (eng.t_clinic == t) & ~self.known
            q = np.flatnonzero(visit & managed)
            c = np.flatnonzero(visit & (st == FREE))
            resp.sample(q, t, "in_quarantine", 1)
            resp.sample(c, t, "fever_clinic", 1)
            taken += q.size + c.size
        if s.response.isolation:
            offset = t - self.anchor
            due = np.zeros(city.n, dtype=bool)
            for role, plan in self.plans.items():
                if plan is not None:
                    due |= (self.role == role) & np.isin(offset, list(plan.tests))
            q = np.flatnonzero(due & managed & ~self.known)
            resp.sample(q, t, "in_quarantine", 1)
            taken += q.size
        kg = s.detection.key_groups
        if kg.enabled:
            ids = np.flatnonzero(city.key_group & (st == FREE) & ~self.known)
            ids = ids[(ids + t) % kg.interval_days == 0]
            resp.sample(ids, t, "routine_key_groups", kg.pool)
            taken += ids.size
        ar = s.detection.area_rounds
        if ar.enabled and self.levels:
            towns = self._round_towns(ar.scope)
            due_towns = towns & ((t - self.zone_day0) % ar.interval_days == 0) if \
                ar.scope == "zones" else towns & (t % ar.interval_days == 0)
            if self.service:  # the round the pack's lifting rule asks for
                due_towns |= (self.zone_level >= 0) & np.isin(t - self.zone_day0,
                                                               list(self.round_days))
            if due_towns.any():
                ids = np.flatnonzero(due_towns[city.town] & ~self.known
                                     & np.isin(st, (FREE, WAITING, HOME_Q)))
                taken += resp.run_round(ids, t, ar.pool)
        return taken

    def _round_towns(self, scope: str) -> np.ndarray:
        active = self.zone_level >= 0
        if scope == "zones" or not active.any():
            return active
        if scope == "city":
            return np.ones_like(active)
        districts = np.unique(self.city.town_district[active])
        return np.isin(self.city.town_district, districts)

    def _results(self, t: int, today: dt.date) -> dict[str, Any]:
        res = self.responder.results(t)
        agents, first = np.unique(res.agent, return_index=True)
        new = ~self.known[agents]
        agents, sample, route = agents[new], res.sample_day[first][new], res.route[first][new]
        st = self.status
        managed = np.isin(st[agents], (WAITING, FACILITY_Q, HOME_Q))
        mode = np.where(managed, ROUTES.index("in_quarantine"), route)
        self.known[agents] = True
        self.positive_day[agents] = t
        self.positive_hour[agents] = 8 + self.hour_rng.random(agents.size) * 12
        self.sample_day[agents] = sample
        was_contact = agents[np.isin(st[agents], (WAITING, FACILITY_Q, HOME_Q))]
        self.became[was_contact] = True
        if self.s.response.isolation:
            st[agents] = np.where(st[agents] == FACILITY_Q, POSITIVE_IN_FACILITY, POSITIVE)
            self.since[agents] = t
        community = agents[mode != ROUTES.index("in_quarantine")]
        if self.levels and self.s.response.zones and community.size:
            towns = np.unique(self.city.town[community])
            self.new_zone_towns = towns
            if not self.service:
                self.zone_level[towns] = 0
            self.zone_day0[towns] = t
        counts = np.bincount(mode, minlength=len(ROUTES))
        routes = {"detected_in_quarantine": int(counts[1]),
                  "detected_in_community": int(counts[0] + counts[2] + counts[3]),
                  "detected_fever_clinic": int(counts[0]),
                  "detected_key_groups": int(counts[2]),
                  "detected_area_rounds": int(counts[3])}
        if self.platform is not None and agents.size:
            onset = self.engine.t_onset[agents]
            self.platform.report_cases([NewCase(
                agent=int(a), classification="confirmed" if onset[i] <= t else "asymptomatic",
                onset=self.date(int(onset[i])) if onset[i] <= t else None,
                sample=self.date(int(sample[i])),
                reported_at=self.platform.at(today, 10 + i % 10),
                detection_mode=ROUTES[int(mode[i])]) for i, a in enumerate(agents)], today)
        if self.platform is not None:
            self._tell(was_contact, "became_case", t, 20, cases=self.platform.case_of)
        return {"agents": agents, "routes": routes}
