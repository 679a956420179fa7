"""The daily brief (每日一研判): per jurisdiction and day, as HTML, PDF and XLSX."""

from fangkong.registry import Command, Contribution, Job

CONTRIBUTES = Contribution(
    commands=(Command("brief", "fangkong.brief.cli:brief",
                      "Write the daily brief (每日一研判) as HTML, PDF and XLSX."),),
    mounts=("fangkong.brief.pages:install",),  # /brief and /brief/download
    jobs=(Job("write the morning briefs", "fangkong.brief.jobs:morning_briefs", daily=True),),
)
