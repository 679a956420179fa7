"""Transfer and isolation (转运隔离) and treatment (医疗救治): sites, rooms, assignment."""

from fangkong.registry import Command, Contribution, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.isolation.api:router",),
    commands=(Command("isolation", "fangkong.isolation.cli:app",
                      "Transfer and isolation (转运隔离): sites, rooms, assignment."),),
    packed=(Packed("stay", "fangkong.isolation.models:Stay", pack="pack"),),
    sections=("fangkong.web.isolation",),  # its dashboard sections (the web layer draws them)
)
