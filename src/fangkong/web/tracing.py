"""Contacts on the dashboard: close and secondary contacts identified today and under
management, and the median hours from a case's report to its contacts' identification and to
the start of their management (以快制快)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fangkong.tracing import service as tracing
from fangkong.web.sections import Context, Figure, Section, provider


@provider("contacts", title="sec.contacts", where={"overview", "brief"}, order=50)
def contacts_section(ctx: Context) -> Section:
    start = datetime.combine(ctx.day, time(0), tzinfo=ZoneInfo(ctx.zone))
    s = tracing.summary(ctx.session, actor=ctx.actor, division=ctx.root.code, since=start,
                        until=start + timedelta(days=1))
    by = s["by_status"]
    figures = [
        Figure("contacts_identified", ctx.t("contacts.identified_today"), s["identified"]),
        Figure("contacts_managed", ctx.t("contacts.under_management"),
               by["under_management"] + by["notified"]),
        Figure("contacts_waiting", ctx.t("contacts.identified_only"), by["identified"]),
        Figure("contacts_released", ctx.t("contacts.released"), by["released"]),
        Figure("contacts_became_case", ctx.t("contacts.became_case"), by["became_case"]),
        Figure("contacts_lost", ctx.t("contacts.lost"), by["lost_to_follow_up"]),
        Figure("hours_to_identification", ctx.t("contacts.hours_to_id"),
               s["median_hours_to_identification"], kind="days"),
        Figure("hours_to_management", ctx.t("contacts.hours_to_mgmt"),
               s["median_hours_to_management"], kind="days"),
    ]
    return Section(key="contacts", title=ctx.t("sec.contacts"), figures=figures,
                   notes=[ctx.t("contacts.note")])
