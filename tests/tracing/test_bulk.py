"""The bulk paths of tracing (propose_many, review_many, add_exposures, set_status_many) leave
the same records as the one-by-one calls: exposures, contact episodes with their history, tasks
and the audit entries naming them. Each path runs in a savepoint that is rolled back, and the
two snapshots are compared with the ids replaced by what the rows stand for."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.audit import AuditEntry
from fangkong.core.auth import Actor, Role
from fangkong.core.clock import set_clock
from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.person.models import Person
from fangkong.task.models import Task
from fangkong.tracing import importer, service
from fangkong.tracing.enums import ContactStatus, Review, Setting
from fangkong.tracing.models import ContactEpisode, Exposure
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from tests.conftest import login
from tests.tracing.helpers import confirmed_case

NOW = datetime(2022, 5, 7, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _manual(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from fangkong.core.config import get_settings

    monkeypatch.setenv("FANGKONG_TRACING_AUTO_PROPOSE", "false")
    get_settings.cache_clear()
    set_clock(lambda: NOW)
    yield
    set_clock(None)
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def store(session: Session, admin: Actor, people: list[Person], venues: list[int],
          tmp_path: Path) -> Path:
    """Person 0 (household H1) and person 3 (H2) meet others at two venues."""
    p = [x.id for x in people]
    rows = [
        (p[0], "V-MKT", "2022-05-04T10:00:00+08:00", "2022-05-04T11:00:00+08:00"),
        (p[5], "V-MKT", "2022-05-04T10:30:00+08:00", "2022-05-04T11:30:00+08:00"),
        (p[3], "V-REST", "2022-05-06T18:00:00+08:00", "2022-05-06T19:00:00+08:00"),
        (p[6], "V-REST", "2022-05-06T18:20:00+08:00", "2022-05-06T20:00:00+08:00"),
        (p[5], "V-REST", "2022-05-06T18:10:00+08:00", "2022-05-06T19:30:00+08:00"),
    ]
    src = tmp_path / "c.csv"
    src.write_text("person_id,venue_code,t_in,t_out\n"
                   + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows), "utf-8")
    importer.ingest(session, actor=admin, source=src, directory=tmp_path / "store")
    return tmp_path / "store"


def _snapshot(session: Session, case_ids: list[int], seq: int) -> dict[str, Any]:
    """The records of these cases, ids replaced by natural keys (a case by its place in
    ``case_ids``: on PostgreSQL a rolled-back savepoint does not give its ids back)."""
    session.flush()
    pos = {cid: k for k, cid in enumerate(case_ids)}
    exposures = session.scalars(select(Exposure).where(
        Exposure.source_case_id.in_(case_ids))).all()
    episodes = session.scalars(select(ContactEpisode).where(
        ContactEpisode.index_case_id.in_(case_ids))).all()
    ckey = {c.id: ("contact", c.person_id, pos[c.index_case_id]) for c in episodes}
    ekey = {e.id: ("exposure", pos[e.source_case_id], e.exposed_person_id, e.origin.value)
            for e in exposures}
    found_tasks = session.scalars(select(Task).where(Task.subject_type == "contact",
                                                     Task.subject_id.in_(list(ckey)))).all()
    tkey = {t.id: ("task", t.type, ckey[t.subject_id]) for t in found_tasks}
    keys: dict[str, dict[int, Any]] = {"contact": ckey, "exposure": ekey, "task": tkey}
    audited = set()
    for entry in session.scalars(select(AuditEntry).where(AuditEntry.seq > seq)):
        known = keys.get(entry.record_type)
        if known is None:
            continue
        for rid in entry.record_ids:
            audited.add((entry.action, entry.record_type, known[int(rid)], tuple(entry.fields),
                         entry.note))
    return {
        "exposures": sorted((ekey[e.id], e.review.value, e.active, e.proposed_role,
                             e.first_exposure, e.last_exposure, e.reason, e.reviewed_by,
                             ckey.get(e.contact_id or 0)) for e in exposures),
        "contacts": sorted((ckey[c.id], c.role, c.status.value, json.dumps(c.plan),
                            c.window_start, c.window_end, c.first_exposure, c.last_exposure,
                            c.release_date, c.management_started_at, c.converted_case_id,
                            tuple((h.from_status, h.to_status, h.at, h.by, h.note)
                                  for h in c.history)) for c in episodes),
        "tasks": sorted((tkey[t.id], t.title.replace(f"case {case_ids[tkey[t.id][2][2]]}",
                                                     "case #"),
                         t.owning_division_code, t.due_at, t.status.value,
                         tuple(e.kind for e in t.events)) for t in found_tasks),
        "audit": sorted(audited, key=repr),
    }


def _both(session: Session, one: Callable[[], list[int]], many: Callable[[], list[int]]
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    seq = session.scalar(select(func.max(AuditEntry.seq))) or 0
    out = []
    for path in (one, many):
        savepoint = session.begin_nested()
        out.append(_snapshot(session, path(), seq))
        savepoint.rollback()
        session.expire_all()
    return out[0], out[1]


def _work(session: Session, admin: Actor, people: list[Person], store: Path, *,
          bulk: bool) -> list[int]:
    a = confirmed_case(session, admin, people[0], "BA")
    b = confirmed_case(session, admin, people[3], "BB")
    if bulk:
        service.propose_many(session, actor=admin, case_ids=[a, b], checkins=store,
                             pack="cn_v9", isolated_on={b: date(2022, 5, 7)})
    else:
        service.propose(session, actor=admin, case_id=a, checkins=store, pack="cn_v9")
        service.propose(session, actor=admin, case_id=b, checkins=store, pack="cn_v9",
                        isolated_on=date(2022, 5, 7))
    proposed = [e.id for e in session.scalars(select(Exposure).where(
        Exposure.source_case_id.in_([a, b])).order_by(Exposure.id))]
    assert len(proposed) == 6  # a: 1, 2 (household), 5 (market); b: 4, then 5 and 6 (venue)
    # Named in the interview: person 1 again, later (extends the episode), and person 7 twice
    # (the second extends the episode the first made, in the same batch).
    named = [ExposureCreate(source_case_id=a, exposed_person_id=people[1].id,
                            first_exposure=date(2022, 5, 2), last_exposure=date(2022, 5, 7),
                            setting=Setting.workplace, reason="named"),
             ExposureCreate(source_case_id=b, exposed_person_id=people[7].id,
                            first_exposure=date(2022, 5, 5), last_exposure=date(2022, 5, 5),
                            setting=Setting.school, reason="named too"),
             ExposureCreate(source_case_id=b, exposed_person_id=people[7].id,  # extends it
                            first_exposure=date(2022, 5, 6), last_exposure=date(2022, 5, 6),
                            setting=Setting.workplace, reason="and at work")]
    if bulk:
        confirmed = service.review_many(session, actor=admin, exposure_ids=proposed[:-1],
                                        confirm=True, note="batch")
        service.review_many(session, actor=admin, exposure_ids=proposed[-1:], confirm=False,
                            note="batch")
        added = service.add_exposures(session, actor=admin, data=named, pack="cn_v9")
    else:
        confirmed = [service.review(session, actor=admin, exposure_id=i, confirm=True,
                                    note="batch") for i in proposed[:-1]]
        service.review(session, actor=admin, exposure_id=proposed[-1], confirm=False,
                       note="batch")
        added = [service.add_exposure(session, actor=admin, data=d, pack="cn_v9")
                 for d in named]
    episodes = [e.contact_id for e in confirmed + added if e.contact_id is not None]
    assert len(set(episodes)) == 6  # person 1's episode of case a was extended
    moves = [(c, StatusUpdate(status=ContactStatus.under_management,
                              at=datetime(2022, 5, 7, 9, k, tzinfo=UTC)))
             for k, c in enumerate(dict.fromkeys(episodes))]
    moves.append((episodes[0], StatusUpdate(status=ContactStatus.released,
                                            at=datetime(2022, 5, 7, 10, tzinfo=UTC))))
    if bulk:
        service.set_status_many(session, actor=admin, updates=moves)
    else:
        for cid, data in moves:
            service.set_status(session, actor=admin, contact_id=cid, data=data)
    return [a, b]


def test_bulk_paths_leave_the_records_of_one_by_one(session: Session, admin: Actor,
                                                    people: list[Person], store: Path) -> None:
    one, many = _both(session, lambda: _work(session, admin, people, store, bulk=False),
                      lambda: _work(session, admin, people, store, bulk=True))
    assert one == many
    assert len(many["contacts"]) == 6 and len(many["tasks"]) >= 6
    statuses = sorted(c[2] for c in many["contacts"])
    assert statuses == ["released"] + ["under_management"] * 5
    assert any(a[0] == "update" and a[1] == "contact" and "plan" in a[3]
               for a in many["audit"])  # the extended episode is audited as one by one


def test_a_batch_is_refused_whole(session: Session, admin: Actor, people: list[Person],
                                  store: Path) -> None:
    a = confirmed_case(session, admin, people[0], "BR")
    service.propose(session, actor=admin, case_id=a, checkins=store, pack="cn_v9")
    ids = [e.id for e in service.exposures_of(session, actor=admin, case_id=a)]
    service.review(session, actor=admin, exposure_id=ids[0], confirm=True)
    with pytest.raises(Conflict, match=f"exposure {ids[0]} was confirmed already"):
        service.review_many(session, actor=admin, exposure_ids=ids[1:] + ids[:1],
                            confirm=True)
    with pytest.raises(NotFound, match="exposure 987654321 not found"):
        service.review_many(session, actor=admin, exposure_ids=[ids[1], 987654321],
                            confirm=True)
    with pytest.raises(Invalid, match="twice"):
        service.review_many(session, actor=admin, exposure_ids=[ids[1], ids[1]], confirm=True)
    assert [e.review for e in session.scalars(select(Exposure).where(
        Exposure.id.in_(ids[1:])))] == [Review.proposed] * (len(ids) - 1)
    with pytest.raises(Invalid) as err:
        service.add_exposures(session, actor=admin, data=[
            ExposureCreate(source_case_id=a, exposed_person_id=people[6].id,
                           first_exposure=date(2022, 5, 5), last_exposure=date(2022, 5, 5),
                           setting=Setting.workplace),
            ExposureCreate(source_case_id=a, exposed_person_id=people[0].id,
                           first_exposure=date(2022, 5, 5), last_exposure=date(2022, 5, 5),
                           setting=Setting.workplace)])
    assert err.value.problems[0].field == "exposed_person_id[1]"
    contact = session.scalar(select(ContactEpisode.id).where(ContactEpisode.index_case_id == a))
    assert contact is not None
    with pytest.raises(Invalid, match="cannot become identified"):  # checked before any move
        service.set_status_many(session, actor=admin, updates=[
            (contact, StatusUpdate(status=ContactStatus.under_management)),
            (contact, StatusUpdate(status=ContactStatus.identified))])
    assert session.get(ContactEpisode, contact).status == ContactStatus.identified  # type: ignore[union-attr]


def test_confirm_a_batch_over_http(client: TestClient, session: Session, admin: Actor,
                                   people: list[Person], store: Path) -> None:
    set_clock(None)  # a token signed now
    headers = login(client, session, "epi", Role.epidemiologist, "440802")
    a = confirmed_case(session, admin, people[0], "BH")
    service.propose(session, actor=admin, case_id=a, checkins=store, pack="cn_v9")
    ids = sorted(e.id for e in service.exposures_of(session, actor=admin, case_id=a))
    resp = client.post("/api/v1/tracing/exposures/review", headers=headers,
                       json={"exposure_ids": ids, "confirm": True, "note": "checked"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [e["id"] for e in body] == ids and all(e["review"] == "confirmed" for e in body)
    assert all(e["contact_id"] for e in body)
    resp = client.post("/api/v1/tracing/exposures/review", headers=headers,
                       json={"exposure_ids": ids[:1], "confirm": False})
    assert resp.status_code == 409
