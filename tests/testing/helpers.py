"""Builders for the mass-testing tests: persons, a round, tubes, a lab, CSV files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.geo import service as geo
from fangkong.geo.enums import UnitKind
from fangkong.geo.schemas import UnitCreate
from fangkong.person import importer as person_importer
from fangkong.testing import service
from fangkong.testing.schemas import LabCreate, PointCreate, RoundCreate, TubeIssue
from tests.helpers import csv_bytes

VILLAGE_A = "440802001001"  # 赤坎区
VILLAGE_B = "440803001001"  # 霞山区
START = datetime.now(UTC) - timedelta(hours=8)


def make_persons(session: Session, actor: Actor, n: int, *, code: str = VILLAGE_A,
                 prefix: str = "P", household_size: int = 1) -> list[str]:
    rows = [{"ref": f"{prefix}{i:04d}", "name": f"测试{i}", "division_code": code,
             "household_ref": f"{prefix}H{i // household_size:04d}"} for i in range(n)]
    person_importer.import_file(session, actor=actor, source=csv_bytes(rows),
                                filename=f"{prefix}.csv")
    return [r["ref"] for r in rows]


def make_round(session: Session, actor: Actor, *, area: list[str] | None = None,
               zones: dict[str, str] | None = None, sites: list[str] | None = None,
               series: str | None = None, start: datetime = START) -> int:
    return service.create_round(session, actor=actor, data=RoundCreate(
        name="全员核酸 第1轮", area=area or ["4408"], start_at=start,
        deadline_at=start + timedelta(hours=24), zones=zones or {},
        site_person_refs=sites or [], series=series)).round_id


def issue(session: Session, actor: Actor, round_id: int, barcodes: list[str],
          capacity: int) -> None:
    service.issue_tubes(session, actor=actor, round_id=round_id,
                        data=TubeIssue(barcodes=barcodes, capacity=capacity))


def lab(session: Session, actor: Actor, code: str = "LAB1") -> int:
    return service.create_lab(session, actor=actor, data=LabCreate(
        code=code, name="湛江第一检测实验室", division_code="440802", daily_capacity=100_000)).id


def point(session: Session, actor: Actor, code: str = "PT1", samplers: int = 4) -> int:
    from datetime import time

    return service.create_point(session, actor=actor, data=PointCreate(
        code=code, name="采样点1", division_code="440802001", samplers=samplers,
        opens=time(7, 0), closes=time(22, 0))).id


def community(session: Session, code: str = VILLAGE_A) -> int:
    return geo.create_unit(session, data=UnitCreate(
        code=f"C{code}", name="社区工作站", kind=UnitKind.community, division_code=code)).id


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


def samples_csv(rows: list[tuple[str, str, int]], point_code: str = "") -> bytes:
    return csv_bytes([{"tube_id": t, "person_ref": p, "sampled_at": at(m),
                       "point_id": point_code} for t, p, m in rows],
                     columns=["tube_id", "person_ref", "sampled_at", "point_id"])


def results_csv(rows: list[tuple[str, str, int]], lab_code: str = "LAB1") -> bytes:
    return csv_bytes([{"tube_id": t, "result": r, "reported_at": at(m), "lab_id": lab_code}
                      for t, r, m in rows],
                     columns=["tube_id", "result", "reported_at", "lab_id"])


def refused(session: Session, write: Callable[[], object]) -> None:
    """``write`` must fail in the database; its savepoint is rolled back."""
    with pytest.raises(DBAPIError), session.begin_nested():
        write()
        session.flush()
