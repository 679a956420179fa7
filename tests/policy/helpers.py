"""A minimal valid pack, as data, for tests that write (mostly broken) packs to tmp_path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

MINI: dict[str, Any] = {
    "id": "mini",
    "version": "1.0.0",
    "title": {"zh": "小", "en": "mini"},
    "document": "d",
    "issuer": "i",
    "published": "2022-01-01",
    "in_force": {"start": "2022-01-01"},
    "sources": {"s1": {"url": "http://example.org", "confidence": "A"}},
    "roles": {
        "close_contact": {
            "label": {"zh": "密接", "en": "close contact"},
            "anchor": "last_exposure",
            "source": "s1",
            "confidence": "A",
            "phases": [{"kind": "centralized_quarantine", "days": 7, "test_days": [1, 7]}],
        },
    },
    "zones": {
        "base_level": "low",
        "infections_counted": "all",
        "source": "s1",
        "confidence": "A",
        "levels": {
            "high": {"label": {"zh": "高", "en": "high"}, "rank": 1, "criteria": "c",
                     "measures": "m", "source": "s1", "confidence": "A",
                     "lifting": [{"to_level": "low", "clean_days": 7, "source": "s1",
                                  "confidence": "A"}]},
            "low": {"label": {"zh": "低", "en": "low"}, "rank": 0, "criteria": "c",
                    "measures": "m", "source": "s1", "confidence": "A"},
        },
    },
}


def mini(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINI)
    data.update(changes)
    return data


def write(directory: Path, data: dict[str, Any], name: str | None = None) -> Path:
    path = directory / f"{name or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
