"""Push protocol ``fold`` (execution.push_protocol: fold): workers push their
updates as objects of their own, and one more function per epoch, the
folder, adds them into the parameter store. Free of ``siren._core``: it
ships in the Lambda package with the worker, whose handler runs the folder
when its event has ``"role": "folder"`` (one deployed function serves both).

Keys under ``s3://<bucket>/<prefix>/updates/<epoch>/`` (zero-padded, so
that key order is (worker, batch) order)::

    <worker>-<seq>     one pushed update: the worker's delta
                       (-learning_rate x gradient), its batch and the
                       parameter version it was computed from; seq is the
                       batch's index in the epoch (a worker pushes each of
                       its batches once; a re-invocation of the same share
                       pushes to the same key)
    end-<round>        written by the runner once every worker invocation
                       of the round (0: the epoch's shares, then one per
                       recovery round) has returned

A push is one unconditional PUT: never refused, never lost. The folder
(``run_folder``) reads the parameters once, then every
``execution.fold_interval_ms`` LISTs the epoch's prefix, GETs the new deltas
in parallel, adds them to the parameters in key order, PUTs the parameter
object once per fold (compare-and-swap on its own last write, so a second
folder that an unknown outcome left running can never clobber it; its
version is the number of updates folded so far) and deletes the folded
deltas (DeleteObjects, not billed). It returns once it has seen its round's
end marker and folded everything that LIST showed (S3 LIST is strongly
consistent: every delta of a returned worker is in it).

Consistency guarantee: every pushed update is applied exactly once. At most
once because the bitmap of applied batches is written with the parameters
in one PUT and the folder discards a delta whose batch it already holds (a
re-push by a re-invocation); at least once because the runner re-invokes at
the barrier for every batch missing from the bitmap. A reader sees a prefix
of the folded updates; an update's staleness (versions folded between the
pusher's read and its own fold) is bounded by the fold lag.
"""

from __future__ import annotations

import io
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

from .protocol import AllowanceSpent, ParameterState, ParameterStore, is_precondition_failed

__all__ = ["decode_delta", "delta_key", "encode_delta", "end_key", "run_folder", "updates_prefix"]

_DELTA_NAME = re.compile(r"^(\d{5})-(\d{6})$")
# Parallel GETs of a fold (the worker's S3 client keeps as many connections).
_PARALLEL_GETS = 8


def updates_prefix(prefix: str, epoch: int) -> str:
    """Where the deltas of ``epoch`` live (ends with '/')."""
    return f"{prefix}/updates/{epoch:06d}/"


def delta_key(prefix: str, epoch: int, worker: int, batch: int) -> str:
    """The key of ``worker``'s update for ``batch`` in ``epoch``."""
    return f"{updates_prefix(prefix, epoch)}{worker:05d}-{batch:06d}"


def end_key(prefix: str, epoch: int, round_: int) -> str:
    """The runner's marker: every worker invocation of ``round_`` returned."""
    return f"{updates_prefix(prefix, epoch)}end-{round_}"


def encode_delta(delta: np.ndarray, batch: int, base_version: int) -> bytes:
    out = io.BytesIO()
    np.savez(out, delta=delta.astype(np.float32), batch=np.int64(batch), base_version=np.int64(base_version))
    return out.getvalue()


def decode_delta(body: bytes) -> tuple[np.ndarray, int, int]:
    """(delta, batch, base_version) of an encoded update."""
    with np.load(io.BytesIO(body)) as archive:
        return archive["delta"], int(archive["batch"]), int(archive["base_version"])


def push_delta(store: ParameterStore, state: ParameterState, delta: np.ndarray, epoch: int, worker: int,
               batch: int) -> None:
    """A worker's push under fold: one unconditional PUT of its update."""
    store.put(delta_key(store.prefix, epoch, worker, batch), encode_delta(delta, batch, state.version))


def run_folder(store: ParameterStore, epoch: int, round_: int, interval_s: float,
               time_left: Callable[[], float]) -> dict[str, Any]:
    """Folds ``epoch``'s deltas until the end marker of ``round_`` is seen
    and every delta that LIST showed is folded, or until ``time_left()``
    (seconds; the earlier of the function's deadline and the budget guard's
    allowance) is short of 1 s plus 3x the slowest fold so far, or the
    allowance of requests is spent. Returns ``finished`` (True when it ended
    normally), ``stopped`` ("allowance", "deadline" or ""), ``folds`` (fold
    PUTs), ``folded`` (one row per applied delta: batch, worker, staleness),
    ``discarded`` (deltas whose batch was already applied) and ``version``."""
    rows: list[dict] = []
    out: dict[str, Any] = {"finished": False, "stopped": "", "folds": 0, "folded": rows, "discarded": 0,
                           "version": -1}
    prefix = updates_prefix(store.prefix, epoch)
    marker = end_key(store.prefix, epoch, round_)
    slowest = 0.0
    try:
        state = store.read()
        out["version"] = state.version
        if state.epoch != epoch:
            raise RuntimeError(f"parameter store is at epoch {state.epoch}, the folder at {epoch}")
        with ThreadPoolExecutor(_PARALLEL_GETS) as pool:
            while True:
                started = time.perf_counter()
                keys = store.list_keys(prefix)
                ended = marker in keys
                deltas = sorted(k for k in keys if _DELTA_NAME.match(k[len(prefix):]))
                if deltas:
                    state = _fold(store, pool, state, epoch, deltas, rows, out)
                    out["version"] = state.version
                if ended:
                    out["finished"] = True
                    return out
                took = time.perf_counter() - started
                slowest = max(slowest, took)
                if time_left() < 3.0 * slowest + 1.0 + interval_s:
                    out["stopped"] = "deadline"
                    return out
                time.sleep(max(0.0, interval_s - took))
    except AllowanceSpent:
        out["stopped"] = "allowance"
        return out


def _fold(store: ParameterStore, pool: ThreadPoolExecutor, state: ParameterState, epoch: int, deltas: list[str],
          rows: list[dict], out: dict[str, Any]) -> ParameterState:
    """One fold of ``deltas`` (sorted keys) into ``state``; the new state.
    On a refused write (another folder wrote) nothing is deleted: the state
    is re-read and the next round folds again (the bitmap discards what the
    other folder applied)."""
    bodies = list(pool.map(lambda key: store.get(key)[0], deltas))
    params = state.params.copy()
    applied = state.applied.copy()
    version = state.version
    added: list[dict] = []
    for key, body in zip(deltas, bodies):
        delta, batch, base_version = decode_delta(body)
        if not 0 <= batch < len(applied) or applied[batch]:
            out["discarded"] += 1
            continue
        params += delta
        applied[batch] = True
        added.append({"batch": batch, "worker": int(_DELTA_NAME.match(key.rsplit("/", 1)[1]).group(1)),
                      "staleness": version - base_version})
        version += 1
    if added:
        body = ParameterStore.encode(params, version, epoch, applied)
        try:
            etag = store.put(store.key, body, IfMatch=state.etag)
        except Exception as error:  # botocore ClientError; kept import-free.
            if not is_precondition_failed(error):
                raise
            return store.read()
        out["folds"] += 1
        rows += added
        state = ParameterState(params, version, epoch, applied, etag)
    store.delete_keys(deltas)
    return state
