"""The Gymnasium vector env siren.vector.SirenVectorEnv over the C++ VectorEnv."""

from __future__ import annotations

import os

import gymnasium
import numpy as np
import pytest
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import siren
from siren import _core
from siren.envs import INFO_NAMES, SirenEnv, info_row_to_dict
from siren.vector import SirenVectorEnv

from conftest import PRESETS

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP]


def random_actions(envs: SirenVectorEnv, steps: int, seed: int) -> list[np.ndarray]:
    envs.action_space.seed(seed)
    return [envs.action_space.sample() for _ in range(steps)]


def first_seed(seed: int) -> int:
    """The simulator seed of SirenEnv.reset(seed=seed)."""
    return int(np.random.default_rng(seed).integers(0, 2**63))


def test_seed_derivation_matches_gymnasium() -> None:
    for s in (0, 1, 42, 2**40 + 3):
        assert seeding.np_random(s)[0].integers(0, 2**63) == first_seed(s)


@pytest.mark.parametrize("env_id", ["Siren-v0"] + [f"Siren-{p}-v0" for p in PRESETS])
def test_make_vec_vector_entry_point(env_id: str) -> None:
    envs = gymnasium.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(envs.unwrapped, SirenVectorEnv)
    assert envs.num_envs == 3
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    obs, infos = envs.reset(seed=0)
    assert obs.shape == (3, 12) and obs in envs.observation_space and infos == {}
    obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
    assert obs in envs.observation_space
    assert rewards.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
    envs.close()
    # Default vectorization mode is the vector entry point too; kwargs pass through.
    envs = gymnasium.make_vec(env_id, num_envs=2, action_encoding="multi_discrete",
                              autoreset_mode="same_step", job__max_epochs=5)  # fmt: skip
    assert isinstance(envs.unwrapped, SirenVectorEnv)
    assert envs.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    assert envs.unwrapped.scenario.max_epochs == 5
    assert isinstance(envs.single_action_space, gymnasium.spaces.MultiDiscrete)
    # Gymnasium's own vectorisation over the entry point works too.
    sync = gymnasium.make_vec(env_id, num_envs=2, vectorization_mode="sync")
    assert isinstance(sync, SyncVectorEnv)
    sync.reset(seed=0)
    sync.step(sync.action_space.sample())


def test_spaces() -> None:
    envs = SirenVectorEnv(4)
    single = SirenEnv()
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    assert envs.observation_space.shape == (4, 12) and envs.action_space.shape == (4, 2)
    assert envs.num_threads == min(4, os.cpu_count())


@pytest.mark.parametrize("encoding", ["box", "multi_discrete"])
@pytest.mark.parametrize("mode", MODES)
def test_matches_sync_vector_env_in_first_episode(mode: AutoresetMode, encoding: str) -> None:
    """Same observations, rewards, flags and info layout (keys, masks, dtypes)
    as Gymnasium's SyncVectorEnv over SirenEnvs, up to the first auto-reset
    (whose seed differs by design)."""
    n = 3
    ours = SirenVectorEnv(n, action_encoding=encoding, autoreset_mode=mode)
    theirs = SyncVectorEnv([lambda: SirenEnv(action_encoding=encoding) for _ in range(n)], autoreset_mode=mode)
    a, b = ours.reset(seed=11), theirs.reset(seed=11)
    assert a[0].tobytes() == b[0].tobytes() and a[1] == b[1] == {}
    for actions in random_actions(ours, 40, seed=2):
        x, y = ours.step(actions), theirs.step(actions)
        for got, want in zip(x[:4], y[:4]):
            assert got.dtype == want.dtype and got.shape == want.shape
            assert got.tobytes() == want.tobytes()
        assert sorted(x[4]) == sorted(y[4])
        for key, want in y[4].items():
            got = x[4][key]
            if key == "final_obs":
                assert [v is None for v in got] == [v is None for v in want]
                for i in np.flatnonzero(x[4]["_final_obs"]):
                    assert got[i].tobytes() == want[i].tobytes()
            elif key == "final_info":
                assert sorted(got) == sorted(want)
                for k, v in want.items():
                    assert got[k].dtype == v.dtype and (got[k] == v).all(), k
            else:
                assert got.dtype == want.dtype, key
                assert (got == want).all(), key
        if (x[2] | x[3]).any():
            break  # later episodes are seeded differently by design
    else:
        pytest.fail("no episode ended")


@pytest.mark.parametrize("mode", MODES)
def test_matches_single_envs_across_auto_reset(mode: AutoresetMode) -> None:
    """Env i equals SirenEnv.reset(seed=s+i) in its first episode, and a core
    Env reset with episode_seed(first seed, k) in its k-th auto-reset one."""
    n, s, steps = 3, 100, 40
    envs = SirenVectorEnv(n, autoreset_mode=mode, job__max_epochs=6)
    actions = random_actions(envs, steps, seed=5)
    obs, _ = envs.reset(seed=s)
    history = [envs.step(a) for a in actions]

    for i in range(n):
        single = SirenEnv(envs.scenario)
        expect_obs, _ = single.reset(seed=s + i)
        assert obs[i].tobytes() == expect_obs.tobytes()
        core, episode, pending_reset = None, 0, False
        for t, (a, (o, r, te, tr, infos)) in enumerate(zip(actions, history)):
            if pending_reset:  # NEXT_STEP: this step only resets
                episode += 1
                core = _core.Env(envs.scenario, "box")
                want = core.reset(_core.episode_seed(first_seed(s + i), episode))
                assert o[i].tobytes() == want.tobytes() and r[i] == 0.0 and not te[i] and not tr[i]
                assert not infos.get("_functions", np.zeros(n, bool))[i]
                pending_reset = False
                continue
            if core is None:
                want = single.step(a[i])
            else:
                want_obs, want_r, want_te, want_tr, row = core.step(a[i])
                want = (want_obs, want_r, want_te, want_tr, info_row_to_dict(row))
            assert (r[i], bool(te[i]), bool(tr[i])) == (want[1], want[2], want[3]), (i, t)
            done = want[2] or want[3]
            if done and mode is AutoresetMode.SAME_STEP:
                assert infos["final_obs"][i].tobytes() == want[0].tobytes()
                step_info = {k: infos["final_info"][k][i] for k in INFO_NAMES}
                episode += 1
                core = _core.Env(envs.scenario, "box")
                assert o[i].tobytes() == core.reset(_core.episode_seed(first_seed(s + i), episode)).tobytes()
            else:
                assert o[i].tobytes() == want[0].tobytes(), (i, t)
                step_info = {k: infos[k][i] for k in INFO_NAMES}
            assert step_info == want[4]
            pending_reset = done and mode is AutoresetMode.NEXT_STEP
        assert episode >= 2  # the test crossed auto-resets


@pytest.mark.parametrize("mode", MODES)
def test_thread_count_does_not_change_results(mode: AutoresetMode) -> None:
    def run(threads: int) -> list[bytes]:
        envs = SirenVectorEnv(8, autoreset_mode=mode, num_threads=threads, job__max_epochs=10)
        obs, _ = envs.reset(seed=3)
        out = [obs.tobytes()]
        for actions in random_actions(envs, 25, seed=9):
            o, r, te, tr, infos = envs.step(actions)
            out += [o.tobytes(), r.tobytes(), te.tobytes(), tr.tobytes(), info_bytes(infos)]
        return out

    def info_bytes(infos: dict) -> bytes:
        parts = []
        for key in sorted(infos):
            value = infos[key]
            if isinstance(value, dict):
                parts.append(info_bytes(value))
            elif value.dtype == object:  # status names, final_obs arrays
                parts.append(repr([v.tobytes() if isinstance(v, np.ndarray) else v for v in value]).encode())
            else:
                parts.append(value.tobytes())
        return b"|".join(parts)

    one = run(1)
    assert run(2) == one
    assert run(4) == one


def test_seeds_int_list_and_none() -> None:
    envs = SirenVectorEnv(3)
    action = np.tile(envs.encode(20, 2048), (3, 1))
    envs.reset(seed=4)
    by_int = envs.step(action)[0]
    envs.reset(seed=[4, 5, 6])
    assert envs.step(action)[0].tobytes() == by_int.tobytes()
    envs.reset(seed=[4, None, 6])
    mixed = envs.step(action)[0]
    assert mixed[0].tobytes() == by_int[0].tobytes() and mixed[2].tobytes() == by_int[2].tobytes()
    envs.reset()
    a = envs.step(action)[0]
    envs.reset()
    assert envs.step(action)[0].tobytes() != a.tobytes()
    with pytest.raises(ValueError, match="seed: a list of seeds needs num_envs=3 entries, got 2"):
        envs.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="seed: entry 1"):
        envs.reset(seed=[1, -2, 3])


def test_copy_false_returns_the_buffers() -> None:
    envs = SirenVectorEnv(2, copy=False)
    obs0, _ = envs.reset(seed=0)
    action = np.tile(envs.encode(20, 2048), (2, 1))
    first = envs.step(action)
    second = envs.step(action)
    for a, b in zip(first[:4], second[:4]):
        assert a is b
    assert obs0 is first[0]
    copied = SirenVectorEnv(2, copy=True)
    copied.reset(seed=0)
    x, y = copied.step(action), copied.step(action)
    for a, b in zip(x[:4], y[:4]):
        assert a is not b


def test_same_step_final_obs_and_info() -> None:
    envs = SirenVectorEnv(4, autoreset_mode="same_step", job__max_epochs=3)
    envs.reset(seed=0)
    action = np.tile(envs.encode(1, 3008), (4, 1))  # never converges in 3 epochs
    for _ in range(2):
        infos = envs.step(action)[4]
        assert "final_obs" not in infos and infos["_functions"].all()
    obs, rewards, terminated, truncated, infos = envs.step(action)
    assert truncated.all() and not terminated.any()
    assert infos["_final_obs"].all() and infos["_final_info"].all()
    for i in range(4):
        assert infos["final_obs"][i].dtype == np.float32 and infos["final_obs"][i] in envs.single_observation_space
        assert infos["final_obs"][i][0] == 1.0  # epoch_fraction 3/3
        assert obs[i][0] == 0.0  # the new episode's first observation
    assert (infos["final_info"]["status"] == "epoch_limit").all()
    assert (infos["final_info"]["episode_length"] == 3).all()
    assert "functions" not in infos  # the ended envs' step info is in final_info only


def test_next_step_reset_step() -> None:
    envs = SirenVectorEnv(2, job__max_epochs=1)
    envs.reset(seed=0)
    action = np.tile(envs.encode(20, 2048), (2, 1))
    _, _, _, truncated, infos = envs.step(action)
    assert truncated.all() and infos["_status"].all()
    obs, rewards, terminated, truncated, infos = envs.step(action)
    assert (rewards == 0).all() and not terminated.any() and not truncated.any()
    assert infos == {} and (obs[:, 0] == 0).all()


@pytest.mark.parametrize("mode", ["next_step", "NextStep", AutoresetMode.SAME_STEP, "same_step"])
def test_autoreset_mode_forms(mode) -> None:
    envs = SirenVectorEnv(1, autoreset_mode=mode)
    assert isinstance(envs.metadata["autoreset_mode"], AutoresetMode)


# --- bad input ----------------------------------------------------------------


def test_bad_actions() -> None:
    envs = SirenVectorEnv(3)
    with pytest.raises(gymnasium.error.ResetNeeded, match="reset"):
        envs.step(np.zeros((3, 2)))
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions: expected shape \(3, 2\), got \(2, 2\)"):
        envs.step(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"actions: expected shape \(3, 2\), got \(6,\)"):
        envs.step(np.zeros(6))
    bad = np.zeros((3, 2))
    bad[1, 1] = np.nan
    with pytest.raises(siren.InvalidActionError, match=r"env 1: action\[1\]"):
        envs.step(bad)
    # No env was stepped: all still at epoch 0 of their episode.
    infos = envs.step(np.zeros((3, 2)))[4]
    assert (infos["episode_length"] == 1).all()
    md = SirenVectorEnv(2, action_encoding="multi_discrete")
    md.reset(seed=0)
    with pytest.raises(siren.InvalidActionError, match=r"env 0: action\[0\]"):
        md.step(np.array([[0.5, 0], [0, 0]]))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"num_envs": 0}, ValueError, "num_envs"),
        ({"num_envs": 2, "num_threads": 0}, ValueError, "num_threads"),
        ({"num_envs": 2, "autoreset_mode": AutoresetMode.DISABLED}, ValueError, "DISABLED"),
        ({"num_envs": 2, "autoreset_mode": "whenever"}, ValueError, "autoreset_mode: got 'whenever'"),
        ({"num_envs": 2, "action_encoding": "onehot"}, ValueError, "action_encoding"),
        ({"num_envs": 2, "scenario": "no-such-preset"}, siren.ScenarioError, "no-such-preset"),
        ({"num_envs": 2, "job__bogus": 1}, siren.ScenarioError, "job.bogus"),
    ],
)
def test_bad_construction(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        SirenVectorEnv(**kwargs)
