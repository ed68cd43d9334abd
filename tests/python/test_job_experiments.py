"""The many-jobs experiments run end to end in --quick mode and print their
tables and checks (experiments/one_policy_many_budgets.py, closed_loop.py,
bench_training.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def run(script: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(EXPERIMENTS / script), "--quick", *args], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_one_policy_many_budgets_quick() -> None:
    out = run("one_policy_many_budgets.py")
    # Each budget has the policy, the oracle static and GS rows, and a check.
    for budget in ("0.10", "0.50"):
        methods = re.findall(rf"^\s*{budget}\s+(one policy \(all budgets\)|oracle static|GS)\s", out, re.MULTILINE)
        assert sorted(methods) == ["GS", "one policy (all budgets)", "oracle static"], out
        assert re.search(rf"^check budget={budget}: policy JCT [+-][0-9.]+% vs oracle static, (PASS|FAIL)", out,
                         re.MULTILINE), out
    assert re.search(r"^check overall: (PASS|FAIL)$", out, re.MULTILINE), out


def test_closed_loop_quick() -> None:
    out = run("closed_loop.py")
    for method in ("policy (closed loop)", "oracle static (open)", "CEM schedule (open)"):
        assert re.search(rf"^\s+{re.escape(method)}\s+[0-9.]+\s", out, re.MULTILINE), out
    # The held-out jobs differ: each drawn factor spans a range.
    spans = dict(re.findall(r"held-out (\w+): ([0-9.]+\.\.[0-9.]+)", out))
    assert set(spans) == {"dataset_scale", "loss_noise_scale", "compute_slowdown", "s3_slowdown"}, out
    assert all(lo != hi for lo, hi in (span.split("..") for span in spans.values())), out
    assert re.search(r"^closed-loop gain: ", out, re.MULTILINE), out


@pytest.mark.slow
def test_bench_training_quick_runs_three_learners() -> None:
    out = run("bench_training.py")
    assert re.search(r"oracle_jct_s=[0-9.]+", out), out
    for learner in ("siren", "sb3", "cleanrl"):
        assert re.search(rf"^{learner}: trained wall_s=[0-9.]+ env_steps=[0-9]+", out, re.MULTILINE), out
    assert len(re.findall(r"^  level oracle\+0% ", out, re.MULTILINE)) == 3, out
