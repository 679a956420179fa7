"""What the commander's pages share: their router and rendering with their words."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fangkong.web.auth import Viewer
from fangkong.web.command.messages import C
from fangkong.web.pages import render
from fangkong.web.workspace.forms import FormState

router = APIRouter(include_in_schema=False)


def page(request: Request, viewer: Viewer, name: str, *, status: int = 200,
         **context: Any) -> HTMLResponse:
    """A commander's page in the viewer's language; ``c(key, **params)`` gives its words."""
    lang = viewer.lang
    context.setdefault("form", FormState())
    return render(request, viewer, name, lang=lang, zone=request.app.state.settings.timezone,
                  status=status, c=lambda key, **params: C(key, **params).render(lang),
                  **context)
