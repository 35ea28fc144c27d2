"""Set methods, with redis-py 8.1's names, parameters, defaults and (RESP2 / legacy) reply
shapes: smembers / sinter / sunion / sdiff -> Python set, smove -> bool, sismember and
smismember -> ints, spop / srandmember with a count -> list, sscan -> (cursor, list)."""

from __future__ import annotations

from typing import Any

from .base import list_or_args, to_bool


def to_set(reply: Any) -> set:
    return set(reply) if reply else set()


def parse_scan(reply: Any) -> tuple[int, list]:
    cursor, items = reply
    return int(cursor), items


class SetMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def sadd(self, name, *values):
        return self.execute_command("SADD", name, *values)

    def scard(self, name):
        return self.execute_command("SCARD", name)

    def sdiff(self, keys, *args):
        return self.execute_command("SDIFF", *list_or_args(keys, args), callback=to_set)

    def sdiffstore(self, dest, keys, *args):
        return self.execute_command("SDIFFSTORE", dest, *list_or_args(keys, args))

    def sinter(self, keys, *args):
        return self.execute_command("SINTER", *list_or_args(keys, args), callback=to_set)

    def sintercard(self, numkeys, keys, limit=0):
        return self.execute_command("SINTERCARD", numkeys, *keys, "LIMIT", limit)

    def sinterstore(self, dest, keys, *args):
        return self.execute_command("SINTERSTORE", dest, *list_or_args(keys, args))

    def sismember(self, name, value):
        return self.execute_command("SISMEMBER", name, value)

    def smembers(self, name):
        return self.execute_command("SMEMBERS", name, callback=to_set)

    def smismember(self, name, values, *args):
        return self.execute_command("SMISMEMBER", name, *list_or_args(values, args))

    def smove(self, src, dst, value):
        return self.execute_command("SMOVE", src, dst, value, callback=to_bool)

    def spop(self, name, count=None):
        args = [count] if count is not None else []
        return self.execute_command("SPOP", name, *args)

    def srandmember(self, name, number=None):
        args = [number] if number is not None else []
        return self.execute_command("SRANDMEMBER", name, *args)

    def srem(self, name, *values):
        return self.execute_command("SREM", name, *values)

    def sunion(self, keys, *args):
        return self.execute_command("SUNION", *list_or_args(keys, args), callback=to_set)

    def sunionstore(self, dest, keys, *args):
        return self.execute_command("SUNIONSTORE", dest, *list_or_args(keys, args))

    def sscan(self, name, cursor=0, match=None, count=None):
        pieces: list = [name, cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        return self.execute_command("SSCAN", *pieces, callback=parse_scan)

    def sscan_iter(self, name, match=None, count=None):
        cursor = "0"
        while cursor != 0:
            cursor, data = self.sscan(name, cursor=cursor, match=match, count=count)
            yield from data
