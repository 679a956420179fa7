"""A domain that exists only in tests/test_registry.py: what it declares here, and nothing
else, must put its router in the app, its group in the CLI, its handler on an event and its
job in the scheduler."""

from fangkong.registry import Command, Contribution, Job, Listener

CONTRIBUTES = Contribution(
    routers=("tests.fakedomain.parts:router",),
    commands=(Command("fake", "tests.fakedomain.parts:app", "A domain of the registry's test."),),
    listeners=(Listener("zone.lifted", "tests.fakedomain.parts:on_zone_lifted"),),
    jobs=(Job("the fake domain's job", "tests.fakedomain.parts:job"),
          Job("the fake domain's daily job", "tests.fakedomain.parts:daily_job", daily=True)),
    mounts=("tests.fakedomain.parts:mount",),
)
