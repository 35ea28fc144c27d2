"""Generic key and expiry methods (redis-py 8.1 names, parameters and RESP2 reply shapes).

Callbacks mirror redis-py's: COPY / EXPIRE* / MOVE / PERSIST / RENAMENX -> bool; FLUSHALL /
FLUSHDB / RENAME / SWAPDB -> bool_ok; SCAN -> (int cursor, keys); SORT with groups -> tuples;
the others return the reply as is (TYPE and OBJECT ENCODING stay bytes, RESTORE stays b"OK").
`**kwargs` that redis-py passes to its connection layer (cluster routing options) are accepted
and ignored.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, Iterable, Iterator, Literal, overload

from ..errors import DataError
from .base import bool_ok, datetime_to_unix_ms, timedelta_to_ms, to_bool
from .types import AbsExpiryT, EncodableT, ExpiryT, KeyT, PatternT, Reply, SortResult


def parse_scan(reply: Any) -> tuple[int, list[Any]]:
    """[cursor, keys] -> (int(cursor), keys), as redis-py's `parse_scan`."""
    cursor, keys = reply
    return int(cursor), keys


def _sort_groups(size: int | None) -> Callable[[Any], Any]:
    """SORT's callback: with groups, the flat GET values as one tuple per element (redis-py's
    `sort_return_tuples`). A STORE count stays an int, where redis-py's fails to slice it."""
    def shape(reply: Any) -> Any:
        if not size or not isinstance(reply, list) or not reply:
            return reply
        return list(zip(*[reply[i::size] for i in range(size)]))
    return shape


def _expire_options(nx: bool, xx: bool, gt: bool, lt: bool) -> list[str]:
    return [name for name, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on]


def _sort_pieces(start: int | None, num: int | None, by: PatternT | None,
                 get: PatternT | Iterable[PatternT] | None, desc: bool, alpha: bool) -> list:
    """SORT's and SORT_RO's options after the key, as redis-py orders them."""
    if (start is None) != (num is None):
        raise DataError("``start`` and ``num`` must both be specified")
    pieces: list = []
    if by is not None:
        pieces.extend([b"BY", by])
    if start is not None:
        pieces.extend([b"LIMIT", start, num])
    if get is not None:
        for pattern in [get] if isinstance(get, (bytes, str)) else get:
            pieces.extend([b"GET", pattern])
    if desc:
        pieces.append(b"DESC")
    if alpha:
        pieces.append(b"ALPHA")
    return pieces


class KeyMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- existence, type, deletion ---------------------------------------------------------

    def delete(self, *names: KeyT) -> int:
        return self.execute_command("DEL", *names)

    def __delitem__(self, name: KeyT) -> None:
        """``del store[name]``: DEL, with no KeyError for a missing key (as redis-py)."""
        self.delete(name)

    def unlink(self, *names: KeyT) -> int:
        return self.execute_command("UNLINK", *names)

    def exists(self, *names: KeyT) -> int:
        return self.execute_command("EXISTS", *names)

    def touch(self, *args: KeyT) -> int:
        return self.execute_command("TOUCH", *args)

    def type(self, name: KeyT) -> Reply:
        return self.execute_command("TYPE", name)

    # -- renaming, copying, moving ---------------------------------------------------------

    def rename(self, src: KeyT, dst: KeyT) -> bool:
        return self.execute_command("RENAME", src, dst, callback=bool_ok)

    def renamenx(self, src: KeyT, dst: KeyT) -> bool:
        return self.execute_command("RENAMENX", src, dst, callback=to_bool)

    def copy(self, source: KeyT, destination: KeyT, destination_db: int | None = None,
             replace: bool = False) -> bool:
        params: list = [source, destination]
        if destination_db is not None:
            params.extend(["DB", destination_db])
        if replace:
            params.append("REPLACE")
        return self.execute_command("COPY", *params, callback=to_bool)

    def move(self, name: KeyT, db: int) -> bool:
        return self.execute_command("MOVE", name, db, callback=to_bool)

    # -- databases -------------------------------------------------------------------------

    def swapdb(self, first: int, second: int, **kwargs: Any) -> bool:
        return self.execute_command("SWAPDB", first, second, callback=bool_ok)

    def dbsize(self, **kwargs: Any) -> int:
        return self.execute_command("DBSIZE")

    def flushdb(self, asynchronous: bool = False, **kwargs: Any) -> bool:
        args = [b"ASYNC"] if asynchronous else []
        return self.execute_command("FLUSHDB", *args, callback=bool_ok)

    def flushall(self, asynchronous: bool = False, **kwargs: Any) -> bool:
        args = [b"ASYNC"] if asynchronous else []
        return self.execute_command("FLUSHALL", *args, callback=bool_ok)

    # -- enumerating -----------------------------------------------------------------------

    def keys(self, pattern: PatternT = "*", **kwargs: Any) -> list[Reply]:
        return self.execute_command("KEYS", pattern)

    def scan(self, cursor: int = 0, match: PatternT | None = None, count: int | None = None,
             _type: str | None = None, **kwargs: Any) -> tuple[int, list[Reply]]:
        pieces: list = [cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        if _type is not None:
            pieces.extend([b"TYPE", _type])
        return self.execute_command("SCAN", *pieces, callback=parse_scan)

    def scan_iter(self, match: PatternT | None = None, count: int | None = None,
                  _type: str | None = None, **kwargs: Any) -> Iterator[Reply]:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = self.scan(cursor=cursor, match=match, count=count, _type=_type)
            yield from data

    def randomkey(self, **kwargs: Any) -> Reply | None:
        return self.execute_command("RANDOMKEY")

    # -- SORT ------------------------------------------------------------------------------

    # The overloads tell a type checker the reply's shape: elements (None where a GET pattern
    # finds nothing), tuples with groups, or the stored length with store.
    @overload
    def sort(self, name: KeyT, start: int | None = None, num: int | None = None,
             by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
             desc: bool = False, alpha: bool = False, store: None = None,
             groups: Literal[False] = False) -> list[Reply | None]: ...
    @overload
    def sort(self, name: KeyT, start: int | None = None, num: int | None = None,
             by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
             desc: bool = False, alpha: bool = False, store: None = None, *,
             groups: Literal[True]) -> list[tuple[Reply | None, ...]]: ...
    @overload
    def sort(self, name: KeyT, start: int | None = None, num: int | None = None,
             by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
             desc: bool = False, alpha: bool = False, *, store: KeyT,
             groups: bool = False) -> int: ...
    @overload
    def sort(self, name: KeyT, start: int | None = None, num: int | None = None,
             by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
             desc: bool = False, alpha: bool = False, store: KeyT | None = None,
             groups: bool = False) -> SortResult: ...

    def sort(self, name: KeyT, start: int | None = None, num: int | None = None,
             by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
             desc: bool = False, alpha: bool = False, store: KeyT | None = None,
             groups: bool = False) -> SortResult:
        pieces = _sort_pieces(start, num, by, get, desc, alpha)
        if store is not None:
            pieces.extend([b"STORE", store])
        size = None
        if groups:
            if not get or isinstance(get, (bytes, str)) or len(get) < 2:  # type: ignore[arg-type]
                raise DataError('when using "groups" the "get" argument must be specified and '
                                "contain at least two keys")
            size = len(get)  # type: ignore[arg-type]
        return self.execute_command("SORT", name, *pieces, callback=_sort_groups(size))

    def sort_ro(self, key: KeyT, start: int | None = None, num: int | None = None,
                by: PatternT | None = None, get: PatternT | Iterable[PatternT] | None = None,
                desc: bool = False, alpha: bool = False) -> list[Reply | None]:
        # redis-py sends SORT here; SORT_RO replies the same and is what a read-only replica
        # accepts.
        pieces = _sort_pieces(start, num, by, get, desc, alpha)
        return self.execute_command("SORT_RO", key, *pieces)

    # -- OBJECT, DUMP, RESTORE -------------------------------------------------------------

    def object(self, infotype: str, key: KeyT, **kwargs: Any) -> Reply | int | None:
        return self.execute_command("OBJECT", infotype, key)

    def dump(self, name: KeyT) -> bytes | None:
        # redis-py never decodes a DUMP payload (NEVER_DECODE): it is binary.
        return self.execute_command("DUMP", name, never_decode=True)

    def restore(self, name: KeyT, ttl: int, value: EncodableT, replace: bool = False,
                absttl: bool = False, idletime: int | None = None,
                frequency: int | None = None) -> Reply:
        params: list = [name, ttl, value]
        if replace:
            params.append("REPLACE")
        if absttl:
            params.append("ABSTTL")
        if idletime is not None:
            params.append("IDLETIME")
            try:
                params.append(int(idletime))
            except ValueError:
                raise DataError("idletimemust be an integer") from None
        if frequency is not None:
            params.append("FREQ")
            try:
                params.append(int(frequency))
            except ValueError:
                raise DataError("frequency must be an integer") from None
        return self.execute_command("RESTORE", *params)

    # -- expiry ----------------------------------------------------------------------------

    def expire(self, name: KeyT, time: ExpiryT, nx: bool = False, xx: bool = False,
               gt: bool = False, lt: bool = False) -> bool:
        if isinstance(time, datetime.timedelta):
            time = int(time.total_seconds())
        options = _expire_options(nx, xx, gt, lt)
        return self.execute_command("EXPIRE", name, time, *options, callback=to_bool)

    def pexpire(self, name: KeyT, time: ExpiryT, nx: bool = False, xx: bool = False,
                gt: bool = False, lt: bool = False) -> bool:
        if isinstance(time, datetime.timedelta):
            time = timedelta_to_ms(time)
        options = _expire_options(nx, xx, gt, lt)
        return self.execute_command("PEXPIRE", name, time, *options, callback=to_bool)

    def expireat(self, name: KeyT, when: AbsExpiryT, nx: bool = False, xx: bool = False,
                 gt: bool = False, lt: bool = False) -> bool:
        if isinstance(when, datetime.datetime):
            when = int(when.timestamp())
        options = _expire_options(nx, xx, gt, lt)
        return self.execute_command("EXPIREAT", name, when, *options, callback=to_bool)

    def pexpireat(self, name: KeyT, when: AbsExpiryT, nx: bool = False, xx: bool = False,
                  gt: bool = False, lt: bool = False) -> bool:
        if isinstance(when, datetime.datetime):
            when = datetime_to_unix_ms(when)
        options = _expire_options(nx, xx, gt, lt)
        return self.execute_command("PEXPIREAT", name, when, *options, callback=to_bool)

    def ttl(self, name: KeyT) -> int:
        return self.execute_command("TTL", name)

    def pttl(self, name: KeyT) -> int:
        return self.execute_command("PTTL", name)

    def expiretime(self, key: KeyT) -> int:
        return self.execute_command("EXPIRETIME", key)

    def pexpiretime(self, key: KeyT) -> int:
        return self.execute_command("PEXPIRETIME", key)

    def persist(self, name: KeyT) -> bool:
        return self.execute_command("PERSIST", name, callback=to_bool)
