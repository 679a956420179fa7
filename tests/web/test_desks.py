"""The testing officer's and the isolation officer's desks over a real database: a round
created, tubes issued, a samples file with a bad line refused whole (the line, field and
problem shown, nothing written) then taken, a positive pool followed to done, the unsampled
list exported (CSV, XLSX, the jurisdiction's persons only); a batch planned, changed by hand
and booked, a stay's tests recorded, the stay released, its return transfer dispatched and
closed; and what every form refuses (a wrong role first, a record outside the jurisdiction,
no CSRF token, a stale form), errors next to the field, what was typed kept."""

from __future__ import annotations

import html as html_lib
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.clock import utc_now
from fangkong.isolation.models import Stay, Transfer
from fangkong.testing.models import Round, Sample
from tests.web.desk_seed import TOWN, Desk, desk_day, people, results, samples
from tests.web.seed import CHIKAN, XIASHAN, seed
from tests.web.test_pages import form, sign_in


@pytest.fixture
def desk(session: Session) -> Desk:
    seed(session)
    return desk_day(session)


def upload(client: TestClient, path: str, name: str, data: bytes) -> object:
    return client.post(path, data=form(client), files={"file": (name, data, "text/csv")})


def version_of(html: str, action: str) -> str:
    m = re.search(rf'action="{re.escape(action)}".*?name="version" value="([0-9a-f]+)"', html,
                  re.S)
    assert m, f"no version in the form {action}"
    return m.group(1)


def new_round(client: TestClient, session: Session, name: str = "寸金全员第1轮") -> Round:
    start = utc_now() + timedelta(hours=8) - timedelta(hours=6)  # local (UTC+8) time, 6 h ago
    resp = client.post("/testing/desk/rounds", data={**form(
        client, name=name, start_at=start.strftime("%Y-%m-%dT%H:%M"),
        deadline_at=(start + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M")), "area": [TOWN]},
        follow_redirects=False)
    assert resp.status_code == 303, resp.text
    found = session.scalars(select(Round).where(Round.name == name)).one()
    assert resp.headers["location"].startswith(f"/testing/desk/rounds/{found.id}?created=")
    return found


def test_a_round_from_creation_to_the_positive_pool_done(client: TestClient, session: Session,
                                                         desk: Desk) -> None:
    sign_in(client, "wtest")
    assert "/testing/desk" in client.get("/testing/desk").text  # in the navigation
    # refused: no name, no area; the errors next to their fields, what was typed kept
    bad = client.post("/testing/desk/rounds", data=form(client, name="", series="寸金每日",
                                                        start_at="2026-12-01T08:00",
                                                        deadline_at="2026-12-01T07:00"))
    assert bad.status_code == 422
    assert re.search(r'id="r-name-err">必填<', bad.text)
    assert re.search(r'id="r-area-err">[^<]+<', bad.text)
    assert 'value="寸金每日"' in bad.text and 'value="2026-12-01T08:00"' in bad.text
    round_ = new_round(client, session)
    page = client.get(f"/testing/desk/rounds/{round_.id}?created={round_.target_count}").text
    assert "轮次“寸金全员第1轮”已创建：应检 6 人" in page
    # tubes
    done = client.post(f"/testing/desk/rounds/{round_.id}/tubes", data=form(
        client, barcodes="DKP1\nDKS1\n\nDKS2\nDKS3", capacity="10"))
    assert done.status_code == 200 and "已发放 4 支采样管" in done.text
    # a samples file with one bad line: refused whole, the line shown, nothing written
    t0 = utc_now() - timedelta(hours=3)
    bad_file = samples([("DKP1", desk.refs[0], t0), ("DKP1", "NOBODY", t0),
                        ("DKP1", desk.refs[2], t0)])
    refused = upload(client, f"/testing/desk/rounds/{round_.id}/samples", "s1.csv", bad_file)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    row = re.search(r'<table class="data stack file-problems" id="samples-problems">.*?</table>',
                    text, re.S)
    assert row, text
    assert re.search(r"<td[^>]*>s1\.csv</td><th[^>]*>3</th><td[^>]*><code>person_ref</code>"
                     r"</td><td[^>]*>辖区内没有编号为 NOBODY 的人员</td>", row.group(0))
    assert session.scalar(select(func.count()).select_from(Sample).where(
        Sample.round_id == round_.id)) == 0
    ok = upload(client, f"/testing/desk/rounds/{round_.id}/samples", "s2.csv", samples(
        [("DKP1", r, t0) for r in desk.refs[:3]]))
    assert ok.status_code == 200 and "s2.csv：3 行，新增 3 条" in ok.text  # type: ignore[attr-defined]
    # the pool positive: three members to re-test
    lab = str(desk.lab_id)
    res = upload(client, "/testing/desk/results", "r1.csv",
                 results([("DKP1", "positive", t0 + timedelta(minutes=30))], lab))
    assert res.status_code == 200, res.text  # type: ignore[attr-defined]
    assert "阳性管 1 支，新开复核 1 起" in res.text  # type: ignore[attr-defined]

    def stage(html: str, name: str) -> str:
        m = re.search(rf'<section class="stage stage-{name}".*?</section>', html, re.S)
        assert m
        return m.group(0)

    page = client.get(f"/testing/desk/rounds/{round_.id}").text
    assert 'id="pool-DKP1"' in stage(page, "positive")
    # one member re-tested negative: the pool is being re-tested
    t1 = t0 + timedelta(minutes=40)
    upload(client, f"/testing/desk/rounds/{round_.id}/samples", "s3.csv",
           samples([("DKS1", desk.refs[0], t1)]))
    upload(client, "/testing/desk/results", "r2.csv",
           results([("DKS1", "negative", t1 + timedelta(minutes=20))], lab))
    page = client.get(f"/testing/desk/rounds/{round_.id}").text
    assert 'id="pool-DKP1"' in stage(page, "retest")
    # the other two: done, released
    s4 = upload(client, f"/testing/desk/rounds/{round_.id}/samples", "s4.csv", samples(
        [("DKS2", desk.refs[1], t1), ("DKS3", desk.refs[2], t1)]))
    assert s4.status_code == 200, s4.text  # type: ignore[attr-defined]
    r3 = upload(client, "/testing/desk/results", "r3.csv", results(
        [("DKS2", "negative", t1 + timedelta(minutes=25)),
         ("DKS3", "negative", t1 + timedelta(minutes=25))], lab))
    assert r3.status_code == 200, r3.text  # type: ignore[attr-defined]
    page = client.get("/testing/desk").text
    assert 'id="pool-DKP1"' in stage(page, "done") and "已解除" in stage(page, "done")
    # the unsampled list: the three never sampled, 赤坎's only (the round is 寸金's)
    csv_text = client.get(f"/testing/desk/rounds/{round_.id}/unsampled?format=csv")
    assert csv_text.headers["content-type"].startswith("text/csv")
    lines = csv_text.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "人员编号,名称,所在区划,户号"
    assert sorted(line.split(",")[0] for line in lines[1:]) == desk.refs[3:]
    xlsx = client.get(f"/testing/desk/rounds/{round_.id}/unsampled?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == desk.refs[3:]


def test_a_lab_and_a_point_registered_with_errors_by_field(client: TestClient, desk: Desk
                                                           ) -> None:
    sign_in(client, "wtest")
    bad = client.post("/testing/desk/points", data=form(
        client, code="PT-CJ", name="寸金采样点", division_code=XIASHAN, samplers="x",
        opens="08:00", closes="20:00"))
    assert bad.status_code == 422
    assert re.search(r'id="p-samplers-err">应为数字<', bad.text)
    assert 'value="寸金采样点"' in bad.text
    out = client.post("/testing/desk/points", data=form(
        client, code="PT-CJ", name="寸金采样点", division_code=XIASHAN, samplers="4",
        opens="08:00", closes="20:00"))
    assert out.status_code == 422 and re.search(r'id="p-division_code-err">', out.text)
    ok = client.post("/testing/desk/points", data=form(
        client, code="PT-CJ", name="寸金采样点", division_code=TOWN, samplers="4",
        opens="08:00", closes="20:00"))
    assert ok.status_code == 200 and "采样点 PT-CJ 已登记" in ok.text
    lab = client.post("/testing/desk/labs", data=form(
        client, code="LAB-CJ", name="寸金实验室", division_code=CHIKAN, daily_capacity="500"))
    assert lab.status_code == 200 and "实验室 LAB-CJ 已登记" in lab.text
    again = client.post("/testing/desk/labs", data=form(
        client, code="LAB-CJ", name="寸金实验室", division_code=CHIKAN, daily_capacity="500"))
    assert again.status_code == 409 and re.search(r'id="l-code-err">', again.text)


def test_a_person_isolated_tested_released_and_brought_home(client: TestClient,
                                                            session: Session,
                                                            desk: Desk) -> None:
    sign_in(client, "wiso")
    home = client.get("/isolation/desk").text
    assert "寸金酒店" in home and "霞山驿站" not in home
    anchor = (utc_now() + timedelta(hours=8)).date() - timedelta(days=8)
    batch = people([(desk.refs[3], "close_contact"), (desk.refs[4], "close_contact")])
    # a bad line: refused with its line and field
    bad = client.post("/isolation/desk/batch/plan", data=form(
        client, people_text=batch + "DK999,,nobody,,110,21,\n", anchor=anchor.isoformat()))
    assert bad.status_code == 422
    assert re.search(r"<th[^>]*>4</th><td[^>]*><code>role</code>", bad.text)
    plan = client.post("/isolation/desk/batch/plan", data=form(
        client, people_text=batch, anchor=anchor.isoformat()))
    assert plan.status_code == 200, plan.text
    chosen = re.findall(r'<select id="place-(\d)" name="place-\d".*?<option value="([^"]+)" '
                        r"selected>", plan.text, re.S)
    assert [k for k, _ in chosen] == ["0", "1"]
    assert all(v.startswith(f"{desk.site_id}:") for _, v in chosen)
    # changed by hand: the second person to room 601, whatever the plan said
    rooms = dict(re.findall(rf'<option value="({desk.site_id}:\d+)"[^>]*>寸金酒店 · (\d+)',
                            plan.text))
    by_label = {label: value for value, label in rooms.items()}
    fields = {k: v for k, v in re.findall(
        r'<input type="hidden" name="(people|anchor|start_date|planned_end)" value="([^"]*)"',
        plan.text)}
    fields = {k: html_lib.unescape(v) for k, v in fields.items()}
    booked = client.post("/isolation/desk/batch/book", data=form(
        client, **fields, **{"place-0": chosen[0][1], "place-1": by_label["601"]}),
        follow_redirects=False)
    assert booked.status_code == 303, booked.text
    assert "已预订 2 人" in client.get(booked.headers["location"]).text
    stays = session.scalars(select(Stay).where(Stay.site_id == desk.site_id)
                            .order_by(Stay.id)).all()
    assert len(stays) == 2 and stays[1].room_id == int(by_label["601"].split(":")[1])
    # booking the same rooms again is refused by the service, the choices kept
    again = client.post("/isolation/desk/batch/book", data=form(
        client, **fields, **{"place-0": chosen[0][1], "place-1": by_label["601"]}))
    assert again.status_code in (409, 422)
    assert re.search(r'<option value="' + by_label["601"] + '" selected', again.text)
    stay = stays[0]
    site_page = client.get(f"/isolation/desk/sites/{desk.site_id}").text
    assert f"/isolation/desk/stays/{stay.id}" in site_page
    # tests: each negative; a stale form (the page before a result) refused
    page = client.get(f"/isolation/desk/stays/{stay.id}").text
    old = version_of(page, f"/isolation/desk/stays/{stay.id}/tests")
    days = re.findall(r'name="test_date" value="([\d-]+)"', page)
    assert len(days) == 5
    for day in days:
        page = client.post(f"/isolation/desk/stays/{stay.id}/tests", data=form(
            client, version=version_of(page, f"/isolation/desk/stays/{stay.id}/tests"),
            test_date=day, result="negative")).text
        assert "的结果：阴性" in page
    stale = client.post(f"/isolation/desk/stays/{stay.id}/tests", data=form(
        client, version=old, test_date=days[0], result="positive"))
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    # released: the next phase at home and the way back
    today = (utc_now() + timedelta(hours=8)).date()
    out = client.post(f"/isolation/desk/stays/{stay.id}/release", data=form(
        client, version=version_of(page, f"/isolation/desk/stays/{stay.id}/release"),
        on=today.isoformat()))
    assert out.status_code == 200, out.text
    assert "解除隔离" in out.text and "已生成转运" in out.text
    session.expire_all()
    back = session.scalars(select(Transfer).where(Transfer.person_id == stay.person_id)).one()
    # the transfer dispatched on the bus, then closed on arrival
    page = client.get("/isolation/desk/transfers").text
    assert f'id="tr-{back.id}"' in page
    now = (utc_now() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    none = client.post("/isolation/desk/transfers/dispatch", data=form(
        client, vehicle_id=str(desk.bus_id), at=now))
    assert none.status_code == 422 and "请至少勾选一项" in none.text
    sent = client.post("/isolation/desk/transfers/dispatch", data={**form(
        client, vehicle_id=str(desk.bus_id), at=now), "transfer": [str(back.id)]})
    assert sent.status_code == 200 and "已派车：1 人上车" in sent.text
    action = f"/isolation/desk/transfers/{back.id}/arrival"
    arrived = client.post(action, data=form(client, version=version_of(sent.text, action),
                                            at=now))
    assert arrived.status_code == 200 and f"转运 #{back.id} 已到达" in arrived.text
    session.expire_all()
    assert session.get(Transfer, back.id).status.value == "arrived"  # type: ignore[union-attr]


def test_roles_jurisdiction_and_csrf(client: TestClient, session: Session, desk: Desk) -> None:
    sign_in(client, "wchikan")  # an epidemiologist: neither desk
    for path in ("/testing/desk", "/isolation/desk", f"/isolation/desk/sites/{desk.site_id}"):
        assert client.get(path).status_code == 403
    assert client.post("/isolation/desk/transfers/dispatch",
                       data=form(client)).status_code == 403
    client.cookies.clear()
    sign_in(client, "wiso")
    assert client.get(f"/isolation/desk/sites/{desk.outside_site_id}").status_code == 404
    assert "/testing/desk" not in client.get("/isolation/desk").text  # not in its navigation
    no_token = client.post("/isolation/desk/transfers/dispatch",
                           data={"vehicle_id": str(desk.bus_id)})
    assert no_token.status_code == 403
    # a multipart form (a file upload) without its token, or with the file before it
    upload_file = ("people.csv", people([(desk.refs[0], "close_contact")]).encode(), "text/csv")
    assert client.post("/isolation/desk/batch/plan",
                       files={"file": upload_file}).status_code == 403
    token = form(client)["csrftoken"]
    assert client.post("/isolation/desk/batch/plan", files=[
        ("file", upload_file), ("csrftoken", (None, token))]).status_code == 403
    assert client.post("/isolation/desk/batch/plan", files=[
        ("csrftoken", (None, token)), ("file", upload_file)]).status_code == 422  # no anchor
    request = client.post("/isolation/desk/transfers/request", data=form(
        client, who=desk.refs[5], to_site_id=str(desk.outside_site_id),
        passenger_class="contact", clock_start="2026-12-01T08:00"))
    assert request.status_code == 404  # the 霞山 site is not one of 赤坎's
    assert session.scalar(select(func.count()).select_from(Transfer)) == 0
