"""Static schedules for `siren simulate --schedule`.

A schedule is written "FUNCTIONS:MEMORY_MB[,FUNCTIONS:MEMORY_MB...]". A single
pair is a fixed configuration for every epoch; a list gives one pair per epoch,
and its last pair repeats for every epoch after the list ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Schedule", "ScheduleError", "parse_schedule"]

EXPECTED_FORM = "FUNCTIONS:MEMORY_MB"
# The simulator takes both numbers as 32-bit integers.
MAX_VALUE = 2**31 - 1
_PAIR = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


class ScheduleError(ValueError):
    """A schedule string that cannot be parsed; the message names the token."""


@dataclass(frozen=True)
class Schedule:
    """Per-epoch (functions, memory_mb) pairs; the last pair repeats."""

    pairs: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ScheduleError("a schedule needs at least one FUNCTIONS:MEMORY_MB pair")

    @property
    def fixed(self) -> bool:
        """True when every epoch uses the same pair."""
        return len(set(self.pairs)) == 1

    def action(self, epoch: int) -> tuple[int, int]:
        """The (functions, memory_mb) pair for 0-based `epoch`."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        return self.pairs[min(epoch, len(self.pairs) - 1)]

    def __str__(self) -> str:
        return ",".join(f"{n}:{m}" for n, m in self.pairs)


def parse_schedule(text: str) -> Schedule:
    """Parses "n:m,n:m,..." into a Schedule.

    Raises ScheduleError naming the offending token, its 1-based position and
    the expected form when a token is not two positive integers "n:m" (each
    at most MAX_VALUE).
    """
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError(
            f"schedule is empty: expected {EXPECTED_FORM}[,{EXPECTED_FORM}...], e.g. 100:1024"
        )
    tokens = text.split(",")
    pairs: list[tuple[int, int]] = []
    for position, token in enumerate(tokens, start=1):
        where = f"schedule token {position} of {len(tokens)} ({token.strip()!r})"
        match = _PAIR.match(token)
        if match is None:
            raise ScheduleError(
                f"{where} is not of the form {EXPECTED_FORM} "
                f"(two positive integers, e.g. 100:1024)"
            )
        for name, digits in (("FUNCTIONS", match.group(1)), ("MEMORY_MB", match.group(2))):
            # Python refuses int() of more than 4300 digits with a plain ValueError.
            if len(digits.lstrip("0")) > len(str(MAX_VALUE)):
                raise ScheduleError(
                    f"{where}: {name} must be at most {MAX_VALUE} in {EXPECTED_FORM}, got {len(digits)} digits"
                )
        functions, memory_mb = int(match.group(1)), int(match.group(2))
        if functions <= 0:
            raise ScheduleError(f"{where}: FUNCTIONS must be > 0 in {EXPECTED_FORM}, got {functions}")
        if memory_mb <= 0:
            raise ScheduleError(f"{where}: MEMORY_MB must be > 0 in {EXPECTED_FORM}, got {memory_mb}")
        for name, value in (("FUNCTIONS", functions), ("MEMORY_MB", memory_mb)):
            if value > MAX_VALUE:
                raise ScheduleError(f"{where}: {name} must be at most {MAX_VALUE} in {EXPECTED_FORM}, got {value}")
        pairs.append((functions, memory_mb))
    return Schedule(tuple(pairs))
