"""The fake domain's router, command group, event handler, jobs and mount."""

from __future__ import annotations

from typing import Any

import typer
from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/fake", tags=["fake"])
app = typer.Typer(help="A domain of the registry's test.", no_args_is_help=True)
HEARD: list[tuple[str, tuple[int, ...]]] = []
RUNS: list[str] = []


@router.get("/ping")
def ping() -> dict[str, str]:
    return {"fake": "pong"}


@app.command("hello")
def hello() -> None:
    """Say hello."""
    typer.echo("hello from the fake domain")


def on_zone_lifted(_session: Any, event: Any) -> None:
    HEARD.append((event.name, tuple(event.subject_ids)))


def job(_session: Any, actor: Any) -> None:
    RUNS.append(f"job as {actor.source}")


def daily_job(_session: Any, _actor: Any) -> bool:
    RUNS.append("daily")
    return RUNS.count("daily") >= 2  # not done the first time: asked again at the next tick


def mount(fastapi_app: FastAPI) -> None:
    @fastapi_app.get("/fake-page", include_in_schema=False)
    def page() -> dict[str, str]:
        return {"page": "fake"}
