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


# A negative count of SRANDMEMBER, HRANDFIELD or ZRANDMEMBER asks for that many picks with
# repeats. Redis builds any such reply (at -LONG_MAX it runs out of memory and dies); kvstore
# refuses more than this many, a reply of a few hundred MB.
MAX_REPEATED_PICKS = 1 << 24


def repeated_picks(count: int) -> int:
    """The number of picks a negative count asks for, within MAX_REPEATED_PICKS."""
    if count < -MAX_REPEATED_PICKS:
        raise CommandError("ERR value is out of range, at most "
                           f"{MAX_REPEATED_PICKS} random picks with repeats")
    return -count
