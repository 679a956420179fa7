"""The epidemiologist's 流调 interview and transmission chain over a real database: an
interview saved as a draft and completed later feeds tracing (the people named proposed, the
venue visits found co-present with someone); what it refuses (an unknown venue code or person,
a date outside the pack's window, a stale form, no CSRF token, another jurisdiction's case),
each error by its field in the reader's language with what was typed kept; the infector of a
case set, refused when it would close a cycle or name another jurisdiction's case, cleared,
and audited."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.core.audit import AuditEntry
from fangkong.core.clock import utc_now
from fangkong.person.models import Person
from fangkong.tracing import importer, interviews, venues
from fangkong.tracing.enums import InterviewStatus, Origin, Review
from fangkong.tracing.models import Exposure, Infector, Interview, Link
from fangkong.tracing.schemas import VenueCreate
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, ZONE, Seeded, seed
from tests.web.test_pages import form, sign_in


@pytest.fixture(autouse=True)
def own_checkins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's check-in store (the data directory's is shared by the suite)."""
    from fangkong.tracing import store

    monkeypatch.setattr(store, "checkin_dir", lambda: tmp_path / "checkins")


@pytest.fixture
def seeded(session: Session, own_checkins: None) -> Seeded:
    return seed(session)


def case_of(session: Session, case_id: int) -> Case:
    found = session.get(Case, case_id)
    assert found is not None
    return found


def others(session: Session, case: Case) -> list[Person]:
    """Persons of 赤坎区 who are not cases."""
    cased = set(session.scalars(select(Case.person_id)))
    return [p for p in session.scalars(select(Person).where(
        Person.division_code.startswith(CHIKAN)).order_by(Person.id)) if p.id not in cased]


def version_of(html: str) -> str:
    m = re.search(r'name="version" value="(\d+)"', html)
    assert m, "no version in the form"
    return m.group(1)


def a_venue_with_someone(session: Session, tmp_path: Path, person: Person,
                         day: str) -> str:
    """A venue of 赤坎区 (a new code) where ``person`` checked in from 12:00 to 13:00 on
    ``day``; its code."""
    code = "V" + uuid.uuid4().hex[:10].upper()
    venues.create_venue(session, actor=make_actor(), data=VenueCreate(
        code=code, name="海滨餐厅", venue_type="restaurant",  # type: ignore[arg-type]
        division_code=CHIKAN + "001"))
    zone = ZoneInfo(ZONE)
    start = datetime.fromisoformat(f"{day}T12:00").replace(tzinfo=zone).astimezone(UTC)
    path = tmp_path / f"{code}.csv"
    path.write_text("person_id,venue_code,t_in,t_out\n"
                    f"{person.id},{code},{start.isoformat()},"
                    f"{(start + timedelta(hours=1)).isoformat()}\n")
    importer.ingest(session, actor=make_actor(), source=path)
    return code


def test_an_interview_saved_as_a_draft_then_completed_feeds_tracing(
        client: TestClient, session: Session, seeded: Seeded, tmp_path: Path) -> None:
    sign_in(client, "wchikan")
    case_id = seeded.chikan_case_ids[0]
    case = case_of(session, case_id)
    onset = case.onset_date
    assert onset is not None
    named, present = others(session, case)[:2]
    day = onset.isoformat()
    code = a_venue_with_someone(session, tmp_path, present, day)
    page = client.get(f"/cases/{case_id}/interview")
    assert page.status_code == 200
    # the pack's look-back window (as the tracing service reckons it), day by day
    win = interviews.window(case, interviews.pack_of(None))
    assert win is not None and win.start < onset
    days = interviews.days_of(win)
    assert days[0] == win.start and onset in days
    for k in range(len(days)):
        assert f'name="days-{k}-places"' in page.text
    assert f'name="days-{len(days)}-places"' not in page.text
    slot = f"days-{days.index(onset)}-places"
    assert version_of(page.text) == "0"
    # first sitting: symptoms, a day, a person met; saved as a draft
    draft = client.post(f"/cases/{case_id}/interview", data={**form(
        client, version="0", action="draft", onset_date=day, symptom_note="咳嗽两天",
        **{slot: "08:00–12:00 单位；12:00 海滨餐厅",
           "people-0-who": named.ref, "people-0-first_exposure": day,
           "people-0-last_exposure": day, "people-0-setting": "workplace",
           "people-0-proximity": "within_1m", "people-0-note": "同事"}),
        "symptoms": ["fever", "cough"]}, follow_redirects=False)
    assert draft.status_code == 303, draft.text
    assert draft.headers["location"] == f"/cases/{case_id}/interview?saved=1"
    saved = session.scalars(select(Interview).where(Interview.case_id == case_id)).one()
    assert saved.status == InterviewStatus.draft and saved.version == 1
    assert saved.answers["symptoms"] == ["fever", "cough"]
    assert not session.scalars(select(Exposure).where(
        Exposure.source_case_id == case_id, Exposure.origin == Origin.interview)).all()
    # second sitting: the draft shown again, a venue added, completed
    again = client.get(draft.headers["location"]).text
    assert "草稿已保存" in again and f'value="{named.ref}"' in again
    assert "08:00–12:00 单位" in again and 'value="fever" checked' in again
    assert version_of(again) == "1"
    done = client.post(f"/cases/{case_id}/interview", data={**form(
        client, version="1", action="complete", onset_date=day, symptom_note="咳嗽两天",
        **{slot: "08:00–12:00 单位；12:00 海滨餐厅",
           "people-0-who": named.ref, "people-0-first_exposure": day,
           "people-0-last_exposure": day, "people-0-setting": "workplace",
           "people-0-proximity": "within_1m", "people-0-note": "同事",
           "venues-0-code": code, "venues-0-day": day, "venues-0-time_in": "12:15",
           "venues-0-time_out": "12:45"}), "symptoms": ["fever", "cough"]},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/cases/{case_id}/contacts?interviewed=1"
    session.expire_all()
    saved = session.scalars(select(Interview).where(Interview.case_id == case_id)).one()
    assert saved.status == InterviewStatus.completed and saved.version == 2
    assert saved.answers["venues"][0]["name"] == "海滨餐厅"
    assert saved.outcome is not None and saved.outcome["checkins"] == 1
    proposed = session.scalars(select(Exposure).where(
        Exposure.source_case_id == case_id, Exposure.review == Review.proposed)).all()
    by_origin = {(e.origin, e.exposed_person_id) for e in proposed}
    assert (Origin.interview, named.id) in by_origin  # named: proposed, not confirmed
    assert (Origin.co_presence, present.id) in by_origin  # met at the venue, found by the engine
    contacts = client.get(done.headers["location"]).text
    assert "流调已完成" in contacts and named.name in contacts and present.name in contacts
    # a completed interview is read only: another save is refused
    late = client.post(f"/cases/{case_id}/interview", data=form(
        client, version="2", action="draft", onset_date=day))
    assert late.status_code == 409


def test_errors_by_the_field_in_the_readers_language_and_what_was_typed_kept(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    case_id = seeded.chikan_case_ids[0]
    case = case_of(session, case_id)
    assert case.onset_date is not None
    long_ago = (case.onset_date - timedelta(days=30)).isoformat()
    day = case.onset_date.isoformat()
    fields = {"version": "0", "action": "draft", "symptom_note": "夜间发热",
              "people-0-who": "没有这个人", "people-0-first_exposure": day,
              "people-0-last_exposure": day,
              "venues-0-code": "NO-SUCH-CODE", "venues-0-day": day, "venues-0-time_in": "10:00",
              "venues-0-time_out": "09:00",
              "travel-0-day": long_ago, "travel-0-mode": "train", "travel-0-number": "G1234",
              "travel-0-origin": "广州", "travel-0-destination": "湛江"}
    resp = client.post(f"/cases/{case_id}/interview", data=form(client, **fields))
    assert resp.status_code == 422
    assert re.search(r'id="f-people-0-who-err">辖区内未找到此人', resp.text)
    assert 'value="没有这个人"' in resp.text and 'value="G1234"' in resp.text
    assert "夜间发热" in resp.text
    assert session.scalar(select(Interview.id).where(Interview.case_id == case_id)) is None
    # the person found: now the service's own checks, each by its field
    fields["people-0-who"] = others(session, case)[0].ref
    resp = client.post(f"/cases/{case_id}/interview", data=form(client, **fields))
    assert resp.status_code == 422
    assert re.search(r'id="f-venues-0-code-err">辖区内没有场所码为 NO-SUCH-CODE 的场所<',
                     resp.text)
    assert re.search(r'id="f-venues-0-time_out-err">离开时间应晚于到达时间<', resp.text)
    assert re.search(r'id="f-travel-0-day-err">不在追溯期', resp.text)
    client.post("/prefs", data=form(client, lang="en", next="/report"))
    resp = client.post(f"/cases/{case_id}/interview", data=form(client, **fields))
    assert re.search(r'id="f-venues-0-code-err">no venue with the code NO-SUCH-CODE in your '
                     r'jurisdiction<', resp.text)
    assert re.search(r'id="f-travel-0-day-err">not within the look-back window', resp.text)
    bad_date = client.post(f"/cases/{case_id}/interview", data=form(
        client, version="0", action="draft", **{"people-0-who": fields["people-0-who"],
                                                "people-0-first_exposure": "yesterday",
                                                "people-0-last_exposure": day}))
    assert re.search(r'id="f-people-0-first_exposure-err">expected a date', bad_date.text)
    assert 'value="yesterday"' in bad_date.text
    assert session.scalar(select(Interview.id).where(Interview.case_id == case_id)) is None


def test_a_stale_interview_form_is_refused_and_nothing_overwritten(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    """Two tabs on the same interview: the second save is refused with a clear message."""
    sign_in(client, "wchikan")
    case_id = seeded.chikan_case_ids[0]
    first_tab = version_of(client.get(f"/cases/{case_id}/interview").text)
    second_tab = version_of(client.get(f"/cases/{case_id}/interview").text)
    ok = client.post(f"/cases/{case_id}/interview", data=form(
        client, version=first_tab, action="draft", symptom_note="第一个标签页"),
        follow_redirects=False)
    assert ok.status_code == 303
    stale = client.post(f"/cases/{case_id}/interview", data=form(
        client, version=second_tab, action="draft", symptom_note="第二个标签页"))
    assert stale.status_code == 409
    assert "该记录在您打开此表单后已被他人修改" in stale.text
    assert "第二个标签页" in stale.text  # what was typed is still there
    session.expire_all()
    saved = session.scalars(select(Interview).where(Interview.case_id == case_id)).one()
    assert saved.answers["symptom_note"] == "第一个标签页" and saved.version == 1


def test_interview_and_chain_forms_without_the_csrf_token_or_of_another_jurisdiction(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    mine, theirs = seeded.chikan_case_ids[0], seeded.xiashan_case_ids[0]
    resp = client.post(f"/cases/{mine}/interview", data={"version": "0", "action": "draft",
                                                          "symptom_note": "无令牌"})
    assert resp.status_code == 403
    resp = client.post(f"/cases/{mine}/chain/infector", data={
        "version": "0", "action": "clear", "reason": "无令牌"})
    assert resp.status_code == 403
    assert client.get(f"/cases/{theirs}/interview").status_code == 404
    assert client.get(f"/cases/{theirs}/chain").status_code == 404
    assert client.post(f"/cases/{theirs}/interview", data=form(
        client, version="0", action="draft", symptom_note="越界")).status_code == 404
    assert client.post(f"/cases/{theirs}/chain/infector", data=form(
        client, version="0", action="clear", reason="越界")).status_code == 404
    assert session.scalar(select(Interview.id)) is None
    assert session.scalar(select(Infector.case_id)) is None


def links_into(session: Session, case_id: int) -> set[tuple[int, str]]:
    return {(s, st) for s, st in session.execute(select(Link.source_case_id, Link.setting)
                                                 .where(Link.target_case_id == case_id))}


def test_the_infector_of_a_case_set_refused_cleared_and_audited(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    a, b, c = seeded.chikan_case_ids[6], seeded.chikan_case_ids[0], seeded.chikan_case_ids[1]
    ref = {i: case_of(session, i).ref for i in (a, b, c)}
    page = client.get(f"/cases/{b}/chain")
    assert page.status_code == 200 and 'id="chain-none"' in page.text

    def post(case_id: int, **fields: str) -> object:
        version = version_of(client.get(f"/cases/{case_id}/chain").text)
        return client.post(f"/cases/{case_id}/chain/infector",
                           data=form(client, version=version, **fields),
                           follow_redirects=False)

    # a infected b, b infected c
    resp = post(b, infector=ref[a], reason="同一单位，发病早两天", action="set")
    assert resp.status_code == 303, resp.text  # type: ignore[attr-defined]
    assert post(c, infector=ref[b], reason="同住", action="set").status_code == 303  # type: ignore[attr-defined]
    session.expire_all()
    assert links_into(session, b) == {(a, "assigned")}
    assert links_into(session, c) == {(b, "assigned")}
    shown = client.get(f"/cases/{c}/chain?done=set").text
    assert f"已将 {ref[b]} 设为本病例的传染来源" in shown and 'class="chart chart-graph"' in shown
    # c infecting a would close a cycle: refused by the field, nothing changed
    resp = post(a, infector=ref[c], reason="反向", action="set")
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert re.search(rf'id="f-infector-err">会形成传播环：病例 {ref[c]}',
                     resp.text)  # type: ignore[attr-defined]
    assert 'value="' + ref[c] + '"' in resp.text  # type: ignore[attr-defined]
    # another jurisdiction's case is not a case here; itself neither; a reason is needed
    theirs = case_of(session, seeded.xiashan_case_ids[0]).ref
    resp = post(a, infector=theirs, reason="跨区", action="set")
    assert resp.status_code == 422 and "辖区内没有此病例" in resp.text  # type: ignore[attr-defined]
    resp = post(a, infector=ref[a], reason="自己", action="set")
    assert resp.status_code == 422 and "病例不能传染自己" in resp.text  # type: ignore[attr-defined]
    resp = post(a, infector=ref[b], reason="", action="set")
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert re.search(r'id="f-reason-err">请填写依据<', resp.text)  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get(Infector, a) is None
    # a stale form: another epidemiologist cleared b's infector meanwhile
    stale = version_of(client.get(f"/cases/{b}/chain").text)
    assert post(b, reason="重新核实：来源不明", action="clear").status_code == 303  # type: ignore[attr-defined]
    resp = client.post(f"/cases/{b}/chain/infector", data=form(
        client, version=stale, infector=ref[c], reason="旧表单", action="set"))
    assert resp.status_code == 409 and "已被他人修改" in resp.text
    session.expire_all()
    decided = session.get(Infector, b)
    assert decided is not None and decided.infector_case_id is None and decided.version == 2
    assert links_into(session, b) == set()  # cleared: no link into b, not even a derived one
    notes = [e.note for e in session.scalars(select(AuditEntry).where(
        AuditEntry.record_type == "case_infector").order_by(AuditEntry.id))]
    assert notes == ["同一单位，发病早两天", "同住", "重新核实：来源不明"]


def test_a_decided_infector_replaces_the_links_exposures_gave(session: Session,
                                                             seeded: Seeded) -> None:
    from fangkong.tracing import infectors, service
    from fangkong.tracing.graph import check, sync
    from fangkong.tracing.schemas import ExposureCreate, InfectorSet

    a, b, c = seeded.chikan_case_ids[6], seeded.chikan_case_ids[0], seeded.chikan_case_ids[1]
    admin = make_actor()
    day = utc_now().date()
    service.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=a, exposed_person_id=case_of(session, b).person_id,
        first_exposure=day, last_exposure=day, setting="household"))  # type: ignore[arg-type]
    sync(session)
    assert links_into(session, b) == {(a, "household")}
    infectors.set_infector(session, actor=admin, case_id=b, data=InfectorSet(
        infector_case_id=c, reason="更可信", version=0))
    sync(session)
    assert links_into(session, b) == {(c, "assigned")}
    assert check(session) == []
    # c's own links stay; the exposure's link comes back when the decision is removed
    session.delete(session.get(Infector, b))
    sync(session)
    assert links_into(session, b) == {(a, "household")}
    assert check(session) == []


def test_the_api_saves_and_completes_an_interview_and_sets_an_infector_by_the_same_rules(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    """The API's routes call the same services as the pages: the same refusals."""
    from fangkong.core.auth import Role
    from tests.conftest import login

    headers = login(client, session, "epi_api", Role.epidemiologist, CHIKAN)
    case_id = seeded.chikan_case_ids[0]
    case = case_of(session, case_id)
    assert case.onset_date is not None
    day = case.onset_date.isoformat()
    url = f"/api/v1/tracing/cases/{case_id}/interview"
    assert client.get(url, headers=headers).json() is None
    named = others(session, case)[0]
    answers = {"symptoms": ["fever"], "people": [{
        "person_id": named.id, "first_exposure": day, "last_exposure": day,
        "setting": "household"}]}
    bad = client.put(url, headers=headers, json={"answers": {
        "venues": [{"code": "NOPE", "day": day, "time_in": "10:00"}]}, "version": 0})
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["field"] == "venues.0.code"
    draft = client.put(url, headers=headers, json={"answers": answers, "version": 0})
    assert draft.status_code == 200 and draft.json()["status"] == "draft"
    assert client.put(url, headers=headers, json={"answers": answers, "version": 0}
                      ).status_code == 409  # stale
    done = client.put(url, headers=headers, json={"answers": answers, "version": 1,
                                                  "complete": True})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["outcome"]["named"] == 1
    assert session.scalar(select(Exposure.id).where(
        Exposure.source_case_id == case_id, Exposure.exposed_person_id == named.id,
        Exposure.origin == Origin.interview, Exposure.review == Review.proposed))
    other = seeded.chikan_case_ids[1]
    put = f"/api/v1/tracing/cases/{other}/infector"
    assert client.put(put, headers=headers, json={
        "infector_case_id": case_id, "reason": "同住", "version": 0}).status_code == 200
    loop = client.put(f"/api/v1/tracing/cases/{case_id}/infector", headers=headers, json={
        "infector_case_id": other, "reason": "反向", "version": 0})
    assert loop.status_code == 422
    assert loop.json()["error"]["problems"][0]["field"] == "infector_case_id"
    far = client.put(put, headers=headers, json={
        "infector_case_id": seeded.xiashan_case_ids[0], "reason": "跨区", "version": 1})
    assert far.status_code == 422
    assert client.get(put, headers=headers).json()["infector_case_id"] == case_id
