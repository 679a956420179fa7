"""The dashboard's sections: the domains name their provider modules in the registry, loaded
before the sections run; the registry module imports none of them (no import cycle)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from fangkong.web import sections


def _imports(module: str) -> set[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_the_registry_imports_no_provider_and_loads_every_contributed_one() -> None:
    from fangkong import registry

    contributed = set(registry.sections())
    assert contributed and not contributed & _imports("fangkong.web.sections")
    for module in contributed:  # each provider module uses the registry, one way
        assert "fangkong.web.sections" in _imports(module)
    sections.load_contributed()
    assert {"testing", "zones", "contacts", "isolation", "clocks", "alerts", "rt"} <= set(
        sections.REGISTRY)
