"""The slow path of connections in MULTI, in RESP2 subscribed mode, or blocked.

Theory of operation. `Client.data_received` sends a command here only when one of the state bits
MULTI, SUBSCRIBED or BLOCKED is set, so plain GET/SET never come near this module (one integer
test per command, shared with the other state bits).

* BLOCKED: the command is stashed in `client.pending`; it runs after the client is unblocked
  (see blocking.py), as Redis leaves it in the query buffer.
* MULTI: EXEC, DISCARD, MULTI, WATCH, QUIT and RESET run as usual; anything else is looked up
  (unknown command and wrong arity are errors that make EXEC fail with EXECABORT, Redis's
  `flagTransaction`) and queued, replying +QUEUED. An EXEC rejected itself (wrong arity, before
  AUTH) discards the transaction at once, in MULTI or not (`abort_exec`). `run_exec` runs the
  queue as one batch: no other client runs in between, blocked clients are served after the
  whole transaction, and the writes are propagated wrapped in MULTI ... EXEC (the markers go
  through the same write hooks, only when at least one queued command changed something, like
  Redis's lazy MULTI propagation).
* SUBSCRIBED (RESP2 with at least one subscription): only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE,
  PING, QUIT and RESET; PING replies ["pong", message]. RESP3 clients never get this bit.
"""

from __future__ import annotations

from ..commands.table import WRITE, lookup
from ..commands.watching import watched_key_expired
from ..errors import CommandError
from ..replies import NULL_ARRAY, Error
from .blocking import unwatch
from .client import BLOCKED, MULTI, SUBSCRIBED, _error_line

EXECABORT = "EXECABORT Transaction discarded because of previous errors."
_QUEUED = b"+QUEUED\r\n"
_IN_MULTI = {b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"}
_SUBSCRIBED_OK = {b"subscribe", b"unsubscribe", b"psubscribe", b"punsubscribe", b"ssubscribe",
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
        if name in _IN_MULTI:
            return False
        try:
            cmd = lookup(argv)
        except CommandError as exc:
            client.multi_error = True
            client.server.count_error(str(exc), None)
            parts.append(_error_line(str(exc)))
            return True
        client.queue.append((cmd, argv))
        parts.append(_QUEUED)
        return True
    if state & SUBSCRIBED:
        try:
            cmd = lookup(argv)
        except CommandError:
            return False  # the normal path replies with the lookup error
        if name not in _SUBSCRIBED_OK:
            text = _SUBSCRIBED_ERR % cmd.name
            client.server.count_error(text, None)
            parts.append(_error_line(text))
            return True
        if name == b"ping":
            msg = argv[1] if len(argv) > 1 else b""
            parts.append(b"*2\r\n$4\r\npong\r\n$%d\r\n%b\r\n" % (len(msg), msg))
            return True
    return False


def begin(client) -> None:
    client.state |= MULTI
    client.queue = []
    client.multi_error = False


def discard(client) -> None:
    client.state &= ~MULTI
    client.queue = []
    client.multi_error = False
    unwatch(client)


def abort_exec(client, text: str) -> str:
    """A rejected EXEC (wrong arity, no AUTH) discards the transaction, in MULTI or not, and
    replies why (Redis's rejectCommand -> execCommandAbort). Returns the error text."""
    discard(client)
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
    discard(client)  # leaves MULTI and unwatches first, as Redis's execCommand does
    if aborted:
        raise CommandError(EXECABORT)
    if discard_watch:
        return NULL_ARRAY
    keywatch = server.keywatch
    replies = []
    append = replies.append
    propagated = False
    ctx.in_multi = True
    keywatch.defer = True
    try:
        for cmd, argv in queue:
            ctx.now = ks.clock()
            ctx.effects = None
            dirty = ks.dirty
            client.last_cmd = cmd
            try:
                reply = cmd.handler(ctx, argv)
            except CommandError as exc:
                cmd.failed += 1
                server.count_error(str(exc), None)
                reply = Error(str(exc))
            cmd.calls += 1
            append(reply)
            if ks.dirty != dirty and cmd.flags & WRITE and server.write_hooks:
                if not propagated:
                    propagated = True
                    effects, ctx.effects = ctx.effects, None
                    server.propagate(ctx, [b"MULTI"])
                    ctx.effects = effects
                server.propagate(ctx, argv)
        if propagated:
            ctx.effects = None
            server.propagate(ctx, [b"EXEC"])
    finally:
        ctx.in_multi = False
        keywatch.defer = False
    if keywatch.ready:
        keywatch.serve_ready()
    return replies


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
    if client.subs or client.psubs:
        server.pubsub.drop_client(client)


__all__ = ["EXECABORT", "abort_exec", "begin", "disconnect", "discard", "reset_client", "run_exec", "special"]
