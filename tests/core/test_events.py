"""Handlers named by module and function are imported at the first publish of their event."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from fangkong.core import events

CALLS: list[dict[str, Any]] = []


def handler(_session: Any, **payload: Any) -> None:
    CALLS.append(payload)


@pytest.fixture
def clean() -> Iterator[None]:
    saved = {k: list(v) for k, v in events._handlers.items()}
    saved_lazy = {k: list(v) for k, v in events._lazy.items()}
    CALLS.clear()
    yield
    events._handlers.clear()
    events._handlers.update(saved)
    events._lazy.clear()
    events._lazy.update(saved_lazy)


def test_subscribe_lazy(clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, __name__)  # as if nobody had imported this module yet
    events.subscribe_lazy("thing.done", f"{__name__}:handler")
    events.subscribe_lazy("thing.done", f"{__name__}:handler")  # once only
    assert __name__ not in sys.modules
    events.publish("thing.done", None, n=1)  # type: ignore[arg-type]
    module = sys.modules[__name__]
    assert module.CALLS == [{"n": 1}]
    events.subscribe("thing.done", module.handler)  # the module subscribing itself: still once
    events.publish("thing.done", None, n=2)  # type: ignore[arg-type]
    assert module.CALLS == [{"n": 1}, {"n": 2}]


def test_a_handler_that_cannot_be_imported_stays_named(clean: None) -> None:
    events.subscribe_lazy("thing.failed", "fangkong.no_such_module:handler")
    with pytest.raises(ModuleNotFoundError):
        events.publish("thing.failed", None)  # type: ignore[arg-type]
    assert events._lazy["thing.failed"] == ["fangkong.no_such_module:handler"]
