"""Hash methods, with redis-py 8.1's names, parameters, defaults and (RESP2 / legacy) reply
shapes: hgetall -> dict, hexists -> bool, hincrbyfloat -> float, hscan -> (cursor, dict)."""

from __future__ import annotations

import warnings
from typing import Any

from ..errors import DataError
from .base import list_or_args, pairs_to_dict, to_bool


def parse_hscan(reply: Any, no_values: bool | None = None) -> tuple[int, Any]:
    """[cursor, [f, v, ...]] -> (int cursor, {f: v}) or, with no_values, (cursor, [f, ...])."""
    cursor, items = reply
    if no_values:
        return int(cursor), items or []
    return int(cursor), pairs_to_dict(items) if items else {}


def _hgetall(reply: Any) -> dict:
    return pairs_to_dict(reply) if reply else {}


def _hincrbyfloat(reply: Any) -> float:
    return float(reply)


class HashMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def hdel(self, name, *keys):
        return self.execute_command("HDEL", name, *keys)

    def hexists(self, name, key):
        return self.execute_command("HEXISTS", name, key, callback=to_bool)

    def hget(self, name, key):
        return self.execute_command("HGET", name, key)

    def hgetall(self, name):
        return self.execute_command("HGETALL", name, callback=_hgetall)

    def hincrby(self, name, key, amount=1):
        return self.execute_command("HINCRBY", name, key, amount)

    def hincrbyfloat(self, name, key, amount=1.0):
        return self.execute_command("HINCRBYFLOAT", name, key, amount, callback=_hincrbyfloat)

    def hkeys(self, name):
        return self.execute_command("HKEYS", name)

    def hlen(self, name):
        return self.execute_command("HLEN", name)

    def hset(self, name, key=None, value=None, mapping=None, items=None):
        if key is None and not mapping and not items:
            raise DataError("'hset' with no key value pairs")
        pieces: list = []
        if items:
            pieces.extend(items)
        if key is not None:
            pieces.extend((key, value))
        if mapping:
            for pair in mapping.items():
                pieces.extend(pair)
        return self.execute_command("HSET", name, *pieces)

    def hsetnx(self, name, key, value):
        return self.execute_command("HSETNX", name, key, value)

    def hmset(self, name, mapping):
        warnings.warn(  # as redis-py does; the command itself still works
            "Call to deprecated hmset. (Use 'hset' instead.) -- Deprecated since version 4.0.0.",
            DeprecationWarning, stacklevel=2,
        )
        if not mapping:
            raise DataError("'hmset' with 'mapping' of length 0")
        items: list = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("HMSET", name, *items, callback=to_bool)

    def hmget(self, name, keys, *args):
        return self.execute_command("HMGET", name, *list_or_args(keys, args))

    def hvals(self, name):
        return self.execute_command("HVALS", name)

    def hstrlen(self, name, key):
        return self.execute_command("HSTRLEN", name, key)

    def hrandfield(self, key, count=None, withvalues=False):
        params: list = []
        if count is not None:
            params.append(count)
        if withvalues:
            params.append("WITHVALUES")
        return self.execute_command("HRANDFIELD", key, *params)

    def hscan(self, name, cursor=0, match=None, count=None, no_values=None):
        pieces: list = [name, cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        if no_values is not None:
            pieces.extend([b"NOVALUES"])  # Redis 7.4+: a 7.0 server answers "syntax error"
        return self.execute_command(
            "HSCAN", *pieces, callback=lambda r: parse_hscan(r, no_values)
        )

    def hscan_iter(self, name, match=None, count=None, no_values=None):
        cursor = "0"
        while cursor != 0:
            cursor, data = self.hscan(
                name, cursor=cursor, match=match, count=count, no_values=no_values
            )
            if no_values:
                yield from data
            else:
                yield from data.items()
