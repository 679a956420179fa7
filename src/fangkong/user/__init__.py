"""Users, roles and jurisdiction grants; sign-in."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    routers=("fangkong.user.api:router",),
    commands=(Command("user", "fangkong.user.cli:app",
                      "Users, roles and jurisdiction grants."),),
)
