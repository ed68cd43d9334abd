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
