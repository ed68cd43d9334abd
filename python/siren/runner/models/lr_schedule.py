"""The learning-rate schedules of the simulator's ``sgd`` model
(sim/convergence/sgd/lr_schedule.h), per epoch: the rate of epoch e
(0-based, counting the epochs the job has started) holds for every batch of
that epoch.

- "constant": rate;
- "step": rate x step_factor^floor(e / step_epochs) (He et al., CVPR 2016);
- "cosine": rate x (min_factor + (1 - min_factor) x (1 + cos(pi x min(e,
  cosine_epochs) / cosine_epochs)) / 2) (Loshchilov and Hutter, ICLR 2017,
  without restarts).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

__all__ = ["LrSchedule"]

KINDS = ("constant", "step", "cosine")


@dataclass(frozen=True)
class LrSchedule:
    kind: str = "constant"
    rate: float = 0.1
    step_epochs: int = 10
    step_factor: float = 0.1
    cosine_epochs: int = 30
    min_factor: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"convergence.sgd.lr_schedule: got {self.kind!r}, expected constant, step or cosine")

    def at(self, epoch: int) -> float:
        """The rate of epoch ``epoch`` (>= 0), computed in double as the
        simulator computes it."""
        if self.kind == "constant":
            return self.rate
        if self.kind == "step":
            return self.rate * math.pow(self.step_factor, float(epoch // self.step_epochs))
        t = float(min(epoch, self.cosine_epochs)) / self.cosine_epochs
        return self.rate * (self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * t)))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_scenario(cls, get: Callable[[str], Any], rate: float | None = None) -> "LrSchedule":
        """The schedule of a scenario's ``convergence.sgd.*`` (``get``: its
        getter); ``rate`` replaces convergence.sgd.learning_rate."""
        return cls(kind=str(get("convergence.sgd.lr_schedule")),
                   rate=float(get("convergence.sgd.learning_rate") if rate is None else rate),
                   step_epochs=int(get("convergence.sgd.lr_step_epochs")),
                   step_factor=float(get("convergence.sgd.lr_step_factor")),
                   cosine_epochs=int(get("convergence.sgd.lr_cosine_epochs")),
                   min_factor=float(get("convergence.sgd.lr_min_factor")))
