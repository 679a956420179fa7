"""Every table of every domain, imported once so that Base.metadata knows them all
(for Alembic, the migration check and the tests)."""

from fangkong.case.models import Case, ClassificationChange
from fangkong.core.audit import AuditEntry
from fangkong.core.db import Base
from fangkong.drill.models import DrillRecord, DrillRun
from fangkong.geo.models import Division, DivisionBoundary, Unit
from fangkong.isolation.models import Room, RoomNight, Site, Stay, StayTest, Transfer
from fangkong.monitoring.models import MonitoringMiss, MonitoringPeriod, MonitoringReport
from fangkong.person.models import Person
from fangkong.person.stays import PersonStay
from fangkong.surveillance.models import (
                                          Alert,
                                          AlertEvent,
                                          AlertRule,
                                          SentinelReport,
                                          SentinelRevision,
                                          SentinelUnit,
)
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
from fangkong.tracing.models import (
    AssistItem,
    AssistRequest,
    Cluster,
    ClusterMember,
    ContactEpisode,
    ContactStatusChange,
    Exposure,
    GraphState,
    Link,
    Venue,
)
from fangkong.user.models import LoginThrottle, User, UserGrant, UserSession
from fangkong.web.models import SyncEntry, WebPreference
from fangkong.zone.models import Zone, ZoneEvent, ZoneMember, ZoneProposal, ZoneRound

metadata = Base.metadata

__all__ = ["Alert", "AlertEvent", "AlertRule", "AssistItem", "AssistRequest", "AuditEntry", "Case",
           "ClassificationChange", "Cluster", "ClusterMember", "ContactEpisode",
           "ContactStatusChange", "Division", "DivisionBoundary", "DrillRecord", "DrillRun",
           "Exposure", "Followup",
           "FollowupMember", "GraphState", "KeyGroup", "KeyGroupMember", "Lab", "Link",
           "LoginThrottle", "MonitoringMiss", "MonitoringPeriod", "MonitoringReport",
           "Person", "PersonStay", "Point", "Room", "RoomNight", "Round",
           "RoundZone", "Sample", "SentinelReport", "SentinelRevision", "SentinelUnit", "Site",
           "Stay", "StayTest", "SyncEntry", "Target", "Task", "TaskEvent", "Transfer", "Tube",
           "Unit", "User", "UserGrant", "UserSession", "Venue", "WebPreference", "Zone",
           "ZoneEvent", "ZoneMember", "ZoneProposal", "ZoneRound", "metadata"]
