"""The base models of every pack section: strict (unknown keys refused, frozen), and a rule
names its sources. In their own module so that section modules (``<domain>_rules.py``) and
``pack.py`` can both import them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from fangkong.policy.enums import Confidence


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


SourceRefs = Annotated[list[str], BeforeValidator(_as_list), Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ruled(Strict):
    """Anything that is a rule: it names its sources (keys of the pack's ``sources``)."""

    source: SourceRefs
    confidence: Confidence
    ambiguity: str | None = Field(None, description="Key of the pack's ambiguities it resolves.")
    note: str | None = None
