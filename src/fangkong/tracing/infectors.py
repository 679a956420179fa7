"""Who infected whom, as an epidemiologist decides it (services; they never commit).

The transmission graph links cases from exposures and converted contact episodes
(:mod:`fangkong.tracing.graph`). An epidemiologist who knows better sets the infector of a case
(the one link into it) or clears it (the source is unknown: no link into it), always with a
reason; the decision is a row of ``tracing_infector`` that the graph follows, audited with the
infector before and after. Both cases must be the epidemiologist's to read (another
jurisdiction's case is answered as one that does not exist), neither discarded, and the link
must not close a cycle (the infector downstream of the case).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from sqlalchemy.orm import Session

from fangkong.case import service as cases
from fangkong.case.enums import Classification
from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.tracing.chains import component
from fangkong.tracing.messages import T
from fangkong.tracing.models import Infector
from fangkong.tracing.schemas import InfectorSet


def decided(session: Session, *, actor: Actor, case_id: int) -> Infector | None:
    """The decision about the case's infector (None: none made; the graph's links stand)."""
    actor.require(Perm.case_read)
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    return session.get(Infector, case_id)


def infectors_of(session: Session, *, actor: Actor, case_id: int) -> list[int]:
    """The cases linked into this one in the transmission graph (its infectors as the graph
    has them now: decided, or given by exposures)."""
    actor.require(Perm.case_read)
    cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    g = component(session, case_id)
    return sorted(g.predecessors(case_id))


def _refuse(text: Any) -> Invalid:
    return Invalid(T("infector_refused"), problems=[Problem(text, field="infector_case_id")])


def set_infector(session: Session, *, actor: Actor, case_id: int,
                 data: InfectorSet) -> Infector:
    """Set (``infector_case_id``) or clear (None) the infector of a case, with the reason.
    Refused: a stale version (Conflict), an infector that is the case itself, not a case the
    actor may read, discarded, or downstream of the case (a cycle) (Invalid, on the field)."""
    actor.require(Perm.case_write)
    case = cases.get(session, actor=actor, case_id=case_id, audit_read=False)
    row = session.get(Infector, case_id, with_for_update=True)
    if data.version != (row.version if row is not None else 0):
        raise Conflict(T("infector_stale"))
    source_id = data.infector_case_id
    if case.classification == Classification.discarded:
        raise Invalid(T("case_discarded", id=case_id))
    if source_id is not None:
        if source_id == case_id:
            raise _refuse(T("infector_self"))
        try:
            source = cases.get(session, actor=actor, case_id=source_id, audit_read=False)
        except NotFound:
            raise _refuse(T("infector_unknown")) from None
        if source.classification == Classification.discarded:
            raise _refuse(T("infector_discarded"))
        g = component(session, case_id)
        if source_id in g and nx.has_path(g, case_id, source_id):
            raise _refuse(T("infector_cycle", ref=source.ref))
    before = row.infector_case_id if row is not None else None
    if row is not None and before == source_id:
        raise _refuse(T("infector_same"))
    now = utc_now()
    if row is None:
        row = Infector(case_id=case_id, infector_case_id=source_id, reason=data.reason,
                       set_by=actor.username, set_at=now, version=1)
        session.add(row)
    else:
        row.infector_case_id, row.reason = source_id, data.reason
        row.set_by, row.set_at, row.version = actor.username, now, row.version + 1
    session.flush()
    audit.record(session, actor, action="update", record_type="case_infector",
                 record_ids=[case_id], fields=["infector_case_id"], note=data.reason,
                 detail={"from": before, "to": source_id})
    return row


def find_case(session: Session, *, actor: Actor, ref: str) -> int | None:
    """The id of the case of the actor's jurisdiction with this case number, if any."""
    found = cases.find_by_ref(session, actor=actor, ref=ref.strip())
    return found.id if found is not None else None

