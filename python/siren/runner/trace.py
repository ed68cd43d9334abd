"""HDF5 traces of a real job (``siren run --out``), read by ``siren
calibrate`` and ``siren compare-sim``.

Layout (one 1-D dataset per column, one row per item)::

    epochs/<field>        every key of the runner's epoch record: the keys of
                          Simulation.run_epoch plus the runner's own
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

from siren.trace import column_array

__all__ = ["write_run_trace", "read_run_trace"]


def _table(group: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    for key in keys:
        values = [row.get(key, float("nan")) for row in rows]
        group.create_dataset(key, data=column_array(key, values))


def write_run_trace(path: str | os.PathLike[str], *, epochs: Sequence[Mapping[str, Any]],
                    invocations: Sequence[Mapping[str, Any]], batches: Sequence[Mapping[str, Any]],
                    requests: Any, attrs: Mapping[str, Any]) -> None:
    """Writes the trace atomically (temporary file, then rename)."""
    import h5py

    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            _table(f.create_group("epochs", track_order=True), epochs)
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
