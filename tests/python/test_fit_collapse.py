"""The fitter's collapse bound (convergence.collapse_staleness) on a net that
collapses in the sgd ground truth: the small LeNet of experiments/fit_check.py
on the digits at rate 0.02 with momentum 0.9 learns with one function and
sits at the uniform prediction (loss ln 10) with 24 (mean staleness ~10-13)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import siren
from siren import _core

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))
import fit_check  # noqa: E402

EPOCHS = 3


@pytest.fixture(scope="module")
def fit(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("fit_collapse")
    w = fit_check.WORKLOADS["lenet-digits"]
    overrides = [f"convergence.sgd.dataset={fit_check.dataset_path('digits', folder)}", *w.overrides,
                 "convergence.sgd.learning_rate=0.02", "convergence.sgd.momentum=0.9"]  # fmt: skip
    base = _core.load_scenario(w.preset, overrides)
    runs = [{"schedule": [(1, 1024)], "overrides": [], "seed": 1},
            {"schedule": [(24, 1024)], "overrides": [], "seed": 2}]  # fmt: skip
    result = _core.fit_convergence(base, runs, EPOCHS, None)
    result["folder"] = folder
    return result


def test_the_ground_truth_collapses_with_24_functions_only(fit) -> None:
    fresh, stale = fit["sgd_loss"]
    assert fresh[-1] < 0.5 * math.log(10)
    assert all(abs(loss - math.log(10)) < 0.10 * math.log(10) for loss in stale), stale


def test_the_fitted_bound_lies_between_the_runs_staleness(fit) -> None:
    bound = fit["fitted"]["collapse_staleness"]
    # The one-function run has staleness 0; the 24-function run's epochs
    # have a mean staleness of about 10 and more.
    assert 0 < bound < fit["mean_staleness"][1], (bound, fit["mean_staleness"])
    # Collapsed from the first epoch on, at the mean collapsed loss (near
    # ln 10, not the net's initial loss).
    assert fit["fitted"]["collapse_loss"] == pytest.approx(math.log(10), rel=0.1)
    fitted_stale = fit["fitted_loss"][1]
    for sgd, fitted in zip(fit["sgd_loss"][1], fitted_stale):
        assert abs(fitted - sgd) / sgd <= 0.10, (fit["sgd_loss"][1], fitted_stale)


def test_the_fitted_scenario_collapses_in_the_simulator(fit) -> None:
    path = Path(fit["folder"]) / "fitted.yaml"
    path.write_text(fit["yaml"])
    scenario = siren.load_scenario(str(path), ["convergence.loss_noise_sigma=0", "job.budget_usd=1000000",
                                               f"workload.target_loss={fit['fitted']['b2'] * 1.000001}",
                                               f"job.max_epochs={EPOCHS}"])  # fmt: skip
    for functions, seed, fitted in ((1, 1, fit["fitted_loss"][0]), (24, 2, fit["fitted_loss"][1])):
        sim = siren.Simulation(scenario, seed=seed)
        losses = [sim.run_epoch(functions=functions, memory_mb=1024)["true_loss"] for _ in range(EPOCHS)]
        assert losses == pytest.approx(fitted, rel=1e-9)
