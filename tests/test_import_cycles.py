"""No module of the package imports itself through others (a cycle), at module level and
including imports inside functions; the import-linter contract ``acyclic_siblings`` in
pyproject.toml keeps packages free of cycles between them."""

from __future__ import annotations

import grimp
import networkx as nx


def cycles(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (networkx)."""
    g = nx.DiGraph((m, w) for m in graph.modules
                   for w in graph.find_modules_directly_imported_by(m))
    return [frozenset(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


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
