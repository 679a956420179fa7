"""What every form of the workspace shares: one set of rules (the domain services the API
calls), their refusals shown next to the field in the reader's language, what was typed kept,
and stale forms refused.

A page's POST route builds the service's input from the form (a pydantic schema of the API),
calls the service, and on :class:`~fangkong.core.errors.AppError` or pydantic's
``ValidationError`` renders the same form again (status 422, 409 or 404) with a
:class:`FormState`: the values typed and, by field, what is wrong. CSRF is checked before any
route runs (:mod:`fangkong.web.csrf`); a record outside the viewer's jurisdiction is refused by
the service exactly as a missing one (404).

A form that changes a record carries that record's :func:`version` when it was shown
(``<input name="version">``); :func:`check_version` refuses the submission (409, the form shown
again with a message) when the record changed since, so nobody overwrites what another person
did meanwhile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from fangkong.core.errors import AppError, Conflict, Problem
from fangkong.core.messages import Text
from fangkong.web.workspace.messages import W


class Stale(Conflict):
    """The record changed after the form was shown: the submission is refused, not applied."""

    def __init__(self) -> None:
        super().__init__(W("stale"))


@dataclass
class FormState:
    """A form as shown: the values (typed, or the record's), errors by field, and errors that
    belong to no field of the form (shown at its top)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def value(self, name: str, default: Any = "") -> Any:
        got = self.values.get(name)
        return default if got is None else got

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.general)


def version(*parts: Any) -> str:
    """A short token of a record's state when a form about it is shown (its ``updated_at``,
    or the fields the form's change depends on): compared when the form comes back."""
    text = "|".join(p.isoformat() if isinstance(p, (date, datetime)) else repr(p)
                    for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_version(given: str | None, *parts: Any) -> None:
    """Refuse (:class:`Stale`) a submission whose version is not the record's now."""
    if not given or given != version(*parts):
        raise Stale()


_PYDANTIC = {  # pydantic's error types -> this catalogue's keys
    "missing": "required", "string_too_short": "required", "string_too_long": "too_long",
    "date_parsing": "bad_date", "date_from_datetime_parsing": "bad_date",
    "date_from_datetime_inexact": "bad_date", "date_type": "bad_date",
    "datetime_parsing": "bad_datetime", "datetime_from_date_parsing": "bad_datetime",
    "datetime_type": "bad_datetime", "enum": "choose", "literal_error": "choose",
    "int_parsing": "bad_number", "int_type": "bad_number", "string_pattern_mismatch": "bad_code",
}


def _message(problem: Problem, lang: str) -> str:
    """A problem in ``lang``. A service's message made for no other language (plain English)
    is shown in English to English readers and as "not accepted" to the others: a Chinese
    page never carries an English sentence."""
    if isinstance(problem.text, Text) or lang == "en":
        return str(problem.text.render(lang) if isinstance(problem.text, Text)
                   else problem.text)
    return W("refused").render(lang)


def refused(exc: AppError | ValidationError, lang: str, values: Mapping[str, Any],
            fields: Mapping[str, str] | None = None) -> FormState:
    """The form again after a refusal: ``values`` as typed, each problem next to its field.
    ``fields`` maps the service's field names to the form's where they differ; a problem of
    a field the form does not show goes to the top."""
    names = dict(fields or {})
    state = FormState(values=dict(values))

    def put(name: str | None, message: str) -> None:
        target = names.get(name or "", name)
        if target and target in values and target not in state.errors:
            state.errors[target] = message
        elif message not in state.general:
            state.general.append(message)

    if isinstance(exc, ValidationError):
        for err in exc.errors():
            loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
            key = _PYDANTIC.get(err["type"], "invalid")
            params = {"max": err.get("ctx", {}).get("max_length", "")} if key == "too_long" else {}
            put(loc[-1] if loc else None, W(key, **params).render(lang))
        return state
    for problem in exc.problems:
        put(problem.field, _message(problem, lang))
    if not exc.problems:
        state.general.append(exc.render(lang) if isinstance(exc.text, Text) or lang == "en"
                             else W("refused").render(lang))
    elif not state.errors and not state.general:
        state.general.append(exc.render(lang))
    return state


def clean(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A form's fields as a schema takes them: blanks are "not given" (None)."""
    out = {}
    for key, value in raw.items():
        if key in ("csrftoken", "version"):
            continue
        text = value.strip() if isinstance(value, str) else value
        out[key] = None if text == "" else text
    return out
