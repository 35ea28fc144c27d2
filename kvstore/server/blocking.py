"""Blocking commands (BLPOP & co.) and WATCH: what the server does when keys change.

Theory of operation.

A blocked client is a `Waiter`: its client, database, keys, the type it waits for (List or
ZSet), the `serve(ctx, key)` function that tries the non-blocking pop for it (None = still nothing)
and its timeout timer. `Database.blocked` maps key -> list of waiters in arrival order, so
clients are served FIFO per key, as in Redis. Invariant: a waiter is in `db.blocked[k]` for
each of its keys iff it is `client.waiter`; no list in `db.blocked` is empty.

While blocked, the client has the BLOCKED state bit: the rest of its batch is stashed in
`client.pending` and later input is held (`client.held`), exactly as Redis leaves it in the
query buffer. When it is unblocked (served, timed out, CLIENT UNBLOCK, ...) its reply is written
at once and `resume` runs the stashed commands on the next loop iteration.

Key changes are seen through ONE hook in `server.write_hooks` (`on_write`), installed only while
someone watches a key or is blocked, so plain writes pay nothing when neither is in use. After a
write that changed something it touches the watched keys it names (WATCH's registry and rules
are shared with the embedded store, in kvstore/commands/watching.py) and queues the keys that
have waiters; `serve_ready` then serves them (after EXEC as a whole for a transaction, like
Redis's `handleClientsBlockedOnKeys`). A served pop is itself a write: it is propagated (its
effects are the non-blocking equivalent, set by the list/zset helpers), which may make further
keys ready (BLMOVE into a key others wait on): the loop runs until no key is ready. FLUSH* and
SWAPDB, which name no keys, make every blocked key of every database ready.

Timeouts use `loop.call_later` (no polling); a timed-out client gets a null array (RESP3 `_`).
"""

from __future__ import annotations

import asyncio
import math
from time import perf_counter

from ..commands import watching
from ..commands.table import lookup, propagate_effects
from ..engine.stream import Stream
from ..engine.values import List
from ..engine.zset import ZSet
from ..errors import CommandError, ProtocolError
from ..numbers import parse_long_double
from ..replies import NULL_ARRAY, Error
from .pubsub import deliver

TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
_LLONG_MAX = (1 << 63) - 1
_MOVES = (b"blmove", b"brpoplpush")
_WAITED = (List, ZSet, Stream)  # what a client blocks for


def parse_timeout(arg: bytes) -> int:
    """Redis 7.0 `getTimeoutFromObjectOrReply` (seconds): milliseconds, 0 = forever.

    The value is a long double; ms = ceil(value * 1000). Like Redis on x86, a value too big for a
    long long (or inf) converts to LLONG_MIN, hence "timeout is negative"."""
    try:
        value = parse_long_double(arg)
    except ValueError:
        raise CommandError(TIMEOUT_NOT_FLOAT) from None
    if isinstance(value, float):  # +-inf
        raise CommandError(TIMEOUT_NEGATIVE)
    ms = math.ceil(value * 1000)
    if ms < 0 or ms > _LLONG_MAX:
        raise CommandError(TIMEOUT_NEGATIVE)
    return ms


class Waiter:
    __slots__ = ("client", "db", "keys", "cls", "serve", "argv", "timer", "gone")

    def __init__(self, client, db, keys, cls, serve, argv, gone=None) -> None:
        self.client = client
        self.db = db
        self.keys = keys
        self.cls = cls
        self.serve = serve
        self.argv = argv
        self.timer: asyncio.TimerHandle | None = None
        # The reply when its key stops holding a `cls` (XREADGROUP's), or None to wait on.
        self.gone = gone


class KeyWatch:
    """The server's WATCH and blocking registries and the write hook. One per server."""

    def __init__(self, server) -> None:
        self.server = server
        self.blocked_count = 0
        self.watching_count = 0  # clients with at least one watched key
        self.ready: list[tuple[object, bytes]] = []
        self.defer = False       # inside EXEC: serve after the whole transaction
        self._serving = False
        self._hooked = False
        server.ks.expired_listeners.append(watching.on_expired)
        server.ks.flush_listeners.append(watching.on_flush)

    # -- the hook -------------------------------------------------------------------------------

    def update_hook(self) -> None:
        """Keep `on_write` in `server.write_hooks` only while it has work to do."""
        want = bool(self.blocked_count or self.watching_count)
        if want and not self._hooked:
            self.server.add_write_hook(self.on_write)  # last: the write is logged before a pop
            self._hooked = True
        elif not want and self._hooked:
            self.server.remove_write_hook(self.on_write)
            self._hooked = False

    def on_write(self, ctx, argv: list[bytes]) -> None:
        """After a write command that changed the keyspace."""
        changed = watching.touch_written(ctx.db, argv, ctx.touched)
        if changed is None:  # FLUSH* / SWAPDB
            changed = [(db, list(db.blocked)) for db in ctx.ks.dbs]
        for db, keys in changed:
            blocked = db.blocked
            if blocked:
                self.ready += [(db, k) for k in keys if k in blocked]
        if self.ready and not self.defer:
            self.serve_ready()

    # -- blocking -------------------------------------------------------------------------------

    def block(self, ctx, keys: list[bytes], timeout_ms: int, cls, serve, argv,
              gone=None) -> None:
        """Block ctx's client on keys until serve(ctx) returns a reply or the timeout passes
        (or, with `gone`, until a key stops holding a `cls`: `gone` is then the reply)."""
        from .client import BLOCKED, DROP_LAST

        client = ctx.client
        db = ctx.db
        seen = []
        for key in keys:
            if key not in seen:
                seen.append(key)
        w = Waiter(client, db, seen, cls, serve, argv, gone)
        for key in seen:
            db.blocked.setdefault(key, []).append(w)
        client.waiter = w
        client.state |= BLOCKED | DROP_LAST  # the blocking command's own reply comes later
        if timeout_ms:
            loop = asyncio.get_running_loop()
            w.timer = loop.call_later(timeout_ms / 1000.0, self._timed_out, w)
        self.blocked_count += 1
        self.update_hook()

    def unblock(self, w: Waiter) -> None:
        from .client import BLOCKED

        db = w.db
        for key in w.keys:
            waiters = db.blocked.get(key)
            if waiters is not None:
                try:
                    waiters.remove(w)
                except ValueError:
                    pass
                if not waiters:
                    del db.blocked[key]
        if w.timer is not None:
            w.timer.cancel()
        client = w.client
        client.waiter = None
        client.state &= ~BLOCKED
        self.blocked_count -= 1
        self.update_hook()

    def finish(self, w: Waiter, reply) -> None:
        """Unblock with `reply`, then let the client run what it sent meanwhile."""
        self.unblock(w)
        client = w.client
        if isinstance(reply, Error):
            # Redis 7.0 counts an error a blocked command ends with (CLIENT UNBLOCK ERROR, a
            # group reader's key or group gone) as its own: errorstats, total_error_replies
            # and the command's failed_calls (afterErrorReply, updateStatsOnUnblock).
            self.server.count_error(reply.message, None)
            lookup(w.argv).failed += 1
        if client.transport is not None:
            deliver(client, reply)
            # Redis writes the reply before its next cron, an interaction: the idle timeout
            # must not close the client before the outbox sends it (the cron can run first).
            client.last_interaction = self.server.now_mono
            from .client import PUSHES

            if client.state & PUSHES:  # invalidations its own pop caused follow its reply
                client.flush_pushes()
            asyncio.get_running_loop().call_soon(resume, client)

    def _timed_out(self, w: Waiter) -> None:
        w.timer = None
        if w.client.waiter is w:
            self.finish(w, NULL_ARRAY)

    def client_unblock(self, client, error: bool) -> bool:
        """CLIENT UNBLOCK id [TIMEOUT|ERROR]. Returns whether the client was blocked."""
        w = getattr(client, "waiter", None)
        if w is None:
            return False
        self.finish(w, Error(UNBLOCKED) if error else NULL_ARRAY)
        return True

    def drop_client(self, client) -> None:
        """A disconnecting client leaves no trace."""
        w = getattr(client, "waiter", None)
        if w is not None:
            self.unblock(w)
        unwatch(client)

    def serve_ready(self) -> None:
        """Serve waiters on ready keys, FIFO per key, until no key is ready."""
        if self._serving:
            return  # the outer loop will get to keys made ready by a served pop
        self._serving = True
        try:
            while self.ready:
                ready, self.ready = self.ready, []
                for db, key in ready:
                    self._serve_key(db, key)
        finally:
            self._serving = False

    def _serve_key(self, db, key: bytes) -> None:
        ks = self.server.ks
        passed: set[Waiter] = set()  # stream readers with nothing new for them yet
        while True:
            waiters = db.blocked.get(key)
            if not waiters:
                return
            value = db.data.get(key)
            if type(value) in _WAITED:
                # Redis's lookupKeyWrite, which deletes an expired key; one holding a type no
                # client waits for is never looked up (signalKeyAsReady ignores it).
                value = db.lookup(key, ks.clock())
            # A waiter that cannot outlive its key's value (`Waiter.gone`).
            cls = type(value)
            w = next((w for w in waiters if w.cls is not cls and w.gone is not None), None)
            if w is not None:
                self.finish(w, w.gone)
                continue
            if value is None:
                return
            # The first waiter for this type of value: as Redis's serveClientsBlockedOn*Key,
            # the waiters for another type (BLPOP before a BZPOPMIN on a new zset) stay blocked
            # and are passed over.
            w = next((w for w in waiters if w.cls is cls and w not in passed), None)
            if w is None:
                return
            ctx = w.client.ctx
            ctx.now = ks.clock()
            ctx.effects = None
            dirty = ks.dirty
            start = perf_counter()
            try:
                reply = w.serve(ctx, key)
            except CommandError as exc:
                reply = Error(str(exc))
            if reply is None:  # (an XREAD waiting past an ID the stream has not reached)
                passed.add(w)
                continue
            served_in = perf_counter() - start
            # What a serve signals (WATCH, tracking) is Redis 7.0's serveClientsBlockedOn*Key's:
            # a zset pop and a BLMPOP (listElementsRemoved) their key; BLPOP, BRPOP and BLMOVE
            # only a BLMOVE's destination (the list was signalled by the write that made it
            # ready; after a SWAPDB, which signals nothing, it stays untold); a stream read
            # nothing.
            name = w.argv[0].lower()
            ctx.touched = (w.argv, [key] if cls is ZSet or name == b"blmpop" else
                           [w.argv[2]] if name in _MOVES else [])
            server = self.server
            # The pop is logged before its reply is queued, so the reply waits for it (group.py).
            if ks.dirty != dirty and server.propagate is not None:
                propagate_effects(server.propagate, ctx, w.argv)
            self.finish(w, reply)
            if served_in > server.watch_s:
                # SLOWLOG has it now, not when it blocked: after the command that served it
                asyncio.get_running_loop().call_soon(
                    server.slow_command, w.client, lookup(w.argv), w.argv, served_in)


# -- WATCH (the registry is kvstore/commands/watching.py; this keeps the hook's count) ---------

def watch(client, db, key: bytes, now: int) -> None:
    """WATCH one key for a server client."""
    if watching.watch(client, db, key, now):
        keywatch = client.server.keywatch
        keywatch.watching_count += 1
        keywatch.update_hook()


def unwatch(client) -> None:
    if watching.unwatch(client):
        keywatch = client.server.keywatch
        keywatch.watching_count -= 1
        keywatch.update_hook()


# -- resuming a client after it was unblocked ---------------------------------------------------

class _Replay:
    """Stands in for a client's parser: first the commands stashed while it was blocked, then
    whatever the real parser holds."""

    def __init__(self, pending: list[list[bytes]], parser) -> None:
        self.pending = pending
        self.parser = parser

    def feed(self, data) -> None:
        self.parser.feed(data)

    def buffered(self) -> int:
        return self.parser.buffered()

    def take(self, data):
        self.parser.feed(data)
        return self.get_commands()

    def get_commands(self):
        if self.pending is not None:
            batch, self.pending = self.pending, None
            try:
                batch += self.parser.get_commands()  # the loop expects one call to get all
            except ProtocolError:
                pass  # the parser keeps the error and raises it on the next call
            return batch
        return self.parser.get_commands()

    def __getattr__(self, name):
        return getattr(self.parser, name)


def resume(client) -> None:
    """Run what an unblocked client sent while it was blocked (stashed commands, held input)."""
    from .client import BLOCKED, CLOSING

    if client.state & (BLOCKED | CLOSING) or client.transport is None:
        return
    pending, client.pending = client.pending, []
    held, client.held = client.held, []
    parser = client.parser
    if held:
        parser.feed(b"".join(held))
    if not pending and not held:
        return
    if pending:
        client.parser = _Replay(pending, parser)
    try:
        client.data_received(b"")
    finally:
        client.parser = parser


__all__ = ["KeyWatch", "Waiter", "parse_timeout", "resume", "unwatch", "watch"]
