"""The Gymnasium environment over one simulated job (DESIGN.md §3).

`SirenEnv` is a thin Python shell around the C++ MDP `siren._core.Env`
(env/siren_env.h): the C++ side decodes the action, runs one epoch, computes
the observation, the reward and the end flags; this module adds the Gymnasium
API (spaces, seeding through `np_random`, Python types, the info dict).

    import gymnasium, siren
    env = gymnasium.make("Siren-v0", job__budget_usd=0.5)
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.unwrapped.encode(20, 2048))
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Union

import gymnasium
import numpy as np
from gymnasium import spaces

from siren import _core
from siren.epoch_fields import EPOCH_FIELDS, EPOCH_FIELDS_BY_NAME

__all__ = [
    "ACTION_ENCODINGS",
    "INFO_NAMES",
    "OBSERVATION_NAMES",
    "STATUS_NAMES",
    "SirenEnv",
    "info_row_to_dict",
    "resolve_scenario",
]

ScenarioLike = Union[str, "os.PathLike[str]", _core.Scenario]
Overrides = Union[Mapping[str, Any], Iterable[str], None]

ACTION_ENCODINGS = ("box", "multi_discrete")
OBSERVATION_NAMES: tuple[str, ...] = tuple(_core.observation_names())
INFO_NAMES: tuple[str, ...] = tuple(_core.info_names())
# The info column "status" holds the index of the job status's label in the
# epoch field table (env/step_info.h).
STATUS_NAMES: tuple[str, ...] = tuple(EPOCH_FIELDS_BY_NAME["status"]["labels"])
# Info columns that hold counts (exact integers stored as doubles) and flags:
# the env's own, and the epoch fields of type "int" that the info carries.
INT_INFO_NAMES = frozenset(
    {"functions", "memory_mb", "requested_memory_mb", "requested_functions", "episode_length"}
    | {field["info"] for field in EPOCH_FIELDS if field["info"] is not None and field["type"] == "int"}
)
BOOL_INFO_NAMES = frozenset({"memory_clamped", "budget_clamped"})
_STATUS_COLUMN = INFO_NAMES.index("status")
# Simulator seeds are drawn in [0, 2^63) from the env's np_random.
SEED_HIGH = 2**63


def _override_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def override_list(overrides: Overrides = None, kwargs: Mapping[str, Any] | None = None) -> list[str]:
    """`key=value` strings from a dict {"job.budget_usd": 0.5}, a list of
    "key=value" strings, and keyword arguments whose double underscores stand
    for dots (job__budget_usd=0.5 -> "job.budget_usd=0.5")."""
    out: list[str] = []
    if overrides is None:
        pass
    elif isinstance(overrides, Mapping):
        out.extend(f"{key}={_override_value(value)}" for key, value in overrides.items())
    elif isinstance(overrides, (str, bytes)):
        raise TypeError(
            f"overrides: expected a dict or a list of 'key=value' strings, got the string {overrides!r}"
        )
    else:
        for item in overrides:
            if not isinstance(item, str):
                raise TypeError(f"overrides: expected 'key=value' strings, got {item!r}")
            out.append(item)
    for key, value in (kwargs or {}).items():
        out.append(f"{key.replace('__', '.')}={_override_value(value)}")
    return out


def resolve_scenario(
    scenario: ScenarioLike = "default", overrides: Overrides = None, kwargs: Mapping[str, Any] | None = None
) -> _core.Scenario:
    """A scenario from a preset name, "default", a YAML path or a Scenario,
    with overrides applied. Raises siren.ScenarioError naming the field."""
    items = override_list(overrides, kwargs)
    if isinstance(scenario, _core.Scenario):
        if not items:
            return scenario
        return _core.parse_scenario(scenario.to_yaml(), items, f"<scenario {scenario.name}>")
    if isinstance(scenario, os.PathLike):
        scenario = os.fspath(scenario)
    if not isinstance(scenario, str):
        raise TypeError(
            f"scenario: expected a preset name, 'default', a YAML path or a siren.Scenario, "
            f"got {type(scenario).__name__}"
        )
    return _core.load_scenario(scenario, items)


def check_action_encoding(action_encoding: str) -> str:
    if action_encoding not in ACTION_ENCODINGS:
        raise ValueError(
            f"action_encoding: got {action_encoding!r}, expected one of {', '.join(map(repr, ACTION_ENCODINGS))}"
        )
    return action_encoding


def make_spaces(core_env: _core.Env) -> tuple[spaces.Box, spaces.Space]:
    """(observation_space, action_space) of one env."""
    observation_space = spaces.Box(
        low=np.asarray(core_env.observation_low, dtype=np.float32),
        high=np.asarray(core_env.observation_high, dtype=np.float32),
        shape=(_core.observation_size,),
        dtype=np.float32,
    )
    action_space: spaces.Space
    if core_env.action_encoding == "box":
        action_space = spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)
    else:
        action_space = spaces.MultiDiscrete(np.array([core_env.function_bins, core_env.memory_bins], dtype=np.int64))
    return observation_space, action_space


def encode_action(core_env: _core.Env, action_space: spaces.Space, functions: int, memory_mb: int) -> np.ndarray:
    """An element of `action_space` that decodes to the nearest (functions, memory_mb)."""
    values = core_env.encode(int(functions), int(memory_mb))
    if isinstance(action_space, spaces.MultiDiscrete):
        return np.rint(values).astype(action_space.dtype)
    return values.astype(np.float32)


def info_row_to_dict(row: Iterable[float]) -> dict[str, Any]:
    """One info row (env/step_info.h) as a dict of Python numbers: counts as
    int, memory_clamped and budget_clamped as bool, status as its name, the rest as float."""
    info: dict[str, Any] = dict(zip(INFO_NAMES, row.tolist() if isinstance(row, np.ndarray) else row))
    for name in INT_INFO_NAMES:
        info[name] = int(info[name])
    for name in BOOL_INFO_NAMES:
        info[name] = bool(info[name])
    info["status"] = STATUS_NAMES[int(info["status"])]
    return info


class SirenEnv(gymnasium.Env):
    """One SIREN MDP: an episode is one training job on Lambda + S3.

    Observation: Box(low, high, (12,), float32), the fields OBSERVATION_NAMES
    (env/observation.h). Action: Box(-1, 1, (2,), float32) ("box") or
    MultiDiscrete([function_bins, memory_bins]) ("multi_discrete"), decoded to
    (functions, memory) by env/action_codec.h. Reward: -env.reward_per_second
    x epoch seconds, plus env.success_bonus when the target loss is reached
    within budget, minus env.budget_penalty when the budget runs out
    (both `terminated`); `truncated` at job.max_epochs.

    Args:
        scenario: a preset name, "default", a YAML path or a siren.Scenario.
        action_encoding: "box" or "multi_discrete".
        overrides: {"job.budget_usd": 0.5} or ["job.budget_usd=0.5", ...].
        render_mode: must be None (nothing to render).
        **kwargs: more overrides, double underscores for dots
            (job__budget_usd=0.5); an unknown one raises siren.ScenarioError.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        scenario: ScenarioLike = "default",
        action_encoding: str = "box",
        overrides: Overrides = None,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode: got {render_mode!r}, expected None (SirenEnv does not render)")
        self.render_mode = render_mode
        self._scenario = resolve_scenario(scenario, overrides, kwargs)
        self._env = _core.Env(self._scenario, check_action_encoding(action_encoding))
        self.observation_space, self.action_space = make_spaces(self._env)
        self._action_shape = self.action_space.shape

    @property
    def scenario(self) -> _core.Scenario:
        """The (immutable) scenario this env simulates."""
        return self._scenario

    @property
    def action_encoding(self) -> str:
        return self._env.action_encoding

    def encode(self, functions: int, memory_mb: int) -> np.ndarray:
        """An action (in this env's action space) for a fixed (functions,
        memory_mb), rounded to the nearest feasible grid point."""
        return encode_action(self._env, self.action_space, functions, memory_mb)

    def decode(self, action: Any) -> dict[str, Any]:
        """What `action` would run: functions, memory_mb, requested_memory_mb, memory_clamped."""
        return self._env.decode(np.asarray(action, dtype=np.float64))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Starts a new job. The simulator seed is drawn from `np_random`, so
        reset(seed=s) is reproducible and later seedless resets continue the
        same stream."""
        super().reset(seed=seed)
        simulator_seed = int(self.np_random.integers(0, SEED_HIGH))
        return self._env.reset(simulator_seed), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Runs one epoch with `action`. Raises ValueError for a wrong shape,
        siren.InvalidActionError for NaN/inf or an invalid discrete index, and
        gymnasium.error.ResetNeeded before reset() or after the episode ended."""
        values = np.asarray(action, dtype=np.float64)
        if values.shape != self._action_shape:
            raise ValueError(f"action: expected shape {self._action_shape}, got {values.shape}")
        try:
            observation, reward, terminated, truncated, row = self._env.step(values)
        except RuntimeError as error:
            if self._env.needs_reset:
                raise gymnasium.error.ResetNeeded(str(error)) from error
            raise
        return observation, reward, terminated, truncated, info_row_to_dict(row)

    def render(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<SirenEnv scenario={self._scenario.name!r} action_encoding={self.action_encoding!r}>"
