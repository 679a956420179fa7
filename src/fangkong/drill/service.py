"""Run drills: build the city once per (city, agents, seed), run each strategy, write results."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.messages import DEFAULT_LANG
from fangkong.drill import report
from fangkong.drill.loop import Drill, Run
from fangkong.drill.strategy import Strategy
from fangkong.geo import service as geo
from fangkong.sim.city import City, build_city, census_population


def shipped(name: str) -> Path:
    """A strategy file shipped with the package (drill/strategies/NAME.yaml)."""
    return Path(str(resources.files("fangkong.drill") / "strategies" / f"{name}.yaml"))


def run(session: Session | None, *, actor: Actor | None, strategies: list[Strategy],
        out: Path | None,
        progress: Callable[[str, int, int], None] | None = None,
        lang: str = DEFAULT_LANG, extra: str = "") -> list[Run]:
    """Run each strategy (the platform in the loop when a session is given) and write
    ``out/metrics.csv`` and ``out/report.html``."""
    if session is not None and geo.count(session) == 0:
        geo.load(session, province=strategies[0].city[:2])
    cities: dict[tuple[str, int, int], City] = {}
    runs = []
    for s in strategies:
        if s.fraction is not None:
            s = s.model_copy(update={"agents": max(100, round(
                census_population(s.city) * s.fraction)), "fraction": None})
        key = (s.city, s.agents, s.seed)
        if key not in cities:
            cities[key] = build_city(s.agents, seed=s.seed, city=s.city)
        drill = Drill(s, session=session, actor=actor, city=cities[key])

        def tick(t: int, name: str = s.name, days: int = s.days) -> None:
            if progress is not None:
                progress(name, t + 1, days)

        runs.append(drill.run_all(tick))
    if out is not None:
        report.write(runs, out, lang=lang, extra=extra)
    return runs
