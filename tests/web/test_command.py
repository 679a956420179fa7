"""The commander's actions in the browser's pages, over a real database: tasks assigned,
closed and cancelled; proposed zone changes approved and rejected; users added within the
jurisdiction and with no more rights; the overview's headline figures; and the exports of the
cases and tasks lists, which hold no row of another county."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.task.models import Task
from fangkong.user import service as users
from fangkong.user.models import User
from fangkong.user.schemas import UserCreate
from fangkong.zone.enums import ProposalStatus
from fangkong.zone.models import Zone, ZoneProposal
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, PASSWORD, XIASHAN, Seeded, seed


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def token(client: TestClient) -> str:
    if "fangkong_csrf" not in client.cookies:
        client.get("/login")
    return client.cookies["fangkong_csrf"]


def sign_in(client: TestClient, username: str) -> None:
    resp = client.post("/login", data={"username": username, "password": PASSWORD,
                                       "next": "/", "csrftoken": token(client)},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text


def version_of(html: str, task_id: int) -> str:
    m = re.search(rf'action="/tasks/{task_id}".*?name="version" value="([0-9a-f]+)"', html,
                  re.S)
    assert m, f"no form for task {task_id}"
    return m.group(1)


def chikan_tasks(session: Session) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.owning_division_code == CHIKAN)
                                .order_by(Task.id)))


# ---------------------------------------------------------------------------------- tasks


def test_a_commander_assigns_closes_and_cancels_tasks(client: TestClient, session: Session,
                                                      seeded: Seeded) -> None:
    sign_in(client, "wcity")
    epi = session.scalars(select(User).where(User.username == "wchikan")).one()
    first, second, third = chikan_tasks(session)[:3]
    board = client.get("/tasks").text
    resp = client.post(f"/tasks/{first.id}", data={
        "csrftoken": token(client), "version": version_of(board, first.id), "action": "assign",
        "assignee_id": str(epi.id), "note": "请今日内完成"})
    assert resp.status_code == 200 and "已保存" in resp.text
    session.refresh(first)
    assert first.assignee_id == epi.id and first.note == "请今日内完成"
    # closed (done): it leaves the board
    board = resp.text
    resp = client.post(f"/tasks/{second.id}", data={
        "csrftoken": token(client), "version": version_of(board, second.id), "action": "done"})
    assert resp.status_code == 200
    session.refresh(second)
    assert second.status.value == "done" and f'id="task-{second.id}"' not in resp.text
    # a cancellation says why: without a note the form comes back, the error by the note
    board = resp.text
    resp = client.post(f"/tasks/{third.id}", data={
        "csrftoken": token(client), "version": version_of(board, third.id), "action": "cancel",
        "note": ""})
    assert resp.status_code == 422
    assert f'id="n-{third.id}-note-err"' in resp.text and "必填" in resp.text
    session.refresh(third)
    assert third.status.value == "open"


def test_a_stale_task_form_is_refused_not_applied(client: TestClient, session: Session,
                                                  seeded: Seeded) -> None:
    sign_in(client, "wcity")
    task = chikan_tasks(session)[0]
    old = version_of(client.get("/tasks").text, task.id)
    epi = session.scalars(select(User).where(User.username == "wchikan")).one()
    fresh = client.post(f"/tasks/{task.id}", data={
        "csrftoken": token(client), "version": old, "action": "assign",
        "assignee_id": str(epi.id)})
    assert fresh.status_code == 200
    again = client.post(f"/tasks/{task.id}", data={  # the form shown before that change
        "csrftoken": token(client), "version": old, "action": "done"})
    assert again.status_code == 409 and "已被他人修改" in again.text
    session.refresh(task)
    assert task.status.value == "open"


def test_task_actions_stay_inside_the_jurisdiction(client: TestClient, session: Session,
                                                   seeded: Seeded) -> None:
    admin = make_actor()
    users.create_user(session, actor=admin, data=UserCreate(
        username="xs_epi", role=Role.epidemiologist, jurisdictions=[XIASHAN],
        password=PASSWORD))
    users.create_user(session, actor=admin, data=UserCreate(
        username="ck_cmd", role=Role.commander, jurisdictions=[CHIKAN], password=PASSWORD))
    session.flush()
    sign_in(client, "ck_cmd")
    other = session.scalars(select(Task).where(Task.owning_division_code == XIASHAN)).first()
    assert other is not None
    resp = client.post(f"/tasks/{other.id}", data={"csrftoken": token(client),
                                                   "version": "x", "action": "done"})
    assert resp.status_code == 404  # another county's task: as if there were none
    mine = chikan_tasks(session)[0]
    stranger = session.scalars(select(User).where(User.username == "xs_epi")).one()
    resp = client.post(f"/tasks/{mine.id}", data={
        "csrftoken": token(client), "version": version_of(client.get("/tasks").text, mine.id),
        "action": "assign", "assignee_id": str(stranger.id)})
    assert resp.status_code == 422 and f'id="a-{mine.id}-assignee_id-err"' in resp.text
    assert "不在您的辖区内" in resp.text
    # without the CSRF token nothing is done
    resp = client.post(f"/tasks/{mine.id}", data={"action": "done"})
    assert resp.status_code == 403
    session.refresh(mine)
    assert mine.status.value == "open" and mine.assignee_id is None


def test_the_board_pages_filters_and_summarises(client: TestClient, session: Session,
                                                seeded: Seeded) -> None:
    from fangkong.web.command import tasks as board

    sign_in(client, "wcity")
    old = board.PAGE_SIZE
    board.PAGE_SIZE = 2
    try:
        first = client.get("/tasks").text
        assert "第 1 页，共 2 页" in first and first.count('<tr class="overdue"') == 2
        second = client.get("/tasks?page=2").text
        assert "第 2 页，共 2 页" in second and second.count('id="task-') == 2
    finally:
        board.PAGE_SIZE = old
    by_type = client.get("/tasks?type=notify_contact").text
    assert 'id="task-' not in by_type
    summary = first.split('id="by-unit"')[1].split("</table>")[0]
    assert summary.count("<tr>") == 1 + 2  # head, then 赤坎区's and 霞山区's overdue
    assert summary.index("赤坎区") < summary.index("霞山区")  # the worst first (2 against 1)


# ---------------------------------------------------------------------------------- zones


def _proposal(session: Session, code: str) -> ZoneProposal:
    zone = session.scalars(select(Zone).where(Zone.owning_division_code == code)).one()
    proposal = ZoneProposal(zone_id=zone.id, proposed_on=date.today(), from_level="high",
                            to_level="medium", lift=False, status=ProposalStatus.pending,
                            reason="7 days without infection")
    session.add(proposal)
    session.flush()
    return proposal


def test_a_commander_approves_and_rejects_zone_proposals(client: TestClient, session: Session,
                                                         seeded: Seeded) -> None:
    up, down = _proposal(session, CHIKAN), _proposal(session, XIASHAN)
    sign_in(client, "wchikan")  # an epidemiologist sees the proposal, cannot decide it
    page = client.get("/zones").text
    assert f'id="proposal-{up.id}"' in page and "/approve" not in page
    resp = client.post(f"/zones/proposals/{up.id}/approve", data={"csrftoken": token(client)})
    assert resp.status_code == 403
    client.post("/logout", data={"csrftoken": token(client)})
    sign_in(client, "wcity")
    resp = client.post(f"/zones/proposals/{up.id}/approve",
                       data={"csrftoken": token(client), "j": "4408"})
    assert resp.status_code == 200 and f"建议 {up.id} 已批准" in resp.text
    session.refresh(up)
    zone = session.get(Zone, up.zone_id)
    assert up.status is ProposalStatus.applied and zone is not None and zone.level == "medium"
    resp = client.post(f"/zones/proposals/{down.id}/reject", data={"csrftoken": token(client)})
    assert resp.status_code == 200
    session.refresh(down)
    assert down.status is ProposalStatus.rejected
    again = client.post(f"/zones/proposals/{down.id}/approve", data={"csrftoken": token(client)})
    assert again.status_code == 409 and 'role="alert"' in again.text  # decided already


# ---------------------------------------------------------------------------------- users


def _add(client: TestClient, **fields: str) -> tuple[int, str]:
    resp = client.post("/users", data={"csrftoken": token(client), "display_name": "",
                                       "password": "a long enough passphrase 7", **fields})
    return resp.status_code, resp.text


def test_users_are_added_within_the_jurisdiction_and_rights(client: TestClient,
                                                            session: Session,
                                                            seeded: Seeded) -> None:
    users.create_user(session, actor=make_actor(), data=UserCreate(
        username="ck_cmd", role=Role.commander, jurisdictions=[CHIKAN], password=PASSWORD))
    session.flush()
    sign_in(client, "ck_cmd")
    page = client.get("/users").text
    assert 'value="administrator"' not in page  # a role with a right the commander lacks
    status, html = _add(client, username="ck_new", role="community_worker",
                        jurisdiction=CHIKAN + "001")
    assert status == 200 and "用户 ck_new 已创建" in html
    added = session.scalars(select(User).where(User.username == "ck_new")).one()
    assert added.role is Role.community_worker
    assert [g.division_code for g in added.grants] == [CHIKAN + "001"]
    # another county: refused, the error next to the jurisdiction, what was typed kept
    status, html = _add(client, username="ck_out", role="epidemiologist", jurisdiction=XIASHAN)
    assert status == 403 and 'id="u-jurisdiction-err"' in html and 'value="ck_out"' in html
    # more rights than one's own: refused next to the role
    status, html = _add(client, username="ck_admin", role="administrator",
                        jurisdiction=CHIKAN)
    assert status == 403 and 'id="u-role-err"' in html
    # a taken name, a weak password: next to their fields; the password is never sent back
    status, html = _add(client, username="ck_new", role="analyst", jurisdiction=CHIKAN)
    assert status == 409 and 'id="u-username-err"' in html
    status, html = _add(client, username="ck_weak", role="analyst", jurisdiction=CHIKAN,
                        password="short")
    assert status == 422 and 'id="u-password-err"' in html and "short" not in html
    assert session.scalars(select(User.username).where(User.username.in_(
        ["ck_out", "ck_admin", "ck_weak"]))).all() == []


def test_the_user_page_speaks_english_too(client: TestClient, session: Session,
                                          seeded: Seeded) -> None:
    sign_in(client, "wcity")
    client.post("/prefs", data={"csrftoken": token(client), "lang": "en", "next": "/users"})
    status, html = _add(client, username="x", role="analyst", jurisdiction=CHIKAN)
    assert status == 422 and 'id="u-username-err"' in html and "Not saved" in html


def test_the_api_refuses_a_user_with_more_rights(session: Session, seeded: Seeded) -> None:
    from fangkong.core.errors import Forbidden

    commander = make_actor(Role.commander, CHIKAN)
    with pytest.raises(Forbidden) as err:
        users.create_user(session, actor=commander, data=UserCreate(
            username="ck_admin2", role=Role.administrator, jurisdictions=[CHIKAN],
            password=PASSWORD))
    assert err.value.problems[0].field == "role"


# ------------------------------------------------------------------------------- exports


def _rows(resp: object, fmt: str) -> list[list[str]]:
    body = resp.content  # type: ignore[attr-defined]
    if fmt == "csv":
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(body), read_only=True)
    return [[str(c) if c is not None else "" for c in row]
            for row in book.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_hold_no_row_of_the_other_county(client: TestClient, session: Session,
                                                 seeded: Seeded, fmt: str) -> None:
    sign_in(client, "wchikan")
    resp = client.get(f"/export/cases?format={fmt}")
    assert resp.status_code == 200 and "attachment" in resp.headers["content-disposition"]
    rows = _rows(resp, fmt)
    refs = [r[0] for r in rows[1:]]
    assert len(refs) == 10 and all(r.startswith("WC") for r in refs)
    assert not {f"WC{n:03d}" for n in range(11, 15)} & set(refs)  # 霞山区's four
    assert all(r[-1].startswith(CHIKAN) for r in rows[1:])
    # the page's filters apply: today's community infections of 赤坎区
    today = client.get(f"/export/cases?format={fmt}&found=community&classification=infection"
                       f"&reported_from={date.today()}&reported_to={date.today()}")
    assert len(_rows(today, fmt)) - 1 <= 3
    tasks = _rows(client.get(f"/export/tasks?format={fmt}"), fmt)
    assert len(tasks) == 1 + 3 and not any("霞山" in "".join(r) for r in tasks)
    assert all(r[4] == CHIKAN for r in tasks[1:])
    assert client.get(f"/export/tasks?format={fmt}&division={XIASHAN}").status_code == 422
    assert client.get("/export/cases?format=pdf").status_code == 422


# ------------------------------------------------------------------------------ overview


def test_the_wall_shows_each_headline_with_its_change(client: TestClient, session: Session,
                                                      seeded: Seeded) -> None:
    sign_in(client, "wcity")
    html = client.get("/").text
    new = html.split('data-key="new"')[1].split("</li>")[0]
    # 9 infections today against 1 yesterday (赤坎区's case of a day ago)
    assert '>9</a>' in new and "较昨日 ▲ +8" in new
    overdue = html.split('data-key="overdue"')[1].split("</li>")[0]
    assert ">3</a>" in overdue
    groups = html.split('id="overdue-groups"')[1].split("</table>")[0]
    assert groups.index("赤坎区") < groups.index("霞山区")
    county = TestClient(client.app)
    sign_in(county, "wchikan")
    page = county.get("/").text
    assert page.count('<li class="tile ') == 8 and "示意图" in page  # 赤坎区's eight streets
    # the street of the high-risk zone is marked; its cases of 14 days are on its tile
    assert page.count("zone-high") == 1
    assert re.search(r'zone-high" data-code="440802001"', page)


def test_the_zones_page_pages_its_zones(client: TestClient, session: Session,
                                        seeded: Seeded) -> None:
    from fangkong.web.command import zones as page

    sign_in(client, "wcity")
    old = page.PAGE_SIZE
    page.PAGE_SIZE = 1
    try:
        first = client.get("/zones?j=4408").text
        second = client.get("/zones?j=4408&page=2").text
    finally:
        page.PAGE_SIZE = old
    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second
    rows = [re.findall(r'<tr id="z\d+">', html) for html in (first, second)]
    assert len(rows[0]) == len(rows[1]) == 1 and rows[0] != rows[1]
    assert "海滨花园" in first + second and "霞湖小区" in first + second


def test_the_walls_rt_is_the_latest_windows_not_an_older_one(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """When the latest window has too few cases, the Rt section says "—"; the wall must not
    show the last window that had enough (a figure weeks old read as today's)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from fangkong.core.auth import Perm
    from fangkong.web.command import wall
    from fangkong.web.sections import Figure, Section

    monkeypatch.setattr(wall, "_cases", lambda *a, **k: (0, "/cases"))
    monkeypatch.setattr(wall.tracing, "summary", lambda *a, **k: {"identified": 0})
    monkeypatch.setattr(wall.zones, "list_", lambda *a, **k: [])
    day = date(2026, 12, 8)
    ctx = SimpleNamespace(lang="zh-Hans", day=day, zone="Asia/Shanghai", session=None,
                          root=SimpleNamespace(code="440802"),
                          actor=SimpleNamespace(can=lambda p: p == Perm.case_read))
    old = [(day - timedelta(days=18)).isoformat(), (day - timedelta(days=17)).isoformat()]

    def rt(latest: float | None, x: list[str]) -> Section:
        return Section(key="rt", title="Rt", figures=[
            Figure("rt_median", "Rt", latest, "/rt", kind="ratio")],
            chart={"type": "line", "x": x, "y": [2.3, 1.24], "hrefs": ["/a", "/b"]})

    stale = {h.key: h for h in wall.headlines(ctx, {"rt": rt(None, old)})}  # type: ignore[arg-type]
    assert stale["kpi_rt"].value is None and stale["kpi_rt"].previous is None
    fresh = [(day - timedelta(days=1)).isoformat(), day.isoformat()]
    now = {h.key: h for h in wall.headlines(ctx, {"rt": rt(1.24, fresh)})}  # type: ignore[arg-type]
    assert now["kpi_rt"].value == 1.24 and now["kpi_rt"].previous == 2.3
