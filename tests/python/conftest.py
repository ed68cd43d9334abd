"""Shared helpers for the Python tests: run the `siren` CLI in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import siren
from siren.benchmark import default_bench_memory

CLI_TIMEOUT_S = 120


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `python -m siren ARGS` with the test interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "siren", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=CLI_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, cwd=tmp_path)

    return run


PRESETS = siren.preset_names()

# Every field of sim::EpochResult, nested structs flattened: the epoch field
# table (sim/core/epoch_fields.h); test_epoch_fields.py checks the table.
EPOCH_RESULT_FIELDS = [field["name"] for field in siren._core.epoch_fields()]


def fixed_schedule(scenario: siren.Scenario, functions: int = 20) -> str:
    """A valid fixed schedule for `scenario`."""
    return f"{functions}:{default_bench_memory(scenario)}"


def summary_fields(stdout: str) -> dict[str, str]:
    """The key=value pairs of the `status=... jct_s=...` summary line."""
    lines = [line for line in stdout.splitlines() if line.startswith("status=")]
    assert len(lines) == 1, stdout
    return dict(item.split("=", 1) for item in lines[0].split())


def synthetic_trace_parts(epochs: int = 2) -> dict:
    """The arguments of write_run_trace for a small runner trace with every
    column calibration reads (an AWS-like trace: no server search unless
    asked)."""
    from siren.runner.protocol import S3Counter

    records = [{"epoch": e, "action_functions": 2, "action_memory_mb": 1024, "duration_s": 1.0 + e,
                "cost_total_usd": 1e-4, "loss": 0.5 / (e + 1), "updates": 45, "mean_staleness": 0.5,
                "status": "running"} for e in range(epochs)]
    invocations = [{"epoch": e, "worker": w, "attempt": 1, "status": "ok", "cold": e == 0, "init_s": 0.3 * (e == 0),
                    "duration_s": 0.8, "memory_mb": 1024, "sent_s": 0.0, "returned_s": 0.9}
                   for e in range(epochs) for w in range(2)]
    batches = [{"epoch": e, "worker": b % 2, "attempt": 1, "batch": b, "fetch_s": 0.01, "compute_s": 0.002,
                "update_s": 0.01, "skipped": False} for e in range(epochs) for b in range(4)]
    requests = S3Counter(gets=8, puts=4, get_seconds=[0.01, 0.012] * 4, get_bytes=[1000, 9000] * 4,
                         put_seconds=[0.02] * 4)
    attrs = {"backend": "aws", "scenario": siren.load_scenario("softmax-digits").to_yaml(), "initial_loss": 2.3,
             "dataset": {"train_rows": 1438, "features": 64, "classes": 10}}
    return {"epochs": records, "invocations": invocations, "batches": batches, "requests": requests, "attrs": attrs}


def write_synthetic_trace(path: Path, **changes) -> None:
    """Writes synthetic_trace_parts() with `changes` applied to its parts."""
    from siren.runner.trace import write_run_trace

    parts = synthetic_trace_parts()
    parts.update(changes)
    write_run_trace(path, **parts)


# The local runner's tests (test_runner_local.py, test_runner_faults.py): one
# S3 server on loopback and the digits dataset per module. Imported here, not
# at the top, so that other tests do not load the runner.
@pytest.fixture(scope="module")
def server():
    from siren.runner.local import S3Server

    with S3Server() as s3_server:
        yield s3_server


@pytest.fixture(scope="module")
def dataset():
    from siren.runner.datasets import load_dataset

    return load_dataset("digits", siren._core.load_scenario("softmax-digits").batch_size)
