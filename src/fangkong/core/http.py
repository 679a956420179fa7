"""The one JSON error shape, for every error the API can return."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fangkong.core.errors import AppError, Problem

log = logging.getLogger("fangkong")

_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large"}


def error_body(code: str, message: str, problems: list[Problem] | None = None) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if problems:
        body["problems"] = [p.as_dict() for p in problems]
    return {"error": body}


def is_unique_violation(exc: IntegrityError) -> bool:
    """A unique key refused the row (PostgreSQL SQLSTATE 23505, SQLite's UNIQUE failure)."""
    return (getattr(exc.orig, "sqlstate", None) == "23505"
            or "UNIQUE constraint failed" in str(exc.orig))


def is_busy(exc: OperationalError) -> bool:
    """SQLite's lock wait ran out, or PostgreSQL gave up on a lock or a serialisation."""
    return ("database is locked" in str(exc.orig)
            or getattr(exc.orig, "sqlstate", None) in {"40001", "40P01", "55P03"})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(str(e.get("msg")), field=".".join(str(p) for p in e.get("loc", ())[1:]) or None)
            for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid", "the request is not valid", problems), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(IntegrityError)
    async def integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests creating the same record at once both pass the service's check; the
        # database's unique key refuses the second at its INSERT or its commit.
        if is_unique_violation(exc):
            return JSONResponse(error_body(
                "conflict", "the record already exists (created at the same time by another "
                "request); reload and try again"), 409)
        log.exception("integrity error", exc_info=exc)
        return JSONResponse(error_body("internal", "unexpected server error; it was logged"),
                            500)

    @app.exception_handler(OperationalError)
    async def operational(_: Request, exc: OperationalError) -> JSONResponse:
        if is_busy(exc):
            return JSONResponse(error_body("busy", "the database is busy; try again shortly"),
                                503, headers={"Retry-After": "2"})
        log.exception("database error", exc_info=exc)
        return JSONResponse(error_body("unavailable", "the database could not complete the "
                                       "request; nothing was saved"), 503)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal", "unexpected server error; it was logged"),
                            500)
