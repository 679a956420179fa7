"""The maintained transmission graph: case-to-case links, cluster membership and per-cluster
aggregates kept in tables, so that listing clusters, a case's chain and the indicators read a
few indexed rows instead of rebuilding the graph from every exposure.

A case-to-case link is a confirmed, active exposure whose exposed person has a case of their own
(neither case discarded), or a contact episode converted to a case. Where an epidemiologist
decided who infected a case (``tracing_infector``), that decision is the one link into the case
(setting ``assigned``), or none when they judged the source unknown. Clusters are the weakly
connected components of those links, named by their smallest case id.

How it stays up to date: a session listener (:mod:`fangkong.tracing.graph_hook`) notes, at
every flush, the cases whose links or dates may have changed (a case added, reclassified, its
dates edited; an exposure added, confirmed, rejected or deactivated; a contact episode
converted). Before the transaction
commits, and before any read of the graph, :func:`sync` recomputes the links touching those
cases from the source tables, applies the difference, and recomputes only the clusters that
contain an endpoint of a changed link: their components (merges and splits alike) and their
aggregates (size, span, generation depth, settings). Writers that bypass the ORM (bulk SQL
inserts) call :func:`rebuild`; :func:`check` compares the tables with a computation from
scratch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, inspect, select, text, tuple_, update
from sqlalchemy.orm import Session

from fangkong.case.enums import Classification
from fangkong.core.clock import utc_now
from fangkong.tracing.enums import ASSIGNED, Review
from fangkong.tracing.models import (
    Cluster,
    ClusterMember,
    ContactEpisode,
    Exposure,
    GraphState,
    Infector,
    Link,
)

if TYPE_CHECKING:
    import networkx as nx
    from sqlalchemy.sql.selectable import Subquery

LinkRow = tuple[int, int, date, str]
CHUNK = 5_000
_PENDING = "fangkong.tracing.graph.pending"
_LOCK_KEY = 4_004_011  # PostgreSQL advisory lock: one graph writer at a time

# Attributes whose change can add, remove or alter a link, or a cluster's dates.
_CASE_ATTRS = ("classification", "person_id", "onset_date", "first_positive_sample_date",
               "reported_at")
_EXPOSURE_ATTRS = ("active", "review", "source_case_id", "exposed_person_id", "last_exposure",
                   "setting")
_CONTACT_ATTRS = ("converted_case_id", "index_case_id", "person_id", "last_exposure")
_INFECTOR_ATTRS = ("case_id", "infector_case_id")


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    items = sorted(set(values))
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _cases(name: str | None = None) -> Subquery:
    """The case columns the graph reads (:func:`fangkong.case.service.columns`), as a subquery.
    The case service is imported when the graph is read or written, not with this module (which
    the CLI loads at start-up for its session listener)."""
    from fangkong.case import service as cases

    return cases.columns().subquery(name)


def _is_case(obj: object) -> bool:
    """Whether a flushed object is a case record; the case service is imported only once an
    object of the case domain is flushed."""
    if not type(obj).__module__.startswith("fangkong.case."):
        return False
    from fangkong.case import service as cases

    return cases.is_case(obj)


def _setting(value: Any) -> str:
    return str(value.value if hasattr(value, "value") else value)


# --- links from the source tables --------------------------------------------------------------

def _queries() -> tuple[Any, Any]:
    src_case, dst_case = _cases("src"), _cases("dst")
    src, dst = src_case.c, dst_case.c
    ok = (src.classification != Classification.discarded,
          dst.classification != Classification.discarded)
    by_exposure = (select(Exposure.source_case_id, dst.id, Exposure.last_exposure,
                          Exposure.setting)
                   .join(src_case, src.id == Exposure.source_case_id)
                   .join(dst_case, dst.person_id == Exposure.exposed_person_id)
                   .where(Exposure.active.is_(True), Exposure.review == Review.confirmed,
                          dst.id != src.id, *ok))
    by_conversion = (select(ContactEpisode.index_case_id, ContactEpisode.converted_case_id,
                            ContactEpisode.last_exposure)
                     .join(src_case, src.id == ContactEpisode.index_case_id)
                     .join(dst_case, dst.id == ContactEpisode.converted_case_id).where(*ok))
    return by_exposure, by_conversion


def _merge(by_exposure: Iterable[Any], by_conversion: Iterable[Any]) -> dict[tuple[int, int],
                                                                             LinkRow]:
    out: dict[tuple[int, int], LinkRow] = {}
    for s, t, d, setting in by_exposure:
        key = (s, t)
        row = (s, t, d, _setting(setting))
        # Several exposures between the same two cases: the latest date, then the setting's
        # name, decide, so the result does not depend on the order rows come in.
        if key not in out or (row[2], row[3]) > (out[key][2], out[key][3]):
            out[key] = row
    for s2, t2, d2 in by_conversion:
        if t2 is not None and (s2, t2) not in out:
            out[(s2, t2)] = (s2, t2, d2, "other")
    return out


def links(session: Session, cases_: set[int] | None = None) -> dict[tuple[int, int], LinkRow]:
    """Every link computed from the source tables, or those with an end among ``cases_``
    (which must hold every case of each of its persons: see :func:`_with_same_person`)."""
    by_exposure, by_conversion = _queries()
    if cases_ is None:
        # Driven by the persons who are cases (few) through the index on the exposed person,
        # rather than by a scan of every exposure.
        q1 = by_exposure.where(Exposure.exposed_person_id.in_(
            select(_cases().c.person_id)))
        return _decided(session, _merge(session.execute(q1).all(),
                                        session.execute(by_conversion).all()), None)
    rows1: list[Any] = []
    rows2: list[Any] = []
    case = _cases().c
    for ids in _chunks(cases_):
        persons = list(session.scalars(select(case.person_id).where(case.id.in_(ids))))
        rows1 += session.execute(by_exposure.where(Exposure.source_case_id.in_(ids))).all()
        rows2 += session.execute(by_conversion.where(
            ContactEpisode.index_case_id.in_(ids))).all()
        rows2 += session.execute(by_conversion.where(
            ContactEpisode.converted_case_id.in_(ids))).all()
        for pids in _chunks(persons):
            rows1 += session.execute(by_exposure.where(
                Exposure.exposed_person_id.in_(pids))).all()
    return _decided(session, _merge(rows1, rows2), cases_)


def _decided(session: Session, found: dict[tuple[int, int], LinkRow],
             cases_: set[int] | None) -> dict[tuple[int, int], LinkRow]:
    """``found`` with the infectors epidemiologists decided: each such case keeps one link in
    (from its infector, dated at the case's date, setting ``assigned``) or none (the source
    judged unknown). With ``cases_``: the decisions about the cases that ``found`` links into
    and about ``cases_``, and those naming one of ``cases_`` as infector."""
    cols = (Infector.case_id, Infector.infector_case_id)
    if cases_ is None:
        decided = dict(session.execute(select(*cols)).tuples().all())
    else:
        decided = {}
        for ids in _chunks({t for _, t in found} | cases_):
            decided.update(session.execute(select(*cols).where(
                Infector.case_id.in_(ids))).tuples().all())
        for ids in _chunks(cases_):
            decided.update(session.execute(select(*cols).where(
                Infector.infector_case_id.in_(ids))).tuples().all())
    if not decided:
        return found
    out = {k: v for k, v in found.items() if k[1] not in decided}
    rows = case_rows(session, {n for t, s in decided.items() if s is not None for n in (s, t)})
    for target, source in decided.items():
        if source is None or source not in rows or target not in rows:
            continue
        if Classification.discarded in (rows[source].classification,
                                        rows[target].classification):
            continue
        out[(source, target)] = (source, target, case_date(rows[target]), ASSIGNED)
    return out


def _with_same_person(session: Session, cases_: set[int], persons: set[int]) -> set[int]:
    """The cases, the cases of the given persons, and every other case of their persons."""
    out = set(cases_)
    people = set(persons)
    case = _cases().c
    for ids in _chunks(cases_):
        people.update(session.scalars(select(case.person_id).where(case.id.in_(ids))))
    for pids in _chunks(people):
        out.update(session.scalars(select(case.id).where(case.person_id.in_(pids))))
    return out


# --- components and aggregates -----------------------------------------------------------------

def generations(sub: nx.DiGraph) -> dict[int, int]:
    """Generation of each case: 0 for cases nobody infected, else one more than the deepest
    source (when the links have a cycle: the shortest distance from a case nobody infected)."""
    import networkx as nx
    if nx.is_directed_acyclic_graph(sub):
        gen: dict[int, int] = {}
        for node in nx.topological_sort(sub):
            preds = list(sub.predecessors(node))
            gen[node] = 1 + max(gen[p] for p in preds) if preds else 0
        return gen
    roots = [n for n in sub if sub.in_degree(n) == 0] or [min(sub)]
    gen = {}
    frontier, depth = list(roots), 0  # one breadth-first walk from every root at once
    while frontier:
        nxt: list[int] = []
        for node in frontier:
            if node not in gen:
                gen[node] = depth
                nxt.extend(m for m in sub.successors(node) if m not in gen)
        frontier, depth = nxt, depth + 1
    for node in sub:  # a cycle with no root: generation 0
        gen.setdefault(node, 0)
    return gen


def case_rows(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """What the graph shows of each case (plain rows: no ORM objects, no history)."""
    out: dict[int, Any] = {}
    case = _cases().c
    for chunk in _chunks(ids):
        for row in session.execute(select(
                case.id, case.ref, case.classification, case.onset_date,
                case.first_positive_sample_date, case.reported_at).where(case.id.in_(chunk))):
            out[row.id] = row
    return out


def case_date(row: Any) -> date:
    """The date a case is placed at: onset, else first positive sample, else report."""
    return row.onset_date or row.first_positive_sample_date or row.reported_at.date()


def aggregates(sub: nx.DiGraph, rows: dict[int, Any],
               gen: dict[int, int] | None = None) -> dict[str, Any]:
    gen = gen if gen is not None else generations(sub)
    dates = [case_date(rows[n]) for n in sub.nodes]
    return {"cluster_id": min(sub.nodes), "size": sub.number_of_nodes(),
            "first_date": min(dates), "last_date": max(dates),
            "span_days": (max(dates) - min(dates)).days,
            "generations": max(gen.values()) + 1 if gen else 1,
            "settings": dict(sorted(Counter(a["setting"] for _, _, a in sub.edges(data=True))
                                    .items()))}


def _digraph(found: Iterable[LinkRow], nodes: Iterable[int] = ()) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    for s, t, d, setting in found:
        g.add_edge(s, t, date=d, setting=setting)
    return g


def _clusters_of(session: Session, g: nx.DiGraph) -> list[dict[str, Any]]:
    import networkx as nx

    comps = [c for c in nx.weakly_connected_components(g) if len(c) > 1]
    rows = case_rows(session, set().union(*comps)) if comps else {}
    return [aggregates(g.subgraph(c), rows) for c in comps]


def from_scratch(session: Session) -> tuple[dict[tuple[int, int], LinkRow], dict[int, int],
                                            list[dict[str, Any]]]:
    """Links, membership (case -> cluster) and cluster aggregates computed from the source
    tables, ignoring the maintained ones."""
    import networkx as nx

    found = links(session)
    g = _digraph(found.values())
    clusters = _clusters_of(session, g)
    members = {n: min(c) for c in nx.weakly_connected_components(g) if len(c) > 1 for n in c}
    return found, members, clusters


# --- the maintained tables ---------------------------------------------------------------------

def _write_clusters(session: Session, clusters: list[dict[str, Any]],
                    members: dict[int, int]) -> None:
    now = utc_now()
    if members:
        session.execute(insert(ClusterMember), [{"case_id": c, "cluster_id": k}
                                                for c, k in members.items()])
    if clusters:
        session.execute(insert(Cluster), [{**c, "updated_at": now} for c in clusters])


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def rebuild(session: Session) -> dict[str, int]:
    """Recompute every link, membership and aggregate from the source tables."""
    _lock(session)
    session.info.pop(_PENDING, None)
    found, members, clusters = from_scratch(session)
    for table in (Cluster, ClusterMember, Link, GraphState):
        session.execute(delete(table))
    if found:
        session.execute(insert(Link), [{"source_case_id": s, "target_case_id": t,
                                        "link_date": d, "setting": st}
                                       for s, t, d, st in found.values()])
    _write_clusters(session, clusters, members)
    session.execute(insert(GraphState), [{"id": 1, "built_at": utc_now()}])
    return {"links": len(found), "clusters": len(clusters), "cases_in_clusters": len(members)}


def _stored_links(session: Session, cases_: set[int]) -> dict[tuple[int, int], LinkRow]:
    out: dict[tuple[int, int], LinkRow] = {}
    cols = (Link.source_case_id, Link.target_case_id, Link.link_date, Link.setting)
    for ids in _chunks(cases_):
        for col in (Link.source_case_id, Link.target_case_id):
            for s, t, d, st in session.execute(select(*cols).where(col.in_(ids))):
                out[(s, t)] = (s, t, d, st)
    return out


def _recluster(session: Session, seeds: set[int]) -> None:
    """Recompute the components (and their aggregates) that hold any of ``seeds``."""
    import networkx as nx

    old_ids: set[int] = set()
    for ids in _chunks(seeds):
        old_ids.update(session.scalars(select(ClusterMember.cluster_id).where(
            ClusterMember.case_id.in_(ids))))
    nodes = set(seeds)
    for ids in _chunks(old_ids):
        nodes.update(session.scalars(select(ClusterMember.case_id).where(
            ClusterMember.cluster_id.in_(ids))))
    found: list[LinkRow] = []
    for ids in _chunks(nodes):
        found += [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(Link.source_case_id, Link.target_case_id, Link.link_date, Link.setting)
            .where(Link.source_case_id.in_(ids)))]
    g = _digraph(found, nodes)
    clusters = _clusters_of(session, g)
    members = {n: min(c) for c in nx.weakly_connected_components(g) if len(c) > 1 for n in c}
    for ids in _chunks(nodes):
        session.execute(delete(ClusterMember).where(ClusterMember.case_id.in_(ids)))
    for ids in _chunks(old_ids):
        session.execute(delete(Cluster).where(Cluster.cluster_id.in_(ids)))
    _write_clusters(session, clusters, members)


def built(session: Session) -> bool:
    return session.get(GraphState, 1) is not None


def sync(session: Session, *, build: bool = True) -> None:
    """Bring the maintained tables up to date with what this session changed (see the
    module's description). Cheap when nothing changed. The first use on a database whose graph
    was never built builds it (``build``: even when this session changed nothing)."""
    session.flush()
    pending = session.info.get(_PENDING)
    empty = not pending or not (pending["cases"] or pending["persons"])
    if (build or not empty) and not built(session):
        rebuild(session)
        return
    if empty or pending is None:
        return
    session.info.pop(_PENDING, None)
    _lock(session)
    touched = _with_same_person(session, pending["cases"], pending["persons"])
    new = links(session, touched)
    old = _stored_links(session, touched)
    added = [new[k] for k in new.keys() - old.keys()]
    removed = list(old.keys() - new.keys())
    changed = [new[k] for k in new.keys() & old.keys() if new[k] != old[k]]
    for i in range(0, len(removed), CHUNK):
        session.execute(delete(Link).where(tuple_(Link.source_case_id, Link.target_case_id)
                                           .in_(removed[i:i + CHUNK])))
    if added:
        session.execute(insert(Link), [{"source_case_id": s, "target_case_id": t,
                                        "link_date": d, "setting": st}
                                       for s, t, d, st in added])
    for s, t, d, st in changed:
        session.execute(update(Link).where(Link.source_case_id == s, Link.target_case_id == t)
                        .values(link_date=d, setting=st))
    seeds = {n for s, t, *_ in (*added, *changed) for n in (s, t)}
    seeds |= {n for key in removed for n in key}
    # A case whose dates changed moves its cluster's span: recompute the cluster it is in.
    for ids in _chunks(touched):
        seeds.update(session.scalars(select(ClusterMember.case_id).where(
            ClusterMember.case_id.in_(ids))))
    if seeds:
        _recluster(session, seeds)


def check(session: Session) -> list[str]:
    """Differences between the maintained tables and a computation from scratch (none when
    they agree)."""
    sync(session)
    found, members, clusters = from_scratch(session)
    problems = []
    stored_links = {(s, t): (s, t, d, st) for s, t, d, st in session.execute(
        select(Link.source_case_id, Link.target_case_id, Link.link_date, Link.setting))}
    if stored_links != found:
        extra, missing = stored_links.keys() - found.keys(), found.keys() - stored_links.keys()
        altered = [k for k in found.keys() & stored_links.keys() if found[k] != stored_links[k]]
        problems.append(f"links differ: {len(extra)} extra, {len(missing)} missing, "
                        f"{len(altered)} changed")
    stored_members = {c: k for c, k in session.execute(select(ClusterMember.case_id,
                                                              ClusterMember.cluster_id))}
    if stored_members != members:
        wrong = {c for c, _ in set(stored_members.items()) ^ set(members.items())}
        problems.append(f"memberships differ for {len(wrong)} cases")
    cols = ("cluster_id", "size", "first_date", "last_date", "span_days", "generations",
            "settings")
    stored = {r.cluster_id: {c: getattr(r, c) for c in cols}
              for r in session.execute(select(*[getattr(Cluster, c) for c in cols]))}
    fresh = {c["cluster_id"]: c for c in clusters}
    if stored != fresh:
        bad = sorted(k for k in stored.keys() | fresh.keys() if stored.get(k) != fresh.get(k))
        problems.append(f"cluster aggregates differ for {len(bad)} clusters: {bad[:10]}")
    return problems


# --- noting what changed -----------------------------------------------------------------------

def _values(obj: Any, attrs: tuple[str, ...], new: bool) -> tuple[bool, set[Any]]:
    """Whether any of ``attrs`` changed in this flush, and their old and new values."""
    state = inspect(obj)
    changed, values = new, set[Any]()
    for name in attrs:
        hist = state.attrs[name].history
        if hist.has_changes():
            changed = True
        values.update(v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None)
    return changed, values


def note_changes(session: Session) -> None:
    """Note in the session the cases and persons whose links a flush changed (called after
    each flush that holds a case, an exposure or a contact episode, by
    :mod:`fangkong.tracing.graph_hook`)."""
    pending = session.info.setdefault(_PENDING, {"cases": set(), "persons": set()})
    for group, new in ((session.new, True), (session.dirty, False), (session.deleted, True)):
        for obj in group:
            if _is_case(obj):
                changed, _ = _values(obj, _CASE_ATTRS, new)
                if changed and obj.id is not None:
                    pending["cases"].add(obj.id)
                    if obj.person_id is not None:
                        pending["persons"].add(obj.person_id)
                    if not new:  # a case moved to another person: that person's links too
                        _, people = _values(obj, ("person_id",), False)
                        pending["persons"].update(people)
            elif isinstance(obj, Exposure):
                changed, _ = _values(obj, _EXPOSURE_ATTRS, new)
                if changed:
                    _, sources = _values(obj, ("source_case_id",), False)
                    _, people = _values(obj, ("exposed_person_id",), False)
                    pending["cases"].update(sources)
                    pending["persons"].update(people)
            elif isinstance(obj, Infector):
                changed, ends = _values(obj, _INFECTOR_ATTRS, new)
                if changed:
                    pending["cases"].update(ends)
            elif isinstance(obj, ContactEpisode):
                changed, _ = _values(obj, _CONTACT_ATTRS, new)
                if changed:
                    _, ends = _values(obj, ("index_case_id", "converted_case_id"), False)
                    pending["cases"].update(ends)

