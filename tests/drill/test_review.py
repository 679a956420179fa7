"""The after-action review (复盘) made from a deployment's own records: on a fixture written by
a drill through the platform's services, the review (which reads only the records, through the
domains' services) finds the same cases and tasks, day by day, that the drill knows it made;
a jurisdiction counts only its own; the page opens with the verdicts in the user's
language."""

from __future__ import annotations

import csv
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import system_actor
from fangkong.core.errors import Invalid
from fangkong.drill import review
from fangkong.drill.loop import Drill
from fangkong.drill.strategy import Strategy

# a short outbreak with too few beds and tracers, so that both limits show in the records
STRATEGY = {"agents": 3000, "days": 18, "seed": 13,
            "capacity": {"isolation_beds": 100, "tracers": 30}}


def test_the_review_of_the_records_finds_what_the_drill_made(session: Session,
                                                              tmp_path: Path) -> None:
    s = Strategy.model_validate(STRATEGY)
    drill = Drill(s, session=session, actor=system_actor())
    rows = drill.run_all().rows
    start, end = s.start_date, s.start_date + timedelta(days=s.days - 1)
    rv = review.review(session, actor=system_actor(), division=s.city, start=start, end=end)
    assert [r["date"] for r in rv.rows] == [r["date"] for r in rows]
    # each case found, on its day and by how it was found
    for key in ("new_detected", "detected_in_quarantine", "detected_in_community",
                "detected_fever_clinic", "detected_key_groups", "detected_area_rounds"):
        assert [r[key] for r in rv.rows] == [r[key] for r in rows], key
    assert rv.rows[-1]["cumulative_detected"] == rows[-1]["cumulative_detected"] > 0
    # every task due each day, and those done on time
    assert [r["tasks_due"] for r in rv.rows] == [r["tasks_due"] for r in rows]
    assert [r["tasks_on_time"] for r in rv.rows] == [r["tasks_on_time"] for r in rows]
    # beds: the strategy's, occupied by the cases in isolation each night
    beds = round(100 * s.agents / 100_000)
    assert {r["beds"] for r in rv.rows} == {beds}
    assert [r["beds_occupied"] for r in rv.rows] == [r["in_isolation"] for r in rows]
    # what limited the response: tracing on the days 流调 tasks were past due at the day's
    # end, rooms on the days the beds were full; both happen in this outbreak
    for r in rv.rows:
        assert r["tracing_overdue"] <= r["cases_waiting_tracing"]
        full = r["beds_occupied"] >= r["beds"] or r["rooms_occupied"] >= r["rooms_active"]
        assert r["bottleneck"] == ("tracing" if r["tracing_overdue"] else
                                   "rooms" if full else "none")
    figures = rv.figures()
    assert figures["bottleneck_days_tracing"] > 0 and figures["bottleneck_days_none"] > 0
    assert figures["bottleneck_days_rooms"] == sum(r["rooms_full"] for r in rv.rows) > 0
    assert figures["cases_found"] == rows[-1]["cumulative_detected"]
    assert figures["contacts_identified"] > 0 and rv.clocks
    assert sum(rv.by_onset) <= figures["cases_found"]

    # a jurisdiction counts its own: the districts' reviews add up to the city's
    by_district = [review.review(session, actor=system_actor(), division=code, start=start,
                                 end=end) for code in drill.city.district_codes]
    assert sum(d.figures()["cases_found"] for d in by_district) == figures["cases_found"]
    assert sum(1 for d in by_district if d.figures()["cases_found"]) >= 1
    # a period counts its own days: a later period without the first week
    later = review.review(session, actor=system_actor(), division=s.city,
                          start=start + timedelta(days=7), end=end)
    assert [r["new_detected"] for r in later.rows] == [r["new_detected"] for r in rows[7:]]

    # the page: the verdicts first, in the user's language; the days in review.csv
    csv_path, page_path = review.write(rv, tmp_path, name="湛江市", lang="zh-Hant")
    page = page_path.read_text("utf-8")
    assert page.index("結論") < page.index("逐日情況")
    assert "控制所需時間" in page and "轉運時鐘" in page and "制約應對的環節" in page
    headers = re.findall(r"<th>([^<]*)</th>", page)
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)]
    with csv_path.open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == s.days
    en = review.to_html(rv, name="Zhanjiang", lang="en")
    assert "After-action review: Zhanjiang" in en and "Transfer clocks" in en


def test_a_period_must_not_end_before_it_starts(session: Session) -> None:
    s = Strategy.model_validate(STRATEGY)
    with pytest.raises(Invalid):
        review.review(session, actor=system_actor(), division=s.city, start=s.start_date,
                      end=s.start_date - timedelta(days=1))
