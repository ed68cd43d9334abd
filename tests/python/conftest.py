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

# Every field of sim::EpochResult, nested structs flattened (sim/epoch_result.h).
EPOCH_RESULT_FIELDS = [
    "epoch",
    "action_functions",
    "action_memory_mb",
    "functions_used",
    "duration_s",
    "fetch_mean_s",
    "fetch_p95_s",
    "compute_mean_s",
    "compute_p95_s",
    "update_mean_s",
    "update_p95_s",
    "batches",
    "updates",
    "mean_staleness",
    "max_staleness",
    "update_conflicts",
    "invocations",
    "cold_starts",
    "warm_starts",
    "throttles",
    "timeouts",
    "reinvocations",
    "s3_slowdowns",
    "s3_gets",
    "s3_puts",
    "billed_gb_s",
    "cpu_utilisation",
    "memory_utilisation",
    "cost_lambda_duration_usd",
    "cost_lambda_request_usd",
    "cost_s3_request_usd",
    "cost_total_usd",
    "loss",
    "true_loss",
    "progress",
    "cumulative_time_s",
    "cumulative_cost_usd",
    "status",
    "events",
]


def fixed_schedule(scenario: siren.Scenario, functions: int = 20) -> str:
    """A valid fixed schedule for `scenario`."""
    return f"{functions}:{default_bench_memory(scenario)}"


def summary_fields(stdout: str) -> dict[str, str]:
    """The key=value pairs of the `status=... jct_s=...` summary line."""
    lines = [line for line in stdout.splitlines() if line.startswith("status=")]
    assert len(lines) == 1, stdout
    return dict(item.split("=", 1) for item in lines[0].split())
