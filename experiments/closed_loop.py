#!/usr/bin/env python3
"""Closed loop against open loop under per-job variability: on a preset
whose jobs differ from episode to episode (dataset size, loss noise, compute
and S3 slowdowns drawn at each reset; sim/engine/job_draw.h), the best
open-loop schedules (the oracle static configuration and a CEM per-epoch
schedule, both tuned over the variability distribution: their tuning seeds
draw different jobs) against a policy that observes each epoch (loss, times,
budget left, dataset scale) and acts on it.

Trains with `siren train` on the preset plus --variability, tunes the
open-loop schedules on seeds 0..k-1, and evaluates every method on the same
held-out seeds (1,000,000 onwards, the same drawn jobs for every method).
Reports the closed-loop gain: the policy's JCT change against the best
open-loop schedule of equal or lower success.

    .venv/bin/python experiments/closed_loop.py --iterations 300
    .venv/bin/python experiments/closed_loop.py --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from policy_runs import (HEADER, QUICK_ORACLE, add_training_arguments, common_success_jct, format_row, policy_row,
                         run_folder, schedule_row, seed_lists, train_policy, write_scenario)

from siren import _core
from siren.baselines import oracle_static
from siren.policy import load_policy

# The per-job variability of the experiment (each a scenario parameter; its
# source is in `siren scenario --describe`).
VARIABILITY = (
    "variability.dataset_scale_range=[0.5, 2.0]",
    "variability.loss_noise_scale_range=[1.0, 4.0]",
    "variability.compute_slowdown_range=[1.0, 2.0]",
    "variability.s3_slowdown_range=[1.0, 2.0]",
)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="default", help="preset name (default: %(default)s)")
    p.add_argument("--budget", type=float, default=0.25, help="job.budget_usd, USD")
    p.add_argument("--variability", default=";".join(VARIABILITY),
                   help="key=value overrides separated by ';' (default: %(default)s)")
    add_training_arguments(p, "the open-loop schedules are")
    p.add_argument("--cem-slots", type=int, default=10, help="CEM epoch slots")
    p.add_argument("--cem-population", type=int, default=48)
    p.add_argument("--cem-iterations", type=int, default=15)
    p.add_argument("--policy", default=None,
                   help="evaluate this exported policy.pt (trained on the same scenario) instead of training")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 iterations, 2 seeds, a coarse oracle, a tiny CEM")
    args = p.parse_args()
    if args.quick:
        args.iterations, args.envs, args.eval_seeds, args.tuning_seeds = 3, 4, 2, 2
        args.cem_population, args.cem_iterations, args.cem_slots = 8, 2, 4
    return args


def main() -> int:
    args = parse_args()
    overrides = [f"job.budget_usd={args.budget}"] + [x for x in args.variability.split(";") if x]
    held_out, tuning = seed_lists(args)
    with tempfile.TemporaryDirectory() as tmp:
        out, yaml = run_folder(args.out, tmp)
        scenario = write_scenario(args.scenario, overrides, yaml)
        if args.policy:
            policy, train_s = load_policy(args.policy)[0], float("nan")
        else:
            policy, train_s = train_policy(yaml, out, args.iterations, args.envs, args.threads, args.seed)
    threads = args.threads
    best = oracle_static(scenario, tuning, num_threads=threads, **(QUICK_ORACLE if args.quick else {}))["best"]
    oracle = schedule_row(scenario, [(best["functions"], best["memory_mb"])], held_out,
                          "oracle static (open)", threads)
    cem = _core.cem_search(scenario, tuning, slots=args.cem_slots, population=args.cem_population,
                           iterations=args.cem_iterations, initial=(best["functions"], best["memory_mb"]),
                           include=[[(best["functions"], best["memory_mb"])]], num_threads=threads)
    cem_row = schedule_row(scenario, [tuple(pair) for pair in cem["schedule"]], held_out, "CEM schedule (open)",
                           threads)
    mine = policy_row(policy, scenario, held_out, "policy (closed loop)", "observes each epoch")
    print(f"scenario={scenario.name} budget={args.budget} variability: {'; '.join(overrides[1:])}")
    trained = (f"loaded from {args.policy}" if args.policy
               else f"{args.iterations} iterations x {args.envs} envs, seed {args.seed}, {train_s:.0f} s")
    print(f"policy: {trained}; "
          f"open-loop schedules tuned on seeds 0..{tuning[-1]} (each a different drawn job); "
          f"held-out seeds {held_out[0]}..{held_out[-1]}")
    jobs = [_core.draw_episode_job(scenario, seed) for seed in held_out]
    for key in ("dataset_scale", "loss_noise_scale", "compute_slowdown", "s3_slowdown"):
        values = [job[key] for job in jobs]
        print(f"  held-out {key}: {min(values):.3f}..{max(values):.3f}")
    open_loop = [oracle, cem_row]
    reference = min((row for row in open_loop), key=lambda r: (-r["success_rate"], r["mean_jct_s"]))
    print(HEADER)
    for row in (mine, oracle, cem_row):
        print(format_row(row, reference))
    seeds, means = common_success_jct([mine, oracle, cem_row])
    print(f"on the {len(seeds)} held-out seeds every method converged: mean JCT policy {means[0]:.2f} s, "
          f"oracle static {means[1]:.2f} s, CEM {means[2]:.2f} s (policy {(means[1] - means[0]) / means[1]:+.1%} "
          f"vs oracle static)")
    if mine["success_rate"] < reference["success_rate"]:
        print(f"closed-loop gain: none (lower success: {mine['success_rate']:.3f} vs "
              f"{reference['success_rate']:.3f} for {reference['method']})")
    else:
        # Success first; JCT only where both finished (an unfinished job's JCT
        # is the time the budget stopped it).
        both, (policy_jct, reference_jct) = common_success_jct([mine, reference])
        gain = (reference_jct - policy_jct) / reference_jct if both else float("nan")
        finished = round(mine["success_rate"] * len(held_out)), round(reference["success_rate"] * len(held_out))
        print(f"closed-loop gain vs the best open-loop schedule ({reference['method']}): success "
              f"{mine['success_rate']:.3f} vs {reference['success_rate']:.3f} ({finished[0]} vs {finished[1]} of "
              f"{len(held_out)} jobs finished within budget); JCT {gain:+.1%} on the {len(both)} seeds both finished "
              f"(negative = slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
