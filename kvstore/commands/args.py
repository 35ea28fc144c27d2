"""Argument parsing shared by handlers, raising Redis's error texts."""

from __future__ import annotations

from ..errors import NOT_INTEGER, CommandError
from ..numbers import parse_int


def to_int(arg: bytes, message: str = NOT_INTEGER) -> int:
    """A signed 64-bit integer as Redis's string2ll accepts it."""
    try:
        return parse_int(arg)
    except ValueError:
        raise CommandError(message) from None
