"""The verdicts a commander reads first: time to control, demand against capacity, what
limited the response each day; in the user's language."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from fangkong.drill import report
from fangkong.drill.loop import COLUMNS, Drill
from fangkong.drill.service import shipped
from fangkong.drill.strategy import Strategy, load
from fangkong.drill.verdicts import bottleneck, controlled_on, verdict

# the shipped baseline's capacities, at their scale (per 100,000)
S = load(shipped("baseline")).model_copy(update={"agents": 100_000, "days": 20})


def _row(day: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, 0)
    row.update({"day": day, "date": f"2022-05-{day + 1:02d}", "tasks_due": "",
                "tasks_on_time": "", **values})
    return row


def test_time_to_control_counts_seven_clean_days_after_the_first_case() -> None:
    found = {2: 1, 4: 2, 6: 1}  # community cases found on days 2, 4 and 6
    rows = [_row(d, new_detected=found.get(d, 0), detected_in_community=found.get(d, 0))
            for d in range(20)]
    assert controlled_on(rows, 2) == 13  # days 7..13 clean
    assert verdict(rows, S).time_to_control == 11
    # a case on day 10 restarts the count: days 11..17 clean
    rows[10].update(new_detected=1, detected_in_community=1)
    assert verdict(rows, S).time_to_control == 15
    rows[15].update(new_detected=1, detected_in_community=1)  # not within 20 days
    assert verdict(rows, S).time_to_control is None
    # cases found in quarantine do not count against control
    for d in (10, 15):
        rows[d].update(detected_in_community=0, detected_in_quarantine=1)
    assert verdict(rows, S).time_to_control == 11
    assert verdict([_row(d) for d in range(5)], S).first_case_day is None


def test_the_bottleneck_is_the_longest_queue_in_days_of_its_capacity() -> None:
    # baseline capacities per 100,000: 10 tracers, 2,000 tubes (pools of 10), 2,000 rooms
    assert bottleneck(_row(0), S) == "none"
    assert bottleneck(_row(0, cases_waiting_tracing=5), S) == "none"  # half a day of work
    assert bottleneck(_row(0, cases_waiting_tracing=30), S) == "tracing"
    assert bottleneck(_row(0, cases_waiting_tracing=30, lab_backlog=100_000, tests_used=2000,
                           lab_capacity=2000), S) == "lab"
    # contacts wait while every room is taken: rooms, even with seats to spare
    assert bottleneck(_row(0, contacts_waiting_room=10, rooms_occupied=2000), S) == "rooms"
    assert bottleneck(_row(0, contacts_waiting_room=10, rooms_occupied=100), S) == "none"


def test_demand_against_capacity_and_what_runs_on_at_the_end() -> None:
    rows = [_row(0, in_quarantine=1500, contacts_waiting_room=700, in_isolation=250,
                 cases_waiting_transfer=10, new_detected=4, detected_in_quarantine=3,
                 contacts_managed=10, quarantined_within_24h=7),
            _row(1, contacts_in_facility=40, contacts_at_home=5, in_isolation=12)]
    v = verdict(rows, S)
    assert (v.peak_rooms, v.rooms, v.peak_beds, v.beds) == (2200, 2000, 260, 300)
    assert v.found_among_contacts == 0.75 and v.quarantined_in_24h == 0.7
    assert (v.still_in_quarantine, v.still_isolated) == (45, 12)
    assert v.tasks_on_time is None


def test_the_report_opens_with_the_verdicts_in_the_users_language(tmp_path: Path) -> None:
    drill = Drill(Strategy.model_validate({"agents": 3000, "days": 20, "seed": 11}))
    run = drill.run_all()
    report.write([run], tmp_path, lang="zh-Hant")
    page = (tmp_path / "report.html").read_text("utf-8")
    assert page.index("結論") < page.index("策略對比") < page.index("逐日情況")
    assert "控制所需時間" in page and "制約應對的環節" in page
    # infections by setting, in the language; no empty chart (tasks exist only with the
    # platform)
    assert 'id="c_by_setting"' in page and "工作場所" in page
    assert 'id="c_new_infections"' in page and 'id="c_tasks_on_time_share"' not in page
    # no snake_case label is shown: every header and chart title is a sentence
    headers = re.findall(r"<th>([^<]*)</th>", page)
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)]
    # delays and the curve by onset against by report date, from the same cases
    epi = run.epi
    assert sum(epi["by_report"]) == run.rows[-1]["cumulative_detected"] > 0
    assert sum(epi["by_onset"]) == sum(epi["onset_to_report"]) <= sum(epi["by_report"])
    assert sum(epi["report_to_isolation"]) == int((drill.isolated_day < 10_000).sum())
    assert "發病至報告" in page and "按發病日期" in page
    assert "平均戶規模" in page and "nursing_home" not in page  # the city, in the language
    en = tmp_path / "en"
    report.write([run], en, lang="en")
    assert "Time to control" in (en / "report.html").read_text("utf-8")
    with (tmp_path / "verdicts.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert int(row["infections"]) == run.rows[-1]["cumulative_infections"]
    assert sum(int(row[f"bottleneck_days_{k}"]) for k in ("tracing", "lab", "rooms",
                                                          "none")) == 20
