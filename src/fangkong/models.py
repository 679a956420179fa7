"""Every table of every domain, imported once so that Base.metadata knows them all
(for Alembic, the migration check and the tests)."""

from fangkong.case.models import Case, ClassificationChange
from fangkong.core.audit import AuditEntry
from fangkong.core.db import Base
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest, Transfer
from fangkong.person.models import Person
from fangkong.surveillance.models import (
                                          Alert,
                                          AlertEvent,
                                          AlertRule,
                                          SentinelReport,
                                          SentinelRevision,
                                          SentinelUnit,
)
from fangkong.task.models import Task, TaskEvent
from fangkong.user.models import User, UserGrant
from fangkong.web.models import WebPreference
from fangkong.zone.models import Zone, ZoneEvent, ZoneMember, ZoneProposal, ZoneRound

metadata = Base.metadata

__all__ = ["Alert", "AlertEvent", "AlertRule", "AuditEntry", "Case", "ClassificationChange",
           "Division", "DivisionBoundary", "Person", "Room", "RoomNight", "SentinelReport",
           "SentinelRevision", "SentinelUnit", "Site", "Stay", "StayTest", "Task", "TaskEvent",
           "Transfer", "Unit", "User", "UserGrant", "WebPreference", "Zone", "ZoneEvent",
           "ZoneMember", "ZoneProposal", "ZoneRound", "metadata"]
