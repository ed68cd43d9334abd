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

With ``--local`` each row is instead measured for real on the runner's
local stand-in (worker processes and a folder, the project's S3-compatible
server on loopback, real boto3; ``measure_local``), n = 4, 16, 64 by
default, with the simulator's prediction for the same scenario beside it:
softmax-digits with mini-batches of 8 rows (180 an epoch, so that 64
functions get about three each), at 1769 MB (one vCPU: the stand-in does
not stretch compute), its target loss out of reach. The measured epoch's
host CPU use (all cores, /proc/stat) and the S3 server process's (one
Python process: one core at most, /proc/<pid>/stat) say what limits it.

    .venv/bin/python experiments/bench_param_store.py --sim-only
    .venv/bin/python experiments/bench_param_store.py --sim-only --presets lenet-mnist --functions 4,256
    .venv/bin/python experiments/bench_param_store.py --local            # n = 4, 16, 64, every protocol
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
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


# --local: the runner's workload on the local stand-in (see the docstring).
LOCAL_FUNCTIONS = (4, 16, 64)
LOCAL_BATCH_ROWS = 8
LOCAL_MEMORY_MB = 1769


def local_overrides(max_functions: int) -> list[str]:
    """The softmax-digits overrides of a --local row (its real dataset:
    1,438 training rows in 180 batches of 8)."""
    return [f"workload.batch_size={LOCAL_BATCH_ROWS}", f"workload.samples_per_object={LOCAL_BATCH_ROWS}",
            f"convergence.reference_batch={LOCAL_BATCH_ROWS}", "workload.dataset_samples=1438",
            f"env.max_functions={max_functions}", f"env.function_bins={max_functions}", "job.budget_usd=10",
            "job.max_epochs=100", "convergence.b2=0.01", "workload.target_loss=0.011"]


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds so far: the host's busy time over all cores (pid None),
    or one process's user + system time."""
    hertz = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / hertz  # Minus idle and iowait.
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (float(parts[11]) + float(parts[12])) / hertz


def measure_local(protocol: str, n: int, max_functions: int, epochs: int = 2, timeout_s: float = 600.0,
                  seed: int = 1) -> dict[str, Any]:
    """Runs ``epochs`` real epochs of a fresh job on the local stand-in at
    (n, LOCAL_MEMORY_MB) under ``protocol``; the last one's columns (as
    ``simulate``'s), with the host's and the S3 server's CPU use during it
    (cores busy on average)."""
    from siren import _core
    from siren.runner.datasets import load_dataset
    from siren.runner.job import RealJob
    from siren.runner.local import LocalLambda, S3Server

    scenario = _core.load_scenario("softmax-digits", [*local_overrides(max_functions),
                                                      f"execution.push_protocol={protocol}"])
    dataset = load_dataset("digits", LOCAL_BATCH_ROWS, seed=seed)
    with S3Server() as server:
        backend = LocalLambda(server, timeout_s=timeout_s, concurrency_limit=n + 8, emulate_cpu_share=False,
                              keep_alive_s=3600.0)
        try:
            job = RealJob(scenario, backend, dataset, bucket="siren-bench", prefix=f"bench/{uuid.uuid4().hex[:8]}",
                          push_protocol=protocol, seed=seed)
            job.reset()
            r: dict = {}
            host = s3_cpu = wall = 0.0
            for _ in range(epochs):
                pid = server._process.pid
                host0, s3_0, wall0 = _cpu_seconds(), _cpu_seconds(pid), time.perf_counter()
                *_, r = job.step(job.codec.encode(n, LOCAL_MEMORY_MB))
                host, s3_cpu = _cpu_seconds() - host0, _cpu_seconds(pid) - s3_0
                wall = time.perf_counter() - wall0
                if r["status"] != "running":
                    break
        finally:
            backend.close()
    updates = max(1, r["updates"])
    duration = r["duration_s"]
    requests = r["s3_gets"] + r["s3_puts"] + r["list_requests"]
    batch_gets = r["batches"]  # One object per batch.
    return {
        "preset": "softmax-digits", "protocol": protocol, "n": n, "functions_used": r["functions_used"],
        "updates": r["updates"], "duration_s": duration,
        "updates_per_s": r["updates"] / duration if duration > 0 else float("nan"),
        "kept_per_s": (r["updates"] - r["lost_updates"]) / duration if duration > 0 else float("nan"),
        "requests_per_update": requests / updates, "store_requests_per_update": (requests - batch_gets) / updates,
        "refused_per_update": r["update_conflicts"] / updates, "lost_updates": r["lost_updates"],
        "folds": r["folds"], "list_requests": r["list_requests"], "mean_staleness": r["mean_staleness"],
        "cost_usd": r["cost_total_usd"], "status": r["status"], "failure": r.get("failure", ""),
        "host_cpu_cores": host / wall if wall else float("nan"),
        "s3_server_cpu_cores": s3_cpu / wall if wall else float("nan"), "host_cores": os.cpu_count(),
        "folder_invocations": sum(1 for i in job.invocations if i.get("role") == "folder" and i["epoch"] == r["epoch"]),
    }


def print_local_table(rows: list[dict[str, Any]]) -> None:
    """Real (local stand-in) beside simulated, one row per (protocol, n)."""
    print(f"{'protocol':<9} {'n':>3} | {'upd/s':>6} {'sim':>6} | {'req/upd':>7} {'sim':>6} | {'refused/upd':>11} "
          f"{'sim':>5} | {'lost':>4} {'sim':>4} | {'usd/epoch':>9} {'sim':>9} | {'epoch_s':>7} {'folds':>5} "
          f"{'host_cpu':>8} {'s3_cpu':>6}")
    for row in rows:
        real, sim = row["local"], row["sim"]
        print(f"{row['protocol']:<9} {row['n']:>3} | {real['updates_per_s']:>6.1f} {sim['updates_per_s']:>6.1f} | "
              f"{real['requests_per_update']:>7.2f} {sim['requests_per_update']:>6.2f} | "
              f"{real['refused_per_update']:>11.2f} {sim['refused_per_update']:>5.2f} | {real['lost_updates']:>4} "
              f"{sim['lost_updates']:>4} | {real['cost_usd']:>9.6f} {sim['cost_usd']:>9.6f} | "
              f"{real['duration_s']:>7.2f} {real['folds']:>5} {real['host_cpu_cores']:>8.2f} "
              f"{real['s3_server_cpu_cores']:>6.2f}" + ("" if real["status"] == "running" else
                                                        f"  {real['status']}: {real['failure']}"))
    fold = {row["n"]: row["local"] for row in rows if row["protocol"] == "fold"}
    if 4 in fold and len(fold) > 1:
        top = max(fold)
        ratio = fold[top]["requests_per_update"] / fold[4]["requests_per_update"]
        print(f"check local fold: S3 requests per applied update n={top} {fold[top]['requests_per_update']:.2f} / "
              f"n=4 {fold[4]['requests_per_update']:.2f} = {ratio:.2f} "
              f"({'within 2x' if ratio <= 2 else 'NOT within 2x'})")


def run_local(protocols: list[str], functions: list[int], seed: int, json_path: str | None) -> None:
    max_functions = max(functions)
    rows = []
    for protocol in protocols:
        for n in functions:
            row = {"protocol": protocol, "n": n,
                   "sim": simulate(protocol, n, "softmax-digits", LOCAL_MEMORY_MB, seed,
                                   overrides=local_overrides(max_functions)),
                   "local": measure_local(protocol, n, max_functions, seed=seed)}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"local stand-in ({os.cpu_count()} cores) beside the simulator: second epoch of a fresh job, "
          f"softmax-digits, batches of {LOCAL_BATCH_ROWS}, {LOCAL_MEMORY_MB} MB, seed {seed}")
    print_local_table(rows)
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2) + "\n")


def parse_list(text: str, kind: type) -> list:
    return [kind(x) for x in text.split(",") if x.strip()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--sim-only", action="store_true",
                      help="the simulator's prediction only (no runner measurement; the default)")
    mode.add_argument("--local", action="store_true",
                      help="real epochs on the runner's local stand-in, the simulator's prediction beside them "
                           "(default --functions 4,16,64)")
    p.add_argument("--json", default=None, help="--local: write the rows as JSON here")
    p.add_argument("--protocols", default=",".join(PROTOCOLS), help="comma-separated (default: %(default)s)")
    p.add_argument("--functions", default=None,
                   help=f"comma-separated n (default: {','.join(map(str, FUNCTIONS))}; --local: "
                        f"{','.join(map(str, LOCAL_FUNCTIONS))})")
    p.add_argument("--presets", default=",".join(PRESETS), help="comma-separated (default: %(default)s)")
    p.add_argument("--memory-mb", type=int, default=1024, help="memory per function (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="simulation seed (default: %(default)s)")
    args = p.parse_args()
    protocols = parse_list(args.protocols, str)
    functions = parse_list(args.functions or ",".join(map(str, LOCAL_FUNCTIONS if args.local else FUNCTIONS)), int)
    for protocol in protocols:
        if protocol not in ("apply", *PROTOCOLS):
            p.error(f"--protocols: got {protocol!r}, expected some of apply, {', '.join(PROTOCOLS)}")
    if not functions or min(functions) < 1:
        p.error(f"--functions: got {args.functions!r}, expected positive integers")
    if args.local:
        if "apply" in protocols:
            p.error("--protocols: apply has no S3 form (the runner refuses it); expected some of "
                    f"{', '.join(PROTOCOLS)} with --local")
        run_local(protocols, functions, args.seed, args.json)
        return
    rows = [simulate(protocol, n, preset, args.memory_mb, args.seed)
            for preset in parse_list(args.presets, str) for protocol in protocols for n in functions]
    print(f"simulator, second epoch of a fresh job, {args.memory_mb} MB, seed {args.seed}")
    print_table(rows)
    fold_check(rows)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
