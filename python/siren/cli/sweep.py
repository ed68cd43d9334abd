"""``siren sweep``: the torch-free baselines per budget (DESIGN.md §4).

For each budget: GS (the best static (n, m) of a grid), GS-x (n fixed at x),
the oracle static configuration (the best static (n, m) of the full grid,
searched), the talk's hand schedule, optionally the CEM bound over
per-epoch schedules, and the EC2 rows, all evaluated on the same training
seeds (``agent/baselines/``), each compared with GS and the oracle static
row under the rules of ``siren.comparison``. GS, the oracle and CEM are
tuned on those seeds, so they are optimistic for them.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from siren import _core
from siren._argtypes import checked_list, non_negative_int, positive_float, positive_int
from siren.backends import Backend, CemJob, ScheduleJob
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
from siren.outputs import check_output_file

__all__ = ["add_commands"]


_budget_list = checked_list(float, lambda v: 0 < v < float("inf"), "comma-separated budgets in USD > 0",
                            "comma-separated budgets in USD > 0")
_int_list = checked_list(int, lambda v: v > 0, "comma-separated integers > 0", "comma-separated integers > 0")


def _name_list(text: str) -> list[str]:
    names = [token.strip() for token in text.split(",") if token.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _named(argument: str, call: Callable[[], Any]) -> Any:
    """Runs `call`, prefixing a ValueError's message with the argument's name."""
    try:
        return call()
    except ValueError as error:
        raise ValueError(f"{argument}: {error}") from None


def _row(method: str, budget: float | None, evaluation: dict[str, Any], seeds: int,
         config: dict[str, Any]) -> dict:
    return {
        "method": method,
        "budget_usd": budget,
        "success_rate": evaluation["success_rate"],
        "over_budget": evaluation["over_budget"],
        "seeds": seeds,
        "mean_cost_usd": evaluation["mean_cost_usd"],
        "mean_jct_s": evaluation["mean_jct_s"],
        "config": config,
    }


def _schedule_text(schedule: list) -> str:
    return ",".join(f"{n}:{m}" for n, m in schedule)


def _config_text(config: dict[str, Any]) -> str:
    if "schedule" in config:
        return config["schedule"]
    if "memory_mb" in config:
        return f"{config['functions']} x {config['memory_mb']} MB"
    return f"{config['epochs']} epochs, budget not applied"


def _ec2_rows(args: argparse.Namespace, scenario: _core.Scenario) -> list[dict]:
    results = _named("--ec2-types", lambda: _core.ec2_baseline(
        scenario, args.ec2_types or [], args.ec2_instances or []))
    rows = []
    for r in results:
        evaluation = {"mean_jct_s": r["time_s"], "mean_cost_usd": r["cost_usd"],
                      "success_rate": 1.0 if r["converged"] else 0.0, "over_budget": None}
        rows.append(_row(f"EC2 {r['instance_type']} x{r['instances']}", None, evaluation, 1,
                         {"instance_type": r["instance_type"], "instances": r["instances"],
                          "epochs": r["epochs"]}))
    return rows


def _baseline_rows(args: argparse.Namespace, backend: Backend, scenario: _core.Scenario,
                   budgets: list[float], seeds: list[int], functions: list[int],
                   hand: list[tuple[int, int]], bar: Any) -> list[dict]:
    """Per budget GS, GS-x, the oracle static configuration (unless
    --no-oracle), the hand schedule and (--cem) CEM, all on `seeds`; `bar`
    advances after each phase."""
    fixed_n = args.fixed_n or []
    bar.set_description("sweep: grid search")
    gs, *gs_x = backend.grid_search(scenario, budgets, seeds, [functions] + [[x] for x in fixed_n],
                                    args.memory_stride)
    bar.update(1)
    oracles: list[dict] = []
    if not args.no_oracle:
        bar.set_description("sweep: oracle static")
        include = [(result["best"]["functions"], result["best"]["memory_mb"]) for result in gs]
        oracles = backend.oracle_static(scenario, budgets, seeds, {**oracle_options(args), "include": include})
        bar.update(1)
    bar.set_description("sweep: hand schedule")
    hand_evals = backend.evaluate_schedules([ScheduleJob(scenario, hand, seeds, budget) for budget in budgets])
    bar.update(1)
    if args.cem:
        bar.set_description("sweep: CEM")
        starts = [(result["best"]["functions"], result["best"]["memory_mb"]) for result in gs]
        options = {"slots": args.cem_slots, "population": args.cem_population,
                   "iterations": args.cem_iterations, "seed": args.cem_seed}
        cems = backend.cem_search([CemJob(scenario, seeds, {**options, "budget_usd": budget, "initial": start,
                                                            "include": [[start]]})
                                   for budget, start in zip(budgets, starts)])
        bar.update(1)
    rows: list[dict] = []
    count = len(seeds)
    for index, budget in enumerate(budgets):
        best = gs[index]["best"]
        rows.append(_row("GS", budget, best, count,
                         {"functions": best["functions"], "memory_mb": best["memory_mb"]}))
        for x, results in zip(fixed_n, gs_x):
            b = results[index]["best"]
            rows.append(_row(f"GS-{x}", budget, b, count,
                             {"functions": b["functions"], "memory_mb": b["memory_mb"]}))
        if oracles:
            o = oracles[index]
            rows.append(_row("oracle static", budget, o["best"], count,
                             {"functions": o["best"]["functions"], "memory_mb": o["best"]["memory_mb"],
                              "coarse_points": o["coarse_points"], "evaluated": o["evaluated"],
                              "rounds": o["rounds"], "local_optimum": o["local_optimum"]}))
        rows.append(_row("hand", budget, hand_evals[index], count,
                         {"schedule": _schedule_text(hand), "mid_epochs": args.hand_mid_epochs,
                          "scale": args.hand_scale}))
        if args.cem:
            cem = cems[index]
            rows.append(_row("CEM", budget, cem, count, {"schedule": _schedule_text(cem["schedule"]),
                                                         "objective": cem["objective"],
                                                         "evaluated": cem["evaluated"]}))
    return rows


def cmd_sweep(args: argparse.Namespace) -> int:
    scenario = _core.load_scenario(args.scenario, list(args.overrides))
    budgets = args.budgets or [scenario.budget_usd]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    threads = args.threads or os.cpu_count() or 1
    functions = args.functions_grid or []
    grid_functions, memory = _named("--functions-grid", lambda: _core.grid_axes(
        scenario, functions, [], args.memory_stride))
    for x in args.fixed_n or []:
        _named("--fixed-n", lambda x=x: _core.grid_axes(scenario, [x], [], 0))
    hand = _named("--hand-memory", lambda: _core.hand_schedule(
        scenario, scale=args.hand_scale, memory_mb=args.hand_memory, mid_epochs=args.hand_mid_epochs))
    if args.json is not None:
        check_output_file(args.json, "--json")

    baselines = BASELINES[:1] if args.no_oracle else BASELINES

    backend = backend_from_args(args, threads)
    with progress_bar(3 + (not args.no_oracle) + bool(args.cem), "sweep", args.quiet, unit="phase") as bar:
        try:
            where = backend.describe()
            rows = _baseline_rows(args, backend, scenario, budgets, seeds, functions, hand, bar)
        finally:
            backend.close()
        bar.set_description("sweep: EC2")
        rows.extend(_ec2_rows(args, scenario))
        bar.update(1)
    add_comparisons(rows, baselines)

    print(f"scenario={scenario.name} seeds={seeds[0]}..{seeds[-1]} {where} "
          f"grid: n {','.join(map(str, grid_functions))} x {len(memory)} memory sizes "
          f"{memory[0]}..{memory[-1]} MB")
    if not args.no_oracle:
        print(describe_oracle(scenario, oracle_options(args)))
    for line in table_lines([dict(row, config_text=_config_text(row["config"])) for row in rows], baselines):
        print(line)
    if args.json is not None:
        document = {"scenario": scenario.name, "seeds": seeds, "budgets": budgets,
                    "overrides": list(args.overrides), "version": _core.__version__, "rows": rows}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        print(f"json={args.json}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``sweep`` to the ``siren`` parser."""
    p = sub.add_parser("sweep", help="baselines per budget: grid search (GS, GS-x), oracle static, "
                                     "hand schedule, CEM bound, EC2")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--budgets", type=_budget_list, default=None,
                   help="comma-separated budgets in USD (default: the scenario's job.budget_usd)")
    p.add_argument("--seeds", type=positive_int, default=8, help="training seeds (default: %(default)s)")
    p.add_argument("--first-seed", type=non_negative_int, default=0, help="first seed (default: %(default)s)")
    p.add_argument("--functions-grid", type=_int_list, default=None,
                   help="comma-separated n values of the GS grid (default: 1,2,5,...,1000 clipped to "
                        "[env.min_functions, env.max_functions])")
    p.add_argument("--memory-stride", type=non_negative_int, default=0,
                   help="every k-th feasible memory size, plus the largest (default: 0 = auto, "
                        "at most 13 sizes)")
    p.add_argument("--fixed-n", type=_int_list, default=None,
                   help="comma-separated n values for GS-x rows (n fixed, memory searched)")
    p.add_argument("--hand-scale", type=positive_float, default=1.0,
                   help="factor on the hand schedule's 120/20/10 functions (default: %(default)s)")
    p.add_argument("--hand-memory", type=positive_int, default=None,
                   help="hand schedule memory in MB (default: smallest feasible size >= 2048)")
    p.add_argument("--hand-mid-epochs", type=non_negative_int, default=4,
                   help="epochs 1..k of the hand schedule run the middle count (default: %(default)s)")
    p.add_argument("--cem", action="store_true",
                   help="also run the CEM bound over per-epoch schedules, started at the GS optimum")
    p.add_argument("--cem-slots", type=positive_int, default=10,
                   help="epoch slots of a CEM schedule; the last repeats (default: %(default)s)")
    p.add_argument("--cem-population", type=positive_int, default=48,
                   help="CEM samples per iteration (default: %(default)s)")
    p.add_argument("--cem-iterations", type=positive_int, default=15,
                   help="CEM iterations (default: %(default)s)")
    p.add_argument("--cem-seed", type=non_negative_int, default=0,
                   help="seed of CEM's sampling (default: %(default)s)")
    p.add_argument("--ec2-types", type=_name_list, default=None,
                   help="comma-separated EC2 instance types (default: the scenario's ec2.instance_type)")
    p.add_argument("--ec2-instances", type=_int_list, default=None,
                   help="comma-separated instance counts k (default: the scenario's ec2.instances)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="simulation threads of the local backend (default: the number of CPUs); "
                        "results do not depend on it")
    add_backend_arguments(p)
    add_oracle_arguments(p)
    p.add_argument("--json", default=None, help="write the table as JSON to this file (its folder must exist)")
    add_quiet(p, "no progress bar (shown on stderr when it is a terminal)")
    add_overrides(p)
    p.set_defaults(handler=cmd_sweep)
