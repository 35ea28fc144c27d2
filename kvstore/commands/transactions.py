"""Transactions: MULTI EXEC DISCARD WATCH UNWATCH (Redis 7.0 `multi.c`).

The handlers only check the command-level rules; the connection state (the queue, the watched
keys, the CAS flag) and running the queue live with the connection in `kvstore.server.states`
and `kvstore.server.blocking`, because queueing happens before dispatch (the WATCH registry and
its rules are `watching`, shared with the memory:// connections). In the embedded store
(`ctx.client` is None) there is no connection: MULTI/EXEC are refused there (the client library
builds pipelines itself), WATCH and UNWATCH are accepted and do nothing.
"""

from __future__ import annotations

from ..errors import CommandError
from ..replies import OK
from .table import (
    ALLOW_BUSY, COMMANDS, FAST, LOADING, NOSCRIPT, SKIP_SLOWLOG, STALE, Context, KeySpec, command,
)

NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT = "ERR EXEC without MULTI"
DISCARD_WITHOUT = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"
NO_CONNECTION = "ERR MULTI is not supported by the embedded store: use a pipeline"

_FLAGS = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY


def _in_multi(ctx: Context) -> bool:
    from ..server.client import MULTI

    return ctx.client is not None and bool(ctx.client.state & MULTI)


@command("multi", 1, _FLAGS, group="transactions")
def multi(ctx: Context, argv: list[bytes]):
    """MULTI

    Complexity: O(1).  Reply: OK; later commands are queued until EXEC or DISCARD.
    """
    if ctx.client is None:
        raise CommandError(NO_CONNECTION)
    if _in_multi(ctx):
        raise CommandError(NESTED)
    from ..server.states import begin

    begin(ctx.client)
    return OK


@command("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, group="transactions")
def exec_(ctx: Context, argv: list[bytes]):
    """EXEC

    Complexity: the queued commands'.  Reply: array of their replies (errors in place), a null
    array if a watched key changed, EXECABORT if a command was rejected while queueing.
    """
    try:
        if not _in_multi(ctx):
            raise CommandError(EXEC_WITHOUT)
        from ..server.states import run_exec

        return run_exec(ctx.client)
    finally:
        server = ctx.client.server if ctx.client is not None else None
        if server is not None and server.monitors:  # as Redis: after the commands it ran
            server.monitor_command(ctx.client, COMMANDS[b"exec"], argv)


@command("discard", 1, _FLAGS, group="transactions")
def discard(ctx: Context, argv: list[bytes]):
    """DISCARD

    Complexity: O(N) queued commands.  Reply: OK.
    """
    if not _in_multi(ctx):
        raise CommandError(DISCARD_WITHOUT)
    from ..server.states import discard as drop

    drop(ctx.client)
    return OK


@command("watch", -2, _FLAGS, KeySpec(1, -1, 1), "transactions")
def watch(ctx: Context, argv: list[bytes]):
    """WATCH key [key ...]

    Complexity: O(1) per key.  Reply: OK.
    """
    if _in_multi(ctx):
        raise CommandError(WATCH_IN_MULTI)
    client = ctx.client
    if client is not None:
        from ..server.blocking import watch as add

        db = ctx.db
        for key in argv[1:]:
            add(client, db, key, ctx.now)
    return OK


@command("unwatch", 1, _FLAGS, group="transactions")
def unwatch(ctx: Context, argv: list[bytes]):
    """UNWATCH

    Complexity: O(N) watched keys.  Reply: OK.
    """
    if ctx.client is not None:
        from ..server.blocking import unwatch as drop

        drop(ctx.client)
    return OK
