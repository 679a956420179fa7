"""Pure numerics of epidemic analytics (no database): Rt, aberration detection, growth."""
