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


def test_headroom_quick_map_and_report(tmp_path: Path) -> None:
    """experiments/headroom.py --quick: one ground-truth cell (softmax on the
    digits, 2018, twice the reference budget), its probes and the report."""
    import json
    import math

    out = tmp_path / "headroom.json"
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / "headroom.py"), "--quick", "--out", str(out), "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    [(key, cell)] = data["cells"].items()
    assert key == "softmax-digits|2018|2"
    ref = data["reference_cost"]["softmax-digits|2018"]
    assert ref > 0 and math.isclose(cell["budget_usd"], round(2 * ref, 6))
    # The ground truth ran: the scenario is the sgd model's, and the static
    # configuration is one of the era's grid inside the env's range.
    lo, hi = cell["function_range"]
    assert lo <= cell["oracle"]["functions"] <= hi
    assert (cell["oracle"]["memory_mb"] - 128) % 64 == 0 and 128 <= cell["oracle"]["memory_mb"] <= 3008
    assert cell["oracle"]["evaluated"] > 1 and cell["family"]["count"] > 0
    # The dynamic search starts from the oracle static and never reports a
    # schedule worse than it on the tuning seeds, nor worse than the family
    # schedules it was given.
    assert cell["cem"]["objective"] <= cell["oracle"]["objective"]
    assert cell["cem"]["objective"] <= cell["family"]["best_objective"]
    assert cell["cem"]["history"] == sorted(cell["cem"]["history"], reverse=True)
    # Re-running the reported schedule on the tuning seeds gives its objective
    # (deterministic ground truth).
    tune = cell["tune_dynamic"]
    n_tune = len(cell["tune_seeds"])
    assert math.isclose(tune["mean_jct_s"] + 1e5 * (1 - tune["successes"] / n_tune), cell["cem"]["objective"],
                        rel_tol=1e-12)
    for n, m in cell["cem"]["schedule"]:
        assert lo <= n <= hi and (m - 128) % 64 == 0
    held = cell["heldout"]
    assert len(held["static"]["jct_s"]) == len(held["dynamic"]["jct_s"]) == len(cell["heldout_seeds"]) == 3
    assert set(held["static"]["status"]) <= {"converged", "budget_exhausted", "epoch_limit"}
    # Probes: one epoch at each n from the same state, early and late.
    probe = data["probes"]["softmax-digits|2018"]
    assert math.isclose(probe["initial_loss"], math.log(10))
    for stage in ("early", "late"):
        rows = probe["loss_vs_n"][stage]
        assert sorted(map(int, rows)) == probe["loss_vs_n"]["ns"]
        for r in rows.values():
            assert all(t > 0 for t in r["time_s"]) and all(math.isfinite(d) for d in r["drop"])
        # Every n starts from the same state (copies of one simulation).
        assert len({tuple(r["loss_before"]) for r in rows.values()}) == 1
    assert set(probe["change_cost"]) == {"stay", "double n", "m x1.5"}
    # The report regenerates from the JSON: figures and tables.
    figures = tmp_path / "figures"
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / "headroom.py"), "--report", "--out", str(out), "--figures", str(figures)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in figures.iterdir()} == {"gains.png", "schedules_softmax-digits.png", "probe_loss_vs_n.png"}
    assert "| softmax-digits | 2018 |" in proc.stdout


def test_preset_probes_quick_runs_a_softmax_probe() -> None:
    proc = subprocess.run([sys.executable, str(EXPERIMENTS / "preset_probes.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"^n  4 seed 0: \[([0-9.]+), ([0-9.]+)\] staleness \[([0-9.]+), ([0-9.]+)\]$", proc.stdout,
                      re.MULTILINE)  # fmt: skip
    assert match, proc.stdout
    first, second, *staleness = map(float, match.groups())
    # The loss falls from ln 10 and keeps falling; 4 functions are stale.
    assert 0 < second < first < 2.303
    assert all(0 < s < 4 for s in staleness)


def test_preset_probes_refuses_an_unknown_probe() -> None:
    proc = subprocess.run([sys.executable, str(EXPERIMENTS / "preset_probes.py"), "--only", "softmax,cnn"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == 2
    assert "--only: got 'cnn'" in proc.stderr
