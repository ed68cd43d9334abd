"""The Stable-Baselines3 adapter siren.sb3.SirenSB3VecEnv."""

from __future__ import annotations

import subprocess
import sys

import gymnasium
import numpy as np
import pytest

import siren
from siren.envs import INFO_NAMES
from siren.sb3 import SirenSB3VecEnv
from siren.vector import SirenVectorEnv


def test_reset_and_step_types() -> None:
    venv = SirenSB3VecEnv(3, job__max_epochs=2)
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (3, 12) and obs.dtype == np.float32
    assert venv.reset_infos == [{}, {}, {}]
    action = np.tile(venv.encode(1, 3008), (3, 1))
    obs, rewards, dones, infos = venv.step(action)
    assert rewards.dtype == np.float32 and dones.dtype == np.bool_ and not dones.any()
    assert len(infos) == 3 and all(set(INFO_NAMES) <= set(info) for info in infos)
    assert all(info["TimeLimit.truncated"] is False and "terminal_observation" not in info for info in infos)
    obs, rewards, dones, infos = venv.step(action)  # epoch limit: truncated
    assert dones.all()
    for i, info in enumerate(infos):
        assert info["TimeLimit.truncated"] is True
        terminal = info["terminal_observation"]
        assert terminal.dtype == np.float32 and terminal[0] == 1.0
        assert obs[i][0] == 0.0  # already the next episode's first observation
    venv.close()


def test_matches_the_gymnasium_vector_env() -> None:
    venv = SirenSB3VecEnv(4, job__max_epochs=8)
    genv = SirenVectorEnv(4, autoreset_mode="same_step", job__max_epochs=8)
    venv.seed(21)
    a, b = venv.reset(), genv.reset(seed=21)[0]
    assert a.tobytes() == b.tobytes()
    genv.action_space.seed(0)
    for _ in range(20):
        actions = genv.action_space.sample()
        obs, rewards, dones, infos = venv.step(actions)
        g_obs, g_rewards, g_term, g_trunc, g_infos = genv.step(actions)
        assert obs.tobytes() == g_obs.tobytes()
        assert (rewards == g_rewards.astype(np.float32)).all()
        assert (dones == (g_term | g_trunc)).all()
        for i in np.flatnonzero(dones):
            assert infos[i]["terminal_observation"].tobytes() == g_infos["final_obs"][i].tobytes()


def test_seeds_and_attributes() -> None:
    venv = SirenSB3VecEnv(2)
    assert venv.seed(5) == [5, 6]
    first = venv.reset()
    venv.seed(5)
    assert venv.reset().tobytes() == first.tobytes()
    assert venv.get_attr("render_mode") == [None, None]
    assert venv.get_attr("scenario")[0].name == siren.default_preset_name()
    venv.set_attr("tag", "x", indices=[1])
    assert venv.get_attr("tag", indices=1) == ["x"]
    with pytest.raises(AttributeError):
        venv.get_attr("tag", indices=0)
    encoded = venv.env_method("encode", 20, 2048)
    assert len(encoded) == 2 and (encoded[0] == venv.encode(20, 2048)).all()
    with pytest.raises(NotImplementedError, match="step"):
        venv.env_method("step", np.zeros(2))
    assert venv.env_is_wrapped(gymnasium.Wrapper) == [False, False]


def test_bad_input() -> None:
    venv = SirenSB3VecEnv(2)
    with pytest.raises(gymnasium.error.ResetNeeded):
        venv.step(np.zeros((2, 2)))
    venv.reset()
    with pytest.raises(ValueError, match=r"actions: expected shape \(2, 2\), got \(2,\)"):
        venv.step(np.zeros(2))
    with pytest.raises(siren.InvalidActionError, match=r"env 0: action\[0\]"):
        venv.step(np.array([[np.inf, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="num_envs"):
        SirenSB3VecEnv(0)
    with pytest.raises(siren.ScenarioError, match="job.bogus"):
        SirenSB3VecEnv(2, job__bogus=1)


@pytest.mark.parametrize("encoding", ["box", "multi_discrete"])
def test_ppo_runs_2000_steps(encoding: str) -> None:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    torch.set_num_threads(1)
    venv = VecMonitor(SirenSB3VecEnv(4, action_encoding=encoding))
    model = PPO("MlpPolicy", venv, n_steps=128, batch_size=128, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=2000)
    assert model.num_timesteps >= 2000
    assert len(model.ep_info_buffer) > 0  # VecMonitor saw whole episodes
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (4, 2)


def test_siren_imports_without_sb3_and_torch() -> None:
    code = (
        "import sys; sys.modules['stable_baselines3'] = None; sys.modules['torch'] = None\n"
        "import gymnasium, siren, siren.envs, siren.vector\n"
        "env = gymnasium.make('Siren-v0'); env.reset(seed=0)\n"
        "assert 'stable_baselines3' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
