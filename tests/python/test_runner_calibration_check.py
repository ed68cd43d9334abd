"""The calibration check (fast variant): the simulator calibrated on one
local run (`siren calibrate`) replays a second, held-out run of the same
schedule (`siren compare-sim`) with every epoch's duration within 15 % and
its cost within 5 %, for softmax and for a deep model (the MLP), on the
digits.

The check compares with one real run, so it is decidable only when real
runs repeat to within its tolerances: when the two real runs of the same
schedule differ by more than that in some epoch (a host shared with other
work), the test is skipped with both differences in its reason, never
passed with looser bounds. README ("Calibrated simulator against the local
runner") reports longer runs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from siren.runner.trace import read_run_trace

from conftest import run_cli

pytestmark = pytest.mark.slow

DURATION_TOLERANCE = 0.15  # The check, per epoch.
COST_TOLERANCE = 0.05
# A budget the guard never approaches: a lowered function timeout would
# retire the warm sandboxes every epoch, which a replay (no budget) cannot see.
COMMON = ["job.budget_usd=1", "job.max_epochs=20", "workload.target_loss=0.081"]
CASES = {
    "softmax": [],
    "mlp": ["convergence.sgd.model=mlp", "convergence.sgd.mlp.hidden1=128", "convergence.sgd.learning_rate=0.3"],
}  # fmt: skip
SCHEDULE, EPOCHS = "4:1024", 4


def _run(path, overrides: list[str]) -> dict:
    proc = run_cli("run", "--schedule", SCHEDULE, "--epochs", str(EPOCHS), "--out", str(path), *COMMON, *overrides)
    assert proc.returncode == 0, proc.stderr
    return read_run_trace(path)["epochs"]


@pytest.mark.parametrize("model", list(CASES))
def test_the_calibrated_simulator_predicts_a_held_out_run(model, tmp_path) -> None:
    first = _run(tmp_path / "a.h5", CASES[model])
    held_out = _run(tmp_path / "b.h5", CASES[model])
    proc = run_cli("calibrate", str(tmp_path / "a.h5"), "-o", str(tmp_path / "cal.yaml"))
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("compare-sim", str(tmp_path / "b.h5"), "--scenario", str(tmp_path / "cal.yaml"), "--seeds", "5",
                   "--json", str(tmp_path / "cmp.json"))
    assert proc.returncode == 0, proc.stderr
    worst = json.loads((tmp_path / "cmp.json").read_text())["max_abs_error"]
    simulated = f"calibrated simulator against the held-out run: duration {worst['duration_s']:.1%}, cost " \
                f"{worst['cost_total_usd']:.1%} at worst per epoch"
    repeat = {key: float(np.max(np.abs(np.asarray(held_out[key]) / np.asarray(first[key]) - 1)))
              for key in ("duration_s", "cost_total_usd")}
    if repeat["duration_s"] > DURATION_TOLERANCE or repeat["cost_total_usd"] > COST_TOLERANCE:
        pytest.skip(f"undecidable on this host now: two real runs of the same schedule differ by "
                    f"{repeat['duration_s']:.1%} in duration and {repeat['cost_total_usd']:.1%} in cost at worst per "
                    f"epoch (tolerances {DURATION_TOLERANCE:.0%}, {COST_TOLERANCE:.0%}); {simulated}")
    assert worst["duration_s"] <= DURATION_TOLERANCE and worst["cost_total_usd"] <= COST_TOLERANCE, simulated
