"""How close the budget guard's cost projection is to what epochs then cost.

For each preset, random jobs (seeded) run random epochs (n in [1, 200], any
feasible memory size, changing every epoch); before each epoch the guard's
projection (``Simulation.project_epoch_cost``: job.projection_samples
simulated samples from the job's state) is compared with the epoch's cost.
Prints the distribution of actual / largest sample per preset: the safety
margin ``job.budget_margin`` must cover its upper tail.

    .venv/bin/python experiments/projection_accuracy.py [--jobs 1000] [--epochs 6] [--presets a,b]
"""

from __future__ import annotations

import argparse
import random

import numpy as np

import siren

PRESETS = ["lenet-mnist", "softmax-digits", "logreg-click-through", "cnn-movie-reviews"]


def ratios(preset: str, jobs: int, epochs: int, seed: int) -> np.ndarray:
    """actual cost / projected largest sample, one per epoch run."""
    rng = random.Random(seed)
    scenario = siren.load_scenario(preset, ["job.budget_usd=1000", f"job.max_epochs={epochs + 1}"])
    sizes = [m for m in scenario.memory_grid() if m >= scenario.min_feasible_memory_mb]
    out = []
    for _ in range(jobs):
        simulation = siren.Simulation(scenario, rng.randrange(1 << 30))
        for _ in range(epochs):
            functions, memory_mb = rng.randint(1, 200), rng.choice(sizes)
            try:
                projection = simulation.project_epoch_cost(functions, memory_mb)
                result = simulation.run_epoch(functions, memory_mb)
            except siren.InvalidActionError:
                break  # One step does not fit the timeout at this size.
            out.append(result["cost_total_usd"] / projection["max_usd"])
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--presets", default=",".join(PRESETS),
                        help=f"comma-separated presets (default: {','.join(PRESETS)})")
    args = parser.parse_args()
    unknown = [p for p in args.presets.split(",") if p not in siren.preset_names()]
    if unknown:
        parser.error(f"--presets: got {unknown[0]!r}, expected presets from {', '.join(siren.preset_names())}")
    print("preset                 epochs  p50    p99    p99.9  max    (actual / projected largest sample)")
    for preset in args.presets.split(","):
        r = ratios(preset, args.jobs, args.epochs, args.seed)
        p50, p99, p999 = np.percentile(r, [50, 99, 99.9])
        print(f"{preset:22s} {len(r):6d}  {p50:.3f}  {p99:.3f}  {p999:.3f}  {r.max():.3f}")


if __name__ == "__main__":
    main()
