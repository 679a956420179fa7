"""Tracing the day's cases: contacts identified, told, and put under the pack's plan (a
room while its centralized phase lasts, else at home)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from fangkong.drill.responder import CLOSE
from fangkong.drill.state import FACILITY_Q, FREE, HOME_Q, WAITING, State


class Contacts(State):
    """Tracing the day's cases: contacts identified, told, and put under the pack's plan (a"""

    def _trace(self, cases: np.ndarray, t: int) -> int:
        traced = self.responder.trace(cases, t)
        st = self.status
        self.contact[traced.agent] = True
        self.unmanaged[traced.unmanaged] = True
        ok = ~self.known[traced.agent] & (
            (st[traced.agent] == FREE)
            | ((st[traced.agent] == HOME_Q) & (traced.role == CLOSE) & (self.role[
                traced.agent] != CLOSE)))
        if self.s.response.isolation:
            self._again(traced.agent[~ok], traced.exposure_day[~ok], t)
        agent, exposure, role = traced.agent[ok], traced.exposure_day[ok], traced.role[ok]
        self.released[agent] = False
        if self.s.response.isolation and agent.size:
            plans = [self.plans.get(int(r)) for r in role]
            # a room only while the plan's centralized phase lasts: contacts found after it
            # (tracing fell behind) go on with the plan at home
            facility = np.array([p is not None and p.facility is not None
                                 and t - int(e) <= p.facility[1]
                                 for p, e in zip(plans, exposure, strict=True)], dtype=np.bool_)
            managed = np.array([p is not None for p in plans], dtype=np.bool_)
            st[agent[facility]] = WAITING
            st[agent[managed & ~facility]] = HOME_Q
            self.anchor[agent] = exposure
            self.role[agent] = role
            self.since[agent] = t
            self.since_hour[agent] = 12 + self.hour_rng.random(agent.size) * 8
            record = self.responder.contact_status
            if self.platform is not None:
                start = self.platform.at(self.date(t), 0)
                # told when traced: those for a facility wait for a room, notified; home
                # quarantine starts when told
                for told, status in ((np.unique(agent[facility]), "notified"),
                                     (np.unique(agent[managed & ~facility]),
                                      "under_management")):
                    if told.size:
                        record(told, status, [start + timedelta(hours=float(h))
                                              for h in self.since_hour[told]])
        if self.platform is not None:
            if agent.size:
                self.platform.register(agent, self.date(t))
            self.platform.investigated(traced.cases, self.platform.at(self.date(t), 14))
        return int(agent.size) if traced.identified is None else traced.identified

    def _again(self, people: np.ndarray, exposure: np.ndarray, t: int) -> None:
        """Contacts identified again while already under the plan (by another case): the
        plan runs from the latest exposure (outside a room), and the new episode joins the
        old one's state (told if waiting for a room, under management if quarantined)."""
        keep = ~self.known[people] & np.isin(self.status[people], (WAITING, FACILITY_Q, HOME_Q))
        people, exposure = people[keep], exposure[keep]
        if not people.size:
            return
        # in a room the stay booked for the plan sets the days (no exposure there)
        out = self.status[people] != FACILITY_Q
        np.maximum.at(self.anchor, people[out], exposure[out].astype(self.anchor.dtype))
        waiting = self.status[people] == WAITING
        self._tell(np.unique(people[waiting]), "notified", t, 20)
        self._tell(np.unique(people[~waiting]), "under_management", t, 20)
