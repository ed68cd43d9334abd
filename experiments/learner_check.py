"""The learner's check: never worse than the oracle static schedule.

For every preset and 3 budgets (0.6x, 1x and 1.6x the preset's own budget),
the trainer (``siren train``) runs with 3 training seeds; each exported
policy runs on 16 held-out seeds (``siren evaluate``'s, from 1,000,000) beside
the oracle static configuration searched as ``siren evaluate`` does (grid
search on seeds 0..7, then the oracle static search with the grid's optimum
included). A run passes when its success rate is not lower than the oracle static
one's, no episode spends more than the budget, and its mean JCT on the
held-out seeds both converged on is at most 1 % above the oracle static
one's (success first, as `siren evaluate` and the trainer's safeguard
order methods; an unfinished episode's JCT is the time the budget stopped
it, so the mean over all episodes would reward failing early). Prints one
row per (preset, budget, training seed) and writes them as JSON (after
every row). Each row carries both ratios: over all episodes (`vs_oracle`,
the column printed) and on the seeds both converged on
(`vs_oracle_common`, the one the rule uses), the per-seed JCTs and the
paired standard error (`paired_se`).

    .venv/bin/python experiments/learner_check.py            # full: 4 x 3 x 3 trainings
    .venv/bin/python experiments/learner_check.py --quick    # default preset, its budget, seed 0
    .venv/bin/python experiments/learner_check.py --presets lenet-mnist --iterations 300
    .venv/bin/python experiments/learner_check.py --presets lenet-mnist --seeds 1,2   # more seeds
    .venv/bin/python experiments/learner_check.py --reuse ...   # re-evaluate run folders, no training

Slow (each training runs --iterations PPO iterations and the safeguard's
validation); kept out of CI. tests/python/test_learner.py checks the cheap
part (a short training never exports a policy worse than the oracle static
one on a small preset); tests/python/test_learner_check.py runs this script
on one cell with 2 iterations and checks the pass rule.
experiments/learner_check_report.py merges split runs and prints tables.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import siren
from siren import _core
from siren.policy import HELD_OUT_FIRST_SEED, load_policy, policy_episode, summarise_policy_episodes

PRESETS = ["lenet-mnist", "logreg-click-through", "cnn-movie-reviews", "softmax-digits"]
BUDGET_FACTORS = (0.6, 1.0, 1.6)  # Of each preset's own budget: $0.15, 0.25, 0.40 on lenet-mnist.
TOLERANCE = 0.01  # The policy's mean JCT may be at most 1 % above the oracle static one.


def oracle_static(scenario: _core.Scenario, budget: float, tuning: int, threads: int) -> tuple[int, int]:
    """The oracle static configuration at `budget`, searched as `siren evaluate` does."""
    seeds = list(range(tuning))
    [gs] = _core.grid_search(scenario, [budget], seeds, num_threads=threads)
    best = (gs["best"]["functions"], gs["best"]["memory_mb"])
    [oracle] = _core.oracle_static(scenario, [budget], seeds, include=[best], num_threads=threads)
    return oracle["best"]["functions"], oracle["best"]["memory_mb"]


def train(preset: str, budget: float, seed: int, args: argparse.Namespace, out: Path) -> tuple[float, str]:
    """Trains one policy; returns the wall time and the trainer's safeguard line."""
    command = [sys.executable, "-m", "siren", "train", "--scenario", preset, "--iterations", str(args.iterations),
               "--seed", str(seed), "--tuning-seeds", str(args.tuning_seeds), "--threads", str(args.threads),
               "--out", str(out), "--force", "--quiet",
               f"job.budget_usd={budget!r}"] + args.train_args
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"siren train failed ({' '.join(command)}): {done.stderr.strip()}")
    safeguard = next((line for line in done.stdout.splitlines() if line.startswith("safeguard")), "")
    wall = time.monotonic() - start
    (out / "check_training.json").write_text(json.dumps({"wall_s": wall, "safeguard": safeguard}))  # For --reuse.
    return wall, safeguard


def trained(out: Path) -> tuple[float | None, str]:
    """The wall time and safeguard line `train` saved in run folder `out`
    (None and "" for a folder trained otherwise)."""
    saved = out / "check_training.json"
    if not saved.exists():
        return None, ""
    document = json.loads(saved.read_text())
    return document["wall_s"], document["safeguard"]


def verdict(learned: dict, fixed: dict) -> tuple[float, bool]:
    """The check on one run: the policy's mean JCT against the oracle static
    one's (ratio - 1; 0 when they are equal up to summation order), and
    whether it passes (at most TOLERANCE above, at least the static success
    rate, no episode over the budget). `learned` and `fixed` carry
    mean_jct_s, success_rate and over_budget (a count), and may carry
    common_jct_s, the mean JCT on the held-out seeds both converged on: then
    the JCTs compared are those (success first, as `siren evaluate` and the
    trainer's safeguard order methods: the JCT of an unfinished episode is
    the time the budget stopped it, not a completion time), else the means
    over all episodes."""
    key = "common_jct_s" if learned.get("common_jct_s") and fixed.get("common_jct_s") else "mean_jct_s"
    ratio = learned[key] / fixed[key] - 1
    if abs(ratio) < 1e-12:
        ratio = 0.0  # The same episodes, means summed in another order.
    slower = learned[key] > fixed[key] * (1 + TOLERANCE)  # Not via `ratio`: 101/100 - 1 > 0.01.
    passed = not slower and learned["success_rate"] >= fixed["success_rate"] and learned["over_budget"] == 0
    return ratio, passed


def common_mean_jct(policy_jct: dict[int, float], policy_success: dict[int, bool],
                    fixed_jct: dict[int, float], fixed_success: dict[int, bool]) -> tuple[float, float] | None:
    """The mean JCT of the policy and of the oracle static configuration on
    the seeds both converged on (None when none)."""
    seeds = [seed for seed in policy_jct if policy_success[seed] and fixed_success[seed]]
    if not seeds:
        return None
    return (sum(policy_jct[s] for s in seeds) / len(seeds), sum(fixed_jct[s] for s in seeds) / len(seeds))


def common_success_ratio(policy_jct: dict[int, float], policy_success: dict[int, bool],
                         fixed_jct: dict[int, float], fixed_success: dict[int, bool]) -> tuple[float | None, int]:
    """The policy's mean JCT over the oracle static one's - 1 on the seeds
    both converged on, and how many seeds that is (None when none)."""
    seeds = [seed for seed in policy_jct if policy_success[seed] and fixed_success[seed]]
    if not seeds:
        return None, 0
    ratio = sum(policy_jct[s] for s in seeds) / sum(fixed_jct[s] for s in seeds) - 1
    return (0.0 if abs(ratio) < 1e-12 else ratio), len(seeds)


def paired_standard_error(policy_jct: list[float], fixed_jct: list[float]) -> float | None:
    """The standard error of the mean per-seed JCT difference (policy -
    static, the same seeds in the same order) as a share of the static mean
    JCT: how finely these seeds resolve the ratio. None below 2 seeds."""
    if len(policy_jct) < 2:
        return None
    diffs = [p - f for p, f in zip(policy_jct, fixed_jct, strict=True)]
    mean = sum(diffs) / len(diffs)
    variance = sum((d - mean) ** 2 for d in diffs) / (len(diffs) - 1)
    return (variance / len(diffs)) ** 0.5 / (sum(fixed_jct) / len(fixed_jct))


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
    parser.add_argument("--tuning-seeds", type=int, default=8,
                        help="oracle static tuning seeds, here and in the trainer's anchor (default: %(default)s)")
    parser.add_argument("--iterations", type=int, default=300, help="PPO iterations (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="simulation threads (default: %(default)s)")
    parser.add_argument("--out", default="build/learner_check", help="run folders and results.json")
    parser.add_argument("--reuse", action="store_true",
                        help="evaluate the policy.pt already in a run folder instead of training it again "
                             "(its wall time and safeguard line kept from the training)")
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
    document = {"command": sys.argv, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "held_out": held_out, "tuning_seeds": args.tuning_seeds, "iterations": args.iterations,
                "train_args": args.train_args, "rows": []}
    rows = document["rows"]
    print(f"{'preset':22} {'budget':>7} {'seed':>4} {'oracle':>10} {'policy JCT':>10} {'vs oracle':>9} "
          f"{'common':>8} {'success':>11} {'spent':>8} {'over':>4} {'exported':>8} {'train s':>7} {'pass':>4}")
    for preset in presets:
        base = siren.load_scenario(preset)
        for factor in factors:
            budget = round(base.budget_usd * factor, 6)
            scenario = siren.load_scenario(preset, [f"job.budget_usd={budget!r}"])
            n, m = oracle_static(scenario, budget, args.tuning_seeds, args.threads)
            fixed = _core.evaluate_schedule(scenario, [(n, m)], held_out, num_threads=args.threads)
            for seed in train_seeds:
                run = out / f"{preset}-{budget:g}-{seed}"
                if args.reuse and (run / "policy.pt").exists():
                    wall, safeguard = trained(run)
                else:
                    wall, safeguard = train(preset, budget, seed, args, run)
                policy, metadata = load_policy(run / "policy.pt")
                episodes = [policy_episode(policy, scenario, s) for s in held_out]
                learned = summarise_policy_episodes(episodes)
                by_seed = ({e["seed"]: e["jct_s"] for e in episodes}, {e["seed"]: e["success"] for e in episodes},
                           {e["seed"]: e["jct_s"] for e in fixed["episodes"]},
                           {e["seed"]: e["status"] == "converged" for e in fixed["episodes"]})
                common, common_seeds = common_success_ratio(*by_seed)
                both = common_mean_jct(*by_seed)
                ratio = verdict(learned, fixed)[0]  # Over all episodes, as reported before.
                _, passed = verdict({**learned, "common_jct_s": both and both[0]},
                                    {**fixed, "common_jct_s": both and both[1]})
                policy_jct, fixed_jct = [e["jct_s"] for e in episodes], [e["jct_s"] for e in fixed["episodes"]]
                row = {"preset": preset, "budget_usd": budget, "train_seed": seed, "oracle": [n, m],
                       "oracle_jct_s": fixed["mean_jct_s"], "oracle_success": fixed["success_rate"],
                       "oracle_cost_usd": fixed["mean_cost_usd"], "oracle_over_budget": fixed["over_budget"],
                       "policy_jct_s": learned["mean_jct_s"], "policy_success": learned["success_rate"],
                       "policy_cost_usd": learned["mean_cost_usd"], "policy_over_budget": learned["over_budget"],
                       "vs_oracle": ratio, "vs_oracle_common": common, "common_seeds": common_seeds,
                       "paired_se": paired_standard_error(policy_jct, fixed_jct),
                       "policy_jct_by_seed": policy_jct, "oracle_jct_by_seed": fixed_jct,
                       "exported": metadata.get("exported", "learned"), "anchor": metadata.get("anchor"),
                       "safeguard": safeguard, "train_wall_s": wall, "pass": passed}
                rows.append(row)
                print(f"{preset:22} {budget:7.4f} {seed:4d} {f'{n}x{m}MB':>10} {learned['mean_jct_s']:10.2f} "
                      f"{100 * ratio:+8.2f}% {'-' if common is None else f'{100 * common:+7.2f}%':>8} {learned['success_rate']:5.2f}/{fixed['success_rate']:5.2f} "
                      f"{learned['mean_cost_usd']:8.4f} {learned['over_budget']:4d} "
                      f"{row['exported'].split()[0]:>8} {'-' if wall is None else f'{wall:.0f}':>7} "
                      f"{'yes' if passed else 'NO':>4}", flush=True)
                # Written after every row, so a run cut short keeps the rows it finished.
                (out / "results.json").write_text(json.dumps(document, indent=1))
    failed = [r for r in rows if not r["pass"]]
    print(f"{len(rows) - len(failed)}/{len(rows)} pass; results in {out / 'results.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    raise SystemExit(main())
