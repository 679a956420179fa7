from __future__ import annotations

from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.case.models import Case
from fangkong.demo.city import build_demo
from fangkong.person.models import Person
from fangkong.task.models import Task


def _counts(session: Session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(m)) or 0  # type: ignore[return-value]
                 for m in (Person, Case, Task))


def test_demo_builds_a_city_and_is_repeatable(session: Session) -> None:
    quiet = Console(quiet=True)
    build_demo(session, persons=300, seed=3, console=quiet)
    first = _counts(session)
    assert first == (300, 6, 12)
    people = session.scalars(select(Person).where(Person.ref.like("ZJ%"))).all()
    assert all(p.synthetic and p.division_code.startswith("4408") for p in people)
    assert len({p.division_code[:6] for p in people}) >= 5  # spread over the districts
    summary = build_demo(session, persons=300, seed=3, console=quiet)
    assert _counts(session) == first and "0 new" in summary
