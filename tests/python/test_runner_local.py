"""The runner end to end on the local backend: a real moto S3 server on
loopback, real worker processes (cold starts are process starts), real numpy
SGD, real boto3 requests with conditional writes. Faults are injected for
real (a worker raises once, the backend refuses invocations with 429) and the
parameter store's version counter proves that nothing was lost or applied
twice.
"""

from __future__ import annotations

import os
import uuid

import numpy as np
import pytest

from siren import _core
from siren.runner import model
from siren.runner.backend import THROTTLED
from siren.runner.calibrate import calibrate, compare
from siren.runner.job import RealJob, split_batches
from siren.runner.local import LocalLambda
from siren.runner.protocol import ParameterStore, validate_bucket_name
from siren.runner.trace import read_run_trace

from conftest import EPOCH_RESULT_FIELDS, run_cli

pytestmark = pytest.mark.slow

SCENARIO = "softmax-digits"
BUCKET = "siren-test"



def _job(server, dataset, *, overrides=(), fault=None, **backend_options) -> tuple[RealJob, LocalLambda]:
    scenario = _core.load_scenario(SCENARIO, list(overrides))
    backend = LocalLambda(server, timeout_s=backend_options.pop("timeout_s", 60.0), **backend_options)
    job = RealJob(scenario, backend, dataset, bucket=BUCKET, prefix=f"t/{uuid.uuid4().hex[:8]}", fault=fault)
    return job, backend


def _run(job: RealJob, schedule: list[tuple[int, int]]) -> list[dict]:
    job.reset()
    records = []
    for functions, memory_mb in schedule:
        *_, terminated, truncated, record = job.step(job.codec.encode(functions, memory_mb))
        records.append(record)
        if terminated or truncated:
            break
    return records


def test_split_matches_the_simulator() -> None:
    shares = split_batches(45, 4)
    assert [len(s) for s in shares] == [12, 11, 11, 11]
    assert sum(shares, []) == list(range(45))
    assert split_batches(3, 8) == [[0], [1], [2]]


def test_policy_drives_three_epochs_and_the_trace_has_every_field(tmp_path) -> None:
    train = run_cli("train", "--scenario", SCENARIO, "--iterations", "2", "--envs", "4", "--quiet",
                    "--out", str(tmp_path / "run"))
    assert train.returncode == 0, train.stderr
    trace_path = tmp_path / "trace.h5"
    proc = run_cli("run", "--policy", str(tmp_path / "run" / "policy.pt"), "--backend", "local",
                   "--scenario", SCENARIO, "--epochs", "3", "--out", str(trace_path))
    assert proc.returncode == 0, proc.stderr
    trace = read_run_trace(trace_path)
    epochs = trace["epochs"]
    for field in EPOCH_RESULT_FIELDS:
        assert field in epochs, field
    for field in ("worker_errors", "reconfigure_s", "recovered_batches", "init_mean_s"):
        assert field in epochs, field
    assert len(epochs["epoch"]) == 3
    loss = np.asarray(epochs["loss"])
    assert loss[-1] < loss[0] < trace["attrs"]["initial_loss"]
    assert np.all(np.asarray(epochs["updates"]) == 45)
    assert np.asarray(epochs["cold_starts"])[0] == np.asarray(epochs["functions_used"])[0]
    for field in ("epoch", "worker", "attempt", "status", "cold", "init_s", "duration_s", "sent_s", "returned_s"):
        assert field in trace["invocations"], field
    for field in ("batch", "fetch_s", "compute_s", "update_s", "staleness", "conflicts", "skipped"):
        assert field in trace["batches"], field
    assert len(trace["requests"]["get_s"]) == int(np.sum(np.asarray(trace["invocations"]["s3_gets"])))
    assert "status=" in proc.stdout


@pytest.fixture(scope="module")
def narrow_policy(tmp_path_factory):
    """A policy trained on softmax-digits with env.max_functions=16 (its
    actions and observations scaled for 16 functions, not the preset's 32)
    and another budget."""
    out = tmp_path_factory.mktemp("narrow") / "run"
    train = run_cli("train", "--scenario", SCENARIO, "--iterations", "2", "--envs", "4", "--quiet", "--out", str(out),
                    "env.max_functions=16", "job.budget_usd=0.02")
    assert train.returncode == 0, train.stderr
    return out / "policy.pt"


def test_a_policy_of_another_scenario_is_refused_by_the_parameters_that_differ(narrow_policy) -> None:
    proc = run_cli("run", "--policy", str(narrow_policy), "--scenario", SCENARIO, "--epochs", "1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("siren: error: --policy: "), line
    # The same preset name, another job interface: the fingerprints tell.
    assert "trained on scenario 'softmax-digits' (" in line and "env.max_functions 16 vs 32" in line, line
    assert "--allow-scenario-mismatch" in line and "budget" not in line


def test_a_policy_runs_on_its_own_scenario_under_another_budget(narrow_policy, tmp_path) -> None:
    from siren.policy import scenario_fingerprint

    trace_path = tmp_path / "t.h5"
    proc = run_cli("run", "--policy", str(narrow_policy), "--scenario", SCENARIO, "--epochs", "1",
                   "--out", str(trace_path), "env.max_functions=16")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    attrs = read_run_trace(trace_path)["attrs"]
    assert attrs["policy_scenario_fingerprint"] == attrs["scenario_fingerprint"] == scenario_fingerprint(
        _core.load_scenario(SCENARIO, ["env.max_functions=16"]))
    assert "policy_scenario_mismatch" not in attrs


def test_allow_scenario_mismatch_runs_with_a_warning_kept_in_the_trace(narrow_policy, tmp_path) -> None:
    import json

    trace_path = tmp_path / "t.h5"
    proc = run_cli("run", "--policy", str(narrow_policy), "--scenario", SCENARIO, "--epochs", "1",
                   "--allow-scenario-mismatch", "--out", str(trace_path))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "env.max_functions 16 vs 32" in warnings[0], proc.stderr
    assert "running it anyway (--allow-scenario-mismatch)" in warnings[0]
    trace = read_run_trace(trace_path)
    attrs = trace["attrs"]
    assert json.loads(attrs["policy_scenario_mismatch"]) == ["env.max_functions 16 vs 32"]
    assert attrs["policy_scenario"] == SCENARIO and attrs["policy_scenario_fingerprint"] != attrs["scenario_fingerprint"]
    assert any("--allow-scenario-mismatch" in note for note in json.loads(attrs["adjustments"]))
    assert len(trace["epochs"]["epoch"]) == 1


def test_what_the_codec_changes_of_an_action_is_printed_once_and_traced(server, dataset) -> None:
    """A Box action outside [-1, 1] is clipped and memory below what the
    workload needs is clamped up, as in the simulator: each epoch's
    adjustment column and the job's adjustments say so."""
    job, backend = _job(server, dataset, overrides=["env.max_functions=2", "workload.runtime_memory_mb=300"])
    try:
        job.reset()
        *_, record = job.step(np.array([3.0, -1.5]))
    finally:
        backend.close()
    assert (record["action_functions"], record["requested_memory_mb"]) == (2, 128)
    assert record["memory_clamped"] and record["action_memory_mb"] == job.scenario.min_feasible_memory_mb
    assert record["action_clipped"]
    assert "action [3, -1.5] clipped to the Box [-1, 1]" in record["adjustment"]
    assert f"memory 128 MB clamped up to {record['action_memory_mb']} MB" in record["adjustment"]
    assert [kind for _, kind, _ in job.adjustments] == ["action_clipped", "memory_clamped"]
    assert record["updates"] == len(dataset.batches)


@pytest.mark.parametrize("when", ["before_push", "after_push"])
def test_a_worker_failing_once_and_throttles_lose_nothing_and_apply_nothing_twice(server, dataset, when) -> None:
    fault = {"token": uuid.uuid4().hex, "worker": 1, "epoch": 0, "at_batch": 14, "when": when}
    job, backend = _job(server, dataset, fault=fault, concurrency_limit=3, throttle_first=2)
    try:
        records = _run(job, [(4, 1024), (4, 1024)])
    finally:
        backend.close()
    batches = len(dataset.batches)
    first = records[0]
    assert first["worker_errors"] == 1
    assert first["reinvocations"] >= 1
    assert first["throttles"] >= 2  # Two injected, more from the limit of 3 < 4.
    # Exactly one applied update per batch per epoch: the version counts them.
    assert [r["parameter_version"] for r in records] == [batches, 2 * batches]
    assert all(r["updates"] == batches and r["missing_batches"] == 0 for r in records)
    # Worker 1 owns batches 12..22 and fails at 14: the re-invocation gets
    # exactly those not applied yet (15.. after the push, 14.. before it).
    retry = [i for i in job.invocations if i["epoch"] == 0 and i["worker"] == 1 and i["attempt"] == 2]
    assert [i["batches_assigned"] for i in retry] == [8 if when == "after_push" else 9]
    state = job.store.read()
    assert state.applied.all()
    assert records[-1]["loss"] < job.initial_loss
    errors = [i for i in job.invocations if i["status"] == "error"]
    assert len(errors) == 1 and errors[0]["error"] == f"InjectedFault: injected fault at batch 14 ({when})"
    # The failed invocation's requests are counted (batches 12, 13 and 14's
    # GETs, the pushes and the fault marker's PUT) and billed with the epoch's.
    assert errors[0]["s3_counts_known"] and errors[0]["s3_gets"] >= 6 and errors[0]["s3_puts"] >= 3
    epoch0 = [i for i in job.invocations if i["epoch"] == 0]
    assert first["s3_gets"] == sum(i["s3_gets"] for i in epoch0) + first["runner_s3_gets"]
    assert first["s3_puts"] == sum(i["s3_puts"] for i in epoch0) + first["runner_s3_puts"]


def test_workers_near_their_deadline_stop_early_and_the_rest_is_reinvoked(server, dataset) -> None:
    job, backend = _job(server, dataset, timeout_s=1.2)
    try:
        records = _run(job, [(1, 1024)])
    finally:
        backend.close()
    record = records[0]
    assert record["reinvocations"] >= 1
    assert record["updates"] == len(dataset.batches)
    assert record["parameter_version"] == len(dataset.batches)


def test_budget_guard_stops_before_overspending(server, dataset) -> None:
    job, backend = _job(server, dataset, overrides=["job.budget_usd=0.0025"])
    try:
        records = _run(job, [(4, 1024)] * 10)
        # The guard lowered the function's timeout to what the budget pays;
        # the run puts it back when it ends.
        lowered = [r["function_timeout_s"] for r in records if not r.get("skipped")]
        assert lowered[0] < 60.0 and backend.timeout_s == lowered[-1] <= lowered[0]
        job.restore_timeout()
        assert backend.timeout_s == 60.0
    finally:
        backend.close()
    assert records[-1]["status"] == "budget_exhausted" and records[-1]["skipped"]
    assert records[-1]["budget_stop"] == "before_epoch" and records[-1]["budget_reason"]
    ran = [r for r in records if not r.get("skipped")]
    assert 1 <= len(ran) < 10
    assert ran[-1]["cumulative_cost_usd"] <= 0.0025


def test_the_scaling_limit_throttles_new_sandboxes_only(server) -> None:
    """One token, never refilled: the first sandbox takes it, a warm reuse
    needs none, a new sandbox (the memory change retired the warm one) is
    throttled as a scaling throttle."""
    backend = LocalLambda(server, scaling_burst=1, scaling_refill_per_s=0.0)
    try:
        backend.set_memory(512)
        first, warm = backend.invoke({}), backend.invoke({})  # A bad event: handled errors.
        backend.set_memory(1024)
        new = backend.invoke({})
    finally:
        backend.close()
    assert (first.status, first.cold, first.scaling_throttle) == ("error", True, False)
    assert (warm.status, warm.cold, warm.scaling_throttle) == ("error", False, False)
    assert new.status == THROTTLED and new.scaling_throttle and "scaling limit" in new.error
    assert first.s3_requests is not None and first.s3_requests.gets == 0  # Known: none before the bad event.


@pytest.mark.parametrize("burst, refill", [(0, 1.0), (2.5, 1.0), (True, 1.0), (2, -1.0), (2, float("inf"))])
def test_the_scaling_limit_is_validated(server, burst, refill) -> None:
    with pytest.raises(ValueError, match="scaling_"):
        LocalLambda(server, scaling_burst=burst, scaling_refill_per_s=refill)
    with pytest.raises(ValueError, match="scaling_refill_per_s"):
        LocalLambda(server, scaling_refill_per_s=1.0)


def test_a_job_under_a_tiny_scaling_limit_is_throttled_then_completes(server, dataset) -> None:
    """Burst 2, refilled at 0.5/s, 4 functions: two sandboxes start at once,
    the other shares are throttled (429) until a token comes back or a
    sandbox is warm again, and then run: nothing lost."""
    job, backend = _job(server, dataset, scaling_burst=2, scaling_refill_per_s=0.5,
                        overrides=["lambda.throttle_backoff_base_s=0.05", "lambda.throttle_backoff_cap_s=0.4"])
    try:
        records = _run(job, [(4, 1024)])
    finally:
        backend.close()
    record = records[0]
    assert record["scaling_throttles"] >= 2 and record["throttles"] >= record["scaling_throttles"]
    assert record["updates"] == len(dataset.batches) and record["missing_batches"] == 0
    assert record["parameter_version"] == len(dataset.batches)
    assert record["functions_used"] == 4 and record["worker_errors"] == 0
    # New sandboxes: at most the burst plus what refilled during the epoch.
    assert 1 <= record["cold_starts"] <= 2 + int(0.5 * record["duration_s"])
    assert sorted({i["worker"] for i in job.invocations}) == [0, 1, 2, 3]


def test_the_runner_reads_the_scaling_limit_from_the_scenario() -> None:
    """`siren run` builds the local stand-in's limit from lambda.scaling.*
    of the scenario's generation (burst 0: none, as in the simulator)."""
    from siren.cli.runner import _scaling_limit

    assert _scaling_limit(_core.load_scenario(SCENARIO, ["lambda.era=2025+"])) == (1000, 100.0)
    assert _scaling_limit(_core.load_scenario(SCENARIO, ["lambda.era=2018"])) == (3000, 500 / 60)
    assert _scaling_limit(_core.load_scenario(SCENARIO, ["lambda.scaling.burst=0"])) == (None, None)


def test_local_backend_throttles_beyond_its_concurrency_limit(server) -> None:
    backend = LocalLambda(server, concurrency_limit=1, throttle_first=1)
    try:
        backend.set_memory(512)
        assert backend.invoke({}).status == THROTTLED
    finally:
        backend.close()


@pytest.mark.parametrize("single_function", [True, False])
def test_warm_pool_per_size_or_retired_by_a_memory_change(server, single_function) -> None:
    backend = LocalLambda(server, single_function=single_function)
    try:
        colds = []
        for memory_mb in (1024, 1024, 2048, 1024):
            backend.set_memory(memory_mb)
            result = backend.invoke({})  # A bad event: a handled error, the sandbox stays warm.
            assert result.status == "error" and "missing field" in result.error
            colds.append(result.cold)
    finally:
        backend.close()
    assert colds == [True, False, True, single_function]


def test_endless_throttling_is_an_error_not_a_hang(server, dataset, monkeypatch) -> None:
    from siren.runner import job as job_module

    monkeypatch.setattr(job_module, "MAX_THROTTLES", 3)
    job, backend = _job(server, dataset, throttle_first=10**6,
                        overrides=["lambda.throttle_backoff_base_s=0.001", "lambda.throttle_backoff_cap_s=0.002"])
    try:
        with pytest.raises(job_module.RunnerError, match="throttled 3 times in a row"):
            _run(job, [(2, 1024)])
        assert job.ended
    finally:
        backend.close()


def test_a_missing_bucket_is_created_locally_and_named_on_aws(server) -> None:
    from siren.runner.job import RunnerError, _ensure_bucket

    s3 = server.client()
    with pytest.raises(RunnerError, match="siren deploy"):
        _ensure_bucket(s3, "siren-missing", create=False)
    _ensure_bucket(s3, "siren-made-here", create=True)
    s3.head_bucket(Bucket="siren-made-here")


def test_calibrate_and_compare_sim_on_a_real_trace(tmp_path) -> None:
    trace_path = tmp_path / "t.h5"
    proc = run_cli("run", "--schedule", "3:1024", "--epochs", "4", "--out", str(trace_path))
    assert proc.returncode == 0, proc.stderr
    calibrated = tmp_path / "calibrated.yaml"
    proc = run_cli("calibrate", str(trace_path), "-o", str(calibrated))
    assert proc.returncode == 0, proc.stderr
    scenario = _core.load_scenario(str(calibrated))
    assert scenario.get("execution.push_protocol") == "cas"
    assert scenario.get("lambda.max_vcpus") == 1
    trace = read_run_trace(trace_path)
    result = calibrate(trace)
    assert result["fit"]["cold_start_ms"][1024] > 50  # A Python process start.
    comparison = compare(trace, scenario, [0, 1])
    assert len(comparison["rows"]) == 4
    # Loose bounds: the machine is shared; README reports the measured figures.
    assert abs(comparison["totals"]["duration_s"]["error"]) < 0.6
    assert abs(comparison["totals"]["cost_total_usd"]["error"]) < 0.3
    proc = run_cli("compare-sim", str(trace_path), "--scenario", str(calibrated), "--seeds", "2")
    assert proc.returncode == 0, proc.stderr
    assert "total duration_s" in proc.stdout


def test_bad_input_is_a_clear_error(tmp_path) -> None:
    proc = run_cli("run", "--schedule", "2:1024", "--bucket", "Bad_Bucket")
    assert proc.returncode == 2 and "bucket" in proc.stderr and "Bad_Bucket" in proc.stderr
    proc = run_cli("run", "--schedule", "2:1024", "--policy", "x.pt")
    assert proc.returncode == 2 and "exactly one of --policy and --schedule" in proc.stderr
    proc = run_cli("run", "--schedule", "2:abc")
    assert proc.returncode == 2 and "--schedule" in proc.stderr
    proc = run_cli("run", "--schedule", "2:1024", "--inject-fault", '{"token": 1}')
    assert proc.returncode == 2 and "--inject-fault" in proc.stderr and "at_batch" in proc.stderr
    proc = run_cli("run", "--schedule", "2:1024", "--inject-fault",
                   '{"token": "t", "worker": 0, "epoch": 0, "at_batch": 1, "when": "before_push", "how": "explode"}')
    assert proc.returncode == 2 and "--inject-fault" in proc.stderr and "exit or hang" in proc.stderr
    proc = run_cli("run", "--schedule", "2:1024", "--budget-margin", "0.5")
    assert proc.returncode == 2 and "--budget-margin" in proc.stderr
    proc = run_cli("calibrate", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "x.yaml"))
    assert proc.returncode == 2
    with pytest.raises(ValueError, match="bucket"):
        validate_bucket_name("a..b")


def test_credentials_never_reach_output_or_trace(tmp_path) -> None:
    secret = "SIRENSECRET" + uuid.uuid4().hex
    env = dict(os.environ, AWS_SECRET_ACCESS_KEY=secret, AWS_ACCESS_KEY_ID="AKIASIRENTEST")
    import subprocess
    import sys

    trace_path = tmp_path / "t.h5"
    proc = subprocess.run([sys.executable, "-m", "siren", "run", "--schedule", "2:1024", "--epochs", "1",
                           "--out", str(trace_path)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert secret not in proc.stdout + proc.stderr
    assert secret.encode() not in trace_path.read_bytes()


def test_score_epoch_reproduces_the_simulated_env() -> None:
    scenario = _core.load_scenario(SCENARIO)
    env = _core.Env(scenario, "box")
    env.reset(7)
    simulation = _core.Simulation(scenario, 7)
    codec = _core.ActionCodec(scenario, "box")
    for functions, memory_mb in [(4, 1024), (8, 2048), (2, 512)]:
        action = codec.encode(functions, memory_mb)
        assert codec.decode(action) == env.decode(action)
        observation, reward, terminated, truncated, _ = env.step(action)
        record = simulation.run_epoch(functions, memory_mb)
        scored = _core.score_epoch(scenario, record)
        np.testing.assert_array_equal(scored["observation"], observation)
        assert scored["reward"] == reward
        assert (scored["terminated"], scored["truncated"]) == (terminated, truncated)
        assert scored["status"] == record["status"]
        bill = _core.bill_epoch(scenario, [1.0, 0.0004], memory_mb, 10, 3)
        assert bill["billed_s"] == [1.0, 0.001]  # 1 ms granularity in the 2020+ era.
    with pytest.raises(ValueError, match="loss"):
        _core.score_epoch(scenario, {k: v for k, v in record.items() if k != "loss"})


def test_worker_sgd_matches_a_numerical_gradient(dataset) -> None:
    batch = dataset.batches[0]
    params = np.random.default_rng(0).normal(size=model.parameter_count(64, 10)).astype(np.float64) * 0.1
    _, gradient = model.loss_and_gradient(params, batch, 64, 10)
    for index in (300, 645):
        step = np.zeros_like(params)
        step[index] = 1e-4
        numeric = (model.loss(params + step, batch, 64, 10) - model.loss(params - step, batch, 64, 10)) / 2e-4
        assert gradient[index] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_parameter_store_compare_and_swap(server) -> None:
    s3 = server.client()
    s3.create_bucket(Bucket="siren-cas")
    store = ParameterStore(s3, "siren-cas", "cas")
    first = store.initialise(np.zeros(3, dtype=np.float32), batches=2)
    one, staleness, conflicts = store.push(first, np.ones(3, dtype=np.float32), 0.5, 0, 0)
    assert (one.version, staleness, conflicts) == (1, 0, 0)
    # A push from the stale read conflicts once, re-reads, and applies on top.
    two, staleness, conflicts = store.push(first, np.ones(3, dtype=np.float32), 0.5, 0, 1)
    assert (two.version, staleness, conflicts) == (2, 1, 1)
    np.testing.assert_allclose(store.read().params, [-1.0, -1.0, -1.0])
    # The same batch again is not applied twice.
    again, _, _ = store.push(store.read(), np.ones(3, dtype=np.float32), 0.5, 0, 1)
    assert again is None and store.read().version == 2
    # Every request is counted, the refused compare-and-swap (412) and a GET
    # of a missing key (404) included: S3 bills them. Writes: initialise,
    # push, refused push, push; reads: the re-read after the 412 and three more.
    assert (store.counter.puts, store.counter.gets) == (4, 4)
    with pytest.raises(Exception, match="NoSuchKey"):
        store.get("cas/missing")
    assert store.counter.gets == 5 and store.counter.get_bytes[-1] == 0
    assert len(store.counter.get_seconds) == 5 and len(store.counter.put_seconds) == 4
