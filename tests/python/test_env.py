"""The Gymnasium env siren.envs.SirenEnv and its registration."""

from __future__ import annotations

import importlib
import math

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env

import siren
from siren import _core
from siren.envs import BOOL_INFO_NAMES, INFO_NAMES, INT_INFO_NAMES, OBSERVATION_NAMES, STATUS_NAMES, SirenEnv

from conftest import PRESETS

ENV_IDS = ["Siren-v0"] + [f"Siren-{name}-v0" for name in PRESETS]
ENCODINGS = ["box", "multi_discrete"]


def rollout(env: gymnasium.Env, seed: int, actions_seed: int, max_steps: int = 200) -> list[tuple]:
    """(obs bytes, reward, terminated, truncated, info) of one episode with
    actions sampled from a seeded action space."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(actions_seed)
    steps = [(obs.tobytes(), None, None, None, None)]
    for _ in range(max_steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps.append((obs.tobytes(), reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return steps


def test_registered_ids() -> None:
    registered = sorted(k for k in gymnasium.registry if k.startswith("Siren"))
    assert registered == sorted(ENV_IDS)
    for env_id in ENV_IDS:
        spec = gymnasium.spec(env_id)
        assert spec.entry_point == "siren.envs:SirenEnv"
        assert spec.vector_entry_point == "siren.vector:SirenVectorEnv"
        assert spec.max_episode_steps is None
    assert gymnasium.spec("Siren-lenet-mnist-v0").kwargs == {"scenario": "lenet-mnist"}


def test_registration_is_idempotent() -> None:
    # A second registration would warn ("Overriding environment"): an error here.
    importlib.reload(siren)
    assert sorted(k for k in gymnasium.registry if k.startswith("Siren")) == sorted(ENV_IDS)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_check_env(env_id: str, encoding: str) -> None:
    gym_check_env(gymnasium.make(env_id, action_encoding=encoding).unwrapped)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_sb3_check_env(env_id: str, encoding: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    sb3_check_env(gymnasium.make(env_id, action_encoding=encoding))


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_episode_types_and_bounds(env_id: str, encoding: str) -> None:
    # Through gymnasium.make: the passive env checker wrappers see every step too.
    env = gymnasium.make(env_id, action_encoding=encoding)
    space = env.observation_space
    obs, info = env.reset(seed=1)
    assert info == {}
    env.action_space.seed(1)
    steps = 0
    while True:
        assert obs.dtype == np.float32 and obs.shape == (12,) and obs.flags.c_contiguous
        assert obs in space
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert type(reward) is float and math.isfinite(reward)
        assert type(terminated) is bool and type(truncated) is bool
        assert list(info) == list(INFO_NAMES)
        for name, value in info.items():
            if name in INT_INFO_NAMES:
                assert type(value) is int, name
            elif name in BOOL_INFO_NAMES:
                assert type(value) is bool
            elif name == "status":
                assert value in STATUS_NAMES
            else:
                assert type(value) is float, name
        assert info["episode_length"] == steps
        if terminated or truncated:
            assert info["status"] != "running"
            assert terminated == (info["status"] in ("converged", "budget_exhausted"))
            assert truncated == (info["status"] == "epoch_limit")
            break
        assert info["status"] == "running"
    assert obs in space


def test_spaces() -> None:
    env = SirenEnv()
    assert env.observation_space.shape == (len(OBSERVATION_NAMES),) == (12,)
    assert env.observation_space.dtype == np.float32
    assert np.isfinite(env.observation_space.low).all() and np.isfinite(env.observation_space.high).all()
    assert env.action_space == gymnasium.spaces.Box(-1, 1, (2,), np.float32)
    md = SirenEnv(action_encoding="multi_discrete")
    core = _core.Env(md.scenario, "multi_discrete")
    assert isinstance(md.action_space, gymnasium.spaces.MultiDiscrete)
    assert md.action_space.nvec.tolist() == [core.function_bins, core.memory_bins]
    assert env.metadata == {"render_modes": []}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_same_seed_same_trajectory_bitwise(encoding: str) -> None:
    a = rollout(SirenEnv("default", encoding), seed=7, actions_seed=3)
    b = rollout(SirenEnv("default", encoding), seed=7, actions_seed=3)
    assert a == b  # obs bytes, rewards and infos compare exactly
    c = rollout(SirenEnv("default", encoding), seed=8, actions_seed=3)
    assert a != c


def test_seeding_only_through_np_random() -> None:
    # The simulator seed is int(np_random.integers(0, 2**63)) of np_random seeded with s.
    env = SirenEnv()
    action = env.encode(20, 2048)
    env.reset(seed=5)
    got = env.step(action)
    core = _core.Env(env.scenario, "box")
    core.reset(int(np.random.default_rng(5).integers(0, 2**63)))
    want = core.step(action)
    assert got[0].tobytes() == want[0].tobytes() and got[1] == want[1]
    # A seedless reset continues the stream: reproducible after reset(seed=s).
    env.reset(seed=5)
    env.reset()
    first = env.step(action)
    env.reset(seed=5)
    env.reset()
    assert env.step(action)[0].tobytes() == first[0].tobytes()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_encode_round_trip(encoding: str) -> None:
    env = SirenEnv("default", encoding)
    for functions, memory_mb in ((1, 3008), (20, 2048), (100, 1024), (1000, 512)):
        action = env.encode(functions, memory_mb)
        assert action in env.action_space
        decoded = env.decode(action)
        assert decoded["memory_mb"] == memory_mb
        assert abs(math.log(decoded["functions"] / functions)) < 0.1
    env.reset(seed=0)
    action = env.encode(20, 2048)
    info = env.step(action)[4]
    assert (info["functions"], info["memory_mb"], info["memory_clamped"]) == (env.decode(action)["functions"], 2048, False)
    if encoding == "box":  # the continuous encoding reaches every n
        assert info["functions"] == 20


def test_infeasible_memory_is_clamped_and_reported() -> None:
    env = SirenEnv("cnn-movie-reviews")  # needs 256 MB; the grid starts at 128
    env.reset(seed=0)
    info = env.step(np.array([0.0, -1.0], dtype=np.float32))[4]
    assert info["memory_clamped"] is True
    assert info["requested_memory_mb"] == 128
    assert info["memory_mb"] == env.scenario.min_feasible_memory_mb


def test_truncated_at_max_epochs() -> None:
    env = SirenEnv(job__max_epochs=2)
    env.reset(seed=0)
    action = env.encode(1, 3008)  # far too slow to converge in 2 epochs
    first = env.step(action)
    assert first[2:4] == (False, False)
    _, _, terminated, truncated, info = env.step(action)
    assert (terminated, truncated, info["status"]) == (False, True, "epoch_limit")


def test_overrides_in_every_form() -> None:
    want = siren.load_scenario("default", ["job.budget_usd=0.5", "job.max_epochs=7"]).to_yaml()
    forms = [
        SirenEnv(overrides={"job.budget_usd": 0.5, "job.max_epochs": 7}),
        SirenEnv(overrides=["job.budget_usd=0.5", "job.max_epochs=7"]),
        SirenEnv(job__budget_usd=0.5, job__max_epochs=7),
        SirenEnv(siren.load_scenario("default"), overrides={"job.budget_usd": 0.5}, job__max_epochs=7),
        gymnasium.make("Siren-v0", job__budget_usd=0.5, job__max_epochs=7).unwrapped,
    ]
    for env in forms:
        assert env.scenario.to_yaml() == want
    scenario = siren.load_scenario("lenet-mnist")
    assert SirenEnv(scenario).scenario is scenario


def test_scenario_from_yaml_path(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(siren.load_scenario("default", ["job.max_epochs=3"]).to_yaml())
    env = SirenEnv(str(path))
    assert env.scenario.max_epochs == 3
    assert SirenEnv(path).scenario.max_epochs == 3


# --- bad input ----------------------------------------------------------------


@pytest.mark.parametrize("bad", [[math.nan, 0.0], [0.0, math.inf], [-math.inf, 0.0]])
def test_non_finite_action(bad: list[float]) -> None:
    env = SirenEnv()
    env.reset(seed=0)
    coordinate = 0 if not math.isfinite(bad[0]) else 1
    with pytest.raises(siren.InvalidActionError, match=rf"action\[{coordinate}\]"):
        env.step(bad)
    # Nothing happened: the env still steps.
    assert env.step([0.0, 0.0])[4]["episode_length"] == 1


@pytest.mark.parametrize("bad", [[0.0], [0.0, 0.0, 0.0], [[0.0, 0.0]], 0.5])
def test_wrong_action_shape(bad) -> None:
    env = SirenEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action: expected shape \(2,\), got \("):
        env.step(bad)


@pytest.mark.parametrize("bad,coordinate", [([1.5, 0], 0), ([0, -1], 1), ([64, 0], 0), ([0, 10_000], 1)])
def test_bad_discrete_action(bad: list[float], coordinate: int) -> None:
    env = SirenEnv(action_encoding="multi_discrete")
    env.reset(seed=0)
    with pytest.raises(siren.InvalidActionError, match=rf"action\[{coordinate}\]"):
        env.step(bad)


def test_step_before_reset_and_after_end() -> None:
    env = SirenEnv(job__max_epochs=1)
    with pytest.raises(gymnasium.error.ResetNeeded, match="reset"):
        env.step([0.0, 0.0])
    env.reset(seed=0)
    assert env.step([0.0, 0.0])[3] is True
    with pytest.raises(gymnasium.error.ResetNeeded, match="ended"):
        env.step([0.0, 0.0])
    env.reset()
    env.step([0.0, 0.0])


def test_unknown_id() -> None:
    with pytest.raises(gymnasium.error.Error, match="Siren-nope"):
        gymnasium.make("Siren-nope-v0")


def test_unknown_scenario() -> None:
    with pytest.raises(siren.ScenarioError, match="no-such-preset"):
        SirenEnv("no-such-preset")
    with pytest.raises(TypeError, match="scenario"):
        SirenEnv(42)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"overrides": {"job.budget_usd": -1}}, "job.budget_usd"),
        ({"overrides": ["job.budget_usd=abc"]}, "job.budget_usd"),
        ({"job__no_such_field": 1}, "job.no_such_field"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_overrides_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(siren.ScenarioError, match=field) as error:
        SirenEnv(**kwargs)
    assert error.value.field == field
    with pytest.raises(siren.ScenarioError, match=field):
        gymnasium.make("Siren-v0", **kwargs)


def test_bad_override_types() -> None:
    with pytest.raises(TypeError, match="overrides"):
        SirenEnv(overrides="job.budget_usd=1")
    with pytest.raises(siren.ScenarioError, match="key=value"):
        SirenEnv(overrides=["job.budget_usd"])


def test_bad_encoding_and_render_mode() -> None:
    with pytest.raises(ValueError, match="action_encoding: got 'onehot'"):
        SirenEnv(action_encoding="onehot")
    with pytest.raises(ValueError, match="render_mode"):
        SirenEnv(render_mode="human")


def test_lazy_exports() -> None:
    assert siren.SirenEnv is SirenEnv
    with pytest.raises(AttributeError, match="no_such_name"):
        siren.no_such_name  # noqa: B018
