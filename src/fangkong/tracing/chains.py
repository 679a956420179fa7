"""Transmission chains and clusters (networkx), and Go.Data-style tracing indicators.

A case-to-case link is a confirmed, active exposure whose exposed person has a case of their own
(neither case discarded), or a contact episode converted to a case. Clusters are the weakly
connected components of those links. Only links are loaded (one query), never the contacts who
did not become cases, so the graph stays small next to the contact tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import networkx as nx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.case.models import Case
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import as_utc, utc_now
from fangkong.core.errors import NotFound
from fangkong.tracing.enums import ContactStatus, Review
from fangkong.tracing.models import ContactEpisode, ContactStatusChange, Exposure

ACTIVE = (ContactStatus.identified, ContactStatus.notified, ContactStatus.under_management)


def links(session: Session, cases_: set[int] | None = None
          ) -> list[tuple[int, int, date, str]]:
    """(source case, target case, date of last exposure, setting) of every link, or of the
    links that touch the given cases (by the indexes on source case and exposed person)."""
    src, dst = aliased(Case), aliased(Case)
    ok = (src.classification != Classification.discarded,
          dst.classification != Classification.discarded)
    q1 = (select(Exposure.source_case_id, dst.id, Exposure.last_exposure, Exposure.setting)
          .join(src, src.id == Exposure.source_case_id)
          .join(dst, dst.person_id == Exposure.exposed_person_id)
          .where(Exposure.active.is_(True), Exposure.review == Review.confirmed,
                 dst.id != src.id, *ok))
    q2 = (select(ContactEpisode.index_case_id, ContactEpisode.converted_case_id,
                 ContactEpisode.last_exposure)
          .join(src, src.id == ContactEpisode.index_case_id)
          .join(dst, dst.id == ContactEpisode.converted_case_id).where(*ok))
    if cases_ is not None:
        ids = list(cases_)
        persons = list(session.scalars(select(Case.person_id).where(Case.id.in_(ids))))
        rows1 = [*session.execute(q1.where(Exposure.source_case_id.in_(ids))).all(),
                 *session.execute(q1.where(Exposure.exposed_person_id.in_(persons))).all()]
        rows2 = [*session.execute(q2.where(ContactEpisode.index_case_id.in_(ids))).all(),
                 *session.execute(q2.where(ContactEpisode.person_id.in_(persons))).all()]
        by_exposure, by_conversion = rows1, rows2
    else:
        # Driven by the persons who are cases (few) through the index on the exposed person,
        # rather than by a scan of every exposure.
        q1 = q1.where(Exposure.exposed_person_id.in_(select(Case.person_id)))
        by_exposure, by_conversion = (list(session.execute(q1).all()),
                                      list(session.execute(q2).all()))
    out: dict[tuple[int, int], tuple[int, int, date, str]] = {}
    for s, t, d, setting in by_exposure:
        out[(s, t)] = (s, t, d, str(setting.value if hasattr(setting, "value") else setting))
    for s2, t2, d2 in by_conversion:
        if t2 is not None:
            out.setdefault((s2, t2), (s2, t2, d2, "other"))
    return list(out.values())


def graph(session: Session) -> nx.DiGraph:
    g = nx.DiGraph()
    for s, t, d, setting in links(session):
        g.add_edge(s, t, date=d, setting=setting)
    return g


def component(session: Session, case_id: int, limit: int = 100_000) -> nx.DiGraph:
    """The case's cluster, walked outwards level by level with indexed queries (no need to
    load every link)."""
    g = nx.DiGraph()
    g.add_node(case_id)
    frontier = {case_id}
    while frontier and g.number_of_nodes() < limit:
        found = links(session, frontier)
        new: set[int] = set()
        for s, t, d, setting in found:
            for n in (s, t):
                if n not in g:
                    new.add(n)
            g.add_edge(s, t, date=d, setting=setting)
        frontier = new
    return g


def _generations(sub: nx.DiGraph) -> dict[int, int]:
    """Generation of each case: 0 for cases nobody infected, else one more than the deepest
    source (when the links have a cycle: the shortest distance from a case nobody infected)."""
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


def _case_rows(session: Session, ids: set[int]) -> dict[int, Any]:
    """What the graph shows of each case (plain rows: no ORM objects, no history)."""
    out: dict[int, Any] = {}
    wanted = list(ids)
    for i in range(0, len(wanted), 10_000):
        for row in session.execute(select(
                Case.id, Case.ref, Case.classification, Case.onset_date,
                Case.first_positive_sample_date, Case.reported_at).where(
                Case.id.in_(wanted[i:i + 10_000]))):
            out[row.id] = row
    return out


def _describe(session: Session, sub: nx.DiGraph, layout: str,
              rows: dict[int, Any] | None = None) -> dict[str, Any]:
    rows = rows if rows is not None else _case_rows(session, set(sub.nodes))
    gen = _generations(sub)

    def when(c: Any) -> date:
        return c.onset_date or c.first_positive_sample_date or c.reported_at.date()
    nodes = []
    for n in sorted(sub.nodes):
        c = rows[n]
        node = {"case_id": n, "ref": c.ref, "classification": c.classification.value,
                "onset_date": c.onset_date, "reported_at": c.reported_at,
                "generation": gen.get(n, 0), "date": when(c)}
        nodes.append(node)
    if layout == "timeline":
        nodes.sort(key=lambda x: (x["date"], x["generation"], x["case_id"]))
        for lane, node in enumerate(nodes):
            node["x"], node["y"] = node["date"].isoformat(), lane
    edges = [{"source": s, "target": t, "date": a["date"], "setting": a["setting"]}
             for s, t, a in sorted(sub.edges(data=True))]
    dates = [when(rows[n]) for n in sub.nodes]
    return {"cluster_id": min(sub.nodes), "size": sub.number_of_nodes(),
            "first_date": min(dates), "last_date": max(dates),
            "span_days": (max(dates) - min(dates)).days,
            "generations": max(gen.values()) + 1 if gen else 1,
            "settings": dict(Counter(a["setting"] for _, _, a in sub.edges(data=True))),
            "layout": layout, "nodes": nodes, "edges": edges}


def clusters(session: Session, *, actor: Actor, min_size: int = 2) -> list[dict[str, Any]]:
    """Every cluster with at least ``min_size`` cases that has a case in the actor's
    jurisdiction: id (its smallest case id), size, span, generations, settings."""
    actor.require(Perm.case_read)
    g = graph(session)
    visible = set(session.scalars(scope(select(Case.id), actor, Case.owning_division_code,
                                        Case.current_division_code)))
    comps = [c for c in nx.weakly_connected_components(g)
             if len(c) >= min_size and c & visible]
    rows = _case_rows(session, set().union(*comps)) if comps else {}
    out = []
    for comp in comps:
        info = _describe(session, g.subgraph(comp), "network", rows)
        out.append({k: v for k, v in info.items() if k not in ("nodes", "edges", "layout")})
    out.sort(key=lambda c: (-c["size"], c["cluster_id"]))
    audit.record(session, actor, action="read", record_type="cluster",
                 record_ids=[c["cluster_id"] for c in out])
    return out


def chain(session: Session, *, actor: Actor, case_id: int,
          layout: str = "network") -> dict[str, Any]:
    """The cluster of a case as nodes and edges with dates: ``network`` or ``timeline`` (by
    onset date, one lane per case)."""
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    sub = component(session, case_id)
    comp = set(sub.nodes)
    info = _describe(session, sub, layout)
    audit.record(session, actor, action="read", record_type="chain",
                 record_ids=sorted(comp), fields=["onset_date", "reported_at"])
    return info


def cluster(session: Session, *, actor: Actor, cluster_id: int,
            layout: str = "network") -> dict[str, Any]:
    info = chain(session, actor=actor, case_id=cluster_id, layout=layout)
    if info["cluster_id"] != cluster_id:
        raise NotFound(f"cluster {cluster_id} not found (its case is in cluster "
                       f"{info['cluster_id']})")
    return info


def indicators(session: Session, *, actor: Actor, start: date, end: date,
               not_seen_days: int, max_onset_gap_days: int) -> dict[str, Any]:
    """Go.Data-style indicators for cases reported on days start..end (UTC):
    share of new cases who were known contacts before their report; share of cases in known
    chains; active contacts whose status has not changed for ``not_seen_days``; links whose
    onset gap is negative or over ``max_onset_gap_days`` (a missing intermediate case?)."""
    actor.require(Perm.case_read)
    lo = datetime.combine(start, time(0), UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), UTC)
    new_q = scope(select(Case.id, Case.person_id, Case.reported_at).where(
        Case.reported_at >= lo, Case.reported_at < hi,
        Case.classification != Classification.discarded), actor, Case.owning_division_code)
    new = list(session.execute(new_q))
    first_seen = dict(session.execute(
        select(ContactEpisode.person_id, func.min(ContactEpisode.identified_at))
        .where(ContactEpisode.person_id.in_(new_q.with_only_columns(Case.person_id)))
        .group_by(ContactEpisode.person_id)).all())
    were_contacts = [c for c in new if c.person_id in first_seen
                     and as_utc(first_seen[c.person_id]) <= as_utc(c.reported_at)]
    g = graph(session)
    in_chains = [c for c in new if c.id in g]
    cutoff = utc_now() - timedelta(days=not_seen_days)
    last_change = (select(ContactStatusChange.contact_id,
                          func.max(ContactStatusChange.at).label("at"))
                   .group_by(ContactStatusChange.contact_id).subquery())
    stale = session.scalar(scope(select(func.count()).select_from(ContactEpisode).join(
        last_change, last_change.c.contact_id == ContactEpisode.id).where(
        ContactEpisode.status.in_(ACTIVE), last_change.c.at < cutoff), actor,
        ContactEpisode.division_code)) or 0
    rows = _case_rows(session, set(g.nodes))
    gaps = []
    for s, t in g.edges:
        a, b = rows[s].onset_date, rows[t].onset_date
        if a and b and not 0 <= (b - a).days <= max_onset_gap_days:
            gaps.append({"source": s, "target": t, "onset_gap_days": (b - a).days})
    audit.record(session, actor, action="read", record_type="indicator",
                 detail={"start": start.isoformat(), "end": end.isoformat()})
    n = len(new)
    return {"start": start, "end": end, "new_cases": n,
            "new_cases_known_contacts": len(were_contacts),
            "share_known_contacts": round(len(were_contacts) / n, 4) if n else None,
            "new_cases_in_chains": len(in_chains),
            "share_in_chains": round(len(in_chains) / n, 4) if n else None,
            "contacts_not_seen": stale, "not_seen_days": not_seen_days,
            "suspicious_links": sorted(gaps, key=lambda x: (x["source"], x["target"]))}

