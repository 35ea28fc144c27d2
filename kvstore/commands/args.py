"""Argument parsing shared by handlers, raising Redis's error texts."""

from __future__ import annotations

from ..errors import NOT_FLOAT, NOT_INTEGER, CommandError
from ..numbers import parse_float, parse_int


def to_int(arg: bytes, message: str = NOT_INTEGER) -> int:
    """A signed 64-bit integer as Redis's string2ll accepts it."""
    try:
        return parse_int(arg)
    except ValueError:
        raise CommandError(message) from None


def to_float(arg: bytes, message: str = NOT_FLOAT) -> float:
    """A double as Redis accepts it (inf allowed, NaN refused)."""
    try:
        return parse_float(arg)
    except ValueError:
        raise CommandError(message) from None


def to_index(arg: bytes) -> int:
    return to_int(arg)
