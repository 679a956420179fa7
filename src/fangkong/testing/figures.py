"""A round's figures kept as its records are written, so that a dashboard's reads are a few
rows whatever the size of the city (migration 0029).

- ``testing_round_figures``: per round and division, the target persons counted there and how
  many of them are sampled. Written with the targets (:func:`add_targets`, round creation) and
  with each samples import (:func:`add_sampled`, before the samples are inserted: the persons
  sampled for the first time in the round).
- ``testing_tube_place``: each tube with members and no result, once per division of its
  target members, with its first sample; rewritten for the tubes a samples import fills
  (:func:`place_tubes`) and removed for the tubes a results import answers
  (:func:`answer_tubes`); ``testing_round_figures.waiting`` counts them per division. A
  division's tubes past due at any instant are the waiting ones less those sampled within the
  due hours: a short range of an index, however long the lab's backlog.

A target person's division counts in every division that holds it: the code cut to each of
:data:`LEVELS` digits below its own length, and the code itself. The figures equal what
``coverage``-style queries compute from the records (``tests/testing/test_figures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, exists, func, literal, or_, select, union
from sqlalchemy.orm import Session

from fangkong.testing.models import Round, RoundFigures, Sample, Target, Tube, TubePlace

LEVELS = (2, 4, 6, 9, 12)
_FIGURES = cast(Table, RoundFigures.__table__)
_PLACES = cast(Table, TubePlace.__table__)


def cuts(code: str) -> list[str]:
    """The divisions that hold ``code``: its cuts at :data:`LEVELS` shorter than it, and it."""
    return [code[:n] for n in LEVELS if n < len(code)] + [code]


def spread(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Counts per stored division code summed into every division that holds each code."""
    out: dict[str, int] = {}
    for code, n in rows:
        for c in cuts(code):
            out[c] = out.get(c, 0) + n
    return out


def is_kept(code: str) -> bool:
    """Whether figures are kept for a division with this code (a division code of a level)."""
    return len(code) in LEVELS


def add_targets(session: Session, round_id: int) -> None:
    """The round's figures from its targets (once they are all written): target persons per
    division, none sampled yet."""
    per_code = session.execute(select(Target.division_code, func.count())
                               .where(Target.round_id == round_id)
                               .group_by(Target.division_code)).tuples()
    rows = [{"round_id": round_id, "division_code": c, "target": n, "sampled": 0, "waiting": 0}
            for c, n in sorted(spread(per_code).items())]
    for start in range(0, len(rows), 5000):
        session.execute(_FIGURES.insert(), rows[start:start + 5000])


def add_sampled(session: Session, round_id: int, person_ids: Any,
                sampled_before: bool) -> None:
    """Count the target persons of ``person_ids`` (a one-column select of the persons about
    to get a sample in the round; repeats allowed) who had none in it before. Call it before
    the samples are inserted; ``sampled_before``: whether the round has any sample yet."""
    new = person_ids.subquery()
    pid = new.c[0]
    # each new person's target division by its key, from the new persons (a join let SQLite,
    # which has no statistics, start at the round's targets and scan the new ones for each)
    code = (select(Target.division_code)
            .where(Target.round_id == round_id, Target.person_id == pid)
            .scalar_subquery())
    first = select(pid.label("person_id"), code.label("code")).distinct()
    if sampled_before:
        first = first.where(~exists().where(Sample.round_id == round_id,
                                            Sample.person_id == pid))
    got = first.subquery()
    stmt = select(got.c.code, func.count()).where(got.c.code.is_not(None))
    per_code = session.execute(stmt.group_by(got.c.code)).tuples()
    _add(session, "sampled",
         [{"r": round_id, "c": c, "n": n} for c, n in sorted(spread(per_code).items())])


def _waiting(session: Session, tube_ids: Any, sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) the places of the tubes in ``tube_ids`` to or from
    the divisions' counts of waiting tubes."""
    rows = [{"r": r, "c": c, "n": sign * n} for r, c, n in session.execute(
        select(_PLACES.c.round_id, _PLACES.c.division_code, func.count())
        .where(_PLACES.c.tube_id.in_(tube_ids))
        .group_by(_PLACES.c.round_id, _PLACES.c.division_code))]
    _add(session, "waiting", rows)


def _add(session: Session, column: str, rows: list[dict[str, Any]]) -> None:
    """Add ``n`` to ``column`` of the figures of each (round ``r``, division ``c``) row."""
    if rows:
        session.execute(
            _FIGURES.update().where(_FIGURES.c.round_id == bindparam("r"),
                                    _FIGURES.c.division_code == bindparam("c"))
            .values({column: _FIGURES.c[column] + bindparam("n")}), rows)


def place_tubes(session: Session, round_id: int, tube_ids: Any) -> None:
    """Rewrite the places of the tubes in ``tube_ids`` (a one-column select), after their
    samples and first sample time are written."""
    _waiting(session, tube_ids, -1)
    session.execute(delete(_PLACES).where(_PLACES.c.tube_id.in_(tube_ids)))
    sm, tg, t = Sample.__table__, Target.__table__, Tube.__table__
    members = (select(sm.c.tube_id, tg.c.division_code, t.c.first_sampled_at).distinct()
               .select_from(sm.join(t, t.c.id == sm.c.tube_id)
                            .join(tg, and_(tg.c.round_id == round_id,
                                           tg.c.person_id == sm.c.person_id + 0)))
               .where(sm.c.tube_id.in_(tube_ids), sm.c.round_id == round_id,
                      t.c.result.is_(None), t.c.members > 0)).cte("members")
    code = members.c.division_code
    parts = [select(members.c.tube_id, func.substr(code, 1, n), literal(round_id),
                    members.c.first_sampled_at).where(func.length(code) > n) for n in LEVELS]
    parts.append(select(members.c.tube_id, code, literal(round_id),
                        members.c.first_sampled_at))
    session.execute(_PLACES.insert().from_select(
        ["tube_id", "division_code", "round_id", "first_sampled_at"], union(*parts)))
    _waiting(session, tube_ids, 1)


def answer_tubes(session: Session, tube_ids: Any) -> None:
    """The tubes in ``tube_ids`` have their result: they are no longer waiting anywhere."""
    _waiting(session, tube_ids, -1)
    session.execute(delete(_PLACES).where(_PLACES.c.tube_id.in_(tube_ids)))


def totals(session: Session, rounds: Sequence[Round], division: str, now: datetime
           ) -> dict[int, tuple[int, int, int]]:
    """(target, sampled, tubes past due at ``now``) of each round in ``division`` (a code of
    one of :data:`LEVELS`), from the kept figures: a row per round and one index range each."""
    if not rounds:
        return {}
    ids = [r.id for r in rounds]
    kept = {i: (t, s, w) for i, t, s, w in session.execute(
        select(RoundFigures.round_id, RoundFigures.target, RoundFigures.sampled,
               RoundFigures.waiting)
        .where(RoundFigures.round_id.in_(ids), RoundFigures.division_code == division))}
    # the waiting tubes not past due yet: sampled within the due hours (a short range)
    recent = dict(session.execute(
        select(TubePlace.round_id, func.count())
        .where(TubePlace.division_code == division, or_(*(and_(
            TubePlace.round_id == r.id,
            TubePlace.first_sampled_at >= now - timedelta(hours=r.result_due_hours))
            for r in rounds)))
        .group_by(TubePlace.round_id)).tuples().all())
    out = {}
    for i in ids:
        target, sampled, waiting = kept.get(i, (0, 0, 0))
        out[i] = (target, sampled, waiting - recent.get(i, 0))
    return out
