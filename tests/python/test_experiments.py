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
