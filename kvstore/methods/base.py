"""Shared pieces of the redis-py-shaped method layer.

Every method builds the argv of one command and names a `callback` that shapes the reply the way
redis-py (8.x, RESP2 "legacy" responses) does; the transport's `execute_command(*args,
callback=...)` runs it: the embedded store directly, the TCP clients over a socket, pipelines
later. The replies a callback sees are RESP2 values as hiredis parses them: bytes for bulk and
simple strings, int, None, lists; errors are raised before the callback runs.
"""

from __future__ import annotations

from typing import Any

from ..errors import DataError


def bool_ok(reply: Any) -> bool:
    """+OK -> True (SET, MSET, RENAME, ...)."""
    return reply == b"OK" or reply == "OK"


def ok_or_none(reply: Any) -> bool | None:
    return True if bool_ok(reply) else None


def to_bool(reply: Any) -> bool:
    return bool(reply)


def float_or_none(reply: Any) -> float | None:
    return None if reply is None else float(reply)


def pairs_to_dict(reply: Any) -> dict:
    """[k1, v1, k2, v2] -> {k1: v1, k2: v2} (HGETALL, CONFIG GET, ...)."""
    it = iter(reply)
    return dict(zip(it, it))


def score_pairs(reply: Any) -> list[tuple[Any, float]]:
    """[m1, s1, m2, s2] -> [(m1, float(s1)), ...] (ZRANGE ... WITHSCORES)."""
    it = iter(reply)
    return [(member, float(score)) for member, score in zip(it, it)]


def list_or_args(keys: Any, args: tuple) -> list:
    """redis-py's convention: f(["a", "b"]) and f("a", "b") mean the same."""
    if isinstance(keys, (bytes, str, int, float, memoryview)):
        keys = [keys]
    else:
        try:
            keys = list(keys)
        except TypeError:
            keys = [keys]
    if args:
        keys.extend(args)
    return keys


def check_value(value: Any) -> None:
    if value is None or isinstance(value, bool):
        raise DataError(
            f"Invalid input of type: '{type(value).__name__}'. "
            "Convert to a bytes, string, int or float first."
        )
