"""The optional ``testing:`` section of a policy pack: mass-testing (筛查检测) rules.

Pooling ratio by where a person is (quarantine site, zone level, elsewhere), the pool sizes a lab
may use, the round stop rule, the planning ratios of the regional testing guide, the time a
result and a re-collection are due, and the routine schedules of key groups. Each rule names its
sources, which are keys of the section's own ``sources`` (so the section can be appended to a
pack without touching the pack's other parts).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from fangkong.policy.enums import Confidence


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


SourceRefs = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    url: str
    title: str | None = None
    confidence: Confidence
    note: str | None = None

HOUSEHOLD = "household"
"""A ratio meaning one tube per household (1户1管): the tube holds one household's members."""

Ratio = int | Literal["household"]


class Rule(Strict):
    """A rule of this section: its sources are keys of ``testing.sources`` (not of the pack's
    ``sources``, which the pack's own cross-checks look at)."""

    source: SourceRefs
    confidence: Confidence
    note: str | None = None


class Pooling(Rule):
    """How many people one tube may hold, by where they are."""

    quarantine_site: int = Field(ge=1, description="Persons in centralized quarantine sites.")
    by_level: dict[str, Ratio] = Field(description="Zone level -> tube size or 'household'.")
    elsewhere: int = Field(ge=1, description="Everyone not in a listed zone level or site.")
    household_max: int = Field(ge=1, description="Most members a household tube may hold.")
    allowed_sizes: list[int] = Field(min_length=1, description="Pool sizes a lab may use.")

    @model_validator(mode="after")
    def _sizes(self) -> Pooling:
        for level, ratio in self.by_level.items():
            if isinstance(ratio, int) and ratio < 1:
                raise ValueError(f"by_level.{level}: a tube holds at least one person")
        if any(k < 1 for k in self.allowed_sizes):
            raise ValueError("allowed_sizes: every size is at least 1")
        return self


class StopRule(Rule):
    """Daily rounds until ``clean_rounds`` in a row find no community infection, then one more
    round ``final_after_days`` days later; then rounds may stop."""

    interval_days: int = Field(ge=1)
    clean_rounds: int = Field(ge=1)
    final_after_days: int = Field(ge=0)


class Planning(Rule):
    people_per_point: tuple[int, int]
    people_per_sampler: int = Field(ge=1, description="Persons a sampler covers in a campaign.")
    campaign_hours: int = Field(ge=1, description="The time the campaign ratio assumes.")


class Turnaround(Rule):
    result_due_hours: int = Field(ge=1, description="A tube's result is due this long after "
                                                    "its first sample.")
    resample_due_hours: int = Field(ge=1, description="A positive pool's single-tube "
                                                      "re-collection is due this long after.")


class KeyGroup(Rule):
    label: dict[str, str]
    every_days: int = Field(ge=1, le=31)


class Testing(Strict):
    sources: dict[str, Source]
    pooling: Pooling
    stop_rule: StopRule
    planning: Planning
    turnaround: Turnaround
    positive_classification: Literal["asymptomatic", "suspected"]
    positive_classification_rule: Rule
    key_groups: dict[str, KeyGroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _refs(self) -> Testing:
        rules: list[tuple[str, Rule]] = [
            ("pooling", self.pooling), ("stop_rule", self.stop_rule),
            ("planning", self.planning), ("turnaround", self.turnaround),
            ("positive_classification_rule", self.positive_classification_rule),
            *((f"key_groups.{k}", g) for k, g in self.key_groups.items())]
        for where, rule in rules:
            missing = [s for s in rule.source if s not in self.sources]
            if missing:
                raise ValueError(f"{where}.source: unknown source(s) {', '.join(missing)}; "
                                 f"expected keys of testing.sources")
        return self
