"""Build the daily brief from the section registry the overview also uses, and write it
(:mod:`fangkong.brief.render` makes each format of the :class:`~fangkong.brief.doc.BriefDoc`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from fangkong.brief import render
from fangkong.brief.doc import BriefDoc, filename
from fangkong.brief.messages import B
from fangkong.core.auth import Actor
from fangkong.core.clock import utc_now
from fangkong.core.errors import Invalid
from fangkong.web import sections
from fangkong.web import service as queries
from fangkong.web.i18n import lang_or_default, translate


def context(session: Session, *, actor: Actor, jurisdiction: str, day: date, lang: str,
            zone: str, measures: list[dict[str, Any]] | None = None,
            pack: str | None = None) -> sections.Context:
    root = queries.jurisdiction_of(session, actor, jurisdiction)
    return sections.Context(session=session, actor=actor, root=root, day=day, zone=zone,
                            lang=lang_or_default(lang), now=utc_now(), measures=measures,
                            pack=pack)


def build(ctx: sections.Context) -> BriefDoc:
    title = f"{ctx.place(ctx.root.name)} {translate('brief.title', ctx.lang)}"
    return BriefDoc(title=title, jurisdiction=ctx.root, day=ctx.day, generated_at=ctx.now,
                    lang=ctx.lang, zone=ctx.zone, sections=sections.run("brief", ctx))


def read_measures(path: Path) -> list[dict[str, Any]]:
    """Local measures to check against the nine prohibitions: a YAML or JSON list (see
    policy/MEASURES.md), or a mapping with a ``measures`` list."""
    if not path.exists():
        raise Invalid(B("no_file", path=path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise Invalid(B("not_yaml", where=f"{path}{where}")) from None
    if isinstance(data, dict):
        data = data.get("measures")
    if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
        raise Invalid(B("not_measures", path=path))
    return data


def write(session: Session, *, actor: Actor, jurisdiction: str, day: date, out: Path,
          formats: list[str], lang: str, zone: str,
          measures: list[dict[str, Any]] | None = None, pack: str | None = None) -> list[Path]:
    """Build the brief of ``jurisdiction`` for ``day`` and write it in each format to ``out``
    (what ``fangkong brief`` and the morning schedule of ``fangkong serve`` do)."""
    out.mkdir(parents=True, exist_ok=True)
    ctx = context(session, actor=actor, jurisdiction=jurisdiction, day=day, lang=lang,
                  zone=zone, measures=measures, pack=pack)
    doc = build(ctx)
    written = []
    for fmt in formats:
        body, _ = render.render(doc, fmt)
        path = out / filename(doc, fmt)
        path.write_bytes(body)
        written.append(path)
    return written
