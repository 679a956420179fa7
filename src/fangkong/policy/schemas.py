"""What the policy engine returns: plans, windows, zone schedules and verdicts, check reports.
Every result names the pack and the pack version it was computed from."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from pydantic import BaseModel, Field, PrivateAttr

from fangkong.core.messages import Text, render, traditional
from fangkong.policy.enums import PhaseKind


class PackSummary(BaseModel):
    id: str
    version: str
    title: dict[str, str]
    document: str
    published: date
    in_force_start: date
    in_force_end: date | None
    extends: str | None
    lineage: list[str]
    roles: list[str]
    levels: list[str] = Field(description="Risk-area levels, most severe first.")
    has_prohibitions: bool
    digest: str = Field(description="Hash of the resolved pack: the exact rules used.")


class Stamped(BaseModel):
    pack: str
    pack_version: str


class Told(BaseModel):
    """A model some of whose fields are messages: built with :meth:`of`, a message field holds
    its English text and keeps the message, which :meth:`in_lang` renders in another
    language."""

    _told: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def of(cls, **fields: Any) -> Self:
        told = {k: v for k, v in fields.items() if isinstance(v, Text)}
        out = cls(**{**fields, **{k: str(v) for k, v in told.items()}})
        out._told = told
        return out

    def in_lang(self, lang: str) -> Self:
        """The model with its message fields in ``lang``."""
        return self.model_copy(update={k: str(render(v, lang)) for k, v in self._told.items()})


class PhaseRead(BaseModel):
    kind: PhaseKind
    start: date
    end: date
    test_dates: list[date]
    start_day: int = Field(description="Plan day of the first day (the anchor is day 0).")
    end_day: int
    test_days: list[int] = Field(description="Plan days (from the anchor) with a test.")
    where: str | None = None
    rules: str | None = None


class ConditionRead(BaseModel):
    id: str
    when: str
    then: str
    becomes_role: str | None = None
    ends_plan: bool = False
    source: list[str]


class Plan(Stamped, Told):
    role: str
    anchor: date
    anchor_meaning: str = Field(description="What day 0 is, in the language asked for "
                                "(Accept-Language; English by default).")
    managed: bool
    explanation: str | None = None
    phases: list[PhaseRead]
    release_date: date | None = Field(description="The day after the last phase ends.")
    conditions: list[ConditionRead]
    source: list[str]


class Window(Stamped, Told):
    """Exposures on days ``start``..``end`` (both included) count; ``end`` None = still open."""

    start: date
    end: date | None
    basis: str = Field(description="Why these days, in the language asked for "
                       "(Accept-Language; English by default).")

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Condition(BaseModel):
    """A condition still missing, as data (``requires`` gives it as English text): ``clean``
    (no new infection on days ``first_day``..``last_day``, dates ``first``..``last``),
    ``round`` (a negative area-wide round on one of those days) or ``confirm`` (the pack's
    ``text``, confirmed by hand as ``confirm``)."""

    kind: str
    first: date | None = None
    last: date | None = None
    first_day: int | None = None
    last_day: int | None = None
    text: str | None = None
    confirm: str | None = None


class ZoneStep(BaseModel):
    from_level: str
    to_level: str
    lifts: bool = Field(description="True when to_level is the pack's base level: the zone ends.")
    effective: date
    requires: list[str]
    conditions: list[Condition] = Field(
        default_factory=list, description="The same conditions as data, for a reader's "
        "language.")


class ZoneSchedule(Stamped, Told):
    level: str
    day0: date
    steps: list[ZoneStep]
    note: str | None = None


class ZoneFacts(BaseModel):
    """What is known about a zone for the daily evaluation."""

    infections: list[date] = Field(default_factory=list,
                                   description="Report dates of infections in the zone.")
    negative_rounds: list[date] = Field(default_factory=list,
                                        description="Dates of area-wide rounds, all negative.")
    confirmed: list[str] = Field(default_factory=list,
                                 description="Ids of manual lifting conditions confirmed.")
    level_since: date | None = Field(
        None, description="When the zone got its current level: a later lifting step counts "
        "from it, and an infection reported after it escalates a level that escalates on "
        "infection (e.g. 管控区 → 封控区).")
    path_level: str | None = Field(None, description="The level the zone had on day 0, when "
                                   "it has since been lowered (default: its current level).")


class ZoneVerdict(Stamped, Told):
    level: str
    day0: date
    on: date
    restarted: bool = Field(description="A new infection moved day 0.")
    due: str | None = Field(None, description="The level the zone changes to today, if any.")
    lifts: bool = False
    escalation: bool = False
    effective: date | None = Field(None, description="Earliest date of the next change.")
    requires: list[str] = Field(default_factory=list, description="Conditions still missing.")
    conditions: list[Condition] = Field(
        default_factory=list, description="The same conditions as data, for a reader's "
        "language.")
    met: list[str] = Field(default_factory=list)
    reason: str


class Violation(BaseModel):
    measure: int = Field(description="Index of the measure in the list checked (from 0).")
    prohibition: int = Field(ge=1, le=9)
    text: str
    why: str = Field(description="Why the measure breaks the prohibition, in the language "
                     "asked for (Accept-Language; English by default).")
    _why: Any = PrivateAttr(None)

    @classmethod
    def of(cls, *, why: Any, **fields: Any) -> Violation:
        """A violation whose reason is a message (:class:`fangkong.core.messages.Text`)."""
        out = cls(why=str(why), **fields)
        out._why = why
        return out

    @property
    def reason(self) -> Any:
        """The reason as a message (or as the English text of a violation read back)."""
        return self._why if self._why is not None else self.why

    def why_in(self, lang: str) -> str:
        """The reason in ``lang``."""
        return str(render(self.reason, lang))

    def text_in(self, lang: str) -> str:
        """The prohibition's text (the pack's, in simplified characters) for ``lang``."""
        return traditional(self.text) if lang == "zh-Hant" else self.text


class CheckReport(Stamped):
    violations: list[Violation]
    notes: list[str] = Field(default_factory=list,
                             description="Measures that could not be fully checked, and why.")
    _notes: list[Any] = PrivateAttr(default_factory=list)

    @classmethod
    def of(cls, *, notes: list[Any], **fields: Any) -> CheckReport:
        """A report whose notes are messages."""
        out = cls(notes=[str(n) for n in notes], **fields)
        out._notes = list(notes)
        return out

    def notes_in(self, lang: str) -> list[str]:
        return [str(render(n, lang)) for n in self._notes] if self._notes else self.notes

    def in_lang(self, lang: str) -> CheckReport:
        """The report with its reasons and notes in ``lang`` (what the API and CLI show)."""
        return self.model_copy(update={
            "violations": [v.model_copy(update={"why": v.why_in(lang)}) for v in self.violations],
            "notes": self.notes_in(lang)})
