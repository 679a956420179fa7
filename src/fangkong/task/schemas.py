from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fangkong.core.division import DivisionCode
from fangkong.core.params import Int64
from fangkong.task.enums import TaskStatus


class TaskCreate(BaseModel):
    type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    title: str = Field(min_length=1, max_length=300)
    title_key: str | None = Field(None, max_length=50, description=(
        "A generated task's message (fangkong.task.titles.TITLES), shown in each reader's "
        "language; title is then its English text."))
    title_params: dict[str, str | int] | None = Field(
        None, description="The message's parameters.")
    subject_type: str | None = Field(None, max_length=50)
    subject_id: Int64 | None = None
    completes_on: list[str] = Field(
        default_factory=list, description="Events of the subject that complete the task "
        "(done), e.g. contact.notified; `fangkong.core.events.CATALOGUE` lists them.")
    cancels_on: list[str] = Field(
        default_factory=list, description="Events of the subject that cancel the task, e.g. "
        "contact.released.")
    owning_division_code: DivisionCode
    unit_id: Int64 | None = None
    assignee_id: Int64 | None = None
    due_at: datetime
    note: str | None = None
    pack_id: str | None = Field(None, max_length=50, description="The policy pack whose rule "
                                "made the task (with pack_version), if a rule did.")
    pack_version: str | None = Field(None, max_length=20)


def split_events(value: Any) -> Any:
    """The model keeps a task's ending events space-separated; schemas show a list."""
    return (value or "").split() if value is None or isinstance(value, str) else value


class TaskUpdate(BaseModel):
    status: TaskStatus | None = None
    assignee_id: Int64 | None = None
    due_at: datetime | None = None
    note: str | None = None


class TaskEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    by: str
    kind: str
    detail: str | None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: str
    title: str
    title_key: str | None = None
    title_params: dict[str, Any] | None = None
    subject_type: str | None
    subject_id: int | None
    completes_on: list[str]
    cancels_on: list[str]
    owning_division_code: str
    unit_id: int | None
    assignee_id: int | None
    due_at: datetime
    status: TaskStatus
    overdue: bool = False
    escalation_level: int
    escalated_to_code: str | None
    escalated_at: datetime | None
    created_by: str
    created_at: datetime
    completed_at: datetime | None
    note: str | None
    pack_id: str | None = None
    pack_version: str | None = None

    _events = field_validator("completes_on", "cancels_on", mode="before")(split_events)


class TaskDetail(TaskRead):
    events: list[TaskEventRead]


class OverdueRow(BaseModel):
    division_code: str
    unit_id: int | None
    overdue: int
    escalated: int


class EscalationReport(BaseModel):
    escalated: int
    task_ids: list[int]
