"""Reply values, shared by the command handlers (which return them) and the encoder (which turns
them into RESP2 or RESP3 bytes).

Handlers return plain Python values wherever RESP has one obvious form, so the hot path allocates
nothing special:

    bytes -> bulk string          int   -> integer            None -> null bulk (RESP3 null)
    list  -> array                dict  -> map (RESP2: flat array of key, value, ...)
    float -> double (RESP2: bulk string formatted as Redis formats doubles)

The wrapper types below cover the cases where RESP2 and RESP3 differ or where Redis picks a
specific frame. This module imports nothing from the package: every layer may use it.
"""

from __future__ import annotations


class Status(str):
    """A simple string (`+OK`). Constants below are shared, never rebuilt per reply."""

    __slots__ = ()


OK = Status("OK")
QUEUED = Status("QUEUED")
PONG = Status("PONG")


class NullArray:
    """RESP2 `*-1` (e.g. BLPOP timeout, aborted EXEC); RESP3 `_`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL_ARRAY"


NULL_ARRAY = NullArray()


class SetReply(list):
    """A RESP3 set (`~`), sent as an array in RESP2 (SMEMBERS, SINTER, ...)."""

    __slots__ = ()


class ScorePairs(list):
    """[(member, score), ...] from a sorted-set command WITHSCORES.

    RESP2: a flat array member, score-as-bulk, ...; RESP3: an array of [member, double] pairs.
    """

    __slots__ = ()


class HumanDouble(float):
    """A double as addReplyHumanLongDouble sends it (GEOPOS and WITHCOORD coordinates): `%.17Lf`
    without trailing zeros (numbers.format_long_double), as a bulk string in RESP2 and a double
    (`,`) in RESP3, where a plain float uses `%.17g`."""

    __slots__ = ()


class Verbatim(bytes):
    """A verbatim string (`=`, format `txt`) in RESP3 such as INFO; a bulk string in RESP2."""

    __slots__ = ()
    fmt = b"txt"


def text_reply(resp: int, text: str) -> bytes:
    """A text reply (INFO, LATENCY DOCTOR, MEMORY DOCTOR): verbatim in RESP3, a bulk string in
    RESP2 (for a script too). The text may carry a client's bytes that are not UTF-8 (an error
    code in errorstats, decoded with surrogateescape): they go back as they came."""
    data = text.encode("utf-8", "surrogateescape")
    return Verbatim(data) if resp == 3 else data


class FormattedVerbatim(Verbatim):
    """A verbatim string of another format (a script's `{verbatim_string=...}`): `fmt`, its
    three bytes as Redis's addReplyVerbatim writes them (cut, or padded with spaces)."""

    def __new__(cls, data: bytes, fmt: bytes) -> "FormattedVerbatim":
        self = super().__new__(cls, data)
        self.fmt = (fmt[:3] + b"   ")[:3]
        return self


class BigNumber(bytes):
    """A RESP3 big number (`(`), the digits as given; a bulk string in RESP2."""

    __slots__ = ()


class Push(list):
    """An out-of-band push (`>`) in RESP3, e.g. a pub/sub message; an array in RESP2."""

    __slots__ = ()


class Attribute(dict):
    """A RESP3 attribute (`|`): a map describing the reply that follows it (DEBUG PROTOCOL
    attrib sends one inside `Frames`). RESP2 has none: it is left out there."""

    __slots__ = ()


class Encoded(bytes):
    """Bytes already in wire form, sent as they are (inside `Frames`: EXEC's array header and
    the pushes its commands sent to their own client, placed among their replies)."""

    __slots__ = ()


class Frames(list):
    """Several top-level replies from one command, sent one after the other (SUBSCRIBE a b
    replies one subscribe push per channel). Nested in an array only as one of its elements
    with pushes around it (`Encoded`: EXEC's, a pop's own notifications)."""

    __slots__ = ()


class Bool:
    """A RESP3 boolean (`#t` / `#f`); RESP2 sends it as integer 1 / 0."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bool) and other.value == self.value

    def __repr__(self) -> str:
        return f"Bool({self.value})"


class Error:
    """An error reply value, for places where an error is an element of a reply (EXEC results).

    A handler that fails raises `kvstore.errors.CommandError`; the dispatcher converts it.
    `message` is the full text after the `-`, e.g. "ERR syntax error".
    """

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Error) and other.message == self.message

    def __repr__(self) -> str:
        return f"Error({self.message!r})"
