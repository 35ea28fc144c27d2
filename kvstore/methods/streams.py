"""Stream methods, with redis-py 8.2's names, parameters, defaults, DataErrors and (RESP2 /
legacy) reply shapes: entries -> (id, {field: value}) tuples (parse_stream_list), xread /
xreadgroup -> [[stream, entries], ...] ([] when nothing was read), xclaim / xautoclaim as
parse_xclaim / parse_xautoclaim (just the IDs with justid), xpending -> {"pending", "min", "max",
"consumers"}, xpending_range -> [{"message_id", "consumer", "time_since_delivered",
"times_delivered"}], xinfo_* -> dicts with str keys (parse_xinfo_stream, parse_list_of_dicts),
xgroup_create / xgroup_setid / xgroup_destroy -> bool. Every other reply reaches the caller as
parsed (xadd's ID, xlen, xdel, xtrim, xack, xgroup_createconsumer / delconsumer counts).

redis-py's arguments for Redis 8 (xadd's and xtrim's ref_policy, idmpauto, idmp; xread's and
xreadgroup's max_count, max_size; xreadgroup's claim_min_idle_time) are sent as redis-py sends
them: a 7.0 server answers "syntax error". Redis 8's own stream commands (XACKDEL, XDELEX,
XCFGSET, XNACK) have no method: the server has no such command.

xread / xreadgroup with block=... only build their argv: the embedded store does not wait, it
replies as on a timeout ([]), as its BLPOP does; a server's clients wait.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, Mapping, Sequence, overload

from ..errors import DataError
from .base import bool_ok
from .types import (
    AnyFieldT, AnyKeyT, ConsumerT, EncodableT, GroupT, KeyT, Reply, StreamEntry, StreamIdT,
    XReadResult,
)

_REF_POLICIES = {"KEEPREF", "DELREF", "ACKED"}


def _str(value: Any) -> Any:
    """redis-py's str_if_bytes."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _pairs(reply: Any) -> dict[Any, Any]:
    """redis-py's pairs_to_dict: [f1, v1, ...] -> {f1: v1}; None (a deleted entry) -> {}."""
    if reply is None:
        return {}
    it = iter(reply)
    return dict(zip(it, it))


def _pairs_str_keys(reply: Any) -> dict[str, Any]:
    """pairs_to_dict(decode_keys=True)."""
    if reply is None:
        return {}
    return dict(zip(map(_str, reply[::2]), reply[1::2]))


def _stream_list(reply: Any, claim: bool = False) -> list[Any] | None:
    """parse_stream_list: [[id, [f, v, ...]], ...] -> [(id, {f: v}), ...]; with XREADGROUP's
    CLAIM, an entry's further elements follow its dict."""
    if reply is None:
        return None
    data: list[Any] = []
    for r in reply:
        if r is not None:
            if claim:
                data.append((r[0], _pairs(r[1]), *r[2:]))
            else:
                data.append((r[0], _pairs(r[1])))
        else:
            data.append((None, None))
    return data


def _xread(reply: Any, claim: bool = False) -> list[list[Any]]:
    """parse_xread: None (nothing read, a timeout) -> []."""
    if reply is None:
        return []
    return [[r[0], _stream_list(r[1], claim)] for r in reply]


def _xclaim(justid: bool, reply: Any) -> Any:
    return reply if justid else _stream_list(reply)


def _xautoclaim(justid: bool, reply: Any) -> Any:
    """[next start ID, claimed entries (or IDs), deleted IDs]; with justid, the claimed IDs."""
    if justid:
        return reply[1]
    return [reply[0], _stream_list(reply[1]), *reply[2:]]  # redis-py's, not in place


def _list_of_dicts(reply: Any) -> list[dict[str, Any]]:
    """parse_list_of_dicts (XINFO GROUPS, XINFO CONSUMERS)."""
    return [_pairs_str_keys(x) for x in reply]


def _xinfo_stream(full: bool, reply: Any) -> dict[str, Any]:
    """parse_xinfo_stream: first-entry / last-entry as entries; with FULL, entries as
    {id: {field: value}}, groups and their consumers as dicts with str keys."""
    data = _pairs_str_keys(reply)
    if not full:
        first = data.get("first-entry")
        if first is not None and first[0] is not None:
            data["first-entry"] = (first[0], _pairs(first[1]))
        last = data["last-entry"]
        if last is not None and last[0] is not None:
            data["last-entry"] = (last[0], _pairs(last[1]))
    else:
        data["entries"] = {_id: _pairs(entry) for _id, entry in data["entries"]}
        if len(data["groups"]) > 0 and isinstance(data["groups"][0], list):
            data["groups"] = [_pairs_str_keys(group) for group in data["groups"]]
            for g in data["groups"]:
                if g["consumers"] and g["consumers"][0] is not None:
                    g["consumers"] = [_pairs_str_keys(c) for c in g["consumers"]]
    return data


def _block(name: str, block: int | None) -> list[Any]:
    """BLOCK ms, checked as redis-py checks it."""
    if block is None:
        return []
    if not isinstance(block, int) or block < 0:
        raise DataError(f"{name} block must be a non-negative integer")
    return [b"BLOCK", str(block)]


def _read_limits(name: str, count: int | None, max_count: int | None,
                 max_size: int | None) -> list[Any]:
    """COUNT, MAXCOUNT and MAXSIZE of XREAD / XREADGROUP, checked as redis-py checks them."""
    pieces: list[Any] = []
    if count is not None:
        if not isinstance(count, int) or count < 1:
            raise DataError(f"{name} count must be a positive integer")
        pieces += [b"COUNT", str(count)]
    if max_count is not None:
        if not isinstance(max_count, int) or max_count < 1:
            raise DataError(f"{name} max_count must be a positive integer")
        if count is not None and max_count < count:
            raise DataError(f"{name} max_count must be greater than or equal to count")
        pieces += [b"MAXCOUNT", str(max_count)]
    if max_size is not None:
        if not isinstance(max_size, int) or max_size < 1:
            raise DataError(f"{name} max_size must be a positive integer")
        pieces += [b"MAXSIZE", str(max_size)]
    return pieces


def _xpending(reply: Any) -> dict[str, Any]:
    consumers = [{"name": n, "pending": int(p)} for n, p in reply[3] or []]
    return {"pending": reply[0], "min": reply[1], "max": reply[2], "consumers": consumers}


def _xpending_range(reply: Any) -> list[dict[str, Any]]:
    k = ("message_id", "consumer", "time_since_delivered", "times_delivered")
    return [dict(zip(k, r)) for r in reply]


class StreamMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def xack(self, name: KeyT, groupname: GroupT, *ids: StreamIdT) -> int:
        """XACK name group id...: how many of the IDs were pending and are acknowledged."""
        return self.execute_command("XACK", name, groupname, *ids)

    def xadd(self, name: KeyT, fields: Mapping[AnyFieldT, EncodableT],
             id: StreamIdT = "*", maxlen: int | None = None,  # noqa: A002 - redis-py's
             approximate: bool = True, nomkstream: bool = False, minid: StreamIdT | None = None,
             limit: int | None = None,
             ref_policy: Literal["KEEPREF", "DELREF", "ACKED"] | None = None,
             idmpauto: str | None = None, idmp: tuple[str, bytes] | None = None) -> Reply | None:
        """XADD name [NOMKSTREAM] [MAXLEN|MINID [~] n [LIMIT l]] id field value...: the new
        entry's ID; None with nomkstream when the stream does not exist."""
        pieces: list[Any] = []
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ```maxlen``` or ```minid``` may be specified")
        if idmpauto is not None and idmp is not None:
            raise DataError("Only one of ```idmpauto``` or ```idmp``` may be specified")
        if (idmpauto is not None or idmp is not None) and id != "*":
            raise DataError("IDMPAUTO and IDMP can only be used with id='*'")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XADD ref_policy must be one of: KEEPREF, DELREF, ACKED")
        if nomkstream:
            pieces.append(b"NOMKSTREAM")
        if ref_policy is not None:
            pieces.append(ref_policy)
        if idmpauto is not None:
            pieces.extend([b"IDMPAUTO", idmpauto])
        if idmp is not None:
            if not isinstance(idmp, tuple) or len(idmp) != 2:
                raise DataError("XADD idmp must be a tuple of (producer_id, idempotent_id)")
            pieces.extend([b"IDMP", idmp[0], idmp[1]])
        if maxlen is not None:
            if not isinstance(maxlen, int) or maxlen < 0:
                raise DataError("XADD maxlen must be non-negative integer")
            pieces.append(b"MAXLEN")
            if approximate:
                pieces.append(b"~")
            pieces.append(str(maxlen))
        if minid is not None:
            pieces.append(b"MINID")
            if approximate:
                pieces.append(b"~")
            pieces.append(minid)
        if limit is not None:
            pieces.extend([b"LIMIT", limit])
        pieces.append(id)
        if not isinstance(fields, dict) or len(fields) == 0:
            raise DataError("XADD fields must be a non-empty dict")
        for pair in fields.items():
            pieces.extend(pair)
        return self.execute_command("XADD", name, *pieces)

    # The overloads tell a type checker the reply's shape from justid.
    @overload
    def xautoclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
                   min_idle_time: int, start_id: StreamIdT = "0-0", count: int | None = None,
                   justid: Literal[False] = False) -> list[Any]: ...
    @overload
    def xautoclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
                   min_idle_time: int, start_id: StreamIdT = "0-0", count: int | None = None,
                   *, justid: Literal[True]) -> list[Reply]: ...
    @overload
    def xautoclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
                   min_idle_time: int, start_id: StreamIdT = "0-0", count: int | None = None,
                   justid: bool = False) -> list[Any]: ...

    def xautoclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
                   min_idle_time: int, start_id: StreamIdT = "0-0", count: int | None = None,
                   justid: bool = False) -> list[Any]:
        """XAUTOCLAIM name group consumer min-idle-time start [COUNT count] [JUSTID]:
        [next start ID, [(id, {field: value}), ...], [deleted IDs]]; with justid, the IDs
        claimed."""
        try:
            if int(min_idle_time) < 0:
                raise DataError("XAUTOCLAIM min_idle_time must be a nonnegative integer")
        except TypeError:
            pass
        pieces: list[Any] = [name, groupname, consumername, min_idle_time, start_id]
        try:
            if int(count) < 0:  # type: ignore[arg-type]
                raise DataError("XAUTOCLAIM count must be a integer >= 0")
            pieces.extend([b"COUNT", count])
        except TypeError:
            pass
        if justid:
            pieces.append(b"JUSTID")
        return self.execute_command("XAUTOCLAIM", *pieces,
                                    callback=partial(_xautoclaim, bool(justid)))

    @overload
    def xclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
               min_idle_time: int, message_ids: Sequence[StreamIdT], idle: int | None = None,
               time: int | None = None, retrycount: int | None = None, force: bool = False,
               justid: Literal[False] = False) -> list[StreamEntry]: ...
    @overload
    def xclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
               min_idle_time: int, message_ids: Sequence[StreamIdT], idle: int | None = None,
               time: int | None = None, retrycount: int | None = None, force: bool = False,
               *, justid: Literal[True]) -> list[Reply]: ...
    @overload
    def xclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
               min_idle_time: int, message_ids: Sequence[StreamIdT], idle: int | None = None,
               time: int | None = None, retrycount: int | None = None, force: bool = False,
               justid: bool = False) -> list[StreamEntry] | list[Reply]: ...

    def xclaim(self, name: KeyT, groupname: GroupT, consumername: ConsumerT,
               min_idle_time: int, message_ids: Sequence[StreamIdT], idle: int | None = None,
               time: int | None = None, retrycount: int | None = None, force: bool = False,
               justid: bool = False) -> list[StreamEntry] | list[Reply]:
        """XCLAIM name group consumer min-idle-time id... [IDLE ms] [TIME ms] [RETRYCOUNT n]
        [FORCE] [JUSTID]: the entries claimed as (id, {field: value}); with justid, their IDs."""
        if not isinstance(min_idle_time, int) or min_idle_time < 0:
            raise DataError("XCLAIM min_idle_time must be a non negative integer")
        if not isinstance(message_ids, (list, tuple)) or not message_ids:
            raise DataError("XCLAIM message_ids must be a non empty list or "
                            "tuple of message IDs to claim")
        pieces: list[Any] = [name, groupname, consumername, str(min_idle_time)]
        pieces.extend(list(message_ids))
        if idle is not None:
            if not isinstance(idle, int):
                raise DataError("XCLAIM idle must be an integer")
            pieces.extend((b"IDLE", str(idle)))
        if time is not None:
            if not isinstance(time, int):
                raise DataError("XCLAIM time must be an integer")
            pieces.extend((b"TIME", str(time)))
        if retrycount is not None:
            if not isinstance(retrycount, int):
                raise DataError("XCLAIM retrycount must be an integer")
            pieces.extend((b"RETRYCOUNT", str(retrycount)))
        if force:
            if not isinstance(force, bool):
                raise DataError("XCLAIM force must be a boolean")
            pieces.append(b"FORCE")
        if justid:
            if not isinstance(justid, bool):
                raise DataError("XCLAIM justid must be a boolean")
            pieces.append(b"JUSTID")
        return self.execute_command("XCLAIM", *pieces, callback=partial(_xclaim, bool(justid)))

    def xdel(self, name: KeyT, *ids: StreamIdT) -> int:
        """XDEL name id...: how many entries were deleted."""
        return self.execute_command("XDEL", name, *ids)

    def xgroup_create(self, name: KeyT, groupname: GroupT, id: StreamIdT = "$",  # noqa: A002
                      mkstream: bool = False, entries_read: int | None = None) -> bool:
        """XGROUP CREATE name group id [MKSTREAM] [ENTRIESREAD n]: True."""
        pieces: list[Any] = ["XGROUP", "CREATE", name, groupname, id]
        if mkstream:
            pieces.append(b"MKSTREAM")
        if entries_read is not None:
            pieces.extend(["ENTRIESREAD", entries_read])
        return self.execute_command(*pieces, callback=bool_ok)

    def xgroup_delconsumer(self, name: KeyT, groupname: GroupT, consumername: ConsumerT) -> int:
        """XGROUP DELCONSUMER name group consumer: how many entries the consumer had pending."""
        return self.execute_command("XGROUP", "DELCONSUMER", name, groupname, consumername)

    def xgroup_destroy(self, name: KeyT, groupname: GroupT) -> bool:
        """XGROUP DESTROY name group: whether the group existed."""
        return self.execute_command("XGROUP", "DESTROY", name, groupname, callback=bool)

    def xgroup_createconsumer(self, name: KeyT, groupname: GroupT,
                              consumername: ConsumerT) -> int:
        """XGROUP CREATECONSUMER name group consumer: 1 if created, 0 if it existed."""
        return self.execute_command("XGROUP", "CREATECONSUMER", name, groupname, consumername)

    def xgroup_setid(self, name: KeyT, groupname: GroupT, id: StreamIdT,  # noqa: A002
                     entries_read: int | None = None) -> bool:
        """XGROUP SETID name group id [ENTRIESREAD n]: True."""
        pieces: list[Any] = [name, groupname, id]
        if entries_read is not None:
            pieces.extend(["ENTRIESREAD", entries_read])
        return self.execute_command("XGROUP", "SETID", *pieces, callback=bool_ok)

    def xinfo_consumers(self, name: KeyT, groupname: GroupT) -> list[dict[str, Any]]:
        """XINFO CONSUMERS name group: a dict per consumer (name, pending, idle)."""
        return self.execute_command("XINFO", "CONSUMERS", name, groupname,
                                    callback=_list_of_dicts)

    def xinfo_groups(self, name: KeyT) -> list[dict[str, Any]]:
        """XINFO GROUPS name: a dict per group (name, consumers, pending, last-delivered-id,
        entries-read, lag)."""
        return self.execute_command("XINFO", "GROUPS", name, callback=_list_of_dicts)

    def xinfo_stream(self, name: KeyT, full: bool = False) -> dict[str, Any]:
        """XINFO STREAM name [FULL]: a dict (see _xinfo_stream for the entries' shapes)."""
        pieces: list[Any] = [name]
        if full:
            pieces.append(b"FULL")
        return self.execute_command("XINFO", "STREAM", *pieces,
                                    callback=partial(_xinfo_stream, bool(full)))

    def xlen(self, name: KeyT) -> int:
        """XLEN name: the number of entries, 0 if no key."""
        return self.execute_command("XLEN", name)

    def xpending(self, name: KeyT, groupname: GroupT) -> dict[str, Any]:
        """XPENDING name group: {"pending": n, "min": id, "max": id, "consumers":
        [{"name": consumer, "pending": n}, ...]}."""
        return self.execute_command("XPENDING", name, groupname, callback=_xpending)

    def xpending_range(self, name: KeyT, groupname: GroupT, min: StreamIdT,  # noqa: A002
                       max: StreamIdT, count: int,  # noqa: A002
                       consumername: ConsumerT | None = None,
                       idle: int | None = None) -> list[dict[str, Any]]:
        """XPENDING name group [IDLE ms] min max count [consumer]: a dict per pending entry
        (message_id, consumer, time_since_delivered, times_delivered). With min, max and count
        all None, xpending()'s summary."""
        if {min, max, count} == {None}:
            if idle is not None or consumername is not None:
                raise DataError("if XPENDING is provided with idle time or consumername, it "
                                "must be provided with min, max and count parameters")
            return self.xpending(name, groupname)  # type: ignore[return-value]
        pieces: list[Any] = [name, groupname]
        if min is None or max is None or count is None:
            raise DataError("XPENDING must be provided with min, max and count parameters, or "
                            "none of them.")
        try:
            if int(idle) < 0:  # type: ignore[arg-type]
                raise DataError("XPENDING idle must be a integer >= 0")
            pieces.extend(["IDLE", idle])
        except TypeError:
            pass
        try:
            if int(count) < 0:
                raise DataError("XPENDING count must be a integer >= 0")
            pieces.extend([min, max, count])
        except TypeError:
            pass
        if consumername is not None:
            pieces.append(consumername)
        return self.execute_command("XPENDING", *pieces, callback=_xpending_range)

    def xrange(self, name: KeyT, min: StreamIdT = "-", max: StreamIdT = "+",  # noqa: A002
               count: int | None = None) -> list[StreamEntry]:
        """XRANGE name min max [COUNT n]: [(id, {field: value}), ...]."""
        pieces: list[Any] = [min, max]
        if count is not None:
            if not isinstance(count, int) or count < 1:
                raise DataError("XRANGE count must be a positive integer")
            pieces.append(b"COUNT")
            pieces.append(str(count))
        return self.execute_command("XRANGE", name, *pieces, callback=_stream_list)

    def xread(self, streams: Mapping[AnyKeyT, StreamIdT], count: int | None = None,
              block: int | None = None, max_count: int | None = None,
              max_size: int | None = None) -> XReadResult:
        """XREAD [BLOCK ms] [COUNT n] STREAMS key... id...: [[stream, [(id, {f: v}), ...]],
        ...], [] if nothing (or on timeout)."""
        pieces: list[Any] = _block("XREAD", block)
        pieces += _read_limits("XREAD", count, max_count, max_size)
        if not isinstance(streams, dict) or len(streams) == 0:
            raise DataError("XREAD streams must be a non empty dict")
        pieces.append(b"STREAMS")
        keys, values = zip(*streams.items())
        pieces.extend(keys)
        pieces.extend(values)
        return self.execute_command("XREAD", *pieces, callback=_xread)

    def xreadgroup(self, groupname: GroupT, consumername: ConsumerT,
                   streams: Mapping[AnyKeyT, StreamIdT], count: int | None = None,
                   block: int | None = None, noack: bool = False,
                   claim_min_idle_time: int | None = None, max_count: int | None = None,
                   max_size: int | None = None) -> XReadResult:
        """XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...:
        as xread ([] if nothing, or on timeout)."""
        pieces: list[Any] = [b"GROUP", groupname, consumername]
        pieces += _read_limits("XREADGROUP", count, max_count, max_size)
        pieces += _block("XREADGROUP", block)
        if noack:
            pieces.append(b"NOACK")
        claim = False
        if claim_min_idle_time is not None:
            if not isinstance(claim_min_idle_time, int) or claim_min_idle_time < 0:
                raise DataError("XREADGROUP claim_min_idle_time must be a non-negative integer")
            pieces.append(b"CLAIM")
            pieces.append(claim_min_idle_time)
            claim = True
        if not isinstance(streams, dict) or len(streams) == 0:
            raise DataError("XREADGROUP streams must be a non empty dict")
        pieces.append(b"STREAMS")
        pieces.extend(streams.keys())
        pieces.extend(streams.values())
        return self.execute_command("XREADGROUP", *pieces, callback=partial(_xread, claim=claim))

    def xrevrange(self, name: KeyT, max: StreamIdT = "+", min: StreamIdT = "-",  # noqa: A002
                  count: int | None = None) -> list[StreamEntry]:
        """XREVRANGE name max min [COUNT n]: [(id, {field: value}), ...], newest first."""
        pieces: list[Any] = [max, min]
        if count is not None:
            if not isinstance(count, int) or count < 1:
                raise DataError("XREVRANGE count must be a positive integer")
            pieces.append(b"COUNT")
            pieces.append(str(count))
        return self.execute_command("XREVRANGE", name, *pieces, callback=_stream_list)

    def xtrim(self, name: KeyT, maxlen: int | None = None, approximate: bool = True,
              minid: StreamIdT | None = None, limit: int | None = None,
              ref_policy: Literal["KEEPREF", "DELREF", "ACKED"] | None = None) -> int:
        """XTRIM name MAXLEN|MINID [~] threshold [LIMIT l]: how many entries were removed."""
        pieces: list[Any] = []
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ``maxlen`` or ``minid`` may be specified")
        if maxlen is None and minid is None:
            raise DataError("One of ``maxlen`` or ``minid`` must be specified")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XTRIM ref_policy must be one of: KEEPREF, DELREF, ACKED")
        if maxlen is not None:
            pieces.append(b"MAXLEN")
        if minid is not None:
            pieces.append(b"MINID")
        if approximate:
            pieces.append(b"~")
        if maxlen is not None:
            pieces.append(maxlen)
        if minid is not None:
            pieces.append(minid)
        if limit is not None:
            pieces.append(b"LIMIT")
            pieces.append(limit)
        if ref_policy is not None:
            pieces.append(ref_policy)
        return self.execute_command("XTRIM", name, *pieces)
