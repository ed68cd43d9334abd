#!/usr/bin/env python3
"""Scale of the parameter-store protocols (execution.push_protocol): the
simulator's prediction of applied updates per second, S3 requests per applied
update, refused pushes, lost updates and cost per epoch, for cas, overwrite
and fold at n = 4 ... 256 functions.

Each row is one job of two epochs at ``--memory-mb`` from a fresh simulation
(seed ``--seed``); the row reports the second epoch (warm instances, the
steady state; the first pays every cold start). Columns:

- ``upd/s``: updates applied to the parameters / epoch duration; ``kept/s``:
  the same without the lost ones (overwrite);
- ``req/upd``: every S3 request of the epoch (GET, PUT, LIST; the batch GETs
  included) / updates applied; ``store/upd``: the same without the batch GETs
  (the parameter store's own requests);
- ``refused/upd``: refused compare-and-swap pushes / updates applied;
- ``lost``: written updates missing from the epoch's final parameters
  (overwrite);
- ``folds``: the folder's parameter PUTs (fold);
- ``cost``: the epoch's cost, USD; ``cost/proj``: that cost over the largest
  sample of the budget guard's projection of the epoch (below 1: the
  projection bounded it).

The softmax-digits preset has 45 mini-batches per epoch; it runs here with
``workload.dataset_samples`` = 32 x 2,048 so that 256 functions each get
several. lenet-mnist runs as preset (938 mini-batches).

    .venv/bin/python experiments/bench_param_store.py --sim-only
    .venv/bin/python experiments/bench_param_store.py --sim-only --presets lenet-mnist --functions 4,256
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import siren

PROTOCOLS = ("cas", "overwrite", "fold")
FUNCTIONS = (4, 16, 64, 128, 256)
PRESETS = ("lenet-mnist", "softmax-digits")
# Per preset: the overrides that give every n up to 256 several batches.
PRESET_OVERRIDES = {"softmax-digits": ["workload.dataset_samples=65536"]}


def simulate(protocol: str, n: int, preset: str = "lenet-mnist", memory_mb: int = 1024,
             seed: int = 1, overrides: list[str] | None = None) -> dict[str, Any]:
    """One row: the second epoch of a fresh two-epoch job of ``n`` functions
    at ``memory_mb`` under ``protocol`` (see the module docstring)."""
    settings = [*PRESET_OVERRIDES.get(preset, []), *(overrides or []),
                f"execution.push_protocol={protocol}", "job.budget_usd=1000000", "job.max_epochs=3"]
    # The job must not stop at its target loss after the first epoch: the
    # target just above the curve's floor.
    floor = siren.load_scenario(preset, settings).get("convergence.b2")
    scenario = siren.load_scenario(preset, [*settings, f"workload.target_loss={floor * 1.000001!r}"])
    if memory_mb < scenario.min_feasible_memory_mb:
        raise SystemExit(f"--memory-mb: got {memory_mb}, expected at least {scenario.min_feasible_memory_mb} "
                         f"for {preset}")
    simulation = siren.Simulation(scenario, seed)
    simulation.run_epoch(n, memory_mb)
    projection = simulation.project_epoch_cost(n, memory_mb)
    r = simulation.run_epoch(n, memory_mb)
    batch_size = scenario.get("workload.batch_size")
    per_object = scenario.get("workload.samples_per_object")
    batch_gets = r["batches"] * max(1, -(-batch_size // per_object))
    updates = max(1, r["updates"])
    requests = r["s3_gets"] + r["s3_puts"] + r["list_requests"]
    return {
        "preset": preset, "protocol": protocol, "n": n, "functions_used": r["functions_used"],
        "updates": r["updates"], "duration_s": r["duration_s"],
        "updates_per_s": r["updates"] / r["duration_s"] if r["duration_s"] > 0 else float("nan"),
        "kept_per_s": (r["updates"] - r["lost_updates"]) / r["duration_s"] if r["duration_s"] > 0 else float("nan"),
        "requests_per_update": requests / updates,
        "store_requests_per_update": (requests - batch_gets) / updates,
        "refused_per_update": r["update_conflicts"] / updates,
        "lost_updates": r["lost_updates"], "folds": r["folds"], "list_requests": r["list_requests"],
        "mean_staleness": r["mean_staleness"], "cost_usd": r["cost_total_usd"],
        "cost_over_projection": r["cost_total_usd"] / projection["max_usd"] if projection["max_usd"] > 0 else 0.0,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (f"{'preset':<15} {'protocol':<9} {'n':>4} {'updates':>7} {'epoch_s':>8} {'upd/s':>8} {'kept/s':>8} "
              f"{'req/upd':>8} {'store/upd':>9} {'refused/upd':>11} {'lost':>6} {'folds':>5} "
              f"{'staleness':>9} {'cost_usd':>9} {'cost/proj':>9}")
    print(header)
    for r in rows:
        print(f"{r['preset']:<15} {r['protocol']:<9} {r['n']:>4} {r['updates']:>7} {r['duration_s']:>8.2f} "
              f"{r['updates_per_s']:>8.1f} {r['kept_per_s']:>8.1f} {r['requests_per_update']:>8.2f} "
              f"{r['store_requests_per_update']:>9.2f} {r['refused_per_update']:>11.2f} {r['lost_updates']:>6} "
              f"{r['folds']:>5} {r['mean_staleness']:>9.1f} {r['cost_usd']:>9.5f} "
              f"{r['cost_over_projection']:>9.3f}")


def fold_check(rows: list[dict[str, Any]]) -> None:
    """The scalable protocol's check: requests per applied update at the
    largest n within 2x of the n = 4 value (printed, whatever it is)."""
    for preset in dict.fromkeys(r["preset"] for r in rows):
        fold = {r["n"]: r for r in rows if r["preset"] == preset and r["protocol"] == "fold"}
        if 4 not in fold or len(fold) < 2:
            continue
        top = max(fold)
        for key, label in (("requests_per_update", "S3 requests"), ("store_requests_per_update", "store requests")):
            ratio = fold[top][key] / fold[4][key]
            verdict = "within 2x" if ratio <= 2 else "NOT within 2x"
            print(f"check {preset} fold: {label} per applied update n={top} {fold[top][key]:.2f} / "
                  f"n=4 {fold[4][key]:.2f} = {ratio:.2f} ({verdict})")


def parse_list(text: str, kind: type) -> list:
    return [kind(x) for x in text.split(",") if x.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sim-only", action="store_true",
                   help="the simulator's prediction only (no runner measurement)")
    p.add_argument("--protocols", default=",".join(PROTOCOLS), help="comma-separated (default: %(default)s)")
    p.add_argument("--functions", default=",".join(map(str, FUNCTIONS)), help="comma-separated n (default: %(default)s)")
    p.add_argument("--presets", default=",".join(PRESETS), help="comma-separated (default: %(default)s)")
    p.add_argument("--memory-mb", type=int, default=1024, help="memory per function (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="simulation seed (default: %(default)s)")
    args = p.parse_args()
    protocols = parse_list(args.protocols, str)
    functions = parse_list(args.functions, int)
    for protocol in protocols:
        if protocol not in ("apply", *PROTOCOLS):
            p.error(f"--protocols: got {protocol!r}, expected some of apply, {', '.join(PROTOCOLS)}")
    if not functions or min(functions) < 1:
        p.error(f"--functions: got {args.functions!r}, expected positive integers")
    rows = [simulate(protocol, n, preset, args.memory_mb, args.seed)
            for preset in parse_list(args.presets, str) for protocol in protocols for n in functions]
    print(f"simulator, second epoch of a fresh job, {args.memory_mb} MB, seed {args.seed}")
    print_table(rows)
    fold_check(rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
