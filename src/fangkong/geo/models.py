from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fangkong.core.db import Base, BigId
from fangkong.geo.enums import Level, UnitKind


class Division(Base):
    """An administrative division (province → city → county → town → village).

    ``code`` is the statistical code (2, 4, 6, 9 or 12 digits); a division's code starts with its
    parent's, which is what makes ancestor and descendant queries index range scans.
    """

    __tablename__ = "division"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[Level] = mapped_column(Enum(Level, native_enum=False, length=20))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("division.code"), index=True, default=None
    )


class DivisionBoundary(Base):
    """A division's polygon (GeoJSON geometry, GCJ-02 lon/lat) and its label point."""

    __tablename__ = "division_boundary"

    code: Mapped[str] = mapped_column(ForeignKey("division.code"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)


class Unit(Base):
    """A field unit that is not a division: a command post, working group, lab, site…"""

    __tablename__ = "unit"
    __table_args__ = (Index("ix_unit_division_code_kind", "division_code", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(Enum(UnitKind, native_enum=False, length=30))
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    parent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), default=None)
