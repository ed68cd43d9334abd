"""A Gymnasium vector env over the C++ `siren._core.VectorEnv` (DESIGN.md §3.4).

N independent SirenEnvs are stepped in C++ on a thread pool with the GIL
released; results are written into numpy buffers allocated once here
(zero-copy). Every env's trajectory depends only on its seeds and actions,
never on `num_threads`.

Seeds: reset(seed=s) gives env i the simulator seed
int(np.random.default_rng(s + i).integers(0, 2**63)), exactly what
SirenEnv.reset(seed=s + i) uses, so env i's first episode equals a single
SirenEnv's step by step. Its k-th auto-reset episode uses
siren._core.episode_seed(first seed, k).

    import gymnasium, siren
    envs = gymnasium.make_vec("Siren-v0", num_envs=8)
    obs, infos = envs.reset(seed=0)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Union

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from siren import _core
from siren.envs import (
    BOOL_INFO_NAMES,
    INFO_NAMES,
    INT_INFO_NAMES,
    SEED_HIGH,
    STATUS_NAMES,
    Overrides,
    ScenarioLike,
    check_action_encoding,
    encode_action,
    make_spaces,
    resolve_scenario,
)

__all__ = ["MAX_ENVS", "MAX_THREADS", "SirenVectorEnv", "StepBuffers", "check_actions", "check_vector_size",
           "parse_autoreset_mode", "simulator_seeds"]

# The C++ VectorEnv's bounds, checked here first: before the scenario is
# resolved and anything allocated.
MAX_ENVS: int = _core.VectorEnv.max_envs
MAX_THREADS: int = _core.VectorEnv.max_threads

_STATUS_OBJECTS = np.array(STATUS_NAMES, dtype=object)
# (name, column, dtype) for every info column but "status".
_INFO_COLUMNS = [
    (name, column, np.int64 if name in INT_INFO_NAMES else np.bool_ if name in BOOL_INFO_NAMES else np.float64)
    for column, name in enumerate(INFO_NAMES)
    if name != "status"
]
_STATUS_COLUMN = INFO_NAMES.index("status")


_MODE_NAMES = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}
_CORE_MODE_NAMES = {AutoresetMode.NEXT_STEP: "next_step", AutoresetMode.SAME_STEP: "same_step"}


def parse_autoreset_mode(mode: Union[AutoresetMode, str]) -> AutoresetMode:
    """NEXT_STEP or SAME_STEP, from the enum, its value ("NextStep") or
    "next_step" / "same_step"; DISABLED is rejected (the C++ env always
    auto-resets)."""
    if isinstance(mode, str) and mode in _MODE_NAMES:
        return _MODE_NAMES[mode]
    try:
        parsed = AutoresetMode(mode)
    except ValueError:
        raise ValueError(
            f"autoreset_mode: got {mode!r}, expected AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, "
            f"'next_step' or 'same_step'"
        ) from None
    if parsed is AutoresetMode.DISABLED:
        raise ValueError(
            "autoreset_mode: AutoresetMode.DISABLED is not supported: SirenVectorEnv always auto-resets; "
            "use NEXT_STEP or SAME_STEP"
        )
    return parsed


def simulator_seeds(seed: Union[int, Sequence[Union[int, None]], None], num_envs: int, rng: np.random.Generator) -> np.ndarray:
    """The uint64 simulator seed of every env for reset(seed=...): an int s
    seeds env i like SirenEnv.reset(seed=s + i); a list gives one such seed
    per env (None: drawn from `rng`); None draws every seed from `rng`."""
    if seed is None:
        seeds: list[Union[int, None]] = [None] * num_envs
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seeds = [int(seed) + i for i in range(num_envs)]
    else:
        seeds = list(seed)
        if len(seeds) != num_envs:
            raise ValueError(f"seed: a list of seeds needs num_envs={num_envs} entries, got {len(seeds)}")
    out = np.empty(num_envs, dtype=np.uint64)
    for i, s in enumerate(seeds):
        if s is None:
            out[i] = int(rng.integers(0, SEED_HIGH))
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0:
            # gymnasium.utils.seeding.np_random(s) is Generator(PCG64(SeedSequence(s))) too.
            out[i] = int(np.random.default_rng(int(s)).integers(0, SEED_HIGH))
        else:
            raise ValueError(f"seed: entry {i} must be an integer >= 0 or None, got {s!r}")
    return out


def check_vector_size(num_envs: Any, num_threads: Any) -> tuple[int, int]:
    """(num_envs, num_threads) as ints, num_threads None meaning
    min(num_envs, CPUs); ValueError naming the argument when num_envs is not
    in [1, MAX_ENVS] or num_threads not in [1, MAX_THREADS]. Checked before
    anything is allocated."""
    if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or not 1 <= num_envs <= MAX_ENVS:
        raise ValueError(f"num_envs: expected an integer in [1, {MAX_ENVS}], got {num_envs!r} (each env keeps "
                         "a job's state; for more, use several vector envs)")
    if num_threads is None:
        num_threads = min(int(num_envs), os.cpu_count() or 1)
    if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or \
            not 1 <= num_threads <= MAX_THREADS:
        raise ValueError(f"num_threads: expected an integer in [1, {MAX_THREADS}] or None, got {num_threads!r}")
    return int(num_envs), int(num_threads)


def check_actions(actions: Any, num_envs: int) -> np.ndarray:
    """`actions` as the C-contiguous float64 array of shape (num_envs, 2) that
    the C++ VectorEnv steps; ValueError for any other shape."""
    values = np.ascontiguousarray(actions, dtype=np.float64)
    if values.shape != (num_envs, 2):
        raise ValueError(f"actions: expected shape {(num_envs, 2)}, got {values.shape}")
    return values


class StepBuffers:
    """The numpy buffers one `_core.VectorEnv` reset()/step() writes into,
    allocated once (zero-copy); shared by SirenVectorEnv and
    siren.sb3.SirenSB3VecEnv. `final_observations` / `has_final` exist only
    for a same_step env (None otherwise)."""

    def __init__(self, num_envs: int, same_step: bool) -> None:
        n, d, k = num_envs, _core.observation_size, len(INFO_NAMES)
        self.observations = np.zeros((n, d), dtype=np.float32)
        self.rewards = np.zeros(n, dtype=np.float64)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.truncated = np.zeros(n, dtype=np.bool_)
        self.info = np.zeros((n, k), dtype=np.float64)
        self.info_valid = np.zeros(n, dtype=np.bool_)
        self.final_observations = np.zeros((n, d), dtype=np.float32) if same_step else None
        self.has_final = np.zeros(n, dtype=np.bool_) if same_step else None

    def reset(self, vector: _core.VectorEnv, seeds: np.ndarray) -> None:
        """Resets every env of `vector` with `seeds` (see simulator_seeds)."""
        vector.reset(seeds, self.observations)

    def step(self, vector: _core.VectorEnv, actions: np.ndarray) -> None:
        """Steps every env of `vector` with `actions` (from check_actions)."""
        vector.step(
            actions,
            self.observations,
            self.rewards,
            self.terminated,
            self.truncated,
            self.info,
            self.info_valid,
            self.final_observations,
            self.has_final,
        )


class SirenVectorEnv(gymnasium.vector.VectorEnv):
    """`num_envs` SirenEnvs stepped in C++ on `num_threads` threads.

    Args:
        num_envs: number of envs, in [1, MAX_ENVS] (16384).
        scenario, action_encoding, overrides, **kwargs: as for SirenEnv.
        autoreset_mode: AutoresetMode.NEXT_STEP (default) or SAME_STEP, or
            "next_step" / "same_step". In SAME_STEP mode the infos of an env
            whose episode ended hold "final_obs" and "final_info" (with their
            "_final_obs" / "_final_info" masks), as Gymnasium's SyncVectorEnv.
        num_threads: threads stepping the envs (the caller counts as one), in
            [1, MAX_THREADS] (256); default min(num_envs, os.cpu_count()).
            Results do not depend on it.
        copy: if True, reset() and step() return fresh arrays. If False they
            return the internal buffers (observations, rewards, terminated,
            truncated), which the next step() or reset() overwrites in place.
    """

    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int,
        scenario: ScenarioLike = "default",
        action_encoding: str = "box",
        autoreset_mode: Union[AutoresetMode, str] = AutoresetMode.NEXT_STEP,
        num_threads: int | None = None,
        copy: bool = True,
        overrides: Overrides = None,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        num_envs, num_threads = check_vector_size(num_envs, num_threads)
        if render_mode is not None:
            raise ValueError(f"render_mode: got {render_mode!r}, expected None (SirenVectorEnv does not render)")
        mode = parse_autoreset_mode(autoreset_mode)

        self._scenario = resolve_scenario(scenario, overrides, kwargs)
        check_action_encoding(action_encoding)
        self._probe = _core.Env(self._scenario, action_encoding)  # spaces and encode()
        self._vector = _core.VectorEnv(
            self._scenario, int(num_envs), action_encoding, _CORE_MODE_NAMES[mode], int(num_threads)
        )

        self.num_envs = int(num_envs)
        self.num_threads = int(num_threads)
        self.copy = bool(copy)
        self.render_mode = None
        self.autoreset_mode = mode
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.single_observation_space, self.single_action_space = make_spaces(self._probe)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

        self._buffers = StepBuffers(self.num_envs, same_step=mode is AutoresetMode.SAME_STEP)

    @property
    def scenario(self) -> _core.Scenario:
        return self._scenario

    @property
    def action_encoding(self) -> str:
        return self._probe.action_encoding

    def encode(self, functions: int, memory_mb: int) -> np.ndarray:
        """One env's action for a fixed (functions, memory_mb); np.tile it for all."""
        return encode_action(self._probe, self.single_action_space, functions, memory_mb)

    def reset(
        self,
        *,
        seed: Union[int, Sequence[Union[int, None]], None] = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets every env (seeds as in the module docstring); infos are {}."""
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            super().reset(seed=int(seed))
        seeds = simulator_seeds(seed, self.num_envs, self.np_random)
        buffers = self._buffers
        buffers.reset(self._vector, seeds)
        buffers.rewards[:] = 0
        buffers.terminated[:] = False
        buffers.truncated[:] = False
        return (buffers.observations.copy() if self.copy else buffers.observations), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Steps every env with actions of shape (num_envs, 2)."""
        values = check_actions(actions, self.num_envs)
        buffers = self._buffers
        try:
            buffers.step(self._vector, values)
        except RuntimeError as error:
            raise gymnasium.error.ResetNeeded(str(error)) from error
        infos = self._infos()
        if self.copy:
            return (buffers.observations.copy(), buffers.rewards.copy(), buffers.terminated.copy(),
                    buffers.truncated.copy(), infos)  # fmt: skip
        return buffers.observations, buffers.rewards, buffers.terminated, buffers.truncated, infos

    def _info_arrays(self, mask: np.ndarray) -> dict[str, Any]:
        """Gymnasium's dict of arrays for the rows in `mask` (SyncVectorEnv's
        layout: a "_name" mask per key, zeros / None where the mask is False)."""
        infos: dict[str, Any] = {}
        rows = self._buffers.info
        for name, column, dtype in _INFO_COLUMNS:
            values = rows[:, column].astype(dtype)
            values[~mask] = 0
            infos[name] = values
            infos["_" + name] = mask.copy()
        status = _STATUS_OBJECTS[rows[:, _STATUS_COLUMN].astype(np.intp)]
        status[~mask] = None
        infos["status"] = status
        infos["_status"] = mask.copy()
        return infos

    def _infos(self) -> dict[str, Any]:
        buffers = self._buffers
        if buffers.has_final is None or not buffers.has_final.any():
            return self._info_arrays(buffers.info_valid) if buffers.info_valid.any() else {}
        # SAME_STEP with ended episodes: their step info goes to "final_info",
        # their last observation to "final_obs"; the top level holds the
        # others (the new episodes' reset infos are empty).
        has_final = buffers.has_final.copy()
        running = buffers.info_valid & ~has_final
        infos = self._info_arrays(running) if running.any() else {}
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(has_final):
            final_obs[i] = buffers.final_observations[i].copy()
        infos["final_obs"] = final_obs
        infos["_final_obs"] = has_final
        infos["final_info"] = self._info_arrays(has_final)
        infos["_final_info"] = has_final.copy()
        return infos

    def close_extras(self, **kwargs: Any) -> None:
        self._vector = None  # the C++ pool's threads stop with it
        self._probe = None

    def __repr__(self) -> str:
        return (f"<SirenVectorEnv num_envs={self.num_envs} scenario={self._scenario.name!r} "
                f"action_encoding={self._probe.action_encoding if self._probe else '?'!r} "
                f"autoreset_mode={self.autoreset_mode.value}>")  # fmt: skip
