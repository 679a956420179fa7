"""Transmission chains and clusters, and Go.Data-style tracing indicators, read from the
maintained graph (:mod:`fangkong.tracing.graph`): a case's cluster is its members and their
links (indexed reads), the cluster list is a table, the indicators are SQL aggregates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import networkx as nx
from sqlalchemy import Integer, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm, scope
from fangkong.core.clock import utc_now
from fangkong.core.errors import NotFound
from fangkong.tracing import graph as maintained
from fangkong.tracing.enums import ContactStatus
from fangkong.tracing.episodes import case_values
from fangkong.tracing.messages import T
from fangkong.tracing.models import Cluster, ClusterMember, ContactEpisode, Link

ACTIVE = (ContactStatus.identified, ContactStatus.notified, ContactStatus.under_management)


def component(session: Session, case_id: int) -> nx.DiGraph:
    """The case's cluster: its members and the links between them (a lone case if it has no
    link)."""
    maintained.sync(session)
    cluster_id = session.scalar(select(ClusterMember.cluster_id).where(
        ClusterMember.case_id == case_id))
    g = nx.DiGraph()
    g.add_node(case_id)
    if cluster_id is None:
        return g
    member = aliased(ClusterMember)
    for s, t, d, setting in session.execute(
            select(Link.source_case_id, Link.target_case_id, Link.link_date, Link.setting)
            .join(member, member.case_id == Link.source_case_id)
            .where(member.cluster_id == cluster_id)):
        g.add_edge(s, t, date=d, setting=setting)
    return g


def _describe(session: Session, sub: nx.DiGraph, layout: str,
              visible: set[int] | None = None) -> dict[str, Any]:
    """Nodes and edges of a cluster. A case the reader may not read (``visible``: the ones
    they may; None, all) is a masked node: a negative number of its own in place of its id,
    its generation, date and county, nothing of the record (no ref, classification, dates of
    onset or report); its links keep their dates and settings."""
    rows = maintained.case_rows(session, set(sub.nodes))
    gen = maintained.generations(sub)
    hidden = sorted(set(sub.nodes) - visible) if visible is not None else []
    alias = {n: -k for k, n in enumerate(hidden, start=1)}
    county = {i: code[:6] for i, code in case_values(
        session, "owning_division_code", hidden).items()}
    nodes = []
    for n in sorted(sub.nodes):
        c = rows[n]
        node = {"case_id": alias.get(n, n), "ref": c.ref, "classification": c.classification.value,
                "onset_date": c.onset_date, "reported_at": c.reported_at,
                "generation": gen.get(n, 0), "date": maintained.case_date(c)}
        if n in alias:
            node |= {"ref": None, "classification": None, "onset_date": None,
                     "reported_at": None, "masked": True, "district": county.get(n)}
        nodes.append(node)
    if layout == "timeline":
        nodes.sort(key=lambda x: (x["date"], x["generation"], x["case_id"]))
        for lane, node in enumerate(nodes):
            node["x"], node["y"] = node["date"].isoformat(), lane
    edges = [{"source": alias.get(s, s), "target": alias.get(t, t), "date": a["date"],
              "setting": a["setting"]} for s, t, a in sorted(sub.edges(data=True))]
    totals = maintained.aggregates(sub, rows, gen)
    if totals["cluster_id"] in alias:
        totals["cluster_id"] = None  # another jurisdiction's case
    return {**totals, "layout": layout, "nodes": nodes, "edges": edges}


def clusters(session: Session, *, actor: Actor, min_size: int = 2) -> list[dict[str, Any]]:
    """Every cluster with at least ``min_size`` cases that has a case in the actor's
    jurisdiction: id (its smallest case id; None when that case is another jurisdiction's),
    size, span, generations, settings."""
    actor.require(Perm.case_read)
    maintained.sync(session)
    readable = cases.readable(actor).subquery()
    visible = select(ClusterMember.cluster_id).join(readable,
                                                    readable.c.id == ClusterMember.case_id)
    cols = ("cluster_id", "size", "first_date", "last_date", "span_days", "generations",
            "settings")
    stmt = select(*[getattr(Cluster, c) for c in cols]).where(Cluster.size >= min_size)
    if not actor.national:
        stmt = stmt.where(Cluster.cluster_id.in_(visible))
    out = [dict(zip(cols, row, strict=True)) for row in session.execute(
        stmt.order_by(Cluster.size.desc(), Cluster.cluster_id))]
    audit.record(session, actor, action="read", record_type="cluster",
                 record_ids=[c["cluster_id"] for c in out])
    if not actor.national:  # a cluster named by another jurisdiction's case: not its id
        ids = [c["cluster_id"] for c in out]
        mine = {i for start in range(0, len(ids), 900) for i in cases.readable_ids(
            session, actor=actor, ids=ids[start:start + 900])}
        for c in out:
            c["cluster_id"] = c["cluster_id"] if c["cluster_id"] in mine else None
    return out


def chain(session: Session, *, actor: Actor, case_id: int,
          layout: str = "network") -> dict[str, Any]:
    """The cluster of a case as nodes and edges with dates: ``network`` or ``timeline`` (by
    onset date, one lane per case). Cases of the cluster that the actor may not read (another
    district's, across a border) are masked nodes (:func:`_describe`)."""
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    sub = component(session, case_id)
    comp = sorted(sub.nodes)
    visible = {i for start in range(0, len(comp), 900) for i in cases.readable_ids(
        session, actor=actor, ids=comp[start:start + 900])}
    info = _describe(session, sub, layout, visible)
    audit.record(session, actor, action="read", record_type="chain",
                 record_ids=sorted(visible), fields=["onset_date", "reported_at"])
    return info


def cluster(session: Session, *, actor: Actor, cluster_id: int,
            layout: str = "network") -> dict[str, Any]:
    info = chain(session, actor=actor, case_id=cluster_id, layout=layout)
    if info["cluster_id"] != cluster_id:
        raise NotFound(T("cluster_not_found", id=cluster_id, actual=info["cluster_id"]))
    return info


def _ind_counts(session: Session, actor: Actor, lo: datetime, hi: datetime) -> Any:
    case = cases.columns().subquery("c").c
    known = exists().where(ContactEpisode.person_id == case.person_id,
                           ContactEpisode.identified_at <= case.reported_at)
    chained = exists().where(ClusterMember.case_id == case.id)
    return session.execute(scope(select(
        func.count(), func.count().filter(known), func.count().filter(chained)).where(
        case.reported_at >= lo, case.reported_at < hi,
        case.classification != Classification.discarded), actor,
        case.owning_division_code)).one()


def _ind_stale(session: Session, actor: Actor, cutoff: datetime) -> int:
    return session.scalar(scope(select(func.count()).select_from(ContactEpisode).where(
        ContactEpisode.status.in_(ACTIVE), ContactEpisode.status_changed_at < cutoff), actor,
        ContactEpisode.division_code)) or 0


def _ind_gaps(session: Session, actor: Actor, max_onset_gap_days: int) -> list[dict[str, int]]:
    src_case, dst_case = cases.columns().subquery("src"), cases.columns().subquery("dst")
    src, dst = src_case.c, dst_case.c
    if session.get_bind().dialect.name == "postgresql":
        gap: Any = dst.onset_date - src.onset_date
    else:
        gap = func.cast(func.julianday(dst.onset_date) - func.julianday(src.onset_date),
                        Integer)
    suspicious = scope(select(Link.source_case_id, Link.target_case_id, gap)
                       .join(src_case, src.id == Link.source_case_id)
                       .join(dst_case, dst.id == Link.target_case_id)
                       .where(src.onset_date.is_not(None), dst.onset_date.is_not(None),
                              or_(gap < 0, gap > max_onset_gap_days)), actor,
                       src.owning_division_code, dst.owning_division_code)
    return [{"source": s, "target": t, "onset_gap_days": int(d)}
            for s, t, d in session.execute(suspicious.order_by(Link.source_case_id,
                                                              Link.target_case_id))]


def indicators(session: Session, *, actor: Actor, start: date, end: date,
               not_seen_days: int, max_onset_gap_days: int) -> dict[str, Any]:
    """Go.Data-style indicators for cases reported on days start..end (UTC):
    share of new cases who were known contacts before their report; share of cases in known
    chains; active contacts whose status has not changed for ``not_seen_days``; links whose
    onset gap is negative or over ``max_onset_gap_days`` (a missing intermediate case?)."""
    actor.require(Perm.case_read)
    maintained.sync(session)
    if session.get_bind().dialect.name == "postgresql":
        # The per-case probes make the planner's estimate high enough to compile the query
        # with LLVM (JIT), which costs more (about 140 ms at 50,000 cases) than it saves.
        session.execute(text("SET LOCAL jit = off"))
    lo = datetime.combine(start, time(0), UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), UTC)
    n, were_contacts, in_chains = _ind_counts(session, actor, lo, hi)
    stale = _ind_stale(session, actor, utc_now() - timedelta(days=not_seen_days))
    gaps = _ind_gaps(session, actor, max_onset_gap_days)
    audit.record(session, actor, action="read", record_type="indicator",
                 detail={"start": start.isoformat(), "end": end.isoformat()})
    return {"start": start, "end": end, "new_cases": n,
            "new_cases_known_contacts": were_contacts,
            "share_known_contacts": round(were_contacts / n, 4) if n else None,
            "new_cases_in_chains": in_chains,
            "share_in_chains": round(in_chains / n, 4) if n else None,
            "contacts_not_seen": stale, "not_seen_days": not_seen_days,
            "suspicious_links": gaps}
