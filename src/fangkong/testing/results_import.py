"""The results import: a lab's results (``tube_id,result,reported_at,lab_id[,ct,
received_at,tested_at]``), checked, merged whole or not at all, and what they set off
(:mod:`fangkong.testing.followup`) in the same transaction."""
from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    and_,
    case,
    exists,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from fangkong.core import audit
from fangkong.core.auth import Actor, Perm
from fangkong.core.db import UTCDateTime, is_postgres
from fangkong.core.errors import Problem
from fangkong.core.messages import Text
from fangkong.core.tabular import Collector
from fangkong.testing import bulk, figures, followup, service, staging
from fangkong.testing.enums import RESULT_ALIASES, MemberStatus, Result
from fangkong.testing.messages import T
from fangkong.testing.models import FollowupMember, Lab, Sample, Tube
from fangkong.testing.schemas import ImportReport

RESULT_COLUMNS = ["tube_id", "result", "reported_at", "lab_id", "ct", "received_at",
                  "tested_at"]
RESULT_REQUIRED = ["tube_id", "result", "reported_at", "lab_id"]


def import_results(session: Session, *, actor: Actor, source: Path | bytes,
                   filename: str | None = None, encoding: str | None = None,
                   timings: dict[str, float] | None = None) -> ImportReport:
    """Lab results ``tube_id,result,reported_at,lab_id[,ct,received_at,tested_at]`` (CSV,
    Parquet or XLSX); a tube has one result. Positive and invalid tubes and re-tests set off
    followup.py at once."""
    actor.require(Perm.testing_write)
    clock = staging.Clock(timings)
    frame = staging.read(source, RESULT_COLUMNS, RESULT_REQUIRED, filename, encoding)
    collector = frame.collector
    clock.lap("read")
    checks = bulk.Checks(frame)
    barcode = checks.text("tube_id", 64)
    result = checks.distinct("result", pa.string(), _result_word, blank=T("line.required"))
    times = staging.Times()
    stamps = {key: checks.distinct(key, staging.TIMESTAMP_UTC, times.judge,
                                   blank=T("line.required") if key == "reported_at" else None)
              for key in ("reported_at", "received_at", "tested_at")}
    for key in ("received_at", "tested_at"):
        checks.add(pc.greater(stamps[key], stamps["reported_at"]), key,
                   lambda _row: T("line.after_reported"))
    labs = staging.by_code_or_id(session, Lab)
    lab = checks.distinct("lab_id", pa.int64(), staging.lookup(labs, "lab"),
                          blank=T("line.required"))
    ct = checks.distinct("ct", pa.float64(), _ct)
    checks.report()
    clock.lap("check lines")
    rows = len(frame)
    collector.check()
    _same_tube(frame.table.column("line"), barcode, collector)
    stage = staging.Stage(session, "testing_result_stage", [
        Column("line", Integer), Column("barcode", String(64)), Column("result", String(20)),
        Column("reported_at", UTCDateTime), Column("lab_id", Integer), Column("ct", Float),
        Column("received_at", UTCDateTime), Column("tested_at", UTCDateTime)])
    with staging.batch(session, stage):
        stage.write(pa.table({"line": frame.table.column("line"), "barcode": barcode,
                              "result": result, "reported_at": stamps["reported_at"],
                              "lab_id": lab, "ct": ct, "received_at": stamps["received_at"],
                              "tested_at": stamps["tested_at"]}))
        clock.lap("stage")
        stage.analyze()
        candidates = _check_results(session, actor, stage.table, collector)
        clock.lap("check")
        collector.check()
        fresh = _merge_results(session, stage.table, clock)
        effects = followup.process(session, actor, candidates)
        clock.lap("positive pools")
    audit.record(session, actor, action="import", record_type="testing_result",
                 fields=RESULT_COLUMNS, detail={"file": frame.filename, "sha256": frame.sha256,
                                                "rows": rows, "inserted": fresh})
    return ImportReport(file=frame.filename, rows=rows, inserted=fresh, unchanged=rows - fresh,
                        positive_tubes=effects.positive_tubes,
                        followups_opened=effects.followups_opened,
                        members_resolved=effects.members_resolved, cases=len(effects.cases),
                        known_cases=len(effects.known_cases))


def _same_tube(lines: Any, barcode: pa.Array, collector: Collector) -> None:
    """Lines naming the tube of an earlier line (a hash aggregate in Arrow)."""
    keys = pa.table({"barcode": barcode, "line": lines})
    per = keys.group_by("barcode").aggregate([("line", "count"), ("line", "min")])
    again = per.filter(pc.greater(per.column("line_count"), 1))
    if not len(again):
        return
    first = dict(zip(again.column("barcode").to_pylist(), again.column("line_min").to_pylist(),
                     strict=True))
    picked = keys.filter(pc.is_in(keys.column("barcode"),
                                  value_set=again.column("barcode").combine_chunks()))
    for row in sorted(picked.to_pylist(), key=lambda row: row["line"]):
        if row["line"] != first[row["barcode"]]:
            collector.add(row["line"], [Problem(T("same_tube", line=first[row["barcode"]]),
                                                field="tube_id")])


def _result_word(value: str) -> tuple[str | None, Text | None]:
    word = value.strip().lower()
    found = RESULT_ALIASES.get(word)
    if found is None:
        return None, (T("line.result_word") if word else T("line.required"))
    return found.name, None


def _ct(value: str) -> tuple[float | None, Text | None]:
    try:
        ct = float(value.strip())
    except ValueError:
        ct = -1.0
    if not 0 <= ct <= 60:
        return None, T("line.ct")
    return ct, None


def _check_results(session: Session, actor: Actor, s: Table,
                   collector: Collector) -> list[int]:
    """Report what is wrong; return the tubes that may set something off (a positive or
    invalid result, or a single tube of a pending member), found in the same join of the
    file with the tubes (a second join took 0.4 s for a city's results)."""
    limit = collector.limit
    t, sm, fm = Tube.__table__, Sample.__table__, FollowupMember.__table__
    joined = s.outerjoin(t, t.c.barcode == s.c.barcode)
    problem = or_(t.c.id.is_(None), t.c.members == 0,
                  and_(t.c.result.is_not(None), or_(t.c.result != s.c.result,
                                                    t.c.reported_at != s.c.reported_at)),
                  s.c.reported_at < t.c.first_sampled_at)
    pending = exists().where(sm.c.tube_id == t.c.id, fm.c.person_id == sm.c.person_id,
                             fm.c.status == MemberStatus.pending.name)
    candidate = and_(t.c.result.is_(None),
                     or_(s.c.result.in_([Result.positive.name, Result.invalid.name]),
                         and_(t.c.members == 1, pending)))
    rows = session.execute(
        select(s.c.line, s.c.barcode, t.c.id, t.c.members, t.c.result, t.c.reported_at,
               s.c.result, s.c.reported_at, t.c.first_sampled_at,
               case((problem, 1), else_=0))
        .select_from(joined).where(or_(problem, candidate))).all()
    problems = sorted(row[:9] for row in rows if row[9])
    for line, barcode, tube_id, members, old, old_at, new, new_at, first in problems[:limit]:
        field = "tube_id"
        if tube_id is None:
            msg = T("line.unknown_tube", barcode=barcode)
        elif not members:
            msg = T("line.never_sampled", barcode=barcode)
        elif old is not None and (getattr(old, "name", old) != new or old_at != new_at):
            field = "result"
            msg = T("line.other_result", barcode=barcode, result=getattr(old, "value", old),
                    at=old_at.isoformat() if old_at else "?")
        else:
            field = "reported_at"
            msg = T("line.before_first", at=first.isoformat())
        collector.add(line, [Problem(msg, field=field)])
    if not actor.national:
        rounds = session.scalars(select(t.c.round_id).join(s, s.c.barcode == t.c.barcode)
                                 .distinct()).all()
        hidden = []
        for round_id in rounds:
            try:
                service.get_round(session, actor=actor, round_id=round_id)
            except Exception:  # NotFound: not the actor's round
                hidden.append(round_id)
        if hidden:
            lines = session.execute(select(s.c.line, s.c.barcode).join(
                t, t.c.barcode == s.c.barcode).where(t.c.round_id.in_(hidden))
                .order_by(s.c.line).limit(limit)).all()
            staging.report_lines(collector, lines, lambda row: T("line.outside", barcode=row[1]),
                                 "tube_id")
    return [row[2] for row in rows if not row[9]]


def _merge_results(session: Session, s: Table, clock: staging.Clock) -> int:
    """Write the new results; return how many tubes got their result now."""
    t = cast(Table, Tube.__table__)
    # A Core UPDATE (the ORM's RETURNING was a third of the statement's time for a city's
    # results), loaded tubes expired.
    done = session.execute(
        update(t).where(t.c.barcode == s.c.barcode, t.c.result.is_(None))
        .values(result=s.c.result, reported_at=s.c.reported_at, lab_id=s.c.lab_id,
                ct=s.c.ct, received_at=s.c.received_at, tested_at=s.c.tested_at))
    fresh = int(done.rowcount)  # type: ignore[attr-defined]
    if fresh:  # answered tubes wait no more (the round's kept figures)
        figures.answer_tubes(session, select(t.c.id).where(t.c.barcode.in_(select(s.c.barcode))))
    staging.expire_tubes(session)
    clock.lap("merge: update")
    if is_postgres(session) and fresh > staging.ANALYZE_AFTER:
        staging.analyze(session, "testing_tube")  # the share of tubes with a result, mostly
        clock.lap("merge: analyze")
    return fresh
