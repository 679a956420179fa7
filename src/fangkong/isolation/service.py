"""Isolation services. Planning mode: assign people to rooms from files, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fangkong.isolation import planning, solver
from fangkong.policy import service as policy


def plan_assignment(*, people: Path | bytes, sites: Path | bytes, pack: str | None = None,
                    people_name: str | None = None, sites_name: str | None = None
                    ) -> dict[str, Any]:
    """Read and check both files (bad rows: Invalid with file, line and field), then solve."""
    _, rules = policy.isolation_rules(pack)
    persons = planning.read_people(people, people_name)
    places = planning.read_sites(sites, sites_name)
    return solver.assign(persons, places, rules).as_dict()
