"""The many-jobs experiments run end to end in --quick mode and print their
tables and checks (experiments/one_policy_many_budgets.py, closed_loop.py,
bench_training.py, headroom_capture.py)."""

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
    # Each budget has the policy, the oracle static, GS and the anchor table
    # alone (two lookups), says whether it is a grid budget of the table
    # (--quick: 2 grid budgets, $0.10 and $0.50), and has a check.
    for budget, grid in (("0.10", True), ("0.30", False), ("0.50", True)):
        methods = re.findall(rf"^\s*{budget}\s+(one policy \(all budgets\)|oracle static|GS|table alone, floor|"
                             rf"table alone, interp\.)\s", out, re.MULTILINE)
        assert sorted(methods) == ["GS", "one policy (all budgets)", "oracle static", "table alone, floor",
                                   "table alone, interp."], out
        assert f"budget {budget}: {'a grid point' if grid else 'not a grid point'} of the anchor table" in out, out
        assert re.search(rf"^check budget={budget}: policy JCT [+-]?(?:[0-9.]+|nan)% vs oracle static on the seeds both "
                         rf"converged on, (PASS|FAIL)",
                         out, re.MULTILINE), out
    # At a grid budget the floor lookup is that budget's row, the table's
    # last one at $0.50.
    table = re.search(r"^anchor table \(2 rows: 2 grid budgets, gap 0; exported: [a-z ]+\): \$0\.1000 (\d+) x (\d+) MB, "
                      r"\$0\.5000 (\d+) x (\d+) MB$", out, re.MULTILINE)
    assert table, out
    floor = re.search(r"^\s*0\.50\s+table alone, floor .* (\d+) x (\d+) MB$", out, re.MULTILINE)
    assert floor and floor.groups() == table.groups()[2:], out
    assert re.search(r"^check overall: (PASS|FAIL)$", out, re.MULTILINE), out


def test_one_policy_many_budgets_with_the_clamp_quick() -> None:
    # --action-clamp budget: the policy trains and runs with the clamp, and
    # the oracle static configuration is shown with it too. The clamp only
    # replaces an epoch the guard would refuse (the job would end there), so
    # it never finishes fewer jobs than the same configuration without it.
    out = run("one_policy_many_budgets.py", "--action-clamp", "budget")
    assert "env.action_clamp=budget," in out, out
    for budget in ("0.10", "0.30", "0.50"):
        rows = {method: float(success) for method, success in re.findall(
            rf"^\s*{budget}\s+(oracle static(?: \+ clamp)?)\s+([0-9.]+)\s", out, re.MULTILINE)}
        assert set(rows) == {"oracle static", "oracle static + clamp"}, out
        assert rows["oracle static + clamp"] >= rows["oracle static"], out
    assert len(re.findall(r"^\s+against the oracle static \+ clamp: success [0-9.]+ vs [0-9.]+, JCT [+-]?(?:[0-9.]+|nan)% "
                          r"on \d+ seeds both converged on: (?:pass|fail)$", out, re.MULTILINE)) == 3, out


def test_closed_loop_quick() -> None:
    out = run("closed_loop.py")
    for method in ("policy (closed loop)", "oracle static (open)", "CEM schedule (open)"):
        assert re.search(rf"^\s+{re.escape(method)}\s+[0-9.]+\s", out, re.MULTILINE), out
    # The held-out jobs differ: each drawn factor spans a range.
    spans = dict(re.findall(r"held-out (\w+): ([0-9.]+\.\.[0-9.]+)", out))
    assert set(spans) == {"dataset_scale", "loss_noise_scale", "compute_slowdown", "s3_slowdown"}, out
    assert all(lo != hi for lo, hi in (span.split("..") for span in spans.values())), out
    assert re.search(r"^closed-loop gain(:| vs the best open-loop schedule)", out, re.MULTILINE), out


@pytest.mark.slow
def test_bench_training_quick_runs_three_learners() -> None:
    out = run("bench_training.py")
    assert re.search(r"oracle_jct_s=[0-9.]+", out), out
    for learner in ("siren", "sb3", "cleanrl"):
        assert re.search(rf"^{learner}: trained wall_s=[0-9.]+ env_steps=[0-9]+", out, re.MULTILINE), out
    assert len(re.findall(r"^  level oracle\+0% \([0-9.]+ s\): (not reached|[0-9.]+ s \([0-9,]+ steps\))$", out,
                          re.MULTILINE)) == 3, out
    # SB3 and CleanRL-style PPO were evaluated before training and during it.
    for learner in ("sb3", "cleanrl"):
        evaluations = re.search(rf"^{learner}: .* evaluations=([0-9]+) ", out, re.MULTILINE)
        assert evaluations and int(evaluations[1]) >= 2, out
    assert re.search(r"^\| \$0\.25 \| Siren PPO \(C\+\+, libtorch\), oracle static anchor \|", out, re.MULTILINE), out


@pytest.mark.slow
def test_headroom_capture_quick_reports_the_captured_share() -> None:
    out = run("headroom_capture.py")
    for method in ("oracle static (map)", "best dynamic (map)", "policy's anchor alone", "policy"):
        assert re.search(rf"^  {re.escape(method)}\s+\d+/3 successes", out, re.MULTILINE), out
    assert re.search(r"^  anchor table \((schedule|oracle)\): ", out, re.MULTILINE), out
    assert re.search(r"captured -?[0-9]+% -> (PASS|FAIL)", out), out
    assert re.search(r"^check overall: (PASS|FAIL)$", out, re.MULTILINE), out
