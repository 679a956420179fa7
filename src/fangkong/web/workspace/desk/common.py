"""What both desks share: their words on a workspace page, a form's fields and uploaded file,
local date-times typed in a form, and an import's refusal as rows of (file, line, field,
problem) in the reader's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from fangkong.core.errors import AppError, Invalid, Problem, TooLarge
from fangkong.core.messages import CORE, Text, render
from fangkong.web.auth import Viewer
from fangkong.web.workspace.common import page
from fangkong.web.workspace.desk.messages import D
from fangkong.web.workspace.messages import W


def desk_page(request: Request, viewer: Viewer, name: str, *, status: int = 200,
              **context: Any) -> HTMLResponse:
    """A desk's page: the workspace's ``w`` and the desks' ``d`` words."""
    lang = viewer.lang
    return page(request, viewer, name, status=status,
                d=lambda key, **params: D(key, **params).render(lang), **context)


async def posted(request: Request) -> tuple[dict[str, str], dict[str, list[str]],
                                            UploadFile | None]:
    """A form's text fields (the first value of each), every value by name (for a list) and
    its uploaded file (the field ``file``, when one was chosen)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    lists = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
    upload = form.get("file")
    chosen = upload if isinstance(upload, UploadFile) and upload.filename else None
    return fields, lists, chosen


async def file_bytes(upload: UploadFile | None, max_bytes: int) -> tuple[bytes, str]:
    """The uploaded file within the size limit, else Invalid on the ``file`` field."""
    if upload is None:
        raise Invalid(D("no_file"), problems=[Problem(D("no_file"), field="file")])
    name = upload.filename or "upload"
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(CORE("upload_over", file=name, limit=f"{max_bytes:,}"))
    return data, name


def local_time(value: str | None, zone: str, field: str) -> datetime | None:
    """A ``datetime-local`` field's value as an aware time in the deployment's zone."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        raise Invalid(W("bad_datetime"), problems=[
            Problem(W("bad_datetime"), field=field)]) from None


def said(text: Any, lang: str) -> str:
    """A service's message in ``lang``; plain English shown to English readers only."""
    if isinstance(text, Text) or lang == "en":
        return str(render(text, lang))
    return W("refused").render(lang)


def file_problems(exc: AppError, lang: str) -> list[dict[str, Any]]:
    """The problems of a refused file with a line, each where it is: file, line, field."""
    return [{"file": p.file or "", "line": p.line, "field": p.field or "",
             "message": said(p.text, lang)} for p in exc.problems if p.line is not None]
