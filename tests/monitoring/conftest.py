from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.person.models import Person
from fangkong.tracing import service as tracing
from fangkong.tracing.enums import ContactStatus, Setting
from fangkong.tracing.schemas import ExposureCreate, StatusUpdate
from tests.tracing.conftest import people  # noqa: F401  (the fixture)
from tests.tracing.helpers import confirmed_case


def managed_contact(session: Session, actor: Actor, person: Person, case_id: int,
                    last: date = date(2022, 5, 6)) -> int:
    """A close contact of ``case_id`` (cn_v9: 7 days centralized, then 3 of home health
    monitoring), notified and under management: the contact's id."""
    exposure = tracing.add_exposure(session, actor=actor, data=ExposureCreate(
        source_case_id=case_id, exposed_person_id=person.id, first_exposure=date(2022, 5, 4),
        last_exposure=last, setting=Setting.workplace))
    cid = exposure.contact_id
    assert cid is not None
    tracing.set_status(session, actor=actor, contact_id=cid,
                       data=StatusUpdate(status=ContactStatus.notified))
    tracing.set_status(session, actor=actor, contact_id=cid, data=StatusUpdate(
        status=ContactStatus.under_management, at=datetime(2022, 5, 7, 9, tzinfo=UTC)))
    return cid


@pytest.fixture
def case_id(session: Session, admin: Actor, people: list[Person]) -> int:  # noqa: F811
    return confirmed_case(session, admin, people[0])
