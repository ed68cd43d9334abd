"""The worker: an AWS Lambda handler running real mini-batch SGD (numpy) on
its share of an epoch's batches, with the parameters in S3 (the HSP protocol
of ``protocol.py``). The local backend runs the very same handler in local
processes.

Event (JSON)::

    bucket, prefix            where the job lives (validated)
    epoch                     the epoch being run (0-based)
    batches                   the batch ids this invocation owns
    learning_rate             SGD step size
    cpu_share                 optional, in (0, 1]: emulate Lambda's CPU share
                              by sleeping (1/share - 1) x each compute phase
                              (local backend; real Lambda throttles for real)
    fault                     optional, tests: {"token", "at_batch",
                              "when": "before_push" | "after_push"} raises once
                              per token (an S3 marker makes it once)

Response: per-batch timings (fetch = batch GET + parameter GET, compute,
update = the compare-and-swap push with its retries), staleness, conflicts,
whether the batch was skipped (already applied by an earlier attempt); the
S3 requests issued with their latencies; ``remaining``: the batches left when
the invocation stopped early because its deadline was near.

The S3 endpoint comes from the environment (SIREN_S3_ENDPOINT, set by the
local backend; unset on AWS), never from the event, so an invoker cannot
send the function's signed requests elsewhere. Credentials come from the environment (the function's role on AWS, the local
backend's loopback keys locally) and are never logged.
"""

from __future__ import annotations

import os
import time
from typing import Any


# Relative imports: the Lambda package ships this folder under another name,
# without the rest of siren (see deploy.py).
from . import model
from .protocol import ParameterStore, batch_key, decode_batch

__all__ = ["handler", "InjectedFault"]

_CLIENTS: dict[str | None, Any] = {}
# Stop early when less than this many times the slowest batch so far (plus a
# second) is left before the deadline, so the runner can re-invoke the rest
# instead of losing the invocation to a hard timeout.
_DEADLINE_SAFETY = 3.0


class InjectedFault(RuntimeError):
    """The failure a test asked for."""


def _s3(endpoint_url: str | None) -> Any:
    """One S3 client per endpoint per process, created at first use (part of
    a cold start) and reused by warm invocations."""
    if endpoint_url not in _CLIENTS:
        import boto3
        from botocore.config import Config

        config = Config(retries={"max_attempts": 8, "mode": "standard"}, max_pool_connections=4)
        _CLIENTS[endpoint_url] = boto3.client("s3", endpoint_url=endpoint_url, config=config)
    return _CLIENTS[endpoint_url]


def _maybe_fail(s3: Any, event: dict, batch: int, when: str) -> None:
    fault = event.get("fault")
    if not fault or fault.get("at_batch") != batch or fault.get("when") != when:
        return
    key = f"{event['prefix']}/faults/{fault['token']}"
    try:
        s3.put_object(Bucket=event["bucket"], Key=key, Body=b"1", IfNoneMatch="*")
    except Exception:  # The marker exists: the fault already fired once.
        return
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
    """Runs the invocation's batches; see the module docstring."""
    epoch = _required(event, "epoch", int)
    batches = [int(b) for b in _required(event, "batches", list)]
    learning_rate = float(_required(event, "learning_rate", (int, float)))
    cpu_share = float(event.get("cpu_share", 1.0))
    if not 0 < cpu_share <= 1:
        raise ValueError(f"event: field 'cpu_share' must be in (0, 1], got {cpu_share}")
    s3 = _s3(os.environ.get("SIREN_S3_ENDPOINT") or None)
    store = ParameterStore(s3, _required(event, "bucket", str), _required(event, "prefix", str))
    manifest = event.get("manifest") or store.manifest()
    features, classes = int(manifest["features"]), int(manifest["classes"])

    rows: list[dict] = []
    slowest = 0.0
    for position, batch in enumerate(batches):
        # Leave before a hard timeout: the runner re-invokes what remains.
        if context is not None and position > 0:
            left_s = context.get_remaining_time_in_millis() / 1000.0
            if left_s < _DEADLINE_SAFETY * slowest + 1.0:
                return _response(store, rows, batches[position:])
        start = time.perf_counter()
        body, _ = store.get(batch_key(store.prefix, batch))
        data = decode_batch(body)
        state = store.read()
        fetched = time.perf_counter()
        if state.applied[batch]:
            rows.append({"batch": batch, "fetch_s": fetched - start, "compute_s": 0.0, "update_s": 0.0,
                         "staleness": 0, "conflicts": 0, "skipped": True, "version": state.version,
                         "loss": float("nan")})
            continue
        batch_loss, gradient = model.loss_and_gradient(state.params, data, features, classes)
        computed = time.perf_counter()
        if cpu_share < 1.0:
            time.sleep((computed - fetched) * (1.0 / cpu_share - 1.0))
            computed = time.perf_counter()
        _maybe_fail(s3, event, batch, "before_push")
        new_state, staleness, conflicts = store.push(state, gradient, learning_rate, epoch, batch)
        pushed = time.perf_counter()
        _maybe_fail(s3, event, batch, "after_push")
        rows.append({"batch": batch, "fetch_s": fetched - start, "compute_s": computed - fetched,
                     "update_s": pushed - computed, "staleness": staleness, "conflicts": conflicts,
                     "skipped": new_state is None,
                     "version": new_state.version if new_state else state.version, "loss": batch_loss})
        slowest = max(slowest, pushed - start)
    return _response(store, rows, [])


def _response(store: ParameterStore, rows: list[dict], remaining: list[int]) -> dict:
    counter = store.counter
    return {"batches": rows, "remaining": remaining, "s3_gets": counter.gets, "s3_puts": counter.puts,
            "get_seconds": counter.get_seconds, "put_seconds": counter.put_seconds,
            "get_bytes": counter.get_bytes}
