"""What the browser tests share: Debian's Chromium (skipped where it is missing, outside CI),
the app served by uvicorn on a free loopback port, one browser per module, and pages that fail
their test when the browser refuses anything under the pages' Content Security Policy."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Skip the calling test module where Debian's chromium is missing (never in CI)."""
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                    allow_module_level=True)


@contextmanager
def serving(engine: Any) -> Iterator[str]:
    """The app over ``engine``, served by uvicorn in a thread; yields its base URL and stops
    it (and disposes of the engine) afterwards."""
    import uvicorn

    from fangkong.app import create_app
    from fangkong.core.config import get_settings

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(get_settings(), engine=engine),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


@contextmanager
def chromium(shots: Path) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; ``shots`` made for its screenshots."""
    from playwright.sync_api import sync_playwright

    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def csp_checked_page(browser: Any, **context: Any) -> Iterator[Any]:
    """A page in a new context (``context``: viewport, locale…) that fails its test if the
    browser refuses anything under the Content Security Policy (Chromium reports each refusal
    on the console)."""
    ctx = browser.new_context(**context)
    pg = ctx.new_page()
    refused: list[str] = []
    pg.on("console", lambda msg: refused.append(msg.text)
          if "Content Security Policy" in msg.text else None)
    yield pg
    ctx.close()
    assert refused == [], "refused under the Content Security Policy"
