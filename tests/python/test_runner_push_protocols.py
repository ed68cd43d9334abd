"""The runner's parameter-store protocols (execution.push_protocol: cas,
overwrite, fold) on the local stand-in: real boto3 against the project's S3
server on loopback, real worker and folder processes, no mocks.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid

import numpy as np
import pytest

from siren import _core
from siren.runner import fold
from siren.runner.budget import folder_allowance, plan_epoch
from siren.runner.job import RealJob
from siren.runner.local import LocalLambda
from siren.runner.protocol import Backoff, ParameterStore, RequestAllowance
from siren.runner.trace import read_run_trace

from conftest import run_cli

pytestmark = pytest.mark.slow

SCENARIO = "softmax-digits"
BUCKET = "siren-test"


def _store(server, name: str) -> ParameterStore:
    s3 = server.client()
    try:
        s3.create_bucket(Bucket=BUCKET)
    except Exception:  # Already there (module-scoped server).
        pass
    return ParameterStore(s3, BUCKET, f"{name}/{uuid.uuid4().hex[:8]}")


def _run_job(server, dataset, protocol: str, schedule: list[tuple[int, int]], overrides=()) -> tuple[RealJob,
                                                                                                    list[dict]]:
    scenario = _core.load_scenario(SCENARIO, list(overrides))
    backend = LocalLambda(server, timeout_s=60.0)
    job = RealJob(scenario, backend, dataset, bucket=BUCKET, prefix=f"t/{uuid.uuid4().hex[:8]}",
                  push_protocol=protocol)
    records = []
    try:
        job.reset()
        for functions, memory_mb in schedule:
            *_, terminated, truncated, record = job.step(job.codec.encode(functions, memory_mb))
            records.append(record)
            if terminated or truncated:
                break
    finally:
        backend.close()
    return job, records


@pytest.mark.parametrize("protocol", ["cas", "overwrite", "fold"])
def test_each_protocol_runs_a_small_job_end_to_end(server, dataset, protocol) -> None:
    job, records = _run_job(server, dataset, protocol, [(4, 1024), (4, 1024)])
    batches = len(dataset.batches)
    assert [r["status"] for r in records] == ["running", "running"]
    for record in records:
        assert record["failure"] == "" and record["missing_batches"] == 0
        assert np.isfinite(record["loss"])
        # Every batch pushed once (no fault here).
        assert record["reported_updates"] == batches
        # Every write is an applied update (as in the simulator).
        assert record["updates"] == batches
        if protocol == "overwrite":
            assert record["update_conflicts"] == 0 and record["folds"] == record["list_requests"] == 0
        else:
            assert record["lost_updates"] == 0
        if protocol == "fold":
            # Every update folded; at least one fold and one LIST, billed.
            assert record["folds"] >= 1 and record["list_requests"] >= 1
            assert record["update_conflicts"] == 0
            assert record["discarded_updates"] == 0
        else:
            assert record["folds"] == record["list_requests"] == 0
    folders = [i for i in job.invocations if i["role"] == "folder"]
    assert len(folders) == (2 if protocol == "fold" else 0)
    assert all(i["status"] == "ok" and i["worker"] == -1 and i["s3_lists"] >= 1 for i in folders)
    # The epoch's S3 requests are the invocations' plus the runner's, and
    # LISTs are billed at the PUT price.
    rates = _core.billing_rates(job.scenario, 1024)
    for record in records:
        assert record["cost_s3_request_usd"] == pytest.approx(
            record["s3_gets"] * rates["s3_usd_per_get"]
            + (record["s3_puts"] + record["list_requests"]) * rates["s3_usd_per_put"], rel=1e-9)
        rows = [i for i in job.invocations if i["epoch"] == record["epoch"]]
        assert record["s3_gets"] == sum(i["s3_gets"] for i in rows) + record["runner_s3_gets"]
        assert record["list_requests"] == sum(i["s3_lists"] for i in rows)
    if protocol == "fold":
        # Staleness comes from the folder: one value per pushed batch, >= 0.
        pushed = [b for b in job.batch_rows if not b["skipped"]]
        assert all(b["staleness"] >= 0 for b in pushed)


def test_overwrite_loses_updates_only_with_concurrency(server, dataset) -> None:
    _, alone = _run_job(server, dataset, "overwrite", [(1, 1024)])
    assert alone[0]["lost_updates"] == 0 and alone[0]["updates"] == len(dataset.batches)
    assert alone[0]["parameter_version"] == len(dataset.batches)
    _, crowd = _run_job(server, dataset, "overwrite", [(8, 1024)])
    record = crowd[0]
    # Eight writers that read, compute and write unconditionally overwrite
    # one another; every push is either in the parameters or counted lost.
    assert record["lost_updates"] > 0
    assert record["updates"] == record["reported_updates"] == len(dataset.batches)
    # The final parameters hold the lineage of the writes that were not lost.
    assert record["parameter_version"] == record["updates"] - record["lost_updates"]
    assert record["missing_batches"] == 0 and record["status"] == "running"


def test_overwrite_counts_the_update_a_later_write_loses(server) -> None:
    """Deterministic: two workers read version 0; both write; the second
    write wins and the first update is absent from the final parameters."""
    store = _store(server, "overwrite")
    start = store.initialise(np.zeros(2, dtype=np.float32), batches=2)
    store.overwrite(start, np.array([1.0, 0.0], dtype=np.float32), 1.0, 0, 0)
    store.overwrite(start, np.array([0.0, 1.0], dtype=np.float32), 1.0, 0, 1)
    final = store.read()
    np.testing.assert_array_equal(final.params, [0.0, -1.0])  # Batch 0's update is lost.
    assert final.version == 1 and list(final.applied) == [False, True]
    # A batch already in the read's bitmap is not pushed again.
    puts = store.counter.puts
    assert store.overwrite(final, np.ones(2, dtype=np.float32), 1.0, 0, 1) is None
    assert store.counter.puts == puts


def test_fold_applies_every_pushed_update_exactly_once(server) -> None:
    """Deterministic tiny case: deltas pushed by three workers while the
    folder runs (in this process, on the real S3 server), one of them pushed
    twice (a re-invocation's re-push); the final parameters are the start
    plus the sum of the distinct deltas, the version counts them, the
    duplicate is discarded and every delta object is deleted."""
    store = _store(server, "fold")
    start = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    batches = 9
    state = store.initialise(start, batches=batches)
    state = store.begin_epoch(state, 0)
    rng = np.random.default_rng(3)
    # Small integers: the float32 sum is exact in any order.
    deltas = {b: rng.integers(-5, 6, size=3).astype(np.float32) for b in range(batches)}
    folder = ParameterStore(server.client(), BUCKET, store.prefix)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(
        fold.run_folder(folder, 0, 0, 0.02, lambda: 60.0)))
    thread.start()
    for batch in range(batches):
        fold.push_delta(store, state, deltas[batch], 0, batch % 3, batch)
        time.sleep(0.01)
    # The re-push of batch 4 after its fold (same key: same worker, same batch).
    deadline = time.monotonic() + 30
    while not store.read().applied[4] and time.monotonic() < deadline:
        time.sleep(0.02)
    fold.push_delta(store, state, deltas[4], 0, 1, 4)
    store.put(fold.end_key(store.prefix, 0, 0), b"")
    thread.join(60)
    assert not thread.is_alive() and result["finished"]
    final = store.read()
    expected = start + np.sum([deltas[b] for b in range(batches)], axis=0)
    np.testing.assert_array_equal(final.params, expected)
    assert final.version == batches and final.applied.all()
    assert len(result["folded"]) == batches and sorted(f["batch"] for f in result["folded"]) == list(range(batches))
    assert result["discarded"] == 1
    assert 1 <= result["folds"] <= batches and folder.counter.puts == result["folds"]
    assert folder.counter.lists >= 1
    remaining = [k for k in store.list_keys(fold.updates_prefix(store.prefix, 0)) if "end-" not in k]
    assert remaining == []


def test_a_refused_cas_push_backs_off(server) -> None:
    """A push refused with 412 sleeps a full-jitter draw before it re-reads
    and retries: the draw is the seeded generator's, and the push takes at
    least that long; base 0 disables the back-off."""
    store = _store(server, "backoff")
    first = store.initialise(np.zeros(3, dtype=np.float32), batches=3)
    store.push(first, np.ones(3, dtype=np.float32), 0.5, 0, 0)
    backoff = Backoff(0.3, 1.0, random.Random(7))
    expected = random.Random(7).uniform(0.0, 0.3)
    started = time.perf_counter()
    pushed, _, conflicts = store.push(first, np.ones(3, dtype=np.float32), 0.5, 0, 1, backoff)
    took = time.perf_counter() - started
    assert pushed is not None and conflicts == 1
    assert backoff.slept_s == pytest.approx(expected) and took >= expected
    # Retry k draws from [0, min(cap, base * 2**k)].
    draws = Backoff(0.01, 0.05, random.Random(1))
    assert all(0 <= draws.delay(k) <= min(0.05, 0.01 * 2 ** k) for k in range(12))
    off = Backoff(0.0, 1.0, random.Random(7))
    store.push(first, np.ones(3, dtype=np.float32), 0.5, 0, 2, off)
    assert off.slept_s == 0.0


def test_cas_workers_back_off_after_refusals_and_only_then(server, dataset) -> None:
    job, records = _run_job(server, dataset, "cas", [(8, 1024)], ["execution.cas_backoff_ms=20"])
    rows = [b for b in job.batch_rows if not b["skipped"]]
    refused = [b for b in rows if b["conflicts"] > 0]
    assert records[0]["update_conflicts"] == sum(b["conflicts"] for b in rows) > 0
    assert all(b["backoff_s"] > 0 for b in refused)
    assert all(b["backoff_s"] == 0 for b in rows if b["conflicts"] == 0)
    # Never more than the caps: retry k sleeps at most min(cap, base * 2**k).
    assert all(b["backoff_s"] <= sum(min(1.0, 0.02 * 2 ** k) for k in range(b["conflicts"])) for b in refused)


@pytest.mark.parametrize("budget", [0.0006, 0.0012, 0.0025])
def test_the_budget_guard_never_overspends_under_fold(server, dataset, budget) -> None:
    """The folder's worst case is reserved with the workers': whatever the
    budget, the job ends at or below it."""
    _, records = _run_job(server, dataset, "fold", [(8, 1024), (16, 2048), (4, 512), (8, 1024)] * 2,
                          [f"job.budget_usd={budget!r}"])
    assert records and all(r["cumulative_cost_usd"] <= budget for r in records)
    if budget >= 0.005:  # Enough for the first epoch with its folder.
        assert records[0]["status"] == "running" and records[0]["folds"] >= 1
    if records[-1]["status"] == "budget_exhausted":
        assert records[-1]["budget_stop"] in ("before_epoch", "mid_epoch")


def test_the_plan_reserves_the_folder() -> None:
    scenario = _core.load_scenario(SCENARIO)
    projection = _core.project_epoch_cost(scenario, 8, 1024)
    folder = folder_allowance(scenario, 1024, 8, 45, 0.05, projection, 60.0)
    assert folder.lists >= 20 and folder.gets == 94 and folder.puts == 47
    left = 0.01
    plan = plan_epoch(scenario, 1024, 8, left, 60.0, projection, 0.0, folder)
    assert plan is not None and plan.folder_allowance == folder
    assert 8 * plan.reservation_usd + plan.folder_reservation_usd <= left + 1e-12
    without = plan_epoch(scenario, 1024, 8, left, 60.0, projection, 0.0)
    assert without.folder_reservation_usd == 0 and without.timeout_s >= plan.timeout_s
    assert plan_epoch(scenario, 1024, 8, 1e-6, 60.0, projection, 0.0, folder) is None
    assert RequestAllowance(1, 1).lists == 0


def test_run_refuses_the_simulator_only_apply_protocol(tmp_path) -> None:
    proc = run_cli("run", "--schedule", "2:1024", "--epochs", "1", "--push-protocol", "apply")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "--push-protocol: 'apply'" in line and "cas, overwrite, fold" in line
    proc = run_cli("run", "--schedule", "2:1024", "--epochs", "1", "execution.push_protocol=apply")
    assert proc.returncode == 2 and "execution.push_protocol: 'apply'" in proc.stderr


def test_run_records_the_protocol_and_its_columns(tmp_path) -> None:
    trace_path = tmp_path / "fold.h5"
    proc = run_cli("run", "--schedule", "4:1024", "--epochs", "1", "--push-protocol", "fold", "--out",
                   str(trace_path))
    assert proc.returncode == 0, proc.stderr
    assert "push_protocol=fold" in proc.stdout
    trace = read_run_trace(trace_path)
    assert trace["attrs"]["push_protocol"] == "fold"
    assert _core.parse_scenario(trace["attrs"]["scenario"], [], "trace").get("execution.push_protocol") == "fold"
    for column in ("lost_updates", "folds", "list_requests", "discarded_updates"):
        assert column in trace["epochs"], column
    assert list(trace["invocations"]["role"]).count("folder") == 1
    assert "backoff_s" in trace["batches"]


def test_the_worker_role_may_list_and_delete_for_the_folder() -> None:
    from siren.runner.iam_policy import least_privilege_policy

    policies = least_privilege_policy("siren-worker", "my-bucket", prefix="jobs", region="us-east-1",
                                      account="123456789012")
    worker = {s["Sid"]: s for s in policies["worker_role"]["Statement"]}
    assert worker["SirenWorkerFoldList"]["Action"] == ["s3:ListBucket"]
    assert worker["SirenWorkerFoldList"]["Resource"] == ["arn:aws:s3:::my-bucket"]
    assert worker["SirenWorkerFoldList"]["Condition"] == {"StringLike": {"s3:prefix": ["jobs/*"]}}
    assert worker["SirenWorkerFoldDelete"]["Resource"] == ["arn:aws:s3:::my-bucket/jobs/*"]


@pytest.mark.parametrize("event, message", [
    ({"push_protocol": "apply"}, "field 'push_protocol' must be one of cas, overwrite, fold, got 'apply'"),
    ({"cas_backoff_ms": -1}, "field 'cas_backoff_ms' must be a number of ms in [0, 3600000], got -1"),
    ({"worker": -2}, "field 'worker' must be an integer >= 0, got -2"),
])
def test_the_worker_refuses_bad_push_fields_by_name(event, message) -> None:
    from siren.runner.worker import WorkerError, handler

    base = {"bucket": BUCKET, "prefix": "t/x", "epoch": 0, "batches": [0], "learning_rate": 0.5}
    with pytest.raises(WorkerError, match=re.escape(message)):
        handler(dict(base, **event))


def test_the_worker_refuses_a_bad_folder_event_by_name() -> None:
    from siren.runner.worker import WorkerError, handler

    with pytest.raises(WorkerError, match=re.escape("fold_interval_ms in (0, 60000], got 0, 0, 0")):
        handler({"role": "folder", "bucket": BUCKET, "prefix": "t/x", "epoch": 0, "round": 0,
                 "fold_interval_ms": 0})
