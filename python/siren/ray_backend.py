"""Sweeps and evaluations on Ray: ``siren sweep|evaluate --backend ray``.

The work is split into episodes, one per (scenario, schedule or policy,
seed): grid points x budgets x seeds for grid search, seeds for the hand
schedule and for policies. Contiguous runs of episodes become Ray tasks
(``num_cpus=1``, one simulation thread each; about `TASKS_PER_CPU` tasks per
CPU of the cluster, so that long and short episodes even out). A task
rebuilds its scenarios from YAML (``Scenario.to_yaml`` round-trips exactly)
and runs its episodes with the same C++ code as the local backend. The driver
puts the per-seed outcomes back in seed order and hands them to the C++ that
reduces them for the local backend too (``_core.summarise_episodes``; for
grid search, ``_core.GridPlan`` lists the runs and reduces their outcomes), so
the tables are bit-for-bit those of the local backend: this module only maps
episodes to tasks. CEM searches run as one task per search and the oracle
static search as one task per budget (both are sequential rounds of
batches); the EC2 rows and the hand schedule itself are computed
on the driver.

Every node must have the same ``siren`` installed (the tasks import it);
nothing is shipped in a runtime environment.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from siren import _core
from siren.backend_jobs import CemJob, Pair, PolicyJob, ScheduleJob
from siren.policy import load_policy, policy_episode, summarise_policy_episodes

__all__ = [
    "TASKS_PER_CPU",
    "RayBackend",
    "connect",
    "import_ray",
    "plan_chunks",
    "resolve_address",
]

# Tasks per cluster CPU for a batch of episodes: enough to balance uneven
# episode lengths, few enough that Ray's per-task overhead (about a
# millisecond) stays small against a task's episodes.
TASKS_PER_CPU = 4
# How long the driver waits for the head's port to accept a connection
# before it calls the address unreachable (ray.init itself retries for
# minutes).
CONNECT_PROBE_TIMEOUT_S = 5.0
# Ray's own switch for single-machine mode: with it, a local instance binds
# to the loopback address instead of the machine's network address.
_LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"

# One group of a schedule task: (index of its scenario's YAML, schedule,
# budget or None, seeds).
ScheduleGroup = tuple[int, tuple[Pair, ...], "float | None", list[int]]


# --- connecting -------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module; OSError naming the package and the setup script
    when it is not installed."""
    try:
        import ray
    except ImportError:
        raise OSError("--backend ray needs the ray package (ray[default,rllib]), which is not installed: "
                      "run `bash scripts/setup.sh` (or pip install 'siren[ray]')") from None
    return ray


def resolve_address(address: str | None) -> str:
    """The address to connect to: `address`, else $RAY_ADDRESS, else
    "local" (a private instance on this machine). "auto" means the cluster
    this node joined with ``ray start``."""
    if address is None or not address.strip():
        address = os.environ.get("RAY_ADDRESS", "").strip() or "local"
    return address.strip()


def _probe(address: str) -> None:
    """Raises OSError unless HOST:PORT (optionally ray://) accepts a TCP
    connection within CONNECT_PROBE_TIMEOUT_S; ValueError when `address` is
    not HOST:PORT."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--ray-address: got {address!r}, expected HOST:PORT of a Ray head "
                         "(e.g. 10.0.0.5:6379), 'auto' or 'local'")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_PROBE_TIMEOUT_S):
            pass
    except OSError as error:
        raise OSError(f"--ray-address: no Ray head answers at {address!r} ({error}); start one with "
                      "`ray start --head --port=PORT` or pass the address it printed") from None


def connect(address: str | None = None) -> Any:
    """Connects this process to Ray, unless it is connected already, and
    returns the ``ray`` module.

    Args:
        address: HOST:PORT of a running cluster's head (checked to answer
            first, so a wrong address fails in seconds), "auto" (the cluster
            this node joined), or "local": a new private instance with all
            CPUs of this machine, on the loopback address only. None:
            $RAY_ADDRESS, else "local".

    Raises:
        OSError: ray is not installed, or nothing answers at `address`.
        ValueError: `address` is not of a form listed above.
    """
    address = resolve_address(address)
    if address == "local" and "ray" not in sys.modules:
        os.environ.setdefault(_LOOPBACK_ONLY_ENV, "0")  # Read when ray is imported.
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address not in ("local", "auto"):
        _probe(address)
    try:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=False, configure_logging=True)
    except ConnectionError as error:
        raise OSError(f"--ray-address: cannot connect to Ray at {address!r}: {error}") from None
    return ray


# --- tasks (plain functions: wrapped with ray.remote on the driver) -----------


@functools.lru_cache(maxsize=32)
def _scenario(yaml: str) -> _core.Scenario:
    return _core.parse_scenario(yaml, [], "<ray task>")


def run_schedule_groups(yamls: Sequence[str], groups: Sequence[ScheduleGroup]) -> list[list[dict]]:
    """Task: the per-seed outcomes (``_core.evaluate_schedule``'s "episodes")
    of each group, on one simulation thread; a group names its scenario by
    its index in `yamls`."""
    return [_core.evaluate_schedule(_scenario(yamls[index]), list(schedule), seeds, budget_usd=budget,
                                    num_threads=1)["episodes"]
            for index, schedule, budget, seeds in groups]


_POLICIES: dict[str, Any] = {}


def _policy(policy: bytes) -> Any:
    """The TorchScript module of an exported policy file's bytes, loaded once
    per worker process."""
    digest = hashlib.sha256(policy).hexdigest()
    if digest not in _POLICIES:
        with tempfile.TemporaryDirectory(prefix="siren-policy-") as directory:
            path = Path(directory) / "policy.pt"
            path.write_bytes(policy)
            _POLICIES[digest] = load_policy(path)[0]
    return _POLICIES[digest]


def run_policy_groups(policy: bytes, yamls: Sequence[str],
                      groups: Sequence[tuple[int, list[int]]]) -> list[list[dict]]:
    """Task: the per-seed outcomes (``siren.policy.policy_episode``) of the
    exported policy (the file's bytes) on each group's (index of its
    scenario's YAML in `yamls`, seeds)."""
    module = _policy(policy)
    return [[policy_episode(module, _scenario(yamls[index]), seed) for seed in seeds]
            for index, seeds in groups]


def run_cem(yaml: str, seeds: list[int], options: dict[str, Any]) -> dict:
    """Task: ``_core.cem_search`` on one simulation thread."""
    return _core.cem_search(_scenario(yaml), seeds, **options, num_threads=1)


def run_oracle(yaml: str, budget: float, seeds: list[int], options: dict[str, Any]) -> dict:
    """Task: ``_core.oracle_static`` for one budget on one simulation thread
    (each budget's search is independent of the others')."""
    [result] = _core.oracle_static(_scenario(yaml), [budget], seeds, **options, num_threads=1)
    return result


# --- splitting and reassembling -----------------------------------------------


def plan_chunks(seed_lists: Sequence[Sequence[int]], parts: int) -> list[list[tuple[int, list[int]]]]:
    """Splits the episodes (job j, seed s), in job then seed order, into at
    most `parts` contiguous chunks of near-equal size. A chunk is a list of
    (job index, its seeds in the chunk), so concatenating the chunks' seeds
    per job gives back every job's seeds in order."""
    units = [(job, seed) for job, seeds in enumerate(seed_lists) for seed in seeds]
    parts = max(1, min(parts, len(units)))
    chunks: list[list[tuple[int, list[int]]]] = []
    for part in range(parts):
        chunk: list[tuple[int, list[int]]] = []
        for job, seed in units[part * len(units) // parts:(part + 1) * len(units) // parts]:
            if chunk and chunk[-1][0] == job:
                chunk[-1][1].append(seed)
            else:
                chunk.append((job, [seed]))
        chunks.append(chunk)
    return chunks


class RayBackend:
    """The backend of ``--backend ray`` (see the module docstring and
    ``siren.backends.Backend``). Connects on construction."""

    def __init__(self, address: str | None = None) -> None:
        imported = sys.modules.get("ray")
        already = imported is not None and imported.is_initialized()
        self._ray = connect(address)
        self._owns_connection = not already
        task = self._ray.remote(num_cpus=1)
        self._schedule_task = task(run_schedule_groups)
        self._policy_task = task(run_policy_groups)
        self._cem_task = task(run_cem)
        self._oracle_task = task(run_oracle)

    def cpus(self) -> int:
        """The cluster's CPUs (at least 1)."""
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def describe(self) -> str:
        nodes = sum(1 for node in self._ray.nodes() if node.get("Alive"))
        return f"backend=ray nodes={nodes} cpus={self.cpus()}"

    def _run_chunks(self, seed_lists: Sequence[Sequence[int]],
                    submit: Callable[[list[tuple[int, list[int]]]], Any]) -> list[list[Any]]:
        """Per job, the outcomes of its seeds in order: the episodes split by
        `plan_chunks`, each chunk submitted as one task that returns a list
        per (job, seeds) group."""
        chunks = plan_chunks(seed_lists, TASKS_PER_CPU * self.cpus())
        results = self._ray.get([submit(chunk) for chunk in chunks])
        outcomes: list[list[Any]] = [[] for _ in seed_lists]
        for chunk, result in zip(chunks, results):
            for (job, _), episodes in zip(chunk, result):
                outcomes[job].extend(episodes)
        return outcomes

    def _yamls(self, scenarios: Sequence[_core.Scenario]) -> tuple[Any, list[int]]:
        """The distinct scenarios' YAML texts in the object store, and each
        scenario's index among them."""
        texts: dict[str, int] = {}
        indices = [texts.setdefault(scenario.to_yaml(), len(texts)) for scenario in scenarios]
        return self._ray.put(tuple(texts)), indices

    def _episodes(self, jobs: Sequence[ScheduleJob]) -> list[list[dict]]:
        yamls, indices = self._yamls([job.scenario for job in jobs])
        groups = [(index, tuple(map(tuple, job.schedule)), job.budget_usd) for index, job in zip(indices, jobs)]
        return self._run_chunks(
            [list(job.seeds) for job in jobs],
            lambda chunk: self._schedule_task.remote(yamls, [(*groups[job], seeds) for job, seeds in chunk]))

    def evaluate_schedules(self, jobs: Sequence[ScheduleJob]) -> list[dict]:
        for job in jobs:
            if not job.seeds:
                raise ValueError("seeds: empty, expected at least one seed")
        return [_core.summarise_episodes(episodes) for episodes in self._episodes(jobs)]

    def grid_search(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                    function_grids: Sequence[Sequence[int]], memory_stride: int = 0) -> list[list[dict]]:
        plan = _core.GridPlan(scenario, list(budgets), list(seeds), [list(grid) for grid in function_grids],
                              memory_stride=memory_stride)
        return plan.reduce(self._episodes([ScheduleJob(scenario, [(n, m)], plan.seeds, budget)
                                           for budget, n, m in plan.runs]))

    def cem_search(self, jobs: Sequence[CemJob]) -> list[dict]:
        return self._ray.get([self._cem_task.remote(job.scenario.to_yaml(), list(job.seeds), dict(job.options))
                              for job in jobs])

    def oracle_static(self, scenario: _core.Scenario, budgets: Sequence[float], seeds: Sequence[int],
                      options: Mapping[str, Any]) -> list[dict]:
        yaml = scenario.to_yaml()
        return self._ray.get([self._oracle_task.remote(yaml, budget, list(seeds), dict(options))
                              for budget in budgets])

    def evaluate_policy(self, policy_path: str | Path, jobs: Sequence[PolicyJob]) -> list[dict]:
        policy = self._ray.put(Path(policy_path).read_bytes())
        yamls, indices = self._yamls([job.scenario for job in jobs])
        outcomes = self._run_chunks(
            [list(job.seeds) for job in jobs],
            lambda chunk: self._policy_task.remote(policy, yamls,
                                                   [(indices[job], seeds) for job, seeds in chunk]))
        return [summarise_policy_episodes(episodes) for episodes in outcomes]

    def close(self) -> None:
        """Disconnects; a local instance this backend started stops with it."""
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()
