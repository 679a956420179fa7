"""The workspace on a phone and offline: the web app manifest, the service worker, and the
endpoint that applies the entries made without a network.

- ``GET /manifest.webmanifest`` names the app in the reader's language (the ``lang`` the page
  links it with).
- ``GET /sw.js`` is ``web/static/sw.js``, served from the root so that its scope covers every
  page, its cache named after the static files it keeps (a new release replaces the cache).
  It keeps the pages a user opened (the day's list, the forms) and the static files; it never
  touches a POST.
- ``POST /sync`` (JSON, the page's CSRF token in ``X-CSRFToken``) applies one entry made on the
  device (``web/static/offline.js`` keeps them in IndexedDB until the network returns) through
  the same rules as the community's forms (:func:`~fangkong.web.workspace.community.
  record_follow_up`, :func:`~fangkong.web.workspace.community.close_task`). An entry carries
  the id the device gave it and the version of the record it was made against:

  - applied: 200 ``{"outcome": "applied"}``, its id kept (:class:`~fangkong.web.models.
    SyncEntry`) in the same transaction;
  - the same id again (a resend after a lost answer): 200 ``{"outcome": "already"}``, nothing
    applied twice;
  - the record changed on the server since: 409 ``{"outcome": "conflict", "theirs": ...,
    "version": ...}`` with the record as it is now, for the user to keep theirs (the entry is
    dropped on the device) or keep theirs' version and send the entry again against it ("keep
    mine");
  - refused by the rules, outside the jurisdiction (404, as a record that does not exist) or
    by role (403): ``{"outcome": "refused"}`` with the reason in the user's language.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from jinja2 import pass_context
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from fangkong.core.auth import Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import AppError
from fangkong.deps import DbSession
from fangkong.person import service as persons
from fangkong.task import service as tasks
from fangkong.task import titles
from fangkong.task.enums import LABELS as TASK_LABELS
from fangkong.tracing.enums import LABELS as TRACING_LABELS
from fangkong.web import i18n
from fangkong.web.auth import LANG_COOKIE, CurrentViewer, Viewer
from fangkong.web.models import SyncEntry
from fangkong.web.pages import templates
from fangkong.web.workspace import community, forms
from fangkong.web.workspace.common import router
from fangkong.web.workspace.forms import Stale
from fangkong.web.workspace.messages import OFF, W

STATIC = Path(__file__).resolve().parents[1] / "static"
# What the service worker keeps on install (the pages come as they are opened).
PRECACHE = ("/static/app.css", "/static/workspace.css", "/static/offline.css", "/static/app.js",
            "/static/offline-db.js", "/static/offline.js", "/static/favicon.svg",
            "/static/vendor/htmx.min.js", "/static/vendor/echarts.min.js")


def _release() -> str:
    """A token of this release's static files: the service worker's cache is named after it."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


RELEASE = _release()


@router.get("/sw.js")
def service_worker() -> Response:
    body = (STATIC / "sw.js").read_text("utf-8")
    body = body.replace("__RELEASE__", RELEASE).replace("__PRECACHE__", json.dumps(PRECACHE))
    return Response(body, media_type="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@router.get("/manifest.webmanifest")
def manifest(request: Request, lang: str | None = None) -> Response:
    chosen = i18n.lang_or_default(lang or request.cookies.get(LANG_COOKIE))
    body = {
        "name": i18n.translate("app", chosen), "short_name": i18n.translate("app", chosen),
        "description": OFF("description").render(chosen), "lang": chosen,
        "start_url": "/", "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#b3261e",
        "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml",
                   "purpose": "any"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


class Entry(BaseModel):
    """One entry made on the device."""

    entry: str = Field(min_length=8, max_length=36, pattern=r"^[0-9A-Za-z-]+$")
    kind: Literal["contact.notified", "contact.missed", "task.done"]
    target: int = Field(ge=1)
    version: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=500)
    made_at: datetime | None = None


def _answer(status: int, outcome: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"outcome": outcome, "message": message, **extra}, status_code=status)


def _refused(exc: AppError, lang: str) -> JSONResponse:
    state = forms.refused(exc, lang, {"note": ""})
    messages = [*state.general, *state.errors.values()]
    return _answer(exc.status_code, "refused", " ".join(messages) or exc.render(lang))


def _what(session: DbSession, viewer: Viewer, entry: Entry, record: Any) -> str:
    """What the entry recorded, in the viewer's words: the person and the outcome, the task."""
    if entry.kind == "task.done":
        return titles.render(record.title, record.title_key, record.title_params, viewer.lang)
    outcome = "community.notified" if entry.kind == "contact.notified" else "community.missed"
    found = persons.get_many(session, actor=viewer.actor, person_ids={record.person_id})
    name = found[record.person_id].name if record.person_id in found else ""
    return f"{name} · {W(outcome).render(viewer.lang)}"


def _conflict(viewer: Viewer, entry: Entry, record: Any, zone: str) -> JSONResponse:
    lang = viewer.lang
    if entry.kind == "task.done":
        theirs = OFF("theirs_task", status=i18n.label(TASK_LABELS, record.status.value, lang),
                     due=i18n.fmt_datetime(record.due_at, lang, zone)).render(lang)
        version = community.task_version(record)
    else:
        theirs = OFF("theirs_contact",
                     status=i18n.label(TRACING_LABELS, record.status.value, lang),
                     at=i18n.fmt_datetime(record.updated_at, lang, zone)).render(lang)
        version = community.contact_version(record)
    return _answer(409, "conflict", OFF("conflict", theirs=theirs).render(lang),
                   theirs=theirs, version=version)


def _apply(session: DbSession, viewer: Viewer, entry: Entry, seen: list[Any]) -> Any:
    """The entry through the rules of the form it stands for; the record it changed."""
    if entry.kind == "task.done":
        task = tasks.get(session, actor=viewer.actor, task_id=entry.target)  # 404 outside
        seen.append(task)
        community.close_task(session, viewer, task, entry.version)
        return task
    outcome = "notified" if entry.kind == "contact.notified" else "missed"
    return community.record_follow_up(session, viewer, entry.target, outcome,
                                      entry.note.strip(), entry.version, seen=seen.append)


@router.post("/sync")
async def sync(request: Request, viewer: CurrentViewer, session: DbSession) -> Response:
    """Apply one entry made offline (module docstring)."""
    lang = viewer.lang
    try:
        viewer.actor.require(Perm.task_write)  # the role first: refused before any lookup
    except AppError as exc:
        return _answer(exc.status_code, "refused", exc.render(lang))
    try:
        entry = Entry.model_validate(await request.json())
    except (ValidationError, ValueError):
        return _answer(422, "refused", OFF("bad_entry").render(lang))
    user_id = viewer.actor.user_id

    def known() -> Response | None:
        kept = session.get(SyncEntry, entry.entry)
        if kept is None:
            return None
        if (kept.user_id, kept.kind, kept.target_id) != (user_id, entry.kind, entry.target):
            return _answer(422, "refused", OFF("entry_taken").render(lang))
        return _answer(200, "already", OFF("already").render(lang))

    answer = known()
    if answer is not None:
        return answer
    seen: list[Any] = []
    try:
        with session.begin_nested():
            # the id first: a second copy sent at the same time waits here, then finds it
            session.add(SyncEntry(entry_id=entry.entry, user_id=user_id, kind=entry.kind,
                                  target_id=entry.target, made_at=entry.made_at,
                                  applied_at=utc_now()))
            session.flush()
            record = _apply(session, viewer, entry, seen)
    except IntegrityError:
        return known() or _answer(409, "refused", OFF("entry_taken").render(lang))
    except Stale:
        return _conflict(viewer, entry, seen[-1], request.app.state.settings.timezone)
    except AppError as exc:
        return _refused(exc, lang)
    what = _what(session, viewer, entry, record)
    return _answer(200, "applied", OFF("applied", what=what).render(lang))



# The words the page's script shows (offline.js), rendered into every signed-in page.
SCRIPT_TEXTS = ("queued", "pending", "sending", "conflict_tag", "refused_tag", "keep_mine",
                "keep_theirs", "discard", "kept_theirs", "sign_in", "needs_network")


def script_texts(lang: str) -> dict[str, str]:
    out = {key: OFF(key).render(lang) for key in SCRIPT_TEXTS}
    out["sent"] = OFF("sent", count="{count}").render(lang)
    out["made_at"] = OFF("made_at", at="{at}").render(lang)
    return out


@pass_context
def _off(context: Any, key: str) -> str:
    return OFF(key).render(context["lang"])


templates.env.globals.update(offline_texts=script_texts, off=_off)
