"""The optional ``tracing:`` section of a policy pack: how contacts are found automatically.

```yaml
tracing:
  household_role: close_contact        # household members of a case
  co_presence:                         # people at the same venue as a case (场所码)
    min_overlap_minutes: 10            # M: the shortest overlap that counts
    linger_minutes: 0                  # L: the case's stay extends this long after leaving
    role: venue_exposed                # the role proposed for them
    source: [...]
    confidence: ...
  tasks:                               # due times of the tasks of a confirmed contact
    notify_within_hours: 4
    transfer_within_hours: 12          # only when the plan starts with centralized quarantine
    source: [...]
    confidence: ...
  source: [...]
  confidence: ...
```

Secondary contacts are traced when the pack has a secondary look-back window
(``lookback.secondary``), so no flag is repeated here.
"""

from __future__ import annotations

from pydantic import Field

from fangkong.policy.rulebase import Ruled


class CoPresence(Ruled):
    min_overlap_minutes: int = Field(ge=0, le=1440)
    linger_minutes: int = Field(ge=0, le=1440)
    role: str


class TaskDue(Ruled):
    """How soon the tasks a confirmed contact creates are due, from the confirmation."""

    notify_within_hours: int = Field(ge=1, le=168)
    transfer_within_hours: int = Field(ge=1, le=168)


class TracingRules(Ruled):
    household_role: str
    co_presence: CoPresence
    tasks: TaskDue
