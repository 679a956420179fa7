"""Mass testing on the dashboard: the open rounds over the jurisdiction with their coverage
(应检尽检) and tubes past due, and the queue of positive pools being resolved."""

from __future__ import annotations

from fangkong.core.auth import Perm
from fangkong.testing import service as testing
from fangkong.web.i18n import fmt_datetime
from fangkong.web.sections import Cell, Context, Figure, Section, Table, provider
from fangkong.zone import service as zones


@provider("testing", title="sec.testing", where={"overview", "brief"}, order=52)
def rounds(ctx: Context) -> Section:
    if not ctx.actor.can(Perm.person_read):
        return Section(key="testing", title=ctx.t("sec.testing"), available=False,
                       notes=[ctx.t("testing.no_access")])
    link = f"/testing?j={ctx.root.code}"
    rows, target, sampled, late = [], 0, 0, 0
    open_ = testing.open_rounds(ctx.session, actor=ctx.actor, division=ctx.root.code)
    totals = testing.round_totals(ctx.session, actor=ctx.actor, rounds=open_,
                                  within_code=ctx.root.code)
    for r in open_:
        t, s, p = totals[r.id]
        target, sampled, late = target + t, sampled + s, late + p
        rows.append([Cell(r.name), Cell(r.deadline_at.date()), Cell(t), Cell(s),
                     Cell(f"{s / t:.1%}" if t else "—"), Cell(p)])
    pools = testing.open_pools(ctx.session, actor=ctx.actor, division=ctx.root.code)
    # the command's queue: each open pool, oldest first, with how long it has been open
    queue = testing.open_pool_list(ctx.session, actor=ctx.actor, division=ctx.root.code)
    names = zones.place_names(ctx.session, {q.division_code for q in queue})
    waiting = Table(ctx.t("testing.queue"), [
        ctx.t("testing.tube"), ctx.t("testing.place"), ctx.t("testing.opened"),
        ctx.t("testing.hours_open"), ctx.t("testing.pending")], [
        [Cell(q.tube), Cell(ctx.place(names[q.division_code])),
         Cell(fmt_datetime(q.opened_at, ctx.lang, ctx.zone)),
         Cell((ctx.now - q.opened_at).total_seconds() / 3600), Cell(f"{q.pending} / {q.members}")]
        for q in queue])
    figures = [Figure("rounds_open", ctx.t("testing.rounds_open"), len(rows), link),
               Figure("testing_target", ctx.t("testing.target"), target, link),
               Figure("testing_sampled", ctx.t("testing.sampled"), sampled, link),
               Figure("testing_coverage", ctx.t("testing.coverage"),
                      sampled / target if target else None, link, kind="percent"),
               Figure("tubes_past_due", ctx.t("testing.past_due"), late, link),
               Figure("positive_pools", ctx.t("testing.pools"), pools, link)]
    table = Table(ctx.t("testing.rounds_open"),
                  [ctx.t("testing.round"), ctx.t("testing.deadline"), ctx.t("testing.target"),
                   ctx.t("testing.sampled"), ctx.t("testing.coverage"),
                   ctx.t("testing.past_due")], rows)
    tables = ([table] if rows else []) + ([waiting] if queue else [])
    return Section(key="testing", title=ctx.t("sec.testing"), figures=figures,
                   tables=tables, notes=[ctx.t("testing.note")])
