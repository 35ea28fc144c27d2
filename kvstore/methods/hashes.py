"""Hash methods, with redis-py 8.1's names, parameters, defaults and (RESP2 / legacy) reply
shapes: hgetall -> dict, hexists -> bool, hincrbyfloat -> float, hscan -> (cursor, dict)."""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Iterator, Literal, Mapping, overload

from ..errors import DataError
from .base import list_or_args, pairs_to_dict, to_bool
from .types import AnyFieldT, EncodableT, KeyT, PatternT, Reply


def parse_hscan(reply: Any, no_values: bool | None = None) -> tuple[int, Any]:
    """[cursor, [f, v, ...]] -> (int cursor, {f: v}) or, with no_values, (cursor, [f, ...])."""
    cursor, items = reply
    if no_values:
        return int(cursor), items or []
    return int(cursor), pairs_to_dict(items) if items else {}


def _hgetall(reply: Any) -> dict[Any, Any]:
    return pairs_to_dict(reply) if reply else {}


def _hincrbyfloat(reply: Any) -> float:
    return float(reply)


class HashMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def hdel(self, name: KeyT, *keys: EncodableT) -> int:
        return self.execute_command("HDEL", name, *keys)

    def hexists(self, name: KeyT, key: EncodableT) -> bool:
        return self.execute_command("HEXISTS", name, key, callback=to_bool)

    def hget(self, name: KeyT, key: EncodableT) -> Reply | None:
        return self.execute_command("HGET", name, key)

    def hgetall(self, name: KeyT) -> dict[Reply, Reply]:
        return self.execute_command("HGETALL", name, callback=_hgetall)

    def hincrby(self, name: KeyT, key: EncodableT, amount: int = 1) -> int:
        return self.execute_command("HINCRBY", name, key, amount)

    def hincrbyfloat(self, name: KeyT, key: EncodableT, amount: float = 1.0) -> float:
        return self.execute_command("HINCRBYFLOAT", name, key, amount, callback=_hincrbyfloat)

    def hkeys(self, name: KeyT) -> list[Reply]:
        return self.execute_command("HKEYS", name)

    def hlen(self, name: KeyT) -> int:
        return self.execute_command("HLEN", name)

    def hset(self, name: KeyT, key: EncodableT | None = None, value: EncodableT | None = None,
             mapping: Mapping[AnyFieldT, EncodableT] | None = None,
             items: Iterable[EncodableT] | None = None) -> int:
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

    def hsetnx(self, name: KeyT, key: EncodableT, value: EncodableT) -> int:
        return self.execute_command("HSETNX", name, key, value)

    def hmset(self, name: KeyT, mapping: Mapping[AnyFieldT, EncodableT]) -> bool:
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

    def hmget(self, name: KeyT, keys: EncodableT | Iterable[EncodableT],
              *args: EncodableT) -> list[Reply | None]:
        return self.execute_command("HMGET", name, *list_or_args(keys, args))

    def hvals(self, name: KeyT) -> list[Reply]:
        return self.execute_command("HVALS", name)

    def hstrlen(self, name: KeyT, key: EncodableT) -> int:
        return self.execute_command("HSTRLEN", name, key)

    # The overloads tell a type checker the reply's shape from count or no_values.
    @overload
    def hrandfield(self, key: KeyT, count: None = None,
                   withvalues: bool = False) -> Reply | None: ...
    @overload
    def hrandfield(self, key: KeyT, count: int, withvalues: bool = False) -> list[Reply]: ...

    def hrandfield(self, key: KeyT, count: int | None = None,
                   withvalues: bool = False) -> Reply | list[Reply] | None:
        params: list = []
        if count is not None:
            params.append(count)
        if withvalues:
            params.append("WITHVALUES")
        return self.execute_command("HRANDFIELD", key, *params)

    @overload
    def hscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None,
              no_values: Literal[False] | None = None) -> tuple[int, dict[Reply, Reply]]: ...
    @overload
    def hscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None, *,
              no_values: Literal[True]) -> tuple[int, list[Reply]]: ...
    @overload
    def hscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None,
              no_values: bool | None = None) -> tuple[int, dict[Reply, Reply] | list[Reply]]: ...

    def hscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None,
              no_values: bool | None = None) -> tuple[int, dict[Reply, Reply] | list[Reply]]:
        pieces: list = [name, cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        if no_values:
            pieces.extend([b"NOVALUES"])  # Redis 7.4+: a 7.0 server answers "syntax error"
        return self.execute_command(
            "HSCAN", *pieces, callback=lambda r: parse_hscan(r, no_values)
        )

    @overload
    def hscan_iter(self, name: KeyT, match: PatternT | None = None, count: int | None = None,
                   no_values: Literal[False] | None = None) -> Iterator[tuple[Reply, Reply]]: ...
    @overload
    def hscan_iter(self, name: KeyT, match: PatternT | None = None, count: int | None = None,
                   *, no_values: Literal[True]) -> Iterator[Reply]: ...
    @overload
    def hscan_iter(self, name: KeyT, match: PatternT | None = None, count: int | None = None,
                   no_values: bool | None = None) -> Iterator[tuple[Reply, Reply] | Reply]: ...

    def hscan_iter(self, name: KeyT, match: PatternT | None = None, count: int | None = None,
                   no_values: bool | None = None) -> Iterator[tuple[Reply, Reply] | Reply]:
        cursor: Any = "0"
        data: Any  # a dict of field -> value, or a list of fields with no_values
        while cursor != 0:
            cursor, data = self.hscan(
                name, cursor=cursor, match=match, count=count, no_values=no_values
            )
            if no_values:
                yield from data
            else:
                yield from data.items()
