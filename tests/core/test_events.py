"""Handlers named by module and function are imported at the first publish of their event."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from fangkong.core import events
from tests.conftest import make_actor

CALLS: list[dict[str, Any]] = []


def handler(_session: Any, event: events.Event) -> None:
    CALLS.append({"n": event.detail["n"]})


def _event(n: int) -> events.Event:
    return events.Event("zone.lifted", actor=make_actor(), subject_type="zone",
                        subject_ids=[1], reason="test", detail={"n": n})


@pytest.fixture
def clean() -> Iterator[None]:
    saved = {k: list(v) for k, v in events._handlers.items()}
    saved_lazy = {k: list(v) for k, v in events._lazy.items()}
    CALLS.clear()
    events._handlers.clear()  # only this test's handlers hear its events
    events._lazy.clear()
    yield
    events._handlers.clear()
    events._handlers.update(saved)
    events._lazy.clear()
    events._lazy.update(saved_lazy)


def test_subscribe_lazy(clean: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, __name__)  # as if nobody had imported this module yet
    events.subscribe_lazy("zone.lifted", f"{__name__}:handler")
    events.subscribe_lazy("zone.lifted", f"{__name__}:handler")  # once only
    assert __name__ not in sys.modules
    events.publish(None, _event(1))  # type: ignore[arg-type]
    module = sys.modules[__name__]
    assert module.CALLS == [{"n": 1}]
    events.subscribe("zone.lifted", module.handler)  # the module subscribing itself: still once
    events.publish(None, _event(2))  # type: ignore[arg-type]
    assert module.CALLS == [{"n": 1}, {"n": 2}]


def test_a_handler_that_cannot_be_imported_stays_named(clean: None) -> None:
    events.subscribe_lazy("zone.lifted", "fangkong.no_such_module:handler")
    with pytest.raises(ModuleNotFoundError):
        events.publish(None, _event(1))  # type: ignore[arg-type]
    assert events._lazy["zone.lifted"] == ["fangkong.no_such_module:handler"]
