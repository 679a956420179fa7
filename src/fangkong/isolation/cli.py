from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from fangkong.cliutil import JsonOpt, console, emit, handle_errors
from fangkong.isolation import service

app = typer.Typer(help="Transfer and isolation (转运隔离): sites, rooms, assignment.",
                  no_args_is_help=True)


@app.command("assign")
@handle_errors
def assign(
    people: Path = typer.Option(..., "--people", help="CSV/XLSX: person_ref, household_ref, "
                                "role, needs, lon, lat (and optionally case_ref)."),
    sites: Path = typer.Option(..., "--sites", help="CSV/XLSX: site_id, type, lon, lat, rooms, "
                               "room_capacity, family_rooms, accessible_rooms, medical_level."),
    pack: str | None = typer.Option(None, "--pack", help="Policy pack (default: the active "
                                    "pack setting)."),
    as_json: bool = JsonOpt,
) -> None:
    """Plan: assign people to rooms under every hard rule with the least total travel
    distance (from files; nothing is written to the database)."""
    result = service.plan_assignment(people=people, sites=sites, pack=pack)

    def text() -> None:
        table = Table(title=f"{len(result['assignments'])} assigned, "
                            f"{len(result['unassigned'])} unassigned, "
                            f"{result['total_distance_km']:.1f} km in total")
        table.add_column("site")
        table.add_column("people", justify="right")
        for site, n in sorted(Counter(a["site_id"] for a in result["assignments"]).items()):
            table.add_row(site, str(n))
        console.print(table)
        for row in result["unassigned"][:50]:
            console.print(f"  {row['person_ref']}: {row['reason']}", markup=False)

    emit(result, as_json, text)
