"""The search box by part of a name or phone: "张" finds 张三 and 张三丰 of the jurisdiction, not
the other county's 张; the last four digits of a phone find its owner, in the jurisdiction only;
and both are answered from an index (the database's plan for the very statement the search
runs names it), so a search stays fast at a million persons."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from fangkong.core.auth import Role
from fangkong.person import service as persons
from fangkong.person.schemas import PersonCreate
from tests.conftest import make_actor
from tests.web.seed import CHIKAN, XIASHAN, seed
from tests.web.test_pages import sign_in


@pytest.fixture
def people(session: Session) -> dict[str, int]:
    seed(session)
    admin = make_actor()
    made = {}
    for ref, name, phone, code in (
            ("ZS-1", "张三", "13800001234", CHIKAN + "001001"),
            ("ZS-2", "张三丰", "13900005678", CHIKAN + "001001"),
            ("ZS-3", "张五", "13700001234", XIASHAN + "001001"),  # the other county's
            ("ZS-4", "李张", "13600009999", CHIKAN + "001001")):  # 张, not at the beginning
        made[ref] = persons.create(session, actor=admin, data=PersonCreate(
            ref=ref, name=name, phone=phone, division_code=code)).id
    session.flush()
    return made


def test_a_name_by_its_beginning_and_a_phone_by_its_end_within_the_jurisdiction(
        client: TestClient, people: dict[str, int]) -> None:
    sign_in(client, "wchikan")
    page = client.get("/search", params={"q": "张"}).text
    assert ">张三<" in page and ">张三丰<" in page
    assert ">张五<" not in page and ">李张<" not in page
    page = client.get("/search", params={"q": "张三丰"}).text
    assert ">张三丰<" in page and ">张三<" not in page
    page = client.get("/search", params={"q": "1234"}).text
    assert ">张三<" in page and ">张五<" not in page  # 张五's phone ends alike: not ours
    assert "138****1234" in page
    page = client.get("/report", params={"q": "张"}).text
    assert f"/report/case?person={people['ZS-1']}" in page
    assert f"/report/case?person={people['ZS-3']}" not in page
    page = client.get("/search", params={"q": "%"}).text
    assert ">张三<" not in page  # a LIKE wildcard is a character, not "anything"


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    caught: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        if "FROM person" in statement and "audit" not in statement:
            caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield caught
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def plan(session: Session, statement: str, parameters: Any) -> str:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: still indexed?
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        conn.execute(text("RESET enable_seqscan"))
    else:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(" ".join(str(c) for c in r) for r in rows)


@pytest.mark.parametrize(("kwargs", "index"), [
    ({"name_prefix": "张"}, "ix_person_name_prefix"),
    ({"phone_tail": "1234"}, "ix_person_phone_tail")])
def test_the_search_is_answered_from_an_index(session: Session, people: dict[str, int],
                                              kwargs: dict[str, str], index: str) -> None:
    # PostgreSQL: a county user's search. SQLite weighs the jurisdiction's range and the
    # name's alike without statistics (it may take either): a national user's there, to show
    # the index answers the statement.
    dialect = session.get_bind().dialect.name
    actor = make_actor(Role.epidemiologist, *((CHIKAN,) if dialect == "postgresql" else ()))
    with statements(session) as caught:
        found = persons.search(session, actor=actor, **kwargs)  # type: ignore[arg-type]
    assert found and caught
    statement, parameters = caught[-1]
    assert index in plan(session, statement, parameters)
