"""Tracing services (module-level functions ``f(session, *, actor, ...)``; they never commit)."""

from __future__ import annotations
