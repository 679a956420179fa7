"""The drill's tracing through the tracing service and its check-in store."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from fangkong.core.config import get_settings
from fangkong.drill.capacity import SimTracing, Window
from fangkong.drill.names import name
from fangkong.drill.platform import sim_clock
from fangkong.drill.respond.common import Context, Serviced
from fangkong.drill.respond.isolation import Isolation
from fangkong.drill.responder import (
    CLOSE,
    EMPTY,
    SECONDARY,
    Traced,
)
from fangkong.policy import service as policy
from fangkong.sim.engine import Checkins
from fangkong.tracing import importer as checkins
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import (
    TRANSITIONS,
    Certainty,
    ContactStatus,
    Proximity,
    Setting,
)
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate

SLOT_START_HOUR = 7   # venue slot k runs from 07:00 + 2 h × k
SLOT_MINUTES = 120


class Tracing(Serviced, SimTracing):
    """The day's check-ins ingested into the check-in store; each new case's proposals
    (household, venue co-presence) from the tracing service, confirmed for as many cases a
    day as there are tracers, oldest first; the colleagues named in the interview added;
    contact episodes moved on as the contacts are told, arrive, are released or fall ill."""

    def __init__(self, ctx: Context, window: Window, rng: np.random.Generator,
                 venue_codes: Callable[[], np.ndarray], isolation: Isolation) -> None:
        SimTracing.__init__(self, ctx.city, ctx.engine, ctx.strategy, window, rng)
        self._bind(ctx)
        self.venue_codes = venue_codes  # () -> each venue's code (known once registered)
        self.isolation = isolation      # the isolation capability (who is isolated since when)
        self.store = (get_settings().data_dir / "drill"
                      / f"checkins-{ctx.platform.case_prefix}")
        self.cases_waiting: deque[int] = deque()  # agents whose proposals wait for a tracer
        self.episodes: dict[int, list[int]] = {}  # agent -> open managed contact episodes
        self.rules = policy.tracing_rules(ctx.pack_id)
        self.roles = {"close_contact": CLOSE, "secondary_contact": SECONDARY}

    @property
    def backlog(self) -> int:
        return len(self.cases_waiting)

    def record_checkins(self, day: int, chk: Checkins) -> None:
        """The day's scans into the check-in store, through the importer (each stay inside
        its venue slot, the minutes seeded)."""
        SimTracing.record_checkins(self, day, chk)
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
            "venue_code": pa.array(self.venue_codes()[chk.venue].tolist(), pa.string()),
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
                iso = self.isolation.isolated_on.get(a)
                new[case_id] = self.date_of(iso) if iso is not None else None
                self.cases_waiting.append(a)
            tracing.propose_many(self.session, actor=self.actor, case_ids=list(new),
                                 pack=self.pack_id, checkins=self.store,
                                 isolated_on={c: d for c, d in new.items() if d is not None})
            todo = self.take(self.cases_waiting)
            if todo.size == 0:
                return Traced(EMPTY, EMPTY, EMPTY)
            episodes = self._confirm(todo, day)
        return self._traced(episodes, todo)

    def _confirm(self, agents: np.ndarray, day: int) -> list[int]:
        """The tracers' day: the proposals of these cases confirmed in one review (oldest
        case first), the workmates and classmates they named added in one batch."""
        order = [self.platform.case_of[int(a)] for a in agents]
        rank = {case_id: k for k, case_id in enumerate(order)}
        proposed = [(rank[case_id], exposure) for exposure, case_id, role
                    in tracing.proposed_of(self.session, order) if self._role_known(role)]
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
        rows = sorted(tracing.episode_rows(self.session, episode_ids),
                      key=lambda r: (rank.get(r[4], len(rank)), r[0]))  # as confirmed
        for episode, person_id, last, role, _ in rows:
            agents.append(self.platform.agent_of(person_id))
            if role in self.roles:
                self.episodes.setdefault(agents[-1], []).append(episode)
            days.append((last - start).days)
            roles.append(self.roles.get(role, 0))
        a, d, r = (np.array(x, dtype=np.int64) for x in (agents, days, roles))
        managed = r > 0  # roles the pack leaves unmanaged (e.g. venue_exposed) only counted
        return Traced(a[managed], d[managed], r[managed], cases=todo,
                      identified=len(set(episode_ids)), unmanaged=a[~managed])

    def contact_status(self, people: np.ndarray, status: str, at: datetime | list[datetime],
                       cases: dict[int, int] | None = None) -> None:
        """Move the contact episodes of ``people`` on (notified, under management, released,
        became a case) through the tracing service, where the move is allowed."""
        wanted = ContactStatus(status)
        when = at if isinstance(at, list) else [at] * people.size
        moves: list[tuple[int, StatusUpdate]] = []
        mine = sorted({e for a in people.tolist() for e in self.episodes.get(a, [])})
        episodes = tracing.episodes_by_id(self.session, mine)  # read at once
        for a, t in zip(people.tolist(), when, strict=True):
            keep = []
            for episode in self.episodes.get(a, []):
                if wanted is ContactStatus.notified:  # told: the episode goes on
                    keep.append(episode)
                contact = episodes.get(episode)
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

