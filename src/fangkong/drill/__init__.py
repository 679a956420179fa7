"""Drills (平战结合): a simulated outbreak the platform responds to."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    commands=(Command("drill", "fangkong.drill.cli:app",
                      "Drills (平战结合): a simulated outbreak the platform responds to."),),
)
