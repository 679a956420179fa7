"""The sync endpoint (POST /sync) that applies the entries a community worker made without a
network: one entry applied once however often it is sent, an entry made against a record that
changed since answered as a conflict (nothing applied) until the user keeps theirs or sends it
again against the record as it is now, the forms' rules (a note for a missed contact), and
refused without the CSRF token, for a role that may not, and outside the jurisdiction (as a
record that does not exist) with nothing written. Also the service worker and the manifest."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.clock import utc_now
from fangkong.task import service as tasks
from fangkong.task.models import Task
from fangkong.task.schemas import TaskUpdate
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import ContactStatus
from fangkong.tracing.models import ContactEpisode, ContactStatusChange
from fangkong.tracing.schemas import StatusUpdate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from fangkong.web.models import SyncEntry
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, PASSWORD, XIASHAN, Seeded, seed
from tests.web.test_community import community_day
from tests.web.test_pages import form, sign_in
from tests.web.test_workspace import version_in


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def send(client: TestClient, entry: dict[str, Any], *, csrf: bool = True) -> Response:
    token = form(client)["csrftoken"]
    return client.post("/sync", json=entry, headers={"X-CSRFToken": token} if csrf else {})


def entry(kind: str, target: int, version: str, note: str = "",
          entry_id: str | None = None) -> dict[str, Any]:
    return {"entry": entry_id or str(uuid.uuid4()), "kind": kind, "target": target,
            "version": version, "note": note, "made_at": utc_now().isoformat()}


def history(session: Session, contact_id: int) -> list[ContactStatus]:
    session.expire_all()
    return list(session.scalars(select(ContactStatusChange.to_status).where(
        ContactStatusChange.contact_id == contact_id).order_by(ContactStatusChange.id)))


def kept(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SyncEntry)) or 0


def test_an_entry_is_applied_once_however_often_it_is_sent(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    contact, notify, sample = community_day(session, seeded)
    sign_in(client, "wgrid")
    page = client.get("/community").text
    before = history(session, contact.id)
    sent = entry("contact.notified", contact.id,
                 version_in(page, f"/community/contacts/{contact.id}/notified"))
    first = send(client, sent)
    assert first.status_code == 200 and first.json()["outcome"] == "applied", first.text
    assert "已上传" in first.json()["message"]
    assert history(session, contact.id) == [*before, ContactStatus.notified]
    assert session.get(Task, notify.id).status.value == "done"  # type: ignore[union-attr]
    # the answer was lost: the device sends the entry again, and again
    for _ in range(2):
        again = send(client, sent)
        assert again.status_code == 200 and again.json()["outcome"] == "already", again.text
    assert history(session, contact.id) == [*before, ContactStatus.notified]
    assert kept(session) == 1
    # the same id for something else is refused, not taken as a resend
    other = {**sent, "kind": "task.done", "target": sample.id}
    taken = send(client, other)
    assert taken.status_code == 422 and taken.json()["outcome"] == "refused"
    session.expire_all()
    assert session.get(Task, sample.id).status.value == "open"  # type: ignore[union-attr]
    # a task done offline, sent twice
    done = entry("task.done", sample.id, version_in(page, f"/community/tasks/{sample.id}/done"))
    assert send(client, done).json()["outcome"] == "applied"
    assert send(client, done).json()["outcome"] == "already"
    session.expire_all()
    assert session.get(Task, sample.id).status.value == "done"  # type: ignore[union-attr]
    assert kept(session) == 2


def test_a_record_changed_meanwhile_is_a_conflict_until_resolved(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    contact, _, sample = community_day(session, seeded)
    sign_in(client, "wgrid")
    page = client.get("/community").text
    missed = entry("contact.missed", contact.id,
                   version_in(page, f"/community/contacts/{contact.id}/missed"), note="不在家")
    done = entry("task.done", sample.id, version_in(page, f"/community/tasks/{sample.id}/done"))
    # meanwhile, on the server: the contact told by phone, the sampling task moved
    admin = make_actor()
    tracing.follow_up(session, actor=admin, contact_id=contact.id,
                      data=StatusUpdate(status=ContactStatus.notified))
    tasks.update(session, actor=admin, task_id=sample.id,
                 data=TaskUpdate(due_at=utc_now() + timedelta(hours=3)))
    session.flush()
    before = history(session, contact.id)
    clash = send(client, missed)
    assert clash.status_code == 409, clash.text
    body = clash.json()
    assert body["outcome"] == "conflict" and "已通知" in body["theirs"]
    assert "已被他人修改" in body["message"] and body["version"] != missed["version"]
    assert history(session, contact.id) == before and kept(session) == 0
    task_clash = send(client, done)
    assert task_clash.status_code == 409 and "待办" in task_clash.json()["theirs"]
    session.expire_all()
    assert session.get(Task, sample.id).status.value == "open"  # type: ignore[union-attr]
    # sent again unchanged: still a conflict (never applied by a mere resend)
    assert send(client, missed).status_code == 409
    # "keep mine": the same entry against the record as it is now
    mine = send(client, {**missed, "version": body["version"]})
    assert mine.status_code == 200 and mine.json()["outcome"] == "applied", mine.text
    assert history(session, contact.id) == [*before, ContactStatus.lost_to_follow_up]
    assert send(client, {**missed, "version": body["version"]}).json()["outcome"] == "already"
    # "keep theirs" sends nothing: the task stays as the server has it
    assert kept(session) == 1


def test_the_entries_follow_the_forms_rules(client: TestClient, session: Session,
                                            seeded: Seeded) -> None:
    contact, _, _ = community_day(session, seeded)
    client.cookies.set("fangkong_lang", "en")
    sign_in(client, "wgrid")
    page = client.get("/community").text
    v = version_in(page, f"/community/contacts/{contact.id}/missed")
    bare = send(client, entry("contact.missed", contact.id, v))
    assert bare.status_code == 422 and bare.json()["outcome"] == "refused"
    assert "required" in bare.json()["message"] or "必填" in bare.json()["message"]
    broken = send(client, {"entry": "x", "kind": "contact.released", "target": contact.id})
    assert broken.status_code == 422 and broken.json()["outcome"] == "refused"
    assert history(session, contact.id)[-1] == ContactStatus.identified
    assert kept(session) == 0


def test_sync_refuses_without_csrf_by_role_and_outside(
        client: TestClient, session: Session, seeded: Seeded) -> None:
    from fangkong.web.workspace.community import contact_version, task_version

    contact, _, _ = community_day(session, seeded)
    theirs = session.scalars(select(ContactEpisode).where(
        ContactEpisode.division_code.startswith(XIASHAN))).one()
    their_task = session.scalars(select(Task).where(
        Task.owning_division_code.startswith(XIASHAN),
        Task.status == "open")).first()
    assert their_task is not None
    users.create_user(session, actor=make_actor(), data=UserCreate(
        username="reader", role=Role.analyst, jurisdictions=[CHIKAN], password=PASSWORD))
    session.flush()
    sign_in(client, "wgrid")
    page = client.get("/community").text
    mine = entry("contact.notified", contact.id,
                 version_in(page, f"/community/contacts/{contact.id}/notified"))
    # no CSRF token: refused before anything is read
    assert send(client, mine, csrf=False).status_code == 403
    # the other county's contact and task, with their right versions: as if they did not exist
    outside = send(client, entry("contact.notified", theirs.id, contact_version(theirs)))
    assert outside.status_code == 404 and outside.json()["outcome"] == "refused"
    assert str(theirs.person_id) not in outside.text
    away = send(client, entry("task.done", their_task.id, task_version(their_task)))
    assert away.status_code == 404 and away.json()["outcome"] == "refused"
    session.expire_all()
    assert session.get(ContactEpisode, theirs.id).status == ContactStatus.identified  # type: ignore[union-attr]
    assert session.get(Task, their_task.id).status.value == "open"  # type: ignore[union-attr]
    assert kept(session) == 0
    # a role that does not do follow-ups (an analyst): 403, even for a record it could see
    client.post("/logout", data=form(client))
    sign_in(client, "reader")
    refused = send(client, mine)
    assert refused.status_code == 403 and refused.json()["outcome"] == "refused"
    session.expire_all()
    assert session.get(ContactEpisode, contact.id).status == ContactStatus.identified  # type: ignore[union-attr]
    assert kept(session) == 0


def test_service_worker_and_manifest(client: TestClient, session: Session,
                                     seeded: Seeded) -> None:
    """The worker served from the root with every file it keeps on install (one missing would
    fail its install); the manifest in each language; the pages link them, with the script's
    words in the reader's language and the forms an entry can be made from marked."""
    import html
    import json
    import re

    from fangkong.web.workspace.sync import PRECACHE

    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/"
    assert "__RELEASE__" not in sw.text and "/static/offline.js" in sw.text
    assert "'self'" in sw.headers["content-security-policy"]
    for lang, name in (("zh-Hans", "防控指挥平台"), ("en", "Fangkong command")):
        got = client.get("/manifest.webmanifest", params={"lang": lang})
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("application/manifest+json")
        body = got.json()
        assert body["name"] == name and body["lang"] == lang and body["scope"] == "/"
        assert body["start_url"] == "/" and body["display"] == "standalone"
        assert client.get(body["icons"][0]["src"]).status_code == 200
    for path in PRECACHE:
        assert client.get(path).status_code == 200, path
    contact, _, sample = community_day(session, seeded)
    sign_in(client, "wgrid")
    page = client.get("/community").text
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=zh-Hans">' in page
    assert '<script src="/static/offline.js"></script>' in page
    found = re.search(r'id="offline-texts" hidden data-user="wgrid" data-texts="([^"]+)"', page)
    assert found, "the script's words are not in the page"
    words = json.loads(html.unescape(found.group(1)))
    assert words["keep_mine"] == "保留我的记录" and words["sent"] == "已上传 {count} 条记录。"
    for kind, target in (("contact.notified", contact.id), ("contact.missed", contact.id),
                         ("task.done", sample.id)):
        assert f'data-offline="{kind}" data-target="{target}"' in page
