"""The contact books balance each day: everyone identified as a contact is in exactly one
category, and the drill's categories are those of the platform's contact episodes."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import system_actor
from fangkong.drill import runs as drill_runs
from fangkong.drill.loop import BOOKS, Drill
from fangkong.drill.strategy import Strategy
from fangkong.tracing.models import ContactEpisode

MANAGED = {"close_contact", "secondary_contact"}
# A person's category from the statuses of their episodes of this drill: the first that
# holds. Told-and-waiting comes before under management (a secondary contact at home named
# again as a close contact waits for a room).
ORDER = (("became_case", "contacts_became_case"), ("notified", "contacts_waiting"),
         ("under_management", "managed"), ("identified", "contacts_untold"),
         ("released", "contacts_released"))


def _platform_books(session: Session, drill: Drill) -> Counter[str]:
    assert drill.platform is not None
    cases = drill_runs.tagged(session, "case_episode", run_id=drill.platform.run_id)
    statuses: dict[int, set[str]] = {}
    unmanaged: set[int] = set()
    if cases:
        for person, role, status in session.execute(select(
                ContactEpisode.person_id, ContactEpisode.role, ContactEpisode.status).where(
                ContactEpisode.index_case_id.in_(cases))):
            if role in MANAGED:
                statuses.setdefault(person, set()).add(status.value)
            else:
                unmanaged.add(person)
    books: Counter[str] = Counter()
    for have in statuses.values():
        books[next(key for status, key in ORDER if status in have)] += 1
    books["contacts_unmanaged"] = len(unmanaged - set(statuses))
    return books


def test_the_contact_books_balance_each_day_against_the_tracing_statuses(
        session: Session) -> None:
    strategy = Strategy.model_validate({"agents": 3000, "days": 16, "seed": 13})
    drill = Drill(strategy, session=session, actor=system_actor())
    seen: list[dict[str, int]] = []

    def check(day: int) -> None:
        row = drill.run.rows[-1]
        ours = {k: row[k] for k in BOOKS}
        assert sum(ours.values()) == row["contacts_total"], day
        # the strategy quarantines: every contact the pack manages was told, the same day
        assert row["contacts_untold"] == 0, day
        theirs = _platform_books(session, drill)
        assert theirs["managed"] == row["contacts_in_facility"] + row["contacts_at_home"], day
        for key in ("contacts_became_case", "contacts_waiting", "contacts_released",
                    "contacts_untold", "contacts_unmanaged"):
            assert theirs[key] == row[key], (day, key, theirs, ours)
        seen.append(ours)

    drill.run_all(progress=check)
    # the drill ran long enough for every category to be reached
    assert all(max(s[k] for s in seen) > 0 for k in (
        "contacts_became_case", "contacts_waiting", "contacts_in_facility", "contacts_at_home",
        "contacts_released", "contacts_unmanaged")), seen[-1]


def test_the_books_balance_in_the_fast_mode_and_nobody_is_left_untold() -> None:
    drill = Drill(Strategy.model_validate({"agents": 3000, "days": 20, "seed": 11}))
    rows = drill.run_all().rows
    for row in rows:
        assert sum(row[k] for k in BOOKS) == row["contacts_total"]
        assert row["contacts_untold"] == 0
    # everyone the drill ever identified as a contact, or only in an unmanaged role
    assert rows[-1]["contacts_total"] == int((drill.contact | drill.unmanaged).sum()) > 0
    assert np.all(drill.released <= drill.contact)


def test_contacts_found_after_their_centralized_phase_go_home_not_to_a_room() -> None:
    """With too few tracers, cases wait for tracing and their contacts are found after the
    plan's centralized days: they are quarantined at home for the rest of the plan, and
    nobody is sent to a room the plan no longer asks for (before, they were moved in and out
    on the same day, and people in quarantine fell to 0 while contacts were identified)."""
    drill = Drill(Strategy.model_validate({"agents": 5000, "days": 30, "seed": 3,
                                           "capacity": {"tracers": 20}}))
    plan = drill.plans[1]
    assert plan is not None and plan.facility is not None
    last = plan.facility[1]
    asked: list[int] = []
    assign = drill.responder.assign_rooms

    def rooms(people: np.ndarray, day: int, *, in_use: int) -> np.ndarray:
        late = day - drill.anchor[people] > last
        asked.append(int(late.sum()))
        return assign(people, day, in_use=in_use)

    drill.responder.assign_rooms = rooms  # type: ignore[method-assign]
    rows = drill.run_all().rows
    assert max(r["cases_waiting_tracing"] for r in rows) > 0
    assert sum(asked) == 0
    assert max(r["contacts_at_home"] for r in rows) > 0
