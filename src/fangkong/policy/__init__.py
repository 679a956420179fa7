"""The policy engine: protocol packs as versioned data, and the pure computations over them
(management plans, look-back windows, risk-area lifting schedules, the nine prohibitions).
No database tables: other domains call :mod:`fangkong.policy.service`."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.policy.api:router",),
    commands=(Command("policy", "fangkong.policy.cli:app",
                      "Policy packs: plans, look-back windows, zone clocks, the nine prohibitions "
                      "(九不准)."),),
)
