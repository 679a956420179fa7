"""A round's kept figures (testing_round_figures, testing_tube_place; migration 0029) equal the
figures computed from the records, after round creation, samples files (new tubes, more members
in a recorded tube, a repeat, a tube across two counties) and a results file, for every level
of division and at instants before and after the tubes fall due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor, Role
from fangkong.testing import figures, importer, service
from fangkong.testing.models import Round, RoundFigures
from tests.conftest import make_actor
from tests.testing.helpers import (
    START,
    VILLAGE_A,
    VILLAGE_B,
    issue,
    lab,
    make_persons,
    make_round,
    results_csv,
    samples_csv,
)

CODES = ["44", "4408", "440802", "440803", "440802001", "440803001", VILLAGE_A, VILLAGE_B]


def _same(session: Session, admin: Actor) -> None:
    rounds = list(session.scalars(select(Round).order_by(Round.id)))
    for code in CODES:
        for hours in range(0, 16):
            now = START + timedelta(hours=hours, minutes=30)
            assert figures.totals(session, rounds, code, now) == \
                service.computed_round_totals(session, actor=admin, rounds=rounds,
                                              within_code=code, now=now), (code, hours)


def test_kept_figures_equal_the_computed_ones_after_each_write(session: Session,
                                                                admin: Actor) -> None:
    a = make_persons(session, admin, 8, code=VILLAGE_A, prefix="FA")
    b = make_persons(session, admin, 5, code=VILLAGE_B, prefix="FB")
    lab(session, admin)
    first = make_round(session, admin, area=["440802", "440803"])
    second = make_round(session, admin, area=["440802"], series="second")
    _same(session, admin)
    kept = {(f.round_id, f.division_code): (f.target, f.sampled)
            for f in session.scalars(select(RoundFigures))}
    assert kept[(first, "4408")] == (13, 0) and kept[(second, VILLAGE_A)] == (8, 0)
    assert (second, "440803") not in kept

    issue(session, admin, first, ["T1", "T2", "T3", "T4"], capacity=20)
    issue(session, admin, second, ["U1"], capacity=20)
    importer.import_samples(session, actor=admin, round_id=first, filename="s1",
                            source=samples_csv([("T1", r, 1) for r in a[:3]]
                                               + [("T2", b[0], 120)]
                                               + [("T3", a[3], 300), ("T3", b[1], 301)]))
    _same(session, admin)
    # more members in a recorded tube (an earlier first sample), a repeat, a new tube
    importer.import_samples(session, actor=admin, round_id=first, filename="s2",
                            source=samples_csv([("T2", b[2], 30), ("T4", a[0], 400),
                                                ("T4", a[4], 401)]))
    importer.import_samples(session, actor=admin, round_id=second, filename="u1",
                            source=samples_csv([("U1", r, 5) for r in a[2:6]]))
    _same(session, admin)
    assert figures.totals(session, [session.get(Round, first)], "4408", START) == {
        first: (13, 8, 0)}
    importer.import_results(session, actor=admin, filename="r1",
                            source=results_csv([("T1", "negative", 60),
                                                ("T3", "negative", 470)]))
    _same(session, admin)
    # a county user's dashboard reads the kept figures, and they are its computed ones
    county = make_actor(Role.epidemiologist, "440802")
    rounds = service.open_rounds(session, actor=county, division="440802")
    assert service.round_totals(session, actor=county, rounds=rounds, within_code="440802") \
        == service.computed_round_totals(session, actor=county, rounds=rounds,
                                         within_code="440802")
