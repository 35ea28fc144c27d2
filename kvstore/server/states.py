"""The slow path of connections in MULTI, in RESP2 subscribed mode, or blocked.

Theory of operation. `Client.data_received` sends a command here only when one of the state bits
MULTI, SUBSCRIBED or BLOCKED is set, so plain GET/SET never come near this module (one integer
test per command, shared with the other state bits).

* BLOCKED: the command is stashed in `client.pending`; it runs after the client is unblocked
  (see blocking.py), as Redis leaves it in the query buffer.
* MULTI: every command is looked up and checked as Redis's processCommand does before it
  queues: an unknown command, a wrong arity, or a refusal by the server's state (`refusal`:
  over maxmemory, AOF write error) is an error that makes EXEC fail with EXECABORT (Redis's
  `rejectCommand` -> `flagTransaction`), EXEC, DISCARD, MULTI and WATCH included. Then EXEC,
  DISCARD, MULTI, WATCH, QUIT and RESET run as usual; anything else is queued, replying +QUEUED.
  An EXEC rejected itself (wrong arity, before AUTH, refused) discards the transaction at once,
  in MULTI or not (`abort_exec`). `run_exec` runs the queue as one batch: no other client runs
  in between, blocked clients are served after the whole transaction, and its writes (with
  those of the scripts it runs) are propagated as Redis 7.0 does (`UnitLog`): one alone, two or
  more wrapped in MULTI ... EXEC, the markers through the same write hooks. As in
  Redis's execCommand, the watched keys are dropped first, but the MULTI bit and the queue stay
  until the queue has run, so CLIENT LIST shows `flags=x multi=<queued> cmd=exec` meanwhile.
* SUBSCRIBED (RESP2 with at least one subscription): only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE,
  PING, QUIT and RESET; PING replies ["pong", message]. RESP3 clients never get this bit.
"""

from __future__ import annotations

from time import perf_counter

from ..commands.table import (ALLOW_BUSY, DENYOOM, LOADING, LOGGED, NO_MULTI, READONLY,
                              SKIP_MONITOR, STALE, WRITE, UnitLog, resolve)
from ..commands.watching import watched_key_expired
from ..errors import MASTERDOWN, CommandError
from ..replies import NULL_ARRAY, Encoded, Error, Frames
from . import acl
from .acl import ACL_CHECK
from .blocking import unwatch
from .client import BLOCKED, DROP_LAST, MULTI, SUBSCRIBED, TRACKING, _error_line
from .loading import LOADING_TEXT
from .memory import OOM_TEXT

READONLY_TEXT = "READONLY You can't write against a read only replica."
NOREPLICAS_TEXT = "NOREPLICAS Not enough good replicas to write."

EXECABORT = "EXECABORT Transaction discarded because of previous errors."
_ACL_CHANGED = ("NOPERM ACLs rules changed between the moment the transaction was accumulated and "
                "the EXEC call. This command is no longer allowed for the following reason: ")
_ACL_REASONS = {acl.DENIED_CMD: "no permission to execute the command or subcommand",
                acl.DENIED_KEY: "no permission to touch the specified keys",
                acl.DENIED_CHANNEL: "no permission to access one of the channels used as "
                                    "arguments"}
_QUEUED = b"+QUEUED\r\n"
_IN_MULTI = {b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"}
# Over maxmemory, a client in MULTI may not even queue (the queue takes memory too): Redis refuses
# every command then, except these, where outside MULTI it refuses only DENYOOM commands.
_OOM_EXEMPT_IN_MULTI = {b"exec", b"discard", b"quit", b"reset"}
SUBSCRIBED_OK = {b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe",
                  b"sunsubscribe", b"ping", b"quit", b"reset"}
_SUBSCRIBED_ERR = ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                   "/ RESET are allowed in this context")


def special(client, argv: list[bytes], parts: list[bytes]) -> bool:
    """Returns True when the command was handled here (reply appended, or stashed)."""
    state = client.state
    if state & BLOCKED:
        client.pending.append(argv)
        return True
    name = argv[0].lower()
    if state & MULTI:
        try:
            cmd = client.lookup(argv)
        except CommandError as exc:
            if name == b"exec":
                return False  # the normal path replies and discards the transaction
            client.last_cmd = cmd = resolve(argv)  # (NULL for an unknown one, as Redis's)
            return _reject(client, cmd, argv, str(exc), parts)
        client.last_cmd = cmd  # Redis's lastcmd: CLIENT LIST shows the command last queued
        if cmd.flags & NO_MULTI:  # SAVE, SHUTDOWN: Redis refuses them before any other check
            return _reject(client, cmd, argv, "ERR Command not allowed inside a transaction",
                           parts)
        if client.state & ACL_CHECK:
            refused = client.acl_refusal(cmd, argv, "multi")
            if refused is not None:
                return _reject(client, cmd, argv, refused[1], parts)
        text = refusal(client, cmd, name, argv) if client.server.gate else None
        if text is not None:
            return _reject(client, cmd, argv, text, parts)
        if name in _IN_MULTI:
            return False
        # Once EXEC is bound to fail, Redis's queueMultiCommand stores nothing more (CLIENT
        # LIST's multi= shows it).
        if not (client.multi_error or client.dirty_cas):
            client.queue.append((cmd, argv))
        parts.append(_QUEUED)
        return True
    if state & SUBSCRIBED:
        try:
            cmd = client.lookup(argv)
        except CommandError:
            return False  # the normal path replies with the lookup error
        client.last_cmd = cmd  # Redis's lastcmd is set before the check: CLIENT LIST cmd=get
        if name not in SUBSCRIBED_OK:
            text = _SUBSCRIBED_ERR % cmd.name
            if name == b"exec":
                text = abort_exec(client, text, argv)
            client.server.count_error(text, cmd)  # commandstats' rejected_calls
            parts.append(_error_line(text))
            return True
        if name == b"ping" and client.server.busy is None and client.server.loading is None:
            cmd.calls += 1
            msg = argv[1] if len(argv) > 1 else b""
            parts.append(b"*2\r\n$4\r\npong\r\n$%d\r\n%b\r\n" % (len(msg), msg))
            return True
    return False


def _reject(client, cmd, argv: list[bytes], text: str, parts: list[bytes]) -> bool:
    """Redis's rejectCommand in MULTI: EXEC will abort; a rejected EXEC aborts at once."""
    if argv[0].lower() == b"exec":
        text = abort_exec(client, text, argv)
    else:
        client.multi_error = True
    client.server.count_error(text, cmd)
    parts.append(_error_line(text))
    return True


def refusal(client, cmd, name: bytes, argv: list[bytes]) -> str | None:
    """Why Redis's processCommand would refuse `cmd` in the server's present state: over
    maxmemory (OOM), then an AOF that cannot be written (MISCONF), then a write without
    min-replicas-to-write good replicas (NOREPLICAS), then a write to a read-only replica
    (READONLY), a command a replica cut off from its master may not serve (MASTERDOWN), then
    any but a few while the data set loads (LOADING) or a script is busy (BUSY); None to go on.
    EXEC is judged by the commands it would run, as in Redis (but for BUSY: by its own flags)."""
    if client.is_master:
        return None  # the master's stream is never refused (a replica ignores maxmemory)
    server = client.server
    # (every command pays this while the gate is up: the plain case without a call)
    flags = cmd.flags if cmd.dynamic_flags is None else cmd.flags_for(client.ctx, argv)
    in_multi = client.state & MULTI
    may_load = flags & LOADING
    may_stale = flags & STALE
    if name == b"exec" and in_multi:
        # (what one queued command may not do, EXEC may not: flags that allow, like LOADING
        # and STALE, must be on all of them, Redis's cmd_inv_flags)
        for queued, queued_argv in client.queue:
            queued_flags = queued.flags_for(client.ctx, queued_argv)
            flags |= queued_flags
            may_load &= queued_flags
            may_stale &= queued_flags
    memory = server.memory
    busy = server.busy
    # Redis evicts before every command (a GET too), and refuses only those that may grow
    # memory; not while a script is busy
    if memory.maxmemory > 0 and busy is None:
        tracking = server.tracking
        tracking.evicting_first = True
        try:
            room = memory.make_room()
        finally:
            tracking.evicting_first = False
        if not room and (flags & DENYOOM or in_multi and name not in _OOM_EXEMPT_IN_MULTI):
            return OOM_TEXT
    p = server.persistence
    if p is not None and p.write_error is not None and (flags & WRITE or name == b"ping"):
        return p.misconf_text()  # Redis refuses writes (and PING) while the AOF fails
    if flags & WRITE:
        text = write_refusal(client)
        if text is not None:
            return text
    link = server.master_link
    if link is not None and not may_stale and link.state != "connected" \
            and not server.config["replica-serve-stale-data"]:
        return MASTERDOWN
    if server.loading is not None and not may_load:
        return LOADING_TEXT
    if busy is not None and not cmd.flags & ALLOW_BUSY:
        return busy.text
    return None


def write_refusal(client) -> str | None:
    """Why any write from `client` is refused now: too few good replicas (NOREPLICAS), then a
    read-only replica (READONLY); for `refusal` and for the writes inside scripts."""
    server = client.server
    if not server.replication.enough_replicas():
        return NOREPLICAS_TEXT
    if server.master_link is not None and server.config["replica-read-only"] \
            and not client.is_master:
        return READONLY_TEXT
    return None


def begin(client) -> None:
    client.state |= MULTI
    client.queue = []
    client.multi_error = False


def discard(client) -> None:
    client.state &= ~MULTI
    client.queue = []
    client.multi_error = False
    unwatch(client)


def abort_exec(client, text: str, argv: list[bytes]) -> str:
    """A rejected EXEC (wrong arity, no AUTH) discards the transaction, in MULTI or not, is
    shown to MONITORs, and replies why (Redis's rejectCommand -> execCommandAbort). Returns the
    error text."""
    discard(client)
    if client.server.monitors:
        client.server.feed_monitors(client, argv)
    return "EXECABORT Transaction discarded because of: " + text.removeprefix("ERR ")


def run_exec(client):
    """EXEC: the replies of the queued commands, NULL_ARRAY when a watched key changed."""
    queue, aborted = client.queue, client.multi_error
    discard_watch = client.dirty_cas
    ctx = client.ctx
    ks = ctx.ks
    server = client.server
    if not discard_watch and client.watched:
        discard_watch = watched_key_expired(client, ks.clock())
    if aborted or discard_watch:
        discard(client)
        if aborted:
            raise CommandError(EXECABORT)
        return NULL_ARRAY
    unwatch(client)  # first, as Redis's execCommand does; MULTI and the queue stay until the end
    keywatch = server.keywatch
    replies = []
    append = replies.append

    def propagate(ctx, argv: list[bytes]) -> None:
        hook = server.propagate  # (looked up each time: CONFIG SET appendonly inside)
        if hook is not None:
            hook(ctx, argv)

    p = server.persistence
    unit = ctx.unit = UnitLog(propagate, p.mark if p is not None else None)
    if p is not None:
        p.in_exec = True  # (no fork in the middle of the transaction: BGSAVE... scheduled)
    ctx.in_multi = True
    keywatch.defer = True
    now = ks.clock()  # time stands still during EXEC, as in Redis: no key expires midway
    # Pushes the commands send their own client (its keyspace notifications, a PUBLISH to its
    # own channel) go among the replies, as Redis writes them inside the EXEC array: each
    # command's are caught (`client.out`, and `kept_pushes` for those after its reply) and,
    # once there is one, the reply becomes `framed`: the header, replies and pushes in order.
    out = client.out
    catch = out is not None and not client.state & DROP_LAST
    framed = None
    try:
        for cmd, argv in queue:
            ctx.now = now
            ctx.effects = None
            dirty = ks.dirty
            start = perf_counter()
            if catch:
                client.out = own = []
                client.in_exec = cmd  # (which says where its notifications go: pubsub.py)
            try:
                if client.state & ACL_CHECK:  # rules may have changed since it was queued
                    refused = client.acl_refusal(cmd, argv, "multi")
                    if refused is not None:
                        text = _ACL_CHANGED + _ACL_REASONS[refused[0]]
                        server.count_error(text, None)
                        append(Error(text))
                        if framed is not None:
                            framed.append(replies[-1])
                        continue
                if server.monitors and cmd.flags & SKIP_MONITOR:
                    # a script shows itself before the commands it runs (Redis's evalCommand)
                    server.monitor_command(client, cmd, argv)
                reply = cmd.handler(ctx, argv)
            except CommandError as exc:
                cmd.failed += 1
                if not exc.counted:
                    server.count_error(str(exc), None)
                reply = Error(str(exc))
            except Exception as exc:  # a bug (see Client.data_received)
                cmd.failed += 1
                reply = Error(server.internal_error(exc, cmd))
            server.timed(client, cmd, argv, perf_counter() - start)
            cmd.calls += 1
            append(reply)
            if catch:
                after = client.kept_pushes
                if own or after:
                    if framed is None:
                        framed = Frames([Encoded(b"*%d\r\n" % len(queue)), *replies[:-1]])
                    if own:
                        framed.append(Encoded(b"".join(own)))
                    framed.append(reply)
                    if after:
                        framed.append(Encoded(b"".join(after)))
                        client.kept_pushes = []
                elif framed is not None:
                    framed.append(reply)
            if client.state & TRACKING and cmd.flags & READONLY:
                server.tracking.remember(client, cmd, cmd.keys(argv))
            if server.monitors and not cmd.flags & SKIP_MONITOR:  # (as Redis's call(): after)
                server.monitor_command(client, cmd, argv)
            if ks.dirty != dirty and cmd.flags & LOGGED:
                unit.write(ctx, argv)
            if client.state & BLOCKED:
                # A busy script's SHUTDOWN NOSAVE (busy.py): Redis exits there and then, with
                # nothing of the transaction propagated. (No command blocks in EXEC otherwise.)
                if server.persistence is not None:
                    unit.abandon(server.persistence.revert)
                break
        unit.close(ctx)
    finally:
        ctx.unit = None
        ctx.in_multi = False
        if p is not None:
            p.in_exec = False
        keywatch.defer = False
        discard(client)
        if catch:
            client.out, client.in_exec = out, None
    if keywatch.ready:
        keywatch.serve_ready()
    return replies if framed is None else framed


def reset_client(client) -> None:
    """RESET: leave MULTI, unwatch, unsubscribe from everything."""
    discard(client)
    pubsub = client.server.pubsub
    pubsub.drop_client(client)
    client.state &= ~SUBSCRIBED


def disconnect(client) -> None:
    """connection_lost: a client leaves no queue, watch, subscription or waiter behind."""
    server = client.server
    server.keywatch.drop_client(client)
    if client.subs or client.psubs or client.ssubs:
        server.pubsub.drop_client(client)


__all__ = ["EXECABORT", "abort_exec", "begin", "disconnect", "discard", "refusal", "reset_client",
           "run_exec", "special"]
