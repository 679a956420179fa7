"""The epidemiologist's 流调 interview of a case, as a form that follows the case's policy pack:
symptoms and onset, where the case was day by day over the pack's look-back window, the people
met (found by ID number, phone, name or person number), the venues by their 场所码, travel.
Saved as a draft and completed later (:mod:`fangkong.tracing.interviews`: every answer checked
by the service; completing it feeds tracing as the API does). Errors are shown by their field in
the reader's language and what was typed is kept; a form shown at an older version of the
interview is refused (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from fangkong.case import service as cases
from fangkong.core.auth import Perm
from fangkong.core.errors import AppError
from fangkong.deps import DbSession
from fangkong.person import service as persons
from fangkong.tracing import interviews
from fangkong.tracing.enums import LABELS as TRACING_LABELS
from fangkong.tracing.enums import InterviewStatus, Proximity, Setting, Symptom, TravelMode
from fangkong.tracing.schemas import InterviewAnswers
from fangkong.web import i18n
from fangkong.web.auth import CurrentViewer, Viewer
from fangkong.web.workspace import forms
from fangkong.web.workspace.common import find_people, page, router
from fangkong.web.workspace.forms import FormState
from fangkong.web.workspace.interview_words import IW
from fangkong.web.workspace.messages import W

# The repeated rows of the form and their fields (a row with every field blank is no row).
ROWS: dict[str, tuple[str, ...]] = {
    "people": ("who", "first_exposure", "last_exposure", "setting", "proximity", "note"),
    "venues": ("code", "day", "time_in", "time_out"),
    "travel": ("day", "mode", "number", "origin", "destination", "seat"),
}
# Fields that hold a default value even in a row left blank (a select).
DEFAULTS = {"setting": "other", "proximity": "unknown", "mode": ""}
BLANK_ROWS = {"people": 2, "venues": 2, "travel": 1}  # blank rows after those filled in
MAX_ROWS = 60


def _name(path: str) -> str:
    """A service's field path (``people.2.who``) as the form's field (``people-2-who``)."""
    return path.replace(".", "-")


def _typed_rows(raw: dict[str, str], group: str) -> list[dict[str, str]]:
    """The rows of a group as typed, in order (blank ones too: they are shown again)."""
    count = 0
    while f"{group}-{count}-{ROWS[group][0]}" in raw and count < MAX_ROWS:
        count += 1
    return [{f: raw.get(f"{group}-{k}-{f}", "").strip() for f in ROWS[group]}
            for k in range(count)]


def _filled(row: dict[str, str]) -> bool:
    return any(v and v != DEFAULTS.get(f) for f, v in row.items())


class Typed:
    """What the form posted, as the form shows it again and as the service takes it."""

    def __init__(self, raw: dict[str, str], symptoms: list[str], days: list[str]) -> None:
        self.values: dict[str, Any] = {k: v for k, v in raw.items()
                                       if k not in ("csrftoken",)}
        self.values["symptoms"] = symptoms
        self.rows = {g: _typed_rows(raw, g) for g in ROWS}
        self.days = days

    def answers(self, session: DbSession, viewer: Viewer,
                errors: dict[str, str]) -> dict[str, Any]:
        """The service's input; the people typed are looked up in the jurisdiction (one
        each, else an error on the row's field). ``errors`` gets what the form itself finds;
        the answers' row k maps back to the form's row (``self.index``)."""
        v = self.values
        out: dict[str, Any] = {"onset_date": v.get("onset_date") or None,
                               "symptoms": v["symptoms"],
                               "symptom_note": v.get("symptom_note", "").strip(),
                               "days": [{"day": d, "places": v.get(f"days-{k}-places", "")}
                                        for k, d in enumerate(self.days)
                                        if v.get(f"days-{k}-places", "").strip()]}
        self.index: dict[str, list[int]] = {"days": [
            k for k in range(len(self.days)) if v.get(f"days-{k}-places", "").strip()]}
        for group in ROWS:
            items, where = [], []
            for k, row in enumerate(self.rows[group]):
                if not _filled(row):
                    continue
                item: dict[str, Any] = {f: (val or None) for f, val in row.items()}
                if group == "people":
                    item["person_id"] = self._person(session, viewer, row["who"],
                                                     f"people-{k}-who", errors)
                    item.pop("who")
                    item["note"] = row["note"]
                if group == "travel":
                    item["number"], item["seat"] = row["number"], row["seat"]
                items.append({f: x for f, x in item.items() if x is not None})
                where.append(k)
            out[group], self.index[group] = items, where
        return out

    @staticmethod
    def _person(session: DbSession, viewer: Viewer, who: str, field: str,
                errors: dict[str, str]) -> int:
        if not who:
            errors.setdefault(field, W("required").render(viewer.lang))
            return 0
        found = find_people(session, viewer.actor, who, limit=5)
        if len(found) != 1:
            message = W("no_such_person") if not found else W("several_people",
                                                                   count=len(found))
            errors.setdefault(field, message.render(viewer.lang))
            return 0
        return int(found[0].id)

    def field(self, loc: tuple[Any, ...] | list[Any]) -> str:
        """A service's or pydantic's location of a problem as the form's field."""
        parts = [str(p) for p in loc]
        if len(parts) >= 2 and parts[0] in self.index and parts[1].isdigit():
            rows = self.index[parts[0]]
            k = int(parts[1])
            if k < len(rows):
                parts[1] = str(rows[k])
            if parts[0] == "people" and len(parts) > 2 and parts[2] == "person_id":
                parts[2] = "who"
            if parts[0] == "days":
                parts = [*parts[:2], "places"]
        return "-".join(parts)


def _errors_of(exc: AppError | ValidationError, typed: Typed, lang: str,
               errors: dict[str, str], general: list[str]) -> None:
    """A refusal's problems, each on the form's field it names (else at the top)."""
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            key = forms._PYDANTIC.get(err["type"], "invalid")
            params = ({"max": err.get("ctx", {}).get("max_length", "")}
                      if key == "too_long" else {})
            errors.setdefault(typed.field(err["loc"]), W(key, **params).render(lang))
        return
    for problem in exc.problems:
        text = forms._message(problem, lang)
        if problem.field:
            errors.setdefault(typed.field(problem.field.split(".")), text)
        elif text not in general:
            general.append(text)
    if not exc.problems or not (errors or general):
        general.append(exc.render(lang))


def _rows_shown(rows: list[dict[str, str]], group: str) -> list[dict[str, str]]:
    """The rows to show: those given (blank ones at the end left out), then blank ones to
    fill (another one each time the form is saved)."""
    shown = list(rows)
    while shown and not _filled(shown[-1]):
        shown.pop()
    blank = {f: DEFAULTS.get(f, "") for f in ROWS[group]}
    return (shown + [dict(blank) for _ in range(BLANK_ROWS[group])])[:MAX_ROWS]


def _stored_values(session: DbSession, viewer: Viewer, interview: Any,
                   days: list[Any]) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """The form's values from the saved interview."""
    if interview is None:
        return {"symptoms": []}, {g: [] for g in ROWS}
    a = interview.answers
    values: dict[str, Any] = {"onset_date": a.get("onset_date") or "",
                              "symptoms": list(a.get("symptoms") or []),
                              "symptom_note": a.get("symptom_note") or ""}
    by_day = {d["day"]: d["places"] for d in a.get("days") or []}
    for k, day in enumerate(days):
        values[f"days-{k}-places"] = by_day.get(day.isoformat(), "")
    people = persons.get_many(session, actor=viewer.actor,
                              person_ids={p["person_id"] for p in a.get("people") or []})
    rows: dict[str, list[dict[str, str]]] = {
        "people": [{"who": people[p["person_id"]].ref if p["person_id"] in people else "",
                    "first_exposure": p["first_exposure"], "last_exposure": p["last_exposure"],
                    "setting": p["setting"], "proximity": p["proximity"],
                    "note": p.get("note") or ""} for p in a.get("people") or []],
        "venues": [{"code": v["code"], "day": v["day"], "time_in": v["time_in"][:5],
                    "time_out": (v.get("time_out") or "")[:5], "name": v.get("name", "")}
                   for v in a.get("venues") or []],
        "travel": [{f: t.get(f) or "" for f in ROWS["travel"]} for t in a.get("travel") or []],
    }
    return values, rows


def _page(request: Request, viewer: Viewer, session: DbSession, case_id: int, *,
          form: FormState | None = None, rows: dict[str, list[dict[str, str]]] | None = None,
          version: int | None = None, done: str | None = None,
          status: int = 200) -> HTMLResponse:
    lang = viewer.lang
    case = cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
    person = persons.get(session, actor=viewer.actor, person_id=case.person_id,
                         audit_read=False)
    interview = interviews.get(session, actor=viewer.actor, case_id=case_id)
    pack = interviews.pack_of(interview)
    win = interviews.window(case, pack)
    days = interviews.days_of(win)
    stored_values, stored_rows = _stored_values(session, viewer, interview, days)
    if form is None:
        form = FormState(values=stored_values)
    rows = rows if rows is not None else stored_rows
    names: dict[str, str] = {}
    if interview is not None:
        names = {v["code"]: v.get("name", "") for v in interview.answers.get("venues") or []}

    def labels(values: list[Any]) -> list[tuple[str, str]]:
        return [(v.value, i18n.label(TRACING_LABELS, v.value, lang)) for v in values]

    def word(prefix: str) -> Callable[[Any], tuple[str, str]]:
        return lambda v: (v.value, IW(f"{prefix}.{v.value}").render(lang))

    return page(request, viewer, "ws_interview.html", nav="report", status=status,
                case=case, person=person, interview=interview, pack=pack, window=win,
                days=days, form=form, done=done,
                version=interview.version if interview is not None else 0
                if version is None else version,
                completed=interview is not None
                and interview.status == InterviewStatus.completed,
                rows={g: _rows_shown(rows.get(g, []), g) for g in ROWS}, venue_names=names,
                iw=lambda key, **params: IW(key, **params).render(lang),
                symptoms=[word("symptom")(s) for s in Symptom],
                settings=labels(list(Setting)), proximities=labels(list(Proximity)),
                modes=[word("mode")(m) for m in TravelMode])


@router.get("/cases/{case_id}/interview")
def interview_form(request: Request, viewer: CurrentViewer, session: DbSession, case_id: int,
                   saved: int = 0) -> HTMLResponse:
    viewer.actor.require(Perm.case_read)
    done = IW("saved_draft").render(viewer.lang) if saved else None
    return _page(request, viewer, session, case_id, done=done)


@router.post("/cases/{case_id}/interview")
async def save_interview(request: Request, viewer: CurrentViewer, session: DbSession,
                         case_id: int) -> Response:
    viewer.actor.require(Perm.case_write)  # the role first: refused (403) before any lookup
    lang = viewer.lang
    posted = await request.form()
    raw = {k: v for k, v in posted.items() if isinstance(v, str)}
    case = cases.get(session, actor=viewer.actor, case_id=case_id, audit_read=False)
    pack = interviews.pack_of(interviews.get(session, actor=viewer.actor, case_id=case_id))
    days = interviews.days_of(interviews.window(case, pack))
    typed = Typed(raw, [str(s) for s in posted.getlist("symptoms")],
                  [d.isoformat() for d in days])
    complete = raw.get("action") == "complete"
    errors: dict[str, str] = {}
    general: list[str] = []
    status = 422
    try:
        version = int(raw.get("version") or "0")
    except ValueError:
        version = -1
    answers = typed.answers(session, viewer, errors)
    try:
        data = InterviewAnswers.model_validate(answers)
        if not errors:
            with session.begin_nested():
                interviews.save(session, actor=viewer.actor, case_id=case_id, answers=data,
                                version=version, complete=complete)
    except (AppError, ValidationError) as exc:
        status = 422 if isinstance(exc, ValidationError) else exc.status_code
        if _is_stale(exc):  # the workspace's one message for a stale form
            general.append(W("stale").render(lang))
        else:
            _errors_of(exc, typed, lang, errors, general)
    if errors or general:
        state = FormState(values=typed.values, errors=errors, general=general)
        return _page(request, viewer, session, case_id, form=state, rows=typed.rows,
                     version=version, status=status)
    if complete:
        return RedirectResponse(f"/cases/{case_id}/contacts?interviewed=1", status_code=303)
    return RedirectResponse(f"/cases/{case_id}/interview?saved=1", status_code=303)


def _is_stale(exc: Exception) -> bool:
    return getattr(getattr(exc, "text", None), "key", None) == "interview_stale"
