#!/usr/bin/env python3
"""Wall time of the same `siren sweep`, local backend against Ray backend.

Runs `siren sweep ARGS --json` once per backend and repetition (each a fresh
process, as a user runs it), checks that the JSON tables are identical, and
prints the median wall times. The Ray runs connect to --address (default:
"local", a private instance that each run starts and stops), so their time
includes Ray's start-up; `ray_connect_s` times that alone (connect and
disconnect, nothing run):

    .venv/bin/python experiments/bench_ray_sweep.py
    .venv/bin/python experiments/bench_ray_sweep.py --address auto --repeats 3 -- --seeds 16
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SWEEP = ["--scenario", "default", "--budgets", "0.15,0.25,0.40", "--seeds", "8",
                 "--memory-stride", "2", "--fixed-n", "50,100"]
TIMEOUT_S = 1800


def timed(command: list[str]) -> float:
    """Runs `command` (output discarded unless it fails) and returns its wall time."""
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", default="local", help="Ray address for the Ray runs (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=1, help="runs per backend (default: %(default)s)")
    p.add_argument("sweep", nargs="*", help=f"siren sweep arguments after -- (default: {' '.join(DEFAULT_SWEEP)})")
    args = p.parse_args()
    sweep = [sys.executable, "-m", "siren", "sweep", *(args.sweep or DEFAULT_SWEEP)]
    connect = [sys.executable, "-c",
               f"from siren.ray_backend import connect; connect({args.address!r}).shutdown()"]
    times: dict[str, list[float]] = {"local_s": [], "ray_s": [], "ray_connect_s": []}
    with tempfile.TemporaryDirectory() as directory:
        tables = {name: Path(directory) / f"{name}.json" for name in ("local", "ray")}
        for _ in range(args.repeats):
            times["local_s"].append(timed(sweep + ["--json", str(tables["local"])]))
            times["ray_s"].append(timed(sweep + ["--backend", "ray", "--ray-address", args.address,
                                                 "--json", str(tables["ray"])]))
            times["ray_connect_s"].append(timed(connect))
        identical = tables["local"].read_bytes() == tables["ray"].read_bytes()
    print(f"sweep: {' '.join(sweep[3:])}")
    print(f"ray_address={args.address} repeats={args.repeats} identical_tables={identical}")
    for name, values in times.items():
        print(f"{name}={statistics.median(values):.2f}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
