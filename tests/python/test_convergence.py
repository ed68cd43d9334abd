"""Ground-truth convergence from Python: datasets shared with the runner, the
sgd model through the CLI, and `siren fit-convergence`."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import siren
from siren import _core, data



def parse_key_values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line and " " not in line)


def test_click_through_round_trips_through_hdf5(tmp_path) -> None:
    generated = data.click_through(2000, features=512, fields=12, seed=4)
    path = tmp_path / "ct.h5"
    data.save(generated, path)
    loaded = data.load(path)
    for key in ("indptr", "indices", "values", "labels"):
        np.testing.assert_array_equal(loaded[key], generated[key])
    assert loaded["features"] == 512 and loaded["classes"] == 2
    again = data.click_through(2000, features=512, fields=12, seed=4)
    np.testing.assert_array_equal(again["labels"], generated["labels"])


def test_digits_is_the_real_dataset_and_trains_under_sgd(tmp_path) -> None:
    digits = data.digits()
    assert len(digits["labels"]) == 1797 and digits["classes"] == 10
    assert set(np.unique(digits["labels"])) == set(range(10))
    path = tmp_path / "digits.h5"
    data.save(digits, path)
    scenario = siren.load_scenario("logreg-click-through", [
        "convergence.model=sgd", f"convergence.sgd.dataset={path}",
        "convergence.sgd.eval_samples=297", "workload.dataset_samples=1500",
        "workload.batch_size=50", "job.budget_usd=100", "job.max_epochs=5",
        "workload.target_loss=0.01"])
    sim = siren.Simulation(scenario, seed=0)
    assert sim.loss == pytest.approx(math.log(10))
    losses = [sim.run_epoch(functions=5, memory_mb=1024)["loss"] for _ in range(5)]
    assert losses[-1] < 0.5 * math.log(10)


def test_bad_data_is_refused_with_the_field_named(tmp_path) -> None:
    bad = data.click_through(100, features=64, fields=4, seed=1)
    bad["labels"] = bad["labels"].copy()
    bad["labels"][0] = 7
    with pytest.raises(ValueError, match="labels"):
        data.save(bad, tmp_path / "bad.h5")
    scenario = siren.load_scenario("logreg-click-through", [
        "convergence.model=sgd", "convergence.sgd.dataset=/nonexistent/x.h5"])
    with pytest.raises(ValueError, match="convergence.sgd.dataset"):
        siren.Simulation(scenario, seed=0)


def test_data_cli_writes_both_datasets(cli, tmp_path) -> None:
    proc = cli("data", "click-through", "-o", "ct.h5", "--rows", "3000", "--features", "256",
               "--fields", "8")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "rows=3000" in proc.stdout
    assert len(data.load(tmp_path / "ct.h5")["labels"]) == 3000
    proc = cli("data", "digits", "-o", "digits.h5")
    assert proc.returncode == 0, proc.stderr
    assert data.load(tmp_path / "digits.h5")["classes"] == 10


def test_fit_convergence_cli_writes_a_loadable_scenario(cli, tmp_path) -> None:
    proc = cli("fit-convergence", "--schedule", "5:1024", "--schedule", "20:1024,5:1024",
               "--epochs", "3", "-o", "fitted.yaml", "workload.dataset_samples=50000")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    assert float(values["max_relative_error"]) <= 0.10
    fitted = siren.load_scenario(str(tmp_path / "fitted.yaml"))
    text = fitted.to_yaml()
    assert re.search(r"model: \"?analytic", text)
    match = re.search(r"\bb0: ([0-9.e+-]+)", text)
    assert match and float(match.group(1)) == pytest.approx(float(values["convergence.b0"]), rel=1e-5)


def test_fit_convergence_refuses_bsp(cli) -> None:
    proc = cli("fit-convergence", "--epochs", "1", "execution.mode=bsp",
               "workload.dataset_samples=20000")  # fmt: skip
    assert proc.returncode == 2
    assert "execution.mode" in proc.stderr


def test_fit_via_bindings_matches_the_simulator() -> None:
    scenario = siren.load_scenario("logreg-click-through", ["workload.dataset_samples=50000"])
    fit = _core.fit_convergence(scenario, [{"schedule": [(10, 1024)], "seed": 3}], 3)
    assert len(fit["sgd_loss"]) == 1 and len(fit["sgd_loss"][0]) == 3
    fitted = _core.parse_scenario(fit["yaml"], ["convergence.loss_noise_sigma=0",
                                                "job.budget_usd=1000"])
    sim = siren.Simulation(fitted, seed=3)
    for epoch in range(3):
        result = sim.run_epoch(functions=10, memory_mb=1024)
        assert result["true_loss"] == pytest.approx(fit["fitted_loss"][0][epoch], rel=1e-9)
