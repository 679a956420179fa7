"""The maintained transmission graph equals a computation from scratch after random sequences
of the writes that change it (cases reported and discarded, exposures added, confirmed,
rejected, deactivated and edited, contacts converted), with and without commits between."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode, Severity
from fangkong.case.models import Case
from fangkong.case.schemas import CaseCreate, Reclassify
from fangkong.core.auth import Actor
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.policy import service as policy
from fangkong.tracing import chains, graph, service
from fangkong.tracing.enums import ContactStatus, Origin, Review, Setting
from fangkong.tracing.models import Cluster, ClusterMember, ContactEpisode, Exposure, Link
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows

DAY0 = date(2022, 5, 1)


def _persons(session: Session, n: int, prefix: str) -> list[Person]:
    rows = person_rows(n, places=[("440802001001", 1.0)], seed=11, prefix=prefix)
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    refs = [r["ref"] for r in rows]
    found = {p.ref: p for p in session.scalars(select(Person).where(Person.ref.in_(refs)))}
    return [found[r] for r in refs]


def _report(session: Session, actor: Actor, person: Person, ref: str, onset: date) -> int:
    return cases.create(session, actor=actor, data=CaseCreate(
        ref=ref, person_ref=person.ref, classification=Classification.confirmed,
        severity=Severity.mild, onset_date=onset,
        reported_at=datetime.combine(onset + timedelta(days=1), datetime.min.time(), UTC),
        detection_mode=DetectionMode.fever_clinic, owning_division_code="440802")).id


def _step(session: Session, actor: Actor, rnd: random.Random, persons: list[Person],
          n: int) -> str:
    """One random write; returns what it did (for the failure message)."""
    case_of = {p: c for c, p in session.execute(select(Case.id, Case.person_id))}
    live = list(session.scalars(select(Case.id).where(
        Case.classification != Classification.discarded)))
    kind = rnd.choice(["report", "expose", "expose", "expose", "propose", "deactivate",
                       "reactivate", "discard", "restore", "edit", "convert"])
    if kind == "report" or not live:
        free = [p for p in persons if p.id not in case_of]
        if free:
            onset = DAY0 + timedelta(days=rnd.randrange(20))
            _report(session, actor, rnd.choice(free), f"G{n}", onset)
            return "report"
        kind = "expose"
    if kind in ("expose", "propose"):
        source = rnd.choice(live)
        source_person = session.get(Case, source).person_id  # type: ignore[union-attr]
        person = rnd.choice([p for p in persons if p.id != source_person])
        day = DAY0 + timedelta(days=rnd.randrange(20))
        setting = rnd.choice([Setting.household, Setting.workplace, Setting.venue])
        if kind == "expose":
            service.add_exposure(session, actor=actor, data=ExposureCreate(
                source_case_id=source, exposed_person_id=person.id, first_exposure=day,
                last_exposure=day, setting=setting))
            return f"expose {source}->{person.id}"
        # A proposal, then reviewed: confirmed or rejected.
        exposure = Exposure(
            source_case_id=source, exposed_person_id=person.id,
            division_code=person.division_code, first_exposure=day, last_exposure=day,
            estimated=False, setting=setting, proximity="direct", certainty="probable",
            active=True, origin=Origin.household, proposed_role="close_contact",
            reason="test", review=Review.proposed,
            **policy.pin("cn_v9").detail(), created_at=datetime.now(UTC))
        existing = session.scalar(select(Exposure.id).where(
            Exposure.source_case_id == source, Exposure.exposed_person_id == person.id,
            Exposure.origin == Origin.household))
        if existing is not None:
            return "propose (exists)"
        session.add(exposure)
        session.flush()
        confirm = rnd.random() < 0.7
        service.review(session, actor=actor, exposure_id=exposure.id, confirm=confirm)
        return f"propose {source}->{person.id} confirmed={confirm}"
    exposures = list(session.scalars(select(Exposure).where(
        Exposure.review == Review.confirmed)))
    if kind in ("deactivate", "reactivate", "edit") and exposures:
        e = rnd.choice(exposures)
        if kind == "edit":
            e.last_exposure = e.last_exposure + timedelta(days=rnd.randrange(1, 3))
            e.setting = rnd.choice([Setting.school, Setting.household])
        else:
            e.active = kind == "reactivate"
        session.flush()
        return f"{kind} exposure {e.id}"
    if kind in ("discard", "restore"):
        wanted = Classification.discarded if kind == "discard" else Classification.confirmed
        severity = None if kind == "discard" else Severity.mild
        pool = [c for c in case_of.values() if c not in live] if kind == "restore" else live
        if pool:
            case_id = rnd.choice(pool)
            cases.reclassify(session, actor=actor, case_id=case_id,
                             data=Reclassify(classification=wanted, severity=severity))
            return f"{kind} case {case_id}"
    if kind == "convert":
        for contact in session.scalars(select(ContactEpisode).where(
                ContactEpisode.status == ContactStatus.identified)):
            own = case_of.get(contact.person_id)
            if own is not None and own != contact.index_case_id:
                service.set_status(session, actor=actor, contact_id=contact.id,
                                   data=StatusUpdate(status=ContactStatus.became_case,
                                                      converted_case_id=own))
                return f"convert contact {contact.id}"
    return f"{kind} (nothing to do)"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maintained_graph_equals_a_computation_from_scratch(session: Session, admin: Actor,
                                                            seed: int) -> None:
    rnd = random.Random(seed)
    persons = _persons(session, 24, f"GR{seed}")
    done: list[str] = []
    for n in range(120):
        done.append(_step(session, admin, rnd, persons, n + 1000 * seed))
        if rnd.random() < 0.2:
            session.commit()  # the listener syncs before the commit
        if n % 10 == 9:
            assert graph.check(session) == [], done[-10:]
    assert graph.check(session) == []
    # The run built real clusters (the test would prove nothing on an empty graph).
    sizes = list(session.scalars(select(Cluster.size)))
    assert sizes and max(sizes) >= 3
    # What the reads show is what the tables hold.
    listed = chains.clusters(session, actor=admin)
    assert [(c["cluster_id"], c["size"]) for c in listed] == [
        (c.cluster_id, c.size) for c in session.scalars(
            select(Cluster).order_by(Cluster.size.desc(), Cluster.cluster_id))]
    biggest = listed[0]
    info = chains.chain(session, actor=admin, case_id=biggest["cluster_id"])
    assert {k: info[k] for k in biggest} == biggest


def test_rebuild_and_a_write_that_bypasses_the_orm(session: Session, admin: Actor) -> None:
    persons = _persons(session, 4, "GB")
    a = _report(session, admin, persons[0], "GB-A", DAY0)
    b = _report(session, admin, persons[1], "GB-B", DAY0 + timedelta(days=3))
    service.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=a, exposed_person_id=persons[1].id, first_exposure=DAY0,
        last_exposure=DAY0, setting=Setting.household))
    graph.sync(session)
    assert session.scalar(select(ClusterMember.cluster_id).where(
        ClusterMember.case_id == b)) == a
    # A bulk SQL write is not seen by the listener: check() says so, rebuild() repairs it.
    session.execute(Link.__table__.delete())
    assert graph.check(session) != []
    assert graph.rebuild(session) == {"links": 1, "clusters": 1, "cases_in_clusters": 2}
    assert graph.check(session) == []


def test_the_light_hook_notes_and_syncs_under_the_graphs_key() -> None:
    """The session hook (imported by every process) and the graph agree on the session key
    of the pending changes: the hook syncs at commit only when the graph noted something."""
    from fangkong.tracing import graph, graph_hook

    assert graph_hook.PENDING == graph._PENDING
    assert {"fangkong.case.models", "fangkong.tracing.models"} == graph_hook.WATCHED
