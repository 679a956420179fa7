"""Administrative divisions (行政区划) and field units (指挥体系)."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.geo.api:router",),
    commands=(Command("geo", "fangkong.geo.cli:app",
                      "Administrative divisions and field units (指挥体系)."),),
)
