"""argparse ``type=`` converters shared by the ``siren`` subcommands.

Each converter raises ``argparse.ArgumentTypeError`` with an "expected ...,
got '<text>'" message, which argparse prints as a usage error (status 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "checked",
    "checked_list",
    "validated",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
]

T = TypeVar("T")

_INF = float("inf")


def checked(convert: Callable[[str], T], valid: Callable[[T], bool],
            unparsable: str, invalid: str) -> Callable[[str], T]:
    """A converter: `convert(text)`, then `valid(value)`. Its errors read
    "expected <unparsable>, got '<text>'" when `convert` raises ValueError and
    "expected <invalid>, got '<text>'" when `valid` is false."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {unparsable}, got {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"expected {invalid}, got {text!r}")
        return value

    return parse


def checked_list(kind: Callable[[str], Any], valid: Callable[[Any], bool],
                 unparsable: str, invalid: str) -> Callable[[str], list]:
    """A converter of comma-separated values: every token through `kind`, then
    every value through `valid` (messages as in `checked`)."""
    return checked(lambda text: [kind(token) for token in text.split(",")],
                   lambda values: bool(values) and all(valid(v) for v in values),
                   unparsable, invalid)


# A seed: any base (0x.., 0o..), in [0, 2^64).
non_negative_int = checked(lambda text: int(text, 0), lambda v: 0 <= v < 2**64,
                           "an integer >= 0", "an integer in [0, 2^64)")
positive_int = checked(int, lambda v: v > 0, "an integer > 0", "an integer > 0")
non_negative_float = checked(float, lambda v: 0 <= v < _INF, "a number >= 0", "a finite number >= 0")
positive_float = checked(float, lambda v: 0 < v < _INF, "a number > 0", "a finite number > 0")


def validated(validate: Callable[[str], str]) -> Callable[[str], str]:
    """A converter from a validator that raises ValueError("field: why"):
    argparse prints the why (the option names the field)."""

    def parse(text: str) -> str:
        try:
            return validate(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).split(": ", 1)[-1]) from None

    return parse
