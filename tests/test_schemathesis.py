"""Schemathesis over the whole OpenAPI, in process (ASGI, no network), signed in as a commander
on a small fixture (tests/web/seed.py: two counties' persons, cases, tasks, zones, a site):
no response is a server error, and every response has a status code the operation declares,
with a body of the declared schema.

A few examples per operation (``FANGKONG_SCHEMATHESIS_EXAMPLES``, default 10) keep the run well
under two minutes on SQLite and PostgreSQL; raise it to search harder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy import Engine

from fangkong.core.config import get_settings
from tests.conftest import seeded_engine

EXAMPLES = int(os.environ.get("FANGKONG_SCHEMATHESIS_EXAMPLES", "10"))


@pytest.fixture(scope="module")
def st_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of the suite's kind of its own (requests commit), migrated and seeded."""
    engine = seeded_engine("st", Path(tmp_path_factory.mktemp("st")))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def st_app(st_engine: Engine) -> Any:
    from fangkong.app import create_app

    return create_app(get_settings(), engine=st_engine)


@pytest.fixture(scope="module")
def st_headers(st_app: Any) -> dict[str, str]:
    from fastapi.testclient import TestClient

    from tests.web.seed import PASSWORD

    with TestClient(st_app) as client:
        resp = client.post("/api/v1/auth/token",
                           data={"username": "wcity", "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def _failures(operation: Any, headers: dict[str, str], mode: Any) -> list[str]:
    """Run the operation's examples; the failures, one line each (all examples are run: a
    failing one does not hide the next)."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=[
                not_a_server_error, status_code_conformance, response_schema_conformance])
        except (Exception, FailureGroup) as exc:  # a failed check, or the server's exception
            found.append(f"{operation.method.upper()} {operation.path}: "
                          f"{type(exc).__name__}: " + " ".join(str(exc).split())[:400])

    with contextlib.suppress(Unsatisfiable):  # negative: an operation with nothing to break
        run()
    return found


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api(st_app: Any, st_headers: dict[str, str], mode: str) -> None:
    """Valid inputs (positive) and invalid ones (negative: wrong types, out of range,
    missing fields, ...) on every operation."""
    from schemathesis import GenerationMode

    api = schemathesis.openapi.from_asgi("/openapi.json", st_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 100
    failures = [f for op in operations
                for f in _failures(op, st_headers, GenerationMode(mode))]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


def test_openapi_is_valid_and_declares_its_errors(st_app: Any) -> None:
    """The OpenAPI document is valid (OpenAPI 3.1), and every operation declares the errors
    of the one error shape that it can answer: signed-in operations 401, 403 and 404;
    operations with inputs 422 in the error shape (not FastAPI's default shape)."""
    spec = st_app.openapi()
    validate(spec)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = op["responses"]
            if op.get("security"):
                assert {"401", "403", "404"} <= set(codes), (method, path)
            if op.get("parameters") or op.get("requestBody"):
                assert codes["422"]["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in spec["components"]["schemas"]
