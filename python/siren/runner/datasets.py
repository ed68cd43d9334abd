"""The runner's training data in S3: a real dataset that a package ships
(scikit-learn's digits) or the seeded click-through generator, or a dataset
file in Siren's HDF5 layout (``siren data mnist`` writes the MNIST subset),
split into training mini-batches (one S3 object each, CSR) and a held-out
tail that the runner keeps to measure the loss.

The manifest also names the worker model (``models.spec_from_scenario``)
and, for images, their height and width: the worker rebuilds its model from
it (``models.from_manifest``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from siren import data as siren_data

from . import models
from .protocol import MANIFEST_KEY, batch_key, encode_batch

__all__ = ["RunnerDataset", "load_dataset", "upload"]

DATASETS = ("digits", "click_through")


@dataclass
class RunnerDataset:
    """A CSR dataset split into training batches and a held-out set."""

    name: str
    features: int
    classes: int
    batches: list[dict[str, np.ndarray]]
    held_out: dict[str, np.ndarray]
    height: int = 0  # Image geometry (0: not images).
    width: int = 0
    model_spec: dict[str, Any] = field(default_factory=lambda: {"name": "softmax"})

    @property
    def model(self) -> models.Model:
        """The worker model this dataset's manifest names."""
        return models.build(self.model_spec, self.features, self.classes, self.height, self.width)

    @property
    def train_rows(self) -> int:
        return sum(len(b["labels"]) for b in self.batches)

    @property
    def nonzeros_per_row(self) -> float:
        return sum(len(b["indices"]) for b in self.batches) / max(1, self.train_rows)

    def manifest(self) -> dict[str, Any]:
        """What the worker reads (sent with every invocation and stored in
        S3): sizes, the image geometry, the model's spec, its parameter count
        and FLOPs per sample (which calibration reads)."""
        model = self.model
        return {"dataset": self.name, "features": self.features, "classes": self.classes,
                "batches": len(self.batches), "train_rows": self.train_rows,
                "held_out_rows": len(self.held_out["labels"]), "height": self.height, "width": self.width,
                "model": model.spec(), "parameters": model.parameter_count,
                "flops_per_sample": model.flops_per_sample(self.nonzeros_per_row)}


def _rows(dataset: dict, start: int, stop: int) -> dict[str, np.ndarray]:
    indptr = np.asarray(dataset["indptr"], dtype=np.int64)
    low, high = indptr[start], indptr[stop]
    return {"indptr": indptr[start:stop + 1] - low, "indices": np.asarray(dataset["indices"][low:high]),
            "values": np.asarray(dataset["values"][low:high], dtype=np.float32),
            "labels": np.asarray(dataset["labels"][start:stop], dtype=np.int32)}


def load_dataset(name: str, batch_size: int, held_out_fraction: float = 0.2, click_through_rows: int = 20000,
                 seed: int = 1, model: dict[str, Any] | None = None, rows: int | None = None) -> RunnerDataset:
    """``name``: "digits", "click_through" or a path to an HDF5 dataset. The
    first ``rows`` rows are used (default: all). The last
    ``held_out_fraction`` of them are held out; the rest is cut into batches
    of ``batch_size`` rows (the last one may be shorter). ``model``: the
    worker model's spec (default softmax); ValueError when the data does
    not fit it (lenet on rows that are not images)."""
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1, got {batch_size}")
    if not 0 < held_out_fraction < 1:
        raise ValueError(f"held_out_fraction: must be in (0, 1), got {held_out_fraction}")
    if name == "digits":
        dataset = siren_data.digits()
    elif name == "click_through":
        dataset = siren_data.click_through(click_through_rows, features=1024, fields=39, seed=seed)
    elif Path(name).suffix in (".h5", ".hdf5") and Path(name).exists():
        dataset = siren_data.load(name)
    else:
        raise ValueError(f"dataset: {name!r} is neither one of {', '.join(DATASETS)} nor an existing .h5 file")
    available = len(dataset["labels"])
    if rows is not None and not 2 <= rows <= available:
        raise ValueError(f"rows: expected 2 to {available} (the rows of {name!r}), got {rows}")
    rows = available if rows is None else rows
    held_out = max(1, int(round(rows * held_out_fraction)))
    train = rows - held_out
    if train < batch_size:
        raise ValueError(f"batch_size: {batch_size} is more than the {train} training rows of {name!r}")
    batches = [_rows(dataset, start, min(start + batch_size, train)) for start in range(0, train, batch_size)]
    out = RunnerDataset(Path(name).stem if name not in DATASETS else name, int(dataset["features"]),
                        int(dataset["classes"]), batches, _rows(dataset, train, rows),
                        int(dataset.get("height", 0)), int(dataset.get("width", 0)), dict(model or {"name": "softmax"}))
    out.model  # Refuses a model the data does not fit, naming it, before anything starts.
    return out


def upload(s3: Any, bucket: str, prefix: str, dataset: RunnerDataset) -> int:
    """Writes the batches and the manifest; returns the number of PUTs."""
    for index, batch in enumerate(dataset.batches):
        s3.put_object(Bucket=bucket, Key=batch_key(prefix, index), Body=encode_batch(batch))
    s3.put_object(Bucket=bucket, Key=f"{prefix}/{MANIFEST_KEY}", Body=json.dumps(dataset.manifest()).encode())
    return len(dataset.batches) + 1
