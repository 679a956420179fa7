"""The community worker's phone without a network (issue 20), in Debian's Chromium driven by
Playwright at 390 px: the day's list is shown from the service worker's copy when the page is
loaded offline; three entries are made offline (a contact notified, a sampling task done, a
contact not reached) and kept on the device across a reload; meanwhile someone else records the
third contact as notified on the server. The network returns: two entries are applied, the third
is a conflict shown to the user, who keeps theirs' version of the record and sends their entry
again ("keep mine"). The database then holds exactly the expected rows: each change once, the
three entries' ids kept. Screens in zh-Hans and en are written to artefacts/screens/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.web.browser import chromium, csp_checked_page, require_chromium, serving
from tests.web.seed import CHIKAN, PASSWORD
from tests.web.test_workspace_browser import OVERLAPS, SCREENS, WIDER, sign_in

require_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

expect.set_options(timeout=20_000)  # a busy two-core machine


@dataclass
class Day:
    username: str
    a: int  # contact to notify
    b: int  # contact not reached (changed on the server meanwhile)
    sample: int  # sampling task to mark done


def offline_day(session: Any, username: str, names: tuple[str, str, str]) -> Day:
    """A community worker of 赤坎 with two contacts of a 赤坎 case to follow and a person
    quarantined at home whose first sampling task is due now (three new persons)."""
    from fangkong.case.models import Case
    from fangkong.core.auth import Role
    from fangkong.core.clock import utc_now
    from fangkong.isolation import service as isolation
    from fangkong.isolation.schemas import StayCreate
    from fangkong.person import service as persons
    from fangkong.person.schemas import PersonCreate
    from fangkong.task import service as tasks
    from fangkong.task.models import Task
    from fangkong.task.schemas import TaskUpdate
    from fangkong.tracing import service as tracing
    from fangkong.tracing.schemas import ExposureCreate
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate
    from tests.conftest import make_actor

    admin = make_actor()
    users.create_user(session, actor=admin, data=UserCreate(
        username=username, role=Role.community_worker, jurisdictions=[CHIKAN],
        password=PASSWORD))
    people = [persons.create(session, actor=admin, data=PersonCreate(
        ref=f"{username}-{k}", name=name, division_code=CHIKAN + "001001"))
        for k, name in enumerate(names)]
    case_id = session.scalars(select(Case.id).where(Case.owning_division_code == CHIKAN)
                              .order_by(Case.id)).first()
    day = utc_now().date() - timedelta(days=1)
    contacts = [tracing.add_exposure(session, actor=admin, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=p.id, first_exposure=day,
        last_exposure=day, setting="workplace")).contact_id for p in people[:2]]
    last = session.scalar(select(func.max(Task.id))) or 0
    isolation.create_stay(session, actor=admin, data=StayCreate(
        person_ref=people[2].ref, kind="quarantine", role="close_contact", anchor=day))
    sample = session.scalars(select(Task).where(Task.type == isolation.SAMPLING_TASK,
                                                Task.id > last).order_by(Task.due_at)).first()
    assert sample is not None
    tasks.update(session, actor=admin, task_id=sample.id,
                 data=TaskUpdate(due_at=utc_now() - timedelta(hours=1)))
    session.flush()
    return Day(username, contacts[0], contacts[1], sample.id)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, dict[str, Day]]]:
    from fangkong.core.db import session_scope
    from tests.conftest import seeded_engine

    engine = seeded_engine("offb", tmp_path_factory.mktemp("offb"), prefix="F")
    with session_scope(engine) as session:
        days = {"zh-Hans": offline_day(session, "wphone", ("黄一", "黄二", "黄三")),
                "en": offline_day(session, "wphone_en", ("何一", "何二", "何三"))}
    with serving(engine) as url:
        yield url, engine, days


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(SCREENS) as b:
        yield b


def phone_screen(page: Page, name: str, lang: str) -> None:
    """The page at 390 px: nothing wider than the phone, no card over another; a screenshot."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, (
        name, page.evaluate(WIDER, 390))
    assert page.evaluate(OVERLAPS) == [], name
    page.screenshot(path=str(SCREENS / f"{name}-{lang}-390.png"), full_page=True)


ACTIVE = """() => Promise.race([navigator.serviceWorker.ready.then(() => true),
                                new Promise(done => setTimeout(() => done(false), 60000))])"""
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
KEPT_PAGE = """(lang) => caches.open('fangkong-pages')
  .then(c => c.match('/community')).then(r => r ? r.text() : '')
  .then(t => t.includes('<html lang="' + lang + '"'))"""


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_three_entries_made_offline_two_synced_one_conflict_resolved(
        browser: Browser, served: tuple[str, Any, dict[str, Day]], lang: str) -> None:
    from fangkong.core.db import session_scope
    from fangkong.task.models import Task, TaskEvent
    from fangkong.tracing import service as tracing
    from fangkong.tracing.enums import ContactStatus as S
    from fangkong.tracing.models import ContactEpisode, ContactStatusChange
    from fangkong.tracing.schemas import StatusUpdate
    from fangkong.user.models import User
    from fangkong.web.models import SyncEntry
    from fangkong.web.workspace.messages import OFF
    from tests.conftest import make_actor

    base_url, engine, days = served
    day = days[lang]
    with csp_checked_page(browser, viewport={"width": 390, "height": 844},
                          locale="zh-CN" if lang == "zh-Hans" else "en-GB",
                          is_mobile=True, has_touch=True) as page:
        context = page.context
        sign_in(page, base_url, day.username, lang, "/community")
        # the worker installed and active (at most a minute); a page opened after that is
        # under it (one opened while it was starting may not be) and its copy is kept
        assert page.evaluate(ACTIVE), "the service worker did not start"
        page.goto(base_url + "/community")
        page.wait_for_function(CONTROLLED, polling=100, timeout=60_000)
        page.wait_for_function(KEPT_PAGE, arg=lang, polling=100, timeout=60_000)
        expect(page.locator(f"#contact-{day.b} form[data-offline='contact.notified']")
               ).to_be_visible()

        context.set_offline(True)
        # meanwhile, on the server: the second contact told by someone else
        with session_scope(engine) as session:
            tracing.follow_up(session, actor=make_actor(), contact_id=day.b,
                              data=StatusUpdate(status=S.notified, note="by phone"))
        page.reload()  # without a network: the copy kept, as it was (B still to notify)
        expect(page.locator("#offline-banner")).to_be_visible()
        expect(page.locator(f"#contact-{day.b} form[data-offline='contact.notified']")
               ).to_be_visible()
        # three entries, without a network
        page.locator(f"#contact-{day.a} form[data-offline='contact.notified'] button").click()
        expect(page.locator("#offline-queue li.entry")).to_have_count(1)
        page.locator(f"#task-{day.sample} form[data-offline='task.done'] button").click()
        expect(page.locator("#offline-queue li.entry")).to_have_count(2)
        page.locator(f"#contact-{day.b} details summary").click()
        page.locator(f"#m-{day.b}").fill("不在家" if lang == "zh-Hans" else "not at home")
        page.locator(f"#contact-{day.b} form[data-offline='contact.missed'] "
                     "button[type=submit]").click()
        expect(page.locator("#offline-queue li.entry.pending")).to_have_count(3)
        expect(page.locator("#offline-status")).to_have_text(OFF("queued").render(lang))
        page.reload()  # still without a network: the entries are kept on the device
        expect(page.locator("#offline-queue li.entry.pending")).to_have_count(3)
        # the forms about a record with an entry waiting are off (one entry per record)
        expect(page.locator(f"#contact-{day.b} form.pending button")).to_have_count(2)
        expect(page.locator(f"#contact-{day.b} form button").first).to_be_disabled()
        expect(page.locator(f"#contact-{day.a} form.pending")).to_have_count(2)
        phone_screen(page, "offline-pending", lang)
        # a form no entry can be made from (the language chosen) says it needs the network
        page.locator("form.prefs button").click()
        expect(page.locator("form.prefs .needs-network")).to_have_text(
            OFF("needs_network").render(lang))
        with session_scope(engine) as session:  # nothing has reached the server
            assert session.get(ContactEpisode, day.a).status == S.identified  # type: ignore[union-attr]
            assert session.get(Task, day.sample).status.value == "open"  # type: ignore[union-attr]
            assert session.scalar(select(func.count()).select_from(SyncEntry).join(
                User, User.id == SyncEntry.user_id).where(User.username == day.username)) == 0

        context.set_offline(False)  # the network returns: sent at once
        expect(page.locator("#offline-status")).to_have_text(
            OFF("sent", count=2).render(lang))
        conflict = page.locator("#offline-queue li.entry.conflict")
        expect(conflict).to_have_count(1)
        expect(conflict).to_have_attribute("data-target", str(day.b))
        expect(conflict.locator(".why")).to_contain_text(
            "已被他人修改" if lang == "zh-Hans" else "someone else changed")
        phone_screen(page, "offline-conflict", lang)
        conflict.get_by_role("button", name=OFF("keep_mine").render(lang)).click()
        expect(page.locator("#offline-status")).to_have_text(
            OFF("sent", count=1).render(lang))
        expect(page.locator("#offline-queue li.entry")).to_have_count(0)
        phone_screen(page, "offline-synced", lang)

    with session_scope(engine) as session:  # exactly the expected rows
        def moves(contact_id: int) -> list[tuple[S, str]]:
            return [(r.to_status, r.by) for r in session.scalars(
                select(ContactStatusChange).where(ContactStatusChange.contact_id == contact_id)
                .order_by(ContactStatusChange.id))]

        assert moves(day.a) == [(S.identified, "tester"), (S.notified, day.username)]
        assert moves(day.b) == [(S.identified, "tester"), (S.notified, "tester"),
                                (S.lost_to_follow_up, day.username)]
        task = session.get(Task, day.sample)
        assert task is not None and task.status.value == "done"
        assert session.scalar(select(func.count()).select_from(TaskEvent).where(
            TaskEvent.task_id == day.sample, TaskEvent.kind == "status")) == 1
        kept = session.execute(select(SyncEntry.kind, SyncEntry.target_id).join(
            User, User.id == SyncEntry.user_id).where(User.username == day.username)).all()
        assert sorted(kept) == sorted([("contact.notified", day.a), ("task.done", day.sample),
                                       ("contact.missed", day.b)])
