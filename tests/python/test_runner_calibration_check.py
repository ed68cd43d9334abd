"""The calibration check (fast variant): the simulator calibrated on two
local runs (`siren calibrate a.h5 b.h5`) replays a third, held-out run of
the same schedule (`siren compare-sim`, the mean of 20 simulated seeds)
with every epoch's duration within 15 % and its cost within 5 %, for
softmax and for a deep model (the MLP), on the digits, under the paper's
asynchronous overwrite and under the runner's compare-and-swap.

The check compares with one real run, so it is decidable only when real
runs repeat to within its tolerances: when the held-out run differs from
the mean of the two calibration runs by more than that in some epoch, the
test is skipped with the difference in its reason (and before calibrating,
which takes most of its time), never passed with looser bounds. Under
compare-and-swap on these 45-batch epochs the real runs do not repeat even
on an idle machine: each refused push is a billed PUT and GET, and their
number varies by about 5-15 per epoch between epochs of the same action
(README, "Calibrated simulator against the local runner";
experiments/calibration_repeatability.py measures it).
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
SCHEDULE, EPOCHS, SEEDS = "4:1024", 4, 20


def _run(path, protocol: str, overrides: list[str]) -> dict:
    proc = run_cli("run", "--schedule", SCHEDULE, "--epochs", str(EPOCHS), "--push-protocol", protocol,
                   "--out", str(path), *COMMON, *overrides)
    assert proc.returncode == 0, proc.stderr
    return read_run_trace(path)["epochs"]


def _worst(real: dict, reference: dict) -> dict[str, float]:
    """The largest relative difference of any epoch of `real` from
    `reference`, in duration and cost."""
    return {key: float(np.max(np.abs(np.asarray(real[key]) / np.asarray(reference[key]) - 1)))
            for key in ("duration_s", "cost_total_usd")}


@pytest.mark.parametrize("protocol", ["overwrite", "cas"])
@pytest.mark.parametrize("model", list(CASES))
def test_the_calibrated_simulator_predicts_a_held_out_run(model, protocol, tmp_path) -> None:
    paths = [tmp_path / f"{name}.h5" for name in ("a", "b", "held_out")]
    first, second, held_out = (_run(path, protocol, CASES[model]) for path in paths)
    mean = {key: (np.asarray(first[key]) + np.asarray(second[key])) / 2 for key in ("duration_s", "cost_total_usd")}
    repeat = _worst(held_out, mean)
    warm = {key: np.asarray(held_out[key][1:]) for key in mean}  # The same action on warm sandboxes.
    spread = {key: float(np.max(np.abs(values / values.mean() - 1))) for key, values in warm.items()}
    if repeat["duration_s"] > DURATION_TOLERANCE or repeat["cost_total_usd"] > COST_TOLERANCE:
        pytest.skip(f"undecidable on this host now: the held-out run differs from the mean of the two calibration "
                    f"runs by {repeat['duration_s']:.1%} in duration and {repeat['cost_total_usd']:.1%} in cost at "
                    f"worst per epoch (tolerances {DURATION_TOLERANCE:.0%}, {COST_TOLERANCE:.0%}); its own warm "
                    f"epochs, one action, lie up to {spread['duration_s']:.1%} and {spread['cost_total_usd']:.1%} "
                    f"from their mean; refused pushes per epoch {list(map(int, held_out['update_conflicts']))}")
    proc = run_cli("calibrate", str(paths[0]), str(paths[1]), "-o", str(tmp_path / "cal.yaml"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("compare-sim", str(paths[2]), "--scenario", str(tmp_path / "cal.yaml"), "--seeds", str(SEEDS),
                   "--json", str(tmp_path / "cmp.json"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "cmp.json").read_text())
    worst, noise = result["max_abs_error"], result["max_spread"]
    simulated = (f"calibrated simulator against the held-out run: duration {worst['duration_s']:.1%}, cost "
                 f"{worst['cost_total_usd']:.1%} at worst per epoch (the simulator's own spread over seeds: "
                 f"{noise['duration_s']:.1%}, {noise['cost_total_usd']:.1%}); the real runs repeat to "
                 f"{repeat['duration_s']:.1%}, {repeat['cost_total_usd']:.1%}")
    print(simulated)
    assert worst["duration_s"] <= DURATION_TOLERANCE and worst["cost_total_usd"] <= COST_TOLERANCE, simulated
