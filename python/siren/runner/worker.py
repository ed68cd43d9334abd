"""The worker: an AWS Lambda handler running real mini-batch SGD (numpy) on
its share of an epoch's batches, with the parameters in S3 (the HSP protocol
of ``protocol.py``). The local backend runs the very same handler in local
processes.

Event (JSON)::

    bucket, prefix            where the job lives (validated)
    epoch                     the epoch being run (0-based)
    batches                   the batch ids this invocation owns
    learning_rate             SGD step size of this epoch, in [0, 100] (the
                              runner's schedule decides it; a cosine schedule
                              may reach 0)
    manifest                  optional (else read from S3): the dataset's
                              sizes and the model to train
                              (``models.from_manifest``: softmax, mlp or
                              lenet)
    push_protocol             optional, "cas" (default), "overwrite" or
                              "fold" (protocol.py; the scenario's
                              execution.push_protocol)
    worker                    optional, the worker share's index (>= 0;
                              default 0): names its updates under fold
    cas_backoff_ms,           optional, the full-jitter back-off after a
    cas_backoff_cap_ms        refused compare-and-swap: base and cap, ms,
                              >= 0 (defaults 10 and 1000; 0 disables)
    seed                      optional int (default 0): seeds the back-off's
                              draws (one generator per epoch and batch)
    role                      optional, "worker" (default) or "folder": the
                              fold protocol's folder (fold.py), whose event
                              has bucket, prefix, epoch, round (>= 0),
                              fold_interval_ms (> 0) and allowance (with
                              "lists")
    cpu_share                 optional, test-only, in (0, 1]: emulate
                              Lambda's CPU share: each compute phase lasts
                              its CPU time / share (it sleeps the rest;
                              _share_sleep_s) (local backend; real Lambda
                              throttles for real)
    fault                     optional, test-only: {"token", "at_batch",
                              "when": "before_push" | "after_push", "how":
                              "raise" (default) | "exit" | "hang"} fails once
                              per token (an S3 marker makes it once): raises,
                              kills its own process with SIGKILL (a crash)
                              or sleeps until the function's timeout
    allowance                 optional, the budget guard's share of the
                              budget: {"gets", "puts"[, "seconds"]}; the
                              invocation never sends more S3 GETs or PUTs
                              than allowed (the batch that would is left
                              undone) and, with ``seconds``, leaves before
                              its run time could pass it (3x its slowest
                              batch plus 1 s of headroom, as for the
                              function's timeout, which is the runner's
                              hard cap on time)

Test-only fields (``cpu_share``, ``fault``) are accepted only where the
function's environment enables them (SIREN_TEST_FIELDS=1: set by the local
backend, and on AWS only by ``siren deploy --enable-test-fields``); elsewhere
an event carrying one is refused with an error naming the field, so that
whoever may invoke a deployed function cannot make it crash, hang until its
timeout or run slower.

The event ``{"probe": "runtime"}`` does no work: it returns the versions of
Python, boto3, botocore and numpy the function runs with, and whether its
botocore can send S3 conditional writes (``PutObject`` with ``IfMatch``,
botocore >= 1.35.69), which ``siren deploy`` checks.

Response: per-batch timings (fetch = batch GET + parameter GET, compute,
update = the push: under cas with its back-offs and retries), staleness
(under fold unknown here: -1, the folder reports it), conflicts, the seconds
slept backing off (``backoff_s``),
whether the batch was skipped (already applied by an earlier attempt); the
S3 requests issued with their latencies; ``remaining``: the batches left when
the invocation stopped early because its deadline was near or its allowance
spent (``stopped``: "allowance" for the latter, else empty).

Every S3 request is counted (a refused compare-and-swap and the fault
marker's PUT included). When the handler fails it raises ``WorkerError``,
whose message is the original error's type and text followed by the
requests made so far (``protocol.with_requests``): Lambda returns only an
error's type and message, so the runner reads them from there. A sandbox
that dies or is cut at its timeout returns nothing: the local backend hands
the handler a pipe (``context.siren_requests_fd``) on which every request is
written as it is issued, so its requests are still known there; on AWS they
are not (the runner records them as unknown).

The S3 endpoint comes from the environment (SIREN_S3_ENDPOINT, set by the
local backend; unset on AWS), never from the event, so an invoker cannot
send the function's signed requests elsewhere. Credentials come from the environment (the function's role on AWS, the local
backend's loopback keys locally) and are never logged.
"""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Any


# Relative imports: the Lambda package ships this folder under another name,
# without the rest of siren (see deploy.py).
from . import fold, models
from .protocol import (PUSH_PROTOCOLS, AllowanceSpent, Backoff, ParameterStore, RequestAllowance, S3Counter, batch_key,
                       decode_batch, with_requests)

__all__ = ["MAX_LEARNING_RATE", "MIN_BOTOCORE", "TEST_FIELDS", "TEST_FIELDS_ENV", "handler", "InjectedFault",
           "WorkerError"]

# The event fields only tests send, and the environment variable that lets
# the function accept them ("1").
TEST_FIELDS = ("cpu_share", "fault")
TEST_FIELDS_ENV = "SIREN_TEST_FIELDS"
# The largest SGD step an event may ask for: far above any useful one, low
# enough that a stray value cannot blow the parameters up to inf in a step.
MAX_LEARNING_RATE = 100.0
# The first botocore whose S3 model has PutObject's IfMatch (2024-11-25);
# IfNoneMatch came with 1.35.2 (2024-08-20).
MIN_BOTOCORE = (1, 35, 69)

_CLIENTS: dict[str | None, Any] = {}
# Stop early when less than this many times the slowest batch so far (plus a
# second) is left before the deadline, so the runner can re-invoke the rest
# instead of losing the invocation to a hard timeout.
_DEADLINE_SAFETY = 3.0


class InjectedFault(RuntimeError):
    """The failure a test asked for."""


class WorkerError(RuntimeError):
    """A failed invocation: the error that ended it (``error``, "Type:
    message") and the S3 requests made before it (``requests``); its text
    is both (``protocol.with_requests``), what Lambda's error payload
    carries."""

    def __init__(self, error: BaseException, requests: S3Counter) -> None:
        self.error = f"{type(error).__name__}: {error}"
        self.requests = requests
        super().__init__(with_requests(self.error, requests))


def _s3(endpoint_url: str | None) -> Any:
    """One S3 client per endpoint per process, created at first use (part of
    a cold start) and reused by warm invocations."""
    if endpoint_url not in _CLIENTS:
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 8, "mode": "standard"}, max_pool_connections=4)
        _CLIENTS[endpoint_url] = boto3.client("s3", endpoint_url=endpoint_url, config=config)
    return _CLIENTS[endpoint_url]


def _maybe_fail(store: ParameterStore, event: dict, batch: int, when: str) -> None:
    fault = event.get("fault")
    if not fault or fault.get("at_batch") != batch or fault.get("when") != when:
        return
    key = f"{store.prefix}/faults/{fault['token']}"
    try:
        store.put(key, b"1", IfNoneMatch="*")  # A request like any other: counted.
    except Exception:  # The marker exists: the fault already fired once.
        return
    how = fault.get("how", "raise")
    if how == "exit":  # A crash: no reply, no cleanup.
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "hang":  # Until the function's timeout cuts it.
        time.sleep(24 * 3600)
    raise InjectedFault(f"injected fault at batch {batch} ({when})")


def _required(event: dict, name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in event:
        raise ValueError(f"event: missing field '{name}'")
    value = event[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(k.__name__ for k in kinds)
        raise ValueError(f"event: field '{name}' must be {expected}, got {value!r}")
    return value


def handler(event: dict, context: Any = None) -> dict:
    """Runs the invocation's batches; see the module docstring. Raises
    WorkerError (with the requests made so far) when anything fails."""
    requests = S3Counter(log_fd=getattr(context, "siren_requests_fd", None))
    try:
        if isinstance(event, dict) and event.get("probe") == "runtime":
            return _probe()
        if isinstance(event, dict) and event.get("role", "worker") == "folder":
            return _run_folder(event, context, requests)
        return _run(event, context, requests)
    except Exception as error:
        raise WorkerError(error, requests) from error


def _probe() -> dict:
    """What ``siren deploy`` checks of the function's runtime: the versions
    it runs with, and whether its botocore can send S3 conditional writes
    (PutObject's IfMatch, what the parameter store's compare-and-swap
    needs), read from the S3 model of the client the worker uses."""
    import platform

    import boto3
    import botocore
    import numpy

    members = _s3(os.environ.get("SIREN_S3_ENDPOINT") or None).meta.service_model.operation_model(
        "PutObject").input_shape.members
    return {"probe": "runtime", "python": platform.python_version(), "boto3": boto3.__version__,
            "botocore": botocore.__version__, "numpy": numpy.__version__,
            "conditional_writes": "IfMatch" in members and "IfNoneMatch" in members,
            "test_fields": _test_fields_enabled()}


def _test_fields_enabled() -> bool:
    return os.environ.get(TEST_FIELDS_ENV) == "1"


def _check_test_fields(event: dict) -> None:
    """ValueError naming the first test-only field of ``event`` when the
    function's environment does not enable them."""
    if _test_fields_enabled():
        return
    for name in TEST_FIELDS:
        if name in event:
            raise ValueError(f"event: field '{name}' is test-only and this function refuses it: its environment "
                             f"does not set {TEST_FIELDS_ENV}=1 (expected an event without '{name}', or a function "
                             "deployed with `siren deploy --enable-test-fields`)")


def _allowance(event: dict) -> tuple[float | None, RequestAllowance | None]:
    """The budget guard's allowance of the event, if any: (seconds, requests)."""
    allowance = event.get("allowance")
    if allowance is None:
        return None, None
    if not isinstance(allowance, dict):
        raise ValueError(f"event: field 'allowance' must be an object, got {allowance!r}")
    seconds = allowance.get("seconds")
    gets, puts, lists = allowance.get("gets"), allowance.get("puts"), allowance.get("lists", 0)
    if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
                                or not seconds >= 0):
        raise ValueError(f"event: field 'allowance.seconds' must be a number >= 0, got {seconds!r}")
    for name, value in (("gets", gets), ("puts", puts), ("lists", lists)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"event: field 'allowance.{name}' must be an integer >= 0, got {value!r}")
    return (float(seconds) if seconds is not None else None), RequestAllowance(gets=gets, puts=puts, lists=lists)


def _run(event: dict, context: Any, requests: S3Counter) -> dict:
    started = time.perf_counter()
    if not isinstance(event, dict):
        raise ValueError(f"event: expected a JSON object, got {type(event).__name__}")
    _check_test_fields(event)
    epoch = _required(event, "epoch", int)
    batches = [int(b) for b in _required(event, "batches", list)]
    learning_rate = float(_required(event, "learning_rate", (int, float)))
    if not 0 <= learning_rate <= MAX_LEARNING_RATE:  # NaN fails too.
        raise ValueError(f"event: field 'learning_rate' must be in [0, {MAX_LEARNING_RATE:g}], got {learning_rate!r}")
    cpu_share = event.get("cpu_share", 1.0)
    if isinstance(cpu_share, bool) or not isinstance(cpu_share, (int, float)) or not 0 < cpu_share <= 1:
        raise ValueError(f"event: field 'cpu_share' must be a number in (0, 1], got {cpu_share!r}")
    cpu_share = float(cpu_share)
    fault = event.get("fault")
    if fault is not None and (not isinstance(fault, dict) or "token" not in fault):
        raise ValueError(f"event: field 'fault' must be an object with a 'token', got {fault!r}")
    push = _push_options(event)
    s3 = _s3(os.environ.get("SIREN_S3_ENDPOINT") or None)
    store = ParameterStore(s3, _required(event, "bucket", str), _required(event, "prefix", str))
    store.counter = requests
    allowed_s, store.allowance = _allowance(event)
    manifest = event.get("manifest") or store.manifest()
    net = models.from_manifest(manifest)

    rows: list[dict] = []
    slowest = 0.0
    for position, batch in enumerate(batches):
        # Leave before a hard timeout: the runner re-invokes what remains.
        if context is not None and position > 0:
            left_s = context.get_remaining_time_in_millis() / 1000.0
            if left_s < _DEADLINE_SAFETY * slowest + 1.0:
                return _response(store, rows, batches[position:])
        # Leave before the budget guard's allowance of time is spent.
        if allowed_s is not None and \
                time.perf_counter() - started + _DEADLINE_SAFETY * slowest + 1.0 > allowed_s:
            return _response(store, rows, batches[position:], stopped="allowance")
        try:
            row, took = _run_batch(store, event, epoch, batch, learning_rate, net, cpu_share, push)
        except AllowanceSpent:  # Not sent: this batch and the rest are left.
            return _response(store, rows, batches[position:], stopped="allowance")
        rows.append(row)
        slowest = max(slowest, took)
    return _response(store, rows, [])


def _run_batch(store: ParameterStore, event: dict, epoch: int, batch: int, learning_rate: float,
               net: models.Model, cpu_share: float, push: dict) -> tuple[dict, float]:
    """One batch: fetch, compute, push. Its row and how long it took (0 for
    a batch already applied, skipped)."""
    start = time.perf_counter()
    body, _ = store.get(batch_key(store.prefix, batch))
    data = decode_batch(body)
    state = store.read()
    fetched = time.perf_counter()
    if state.applied[batch]:
        return ({"batch": batch, "fetch_s": fetched - start, "compute_s": 0.0, "update_s": 0.0, "staleness": 0,
                 "conflicts": 0, "backoff_s": 0.0, "skipped": True, "version": state.version,
                 "loss": float("nan")}, 0.0)
    cpu_start = time.process_time()
    batch_loss, gradient = net.loss_and_gradient(state.params, data)
    computed = time.perf_counter()
    if cpu_share < 1.0:
        time.sleep(_share_sleep_s(time.process_time() - cpu_start, computed - fetched, cpu_share))
        computed = time.perf_counter()
    _maybe_fail(store, event, batch, "before_push")
    new_state, staleness, conflicts, backoff_s = _push(store, state, gradient, learning_rate, epoch, batch, push)
    pushed = time.perf_counter()
    _maybe_fail(store, event, batch, "after_push")
    return ({"batch": batch, "fetch_s": fetched - start, "compute_s": computed - fetched,
             "update_s": pushed - computed, "staleness": staleness, "conflicts": conflicts, "backoff_s": backoff_s,
             "skipped": new_state is None, "version": new_state.version if new_state else state.version,
             "loss": batch_loss}, pushed - start)


def _share_sleep_s(cpu_s: float, wall_s: float, cpu_share: float) -> float:
    """How long to sleep after a compute phase that used ``cpu_s`` seconds
    of CPU in ``wall_s`` seconds of wall time, so that it lasts what it
    would on ``cpu_share`` of a core: cpu_s / cpu_share in all (a CFS quota
    lets the function run cpu_share of each period). Measured from the CPU
    time, not the wall time, so that a host whose cores are shared with
    other work does not stretch the emulated phase further: the wait for
    a core counts towards the throttling Lambda would have imposed, and
    only a host slower than the share itself shows through."""
    return max(0.0, cpu_s / cpu_share - wall_s)


def _push_options(event: dict) -> dict:
    """The push protocol's fields of ``event``, validated, with defaults."""
    protocol = event.get("push_protocol", "cas")
    if protocol not in PUSH_PROTOCOLS:
        raise ValueError(f"event: field 'push_protocol' must be one of {', '.join(PUSH_PROTOCOLS)}, got {protocol!r}")
    out: dict = {"protocol": protocol}
    for name, default in (("worker", 0), ("seed", 0)):
        value = event.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or (name == "worker" and value < 0):
            raise ValueError(f"event: field '{name}' must be an integer{' >= 0' if name == 'worker' else ''}, "
                             f"got {value!r}")
        out[name] = value
    for name, default in (("cas_backoff_ms", 10.0), ("cas_backoff_cap_ms", 1000.0)):
        value = event.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3.6e6:
            raise ValueError(f"event: field '{name}' must be a number of ms in [0, 3600000], got {value!r}")
        out[name] = float(value)
    return out


def _push(store: ParameterStore, state: Any, gradient: Any, learning_rate: float, epoch: int, batch: int,
          push: dict) -> tuple[Any, int, int, float]:
    """Pushes the batch's update by the event's protocol: (new state, or
    None when the batch was already applied; staleness, -1 under fold where
    the folder measures it; refused pushes; seconds slept backing off)."""
    if push["protocol"] == "overwrite":
        return store.overwrite(state, gradient, learning_rate, epoch, batch), 0, 0, 0.0
    if push["protocol"] == "fold":
        fold.push_delta(store, state, -float(learning_rate) * gradient, epoch, push["worker"], batch)
        return state, -1, 0, 0.0
    backoff = Backoff(push["cas_backoff_ms"] / 1000.0, push["cas_backoff_cap_ms"] / 1000.0,
                      random.Random(f"{push['seed']}-{epoch}-{batch}"))
    new_state, staleness, conflicts = store.push(state, gradient, learning_rate, epoch, batch, backoff)
    return new_state, staleness, conflicts, backoff.slept_s


def _run_folder(event: dict, context: Any, requests: S3Counter) -> dict:
    """The fold protocol's folder (fold.run_folder) for one epoch."""
    started = time.perf_counter()
    epoch = _required(event, "epoch", int)
    round_ = _required(event, "round", int)
    interval_ms = _required(event, "fold_interval_ms", (int, float))
    if epoch < 0 or round_ < 0 or not 0 < interval_ms <= 60000:
        raise ValueError(f"event: folder fields must be epoch >= 0, round >= 0 and fold_interval_ms in (0, 60000], "
                         f"got {epoch!r}, {round_!r}, {interval_ms!r}")
    s3 = _s3(os.environ.get("SIREN_S3_ENDPOINT") or None)
    store = ParameterStore(s3, _required(event, "bucket", str), _required(event, "prefix", str))
    store.counter = requests
    allowed_s, store.allowance = _allowance(event)

    def time_left() -> float:
        left = float("inf")
        if context is not None:
            left = context.get_remaining_time_in_millis() / 1000.0
        if allowed_s is not None:
            left = min(left, allowed_s - (time.perf_counter() - started))
        return left

    out = fold.run_folder(store, epoch, round_, float(interval_ms) / 1000.0, time_left)
    return dict(store.counter.as_dict(), role="folder", batches=[], remaining=[], **out)


def _response(store: ParameterStore, rows: list[dict], remaining: list[int], stopped: str = "") -> dict:
    """The invocation's reply; ``stopped`` says why it left batches
    (``allowance``: the budget guard's; empty otherwise)."""
    return dict(store.counter.as_dict(), batches=rows, remaining=remaining, stopped=stopped)
