"""Deep-model workers end to end on the local backend (a real moto S3
server, real worker processes): jobs training the MLP and the LeNet-style
net of the simulator's `sgd` ground truth, small (a few hundred digits, two
functions); a sequential job whose losses are the plain SGD replay of the
same steps; and calibration of the simulator from a deep-model trace."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from siren import _core, data
from siren.runner.calibrate import calibrate, compare, replay_caveats
from siren.runner.datasets import load_dataset
from siren.runner.job import RealJob
from siren.runner.local import LocalLambda
from siren.runner.models import spec_from_scenario
from siren.runner.trace import read_run_trace

from conftest import run_cli

pytestmark = pytest.mark.slow

BUCKET = "siren-test"
# Small nets for 8x8 digits ("same" convolutions keep the maps poolable).
NETS = {
    "mlp": ["convergence.sgd.model=mlp", "convergence.sgd.mlp.hidden1=32", "convergence.sgd.learning_rate=0.3"],
    "lenet": ["convergence.sgd.model=lenet", "convergence.sgd.lenet.conv1_channels=4",
              "convergence.sgd.lenet.conv2_channels=8", "convergence.sgd.lenet.kernel=3",
              "convergence.sgd.lenet.padding=1", "convergence.sgd.lenet.dense=32",
              "convergence.sgd.learning_rate=0.1"],
}  # fmt: skip
ROWS = 320  # 256 training rows (8 batches of 32), 64 held out.


@pytest.fixture(scope="module")
def digits_h5(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("digits") / "digits.h5"
    data.save(data.digits(), path)
    return str(path)


def _job(server, digits_h5: str, overrides: list[str]) -> tuple[RealJob, LocalLambda]:
    scenario = _core.load_scenario("softmax-digits", overrides)
    dataset = load_dataset(digits_h5, scenario.batch_size, model=spec_from_scenario(scenario.get), rows=ROWS)
    backend = LocalLambda(server, timeout_s=60.0)
    return RealJob(scenario, backend, dataset, bucket=BUCKET, prefix=f"t/{uuid.uuid4().hex[:8]}"), backend


def _run(job: RealJob, schedule: list[tuple[int, int]]) -> list[dict]:
    job.reset()
    return [job.step(job.codec.encode(functions, memory_mb))[-1] for functions, memory_mb in schedule]


@pytest.mark.parametrize("model", list(NETS))
def test_a_local_job_trains_the_deep_model_on_two_functions(server, digits_h5, model) -> None:
    job, backend = _job(server, digits_h5, NETS[model])
    try:
        records = _run(job, [(2, 1024)] * 3)
    finally:
        backend.close()
    net = job.net
    assert net.name == model and job.dataset.manifest()["model"]["name"] == model
    # The job starts from the simulator's initial weights (bit for bit: test_runner_models.py).
    assert job.initial_loss == net.loss(net.initial_parameters(), job.dataset.held_out)
    assert [r["updates"] for r in records] == [8, 8, 8] and all(r["status"] != "failed" for r in records)
    assert [r["missing_batches"] for r in records] == [0, 0, 0]
    state = job.store.read()
    assert state.params.shape == (net.parameter_count,) and state.version == 24
    losses = [r["loss"] for r in records]
    assert losses[-1] < 0.75 * job.initial_loss, (job.initial_loss, losses)


def test_one_function_takes_the_plain_sgd_steps_under_the_schedule(server, digits_h5) -> None:
    # One function runs the epoch's batches in order: the job's held-out
    # losses are those of a replay of the same SGD steps, the step schedule
    # halving the rate every epoch (the parameter store's float32 update).
    overrides = NETS["mlp"] + ["convergence.sgd.lr_schedule=step", "convergence.sgd.lr_step_epochs=1",
                               "convergence.sgd.lr_step_factor=0.5"]
    job, backend = _job(server, digits_h5, overrides)
    try:
        records = _run(job, [(1, 1024)] * 3)
    finally:
        backend.close()
    net, dataset = job.net, job.dataset
    params = net.initial_parameters()
    replay = []
    for epoch in range(3):
        for batch in dataset.batches:
            _, gradient = net.loss_and_gradient(params, batch)
            params = params - np.float32(0.3 * 0.5 ** epoch) * gradient
        replay.append(net.loss(params, dataset.held_out))
    np.testing.assert_allclose([r["loss"] for r in records], replay, rtol=1e-6)
    assert [r["mean_staleness"] for r in records] == [0, 0, 0]


def test_momentum_is_refused_by_name(server, digits_h5) -> None:
    with pytest.raises(ValueError, match="convergence.sgd.momentum: got 0.9"):
        _job(server, digits_h5, NETS["mlp"] + ["convergence.sgd.momentum=0.9"])


def test_calibrate_and_compare_sim_on_a_deep_model_trace(digits_h5, tmp_path) -> None:
    trace_path = tmp_path / "t.h5"
    proc = run_cli("run", "--schedule", "2:1024", "--epochs", "3", "--dataset", digits_h5, "--dataset-rows",
                   str(ROWS), "--out", str(trace_path), *NETS["lenet"])
    assert proc.returncode == 0, proc.stderr
    trace = read_run_trace(trace_path)
    manifest = trace["attrs"]["dataset"]
    assert manifest["model"]["name"] == "lenet"
    result = calibrate(trace, server_slots=1)
    scenario = result["scenario"]
    assert scenario.get("workload.model_params") == manifest["parameters"]
    assert scenario.get("workload.flops_per_sample") == pytest.approx(manifest["flops_per_sample"], rel=1e-5)
    # The batch objects (CSR digits), not the parameter store, set the sample size.
    sizes = np.asarray(trace["requests"]["get_bytes"])
    values, counts = np.unique(sizes, return_counts=True)
    store_bytes = values[np.argmax(counts)]  # Every read of the store has its size.
    assert np.max(counts) >= 24 and store_bytes >= 4 * manifest["parameters"]
    batch_bytes = np.median(sizes[(sizes > 0) & (sizes != store_bytes)])
    assert scenario.get("workload.sample_bytes") == pytest.approx(batch_bytes / 32, rel=1e-4)
    comparison = compare(trace, scenario, [0, 1])
    assert len(comparison["rows"]) == 3
    # The preset's budget of $0.01: the guard lowers the timeout every
    # epoch, which retires the warm sandboxes; a replay cannot see that.
    timeouts = np.asarray(trace["epochs"]["function_timeout_s"])
    assert len(set(timeouts.tolist())) == 3 and np.all(np.asarray(trace["epochs"]["cold_starts"]) == 2)
    assert comparison["caveats"] and "before epoch(s) 1, 2" in comparison["caveats"][0]
    steady = dict(trace, epochs=dict(trace["epochs"], function_timeout_s=np.full(3, 900.0)))
    assert replay_caveats(steady) == []
    # Loose bounds on the run it was fitted to: the machine is shared;
    # test_runner_calibration_check.py holds the held-out check.
    assert abs(comparison["totals"]["duration_s"]["error"]) < 0.5
    assert abs(comparison["totals"]["cost_total_usd"]["error"]) < 0.3
    calibrated = tmp_path / "calibrated.yaml"
    proc = run_cli("calibrate", str(trace_path), "-o", str(calibrated), "--server-slots", "1")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("compare-sim", str(trace_path), "--scenario", str(calibrated), "--seeds", "2")
    assert proc.returncode == 0 and "total duration_s" in proc.stdout, proc.stderr
    assert "note: the budget guard changed the function's timeout" in proc.stderr
