"""The budget clamp (env.action_clamp=budget): the search through
``_core.clamp_to_budget``, the simulated env (a clamped action is affordable
by the guard's projection, an affordable one is unchanged, the always-ones
policy never overspends, determinism) and the runner's real env, which clamps
with its own guard's test and says so in the trace and on the command line.
"""

from __future__ import annotations

import json
import uuid
import warnings

import numpy as np
import pytest

import siren
from siren import _core
from siren.envs import INFO_NAMES, SirenEnv

torch = pytest.importorskip("torch")

COLUMN = {name: i for i, name in enumerate(INFO_NAMES)}
BUDGETS = (0.15, 0.25, 0.40)
LARGEST = np.array([1.0, 1.0])  # The Box corner: the most functions at the most memory.


def _scenario(clamp: str, budget: float, preset: str = "default") -> _core.Scenario:
    return _core.load_scenario(preset, [f"env.action_clamp={clamp}", f"job.budget_usd={budget}"])


# --- the search --------------------------------------------------------------

def test_clamp_to_budget_keeps_memory_and_finds_the_most_affordable_functions() -> None:
    scenario = _core.load_scenario("default")
    calls: list[tuple[int, int]] = []

    def affordable(functions: int, memory_mb: int) -> bool:
        calls.append((functions, memory_mb))
        return functions * memory_mb <= 40 * 2048

    out = _core.clamp_to_budget(scenario, 100, 2048, affordable)
    assert out == {"functions": 40, "memory_mb": 2048, "clamped": True, "affordable": True, "checks": len(calls)}
    assert all(memory == 2048 for _, memory in calls) and len(calls) <= 2 + 7
    calls.clear()
    assert _core.clamp_to_budget(scenario, 40, 2048, affordable) == {
        "functions": 40, "memory_mb": 2048, "clamped": False, "affordable": True, "checks": 1}


def test_clamp_to_budget_falls_back_to_a_smaller_memory_or_gives_up() -> None:
    scenario = _core.load_scenario("default")
    out = _core.clamp_to_budget(scenario, 10, 2048, lambda n, m: m <= 1024)
    assert (out["functions"], out["memory_mb"], out["clamped"]) == (10, 1024, True)
    out = _core.clamp_to_budget(scenario, 10, 2048, lambda n, m: False)
    assert (out["functions"], out["memory_mb"], out["clamped"], out["affordable"]) == (10, 2048, False, False)
    # Never below min_functions (default: the scenario's env.min_functions).
    out = _core.clamp_to_budget(scenario, 10, 2048, lambda n, m: n <= 2, min_functions=3)
    assert not out["affordable"] and out["functions"] == 10


def test_clamp_to_budget_refuses_bad_input_and_passes_the_callers_errors_on() -> None:
    scenario = _core.load_scenario("default")
    with pytest.raises(ValueError, match="functions: must be >= 1, got 0"):
        _core.clamp_to_budget(scenario, 0, 2048, lambda n, m: True)
    with pytest.raises(ValueError, match="memory_mb"):
        _core.clamp_to_budget(scenario, 4, 100, lambda n, m: True)
    with pytest.raises(ValueError, match="min_functions: must be >= 1, got 0"):
        _core.clamp_to_budget(scenario, 4, 2048, lambda n, m: True, min_functions=0)
    with pytest.raises(ZeroDivisionError):
        _core.clamp_to_budget(scenario, 4, 2048, lambda n, m: 1 / 0)


# --- the simulated env -------------------------------------------------------

def _always_largest(clamp: str, budget: float, seed: int) -> list[np.ndarray]:
    """The info rows of one episode of the always-largest action; beside it a
    twin Simulation fed the actions that ran checks that each clamped one
    was affordable by the guard's projection before its epoch."""
    scenario = _scenario(clamp, budget)
    env = _core.Env(scenario, "box")
    twin = _core.Simulation(scenario, seed)
    env.reset(seed)
    rows = []
    while True:
        left = budget - twin.cost_usd
        _, _, terminated, truncated, info = env.step(LARGEST)
        functions, memory_mb = int(info[COLUMN["functions"]]), int(info[COLUMN["memory_mb"]])
        if info[COLUMN["budget_clamped"]]:
            assert twin.project_epoch_cost(functions, memory_mb)["bound_usd"] <= left
        record = twin.run_epoch(functions, memory_mb)
        assert record["cumulative_cost_usd"] == info[COLUMN["cumulative_cost_usd"]]
        rows.append(info)
        if terminated or truncated:
            return rows


@pytest.mark.parametrize("budget", BUDGETS)
def test_the_always_largest_action_never_overspends(budget: float) -> None:
    for seed in (1_000_000, 1_000_001):
        without = _always_largest("none", budget, seed)
        with_clamp = _always_largest("budget", budget, seed)
        assert not any(row[COLUMN["budget_clamped"]] for row in without)
        for row in with_clamp:
            assert row[COLUMN["requested_functions"]] == 1000
            assert row[COLUMN["cumulative_cost_usd"]] <= budget
            assert row[COLUMN["budget_clamped"]] == (row[COLUMN["functions"]] < 1000
                                                     or row[COLUMN["memory_mb"]] < 3008)
        # The guard ends the unclamped job before an epoch it cannot pay.
        assert without[-1][COLUMN["status"]] == siren.envs.STATUS_NAMES.index("budget_exhausted")
        assert len(with_clamp) >= len(without)


def test_the_clamp_runs_a_last_epoch_at_a_smaller_memory() -> None:
    """An epoch costs about the same whatever n (the same batches), less at a
    smaller memory ($0.010 at 192 MB, $0.019-0.021 at 3008 MB on the default
    preset): a budget that leaves $0.015 for the sixth epoch refuses it
    unclamped and pays it clamped."""
    seed, paid = 1_000_000, 5
    env = _core.Env(_scenario("none", 10.0), "box")
    env.reset(seed)
    for _ in range(paid):
        info = env.step(LARGEST)[-1]
    budget = info[COLUMN["cumulative_cost_usd"]] + 0.015
    without = _always_largest("none", budget, seed)
    with_clamp = _always_largest("budget", budget, seed)
    assert len(without) == paid + 1 and without[-1][COLUMN["epoch_cost_usd"]] == 0
    clamped = [epoch for epoch, row in enumerate(with_clamp) if row[COLUMN["budget_clamped"]]]
    assert clamped and clamped[0] == paid and with_clamp[paid][COLUMN["memory_mb"]] < 3008
    assert with_clamp[-1][COLUMN["cumulative_cost_usd"]] > without[-1][COLUMN["cumulative_cost_usd"]]
    assert with_clamp[-1][COLUMN["cumulative_cost_usd"]] <= budget


def test_an_affordable_action_is_unchanged() -> None:
    """Far from the budget's end the clamp changes nothing, bit for bit."""
    runs = []
    for clamp in ("none", "budget"):
        env = SirenEnv(_scenario(clamp, 50.0))
        env.reset(seed=7)
        rows = []
        for step in range(6):
            _, _, terminated, truncated, info = env.step(env.encode(20 + 10 * step, 2048))
            assert info["budget_clamped"] is False and info["requested_functions"] == info["functions"]
            rows.append(info)
            if terminated or truncated:
                break
        runs.append(rows)
    assert runs[0] == runs[1]


def _ones_policy(tmp_path, scenario: _core.Scenario):
    class AlwaysOnes(torch.nn.Module):
        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return torch.ones(obs.shape[0], 2)

    metadata = {"format": "siren-policy-1", "scenario_yaml": scenario.to_yaml(), "action_encoding": "box",
                "observation_names": _core.observation_names()}
    path = tmp_path / "ones.pt"
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; Siren's policies are TorchScript.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(AlwaysOnes()), str(path), _extra_files={"siren.json": json.dumps(metadata)})
    return path


@pytest.mark.parametrize("budget", BUDGETS)
def test_the_always_ones_policy_never_overspends_with_the_clamp(tmp_path, budget: float) -> None:
    from siren.policy import evaluate_policy, load_policy

    policy, _ = load_policy(_ones_policy(tmp_path, _scenario("budget", budget)))
    seeds = list(range(1_000_000, 1_000_004))
    clamped = evaluate_policy(policy, _scenario("budget", budget), seeds)
    unclamped = evaluate_policy(policy, _scenario("none", budget), seeds)
    assert clamped["over_budget"] == 0 and clamped["mean_cost_usd"] <= budget
    assert unclamped["over_budget"] == 0 and unclamped["success_rate"] == 0.0
    # Clamped, it spends at least what the guard lets it spend unclamped.
    assert clamped["mean_cost_usd"] >= unclamped["mean_cost_usd"]
    # Deterministic: the same seeds give the same outcome.
    assert evaluate_policy(policy, _scenario("budget", budget), seeds) == clamped


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_vector_env_clamps_as_the_single_env_whatever_its_threads(threads: int) -> None:
    scenario = _scenario("budget", 0.12)
    n, steps = 6, 12
    vec = _core.VectorEnv(scenario, n, "box", "next_step", threads)
    obs = np.zeros((n, _core.observation_size), np.float32)
    rewards, info = np.zeros(n), np.zeros((n, len(INFO_NAMES)))
    terminated, truncated, valid = (np.zeros(n, np.bool_) for _ in range(3))
    seeds = np.arange(50, 50 + n, dtype=np.uint64)
    vec.reset(seeds, obs)
    singles = [_core.Env(scenario, "box") for _ in range(n)]
    for env, seed in zip(singles, seeds):
        env.reset(int(seed))
    done = [False] * n
    clamped = 0
    for step in range(steps):
        actions = np.array([[1.0 - 0.1 * ((i + step) % 5), 1.0 - 0.2 * ((2 * i + step) % 4)] for i in range(n)])
        vec.step(actions, obs, rewards, terminated, truncated, info, valid)
        for i in range(n):
            if done[i]:
                continue
            observation, reward, term, trunc, row = singles[i].step(actions[i])
            assert valid[i] and reward == rewards[i] and (term, trunc) == (terminated[i], truncated[i])
            np.testing.assert_array_equal(observation, obs[i])
            np.testing.assert_array_equal(row, info[i])
            clamped += int(row[COLUMN["budget_clamped"]])
            done[i] = term or trunc
    assert clamped > 0


# --- the runner --------------------------------------------------------------

@pytest.mark.slow
def test_the_runner_clamps_with_its_guard_and_traces_it(server, dataset) -> None:
    from siren.runner.job import RealJob
    from siren.runner.local import LocalLambda

    preset = "softmax-digits"
    largest = _core.load_scenario(preset).memory_grid()[-1]
    # The first epoch's cost grows with n (cold starts): a budget the guard
    # refuses the largest action under, but not a smaller one.
    budget = 0.5 * _core.project_epoch_cost(_core.load_scenario(preset), 32, largest)["bound_usd"]
    scenario = _scenario("budget", budget, preset)
    backend = LocalLambda(server, timeout_s=60.0)
    try:
        job = RealJob(scenario, backend, dataset, bucket="siren-test", prefix=f"t/{uuid.uuid4().hex[:8]}")
        job.reset()
        *_, record = job.step(job.codec.encode(32, largest))
    finally:
        backend.close()
    assert not record.get("skipped"), record.get("budget_reason")
    assert record["budget_clamped"] and record["requested_functions"] == 32
    assert record["action_functions"] < 32 or record["action_memory_mb"] < largest
    assert record["cumulative_cost_usd"] <= budget
    assert "clamped to" in record["adjustment"] and "env.action_clamp=budget" in record["adjustment"]
    assert [kind for _, kind, _ in job.adjustments] == ["budget_clamped"]


@pytest.mark.slow
def test_siren_run_prints_the_clamp_as_a_note_and_keeps_it_in_the_trace(tmp_path) -> None:
    from conftest import run_cli
    from siren.runner.trace import read_run_trace

    preset = "softmax-digits"
    largest = _core.load_scenario(preset).memory_grid()[-1]
    budget = 0.5 * _core.project_epoch_cost(_core.load_scenario(preset), 32, largest)["bound_usd"]
    policy = _ones_policy(tmp_path, _core.load_scenario(preset))
    trace_path = tmp_path / "trace.h5"
    proc = run_cli("run", "--policy", str(policy), "--backend", "local", "--scenario", preset, "--epochs", "1",
                   "--out", str(trace_path), "env.action_clamp=budget", f"job.budget_usd={budget!r}")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if line.startswith("note: epoch 0: ") and "clamped" in line]
    assert len(notes) == 1 and f"32 functions at {largest} MB clamped to" in notes[0], proc.stdout
    epochs = read_run_trace(trace_path)["epochs"]
    assert bool(epochs["budget_clamped"][0]) and int(epochs["requested_functions"][0]) == 32
    assert float(epochs["cumulative_cost_usd"][0]) <= budget
