"""testing: a round's figures kept per division (target, sampled) and the tubes waiting for a
result placed per division, so that the dashboard reads a few rows instead of a city's records

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

The overview, ``/testing`` and the brief showed each open round's target, sampled persons and
tubes past due for the viewer's division by joining the round's targets with its samples (and
the late tubes' samples with the targets) on every request: 2.4-5 s for a city or province user
after ``fangkong demo``. ``testing_round_figures`` keeps, per round and division (every target
person counted in each division that holds theirs: the code cut to 2, 4, 6, 9, 12 digits, and
the code itself), the target and the sampled persons and the tubes waiting for a result;
``testing_tube_place`` keeps each tube
that has members and no result once per division of its target members, with its first sample,
indexed by (round, division, first sample). Round creation and the samples and results imports
keep both in their own transactions (``fangkong.testing.figures``). This migration fills them
for the rounds there are.

The index ``ix_task_status_division_due`` (status, owning division, due, escalation level,
unit) answers the dashboard's counts of a division's active, overdue and escalated tasks and
its overdue tasks per unit without reading the tasks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fangkong.core.db import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

LEVELS = (2, 4, 6, 9, 12)


def _cuts(code: str) -> list[str]:
    return [code[:n] for n in LEVELS if n < len(code)] + [code]


def upgrade() -> None:
    op.create_table(
        "testing_round_figures",
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True),
        sa.Column("division_code", sa.String(12), primary_key=True),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False))
    op.create_table(
        "testing_tube_place",
        sa.Column("tube_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True),
        sa.Column("division_code", sa.String(12), primary_key=True),
        sa.Column("round_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("first_sampled_at", UTCDateTime(timezone=True), nullable=False))
    op.create_index("ix_testing_tube_place_due", "testing_tube_place",
                    ["round_id", "division_code", "first_sampled_at"])
    # the dashboard's task counts of a division from this index alone
    op.create_index("ix_task_status_division_due", "task",
                    ["status", "owning_division_code", "due_at", "escalation_level", "unit_id"])
    bind = op.get_bind()
    # the figures of the rounds there are: per stored code, then into every division holding it
    per_code = bind.execute(sa.text(
        "SELECT t.round_id, t.division_code, count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM "
        "testing_sample s WHERE s.round_id = t.round_id AND s.person_id = t.person_id) "
        "THEN 1 ELSE 0 END) FROM testing_target t GROUP BY t.round_id, t.division_code"))
    figures: dict[tuple[int, str], list[int]] = {}
    for round_id, code, target, sampled in per_code:
        for c in _cuts(code):
            got = figures.setdefault((round_id, c), [0, 0])
            got[0] += int(target)
            got[1] += int(sampled or 0)
    rows = [{"r": r, "c": c, "t": t, "s": s} for (r, c), (t, s) in sorted(figures.items())]
    insert = sa.text("INSERT INTO testing_round_figures (round_id, division_code, target, "
                     "sampled, waiting) VALUES (:r, :c, :t, :s, 0)")
    for start in range(0, len(rows), 5000):
        bind.execute(insert, rows[start:start + 5000])
    # the tubes waiting for a result, at each division of their target members
    members = ("SELECT DISTINCT s.tube_id, g.division_code AS code, s.round_id, "
               "t.first_sampled_at FROM testing_sample s "
               "JOIN testing_tube t ON t.id = s.tube_id "
               "JOIN testing_target g ON g.round_id = s.round_id AND g.person_id = s.person_id "
               "WHERE t.result IS NULL AND t.members > 0")
    parts = [f"SELECT tube_id, substr(code, 1, {n}), round_id, first_sampled_at FROM m "
             f"WHERE length(code) > {n}" for n in LEVELS]
    parts.append("SELECT tube_id, code, round_id, first_sampled_at FROM m")
    op.execute(f"INSERT INTO testing_tube_place (tube_id, division_code, round_id, "
               f"first_sampled_at) WITH m AS ({members}) {' UNION '.join(parts)}")
    op.execute("UPDATE testing_round_figures SET waiting = (SELECT count(*) FROM "
               "testing_tube_place p WHERE p.round_id = testing_round_figures.round_id AND "
               "p.division_code = testing_round_figures.division_code)")


def downgrade() -> None:
    op.drop_index("ix_task_status_division_due", table_name="task")
    op.drop_index("ix_testing_tube_place_due", table_name="testing_tube_place")
    op.drop_table("testing_tube_place")
    op.drop_table("testing_round_figures")
