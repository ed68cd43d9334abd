"""The learner never exports a policy worse than the oracle static schedule:
its mean starts at the oracle static action (the anchor, searched as `siren
evaluate` searches it) and the safeguard exports the static policy when the
learned one does worse on the validation seeds. A short training on a small
preset; experiments/learner_check.py is the slow, full check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from siren import _core
from siren.policy import evaluate_policy, load_policy

from conftest import run_cli

PRESET = "softmax-digits"
VALIDATION_FIRST_SEED = 500_000  # agent/trainer/anchor.h kFirstValidationSeed.
VALIDATION = list(range(VALIDATION_FIRST_SEED, VALIDATION_FIRST_SEED + 16))


def oracle(scenario: _core.Scenario) -> tuple[int, int]:
    """The oracle static configuration on seeds 0..7, as `siren evaluate` finds it."""
    seeds = list(range(8))
    [gs] = _core.grid_search(scenario, [scenario.budget_usd], seeds, num_threads=2)
    best = (gs["best"]["functions"], gs["best"]["memory_mb"])
    [result] = _core.oracle_static(scenario, [scenario.budget_usd], seeds, include=[best], num_threads=2)
    return result["best"]["functions"], result["best"]["memory_mb"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("learner")
    proc = run_cli("train", "--scenario", PRESET, "--iterations", "3", "--envs", "8", "--validation-seeds",
                   str(len(VALIDATION)), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def test_the_anchor_is_the_oracle_static_configuration_of_evaluate(run) -> None:
    out, stdout = run
    _, metadata = load_policy(out / "policy.pt")
    scenario = _core.load_scenario(PRESET)
    n, m = oracle(scenario)
    assert metadata["anchor"] == {"functions": n, "memory_mb": m}
    assert f"anchor: oracle static {n} x {m} MB" in stdout
    assert metadata["exported"] in ("learned", "oracle static")
    assert "safeguard on 16 validation seeds" in stdout and f"exported the {metadata['exported']}" in stdout


def test_exported_policy_is_no_worse_than_oracle_static_on_validation_seeds(run) -> None:
    out, _ = run
    policy, _ = load_policy(out / "policy.pt")
    scenario = _core.load_scenario(PRESET)
    n, m = oracle(scenario)
    learned = evaluate_policy(policy, scenario, VALIDATION)
    fixed = _core.evaluate_schedule(scenario, [(n, m)], VALIDATION, num_threads=2)
    assert learned["successes"] >= fixed["successes"]
    assert learned["over_budget"] <= fixed["over_budget"]
    assert learned["mean_jct_s"] <= fixed["mean_jct_s"] * (1 + 1e-12)


def test_static_export_plays_the_oracle_static_action(run) -> None:
    """The exported static policy (zero residual) decodes to the anchor's
    configuration on any observation; a learned one starts from it."""
    out, _ = run
    policy, metadata = load_policy(out / "policy.pt")
    if metadata["exported"] != "oracle static":
        pytest.skip("the learned policy passed the safeguard in this run")
    observations = np.random.default_rng(0).random((32, _core.observation_size), dtype=np.float32)
    actions = policy(torch.from_numpy(observations)).numpy().astype(np.float64)
    env = _core.Env(_core.load_scenario(PRESET), "box")
    decoded = {(d["functions"], d["memory_mb"]) for d in map(env.decode, actions)}
    assert decoded == {(metadata["anchor"]["functions"], metadata["anchor"]["memory_mb"])}


def test_bad_anchor_is_refused(cli) -> None:
    proc = cli("train", "--scenario", PRESET, "--iterations", "1", "--anchor", "median", "--out", "bad")
    assert proc.returncode == 2 and "--anchor" in proc.stderr
