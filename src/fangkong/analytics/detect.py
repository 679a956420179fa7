"""One entry point for every aberration detector: method name + parameters (as stored in an
alert rule) → :class:`~fangkong.analytics.ears.Detection`. Unknown parameters are refused."""

from __future__ import annotations

from datetime import date
from typing import Any

from numpy.typing import ArrayLike

from fangkong.analytics.ears import Detection, ears
from fangkong.analytics.farrington import farrington, farrington_flexible
from fangkong.analytics.messages import A
from fangkong.core.errors import Invalid, Problem

PARAMS: dict[str, set[str]] = {
    "ears-c1": {"baseline", "alpha", "min_sigma"},
    "ears-c2": {"baseline", "alpha", "min_sigma"},
    "ears-c3": {"baseline", "alpha", "min_sigma"},
    "farrington": {"b", "w", "reweight", "alpha", "trend", "limit54", "powertrans"},
    "farrington-flexible": {"b", "w", "reweight", "weights_threshold", "alpha", "trend",
                            "p_threshold_trend", "limit54", "powertrans", "no_periods",
                            "past_weeks_not_included", "threshold_method"},
}


def check_params(method: str, params: dict[str, Any]) -> None:
    if method not in PARAMS:
        raise Invalid(A("unknown_method", method=repr(method), allowed=", ".join(PARAMS)),
                      problems=[Problem(A("unknown_method_short"), field="method")])
    bad = sorted(set(params) - PARAMS[method])
    if bad:
        raise Invalid(A("no_params", method=method, params=", ".join(bad)), problems=[
            Problem(A("unknown_param", allowed=", ".join(sorted(PARAMS[method]))),
                    field=f"params.{b}") for b in bad])


def lookback(method: str, params: dict[str, Any], freq: int) -> int:
    """How many periods of history before the first evaluated period the method needs."""
    if method.startswith("ears-"):
        return int(params.get("baseline", 7)) + 4
    b, w = int(params.get("b", 5)), int(params.get("w", 3))
    return freq * b + w + (freq // 52 + 1) * 2


def detect(method: str, observed: ArrayLike, range_: ArrayLike, params: dict[str, Any], *,
           freq: int = 52, dates: list[date] | None = None) -> Detection:
    check_params(method, params)
    p = dict(params)
    if "limit54" in p:
        p["limit54"] = tuple(p["limit54"])
    if method.startswith("ears-"):
        return ears(observed, method=method[-2:].upper(), range_=range_, **p)
    if method == "farrington":
        return farrington(observed, freq=freq, range_=range_, **p)
    return farrington_flexible(observed, freq=freq, dates=dates, range_=range_, **p)
