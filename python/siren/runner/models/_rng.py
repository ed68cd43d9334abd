"""The simulator's seeded generator (sim/core/rng.h) in pure Python, so that
the worker models draw their initial weights exactly as the C++ ``sgd``
networks do: xoshiro256++ (Blackman and Vigna) seeded through SplitMix64
from (seed, stream), uniforms with 53 random bits, normals by Marsaglia's
polar method (the second value of a pair cached).

Every step is integer arithmetic modulo 2^64 or IEEE double arithmetic that
Python performs exactly as C++ does (the same operations in the same order;
``math.log`` and ``math.sqrt`` are the C library's, as ``std::log`` and
``std::sqrt``), so the draws are the same bits. Pure Python: about 1 us a
uniform, fast enough for the initial weights of a job (the runner draws them
once).
"""

from __future__ import annotations

import math

__all__ = ["Rng"]

_MASK = (1 << 64) - 1


def _mix(z: int) -> int:
    """SplitMix64's output function (MixBits in rng.h)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Rng:
    """One stream (seed, stream), as ``siren::sim::Rng(seed, stream)``."""

    def __init__(self, seed: int, stream: int) -> None:
        if not 0 <= seed <= _MASK or not 0 <= stream <= _MASK:
            raise ValueError(f"seed and stream: expected integers in [0, 2^64), got {seed} and {stream}")
        stream_state = (stream * 0xD1B54A32D192ED03 + 0x8CB92BA72F3D8DD7) & _MASK
        stream_state = (stream_state + 0x9E3779B97F4A7C15) & _MASK
        state = seed ^ _mix(stream_state)
        words = []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & _MASK
            words.append(_mix(state))
        self._s = words
        self._cached: float | None = None

    def next_u64(self) -> int:
        """64 uniformly random bits."""
        s0, s1, s2, s3 = self._s
        total = (s0 + s3) & _MASK
        result = ((((total << 23) | (total >> 41)) & _MASK) + s0) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & _MASK
        self._s = [s0, s1, s2, s3]
        return result

    def uniform(self) -> float:
        """Uniform in [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * 2.0 ** -53

    def normal(self) -> float:
        """Standard normal (Marsaglia's polar method, second value cached)."""
        if self._cached is not None:
            value, self._cached = self._cached, None
            return value
        while True:
            u = 2.0 * self.uniform() - 1.0
            v = 2.0 * self.uniform() - 1.0
            s = u * u + v * v
            if 0.0 < s < 1.0:
                break
        factor = math.sqrt(-2.0 * math.log(s) / s)
        self._cached = v * factor
        return u * factor
