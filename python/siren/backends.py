"""Where ``siren sweep`` and ``siren evaluate`` run their episodes.

``local`` runs them in this process on the C++ thread pool of
``siren._core``; ``ray`` (``siren.ray_backend``) splits them into Ray tasks
on a local instance or a cluster. Both take the same requests and return the
same dicts as the ``siren._core`` functions they stand for, bit for bit: every
episode depends only on the scenario, the seed and the schedule or policy,
and both backends aggregate the per-seed outcomes in seed order with the
same arithmetic.

    backend = make_backend("local", threads=2)
    [gs, gs_50] = backend.grid_search(scenario, [0.25], [0, 1], [[], [50]])
    [hand] = backend.evaluate_schedules([ScheduleJob(scenario, schedule, [0, 1], 0.25)])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from siren import _core, ray_backend
from siren.backend_jobs import CemJob, PolicyJob, ScheduleJob
from siren.policy import evaluate_policy, load_policy

__all__ = [
    "BACKENDS",
    "Backend",
    "CemJob",
    "LocalBackend",
    "PolicyJob",
    "ScheduleJob",
    "make_backend",
]

BACKENDS = ("local", "ray")


class Backend(Protocol):
    """What the sweep and evaluate commands need. Every method returns one
    result per request, in request order."""

    def describe(self) -> str:
        """A short description for the header line, e.g. ``threads=2``."""

    def grid_search(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                    function_grids: Sequence[Sequence[int]], memory_stride: int = 0) -> list[list[dict]]:
        """``_core.grid_search(scenario, budgets, seeds, functions=grid,
        memory_stride=memory_stride)`` for each grid of `function_grids`."""

    def evaluate_schedules(self, jobs: Sequence[ScheduleJob]) -> list[dict]:
        """``_core.evaluate_schedule`` for each job."""

    def cem_search(self, jobs: Sequence[CemJob]) -> list[dict]:
        """``_core.cem_search`` for each job."""

    def oracle_static(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                      options: Mapping[str, Any]) -> list[dict]:
        """``_core.oracle_static(scenario, budgets, seeds, **options)``: one
        result per budget."""

    def evaluate_policy(self, policy_path: str | Path, jobs: Sequence[PolicyJob]) -> list[dict]:
        """``siren.policy.evaluate_policy`` of the exported policy for each job."""

    def close(self) -> None:
        """Releases what the backend holds (a local Ray instance, ...)."""


class LocalBackend:
    """Everything in this process: the C++ functions on `threads` threads
    (results do not depend on the count), policies with this process's torch."""

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def describe(self) -> str:
        return f"threads={self.threads}"

    def grid_search(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                    function_grids: Sequence[Sequence[int]], memory_stride: int = 0) -> list[list[dict]]:
        plan = _core.GridPlan(scenario, list(budgets), list(seeds), [list(grid) for grid in function_grids],
                              memory_stride=memory_stride)
        return plan.run(num_threads=self.threads)

    def evaluate_schedules(self, jobs: Sequence[ScheduleJob]) -> list[dict]:
        return [_core.evaluate_schedule(job.scenario, list(job.schedule), list(job.seeds),
                                        budget_usd=job.budget_usd, num_threads=self.threads)
                for job in jobs]

    def cem_search(self, jobs: Sequence[CemJob]) -> list[dict]:
        return [_core.cem_search(job.scenario, list(job.seeds), **job.options, num_threads=self.threads)
                for job in jobs]

    def oracle_static(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                      options: Mapping[str, Any]) -> list[dict]:
        return _core.oracle_static(scenario, list(budgets), list(seeds), **options, num_threads=self.threads)

    def evaluate_policy(self, policy_path: str | Path, jobs: Sequence[PolicyJob]) -> list[dict]:
        policy, _ = load_policy(policy_path)
        return [evaluate_policy(policy, job.scenario, list(job.seeds)) for job in jobs]

    def close(self) -> None:
        pass


def make_backend(name: str, threads: int, ray_address: str | None = None) -> Backend:
    """The backend called `name` ("local" or "ray"). `threads` is the local
    backend's thread count; `ray_address` is where Ray runs (see
    ``siren.ray_backend.connect``). Raises ValueError for an unknown name and
    OSError when Ray is missing or cannot be reached."""
    if name == "local":
        return LocalBackend(threads)
    if name == "ray":
        return ray_backend.RayBackend(ray_address)
    raise ValueError(f"--backend: got {name!r}, expected one of {', '.join(BACKENDS)}")
