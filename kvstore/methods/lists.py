"""List methods, with redis-py 8.1's names, parameters, defaults and RESP2 reply shapes.

Only LSET and LTRIM (+OK -> True) and BLPOP / BRPOP ([key, value] -> (key, value)) have a
callback in redis-py; every other list reply reaches the caller as parsed.

The blocking methods only build their argv: the embedded store cannot block (a blocking command
is served by the server, see `kvstore.commands.lists`).
"""

from __future__ import annotations

from typing import Any, overload

from .base import bool_ok, list_or_args
from .types import EncodableT, KeysT, KeyT, Reply


def _pair_or_none(reply: Any) -> tuple[Any, ...] | None:
    """BLPOP / BRPOP: [key, value] -> (key, value); a timeout (null array) -> None."""
    return reply and tuple(reply) or None


class ListMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- push / pop --------------------------------------------------------------------------

    def lpush(self, name: KeyT, *values: EncodableT) -> int:
        """LPUSH name values...: the list's length after the push."""
        return self.execute_command("LPUSH", name, *values)

    def rpush(self, name: KeyT, *values: EncodableT) -> int:
        """RPUSH name values...: the list's length after the push."""
        return self.execute_command("RPUSH", name, *values)

    def lpushx(self, name: KeyT, *values: EncodableT) -> int:
        """LPUSHX name values...: the new length, 0 if `name` does not exist."""
        return self.execute_command("LPUSHX", name, *values)

    def rpushx(self, name: KeyT, *values: EncodableT) -> int:
        """RPUSHX name values...: the new length, 0 if `name` does not exist."""
        return self.execute_command("RPUSHX", name, *values)

    # The overloads tell a type checker the reply's shape from count.
    @overload
    def lpop(self, name: KeyT, count: None = None) -> Reply | None: ...
    @overload
    def lpop(self, name: KeyT, count: int) -> list[Reply] | None: ...

    def lpop(self, name: KeyT, count: int | None = None) -> Reply | list[Reply] | None:
        """LPOP name [count]: an element (or None); with count, a list (or None if no key)."""
        if count is not None:
            return self.execute_command("LPOP", name, count)
        return self.execute_command("LPOP", name)

    @overload
    def rpop(self, name: KeyT, count: None = None) -> Reply | None: ...
    @overload
    def rpop(self, name: KeyT, count: int) -> list[Reply] | None: ...

    def rpop(self, name: KeyT, count: int | None = None) -> Reply | list[Reply] | None:
        """RPOP name [count]: an element (or None); with count, a list (or None if no key)."""
        if count is not None:
            return self.execute_command("RPOP", name, count)
        return self.execute_command("RPOP", name)

    def lmpop(self, num_keys: int, *args: KeyT, direction: str,
              count: int = 1) -> list[Reply | list[Reply]] | None:
        """LMPOP num_keys keys... direction [COUNT count]: [key, [elements]] or None."""
        cmd_args = [num_keys, *args, direction]
        if count != 1:
            cmd_args.extend(["COUNT", count])
        return self.execute_command("LMPOP", *cmd_args)

    def lmove(self, first_list: KeyT, second_list: KeyT, src: str = "LEFT",
              dest: str = "RIGHT") -> Reply | None:
        """LMOVE first_list second_list src dest: the element moved, or None."""
        return self.execute_command("LMOVE", first_list, second_list, src, dest)

    def rpoplpush(self, src: KeyT, dst: KeyT) -> Reply | None:
        """RPOPLPUSH src dst: the element moved, or None."""
        return self.execute_command("RPOPLPUSH", src, dst)

    # -- read --------------------------------------------------------------------------------

    def llen(self, name: KeyT) -> int:
        """LLEN name: the length, 0 if no key."""
        return self.execute_command("LLEN", name)

    def lrange(self, name: KeyT, start: int, end: int) -> list[Reply]:
        """LRANGE name start end (inclusive, negative from the tail): a list."""
        return self.execute_command("LRANGE", name, start, end)

    def lindex(self, name: KeyT, index: int) -> Reply | None:
        """LINDEX name index: the element, or None."""
        return self.execute_command("LINDEX", name, index)

    def lpos(self, name: KeyT, value: EncodableT, rank: int | None = None,
             count: int | None = None, maxlen: int | None = None) -> int | list[int] | None:
        """LPOS name value [RANK rank] [COUNT count] [MAXLEN maxlen]: an index (or None); with
        count, a list of indexes."""
        pieces: list = [name, value]
        if rank is not None:
            pieces.extend(["RANK", rank])
        if count is not None:
            pieces.extend(["COUNT", count])
        if maxlen is not None:
            pieces.extend(["MAXLEN", maxlen])
        return self.execute_command("LPOS", *pieces)

    # -- modify ------------------------------------------------------------------------------

    def lset(self, name: KeyT, index: int, value: EncodableT) -> bool:
        """LSET name index value: True."""
        return self.execute_command("LSET", name, index, value, callback=bool_ok)

    def linsert(self, name: KeyT, where: str, refvalue: EncodableT, value: EncodableT) -> int:
        """LINSERT name BEFORE|AFTER refvalue value: the new length, -1 if no refvalue."""
        return self.execute_command("LINSERT", name, where, refvalue, value)

    def lrem(self, name: KeyT, count: int, value: EncodableT) -> int:
        """LREM name count value: how many were removed."""
        return self.execute_command("LREM", name, count, value)

    def ltrim(self, name: KeyT, start: int, end: int) -> bool:
        """LTRIM name start end: True."""
        return self.execute_command("LTRIM", name, start, end, callback=bool_ok)

    # -- blocking ----------------------------------------------------------------------------

    def blpop(self, keys: KeysT, timeout: float | None = 0) -> tuple[Reply, Reply] | None:
        """BLPOP keys... timeout: (key, element), or None on timeout."""
        if timeout is None:
            timeout = 0
        args = list_or_args(keys, ())
        args.append(timeout)
        return self.execute_command("BLPOP", *args, callback=_pair_or_none)

    def brpop(self, keys: KeysT, timeout: float | None = 0) -> tuple[Reply, Reply] | None:
        """BRPOP keys... timeout: (key, element), or None on timeout."""
        if timeout is None:
            timeout = 0
        args = list_or_args(keys, ())
        args.append(timeout)
        return self.execute_command("BRPOP", *args, callback=_pair_or_none)

    def brpoplpush(self, src: KeyT, dst: KeyT, timeout: float | None = 0) -> Reply | None:
        """BRPOPLPUSH src dst timeout: the element moved, or None on timeout."""
        if timeout is None:
            timeout = 0
        return self.execute_command("BRPOPLPUSH", src, dst, timeout)

    def blmove(self, first_list: KeyT, second_list: KeyT, timeout: float, src: str = "LEFT",
               dest: str = "RIGHT") -> Reply | None:
        """BLMOVE first_list second_list src dest timeout: the element moved, or None."""
        return self.execute_command("BLMOVE", first_list, second_list, src, dest, timeout)

    def blmpop(self, timeout: float, numkeys: int, *args: KeyT, direction: str,
               count: int = 1) -> list[Reply | list[Reply]] | None:
        """BLMPOP timeout numkeys keys... direction COUNT count: [key, [elements]] or None.
        (redis-py always sends COUNT here.)"""
        cmd_args = [timeout, numkeys, *args, direction, "COUNT", count]
        return self.execute_command("BLMPOP", *cmd_args)
