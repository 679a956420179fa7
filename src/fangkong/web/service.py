"""Scoped queries behind the pages and the brief, each asked of the domain that owns the
records (the web layer imports no domain's models).

Every case figure is the count of a :class:`CaseFilter` (:mod:`fangkong.case.figures`), and its
link opens the list with the same filter, so the number on the overview and the rows behind it
always agree; tasks likewise with a :class:`TaskFilter` (:mod:`fangkong.task.figures`). Every
statement goes through the owning domain's reading rule; reads of personal data are audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fangkong.case import figures as case_figures
from fangkong.case.enums import DetectionMode
from fangkong.case.figures import (
    INFECTIONS,
    SHORT_WINDOW_DAYS,
    UNDER_CONTROL,
    CaseFilter,
    CaseSort,
    day_bounds,
)
from fangkong.core.auth import Actor, Perm
from fangkong.core.clock import utc_now
from fangkong.core.errors import NotFound
from fangkong.geo import service as geo
from fangkong.person import service as persons
from fangkong.task import figures as task_figures
from fangkong.task import titles as task_titles
from fangkong.task.figures import BoardRow, OverdueGroup, TaskFilter
from fangkong.web.messages import WEB

__all__ = ["INFECTIONS", "SHORT_WINDOW_DAYS", "UNDER_CONTROL", "CaseFilter", "CaseSort",
           "TaskFilter", "day_bounds"]

ACTIVE_WINDOW_DAYS = 14
PAGE = 50


def local_today(zone: str) -> date:
    return utc_now().astimezone(ZoneInfo(zone)).date()


# ---------------------------------------------------------------------------------- cases


def count_cases(session: Session, actor: Actor, flt: CaseFilter, zone: str) -> int:
    return case_figures.count(session, actor, flt, zone)


def counts_by_mode(session: Session, actor: Actor, flt: CaseFilter, zone: str
                   ) -> dict[DetectionMode, int]:
    return case_figures.counts_by_mode(session, actor, flt, zone)


def counts_by_division(session: Session, actor: Actor, flt: CaseFilter, zone: str,
                       code_length: int) -> dict[str, int]:
    """Counts per owning division truncated to ``code_length`` digits (a shorter code, a case
    owned above that level, is kept as it is)."""
    return case_figures.counts_by_division(session, actor, flt, zone, code_length)


def daily_counts(session: Session, actor: Actor, flt: CaseFilter, zone: str, first: date,
                 last: date) -> list[tuple[date, int]]:
    """Cases per local report day from ``first`` to ``last`` (inclusive), zeros included."""
    return case_figures.daily_counts(session, actor, flt, zone, first, last)


def daily_counts_with_mode(session: Session, actor: Actor, flt: CaseFilter, zone: str,
                           first: date, last: date, mode: DetectionMode
                           ) -> list[tuple[date, int, int]]:
    """(day, cases, those found by ``mode``) per local report day, zeros included."""
    return case_figures.daily_counts_with_mode(session, actor, flt, zone, first, last, mode)


@dataclass
class CaseRow(case_figures.CaseRow):
    """A row of the cases list: the case's listed fields, its person's name and its owning
    division's name."""

    name: str
    owning_division_name: str


def list_cases(session: Session, actor: Actor, flt: CaseFilter, zone: str, *,
               before_id: int | None = None, limit: int | None = None,
               sort: CaseSort | None = None, after: str | None = None
               ) -> tuple[list[CaseRow], str | None]:
    """One page of the filtered cases in the order ``sort`` (default newest first), keyset
    paged (``after``: the token of the previous page); audited as a read of the cases and of
    the persons' names shown."""
    rows, nxt = case_figures.page(session, actor, flt, zone, limit=limit or PAGE,
                                  before_id=before_id, via="web:cases", sort=sort,
                                  after=after)
    names = persons.names_behind(session, actor=actor, person_ids={r.person_id for r in rows},
                                 via="web:cases")
    places = division_names(session, {r.owning_division_code for r in rows})
    return [CaseRow(**vars(r), name=names.get(r.person_id, ""),
                    owning_division_name=places[r.owning_division_code]) for r in rows], nxt


def timeline(case: Any, zone: str) -> list[dict[str, Any]]:
    """A case's events in order (:func:`fangkong.case.figures.timeline`)."""
    return case_figures.timeline(case, zone)


def person_summary(session: Session, actor: Actor, person_id: int) -> persons.Summary:
    """The person behind a case the actor may read: name, sex, birth year (audited)."""
    return persons.summary(session, actor=actor, person_id=person_id, via="web:case")


# ------------------------------------------------------------------------------------ map


def child_regions(session: Session, root: str) -> list[tuple[str, str]]:
    """The divisions the map shows for ``root``: its children that have a boundary, or the root
    itself when none has (a county whose towns have no polygons)."""
    return geo.mapped_children(session, root)


def children(session: Session, root: str) -> list[tuple[str, str]]:
    return geo.child_names(session, root)


def geojson(session: Session, codes: list[str]) -> dict[str, Any]:
    """A FeatureCollection of the divisions' boundaries (name and code as properties)."""
    return geo.geojson(session, codes)


def division_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """Names of the given divisions in one query; a code with no division keeps its code."""
    wanted = set(codes)
    found = geo.names(session, wanted)
    return {c: found.get(c, c) for c in wanted}


def division_name(session: Session, code: str) -> str:
    name = geo.names(session, {code}).get(code)
    if name is None:
        raise NotFound(WEB("division_not_found", code=code))
    return name


# ---------------------------------------------------------------------------------- tasks


def count_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime) -> int:
    return task_figures.count(session, actor, flt, now)


def task_counts(session: Session, actor: Actor, division: str, now: datetime
                ) -> tuple[int, int, int]:
    """(overdue, escalated, active) tasks inside ``division``, in one query."""
    return task_figures.counts(session, actor, division, now)


def list_tasks(session: Session, actor: Actor, flt: TaskFilter, now: datetime,
               limit: int = 200, offset: int = 0, order: str = "due") -> list[BoardRow]:
    """Active tasks, overdue first (earliest due first), then the rest by due time (``order``
    "division" or "type": by that first)."""
    return task_figures.board(session, actor, flt, now, limit, offset, order)


def task_people(session: Session, actor: Actor, rows: Iterable[BoardRow]) -> dict[int, str]:
    """The names of the persons the tasks' titles name by id (a contact to notify), for a
    viewer who may read persons (audited as a read of the names); none for another (an
    analyst reads tasks, not persons: the title keeps the id)."""
    if not actor.can(Perm.person_read):
        return {}
    ids = task_titles.person_ids(r.task.title_params for r in rows)
    return persons.names_behind(session, actor=actor, person_ids=ids, via="web:tasks")


def overdue_by_unit(session: Session, actor: Actor, now: datetime,
                    division: str | None = None) -> list[OverdueGroup]:
    """Overdue and escalated counts per (owning division, unit), the most overdue first
    (inside ``division`` if given)."""
    return task_figures.overdue_by_unit(session, actor, now, division)


@dataclass
class Jurisdiction:
    code: str
    name: str
    choices: list[tuple[str, str]] = field(default_factory=list)


def jurisdiction_of(session: Session, actor: Actor, wanted: str | None) -> Jurisdiction:
    """The division the pages are about: ``wanted`` if the actor covers it, else the actor's
    first grant (the whole country's actors start at their first province with data)."""
    grants = [g for g in actor.grants if g != "CN"]
    if actor.national:
        grants += [c for c, _ in children_of_country(session)]
    if wanted:
        if not wanted.isdigit() or not actor.covers(wanted):
            raise NotFound(WEB("outside", code=wanted))
        code = wanted
    elif grants:
        code = grants[0]
    else:
        raise NotFound(WEB("no_jurisdiction"))
    names = geo.names(session, {*grants, code})
    if code not in names:
        raise NotFound(WEB("division_not_found", code=code))
    return Jurisdiction(code=code, name=names[code],
                        choices=[(g, names.get(g, g)) for g in grants])


def children_of_country(session: Session) -> list[tuple[str, str]]:
    return geo.child_names(session, None)
