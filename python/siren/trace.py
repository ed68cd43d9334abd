"""HDF5 traces of a simulated job.

Layout: one 1-D dataset per epoch-result field (the keys of
`Simulation.run_epoch`'s dict, one row per epoch; `status` as fixed-length
bytes strings), each with the attributes `units` and `description` of its row
in the epoch field table (siren.epoch_fields, sim/core/epoch_fields.h), and
file attributes `scenario` (the full YAML), `seed`, `version`, `schedule`,
`status` (the job's final status) and `epochs`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from siren.epoch_fields import EPOCH_FIELDS_BY_NAME, dataset_attributes
from siren.outputs import check_output_file

__all__ = ["write_trace", "read_trace", "read_field_attributes", "check_writable", "column_array", "open_hdf5",
           "write_column"]


_EXPECTED_TRACE = "expected an HDF5 trace written by `siren simulate --out`"


def check_writable(path: str | os.PathLike[str], option: str = "--out") -> None:
    """Raises OSError when a trace could not be written at `path`
    (siren.outputs.check_output_file, the rule of every command's outputs).

    Checked before a run so that a bad --out fails fast instead of after the
    simulation.
    """
    check_output_file(path, option)


def open_hdf5(path: str | os.PathLike[str], expected: str) -> Any:
    """`h5py.File(path, "r")`; FileNotFoundError or ValueError naming the
    file and `expected` (e.g. "expected a trace written by `siren simulate
    --out`") instead of HDF5's own message when it is missing or not HDF5."""
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path!r} not found; {expected}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a folder; {expected}")
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path!r} is not an HDF5 file; {expected}")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"{path!r} cannot be read as HDF5 ({error}); {expected}") from None


def write_column(group: Any, key: str, values: list[Any], attributes: Mapping[str, Any] | None = None) -> None:
    """Writes `values` as the dataset `key` of `group` (an h5py File or Group)
    with `attributes` (for an epoch field: dataset_attributes(key), its
    `units` and `description`)."""
    dataset = group.create_dataset(key, data=column_array(key, values))
    for name, value in (attributes or {}).items():
        dataset.attrs[name] = value


def _is_string_field(key: str) -> bool:
    return EPOCH_FIELDS_BY_NAME.get(key, {}).get("type") == "string"


def column_array(key: str, values: list[Any]) -> np.ndarray:
    if _is_string_field(key) or any(isinstance(v, str) for v in values):
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
                write_column(f, key, [row[key] for row in results], dataset_attributes(key))
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


def read_field_attributes(path: str | os.PathLike[str], group: str = "/") -> dict[str, dict[str, Any]]:
    """The attributes of every dataset in `group` of the trace at `path`:
    {field: {"units": ..., "description": ...}} for the epoch fields."""
    with open_hdf5(path, _EXPECTED_TRACE) as f:
        return {key: {name: _attr(value) for name, value in f[group][key].attrs.items()} for key in f[group].keys()}


def read_trace(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads a trace: (fields, attributes). String fields come back as `str` arrays."""
    fields: dict[str, np.ndarray] = {}
    with open_hdf5(path, _EXPECTED_TRACE) as f:
        for key in f.keys():
            data = f[key][()]
            if data.dtype.kind == "S":
                data = data.astype(str)
            fields[key] = data
        attrs = {key: _attr(value) for key, value in f.attrs.items()}
    return fields, attrs
