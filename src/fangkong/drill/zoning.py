"""Risk zones on the pack's clocks: the drill's own (the fast mode) or the platform's zone
registry's levels read back."""

from __future__ import annotations

from datetime import date

import numpy as np

from fangkong.drill.state import State
from fangkong.policy import service as policy


class Zoning(State):
    """Risk zones on the pack's clocks: the drill's own (the fast mode) or the platform's zone"""

    def _zone_steps(self) -> list[tuple[int, int]]:
        """(offset from the last infection, level index afterwards; -1 lifted) for the top
        level, from the pack's zone clocks."""
        if not self.levels:
            return []
        base = date(2022, 1, 1)
        schedule = policy.zone_schedule(self.pack, self.levels[0], base)
        return [((st.effective - base).days,
                 -1 if st.lifts else self.levels.index(st.to_level)) for st in schedule.steps]

    def _round_days(self) -> frozenset[int]:
        """Days after the last infection on which the pack's lifting steps want a round of
        the whole zone (the registry lifts a zone only with it)."""
        if self.pack.zones is None:
            return frozenset()
        return frozenset(d for lv in self.pack.zones.levels.values() for step in lv.lifting
                         if step.round is not None
                         for d in range(step.round.from_day, step.round.to_day + 1))

    def _zones(self, t: int) -> None:
        if self.service:
            towns, self.new_zone_towns = self.new_zone_towns, np.zeros(0, dtype=np.int64)
            if self.levels and self.s.response.zones:
                self.zone_level = self.responder.zones(t, towns, self.levels)
            return
        active = np.flatnonzero(self.zone_level >= 0)
        if not active.size:
            return
        offset = t - self.zone_day0[active]
        level = np.zeros(active.size, dtype=np.int8)
        for at, to in self.zone_steps:
            level = np.where(offset >= at, to, level)
        self.zone_level[active] = level
