"""Several runner traces of one job as one (``siren calibrate a.h5 b.h5``).

A careful user calibrates from more than one run: one short run's
statistics (its S3 latencies, its compare-and-swap conflicts, its epoch
times) carry that run's noise. ``pool_traces`` checks that the traces come
from the same job configuration and concatenates their per-item tables
(invocations, batches, requests, epochs), so that medians and spreads are
taken over every run. Epoch numbers are shifted so that each run's epochs
keep their own numbers in the pooled tables (run k's epoch e becomes e plus
the epochs of the runs before it): (epoch, worker, attempt) still names one
invocation. Replays, which need each run's own sequence of epochs (its cold
starts, its warm pool), use the traces themselves, not the pool.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["SAME_ATTRIBUTES", "pool_traces"]

# What must agree between the pooled runs: the backend, the data and model
# (the dataset manifest), the scenario (its fingerprint), the push protocol
# and whether one function was reconfigured. A missing attribute (older
# traces) is compared as missing.
SAME_ATTRIBUTES = ("backend", "dataset", "scenario_fingerprint", "push_protocol", "single_function")
_TABLES = ("epochs", "invocations", "batches", "requests")
_EPOCH_COLUMN = {"epochs": "epoch", "invocations": "epoch", "batches": "epoch"}


def _canonical(value: Any) -> str:
    """A comparable text for an attribute (numpy scalars and dicts too)."""
    if isinstance(value, np.generic):
        value = value.item()
    return json.dumps(value, sort_keys=True, default=str)


def pool_traces(traces: Sequence[dict]) -> dict:
    """One trace (read_run_trace's layout) holding every row of ``traces``,
    with the first trace's attributes. ValueError when there is no trace,
    or when two traces differ in one of SAME_ATTRIBUTES (naming it and both
    values). One trace is returned as it is."""
    if not traces:
        raise ValueError("no trace to pool: expected at least one")
    if len(traces) == 1:
        return traces[0]
    first = traces[0]["attrs"]
    for index, trace in enumerate(traces[1:], start=1):
        for name in SAME_ATTRIBUTES:
            mine, theirs = _canonical(first.get(name)), _canonical(trace["attrs"].get(name))
            if mine != theirs:
                raise ValueError(f"trace {index + 1} differs from trace 1 in attribute '{name}': {theirs} against "
                                 f"{mine}; calibrate from runs of the same job (same backend, dataset, model, "
                                 "scenario, push protocol and function layout)")
    pooled: dict[str, Any] = {"attrs": dict(first)}
    offsets = np.cumsum([0] + [len(trace["epochs"]["epoch"]) for trace in traces[:-1]])
    for table in _TABLES:
        common = [key for key in traces[0][table] if all(key in trace[table] for trace in traces)]
        columns: dict[str, Any] = {}
        for key in common:
            parts = [trace[table][key] for trace in traces]
            if key == _EPOCH_COLUMN.get(table):
                parts = [np.asarray(part) + offset for part, offset in zip(parts, offsets)]
            if any(isinstance(part, list) for part in parts):
                columns[key] = [value for part in parts for value in list(part)]
            else:
                columns[key] = np.concatenate([np.asarray(part) for part in parts])
        pooled[table] = columns
    return pooled
