"""The worker's numpy models (python/siren/runner/models/): the simulator's
generator and initialisation bit for bit, gradients against finite
differences, the same SGD steps as the simulator's `sgd` ground truth on the
same data and seed, and the registry and manifest round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

import siren
from siren import _core, data
from siren.runner import models
from siren.runner.models import layers
from siren.runner.models._rng import Rng
from siren.runner.models.init import glorot_uniform, he_normal


def _csr(dense: np.ndarray, labels: np.ndarray) -> dict:
    rows, columns = np.nonzero(dense)
    indptr = np.zeros(len(dense) + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return {"indptr": np.cumsum(indptr), "indices": columns.astype(np.int32),
            "values": dense[rows, columns].astype(np.float32), "labels": labels.astype(np.int32)}


def _rows(dataset: dict, start: int, stop: int) -> dict:
    indptr = np.asarray(dataset["indptr"])
    low, high = indptr[start], indptr[stop]
    return {"indptr": indptr[start:stop + 1] - low, "indices": np.asarray(dataset["indices"][low:high]),
            "values": np.asarray(dataset["values"][low:high], dtype=np.float32),
            "labels": np.asarray(dataset["labels"][start:stop], dtype=np.int32)}


# --- the generator and the initialisation ----------------------------------------------------
def test_the_generator_gives_the_simulators_bits() -> None:
    # Printed by the C++ generator (sim/core/rng.h) and initialisers
    # (sim/convergence/sgd/models/init.h) with "%llu" and "%.17g" / "%.9g".
    assert Rng(1, 1001).next_u64() == 12902254022662882625
    normals = Rng(7, 1002)
    assert [normals.normal() for _ in range(3)] == [-0.94285328077583896, -1.3652144569094802,
                                                    -0.37217781009358547]
    np.testing.assert_array_equal(he_normal(1, 1001, 64, 5), np.array(
        [0.328588098, -0.0664528757, 0.081593588, -0.11779426, 0.0742119253], dtype=np.float32))
    np.testing.assert_array_equal(glorot_uniform(3, 1002, 128, 10, 5), np.array(
        [0.184919447, -0.136531726, 0.101209633, 0.0892206058, 0.109126523], dtype=np.float32))


def test_initial_weights_follow_the_layer_layout() -> None:
    net = models.build({"name": "mlp", "hidden": [32], "init_seed": 5}, 64, 10)
    params = net.initial_parameters()
    assert net.parameter_count == 64 * 32 + 32 + 32 * 10 + 10 == len(params) and params.dtype == np.float32
    np.testing.assert_array_equal(params[:64 * 32], he_normal(5, 1001, 64, 64 * 32))
    assert not params[64 * 32:64 * 32 + 32].any()  # Zero biases.
    np.testing.assert_array_equal(params[64 * 32 + 32:-10], glorot_uniform(5, 1002, 32, 10, 320))
    np.testing.assert_array_equal(net.initial_parameters(), params)  # A function of the seed alone.
    other = models.build({"name": "mlp", "hidden": [32], "init_seed": 6}, 64, 10).initial_parameters()
    assert not np.array_equal(other, params)
    lenet = models.build({"name": "lenet"}, 784, 10, 28, 28)
    assert lenet.parameter_count == 431080  # The lenet-mnist preset's model size (MXNet's LeNet).


# --- every registered model ------------------------------------------------------------------
# A small spec of each registered model for 8x8 images, so that a new model
# file must add one here (the test below fails on a model without one).
SMALL = {
    "softmax": {"name": "softmax"},
    "mlp": {"name": "mlp", "hidden": [16], "init_seed": 2},
    "lenet": {"name": "lenet", "conv1_channels": 2, "conv2_channels": 3, "kernel": 3, "padding": 1, "dense": 8,
              "init_seed": 2},
}  # fmt: skip


@pytest.mark.parametrize("name", list(models.MODELS))
def test_every_registered_model_keeps_the_interface(name) -> None:
    assert name in SMALL, f"add a small spec of the {name} model to SMALL"
    net = models.build(SMALL[name], 64, 10, 8, 8)
    assert net.name == name
    again = models.from_manifest({"features": 64, "classes": 10, "height": 8, "width": 8, "model": net.spec()})
    params = net.initial_parameters()
    assert params.dtype == np.float32 and params.shape == (net.parameter_count,)
    np.testing.assert_array_equal(again.initial_parameters(), params)  # The spec rebuilds the same model.
    rng = np.random.default_rng(0)
    pixels = rng.random((40, 64)).astype(np.float32)
    batch = _csr(pixels, rng.integers(0, 10, 40))
    params = params + rng.normal(size=params.shape).astype(np.float32) * 0.05
    loss, gradient = net.loss_and_gradient(params, batch)
    assert gradient.dtype == np.float32 and gradient.shape == params.shape and np.isfinite(gradient).all()
    assert loss == pytest.approx(net.loss(params, batch), rel=1e-6)
    # The mean over rows: the loss of a batch is the row-weighted mean of its halves' losses.
    halves = [_rows(batch, 0, 25), _rows(batch, 25, 40)]
    assert loss == pytest.approx((25 * net.loss(params, halves[0]) + 15 * net.loss(params, halves[1])) / 40, rel=1e-6)
    assert net.flops_per_sample(30.0) > 0
    with pytest.raises(ValueError, match="params: expected shape"):
        net.loss(params[:-1], batch)


# --- gradients -------------------------------------------------------------------------------
NETS = {
    "mlp, two hidden layers": ({"name": "mlp", "hidden": [16, 8]}, 8),
    "lenet, same convolutions": ({"name": "lenet", "conv1_channels": 3, "conv2_channels": 4, "kernel": 3,
                                  "padding": 1, "dense": 12}, 8),
    "lenet, valid convolutions, odd maps": ({"name": "lenet", "conv1_channels": 2, "conv2_channels": 3,
                                             "kernel": 2, "padding": 0, "dense": 5}, 8),
    "lenet, 4x4 kernels padded by 1 on 9x9": ({"name": "lenet", "conv1_channels": 2, "conv2_channels": 3,
                                               "kernel": 4, "padding": 1, "dense": 5}, 9),
}  # fmt: skip


@pytest.mark.parametrize("name", list(NETS))
def test_gradients_match_finite_differences(name) -> None:
    spec, side = NETS[name]
    rng = np.random.default_rng(3)
    pixels = rng.random((6, side * side)).astype(np.float32)
    pixels[pixels < 0.3] = 0  # Sparse rows, as the image datasets are.
    batch = _csr(pixels, rng.integers(0, 10, 6))
    net = models.build(spec, side * side, 10, side, side)
    # Float64 parameters make the whole pass float64, so central differences
    # of 1e-6 are exact to ~1e-9, and small enough to cross no ReLU or
    # pooling kink.
    params = net.initial_parameters().astype(np.float64) + rng.normal(size=net.parameter_count) * 0.05
    _, gradient = net.loss_and_gradient(params, batch)
    for i in range(net.parameter_count):
        step = np.zeros(net.parameter_count)
        step[i] = 1e-6
        numeric = (net.loss(params + step, batch) - net.loss(params - step, batch)) / 2e-6
        # The gradient is returned in float32: 1e-6 relative.
        assert abs(numeric - gradient[i]) <= 1e-6 + 1e-5 * abs(numeric), (i, numeric, gradient[i])


def test_pooling_routes_ties_to_the_first_maximum() -> None:
    x = np.zeros((1, 2, 2, 1), dtype=np.float32)  # Four equal values (a ReLU's zeros).
    pooled, where = layers.pool_forward(x)
    assert where.ravel().tolist() == [0]
    dx = layers.pool_backward(np.ones_like(pooled), where, x.shape)
    assert dx.ravel().tolist() == [1, 0, 0, 0]


# --- the same SGD as the simulator's ground truth --------------------------------------------
@pytest.fixture(scope="module")
def digits_h5(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("digits") / "digits.h5"
    data.save(data.digits(), path)
    return str(path)


SGD_NETS = {
    "mlp": ["convergence.sgd.mlp.hidden1=64", "convergence.sgd.mlp.hidden2=32"],
    "lenet": ["convergence.sgd.lenet.conv1_channels=6", "convergence.sgd.lenet.conv2_channels=16",
              "convergence.sgd.lenet.kernel=3", "convergence.sgd.lenet.padding=1",
              "convergence.sgd.lenet.dense=120"],
}  # fmt: skip
EVAL_ROWS = 300


@pytest.mark.parametrize("model", list(SGD_NETS))
@pytest.mark.parametrize("schedule", [["convergence.sgd.lr_schedule=constant"],
                                      ["convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=2",
                                       "convergence.sgd.lr_step_factor=0.5"],
                                      ["convergence.sgd.lr_schedule=cosine", "convergence.sgd.lr_cosine_epochs=4",
                                       "convergence.sgd.lr_min_factor=0.1"]])
def test_sequential_steps_match_the_simulators_sgd(digits_h5, model, schedule) -> None:
    # One function and one batch per epoch (dataset_samples = batch size):
    # each simulated epoch is one SGD step on the data's first batch, and its
    # loss the held-out loss after it; the worker model takes the same steps
    # from the same initial parameters.
    batch_size = 32
    scenario = siren.load_scenario("softmax-digits", [
        "convergence.model=sgd", f"convergence.sgd.dataset={digits_h5}", f"convergence.sgd.eval_samples={EVAL_ROWS}",
        f"convergence.sgd.model={model}", *SGD_NETS[model], "convergence.sgd.learning_rate=0.2",
        "convergence.sgd.init_seed=3", *schedule, f"workload.batch_size={batch_size}",
        f"workload.dataset_samples={batch_size}", "job.budget_usd=100", "job.max_epochs=50",
        "workload.target_loss=0.001"])  # fmt: skip
    simulation = siren.Simulation(scenario, seed=0)
    simulated = [simulation.loss] + [simulation.run_epoch(functions=1, memory_mb=1024)["loss"] for _ in range(6)]

    digits = data.load(digits_h5)
    rows = len(digits["labels"])
    net = models.build(models.spec_from_scenario(scenario.get), digits["features"], digits["classes"],
                       digits["height"], digits["width"])
    schedule_ = models.LrSchedule.from_scenario(scenario.get)
    train, held_out = _rows(digits, 0, batch_size), _rows(digits, rows - EVAL_ROWS, rows)
    params = net.initial_parameters()
    losses = [net.loss(params, held_out)]
    for epoch in range(6):
        _, gradient = net.loss_and_gradient(params, train)
        params = params - np.float32(schedule_.at(epoch)) * gradient  # The parameter store's push.
        losses.append(net.loss(params, held_out))
    assert losses[-1] < losses[0] - 0.05  # Learning, so the comparison means something.
    # Measured: at most 9e-8 relative (float32 sums in another order).
    np.testing.assert_allclose(losses, simulated, rtol=1e-6)


def test_schedules_are_the_simulators() -> None:
    step = models.LrSchedule(kind="step", rate=0.4, step_epochs=3, step_factor=0.5)
    assert [step.at(e) for e in range(7)] == [0.4, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1]
    cosine = models.LrSchedule(kind="cosine", rate=1.0, cosine_epochs=4, min_factor=0.0)
    assert cosine.at(0) == 1.0 and cosine.at(2) == pytest.approx(0.5) and cosine.at(4) == cosine.at(9) == 0.0
    with pytest.raises(ValueError, match="convergence.sgd.lr_schedule"):
        models.LrSchedule(kind="linear")


# --- the registry and the manifest -----------------------------------------------------------
def test_the_scenario_chooses_the_model_and_the_manifest_carries_it(digits_h5) -> None:
    from siren.runner.datasets import load_dataset

    scenario = _core.load_scenario("softmax-digits", ["convergence.sgd.model=lenet", *SGD_NETS["lenet"]])
    spec = models.spec_from_scenario(scenario.get)
    assert spec == {"name": "lenet", "conv1_channels": 6, "conv2_channels": 16, "kernel": 3, "padding": 1,
                    "dense": 120, "init_seed": 1}
    assert models.spec_from_scenario(_core.load_scenario("softmax-digits").get) == {"name": "softmax"}
    dataset = load_dataset(digits_h5, 32, model=spec, rows=400)
    manifest = dataset.manifest()
    assert (manifest["height"], manifest["width"], manifest["train_rows"]) == (8, 8, 320)
    net = models.from_manifest(manifest)
    assert isinstance(net, models.LeNetModel) and manifest["parameters"] == net.parameter_count
    assert manifest["flops_per_sample"] > 1e5
    assert isinstance(models.from_manifest({"features": 64, "classes": 10}), models.SoftmaxModel)
    with pytest.raises(ValueError, match="lenet: expected images"):
        load_dataset("click_through", 32, model=spec, click_through_rows=200)
    with pytest.raises(ValueError, match="model: got 'resnet'"):
        models.build({"name": "resnet"}, 64, 10)


MODELS_IN_ZIP = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from siren_worker import models
assert type(models.__loader__).__name__ == "zipimporter", models.__loader__
manifest = {"features": 64, "classes": 10, "height": 8, "width": 8,
            "model": {"name": "lenet", "conv1_channels": 2, "conv2_channels": 3, "kernel": 3, "padding": 1,
                      "dense": 8, "init_seed": 1}}
net = models.from_manifest(manifest)
batch = {"indptr": np.array([0, 2]), "indices": np.array([3, 9]), "values": np.ones(2, np.float32),
         "labels": np.array([4])}
loss, gradient = net.loss_and_gradient(net.initial_parameters(), batch)
assert gradient.shape == (net.parameter_count,) and loss > 0
assert not [name for name in sys.modules if name == "siren" or name.startswith("siren.")]
print("models-ran-from-zip")
"""


def test_the_lambda_package_ships_every_model(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from siren.runner import deploy

    shipped = {module for module in deploy.PACKAGE_MODULES if module.startswith("models/")}
    source = Path(models.__file__).parent
    assert shipped == {f"models/{path.name}" for path in source.glob("*.py")} and "models/lenet.py" in shipped
    path = deploy.build_package(tmp_path / "worker.zip")
    proc = subprocess.run([sys.executable, "-I", "-c", MODELS_IN_ZIP, str(path)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0 and "models-ran-from-zip" in proc.stdout, proc.stderr
