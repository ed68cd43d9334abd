"""The anchor table in the exported policy: a policy trained over a budget
range with the schedule anchor carries one row per grid budget and one
column per epoch, and its TorchScript forward looks the anchor up from the
observation (budget index 10: the largest grid budget at or below; epoch
fraction index 0: the epoch, the last column repeating), as
agent/trainer/anchor_table.h describes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from siren import _core
from siren.policy import load_policy

from conftest import run_cli

PRESET = "softmax-digits"
LO, HI = 0.006, 0.02
BUDGETS = 3


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("anchor_table")
    proc = run_cli("train", "--scenario", PRESET, "--iterations", "1", "--envs", "4", "--tuning-seeds", "2",
                   "--anchor", "schedule", "--anchor-budgets", str(BUDGETS), "--no-safeguard", "--out", str(out),
                   f"job.budget_range=[{LO}, {HI}]")
    assert proc.returncode == 0, proc.stderr
    policy, metadata = load_policy(out / "policy.pt")
    return policy, metadata, proc.stdout, out


def test_the_table_has_a_row_per_grid_budget_and_a_column_per_slot(run) -> None:
    policy, metadata, stdout, _ = run
    table = metadata["anchor_table"]
    assert table["kind"] == "schedule"
    assert len(table["budgets_usd"]) == BUDGETS and table["budgets_usd"][0] == LO and table["budgets_usd"][-1] == HI
    # Log-uniform draw: geometric grid.
    assert math.isclose(table["budgets_usd"][1], math.sqrt(LO * HI), rel_tol=1e-12)
    assert tuple(policy.anchor_table.shape) == (BUDGETS, 8, 2)
    assert "anchor: per-epoch schedule from the oracle static, per budget" in stdout
    # The metadata decodes the exported cells.
    env = _core.Env(_core.load_scenario(PRESET), "box")
    for k, row in enumerate(table["rows"]):
        for c, (n, m) in enumerate(row):
            decoded = env.decode(policy.anchor_table[k, c].numpy().astype(np.float64))
            assert (decoded["functions"], decoded["memory_mb"]) == (n, m)


def test_the_exported_forward_looks_up_row_and_epoch(run) -> None:
    policy, metadata, _, _ = run
    max_epochs = metadata["anchor_table"]["max_epochs"]
    keys = policy.anchor_budgets.clone()
    rows, columns = policy.anchor_table.shape[:2]
    # Distinct cells and no residual: the output is the cell itself.
    marked = torch.stack([torch.stack([torch.tensor([0.1 * k, 0.05 * c]) for c in range(columns)])
                          for k in range(rows)])
    policy.anchor_table.copy_(marked)
    policy.w3.zero_()
    policy.b3.zero_()
    cases = []  # (observed budget, epochs done, expected row, expected column)
    for k in range(rows):
        cases.append((float(keys[k]), 0, k, 0))  # At a grid budget.
        upper = float(keys[k + 1]) if k + 1 < rows else float(keys[k]) * 2
        cases.append((0.5 * (float(keys[k]) + upper), 3, k, 3))  # Between two: the lower.
    cases.append((float(keys[0]) * 0.5, 1, 0, 1))  # Below the grid: row 0.
    cases.append((float(keys[1]), columns + 5, 1, columns - 1))  # Past the last column: it repeats.
    obs = np.zeros((len(cases), _core.observation_size), dtype=np.float32)
    for i, (budget, epoch, _, _) in enumerate(cases):
        obs[i, 10] = budget
        obs[i, 0] = epoch / max_epochs
    actions = policy(torch.from_numpy(obs)).numpy()
    expected = np.array([[0.1 * k, 0.05 * c] for _, _, k, c in cases], dtype=np.float32)
    np.testing.assert_allclose(actions, expected, atol=1e-7)


def test_the_schedule_row_is_no_worse_than_its_static_on_the_tuning_seeds(run) -> None:
    """CEM returns the best schedule it evaluated, the static among them."""
    _, metadata, _, _ = run
    table = metadata["anchor_table"]
    seeds = [0, 1]
    for budget, row in zip(table["budgets_usd"], table["rows"]):
        scenario = _core.load_scenario(PRESET, [f"job.budget_usd={budget!r}"])
        [grid] = _core.grid_search(scenario, [budget], seeds, num_threads=2)
        best = (grid["best"]["functions"], grid["best"]["memory_mb"])
        [oracle] = _core.oracle_static(scenario, [budget], seeds, include=[best], num_threads=2)
        static = _core.evaluate_schedule(scenario, [(oracle["best"]["functions"], oracle["best"]["memory_mb"])],
                                         seeds, num_threads=2)
        schedule = _core.evaluate_schedule(scenario, [tuple(a) for a in row], seeds, num_threads=2)
        assert schedule["successes"] >= static["successes"]
        if schedule["successes"] == static["successes"]:
            assert schedule["mean_jct_s"] <= static["mean_jct_s"] * (1 + 1e-12)


def test_export_of_the_checkpoint_keeps_the_table(run, tmp_path) -> None:
    policy, metadata, _, out = run
    proc = run_cli("export", "--checkpoint", str(out / "checkpoint.pt"), "--out", str(tmp_path / "again.pt"))
    assert proc.returncode == 0, proc.stderr
    again, again_metadata = load_policy(tmp_path / "again.pt")
    assert again_metadata["anchor_table"] == metadata["anchor_table"]
    fresh, _ = load_policy(out / "policy.pt")  # The fixture's copy may have been marked.
    assert torch.equal(again.anchor_table, fresh.anchor_table)
    assert torch.equal(again.anchor_budgets, fresh.anchor_budgets)


@pytest.mark.parametrize("gap", ["0", "0.01"])
def test_the_oracle_table_is_refined_by_anchor_gap(tmp_path, gap) -> None:
    # --anchor oracle over a range: --anchor-gap 0 keeps the grid budgets;
    # a gap adds rows between them, keeping the grid's ends, with no row
    # ranking after the one below it (the monotone envelope).
    proc = run_cli("train", "--scenario", PRESET, "--iterations", "1", "--envs", "4", "--tuning-seeds", "2",
                   "--anchor", "oracle", "--anchor-budgets", str(BUDGETS), "--anchor-gap", gap, "--no-safeguard",
                   "--out", str(tmp_path), f"job.budget_range=[{LO}, {HI}]")
    assert proc.returncode == 0, proc.stderr
    policy, metadata = load_policy(tmp_path / "policy.pt")
    budgets = metadata["anchor_table"]["budgets_usd"]
    assert budgets[0] == pytest.approx(LO) and budgets[-1] == pytest.approx(HI)
    assert budgets == sorted(budgets) and len(set(budgets)) == len(budgets)
    if gap == "0":
        assert len(budgets) == BUDGETS
    else:
        assert len(budgets) > BUDGETS, proc.stdout
    assert tuple(policy.anchor_table.shape) == (len(budgets), 1, 2)
    # The printed table: per row its tuning JCT and success, never worse
    # than the row below.
    rows = [(float(jct), float(success)) for jct, success in
            re.findall(r"^  \$[0-9.]+: \d+ x \d+ MB \(tuning: JCT ([0-9.]+) s, success ([0-9.]+)\)$",
                       proc.stdout, re.MULTILINE)]
    assert len(rows) == len(budgets), proc.stdout
    for (slow_jct, low), (jct, success) in zip(rows, rows[1:]):
        assert success > low or (success == low and jct <= slow_jct), proc.stdout
    # --resume finds the cliff search's setting unchanged, or names it (the
    # refined table would differ); a run without a refinement has none.
    resumed = run_cli("train", "--scenario", PRESET, "--iterations", "1", "--envs", "4", "--tuning-seeds", "2",
                      "--anchor", "oracle", "--anchor-budgets", str(BUDGETS), "--anchor-gap", gap, "--no-safeguard",
                      "--no-anchor-cliff-search", "--resume", "--out", str(tmp_path), f"job.budget_range=[{LO}, {HI}]")
    if gap == "0":
        assert resumed.returncode == 0, resumed.stderr
    else:
        assert resumed.returncode != 0
        assert "anchor_cliff_search (--no-anchor-cliff-search): checkpoint 1, now 0" in resumed.stderr, resumed.stderr
