"""The building blocks the worker's deep models share, in float32 numpy on
row-major batches (one row per sample), mirroring the C++ ``sgd`` networks'
layers (sim/convergence/sgd/models/dense_layers.h, conv_layers.h) and their
parameter layouts:

- a dense layer from ``in`` to ``out`` features: weights ``in`` x ``out``
  row-major, then ``out`` biases;
- a k x k convolution (stride 1, ``padding`` zeros per side) on NHWC maps:
  weights ``k*k*in_channels`` x ``out_channels`` row-major, patch row
  ``(ky * k + kx) * in_channels + c``, then the biases; im2col through
  ``numpy.lib.stride_tricks.sliding_window_view`` and one matrix product;
- 2 x 2 max-pooling, stride 2 (odd trailing rows or columns dropped), the
  gradient routed to the first maximum of each window in row-major order;
- the softmax cross-entropy, summed over rows in float64 as the C++ nets sum
  it, its gradient softmax - onehot in float32.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["conv_backward", "conv_forward", "dense_rows", "pool_backward", "pool_forward", "softmax_cross_entropy"]


def layer_offsets(layers: list[tuple[int, int]]) -> tuple[list[int], int]:
    """Where each (inputs, outputs) layer's weights, then biases, start in
    the flat parameter vector (the C++ networks' layout), and the total
    parameter count."""
    offsets, total = [], 0
    for n_in, n_out in layers:
        offsets.append(total)
        total += n_in * n_out + n_out
    return offsets, total


def dense_rows(batch: dict, features: int) -> np.ndarray:
    """The CSR batch (``indptr``, ``indices``, ``values``) as a float32
    rows x features matrix."""
    indptr = np.asarray(batch["indptr"])
    rows = len(indptr) - 1
    out = np.zeros((rows, features), dtype=np.float32)
    out[np.repeat(np.arange(rows), np.diff(indptr)), np.asarray(batch["indices"])] = batch["values"]
    return out


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray,
                          gradient: bool) -> tuple[float, np.ndarray | None]:
    """(summed cross-entropy in nats, d sum / d logits or None)."""
    top = logits.max(axis=1, keepdims=True)
    shifted = np.exp((logits - top).astype(np.float64))
    sums = shifted.sum(axis=1)
    rows = np.arange(len(labels))
    total = float(np.sum(np.log(sums) + top[:, 0].astype(np.float64) - logits[rows, labels].astype(np.float64)))
    if not gradient:
        return total, None
    d = np.exp(logits - top) / sums.astype(np.float32)[:, None]
    d[rows, labels] -= 1.0
    return total, d.astype(np.float32, copy=False)


def _patches(x: np.ndarray, kernel: int, padding: int) -> np.ndarray:
    """im2col of NHWC ``x``: (images * out_h * out_w) x (kernel * kernel * C),
    patch columns ordered (ky, kx, c)."""
    if padding:
        x = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    windows = sliding_window_view(x, (kernel, kernel), axis=(1, 2))  # N, OH, OW, C, ky, kx
    n, oh, ow, c = windows.shape[:4]
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3)).reshape(n * oh * ow, kernel * kernel * c)


def conv_forward(x: np.ndarray, weights: np.ndarray, bias: np.ndarray, kernel: int,
                 padding: int) -> tuple[np.ndarray, np.ndarray]:
    """(y NHWC, the patches for conv_backward)."""
    n, h, w, _ = x.shape
    oh, ow = h + 2 * padding - kernel + 1, w + 2 * padding - kernel + 1
    cols = _patches(x, kernel, padding)
    y = cols @ weights
    y += bias
    return y.reshape(n, oh, ow, weights.shape[1]), cols


def conv_backward(dy: np.ndarray, cols: np.ndarray, weights: np.ndarray, input_shape: tuple[int, ...], kernel: int,
                  padding: int, need_dx: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(dW, db, dx or None) of conv_forward, given dy (NHWC)."""
    n, oh, ow, out_c = dy.shape
    flat = dy.reshape(n * oh * ow, out_c)
    d_weights = cols.T @ flat
    d_bias = flat.sum(axis=0)
    if not need_dx:
        return d_weights, d_bias, None
    _, h, w, c = input_shape
    dcols = (flat @ weights.T).reshape(n, oh, ow, kernel, kernel, c)
    dxp = np.zeros((n, h + 2 * padding, w + 2 * padding, c), dtype=np.float32)
    for ky in range(kernel):  # col2im: k*k slab additions, each over the whole batch.
        for kx in range(kernel):
            dxp[:, ky:ky + oh, kx:kx + ow, :] += dcols[:, :, :, ky, kx, :]
    return d_weights, d_bias, dxp[:, padding:padding + h, padding:padding + w, :]


def pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2 x 2 max-pool of NHWC ``x``, each output's window position 0..3)."""
    n, h, w, c = x.shape
    ph, pw = h // 2, w // 2
    windows = x[:, :2 * ph, :2 * pw, :].reshape(n, ph, 2, pw, 2, c).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(n, ph, pw, c, 4)
    where = windows.argmax(axis=4)  # The first maximum, row-major in the window.
    return np.take_along_axis(windows, where[..., None], axis=4)[..., 0], where


def pool_backward(dy: np.ndarray, where: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """dx of pool_forward: dy routed to each window's maximum, 0 elsewhere."""
    n, h, w, c = input_shape
    ph, pw = dy.shape[1], dy.shape[2]
    windows = np.zeros((n, ph, pw, c, 4), dtype=np.float32)
    np.put_along_axis(windows, where[..., None], dy[..., None], axis=4)
    dx = np.zeros(input_shape, dtype=np.float32)
    dx[:, :2 * ph, :2 * pw, :] = windows.reshape(n, ph, pw, c, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(
        n, 2 * ph, 2 * pw, c)
    return dx
