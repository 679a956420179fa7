"""Tasks and supervision (督查督办): what is to be done, by whom, by when; escalation."""

from fangkong.registry import Command, Contribution, Job, Listener, Packed

CONTRIBUTES = Contribution(
    routers=("fangkong.task.api:router",),
    commands=(Command("task", "fangkong.task.cli:app",
                      "Tasks and supervision (督查督办)."),),
    listeners=(
        # every event ("*"): it ends the open tasks of its records that wait for it
        Listener("*", "fangkong.task.service:end_tasks"),
    ),
    jobs=(Job("escalate overdue tasks", "fangkong.task.jobs:escalate"),),
    packed=(Packed("task", "fangkong.task.models:Task"),),
)
