"""Bulk samples and results: every line checked (by line and field), atomic, idempotent;
tube sizes by place under the pack; repeats flagged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.testing import importer, service
from fangkong.testing.models import Sample, Target, Tube
from tests.testing.helpers import (
    VILLAGE_A,
    VILLAGE_B,
    at,
    issue,
    lab,
    make_persons,
    make_round,
    point,
    results_csv,
    samples_csv,
)


def _problems(exc: pytest.ExceptionInfo[Invalid]) -> set[tuple[int | None, str | None]]:
    return {(p.line, p.field) for p in exc.value.problems}


@pytest.fixture
def setup(session: Session, admin: Actor) -> tuple[int, list[str]]:
    refs = make_persons(session, admin, 30, household_size=3)
    lab(session, admin)
    point(session, admin)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["A", "B", "C"], capacity=20)
    return round_id, refs


def test_sample_lines_are_checked_by_line_and_field(session: Session, admin: Actor,
                                                    setup: tuple[int, list[str]]) -> None:
    round_id, refs = setup
    other = make_round(session, admin)
    issue(session, admin, other, ["OTHER"], capacity=20)
    csv = samples_csv([("A", refs[0], 1), ("NOPE", refs[1], 1), ("A", "GHOST", 1),
                       ("A", refs[0], 2), ("OTHER", refs[2], 1)])
    csv += b"A,%s,not-a-time,PT1\nB,%s,2022-01-01T00:00,XX\n" % (refs[3].encode(),
                                                               refs[4].encode())
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, source=csv,
                                filename="s.csv")
    # line-level problems are reported first (the file is not staged past them)
    assert _problems(caught) == {(7, "sampled_at"), (8, "sampled_at"), (8, "point_id")}
    good = samples_csv([("A", refs[0], 1), ("NOPE", refs[1], 1), ("A", "GHOST", 1),
                        ("A", refs[0], 2), ("OTHER", refs[2], 1)])
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, source=good,
                                filename="s.csv")
    assert _problems(caught) == {(3, "tube_id"), (4, "person_ref"), (5, "tube_id"),
                                 (6, "tube_id")}
    assert session.scalar(select(func.count()).select_from(Sample)) == 0  # atomic


def test_over_full_tube_and_the_ratio_by_place(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 12, code=VILLAGE_A, prefix="M")
    elsewhere = make_persons(session, admin, 2, code=VILLAGE_B, prefix="E")
    round_id = make_round(session, admin, area=["440802", "440803"],
                          zones={"440802": "medium"})
    ratios = dict(session.execute(select(Target.division_code, Target.pool_max)
                                  .where(Target.round_id == round_id)).all())
    assert ratios == {VILLAGE_A: 10, VILLAGE_B: 20}
    issue(session, admin, round_id, ["BIG"], capacity=20)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                                source=samples_csv([("BIG", r, 1) for r in refs[:11]]))
    assert len(caught.value.problems) == 11
    assert "at most 10" in caught.value.problems[0].message
    # ten fit; an eleventh in a later file does not
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s1",
                            source=samples_csv([("BIG", r, 1) for r in refs[:10]]))
    with pytest.raises(Invalid):
        importer.import_samples(session, actor=admin, round_id=round_id, filename="s2",
                                source=samples_csv([("BIG", refs[10], 2)]))
    # someone from a 20-in-1 place may share a 10-in-1 tube (the smaller limit holds)
    issue(session, admin, round_id, ["MIX"], capacity=20)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s3",
                            source=samples_csv([("MIX", refs[11], 1), ("MIX", elsewhere[0], 1)]))


def test_a_tube_holds_no_more_than_its_kind(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 11, code=VILLAGE_B, prefix="K")  # 20-in-1 place
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["K10"], capacity=10)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="k",
                                source=samples_csv([("K10", r, 1) for r in refs]))
    assert "tube K10 would hold 11 persons; at most 10" in caught.value.problems[0].message
    # nine recorded, then two more in a later file: the recorded members count too
    importer.import_samples(session, actor=admin, round_id=round_id, filename="k1",
                            source=samples_csv([("K10", r, 1) for r in refs[:9]]))
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="k2",
                                source=samples_csv([("K10", r, 2) for r in refs[9:]]))
    assert _problems(caught) == {(2, "tube_id"), (3, "tube_id")}
    assert "at most 10" in caught.value.problems[0].message


def test_household_tubes_in_high_zones(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 6, prefix="HH", household_size=3)
    round_id = make_round(session, admin, zones={VILLAGE_A: "high"})
    assert set(session.scalars(select(Target.household).where(Target.round_id == round_id))) \
        == {True}
    issue(session, admin, round_id, ["H1", "H2"], capacity=20)
    importer.import_samples(session, actor=admin, round_id=round_id, filename="ok",
                            source=samples_csv([("H1", r, 1) for r in refs[:3]]))
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="mix",
                                source=samples_csv([("H2", r, 1) for r in refs[2:5]]))
    assert "household" in caught.value.problems[0].message


def test_quarantine_site_persons_get_single_tubes(session: Session, admin: Actor) -> None:
    refs = make_persons(session, admin, 3, prefix="QS")
    round_id = make_round(session, admin, sites=[refs[0]])
    issue(session, admin, round_id, ["Q20"], capacity=20)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="q",
                                source=samples_csv([("Q20", r, 1) for r in refs]))
    assert "at most 1" in caught.value.problems[0].message


def test_samples_are_idempotent_and_repeats_flagged(session: Session, admin: Actor,
                                                    setup: tuple[int, list[str]]) -> None:
    round_id, refs = setup
    csv = samples_csv([("A", r, 1) for r in refs[:5]])
    first = importer.import_samples(session, actor=admin, round_id=round_id, source=csv,
                                    filename="s.csv")
    again = importer.import_samples(session, actor=admin, round_id=round_id, source=csv,
                                    filename="s.csv")
    assert (first.inserted, again.inserted, again.unchanged) == (5, 0, 5)
    tube = session.scalars(select(Tube).where(Tube.barcode == "A")).one()
    assert tube.members == 5
    twice = importer.import_samples(session, actor=admin, round_id=round_id, filename="t",
                                    source=samples_csv([("B", refs[0], 30)]))
    assert twice.repeats == 1
    flagged = session.scalars(select(Sample.repeat).join(Tube, Tube.id == Sample.tube_id)
                              .where(Tube.barcode.in_(["A", "B"]))).all()
    assert sorted(flagged) == [False] * 4 + [True] * 2
    assert service.status(session, actor=admin, round_id=round_id).sampled == 5


def test_result_lines_are_checked(session: Session, admin: Actor,
                                  setup: tuple[int, list[str]]) -> None:
    round_id, refs = setup
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s",
                            source=samples_csv([("A", refs[0], 10), ("B", refs[1], 10)]))
    importer.import_results(session, actor=admin, filename="r0",
                            source=results_csv([("B", "negative", 60)]))
    csv = results_csv([("A", "negative", 60), ("ZZZ", "negative", 60),
                       ("C", "negative", 60), ("A", "negative", 61),
                       ("B", "positive", 60), ("A", "maybe", 60)])
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=admin, source=csv, filename="r.csv")
    assert _problems(caught) == {(7, "result")}
    csv = results_csv([("A", "negative", 60), ("ZZZ", "negative", 60),
                       ("C", "negative", 60), ("A", "negative", 61),
                       ("B", "positive", 60)])
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=admin, source=csv, filename="r.csv")
    assert _problems(caught) == {(3, "tube_id"), (4, "tube_id"), (5, "tube_id"),
                                 (6, "result")}
    messages = " ".join(p.message for p in caught.value.problems)
    assert "never sampled" in messages and "same tube as line 2" in messages
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=admin, filename="early",
                                source=results_csv([("A", "negative", 5)]))
    assert _problems(caught) == {(2, "reported_at")}, caught.value.problems
    ok = results_csv([("A", "negative", 60), ("B", "negative", 60)])
    report = importer.import_results(session, actor=admin, source=ok, filename="ok")
    assert (report.inserted, report.unchanged) == (1, 1)
    assert importer.import_results(session, actor=admin, source=ok, filename="ok").inserted == 0
    assert service.status(session, actor=admin, round_id=round_id).tubes_without_result == 0
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, filename="late",
                                source=samples_csv([("A", refs[5], 70)]))
    assert "already has its result" in caught.value.problems[0].message


def test_a_scoped_officer_cannot_sample_persons_outside(session: Session) -> None:
    from fangkong.core.auth import Role
    from tests.conftest import make_actor

    admin = make_actor()
    refs = make_persons(session, admin, 2, code=VILLAGE_B, prefix="OUT")
    officer = make_actor(Role.testing_officer, "440802", name="officer")
    round_id = make_round(session, officer, area=["440802"])
    issue(session, officer, round_id, ["S1"], capacity=10)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=officer, round_id=round_id, filename="s",
                                source=samples_csv([("S1", refs[0], 1)]))
    assert _problems(caught) == {(2, "person_ref")}
    assert at(0)


def test_zone_levels_come_from_the_zone_registry(session: Session, admin: Actor) -> None:
    """A round created without zone levels reads the active risk zones inside its area."""
    from datetime import date

    from fangkong.testing.models import RoundZone
    from fangkong.zone import service as zones
    from fangkong.zone.schemas import MemberIn, ZoneCreate

    make_persons(session, admin, 4, prefix="ZA", code=VILLAGE_A)
    make_persons(session, admin, 2, prefix="ZB", code=VILLAGE_B)
    zones.designate(session, actor=admin, data=ZoneCreate(
        name="小区", level="medium", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code=VILLAGE_A)], last_infection_date=date(2022, 5, 10)))
    zones.designate(session, actor=admin, data=ZoneCreate(
        name="楼栋", level="high", owning_division_code="440802", pack_id="cn_v9",
        members=[MemberIn(division_code=VILLAGE_A, detail="3栋")],
        last_infection_date=date(2022, 5, 10)))
    round_id = make_round(session, admin)
    assert [(z.division_code, z.level) for z in session.scalars(
        select(RoundZone).where(RoundZone.round_id == round_id))] == [(VILLAGE_A, "high")]
    explicit = make_round(session, admin, zones={VILLAGE_A: "medium"})
    assert [z.level for z in session.scalars(
        select(RoundZone).where(RoundZone.round_id == explicit))] == ["medium"]


def test_the_database_keeps_samples_in_their_tubes_round(session: Session, admin: Actor,
                                                         setup: tuple[int, list[str]]) -> None:
    """One composite reference (tube, round) checks both: a sample cannot name a round other
    than its tube's, a tube or person that does not exist, or a person twice in a tube."""
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from fangkong.person.models import Person
    from tests.testing.helpers import START

    round_id, refs = setup
    other = make_round(session, admin)
    tube_id = session.scalar(select(Tube.id).where(Tube.barcode == "A"))
    person_id = session.scalar(select(Person.id).where(Person.ref == refs[0]))
    good = {"tube_id": tube_id, "person_id": person_id, "round_id": round_id,
            "sampled_at": START, "repeat": False}
    for wrong in ({"round_id": other}, {"tube_id": 10**9}, {"person_id": 10**9}):
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(insert(Sample).values(good | wrong))
    session.execute(insert(Sample).values(good))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert(Sample).values(good | {"sampled_at": START + START.resolution}))
