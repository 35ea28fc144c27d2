"""Shared pieces of the redis-py-shaped method layer.

Every method builds the argv of one command and names a `callback` that shapes the reply the way
redis-py (8.x, RESP2 "legacy" responses) does; the transport's `execute_command(*args,
callback=...)` runs it: the embedded store directly, the TCP clients over a socket, pipelines
later. The replies a callback sees are RESP2 values as hiredis parses them: bytes for bulk and
simple strings, int, None, lists; errors are raised before the callback runs.

So a method must return execute_command's result untouched, with all shaping in the callback:
on AsyncClient that result is a coroutine, on a pipeline the pipeline itself. A reply known
without asking the server goes through `_local_reply(value)` instead (mget([]) -> []), which each
transport returns its own way. What needs a reply at once (the dunders, the scan iterators,
shutdown's success by disconnection) is redone for asyncio in clients/amethods.py and
clients/aclient.py; tests/clients/test_async_api.py checks every method against this rule.

Signatures are typed with the aliases of `types`, returning what the sync form returns (the
embedded store, `clients.Client`); where an argument decides the reply's shape (count,
withscores, no_values), overloads tell a type checker which. `AsyncClient` and the pipelines
return coroutines or themselves: their types are stubs generated from these signatures
(`python -m clients._stubgen`). tests/clients/test_typing_runtime.py checks every annotation
against real replies.
"""

from __future__ import annotations

import datetime
from typing import Any

_ZERO = datetime.timedelta(0)
_ONE_MS = datetime.timedelta(milliseconds=1)
_UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def bool_ok(reply: Any) -> bool:
    """+OK -> True (SET, MSET, RENAME, ...)."""
    return reply == b"OK" or reply == "OK"


def to_bool(reply: Any) -> bool:
    return bool(reply)


def float_or_none(reply: Any) -> float | None:
    return None if reply is None else float(reply)


def pairs_to_dict(reply: Any) -> dict:
    """[k1, v1, k2, v2] -> {k1: v1, k2: v2} (HGETALL, CONFIG GET, ...)."""
    it = iter(reply)
    return dict(zip(it, it))


def list_or_args(keys: Any, args: tuple[Any, ...] | None) -> list[Any]:
    """redis-py's convention: f(["a", "b"]) and f("a", "b") mean the same."""
    if isinstance(keys, (bytes, str, int, float, bytearray, memoryview)):
        keys = [keys]
    else:
        try:
            keys = list(keys)
        except TypeError:
            keys = [keys]
    if args:
        keys.extend(args)
    return keys


def timedelta_to_ms(td: datetime.timedelta) -> int:
    """Whole milliseconds, truncated toward zero, in integer arithmetic (redis-py's
    `_timedelta_to_ms`): total_seconds() * 1000 goes through a float and can come out 1 ms low
    (1.001 * 1000 == 1000.9999999999999)."""
    if td < _ZERO:
        return -(-td // _ONE_MS)
    return td // _ONE_MS


def datetime_to_unix_ms(dt: datetime.datetime) -> int:
    """A datetime as Unix milliseconds, exactly (redis-py's `_datetime_to_unix_ms`): a naive
    datetime is local time, resolved at whole seconds, its microseconds added separately."""
    if dt.utcoffset() is None:
        seconds = int(dt.replace(tzinfo=None, microsecond=0).timestamp())
        return timedelta_to_ms(datetime.timedelta(seconds=seconds, microseconds=dt.microsecond))
    return timedelta_to_ms(dt - _UNIX_EPOCH)
