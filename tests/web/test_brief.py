"""The daily brief: figures, its three formats, the download, the CLI, the growth maths."""

from __future__ import annotations

import io
import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.brief import render, service
from fangkong.core.errors import Invalid
from fangkong.web.sections import growth
from fangkong.web.service import local_today
from tests.conftest import make_actor
from tests.web.seed import ZONE, Seeded, seed
from tests.web.test_pages import sign_in

DENY_CARE = {"kind": "deny_care", "patient": "emergency", "grounds": "epidemic_control"}


@pytest.fixture
def seeded(session: Session) -> Seeded:
    return seed(session)


def _doc(session: Session, code: str, lang: str = "zh-Hans", day: date | None = None,
         **kw: object) -> service.BriefDoc:
    ctx = service.context(session, actor=make_actor(), jurisdiction=code,
                          day=day or local_today(ZONE), lang=lang, zone=ZONE, **kw)  # type: ignore[arg-type]
    return service.build(ctx)


def _figures(doc: service.BriefDoc, key: str) -> dict[str, object]:
    section = next(s for s in doc.sections if s.key == key)
    return {f.key: f.value for f in section.figures}


def test_brief_figures_for_a_county(session: Session, seeded: Seeded) -> None:
    doc = _doc(session, "440802")
    assert _figures(doc, "brief.cases_div") == {"new": 5, "quarantine": 2, "community": 3,
                                                "cumulative": 9}
    assert _figures(doc, "brief.tasks") == {"overdue": 2, "escalated": 1, "active": 3}
    trend = _figures(doc, "trend")
    assert trend["last7"] == 7 and trend["prev7"] == 2  # today 5 + 1 + 1; 8 and 10 days ago
    assert trend["growth"] == pytest.approx(math.log(7 / 2) / 7)
    assert trend["doubling"] == pytest.approx(math.log(2) / (math.log(7 / 2) / 7))
    keys = [s.key for s in doc.sections]
    assert _figures(doc, "zones") == {"zones_high": 1, "zones_active": 1, "zones_changes": 1,
                                      "zones_pending": 0, "zones_breaches": 0}
    rooms = _figures(doc, "isolation")
    assert (rooms["iso_active_rooms"], rooms["iso_occupied_rooms"],
            rooms["iso_free_active_rooms"], rooms["iso_shortfall"]) == (10, 1, 9, 0)
    assert _figures(_doc(session, "440803"), "isolation")["iso_active_rooms"] == 0
    rt = doc.sections[keys.index("rt")]  # 7 infections in the last week: too few for Rt
    assert rt.available and {f.key: f.value for f in rt.figures} == {"rt_cases": 7}
    assert rt.chart is None and rt.tables[0].rows[-1][2].value is None
    modes = next(s for s in doc.sections if s.key == "brief.cases_mode").tables[0]
    assert modes.rows[-1][1].value == 5 and modes.rows[-1][2].value == 9


def test_city_brief_by_district(session: Session, seeded: Seeded) -> None:
    doc = _doc(session, "4408", lang="en")
    table = next(s for s in doc.sections if s.key == "brief.cases_div").tables[0]
    rows = {r[0].value: [c.value for c in r[1:]] for r in table.rows}
    # new confirmed (one reclassified from asymptomatic), asymptomatic, quarantine, community
    assert rows["赤坎区"] == [4, 1, 2, 3, 9]
    assert rows["霞山区"] == [2, 2, 0, 4, 4]
    assert rows["Total"] == [6, 3, 2, 7, 13]
    assert table.columns[0] == "Owning division"


def test_nine_prohibition_checks(session: Session, seeded: Seeded) -> None:
    doc = _doc(session, "440802", measures=[DENY_CARE])
    section = next(s for s in doc.sections if s.key == "brief.prohibitions")
    assert _figures(doc, "brief.prohibitions") == {"measures": 1, "violations": 1}
    assert section.tables[0].rows[0][1].value == 6
    none = next(s for s in _doc(session, "440802").sections if s.key == "brief.prohibitions")
    assert "No local measures" not in none.notes[0] and "未提交本地措施" in none.notes[0]


def test_formats(session: Session, seeded: Seeded) -> None:
    doc = _doc(session, "440802")
    body, media = render.render(doc, "xlsx")
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames[0] == "摘要" and "感染者（按辖区）" in book.sheetnames
    sheet = book["感染者（按辖区）"]
    assert [c.value for c in sheet[2]] == ["赤坎区 (未细分到下级)", 4, 1, 2, 3, 9]
    html, _ = render.render(doc, "html")
    assert "赤坎区 每日一研判" in html.decode() and "<svg" in html.decode()
    pdf, media = render.render(doc, "pdf")
    assert pdf.startswith(b"%PDF") and media == "application/pdf"


def test_download_from_the_page(client: TestClient, seeded: Seeded) -> None:
    sign_in(client, "wchikan")
    page = client.get("/brief")
    assert page.status_code == 200 and 'id="dl-xlsx"' in page.text
    resp = client.get("/brief/download?format=xlsx&j=440802")
    assert resp.status_code == 200
    assert resp.headers["content-disposition"].startswith('attachment; filename="brief-440802-')
    assert load_workbook(io.BytesIO(resp.content)).sheetnames[0] == "摘要"
    assert client.get("/brief/download?format=doc").status_code == 422
    assert client.get("/brief?j=4408").status_code == 404  # above the user's jurisdiction


def test_growth() -> None:
    days = [date(2022, 5, 1) + timedelta(days=i) for i in range(14)]
    doubling = growth(list(zip(days, [1] * 7 + [2] * 7, strict=True)))
    assert doubling.doubling == pytest.approx(7.0) and doubling.halving is None
    halving = growth(list(zip(days, [4] * 7 + [1] * 7, strict=True)))
    assert halving.halving == pytest.approx(3.5) and halving.doubling is None
    assert growth(list(zip(days, [0] * 7 + [3] * 7, strict=True))).rate is None


def test_a_past_days_brief_is_as_of_that_day(session: Session, seeded: Seeded) -> None:
    """Yesterday's brief can be reissued although zones have infections after it: the figures
    are those of the day (its new infections, the cumulative up to it, the zones in force)."""
    past = local_today(ZONE) - timedelta(days=8)
    doc = _doc(session, "440802", day=past)
    assert doc.day == past
    figures = _figures(doc, "brief.cases_div")
    assert (figures["new"], figures["cumulative"]) == (1, 2)  # 8 and 10 days ago
    assert _figures(doc, "zones")["zones_active"] == 0  # drawn today, its day 0 3 days ago
    yesterday = _doc(session, "440802", day=local_today(ZONE) - timedelta(days=1))
    assert _figures(yesterday, "brief.cases_div")["cumulative"] == 4


def test_cli_writes_the_three_files(fresh_db: str, tmp_path: Path) -> None:
    from fangkong.cli import app
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo

    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        geo.load(session, province="44")
        seed(session, prefix="Q")
    measures = tmp_path / "m.yaml"
    measures.write_text(json.dumps([DENY_CARE]))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["brief", "--jurisdiction", "440802", "--out", str(out),
                                      "--measures", str(measures), "--lang", "zh-Hant",
                                      "--json"])
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)["files"]
    assert sorted(Path(f).suffix for f in files) == [".html", ".pdf", ".xlsx"]
    html = next(Path(f) for f in files if f.endswith(".html")).read_text("utf-8")
    assert "「九不准」核查" in html and "違反項" in html
    past = (local_today(ZONE) - timedelta(days=4)).isoformat()
    again = CliRunner().invoke(app, ["brief", "--jurisdiction", "440802", "--date", past,
                                     "--out", str(out), "--format", "html", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["files"][0].endswith(f"-{past}-zh-Hans.html")
    bad = CliRunner().invoke(app, ["brief", "--jurisdiction", "440802", "--date", "2022-13-01",
                                   "--out", str(out)])
    assert bad.exit_code != 0 and "--date" in bad.output


def test_measures_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("- kind: deny_care\n  patient: [unclosed\n")
    with pytest.raises(Invalid, match=r"m\.yaml:\d+"):
        service.read_measures(path)
    path.write_text("just text")
    with pytest.raises(Invalid, match="expected a list"):
        service.read_measures(path)


def test_brief_counts_contacts(session: Session, seeded: Seeded) -> None:
    from fangkong.person.models import Person
    from fangkong.tracing import service
    from fangkong.tracing.schemas import ExposureCreate

    person = session.scalars(select(Person).where(Person.ref == "WA00000012")).one()
    today = local_today(ZONE)
    service.add_exposure(session, actor=make_actor(), data=ExposureCreate(
        source_case_id=seeded.chikan_case_ids[0], exposed_person_id=person.id,
        first_exposure=today, last_exposure=today, setting="household"))
    figures = _figures(_doc(session, "440802"), "contacts")
    assert (figures["contacts_identified"], figures["contacts_waiting"],
            figures["contacts_managed"]) == (1, 1, 0)
    assert figures["hours_to_identification"] is not None
    assert _figures(_doc(session, "440803"), "contacts")["contacts_identified"] == 0


def test_brief_shows_testing_rounds(session: Session, seeded: Seeded) -> None:
    from datetime import timedelta

    from fangkong.core.clock import utc_now
    from fangkong.testing import service as testing
    from fangkong.testing.schemas import RoundCreate

    made = testing.create_round(session, actor=make_actor(), data=RoundCreate(
        name="第1轮", area=["440802"], start_at=utc_now() - timedelta(hours=2),
        deadline_at=utc_now() + timedelta(hours=22)))
    figures = _figures(_doc(session, "440802"), "testing")
    assert (figures["rounds_open"], figures["testing_target"], figures["testing_sampled"],
            figures["positive_pools"]) == (1, made.target, 0, 0)
    assert made.target == 12 and figures["testing_coverage"] == 0
    assert _figures(_doc(session, "440803"), "testing")["rounds_open"] == 0

    # A positive pool: in the command's queue with its tube, place, hours open and members.
    from fangkong.person.models import Person
    from fangkong.testing import importer
    from fangkong.testing.schemas import LabCreate, TubeIssue

    refs = session.scalars(select(Person.ref).where(Person.division_code.like("440802%"))
                           .order_by(Person.ref).limit(3)).all()
    testing.issue_tubes(session, actor=make_actor(), round_id=made.round_id,
                        data=TubeIssue(barcodes=["POOL-Q1"], capacity=10))
    testing.create_lab(session, actor=make_actor(), data=LabCreate(
        code="LQ", name="实验室", division_code="440802", daily_capacity=100))
    sampled = (utc_now() - timedelta(hours=1)).isoformat()
    importer.import_samples(session, actor=make_actor(), round_id=made.round_id, filename="s",
                            source=("tube_id,person_ref,sampled_at,point_id\n" + "".join(
                                f"POOL-Q1,{r},{sampled},\n" for r in refs)).encode())
    importer.import_results(session, actor=make_actor(), filename="r", source=(
        "tube_id,result,reported_at,lab_id\n"
        f"POOL-Q1,positive,{(utc_now() - timedelta(minutes=30)).isoformat()},LQ\n").encode())
    for lang, title in (("zh-Hans", "阳性混管处置队列"), ("en", "Positive pools being resolved")):
        section = next(s for s in _doc(session, "440802", lang=lang).sections
                       if s.key == "testing")
        assert {f.key: f.value for f in section.figures}["positive_pools"] == 1
        (queue,) = [t for t in section.tables if t.title.startswith(title)]
        ((tube, place, _opened, hours, pending),) = [[c.value for c in row] for row in queue.rows]
        assert (tube, pending) == ("POOL-Q1", "3 / 3") and place.startswith(("赤坎区", "Chikan"))
        assert 0 <= hours < 0.1  # opened as its result arrived, just now
    assert not [t for s in _doc(session, "440803").sections if s.key == "testing"
                for t in s.tables]  # another district's command does not see it
