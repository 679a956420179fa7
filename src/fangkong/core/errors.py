"""One error hierarchy for services, rendered as one JSON shape by the API and one red line by
the CLI. Messages say what is wrong and, where it helps, what to do next.

A message is a :class:`~fangkong.core.messages.Text` (a key of a domain's catalogue and its
parameters) or, where nobody reads it in another language, a plain string; ``message`` is the
English text, :meth:`AppError.as_dict` and :meth:`AppError.render` give it in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any

from fangkong.core.messages import CORE, Text, render


@dataclass(frozen=True, init=False)
class Problem:
    """One thing wrong with an input: where (file, line, field) and what."""

    message: str  # English; a Text given is kept for the other languages
    field: str | None = None
    line: int | None = None
    file: str | None = None

    text: str | Text = dataclass_field(default="", repr=False, compare=False)

    def __init__(self, message: str | Text, field: str | None = None, line: int | None = None,
                 file: str | None = None) -> None:
        for name, value in (("message", str(message)), ("field", field), ("line", line),
                            ("file", file), ("text", message)):
            object.__setattr__(self, name, value)

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name != "text" and getattr(self, f.name) is not None}
        out["message"] = str(render(self.text, lang))
        return out

    def render(self, lang: str = "en") -> str:
        message = str(render(self.text, lang))
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        if self.field:
            where = f"{where} {self.field}" if where else self.field
        return f"{where}: {message}" if where else message

    def __str__(self) -> str:
        return self.render("en")


class AppError(Exception):
    status_code = 400
    code = "error"
    exit_code = 1

    def __init__(self, message: str | Text, *, problems: list[Problem] | None = None) -> None:
        self.text = message
        self.message = str(message)  # English
        super().__init__(self.message)
        self.problems = problems or []

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``."""
        return str(render(self.text, lang))

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """The one error shape, its message and problems in ``lang``."""
        body: dict[str, Any] = {"code": self.code, "message": self.render(lang)}
        if self.problems:
            body["problems"] = [p.as_dict(lang) for p in self.problems]
        return {"error": body}

    def headers(self) -> dict[str, str] | None:
        """HTTP headers that belong with this error's answer."""
        return None


class Invalid(AppError):
    """The request is wrong in itself (422): a field missing, malformed or out of range, a
    value the rules do not know, the same item twice in one batch, a file's bad lines. Sent
    again unchanged it is refused again, whatever is stored."""

    status_code = 422
    code = "invalid"
    exit_code = 2


class NotFound(AppError):
    """Also what an out-of-scope record gets: scoping must not reveal that a record exists."""

    status_code = 404
    code = "not_found"
    exit_code = 3


class Conflict(AppError):
    """The request is well formed but clashes with what is stored (409): a code or ref
    already taken, a room already booked, a record whose state forbids the change (released,
    done, lifted). It may succeed once the stored data differ."""

    status_code = 409
    code = "conflict"
    exit_code = 4


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    exit_code = 5

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class TooManyAttempts(AppError):
    """Sign-in refused for a while after repeated failures; ``retry_after`` in seconds."""

    status_code = 429
    code = "too_many_attempts"
    exit_code = 5

    def __init__(self, message: str | Text, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    exit_code = 6


class TooLarge(AppError):
    status_code = 413
    code = "too_large"
    exit_code = 2


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"
    exit_code = 7


class Busy(Unavailable):
    """The server has no room for the request now (a queue is full): 503 with Retry-After,
    which clients and proxies understand as back-pressure."""

    code = "busy"

    def __init__(self, message: str | Text | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message or CORE("busy"))
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}
