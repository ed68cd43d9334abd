"""Measuring the simulator and its env: the defaults and timers behind
``siren bench`` and ``siren bench-env``, also used by the tests.
"""

from __future__ import annotations

import time
from typing import Any

from siren import _core

__all__ = [
    "BENCH_PREFERRED_MEMORY_MB",
    "default_bench_memory",
    "time_core_env",
    "time_gym_env",
    "time_vector_env",
]

BENCH_PREFERRED_MEMORY_MB = 1024


def default_bench_memory(scenario: _core.Scenario) -> int:
    """The smallest grid size >= max(min feasible, 1024 MB), else the min feasible."""
    floor = max(scenario.min_feasible_memory_mb, BENCH_PREFERRED_MEMORY_MB)
    for memory_mb in scenario.memory_grid():
        if memory_mb >= floor:
            return memory_mb
    return scenario.min_feasible_memory_mb


def time_core_env(scenario: _core.Scenario, action: Any, steps: int, seed: int) -> float:
    """Seconds per step of the C++ env alone (_core.bench_env)."""
    result = _core.bench_env(scenario, "box", action, steps, seed)
    return result["wall_s"] / result["steps"]


def time_gym_env(env: Any, action: Any, steps: int, seed: int) -> float:
    """Seconds per step through SirenEnv.step (and reset at episode ends)."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return (time.perf_counter() - start) / steps


def time_vector_env(envs: Any, actions: Any, vector_steps: int, seed: int) -> float:
    """Env steps per second of a SirenVectorEnv."""
    envs.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(vector_steps):
        envs.step(actions)
    return vector_steps * envs.num_envs / (time.perf_counter() - start)
