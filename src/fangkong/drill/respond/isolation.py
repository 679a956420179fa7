"""The drill's rooms, beds and vehicles through the isolation service."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

import numpy as np

from fangkong.drill import runs as drill_runs
from fangkong.drill.capacity import Rooms
from fangkong.drill.names import name
from fangkong.drill.platform import sim_clock
from fangkong.drill.respond.common import BATCH, Context, Serviced
from fangkong.drill.responder import EMPTY
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import (
    AssignRole,
    PassengerClass,
    SiteType,
    VehicleKind,
)
from fangkong.isolation.schemas import (
    BatchAssign,
    BatchPerson,
    RoomSpec,
    SiteCreate,
    TransferCreate,
    VehicleCreate,
)

ROOMS_PER_SITE = 500  # a quarantine hotel or a shelter hospital ward of this size (assumption)


class Tracing(Protocol):
    """What isolation needs of the tracing capability (told of contacts' arrivals); the
    tracing capability itself depends on isolation, so it is named by this shape."""

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None: ...


class Isolation(Serviced, Rooms):
    """Quarantine hotels and shelter hospitals with the strategy's rooms and beds (an
    earlier drill's stand down), placed by the isolation service's assignment in its free
    rooms; buses and ambulances with the strategy's seats; the moves recorded as transfers."""

    def __init__(self, ctx: Context) -> None:
        Rooms.__init__(self, ctx.city, ctx.strategy)
        self._bind(ctx)
        self.anchor = ctx.anchor
        self.isolated_on: dict[int, int] = {}  # agent -> day moved to isolation
        self.site_of: dict[int, int] = {}  # agent -> the site the assignment chose
        self.fleet: dict[PassengerClass, list[int]] = {}
        self.tracer: Tracing | None = None  # told of contacts' arrivals

    def _tracer(self) -> Tracing:
        assert self.tracer is not None, "the responder binds its tracing capability"
        return self.tracer

    def init(self) -> None:
        mine, run = self.platform.case_prefix, self.platform.run_id
        isolation.stand_down(self.session, actor=self.actor,
                             site_ids=drill_runs.tagged(self.session, "iso_site",
                                                        other_than=run),
                             note=name("stood_down", run=mine))
        # the earlier drill's people leave its stays (its cases were set aside): else this
        # drill's contacts among them would start under management, and one drill run twice
        # in a database would not give the same figures
        isolation.end_stays(self.session, actor=self.actor,
                            person_ids=drill_runs.tagged(self.session, "person",
                                                         other_than=run),
                            on=self.date_of(0), note=name("stays_ended", run=mine))
        self._sites()
        self._fleet()

    def _sites(self) -> None:
        """Sites per district, in proportion to its residents; codes name the drill."""
        city, p = self.city, self.platform
        share = np.bincount(city.district, minlength=len(city.district_codes)) / city.n
        for kind, total, prefix in ((SiteType.quarantine_hotel, self.rooms, "Q"),
                                    (SiteType.shelter_hospital, self.beds, "H")):
            per = np.floor(share * total).astype(int)
            per[np.argmax(share)] += total - int(per.sum())
            for d, rooms in enumerate(per):
                for k in range(0, int(rooms), ROOMS_PER_SITE):
                    code = f"{p.case_prefix}{prefix}{d:02d}{k // ROOMS_PER_SITE:03d}"
                    if isolation.site_id(self.session, code) is not None:
                        continue
                    n = min(ROOMS_PER_SITE, int(rooms) - k)
                    venue = int(city.venue_start[0, d])
                    site = isolation.create_site(self.session, actor=self.actor, data=SiteCreate(
                        code=code, name=name("site", kind=kind.value,
                                             district=city.district_names[d],
                                             number=k // ROOMS_PER_SITE + 1),
                        type=kind, division_code=city.district_codes[d],
                        lon=float(city.venue_lon[venue]), lat=float(city.venue_lat[venue]),
                        rooms=[RoomSpec(label=f"{r + 1:04d}") for r in range(n)]))
                    self._tag("iso_site", [site.id])

    def _fleet(self) -> None:
        """Buses for contacts and ambulances for cases: the strategy's vehicles of each."""
        city, p, cap = self.city, self.platform, self.strategy.capacity
        count = max(1, round(cap.vehicles * city.n / 100_000))
        for kind, passenger in ((VehicleKind.bus, PassengerClass.contact),
                                (VehicleKind.ambulance, PassengerClass.case)):
            ids = []
            for k in range(count):
                d = k % len(city.district_codes)
                ids.append(transfers.create_vehicle(self.session, actor=self.actor,
                                                    data=VehicleCreate(
                    code=f"{p.case_prefix}{kind.value[0].upper()}{k:04d}", kind=kind,
                    capacity=cap.vehicle_seats, division_code=city.district_codes[d])).id)
            self.fleet[passenger] = ids
            self._tag("iso_vehicle", ids)

    def record_transfers(self, people: np.ndarray, *, case: bool, clock_start: list[datetime],
                         arrival: list[datetime]) -> None:
        """The moves of the day as admission transfers (their clocks start at the positive
        result or the identification), dispatched in vehicle loads and arrived."""
        if people.size == 0:
            return
        passenger = PassengerClass.case if case else PassengerClass.contact
        order = sorted(range(people.size), key=lambda i: arrival[i])
        fleet = self.fleet[passenger]
        seats = self.strategy.capacity.vehicle_seats
        for n, k in enumerate(range(0, len(order), seats)):
            load = order[k:k + seats]
            leaves = min(arrival[i] for i in load) - timedelta(minutes=30)
            # The load's transfers are requested together once the last of their clocks has
            # started (the positive result, the identification), at the latest when the
            # vehicle leaves: requested, then dispatched, then arrived. (One request a person,
            # at their own clock's start, made 2,890 calls of request_many at 100,000 agents,
            # 6 % of the drill's time.)
            when = min(max(clock_start[i] for i in load), leaves)
            with sim_clock(when):
                made = transfers.request_many(
                    self.session, actor=self.actor, data=[TransferCreate(
                        person_ref=self.platform.person_ref(int(people[i])),
                        to_site_id=self.site_of[int(people[i])], passenger_class=passenger,
                        clock_start=clock_start[i]) for i in load])
            id_of = {i: t.id for i, t in zip(load, made, strict=True)}
            ids = [id_of[i] for i in load]
            with sim_clock(arrival[load[-1]]):
                transfers.dispatch(self.session, actor=self.actor,
                                   vehicle_id=fleet[n % len(fleet)], transfer_ids=ids,
                                   at=leaves)
                transfers.arrive_many(self.session, actor=self.actor, arrivals=[
                    (transfer_id, arrival[i]) for i, transfer_id in zip(load, ids,
                                                                        strict=True)])
        if not case:
            self._tracer().contact_status(people[order], "under_management",
                                [arrival[i] for i in order])

    def assign_rooms(self, people: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        """Contacts waiting for a room, as far as vehicle seats go, placed by the isolation
        service's assignment in its free rooms (one batch per plan anchor)."""
        n = min(people.size, self._seats(day))
        moved = self._assign(people[:n], day, contacts=True)
        self.seats_left -= moved.size
        return moved

    def transfer_cases(self, cases: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        n = min(cases.size, self._seats(day))
        moved = self._assign(cases[:n], day, contacts=False)
        self.seats_left -= moved.size
        for a in moved.tolist():
            self.isolated_on[a] = day
        return moved

    def _assign(self, people: np.ndarray, day: int, *, contacts: bool) -> np.ndarray:
        if people.size == 0:
            return EMPTY
        p, city = self.platform, self.city
        groups: dict[date | None, list[int]] = {}
        for a in people.tolist():
            key = self.date_of(int(self.anchor[a])) if contacts else None
            groups.setdefault(key, []).append(a)
        placed: list[int] = []
        today = self.date_of(day)
        with sim_clock(self.at(day, 16)):
            for anchor, agents in sorted(groups.items(), key=lambda kv: str(kv[0])):
                for k in range(0, len(agents), BATCH):
                    chunk = agents[k:k + BATCH]
                    by_ref = {p.person_ref(a): a for a in chunk}
                    fav = city.favourite[chunk, 0]
                    role = (AssignRole.close_contact if contacts else
                            AssignRole.case_mild)
                    data = BatchAssign(
                        people=[BatchPerson(
                            person_ref=p.person_ref(a),
                            household_ref=f"{p.prefix}H{int(city.household[a]):07d}",
                            role=role, lon=float(city.venue_lon[fav[i]]),
                            lat=float(city.venue_lat[fav[i]])) for i, a in enumerate(chunk)],
                        anchor=anchor if contacts else None,
                        start_date=None if contacts else today,
                        planned_end=None if contacts else today + timedelta(
                            days=self.strategy.response.isolation_days),
                        pack=self.pack_id)
                    result = isolation.assign_and_book(
                        self.session, actor=self.actor, data=data)
                    placed += [by_ref[r] for r in result.stays
                               if result.stays[r] is not None]
                    for row in result.assignments:
                        if row.site_id != "home":
                            self.site_of[by_ref[row.person_ref]] = int(row.site_id)
        return np.array(sorted(placed), dtype=np.int64)

