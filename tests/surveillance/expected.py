"""Loading the reference inputs and expected outputs under tests/surveillance/data/.

Sources: epiestim_* and surveillance_*_weekly.csv are copies of the shared reference data
(EpiEstim package data and test expectations; R package surveillance data sets salmNewport,
summed over the states, and salmonella.agona). surveillance_expected_*.csv and
growth_expected.csv were generated with R (surveillance 1.20.3, Debian) by make_expected.R;
r_rng_expected.csv, epiestim_expected_uncertain.csv, epiestim_si_sample.csv and
epiestim_expected_si_sample.csv (R 4.2.2, EpiEstim 2.2-4) by
make_rng_expected.R.
"""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

DATA = Path(__file__).parent / "data"


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def num(v: str) -> float:
    return math.nan if v == "NA" else float(v)


def by_config(name: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in read(name):
        out.setdefault(r["config"], []).append(r)
    return out


def newport() -> tuple[list[float], list[date]]:
    rows = read("surveillance_salmNewport_germany_weekly.csv")
    return [float(r["count"]) for r in rows], [date.fromisoformat(r["week_start"]) for r in rows]


def agona() -> list[float]:
    return [float(r["count"]) for r in read("surveillance_salmonella_agona_weekly.csv")]


def in2011() -> list[int]:
    """1-based indices of the ISO weeks of 2011 in salmNewport (as the R script computes)."""
    _, dates = newport()
    return [i + 1 for i, d in enumerate(dates) if d.isocalendar()[0] == 2011]
