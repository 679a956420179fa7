"""Samples and results as Parquet (typed and text columns), and CSV files whose lines are not
one row each (blank lines, line breaks inside quotes): numbered as a person sees them."""

from __future__ import annotations

import io
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fangkong.core.auth import Actor
from fangkong.core.errors import Invalid
from fangkong.testing import importer
from fangkong.testing.models import FollowupMember, Sample, Tube
from tests.conftest import make_actor
from tests.testing.helpers import (
    START,
    at,
    community,
    issue,
    lab,
    make_persons,
    make_round,
    point,
    samples_csv,
)


def _parquet(table: pa.Table) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _problems(exc: pytest.ExceptionInfo[Invalid]) -> set[tuple[int | None, str | None]]:
    return {(p.line, p.field) for p in exc.value.problems}


@pytest.fixture
def ready(session: Session, admin: Actor) -> tuple[int, list[str]]:
    refs = make_persons(session, admin, 12, prefix="PQ")
    lab(session, admin)
    point(session, admin)
    community(session)
    round_id = make_round(session, admin)
    issue(session, admin, round_id, ["PA", "PB"], capacity=20)
    return round_id, refs


def test_parquet_samples_with_a_timestamp_column(session: Session, admin: Actor,
                                                  ready: tuple[int, list[str]]) -> None:
    round_id, refs = ready
    when = START + timedelta(minutes=30)
    table = pa.table({
        "tube_id": pa.array(["PA"] * 10 + ["PB"] * 2),
        "person_ref": pa.array(refs),
        "sampled_at": pa.array([when] * 12, pa.timestamp("us", tz="UTC")),
        "point_id": pa.array(["PT1"] + [None] * 11, pa.string())})
    report = importer.import_samples(session, actor=admin, round_id=round_id,
                                     source=_parquet(table), filename="s.parquet")
    assert (report.rows, report.inserted) == (12, 12)
    stored = session.execute(select(Sample.sampled_at, Sample.point_id)
                             .join(Tube, Tube.id == Sample.tube_id)
                             .where(Tube.barcode == "PA").order_by(Sample.person_id)).all()
    assert stored[0][0] == when and stored[0][1] is not None and stored[1][1] is None
    # the same registrations as CSV: nothing new (re-ingest is a no-op across formats)
    csv = samples_csv([("PA" if i < 10 else "PB", r, 30) for i, r in enumerate(refs)])
    again = importer.import_samples(session, actor=admin, round_id=round_id, source=csv,
                                    filename="s.csv")
    assert (again.inserted, again.unchanged) == (0, 12)


def test_parquet_results_typed_and_errors_by_row(session: Session, admin: Actor,
                                                 ready: tuple[int, list[str]]) -> None:
    round_id, refs = ready
    importer.import_samples(session, actor=admin, round_id=round_id, filename="s.csv",
                            source=samples_csv([("PA", r, 10) for r in refs[:10]]))
    reported = START + timedelta(hours=2)
    bad = pa.table({"tube_id": ["PA", "NOPE", "PA"],
                    "result": ["positive", "negative", "maybe"],
                    "reported_at": pa.array([reported] * 3, pa.timestamp("us", tz="UTC")),
                    "lab_id": ["LAB1", "LAB1", "LAB9"],
                    "ct": pa.array([28.5, None, 70.0])})
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=admin, source=_parquet(bad),
                                filename="r.parquet")
    # Parquet rows are numbered from 1 (there is no header line)
    assert _problems(caught) == {(3, "result"), (3, "lab_id"), (3, "ct")}
    with pytest.raises(Invalid) as caught:
        importer.import_results(session, actor=admin, source=_parquet(bad.slice(0, 2)),
                                filename="r.parquet")
    assert _problems(caught) == {(2, "tube_id")}
    good = pa.table({"tube_id": ["PA"], "result": ["阳性"],
                     "reported_at": pa.array([reported], pa.timestamp("us", tz="UTC")),
                     "lab_id": ["LAB1"], "ct": pa.array([28.5])})
    report = importer.import_results(session, actor=admin, source=_parquet(good),
                                     filename="r.parquet")
    assert (report.inserted, report.followups_opened) == (1, 1)
    assert session.scalar(select(func.count()).select_from(FollowupMember)
                          .where(FollowupMember.task_id.is_not(None))) == 10
    tube = session.scalars(select(Tube).where(Tube.barcode == "PA")).one()
    assert tube.ct == 28.5 and tube.reported_at == reported
    again = importer.import_results(session, actor=admin, source=_parquet(good),
                                    filename="r.parquet")
    assert (again.inserted, again.followups_opened) == (0, 0)


def test_parquet_naive_times_are_local_and_the_header_is_checked(
        session: Session, admin: Actor, ready: tuple[int, list[str]]) -> None:
    round_id, refs = ready
    local = (START + timedelta(hours=8, minutes=5)).replace(tzinfo=None)  # Asia/Shanghai
    table = pa.table({"tube_id": ["PA"], "person_ref": [refs[0]],
                      "sampled_at": pa.array([local], pa.timestamp("us"))})
    importer.import_samples(session, actor=admin, round_id=round_id, source=_parquet(table),
                            filename="naive.parquet")
    assert session.scalar(select(Sample.sampled_at)) == START + timedelta(minutes=5)
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id,
                                source=_parquet(table.drop_columns(["person_ref"])),
                                filename="short.parquet")
    assert (1, "person_ref") in _problems(caught)
    with pytest.raises(Invalid, match="not a readable Parquet file"):
        importer.import_samples(session, actor=admin, round_id=round_id,
                                source=b"PAR1 broken", filename="broken.parquet")


def test_csv_lines_are_counted_as_written(session: Session, admin: Actor,
                                          ready: tuple[int, list[str]]) -> None:
    """Blank lines and a line break inside quotes: the line numbers still match the file."""
    round_id, refs = ready
    head = b"tube_id,person_ref,sampled_at,point_id\n"
    good = f"PA,{refs[0]},{at(5)},\n".encode()
    blank = head + good + b"\n\n" + f"NOPE,{refs[1]},{at(5)},\n".encode()
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, source=blank,
                                filename="blank.csv")
    assert _problems(caught) == {(5, "tube_id")}
    quoted = head + f'"P\nA",{refs[1]},{at(5)},\n'.encode() + f"PA,GHOST,{at(5)},\n".encode()
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, source=quoted,
                                filename="quoted.csv")
    assert _problems(caught) == {(3, "tube_id"), (4, "person_ref")}
    extra = head + good + f"PA,{refs[2]},{at(5)},,surplus\n".encode()
    with pytest.raises(Invalid) as caught:
        importer.import_samples(session, actor=admin, round_id=round_id, source=extra,
                                filename="extra.csv")
    assert _problems(caught) == {(3, None)}
    gbk = head + f"PA,{refs[0]},{at(5)},\n".encode() + "PA,张三,2022,\n".encode("gb18030")
    with pytest.raises(Invalid, match="GB18030"):
        importer.import_samples(session, actor=admin, round_id=round_id, source=gbk,
                                filename="gbk.csv")
    assert session.scalar(select(func.count()).select_from(Sample)) == 0


def test_api_takes_parquet_uploads(client: TestClient, session: Session) -> None:
    from fangkong.core.auth import Role
    from tests.conftest import login

    headers = login(client, session, "officer", Role.testing_officer, "440802")
    admin = make_actor()
    refs = make_persons(session, admin, 2, prefix="AQ")
    lab_id = lab(session, admin)
    round_id = make_round(session, admin, area=["440802"])
    issue(session, admin, round_id, ["AQ1"], capacity=10)
    when = START + timedelta(minutes=20)
    table = pa.table({"tube_id": ["AQ1", "AQ1"], "person_ref": refs,
                      "sampled_at": pa.array([when, when], pa.timestamp("s", tz="UTC"))})
    resp = client.post(f"/api/v1/testing/rounds/{round_id}/samples", headers=headers,
                       files={"file": ("s.parquet", _parquet(table))})
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 2
    results = pa.table({"tube_id": ["AQ1"], "result": ["negative"],
                        "reported_at": pa.array([when + timedelta(hours=1)],
                                                pa.timestamp("s", tz="UTC")),
                        "lab_id": pa.array([lab_id], pa.int64())})  # an id, not a code
    resp = client.post("/api/v1/testing/results", headers=headers,
                       files={"file": ("upload.bin", _parquet(results))})  # known by its magic
    assert resp.status_code == 200, resp.text
    assert resp.json()["inserted"] == 1
