"""``fangkong db check-packs`` reports the records whose stored pack version is no longer the
version of their pack on disk (and passes when there are none)."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from fangkong.cli import app
from fangkong.core.db import get_engine, session_scope
from fangkong.core.migrate import upgrade
from fangkong.policy import service as policy
from fangkong.tracing.models import ContactEpisode
from tests.conftest import make_actor
from tests.tracing.helpers import a_case_with_contacts


def test_check_packs_names_the_records_of_a_changed_version(fresh_db: str) -> None:
    engine = get_engine()
    upgrade(engine)
    with session_scope(engine) as session:
        exposures = a_case_with_contacts(session, make_actor(), prefix="CP", seed=7,
                                         pack="cn_20_measures")
        contact_ids = sorted(e.contact_id for e in exposures)
    runner = CliRunner()
    ok = runner.invoke(app, ["db", "check-packs", "--json"])
    assert ok.exit_code == 0, ok.output
    groups = json.loads(ok.output)
    assert {"records": "contact", "pack_id": "cn_20_measures",
            "pack_version": policy.get_pack("cn_20_measures").version, "count": 2,
            "ok": True} in groups

    with session_scope(engine) as session:
        for contact in session.scalars(select(ContactEpisode).where(
                ContactEpisode.id.in_(contact_ids))):
            contact.pack_version = "0.9.0"
    bad = runner.invoke(app, ["db", "check-packs", "--json"])
    assert bad.exit_code == 4
    error = json.loads(bad.output)["error"]
    assert error["code"] == "conflict"
    [problem] = error["problems"]
    assert problem["field"] == "contact"
    assert problem["message"].startswith(
        f"contact {contact_ids[0]} (and 1 more contact records) was made under policy pack "
        f"cn_20_measures version 0.9.0, but the pack on disk is version "
        f"{policy.get_pack('cn_20_measures').version}")
