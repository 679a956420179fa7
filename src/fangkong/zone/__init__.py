"""Risk areas (风险区 / 三区): designation, rounds, the daily evaluation, lifting."""

from fangkong.registry import Command, Contribution, Job, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.zone.api:router", "fangkong.zone.api:checks_router",
             "fangkong.zone.api:public_router"),
    commands=(Command("zone", "fangkong.zone.cli:app",
                      "Risk areas (风险区 / 三区)."),),
    jobs=(Job("evaluate the risk areas", "fangkong.zone.jobs:evaluate", daily=True),),
    packed=(Packed("zone", "fangkong.zone.models:Zone"),),
    sections=("fangkong.web.zones",),  # its dashboard sections (the web layer draws them)
)
