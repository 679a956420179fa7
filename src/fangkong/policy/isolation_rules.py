"""The optional ``isolation:`` section of a pack: where each kind of person may be placed
(site types, lowest medical level) and what each special need requires of a site or room.

Read by the isolation domain's assignment solver (``fangkong isolation assign``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from fangkong.policy.rulebase import Ruled

SiteTypeName = Literal["quarantine_hotel", "health_station", "shelter_hospital",
                       "designated_hospital", "sub_designated_hospital", "home"]
MedicalLevelName = Literal["none", "basic", "general", "icu"]
AssignRole = Literal["close_contact", "secondary_contact", "inbound_traveller",
                     "case_asymptomatic", "case_mild", "case_moderate", "case_severe",
                     "case_critical"]
NeedName = Literal["elderly_alone", "child_with_guardian", "pregnant", "dialysis", "wheelchair"]

MEDICAL_LEVELS: tuple[str, ...] = ("none", "basic", "general", "icu")
"""Medical levels of a site, lowest first: none, basic (clinician on site), general (hospital
ward), icu (intensive care)."""


class Destination(Ruled):
    """The site types a role may be placed in (``home`` alone means home quarantine)."""

    site_types: list[SiteTypeName] = Field(min_length=1)
    min_medical_level: MedicalLevelName = "none"

    @model_validator(mode="after")
    def _home_alone(self) -> Destination:
        if "home" in self.site_types and len(self.site_types) > 1:
            raise ValueError("'home' (home quarantine) cannot be combined with other site types")
        return self


class NeedRule(Ruled):
    """What a person's need requires of the site and room."""

    min_medical_level: MedicalLevelName = "none"
    accessible_room: bool = False
    with_guardian: bool = Field(False, description="Shares a family room with an adult of the "
                                                   "same household.")


class IsolationRules(Ruled):
    destinations: dict[AssignRole, Destination]
    needs: dict[NeedName, NeedRule] = Field(default_factory=dict)
