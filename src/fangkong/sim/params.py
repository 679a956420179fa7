"""Parameters of the 2022 Omicron (BA.1/BA.2) infection course and of daily life, with sources.

Figures taken from a publication say so next to them; figures that are modelling choices say
"assumption". Times are in days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Disease:
    # Incubation period (infection -> symptom onset) of Omicron: pooled mean 3.42 days
    # (95% CI 2.88-3.96). Wu Y, Kang L, Guo Z, Liu J, Liu M, Liang W. "Incubation period of
    # COVID-19 caused by unique SARS-CoV-2 strains: a systematic review and meta-analysis".
    # JAMA Netw Open 2022;5(8):e2228008.
    incubation_mean: float = 3.42
    incubation_sd: float = 1.2  # assumption: gives the 2-4 day range quoted by the 9th protocol
    # Latent period (infection -> infectious) about 3 days: the 9th edition protocol
    # (新型冠状病毒肺炎防控方案（第九版）, 2022-06-28) states the Omicron incubation period is
    # "多为2-4天", and infectiousness starts about half a day before onset (assumption
    # consistent with presymptomatic transmission reported for Omicron).
    latent_mean: float = 3.0
    latent_sd: float = 0.8
    # Share of infections that never develop symptoms: 32.4% (95% CI 25.8-39.7%) among
    # Omicron-positive people. Shang W, Kang L, Cao G, et al. "Percentage of asymptomatic
    # infections among SARS-CoV-2 Omicron variant-positive individuals: a systematic review and
    # meta-analysis". Vaccines 2022;10(7):1049.
    asymptomatic_share: float = 0.324
    # Infectious virus is rarely cultured beyond about 5 days after symptom onset with Omicron:
    # Puhach O, Adea K, Hulo N, et al. "Infectious viral load in unvaccinated and vaccinated
    # individuals infected with ancestral, Delta or Omicron SARS-CoV-2". Nat Med
    # 2022;28:1491-1500.
    infectious_after_onset: float = 5.0
    asymptomatic_infectious_days: float = 5.0  # assumption: same total as a symptomatic course
    # Asymptomatic index cases infect fewer: relative risk 0.35 (95% CI 0.10-1.27).
    # Buitrago-Garcia D, Egli-Gany D, Counotte MJ, et al. PLoS Med 2020;17(9):e1003346.
    asymptomatic_relative_infectiousness: float = 0.35
    # Household secondary attack rate of Omicron: 42.7% (95% CI 35.4-50.4%). Madewell ZJ,
    # Yang Y, Longini IM, Halloran ME, Dean NE. "Household secondary attack rates of SARS-CoV-2
    # by variant and vaccination status". JAMA Netw Open 2022;5(4):e229317.
    household_sar: float = 0.427
    # Non-household settings, relative to a household pair per day of contact (assumptions,
    # calibrated so that an unchecked outbreak doubles in about 2-3 days, as Omicron did in
    # Shanghai and Hong Kong in early 2022).
    work_relative: float = 0.6
    school_relative: float = 0.6
    venue_relative: float = 0.3
    work_contacts: float = 8.0  # people met per working day (assumption)
    school_contacts: float = 12.0  # classmates met per school day (assumption)
    # Detection by RT-PCR (assumptions): positive from the day before infectiousness until 3
    # days after it ends; per-sample sensitivity 0.9, a 10-in-1 pool loses a little more.
    pcr_days_before_infectious: int = 1
    pcr_days_after_recovery: int = 3
    pcr_sensitivity: float = 0.9
    pool_sensitivity_loss: float = 0.05
    # Share of symptomatic people who go to a fever clinic, and the delay in days (assumption:
    # 2022 rules required fever clinics to test every visitor; many with mild sore throats
    # stayed home).
    fever_clinic_share: float = 0.6
    fever_clinic_delay_mean: float = 1.5

    def per_pair_daily_hazard(self) -> float:
        """The daily hazard between a symptomatic case and one household member such that the
        household secondary attack rate over a symptomatic course equals ``household_sar``."""
        days = max(self.incubation_mean - self.latent_mean, 0.5) + self.infectious_after_onset
        return -math.log(1.0 - self.household_sar) / days


@dataclass(frozen=True)
class Life:
    """Daily life: who goes where (assumptions unless stated)."""

    employment_rate: float = 0.72  # of people aged 18-59
    commuters: float = 0.12  # workers whose workplace is in another district
    school_age: tuple[int, int] = (6, 17)
    school_size: int = 600
    pupils_per_teacher: int = 15
    workplace_size_median: float = 12.0
    workplace_size_sigma: float = 1.1
    # Venue kinds: count per 10,000 residents, daily visit probability of a person.
    venues: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "market": (2.0, 0.10),       # 农贸市场
        "supermarket": (5.0, 0.12),  # 超市
        "restaurant": (30.0, 0.15),  # 餐馆
        "clinic": (3.0, 0.01),       # 诊所/药店
        "station": (0.5, 0.03),      # 车站/码头
    })
    # Share of visits to a venue other than one's usual venue of that kind.
    wander: float = 0.25
    # Time slots of a venue stay (co-presence is the same venue, day and slot).
    slots: int = 7
    # Key places (重点场所) as workplaces: share of a district's workplaces.
    port_share: float = 0.04          # in port districts only
    medical_share: float = 0.03
    nursing_home_share: float = 0.01
    # Residents of nursing homes among people aged 80+.
    nursing_home_residents: float = 0.03
