"""HDF5 traces of a real job (``siren run --out``), read by ``siren
calibrate`` and ``siren compare-sim``.

Layout (one 1-D dataset per column, one row per item)::

    epochs/<field>        every key of the runner's epoch record: the keys of
                          Simulation.run_epoch (the epoch field table, in its
                          order) plus the runner's own (RUNNER_EPOCH_FIELDS)
    invocations/<field>   one row per invocation (INVOCATION_FIELDS: epoch,
                          worker, attempt, status, cold, init_s, duration_s, ...)
    batches/<field>       one row per batch run (BATCH_FIELDS: epoch, batch,
                          worker, fetch_s, compute_s, update_s, staleness, ...)
    requests/get_s, get_bytes, put_s   every worker S3 request (REQUEST_FIELDS)
    attrs: scenario (YAML), backend, dataset (manifest JSON), initial_loss,
           learning_rate, policy, status, version, bucket, prefix, host_cpus,
           single_function, scenario_fingerprint, adjustments (JSON list:
           what the run changed of the scenario or the platform, e.g. the
           local stand-in's limits), scaling_limit (the local stand-in's
           scaling-rate limit, e.g. "burst 1000, 100/s", or "none"), and for
           a policy policy_scenario, policy_scenario_fingerprint and
           policy_scenario_mismatch (JSON list of the parameters that differ,
           when --allow-scenario-mismatch let it run) (numbers as numbers,
           booleans as booleans)

Every dataset has `units` and `description` attributes.

The file is rewritten after every epoch under a temporary name and renamed,
so a run that fails keeps the trace of every finished epoch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from siren.epoch_fields import EPOCH_FIELD_NAMES, dataset_attributes
from siren.trace import open_hdf5, write_column

__all__ = ["BATCH_FIELDS", "INVOCATION_FIELDS", "REQUEST_FIELDS", "REQUIRED_COLUMNS", "RUNNER_EPOCH_FIELDS",
           "check_run_trace", "column_attributes", "write_run_trace", "read_run_trace"]

# The runner's own epoch columns, beside the epoch field table's: name ->
# (unit, one-line description), in the vocabulary of sim/core/epoch_fields.h.
RUNNER_EPOCH_FIELDS: dict[str, tuple[str, str]] = {
    "skipped_batches": ("count", "Batches a worker ran but did not apply (already applied)."),
    "worker_errors": ("count", "Invocations that ended in a worker error."),
    "init_mean_s": ("s", "Mean init time of the cold invocations."),
    "runner_s3_gets": ("count", "S3 GET requests of the runner itself (barrier, loss)."),
    "runner_s3_puts": ("count", "S3 PUT requests of the runner itself (barrier)."),
    "reported_updates": ("count", "Updates the workers reported (updates counts the store's)."),
    "reconfigure_s": ("s", "Time to set the function's memory before the epoch (not in duration_s)."),
    "recovered_batches": ("count", "Batches run by recovery invocations at the barrier."),
    "budget_guard": ("", "True when the budget guard stopped a retry in this epoch."),
    "missing_batches": ("count", "Batches still unapplied after recovery; more than 0 only in a failed epoch."),
    "failure": ("", "Why the epoch failed (status failed: batches not applied), or empty."),
    "parameter_version": ("count", "Parameter store version after the epoch."),
    "requested_memory_mb": ("MB", "Memory the action asked for, before clamping to a feasible size."),
    "memory_clamped": ("", "True when the requested memory was clamped up."),
    "requested_functions": ("count", "Functions the action asked for, before the budget clamp "
                                     "(env.action_clamp=budget)."),
    "budget_clamped": ("", "True when the budget clamp (env.action_clamp=budget) replaced the action by the closest "
                           "one the budget guard runs."),
    "skipped": ("", "True for the row of an epoch the budget guard did not run."),
    "budget_reason": ("", "Why the budget guard did not run the epoch (skipped rows), or empty."),
    "function_timeout_s": ("s", "The function's timeout in the epoch (the budget guard lowers it when the budget "
                                "left cannot pay every function to the scenario's)."),
    "s3_unknown_invocations": ("count", "Invocations whose S3 requests nobody could report (an AWS timeout or "
                                        "crash): not in s3_gets, s3_puts nor the cost."),
    "action_clipped": ("", "True when the action had a coordinate outside the Box [-1, 1], clipped by the codec."),
    "discarded_updates": ("count", "Push protocol fold: pushed deltas the folder discarded because their batch was "
                                   "already applied (a re-invocation's re-push)."),
    "adjustment": ("", "What the codec or the platform changed of the epoch's action (clipped, memory clamped "
                       "up, fewer functions than asked), or empty."),
}


# One row per invocation (siren.runner.job: _record_invocation).
INVOCATION_FIELDS: dict[str, tuple[str, str]] = {
    "epoch": ("index", "0-based epoch of the invocation."),
    "worker": ("index", "0-based worker share of the epoch; one past the last share for a recovery invocation; -1 "
                        "for the fold protocol's folder."),
    "role": ("", "worker, or folder (push protocol fold: the function that folds the pushed updates)."),
    "attempt": ("count", "Attempt of this share, from 1 (throttled requests are not attempts)."),
    "status": ("", "Outcome: ok, error, timeout or throttled (siren.runner.backend)."),
    "error": ("", "The worker's error message (first 300 characters), empty when none."),
    "batches_assigned": ("count", "Batches the invocation was asked to run."),
    "cold": ("", "True when the invocation started a new function instance."),
    "init_s": ("s", "Init time of a cold start (0 for a warm one)."),
    "duration_s": ("s", "Handler duration as the platform reports it."),
    "platform_billed_s": ("s", "Billed duration the platform reported (NaN where it reports none, locally); for an "
                               "invocation whose outcome is unknown, the most the platform can bill for it (the "
                               "function's timeout, plus INIT's 10 s limit where INIT is billed)."),
    "memory_mb": ("MB", "Memory of the function that ran the invocation."),
    "sent_s": ("s", "When the runner sent the invocation, from the epoch's start."),
    "returned_s": ("s", "When the invocation returned to the runner, from the epoch's start."),
    "s3_gets": ("count", "S3 GET requests the invocation issued, also when it failed; NaN when unknown."),
    "s3_puts": ("count", "S3 PUT requests the invocation issued (refused compare-and-swaps included), also when "
                         "it failed; NaN when unknown."),
    "s3_lists": ("count", "S3 LIST requests the invocation issued (the folder's; billed as PUTs); NaN when unknown."),
    "s3_counts_known": ("", "False when nobody could report the invocation's S3 requests (an AWS timeout or crash)."),
    "remaining": ("count", "Batches the invocation left for a re-invocation (deadline near or allowance spent)."),
    "stopped_by_allowance": ("", "True when the invocation left batches because its S3 allowance (the budget "
                                 "guard's) was spent."),
    "billed_s": ("s", "Billed duration: the platform's when it reports one, else the handler's time plus the INIT "
                      "phase where the generation bills it, rounded up to the billing unit."),
    "cost_usd": ("usd", "What the invocation cost: its billed duration, its request and its S3 requests (an "
                        "unknown count at its allowance, the most it can be)."),
    "request_id": ("", "The platform's id of the invocation (Lambda's RequestId, as in its logs; empty locally)."),
    "transient_retries": ("count", "Times the backend sent the request again because it never reached the "
                                   "function (no connection, a refusal before the function started)."),
    "outcome_known": ("", "False when the request may have reached the function and no answer said what it did (AWS: "
                          "a 5xx, a dropped connection): billed at the most it can cost, its batches re-invoked."),
}

# One row per batch a worker ran (siren.runner.worker, plus the invocation's keys).
BATCH_FIELDS: dict[str, tuple[str, str]] = {
    "batch": ("index", "0-based index of the mini-batch in the epoch."),
    "fetch_s": ("s", "Time to GET the batch and the parameters."),
    "compute_s": ("s", "Gradient compute time (stretched by the emulated CPU share below one vCPU)."),
    "update_s": ("s", "Time to push the update (compare-and-swap back-offs and retries included)."),
    "staleness": ("updates", "Parameter versions written between the worker's read and its push (fold: and its "
                             "fold; -1 for a re-push the folder discarded)."),
    "conflicts": ("count", "Refused compare-and-swap pushes (412) before the update was applied."),
    "backoff_s": ("s", "Time slept in jittered back-off after refused compare-and-swap pushes."),
    "skipped": ("", "True when the batch was already applied and was not applied again."),
    "version": ("updates", "Parameter store version after the push (or as read, when skipped)."),
    "loss": ("1", "Training loss of the batch before the update (NaN when skipped)."),
    "epoch": ("index", "0-based epoch of the batch."),
    "worker": ("index", "0-based worker share that ran the batch."),
    "attempt": ("count", "Attempt of that share that ran the batch."),
}

# Every worker S3 request, in the order the invocations reported them.
REQUEST_FIELDS: dict[str, tuple[str, str]] = {
    "get_s": ("s", "Latency of one worker GET request."),
    "get_bytes": ("bytes", "Size of one worker GET request's object, in the order of get_s."),
    "put_s": ("s", "Latency of one worker PUT request."),
}

_GROUP_FIELDS = {"invocations": INVOCATION_FIELDS, "batches": BATCH_FIELDS, "requests": REQUEST_FIELDS}

# What `siren calibrate` and `siren compare-sim` read from each group.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "epochs": ("epoch", "action_functions", "action_memory_mb", "duration_s", "cost_total_usd", "loss",
               "updates", "mean_staleness"),
    "invocations": ("epoch", "worker", "attempt", "status", "cold", "init_s", "duration_s", "memory_mb",
                    "sent_s", "returned_s"),
    "batches": ("epoch", "worker", "attempt", "compute_s", "skipped"),
    "requests": ("get_s", "get_bytes", "put_s"),
}
_REQUIRED_ATTRS = ("backend", "scenario", "initial_loss", "dataset")
_EXPECTED = "expected a runner trace written by `siren run --out`"


def column_attributes(group: str, key: str) -> dict[str, str]:
    """The `units` and `description` of column `key` of `group` ("epochs",
    "invocations", "batches" or "requests"). A column no table describes gets
    units "" and a description saying so (tests/python/test_outputs.py
    checks that none is written)."""
    if group == "epochs":
        if key in RUNNER_EPOCH_FIELDS:
            unit, description = RUNNER_EPOCH_FIELDS[key]
            return {"units": unit, "description": description}
        attributes = dataset_attributes(key)
        if attributes:
            return attributes
    elif key in _GROUP_FIELDS.get(group, {}):
        unit, description = _GROUP_FIELDS[group][key]
        return {"units": unit, "description": description}
    return {"units": "", "description": f"(undescribed {group} column; add it to siren/runner/trace.py)"}


def _table(group: Any, name: str, rows: Sequence[Mapping[str, Any]]) -> None:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    for key in keys:
        values = [row.get(key, float("nan")) for row in rows]
        write_column(group, key, values, column_attributes(name, key))


def write_run_trace(path: str | os.PathLike[str], *, epochs: Sequence[Mapping[str, Any]],
                    invocations: Sequence[Mapping[str, Any]], batches: Sequence[Mapping[str, Any]],
                    requests: Any, attrs: Mapping[str, Any]) -> None:
    """Writes the trace atomically (temporary file, then rename)."""
    import h5py

    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            _table(f.create_group("epochs", track_order=True), "epochs", epochs)
            _table(f.create_group("invocations", track_order=True), "invocations", invocations)
            _table(f.create_group("batches", track_order=True), "batches", batches)
            group = f.create_group("requests", track_order=True)
            for key, values, dtype in (("get_s", requests.get_seconds, np.float64),
                                       ("get_bytes", requests.get_bytes, np.int64),
                                       ("put_s", requests.put_seconds, np.float64)):
                dataset = group.create_dataset(key, data=np.asarray(values, dtype=dtype))
                dataset.attrs.update(column_attributes("requests", key))
            for key, value in attrs.items():
                f.attrs[key] = json.dumps(value) if isinstance(value, (dict, list)) else value
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _decode(values: np.ndarray) -> list[Any] | np.ndarray:
    if values.dtype.kind == "S":
        return [v.decode("utf-8") for v in values]
    return values


def read_run_trace(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The trace as {"epochs": {field: column}, "invocations": ..., "batches":
    ..., "requests": {...}, "attrs": {...}}. FileNotFoundError when there is
    no file; ValueError naming the file and what is missing when it is not
    HDF5 or lacks one of the four groups or the `backend` attribute (see
    check_run_trace for the columns calibration needs)."""
    import h5py

    path = os.fspath(path)
    with open_hdf5(path, _EXPECTED) as f:
        missing = [group for group in REQUIRED_COLUMNS if not isinstance(f.get(group), h5py.Group)]
        if missing:
            raise ValueError(f"{path!r} has no group {', '.join(missing)}; {_EXPECTED} (groups epochs, "
                             f"invocations, batches, requests), found {', '.join(sorted(f.keys())) or 'none'}")
        if "backend" not in f.attrs:
            raise ValueError(f"{path!r} lacks the file attribute backend; {_EXPECTED}")
        out: dict[str, Any] = {}
        for group in REQUIRED_COLUMNS:
            out[group] = {key: _decode(f[group][key][()]) for key in f[group]}
        out["attrs"] = {key: (value.decode() if isinstance(value, bytes) else value)
                        for key, value in f.attrs.items()}
    try:
        out["attrs"]["dataset"] = json.loads(out["attrs"].get("dataset", "{}"))
    except ValueError as error:
        raise ValueError(f"{path!r}: its dataset attribute is not JSON ({error}); {_EXPECTED}") from None
    return out


def check_run_trace(trace: Mapping[str, Any]) -> None:
    """ValueError naming what `trace` (read_run_trace) lacks of what
    calibration and replay read: REQUIRED_COLUMNS and the attributes
    scenario, initial_loss and dataset."""
    missing_attrs = [key for key in _REQUIRED_ATTRS if key not in trace["attrs"]]
    if missing_attrs:
        raise ValueError(f"the trace lacks the file attributes {', '.join(missing_attrs)}; {_EXPECTED}")
    for group, columns in REQUIRED_COLUMNS.items():
        missing = [column for column in columns if column not in trace[group]]
        if missing:
            empty = group == "epochs" and not trace[group]
            raise ValueError(f"the trace's {group}/ lacks the columns {', '.join(missing)}; {_EXPECTED}"
                             + (" (it has no epoch: did the run fail in its first one?)" if empty else ""))
