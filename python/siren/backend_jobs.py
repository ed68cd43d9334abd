"""The requests of ``siren.backends``: what to run, on which scenario, from
which seeds. Every backend takes them (``siren.backends.LocalBackend`` and
``siren.ray_backend.RayBackend``), so they live apart from both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from siren import _core

__all__ = ["CemJob", "Pair", "PolicyJob", "ScheduleJob"]

Pair = tuple[int, int]


@dataclass(frozen=True)
class ScheduleJob:
    """`schedule` (the last pair repeats) on `scenario` from each of `seeds`;
    `budget_usd` overrides job.budget_usd when given (as in
    ``_core.evaluate_schedule``)."""

    scenario: _core.Scenario
    schedule: Sequence[Pair]
    seeds: Sequence[int]
    budget_usd: float | None = None


@dataclass(frozen=True)
class CemJob:
    """One ``_core.cem_search(scenario, seeds, **options)`` (options without
    num_threads)."""

    scenario: _core.Scenario
    seeds: Sequence[int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyJob:
    """The deterministic policy on `scenario`, one job per seed (as in
    ``siren.policy.evaluate_policy``)."""

    scenario: _core.Scenario
    seeds: Sequence[int]
