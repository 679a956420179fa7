"""The one JSON error shape, for every error the API can return."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from fangkong.core import validation
from fangkong.core.errors import AppError, Problem
from fangkong.core.messages import CORE, Text, lang_of, render

log = logging.getLogger("fangkong")

_HTTP_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large"}


class ErrorProblem(BaseModel):
    message: str
    field: str | None = None
    line: int | None = None
    file: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str
    problems: list[ErrorProblem] | None = None


class ErrorBody(BaseModel):
    """The one JSON error shape."""

    error: ErrorDetail


_WHY = {
    400: "The body cannot be read (malformed JSON, form or multipart data).",
    401: "Not signed in, or the sign-in failed or expired.",
    403: "The user's role may not do this.",
    404: "Not found (also a record outside the user's jurisdiction, or one the request refers "
         "to).",
    409: "Conflicts with a stored record or its state.",
    413: "The file is over the size limit.",
    422: "The request is not valid: the problems name each field and what is wrong.",
    429: "Too many failed sign-ins: locked out for a while (see Retry-After).",
    503: "The server is busy (every place taken) or the database could not complete the "
         "request; nothing was saved; try again after Retry-After.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for these error codes, with the one error shape."""
    return {code: {"model": ErrorBody, "description": _WHY[code]} for code in codes}


_WRITES = {"post", "put", "patch", "delete"}


def declare_error_responses(app: FastAPI) -> None:
    """Complete the OpenAPI with the error codes each operation can answer, in the one error
    shape, from what the operation takes: 422 and 404 with any input (a record it names may not
    exist), 400 with a body, 413 with a file, 401, 403 and 404 when it needs a signed-in user
    (its ``security``), 409 when such an operation writes, 503 by every one (admission control
and a busy database answer it with Retry-After). Codes an operation declares itself
    (``responses=``) are kept."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas["ErrorBody"] = body
        ref = {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/ErrorBody"}}}}
        for ops in spec.get("paths", {}).values():
            for method, op in ops.items():
                codes: set[int] = {503}  # admission control, a busy database
                request = op.get("requestBody")
                if op.get("parameters") or request:
                    codes |= {404, 422}
                if request:
                    codes.add(400)
                    if "multipart/form-data" in request.get("content", {}):
                        codes.add(413)
                if op.get("security"):
                    codes |= {401, 403, 404} | ({409} if method in _WRITES else set())
                responses = op.setdefault("responses", {})
                if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                    del responses["422"]  # FastAPI's default shape; ours is the one error shape
                for code in sorted(codes):
                    responses.setdefault(str(code), {"description": _WHY[code], **ref})
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused not in str(spec["paths"]):
                schemas.pop(unused, None)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str | Text, problems: list[Problem] | None = None,
               lang: str = "en") -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": render(message, lang)}
    if problems:
        body["problems"] = [p.as_dict(lang) for p in problems]
    return {"error": body}


def is_unique_violation(exc: IntegrityError) -> bool:
    """A unique key refused the row (PostgreSQL SQLSTATE 23505, SQLite's UNIQUE failure)."""
    return (getattr(exc.orig, "sqlstate", None) == "23505"
            or "UNIQUE constraint failed" in str(exc.orig))


def is_busy(exc: OperationalError) -> bool:
    """SQLite's lock wait ran out, or PostgreSQL gave up on a lock or a serialisation."""
    return ("database is locked" in str(exc.orig)
            or getattr(exc.orig, "sqlstate", None) in {"40001", "40P01", "55P03"})


def request_lang(request: Request) -> str:
    """The platform language (zh-Hans, zh-Hant, en) the request's ``Accept-Language`` asks for
    first; English, the API's language, when it names none of them."""
    for part in request.headers.get("accept-language", "").split(","):
        lang = lang_of(part.split(";")[0])
        if lang:
            return lang
    return "en"


def error_response(request: Request, exc: AppError) -> JSONResponse:
    """An AppError as the one error shape, in the language the request asks for."""
    return JSONResponse(exc.as_dict(request_lang(request)), status_code=exc.status_code,
                        headers=exc.headers())


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # loc[0] is where the value came from (body, query, path): the field is the rest
        return JSONResponse(error_body("invalid", CORE("invalid_request"),
                                       validation.problems(exc.errors(), skip=1),
                                       request_lang(request)), 422)

    @app.exception_handler(ValidationError)
    async def invalid_inside(request: Request, exc: ValidationError) -> JSONResponse:
        """A model a service builds from the request's data refused it: the client's input,
        as the CLI reports it (not a server error)."""
        return JSONResponse(error_body("invalid", CORE("invalid_request"),
                                       validation.problems(exc.errors()),
                                       request_lang(request)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests creating the same record at once both pass the service's check; the
        # database's unique key refuses the second at its INSERT or its commit.
        if is_unique_violation(exc):
            return JSONResponse(error_body("conflict", CORE("exists"),
                                           lang=request_lang(request)), 409)
        log.exception("integrity error", exc_info=exc)
        return JSONResponse(error_body("internal", CORE("internal"), lang=request_lang(request)),
                            500)

    @app.exception_handler(OperationalError)
    async def operational(request: Request, exc: OperationalError) -> JSONResponse:
        lang = request_lang(request)
        if is_busy(exc):
            return JSONResponse(error_body("busy", CORE("busy"), lang=lang),
                                503, headers={"Retry-After": "2"})
        log.exception("database error", exc_info=exc)
        return JSONResponse(error_body("unavailable", CORE("unavailable"), lang=lang), 503)

    @app.exception_handler(PoolTimeout)
    async def no_connection(request: Request, _exc: PoolTimeout) -> JSONResponse:
        # Every connection of the pool stayed busy for its checkout timeout: back-pressure,
        # not a server error (requests past the admission limits can still ask for one).
        return JSONResponse(error_body("busy", CORE("busy"), lang=request_lang(request)),
                            503, headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(error_body("internal", CORE("internal"), lang=request_lang(request)),
                            500)
