"""The training scripts in experiments/ run end to end (tiny budgets)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


@pytest.mark.slow
@pytest.mark.parametrize("script", ["train_sb3_ppo.py", "train_cleanrl_ppo.py"])
def test_training_script_runs_and_evaluates(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / script), "--total-timesteps", "512", "--num-envs", "2",
         "--eval-episodes", "2", "--seed", "1"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    returns = dict(re.findall(r"^\s+(\S+)\s+mean_return=\s*(-?[0-9.]+)", proc.stdout, re.MULTILINE))
    assert set(returns) == {"ppo", "random", "fixed_20x2048MB", "best_fixed_oracle"}, proc.stdout


def test_sgd_benchmark_compares_with_torch() -> None:
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / "bench_sgd_models.py"), "--rounds", "1", "--only",
         "softmax-digits,mlp-digits,lenet-digits"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = re.findall(r"^(\S+)\s+\d+\s+(\d+)\s+[0-9.]+\s+[0-9.]+\s+[0-9,]+\s+[0-9,]+\s+([0-9.]+)$", proc.stdout,
                      re.MULTILINE)  # fmt: skip
    # The networks PyTorch trains have the sizes of the simulator's (650
    # softmax weights, 64-128-10 MLP, the small LeNet of the digits).
    assert [(name, int(params)) for name, params, _ in rows] == [
        ("softmax-digits", 650), ("mlp-digits", 9610), ("lenet-digits", 9950)], proc.stdout
    assert all(float(ratio) > 0 for _, _, ratio in rows)
