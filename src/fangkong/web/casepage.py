"""What the case page shows beyond the record: the case's transmission chain (its cluster, as
the chain API gives it to the viewer: another jurisdiction's cases masked) as a small graph
with its table, and the person's transfers as a timeline of steps."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from fangkong.case.enums import LABELS as CASE_LABELS
from fangkong.core.auth import Actor, Perm
from fangkong.isolation import transfers
from fangkong.isolation.enums import LABELS as ISO_LABELS
from fangkong.tracing import chains
from fangkong.tracing.enums import LABELS as TRACING_LABELS
from fangkong.web import i18n

_STEPS = (("created_at", "case.transfer_requested"), ("dispatched_at", "case.transfer_dispatched"),
          ("arrived_at", "case.transfer_arrived"))


def chain_view(session: Session, actor: Actor, case_id: int, lang: str) -> dict[str, Any]:
    """The case's chain: ``nodes`` (label, href, generation, masked, this case), ``edges``
    (source and target labels, date, setting) and ``chart`` (the graph app.js draws: one
    column per generation, so no two nodes overlap). A lone case has no edge."""
    info = chains.chain(session, actor=actor, case_id=case_id)
    nodes: list[dict[str, Any]] = []
    label: dict[int, str] = {}
    for n in info["nodes"]:
        if n.get("masked"):
            text = i18n.translate("case.chain_masked", lang)
            if n.get("district"):
                text += f" ({n['district']})"
            text += f" #{-n['case_id']}"
        else:
            text = n["ref"]
        label[n["case_id"]] = text
        nodes.append({"id": n["case_id"], "label": text, "generation": n["generation"],
                      "masked": bool(n.get("masked")), "self": n["case_id"] == case_id,
                      "date": n["date"],
                      "classification": i18n.label(CASE_LABELS, n["classification"], lang)
                      if n["classification"] else None,
                      "href": None if n.get("masked") else f"/cases/{n['case_id']}"})
    edges = [{"source": label[e["source"]], "target": label[e["target"]], "date": e["date"],
              "setting": TRACING_LABELS.get(e["setting"], {}).get(lang, e["setting"])}
             for e in info["edges"]]
    lanes: dict[int, int] = defaultdict(int)
    points = []
    for node in sorted(nodes, key=lambda x: (x["generation"], x["date"], x["id"])):
        y = lanes[node["generation"]]
        lanes[node["generation"]] += 1
        # generations alternate a little up and down: arrows between neighbours in one lane
        # are not one straight line over each other's labels
        points.append({"name": node["label"], "x": node["generation"] * 160,
                       "y": y * 60 + (node["generation"] % 2) * 24,
                       "href": node["href"], "self": node["self"], "masked": node["masked"]})
    chart = {"type": "graph", "nodes": points,
             "edges": [{"source": e["source"], "target": e["target"],
                        "label": e["date"].isoformat() if e["date"] else ""} for e in edges]}
    return {"nodes": nodes, "edges": edges, "chart": chart,
            "height": max(220, 60 * max(lanes.values(), default=1) + 100)}


def transfer_steps(session: Session, actor: Actor, person_id: int,
                   lang: str) -> list[dict[str, Any]] | None:
    """The person's transfers in the viewer's jurisdiction, each with its steps (requested,
    dispatched, arrived: those that happened), its kind, status and route; None when the
    viewer may not read isolation."""
    if not actor.can(Perm.isolation_read):
        return None
    out = []
    for t, origin, to in transfers.of_person(session, actor=actor, person_id=person_id):
        home = i18n.translate("case.transfer_home", lang)
        out.append({
            "kind": ISO_LABELS.get(t.kind.value, {}).get(lang, t.kind.value),
            "status": ISO_LABELS.get(t.status.value, {}).get(lang, t.status.value),
            "route": f"{origin or home} → {to or home}",
            "steps": [{"at": getattr(t, field), "what": key} for field, key in _STEPS
                      if getattr(t, field) is not None]})
    return out
