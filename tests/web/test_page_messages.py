"""Generated texts on the pages in the viewer's language: a breach of the nine prohibitions
on the zones page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.zone import service as zones
from fangkong.zone.schemas import MemberIn, RoundIn, ZoneCreate
from tests.conftest import make_actor
from tests.web.seed import seed
from tests.web.test_pages import form, sign_in


def test_a_breach_on_the_zones_page_is_in_the_viewers_language(
        client: TestClient, session: Session) -> None:
    seed(session)
    day0 = zones.today() - timedelta(days=10)
    zone = zones.designate(session, actor=make_actor(), data=ZoneCreate(
        name="海滨花园小区", level="high", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code="440802001001")], last_infection_date=day0,
        population=100, reason="测试"))
    # the round of day 7 was negative: due to be medium on day 8, still high on day 10
    zones.record_round(session, actor=make_actor(), zone_id=zone.id,
                       data=RoundIn(round_date=day0 + timedelta(days=7), all_negative=True))
    [breach] = [b for b in zones.prohibition_breaches(session, actor=make_actor())
                if b.zone_id == zone.id]
    sign_in(client, "wchikan")
    page = client.get("/zones").text
    assert breach.why_in("zh-Hans") in page and "调整为中风险区" in page
    assert breach.why not in page and "should become" not in page
    client.post("/prefs", data=form(client, lang="zh-Hant", next="/zones"))
    page = client.get("/zones").text
    assert breach.why_in("zh-Hant") in page and "卻維持至" in page and "不準隨意延長" in page
    assert "should become" not in page
    client.post("/prefs", data=form(client, lang="en", next="/zones"))
    page = client.get("/zones").text
    assert "should become &#39;medium&#39;" in page
