"""SAVE, BGSAVE and BGREWRITEAOF (LASTSAVE lives in commands/admin.py and reads the same state).

Registered here rather than in kvstore/commands because they drive the persistence layer, which
itself replays AOFs through the command table: persistence sits above the commands, so the
commands package must not import it. The host (server or embedded store) imports this module,
and attaches its `Persistence` as `keyspace.persistence`; without one (an embedded store opened
without a path) the commands reply with an error instead of writing anywhere.

Replies and error texts are Redis 7.0's (rdb.c bgsaveCommand, aof.c bgrewriteaofCommand).
"""

from __future__ import annotations

from ..commands.table import ADMIN, NO_ASYNC_LOADING, NO_MULTI, NOSCRIPT, Context, command
from ..errors import SYNTAX, CommandError
from ..replies import OK, Status

NO_PERSISTENCE = "ERR persistence is not enabled (open the store with a path)"


def _persistence(ctx: Context):
    p = getattr(ctx.ks, "persistence", None)
    if p is None:
        raise CommandError(NO_PERSISTENCE)
    return p


@command("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def save(ctx: Context, argv: list[bytes]):
    """SAVE"""
    p = _persistence(ctx)
    if p.child is not None and p.child[0] == "bgsave":
        raise CommandError("ERR Background save already in progress")
    p.saves += 1  # (not the saves FLUSHALL and SHUTDOWN make: Redis counts the command)
    try:
        p.save()
    except OSError:
        raise CommandError("ERR") from None
    return OK


@command("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def bgsave(ctx: Context, argv: list[bytes]):
    """BGSAVE [SCHEDULE]"""
    schedule = False
    if len(argv) > 1:
        if len(argv) == 2 and argv[1].lower() == b"schedule":
            schedule = True
        else:
            raise CommandError(SYNTAX)
    p = _persistence(ctx)
    if p.child is not None and p.child[0] == "bgsave":
        raise CommandError("ERR Background save already in progress")
    if p.child is not None or p.in_exec:
        if schedule or p.in_exec:
            p.bgsave_scheduled = True
            return Status("Background saving scheduled")
        raise CommandError(
            "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
            "SCHEDULE in order to schedule a BGSAVE whenever possible.")
    try:
        return Status(p.bgsave())
    except OSError:  # the fork refused (logged): Redis's bare error
        raise CommandError("ERR") from None


@command("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def bgrewriteaof(ctx: Context, argv: list[bytes]):
    """BGREWRITEAOF"""
    p = _persistence(ctx)
    if p.child is not None and p.child[0] == "aof":
        raise CommandError("ERR Background append only file rewriting already in progress")
    if p.child is not None or p.in_exec:
        p.rewrite_scheduled = True
        p.rewrite_failures = 0  # (asked for: tried at once, whatever failed before)
        return Status("Background append only file rewriting scheduled")
    try:
        return Status(p.bgrewriteaof())
    except OSError:  # (the fork, or a file: logged)
        raise CommandError("ERR Can't execute an AOF background rewriting. Please check the "
                           "server logs for more information.") from None
