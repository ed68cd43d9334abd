"""The learner's check: never worse than the oracle static schedule.

For every preset and 3 budgets (0.6x, 1x and 1.6x the preset's own budget),
the trainer (``siren train``) runs with 3 training seeds; each exported
policy runs on 16 held-out seeds (``siren evaluate``'s, from 1,000,000) beside
the oracle static configuration searched as ``siren evaluate`` does (grid
search on seeds 0..7, then the oracle static search with the grid's optimum
included). A run passes when the policy's mean JCT is at most 1 % above the
oracle static one, its success rate is not lower and no episode spends more
than the budget. Prints one row per (preset, budget, training seed) and
writes them as JSON.

    .venv/bin/python experiments/learner_check.py            # full: 4 x 3 x 3 trainings
    .venv/bin/python experiments/learner_check.py --quick    # default preset, its budget, seed 0
    .venv/bin/python experiments/learner_check.py --presets lenet-mnist --iterations 300

Slow (each training runs --iterations PPO iterations and the safeguard's
validation); kept out of CI. tests/python/test_learner.py checks the cheap
part (a short training never exports a policy worse than the oracle static
one on a small preset).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import siren
from siren import _core
from siren.policy import HELD_OUT_FIRST_SEED, evaluate_policy, load_policy

PRESETS = ["lenet-mnist", "logreg-click-through", "cnn-movie-reviews", "softmax-digits"]
BUDGET_FACTORS = (0.6, 1.0, 1.6)  # Of each preset's own budget: $0.15, 0.25, 0.40 on lenet-mnist.
TOLERANCE = 0.01  # The policy's mean JCT may be at most 1 % above the oracle static one.
SIREN = Path(sys.executable).with_name("siren")


def oracle_static(scenario: _core.Scenario, budget: float, tuning: int, threads: int) -> tuple[int, int]:
    """The oracle static configuration at `budget`, searched as `siren evaluate` does."""
    seeds = list(range(tuning))
    [gs] = _core.grid_search(scenario, [budget], seeds, num_threads=threads)
    best = (gs["best"]["functions"], gs["best"]["memory_mb"])
    [oracle] = _core.oracle_static(scenario, [budget], seeds, include=[best], num_threads=threads)
    return oracle["best"]["functions"], oracle["best"]["memory_mb"]


def train(preset: str, budget: float, seed: int, args: argparse.Namespace, out: Path) -> tuple[float, str]:
    """Trains one policy; returns the wall time and the trainer's safeguard line."""
    command = [str(SIREN), "train", "--scenario", preset, "--iterations", str(args.iterations),
               "--seed", str(seed), "--threads", str(args.threads), "--out", str(out), "--force", "--quiet",
               f"job.budget_usd={budget!r}"] + args.train_args
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"siren train failed ({' '.join(command)}): {done.stderr.strip()}")
    safeguard = next((line for line in done.stdout.splitlines() if line.startswith("safeguard")), "")
    return time.monotonic() - start, safeguard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="only the default preset at its own budget, training seed 0, 60 iterations")
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated presets")
    parser.add_argument("--factors", default=",".join(map(str, BUDGET_FACTORS)),
                        help="budgets as factors of each preset's own (default: %(default)s)")
    parser.add_argument("--train-seeds", type=int, default=3, help="training seeds 0..k-1 (default: %(default)s)")
    parser.add_argument("--seeds", default=None,
                        help="comma-separated training seeds instead of 0..k-1 (e.g. 1,2 to add seeds to a run)")
    parser.add_argument("--held-out", type=int, default=16, help="held-out seeds (default: %(default)s)")
    parser.add_argument("--tuning-seeds", type=int, default=8, help="oracle static tuning seeds (default: 8)")
    parser.add_argument("--iterations", type=int, default=300, help="PPO iterations (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="simulation threads (default: %(default)s)")
    parser.add_argument("--out", default="build/learner_check", help="run folders and results.json")
    parser.add_argument("train_args", nargs="*", help="extra `siren train` arguments (after --)")
    args = parser.parse_args()
    presets = args.presets.split(",")
    factors = [float(f) for f in args.factors.split(",")]
    if args.quick:
        presets, factors, args.train_seeds, args.seeds, args.iterations = ["lenet-mnist"], [1.0], 1, None, 60
    train_seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else list(range(args.train_seeds))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    held_out = list(range(HELD_OUT_FIRST_SEED, HELD_OUT_FIRST_SEED + args.held_out))
    rows = []
    print(f"{'preset':22} {'budget':>7} {'seed':>4} {'oracle':>10} {'policy JCT':>10} {'vs oracle':>9} "
          f"{'success':>11} {'spent':>8} {'over':>4} {'exported':>8} {'train s':>7} {'pass':>4}")
    for preset in presets:
        base = siren.load_scenario(preset)
        for factor in factors:
            budget = round(base.budget_usd * factor, 6)
            scenario = siren.load_scenario(preset, [f"job.budget_usd={budget!r}"])
            n, m = oracle_static(scenario, budget, args.tuning_seeds, args.threads)
            fixed = _core.evaluate_schedule(scenario, [(n, m)], held_out, num_threads=args.threads)
            for seed in train_seeds:
                run = out / f"{preset}-{budget:g}-{seed}"
                wall, safeguard = train(preset, budget, seed, args, run)
                policy, metadata = load_policy(run / "policy.pt")
                learned = evaluate_policy(policy, scenario, held_out)
                ratio = learned["mean_jct_s"] / fixed["mean_jct_s"] - 1
                if abs(ratio) < 1e-12:
                    ratio = 0.0  # The same episodes, means summed in another order.
                passed = (ratio <= TOLERANCE and learned["success_rate"] >= fixed["success_rate"]
                          and learned["over_budget"] == 0)
                row = {"preset": preset, "budget_usd": budget, "train_seed": seed, "oracle": [n, m],
                       "oracle_jct_s": fixed["mean_jct_s"], "oracle_success": fixed["success_rate"],
                       "oracle_cost_usd": fixed["mean_cost_usd"], "policy_jct_s": learned["mean_jct_s"],
                       "policy_success": learned["success_rate"], "policy_cost_usd": learned["mean_cost_usd"],
                       "policy_over_budget": learned["over_budget"], "vs_oracle": ratio,
                       "exported": metadata.get("exported", "learned"), "safeguard": safeguard,
                       "train_wall_s": wall, "pass": passed}
                rows.append(row)
                print(f"{preset:22} {budget:7.4f} {seed:4d} {f'{n}x{m}MB':>10} {learned['mean_jct_s']:10.2f} "
                      f"{100 * ratio:+8.2f}% {learned['success_rate']:5.2f}/{fixed['success_rate']:5.2f} "
                      f"{learned['mean_cost_usd']:8.4f} {learned['over_budget']:4d} "
                      f"{row['exported'].split()[0]:>8} {wall:7.0f} {'yes' if passed else 'NO':>4}", flush=True)
                # Written after every row, so a run cut short keeps the rows it finished.
                (out / "results.json").write_text(json.dumps(
                    {"held_out": held_out, "iterations": args.iterations, "train_args": args.train_args,
                     "rows": rows}, indent=1))
    failed = [r for r in rows if not r["pass"]]
    print(f"{len(rows) - len(failed)}/{len(rows)} pass; results in {out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
