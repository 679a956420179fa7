"""Builders shared by tests: synthetic person rows and CSV bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from fangkong.demo.synthetic import people

ZHANJIANG_PLACES = [("440802001001", 1.0), ("440803001001", 1.0), ("440811100201", 1.0)]


def person_rows(n: int, *, seed: int = 1, places: list[tuple[str, float]] | None = None,
                prefix: str = "T") -> list[dict[str, str]]:
    return list(people(n, seed=seed, places=places or ZHANJIANG_PLACES, ref_prefix=prefix))


def csv_bytes(rows: Iterable[Mapping[str, object]], columns: list[str] | None = None,
              encoding: str = "utf-8") -> bytes:
    rows = list(rows)
    cols = columns or list(rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def csrf(client: Any, fields: Mapping[str, str]) -> dict[str, str]:
    """A page form's fields with the CSRF token that the sign-in page gives this client."""
    if "fangkong_csrf" not in client.cookies:
        client.get("/login")
    return {**fields, "csrftoken": client.cookies["fangkong_csrf"]}


def free_port() -> int:
    """A loopback port nobody listens on now (for a server a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
