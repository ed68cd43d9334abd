"""Seeded weight initialisation, the same bits as the C++ ``sgd`` networks
(sim/convergence/sgd/models/init.cc): each layer draws from its own stream
(seed, stream) of the simulator's generator (``_rng.Rng``), in order, in
double, and rounds each draw to float32 (``static_cast<float>``: round to
nearest).
"""

from __future__ import annotations

import math

import numpy as np

from ._rng import Rng

__all__ = ["glorot_uniform", "he_normal"]


def he_normal(seed: int, stream: int, fan_in: int, count: int) -> np.ndarray:
    """He (Kaiming) normal, for weights followed by a ReLU (He et al., ICCV
    2015): ``count`` draws of N(0, 2 / fan_in), float32."""
    rng = Rng(seed, stream)
    sd = math.sqrt(2.0 / float(fan_in))
    normal = rng.normal
    return np.fromiter((sd * normal() for _ in range(count)), dtype=np.float64, count=count).astype(np.float32)


def glorot_uniform(seed: int, stream: int, fan_in: int, fan_out: int, count: int) -> np.ndarray:
    """Glorot (Xavier) uniform, for the weights into the softmax (Glorot and
    Bengio, AISTATS 2010): ``count`` draws of U(-a, a), a = sqrt(6 /
    (fan_in + fan_out)), float32."""
    rng = Rng(seed, stream)
    a = math.sqrt(6.0 / float(fan_in + fan_out))
    uniform = rng.uniform
    return np.fromiter((a * (2.0 * uniform() - 1.0) for _ in range(count)), dtype=np.float64,
                       count=count).astype(np.float32)
