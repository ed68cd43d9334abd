"""The simulator's own commands: ``siren simulate``, ``bench``, ``bench-env``,
``presets``, ``scenario`` and ``ec2``.

    siren simulate --scenario default --schedule 100:1024 [--out trace.h5] [key=value ...]
    siren bench [--scenario default] [--functions N] [--memory MB] [--seconds S]
    siren bench-env [--scenario default] [--seconds S] [--num-envs N]
    siren presets
    siren scenario [--scenario X] [key=value ...] | siren scenario --describe
    siren ec2 [--scenario X] [key=value ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from siren import _core
from siren._argtypes import non_negative_float, non_negative_int, positive_int
from siren.benchmark import (
    BENCH_PREFERRED_MEMORY_MB,
    default_bench_memory,
    time_core_env,
    time_gym_env,
    time_vector_env,
)
from siren.cli._common import add_overrides, progress_bar
from siren.schedule import ScheduleError, parse_schedule
from siren.trace import check_writable, write_trace

__all__ = ["add_commands"]

BENCH_DEFAULT_FUNCTIONS = 100


# --- simulate ---------------------------------------------------------------

# (header, width, format of one row's value)
_TABLE: list[tuple[str, int, Any]] = [
    ("epoch", 5, lambda r: f"{r['epoch']}"),
    ("n", 5, lambda r: f"{r['action_functions']}"),
    ("mem_mb", 6, lambda r: f"{r['action_memory_mb']}"),
    ("dur_s", 9, lambda r: f"{r['duration_s']:.2f}"),
    ("fetch_ms", 9, lambda r: f"{r['fetch_mean_s'] * 1e3:.1f}"),
    ("comp_ms", 9, lambda r: f"{r['compute_mean_s'] * 1e3:.1f}"),
    ("upd_ms", 8, lambda r: f"{r['update_mean_s'] * 1e3:.1f}"),
    ("cold", 5, lambda r: f"{r['cold_starts']}"),
    ("warm", 5, lambda r: f"{r['warm_starts']}"),
    ("thr", 5, lambda r: f"{r['throttles']}"),
    ("tout", 4, lambda r: f"{r['timeouts']}"),
    ("cost_usd", 10, lambda r: f"{r['cost_total_usd']:.4f}"),
    ("loss", 8, lambda r: f"{r['loss']:.4f}"),
    ("time_s", 10, lambda r: f"{r['cumulative_time_s']:.1f}"),
    ("total_usd", 10, lambda r: f"{r['cumulative_cost_usd']:.4f}"),
]


def _table_header() -> str:
    return " ".join(f"{name:>{width}}" for name, width, _ in _TABLE)


def _table_row(result: dict[str, Any]) -> str:
    return " ".join(f"{fmt(result):>{width}}" for _, width, fmt in _TABLE)


def _summary(status: str, time_s: float, cost_usd: float, epochs: int) -> str:
    return f"status={status} jct_s={time_s:.3f} cost_usd={cost_usd:.6f} epochs={epochs}"


def _check_schedule_memory(scenario: _core.Scenario, schedule_pairs: Sequence[tuple[int, int]]) -> None:
    for position, (functions, memory_mb) in enumerate(schedule_pairs, start=1):
        problem = scenario.memory_error(memory_mb)
        if problem:
            raise ScheduleError(
                f"schedule token {position} of {len(schedule_pairs)} "
                f"('{functions}:{memory_mb}'): {problem}"
            )


def cmd_simulate(args: argparse.Namespace) -> int:
    schedule = parse_schedule(args.schedule)
    scenario = _core.load_scenario(args.scenario, list(args.overrides))
    _check_schedule_memory(scenario, schedule.pairs)
    if args.out:
        check_writable(args.out)

    simulation = _core.Simulation(scenario, args.seed)
    results: list[dict[str, Any]] = []
    out: TextIO = sys.stdout
    if not args.quiet:
        print(f"scenario={scenario.name} schedule={schedule} seed={args.seed}", file=out)
        print(_table_header(), file=out, flush=True)
    with progress_bar(scenario.max_epochs, scenario.name, args.quiet, unit="epoch") as bar:
        while not simulation.done:
            functions, memory_mb = schedule.action(simulation.epoch)
            result = simulation.run_epoch(functions, memory_mb)
            results.append(result)
            if not args.quiet and result["budget_stop"] == "before_epoch":
                left = scenario.budget_usd - result["cumulative_cost_usd"]
                bar.write(f"{result['epoch']:>5} budget guard: not run, its projected cost "
                          f"~${result['projected_cost_usd']:.6f} exceeds the budget left ${left:.6f}", file=out)
            elif not args.quiet:
                bar.write(_table_row(result), file=out)
            bar.set_postfix(loss=f"{result['loss']:.4f}", cost=f"{result['cumulative_cost_usd']:.4f}", refresh=False)
            bar.update(1)
    status = simulation.status
    print(_summary(status, simulation.time_s, simulation.cost_usd, simulation.epoch), file=out)

    if args.out:
        write_trace(
            args.out,
            results,
            scenario_yaml=scenario.to_yaml(),
            seed=args.seed,
            version=_core.__version__,
            schedule=str(schedule),
            status=status,
        )
        if not args.quiet:
            print(f"trace={args.out}", file=out)
    return 0


# --- bench ------------------------------------------------------------------


def _bench_scenario(args: argparse.Namespace, functions: int, batches_per_function: int | None):
    """The scenario to benchmark; with batches_per_function, the dataset is
    resized so that every one of `functions` functions gets that many batches."""
    overrides = list(args.overrides)
    if batches_per_function is not None:
        base = _core.load_scenario(args.scenario, overrides)
        samples = functions * batches_per_function * base.batch_size
        overrides.append(f"workload.dataset_samples={samples}")
    return _core.load_scenario(args.scenario, overrides)


def _run_bench(args: argparse.Namespace, functions: int, batches_per_function: int | None) -> dict:
    scenario = _bench_scenario(args, functions, batches_per_function)
    memory_mb = args.memory if args.memory is not None else default_bench_memory(scenario)
    problem = scenario.memory_error(memory_mb)
    if problem:
        raise _core.InvalidActionError(f"--memory {memory_mb}: {problem}")
    result = _core.run_benchmark(
        scenario,
        functions,
        memory_mb,
        min_wall_s=args.seconds,
        min_epochs=args.min_epochs,
        seed=args.seed,
    )
    result.update(
        scenario=scenario.name,
        functions=functions,
        functions_used=min(functions, scenario.batches_per_epoch),
        memory_mb=memory_mb,
        batches_per_epoch=scenario.batches_per_epoch,
    )
    return result


def cmd_bench(args: argparse.Namespace) -> int:
    result = _run_bench(args, args.functions, args.batches_per_function)
    for key in ("scenario", "functions", "functions_used", "memory_mb", "batches_per_epoch",
                "events", "epochs", "batches"):
        print(f"{key}={result[key]}")
    print(f"wall_s={result['wall_s']:.6f}")
    print(f"events_per_s={result['events_per_s']:.1f}")
    print(f"epochs_per_s={result['epochs_per_s']:.3f}")
    if args.scaling:
        # Cost per epoch against size: x3 functions, then x4 batches.
        print("scaling: functions batches_per_function events_per_epoch us_per_epoch events_per_s")
        rows = []
        for functions, per_function in ((1000, 4), (3000, 4), (100, 10), (100, 40)):
            r = _run_bench(args, functions, per_function)
            us_per_epoch = 1e6 * r["wall_s"] / r["epochs"]
            rows.append((r["events"] / r["epochs"], us_per_epoch))
            print(f"scaling: {functions} {per_function} {r['events'] / r['epochs']:.0f} "
                  f"{us_per_epoch:.1f} {r['events_per_s']:.1f}")
        for label, (a, b) in (("functions x3", (rows[0], rows[1])), ("batches x4", (rows[2], rows[3]))):
            print(f"scaling_ratio {label}: events x{b[0] / a[0]:.2f}, time x{b[1] / a[1]:.2f}")
    return 0


# --- bench-env ----------------------------------------------------------------

BENCH_ENV_REPETITIONS = 5


def cmd_bench_env(args: argparse.Namespace) -> int:
    import numpy as np

    from siren.envs import SirenEnv
    from siren.vector import SirenVectorEnv

    scenario = _core.load_scenario(args.scenario, list(args.overrides))
    memory_mb = default_bench_memory(scenario)
    env = SirenEnv(scenario)
    action = env.encode(args.functions, memory_mb)
    vectors = {threads: SirenVectorEnv(args.num_envs, scenario, num_threads=threads, copy=False)
               for threads in (1, 2)}  # fmt: skip
    actions = np.tile(action, (args.num_envs, 1))

    # Size each measurement to about --seconds / repetitions from a short probe.
    per_step_s = time_core_env(scenario, action, 200, args.seed)
    budget_s = max(args.seconds, 1e-3) / BENCH_ENV_REPETITIONS
    steps = max(100, int(budget_s / per_step_s))
    vector_steps = max(10, steps // args.num_envs)

    # Interleaved repetitions: the machine's load drifts, ratios within one
    # repetition do not.
    core_s, gym_s, vec1, vec2 = [], [], [], []
    for rep in range(BENCH_ENV_REPETITIONS):
        seed = args.seed + rep
        core_s.append(time_core_env(scenario, action, steps, seed))
        gym_s.append(time_gym_env(env, action, steps, seed))
        vec1.append(time_vector_env(vectors[1], actions, vector_steps, seed))
        vec2.append(time_vector_env(vectors[2], actions, vector_steps, seed))
    overhead = statistics.median((g - c) / c for g, c in zip(gym_s, core_s))
    speedup = statistics.median(b / a for a, b in zip(vec1, vec2))

    print(f"scenario={scenario.name}")
    print(f"functions={env.decode(action)['functions']}")
    print(f"memory_mb={memory_mb}")
    print(f"repetitions={BENCH_ENV_REPETITIONS}")
    print(f"steps_per_repetition={steps}")
    print(f"us_per_step_single={1e6 * statistics.median(core_s):.2f}")
    print(f"us_per_step_gym={1e6 * statistics.median(gym_s):.2f}")
    print(f"steps_per_s_single={1 / statistics.median(core_s):.1f}")
    print(f"steps_per_s_gym={1 / statistics.median(gym_s):.1f}")
    print(f"overhead_pct={100 * overhead:.2f}")
    print(f"num_envs={args.num_envs}")
    print(f"vector_steps_per_s_1={statistics.median(vec1):.1f}")
    print(f"vector_steps_per_s_2={statistics.median(vec2):.1f}")
    print(f"vector_speedup={speedup:.3f}")
    for envs in vectors.values():
        envs.close()
    return 0


# --- presets, scenario, ec2 -------------------------------------------------


def cmd_presets(args: argparse.Namespace) -> int:
    default = _core.default_preset_name()
    for name in _core.preset_names():
        print(f"{name}  (default)" if name == default else name)
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    if args.describe:
        if args.overrides or args.scenario is not None:
            raise ValueError("--describe takes no --scenario and no key=value overrides")
        text = _core.describe_parameters()
    else:
        scenario_name = args.scenario if args.scenario is not None else "default"
        text = _core.load_scenario(scenario_name, list(args.overrides)).to_yaml()
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_ec2(args: argparse.Namespace) -> int:
    if args.list_types:
        print(f"{'type':<12} {'vcpus':>5} {'memory_gb':>9} {'usd_per_hour':>12} {'net_mb_s':>9}")
        for t in _core.ec2_instance_types():
            print(
                f"{t['name']:<12} {t['vcpus']:>5} {t['memory_gb']:>9g} "
                f"{t['usd_per_hour']:>12.4f} {t['network_mb_per_s']:>9g}"
            )
        return 0
    scenario = _core.load_scenario(args.scenario, list(args.overrides))
    result = _core.run_ec2_job(scenario)
    if not args.quiet:
        print(f"scenario={scenario.name}")
        print(f"{'epoch':>5} {'time_s':>10} {'loss':>8}")
        for epoch, (time_s, loss) in enumerate(zip(result["epoch_end_time_s"], result["epoch_loss"])):
            print(f"{epoch:>5} {time_s:>10.1f} {loss:>8.4f}")
    status = "converged" if result["converged"] else "epoch_limit"
    print(f"{_summary(status, result['time_s'], result['cost_usd'], result['epochs'])} "
          f"final_loss={result['final_loss']:.6f}")
    return 0


# --- parser -----------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``simulate``, ``bench``, ``bench-env``, ``presets``, ``scenario``
    and ``ec2`` to the ``siren`` parser."""
    p = sub.add_parser("simulate", help="run one job with a static or per-epoch schedule")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument(
        "--schedule",
        required=True,
        help="FUNCTIONS:MEMORY_MB, or a per-epoch list n:m,n:m,... whose last pair repeats",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--out", help="write an HDF5 trace of every epoch to this path")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no epoch table")
    add_overrides(p)
    p.set_defaults(handler=cmd_simulate)

    p = sub.add_parser("bench", help="measure simulator throughput (events per second)")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--functions", type=positive_int, default=BENCH_DEFAULT_FUNCTIONS,
                   help="functions per epoch (default: %(default)s)")
    p.add_argument("--memory", type=positive_int, default=None,
                   help="memory per function in MB (default: the grid size nearest above "
                        f"max(min feasible, {BENCH_PREFERRED_MEMORY_MB}))")
    p.add_argument("--seconds", type=non_negative_float, default=1.0,
                   help="minimum wall time to measure (default: %(default)s)")
    p.add_argument("--min-epochs", type=positive_int, default=3,
                   help="minimum epochs to simulate (default: %(default)s)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--batches-per-function", type=positive_int, default=None,
                   help="resize the dataset so every function gets this many batches per epoch "
                        "(e.g. --functions 3000 --batches-per-function 4)")
    p.add_argument("--scaling", action="store_true",
                   help="also show cost per epoch growing with functions (1000 vs 3000) and "
                        "batches (10 vs 40 per function)")
    add_overrides(p)
    p.set_defaults(handler=cmd_bench)

    p = sub.add_parser("bench-env", help="measure the Gymnasium env: C++ step time, Python overhead, "
                                         "vector env threads")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--seconds", type=non_negative_float, default=2.0,
                   help="approximate wall time of each of the four measurements, split over "
                        f"{BENCH_ENV_REPETITIONS} interleaved repetitions (default: %(default)s)")
    p.add_argument("--num-envs", type=positive_int, default=16,
                   help="envs in the vector env (default: %(default)s)")
    p.add_argument("--functions", type=positive_int, default=BENCH_DEFAULT_FUNCTIONS,
                   help="functions of the fixed action (default: %(default)s; memory as for bench)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: %(default)s)")
    add_overrides(p)
    p.set_defaults(handler=cmd_bench_env)

    p = sub.add_parser("presets", help="list the built-in scenario presets")
    p.set_defaults(handler=cmd_presets)

    p = sub.add_parser("scenario", help="print a merged scenario as YAML, or describe every parameter")
    p.add_argument("--scenario", default=None, help="preset name or YAML file (default: default)")
    p.add_argument("--describe", action="store_true", help="describe every parameter instead")
    add_overrides(p)
    p.set_defaults(handler=cmd_scenario)

    p = sub.add_parser("ec2", help="run the EC2 cluster baseline for a scenario")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="summary line only")
    p.add_argument("--list-types", action="store_true", help="list the built-in instance types")
    add_overrides(p)
    p.set_defaults(handler=cmd_ec2)
