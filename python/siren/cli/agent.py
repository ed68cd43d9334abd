"""``siren train``, ``siren export`` and ``siren evaluate``: the libtorch
scheduler from the command line.

``train`` and ``export`` run ``siren-agent``, the C++ trainer installed beside
``siren._core`` (built when torch was importable at install time; it links the
libtorch of that torch). ``evaluate`` runs an exported TorchScript policy with
Python's torch on held-out seeds and compares it, budget by budget, with the
baselines of ``agent/baselines`` (grid search GS, the oracle static
configuration, the hand schedule, optionally the CEM bound) and the EC2
cluster, under the rules of ``siren.comparison`` (JCT compared only at equal
success).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from siren import _core
from siren._argtypes import checked_list, non_negative_float, non_negative_int, positive_int
from siren.backends import Backend, CemJob, PolicyJob, ScheduleJob
from siren.cli._common import (
    add_backend_arguments,
    add_oracle_arguments,
    add_overrides,
    add_quiet,
    backend_from_args,
    describe_oracle,
    oracle_options,
    progress_bar,
)
from siren.comparison import BASELINES, add_comparisons, table_lines
from siren.outputs import check_output_file, check_output_folder
from siren.policy import HELD_OUT_FIRST_SEED, agent_path, export_onnx, load_policy

__all__ = ["add_commands"]


# --- train, export ----------------------------------------------------------


def _agent(command: list[str]) -> int:
    """Runs siren-agent; its errors read `siren: error: ...` (exit 2)."""
    return subprocess.call(command, env=dict(os.environ, SIREN_AGENT_PROG="siren"))


def cmd_train(args: argparse.Namespace) -> int:
    check_output_folder(args.out, "--out")
    command = [str(agent_path()), "train", "--scenario", args.scenario, "--algorithm", args.algorithm,
               "--iterations", str(args.iterations), "--envs", str(args.envs),
               "--threads", str(args.threads), "--seed", str(args.seed), "--out", args.out,
               "--lr", str(args.lr), "--checkpoint-every", str(args.checkpoint_every),
               "--anchor", args.anchor, "--anchor-budgets", str(args.anchor_budgets),
               "--anchor-gap", repr(args.anchor_gap),
               "--tuning-seeds", str(args.tuning_seeds),
               "--validation-seeds", str(args.validation_seeds), "--safeguard-z", repr(args.safeguard_z),
               "--safeguard-max-slowdown", repr(args.safeguard_max_slowdown),
               "--lr-schedule", args.lr_schedule,
               "--initial-log-std", repr(args.initial_log_std)]
    if args.no_safeguard:
        command.append("--no-safeguard")
    if args.no_anchor_cliff_search:
        command.append("--no-anchor-cliff-search")
    if args.resume:
        command.append("--resume")
    if args.force:
        command.append("--force")
    if args.quiet:
        command.append("--quiet")
    if args.stop_after:
        command += ["--stop-after", str(args.stop_after)]
    if args.snapshot_every:
        command += ["--snapshot-every", str(args.snapshot_every)]
    if args.max_train_s:
        command += ["--max-train-s", repr(args.max_train_s)]
    return _agent(command + list(args.overrides))


def cmd_export(args: argparse.Namespace) -> int:
    check_output_file(args.out, "--out")
    if args.onnx is not None:
        check_output_file(args.onnx, "--onnx")
    code = _agent([str(agent_path()), "export", "--checkpoint", args.checkpoint, "--out", args.out])
    if code != 0 or args.onnx is None:
        return code
    for path in export_onnx(args.out, args.onnx):
        print(f"onnx={path}")
    return 0


# --- evaluate ---------------------------------------------------------------


def _scenario_at(yaml: str, overrides: list[str], budget: float) -> _core.Scenario:
    return _core.parse_scenario(yaml, overrides + [f"job.budget_usd={budget!r}"], "policy scenario")


def _row(method: str, budget: float | None, result: dict[str, Any], seeds: int, config: str) -> dict[str, Any]:
    return {"method": method, "budget_usd": budget, "success_rate": result["success_rate"],
            "over_budget": result["over_budget"], "seeds": seeds, "mean_cost_usd": result["mean_cost_usd"],
            "mean_jct_s": result["mean_jct_s"], "config": config}


def _evaluation_rows(args: argparse.Namespace, backend: Backend, yaml: str, overrides: list[str],
                     base: _core.Scenario, budgets: list[float], held_out: list[int],
                     tuning: list[int], oracle_seeds: list[int], bar: Any) -> tuple[list[dict[str, Any]], list[dict]]:
    """The comparison table: per budget the policy, GS, the oracle static
    configuration, the hand schedule and (--cem) the CEM bound on the
    held-out seeds, then the EC2 rows, each with its comparisons against GS
    and the oracle static row (siren.comparison); and the oracle searches.
    `bar` advances after each phase."""
    bar.set_description("evaluate: grid search")
    [gs_all] = backend.grid_search(base, budgets, tuning, [[]])
    bar.update(1)
    bests = [(gs["best"]["functions"], gs["best"]["memory_mb"]) for gs in gs_all]
    oracles: list[dict] = []
    if not args.no_oracle:
        bar.set_description("evaluate: oracle static")
        oracles = backend.oracle_static(base, budgets, oracle_seeds, {**oracle_options(args), "include": bests})
        bar.update(1)
    oracle_bests = [(o["best"]["functions"], o["best"]["memory_mb"]) for o in oracles]
    hand = _core.hand_schedule(base)
    scenarios = [_scenario_at(yaml, overrides, budget) for budget in budgets]
    bar.set_description("evaluate: policy")
    learned = backend.evaluate_policy(args.policy, [PolicyJob(scenario, held_out) for scenario in scenarios])
    bar.update(1)
    bar.set_description("evaluate: GS, oracle static and hand schedule")
    evaluations = backend.evaluate_schedules(
        [ScheduleJob(scenario, [best], held_out) for scenario, best in zip(scenarios, bests)]
        + [ScheduleJob(scenario, [best], held_out) for scenario, best in zip(scenarios, oracle_bests)]
        + [ScheduleJob(scenario, hand, held_out) for scenario in scenarios])
    bar.update(1)
    count = len(budgets)
    gs_evals, hand_evals = evaluations[:count], evaluations[count + len(oracles):]
    oracle_evals = evaluations[count:count + len(oracles)]
    if args.cem:
        bar.set_description("evaluate: CEM")
        cems = backend.cem_search([CemJob(scenario, tuning, {"slots": args.cem_slots, "initial": best,
                                                             "include": [[best]]})
                                   for scenario, best in zip(scenarios, bests)])
        cem_evals = backend.evaluate_schedules([ScheduleJob(scenario, cem["schedule"], held_out)
                                                for scenario, cem in zip(scenarios, cems)])
        bar.update(1)
    rows: list[dict[str, Any]] = []
    seeds = len(held_out)
    for index, budget in enumerate(budgets):
        best = bests[index]
        rows.append(_row("policy", budget, learned[index], seeds, "exported policy"))
        rows.append(_row("GS", budget, gs_evals[index], seeds, f"{best[0]} x {best[1]} MB"))
        if oracles:
            n, m = oracle_bests[index]
            rows.append(_row("oracle static", budget, oracle_evals[index], seeds, f"{n} x {m} MB"))
        rows.append(_row("hand", budget, hand_evals[index], seeds,
                         ",".join(f"{n}:{m}" for n, m in hand[:3]) + ",..."))
        if args.cem:
            schedule = cems[index]["schedule"]
            rows.append(_row("CEM bound", budget, cem_evals[index], seeds,
                             ",".join(f"{n}:{m}" for n, m in schedule[:4]) + ",..."))
    for r in _core.ec2_baseline(base):
        result = {"success_rate": 1.0 if r["converged"] else 0.0, "over_budget": None,
                  "mean_cost_usd": r["cost_usd"], "mean_jct_s": r["time_s"]}
        rows.append(_row(f"EC2 {r['instance_type']} x{r['instances']}", None, result, 1,
                         f"{r['epochs']} epochs, budget not applied"))
    add_comparisons(rows, BASELINES if oracles else BASELINES[:1])
    return rows, oracles


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.json is not None:
        check_output_file(args.json, "--json")
    _, metadata = load_policy(args.policy)
    # Every row is at one budget: a policy trained over job.budget_range is
    # evaluated at each budget of --budgets (default job.budget_usd), not
    # over its training range.
    overrides = ["job.budget_range=[]", *args.overrides]
    if args.scenario is not None:
        yaml = _core.load_scenario(args.scenario).to_yaml()
    else:
        yaml = metadata["scenario_yaml"]
    base = _core.parse_scenario(yaml, overrides, "policy scenario")
    budgets = args.budgets or [base.budget_usd]
    held_out = list(range(args.first_seed, args.first_seed + args.seeds))
    tuning = list(range(args.tuning_seeds))
    oracle_seeds = list(range(args.oracle_seeds or args.tuning_seeds))
    threads = args.threads or os.cpu_count() or 1
    baselines = BASELINES[:1] if args.no_oracle else BASELINES

    backend = backend_from_args(args, threads)
    with progress_bar(3 + (not args.no_oracle) + bool(args.cem), "evaluate", args.quiet, unit="phase") as bar:
        try:
            rows, oracles = _evaluation_rows(args, backend, yaml, overrides, base, budgets, held_out, tuning,
                                             oracle_seeds, bar)
        finally:
            backend.close()

    tuned = f"GS tuned on seeds 0..{len(tuning) - 1}"
    if oracles:
        tuned += f", oracle static on seeds 0..{len(oracle_seeds) - 1}"
    print(f"policy={args.policy} scenario={base.name} held-out seeds {held_out[0]}..{held_out[-1]} ({tuned})")
    if oracles:
        print(describe_oracle(base, oracle_options(args)))
    for line in table_lines([dict(row, config_text=row["config"]) for row in rows], baselines):
        print(line)
    if args.json is not None:
        document = {"policy": str(args.policy), "scenario": base.name, "held_out_seeds": held_out,
                    "tuning_seeds": tuning, "budgets": budgets, "rows": rows}
        if oracles:
            document["oracle_static"] = {
                "seeds": oracle_seeds, "options": oracle_options(args),
                "searches": [{key: o[key] for key in ("budget_usd", "coarse_points", "evaluated", "rounds",
                                                      "local_optimum")}
                             | {"functions": o["best"]["functions"], "memory_mb": o["best"]["memory_mb"],
                                "tuning_mean_jct_s": o["best"]["mean_jct_s"],
                                "tuning_success_rate": o["best"]["success_rate"]}
                             for o in oracles]}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        print(f"json={args.json}")
    return 0


_budget_list = checked_list(float, lambda v: 0 < v < float("inf"), "comma-separated dollar amounts",
                            "positive finite budgets")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``train``, ``export`` and ``evaluate`` to the ``siren`` parser."""
    p = sub.add_parser("train", help="train the libtorch scheduler on the simulator (siren-agent)")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--algorithm", choices=["ppo", "reinforce"], default="ppo",
                   help="PPO (default) or SIREN's REINFORCE with a learned baseline")
    p.add_argument("--iterations", type=positive_int, default=300, help="iterations (default: %(default)s)")
    p.add_argument("--envs", type=positive_int, default=16,
                   help="envs = episodes per iteration (default: %(default)s)")
    p.add_argument("--threads", type=positive_int, default=2, help="env threads (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--checkpoint-every", type=positive_int, default=10,
                   help="iterations between checkpoints (default: %(default)s)")
    p.add_argument("--anchor", choices=["oracle", "schedule", "none"], default="oracle",
                   help="oracle (default): the policy is the oracle static action (searched on the tuning seeds "
                        "as `siren evaluate` does; with job.budget_range one per grid budget) plus a learned "
                        "residual; schedule: the best open-loop per-epoch schedule searched from it (structured "
                        "ramps and CEM); none: a free policy from the action box's centre")
    p.add_argument("--anchor-budgets", type=positive_int, default=9,
                   help="grid budgets of the anchor table over job.budget_range, both ends included; an "
                        "episode uses the largest one <= its budget (default: %(default)s)")
    p.add_argument("--anchor-gap", type=non_negative_float, default=0.015,
                   help="--anchor oracle with job.budget_range: rows are added between the grid budgets (a narrow "
                        "oracle search each) until neighbouring rows' tuning JCTs differ by at most this share, so "
                        "at any budget of the range the table is within about that of the best configuration "
                        "its searches found (default: %(default)s; 0: the grid budgets alone)")
    p.add_argument("--no-anchor-cliff-search", action="store_true",
                   help="refine the table without the cliff search: by default the refinement's searches also "
                        "start from the configurations of the rows just above a budget, projected inside it, and "
                        "a row below a cost cliff (a JCT drop the 0.2 %% spacing cannot split) is searched again")
    p.add_argument("--tuning-seeds", type=positive_int, default=8,
                   help="seeds 0..k-1 of the anchor's oracle static search (default: %(default)s, evaluate's)")
    p.add_argument("--validation-seeds", type=positive_int, default=32,
                   help="episodes on which the safeguard compares the learned policy with the oracle static "
                        "action (default: %(default)s)")
    p.add_argument("--safeguard-z", type=non_negative_float, default=1.645,
                   help="the safeguard's confidence: a learned policy that finishes more validation jobs must "
                        "pass a one-sided sign test at P(Z > z); otherwise its mean JCT on the seeds both "
                        "finished must beat the fixed policy's by z paired standard errors "
                        "(default: %(default)s, one-sided 95 %%; 0: no margin)")
    p.add_argument("--safeguard-max-slowdown", type=non_negative_float, default=0.01,
                   help="the slowdown, on the seeds both finished, accepted from a learned policy that finishes "
                        "more validation jobs beyond chance (default: %(default)s, 1 %%)")
    p.add_argument("--no-safeguard", action="store_true",
                   help="export the learned policy even when the oracle static action does better on the "
                        "validation seeds")
    p.add_argument("--lr-schedule", choices=["linear", "constant"], default="linear",
                   help="learning rate: linear decay to 0 over --iterations (default) or constant")
    p.add_argument("--initial-log-std", type=float, default=-1.5,
                   help="initial log std of the Gaussian in action-box units (default: %(default)s)")
    p.add_argument("--out", default="runs/siren", help="output directory (default: %(default)s)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT from OUT/checkpoint.pt (the scenario, algorithm, --envs, "
                        "--seed and --lr must be the run's; --iterations is the total to reach)")
    p.add_argument("--force", action="store_true",
                   help="replace the run in OUT (without it, a folder holding a run is refused)")
    p.add_argument("--quiet", action="store_true", help="no per-iteration table")
    p.add_argument("--stop-after", type=positive_int, default=None,
                   help="stop after this many iterations of this invocation (as if killed)")
    p.add_argument("--snapshot-every", type=non_negative_int, default=0,
                   help="also write the deterministic learned policy (no safeguard) to OUT/snapshots/policy_<k>.pt "
                        "before the first update and every N iterations, for time-to-policy measurements "
                        "(default: 0, none)")
    p.add_argument("--max-train-s", type=non_negative_float, default=0.0,
                   help="stop iterating once the anchor search and the iterations have taken this many seconds of "
                        "wall time, then validate and export as at the end (default: 0, no cap)")
    add_overrides(p)
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("export", help="export a checkpoint's policy as TorchScript (and ONNX)")
    p.add_argument("--checkpoint", required=True, help="DIR/checkpoint.pt of a training run")
    p.add_argument("--out", required=True, help="output TorchScript path")
    p.add_argument("--onnx", default=None,
                   help="also write the policy as ONNX: this file (the graph) and, beside it, "
                        "this file + '.data' (the weights) when torch stores them apart; keep them together "
                        "(needs the onnx extra)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("evaluate", help="compare an exported policy with the baselines on held-out seeds")
    p.add_argument("--policy", required=True, help="an exported policy.pt")
    p.add_argument("--scenario", default=None,
                   help="evaluate on this scenario instead of the one stored in the policy")
    p.add_argument("--budgets", type=_budget_list, default=None,
                   help="comma-separated budgets in USD (default: the scenario's)")
    p.add_argument("--seeds", type=positive_int, default=16, help="held-out seeds (default: %(default)s)")
    p.add_argument("--first-seed", type=non_negative_int, default=HELD_OUT_FIRST_SEED,
                   help="first held-out seed (default: %(default)s)")
    p.add_argument("--tuning-seeds", type=positive_int, default=8,
                   help="seeds 0..k-1 on which GS and CEM choose (default: %(default)s)")
    p.add_argument("--cem", action="store_true", help="also run the CEM schedule search (the bound)")
    p.add_argument("--cem-slots", type=positive_int, default=10, help="CEM epoch slots (default: %(default)s)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="threads of the local backend (default: all cores)")
    add_backend_arguments(p)
    add_oracle_arguments(p)
    p.add_argument("--oracle-seeds", type=positive_int, default=None,
                   help="seeds 0..k-1 on which the oracle static search chooses (default: --tuning-seeds)")
    p.add_argument("--json", default=None, help="write the table as JSON here (its folder must exist)")
    add_quiet(p, "no progress bar (shown on stderr when it is a terminal)")
    add_overrides(p)
    p.set_defaults(handler=cmd_evaluate)
