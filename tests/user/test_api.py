from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.core.errors import Conflict, Forbidden
from fangkong.user import service as users
from fangkong.user.schemas import UserCreate
from tests.conftest import login, make_actor


def _user(name: str, code: str, role: Role = Role.epidemiologist) -> UserCreate:
    return UserCreate(username=name, role=role, jurisdictions=[code],
                      password="correct horse battery")


def test_user_picker_is_scoped(client: TestClient, session: Session) -> None:
    headers = login(client, session, "ck_admin", Role.administrator, "440802")
    users.create_user(session, actor=make_actor(), data=_user("ck_epi", "440802001"))
    users.create_user(session, actor=make_actor(), data=_user("xs_epi", "440803"))
    names = {u["username"] for u in client.get("/api/v1/users", headers=headers).json()}
    assert names == {"ck_admin", "ck_epi"}
    me = client.get("/api/v1/users/me", headers=headers).json()
    assert me["jurisdictions"] == ["440802"]


def test_grants_stay_inside_the_granter(session: Session) -> None:
    county_admin = make_actor(Role.administrator, "440802")
    users.create_user(session, actor=county_admin, data=_user("a1", "440802001"))
    with pytest.raises(Forbidden):
        users.create_user(session, actor=county_admin, data=_user("a2", "440803"))
    # a commander adds field staff of its jurisdiction (issue 20), never an administrator:
    # no user with a right the adder lacks (user:admin)
    commander = make_actor(Role.commander, "4408")
    users.create_user(session, actor=commander, data=_user("a3", "440802"))
    with pytest.raises(Forbidden) as refused:
        users.create_user(session, actor=commander,
                          data=_user("a4", "440802", Role.administrator))
    assert refused.value.problems[0].field == "role"
    with pytest.raises(Forbidden):
        users.create_user(session, actor=make_actor(Role.commander, "440802"),
                          data=_user("a5", "440803"))
    with pytest.raises(Conflict):
        users.create_user(session, actor=county_admin, data=_user("a1", "440802001"))


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient,
                                                       session: Session) -> None:
    login(client, session, "li", Role.analyst, "4408")
    wrong = client.post("/api/v1/auth/token", data={"username": "li", "password": "nope"})
    unknown = client.post("/api/v1/auth/token", data={"username": "zz", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
