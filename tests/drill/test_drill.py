from __future__ import annotations

import csv
import os
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.core.auth import system_actor
from fangkong.core.config import get_settings
from fangkong.core.errors import Invalid
from fangkong.drill import report
from fangkong.drill import runs as drill_runs
from fangkong.drill.loop import COLUMNS, HOME_Q, Drill
from fangkong.drill.names import name
from fangkong.drill.respond import PlatformResponder
from fangkong.drill.strategy import Strategy, load
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest, Transfer
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.sim.city import build_city
from fangkong.task.models import Task
from fangkong.testing.models import Followup, Round, Tube
from fangkong.tracing.enums import Review
from fangkong.tracing.models import ContactEpisode, Exposure
from fangkong.zone.models import Zone

BASELINE = Path(__file__).parent / "data" / "baseline-metrics.csv"
BASELINE_STRATEGY = {"agents": 3000, "days": 30, "seed": 11}
PLATFORM_BASELINE = Path(__file__).parent / "data" / "baseline-metrics-platform.csv"
PLATFORM_STRATEGY = {"agents": 3000, "days": 20, "seed": 17}
OFF = {"response": {"tracing": False, "isolation": False, "zones": False,
                    "lockdown_high_risk": False},
       "detection": {"area_rounds": {"enabled": False}}}


def _rows(**knobs: object) -> list[dict[str, str]]:
    run = Drill(Strategy.model_validate({**BASELINE_STRATEGY, **knobs})).run_all()
    return [{k: str(v) for k, v in row.items()} for row in run.rows]


def _infections(seeds: range, agents: int = 5000, days: int = 40, **knobs: object) -> int:
    total = 0
    for seed in seeds:
        s = Strategy.model_validate({"agents": agents, "days": days, "seed": seed, **knobs})
        total += Drill(s, city=build_city(agents, seed=seed)).run_all().rows[-1][
            "cumulative_infections"]
    return total


def test_same_seed_same_metrics_as_the_committed_baseline() -> None:
    rows = _rows()
    assert rows == _rows()
    with BASELINE.open(encoding="utf-8") as fh:
        committed = list(csv.DictReader(fh))
    assert rows == committed, "metrics changed: refresh on purpose with " \
                              "`python tests/drill/test_drill.py --refresh`"


def test_same_seed_same_metrics_with_the_platform_in_the_loop(session: Session) -> None:
    """The drill through the platform's services against its committed baseline (the same on
    SQLite and PostgreSQL). Refresh on purpose: FANGKONG_TEST_REFRESH_BASELINE=1 pytest -k this."""
    run = Drill(Strategy.model_validate(PLATFORM_STRATEGY), session=session,
                actor=system_actor()).run_all()
    rows = [{k: str(v) for k, v in row.items()} for row in run.rows]
    if os.environ.get("FANGKONG_TEST_REFRESH_BASELINE"):
        with PLATFORM_BASELINE.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        pytest.skip(f"wrote {PLATFORM_BASELINE}")
    with PLATFORM_BASELINE.open(encoding="utf-8") as fh:
        assert rows == list(csv.DictReader(fh)), "metrics changed: refresh on purpose"


def test_another_seed_another_outbreak() -> None:
    assert _rows() != [{k: str(v) for k, v in r.items()} for r in Drill(
        Strategy.model_validate({**BASELINE_STRATEGY, "seed": 12})).run_all().rows]


def test_tracing_and_isolation_contain_the_outbreak() -> None:
    seeds = range(1, 5)
    on, off = _infections(seeds), _infections(seeds, **OFF)
    assert off > 3 * on


def test_through_the_platform_tracing_and_isolation_contain_the_outbreak(
        session: Session) -> None:
    """The same causality with the platform's services in the loop (two seeds: 152 against
    1,176 infections when measured)."""
    on = off = 0
    for seed in (1, 2):
        city = build_city(5000, seed=seed)
        for knobs in ({}, OFF):
            rows = Drill(Strategy.model_validate({"agents": 5000, "days": 40, "seed": seed,
                                                  **knobs}),
                         session=session, actor=system_actor(), city=city).run_all().rows
            if knobs:
                off += rows[-1]["cumulative_infections"]
            else:
                on += rows[-1]["cumulative_infections"]
    assert off > 3 * on


def test_more_rooms_and_faster_labs_mean_fewer_infections() -> None:
    seeds = range(1, 7)
    few = _infections(seeds, capacity={"rooms": 10, "vehicles": 1})
    many = _infections(seeds, capacity={"rooms": 2000, "vehicles": 20})
    assert many < few
    slow = _infections(seeds, capacity={"lab_tubes": 300, "lab_turnaround_days": 3})
    fast = _infections(seeds, capacity={"lab_tubes": 20000, "lab_turnaround_days": 0})
    assert fast < slow


def test_secondary_contacts_are_traced_and_home_quarantined_under_the_pack() -> None:
    city = build_city(5000, seed=3)
    base = Strategy.model_validate({"agents": 5000, "days": 20, "seed": 3})
    with_secondary = base.model_copy(update={"response": base.response.model_copy(
        update={"secondary_contacts": True})})
    a = Drill(base, city=city).run_all().rows
    drill = Drill(with_secondary, city=city)
    b = drill.run_all().rows
    assert sum(r["contacts_identified"] for r in b) > sum(r["contacts_identified"] for r in a)
    assert max(r["in_home_quarantine"] for r in b) > max(r["in_home_quarantine"] for r in a)
    plan = drill.plans[2]
    assert plan is not None and plan.facility is None  # cn_v9: 7 days at home


def test_the_platform_responds_through_its_services(session: Session, tmp_path: Path) -> None:
    actor = system_actor()
    strategy = Strategy.model_validate({"agents": 3000, "days": 25, "seed": 13})
    drill = Drill(strategy, session=session, actor=actor)
    assert isinstance(drill.responder, PlatformResponder)
    run = drill.run_all()
    prefix = drill.platform.case_prefix if drill.platform else ""
    found = sum(r["new_detected"] for r in run.rows)
    # Cases: reported by the drill (fever clinics, quarantine and key-group tests) through the
    # case importer, and by the testing service itself from positive round tubes.
    cases = session.scalars(select(Case).where(
        Case.ref.like(f"{prefix}%") | Case.ref.like(f"NAT-{prefix}-%"))).all()
    # One case per person: a person found positive again joins their episode.
    assert found > 0 and len({c.person_id for c in cases}) == len(cases) == found
    assert run.platform["cases_written"] == sum(c.ref.startswith(prefix) for c in cases)
    from_rounds = [c for c in cases if c.ref.startswith("NAT-")]
    assert from_rounds and all(c.detection_mode.value == "community_screening"
                               for c in from_rounds)
    # The whole city is in the registry, marked synthetic.
    persons = session.scalars(select(Person).where(Person.ref.like("DR4408N3000S13A%"))).all()
    assert len(persons) == 3000 and all(p.synthetic for p in persons)
    tasks = session.scalars(select(Task).where(Task.type == "investigate_case")).all()
    assert len(tasks) == found
    assert len([t for t in tasks if t.status.value == "done"]) == run.platform["tasks_done"] > 0
    ruled = [h for c in cases for h in c.history if h.basis.value == "rule"]
    assert len(ruled) == run.platform["reclassified"] > 0
    # Tracing: the check-ins are in the store; household and venue proposals, confirmed for
    # the cases the tracers reached, made contact episodes with the pack's plan.
    assert list((get_settings().data_dir / "drill" / f"checkins-{prefix}").rglob("*.parquet"))
    origins = {e.origin.value for e in session.scalars(select(Exposure).where(
        Exposure.review == Review.confirmed))}
    assert {"household", "co_presence", "manual"} <= origins
    contacts = session.scalars(select(ContactEpisode)).all()
    assert contacts and all(c.plan and c.pack == "cn_v9" for c in contacts)
    assert sum(r["contacts_identified"] for r in run.rows) == len(contacts)
    # Zones: in the registry; the drill's figure is the registry's.
    assert drill.platform is not None
    run_id = drill.platform.run_id
    zones = session.scalars(select(Zone).where(Zone.id.in_(
        drill_runs.tagged(session, "zone", run_id=run_id)))).all()
    assert all(z.name.endswith(f"（演练 {prefix}）") for z in zones)
    active = [z for z in zones if z.status.value == "active"]
    assert zones and run.rows[-1]["zones_active"] == len(active)
    assert any(z.rounds for z in zones)
    # Rounds with the pack's tube sizes; positive pools followed up.
    rounds = session.scalars(select(Round).where(Round.series == f"drill-{prefix}")).all()
    assert rounds and session.scalar(select(func.count()).select_from(Followup).where(
        Followup.round_id.in_([r.id for r in rounds]))) > 0
    # A round is closed once all its first tubes are tested (its re-swabs still land in it).
    assert any(r.status.value == "closed" for r in rounds)
    capacities = set(session.scalars(select(Tube.capacity).where(
        Tube.round_id.in_([r.id for r in rounds]))))
    assert capacities <= {1, 10, 20} and len(capacities) > 1
    # Rooms: stays booked by the isolation service, never more rooms in use than there are.
    kinds = {s.kind.value for s in session.scalars(select(Stay))}
    assert kinds == {"quarantine", "isolation"}
    rooms = session.scalar(select(func.count()).select_from(Room).join(Site).where(
        Site.code.like(f"{prefix}Q%")))
    per_night = session.scalars(select(func.count()).select_from(RoomNight).join(Room).join(
        Site).where(Site.code.like(f"{prefix}Q%")).group_by(RoomNight.night)).all()
    busiest = max(per_night, default=0)
    assert rooms == round(strategy.capacity.rooms * 3000 / 100_000) and 0 < busiest <= rooms
    # Transfers: every contact moved to a room went by bus, its clock from identification.
    moved = session.scalars(select(Transfer).where(Transfer.passenger_class == "contact",
                                                   Transfer.status == "arrived")).all()
    assert len(moved) == sum(r["contacts_managed"] for r in run.rows) > 0
    assert all(t.arrived_at > t.clock_start for t in moved)
    # Every transfer (contacts' and cases') is requested, then dispatched, then arrived; it is
    # requested with the rest of its vehicle load once their clocks have started, unless the
    # vehicle left earlier.
    every = session.scalars(select(Transfer).where(Transfer.status == "arrived")).all()
    assert {t.passenger_class.value for t in every} == {"contact", "case"}
    assert all(t.created_at <= t.dispatched_at <= t.arrived_at for t in every)
    assert all(t.created_at >= t.clock_start or t.created_at == t.dispatched_at for t in every)
    assert len({(t.created_at, t.vehicle_id) for t in every}) < len(every)  # a load at once
    episodes = session.scalars(select(ContactEpisode)).all()
    assert {"released", "identified"} <= {c.status.value for c in episodes}
    assert all(c.management_started_at for c in episodes if c.status.value == "released")
    hours = [r["hours_identified_to_quarantine"] for r in run.rows
             if r["hours_identified_to_quarantine"] != ""]
    assert hours and any(h % 24 for h in hours)  # real hours, not whole days
    # Tasks end with the events of their records: no contact task is left open once the
    # contact is released or a case, none to transfer a contact who arrived; the share done
    # on time is in the report, of the tasks due.
    by_contact = {c.id: c for c in episodes}
    contact_tasks = session.scalars(select(Task).where(Task.subject_type == "contact")).all()
    arrived: dict[int, list[datetime]] = {}
    for t in moved:
        arrived.setdefault(t.person_id, []).append(t.arrived_at)
    stale = [(t.type, by_contact[t.subject_id].status.value, t.created_at,
              arrived.get(by_contact[t.subject_id].person_id))
             for t in contact_tasks if t.status.active and (
                 by_contact[t.subject_id].status.value in ("released", "became_case")
                 or (t.type == "transfer_to_quarantine" and any(
                     at >= t.created_at
                     for at in arrived.get(by_contact[t.subject_id].person_id, []))))]
    assert contact_tasks and not stale
    assert {t.status.value for t in contact_tasks} >= {"done", "cancelled"}
    # the quarantine tests of the plan are taken (their sampling tasks done) and resulted
    stay_tests = session.scalars(select(StayTest)).all()
    assert any(t.sampled_at for t in stay_tests) and any(t.recorded_at for t in stay_tests)
    sampling = {t.subject_id: t for t in session.scalars(select(Task).where(
        Task.type == "isolation_sampling"))}
    assert all(sampling[t.id].status.value == "done" for t in stay_tests
               if t.sampled_at or t.recorded_at)
    due = sum(r["tasks_due"] for r in run.rows)
    assert due > 0 and 0 < report.totals(run)["tasks_on_time_share"] <= 1
    assert report.totals(run)["tasks_on_time_share"] == round(
        sum(r["tasks_on_time"] for r in run.rows) / due, 3)
    # The same drill again is a drill of its own with the same figures; the first one's
    # zones are lifted and its sites stand down.
    second = Drill(strategy, session=session, actor=actor)
    again = second.run_all()
    assert second.platform is not None
    again_prefix = second.platform.case_prefix
    assert again.rows == run.rows
    # The first drill's cases were set aside as the second started: their persons' new
    # positives are the second drill's cases, not the first's.
    assert {c.classification.value for c in cases} == {"discarded"}
    assert all((c.history[-1].note or "") == name("ended", run=again_prefix) for c in cases)
    assert all(z.status.value == "lifted" for z in zones)
    assert all(s.status.value == "standby" for s in session.scalars(select(Site).where(
        Site.code.like(f"{prefix}%"))))
    metrics, page = report.write([run, again], tmp_path)
    header = metrics.read_text("utf-8").splitlines()[0].split(",")
    assert header == ["strategy", *COLUMNS]
    assert "echarts.init" in page.read_text("utf-8") and "cdn" not in page.read_text(
        "utf-8").lower()


def test_contacts_quarantined_at_home_are_under_management(session: Session) -> None:
    """Contacts whose plan goes on at home without a room (the rooms ran out) are under
    management in the tracing service from the day they are told to stay home."""
    strategy = Strategy.model_validate({"agents": 3000, "days": 16, "seed": 13,
                                        "capacity": {"rooms": 20, "vehicles": 1}})
    drill = Drill(strategy, session=session, actor=system_actor())
    seen: list[int] = []

    def check(day: int) -> None:
        assert drill.platform is not None
        home = np.flatnonzero((drill.status == HOME_Q) & (drill.role > 0))
        seen.append(home.size)
        managed: dict[int, bool] = {}
        for person_id, value, started in session.execute(
                select(ContactEpisode.person_id, ContactEpisode.status,
                       ContactEpisode.management_started_at).where(
                    ContactEpisode.person_id.in_(drill.platform.person_id[home].tolist()),
                    ContactEpisode.role.in_(["close_contact", "secondary_contact"]))):
            now = value.value == "under_management"
            managed[person_id] = managed.get(person_id, False) or now
            assert not now or started is not None
        assert all(managed.get(int(p)) for p in drill.platform.person_id[home]), day

    drill.run_all(progress=check)
    assert max(seen) > 0


def test_a_bad_strategy_file_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("name: x\ncapacity:\n  rooms: -3\n  lab_tubes: 10\n", encoding="utf-8")
    with pytest.raises(Invalid) as err:
        load(bad)
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == ("s.yaml", 3, "capacity.rooms")


def refresh() -> None:
    rows = _rows()
    with BASELINE.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {BASELINE} ({len(rows)} days)")


if __name__ == "__main__" and "--refresh" in sys.argv:
    refresh()


def test_persons_of_another_drill_never_share_an_id_number(session: Session) -> None:
    from datetime import date

    from fangkong.drill.platform import Platform
    from fangkong.geo import service as geo

    assert geo.count(session) > 0
    city = build_city(1000, seed=4)
    actor = system_actor()
    pack = policy.pin("cn_v9")
    first = Platform(session, actor, city, run_key="a", investigation_hours=24, pack=pack)
    agents = city.household.argsort()[:40]
    first.register(agents, date(2022, 5, 1))
    # A second city whose ID numbers fall in the same range: every one of them clashes.
    second = Platform(session, actor, city, run_key="b", investigation_hours=24, pack=pack)
    second.prefix = "DRCLASHA"
    second.register(agents, date(2022, 5, 1))
    assert first.persons_written == second.persons_written == 40
    numbers = session.scalars(select(Person.id_number_hash).where(
        Person.ref.like("DR%"))).all()
    assert len(numbers) == len(set(numbers)) == 80


def test_the_fast_responder_leaves_venue_exposed_people_to_the_pack() -> None:
    """Under cn_v9 the people found by venue co-presence (涉疫场所暴露人员) have no plan: the
    fast responder identifies and counts them, as the platform's tracing does, but does not
    quarantine them; a pack that manages them gets them quarantined."""
    from fangkong.drill.capacity import CapacityResponder
    from fangkong.drill.loop import venue_managed
    from fangkong.sim.engine import Engine

    assert venue_managed("cn_v9") is False and venue_managed("who_2021") is True
    strategy = Strategy.model_validate({"agents": 3000, "days": 5, "seed": 3,
                                        "response": {"trace_work": False},
                                        "capacity": {"tracers": 10_000}})
    city = build_city(3000, seed=3)
    engine = Engine(city, seed=3)
    everyone = np.ones(city.n, dtype=bool)
    days = [engine.step(t, home=everyone, out=everyone, weekday=True) for t in range(3)]

    def window(cases: np.ndarray, today: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(cases.size, dtype=np.int64), np.full(cases.size, today, np.int64)

    traced = {}
    for managed in (True, False):
        resp = CapacityResponder(city, engine, strategy, window, venue_managed=managed)
        for t, day in enumerate(days):
            resp.record_checkins(t, day.checkins)
        traced[managed] = resp.trace(np.arange(0, 3000, 50, dtype=np.int64), 2)
    quarantined, left = traced[True], traced[False]
    assert quarantined.identified == left.identified  # the same people found
    assert set(left.agent.tolist()) < set(quarantined.agent.tolist())  # venue-only ones left
    assert left.identified > left.agent.size


def test_a_drill_under_another_pack_than_the_active_one_traces_under_its_own(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases the drill reports (its case files, its rounds' positives) are traced under the
    drill's pack, not the deployment's active one; so are its rounds and zones."""
    monkeypatch.setenv("FANGKONG_ACTIVE_POLICY_PACK", "cn_v9")
    get_settings.cache_clear()
    try:
        strategy = Strategy.model_validate({"agents": 3000, "days": 16, "seed": 13,
                                            "pack": "cn_20_measures"})
        Drill(strategy, session=session, actor=system_actor()).run_all()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    exposures = session.scalars(select(Exposure)).all()
    assert exposures and {e.pack_id for e in exposures} == {"cn_20_measures"}
    contacts = session.scalars(select(ContactEpisode)).all()
    assert contacts and {c.pack for c in contacts} == {"cn_20_measures"}
    assert {r.pack_id for r in session.scalars(select(Round))} == {"cn_20_measures"}
