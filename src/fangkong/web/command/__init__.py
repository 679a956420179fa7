"""The commander's pages: the command screen (the overview, ``/``), the task board with its
actions (assign, reassign, close), the decisions on proposed zone changes, the users of the
jurisdiction, and the exports of the lists (CSV, XLSX) within scope."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the commander's pages (after :func:`fangkong.web.pages.install`, whose CSRF
    check and error pages they share)."""
    from fangkong.web.command import exports, overview, tasks, users, zones  # noqa: F401  (their routes)
    from fangkong.web.command.common import router

    app.include_router(router)
