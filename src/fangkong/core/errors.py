"""One error hierarchy for services, rendered as one JSON shape by the API and one red line by
the CLI. Messages say what is wrong and, where it helps, what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (file, line, field) and what."""

    message: str
    field: str | None = None
    line: int | None = None
    file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        if self.field:
            where = f"{where} {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message


class AppError(Exception):
    status_code = 400
    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [p.as_dict() for p in self.problems]
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

    def __init__(self, message: str, *, retry_after: int) -> None:
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
