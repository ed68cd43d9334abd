"""The interface every worker model implements (one file per model in this
package, registered in ``__init__.py``).

Contract:
- parameters are one flat float32 vector of ``parameter_count`` entries in
  the model's documented layout (the same as the simulator's network of
  the same name, where one exists);
- ``initial_parameters()`` is a function of the model's spec alone (its
  ``init_seed``), the same on every machine;
- a batch is the runner's CSR mini-batch (``indptr``, ``indices``,
  ``values``, ``labels``); ``loss`` and ``loss_and_gradient`` return the
  mean cross-entropy over its rows (nats) and the gradient of that mean
  (float32), so that the push's step ``-learning_rate * gradient`` is the
  simulator's step along the mean batch gradient;
- ``spec()`` is what the runner writes into the dataset manifest and the
  worker rebuilds the model from (``models.from_manifest``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Model", "chunks"]

# Rows a deep model evaluates at once (bounds its im2col scratch), as the
# simulator's nets evaluate the held-out rows (kEvalChunk).
EVAL_CHUNK = 256


def chunks(batch: dict, size: int = EVAL_CHUNK):
    """The CSR ``batch`` as consecutive CSR batches of at most ``size`` rows."""
    indptr = np.asarray(batch["indptr"])
    rows = len(indptr) - 1
    for start in range(0, rows, size):
        stop = min(rows, start + size)
        low, high = indptr[start], indptr[stop]
        yield {"indptr": indptr[start:stop + 1] - low, "indices": batch["indices"][low:high],
               "values": batch["values"][low:high], "labels": batch["labels"][start:stop]}


class Model:
    """Base of the worker models; see the module docstring."""

    name = ""

    @property
    def parameter_count(self) -> int:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        raise NotImplementedError

    def initial_parameters(self) -> np.ndarray:
        raise NotImplementedError

    def flops_per_sample(self, nonzeros_per_row: float) -> float:
        """Forward and backward floating-point operations per sample."""
        raise NotImplementedError

    def summed_loss(self, params: np.ndarray, batch: dict) -> float:
        """The cross-entropy summed over the batch's rows."""
        raise NotImplementedError

    def summed_loss_and_gradient(self, params: np.ndarray, batch: dict) -> tuple[float, np.ndarray]:
        """The summed cross-entropy and its gradient (float32)."""
        raise NotImplementedError

    def check(self, params: np.ndarray) -> None:
        if params.shape != (self.parameter_count,):
            raise ValueError(f"params: expected shape ({self.parameter_count},) for the {self.name} model "
                             f"{self.spec()}, got {params.shape}")

    def loss(self, params: np.ndarray, batch: dict) -> float:
        """Mean cross-entropy of the batch (evaluated in chunks of rows)."""
        self.check(params)
        rows = len(batch["labels"])
        return sum(self.summed_loss(params, part) for part in chunks(batch)) / rows

    def loss_and_gradient(self, params: np.ndarray, batch: dict) -> tuple[float, np.ndarray]:
        """Mean cross-entropy of the batch and its gradient (float32)."""
        self.check(params)
        rows = len(batch["labels"])
        total, gradient = self.summed_loss_and_gradient(params, batch)
        gradient *= np.float32(1.0 / rows)
        return total / rows, gradient
