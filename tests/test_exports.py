"""Every CSV and XLSX the platform hands out stores user text as text: a name that starts like a
formula (``=HYPERLINK(...)``, ``+``, ``-``, ``@``, tab, CR) never becomes a live formula."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.tabular import csv_writer, neutralise
from fangkong.geo import service as geo
from fangkong.geo.enums import UnitKind
from fangkong.geo.schemas import UnitCreate
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate
from fangkong.testing import service as testing
from fangkong.testing.schemas import RoundCreate
from fangkong.zone import service as zones
from fangkong.zone.schemas import MemberIn, ZoneCreate
from tests.conftest import login, make_actor
from tests.testing.helpers import START, make_persons

EVIL = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(("value", "out"), [
    (EVIL, "'" + EVIL), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-3", "-3"), ("+8613800000000", "+8613800000000"), ("-1.5e3", "-1.5e3"),
    (-3, -3), (2.5, 2.5), (None, None), ("赤坎区", "赤坎区"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise(value: object, out: object) -> None:
    assert neutralise(value) == out


def test_csv_writer_neutralises_text_only() -> None:
    buf = io.StringIO()
    csv_writer(buf).writerow([EVIL, -3, "-3", "x"])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'" + EVIL, "-3", "-3", "x"]


def test_brief_xlsx_stores_names_as_text(session: Session) -> None:
    from fangkong.brief import render
    from fangkong.brief import service as brief
    from fangkong.web.service import local_today
    from tests.web.seed import ZONE, seed

    seed(session)
    admin = make_actor()
    zones.designate(session, actor=admin, data=ZoneCreate(
        name=EVIL, level="high", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code="440802001001")],
        last_infection_date=local_today(ZONE) - timedelta(days=1)))
    testing.create_round(session, actor=admin, data=RoundCreate(
        name="@" + EVIL[1:], area=["440802"], start_at=START,
        deadline_at=START + timedelta(days=1)))
    unit = geo.create_unit(session, data=UnitCreate(
        code="U1", name="+" + EVIL[1:], kind=UnitKind.working_group, division_code="440802"))
    tasks.create(session, actor=admin, data=TaskCreate(
        type="investigate_case", title="-" + EVIL[1:], due_at=START, unit_id=unit.id,
        owning_division_code="440802"))
    ctx = brief.context(session, actor=admin, jurisdiction="440802", day=local_today(ZONE),
                        lang="zh-Hans", zone=ZONE)
    body, _ = render.render(brief.build(ctx), "xlsx")
    book = load_workbook(io.BytesIO(body))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value: c for c in cells}
    for name in (EVIL, "@" + EVIL[1:], "+" + EVIL[1:]):  # zone, round, unit
        assert name in texts, name
        assert texts[name].data_type == "s" and texts[name].quotePrefix
    numbers = [c for c in cells if isinstance(c.value, int | float)]
    assert numbers and all(c.data_type == "n" for c in numbers)


def test_unsampled_csv_api(session: Session, client: TestClient) -> None:
    from fangkong.person import importer as person_importer
    from tests.helpers import csv_bytes

    admin = make_actor()
    make_persons(session, admin, 1, prefix="OK")
    person_importer.import_file(session, actor=admin, filename="evil.csv", source=csv_bytes(
        [{"ref": "EV1", "name": EVIL, "division_code": "440802001001",
          "household_ref": "-H1"}]))
    round_id = testing.create_round(session, actor=admin, data=RoundCreate(
        name="R", area=["440802"], start_at=START,
        deadline_at=START + timedelta(days=1))).round_id
    headers = login(client, session, "exporter", Role.testing_officer, "440802")
    resp = client.get(f"/api/v1/testing/rounds/{round_id}/unsampled?format=csv",
                      headers=headers)
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert ["EV1", "'" + EVIL, "440802001001", "'-H1"] in rows
    assert ["OK0000", "测试0", "440802001001", "OKH0000"] in rows


def test_unsampled_csv_cli(fresh_db: str, tmp_path: Path) -> None:
    from tests.helpers import csv_bytes
    from tests.testing.test_cli import _round, run

    assert run("db", "upgrade")[0] == 0
    assert run("geo", "load", "--province", "44")[0] == 0
    (tmp_path / "p.csv").write_bytes(csv_bytes([
        {"ref": "EV1", "name": EVIL, "division_code": "440802001001", "household_ref": "H1"}]))
    assert run("import", "persons", str(tmp_path / "p.csv"))[0] == 0
    round_id = _round("R", "440802", START)["round_id"]
    out = tmp_path / "todo.csv"
    assert run("testing", "unsampled", "--round", str(round_id), "--out", str(out))[0] == 0
    assert list(csv.reader(out.open(encoding="utf-8")))[1] == [
        "EV1", "'" + EVIL, "440802001001", "H1"]


def test_drill_metrics_csv(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from fangkong.drill import report
    from fangkong.drill.loop import COLUMNS

    row = dict.fromkeys(COLUMNS, 0) | {"date": "2026-01-01"}
    run_ = SimpleNamespace(strategy=SimpleNamespace(name=EVIL), rows=[row | {COLUMNS[1]: -4}])
    report.write_csv([run_], tmp_path / "m.csv")  # type: ignore[list-item]
    (head, line) = list(csv.reader((tmp_path / "m.csv").open(encoding="utf-8")))
    assert head[0] == "strategy" and line[0] == "'" + EVIL and line[2] == "-4"
