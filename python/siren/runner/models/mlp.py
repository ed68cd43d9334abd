"""A multilayer perceptron: dense layers with ReLU between them and a
softmax output, on dense rows (the CSR batch densified): the worker's model
for ``convergence.sgd.model: mlp``, the simulator's MlpNet
(sim/convergence/sgd/models/mlp.h) in numpy.

Parameters: the layers in order, each its weights (``in`` x ``out``
row-major) then its biases. Initialisation, bit for bit the simulator's:
He-normal hidden weights, Glorot-uniform output weights, zero biases;
layer l draws from stream 1001 + l of ``init_seed``
(``convergence.sgd.init_seed``). Hidden widths: ``convergence.sgd.mlp.hidden1``
and, unless 0, ``.hidden2``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Model
from .init import glorot_uniform, he_normal
from .layers import dense_rows, layer_offsets, softmax_cross_entropy

__all__ = ["MlpModel"]


class MlpModel(Model):
    name = "mlp"

    def __init__(self, features: int, classes: int, hidden: list[int], init_seed: int = 1) -> None:
        if features < 1 or classes < 2 or not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"mlp: expected features >= 1, classes >= 2 and hidden widths >= 1, got features="
                             f"{features}, classes={classes}, hidden={hidden}")
        self.features, self.classes = int(features), int(classes)
        self.hidden = [int(h) for h in hidden]
        self.init_seed = int(init_seed)
        widths = [self.features, *self.hidden, self.classes]
        self.layers = list(zip(widths[:-1], widths[1:]))
        self.offsets, self._count = layer_offsets(self.layers)

    @property
    def parameter_count(self) -> int:
        return self._count

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "hidden": list(self.hidden), "init_seed": self.init_seed}

    def initial_parameters(self) -> np.ndarray:
        params = np.zeros(self._count, dtype=np.float32)
        for l, ((n_in, n_out), at) in enumerate(zip(self.layers, self.offsets)):
            count = n_in * n_out
            if l + 1 < len(self.layers):
                params[at:at + count] = he_normal(self.init_seed, 1001 + l, n_in, count)
            else:
                params[at:at + count] = glorot_uniform(self.init_seed, 1001 + l, n_in, n_out, count)
        return params

    def flops_per_sample(self, nonzeros_per_row: float) -> float:
        """2 per weight forward, 4 backward, plus the softmax (about 5 per
        class)."""
        return 6.0 * sum(n_in * n_out for n_in, n_out in self.layers) + 5.0 * self.classes

    def _weights(self, params: np.ndarray, l: int) -> tuple[np.ndarray, np.ndarray]:
        n_in, n_out = self.layers[l]
        at = self.offsets[l]
        return params[at:at + n_in * n_out].reshape(n_in, n_out), params[at + n_in * n_out:at + n_in * n_out + n_out]

    def _forward(self, params: np.ndarray, batch: dict) -> list[np.ndarray]:
        """The input rows, then each layer's output (after its ReLU for a
        hidden layer; the logits for the last)."""
        acts = [dense_rows(batch, self.features)]
        for l in range(len(self.layers)):
            w, b = self._weights(params, l)
            z = acts[-1] @ w
            z += b
            if l + 1 < len(self.layers):
                np.maximum(z, 0.0, out=z)
            acts.append(z)
        return acts

    def summed_loss(self, params: np.ndarray, batch: dict) -> float:
        acts = self._forward(params, batch)
        return softmax_cross_entropy(acts[-1], np.asarray(batch["labels"]), gradient=False)[0]

    def summed_loss_and_gradient(self, params: np.ndarray, batch: dict) -> tuple[float, np.ndarray]:
        acts = self._forward(params, batch)
        total, delta = softmax_cross_entropy(acts[-1], np.asarray(batch["labels"]), gradient=True)
        gradient = np.zeros(self._count, dtype=np.float32)
        for l in range(len(self.layers) - 1, -1, -1):
            n_in, n_out = self.layers[l]
            at = self.offsets[l]
            w, _ = self._weights(params, l)
            gradient[at:at + n_in * n_out] = (acts[l].T @ delta).ravel()
            gradient[at + n_in * n_out:at + n_in * n_out + n_out] = delta.sum(axis=0)
            if l > 0:
                delta = delta @ w.T
                delta *= acts[l] > 0  # ReLU: 0 where the input was <= 0.
        return total, gradient
