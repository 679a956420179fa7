"""Drill runs: each run is recorded with the records it made, so it can be listed and removed
whole (``fangkong drill runs``, ``fangkong drill remove RUN``).

A run tags its roots in ``drill_record`` as it makes them (persons and venues of its city, its
cases, 流调 tasks, lab, rounds, zones, quarantine sites, vehicles). What the platform's services
then hang on them (exposures, contact episodes, stays, room nights, transfers, tubes, samples,
follow-ups, tasks about them, their events and histories) is found by the database's own
references when the run is removed: the foreign keys (read from the database), the references
the samples and targets keep by trigger instead (migrations 0013, 0015, 0020), the
transmission graph's clusters (named by their first case) and a task's subject. Persons and
venues that another run still lists stay. The audit log keeps its entries (it is append-only);
the removal is one more entry, with what was removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, MetaData, Table, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import sort_tables

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import NotFound
from fangkong.drill.messages import D
from fangkong.drill.models import DrillRecord, DrillRun

CHUNK = 900  # ids per IN list (SQLite's bound parameters)
SHARED = ("person", "tracing_venue")  # kept while another run lists them
# References kept by triggers instead of foreign keys: (table, column, referenced table).
SOFT_REFS = (("testing_sample", "tube_id", "testing_tube"),
             ("testing_sample", "person_id", "person"),
             ("testing_sample", "round_id", "testing_round"),
             ("testing_target", "round_id", "testing_round"),
             ("testing_target", "person_id", "person"),
             ("testing_tube", "lab_id", "testing_lab"),
             # the rounds' kept figures (migration 0029)
             ("testing_round_figures", "round_id", "testing_round"),
             ("testing_tube_place", "round_id", "testing_round"),
             # a cluster of the transmission graph is named by its smallest case id
             ("tracing_cluster", "cluster_id", "case_episode"))
# A task's subject (``task.subject_type``) and the table it names.
SUBJECTS = {"case": "case_episode", "contact": "tracing_contact", "person": "person",
            "person_stay": "person_stay", "zone": "zone", "iso_stay": "iso_stay",
            "iso_stay_test": "iso_stay_test", "iso_transfer": "iso_transfer",
            "assist_request": "tracing_assist_request", "alert": "alert"}


def start(session: Session, actor: Actor, *, key: str, strategy: str, pack: str, city: str,
          agents: int, seed: int, days: int) -> DrillRun:
    run = DrillRun(key=key, strategy=strategy, pack=pack, city=city, agents=agents, seed=seed,
                   days=days, started_at=utc_now(), started_by=actor.username)
    session.add(run)
    session.flush()
    audit.record(session, actor, action="create", record_type="drill_run", record_ids=[run.id],
                 detail={"key": key, "strategy": strategy})
    return run


def number(session: Session, stem: str, taken: Iterable[str] = ()) -> int:
    """The next run number of the drill ``stem`` (its key without the number): one more than
    the highest of its runs recorded, skipping numbers whose key ``taken`` holds."""
    keys = session.scalars(select(DrillRun.key).where(DrillRun.key.like(f"{stem}%"))).all()
    used = {int(k[len(stem):]) for k in keys if k[len(stem):].isdigit()}
    n = max(used, default=0) + 1
    held = set(taken)
    while f"{stem}{n}" in held:
        n += 1
    return n


def tag(session: Session, run_id: int, record_type: str, ids: Iterable[int]) -> None:
    """List records of ``record_type`` (a table) as made by the run (once each)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return
    have: set[int] = set()
    for k in range(0, len(wanted), CHUNK):
        have.update(session.scalars(select(DrillRecord.record_id).where(
            DrillRecord.run_id == run_id, DrillRecord.record_type == record_type,
            DrillRecord.record_id.in_(wanted[k:k + CHUNK]))))
    rows = [{"run_id": run_id, "record_type": record_type, "record_id": i}
            for i in wanted if i not in have]
    if rows:
        session.execute(insert(DrillRecord), rows)


def tagged(session: Session, record_type: str, *, run_id: int | None = None,
           other_than: int | None = None) -> list[int]:
    """Ids of ``record_type`` listed by the run ``run_id``, or by any run but ``other_than``."""
    stmt = select(DrillRecord.record_id).where(DrillRecord.record_type == record_type)
    if run_id is not None:
        stmt = stmt.where(DrillRecord.run_id == run_id)
    if other_than is not None:
        stmt = stmt.where(DrillRecord.run_id != other_than)
    return sorted(set(session.scalars(stmt)))


def finish(session: Session, run_id: int) -> None:
    run = session.get(DrillRun, run_id)
    if run is not None:
        run.finished_at = utc_now()


@dataclass
class RunInfo:
    id: int
    key: str
    strategy: str
    pack: str
    city: str
    agents: int
    seed: int
    days: int
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    records: dict[str, int] = field(default_factory=dict)


def list_runs(session: Session, *, actor: Actor) -> list[RunInfo]:
    actor.require(Perm.audit_read)
    counts: dict[int, dict[str, int]] = {}
    for run_id, kind, n in session.execute(
            select(DrillRecord.run_id, DrillRecord.record_type, func.count())
            .group_by(DrillRecord.run_id, DrillRecord.record_type)):
        counts.setdefault(run_id, {})[kind] = int(n)
    return [RunInfo(id=r.id, key=r.key, strategy=r.strategy, pack=r.pack, city=r.city,
                    agents=r.agents, seed=r.seed, days=r.days, started_at=r.started_at,
                    finished_at=r.finished_at, started_by=r.started_by,
                    records=dict(sorted(counts.get(r.id, {}).items())))
            for r in session.scalars(select(DrillRun).order_by(DrillRun.id))]


def find(session: Session, run: str) -> DrillRun:
    """A run by its id or its key."""
    found = session.scalar(select(DrillRun).where(DrillRun.key == run))
    if found is None and run.isdigit():
        found = session.get(DrillRun, int(run))
    if found is None:
        raise NotFound(D("run_not_found", run=run))
    return found


@dataclass
class Removal:
    run: str
    removed: dict[str, int]
    kept: dict[str, int]
    checkins: str


def remove(session: Session, *, actor: Actor, run: str) -> Removal:
    """Remove everything the run made, in the caller's transaction (all or nothing), audited.
    The run's check-in store (files) is for the caller to delete once committed."""
    actor.require(Perm.user_admin)
    found = find(session, run)
    roots: dict[str, set[int]] = {}
    for kind, record_id in session.execute(select(
            DrillRecord.record_type, DrillRecord.record_id).where(
            DrillRecord.run_id == found.id)):
        roots.setdefault(kind, set()).add(int(record_id))
    kept: dict[str, int] = {}
    for kind in SHARED:
        mine = roots.get(kind, set())
        other = set(tagged(session, kind, other_than=found.id)) & mine
        if other:
            roots[kind] = mine - other
            kept[kind] = len(other)
    removed = _remove(session.connection(), roots, {k: set(tagged(
        session, k, other_than=found.id)) for k in SHARED})
    session.execute(delete(DrillRecord).where(DrillRecord.run_id == found.id))
    session.execute(delete(DrillRun).where(DrillRun.id == found.id))
    session.expunge_all()
    audit.record(session, actor, action="delete", record_type="drill_run",
                 record_ids=[found.id], detail={"key": found.key, "removed": removed,
                                                "kept": kept},
                 note=f"drill run {found.key} removed with everything it made")
    from fangkong.core.config import get_settings

    store = get_settings().data_dir / "drill" / f"checkins-{found.key}"
    return Removal(run=found.key, removed=removed, kept=kept, checkins=str(store))


def _remove(conn: Connection, roots: dict[str, set[int]],
            keep: dict[str, set[int]]) -> dict[str, int]:
    """Delete the roots and every row that refers to them (transitively), children first."""
    meta = MetaData()
    meta.reflect(bind=conn)
    refs: dict[str, list[tuple[Table, str]]] = {}  # referenced table -> (table, column)
    for table in meta.tables.values():
        for fk in table.foreign_keys:
            refs.setdefault(fk.column.table.name, []).append((table, fk.parent.name))
    for name, column, parent in SOFT_REFS:
        if name in meta.tables:
            refs.setdefault(parent, []).append((meta.tables[name], column))
    ids: dict[str, set[int]] = {k: set(v) for k, v in roots.items() if v}
    by_ref: dict[str, list[tuple[str, set[int]]]] = {}  # tables without an id: column, ids
    todo = [(k, set(v)) for k, v in ids.items()]
    task = meta.tables.get("task")
    subject = {v: k for k, v in SUBJECTS.items()}
    while todo:
        parent, new = todo.pop()
        wanted = sorted(new)
        found: dict[str, set[int]] = {}
        for table, column in refs.get(parent, []):
            if table.name == parent and column == "id":
                continue
            if "id" not in table.c or [c.name for c in table.primary_key] != ["id"]:
                by_ref.setdefault(table.name, []).append((column, set(wanted)))
                continue
            for k in range(0, len(wanted), CHUNK):
                found.setdefault(table.name, set()).update(conn.scalars(
                    select(table.c.id).where(table.c[column].in_(wanted[k:k + CHUNK]))))
        if task is not None and parent in subject:
            for k in range(0, len(wanted), CHUNK):
                found.setdefault("task", set()).update(conn.scalars(select(task.c.id).where(
                    task.c.subject_type == subject[parent],
                    task.c.subject_id.in_(wanted[k:k + CHUNK]))))
        for name, got in found.items():
            fresh = got - ids.get(name, set()) - keep.get(name, set())
            if fresh:
                ids.setdefault(name, set()).update(fresh)
                todo.append((name, fresh))
    extra = [(meta.tables[parent], meta.tables[name]) for name, _, parent in SOFT_REFS
             if name in meta.tables and parent in meta.tables]
    order = list(reversed(sort_tables(meta.tables.values(), extra_dependencies=extra)))
    removed: dict[str, int] = {}
    for table in order:
        n = 0
        for column, values in by_ref.get(table.name, []):
            wanted = sorted(values)
            for k in range(0, len(wanted), CHUNK):
                n += conn.execute(delete(table).where(
                    table.c[column].in_(wanted[k:k + CHUNK]))).rowcount or 0
        wanted = sorted(ids.get(table.name, set()))
        for k in range(0, len(wanted), CHUNK):
            n += conn.execute(delete(table).where(
                table.c.id.in_(wanted[k:k + CHUNK]))).rowcount or 0
        if n:
            removed[table.name] = n
    return dict(sorted(removed.items()))
