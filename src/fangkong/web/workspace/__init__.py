"""The workspace: the pages where each role does its day's work (forms over the same domain
services as the API). :mod:`~fangkong.web.workspace.forms` is what every form shares."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the workspace's pages (after :func:`fangkong.web.pages.install`, whose CSRF
    check and error pages they share)."""
    from fangkong.web.workspace import community, epi, search  # noqa: F401  (their routes)
    from fangkong.web.workspace import sync as _offline  # noqa: F401  (entries made offline)
    from fangkong.web.workspace.common import router

    app.include_router(router)
