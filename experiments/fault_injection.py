#!/usr/bin/env python3
"""Fault injection on the runner's local backend: SIGKILL to busy workers,
SIGTERM to `siren run`, and what the traces and the process table say after.

Each run starts `siren run --backend local` (softmax-digits, a fixed
schedule, the scenario's lambda.timeout_s of 900 s) in its own session,
waits until a worker sandbox is busy (its CPU time or I/O grows over a short
sample: an idle sandbox blocks on its pipe) and kills it with SIGKILL,
--kills-per-run times per run, until --kills kills have landed. Then it reads
the trace and counts:

  - phantom timeouts: invocations recorded as a timeout (none can be real:
    an epoch takes about a second, the timeout is 900 s);
  - accepted epochs with missing batches: an epoch whose status is not
    "failed" but whose store did not apply every batch;
  - jobs that recovered (worker errors, every epoch complete) and jobs that
    failed (visibly: status "failed" in the trace and the table, exit 1);
  - orphans: any process the run started (found by walking /proc while it
    ran) still alive after it exited, and moto logs left in the temp folder.

Every --sigterm-every-th run is ended by SIGTERM mid-epoch instead of
running to its end: it must exit within --sigterm-limit-s with the trace's
status "interrupted" and leave no process behind.

    .venv/bin/python experiments/fault_injection.py --kills 30
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


# --- /proc ------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, int, int, float, str] | None:
    """(ppid, pgrp, starttime ticks, cpu seconds, state) of pid, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[1]), int(fields[2]), int(fields[19]), (int(fields[11]) + int(fields[12])) / ticks,
            fields[0])


def _io(pid: int) -> int:
    """Bytes read and written by pid so far (0 if unreadable)."""
    try:
        lines = Path(f"/proc/{pid}/io").read_text().split("\n")
    except OSError:
        return 0
    values = dict(line.split(": ") for line in lines if ": " in line)
    return int(values.get("rchar", 0)) + int(values.get("wchar", 0))


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root: int) -> dict[int, tuple[int, str]]:
    """{pid: (starttime, cmdline)} of every live descendant of root."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry))
    out, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            stat = _stat(child)
            if stat is not None:
                out[child] = (stat[2], _cmdline(child))
                todo.append(child)
    return out


def survivors(seen: dict[int, tuple[int, str]]) -> list[str]:
    """The processes of ``seen`` still alive (same pid and start time, not a zombie)."""
    out = []
    for pid, (start, cmdline) in seen.items():
        stat = _stat(pid)
        if stat is not None and stat[2] == start and stat[4] != "Z":
            out.append(f"{pid} {cmdline.strip()}")
    return out


def busy_workers(root: int, sample_s: float = 0.05) -> list[int]:
    """Worker sandboxes of root that are running an invocation: their CPU
    time or I/O grows over ``sample_s``."""
    workers = [pid for pid, (_, cmd) in descendants(root).items() if "local_host.py" in cmd]
    before = {pid: (_stat(pid), _io(pid)) for pid in workers}
    time.sleep(sample_s)
    busy = []
    for pid, (stat, io) in before.items():
        now = _stat(pid)
        if stat is None or now is None or now[2] != stat[2]:
            continue
        if now[3] > stat[3] or _io(pid) > io:
            busy.append(pid)
    return busy


# --- one run ----------------------------------------------------------------
def start_run(out: Path, args: argparse.Namespace, epochs: int, *overrides: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "siren", "run", "--backend", "local", "--scenario", args.scenario,
               "--schedule", f"{args.functions}:{args.memory_mb}", "--epochs", str(epochs), "--out", str(out),
               *overrides]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def kill_busy_workers(process: subprocess.Popen, kills: int, rng: random.Random,
                      seen: dict[int, tuple[int, str]], deadline_s: float = 60.0) -> int:
    """SIGKILLs up to ``kills`` busy workers of ``process`` (one at a time, a
    random pause apart); the number killed."""
    killed = 0
    deadline = time.monotonic() + deadline_s
    time.sleep(rng.uniform(0.0, 0.5))
    while killed < kills and process.poll() is None and time.monotonic() < deadline:
        seen.update(descendants(process.pid))
        busy = busy_workers(process.pid)
        if not busy:
            time.sleep(0.02)
            continue
        victim = rng.choice(busy)
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed += 1
        time.sleep(rng.uniform(0.3, 1.2))
    return killed


def inspect_trace(path: Path, batches: int | None = None) -> dict:
    from siren.runner.trace import read_run_trace

    if not path.exists():
        return {"trace": False}
    trace = read_run_trace(path)
    epochs, invocations = trace["epochs"], trace["invocations"]
    status = [str(s) for s in invocations.get("status", [])]
    durations = np.asarray(invocations.get("duration_s", []), dtype=float)
    batches = batches or int(trace["attrs"]["dataset"]["batches"])
    epoch_status = [str(s) for s in epochs.get("status", [])]
    missing = np.asarray(epochs.get("missing_batches", np.zeros(len(epoch_status))), dtype=float)
    updates = np.asarray(epochs.get("updates", np.zeros(len(epoch_status))), dtype=float)
    skipped = np.asarray(epochs.get("skipped", np.zeros(len(epoch_status))), dtype=float)
    accepted_missing = sum(1 for i, s in enumerate(epoch_status)
                           if s != "failed" and skipped[i] != 1 and (missing[i] > 0 or updates[i] != batches))
    return {"trace": True, "status": trace["attrs"].get("status", ""), "error": trace["attrs"].get("error", ""),
            "timeouts": status.count("timeout"), "errors": status.count("error"),
            "max_duration_s": float(durations.max()) if len(durations) else 0.0,
            "epochs": len(epoch_status), "failed_epochs": epoch_status.count("failed"),
            "accepted_missing": accepted_missing,
            "recovered_batches": int(np.nansum(np.asarray(epochs.get("recovered_batches", [0]), dtype=float)))}


def moto_logs() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "siren-moto-*")))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=30, help="busy workers to kill in all (default: %(default)s)")
    p.add_argument("--kills-per-run", type=int, default=3, help="(default: %(default)s)")
    p.add_argument("--scenario", default="softmax-digits")
    p.add_argument("--functions", type=int, default=4)
    p.add_argument("--memory-mb", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=6, help="epochs per run (default: %(default)s)")
    p.add_argument("--sigterm-every", type=int, default=3,
                   help="every k-th run ends by SIGTERM mid-epoch; 0: never (default: %(default)s)")
    p.add_argument("--sigterm-limit-s", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", default=None, help="keep the traces in this folder")
    args = p.parse_args()

    rng = random.Random(args.seed)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="siren-faults-"))
    folder.mkdir(parents=True, exist_ok=True)
    logs_before = moto_logs()
    totals = {"runs": 0, "kills": 0, "phantom_timeouts": 0, "accepted_missing": 0, "failed_jobs": 0,
              "recovered_jobs": 0, "orphans": 0, "sigterm_runs": 0, "sigterm_slow": 0, "sigterm_status_unset": 0,
              "no_trace": 0}
    started = time.monotonic()
    run = 0
    while totals["kills"] < args.kills:
        run += 1
        trace = folder / f"run{run:03d}.h5"
        sigterm = args.sigterm_every > 0 and run % args.sigterm_every == 0
        # A run to be ended by SIGTERM must not end by itself first.
        endless = ("workload.target_loss=0.081", "job.max_epochs=1000", "job.budget_usd=100") if sigterm else ()
        process = start_run(trace, args, 1000 if sigterm else args.epochs, *endless)
        seen: dict[int, tuple[int, str]] = {}
        kills = kill_busy_workers(process, min(args.kills_per_run, args.kills - totals["kills"]), rng, seen)
        terminated_in = float("nan")
        sigterm = sigterm and process.poll() is None  # Else it ended before the signal.
        if sigterm:
            # Mid-epoch: wait for a busy worker, then SIGTERM the runner.
            deadline = time.monotonic() + 30
            while process.poll() is None and not busy_workers(process.pid) and time.monotonic() < deadline:
                pass
            seen.update(descendants(process.pid))
            sent = time.monotonic()
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
            terminated_in = time.monotonic() - sent
        while process.poll() is None:
            seen.update(descendants(process.pid))
            time.sleep(0.1)
        stdout, stderr = process.communicate()
        time.sleep(0.2)  # Let the kernel reap what the runner's exit killed.
        left = survivors(seen)
        result = inspect_trace(trace)
        totals["runs"] += 1
        totals["kills"] += kills
        totals["orphans"] += len(left)
        if not result["trace"]:
            totals["no_trace"] += 1
        else:
            totals["phantom_timeouts"] += result["timeouts"]
            totals["accepted_missing"] += result["accepted_missing"]
            if result["status"] == "failed":
                totals["failed_jobs"] += 1
            elif result["errors"] > 0 and result["status"] != "interrupted" and not result["accepted_missing"]:
                totals["recovered_jobs"] += 1  # Workers died, every epoch got all its batches.
        if sigterm:
            totals["sigterm_runs"] += 1
            totals["sigterm_slow"] += int(not terminated_in < args.sigterm_limit_s)
            totals["sigterm_status_unset"] += int(result.get("status") != "interrupted")
        last_line = (stderr.strip().splitlines() or [""])[-1]
        print(f"run {run:>2}: kills={kills} exit={process.returncode} status={result.get('status', '-')} "
              f"epochs={result.get('epochs', 0)} worker_errors={result.get('errors', 0)} "
              f"timeouts={result.get('timeouts', 0)} accepted_missing={result.get('accepted_missing', 0)} "
              f"orphans={len(left)}"
              + (f" sigterm_exit_s={terminated_in:.2f}" if sigterm else "")
              + (f" stderr_lines={len(stderr.strip().splitlines())} last: {last_line[:160]}"
                 if process.returncode else ""), flush=True)
        for line in left:
            print(f"  orphan: {line}")
    leaked = sorted(moto_logs() - logs_before)
    print(f"\nruns={totals['runs']} kills={totals['kills']} phantom_timeouts={totals['phantom_timeouts']} "
          f"accepted_epochs_with_missing_batches={totals['accepted_missing']} failed_jobs={totals['failed_jobs']} "
          f"recovered_jobs={totals['recovered_jobs']} orphans={totals['orphans']} moto_logs_left={len(leaked)} "
          f"sigterm_runs={totals['sigterm_runs']} sigterm_slow={totals['sigterm_slow']} "
          f"sigterm_status_unset={totals['sigterm_status_unset']} runs_without_trace={totals['no_trace']} "
          f"wall_s={time.monotonic() - started:.0f}")
    bad = totals["phantom_timeouts"] + totals["accepted_missing"] + totals["orphans"] + len(leaked) + \
        totals["sigterm_slow"] + totals["sigterm_status_unset"] + totals["no_trace"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
