"""Bounded types for API inputs that the database stores or compares as integers."""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
"""The largest count an INTEGER column holds on PostgreSQL (sizes, capacities, values)."""

Int64 = Annotated[int, Ge(INT64_MIN), Le(INT64_MAX)]
"""An integer the database can hold (BIGINT): ids, counts and limits as API parameters. Larger
ones answer 422 instead of overflowing in SQLite's driver (a 500)."""
