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

__all__ = ["SirenVectorEnv", "parse_autoreset_mode", "simulator_seeds"]

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


class SirenVectorEnv(gymnasium.vector.VectorEnv):
    """`num_envs` SirenEnvs stepped in C++ on `num_threads` threads.

    Args:
        num_envs: number of envs (>= 1).
        scenario, action_encoding, overrides, **kwargs: as for SirenEnv.
        autoreset_mode: AutoresetMode.NEXT_STEP (default) or SAME_STEP, or
            "next_step" / "same_step". In SAME_STEP mode the infos of an env
            whose episode ended hold "final_obs" and "final_info" (with their
            "_final_obs" / "_final_info" masks), as Gymnasium's SyncVectorEnv.
        num_threads: threads stepping the envs (the caller counts as one);
            default min(num_envs, os.cpu_count()). Results do not depend on it.
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
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs: expected an integer >= 1, got {num_envs!r}")
        if render_mode is not None:
            raise ValueError(f"render_mode: got {render_mode!r}, expected None (SirenVectorEnv does not render)")
        mode = parse_autoreset_mode(autoreset_mode)
        if num_threads is None:
            num_threads = min(int(num_envs), os.cpu_count() or 1)
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)) or num_threads < 1:
            raise ValueError(f"num_threads: expected an integer >= 1 or None, got {num_threads!r}")

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

        n, d, k = self.num_envs, _core.observation_size, len(INFO_NAMES)
        self._observations = np.zeros((n, d), dtype=np.float32)
        self._rewards = np.zeros(n, dtype=np.float64)
        self._terminated = np.zeros(n, dtype=np.bool_)
        self._truncated = np.zeros(n, dtype=np.bool_)
        self._info = np.zeros((n, k), dtype=np.float64)
        self._info_valid = np.zeros(n, dtype=np.bool_)
        same_step = mode is AutoresetMode.SAME_STEP
        self._final_observations = np.zeros((n, d), dtype=np.float32) if same_step else None
        self._has_final = np.zeros(n, dtype=np.bool_) if same_step else None

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
        self._vector.reset(seeds, self._observations)
        self._rewards[:] = 0
        self._terminated[:] = False
        self._truncated[:] = False
        return (self._observations.copy() if self.copy else self._observations), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Steps every env with actions of shape (num_envs, 2)."""
        values = np.ascontiguousarray(actions, dtype=np.float64)
        if values.shape != (self.num_envs, 2):
            raise ValueError(f"actions: expected shape {(self.num_envs, 2)}, got {values.shape}")
        try:
            self._vector.step(
                values,
                self._observations,
                self._rewards,
                self._terminated,
                self._truncated,
                self._info,
                self._info_valid,
                self._final_observations,
                self._has_final,
            )
        except RuntimeError as error:
            raise gymnasium.error.ResetNeeded(str(error)) from error
        infos = self._infos()
        if self.copy:
            return (self._observations.copy(), self._rewards.copy(), self._terminated.copy(),
                    self._truncated.copy(), infos)  # fmt: skip
        return self._observations, self._rewards, self._terminated, self._truncated, infos

    def _info_arrays(self, mask: np.ndarray) -> dict[str, Any]:
        """Gymnasium's dict of arrays for the rows in `mask` (SyncVectorEnv's
        layout: a "_name" mask per key, zeros / None where the mask is False)."""
        infos: dict[str, Any] = {}
        rows = self._info
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
        if self._has_final is None or not self._has_final.any():
            return self._info_arrays(self._info_valid) if self._info_valid.any() else {}
        # SAME_STEP with ended episodes: their step info goes to "final_info",
        # their last observation to "final_obs"; the top level holds the
        # others (the new episodes' reset infos are empty).
        has_final = self._has_final.copy()
        running = self._info_valid & ~has_final
        infos = self._info_arrays(running) if running.any() else {}
        final_obs = np.full(self.num_envs, None, dtype=object)
        for i in np.flatnonzero(has_final):
            final_obs[i] = self._final_observations[i].copy()
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
