"""Training data shared by the simulator's ``sgd`` convergence model and the
runner: a real dataset that a package ships (scikit-learn's handwritten
digits) and the seeded click-through generator, both in Siren's HDF5 layout
(``sim/data/dataset.h``: CSR ``indptr``/``indices``/``values``, ``labels``, and
``features``/``classes`` attributes), written and read by the same C++ code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siren import _core

__all__ = ["click_through", "digits", "load", "save"]


def click_through(rows: int, features: int = 4096, fields: int = 39, seed: int = 1) -> dict:
    """The seeded click-through generator: ``fields`` one-hot features per row
    hashed into ``features`` columns, labels from a hidden logistic model."""
    return _core.generate_click_through(rows, features, fields, seed)


def digits() -> dict:
    """scikit-learn's 8x8 handwritten digits (1,797 rows, 64 features scaled
    to [0, 1], 10 classes) as a CSR dataset, rows shuffled with a fixed seed
    so the held-out tail covers every class."""
    from sklearn.datasets import load_digits  # Imported here: optional dependency.

    data = load_digits()
    order = np.random.default_rng(0).permutation(len(data.target))
    dense = (data.data[order] / 16.0).astype(np.float32)
    rows, columns = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return {
        "indptr": np.cumsum(indptr),
        "indices": columns.astype(np.int32),
        "values": dense[rows, columns],
        "labels": data.target[order].astype(np.int32),
        "features": dense.shape[1],
        "classes": 10,
    }


def save(dataset: dict, path: str | Path) -> None:
    """Validates ``dataset`` and writes it in Siren's HDF5 layout."""
    _core.save_dataset(
        str(path),
        dataset["indptr"],
        dataset["indices"],
        dataset["values"],
        dataset["labels"],
        int(dataset["features"]),
        int(dataset["classes"]),
    )


def load(path: str | Path) -> dict:
    """Reads and validates a dataset written by :func:`save` (or by C++)."""
    return _core.load_dataset(str(path))
