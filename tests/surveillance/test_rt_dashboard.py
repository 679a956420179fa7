"""Rt on the dashboard: from the case registry's local and imported infections by report day,
with the active pack's serial interval, equal to the analytics on the same series."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.analytics.rt import estimate_rt
from fangkong.case import service as cases
from fangkong.case.enums import Classification, DetectionMode
from fangkong.case.schemas import CaseCreate
from fangkong.core.clock import utc_now
from fangkong.person import importer as person_importer
from fangkong.policy import service as policy
from fangkong.web.service import local_today
from fangkong.web.surveillance import RT_DAYS
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows
from tests.web.seed import XIASHAN, ZONE, Seeded, seed
from tests.web.test_pages import sign_in

# infections per day in 霞山区, oldest first, ending yesterday; (local, imported)
OUTBREAK = [(1, 1), (0, 0), (2, 0), (1, 0), (3, 1), (2, 0), (4, 0), (3, 0), (5, 0), (6, 1),
            (5, 0), (7, 0), (8, 0), (6, 0), (9, 0), (8, 1), (10, 0), (7, 0), (9, 0), (8, 0)]


@pytest.fixture
def outbreak(session: Session) -> Seeded:
    seeded = seed(session)  # 霞山区 also has 4 community infections reported today
    admin = make_actor()
    n = sum(a + b for a, b in OUTBREAK)
    people = person_rows(n, places=[(XIASHAN + "001001", 1.0)], seed=9, prefix="RT")
    person_importer.import_file(session, actor=admin, source=csv_bytes(people),
                                filename="rt.csv")
    tz = ZoneInfo(ZONE)
    midnight = utc_now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    k = 0
    for i, (local, imported) in enumerate(OUTBREAK):
        at: datetime = (midnight - timedelta(days=len(OUTBREAK) - i)).replace(hour=10)
        modes = [DetectionMode.fever_clinic] * local + [DetectionMode.entry_screening] * imported
        for mode in modes:
            cases.create(session, actor=admin, data=CaseCreate(
                ref=f"RT{k:04d}", person_ref=people[k]["ref"],
                classification=Classification.confirmed, severity="mild",
                onset_date=(at - timedelta(days=1)).date(), reported_at=at,
                detection_mode=mode, owning_division_code=XIASHAN))
            k += 1
    session.commit()
    return seeded


def _expected() -> tuple[list[dict], object]:
    local = np.zeros(RT_DAYS)
    imported = np.zeros(RT_DAYS)
    for i, (a, b) in enumerate(OUTBREAK):
        local[RT_DAYS - 1 - len(OUTBREAK) + i] = a
        imported[RT_DAYS - 1 - len(OUTBREAK) + i] = b
    local[-1] = 4  # the seed's four community infections of today
    _pack, si = policy.serial_interval(None)
    assert si is not None
    return estimate_rt(local, imported, si_mean=si.mean, si_sd=si.sd).rows(), si


def test_rt_section_shows_the_estimates(client: TestClient, outbreak: Seeded) -> None:
    rows, si = _expected()
    last = rows[-1]
    assert last["enough_cases"] and last["cases"] == 8 + 9 + 10 + 7 + 9 + 8 + 1 + 4
    sign_in(client, "wcity")
    html = client.get("/surveillance?j=" + XIASHAN).text
    section = html[html.index('id="sec-rt"'):]
    section = section[:section.index("</section>")]
    assert "尚未接入" not in section

    def shown(key: str) -> str:
        m = re.search(rf'data-key="{key}">\s*<span class="label">[^<]*</span>\s*'
                      rf'(?:<a class="value"[^>]*>|<span class="value">)([^<]+)<', section)
        assert m, key
        return m.group(1)

    assert shown("rt_median") == f"{last['median']:.2f}"
    assert shown("rt_lower") == f"{last['q025']:.2f}"
    assert shown("rt_upper") == f"{last['q975']:.2f}"
    assert shown("rt_cases") == str(int(last["cases"]))
    chart = json.loads(unescape(re.search(r"data-chart='([^']+)'", section).group(1)))
    estimated = [r for r in rows if r["enough_cases"]][-len(chart["y"]):]
    assert chart["type"] == "interval"
    assert chart["y"] == [round(r["median"], 3) for r in estimated]
    assert chart["lower"] == [round(r["q025"], 3) for r in estimated]
    assert chart["upper"] == [round(r["q975"], 3) for r in estimated]
    assert chart["x"][-1] == local_today(ZONE).isoformat()
    assert f"{si.mean:g} ± {si.sd:g}" in section and "Viruses 2022" in section


def test_rt_section_links_each_window_to_its_cases(client: TestClient,
                                                   outbreak: Seeded) -> None:
    sign_in(client, "wcity")
    html = client.get("/surveillance?j=" + XIASHAN).text
    section = html[html.index('id="sec-rt"'):]
    m = re.search(r'data-key="rt_cases">\s*<span class="label">[^<]*</span>\s*'
                  r'<a class="value" href="([^"]+)"', section)
    assert m
    listed = client.get(unescape(m.group(1))).text
    count = re.search(r'id="case-count">[^<]*<strong>([\d,]+)</strong>', listed)
    assert count and int(count.group(1)) == int(_expected()[0][-1]["cases"])
