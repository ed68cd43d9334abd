"""Multinomial logistic regression (softmax) on CSR mini-batches, in numpy:
the worker's model for ``convergence.sgd.model: linear``.

Free of ``siren._core`` so that the Lambda package needs only numpy and
boto3. Parameters are one float32 vector: the weights
``W`` (features x classes, row-major) followed by the biases (classes). Two
classes is logistic regression (the click-through workload); ten is the
digits workload.

A batch is a dict of CSR arrays: ``indptr`` (rows + 1), ``indices``,
``values`` and ``labels`` (int, in [0, classes)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Model

__all__ = ["SoftmaxModel", "parameter_count", "initial_parameters", "loss_and_gradient", "loss", "flops_per_sample"]


def parameter_count(features: int, classes: int) -> int:
    """Length of the parameter vector."""
    return features * classes + classes


def initial_parameters(features: int, classes: int) -> np.ndarray:
    """All zeros: every class equally likely, loss ln(classes)."""
    return np.zeros(parameter_count(features, classes), dtype=np.float32)


def flops_per_sample(nonzeros_per_row: float, classes: int) -> float:
    """Forward and backward floating-point operations per sample: 2 per
    non-zero and class for the logits, as many for the weight gradient, plus
    the softmax (about 5 per class)."""
    return 4.0 * nonzeros_per_row * classes + 5.0 * classes


def _split(params: np.ndarray, features: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    expected = parameter_count(features, classes)
    if params.shape != (expected,):
        raise ValueError(f"params: expected shape ({expected},) for {features} features x "
                         f"{classes} classes, got {params.shape}")
    return params[: features * classes].reshape(features, classes), params[features * classes:]


def _probabilities(batch: dict, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    indptr, indices, values = batch["indptr"], batch["indices"], batch["values"]
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    # logits[r] = sum over the row's non-zeros of value * W[column] + bias.
    logits = np.zeros((len(indptr) - 1, weights.shape[1]), dtype=np.float64)
    np.add.at(logits, rows, values[:, None].astype(np.float64) * weights[indices])
    logits += bias
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return probabilities, rows


def loss(params: np.ndarray, batch: dict, features: int, classes: int) -> float:
    """Mean cross-entropy of the batch."""
    weights, bias = _split(params, features, classes)
    probabilities, _ = _probabilities(batch, weights, bias)
    labels = batch["labels"]
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(picked, 1e-12))))


def loss_and_gradient(params: np.ndarray, batch: dict, features: int,
                      classes: int) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of the batch and its gradient (float32, the
    parameters' shape)."""
    weights, bias = _split(params, features, classes)
    probabilities, rows = _probabilities(batch, weights, bias)
    labels = batch["labels"]
    n = len(labels)
    picked = probabilities[np.arange(n), labels]
    value = float(-np.mean(np.log(np.maximum(picked, 1e-12))))
    # d loss / d logits = (p - onehot(y)) / n.
    delta = probabilities
    delta[np.arange(n), labels] -= 1.0
    delta /= n
    grad_weights = np.zeros(weights.shape, dtype=np.float64)
    np.add.at(grad_weights, batch["indices"], batch["values"][:, None] * delta[rows])
    gradient = np.concatenate([grad_weights.ravel(), delta.sum(axis=0)]).astype(np.float32)
    return value, gradient


class SoftmaxModel(Model):
    """The functions above as a registered model (``models.MODELS``). Unlike
    the simulator's linear net (which appends a bias column and, for two
    classes, keeps one output), the biases are separate and every class has
    its weights; both start from zero, so the initial loss is ln(classes)
    either way."""

    name = "softmax"

    def __init__(self, features: int, classes: int) -> None:
        self.features, self.classes = int(features), int(classes)

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.features, self.classes)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name}

    def initial_parameters(self) -> np.ndarray:
        return initial_parameters(self.features, self.classes)

    def flops_per_sample(self, nonzeros_per_row: float) -> float:
        return flops_per_sample(nonzeros_per_row, self.classes)

    def loss(self, params: np.ndarray, batch: dict) -> float:
        return loss(params, batch, self.features, self.classes)

    def loss_and_gradient(self, params: np.ndarray, batch: dict) -> tuple[float, np.ndarray]:
        return loss_and_gradient(params, batch, self.features, self.classes)
