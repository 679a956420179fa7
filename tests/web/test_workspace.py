"""The workspace's forms over a real database: a case reported, its proposals reviewed, a
contact added, a community worker's day; and what every form must refuse (no CSRF token, a
stale form, a record outside the jurisdiction), with errors next to the field in the viewer's
language and what was typed kept."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.core.clock import utc_now
from fangkong.person.models import Person
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import Review
from fangkong.tracing.models import ContactEpisode, Exposure
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, XIASHAN, Seeded, seed
from tests.web.test_pages import form, sign_in


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def people_of(session: Session, code: str) -> list[Person]:
    return list(session.scalars(select(Person).where(Person.division_code.startswith(code))
                                .order_by(Person.id)))


def version_in(html: str, action: str) -> str:
    m = re.search(rf'action="{re.escape(action)}".*?name="version" value="([0-9a-f]+)"', html,
                  re.S)
    assert m, f"no version in the form {action}"
    return m.group(1)


def case_fields(person: Person, **over: str) -> dict[str, str]:
    return {"person": str(person.id), "ref": "WR-001", "classification": "confirmed",
            "severity": "mild", "reported_at": utc_now().strftime("%Y-%m-%dT%H:%M"),
            "onset_date": (utc_now() - timedelta(days=2)).date().isoformat(),
            "detection_mode": "fever_clinic", "owning_division_code": CHIKAN, **over}


def test_a_case_reported_and_its_household_reviewed(client: TestClient, session: Session,
                                                    seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    person = next(p for p in people_of(session, CHIKAN) if p.household_ref and not session.scalar(
        select(Case.id).where(Case.person_id == p.id)) and session.scalar(select(Person.id).where(
            Person.household_ref == p.household_ref, Person.id != p.id)))
    found = client.get("/report", params={"q": person.name}).text
    assert f"/report/case?person={person.id}" in found
    assert client.get(f"/report/case?person={person.id}").status_code == 200
    resp = client.post("/report/case", data=form(client, **case_fields(person)),
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    case = session.scalars(select(Case).where(Case.ref == "WR-001")).one()
    assert resp.headers["location"] == f"/cases/{case.id}/contacts?reported=1"
    assert case.person_id == person.id and case.owning_division_code == CHIKAN
    page = client.get(resp.headers["location"]).text
    assert "病例 WR-001 已报告" in page
    proposed = session.scalars(select(Exposure).where(
        Exposure.source_case_id == case.id, Exposure.review == Review.proposed)).all()
    assert proposed, "the household is proposed"
    for e in proposed:
        assert f'value="{e.id}"' in page
    # a rejection needs a reason: refused next to the field, the ticks kept
    fields = form(client, version=version_in(page, f"/cases/{case.id}/contacts/review"),
                  action="reject")
    bad = client.post(f"/cases/{case.id}/contacts/review",
                      data={**fields, "exposure": [str(proposed[0].id)]})
    assert bad.status_code == 422 and "否决时须填写理由" in bad.text
    assert f'id="e-{proposed[0].id}" name="exposure" value="{proposed[0].id}" checked' in bad.text
    ok = client.post(f"/cases/{case.id}/contacts/review",
                     data={**fields, "action": "confirm", "note": "同住",
                           "exposure": [str(e.id) for e in proposed]})
    assert ok.status_code == 200 and f"已处理 {len(proposed)} 条线索" in ok.text
    contacts = session.scalars(select(ContactEpisode).where(
        ContactEpisode.index_case_id == case.id)).all()
    assert {c.person_id for c in contacts} == {e.exposed_person_id for e in proposed}


def test_errors_are_shown_by_the_field_in_the_viewers_language_and_typed_kept(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    person = people_of(session, CHIKAN)[11]
    data = case_fields(person, ref="WR-KEEP", detection_mode="",
                       onset_date=(utc_now() + timedelta(days=3)).date().isoformat())
    resp = client.post("/report/case", data=form(client, **data))
    assert resp.status_code == 422
    assert re.search(r'id="f-detection_mode-err">必填<', resp.text)
    assert 'value="WR-KEEP"' in resp.text  # what was typed is kept
    assert session.scalar(select(Case.id).where(Case.ref == "WR-KEEP")) is None
    client.post("/prefs", data=form(client, lang="en", next="/report"))
    resp = client.post("/report/case", data=form(client, **data))
    assert re.search(r'id="f-detection_mode-err">required<', resp.text)
    # a service's own refusal, on its field: an owning division outside the jurisdiction
    resp = client.post("/report/case", data=form(client, **case_fields(
        person, ref="WR-OUT", owning_division_code=XIASHAN)))
    assert resp.status_code == 422
    assert re.search(r'id="f-owning_division_code-err">outside your jurisdiction<', resp.text)
    client.post("/prefs", data=form(client, lang="zh-Hant", next="/report"))
    resp = client.post("/report/case", data=form(client, **case_fields(
        person, ref="WR-OUT", owning_division_code=XIASHAN)))
    assert re.search(r'id="f-owning_division_code-err">超出您的轄區<', resp.text)


def test_possible_duplicates_are_offered_before_a_new_person(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    twin = people_of(session, CHIKAN)[0]
    fields = {"name": twin.name, "sex": "female", "birth_date": str(twin.birth_date),
              "division_code": twin.division_code, "address": "海滨路 1 号"}
    before = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1))
    resp = client.post("/report/person", data=form(client, **fields))
    assert resp.status_code == 409 and 'id="duplicates"' in resp.text
    assert f"/report/case?person={twin.id}" in resp.text
    assert 'value="海滨路 1 号"' in resp.text
    assert session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) == before
    made = client.post("/report/person", data=form(client, **fields, confirm_new="1"),
                       follow_redirects=False)
    assert made.status_code == 303
    new = session.scalars(select(Person).order_by(Person.id.desc()).limit(1)).one()
    assert made.headers["location"] == f"/report/case?person={new.id}"
    assert new.name == twin.name and new.address == "海滨路 1 号"


def test_a_contact_added_by_hand(client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    case_id = seeded.chikan_case_ids[0]
    other = people_of(session, CHIKAN)[11]
    day = utc_now().date().isoformat()
    bad = client.post(f"/cases/{case_id}/contacts/add", data=form(
        client, who="没有这个人", first_exposure=day, last_exposure=day, setting="workplace"))
    assert bad.status_code == 422 and "辖区内未找到此人" in bad.text
    assert 'value="没有这个人"' in bad.text
    early = (utc_now() - timedelta(days=2)).date().isoformat()
    bad = client.post(f"/cases/{case_id}/contacts/add", data=form(
        client, who=other.ref, first_exposure=day, last_exposure=early, setting="workplace"))
    assert bad.status_code == 422 and re.search(r'id="a-last_exposure-err">不能早于首次接触日期<',
                                                bad.text)
    ok = client.post(f"/cases/{case_id}/contacts/add", data=form(
        client, who=other.ref, first_exposure=early, last_exposure=day, setting="workplace",
        proximity="within_1m", reason="同事"))
    assert ok.status_code == 200 and f"已添加密接 {other.name}" in ok.text
    assert session.scalar(select(ContactEpisode.id).where(
        ContactEpisode.index_case_id == case_id, ContactEpisode.person_id == other.id))


def test_forms_without_the_csrf_token_are_refused(client: TestClient, session: Session,
                                                  seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    person = people_of(session, CHIKAN)[11]
    for path, data in (("/report/case", case_fields(person, ref="WR-CSRF")),
                       ("/report/person", {"name": "新人", "division_code": CHIKAN}),
                       (f"/cases/{seeded.chikan_case_ids[0]}/contacts/add",
                        {"who": person.ref, "first_exposure": "2026-01-01",
                         "last_exposure": "2026-01-01", "setting": "other"})):
        resp = client.post(path, data=data)
        assert resp.status_code == 403 and "出错了" in resp.text, path
    assert session.scalar(select(Case.id).where(Case.ref == "WR-CSRF")) is None
    assert session.scalar(select(Person.id).where(Person.name == "新人")) is None


def test_a_stale_review_is_refused_and_nothing_overwritten(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    case_id = seeded.chikan_case_ids[0]
    if not tracing.proposed_of(session, [case_id]):
        tracing.propose(session, actor=make_actor(), case_id=case_id)
    proposed = session.scalars(select(Exposure).where(
        Exposure.source_case_id == case_id, Exposure.review == Review.proposed)).all()
    assert proposed
    page = client.get(f"/cases/{case_id}/contacts").text
    stale = version_in(page, f"/cases/{case_id}/contacts/review")
    # meanwhile a colleague rejects the first one
    tracing.review(session, actor=make_actor(), exposure_id=proposed[0].id, confirm=False,
                   note="not living there")
    resp = client.post(f"/cases/{case_id}/contacts/review", data={**form(
        client, version=stale, action="confirm", note=""),
        "exposure": [str(e.id) for e in proposed]})
    assert resp.status_code == 409 and "已被他人修改" in resp.text
    session.expire_all()
    assert session.get(Exposure, proposed[0].id).review == Review.rejected  # type: ignore[union-attr]
    assert all(session.get(Exposure, e.id).review == Review.proposed  # type: ignore[union-attr]
               for e in proposed[1:])


def test_records_outside_the_jurisdiction_are_refused_as_missing(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    theirs = seeded.xiashan_case_ids[0]
    stranger = people_of(session, XIASHAN)[5]
    mine = people_of(session, CHIKAN)[11]
    assert client.get(f"/cases/{theirs}/contacts").status_code == 404
    assert client.get(f"/report/case?person={stranger.id}").status_code == 404
    assert client.post("/report/case", data=form(client, **case_fields(
        stranger, ref="WR-X"))).status_code == 404
    day = utc_now().date().isoformat()
    assert client.post(f"/cases/{theirs}/contacts/add", data=form(
        client, who=mine.ref, first_exposure=day, last_exposure=day,
        setting="other")).status_code == 404
    assert client.post(f"/cases/{theirs}/contacts/review", data={**form(
        client, version="0", action="confirm"), "exposure": ["1"]}).status_code == 404
    # a person of another jurisdiction is not found by name, ID number or phone
    assert f"person={stranger.id}" not in client.get("/report", params={"q": stranger.name}).text
    resp = client.post(f"/cases/{seeded.chikan_case_ids[0]}/contacts/add", data=form(
        client, who=stranger.ref, first_exposure=day, last_exposure=day, setting="other"))
    assert resp.status_code == 422 and "辖区内未找到此人" in resp.text
    assert session.scalar(select(Case.id).where(Case.ref == "WR-X")) is None
