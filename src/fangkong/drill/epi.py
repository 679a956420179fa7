"""What an epidemiologist reads of a drill, from the simulation's per-person record: the
delays from symptom onset to report and from report to isolation (days), and the epidemic
curve by onset date against by report date."""

from __future__ import annotations

import numpy as np

from fangkong.sim.engine import NEVER


def _counts(values: np.ndarray, size: int) -> list[int]:
    values = values[(values >= 0) & (values < size)]
    return np.bincount(values, minlength=size).astype(int).tolist()


def epi(onset: np.ndarray, reported: np.ndarray, isolated: np.ndarray,
        days: int) -> dict[str, list[int]]:
    """``onset``, ``reported`` (positive result) and ``isolated`` days of each person (NEVER
    when it did not happen within the drill). Delays are counted in whole days, up to the
    drill's length; cases found before their onset count on the curve by report date only."""
    found = reported != NEVER
    symptomatic = found & (onset <= reported)
    isolated_ok = found & (isolated != NEVER)
    return {
        "onset_to_report": _counts((reported - onset)[symptomatic], days),
        "report_to_isolation": _counts((isolated - reported)[isolated_ok], days),
        "by_onset": _counts(onset[symptomatic], days),
        "by_report": _counts(reported[found], days),
    }
