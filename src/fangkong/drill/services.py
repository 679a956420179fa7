"""The response through the platform's own services (the default with a database).

The world stays in the simulation: who met whom (the check-ins), how many rooms, vehicles and lab
tubes there are, and what a swab contains. What the platform does with it goes through its
services, as a command's staff would use them:

- the day's check-ins are ingested into the tracing check-in store
  (:func:`fangkong.tracing.importer.ingest`); each new case gets its proposals from the tracing
  service (household, venue co-presence by the co-presence engine:
  :func:`fangkong.tracing.contacts.propose`), and the epidemiologists confirm them
  (:func:`~fangkong.tracing.contacts.review`) for as many cases a day as there are tracers; the
  colleagues they learn of in the interview are added as exposures
  (:func:`~fangkong.tracing.contacts.add_exposure`). Contact episodes carry the pack's plan;
- towns with community infections are designated in the risk-zone registry, infections restart
  their clocks, and the daily evaluation's proposals are approved
  (:mod:`fangkong.zone.service`): the drill's zone levels are read back from the registry;
- quarantine hotels and shelter hospitals with the strategy's rooms and beds are created with the
  isolation service, and contacts and cases are placed by its assignment
  (:func:`fangkong.isolation.service.assign_and_book`): nobody gets a room the service does not
  find free.

The clock of the platform (:func:`fangkong.core.clock.set_clock`) follows the simulated day.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Basis, Classification
from fangkong.case.models import Case
from fangkong.config import get_settings
from fangkong.core import audit
from fangkong.core.auth import Actor
from fangkong.drill import runs as drill_runs
from fangkong.drill.names import name
from fangkong.drill.platform import Platform, sim_clock
from fangkong.drill.responder import (
    CLOSE,
    EMPTY,
    PRIORITY,
    ROUTES,
    SECONDARY,
    CapacityResponder,
    Results,
    Traced,
    _Batch,
)
from fangkong.drill.strategy import Strategy
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.enums import (
    AssignRole,
    PassengerClass,
    SampleResult,
    SiteStatus,
    SiteType,
    StayStatus,
    VehicleKind,
)
from fangkong.isolation.models import Site, Stay, StayTest
from fangkong.isolation.schemas import (
    BatchAssign,
    BatchPerson,
    RoomSpec,
    SiteCreate,
    TransferCreate,
    VehicleCreate,
)
from fangkong.policy import service as policy
from fangkong.sim.city import City
from fangkong.sim.engine import Checkins, Engine
from fangkong.testing import importer as samples
from fangkong.testing import service as testing
from fangkong.testing.enums import MemberStatus
from fangkong.testing.models import Followup, FollowupMember, Lab, Target, Tube
from fangkong.testing.schemas import LabCreate, RoundCreate, TubeIssue
from fangkong.tracing import contacts as tracing
from fangkong.tracing import importer as checkins
from fangkong.tracing import service as venues
from fangkong.tracing.enums import (
    TRANSITIONS,
    Certainty,
    ContactStatus,
    Proximity,
    Review,
    Setting,
)
from fangkong.tracing.models import ContactEpisode, Exposure, Venue
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from fangkong.zone import service as zones
from fangkong.zone.schemas import InfectionIn, Lift, MemberIn, RoundIn, ZoneCreate

VENUE_TYPES = {"market": "market", "supermarket": "supermarket", "restaurant": "restaurant",
               "clinic": "hospital", "station": "transport"}
SLOT_START_HOUR = 7   # venue slot k runs from 07:00 + 2 h × k
SLOT_MINUTES = 120
ROOMS_PER_SITE = 500  # a quarantine hotel or a shelter hospital ward of this size (assumption)
BATCH = 5000          # the isolation service's batch limit


class ServiceResponder(CapacityResponder):
    """Tracing, zones and rooms through the platform's services; the lab and the vehicles
    are the world's (the drill's), as in :class:`CapacityResponder`."""

    def __init__(self, city: City, engine: Engine, strategy: Strategy,
                 window: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]], *,
                 session: Session, actor: Actor, platform: Platform, pack_id: str,
                 date_of: Callable[[int], date], anchor: np.ndarray) -> None:
        super().__init__(city, engine, strategy, window)
        self.anchor = anchor  # the drill's plan anchor (last exposure day) of each agent
        self.isolated_on: dict[int, int] = {}  # agent -> day moved to isolation
        self.rounds: dict[int, list[Any]] = {}  # round day -> [towns, positive towns, left]
        self.barcodes: dict[tuple[int, int, float], np.ndarray] = {}
        self.round_results: list[tuple[int, np.ndarray, np.ndarray]] = []
        # quarantine tests in the lab: (release day, people, sample day, positives)
        self.stay_results: list[tuple[int, np.ndarray, int, np.ndarray]] = []
        self.lab_id = 0
        self.last_case = 0
        self.site_of: dict[int, int] = {}  # agent -> the site the assignment chose
        self.episodes: dict[int, list[int]] = {}  # agent -> open managed contact episodes
        self.fleet: dict[PassengerClass, list[int]] = {}
        self.session, self.actor, self.platform = session, actor, platform
        self.pack_id, self.date_of = pack_id, date_of
        self.tz = ZoneInfo(get_settings().timezone)
        self.store = get_settings().data_dir / "drill" / f"checkins-{platform.case_prefix}"
        self.rng_time = np.random.default_rng([strategy.seed, 41])
        self.cases_waiting: deque[int] = deque()  # agents whose proposals wait for a tracer
        self.zone_of: dict[int, int] = {}           # town index -> active zone id
        self.rules = policy.tracing_rules(pack_id)
        self.roles = {"close_contact": CLOSE, "secondary_contact": SECONDARY}

    # --- set-up ------------------------------------------------------------------------------

    def at(self, day: int, hour: float = 12.0) -> datetime:
        return datetime.combine(self.date_of(day), time(0), tzinfo=self.tz) + timedelta(
            hours=hour)

    def prepare(self) -> None:
        """The city's registry (every resident, as in 2022), its venues (场所码) and its
        quarantine hotels and shelter hospitals with the strategy's rooms and beds."""
        p, city = self.platform, self.city
        with sim_clock(self.at(0, 6)):
            p.register(np.arange(city.n), self.date_of(0))
            p.load_person_ids()
            self._stand_down_others()
            self._register_venues()
            self._sites()
            self._fleet()
            code = f"{p.case_prefix}LAB"
            lab = self.session.scalar(select(Lab.id).where(Lab.code == code))
            self.lab_id = lab if lab is not None else testing.create_lab(
                self.session, actor=self.actor, data=LabCreate(
                    code=code, name=name("lab"), division_code=city.district_codes[0],
                    daily_capacity=max(1, round(self.lab_per_day)))).id
            self._tag("testing_lab", [self.lab_id])
        self.session.commit()

    def _tag(self, record_type: str, ids: list[int]) -> None:
        drill_runs.tag(self.session, self.platform.run_id, record_type, ids)

    def _stand_down_others(self) -> None:
        """Another drill recorded in this database ends here: its sites go to standby, its
        zones are lifted, and its cases of this city's persons are set aside (discarded, with
        the reason in their history), so that this drill has only its own rooms, zones and
        cases: the same persons found positive again in this drill are cases of this drill,
        not of the earlier one (a positive result joins the person's episode that is not
        discarded, :func:`fangkong.case.service.open_episode`)."""
        mine, run = self.platform.case_prefix, self.platform.run_id
        note = name("ended", run=mine)
        persons = set(self.platform.person_id.tolist())
        others = drill_runs.tagged(self.session, "case_episode", other_than=run)
        ended = [c for k in range(0, len(others), 900) for c in self.session.scalars(
            select(Case).where(Case.id.in_(others[k:k + 900]),
                               Case.classification != Classification.discarded))
            if c.person_id in persons]
        ended.sort(key=lambda c: c.id)
        for case in ended:
            cases.apply_change(case, actor=self.actor, classification=Classification.discarded,
                               severity=None, basis=Basis.rule, note=note)
        if ended:
            audit.record(self.session, self.actor, action="update", record_type="case",
                         record_ids=[c.id for c in ended], fields=["classification"], note=note)
        sites = drill_runs.tagged(self.session, "iso_site", other_than=run)
        for site in self.session.scalars(select(Site).where(
                Site.id.in_(sites), Site.status == SiteStatus.active).order_by(Site.id)):
            site.status = SiteStatus.standby
            audit.record(self.session, self.actor, action="update",
                         record_type="iso_site", record_ids=[site.id], fields=["status"],
                         note=name("stood_down", run=mine))
        earlier = set(drill_runs.tagged(self.session, "zone", other_than=run))
        for zone in zones.list_(self.session, actor=self.actor):
            if zone.id in earlier:
                zones.lift(self.session, actor=self.actor, zone_id=zone.id,
                           data=Lift(reason=note))
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
        ids = dict(self.session.execute(select(Venue.code, Venue.id).where(
            Venue.code.like(f"{self.platform.prefix}V%"))).all())
        self.venue_codes = np.array([self._venue_code(v) for v in range(city.venue_kind.size)],
                                    dtype=object)
        self.venue_ids = np.array([ids[c] for c in self.venue_codes], dtype=np.int64)
        self._tag("tracing_venue", self.venue_ids.tolist())

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
                    if self.session.scalar(select(Site.id).where(Site.code == code)):
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
            # Each transfer is requested when its clock starts (the positive result, the
            # identification), and at the latest when the vehicle leaves: requested, then
            # dispatched, then arrived.
            asked: dict[datetime, list[int]] = {}
            for i in load:
                asked.setdefault(min(clock_start[i], leaves), []).append(i)
            id_of: dict[int, int] = {}
            for when, group in sorted(asked.items()):
                with sim_clock(when):
                    made = transfers.request_many(
                        self.session, actor=self.actor, data=[TransferCreate(
                            person_ref=self.platform.person_ref(int(people[i])),
                            to_site_id=self.site_of[int(people[i])], passenger_class=passenger,
                            clock_start=clock_start[i]) for i in group])
                id_of.update((i, t.id) for i, t in zip(group, made, strict=True))
            ids = [id_of[i] for i in load]
            with sim_clock(arrival[load[-1]]):
                transfers.dispatch(self.session, actor=self.actor,
                                   vehicle_id=fleet[n % len(fleet)], transfer_ids=ids,
                                   at=leaves)
                transfers.arrive_many(self.session, actor=self.actor, arrivals=[
                    (transfer_id, arrival[i]) for i, transfer_id in zip(load, ids,
                                                                        strict=True)])
        if not case:
            self.contact_status(people[order], "under_management",
                                [arrival[i] for i in order])

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None:
        """Move the contact episodes of ``people`` on (notified, under management, released,
        became a case) through the tracing service, where the move is allowed."""
        wanted = ContactStatus(status)
        when = at if isinstance(at, list) else [at] * people.size
        moves: list[tuple[int, StatusUpdate]] = []
        mine = sorted({e for a in people.tolist() for e in self.episodes.get(a, [])})
        for k in range(0, len(mine), 900):  # read at once (not one by one below)
            self.session.scalars(select(ContactEpisode).where(
                ContactEpisode.id.in_(mine[k:k + 900]))).all()
        for a, t in zip(people.tolist(), when, strict=True):
            keep = []
            for episode in self.episodes.get(a, []):
                if wanted is ContactStatus.notified:  # told: the episode goes on
                    keep.append(episode)
                contact = self.session.get(ContactEpisode, episode)
                if contact is None or wanted not in TRANSITIONS[contact.status]:
                    continue
                case_id = (cases or {}).get(a)
                if wanted is ContactStatus.became_case and case_id is None:
                    continue
                moves.append((episode, StatusUpdate(status=wanted, at=t,
                                                    converted_case_id=case_id)))
                if wanted is ContactStatus.under_management:
                    keep.append(episode)
            if keep:
                self.episodes[a] = keep
            else:
                self.episodes.pop(a, None)
        if moves:
            with sim_clock(max(when)):
                tracing.set_status_many(self.session, actor=self.actor, updates=moves)

    # --- check-ins ---------------------------------------------------------------------------

    def record_checkins(self, day: int, chk: Checkins) -> None:
        """The day's scans into the check-in store, through the importer (each stay inside
        its venue slot, the minutes seeded)."""
        super().record_checkins(day, chk)
        if chk.person.size == 0:
            return
        n = chk.person.size
        start = self.at(day, SLOT_START_HOUR).astimezone(UTC).replace(tzinfo=None)
        base = np.datetime64(start, "s") + chk.slot.astype(np.int64) * np.timedelta64(
            SLOT_MINUTES * 60, "s")
        t_in = base + (self.rng_time.random(n) * 30 * 60).astype("timedelta64[s]")
        t_out = t_in + (3600 + self.rng_time.random(n) * 30 * 60).astype("timedelta64[s]")
        table = pa.table({
            "person_id": pa.array(self.platform.person_id[chk.person], pa.int64()),
            "venue_code": pa.array(self.venue_codes[chk.venue].tolist(), pa.string()),
            "t_in": pa.array(np.datetime_as_string(t_in, unit="s"), pa.string()),
            "t_out": pa.array(np.datetime_as_string(t_out, unit="s"), pa.string())})
        self.store.mkdir(parents=True, exist_ok=True)
        path = self.store.parent / f"{self.store.name}-day{day:03d}.parquet"
        pq.write_table(table, path)
        try:
            with sim_clock(self.at(day, 23)):
                checkins.ingest(self.session, actor=self.actor, source=path,
                                directory=self.store)
        finally:
            path.unlink(missing_ok=True)

    # --- tracing -----------------------------------------------------------------------------

    def trace(self, cases: np.ndarray, day: int) -> Traced:
        """New cases get their proposals at once; tracers confirm them, oldest case first,
        as many cases a day as the strategy has tracers."""
        p = self.platform
        with sim_clock(self.at(day, 14)):
            new: dict[int, date | None] = {}  # case -> isolated on
            for a in cases.tolist():
                case_id = p.case_of.get(a)
                if case_id is None:
                    continue
                iso = self.isolated_on.get(a)
                new[case_id] = self.date_of(iso) if iso is not None else None
                self.cases_waiting.append(a)
            tracing.propose_many(self.session, actor=self.actor, case_ids=list(new),
                                 pack=self.pack_id, checkins=self.store,
                                 isolated_on={c: d for c, d in new.items() if d is not None})
            self.trace_credit = min(self.trace_credit + self.trace_per_day,
                                    self.trace_per_day + 1)
            take = min(len(self.cases_waiting), int(self.trace_credit))
            self.trace_credit -= take
            todo = np.array([self.cases_waiting.popleft() for _ in range(take)],
                            dtype=np.int64)
            if todo.size == 0:
                return Traced(EMPTY, EMPTY, EMPTY)
            episodes = self._confirm(todo, day)
        return self._traced(episodes, todo)

    def _confirm(self, agents: np.ndarray, day: int) -> list[int]:
        """The tracers' day: the proposals of these cases confirmed in one review (oldest
        case first), the workmates and classmates they named added in one batch."""
        order = [self.platform.case_of[int(a)] for a in agents]
        rank = {case_id: k for k, case_id in enumerate(order)}
        proposed = [(rank[e.source_case_id], e.id) for e in self.session.execute(
            select(Exposure.id, Exposure.source_case_id, Exposure.proposed_role).where(
                Exposure.source_case_id.in_(order), Exposure.review == Review.proposed))
            if self._role_known(e.proposed_role)]
        found = [e.contact_id for e in tracing.review_many(
            self.session, actor=self.actor, exposure_ids=[i for _, i in sorted(proposed)],
            confirm=True)]
        resp = self.strategy.response
        if resp.trace_work and resp.work_contacts:
            named = [x for a, case_id in zip(agents.tolist(), order, strict=True)
                     for x in self._interview(a, case_id, day)]
            found += [e.contact_id for e in tracing.add_exposures(
                self.session, actor=self.actor, data=named, pack=self.pack_id)]
        return [c for c in found if c is not None]

    def _role_known(self, role: str) -> bool:
        return role in self.roles or role == self.rules.co_presence.role

    def _interview(self, agent: int, case_id: int, day: int) -> list[ExposureCreate]:
        """The workmates or classmates the case names in the interview (the simulation's
        truth, ``work_contacts`` of them), as exposures the epidemiologist found."""
        first, last = self.window(np.array([agent]), day)
        if last[0] < first[0]:
            return []
        out: list[ExposureCreate] = []
        for members, setting in ((self._work_members, Setting.workplace),
                                 (self._school_members, Setting.school)):
            picked, _ = self._colleagues(members, np.array([agent]), last[:1],
                                         self.strategy.response.work_contacts)
            for other in np.unique(picked).tolist():
                if other == agent:
                    continue
                out.append(ExposureCreate(
                    source_case_id=case_id, exposed_person_id=int(self.platform.person_id[
                        other]), first_exposure=self.date_of(int(first[0])),
                    last_exposure=self.date_of(int(last[0])), estimated=True,
                    setting=setting,
                    proximity=Proximity.direct, certainty=Certainty.probable,
                    role="close_contact", reason=name("named", setting=setting.value)))
        return out

    def _traced(self, episode_ids: list[int], todo: np.ndarray) -> Traced:
        if not episode_ids:
            return Traced(EMPTY, EMPTY, EMPTY, cases=todo)
        agents, days, roles = [], [], []
        start = self.date_of(0)
        rank = {self.platform.case_of[int(a)]: k for k, a in enumerate(todo.tolist())}
        rows = sorted(self.session.execute(
            select(ContactEpisode.id, ContactEpisode.person_id, ContactEpisode.last_exposure,
                   ContactEpisode.role, ContactEpisode.index_case_id).where(
                ContactEpisode.id.in_(set(episode_ids)))).all(),
            key=lambda r: (rank.get(r[4], len(rank)), r[0]))  # case by case, as confirmed
        for episode, person_id, last, role, _ in rows:
            agents.append(self.platform.agent_of(person_id))
            if role in self.roles:
                self.episodes.setdefault(agents[-1], []).append(episode)
            days.append((last - start).days)
            roles.append(self.roles.get(role, 0))
        a, d, r = (np.array(x, dtype=np.int64) for x in (agents, days, roles))
        managed = r > 0  # roles the pack leaves unmanaged (e.g. venue_exposed) only counted
        return Traced(a[managed], d[managed], r[managed], cases=todo,
                      identified=len(set(episode_ids)))

    # --- zones -------------------------------------------------------------------------------

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

    # --- testing rounds ----------------------------------------------------------------------

    def run_round(self, people: np.ndarray, day: int, pool: int) -> int:
        """An area round through the testing service: the round over the towns (its target
        and each person's tube size come from the pack's pooling and the zone registry),
        tubes issued and samples imported; the tubes go to the lab (the drill's)."""
        if people.size == 0:
            return 0
        p, city = self.platform, self.city
        towns = np.unique(city.town[people])
        with sim_clock(self.at(day, 7)):
            created = testing.create_round(self.session, actor=self.actor, data=RoundCreate(
                name=name("round", day=day), series=f"drill-{p.case_prefix}",
                area=[str(city.town_codes[t]) for t in towns.tolist()],
                start_at=self.at(day, 7), deadline_at=self.at(day, 19), pack=self.pack_id))
            self._tag("testing_round", [created.round_id])
            target = dict.fromkeys(self.session.scalars(select(Target.person_id).where(
                Target.round_id == created.round_id)))
            limits = {pid: (mx, hh) for pid, mx, hh in self.session.execute(
                select(Target.person_id, Target.pool_max, Target.household).where(
                    Target.round_id == created.round_id))}
            del target
            pids = p.person_id[people]
            size = np.array([limits.get(int(i), (1, False))[0] for i in pids], dtype=np.int64)
            household = np.array([limits.get(int(i), (1, False))[1] for i in pids], dtype=bool)
            # Tubes: a household tube per household (1户1管) where the level says so, else
            # neighbours (village, household) in tubes of the size their place allows.
            key = np.where(household, city.household[people], -1)
            order = np.lexsort((people, city.household[people], city.village[people], key,
                                size))
            people, size, key = people[order], size[order], key[order]
            tube = np.zeros(people.size, dtype=np.int64)
            n = 0
            i = 0
            while i < people.size:  # runs of one tube size (and one household, for 1户1管)
                j = i + 1
                while j < people.size and size[j] == size[i] and key[j] == key[i]:
                    j += 1
                k = np.arange(j - i) // max(1, int(size[i]))
                tube[i:j] = n + k
                n += int(k[-1]) + 1
                i = j
            self._samples(created.round_id, day, people, tube, size, hour=7)
        self.rounds[day] = [towns, set(), int(people.size)]
        self.lab.queue.append(_Batch(PRIORITY["community_screening"], day, people,
                                     ROUTES.index("community_screening"), int(size.max()),
                                     tube, (created.round_id, day, 7)))
        return int(people.size)

    def _samples(self, round_id: int, day: int, people: np.ndarray, tube: np.ndarray,
                 size: np.ndarray, *, hour: float) -> None:
        """Issue the tubes (per size) and import the samples, through the testing service."""
        p = self.platform
        barcodes = np.array([f"{p.case_prefix}-{round_id}-{day:03d}-{hour:04.1f}-{t:06d}"
                             for t in range(int(tube.max()) + 1)], dtype=object)
        self.barcodes[(round_id, day, hour)] = barcodes
        first = np.r_[True, tube[1:] != tube[:-1]]
        for cap in np.unique(size[first]).tolist():
            testing.issue_tubes(self.session, actor=self.actor, round_id=round_id,
                                data=TubeIssue(barcodes=barcodes[tube[first][size[first] == cap]]
                                               .tolist(), capacity=int(cap)))
        spread = 600 if hour < 12 else 60 * (23.5 - hour)  # the sampling hours
        minutes = self.rng_time.random(people.size) * spread
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["tube_id", "person_ref", "sampled_at"])
        base = self.at(day, hour)
        for a, t, m in zip(people.tolist(), tube.tolist(), minutes.tolist(), strict=True):
            w.writerow([barcodes[t], p.person_ref(a),
                        (base + timedelta(minutes=m)).isoformat(timespec="seconds")])
        with sim_clock(base + timedelta(minutes=spread + 1)):
            samples.import_samples(self.session, actor=self.actor, round_id=round_id,
                                   source=buf.getvalue().encode(), filename="drill-samples.csv")

    def _process(self, people: np.ndarray, batch: _Batch, release: int) -> np.ndarray:
        if batch.meta is None or batch.tube is None:
            found = super()._process(people, batch, release)
            if batch.route == ROUTES.index("in_quarantine") and batch.pool == 1:
                self.stay_results.append((release, people.copy(), batch.sample_day, found))
            return found
        round_id, day, hour = cast(tuple[int, int, float], batch.meta)
        d = self.engine.disease
        truth = self.engine.pcr_positive(people, batch.sample_day)
        tubes, local = np.unique(batch.tube, return_inverse=True)
        members = np.bincount(local)
        hot = np.bincount(local, weights=truth) > 0
        sens = np.where(members > 1, d.pcr_sensitivity - d.pool_sensitivity_loss,
                        d.pcr_sensitivity)
        hot &= self.rng.random(hot.size) < sens
        barcodes = self.barcodes[(round_id, day, hour)][tubes]
        self.round_results.append((release, barcodes, hot))
        positive = people[hot[local]]
        pending = self.rounds.get(batch.sample_day)
        if pending is not None and batch.priority == PRIORITY["community_screening"]:
            pending[1].update(np.unique(self.city.town[positive]).tolist())
            pending[2] -= people.size
            if pending[2] <= 0:  # the whole round is tested: recorded on its zones, closed
                del self.rounds[batch.sample_day]
                self.record_round(batch.sample_day, pending[0], pending[1])
                with sim_clock(self.at(batch.sample_day, 21)):
                    testing.close_round(self.session, actor=self.actor, round_id=round_id)
        return positive

    def results(self, day: int) -> Results:
        """Round results due today imported through the testing service (positive pools are
        followed up: their members swabbed again in single tubes today; positive single
        tubes become cases there), then the drill's other tests."""
        due = [r for r in self.round_results if r[0] <= day]
        self.round_results = [r for r in self.round_results if r[0] > day]
        found: list[tuple[int, int]] = []
        if due:
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["tube_id", "result", "reported_at", "lab_id"])
            reported = self.at(day, 18).isoformat(timespec="seconds")
            for _, barcodes, hot in due:
                for b, h in zip(barcodes.tolist(), hot.tolist(), strict=True):
                    w.writerow([b, "positive" if h else "negative", reported, self.lab_id])
            with sim_clock(self.at(day, 18)):
                samples.import_results(self.session, actor=self.actor,
                                       source=buf.getvalue().encode(),
                                       filename="drill-results.csv")
                found = self._cases()
                positive = [b for _, barcodes, hot in due for b in barcodes[hot].tolist()]
                self._retest(positive, day)
        out = super().results(day)
        self._stay_tests(day)
        if not found:
            return out
        agents = np.array([a for a, _ in found], dtype=np.int64)
        sampled = np.array([d for _, d in found], dtype=np.int64)
        return Results(np.r_[out.agent, agents], np.r_[out.sample_day, sampled],
                       np.r_[out.route, np.full(agents.size, ROUTES.index(
                           "community_screening"))])

    def sample(self, people: np.ndarray, day: int, route: str, pool: int) -> None:
        """Samples to the lab; those of quarantine test days are recorded on the stays' tests
        as taken (each ends its sampling task)."""
        super().sample(people, day, route, pool)
        if route == "in_quarantine" and pool == 1 and people.size:
            on = self.date_of(day)
            taken = [(stay_id, on) for stay_id, _ in self._stay_tests_of(people, on)]
            if taken:
                with sim_clock(self.at(day, 9)):
                    isolation.record_samples(self.session, actor=self.actor, taken=taken)

    def _stay_tests_of(self, people: np.ndarray, on: date) -> list[tuple[int, int]]:
        """(stay id, agent) of the active stays of ``people`` with a test on ``on`` still
        without its result (a sample on another day, a fever-clinic visit, is no stay's)."""
        agent_of = dict(zip(self.platform.person_id[people].tolist(), people.tolist(),
                            strict=True))
        persons = sorted(agent_of)
        out = []
        for k in range(0, len(persons), 900):
            for stay_id, person_id in self.session.execute(
                    select(Stay.id, Stay.person_id).join(StayTest, StayTest.stay_id == Stay.id)
                    .where(Stay.person_id.in_(persons[k:k + 900]),
                           Stay.status == StayStatus.active, StayTest.test_date == on,
                           StayTest.result == SampleResult.pending)):
                out.append((stay_id, agent_of[person_id]))
        return out

    def _stay_tests(self, day: int) -> None:
        """The results of quarantine tests released today, on the stays' tests (through the
        isolation service)."""
        due = [r for r in self.stay_results if r[0] <= day]
        self.stay_results = [r for r in self.stay_results if r[0] > day]
        results: list[tuple[int, date, SampleResult]] = []
        for _, people, sampled, positive in due:
            hot, on = set(positive.tolist()), self.date_of(sampled)
            results += [(stay_id, on, SampleResult.positive if agent in hot
                         else SampleResult.negative)
                        for stay_id, agent in self._stay_tests_of(people, on)]
        if results:
            with sim_clock(self.at(day, 17)):
                isolation.record_tests(self.session, actor=self.actor, results=results)

    def _cases(self) -> list[tuple[int, int]]:
        """Cases the testing service reported from this drill's tubes since the last look
        (their refs name the tube): the agents, with their sample day."""
        out, made = [], []
        start = self.date_of(0)
        for case_id, person_id, sampled in self.session.execute(
                select(Case.id, Case.person_id, Case.first_positive_sample_date).where(
                    Case.ref.like(f"NAT-{self.platform.case_prefix}-%"),
                    Case.id > self.last_case).order_by(Case.id)):
            self.last_case = max(self.last_case, case_id)
            made.append(case_id)
            agent = self.platform.agent_of(person_id)
            if sampled is None:
                continue
            self.platform.case_of.setdefault(agent, case_id)
            out.append((agent, (sampled - start).days))
        self._tag("case_episode", made)
        return sorted(out)

    def _retest(self, positive_barcodes: list[str], day: int) -> None:
        """The members of positive pools still pending: single tubes, sampled this evening."""
        if not positive_barcodes:
            return
        rows = self.session.execute(
            select(FollowupMember.person_id, Followup.round_id)
            .join(Followup, Followup.id == FollowupMember.followup_id)
            .join(Tube, Tube.id == Followup.tube_id)
            .where(Tube.barcode.in_(positive_barcodes),
                   FollowupMember.status == MemberStatus.pending)
            .order_by(Followup.round_id, FollowupMember.person_id)).all()
        by_round: dict[int, list[int]] = {}
        for person_id, round_id in rows:
            by_round.setdefault(round_id, []).append(self.platform.agent_of(person_id))
        for round_id, agents in by_round.items():
            people = np.array(sorted(set(agents)), dtype=np.int64)
            tube = np.arange(people.size)
            self._samples(round_id, day, people, tube, np.ones(people.size, dtype=np.int64),
                          hour=19.5)
            self.lab.queue.append(_Batch(PRIORITY["retest"], day, people,
                                         ROUTES.index("community_screening"), 1, tube,
                                         (round_id, day, 19.5)))

    # --- rooms -------------------------------------------------------------------------------

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
                    result: dict[str, Any] = isolation.assign_and_book(
                        self.session, actor=self.actor, data=data)
                    placed += [by_ref[r] for r in result["stays"]
                               if result["stays"][r] is not None]
                    for row in result["assignments"]:
                        if row["site_id"] != "home":
                            self.site_of[by_ref[row["person_ref"]]] = int(row["site_id"])
        return np.array(sorted(placed), dtype=np.int64)
