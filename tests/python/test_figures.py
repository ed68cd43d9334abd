"""experiments/reproduce_figures.py end to end on a tiny configuration: the
results HDF5 holds every group and dataset, and plot and report work from it
alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "reproduce_figures.py"
FIGURES = ("fig_a_training_reward.png", "fig_b_jct_vs_budget.png", "fig_c_policy_schedule.png",
           "fig_d_time_vs_cost_ec2.png")
TRAINING = ("iteration", "mean_return", "mean_jct_s", "mean_cost_usd", "success_rate", "entropy")
EVALUATION = ("method", "mean_jct_s", "mean_cost_usd", "success_rate", "improvement_vs_gs_pct", "comparison_vs_gs",
              "config")
ROLLOUT = ("epoch", "functions", "memory_mb", "epoch_duration_s", "epoch_cost_usd", "loss",
           "cumulative_time_s", "cumulative_cost_usd")
EC2 = ("instance_type", "instances", "time_s", "cost_usd", "converged", "epochs")


def _script(phase: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), phase, "--out", str(tmp_path / "results.h5"),
         "--work", str(tmp_path / "runs"), "--figures", str(tmp_path / "figures"),
         "--report", str(tmp_path / "REPORT.md"), *extra],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
def test_pipeline_writes_results_figures_and_report(tmp_path: Path) -> None:
    _script("all", tmp_path, "--budgets", "0.25", "--seeds", "0", "--iterations", "3",
            "--eval-seeds", "2", "--tuning-seeds", "2", "--no-cem")

    with h5py.File(tmp_path / "results.h5", "r") as h5:
        assert h5.attrs["iterations"] == 3 and list(h5.attrs["budgets"]) == [0.25]
        seed = h5["budget_0/seed_0"]
        assert h5["budget_0"].attrs["budget_usd"] == 0.25 and seed.attrs["seed"] == 0
        for name in TRAINING:
            assert seed["training"][name].shape == (3,), name
        for name in EVALUATION:
            assert seed["evaluation"][name].shape == (4,), name  # policy, GS, oracle static, hand (no CEM)
        assert list(seed["evaluation/method"].asstr()[()]) == ["policy", "GS", "oracle static", "hand"]
        assert seed["evaluation/comparison_vs_gs"].asstr()[1] == "baseline"
        epochs = seed["rollout/epoch"].shape[0]
        assert epochs >= 1
        for name in ROLLOUT:
            assert seed["rollout"][name].shape == (epochs,), name
        assert (seed["rollout/functions"][()] >= 1).all()
        for name in EC2:
            assert h5["ec2"][name].shape == (9,), name  # 3 instance types x 2, 4, 8
        assert sorted(set(h5["ec2/instance_type"].asstr()[()])) == ["m4.2xlarge", "m4.large", "m4.xlarge"]
        datasets: list[h5py.Dataset] = []
        h5.visititems(lambda name, item: datasets.append(item) if isinstance(item, h5py.Dataset) else None)
        for dataset in datasets:
            assert isinstance(dataset.attrs.get("units"), str), dataset.name
            assert dataset.attrs.get("description"), dataset.name

    def check_outputs() -> None:
        for name in FIGURES:
            data = (tmp_path / "figures" / name).read_bytes()
            assert len(data) > 10_000 and data.startswith(b"\x89PNG"), name
        report = (tmp_path / "REPORT.md").read_text()
        assert "| 0.25 | GS |" in report and "## What the numbers show" in report

    check_outputs()
    # plot and report read only the HDF5: they work without the training runs.
    shutil.rmtree(tmp_path / "runs")
    for name in FIGURES:
        (tmp_path / "figures" / name).unlink()
    (tmp_path / "REPORT.md").unlink()
    _script("plot", tmp_path)
    _script("report", tmp_path)
    check_outputs()
