"""The drill's city in the platform's registry: its persons and venues."""

from __future__ import annotations

import csv
import io

import numpy as np

from fangkong.case import service as cases
from fangkong.core.config import get_settings
from fangkong.drill import runs as drill_runs
from fangkong.drill.names import name
from fangkong.drill.respond.common import Context, Serviced
from fangkong.drill.responder import Capability
from fangkong.tracing import venues

VENUE_TYPES = {"market": "market", "supermarket": "supermarket", "restaurant": "restaurant",
               "clinic": "hospital", "station": "transport"}


class Registry(Serviced, Capability):
    """The city's registry (every resident, marked synthetic, as in 2022) and its venues
    (场所码); an earlier drill's cases of these persons set aside; the run finished at the
    end."""

    def __init__(self, ctx: Context) -> None:
        self._bind(ctx)
        self.city = ctx.city

    def init(self) -> None:
        p = self.platform
        p.register(np.arange(self.city.n), self.date_of(0))
        p.load_person_ids()
        self._set_aside_earlier_cases()
        self._register_venues()

    def finalize(self) -> None:
        drill_runs.finish(self.session, self.platform.run_id)

    def _set_aside_earlier_cases(self) -> None:
        """Another drill recorded in this database ends here: its cases of this city's
        persons are set aside (discarded, with the reason in their history), so that the same
        persons found positive again in this drill are cases of this drill, not of the earlier
        one (a positive result joins the person's episode that is not discarded,
        :func:`fangkong.case.service.open_episode`)."""
        mine, run = self.platform.case_prefix, self.platform.run_id
        cases.set_aside(self.session, actor=self.actor,
                        case_ids=drill_runs.tagged(self.session, "case_episode",
                                                   other_than=run),
                        person_ids=self.platform.person_id.tolist(),
                        note=name("ended", run=mine))
        self.session.flush()

    def _venue_code(self, v: int) -> str:
        return f"{self.platform.prefix}V{v:06d}"

    def _register_venues(self) -> None:
        city = self.city
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["code", "name", "venue_type", "division_code", "latitude", "longitude"])
        for v in range(city.venue_kind.size):
            kind = city.venue_kinds[int(city.venue_kind[v])]
            w.writerow([self._venue_code(v), name("venue", kind=kind, number=v),
                        VENUE_TYPES.get(kind, "other"),
                        city.district_codes[int(city.venue_district[v])],
                        round(float(city.venue_lat[v]), 6), round(float(city.venue_lon[v]), 6)])
        s = get_settings()
        venues.import_venues(self.session, actor=self.actor, source=buf.getvalue().encode(),
                             filename="drill-venues.csv", max_bytes=1 << 31,
                             max_errors=s.import_max_errors)
        ids = venues.venue_ids(self.session, f"{self.platform.prefix}V")
        self.venue_codes = np.array([self._venue_code(v) for v in range(city.venue_kind.size)],
                                    dtype=object)
        self.venue_ids = np.array([ids[c] for c in self.venue_codes], dtype=np.int64)
        self._tag("tracing_venue", self.venue_ids.tolist())

