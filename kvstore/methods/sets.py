"""Set methods, with redis-py 8.1's names, parameters, defaults and (RESP2 / legacy) reply
shapes: smembers / sinter / sunion / sdiff -> Python set, smove -> bool, sismember and
smismember -> ints, spop / srandmember with a count -> list, sscan -> (cursor, list)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, overload

from .base import list_or_args, to_bool
from .types import EncodableT, KeysT, KeyT, PatternT, Reply


def to_set(reply: Any) -> set[Any]:
    return set(reply) if reply else set()


def parse_scan(reply: Any) -> tuple[int, list[Any]]:
    cursor, items = reply
    return int(cursor), items


class SetMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def sadd(self, name: KeyT, *values: EncodableT) -> int:
        return self.execute_command("SADD", name, *values)

    def scard(self, name: KeyT) -> int:
        return self.execute_command("SCARD", name)

    def sdiff(self, keys: KeysT, *args: KeyT) -> set[Reply]:
        return self.execute_command("SDIFF", *list_or_args(keys, args), callback=to_set)

    def sdiffstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> int:
        return self.execute_command("SDIFFSTORE", dest, *list_or_args(keys, args))

    def sinter(self, keys: KeysT, *args: KeyT) -> set[Reply]:
        return self.execute_command("SINTER", *list_or_args(keys, args), callback=to_set)

    def sintercard(self, numkeys: int, keys: Iterable[KeyT], limit: int = 0) -> int:
        return self.execute_command("SINTERCARD", numkeys, *keys, "LIMIT", limit)

    def sinterstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> int:
        return self.execute_command("SINTERSTORE", dest, *list_or_args(keys, args))

    def sismember(self, name: KeyT, value: EncodableT) -> int:
        return self.execute_command("SISMEMBER", name, value)

    def smembers(self, name: KeyT) -> set[Reply]:
        return self.execute_command("SMEMBERS", name, callback=to_set)

    def smismember(self, name: KeyT, values: EncodableT | Iterable[EncodableT],
                   *args: EncodableT) -> list[int]:
        return self.execute_command("SMISMEMBER", name, *list_or_args(values, args))

    def smove(self, src: KeyT, dst: KeyT, value: EncodableT) -> bool:
        return self.execute_command("SMOVE", src, dst, value, callback=to_bool)

    # The overloads tell a type checker the reply's shape from count.
    @overload
    def spop(self, name: KeyT, count: None = None) -> Reply | None: ...
    @overload
    def spop(self, name: KeyT, count: int) -> list[Reply]: ...

    def spop(self, name: KeyT, count: int | None = None) -> Reply | list[Reply] | None:
        args = [count] if count is not None else []
        return self.execute_command("SPOP", name, *args)

    @overload
    def srandmember(self, name: KeyT, number: None = None) -> Reply | None: ...
    @overload
    def srandmember(self, name: KeyT, number: int) -> list[Reply]: ...

    def srandmember(self, name: KeyT,
                    number: int | None = None) -> Reply | list[Reply] | None:
        args = [number] if number is not None else []
        return self.execute_command("SRANDMEMBER", name, *args)

    def srem(self, name: KeyT, *values: EncodableT) -> int:
        return self.execute_command("SREM", name, *values)

    def sunion(self, keys: KeysT, *args: KeyT) -> set[Reply]:
        return self.execute_command("SUNION", *list_or_args(keys, args), callback=to_set)

    def sunionstore(self, dest: KeyT, keys: KeysT, *args: KeyT) -> int:
        return self.execute_command("SUNIONSTORE", dest, *list_or_args(keys, args))

    def sscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None) -> tuple[int, list[Reply]]:
        pieces: list = [name, cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        return self.execute_command("SSCAN", *pieces, callback=parse_scan)

    def sscan_iter(self, name: KeyT, match: PatternT | None = None,
                   count: int | None = None) -> Iterator[Reply]:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = self.sscan(name, cursor=cursor, match=match, count=count)
            yield from data
