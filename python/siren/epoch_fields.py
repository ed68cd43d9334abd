"""The epoch field table (sim/core/epoch_fields.h), from the compiled core.

One entry per key of `Simulation.run_epoch`, in order: name, type ("int",
"float" or "string"), unit, a one-line description, the Gym info column
(`info`, None when the info does not carry the field) and, for a labelled
string field such as `status`, its labels in code order. The HDF5 traces,
the runner's epoch records, the Gym info's types and the tests read it from
here; adding a field is one row in sim/core/epoch_fields.cc.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siren import _core

__all__ = [
    "EPOCH_FIELDS",
    "EPOCH_FIELD_NAMES",
    "EPOCH_FIELDS_BY_NAME",
    "dataset_attributes",
    "in_table_order",
]

EPOCH_FIELDS: tuple[dict[str, Any], ...] = tuple(_core.epoch_fields())
EPOCH_FIELD_NAMES: tuple[str, ...] = tuple(field["name"] for field in EPOCH_FIELDS)
EPOCH_FIELDS_BY_NAME: dict[str, dict[str, Any]] = {field["name"]: field for field in EPOCH_FIELDS}


def dataset_attributes(name: str) -> dict[str, str]:
    """The HDF5 attributes of the per-epoch dataset `name`: `units` and
    `description` from the table ({} for a name the table does not have)."""
    field = EPOCH_FIELDS_BY_NAME.get(name)
    if field is None:
        return {}
    return {"units": field["unit"], "description": field["description"]}


def in_table_order(record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` with every table field first, in table order, then its other
    keys as they came; KeyError naming the table fields it lacks."""
    missing = [name for name in EPOCH_FIELD_NAMES if name not in record]
    if missing:
        raise KeyError(f"epoch record lacks the table fields {missing}")
    out = {name: record[name] for name in EPOCH_FIELD_NAMES}
    out.update((key, value) for key, value in record.items() if key not in out)
    return out
