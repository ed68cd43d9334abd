#!/usr/bin/env python3
"""The parameter-store protocols at scale (execution.push_protocol: cas,
overwrite, fold): applied updates per second, S3 requests per applied update,
refused pushes per update, lost updates and cost per epoch, for n functions.

Two parts:

- ``--sim-only``: the simulator alone (``Simulation.run_epoch``), up to
  n = 256.
- ``--local``: real epochs on the local stand-in (worker processes, the
  project's S3-compatible server on loopback, real boto3), n = 4, 16, 64 by
  default, with the simulator's prediction for the same scenario beside each
  row. Each (protocol, n) is a fresh job: its first epoch warms the
  functions (cold starts), the next one is measured. The measured epoch's
  host CPU use (all cores, from /proc/stat) and the S3 server process's CPU
  use (from /proc/<pid>/stat, one Python process: one core at most) are
  reported, which tell what limits the measurement on a small host.

Workload: the ``softmax-digits`` preset with mini-batches of 8 rows (180
batches an epoch, so that 64 functions have about three batches each),
``env.max_functions`` raised to the largest n, a target loss out of reach
(so that no job stops as converged before its measured epoch), memory 1769 MB (one vCPU: the
local stand-in does not stretch compute), the scenario's push-protocol
parameters (``execution.cas_backoff_ms``, ``execution.cas_backoff_cap_ms``,
``execution.fold_interval_ms``) as given.

    .venv/bin/python experiments/bench_param_store.py --local               # n = 4, 16, 64, every protocol
    .venv/bin/python experiments/bench_param_store.py --local --functions 4 --protocols fold --json out.json
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

from siren import _core

PROTOCOLS = ("cas", "overwrite", "fold")
SCENARIO = "softmax-digits"
BATCH_ROWS = 8
MEMORY_MB = 1769


def scenario_for(protocol: str, max_functions: int, extra: list[str]) -> _core.Scenario:
    """The benchmark's scenario for ``protocol`` (see the module docstring)."""
    overrides = [f"execution.push_protocol={protocol}", f"workload.batch_size={BATCH_ROWS}",
                 f"workload.samples_per_object={BATCH_ROWS}", f"convergence.reference_batch={BATCH_ROWS}",
                 f"env.max_functions={max_functions}", f"env.function_bins={max_functions}",
                 "job.budget_usd=10", "job.max_epochs=100",
                 # Never converged within the run: every epoch is measured.
                 "convergence.b2=0.01", "workload.target_loss=0.011"]
    return _core.load_scenario(SCENARIO, overrides + list(extra))


def _field(record: Any, name: str, default: float = 0.0) -> float:
    try:
        return float(record[name])
    except (KeyError, TypeError):
        return float(getattr(record, name, default))


def summarise(record: Any) -> dict[str, float]:
    """The benchmark's columns of one epoch record (simulated or real)."""
    updates = _field(record, "updates")
    requests = _field(record, "s3_gets") + _field(record, "s3_puts") + _field(record, "list_requests")
    duration = _field(record, "duration_s")
    return {"updates": updates, "kept_updates": updates - _field(record, "lost_updates"), "duration_s": duration,
            "updates_per_s": updates / duration if duration > 0 else float("nan"),
            "requests_per_update": requests / updates if updates else float("nan"),
            "refused_per_update": _field(record, "update_conflicts") / updates if updates else float("nan"),
            "lost_updates": _field(record, "lost_updates"), "folds": _field(record, "folds"),
            "list_requests": _field(record, "list_requests"), "cost_usd": _field(record, "cost_total_usd")}


def simulate(protocol: str, functions: int, epochs: int, max_functions: int, extra: list[str],
             seed: int = 0) -> dict[str, float]:
    """The simulator's last of ``epochs`` epochs at (functions, MEMORY_MB);
    NaN columns with ``error`` when the simulator refuses the scenario."""
    try:
        simulation = _core.Simulation(scenario_for(protocol, max_functions, extra), seed)
        record = None
        for _ in range(epochs):
            record = simulation.run_epoch(functions, MEMORY_MB)
    except Exception as error:  # A protocol the engine does not model (yet).
        out = {key: float("nan") for key in summarise({}).keys()}
        out["error"] = str(error).splitlines()[0]
        return out
    return summarise(record)


def _cpu_ticks(pid: int | None = None) -> float:
    """CPU seconds: the host's busy time over all cores (pid None), or one
    process's user + system time."""
    hertz = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(fields) - fields[3] - fields[4]) / hertz  # Minus idle and iowait.
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (float(parts[11]) + float(parts[12])) / hertz


def measure_local(protocol: str, functions: int, epochs: int, max_functions: int, extra: list[str],
                  timeout_s: float, seed: int = 0) -> dict[str, Any]:
    """Runs ``epochs`` real epochs of a fresh job on the local stand-in at
    (functions, MEMORY_MB); the last one's columns, with the host's and the
    S3 server's CPU use during it."""
    from siren.runner.datasets import load_dataset
    from siren.runner.job import RealJob
    from siren.runner.local import LocalLambda, S3Server

    scenario = scenario_for(protocol, max_functions, extra)
    dataset = load_dataset("digits", BATCH_ROWS, seed=seed)
    with S3Server() as server:
        backend = LocalLambda(server, timeout_s=timeout_s, concurrency_limit=functions + 8, emulate_cpu_share=False,
                              keep_alive_s=3600.0)
        try:
            job = RealJob(scenario, backend, dataset, bucket="siren-bench", prefix=f"bench/{uuid.uuid4().hex[:8]}",
                          push_protocol=protocol, seed=seed)
            job.reset()
            record: dict = {}
            host = server_cpu = wall = 0.0
            for _ in range(epochs):
                host0, server0, wall0 = _cpu_ticks(), _cpu_ticks(server._process.pid), time.perf_counter()
                *_, record = job.step(job.codec.encode(functions, MEMORY_MB))
                host, server_cpu = _cpu_ticks() - host0, _cpu_ticks(server._process.pid) - server0
                wall = time.perf_counter() - wall0
                if record["status"] != "running":
                    break
        finally:
            backend.close()
    out: dict[str, Any] = summarise(record)
    out.update(status=record["status"], failure=record.get("failure", ""),
               functions_used=record.get("functions_used"), batches=len(dataset.batches),
               host_cpu_cores=host / wall if wall else float("nan"),
               s3_server_cpu=server_cpu / wall if wall else float("nan"), host_cores=os.cpu_count(),
               folder_invocations=sum(1 for i in job.invocations
                                      if i.get("role") == "folder" and i["epoch"] == record["epoch"]))
    return out


def _print_local(rows: list[dict]) -> None:
    print(f"{'protocol':>9} {'n':>3} | {'upd/s':>7} {'sim':>7} | {'req/upd':>7} {'sim':>7} | {'refused/upd':>11} "
          f"{'sim':>6} | {'lost':>5} {'sim':>6} | {'usd/epoch':>9} {'sim':>9} | {'folds':>5} {'host cpu':>8} "
          f"{'s3 cpu':>6}")
    for row in rows:
        real, sim = row["local"], row["sim"]
        print(f"{row['protocol']:>9} {row['functions']:>3} | {real['updates_per_s']:>7.1f} {sim['updates_per_s']:>7.1f} "
              f"| {real['requests_per_update']:>7.2f} {sim['requests_per_update']:>7.2f} | "
              f"{real['refused_per_update']:>11.2f} {sim['refused_per_update']:>6.2f} | {real['lost_updates']:>5.0f} "
              f"{sim['lost_updates']:>6.1f} | {real['cost_usd']:>9.6f} {sim['cost_usd']:>9.6f} | "
              f"{real['folds']:>5.0f} {real['host_cpu_cores']:>8.2f} {real['s3_server_cpu']:>6.2f}"
              + (f"  {real['status']}: {real['failure']}" if real["status"] != "running" else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--local", action="store_true", help="real epochs on the local stand-in, with the "
                                                           "simulator's prediction beside them")
    mode.add_argument("--sim-only", action="store_true", help="the simulator alone")
    parser.add_argument("--functions", default=None,
                        help="comma-separated n (default: 4,16,64 with --local; 4,16,64,128,256 with --sim-only)")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS), help="(default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per job; the last is reported (default: 2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="local function timeout, s (default: 600)")
    parser.add_argument("--json", default=None, help="write the rows as JSON here")
    parser.add_argument("overrides", nargs="*", help="scenario overrides KEY=VALUE")
    args = parser.parse_args(argv)
    protocols = [p for p in args.protocols.split(",") if p]
    for protocol in protocols:
        if protocol not in PROTOCOLS:
            parser.error(f"--protocols: {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    default = "4,16,64" if args.local else "4,16,64,128,256"
    functions = [int(n) for n in (args.functions or default).split(",")]
    max_functions = max(functions)
    rows = []
    for protocol in protocols:
        for n in functions:
            row: dict[str, Any] = {"protocol": protocol, "functions": n,
                                   "sim": simulate(protocol, n, args.epochs, max_functions, args.overrides)}
            if args.local:
                row["local"] = measure_local(protocol, n, args.epochs, max_functions, args.overrides, args.timeout)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    if args.local:
        _print_local(rows)
    else:
        for row in rows:
            sim = row["sim"]
            print(f"{row['protocol']:>9} {row['functions']:>4} upd/s={sim['updates_per_s']:.1f} "
                  f"req/upd={sim['requests_per_update']:.2f} refused/upd={sim['refused_per_update']:.2f} "
                  f"lost={sim['lost_updates']:.0f} usd/epoch={sim['cost_usd']:.6f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
