"""Cases (病例): infections reported, classified and followed."""

from fangkong.registry import Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.case.api:router",),
)
