"""String methods (redis-py 8.1 shapes: names, parameters, defaults, RESP2 reply callbacks).

Each method builds the argv redis-py would send, in the same order (so error precedence is the
same), raises redis-py's DataError for the same misuse, and shapes the reply as redis-py's RESP2
callback does: SETNX / MSETNX / SETEX / PSETEX -> bool, MSET -> True, INCRBYFLOAT -> float,
SET -> True / None (or the old value with get=True); the others return the reply unchanged.

`bitfield()` returns a `BitFieldOperation` at once, on every transport: a builder of one BITFIELD
command, as redis-py's, whose `execute()` is what goes through `execute_command`.
"""

from __future__ import annotations

import datetime
from typing import Any, Mapping

from ..errors import DataError
from .base import bool_ok, datetime_to_unix_ms, list_or_args, timedelta_to_ms
from .types import (
    AbsExpiryT, AnyKeyT, BitfieldOffsetT, EncodableT, ExpiryT, KeysT, KeyT, Reply,
)


def _set_result(reply: Any) -> bool | None:
    """redis-py `parse_set_result` without GET: True for OK, None when NX / XX prevented it."""
    return reply and bool_ok(reply)


def _at_most_one(*flags: Any) -> bool:
    return sum(bool(f) for f in flags) <= 1


def expire_flags(ex: ExpiryT | None = None, px: ExpiryT | None = None,
                 exat: AbsExpiryT | None = None, pxat: AbsExpiryT | None = None) -> list[Any]:
    """redis-py `extract_expire_flags`: timedelta / datetime converted, at most one option."""
    if ex is not None:
        if isinstance(ex, datetime.timedelta):
            return ["EX", int(ex.total_seconds())]
        if isinstance(ex, int):
            return ["EX", ex]
        if isinstance(ex, str) and ex.isdecimal():
            return ["EX", int(ex)]
        raise DataError("ex must be datetime.timedelta, int, or a digit string")
    if px is not None:
        if isinstance(px, datetime.timedelta):
            return ["PX", timedelta_to_ms(px)]
        if isinstance(px, int):
            return ["PX", px]
        if isinstance(px, str) and px.isdecimal():
            return ["PX", int(px)]
        raise DataError("px must be datetime.timedelta, int, or a digit string")
    if exat is not None:
        if isinstance(exat, datetime.datetime):
            exat = int(exat.timestamp())
        return ["EXAT", exat]
    if pxat is not None:
        if isinstance(pxat, datetime.datetime):
            pxat = datetime_to_unix_ms(pxat)
        return ["PXAT", pxat]
    return []


class BitFieldOperation:
    """A BITFIELD command built one operation at a time (redis-py's `BitFieldOperation`):
    `store.bitfield("k").set("u8", 0, 255).incrby("u8", "#1", 10).execute()`. OVERFLOW is only
    sent when it changes, starting from WRAP, which is Redis's default too."""

    def __init__(self, client: Any, key: KeyT, default_overflow: str | None = None) -> None:
        self.client = client
        self.key = key
        self._default_overflow = default_overflow
        self.operations: list[tuple[EncodableT, ...]] = []
        self._last_overflow = "WRAP"
        self.reset()

    def reset(self) -> None:
        """Forget the operations added so far (execute() does it too)."""
        self.operations = []
        self._last_overflow = "WRAP"
        self.overflow(self._default_overflow or self._last_overflow)

    def overflow(self, overflow: str) -> BitFieldOperation:
        """WRAP, SAT or FAIL for the INCRBY and SET operations that follow."""
        overflow = overflow.upper()
        if overflow != self._last_overflow:
            self._last_overflow = overflow
            self.operations.append(("OVERFLOW", overflow))
        return self

    def incrby(self, fmt: str, offset: BitfieldOffsetT, increment: int,
               overflow: str | None = None) -> BitFieldOperation:
        """Add ``increment`` to the field of type ``fmt`` ("i5", "u8") at ``offset``."""
        if overflow is not None:
            self.overflow(overflow)
        self.operations.append(("INCRBY", fmt, offset, increment))
        return self

    def get(self, fmt: str, offset: BitfieldOffsetT) -> BitFieldOperation:
        """Read the field of type ``fmt`` at ``offset`` (bits, or "#N" fields)."""
        self.operations.append(("GET", fmt, offset))
        return self

    def set(self, fmt: str, offset: BitfieldOffsetT, value: int) -> BitFieldOperation:
        """Write ``value`` into the field of type ``fmt`` at ``offset``; replies the old one."""
        self.operations.append(("SET", fmt, offset, value))
        return self

    @property
    def command(self) -> list[Any]:
        cmd: list[Any] = ["BITFIELD", self.key]
        for op in self.operations:
            cmd.extend(op)
        return cmd

    def execute(self) -> Any:
        """Send the command and reset. What it returns is the transport's: the replies
        (list[int | None]) on the store and Client, a coroutine of them on AsyncClient, the
        pipeline on a pipeline."""
        command = self.command
        self.reset()
        return self.client.execute_command(*command)


class StringMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _local_reply(self, value: Any) -> Any:
        """A reply known without asking the server, returned the way execute_command returns
        one: as is here; AsyncClient returns a coroutine of it and a pipeline buffers it in its
        place among the results."""
        return value

    # -- get / set ---------------------------------------------------------------------------

    def get(self, name: KeyT) -> Reply | None:
        """Return the value at key ``name``, or None if the key doesn't exist."""
        return self.execute_command("GET", name)

    def set(self, name: KeyT, value: EncodableT, ex: ExpiryT | None = None,
            px: ExpiryT | None = None, nx: bool = False, xx: bool = False, keepttl: bool = False,
            get: bool = False, exat: AbsExpiryT | None = None, pxat: AbsExpiryT | None = None,
            ifeq: EncodableT | None = None, ifne: EncodableT | None = None,
            ifdeq: EncodableT | None = None,
            ifdne: EncodableT | None = None) -> bool | Reply | None:
        """Set ``name`` to ``value`` (SET with NX/XX, GET, EX/PX/EXAT/PXAT, KEEPTTL).

        ifeq / ifne / ifdeq / ifdne are redis-py's options for Redis 8.4; they are sent as given,
        and Redis 7.0 (like kvstore) answers them with a syntax error.
        """
        if not _at_most_one(ex is not None, px is not None, exat is not None,
                            pxat is not None, keepttl):
            raise DataError("``ex``, ``px``, ``exat``, ``pxat``, "
                            "and ``keepttl`` are mutually exclusive.")
        if not _at_most_one(nx, xx, ifeq is not None, ifne is not None, ifdeq is not None,
                            ifdne is not None):
            raise DataError("``nx``, ``xx``, ``ifeq``, ``ifne``, ``ifdeq``, ``ifdne`` are "
                            "mutually exclusive.")
        args: list = ["SET", name, value]
        if nx:
            args.append("NX")
        elif xx:
            args.append("XX")
        elif ifeq is not None:
            args += ["IFEQ", ifeq]
        elif ifne is not None:
            args += ["IFNE", ifne]
        elif ifdeq is not None:
            args += ["IFDEQ", ifdeq]
        elif ifdne is not None:
            args += ["IFDNE", ifdne]
        if get:
            args.append("GET")
        args += expire_flags(ex, px, exat, pxat)
        if keepttl:
            args.append("KEEPTTL")
        if get:
            return self.execute_command(*args)
        return self.execute_command(*args, callback=_set_result)

    def __getitem__(self, name: KeyT) -> Reply:
        """``store[name]``: the value, KeyError if the key doesn't exist."""
        value = self.get(name)
        if value is not None:
            return value
        raise KeyError(name)

    def __setitem__(self, name: KeyT, value: EncodableT) -> None:
        self.set(name, value)

    def setnx(self, name: KeyT, value: EncodableT) -> bool:
        """Set ``name`` to ``value`` if the key doesn't exist. Returns True if it was set."""
        return self.execute_command("SETNX", name, value, callback=bool)

    def setex(self, name: KeyT, time: ExpiryT, value: EncodableT) -> bool:
        """Set ``name`` to ``value``, expiring in ``time`` seconds (int or timedelta)."""
        if isinstance(time, datetime.timedelta):
            time = int(time.total_seconds())
        return self.execute_command("SETEX", name, time, value, callback=bool)

    def psetex(self, name: KeyT, time_ms: ExpiryT, value: EncodableT) -> bool:
        """Set ``name`` to ``value``, expiring in ``time_ms`` milliseconds (int or timedelta)."""
        if isinstance(time_ms, datetime.timedelta):
            time_ms = timedelta_to_ms(time_ms)
        return self.execute_command("PSETEX", name, time_ms, value, callback=bool)

    def getset(self, name: KeyT, value: EncodableT) -> Reply | None:
        """Set ``name`` to ``value`` and return its old value (None if it didn't exist)."""
        return self.execute_command("GETSET", name, value)

    def getdel(self, name: KeyT) -> Reply | None:
        """Return the value at ``name`` and delete the key (only if it holds a string)."""
        return self.execute_command("GETDEL", name)

    def getex(self, name: KeyT, ex: ExpiryT | None = None, px: ExpiryT | None = None,
              exat: AbsExpiryT | None = None, pxat: AbsExpiryT | None = None,
              persist: bool = False) -> Reply | None:
        """Return the value at ``name`` and set (ex/px/exat/pxat) or remove (persist) its TTL."""
        if not _at_most_one(ex is not None, px is not None, exat is not None,
                            pxat is not None, persist):
            raise DataError("``ex``, ``px``, ``exat``, ``pxat``, "
                            "and ``persist`` are mutually exclusive.")
        args = ["GETEX", name, *expire_flags(ex, px, exat, pxat)]
        if persist:
            args.append("PERSIST")
        return self.execute_command(*args)

    # -- several keys ------------------------------------------------------------------------

    def mget(self, keys: KeysT, *args: KeyT) -> list[Reply | None]:
        """The values of the keys, in order (None for missing keys and non-strings)."""
        keys = list_or_args(keys, args)
        if not keys:
            return self._local_reply([])  # redis-py's reply, where "MGET" alone is an error
        return self.execute_command("MGET", *keys)

    def mset(self, mapping: Mapping[AnyKeyT, EncodableT]) -> bool:
        """Set every key of ``mapping`` to its value. Returns True."""
        items: list = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSET", *items, callback=bool_ok)

    def msetnx(self, mapping: Mapping[AnyKeyT, EncodableT]) -> bool:
        """Set every key of ``mapping`` only if none exists. Returns whether it did."""
        items: list = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSETNX", *items, callback=bool)

    def __contains__(self, name: KeyT) -> int:
        """``name in store``: redis-py's ``__contains__ = exists`` (EXISTS is a keys method)."""
        return self.exists(name)  # type: ignore[attr-defined]

    # -- length, append, ranges --------------------------------------------------------------

    def append(self, key: KeyT, value: EncodableT) -> int:
        """Append ``value`` to the string at ``key`` (created if missing). Returns the length."""
        return self.execute_command("APPEND", key, value)

    def strlen(self, name: KeyT) -> int:
        """The length of the string at ``name`` (0 if missing)."""
        return self.execute_command("STRLEN", name)

    def getrange(self, key: KeyT, start: int, end: int) -> Reply:
        """The substring of ``key`` from ``start`` to ``end``, both inclusive."""
        return self.execute_command("GETRANGE", key, start, end)

    def substr(self, name: KeyT, start: int, end: int = -1) -> Reply:
        """The substring of ``name`` from ``start`` to ``end`` (SUBSTR, GETRANGE's old name)."""
        return self.execute_command("SUBSTR", name, start, end)

    def setrange(self, name: KeyT, offset: int, value: EncodableT) -> int:
        """Overwrite ``name`` from ``offset`` with ``value``, zero-padding. Returns the length."""
        return self.execute_command("SETRANGE", name, offset, value)

    def lcs(self, key1: KeyT, key2: KeyT, len: bool = False, idx: bool = False,
            minmatchlen: int = 0, withmatchlen: bool = False) -> Reply | int | list[Any]:
        """The longest common subsequence of two strings (or its length, or match indexes)."""
        args: list = ["LCS", key1, key2]
        if len:
            args.append("LEN")
        if idx:
            args.append("IDX")
        if minmatchlen is not None and minmatchlen != 0:
            args += ["MINMATCHLEN", minmatchlen]
        if withmatchlen:
            args.append("WITHMATCHLEN")
        return self.execute_command(*args)

    # -- counters ----------------------------------------------------------------------------

    def incrby(self, name: KeyT, amount: int = 1) -> int:
        """Add ``amount`` to the integer at ``name`` (0 if missing). Returns the new value."""
        return self.execute_command("INCRBY", name, amount)

    incr = incrby

    def decrby(self, name: KeyT, amount: int = 1) -> int:
        """Subtract ``amount`` from the integer at ``name``. Returns the new value."""
        return self.execute_command("DECRBY", name, amount)

    decr = decrby

    def incrbyfloat(self, name: KeyT, amount: float = 1.0) -> float:
        """Add the float ``amount`` to the value at ``name``. Returns the new value as a float."""
        return self.execute_command("INCRBYFLOAT", name, amount, callback=float)

    # -- bits --------------------------------------------------------------------------------

    def setbit(self, name: KeyT, offset: int, value: int) -> int:
        """Set the bit at ``offset`` to ``value`` (truthy -> 1). Returns the previous bit."""
        value = value and 1 or 0
        return self.execute_command("SETBIT", name, offset, value)

    def getbit(self, name: KeyT, offset: int) -> int:
        """The bit at ``offset`` of the string at ``name``."""
        return self.execute_command("GETBIT", name, offset)

    def bitcount(self, key: KeyT, start: int | None = None, end: int | None = None,
                 mode: str | None = None) -> int:
        """The number of set bits in ``key``, optionally between ``start`` and ``end`` (bytes,
        or bits with mode="BIT")."""
        params: list = [key]
        if start is not None and end is not None:
            params += [start, end]
        elif (start is not None and end is None) or (end is not None and start is None):
            raise DataError("Both start and end must be specified")
        if mode is not None:
            params.append(mode)
        return self.execute_command("BITCOUNT", *params)

    def bitpos(self, key: KeyT, bit: int, start: int | None = None, end: int | None = None,
               mode: str | None = None) -> int:
        """The position of the first bit set to ``bit`` (0 or 1) in ``key``, optionally between
        ``start`` and ``end`` (bytes, or bits with mode="BIT"); -1 if none."""
        if bit not in (0, 1):
            raise DataError("bit must be 0 or 1")
        params: list = [key, bit]
        if start is not None:
            params.append(start)
            if end is not None:
                params.append(end)
        elif end is not None:
            raise DataError("start argument is not set, when end is specified")
        if mode is not None:
            params.append(mode)
        return self.execute_command("BITPOS", *params)

    def bitop(self, operation: str, dest: KeyT, *keys: KeyT) -> int:
        """Store the AND, OR, XOR (or NOT, of one key) of ``keys`` at ``dest``. Returns the
        result's length (that of the longest key)."""
        return self.execute_command("BITOP", operation, dest, *keys)

    def bitfield(self, key: KeyT, default_overflow: str | None = None) -> BitFieldOperation:
        """A builder of one BITFIELD command on ``key``: chain get / set / incrby / overflow,
        then execute()."""
        return BitFieldOperation(self, key, default_overflow=default_overflow)

    def bitfield_ro(self, key: KeyT, encoding: str, offset: BitfieldOffsetT,
                    items: list[tuple[str, BitfieldOffsetT]] | None = None) -> list[int]:
        """The field of type ``encoding`` at ``offset``, then those of ``items`` ((encoding,
        offset) pairs), read with BITFIELD_RO."""
        params: list = [key, "GET", encoding, offset]
        for enc, off in items or []:
            params += ["GET", enc, off]
        return self.execute_command("BITFIELD_RO", *params)
