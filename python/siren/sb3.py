"""A Stable-Baselines3 VecEnv over the C++ vector env (no Python sub-envs).

`SirenSB3VecEnv` steps `siren._core.VectorEnv` in same_step auto-reset mode,
SB3's convention: when env i's episode ends, the returned observation is the
next episode's first, `dones[i]` is True and `infos[i]` holds
"terminal_observation" (the last observation) and "TimeLimit.truncated"
(ended by job.max_epochs rather than by convergence or the budget).

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    from siren.sb3 import SirenSB3VecEnv
    venv = VecMonitor(SirenSB3VecEnv(8, scenario="lenet-mnist"))
    PPO("MlpPolicy", venv).learn(10_000)

stable-baselines3 is imported when this module is, never by `import siren`.
Seeding: seed(s) then reset() gives env i the simulator seed that
SirenEnv.reset(seed=s + i) uses; later episodes use
siren._core.episode_seed(first seed, k) as in SirenVectorEnv.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import gymnasium
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from siren import _core
from siren.envs import Overrides, ScenarioLike, SirenEnv, info_row_to_dict
from siren.vector import StepBuffers, check_actions, check_vector_size, simulator_seeds

__all__ = ["SirenSB3VecEnv"]

# Methods of SirenEnv that do not touch episode state, so any env answers them.
_STATELESS_METHODS = frozenset({"encode", "decode", "render"})


class SirenSB3VecEnv(VecEnv):
    """`num_envs` Siren envs for SB3, stepped in C++ on `num_threads` threads.

    Args:
        num_envs: number of envs (>= 1).
        scenario, action_encoding, overrides, **kwargs: as for siren.envs.SirenEnv.
        num_threads: default min(num_envs, os.cpu_count()); results do not depend on it.

    get_attr / env_method answer from one SirenEnv built on the same scenario
    (the C++ envs have no Python objects): attributes and the stateless
    methods encode/decode are the same for every env; per-env values can be
    stored with set_attr and read back with get_attr.
    """

    def __init__(
        self,
        num_envs: int,
        scenario: ScenarioLike = "default",
        action_encoding: str = "box",
        num_threads: int | None = None,
        overrides: Overrides = None,
        **kwargs: Any,
    ) -> None:
        num_envs, num_threads = check_vector_size(num_envs, num_threads)
        self._template = SirenEnv(scenario, action_encoding, overrides, **kwargs)
        self._vector = _core.VectorEnv(self._template.scenario, num_envs, action_encoding, "same_step", int(num_threads))
        self._env_attrs: list[dict[str, Any]] = [{} for _ in range(num_envs)]
        self._rng = np.random.default_rng()

        self._buffers = StepBuffers(num_envs, same_step=True)
        self._actions: np.ndarray | None = None
        self._started = False
        super().__init__(num_envs, self._template.observation_space, self._template.action_space)

    @property
    def scenario(self) -> _core.Scenario:
        return self._template.scenario

    @property
    def num_threads(self) -> int:
        return self._vector.num_threads

    def encode(self, functions: int, memory_mb: int) -> np.ndarray:
        """One env's action for a fixed (functions, memory_mb)."""
        return self._template.encode(functions, memory_mb)

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seeds used at the next reset() (env i gets seed + i); also
        reseeds the generator that draws seeds for seedless resets."""
        seeds = super().seed(seed)
        self._rng = np.random.default_rng(seeds[0])
        return seeds

    def reset(self) -> np.ndarray:
        seeds = simulator_seeds(list(self._seeds), self.num_envs, self._rng)
        self._buffers.reset(self._vector, seeds)
        self._started = True
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return self._buffers.observations.copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = check_actions(actions, self.num_envs)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(actions)")
        actions, self._actions = self._actions, None
        if not self._started:
            raise gymnasium.error.ResetNeeded("step() before reset(): call reset()")
        buffers = self._buffers
        buffers.step(self._vector, actions)
        dones = buffers.terminated | buffers.truncated
        infos: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            info = info_row_to_dict(buffers.info[i])
            info["TimeLimit.truncated"] = bool(buffers.truncated[i] and not buffers.terminated[i])
            if buffers.has_final[i]:
                info["terminal_observation"] = buffers.final_observations[i].copy()
            infos.append(info)
        return buffers.observations.copy(), buffers.rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self._vector = None

    # --- attributes and methods of the "sub-envs" -------------------------

    def _attr(self, i: int, name: str) -> Any:
        if name in self._env_attrs[i]:
            return self._env_attrs[i][name]
        return getattr(self._template, name)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [self._attr(i, attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            self._env_attrs[i][attr_name] = value

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        if method_name not in _STATELESS_METHODS:
            raise NotImplementedError(
                f"env_method({method_name!r}): the envs live in C++; only {sorted(_STATELESS_METHODS)} "
                "can be called per env (use reset()/step() on the VecEnv)"
            )
        method = getattr(self._template, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gymnasium.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        # The C++ envs are never wrapped by a gymnasium.Wrapper.
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[Union[np.ndarray, None]]:
        return [None for _ in range(self.num_envs)]
