"""The community worker's workspace over a real database: the people of the jurisdiction
under management with today's tasks; a contact notified, a contact not reached, a sampling task
done; stale, out-of-jurisdiction and CSRF-less submissions refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.clock import utc_now
from fangkong.isolation import service as isolation
from fangkong.isolation.schemas import StayCreate
from fangkong.person.models import Person
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskUpdate
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import ContactStatus
from fangkong.tracing.models import ContactEpisode
from fangkong.tracing.schemas import ExposureCreate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, PASSWORD, XIASHAN, Seeded, seed
from tests.web.test_pages import form, sign_in
from tests.web.test_workspace import people_of, version_in


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def community_day(session: Session, seeded: Seeded) -> tuple[ContactEpisode, Task, Task]:
    """A community worker of 赤坎 (wgrid), a contact of a 赤坎 case to notify and a person
    quarantined at home with a sampling test, both tasks due (overdue) now; and a 霞山
    contact (outside)."""
    admin = make_actor()
    users.create_user(session, actor=admin, data=UserCreate(
        username="wgrid", role=Role.community_worker, jurisdictions=[CHIKAN],
        password=PASSWORD))
    chikan, xiashan = people_of(session, CHIKAN), people_of(session, XIASHAN)
    day = utc_now().date() - timedelta(days=1)

    def contact(case_id: int, person: Person) -> ContactEpisode:
        e = tracing.add_exposure(session, actor=admin, data=ExposureCreate(
            source_case_id=case_id, exposed_person_id=person.id, first_exposure=day,
            last_exposure=day, setting="workplace"))
        c = session.get(ContactEpisode, e.contact_id)
        assert c is not None
        return c

    mine = contact(seeded.chikan_case_ids[2], chikan[11])
    contact(seeded.xiashan_case_ids[0], xiashan[5])
    isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=chikan[9].ref, kind="quarantine",
        role="close_contact", anchor=day))
    notify = session.scalars(select(Task).where(
        Task.subject_type == "contact", Task.subject_id == mine.id,
        Task.type == "notify_contact")).one()
    sample = session.scalars(select(Task).where(Task.type == isolation.SAMPLING_TASK,
                                                Task.owning_division_code.startswith(CHIKAN))
                             .order_by(Task.due_at)).first()
    assert sample is not None
    for t in (notify, sample):
        tasks.update(session, actor=admin, task_id=t.id,
                     data=TaskUpdate(due_at=utc_now() - timedelta(hours=1)))
    session.flush()
    return mine, notify, sample


def test_a_community_workers_day(client: TestClient, session: Session,
                                 seeded: Seeded) -> None:
    contact, notify, sample = community_day(session, seeded)
    sign_in(client, "wgrid")
    page = client.get("/community").text
    person = session.get(Person, contact.person_id)
    assert person is not None and f'id="person-{person.id}"' in page
    assert f'id="task-{notify.id}"' in page and f'id="task-{sample.id}"' in page
    assert "霞山" not in page
    assert "隔离医学观察" in page  # the home quarantine's stay
    assert "isolation_sampling" not in page and "home" not in page  # names, not codes
    # a task's title names the card's person, not their internal id
    assert f"人员 {person.name}" in page and f"人员 {person.id}，" not in page
    later = session.scalars(select(Task.id).where(
        Task.type == isolation.SAMPLING_TASK, Task.due_at > utc_now() + timedelta(days=2))).all()
    assert later and not any(f'id="task-{k}"' in page for k in later)  # not due today
    # a missed contact needs what happened
    v = version_in(page, f"/community/contacts/{contact.id}/missed")
    bad = client.post(f"/community/contacts/{contact.id}/missed", data=form(client, version=v))
    assert bad.status_code == 422 and "必填" in bad.text
    ok = client.post(f"/community/contacts/{contact.id}/notified",
                     data=form(client, version=v))
    assert ok.status_code == 200 and f"已记录：{person.name}" in ok.text
    session.expire_all()
    assert session.get(ContactEpisode, contact.id).status == ContactStatus.notified  # type: ignore[union-attr]
    assert session.get(Task, notify.id).status.value == "done"  # type: ignore[union-attr]
    # the same (now stale) form again: refused, nothing moved twice
    again = client.post(f"/community/contacts/{contact.id}/missed",
                        data=form(client, version=v, note="不在家"))
    assert again.status_code == 409 and "已被他人修改" in again.text
    assert session.get(ContactEpisode, contact.id).status == ContactStatus.notified  # type: ignore[union-attr]
    page = client.get("/community").text
    v = version_in(page, f"/community/contacts/{contact.id}/missed")
    missed = client.post(f"/community/contacts/{contact.id}/missed",
                         data=form(client, version=v, note="电话无人接听"))
    assert missed.status_code == 200
    session.expire_all()
    assert session.get(ContactEpisode, contact.id).status == ContactStatus.lost_to_follow_up  # type: ignore[union-attr]
    # the sampling task marked done
    tv = version_in(page, f"/community/tasks/{sample.id}/done")
    done = client.post(f"/community/tasks/{sample.id}/done", data=form(client, version=tv))
    assert done.status_code == 200
    session.expire_all()
    assert session.get(Task, sample.id).status.value == "done"  # type: ignore[union-attr]
    stale = client.post(f"/community/tasks/{sample.id}/done", data=form(client, version=tv))
    assert stale.status_code == 409


def test_community_forms_refuse_outside_and_without_csrf(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    contact, _, _ = community_day(session, seeded)
    theirs = session.scalars(select(ContactEpisode).where(
        ContactEpisode.division_code.startswith(XIASHAN))).one()
    their_task = session.scalars(select(Task).where(
        Task.owning_division_code == XIASHAN)).first()
    assert their_task is not None
    sign_in(client, "wgrid")
    assert client.post(f"/community/contacts/{theirs.id}/notified",
                       data=form(client, version="x")).status_code == 404
    assert client.post(f"/community/tasks/{their_task.id}/done",
                       data=form(client, version="x")).status_code == 404
    page = client.get("/community").text
    v = version_in(page, f"/community/contacts/{contact.id}/notified")
    assert client.post(f"/community/contacts/{contact.id}/notified",
                       data={"version": v}).status_code == 403
    session.expire_all()
    assert session.get(ContactEpisode, contact.id).status == ContactStatus.identified  # type: ignore[union-attr]
    assert session.get(ContactEpisode, theirs.id).status == ContactStatus.identified  # type: ignore[union-attr]


def test_a_follow_up_records_only_notified_or_lost(session: Session, seeded: Seeded) -> None:
    """The service under the community's forms: a task writer (no case:write) may record a
    contact told or not reached, nothing else, and only in their jurisdiction."""
    from fangkong.core.errors import Invalid, NotFound
    from fangkong.tracing.schemas import StatusUpdate

    contact, _, _ = community_day(session, seeded)
    grid = make_actor(Role.community_worker, CHIKAN, name="wgrid")
    with pytest.raises(Invalid):
        tracing.follow_up(session, actor=grid, contact_id=contact.id,
                          data=StatusUpdate(status=ContactStatus.released))
    outsider = make_actor(Role.community_worker, XIASHAN, name="other")
    with pytest.raises(NotFound):
        tracing.follow_up(session, actor=outsider, contact_id=contact.id,
                          data=StatusUpdate(status=ContactStatus.notified))
    moved = tracing.follow_up(session, actor=grid, contact_id=contact.id,
                              data=StatusUpdate(status=ContactStatus.notified))
    assert moved.status == ContactStatus.notified
    assert [c.id for c in tracing.in_care(session, actor=outsider)] != [contact.id]
    assert contact.id in [c.id for c in tracing.in_care(session, actor=grid)]


def test_the_worklist_is_paged(
        client: TestClient, session: Session, seeded: Seeded,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One person per page: page 2 shows the other person, the forms of page 2 post their
    page back (the page shown after an action), a page past the end shows the last."""
    from fangkong.web.workspace import community

    community_day(session, seeded)
    monkeypatch.setattr(community, "PAGE_SIZE", 1)
    sign_in(client, "wgrid")
    first = client.get("/community")
    assert first.status_code == 200 and 'id="pager-top"' in first.text
    assert "第 1 / 2 页" in first.text and 'href="/community?page=2"' in first.text
    assert first.text.count('class="card person"') == 1
    second = client.get("/community?page=2")
    assert "第 2 / 2 页" in second.text and 'href="/community?page=1"' in second.text
    assert second.text.count('class="card person"') == 1
    shown = {t.split('"')[0] for t in (first.text + second.text).split('id="person-')[1:]}
    assert len(shown) == 2
    assert 'name="page" value="2"' in second.text
    assert "第 2 / 2 页" in client.get("/community?page=9").text
