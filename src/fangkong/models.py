"""Every table of every domain, imported once so that Base.metadata knows them all
(for Alembic, the migration check and the tests)."""

from fangkong.case.models import Case, ClassificationChange
from fangkong.core.audit import AuditEntry
from fangkong.core.db import Base
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.person.models import Person
from fangkong.task.models import Task, TaskEvent
from fangkong.testing.models import (
    Followup,
    FollowupMember,
    KeyGroup,
    KeyGroupMember,
    Lab,
    Point,
    Round,
    RoundZone,
    Sample,
    Target,
    Tube,
)
from fangkong.user.models import User, UserGrant

metadata = Base.metadata

__all__ = ["AuditEntry", "Case", "ClassificationChange", "Division", "DivisionBoundary",
           "Followup", "FollowupMember", "KeyGroup", "KeyGroupMember", "Lab", "Person", "Point",
           "Round", "RoundZone", "Sample", "Target", "Task", "TaskEvent", "Tube", "Unit", "User",
           "UserGrant", "metadata"]
