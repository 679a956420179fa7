"""Persons (人员): identities, households, where they stay (暂住)."""

from fangkong.registry import Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.person.api:router", "fangkong.person.stays_api:router",),
)
