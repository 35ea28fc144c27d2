"""Blocking pops: BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP (Redis 7.0 `t_list.c`), BZPOPMIN
BZPOPMAX BZMPOP (`t_zset.c`), and CLIENT UNBLOCK.

Each handler parses its arguments in Redis's order (the timeout first for BLPOP/BRPOP, as
`blockingPopGenericCommand` does), then tries the non-blocking pop (the `serve_*` helpers of
lists.py, which also set the AOF effects: LPOP/RPOP/LMOVE). With no data it blocks the
connection through the server (`server.keywatch.block`), handing over a `serve(ctx, key)` that
pops from the key that became ready (the zset pops use zsets.py's `zpop`). Inside MULTI, or without a connection (embedded store),
a blocking command never blocks: it replies as on timeout, a null array.
"""

from __future__ import annotations

from ..engine.values import List
from ..engine.zset import ZSet
from ..errors import CommandError, subcommand_syntax
from ..replies import NULL_ARRAY
from .lists import (
    LEFT, RIGHT, mpop_keys, parse_mpop, parse_where, serve_move, serve_mpop, serve_pop,
)
from .args import to_int
from .zsets import numkeys_keys, with_own_pushes, zpop
from .zsets import parse_mpop as zset_parse_mpop
from .table import (
    ADMIN, BLOCKING, DENYOOM, FAST, LOADING, NOSCRIPT, STALE, WRITE, Context, KeySpec, command,
    popped_from,
)


def _timeout(arg: bytes) -> int:
    from ..server.blocking import parse_timeout

    return parse_timeout(arg)


def _block(ctx: Context, keys: list[bytes], timeout_ms: int, serve, argv, cls=List) -> object:
    """Block, or the immediate null array when this connection may not block."""
    client = ctx.client
    if client is None or ctx.in_multi:
        return NULL_ARRAY
    client.server.keywatch.block(ctx, keys, timeout_ms, cls, serve, argv)
    return None  # dropped: the real reply is sent when served or timed out


def _bpop(ctx: Context, argv: list[bytes], where: int):
    timeout = _timeout(argv[-1])
    keys = argv[1:-1]
    reply = popped_from(ctx, argv, serve_pop(ctx, keys, where))
    if reply is not None:
        return reply
    return _block(ctx, keys, timeout,
                  lambda c, key: popped_from(c, argv, serve_pop(c, [key], where)), argv)


@command("blpop", -3, WRITE | NOSCRIPT | BLOCKING, KeySpec(1, -2, 1), "list")
def blpop(ctx: Context, argv: list[bytes]):
    """BLPOP key [key ...] timeout

    Complexity: O(N) keys.  Reply: [key, element], or a null array on timeout.
    """
    return _bpop(ctx, argv, LEFT)


@command("brpop", -3, WRITE | NOSCRIPT | BLOCKING, KeySpec(1, -2, 1), "list")
def brpop(ctx: Context, argv: list[bytes]):
    """BRPOP key [key ...] timeout

    Complexity: O(N) keys.  Reply: [key, element], or a null array on timeout.
    """
    return _bpop(ctx, argv, RIGHT)


def _bmove(ctx: Context, argv: list[bytes], wherefrom: int, whereto: int, timeout: int,
           rpoplpush: bool = False):
    src, dst = argv[1], argv[2]
    value = serve_move(ctx, src, dst, wherefrom, whereto, rpoplpush,
                       None if rpoplpush else argv[3:5], argv)
    if value is not None or ctx.client is None or ctx.in_multi:
        return value  # not blocking: LMOVE's null bulk (a timeout's reply is a null array)
    return _block(ctx, [src], timeout,
                  lambda c, key: serve_move(c, src, dst, wherefrom, whereto, rpoplpush), argv)


@command("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, KeySpec(1, 2, 1), "list")
def brpoplpush(ctx: Context, argv: list[bytes]):
    """BRPOPLPUSH source destination timeout

    Complexity: O(1).  Reply: the element moved, or a null array on timeout.
    """
    return _bmove(ctx, argv, RIGHT, LEFT, _timeout(argv[3]), rpoplpush=True)


@command("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, KeySpec(1, 2, 1), "list")
def blmove(ctx: Context, argv: list[bytes]):
    """BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout

    Complexity: O(1).  Reply: the element moved, or a null array on timeout.
    """
    wherefrom = parse_where(argv[3])
    whereto = parse_where(argv[4])
    return _bmove(ctx, argv, wherefrom, whereto, _timeout(argv[5]))


def _blmpop_keys(argv: list[bytes]) -> list[bytes]:
    return mpop_keys(argv, 2)


@command("blmpop", -5, WRITE | BLOCKING, KeySpec(), "list", getkeys=_blmpop_keys)
def blmpop(ctx: Context, argv: list[bytes]):
    """BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]

    Complexity: O(N + M) keys and elements.  Reply: [key, [elements]], or a null array.
    """
    keys, where, count = parse_mpop(argv, 2)  # Redis checks these before the timeout
    timeout = _timeout(argv[1])
    reply = popped_from(ctx, argv, serve_mpop(ctx, keys, where, count))
    if reply is not None:
        return reply
    return _block(ctx, keys, timeout,
                  lambda c, key: popped_from(c, argv, serve_mpop(c, [key], where, count)), argv)


@command("client|unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_unblock(ctx: Context, argv: list[bytes]):
    """CLIENT UNBLOCK client-id [TIMEOUT | ERROR]

    Complexity: O(log N).  Reply: 1 if the client was blocked and is now unblocked, else 0.
    """
    cid = to_int(argv[2])
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason == b"error":
            error = True
        elif reason != b"timeout":
            raise CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    elif len(argv) > 4:
        raise subcommand_syntax(argv)
    if ctx.client is None:
        return 0
    server = ctx.client.server
    target = server.clients.get(cid)
    if target is None:
        return 0
    return int(server.keywatch.client_unblock(target, error)
               or server.replication.unblock(target, error))


# -- sorted sets (Redis 7.0 t_zset.c) ---------------------------------------------------------------

def _zpop_one(ctx: Context, keys: list[bytes], maximum: bool):
    """BZPOPMIN/BZPOPMAX without blocking: [key, member, score] from the first non-empty zset,
    or None. The effect Redis propagates is ZPOPMIN/ZPOPMAX key."""
    db = ctx.db
    for key in keys:
        zs = db.lookup_typed(key, ctx.now, ZSet)
        if zs:
            member, score = zpop(ctx, key, zs, maximum, 1)[0]
            ctx.effects = [[b"ZPOPMAX" if maximum else b"ZPOPMIN", key]]
            return [key, member, score]
    return None


def _zmpop(ctx: Context, keys: list[bytes], maximum: bool, count: int):
    """BZMPOP without blocking: [key, [[member, score], ...]] or None; the effect is
    ZPOPMIN/ZPOPMAX key <popped count>."""
    db = ctx.db
    for key in keys:
        zs = db.lookup_typed(key, ctx.now, ZSet)
        if zs:
            pairs = zpop(ctx, key, zs, maximum, count)
            ctx.effects = [[b"ZPOPMAX" if maximum else b"ZPOPMIN", key, b"%d" % len(pairs)]]
            return [key, [[m, s] for m, s in pairs]]
    return None


def _bzpop(ctx: Context, argv: list[bytes], maximum: bool):
    timeout = _timeout(argv[-1])
    keys = argv[1:-1]
    reply = popped_from(ctx, argv, _zpop_one(ctx, keys, maximum))
    if reply is not None:
        return with_own_pushes(ctx, reply, 2)
    return _block(ctx, keys, timeout,
                  lambda c, key: popped_from(c, argv, _zpop_one(c, [key], maximum)), argv, ZSet)


@command("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KeySpec(1, -2, 1), "sorted-set")
def bzpopmin(ctx: Context, argv: list[bytes]):
    """BZPOPMIN key [key ...] timeout

    Complexity: O(log N).  Reply: [key, member, score], or a null array on timeout.
    """
    return _bzpop(ctx, argv, False)


@command("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, KeySpec(1, -2, 1), "sorted-set")
def bzpopmax(ctx: Context, argv: list[bytes]):
    """BZPOPMAX key [key ...] timeout

    Complexity: O(log N).  Reply: [key, member, score], or a null array on timeout.
    """
    return _bzpop(ctx, argv, True)


def _bzmpop_keys(argv: list[bytes]) -> list[bytes]:
    return numkeys_keys(argv, 2)


@command("bzmpop", -5, WRITE | BLOCKING, KeySpec(), "sorted-set", getkeys=_bzmpop_keys)
def bzmpop(ctx: Context, argv: list[bytes]):
    """BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]

    Complexity: O(K + M log N).  Reply: [key, [[member, score], ...]], or a null array.
    """
    keys, maximum, count = zset_parse_mpop(argv, 2)  # Redis checks these before the timeout
    timeout = _timeout(argv[1])
    reply = popped_from(ctx, argv, _zmpop(ctx, keys, maximum, count))
    if reply is not None:
        return with_own_pushes(ctx, reply, 3)
    return _block(ctx, keys, timeout,
                  lambda c, key: popped_from(c, argv, _zmpop(c, [key], maximum, count)), argv,
                  ZSet)
