from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.person import importer as person_importer
from fangkong.person.models import Person
from fangkong.tracing import venues as venue_service
from fangkong.tracing.enums import VenueType
from fangkong.tracing.schemas import VenueCreate
from tests.conftest import make_actor
from tests.helpers import csv_bytes, person_rows


@pytest.fixture
def people(session: Session) -> list[Person]:
    """Eight persons in 440802; 0-2 share household H1, 3-4 share H2."""
    rows = person_rows(8, places=[("440802001001", 1.0)], seed=5, prefix="TR")
    for i, row in enumerate(rows):
        row["household_ref"] = "H1" if i < 3 else "H2" if i < 5 else f"H{i}"
    person_importer.import_file(session, actor=make_actor(), source=csv_bytes(rows),
                                filename="p.csv")
    refs = [r["ref"] for r in rows]
    found = {p.ref: p for p in session.scalars(select(Person).where(Person.ref.in_(refs)))}
    return [found[r] for r in refs]


@pytest.fixture
def venues(session: Session, admin: Actor) -> list[int]:
    return [venue_service.create_venue(session, actor=admin, data=VenueCreate(
        code=code, name=f"venue {code}", venue_type=kind, division_code="440802")).id
        for code, kind in [("V-REST", VenueType.restaurant), ("V-MKT", VenueType.market)]]
