"""The optional ``surveillance:`` section of a policy pack: the disease's serial interval, which
the reproduction number (Cori et al. 2013, see :mod:`fangkong.analytics.rt`) needs, and the
window the dashboard estimates it over. Each rule names its sources (keys of the pack's
``sources``; the pack's cross-checks look at them)."""

from __future__ import annotations

from pydantic import Field

from fangkong.policy.rulebase import Ruled, Strict


class SerialInterval(Ruled):
    """Mean and sd (days) of the serial interval, the time from the infector's symptom onset to
    the infectee's. EpiEstim's parametric serial interval is a gamma shifted by one day, so the
    mean must exceed 1."""

    disease: str = Field(min_length=1, description="What the estimate is of, e.g. a variant.")
    mean: float = Field(gt=1, le=60)
    sd: float = Field(gt=0, le=60)


class SurveillanceRules(Strict):
    serial_interval: SerialInterval
    rt_window_days: int = Field(7, ge=1, le=28, description="Sliding window of Rt (days).")
