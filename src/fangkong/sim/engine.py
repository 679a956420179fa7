"""The epidemic engine: daily life and Omicron transmission on a :class:`City`, vectorised.

Each day: people allowed out go to work or school and to venues (the check-ins); infectious
people infect others at home (unless in a facility), at work, at school and in shared venue
slots. Interventions reach the engine only through two masks given to :meth:`Engine.step`:
``home`` (at home with the household, i.e. not in a quarantine or isolation facility) and
``out`` (free to leave home).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fangkong.sim.city import WORK_KINDS, City
from fangkong.sim.params import Disease, Life

SETTINGS = ("seed", "household", "work", "school", "venue")
# Work goes on at weekends in these kinds of workplaces.
ALWAYS_OPEN = tuple(WORK_KINDS.index(k) for k in ("port", "medical", "nursing_home"))
NEVER = np.iinfo(np.int16).max


@dataclass
class Checkins:
    """One day's venue check-ins (扫码): who, where, in which time slot."""

    person: np.ndarray
    venue: np.ndarray
    slot: np.ndarray


@dataclass
class DayResult:
    day: int
    new: np.ndarray             # agents infected today
    by_setting: dict[str, int]  # new infections by setting
    infectious_weight: float    # total infectiousness of today's infectious agents
    checkins: Checkins


def _gamma_days(rng: np.random.Generator, mean: float, sd: float, n: int) -> np.ndarray:
    shape = (mean / sd) ** 2
    return rng.gamma(shape, sd * sd / mean, size=n)


class Engine:
    def __init__(self, city: City, *, seed: int, disease: Disease | None = None,
                 life: Life | None = None) -> None:
        self.city = city
        self.disease = disease or Disease()
        self.life = life or Life()
        self.rng = np.random.default_rng([seed, 20220501])
        n = city.n
        self.infected = np.zeros(n, dtype=bool)
        self.t_infected = np.full(n, NEVER, dtype=np.int16)
        self.t_infectious = np.full(n, NEVER, dtype=np.int16)
        self.t_onset = np.full(n, NEVER, dtype=np.int16)  # NEVER for asymptomatic
        self.t_end = np.full(n, NEVER, dtype=np.int16)     # first day no longer infectious
        self.t_clinic = np.full(n, NEVER, dtype=np.int16)  # fever-clinic visit, if any
        self.weight = np.zeros(n, dtype=np.float32)
        self.setting = np.full(n, -1, dtype=np.int8)
        self.hazard = self.disease.per_pair_daily_hazard()
        self._always_open = np.isin(city.workplace_kind, ALWAYS_OPEN)
        self.course_weight_sum = 0.0

    # --- infections ------------------------------------------------------------------------

    def infect(self, idx: np.ndarray, day: int, setting: np.ndarray | int = 0) -> None:
        idx = idx[~self.infected[idx]]
        if idx.size == 0:
            return
        d, rng, m = self.disease, self.rng, idx.size
        latent = np.maximum(1, np.rint(_gamma_days(rng, d.latent_mean, d.latent_sd, m)))
        incubation = np.rint(_gamma_days(rng, d.incubation_mean, d.incubation_sd, m))
        asym = rng.random(m) < d.asymptomatic_share
        onset = day + np.maximum(incubation, latent)
        start = day + latent
        after = np.maximum(1, np.rint(_gamma_days(rng, d.infectious_after_onset, 1.5, m)))
        asym_days = np.maximum(1, np.rint(_gamma_days(
            rng, d.asymptomatic_infectious_days, 1.5, m)))
        end = np.where(asym, start + asym_days, onset + after)
        weight = np.where(asym, d.asymptomatic_relative_infectiousness, 1.0)
        seeks = ~asym & (rng.random(m) < d.fever_clinic_share)
        clinic = onset + np.rint(rng.exponential(d.fever_clinic_delay_mean, size=m))
        self.infected[idx] = True
        self.t_infected[idx] = day
        self.t_infectious[idx] = start
        self.t_onset[idx] = np.where(asym, NEVER, onset)
        self.t_end[idx] = end
        self.t_clinic[idx] = np.where(seeks, clinic, NEVER)
        self.weight[idx] = weight
        self.setting[idx] = setting
        self.course_weight_sum += float(((end - start) * weight).sum())

    def infectious(self, day: int) -> np.ndarray:
        return (self.t_infectious <= day) & (day < self.t_end)

    def pcr_positive(self, idx: np.ndarray, day: int) -> np.ndarray:
        """Whether a sample taken on ``day`` from each of ``idx`` contains the virus."""
        d = self.disease
        return (self.infected[idx]
                & (day >= self.t_infectious[idx].astype(np.int32) - d.pcr_days_before_infectious)
                & (day < self.t_end[idx].astype(np.int32) + d.pcr_days_after_recovery))

    def mean_course_weight(self) -> float:
        """Mean total infectiousness of an infection (days × relative weight), so far."""
        n = int(self.infected.sum())
        return self.course_weight_sum / n if n else 0.0

    # --- one day ---------------------------------------------------------------------------

    def visits(self, out: np.ndarray) -> Checkins:
        city, life, rng = self.city, self.life, self.rng
        persons, venues = [], []
        for k, kind in enumerate(city.venue_kinds):
            go = np.flatnonzero(out & (rng.random(city.n) < life.venues[kind][1]))
            venue = city.favourite[go, k].astype(np.int64)
            wander = rng.random(go.size) < life.wander
            d = city.district[go[wander]]
            lo, hi = city.venue_start[k, d], city.venue_start[k, d + 1]
            venue[wander] = lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)
            persons.append(go)
            venues.append(venue)
        person = np.concatenate(persons).astype(np.int32)
        return Checkins(person=person, venue=np.concatenate(venues).astype(np.int32),
                        slot=rng.integers(0, life.slots, size=person.size, dtype=np.int8))

    def step(self, day: int, *, home: np.ndarray, out: np.ndarray, weekday: bool) -> DayResult:
        city, d, n = self.city, self.disease, self.city.n
        out = out & home
        w = np.where(self.infectious(day), self.weight, np.float32(0.0))
        h = self.hazard
        lam = np.zeros((4, n), dtype=np.float64)
        # Household: everyone at home (not in a facility) meets the household.
        force = np.bincount(city.household, weights=w * home, minlength=city.household_size.size)
        lam[0] = h * force[city.household] * home
        # Work and school: people out, on working days (some kinds of work every day).
        for row, groups, rel, contacts, open_today in (
                (1, city.workplace, d.work_relative, d.work_contacts,
                 weekday | self._always_open[np.maximum(city.workplace, 0)]),
                (2, city.school, d.school_relative, d.school_contacts, np.full(n, weekday))):
            present = out & (groups >= 0) & open_today
            g = groups[present]
            size = np.bincount(g, minlength=1).astype(np.float64)
            force = np.bincount(g, weights=w[present], minlength=size.size)
            per = h * rel * force * np.minimum(contacts, np.maximum(size - 1, 0)) / np.maximum(
                size - 1, 1)
            lam[row, present] = per[g]  # the infected are excluded below
        # Venues: everyone in the same venue and time slot on the same day.
        chk = self.visits(out)
        key = chk.venue.astype(np.int64) * self.life.slots + chk.slot
        force = np.bincount(key, weights=w[chk.person])
        per_visit = h * d.venue_relative * (force[key] - w[chk.person])
        lam[3] = np.bincount(chk.person, weights=per_visit, minlength=n)
        total = lam.sum(axis=0)
        total[self.infected] = 0.0
        cand = np.flatnonzero(total > 0)
        hit = cand[self.rng.random(cand.size) < -np.expm1(-total[cand])]
        # Where each infection happened: a setting drawn in proportion to its hazard.
        cum = np.cumsum(lam[:, hit], axis=0)
        u = self.rng.random(hit.size) * cum[-1]
        setting = 1 + (u[None, :] > cum).sum(axis=0)
        self.infect(hit, day, setting.astype(np.int8))
        counts = np.bincount(setting, minlength=len(SETTINGS))
        return DayResult(day=day, new=hit, infectious_weight=float(w.sum()), checkins=chk,
                         by_setting={s: int(c) for s, c in zip(SETTINGS, counts, strict=True)})
