"""Vocabularies of the policy engine, with their zh/en labels in one place."""

from __future__ import annotations

from enum import StrEnum


class PhaseKind(StrEnum):
    """What a phase of a management plan is. Ordered by how much it restricts a person."""

    centralized_quarantine = "centralized_quarantine"  # 集中隔离医学观察
    quarantine = "quarantine"  # facility or home, as the local command decides (WHO)
    home_quarantine = "home_quarantine"  # 居家隔离医学观察
    isolation = "isolation"  # 隔离 of an infected person (home or facility)
    home_health_monitoring = "home_health_monitoring"  # 居家健康监测 (does not go out)
    self_health_monitoring = "self_health_monitoring"  # 自我健康监测 (goes about normally)
    testing_only = "testing_only"  # tests on given days, no restriction (e.g. 3天2检)

    @property
    def severity(self) -> int:
        return SEVERITY[self]

    @property
    def restrictive(self) -> bool:
        """Whether the phase is an isolation or control measure (隔离、管控措施)."""
        return SEVERITY[self] >= RESTRICTIVE_FROM

    @property
    def label(self) -> dict[str, str]:
        return PHASE_LABELS[self]


SEVERITY = {
    PhaseKind.centralized_quarantine: 4,
    PhaseKind.isolation: 4,
    PhaseKind.quarantine: 3,
    PhaseKind.home_quarantine: 3,
    PhaseKind.home_health_monitoring: 2,
    PhaseKind.self_health_monitoring: 1,
    PhaseKind.testing_only: 0,
}
RESTRICTIVE_FROM = 2

PHASE_LABELS = {
    PhaseKind.centralized_quarantine: {"zh-Hans": "集中隔离医学观察", "zh-Hant": "集中隔離醫學觀察",
                                      "en": "centralized quarantine"},
    PhaseKind.quarantine: {"zh-Hans": "隔离观察", "zh-Hant": "隔離觀察", "en": "quarantine"},
    PhaseKind.home_quarantine: {"zh-Hans": "居家隔离医学观察", "zh-Hant": "居家隔離醫學觀察",
                                "en": "home quarantine"},
    PhaseKind.isolation: {"zh-Hans": "隔离治疗", "zh-Hant": "隔離治療", "en": "isolation"},
    PhaseKind.home_health_monitoring: {"zh-Hans": "居家健康监测", "zh-Hant": "居家健康監測",
                                       "en": "home health monitoring"},
    PhaseKind.self_health_monitoring: {"zh-Hans": "自我健康监测", "zh-Hant": "自我健康監測",
                                       "en": "self health monitoring"},
    PhaseKind.testing_only: {"zh-Hans": "核酸检测", "zh-Hant": "核酸檢測", "en": "testing only"},
}


class Confidence(StrEnum):
    """How sure the encoding is (the research file's tags, plus our own two)."""

    A = "A"  # same wording in 2+ reproductions, one official
    B = "B"  # one reproduction of official text
    C = "C"  # a local implementation or secondary summary
    assumption = "assumption"  # the texts are silent; our documented choice (see ambiguities)
    unverified = "unverified"  # not read in any source; to be checked against the original


STANDARD_ROLES = (
    "close_contact",
    "secondary_contact",
    "inbound_traveller",
    "from_high_risk_area",
    "from_medium_risk_area",
    "from_low_risk_area",
    "closed_loop_worker_after_shift",
)
"""Roles every shipped pack declares (managed, or unmanaged with an explanation)."""

NO_ZONE = "none"
"""The level of a place in no risk area (outside every county that has one)."""


class MeasureKind(StrEnum):
    management = "management"
    area_control = "area_control"
    travel_restriction = "travel_restriction"
    checkpoint = "checkpoint"
    close_venues = "close_venues"
    deny_care = "deny_care"
    student_quarantine = "student_quarantine"


class PatientKind(StrEnum):
    emergency = "emergency"  # 急症
    critical = "critical"  # 危重症
    regular_treatment = "regular_treatment"  # 需要规律性诊疗 (dialysis, chemotherapy…)
    pregnant = "pregnant"  # 孕产妇
    other = "other"


class HealthCode(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"
