"""experiments/learner_check.py: its pass rule (no lower success, no
episode over the budget, at most 1 % slower than the oracle static
configuration on the held-out seeds both converged on) and one cell end to end (a 2-iteration training on
softmax-digits), whose row must follow that rule and, when the safeguard
exported the static policy, equal the oracle static configuration; and
learner_check_report.py's merge of split runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
sys.path.insert(0, str(EXPERIMENTS))

import learner_check  # noqa: E402


def outcome(jct: float, success: float = 1.0, over: int = 0) -> dict:
    return {"mean_jct_s": jct, "success_rate": success, "over_budget": over}


def test_verdict_allows_one_percent_and_no_more() -> None:
    assert learner_check.verdict(outcome(101.0), outcome(100.0)) == pytest.approx((0.01, True))
    ratio, passed = learner_check.verdict(outcome(101.2), outcome(100.0))
    assert ratio == pytest.approx(0.012) and not passed
    assert learner_check.verdict(outcome(90.0), outcome(100.0)) == pytest.approx((-0.1, True))


def test_verdict_fails_lower_success_and_overspend_even_when_faster() -> None:
    assert not learner_check.verdict(outcome(50.0, success=0.9375), outcome(100.0, success=1.0))[1]
    assert not learner_check.verdict(outcome(50.0, over=1), outcome(100.0))[1]
    # Higher success than the static configuration is no reason to fail.
    assert learner_check.verdict(outcome(100.5, success=1.0), outcome(100.0, success=0.875))[1]


def test_verdict_compares_jct_on_the_seeds_both_converged_on() -> None:
    # More successes, slower over all episodes (the static one's failures
    # stopped early) but no slower where both finished: a pass.
    learned = {**outcome(120.0, success=1.0), "common_jct_s": 100.5}
    fixed = {**outcome(100.0, success=0.75), "common_jct_s": 100.0}
    assert learner_check.verdict(learned, fixed) == pytest.approx((0.005, True))
    learned["common_jct_s"] = 101.2
    assert not learner_check.verdict(learned, fixed)[1]
    assert learner_check.common_mean_jct({1: 10.0, 2: 30.0, 3: 5.0}, {1: True, 2: True, 3: False},
                                         {1: 10.0, 2: 20.0, 3: 50.0}, {1: True, 2: True, 3: True}) == (20.0, 15.0)
    assert learner_check.common_mean_jct({1: 1.0}, {1: False}, {1: 1.0}, {1: True}) is None


def test_common_success_ratio_uses_only_seeds_both_converged_on() -> None:
    ratio, seeds = learner_check.common_success_ratio({1: 10.0, 2: 30.0, 3: 5.0}, {1: True, 2: True, 3: False},
                                                      {1: 10.0, 2: 20.0, 3: 50.0}, {1: True, 2: True, 3: True})
    assert seeds == 2 and ratio == pytest.approx(40.0 / 30.0 - 1)
    assert learner_check.common_success_ratio({1: 1.0}, {1: False}, {1: 1.0}, {1: True}) == (None, 0)


@pytest.mark.slow
def test_one_cell_end_to_end_and_reuse(tmp_path: Path) -> None:
    base = [sys.executable, str(EXPERIMENTS / "learner_check.py"), "--presets", "softmax-digits", "--factors", "1.0",
            "--train-seeds", "1", "--held-out", "4", "--tuning-seeds", "2", "--iterations", "2", "--threads", "1",
            "--out", str(tmp_path)]
    train = ["--", "--envs", "4", "--validation-seeds", "4"]
    proc = subprocess.run(base + train, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["held_out"] == list(range(1_000_000, 1_000_004)) and document["iterations"] == 2
    [row] = document["rows"]
    # The trainer's anchor is the configuration the check compares with.
    assert row["anchor"] == {"functions": row["oracle"][0], "memory_mb": row["oracle"][1]}
    assert len(row["policy_jct_by_seed"]) == len(row["oracle_jct_by_seed"]) == 4 and row["paired_se"] >= 0
    assert row["policy_jct_s"] == pytest.approx(sum(row["policy_jct_by_seed"]) / 4)
    # The rule: success and spending first, then JCT on the seeds both
    # converged on (over all episodes when there are none).
    ratio = row["vs_oracle"] if row["vs_oracle_common"] is None else row["vs_oracle_common"]
    slower = ratio > 0.01 + 1e-12
    assert row["pass"] == (not slower and row["policy_success"] >= row["oracle_success"]
                           and row["policy_over_budget"] == 0)
    assert proc.returncode == (0 if row["pass"] else 1)
    if row["exported"] == "oracle static":
        assert row["vs_oracle"] == 0.0 and row["pass"] and row["policy_jct_s"] == pytest.approx(row["oracle_jct_s"])
    assert row["safeguard"].startswith("safeguard on 4 validation seeds")
    # --reuse evaluates the same policy again without training it.
    [policy] = tmp_path.glob("*/policy.pt")
    written = policy.stat().st_mtime_ns
    again = subprocess.run(base + ["--reuse"], capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert again.returncode == proc.returncode, again.stderr[-3000:]
    [reused] = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert reused == row and row["train_wall_s"] > 0
    assert policy.stat().st_mtime_ns == written


def test_report_merges_in_preset_order_and_refuses_mixed_checks() -> None:
    import learner_check_report as report

    def row(preset: str, budget: float, seed: int) -> dict:
        return {"preset": preset, "budget_usd": budget, "train_seed": seed}

    def document(*rows: dict, held_out: int = 16) -> dict:
        return {"held_out": list(range(held_out)), "iterations": 100, "train_args": [], "rows": list(rows)}

    merged = report.merge([document(row("softmax-digits", 0.01, 0), row("lenet-mnist", 0.4, 1)),
                           document(row("lenet-mnist", 0.4, 0), row("lenet-mnist", 0.15, 2))])
    assert [(r["preset"], r["budget_usd"], r["train_seed"]) for r in merged["rows"]] == [
        ("lenet-mnist", 0.15, 2), ("lenet-mnist", 0.4, 0), ("lenet-mnist", 0.4, 1), ("softmax-digits", 0.01, 0)]
    with pytest.raises(ValueError, match="more than one file"):
        report.merge([document(row("lenet-mnist", 0.4, 0)), document(row("lenet-mnist", 0.4, 0))])
    with pytest.raises(ValueError, match="held_out"):
        report.merge([document(row("lenet-mnist", 0.4, 0)), document(row("lenet-mnist", 0.4, 1), held_out=4)])


def test_paired_standard_error() -> None:
    # Differences 1, 3 (mean 2, sample sd sqrt(2)): se = 1 of a static mean of 10, so 0.1.
    assert learner_check.paired_standard_error([11.0, 13.0], [10.0, 10.0]) == pytest.approx(0.1)
    assert learner_check.paired_standard_error([5.0, 6.0], [5.0, 6.0]) == 0.0
    assert learner_check.paired_standard_error([5.0], [4.0]) is None
