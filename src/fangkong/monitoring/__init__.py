"""Monitoring (居家健康监测): the daily reports of people in home quarantine or home health
monitoring, by a personal link or a community worker, and their triage."""

from fangkong.registry import Command, Contribution, Job, Listener, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.monitoring.api:router", "fangkong.monitoring.api:link_router"),
    commands=(Command("monitoring", "fangkong.monitoring.cli:app",
                      "Home monitoring (居家健康监测): periods, daily reports, who is due."),),
    listeners=(
        Listener("contact.under_management", "fangkong.monitoring.service:on_managed"),
        Listener("contact.released", "fangkong.monitoring.service:on_ended"),
        Listener("contact.became_case", "fangkong.monitoring.service:on_ended"),
        Listener("contact.lost_to_follow_up", "fangkong.monitoring.service:on_ended"),
    ),
    jobs=(Job("follow up missed monitoring reports", "fangkong.monitoring.service:check_job"),),
    packed=(Packed("monitoring period", "fangkong.monitoring.models:MonitoringPeriod"),),
)
