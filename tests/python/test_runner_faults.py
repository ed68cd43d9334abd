"""The runner under faults, on the local backend, for real: busy worker
sandboxes killed with SIGKILL, SIGTERM and SIGINT to `siren run`, the S3
server killed, and an epoch that cannot get all its batches applied.

The short variant of experiments/fault_injection.py (whose /proc helpers it
uses): a killed worker is an error billed for the time it ran, never a
timeout; no epoch is accepted with missing batches (the job recovers them or
fails, in the table and the trace); a signal or a lost S3 server ends the run
within seconds with one line, the trace's status set, and no process of the
run left behind.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from siren import _core
from siren.runner.backend import ERROR, OK, TIMEOUT, Invocation
from siren.runner.datasets import upload
from siren.runner.job import RealJob, _ensure_bucket
from siren.runner.local import LocalLambda
from siren.runner.protocol import ParameterStore
from siren.runner.trace import read_run_trace
from siren.runner import model

pytestmark = pytest.mark.slow

SCENARIO = "softmax-digits"
_SCRIPT = Path(__file__).resolve().parents[2] / "experiments" / "fault_injection.py"
_spec = importlib.util.spec_from_file_location("fault_injection", _SCRIPT)
fi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fi)



def _start(out: Path, *extra: str, epochs: int = 1000) -> subprocess.Popen:
    """`siren run` on the local backend in its own session (its process group
    is then its own pid)."""
    command = [sys.executable, "-m", "siren", "run", "--backend", "local", "--scenario", SCENARIO,
               "--schedule", "4:1024", "--epochs", str(epochs), "--out", str(out), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_busy(process: subprocess.Popen, timeout_s: float = 30.0) -> dict:
    """Waits until a worker of ``process`` runs an invocation; its
    descendants then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if fi.busy_workers(process.pid):
            return fi.descendants(process.pid)
    raise AssertionError("no worker became busy")


def _group_members(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = fi._stat(int(entry))
            if stat is not None and stat[1] == pgid and stat[4] != "Z":
                out.append(int(entry))
    return out


def _assert_nothing_left(process: subprocess.Popen, seen: dict) -> None:
    """No process the run started, nor any of its process group, survives
    (the kernel may take a moment to deliver the parent-death signal)."""
    deadline = time.monotonic() + 3.0
    while (fi.survivors(seen) or _group_members(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fi.survivors(seen) == []
    assert _group_members(process.pid) == []
    names = [cmd for _, cmd in seen.values()]
    assert any("moto.server" in c for c in names) and any("local_host.py" in c for c in names), names


def test_killed_busy_sandboxes_are_errors_never_timeouts(server, dataset) -> None:
    """Four busy sandboxes killed at once, twice: before the fix about half
    of these came back as timeouts of the full 900 s."""
    s3 = server.client()
    _ensure_bucket(s3, "siren-kill", create=True)
    upload(s3, "siren-kill", "kill", dataset)
    store = ParameterStore(s3, "siren-kill", "kill")
    backend = LocalLambda(server, timeout_s=900.0)
    event = {"bucket": "siren-kill", "prefix": "kill", "epoch": 0, "batches": list(range(len(dataset.batches))),
             "learning_rate": 0.1, "manifest": dataset.manifest()}
    results: list[Invocation] = []
    try:
        backend.set_memory(1024)
        for _ in range(2):
            # Four warm sandboxes (a bad event is a handled error), so that
            # the kills land in invocations, not in starts.
            warm = [threading.Thread(target=backend.invoke, args=({},)) for _ in range(4)]
            for thread in warm:
                thread.start()
            for thread in warm:
                thread.join(60)
            assert sum(len(pool) for pool in backend._idle.values()) == 4
            store.initialise(model.initial_parameters(dataset.features, dataset.classes), len(dataset.batches))
            threads = [threading.Thread(target=lambda: results.append(backend.invoke(event))) for _ in range(4)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 30
            busy: list[int] = []
            while len(busy) < 4 and time.monotonic() < deadline:
                busy = fi.busy_workers(os.getpid(), sample_s=0.02)
            started = time.monotonic()
            for pid in busy:
                os.kill(pid, signal.SIGKILL)
            for thread in threads:
                thread.join(60)
            assert time.monotonic() - started < 10
    finally:
        backend.close()
    assert len(results) == 8
    assert not [r for r in results if r.status == TIMEOUT]
    crashed = [r for r in results if r.status == ERROR]
    # An invocation may finish before its kill lands, and on a loaded machine
    # fewer than four may be seen busy; the kills must still have landed.
    assert len(crashed) >= 2
    for result in crashed:
        assert result.error == "Runtime.ExitError: the sandbox exited with signal SIGKILL", result.error
        assert not result.cold
        assert result.duration_s < 30  # Billed for the time it ran, not timeout_s.


def test_a_job_whose_busy_workers_are_killed_recovers_or_fails_visibly(tmp_path) -> None:
    trace_path = tmp_path / "t.h5"
    process = _start(trace_path, epochs=4)
    seen: dict = {}
    kills = fi.kill_busy_workers(process, 3, random.Random(1), seen)
    stdout, stderr = process.communicate(timeout=120)
    assert kills >= 1
    result = fi.inspect_trace(trace_path)
    assert result["timeouts"] == 0, result
    assert result["accepted_missing"] == 0, result
    assert result["errors"] >= 1, result
    trace = read_run_trace(trace_path)
    epochs = trace["epochs"]
    batches = trace["attrs"]["dataset"]["batches"]
    for status, updates, missing in zip(epochs["status"], epochs["updates"], epochs["missing_batches"]):
        assert status == "failed" or (updates == batches and missing == 0)
    if trace["attrs"]["status"] == "failed":  # Visibly: the table, the exit status, one line.
        assert process.returncode == 1 and "failed" in stdout
        assert len(stderr.strip().splitlines()) == 1 and "not applied" in stderr
    else:
        assert process.returncode == 0, stderr
        # One applied update per batch per epoch: nothing lost, nothing twice.
        assert int(epochs["parameter_version"][-1]) == batches * len(epochs["epoch"])
    _assert_nothing_left(process, seen)


class _FailingBackend:
    """A LocalLambda whose invocations carrying ``batch`` always fail, or
    whose first invocation of each share comes back as a phantom timeout
    (billed to the function's timeout, as Lambda bills a timed-out run)."""

    def __init__(self, inner: LocalLambda, batch: int | None = None, phantom_timeout: bool = False) -> None:
        self.inner, self.batch, self.phantom_timeout = inner, batch, phantom_timeout
        self.s3, self.endpoint_url, self.name = inner.s3, inner.endpoint_url, inner.name
        self._lock = threading.Lock()
        self._phantom_shares: set[int] = set()

    @property
    def timeout_s(self) -> float:
        return self.inner.timeout_s

    def set_memory(self, memory_mb: int) -> None:
        self.inner.set_memory(memory_mb)

    def set_timeout(self, timeout_s: float) -> None:
        self.inner.set_timeout(timeout_s)

    def invoke(self, event: dict) -> Invocation:
        if self.batch is not None and self.batch in event.get("batches", []):
            return Invocation(ERROR, error="Injected: always fails", duration_s=0.01, memory_mb=self.inner.memory_mb)
        first = min(event.get("batches", [0]))
        with self._lock:
            phantom = self.phantom_timeout and first not in self._phantom_shares
            self._phantom_shares.add(first)
        if phantom:  # A run cut at the timeout that reported nothing.
            timeout = self.inner.timeout_s
            return Invocation(TIMEOUT, error=f"Task timed out after {timeout:.2f} seconds", duration_s=timeout,
                              memory_mb=self.inner.memory_mb)
        return self.inner.invoke(event)

    def check(self) -> str | None:
        return self.inner.check()

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("fault", ["batch_never_applies", "budget_guard_refuses_the_retry"])
def test_an_epoch_missing_batches_is_never_accepted(server, dataset, fault) -> None:
    backend = _FailingBackend(LocalLambda(server, timeout_s=60.0), batch=7 if fault == "batch_never_applies" else None,
                              phantom_timeout=fault != "batch_never_applies")
    # $0.006: four phantom timeouts of 60 s at 1024 MB ($0.0012 each) leave
    # too little for another reservation.
    job = RealJob(_core.load_scenario(SCENARIO, ["job.budget_usd=0.006"]), backend, dataset, bucket="siren-test",
                  prefix=f"t/{uuid.uuid4().hex[:8]}", max_attempts=2)
    try:
        job.reset()
        *_, terminated, _, record = job.step(job.codec.encode(4, 1024))
    finally:
        backend.close()
    assert terminated and job.ended
    # Missing batches: the epoch is never accepted; the budget's cut ends the
    # job budget_exhausted (mid_epoch), a worker that keeps failing, failed.
    assert record["status"] == ("failed" if fault == "batch_never_applies" else "budget_exhausted")
    assert record["budget_stop"] == ("none" if fault == "batch_never_applies" else "mid_epoch")
    assert record["missing_batches"] > 0
    assert record["updates"] == len(dataset.batches) - record["missing_batches"]
    assert not job.store.read().applied.all()
    if fault == "batch_never_applies":
        assert "not applied after recovery (max_attempts=2)" in record["failure"]
        # The stand-in's failures report no requests (as on AWS): unknown, the real invocations' known.
        injected = [i for i in job.invocations if i["error"] == "Injected: always fails"]
        assert record["s3_unknown_invocations"] == len(injected) > 0
        assert all(i["s3_counts_known"] for i in job.invocations if i not in injected)
    else:
        assert record["budget_guard"] and "budget guard" in record["failure"]
        # The phantom timeouts reported nothing: their requests are unknown, said so, not counted as 0.
        phantom = [i for i in job.invocations if i["status"] == TIMEOUT]
        assert phantom and all(not i["s3_counts_known"] and np.isnan(i["s3_gets"]) for i in phantom)
        assert record["s3_unknown_invocations"] == len(phantom)
        # Billed to the timeout the guard set, and never over the budget.
        assert all(i["billed_s"] == pytest.approx(record["function_timeout_s"]) for i in phantom)
        assert record["cumulative_cost_usd"] <= job.scenario.budget_usd


def test_a_failed_epoch_is_in_the_table_the_trace_and_the_exit_status(tmp_path, monkeypatch, capsys) -> None:
    from siren.cli import build_parser
    from siren.cli import runner as cli_runner

    make_backend = cli_runner._make_backend

    def failing(args, scenario):
        backend, closers = make_backend(args, scenario)
        return _FailingBackend(backend, batch=5), closers

    monkeypatch.setattr(cli_runner, "_make_backend", failing)
    trace_path = tmp_path / "t.h5"
    args = build_parser().parse_args(["run", "--schedule", "4:1024", "--epochs", "3", "--max-attempts", "1",
                                      "--out", str(trace_path)])
    assert args.handler(args) == 1
    captured = capsys.readouterr()
    rows = [line for line in captured.out.splitlines() if line.split()[:1] == ["0"]]
    assert rows and rows[0].endswith("failed"), captured.out
    assert "status=failed epochs=1" in captured.out
    assert captured.err.count("\n") == 1 and "epoch 0: 12 of 45 batches not applied" in captured.err
    trace = read_run_trace(trace_path)
    assert trace["attrs"]["status"] == "failed" and "12 of 45 batches" in trace["attrs"]["error"]
    assert list(trace["epochs"]["status"]) == ["failed"]
    assert list(trace["epochs"]["missing_batches"]) == [12]
    assert "not applied" in trace["epochs"]["failure"][0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_run_promptly_with_the_status_set_and_no_process_left(tmp_path, signum) -> None:
    trace_path = tmp_path / "t.h5"
    process = _start(trace_path)
    seen = _wait_busy(process)
    time.sleep(0.2)
    seen.update(fi.descendants(process.pid))
    sent = time.monotonic()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    elapsed = time.monotonic() - sent
    assert elapsed < 10, elapsed
    assert process.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert stderr.strip().splitlines() == [stderr.strip()], stderr
    assert stderr.startswith(f"siren: error: interrupted by {name}"), stderr
    trace = read_run_trace(trace_path)
    assert trace["attrs"]["status"] == "interrupted"
    assert trace["attrs"]["error"] == f"interrupted by {name}"
    _assert_nothing_left(process, seen)


def test_sigkill_to_the_runner_leaves_no_process_and_no_log(tmp_path) -> None:
    process = _start(tmp_path / "t.h5")
    seen = _wait_busy(process)
    logs = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    process.kill()
    process.communicate(timeout=30)
    _assert_nothing_left(process, seen)
    assert not [name for name in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - logs if "moto" in name]


def test_a_lost_s3_server_is_one_line_naming_it(tmp_path) -> None:
    trace_path = tmp_path / "t.h5"
    process = _start(trace_path)
    seen = _wait_busy(process)
    moto = [pid for pid, (_, cmd) in seen.items() if "moto.server" in cmd]
    assert len(moto) == 1
    sent = time.monotonic()
    os.kill(moto[0], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert process.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "lost the S3 server at http://127.0.0.1:" in lines[0], stderr
    assert "Traceback" not in stderr
    trace = read_run_trace(trace_path)
    assert trace["attrs"]["status"] == "failed" and "lost the S3 server" in trace["attrs"]["error"]
    _assert_nothing_left(process, seen)


def test_children_of_the_local_backend_die_with_their_parent(tmp_path) -> None:
    """The parent-death signal in a process that is neither the runner's
    nor a test's: a short-lived parent starts the S3 server and a sandbox,
    then exits without cleaning up (SIGKILL to itself)."""
    code = (
        "import os, signal\n"
        "from siren.runner.local import LocalLambda, S3Server\n"
        "server = S3Server().start()\n"
        "backend = LocalLambda(server)\n"
        "backend.set_memory(512)\n"
        "assert backend.invoke({}).status == 'error'\n"  # A warm sandbox now idles.
        "print(server._process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    seen: dict = {}
    while process.poll() is None:
        seen.update(fi.descendants(process.pid))
        time.sleep(0.05)
    stdout, _ = process.communicate(timeout=10)
    assert stdout.strip().isdigit()
    assert len(seen) >= 2
    deadline = time.monotonic() + 3.0
    while fi.survivors(seen) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fi.survivors(seen) == []
    np.testing.assert_equal(process.returncode, -signal.SIGKILL)


@pytest.mark.parametrize("how", ["exit", "hang"])
def test_a_dead_workers_requests_are_counted_and_billed(server, dataset, how) -> None:
    """A worker that kills its own sandbox (SIGKILL) or hangs into its
    timeout returns nothing; its S3 requests still reach its invocation row
    and the epoch's s3_gets/s3_puts, and they are exactly what the S3
    server answered (its access log) during the epoch."""
    fault = {"token": uuid.uuid4().hex, "worker": 1, "epoch": 0, "at_batch": 14, "when": "before_push", "how": how}
    prefix = f"t/{uuid.uuid4().hex[:8]}"
    backend = LocalLambda(server, timeout_s=4.0 if how == "hang" else 60.0)
    job = RealJob(_core.load_scenario(SCENARIO), backend, dataset, bucket="siren-test", prefix=prefix, fault=fault)
    try:
        job.reset()
        before = server.requests_received(f"/siren-test/{prefix}/")
        *_, record = job.step(job.codec.encode(4, 1024))
        after = server.requests_received(f"/siren-test/{prefix}/")
    finally:
        backend.close()
    failed = [i for i in job.invocations if i["status"] != OK]
    assert [i["status"] for i in failed] == [ERROR if how == "exit" else TIMEOUT], job.invocations
    if how == "exit":
        assert failed[0]["error"] == "Runtime.ExitError: the sandbox exited with signal SIGKILL"
    # Worker 1 owns batches 12..22: two applied (2 GETs and a PUT each, more
    # on a conflict), then batch 14's 2 GETs and the fault marker's PUT.
    assert failed[0]["s3_counts_known"]
    assert failed[0]["s3_gets"] >= 6 and failed[0]["s3_puts"] >= 3, failed[0]
    assert record["updates"] == len(dataset.batches) and record["missing_batches"] == 0
    assert record["s3_unknown_invocations"] == 0
    workers = sum(i["s3_gets"] for i in job.invocations), sum(i["s3_puts"] for i in job.invocations)
    assert (record["s3_gets"], record["s3_puts"]) == (workers[0] + record["runner_s3_gets"],
                                                      workers[1] + record["runner_s3_puts"])
    received = {method: after.get(method, 0) - before.get(method, 0) for method in ("GET", "PUT")}
    assert received == {"GET": record["s3_gets"], "PUT": record["s3_puts"]}
    # The bill holds them: S3 requests at the scenario's prices.
    scenario = job.scenario
    assert record["cost_s3_request_usd"] == pytest.approx(
        record["s3_gets"] * scenario.get("billing.s3_usd_per_get") + record["s3_puts"] * scenario.get(
            "billing.s3_usd_per_put"))
