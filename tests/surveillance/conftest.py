from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from typer.testing import CliRunner

from fangkong.cli import app


@pytest.fixture
def run_cli() -> Callable[[list[str]], Result]:
    runner = CliRunner()

    def run(args: list[str]) -> Result:
        return runner.invoke(app, args)

    return run
