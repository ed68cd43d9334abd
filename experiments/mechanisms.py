#!/usr/bin/env python3
"""Candidate convergence mechanisms measured in the ``sgd`` ground truth,
before any of them enters the analytic model.

On scikit-learn's digits (1,437 training rows, batches of 32: 45 updates per
epoch), for softmax regression, an MLP and a small LeNet (the nets of
experiments/fit_check.py), mean losses over seeds 0..2 of:

M1  depth (Dai et al., ICLR 2019: staleness hurts deeper models more): the
    held-out loss after 3 epochs with 1, 4, 8 and 16 functions (mean
    staleness 0, ~2, ~4, ~10), and its ratio 16 / 1.
M2  stage (Dai et al.: the harm depends on the stage of training): two
    epochs at 16 functions either first (epochs 1-2, then 1 function) or
    after two epochs at 1 function. Reported: the fraction of the 1-function
    run's log-loss drop over the same two epochs that the stale epochs
    achieve (1 = no harm, < 0 = the loss rose).
M3  learning-rate decay and tolerable staleness: as M2's late case, but the
    rate is cut 5x after epoch 2 (step schedule); the same fraction with and
    without the decay.
M4  critical batch growing as the loss falls (McCandlish et al. 2018): one
    function, batches of 8 and of 64 at the same rate for 6 epochs; the ratio
    of updates each needs to reach a loss (log-interpolated between epochs).
    A critical batch that grows as the loss falls makes this ratio grow
    towards 8 (the batch ratio) as the loss falls.
M5  staleness shock (Mitliagkas et al. 2016: staleness acts as momentum, a
    larger effective step; Lewkowycz et al. 2020 and Cohen et al. 2021: a
    step above what the net's curvature has settled at raises the loss until
    the curvature falls): the log-loss drop of epoch 3 at 12 functions when
    the net is used to them (12 functions throughout) and when n is raised
    from 1 (1, 1, then 12), beside the fresh run's (1 function throughout),
    mean of SHOCK_SEEDS. A drop below 0 is a loss that rose; a raised run
    falling short of the used one (it starts from a lower loss, where the
    fresh run still falls) is the shock.

    .venv/bin/python experiments/mechanisms.py                   # softmax, mlp, lenet
    .venv/bin/python experiments/mechanisms.py --only mlp,lenet
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

import siren
from fit_check import WORKLOADS, dataset_path

SEEDS = (0, 1, 2)
SHOCK_SEEDS = tuple(range(16))  # M5 compares single epochs: more seeds.


def nets(digits: Path) -> dict[str, tuple[str, ...]]:
    """Net name -> overrides of the softmax-digits preset under sgd."""
    common = ("convergence.model=sgd", f"convergence.sgd.dataset={digits}")
    return {
        "softmax": (*common, "convergence.sgd.eval_samples=360", "workload.dataset_samples=1437",
                    "convergence.sgd.learning_rate=0.5"),
        "mlp": (*common, *WORKLOADS["mlp-digits"].overrides),
        "lenet": (*common, *WORKLOADS["lenet-digits"].overrides),
    }  # fmt: skip


def losses(overrides, schedule: list[int], epochs: int, extra=(), seeds=SEEDS,
           preset: str = "softmax-digits") -> np.ndarray:
    """Mean over `seeds` of the loss before and after each epoch."""
    scenario = siren.load_scenario(preset, [*overrides, *extra, "job.budget_usd=1000000",
                                                      f"job.max_epochs={epochs}", "workload.target_loss=0.00001"])
    runs = []
    for seed in seeds:
        sim = siren.Simulation(scenario, seed=seed)
        curve = [sim.loss]
        for e in range(epochs):
            curve.append(sim.run_epoch(functions=schedule[min(e, len(schedule) - 1)], memory_mb=1024)["loss"])
        runs.append(curve)
    return np.mean(runs, axis=0)


def log_drop(before: float, after: float) -> float:
    return math.log(before / after)


def updates_to_reach(curve: np.ndarray, per_epoch: int, target: float) -> float | None:
    for i in range(1, len(curve)):
        if curve[i] <= target:
            f = log_drop(curve[i - 1], target) / log_drop(curve[i - 1], curve[i])
            return (i - 1 + f) * per_epoch
    return None


def measure(name: str, overrides) -> None:
    print(f"== {name}")
    at3 = {n: losses(overrides, [n], 3)[-1] for n in (1, 4, 8, 16)}
    print("M1 loss after 3 epochs by functions: " + " ".join(f"{n}:{v:.3f}" for n, v in at3.items())
          + f"  ratio 16/1 = {at3[16] / at3[1]:.2f}")  # fmt: skip
    base = losses(overrides, [1], 4)
    early = losses(overrides, [16, 16, 1, 1], 4)
    late = losses(overrides, [1, 1, 16, 16], 4)
    early_fraction = log_drop(base[0], early[2]) / log_drop(base[0], base[2])
    late_fraction = log_drop(base[2], late[4]) / log_drop(base[2], base[4])
    print(f"M2 stale epochs' share of the fresh log-loss drop: early {early_fraction:.2f}, late {late_fraction:.2f}"
          f"  (losses fresh {np.round(base, 3).tolist()}, early16 {np.round(early, 3).tolist()}, "
          f"late16 {np.round(late, 3).tolist()})")  # fmt: skip
    decay = ("convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=2",
             "convergence.sgd.lr_step_factor=0.2")  # fmt: skip
    base_d = losses(overrides, [1], 4, decay)
    late_d = losses(overrides, [1, 1, 16, 16], 4, decay)
    decayed_fraction = log_drop(base_d[2], late_d[4]) / log_drop(base_d[2], base_d[4])
    print(f"M3 late stale share with the rate cut 5x after epoch 2: {decayed_fraction:.2f} "
          f"(constant rate: {late_fraction:.2f})")  # fmt: skip
    small = losses(overrides, [1], 6, ("workload.batch_size=8",))
    large = losses(overrides, [1], 6, ("workload.batch_size=64",))
    cells = []
    for fraction in (0.6, 0.4, 0.25, 0.15):
        target = small[0] * fraction
        u_small = updates_to_reach(small, 1437 // 8, target)
        u_large = updates_to_reach(large, 1437 // 64, target)
        ratio = f"{u_small / u_large:.2f}" if u_small and u_large else "n/a"
        cells.append(f"loss {target:.3f}: {ratio}")
    print("M4 updates(batch 8) / updates(batch 64) to reach: " + "; ".join(cells))
    print("M5 " + shock_line(overrides))


def shock_drops(overrides, n: int = 12, low: int = 1, seeds=SHOCK_SEEDS,
                preset: str = "softmax-digits") -> dict[str, tuple[float, float]]:
    """M5: (loss before epoch 3, log-loss drop of epoch 3) for the run
    used to n functions, the run raised to n from low, and the fresh run
    (low functions throughout)."""
    out = {}
    for name, schedule in (("used", [n]), ("raised", [low, low, n]), ("fresh", [low])):
        curve = losses(overrides, schedule, 3, seeds=seeds, preset=preset)
        out[name] = (float(curve[2]), log_drop(curve[2], curve[3]))
    return out


def shock_line(overrides) -> str:
    drops = shock_drops(overrides)
    return "epoch 3 log-loss drop at 12 functions: " + ", ".join(
        f"{name} {drop:+.3f} (from {before:.3f})" for name, (before, drop) in drops.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="softmax,mlp,lenet", help="comma-separated nets")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        table = nets(dataset_path("digits", Path(tmp)))
        for name in args.only.split(","):
            if name not in table:
                parser.error(f"--only: got {name!r}, expected some of {sorted(table)}")
            measure(name, table[name])
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
