"""Every table of every domain, imported once so that Base.metadata knows them all
(for Alembic, the migration check and the tests)."""

from fangkong.case.models import Case, ClassificationChange
from fangkong.core.audit import AuditEntry
from fangkong.core.db import Base
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.person.models import Person
from fangkong.task.models import Task, TaskEvent
from fangkong.tracing.models import (
    AssistItem,
    AssistRequest,
    ContactEpisode,
    ContactStatusChange,
    Exposure,
    Venue,
)
from fangkong.user.models import User, UserGrant

metadata = Base.metadata

__all__ = ["AssistItem", "AssistRequest", "AuditEntry", "Case", "ClassificationChange",
           "ContactEpisode", "ContactStatusChange", "Division", "DivisionBoundary", "Exposure",
           "Person", "Task", "TaskEvent", "Unit", "User", "UserGrant", "Venue", "metadata"]
