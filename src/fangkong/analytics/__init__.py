"""Pure numerics of epidemic analytics (no database): Rt, aberration detection, growth."""

from fangkong.registry import Command, Contribution

CONTRIBUTES = Contribution(
    commands=(Command("analytics", "fangkong.analytics.cli:app",
                      "Epidemic analytics (Rt, aberration detection, growth) on files."),),
)
