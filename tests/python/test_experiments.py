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


def test_param_store_benchmark_prints_every_protocol_and_the_fold_check() -> None:
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / "bench_param_store.py"), "--sim-only", "--presets", "softmax-digits",
         "--functions", "4,32"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = re.findall(r"^softmax-digits\s+(\w+)\s+(\d+)\s+(\d+)\s", proc.stdout, re.MULTILINE)
    assert [(protocol, int(n)) for protocol, n, _ in rows] == [
        ("cas", 4), ("cas", 32), ("overwrite", 4), ("overwrite", 32), ("fold", 4), ("fold", 32)], proc.stdout
    # Every protocol applies (writes) one update per batch here.
    assert {int(updates) for _, _, updates in rows} == {2048}, proc.stdout
    assert re.search(r"^check softmax-digits fold: S3 requests per applied update n=32 .* \(within 2x\)$",
                     proc.stdout, re.MULTILINE), proc.stdout


def test_param_store_benchmark_simulate_counts_what_each_protocol_spends() -> None:
    sys.path.insert(0, str(EXPERIMENTS))
    try:
        import bench_param_store as bench
    finally:
        sys.path.remove(str(EXPERIMENTS))
    cas = bench.simulate("cas", 16, "softmax-digits")
    overwrite = bench.simulate("overwrite", 16, "softmax-digits")
    fold = bench.simulate("fold", 16, "softmax-digits")
    assert cas["refused_per_update"] > 0 and cas["lost_updates"] == 0
    # Overwrite: one GET and one PUT per update besides the batch GET; never
    # refused, but it loses updates.
    assert overwrite["store_requests_per_update"] == 2.0
    assert overwrite["refused_per_update"] == 0 and overwrite["lost_updates"] > 0
    # Fold: PUT + folder GET + worker GET per update, plus LIST and PUT per fold.
    assert fold["lost_updates"] == 0 and fold["folds"] > 0
    assert fold["store_requests_per_update"] == pytest.approx(
        3 + (fold["folds"] + fold["list_requests"]) / fold["updates"])
