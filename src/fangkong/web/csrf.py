"""CSRF protection of the web pages: a signed double-submit token (``asgi-csrf``).

The first page that shows a form sets the ``fangkong_csrf`` cookie (SameSite=Lax, HttpOnly, a
random value signed with a key derived from the secret key); every state-changing request
(anything but GET, HEAD, OPTIONS, TRACE) to a path outside ``/api/`` must carry the same value in
the form field ``csrftoken`` (first in a multipart form) or in the ``X-CSRFToken`` header, with or
without cookies (so a cross-site sign-in is refused too); otherwise it is answered with a
translated 403 page. The API is not checked: it authenticates by bearer token, which a browser
never sends by itself.

In templates, ``{{ csrf_field() }}`` inside every ``<form method="post">`` (a test checks that
each has one); htmx requests get the header from the page's ``csrf-token`` meta tag (app.js).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import asgi_csrf as _asgi_csrf
import python_multipart
from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from jinja2 import pass_context
from markupsafe import Markup
from starlette.types import Scope, Send

from fangkong.core.config import Settings

COOKIE = "fangkong_csrf"
FIELD = "csrftoken"  # asgi-csrf's form field and (as X-CSRFToken) header


class _WebPaths:
    """Paths checked even on a request without cookies (asgi-csrf's ``always_protect``): all
    but the API's."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not _is_api(path)


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def token(request: Request) -> str:
    """This client's token (setting its cookie on the response if it has none yet)."""
    get = request.scope.get("csrftoken")
    if get is None:
        raise RuntimeError("the CSRF middleware is not installed (fangkong.web.csrf.install)")
    value: str = get()
    return value


@pass_context
def csrf_field(context: Any) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, token(context["request"]))


@pass_context
def csrf_token(context: Any) -> str:
    return token(context["request"])


class _FormParser(python_multipart.FormParser):
    """asgi-csrf 0.11 reads a multipart form's token with ``FormParser(..., FileClass=...)``,
    a keyword python-multipart no longer takes (every multipart page form was answered 500):
    the same parser without it, a file part that ends before the token refused as asgi-csrf
    means to (``FileBeforeToken``)."""

    def __init__(self, content_type: str, on_field: Any, on_file: Any, on_end: Any = None,
                 boundary: bytes | str | None = None, FileClass: Any = None,
                 **kwargs: Any) -> None:
        def file_first(_: object) -> None:
            raise _asgi_csrf.FileBeforeToken

        super().__init__(content_type, on_field, file_first, on_end, boundary=boundary,
                         **kwargs)


_asgi_csrf.FormParser = _FormParser


def install(app: FastAPI, settings: Settings,
            refused: Callable[[Request], Awaitable[Any]]) -> None:
    """Check every state-changing request to the pages; ``refused`` renders the 403 answer."""
    secret = hmac.new(settings.key("secret_key"), b"fangkong csrf", hashlib.sha256).hexdigest()

    async def send_refused(scope: Scope, send: Send, _reason: object) -> None:
        response = await refused(Request(scope))
        await response(scope, _no_body, send)

    app.add_middleware(asgi_csrf, cookie_name=COOKIE, signing_secret=secret,
                       always_protect=_WebPaths(),
                       skip_if_scope=lambda scope: _is_api(scope["path"]),
                       send_csrf_failed=send_refused)


async def _no_body() -> dict[str, Any]:
    return {"type": "http.disconnect"}
