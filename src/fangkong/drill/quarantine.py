"""Rooms and beds: cases transferred to isolation, contacts to quarantine rooms as seats
and rooms allow, the plan's phases ended and people released on time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from fangkong.drill.state import (
    FACILITY_Q,
    FREE,
    HOME_Q,
    ISOLATED,
    POSITIVE,
    POSITIVE_IN_FACILITY,
    WAITING,
    State,
)


class Quarantine(State):
    """Rooms and beds: cases transferred to isolation, contacts to quarantine rooms as seats"""

    def _transfer(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.s.response.isolation:
            return np.zeros(0), np.zeros(0)
        st, resp = self.status, self.responder
        waiting = np.flatnonzero((st == POSITIVE) | (st == POSITIVE_IN_FACILITY))
        waiting = waiting[np.argsort(self.since[waiting], kind="stable")]
        moved = resp.transfer_cases(waiting, t, in_use=int((st == ISOLATED).sum()))
        st[moved] = ISOLATED
        self.isolated_day[moved] = t
        self.release[moved] = t + self.s.response.isolation_days
        h_transfer = self._hours(moved, self.positive_day[moved], self.positive_hour[moved], t)
        self._record_transfers(moved, self.positive_day[moved], self.positive_hour[moved],
                               h_transfer, case=True)
        waiting = np.flatnonzero(st == WAITING)
        # Contacts found after their plan's centralized phase (tracing fell behind) need no
        # room: the plan goes on at home (:meth:`_release` tells them).
        waiting = waiting[~self._facility_over(waiting, t)]
        waiting = waiting[np.argsort(self.since[waiting], kind="stable")]
        moved = resp.assign_rooms(waiting, t, in_use=int((st == FACILITY_Q).sum()))
        st[moved] = FACILITY_Q
        h_quarantine = self._hours(moved, self.since[moved], self.since_hour[moved], t)
        self._record_transfers(moved, self.since[moved], self.since_hour[moved], h_quarantine,
                               case=False)
        return h_transfer, h_quarantine

    def _facility_over(self, people: np.ndarray, t: int) -> np.ndarray:
        over = np.zeros(people.size, dtype=bool)
        for role, plan in self.plans.items():
            if plan is not None and plan.facility is not None:
                over |= (self.role[people] == role) & (t - self.anchor[people]
                                                       > plan.facility[1])
        return over

    def _record_transfers(self, people: np.ndarray, day: np.ndarray, hour: np.ndarray,
                          hours: np.ndarray, *, case: bool) -> None:
        """Tell a responder that records transfers when each clock started and ended."""
        if self.platform is None or people.size == 0:
            return
        record = self.responder.record_transfers
        start = [self.platform.at(self.date(int(d)), 0) + timedelta(hours=float(h))
                 for d, h in zip(day, hour, strict=True)] if self.platform else []
        record(people, case=case, clock_start=start,
               arrival=[s + timedelta(hours=float(h)) for s, h in zip(start, hours,
                                                                      strict=True)])

    def _release(self, t: int) -> None:
        st = self.status
        offset = t - self.anchor
        for role, plan in self.plans.items():
            if plan is None:
                continue
            mine = self.role == role
            if plan.facility is not None:
                # The centralized phase is over (in a room, or still waiting for one): the
                # plan goes on at home; those who never got a room are under management from
                # now on, at home.
                over = mine & (offset > plan.facility[1])
                st[over & (st == FACILITY_Q)] = HOME_Q
                home = np.flatnonzero(over & (st == WAITING))
                st[home] = HOME_Q
                self._tell(home, "under_management", t, 8)
            done = mine & np.isin(st, (WAITING, FACILITY_Q, HOME_Q)) & (offset >= plan.release)
            st[done] = FREE
            self.released[done] = True
            self._tell(np.flatnonzero(done), "released", t, 9)
            self.role[done] = 0
        st[(st == ISOLATED) & (self.release <= t)] = FREE
