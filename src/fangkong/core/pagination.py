"""Keyset pagination: an opaque cursor holds the sort key of the last row of a page."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from fangkong.core.errors import Invalid, Problem
from fangkong.core.messages import CORE

T = TypeVar("T")
R = TypeVar("R")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def cut_page(rows: Sequence[R], limit: int, key: Callable[[R], list[Any]]
             ) -> tuple[list[R], str | None]:
    """Rows fetched with ``LIMIT limit + 1`` → the page and the cursor of the next one."""
    page = list(rows[:limit])
    return page, (encode_cursor(key(page[-1])) if len(rows) > limit else None)


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError as exc:
        raise Invalid(CORE("bad_cursor"), problems=[Problem(CORE("foreign_cursor"),
                                                            field="cursor")]) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise Invalid(CORE("bad_cursor"), problems=[Problem(CORE("foreign_cursor"),
                                                            field="cursor")])
    return key
