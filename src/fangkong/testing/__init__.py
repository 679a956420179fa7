"""Mass testing (筛查检测): rounds, pooled tubes, labs, positive-pool follow-up, coverage."""

from fangkong.registry import Command, Contribution, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.testing.api:router",),
    commands=(Command("testing", "fangkong.testing.cli:app",
                      "Mass testing (筛查检测): rounds, pooled tubes, labs, positive pools, "
                      "coverage."),),
    packed=(Packed("testing round", "fangkong.testing.models:Round"),),
    sections=("fangkong.web.testing",),  # its dashboard sections (the web layer draws them)
)
