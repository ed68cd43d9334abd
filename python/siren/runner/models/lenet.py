"""A LeNet-style convolutional net on single-channel images (LeCun et al.
1998; the MXNet LeNet example of the lenet-mnist preset), the worker's
model for ``convergence.sgd.model: lenet``: the simulator's LeNetNet
(sim/convergence/sgd/models/lenet.h) in numpy,

  conv(conv1_channels, kernel x kernel, padding) - ReLU - 2x2 max-pool -
  conv(conv2_channels, kernel x kernel, padding) - ReLU - 2x2 max-pool -
  dense(dense) - ReLU - dense(classes) - softmax,

stride 1 convolutions with ``padding`` zeros per side, on the image rows
(height x width, row-major: NHWC with one channel). Parameters, in order:
conv1, conv2 (weights patch x channels row-major, patch row (ky * kernel +
kx) * in_channels + c, then biases), dense1, dense2 (weights in x out
row-major, then biases); dense1's input is the second pooled map flattened
NHWC. Initialisation, bit for bit the simulator's: He-normal before each
ReLU, Glorot-uniform into the softmax, zero biases; layer l draws from
stream 1001 + l of ``init_seed``. The shape comes from
``convergence.sgd.lenet.*``.

Convolutions are im2col (``sliding_window_view``) and one matrix product;
pooling and col2im are array operations over the whole batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Model
from .init import glorot_uniform, he_normal
from .layers import (conv_backward, conv_forward, dense_rows, layer_offsets, pool_backward, pool_forward,
                     softmax_cross_entropy)

__all__ = ["LeNetModel"]


class LeNetModel(Model):
    name = "lenet"

    def __init__(self, features: int, classes: int, height: int, width: int, conv1_channels: int = 20,
                 conv2_channels: int = 50, kernel: int = 5, padding: int = 0, dense: int = 500,
                 init_seed: int = 1) -> None:
        self.features, self.classes = int(features), int(classes)
        self.height, self.width = int(height), int(width)
        self.c1, self.c2 = int(conv1_channels), int(conv2_channels)
        self.kernel, self.padding, self.dense = int(kernel), int(padding), int(dense)
        self.init_seed = int(init_seed)
        if self.height < 1 or self.width < 1 or self.height * self.width != self.features:
            raise ValueError(f"lenet: expected images (height x width = features), got height={height}, "
                             f"width={width}, features={features} (a dataset written by `siren data digits` or "
                             "`siren data mnist`)")
        if min(self.c1, self.c2, self.kernel, self.dense) < 1 or self.padding < 0 or self.classes < 2:
            raise ValueError("lenet: sizes must be positive, padding >= 0 and classes >= 2")
        if 2 * self.padding > self.kernel - 1:
            raise ValueError(f"lenet: padding {self.padding} exceeds (kernel - 1) / 2 for kernel {self.kernel}")
        grow = 2 * self.padding - self.kernel + 1
        h1, w1 = self.height + grow, self.width + grow
        h2, w2 = h1 // 2 + grow, w1 // 2 + grow
        if min(h1, w1, h2, w2) < 2:
            raise ValueError(f"lenet: kernel {self.kernel} with padding {self.padding} shrinks a {self.height} x "
                             f"{self.width} image below a poolable map")
        self.flat = (h2 // 2) * (w2 // 2) * self.c2
        self._maps = (h1 * w1, h2 * w2)
        # (in, out) of each layer as a dense layer: conv1, conv2, dense1, dense2.
        self.layers = [(self.kernel ** 2, self.c1), (self.kernel ** 2 * self.c1, self.c2), (self.flat, self.dense),
                       (self.dense, self.classes)]
        self.offsets, self._count = layer_offsets(self.layers)

    @property
    def parameter_count(self) -> int:
        return self._count

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, "conv1_channels": self.c1, "conv2_channels": self.c2, "kernel": self.kernel,
                "padding": self.padding, "dense": self.dense, "init_seed": self.init_seed}

    def initial_parameters(self) -> np.ndarray:
        params = np.zeros(self._count, dtype=np.float32)
        for l, ((n_in, n_out), at) in enumerate(zip(self.layers, self.offsets)):
            count = n_in * n_out
            if l < 3:
                params[at:at + count] = he_normal(self.init_seed, 1001 + l, n_in, count)
            else:
                params[at:at + count] = glorot_uniform(self.init_seed, 1001 + l, n_in, n_out, count)
        return params

    def flops_per_sample(self, nonzeros_per_row: float) -> float:
        """Multiply-adds: each convolution's per output pixel, each dense
        layer's per weight; 2 flops each forward, 4 backward (the first
        convolution's input gradient is not computed: 2), plus the softmax."""
        (p1, c1), (p2, c2), (f, d), (d2, k) = self.layers
        m1, m2 = self._maps
        return 4.0 * m1 * p1 * c1 + 6.0 * (m2 * p2 * c2 + f * d + d2 * k) + 5.0 * k

    def _weights(self, params: np.ndarray, l: int) -> tuple[np.ndarray, np.ndarray]:
        n_in, n_out = self.layers[l]
        at = self.offsets[l]
        return params[at:at + n_in * n_out].reshape(n_in, n_out), params[at + n_in * n_out:at + n_in * n_out + n_out]

    def _forward(self, params: np.ndarray, batch: dict) -> dict[str, Any]:
        s: dict[str, Any] = {}
        x = dense_rows(batch, self.features).reshape(-1, self.height, self.width, 1)
        s["x_shape"] = x.shape
        y1, s["cols1"] = conv_forward(x, *self._weights(params, 0), self.kernel, self.padding)
        np.maximum(y1, 0.0, out=y1)
        s["y1"] = y1
        p1, s["where1"] = pool_forward(y1)
        s["p1"] = p1
        y2, s["cols2"] = conv_forward(p1, *self._weights(params, 1), self.kernel, self.padding)
        np.maximum(y2, 0.0, out=y2)
        s["y2"] = y2
        p2, s["where2"] = pool_forward(y2)
        flat = p2.reshape(len(p2), self.flat)
        s["flat"] = flat
        w3, b3 = self._weights(params, 2)
        h = flat @ w3
        h += b3
        np.maximum(h, 0.0, out=h)
        s["h"] = h
        w4, b4 = self._weights(params, 3)
        logits = h @ w4
        logits += b4
        s["logits"] = logits
        return s

    def summed_loss(self, params: np.ndarray, batch: dict) -> float:
        s = self._forward(params, batch)
        return softmax_cross_entropy(s["logits"], np.asarray(batch["labels"]), gradient=False)[0]

    def _store(self, gradient: np.ndarray, l: int, d_weights: np.ndarray, d_bias: np.ndarray) -> None:
        n_in, n_out = self.layers[l]
        at = self.offsets[l]
        gradient[at:at + n_in * n_out] = d_weights.ravel()
        gradient[at + n_in * n_out:at + n_in * n_out + n_out] = d_bias

    def summed_loss_and_gradient(self, params: np.ndarray, batch: dict) -> tuple[float, np.ndarray]:
        s = self._forward(params, batch)
        total, dlogits = softmax_cross_entropy(s["logits"], np.asarray(batch["labels"]), gradient=True)
        gradient = np.zeros(self._count, dtype=np.float32)
        w4, _ = self._weights(params, 3)
        self._store(gradient, 3, s["h"].T @ dlogits, dlogits.sum(axis=0))
        dh = dlogits @ w4.T
        dh *= s["h"] > 0
        w3, _ = self._weights(params, 2)
        self._store(gradient, 2, s["flat"].T @ dh, dh.sum(axis=0))
        dp2 = (dh @ w3.T).reshape(s["y2"].shape[0], s["y2"].shape[1] // 2, s["y2"].shape[2] // 2, self.c2)
        dy2 = pool_backward(dp2, s["where2"], s["y2"].shape)
        dy2 *= s["y2"] > 0
        w2, _ = self._weights(params, 1)
        dw2, db2, dp1 = conv_backward(dy2, s["cols2"], w2, s["p1"].shape, self.kernel, self.padding, need_dx=True)
        self._store(gradient, 1, dw2, db2)
        dy1 = pool_backward(dp1, s["where1"], s["y1"].shape)
        dy1 *= s["y1"] > 0
        dw1, db1, _ = conv_backward(dy1, s["cols1"], self._weights(params, 0)[0], s["x_shape"], self.kernel,
                                    self.padding, need_dx=False)
        self._store(gradient, 0, dw1, db1)
        return total, gradient
