#!/usr/bin/env python3
"""How well real runs of one schedule repeat on the local stand-in, and how
well the simulator calibrated on some of them predicts the others: the
numbers behind the calibration check (every epoch of a held-out run within
15 % in duration and 5 % in cost).

Runs ``--runs`` jobs of the same schedule (``siren run``), calibrates on
the first ``--calibrate-on`` of them (``siren calibrate`` pools several),
replays every other run (``siren compare-sim``, ``--seeds`` simulated seeds
averaged) and prints, per run: each epoch's duration, cost and refused
compare-and-swap pushes (each one a billed PUT and GET), the largest
difference of any epoch from the first run's, and for a held-out run the
calibrated simulator's largest error per epoch. It also prints the noise
floor of the check by the calibrated simulator's own account: the spread of
one epoch over simulated seeds (sd / mean, largest epoch) and the fraction
of simulated runs whose every epoch lies within the tolerances of the
simulated mean, i.e. how often a simulator that is exactly right would pass
against one real run; and how the check decides on these runs (the
simulator against its calibration runs' mean, and per held-out run whether
the duration and the cost check are decided on the whole and on half the
tolerance, and whether they pass).

    .venv/bin/python experiments/calibration_repeatability.py --out build/rep
    .venv/bin/python experiments/calibration_repeatability.py --out build/rep-mlp convergence.sgd.model=mlp \\
        convergence.sgd.mlp.hidden1=128 convergence.sgd.learning_rate=0.3

The host's load average before and after is printed: on a shared machine
the runs measure its other work too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from siren import _core
from siren.runner.calibrate import _replay_overrides, _simulate_seeds
from siren.runner.trace import read_run_trace

DURATION_TOLERANCE, COST_TOLERANCE = 0.15, 0.05  # The check, per epoch.
TOLERANCES = {"duration_s": DURATION_TOLERANCE, "cost_total_usd": COST_TOLERANCE}
# The check is decided only when the calibration runs' miss of the held-out
# run, with the simulated mean's error, lies within this share of the
# tolerance (tests/python/test_runner_calibration_check.py says why).
DECIDING_SHARE = 0.5  # Printed as "half" by _decisions.
# A budget the guard never approaches (a lowered function timeout would
# retire the warm sandboxes every epoch, which a replay, run without a budget,
# cannot see), and no early stop.
COMMON = ["job.budget_usd=1", "job.max_epochs=20", "workload.target_loss=0.081"]


def _siren(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "siren", *args], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"siren {' '.join(args)} failed:\n{proc.stderr}")


def _noise_floor(scenario_path: Path, trace: dict, seeds: int) -> tuple[float, float, float]:
    """(largest per-epoch spread of duration, of cost, fraction of simulated
    runs within the tolerances of the simulated mean in every epoch)."""
    scenario = _core.load_scenario(str(scenario_path), [])
    scenario = _core.parse_scenario(scenario.to_yaml(), _replay_overrides(scenario, len(trace["epochs"]["epoch"])),
                                    "replay")
    runs = _simulate_seeds(trace, scenario, list(range(seeds)))
    duration, cost = runs["duration_s"], runs["cost_total_usd"]
    within = ((np.abs(duration / duration.mean(axis=0) - 1) <= DURATION_TOLERANCE).all(axis=1)
              & (np.abs(cost / cost.mean(axis=0) - 1) <= COST_TOLERANCE).all(axis=1))
    return (float(np.max(duration.std(axis=0) / duration.mean(axis=0))),
            float(np.max(cost.std(axis=0) / cost.mean(axis=0))), float(within.mean()))


def _sources(traces: list[dict]) -> None:
    """Per run and epoch, what an epoch's time is made of: the cold starts'
    init (epoch 0), the mean batch fetch (batch and parameter GETs), compute
    and push (PUT, with refused pushes' re-reads and retries, back-off
    excluded) per batch, and the back-off slept in all; then the spread
    (sd / mean) of each over the warm epochs of every run."""
    print("run epoch  init_s  fetch_ms  compute_ms  push_ms  backoff_s  refused  duration_s")
    warm: dict[str, list[float]] = {}
    for i, trace in enumerate(traces):
        epochs, batches, invocations = trace["epochs"], trace["batches"], trace["invocations"]
        for e in range(len(epochs["epoch"])):
            rows = np.asarray(batches["epoch"]) == e
            cold = (np.asarray(invocations["epoch"]) == e) & np.asarray(invocations["cold"], dtype=bool)
            backoff = np.asarray(batches["backoff_s"])[rows]
            values = {"fetch_ms": 1e3 * float(np.mean(np.asarray(batches["fetch_s"])[rows])),
                      "compute_ms": 1e3 * float(np.mean(np.asarray(batches["compute_s"])[rows])),
                      "push_ms": 1e3 * float(np.mean(np.asarray(batches["update_s"])[rows] - backoff)),
                      "backoff_s": float(np.sum(backoff)), "refused": float(epochs["update_conflicts"][e]),
                      "duration_s": float(epochs["duration_s"][e])}
            init = float(np.mean(np.asarray(invocations["init_s"])[cold])) if cold.any() else 0.0
            print(f"{i:>3} {e:>5}  {init:6.3f}  {values['fetch_ms']:8.2f}  {values['compute_ms']:10.2f}  "
                  f"{values['push_ms']:7.2f}  {values['backoff_s']:9.3f}  {values['refused']:7.0f}  "
                  f"{values['duration_s']:10.3f}")
            if e > 0:
                for key, value in values.items():
                    warm.setdefault(key, []).append(value)
    print("spread (sd / mean) over the warm epochs of every run: " + ", ".join(
        f"{key} {np.std(v) / np.mean(v):.0%}" if np.mean(v) > 0 else f"{key} -" for key, v in warm.items()))


def decision_margin(rows: list[dict], calibration_mean: np.ndarray, key: str,
                    seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """Per epoch of a held-out run's replay (`siren compare-sim`'s rows):
    the calibration runs' mean's miss of the run, relative to the run (as
    compare-sim measures the simulator), and that miss plus two standard
    errors of the simulated mean over `seeds` seeds, relative to the run.
    The check on `key` is decided on a share of its tolerance when every
    epoch's margin lies within it."""
    real = np.asarray([row[f"real_{key}"] for row in rows])
    miss = np.abs(np.asarray(calibration_mean) / real - 1)
    # compare-sim's spread is relative to the simulated value.
    standard_error = np.asarray([row[f"spread_{key}"] * row[f"sim_{key}"] for row in rows]) / real / np.sqrt(seeds)
    return miss, miss + 2 * standard_error


def _decisions(comparisons: list[dict], calibrate_on: int, seeds: int) -> None:
    """How the calibration check (tests/python/test_runner_calibration_check.py)
    decides on these runs: the simulator against the mean of its calibration
    runs per epoch, and per held-out run and quantity the calibration runs'
    miss of it (relative to the run, as compare-sim measures the simulator),
    that miss plus two standard errors of the simulated mean, and whether the
    check is decided on the whole and on half the tolerance, with the
    simulator's error; then the counts, and those of the rule before 2 Dec
    2026 (the miss relative to the calibration mean, both quantities decided
    together on the whole tolerance, no standard errors)."""
    shares = (1, DECIDING_SHARE)
    counts = {(key, share): [0, 0] for key in TOLERANCES for share in shares}
    held_out = range(calibrate_on, len(comparisons))
    old_decided, old_failed = set(held_out), set()
    for key, tolerance in TOLERANCES.items():
        real = np.asarray([[row[f"real_{key}"] for row in comparison["rows"]] for comparison in comparisons])
        mean = real[:calibrate_on].mean(axis=0)
        simulated = np.asarray([row[f"sim_{key}"] for row in comparisons[0]["rows"]])
        print(f"{key}: simulator against its calibration runs' mean per epoch "
              + " ".join(f"{100 * e:+.1f}%" for e in simulated / mean - 1))
        for i in held_out:
            miss, margins = decision_margin(comparisons[i]["rows"], mean, key, seeds)
            margin = float(np.max(margins))
            error = comparisons[i]["max_abs_error"][key]
            if np.max(np.abs(real[i] / mean - 1)) > tolerance:
                old_decided.discard(i)
            if error > tolerance:
                old_failed.add(i)
            decided = []
            for share in shares:
                if margin <= share * tolerance:
                    counts[key, share][0] += 1
                    counts[key, share][1] += error > tolerance
                    decided.append("whole" if share == 1 else "half")
            print(f"  held-out run {i}: miss {100 * miss.max():5.1f}%, with 2 s.e. {100 * margin:5.1f}%, "
                  f"decided on {' and '.join(decided) or 'neither'}; simulator {100 * error:5.1f}%"
                  + (" (fails)" if decided and error > tolerance else ""))
    for (key, share), (decided, failed) in counts.items():
        print(f"{key}, {'whole' if share == 1 else 'half'} tolerance: {decided} decided, {failed} failed")
    print(f"the rule before 2 Dec 2026: runs {sorted(old_decided) or 'none'} decided, "
          f"{sorted(old_decided & old_failed) or 'none'} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the traces, scenario and comparisons")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calibrate-on", type=int, default=2, help="calibrate on the first this many runs")
    parser.add_argument("--schedule", default="4:1024")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=20, help="simulated seeds (default: %(default)s)")
    parser.add_argument("--push-protocol", default="cas")
    parser.add_argument("--reuse", action="store_true", help="keep the traces already in --out (recalibrate only)")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    args = parser.parse_args()
    if not 1 <= args.calibrate_on < args.runs:
        parser.error(f"--calibrate-on: expected 1 <= it < --runs ({args.runs}), got {args.calibrate_on}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {os.getloadavg()[0]:.1f} (1 min) on {os.cpu_count()} cores")
    overrides = COMMON + args.overrides
    paths = [out / f"run{i}.h5" for i in range(args.runs)]
    for path in paths:
        if args.reuse and path.exists():
            continue
        _siren("run", "--schedule", args.schedule, "--epochs", str(args.epochs), "--push-protocol",
               args.push_protocol, "--out", str(path), *overrides)
    scenario = out / "cal.yaml"
    _siren("calibrate", *map(str, paths[:args.calibrate_on]), "-o", str(scenario), "--quiet")
    print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
    traces = [read_run_trace(path) for path in paths]
    first = traces[0]["epochs"]
    print(f"schedule {args.schedule}, {args.epochs} epochs, push protocol {args.push_protocol}, "
          f"{' '.join(args.overrides) or 'softmax'}; calibrated on runs 0-{args.calibrate_on - 1}")
    print("run  role        duration_s per epoch          cost_usd x 1e6 per epoch     refused pushes   "
          "vs run 0: dur, cost   sim vs run: dur, cost")
    comparisons = []
    for i, (path, trace) in enumerate(zip(paths, traces)):
        epochs = trace["epochs"]
        duration, cost = np.asarray(epochs["duration_s"]), np.asarray(epochs["cost_total_usd"])
        repeat = (np.max(np.abs(duration / np.asarray(first["duration_s"]) - 1)),
                  np.max(np.abs(cost / np.asarray(first["cost_total_usd"]) - 1)))
        held_out = i >= args.calibrate_on
        cmp_path = out / f"cmp{i}.json"
        _siren("compare-sim", str(path), "--scenario", str(scenario), "--seeds", str(args.seeds), "--json",
               str(cmp_path))
        comparisons.append(json.loads(cmp_path.read_text()))
        worst = comparisons[-1]["max_abs_error"]
        print(f"{i:>3}  {'held-out' if held_out else 'calibrated':<10}  "
              f"{' '.join(f'{d:6.3f}' for d in duration):<28}  {' '.join(f'{c * 1e6:6.1f}' for c in cost):<28} "
              f"{' '.join(str(int(k)) for k in epochs['update_conflicts']):<16} "
              f"{100 * repeat[0]:5.1f}% {100 * repeat[1]:5.1f}%      "
              f"{100 * worst['duration_s']:5.1f}% {100 * worst['cost_total_usd']:5.1f}%")
    _sources(traces)
    _decisions(comparisons, args.calibrate_on, args.seeds)
    spread_duration, spread_cost, within = _noise_floor(scenario, traces[-1], args.seeds)
    print(f"noise floor (calibrated simulator, {args.seeds} seeds): one epoch's spread sd/mean up to "
          f"{100 * spread_duration:.1f}% in duration, {100 * spread_cost:.1f}% in cost; {100 * within:.0f}% of "
          f"simulated runs have every epoch within {DURATION_TOLERANCE:.0%} / {COST_TOLERANCE:.0%} of the mean")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
