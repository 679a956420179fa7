"""Mass testing's service: rounds and their target population, tubes, points, labs
(``rounds``); status, coverage, the not-yet-sampled list and the positive-pool queue
(``coverage``, with the figures kept as records are written: ``figures``); advice, planning,
the stop rule and key groups (``plans``). Bulk samples and results: importer.py; what a
positive result sets off: followup.py. Callers use the names here."""

from __future__ import annotations

from fangkong.testing.coverage import (
    WORK_MEM,
    computed_round_totals,
    coverage,
    iter_unsampled,
    open_pool_list,
    open_pools,
    queue,
    round_totals,
    status,
    turnaround,
    unsampled,
)
from fangkong.testing.plans import (
    add_key_group_members,
    advise,
    compliance,
    create_key_group,
    plan,
    series_advice,
)
from fangkong.testing.rounds import (
    close_round,
    create_lab,
    create_point,
    create_round,
    get_round,
    issue_tubes,
    open_rounds,
    rules_of,
)

__all__ = [
    "WORK_MEM",
    "add_key_group_members",
    "advise",
    "close_round",
    "compliance",
    "computed_round_totals",
    "coverage",
    "create_key_group",
    "create_lab",
    "create_point",
    "create_round",
    "get_round",
    "issue_tubes",
    "iter_unsampled",
    "open_pool_list",
    "open_pools",
    "open_rounds",
    "plan",
    "queue",
    "round_totals",
    "rules_of",
    "series_advice",
    "status",
    "turnaround",
    "unsampled",
]
