"""Surveillance and early warning (监测预警): sentinels, alerts, case-based curves."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.surveillance.api:router",),
    commands=(Command("surveillance", "fangkong.surveillance.cli:app",
                      "Surveillance and early warning (监测预警)."),),
    sections=("fangkong.web.surveillance",),  # its dashboard sections (the web layer draws them)
)
