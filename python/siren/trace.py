"""HDF5 traces of a simulated job.

Layout: one 1-D dataset per epoch-result field (the keys of
`Simulation.run_epoch`'s dict, one row per epoch; `status` as fixed-length
bytes strings), and file attributes `scenario` (the full YAML), `seed`,
`version`, `schedule` and `status` (the job's final status).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["write_trace", "read_trace", "check_writable", "column_array"]

STRING_FIELDS = ("status",)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raises OSError when a trace could not be written at `path`.

    Checked before a run so that a bad --out fails fast instead of after the
    simulation.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"--out {path!r} is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"--out {path!r}: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f"--out {path!r} is not writable")


def column_array(key: str, values: list[Any]) -> np.ndarray:
    if key in STRING_FIELDS or any(isinstance(v, str) for v in values):
        encoded = [str(v).encode("utf-8") for v in values]
        width = max((len(e) for e in encoded), default=1) or 1
        return np.array(encoded, dtype=f"S{width}")
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.bool_)
    if all(isinstance(v, int) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


def write_trace(
    path: str | os.PathLike[str],
    results: Sequence[Mapping[str, Any]],
    *,
    scenario_yaml: str,
    seed: int,
    version: str,
    schedule: str,
    status: str,
) -> None:
    """Writes `results` (epoch-result dicts, in epoch order) to `path`.

    The file is written next to `path` under a temporary name and renamed, so a
    failed write never leaves a partial trace behind.
    """
    import h5py

    path = os.fspath(path)
    keys: list[str] = list(results[0].keys()) if results else []
    for i, row in enumerate(results):
        if list(row.keys()) != keys:
            raise ValueError(f"epoch result {i} has fields {list(row.keys())}, expected {keys}")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with h5py.File(tmp, "w", track_order=True) as f:
            for key in keys:
                f.create_dataset(key, data=column_array(key, [row[key] for row in results]))
            f.attrs["scenario"] = scenario_yaml
            f.attrs["seed"] = np.uint64(seed)
            f.attrs["version"] = version
            f.attrs["schedule"] = schedule
            f.attrs["status"] = status
            f.attrs["epochs"] = np.int64(len(results))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_trace(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads a trace: (fields, attributes). String fields come back as `str` arrays."""
    import h5py

    fields: dict[str, np.ndarray] = {}
    with h5py.File(os.fspath(path), "r") as f:
        for key in f.keys():
            data = f[key][()]
            if data.dtype.kind == "S":
                data = data.astype(str)
            fields[key] = data
        attrs = {key: _attr(value) for key, value in f.attrs.items()}
    return fields, attrs
