"""HDF5 traces of a real job (``siren run --out``), read by ``siren
calibrate`` and ``siren compare-sim``.

Layout (one 1-D dataset per column, one row per item)::

    epochs/<field>        every key of the runner's epoch record: the keys of
                          Simulation.run_epoch (the epoch field table, in its
                          order) plus the runner's own (RUNNER_EPOCH_FIELDS);
                          each with `units` and `description` attributes
    invocations/<field>   one row per invocation (epoch, worker, attempt,
                          status, cold, init_s, duration_s, ...)
    batches/<field>       one row per batch run (epoch, batch, worker, fetch_s,
                          compute_s, update_s, staleness, conflicts, skipped)
    requests/get_s, get_bytes, put_s   every worker S3 request's latency
    attrs: scenario (YAML), backend, dataset (manifest JSON), initial_loss,
           learning_rate, policy, status, version

The file is rewritten after every epoch under a temporary name and renamed,
so a run that fails keeps the trace of every finished epoch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from siren.epoch_fields import dataset_attributes
from siren.trace import write_column

__all__ = ["RUNNER_EPOCH_FIELDS", "write_run_trace", "read_run_trace"]

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
    "projected_cost_usd": ("usd", "The budget guard's projected cost of the epoch."),
    "skipped": ("", "True for the row of an epoch the budget guard did not run."),
}


def _epoch_attributes(key: str) -> dict[str, str]:
    if key in RUNNER_EPOCH_FIELDS:
        unit, description = RUNNER_EPOCH_FIELDS[key]
        return {"units": unit, "description": description}
    return dataset_attributes(key)


def _table(group: Any, rows: Sequence[Mapping[str, Any]], epochs: bool = False) -> None:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    for key in keys:
        values = [row.get(key, float("nan")) for row in rows]
        write_column(group, key, values, _epoch_attributes(key) if epochs else None)


def write_run_trace(path: str | os.PathLike[str], *, epochs: Sequence[Mapping[str, Any]],
                    invocations: Sequence[Mapping[str, Any]], batches: Sequence[Mapping[str, Any]],
                    requests: Any, attrs: Mapping[str, Any]) -> None:
    """Writes the trace atomically (temporary file, then rename)."""
    import h5py

    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            _table(f.create_group("epochs", track_order=True), epochs, epochs=True)
            _table(f.create_group("invocations", track_order=True), invocations)
            _table(f.create_group("batches", track_order=True), batches)
            group = f.create_group("requests")
            group.create_dataset("get_s", data=np.asarray(requests.get_seconds, dtype=np.float64))
            group.create_dataset("get_bytes", data=np.asarray(requests.get_bytes, dtype=np.int64))
            group.create_dataset("put_s", data=np.asarray(requests.put_seconds, dtype=np.float64))
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
    ..., "requests": {...}, "attrs": {...}}; ValueError if it is not a runner
    trace."""
    import h5py

    with h5py.File(os.fspath(path), "r") as f:
        if "epochs" not in f or "backend" not in f.attrs:
            raise ValueError(f"{os.fspath(path)!r} is not a runner trace (written by `siren run --out`)")
        out: dict[str, Any] = {}
        for group in ("epochs", "invocations", "batches", "requests"):
            out[group] = {key: _decode(f[group][key][()]) for key in f[group]}
        out["attrs"] = {key: (value.decode() if isinstance(value, bytes) else value)
                        for key, value in f.attrs.items()}
    out["attrs"]["dataset"] = json.loads(out["attrs"].get("dataset", "{}"))
    return out
