"""A task's history is stored in English (what the platform and migrations 0024 and 0031
wrote) and read back in the reader's language: the API gives each note in zh-Hans, zh-Hant or
en per Accept-Language; a person's own note stays as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

import fangkong
from fangkong.core.auth import Actor
from fangkong.core.messages import fields_of
from fangkong.task.api import _read
from fangkong.task.messages import H, history_note
from fangkong.task.schemas import TaskDetail
from fangkong.tracing.enums import ContactStatus
from tests.task.test_ending_events import _contact, _status, _tasks, people  # noqa: F401
from tests.tracing.helpers import confirmed_case
from tests.tracing.test_contacts import clock  # noqa: F401  (the platform's clock, autouse)

ENGLISH = re.compile(r"[A-Za-z]{2,}")


def _migration(name: str) -> Any:
    path = Path(fangkong.__file__).parent / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_what_migrations_wrote_reads_in_chinese() -> None:
    notes = [f"{status}: {reason}" for status, reason, _ in
             _migration("0024_task_ending_events.py").ENDED_ALREADY]
    notes.append(_migration("0031_unmanaged_contact_tasks.py").REASON)
    for note in notes:
        text = history_note(note)
        assert not isinstance(text, str), note
        assert str(text) == note
        for lang in ("zh-Hans", "zh-Hant"):
            assert not ENGLISH.findall(text.render(lang)), (lang, text.render(lang))


def test_every_reason_reads_back_as_itself() -> None:
    """Each reason template, filled, is read back as the same message (no template swallows
    another's text)."""
    for key, texts in H.entries.items():
        if not key.startswith("reason."):
            continue
        params = {name: f"{name}7" for name in fields_of(texts["en"])}
        note = f"done: contact.notified ({H(key, **params)})"
        text = history_note(note)
        assert text is not None and not isinstance(text, str)
        assert text.params["reason"].key == key, (key, text.params["reason"].key)
        assert str(text) == note


def test_a_persons_note_stays_as_written() -> None:
    assert history_note("called twice, no answer") == "called twice, no answer"
    assert history_note(None) is None


@pytest.mark.parametrize(("lang", "note"), [
    ("en", "done: contact.notified (contact notified)"),
    ("zh-Hans", "已办结：密接已通知（密接已通知）"),
    ("zh-Hant", "已辦結：密接已通知（密接已通知）"),
])
def test_the_api_gives_a_tasks_history_in_the_readers_language(
        session: Session, admin: Actor, people: list[Any],  # noqa: F811
        lang: str, note: str) -> None:
    """A real event ends the task; the API's reading of it (the clock is the platform's, in
    2022, so no token is signed here: the route passes Accept-Language's language on)."""
    case_id = confirmed_case(session, admin, people[0], ref="LANGC1")
    contact = _contact(session, admin, case_id, people[3])
    _status(session, admin, contact, ContactStatus.notified)
    task = _tasks(session, "contact", contact)["notify_contact"]
    read = _read(task, detail=True, lang=lang)
    assert isinstance(read, TaskDetail) and read.events[-1].detail == note
