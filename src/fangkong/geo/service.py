"""Administrative divisions and field units: loading, hierarchy queries, units."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import within
from fangkong.core.db import upsert
from fangkong.core.errors import Conflict, Invalid, NotFound, Problem
from fangkong.core.messages import CORE
from fangkong.geo.enums import CODE_LENGTHS, PREFIX_LENGTHS, Level, UnitKind
from fangkong.geo.messages import G
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.geo.schemas import LoadReport, UnitCreate

DATA = resources.files("fangkong.geo") / "data"

# (file pattern, column holding the parent code)
_DIVISION_FILES: list[tuple[str, str | None]] = [
    ("provinces.csv", None),
    ("cities.csv", "provinceCode"),
    ("areas.csv", "cityCode"),
    ("towns-*.csv", "areaCode"),
    ("villages-*.csv", "streetCode"),
]
BOUNDARY_FILES = [
    "guangdong-cities.geojson", "zhejiang-cities.geojson", "guangdong-counties.geojson",
    "zhanjiang-districts.geojson", "yunfu-districts.geojson", "huzhou-districts.geojson",
]


def level_of(code: str) -> Level:
    try:
        return CODE_LENGTHS[len(code)]
    except KeyError:
        raise Invalid(
            G("bad_code", code=repr(code), digits=len(code)),
            problems=[Problem(G("not_a_code"), field="code")],
        ) from None


def ancestor_codes(code: str) -> list[str]:
    """Codes of every ancestor, province first, computed from the code itself."""
    return [code[:n] for n in PREFIX_LENGTHS if n < len(code)]


def is_within(code: str, ancestor: str) -> bool:
    """Is division ``code`` inside (or equal to) ``ancestor``?"""
    return code.startswith(ancestor)


def normalise_adcode(adcode: str) -> str:
    """A 6-digit adcode of a province (440000) or city (440800) → the division code (44, 4408)."""
    if len(adcode) == 6 and adcode.endswith("0000"):
        return adcode[:2]
    if len(adcode) == 6 and adcode.endswith("00"):
        return adcode[:4]
    return adcode


def _division_rows(province: str | None) -> Iterator[dict[str, Any]]:
    for pattern, parent_col in _DIVISION_FILES:
        files = sorted((p for p in DATA.iterdir() if _match(p.name, pattern)), key=lambda p: p.name)
        for path in files:
            with path.open(encoding="utf-8") as fh:
                for line, row in enumerate(csv.DictReader(fh), start=2):
                    code = row["code"].strip()
                    if province and not code.startswith(province):
                        continue
                    parent = row[parent_col].strip() if parent_col else None
                    if parent and not code.startswith(parent):
                        raise Invalid(G("not_inside", where=f"{path.name}:{line}", code=code,
                                                  parent=parent))
                    yield {"code": code, "name": row["name"].strip(),
                           "level": level_of(code), "parent_code": parent}


def _match(name: str, pattern: str) -> bool:
    head, _, tail = pattern.partition("*")
    return name.startswith(head) and name.endswith(tail) if "*" in pattern else name == pattern


def _boundary_rows(province: str | None, known: set[str]) -> Iterator[dict[str, Any]]:
    for name in BOUNDARY_FILES:
        collection = json.loads((DATA / name).read_text(encoding="utf-8"))
        for feature in collection["features"]:
            code = normalise_adcode(str(feature["properties"]["adcode"]))
            if (province and not code.startswith(province)) or code not in known:
                continue
            label = feature["properties"].get("label_point") or [None, None]
            yield {"code": code, "source": name, "geometry": feature["geometry"],
                   "label_lon": label[0], "label_lat": label[1]}


def load(
    session: Session,
    *,
    province: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Load divisions and boundaries shipped with the package. Idempotent: re-running updates
    names and parents in place and adds nothing twice."""
    if province is not None and len(province) != 2:
        raise Invalid(G("province", value=repr(province)))
    rows = list(_division_rows(province))
    if province and not rows:
        raise NotFound(G("no_province", province=province))
    for start in range(0, len(rows), 2000):
        chunk = rows[start : start + 2000]
        upsert(session, Division.__table__, chunk, key=["code"])
        if progress:
            progress("divisions", len(chunk))
    known = {r["code"] for r in rows}
    # A later file (a city's districts) refines an earlier one (the province's counties).
    boundaries = {r["code"]: r for r in _boundary_rows(province, known)}
    upsert(session, DivisionBoundary.__table__, list(boundaries.values()), key=["code"])
    if progress:
        progress("boundaries", len(boundaries))
    return LoadReport(divisions=len(rows), boundaries=len(boundaries))


def get(session: Session, code: str) -> Division:
    division = session.get(Division, code)
    if division is None:
        raise NotFound(CORE("division_not_found", code=code))
    return division


def exists(session: Session, codes: set[str]) -> set[str]:
    """The subset of ``codes`` that are known divisions."""
    found: set[str] = set()
    ordered = sorted(codes)
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        found.update(session.scalars(select(Division.code).where(Division.code.in_(chunk))))
    return found


def names(session: Session, codes: set[str]) -> dict[str, str]:
    """The names of the divisions of ``codes`` that exist, in one query."""
    if not codes:
        return {}
    return dict(session.execute(select(Division.code, Division.name)
                                .where(Division.code.in_(codes))).tuples().all())


def unit_names(session: Session, ids: set[int]) -> dict[int, str]:
    """The names of the units of ``ids`` that exist, by id."""
    found: dict[int, str] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        stmt = select(Unit.id, Unit.name).where(Unit.id.in_(ordered[start : start + 900]))
        found.update(session.execute(stmt).tuples().all())
    return found


def mapped_children(session: Session, root: str) -> list[tuple[str, str]]:
    """(code, name) of the divisions a map of ``root`` shows: its children that have a
    boundary, or the root itself when none has (a county whose towns have no polygons)."""
    stmt = (select(Division.code, Division.name)
            .join(DivisionBoundary, DivisionBoundary.code == Division.code)
            .where(Division.parent_code == root).order_by(Division.code))
    rows = [(c, n) for c, n in session.execute(stmt)]
    if rows:
        return rows
    own = session.execute(select(Division.code, Division.name)
                          .join(DivisionBoundary, DivisionBoundary.code == Division.code)
                          .where(Division.code == root)).first()
    return [(own[0], own[1])] if own else []


def child_names(session: Session, code: str | None) -> list[tuple[str, str]]:
    """(code, name) of the children of ``code`` (the provinces for None), by code."""
    stmt = select(Division.code, Division.name).where(
        Division.parent_code.is_(None) if code is None else Division.parent_code == code)
    return [(c, n) for c, n in session.execute(stmt.order_by(Division.code))]


def geojson(session: Session, codes: list[str]) -> dict[str, Any]:
    """A FeatureCollection of the divisions' boundaries (name and code as properties)."""
    stmt = (select(Division.code, Division.name, DivisionBoundary.geometry,
                   DivisionBoundary.label_lon, DivisionBoundary.label_lat)
            .join(DivisionBoundary, DivisionBoundary.code == Division.code)
            .where(Division.code.in_(codes)))
    feats = []
    for c, n, g, lon, lat in session.execute(stmt):
        props: dict[str, Any] = {"name": n, "code": c}
        if lon is not None and lat is not None:
            props["cp"] = [lon, lat]  # where ECharts puts the label
        feats.append({"type": "Feature", "id": c, "properties": props, "geometry": g})
    return {"type": "FeatureCollection", "features": feats}


def ancestors(session: Session, code: str) -> list[Division]:
    codes = ancestor_codes(code)
    found = {d.code: d for d in session.scalars(select(Division).where(Division.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def descendants(
    session: Session, code: str, *, level: Level | None = None, limit: int = 1000
) -> list[Division]:
    stmt = select(Division).where(within(Division.code, code), Division.code != code)
    if level is not None:
        stmt = stmt.where(Division.level == level)
    return list(session.scalars(stmt.order_by(Division.code).limit(limit)))


def children(session: Session, code: str | None) -> list[Division]:
    stmt = select(Division).where(
        Division.parent_code.is_(None) if code is None else Division.parent_code == code
    )
    return list(session.scalars(stmt.order_by(Division.code)))


def search(session: Session, q: str, *, limit: int = 50) -> list[Division]:
    stmt = select(Division).where(Division.name.contains(q)).order_by(Division.code).limit(limit)
    return list(session.scalars(stmt))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Division)) or 0


def boundary(session: Session, code: str) -> DivisionBoundary:
    found = session.get(DivisionBoundary, code)
    if found is None:
        raise NotFound(G("no_boundary", code=code))
    return found


def create_unit(session: Session, *, data: UnitCreate) -> Unit:
    get(session, data.division_code)
    if session.scalar(select(Unit.id).where(Unit.code == data.code)) is not None:
        raise Conflict(G("unit_exists", code=data.code))
    unit = Unit(**data.model_dump())
    session.add(unit)
    session.flush()
    return unit


def get_unit(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(CORE("unit_not_found", id=unit_id))
    return unit


def units_of_kind(session: Session, kind: UnitKind) -> list[Unit]:
    """The field units of ``kind``, the newest first."""
    return list(session.scalars(select(Unit).where(Unit.kind == kind).order_by(Unit.id.desc())))


def units_within(session: Session, code: str) -> list[Unit]:
    stmt = select(Unit).where(within(Unit.division_code, code)).order_by(Unit.code)
    return list(session.scalars(stmt))
