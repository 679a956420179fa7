"""A task a pack's rule made names that pack and its version as on disk; anything else is
refused with the field that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.policy import service as policy
from fangkong.task import service as tasks
from fangkong.task.schemas import TaskCreate


def _task(**pack: str) -> TaskCreate:
    return TaskCreate(type="follow_rule", title="follow the rule", owning_division_code="440802",
                      due_at=datetime(2022, 5, 8, tzinfo=UTC), **pack)


def test_a_rule_task_names_its_pack_as_on_disk(session: Session, admin: Actor) -> None:
    version = policy.get_pack("cn_v9").version
    made = tasks.create(session, actor=admin, data=_task(pack_id="cn_v9", pack_version=version))
    assert (made.pack_id, made.pack_version) == ("cn_v9", version)
    assert tasks.create(session, actor=admin, data=_task()).pack_id is None  # by hand
    for pack, field in [({"pack_id": "cn_v9"}, "pack_version"),
                        ({"pack_id": "cn_v9", "pack_version": "0.9.0"}, "pack_version"),
                        ({"pack_id": "nope", "pack_version": version}, "pack_id"),
                        ({"pack_version": version}, "pack_id")]:
        with pytest.raises(Invalid) as raised:
            tasks.create_many(session, actor=admin, data=[_task(**pack)])
        assert [p.field for p in raised.value.problems] == [f"{field}"], pack
