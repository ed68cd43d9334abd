"""Shared steps of the policy experiments (one_policy_many_budgets.py,
closed_loop.py): write a scenario with overrides to YAML, train a policy on
it with `siren train`, and evaluate policies and fixed schedules on the same
held-out seeds, as rows of one table.

Every row is a dict with: method, mean_jct_s, mean_cost_usd, success_rate,
over_budget (episodes over the budget), config (text), and per seed
`jct_by_seed` and `success_by_seed` (for JCT on the seeds every method
completes: `common_success_jct`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from siren import _core
from siren.policy import load_policy, policy_episode, summarise_policy_episodes

# Held-out evaluation seeds start here (as `siren evaluate`).
HELD_OUT_FIRST_SEED = 1_000_000
# The oracle static search in quick mode: coarse and few pattern steps.
QUICK_ORACLE = {"function_ratio": 2.0, "coarse_memory": 4, "starts": 1, "function_step": 16, "memory_step": 8}


def add_training_arguments(p, tuned_what: str) -> None:
    """The options both policy experiments share: training (iterations,
    envs, threads, seed, out) and seeds (held-out, tuning); `tuned_what`
    names what the tuning seeds tune."""
    p.add_argument("--iterations", type=int, default=300, help="siren train iterations")
    p.add_argument("--envs", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--eval-seeds", type=int, default=16, help="held-out seeds")
    p.add_argument("--tuning-seeds", type=int, default=8, help=f"seeds 0..k-1 {tuned_what} tuned on")
    p.add_argument("--out", default=None, help="training folder (default: a temporary one)")


def seed_lists(args) -> tuple[list[int], list[int]]:
    """(held-out seeds from HELD_OUT_FIRST_SEED, tuning seeds 0..k-1) from
    add_training_arguments' --eval-seeds and --tuning-seeds."""
    held_out = list(range(HELD_OUT_FIRST_SEED, HELD_OUT_FIRST_SEED + args.eval_seeds))
    return held_out, list(range(args.tuning_seeds))


def run_folder(out: str | None, tmp: str) -> tuple[Path, Path]:
    """The training folder (--out, or `run` under the temporary `tmp`),
    created, and the path of the scenario YAML written beside it."""
    folder = Path(out) if out else Path(tmp) / "run"
    folder.mkdir(parents=True, exist_ok=True)
    return folder, folder.parent / f"{folder.name}_scenario.yaml"


def write_scenario(base: str, overrides: list[str], path: Path) -> _core.Scenario:
    """Loads preset `base` with `overrides`, writes it to `path` as YAML."""
    scenario = _core.load_scenario(base, overrides)
    path.write_text(scenario.to_yaml())
    return scenario


def train_policy(scenario_yaml: Path, out: Path, iterations: int, envs: int, threads: int, seed: int,
                 extra: tuple[str, ...] = ()):
    """`siren train` on the YAML scenario (plus `extra` options); returns
    (TorchScript policy, wall s)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siren", "train", "--scenario", str(scenario_yaml), "--iterations",
                    str(iterations), "--envs", str(envs), "--threads", str(threads), "--seed", str(seed),
                    "--quiet", "--force", "--out", str(out), *extra], check=True)
    wall = time.perf_counter() - start
    policy, _ = load_policy(out / "policy.pt")
    return policy, wall


def policy_row(policy, scenario: _core.Scenario, seeds: list[int], method: str, config: str) -> dict:
    """The deterministic policy on one job per seed."""
    episodes = [policy_episode(policy, scenario, seed) for seed in seeds]
    summary = summarise_policy_episodes(episodes)
    return {"method": method, "mean_jct_s": summary["mean_jct_s"], "mean_cost_usd": summary["mean_cost_usd"],
            "success_rate": summary["success_rate"], "over_budget": summary["over_budget"], "config": config,
            "jct_by_seed": {e["seed"]: e["jct_s"] for e in episodes},
            "success_by_seed": {e["seed"]: e["success"] for e in episodes}}


def schedule_row(scenario: _core.Scenario, schedule: list[tuple[int, int]], seeds: list[int], method: str,
                 threads: int) -> dict:
    """A per-epoch schedule (the last pair repeats) on one job per seed."""
    e = _core.evaluate_schedule(scenario, [tuple(map(int, pair)) for pair in schedule], seeds,
                                num_threads=threads)
    config = ",".join(f"{n}:{m}" for n, m in schedule[:4]) + (",..." if len(schedule) > 4 else "")
    if len(schedule) == 1:
        config = f"{schedule[0][0]} x {schedule[0][1]} MB"
    return {"method": method, "mean_jct_s": e["mean_jct_s"], "mean_cost_usd": e["mean_cost_usd"],
            "success_rate": e["success_rate"], "over_budget": e["over_budget"], "config": config,
            "jct_by_seed": {x["seed"]: x["jct_s"] for x in e["episodes"]},
            "success_by_seed": {x["seed"]: x["status"] == "converged" for x in e["episodes"]}}


def common_success_jct(rows: list[dict]) -> tuple[list[int], list[float]]:
    """The seeds on which every row's job converged, and each row's mean JCT
    on them (a comparison of time at equal success, seed by seed)."""
    seeds = [seed for seed in rows[0]["success_by_seed"] if all(row["success_by_seed"][seed] for row in rows)]
    means = [sum(row["jct_by_seed"][seed] for seed in seeds) / len(seeds) if seeds else float("nan")
             for row in rows]
    return seeds, means


def format_row(row: dict, reference: dict | None, budget: str = "") -> str:
    """One table line; `vs` is the JCT change against `reference` (negative
    = slower), shown only at equal or higher success (else a marker)."""
    if reference is None or row is reference:
        vs = "baseline"
    elif row["success_rate"] < reference["success_rate"]:
        vs = "lower success"
    else:
        vs = f"{(reference['mean_jct_s'] - row['mean_jct_s']) / reference['mean_jct_s']:+.1%}"
    return (f"{budget:>6}  {row['method']:<22} {row['success_rate']:7.3f}  {row['over_budget']:>4}  "
            f"{row['mean_cost_usd']:8.4f}  {row['mean_jct_s']:10.2f}  {vs:>14}  {row['config']}")


HEADER = (f"{'budget':>6}  {'method':<22} {'success':>7}  {'over':>4}  {'cost_usd':>8}  {'mean_jct_s':>10}  "
          f"{'vs reference':>14}  config")
