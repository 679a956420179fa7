"""Without a Chinese font every Chinese character of the PDF brief is an empty box: writing a PDF
then warns, in the brief's language (the font lookup is replaced, the renderer is real)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fangkong.brief import render
from fangkong.web.i18n import translate
from tests.web.seed import seed
from tests.web.test_brief import _doc


def test_the_font_lookup_finds_fontconfigs_chinese_fonts() -> None:
    if not render.shutil.which("fc-list"):
        pytest.skip("no fontconfig here")
    fonts = render.cjk_fonts()
    assert all(isinstance(f, str) and f for f in fonts)


def test_a_pdf_without_chinese_fonts_warns(session: Session, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    seed(session)
    doc = _doc(session, "440802", lang="zh-Hant")
    monkeypatch.setattr(render, "cjk_fonts", lambda: ())
    with caplog.at_level(logging.WARNING, logger="fangkong.brief"):
        body, _ = render.render(doc, "pdf")
    assert body.startswith(b"%PDF")
    assert [r.getMessage() for r in caplog.records] == [translate("brief.no_cjk_font",
                                                                  "zh-Hant")]
    assert "fonts-noto-cjk" in caplog.text and "空白方框" in caplog.text

    caplog.clear()
    monkeypatch.setattr(render, "cjk_fonts", lambda: ("Noto Sans CJK SC",))
    with caplog.at_level(logging.WARNING, logger="fangkong.brief"):
        render.render(doc, "pdf")
    assert caplog.records == []


def test_the_cli_shows_the_warning(fresh_db: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from fangkong.cli import app
    from fangkong.core.db import get_engine, session_scope
    from fangkong.core.migrate import upgrade
    from fangkong.geo import service as geo

    upgrade(get_engine())
    with session_scope(get_engine()) as session:
        geo.load(session, province="44")
        seed(session, prefix="F")
    args = ["brief", "--jurisdiction", "440802", "--out", str(tmp_path), "--format", "pdf",
            "--lang", "en", "--json"]
    monkeypatch.setattr(render, "cjk_fonts", lambda: ())
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [Path(f).suffix for f in json.loads(result.stdout)["files"]] == [".pdf"]
    assert "No Chinese font found" in result.stderr and "fonts-noto-cjk" in result.stderr
    monkeypatch.setattr(render, "cjk_fonts", lambda: ("Noto Sans CJK SC",))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0 and result.stderr == ""
