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


def test_fit_convergence_seeds_fits_the_mean_of_several_runs(cli) -> None:
    proc = cli("fit-convergence", "--schedule", "20:1024", "--seeds", "2", "--epochs", "2",
               "workload.dataset_samples=20000")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "runs=2 " in proc.stdout and "mean over 2 seeds each" in proc.stdout
    assert "max_relative_error_of_means=" in proc.stdout
    # The printed sgd losses are the means of the runs under seeds 1 and 2.
    scenario = siren.load_scenario("logreg-click-through", ["workload.dataset_samples=20000"])
    fit = _core.fit_convergence(scenario, [{"schedule": [(20, 1024)], "seed": s} for s in (1, 2)], 2)
    row = next(line for line in proc.stdout.splitlines() if line.strip().startswith("20:1024"))
    printed = [float(cell.split("/")[0]) for cell in row.split("%")[1].split()]
    means = [(a + b) / 2 for a, b in zip(*fit["sgd_loss"])]
    assert printed == pytest.approx(means, abs=1e-4)
    assert fit["sgd_loss"][0] != fit["sgd_loss"][1]


def test_fit_convergence_hold_keeps_the_scenario_values(cli) -> None:
    proc = cli("fit-convergence", "--schedule", "5:1024,40:1024", "--epochs", "2",
               "--hold", "staleness_shock,staleness_penalty", "convergence.staleness_shock=0.2",
               "convergence.shock_relaxation=0.3", "convergence.staleness_penalty=0.03",
               "workload.dataset_samples=20000")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    assert float(values["convergence.staleness_shock"]) == 0.2
    assert float(values["convergence.shock_relaxation"]) == 0.3  # Held with the shock.
    assert float(values["convergence.staleness_penalty"]) == 0.03


def test_fit_convergence_refuses_a_term_it_cannot_hold(cli) -> None:
    proc = cli("fit-convergence", "--hold", "staleness_shock,b0")
    assert proc.returncode == 2
    assert "--hold" in proc.stderr and "got 'b0'" in proc.stderr and "collapse_staleness" in proc.stderr


def test_fit_convergence_seeds_group_by_batch_size_and_schedule(cli) -> None:
    proc = cli("fit-convergence", "--schedule", "5:1024", "--schedule", "10:1024", "--batch-sizes", "500,1000",
               "--seeds", "2", "--epochs", "1", "workload.dataset_samples=20000")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "runs=8 " in proc.stdout
    rows = [line.split()[:2] for line in proc.stdout.splitlines()
            if line.startswith("  ") and "staleness=" in line]  # fmt: skip
    assert rows == [["5:1024", "b=500"], ["10:1024", "b=500"], ["5:1024", "b=1000"], ["10:1024", "b=1000"]]


def test_fit_convergence_refuses_zero_seeds(cli) -> None:
    proc = cli("fit-convergence", "--seeds", "0")
    assert proc.returncode == 2
    assert "--seeds" in proc.stderr


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


# ---- Deep nets (mlp, lenet) on image datasets ------------------------------


def test_image_datasets_carry_their_geometry(cli, tmp_path) -> None:
    digits = data.digits()
    assert (digits["height"], digits["width"], digits["features"]) == (8, 8, 64)
    assert data.click_through(100, features=64, fields=4)["height"] == 0
    proc = cli("data", "mnist", "-o", "mnist.h5")
    assert proc.returncode == 0, proc.stderr
    assert "rows=5000 features=784 classes=10 image=28x28" in proc.stdout
    mnist = data.load(tmp_path / "mnist.h5")
    assert (mnist["height"], mnist["width"]) == (28, 28)
    assert np.bincount(mnist["labels"]).tolist() == [500] * 10
    assert mnist["values"].min() > 0 and mnist["values"].max() <= 1


@pytest.fixture(scope="module")
def digits_h5(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("digits") / "digits.h5"
    data.save(data.digits(), path)
    return str(path)


# Small nets for 8x8 digits; "same" convolutions keep the maps poolable.
DIGITS_NETS = {
    "mlp": ["convergence.sgd.mlp.hidden1=64", "convergence.sgd.learning_rate=0.3"],
    "lenet": ["convergence.sgd.lenet.conv1_channels=6", "convergence.sgd.lenet.conv2_channels=16",
              "convergence.sgd.lenet.kernel=3", "convergence.sgd.lenet.padding=1",
              "convergence.sgd.lenet.dense=120", "convergence.sgd.learning_rate=0.1"],
}  # fmt: skip


def digits_job(path: str, model: str, functions: int, epochs: int) -> tuple[list[float], list[float]]:
    """Losses (initial, then per epoch) and mean staleness per epoch of a
    job training `model` on the digits under the sgd convergence model."""
    scenario = siren.load_scenario("softmax-digits", [
        "convergence.model=sgd", f"convergence.sgd.dataset={path}", "convergence.sgd.eval_samples=360",
        f"convergence.sgd.model={model}", *DIGITS_NETS[model], "workload.dataset_samples=1437",
        "job.budget_usd=100", "job.max_epochs=20", "workload.target_loss=0.001"])  # fmt: skip
    sim = siren.Simulation(scenario, seed=0)
    losses, staleness = [sim.loss], []
    for _ in range(epochs):
        result = sim.run_epoch(functions=functions, memory_mb=1024)
        losses.append(result["loss"])
        staleness.append(result["mean_staleness"])
    return losses, staleness


@pytest.mark.parametrize("model", ["mlp", "lenet"])
def test_deep_nets_learn_the_digits_through_the_simulator(digits_h5, model) -> None:
    losses, _ = digits_job(digits_h5, model, functions=2, epochs=3)
    # The untrained net's measured loss is of the order of log(10); three
    # epochs of 45 batches bring the held-out loss far below it.
    assert 1.5 < losses[0] < 5
    assert losses[-1] < 0.3 * losses[0] and losses[-1] < 0.5 * math.log(10), losses


def test_staleness_hurts_more_when_it_is_large(digits_h5) -> None:
    # The same 90 updates, from 2 or from 45 concurrent functions: a sanity
    # check of the ground truth, not a tuned claim.
    few, few_staleness = digits_job(digits_h5, "mlp", functions=2, epochs=2)
    many, many_staleness = digits_job(digits_h5, "mlp", functions=45, epochs=2)
    assert max(few_staleness) < 1 < 10 < min(many_staleness)
    assert many[-1] > 2 * few[-1], (few, many)
