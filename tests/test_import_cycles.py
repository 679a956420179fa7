"""No module of the package imports itself through others (a cycle), at module level and
including imports inside functions; the import-linter contract ``acyclic_siblings`` in
pyproject.toml keeps packages free of cycles between them."""

from __future__ import annotations

import grimp


def cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_package_has_no_import_cycle() -> None:
    graph = grimp.build_graph("fangkong")
    assert len(graph.modules) > 150
    assert [sorted(c) for c in cycles(graph)] == []


def test_a_cycle_is_found() -> None:
    """The check finds a cycle where there is one (the brief's, before brief.doc)."""
    graph = grimp.build_graph("fangkong")
    assert frozenset({"fangkong.brief.render", "fangkong.brief.service"}) not in cycles(graph)
    graph.add_import(importer="fangkong.brief.doc", imported="fangkong.brief.service")
    assert frozenset({"fangkong.brief.doc", "fangkong.brief.render",
                      "fangkong.brief.service"}) in cycles(graph)
