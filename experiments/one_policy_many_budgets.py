#!/usr/bin/env python3
"""One policy for many budgets: a policy trained once over a range of
budgets (job.budget_range, drawn per episode; the observation carries the
episode's budget) against the oracle static configuration and grid search
each tuned for one budget alone. With --action-clamp budget the policy
trains and runs under env.action_clamp budget (an epoch the guard would
refuse runs as the closest affordable one), and the oracle static
configuration is also shown run with the clamp; the check stays against
the static configuration.

Trains with `siren train` on the preset plus job.budget_range (its anchor
is the table of oracle static configurations at --anchor-budgets grid
budgets over the range, agent/trainer/anchor_table.h), then at each budget
of --budgets evaluates, on the same held-out seeds (1,000,000 onwards): the
policy (deterministic), the oracle static configuration and GS, both tuned
on seeds 0..k-1 at that budget, and the anchor table alone under two
lookups: "floor" (the trainer's: the configuration of the largest grid
budget <= the job's) and "interpolated" (the Box actions of the two
neighbouring grid budgets mixed linearly in log budget, then decoded; a
measurement of that alternative, not what the trainer exports). Each
budget is marked as a row of the table or not (its rows: --anchor-budgets
grid budgets, refined between them by the trainer's --anchor-gap). The
check: at every budget the policy finishes at least as many jobs as the
oracle static configuration, none over budget, and its mean JCT on the
seeds both converged on (over all when none) is within --tolerance (2 %) of the oracle static
one.

    .venv/bin/python experiments/one_policy_many_budgets.py --iterations 200 \
        --budgets 0.10,0.11,0.165,0.25,0.37,0.45,0.50
    .venv/bin/python experiments/one_policy_many_budgets.py --quick   # a smoke run
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile

import numpy as np
from policy_runs import (HEADER, QUICK_ORACLE, add_training_arguments, common_success_jct, format_row, policy_row,
                         run_folder, schedule_row, seed_lists, train_policy, write_scenario)

from siren import _core
from siren.baselines import oracle_static
from siren.policy import load_policy


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="default", help="preset name (default: %(default)s)")
    p.add_argument("--budgets", default="0.10,0.20,0.30,0.40,0.50", help="evaluation budgets, USD")
    p.add_argument("--budget-range", default="0.10,0.50", help="training range lo,hi, USD")
    p.add_argument("--budget-draw", default="log_uniform", choices=["log_uniform", "uniform"])
    p.add_argument("--anchor-budgets", type=int, default=9, help="grid budgets of the policy's anchor table")
    add_training_arguments(p, "the baselines are")
    p.add_argument("--anchor-gap", type=float, default=0.015,
                   help="the trainer's --anchor-gap: rows added between grid budgets until neighbouring rows' "
                        "tuning JCTs differ by at most this share (default: %(default)s; 0: grid budgets only)")
    p.add_argument("--action-clamp", choices=["none", "budget"], default="none",
                   help="env.action_clamp the policy trains and runs with (budget: an epoch the guard would refuse "
                        "runs as the closest affordable one); with budget, the oracle static configuration is also "
                        "shown run with the clamp (default: %(default)s)")
    p.add_argument("--tolerance", type=float, default=0.02, help="check: JCT at most oracle x (1 + this)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: 3 iterations, 2 budgets, 2 seeds, a coarse oracle")
    args = p.parse_args()
    if args.quick:
        args.iterations, args.envs, args.eval_seeds, args.tuning_seeds = 3, 4, 2, 2
        args.budgets, args.anchor_budgets, args.anchor_gap = "0.10,0.30,0.50", 2, 0.0
    return args


def budget_label(budget: float) -> str:
    """0.10, 0.50; 0.165 with the digits it needs."""
    return f"{budget:.2f}" if round(budget, 2) == budget else f"{budget:g}"


def static_policy(scenario: _core.Scenario, configuration: tuple[int, int]):
    """A policy (as `policy_episode` calls one) that always asks for
    `configuration`: a static configuration run through the env, so under
    env.action_clamp."""
    import torch

    action = torch.from_numpy(_core.Env(scenario, "box").encode(*configuration).astype(np.float32))[None]
    return lambda observation: action


def table_configurations(policy, table: dict, scenario: _core.Scenario, budget: float,
                         draw: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The anchor table's static configuration at `budget` under the floor
    lookup (the trainer's) and under interpolation between the neighbouring
    grid budgets (Box actions mixed linearly in log budget, or in budget for
    a uniform draw, then decoded)."""
    budgets = table["budgets_usd"]
    cells = policy.anchor_table[:, 0, :].numpy().astype(np.float64)
    lo = max([k for k, b in enumerate(budgets) if b <= budget * (1 + 1e-6)], default=0)
    floor = tuple(table["rows"][lo][0])
    if lo + 1 >= len(budgets) or budget <= budgets[lo]:
        return floor, floor
    scale = math.log if draw == "log_uniform" else (lambda x: x)
    t = (scale(budget) - scale(budgets[lo])) / (scale(budgets[lo + 1]) - scale(budgets[lo]))
    decoded = _core.Env(scenario, "box").decode((1 - t) * cells[lo] + t * cells[lo + 1])
    return floor, (decoded["functions"], decoded["memory_mb"])


def main() -> int:
    args = parse_args()
    lo, hi = (float(x) for x in args.budget_range.split(","))
    budgets = [float(x) for x in args.budgets.split(",")]
    held_out, tuning = seed_lists(args)
    with tempfile.TemporaryDirectory() as tmp:
        out, yaml = run_folder(args.out, tmp)
        clamp = [f"env.action_clamp={args.action_clamp}"]
        trained_on = write_scenario(args.scenario, [f"job.budget_range=[{lo}, {hi}]",
                                                    f"job.budget_draw={args.budget_draw}", *clamp], yaml)
        policy, train_s = train_policy(yaml, out, args.iterations, args.envs, args.threads, args.seed,
                                       ("--anchor-budgets", str(args.anchor_budgets),
                                        "--anchor-gap", repr(args.anchor_gap),
                                        "--tuning-seeds", str(args.tuning_seeds)))
        _, metadata = load_policy(out / "policy.pt")
    table = metadata["anchor_table"]
    print(f"anchor table ({len(table['budgets_usd'])} rows: {args.anchor_budgets} grid budgets, gap "
          f"{args.anchor_gap:g}; exported: {metadata['exported']}): "
          + ", ".join(f"${b:.4f} {row[0][0]} x {row[0][1]} MB" for b, row in zip(table["budgets_usd"], table["rows"])))
    print(f"scenario={trained_on.name} trained once on job.budget_range=[{lo}, {hi}] ({args.budget_draw}), "
          f"env.action_clamp={args.action_clamp}, {args.iterations} iterations x {args.envs} envs, "
          f"seed {args.seed}, {train_s:.0f} s; "
          f"held-out seeds {held_out[0]}..{held_out[-1]}; baselines tuned per budget on seeds 0..{tuning[-1]}")
    print(HEADER)
    checks = []
    for budget in budgets:
        scenario = _core.load_scenario(args.scenario, [f"job.budget_usd={budget}"])
        best = oracle_static(scenario, tuning, budget, num_threads=args.threads,
                             **(QUICK_ORACLE if args.quick else {}))["best"]
        oracle = schedule_row(scenario, [(best["functions"], best["memory_mb"])], held_out, "oracle static",
                              args.threads)
        gs = _core.grid_search(scenario, [budget], tuning, num_threads=args.threads)[0]["best"]
        gs_row = schedule_row(scenario, [(gs["functions"], gs["memory_mb"])], held_out, "GS", args.threads)
        # The policy runs as it trained (the clamp, when on, is its own).
        clamped = _core.load_scenario(args.scenario, [f"job.budget_usd={budget}", *clamp])
        mine = policy_row(policy, clamped, held_out, "one policy (all budgets)", "trained once")
        extra = []
        if args.action_clamp != "none":
            extra.append(policy_row(static_policy(clamped, (best["functions"], best["memory_mb"])), clamped,
                                    held_out, "oracle static + clamp", oracle["config"]))
        on_grid = any(math.isclose(budget, b, rel_tol=1e-9) for b in table["budgets_usd"])
        floor, mixed = table_configurations(policy, table, scenario, budget, args.budget_draw)
        floor_row = schedule_row(scenario, [floor], held_out, "table alone, floor", args.threads)
        mixed_row = schedule_row(scenario, [mixed], held_out, "table alone, interp.", args.threads)
        label = budget_label(budget)
        print(f"budget {label}: {'a grid point' if on_grid else 'not a grid point'} of the anchor table")
        for row in (mine, oracle, *extra, gs_row, floor_row, mixed_row):
            print(format_row(row, oracle, label))
        seeds, means = common_success_jct([mine, oracle])
        print(f"        on the {len(seeds)} seeds both converged: policy {means[0]:.2f} s, oracle static "
              f"{means[1]:.2f} s ({(means[1] - means[0]) / means[1]:+.1%})")
        # Success first; JCT on the seeds both converged on (an unfinished
        # job's JCT is the time the budget stopped it), over all episodes
        # when there are none (as learner_check.verdict).
        policy_jct, oracle_jct = means if seeds else (mine["mean_jct_s"], oracle["mean_jct_s"])
        ok = (mine["success_rate"] >= oracle["success_rate"] and mine["over_budget"] == 0
              and policy_jct <= oracle_jct * (1 + args.tolerance))
        checks.append((budget, ok, policy_jct / oracle_jct - 1))
        for row in extra:
            # The same rule against the oracle static configuration with the
            # clamp (shown, not the check: the baseline is a static one).
            seeds_c, means_c = common_success_jct([mine, row])
            jct_c = means_c if seeds_c else (mine["mean_jct_s"], row["mean_jct_s"])
            ok_c = (mine["success_rate"] >= row["success_rate"] and mine["over_budget"] == 0
                    and jct_c[0] <= jct_c[1] * (1 + args.tolerance))
            print(f"        against the {row['method']}: success {mine['success_rate']:.3f} vs "
                  f"{row['success_rate']:.3f}, JCT {jct_c[0] / jct_c[1] - 1:+.1%} on {len(seeds_c)} seeds both "
                  f"converged on: {'pass' if ok_c else 'fail'}")
    for budget, ok, excess in checks:
        print(f"check budget={budget_label(budget)}: policy JCT {excess:+.1%} vs oracle static on the seeds both "
              f"converged on, {'PASS' if ok else 'FAIL'} (<= +{args.tolerance:.0%}, no lower success, no overspend)")
    print(f"check overall: {'PASS' if all(ok for _, ok, _ in checks) else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
