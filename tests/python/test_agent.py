"""The libtorch scheduler end to end: siren train / export / evaluate, exact
resume, and the exported policy giving the same actions in C++ (siren-agent
act, torch::jit::load) and in Python (torch.jit.load)."""

from __future__ import annotations

import json
import subprocess

import h5py
import numpy as np
import pytest
import torch

from siren import _core
from siren.policy import agent_path, evaluate_policy, load_policy

from conftest import run_cli

# A small anchor search and safeguard (the defaults search on 8 seeds).
TRAIN = ("train", "--iterations", "4", "--envs", "4", "--checkpoint-every", "2", "--quiet",
         "--tuning-seeds", "2", "--validation-seeds", "4",
         "job.max_epochs=12")
LEARNING_FIELDS = ("iteration", "mean_return", "mean_jct_s", "mean_cost_usd", "success_rate",
                   "entropy", "env_steps")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = run_cli(*TRAIN, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_train_writes_log_checkpoint_and_policy(trained) -> None:
    with h5py.File(trained / "log.h5") as log:
        for field in LEARNING_FIELDS + ("env_steps_per_s", "wall_s"):
            assert log[field].shape == (4,), field
        assert log.attrs["algorithm"] == b"ppo" or log.attrs["algorithm"] == "ppo"
        assert np.all(log["success_rate"][:] >= 0)
    assert (trained / "checkpoint.pt").exists() and (trained / "policy.pt").exists()


def test_policy_gives_the_same_actions_in_python_and_cpp(trained) -> None:
    policy, metadata = load_policy(trained / "policy.pt")
    assert metadata["action_encoding"] == "box"
    assert metadata["observation_names"] == _core.observation_names()
    observations = np.random.default_rng(0).random((64, _core.observation_size), dtype=np.float32)
    observations[:, 1] *= 3  # Losses above the initial one, too.
    python_actions = policy(torch.from_numpy(observations)).numpy()
    proc = subprocess.run([str(agent_path()), "act", "--policy", str(trained / "policy.pt")],
                          input=observations.tobytes(), capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cpp_actions = np.frombuffer(proc.stdout, dtype=np.float32).reshape(64, 2)
    np.testing.assert_array_equal(cpp_actions, python_actions)
    assert np.all(np.abs(python_actions) <= 1)


def test_killed_and_resumed_run_ends_with_the_same_numbers(cli, tmp_path, trained) -> None:
    assert cli(*TRAIN, "--out", "killed", "--stop-after", "3").returncode == 0
    resumed = cli(*TRAIN, "--out", "killed", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    with h5py.File(trained / "log.h5") as a, h5py.File(tmp_path / "killed" / "log.h5") as b:
        for field in LEARNING_FIELDS:
            np.testing.assert_array_equal(a[field][:], b[field][:], err_msg=field)
    probe = torch.rand(8, _core.observation_size, generator=torch.Generator().manual_seed(1))
    first, _ = load_policy(trained / "policy.pt")
    second, _ = load_policy(tmp_path / "killed" / "policy.pt")
    assert torch.equal(first(probe), second(probe))


def test_export_and_onnx(cli, tmp_path, trained) -> None:
    onnx = pytest.importorskip("onnx", reason="the onnx extra is installed by scripts/setup.sh")
    from onnx.reference import ReferenceEvaluator

    proc = cli("export", "--checkpoint", str(trained / "checkpoint.pt"), "--out", "again.pt",
               "--onnx", "policy.onnx")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    scripted, _ = load_policy(tmp_path / "again.pt")
    original, _ = load_policy(trained / "policy.pt")
    x = torch.rand(5, _core.observation_size, generator=torch.Generator().manual_seed(2))
    assert torch.equal(scripted(x), original(x))
    onnx_actions = ReferenceEvaluator(onnx.load(tmp_path / "policy.onnx")).run(
        None, {"observation": x.numpy()})[0]
    np.testing.assert_allclose(onnx_actions, original(x).numpy(), atol=1e-5)


def test_evaluate_writes_the_comparison_table(cli, tmp_path, trained) -> None:
    proc = cli("evaluate", "--policy", str(trained / "policy.pt"), "--budgets", "0.2,0.3",
               "--seeds", "2", "--tuning-seeds", "2", "--oracle-ratio", "2", "--oracle-coarse-memory", "4",
               "--json", "table.json", "job.max_epochs=12")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = json.loads((tmp_path / "table.json").read_text())
    methods = {(row["method"], row["budget_usd"]) for row in table["rows"]}
    for budget in (0.2, 0.3):
        assert {("policy", budget), ("GS", budget), ("oracle static", budget), ("hand", budget)} <= methods
    for row in table["rows"]:
        assert {"mean_jct_s", "mean_cost_usd", "success_rate", "over_budget", "improvement_vs_gs_pct",
                "comparison_vs_gs", "improvement_vs_oracle_pct", "comparison_vs_oracle"} <= row.keys()
        assert 0 <= row["success_rate"] <= 1
    searches = table["oracle_static"]["searches"]
    assert [search["budget_usd"] for search in searches] == [0.2, 0.3]
    assert table["oracle_static"]["seeds"] == [0, 1] and all(search["local_optimum"] for search in searches)


def test_evaluate_policy_matches_a_manual_rollout(trained) -> None:
    policy, metadata = load_policy(trained / "policy.pt")
    scenario = _core.parse_scenario(metadata["scenario_yaml"])
    result = evaluate_policy(policy, scenario, [5])
    env = _core.Env(scenario, "box")
    observation, done, steps = env.reset(5), False, 0
    while not done:
        action = policy(torch.from_numpy(observation[None]))[0].numpy().astype(np.float64)
        observation, _, terminated, truncated, info = env.step(action)
        done, steps = terminated or truncated, steps + 1
    assert result["mean_jct_s"] == info[_core.info_names().index("cumulative_time_s")]


def test_bad_input_is_a_clear_error(cli, tmp_path) -> None:
    proc = cli("evaluate", "--policy", "missing.pt")
    assert proc.returncode == 2 and "--policy" in proc.stderr
    proc = cli("train", "--algorithm", "dqn")
    assert proc.returncode == 2 and "algorithm" in proc.stderr
    proc = cli("export", "--checkpoint", "nothing.pt", "--out", "x.pt")
    assert proc.returncode == 2 and "checkpoint" in proc.stderr
