"""What the desks' tests add to the dashboard's outbreak (tests/web/seed.py): a testing officer
and an isolation officer of 赤坎 (wtest, wiso), six persons of 寸金社区 (a village without a
risk zone: its round pools ten in a tube), a lab, a quarantine hotel of 赤坎 with coordinates
and six rooms, one of 霞山 (outside), a bus of 赤坎; and the files of a round."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.isolation import service as isolation
from fangkong.isolation import transfers
from fangkong.isolation.schemas import RoomSpec, SiteCreate, VehicleCreate
from fangkong.person import importer as person_importer
from fangkong.testing import service as testing
from fangkong.testing.schemas import LabCreate
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes
from tests.web.seed import CHIKAN, PASSWORD, XIASHAN

VILLAGE = "440802002001"  # 寸金社区, 赤坎区
TOWN = "440802002"


@dataclass
class Desk:
    refs: list[str]
    lab_id: int
    site_id: int
    outside_site_id: int
    bus_id: int


def desk_day(session: Session, prefix: str = "DK") -> Desk:
    admin = make_actor()
    for name, role in (("wtest", Role.testing_officer), ("wiso", Role.isolation_officer)):
        users.create_user(session, actor=admin, data=UserCreate(
            username=name, role=role, jurisdictions=[CHIKAN], password=PASSWORD))
    rows = [{"ref": f"{prefix}{i:03d}", "name": f"寸金{i}号", "division_code": VILLAGE,
             "household_ref": f"{prefix}H{i:03d}"} for i in range(6)]
    person_importer.import_file(session, actor=admin, source=csv_bytes(rows),
                                filename="desk.csv")
    lab = testing.create_lab(session, actor=admin, data=LabCreate(
        code=f"{prefix}LAB", name="赤坎检测实验室", division_code=CHIKAN,
        daily_capacity=20_000))
    site = isolation.create_site(session, actor=admin, data=SiteCreate(
        code=f"{prefix}H", name="寸金酒店", type="quarantine_hotel",  # type: ignore[arg-type]
        division_code=TOWN, lon=110.36, lat=21.27,
        rooms=[RoomSpec(label=f"{n}01") for n in range(1, 7)]))
    outside = isolation.create_site(session, actor=admin, data=SiteCreate(
        code=f"{prefix}X", name="霞山驿站", type="health_station",  # type: ignore[arg-type]
        division_code=XIASHAN, lon=110.40, lat=21.20,
        rooms=[RoomSpec(label="101")]))
    bus = transfers.create_vehicle(session, actor=admin, data=VehicleCreate(
        code=f"{prefix}BUS", kind="bus", capacity=12,  # type: ignore[arg-type]
        division_code=CHIKAN))
    session.flush()
    return Desk([r["ref"] for r in rows], lab.id, site.id, outside.id, bus.id)


def samples(rows: list[tuple[str, str, datetime]]) -> bytes:
    return _csv(["tube_id", "person_ref", "sampled_at", "point_id"],
                [[t, p, at.isoformat(), ""] for t, p, at in rows])


def results(rows: list[tuple[str, str, datetime]], lab: str) -> bytes:
    return _csv(["tube_id", "result", "reported_at", "lab_id"],
                [[t, r, at.isoformat(), lab] for t, r, at in rows])


def people(rows: list[tuple[str, str]]) -> str:
    """A batch's people pasted: (ref, role), each at the hotel's door."""
    return "person_ref,household_ref,role,needs,lon,lat,case_ref\n" + "".join(
        f"{ref},,{role},,110.361,21.271,\n" for ref, role in rows)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def minutes(start: datetime, k: int) -> datetime:
    return start + timedelta(minutes=k)
