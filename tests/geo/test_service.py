from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.errors import Conflict, Invalid, NotFound
from fangkong.geo import service as geo
from fangkong.geo.enums import Level, UnitKind
from fangkong.geo.models import Division, DivisionBoundary
from fangkong.geo.schemas import UnitCreate


def _counts(session: Session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(Division)) or 0,
            session.scalar(select(func.count()).select_from(DivisionBoundary)) or 0)


def _others(session: Session) -> int:
    """Divisions loaded by the fixture outside Guangdong (Zhejiang, and every province row)."""
    outside = select(func.count()).select_from(Division).where(
        ~Division.code.startswith("44"))
    return session.scalar(outside) or 0


def test_load_is_idempotent(session: Session) -> None:
    before = _counts(session)
    report = geo.load(session, province="44")
    assert _counts(session) == before
    # 21 cities and 124 county polygons, of which 东莞 and 中山 are whole cities (no counties).
    assert report.divisions == before[0] - _others(session) and report.boundaries == 21 + 122


def test_load_rejects_bad_province(session: Session) -> None:
    with pytest.raises(Invalid):
        geo.load(session, province="4")
    with pytest.raises(NotFound):
        geo.load(session, province="99")


def test_zhanjiang_hierarchy(session: Session) -> None:
    counties = geo.children(session, "4408")
    assert [c.code for c in counties] == ["440802", "440803", "440804", "440811", "440823",
                                          "440825", "440881", "440882", "440883"]
    towns = geo.descendants(session, "4408", level=Level.town)
    assert len(towns) == 125
    path = [d.code for d in geo.ancestors(session, "440802001001")]
    assert path == ["44", "4408", "440802", "440802001"]
    assert geo.is_within("440803070", "440803") and not geo.is_within("440803070", "440802")


def test_boundaries_use_division_codes(session: Session) -> None:
    chikan = geo.boundary(session, "440802")
    assert chikan.geometry["type"] in ("Polygon", "MultiPolygon")
    assert chikan.source == "zhanjiang-districts.geojson"  # the finer file wins
    assert geo.boundary(session, "4408").source == "guangdong-cities.geojson"
    with pytest.raises(NotFound):
        geo.boundary(session, "440802001")


def test_units_hang_off_divisions(session: Session) -> None:
    unit = geo.create_unit(session, data=UnitCreate(
        code="ZJ-LAB-1", name="湛江市疾控中心实验室", kind=UnitKind.lab, division_code="4408"))
    post = geo.create_unit(session, data=UnitCreate(
        code="CK-CP", name="赤坎区指挥部", kind=UnitKind.command_post, division_code="440802"))
    assert [u.code for u in geo.units_within(session, "440802")] == [post.code]
    assert {u.code for u in geo.units_within(session, "4408")} == {unit.code, post.code}
    with pytest.raises(Conflict):
        geo.create_unit(session, data=UnitCreate(code="CK-CP", name="x",
                                                 kind=UnitKind.other, division_code="440802"))
    with pytest.raises(NotFound):
        geo.create_unit(session, data=UnitCreate(code="X", name="x", kind=UnitKind.other,
                                                 division_code="999999"))
