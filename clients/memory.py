"""The in-process transport (`memory://`): a `kvstore.Store` behind the connection interface.

Theory of operation
-------------------
`MemoryConnection` has the socket connection's interface (send_command / send_commands / read /
read_many) but no socket: a command runs at once, under the store's lock, through the store's own
front door (`Store._call`, so the same table, handlers, errors and AOF path), and its reply waits
in a deque for `read()`. Each connection has its own `Context` (its own SELECTed database), which
is swapped into the store for the duration of each call, under the lock.

Transactions are done here, since the embedded store has no connection state: MULTI queues
(checking unknown commands and arity at queue time, like Redis), EXEC runs the queue under one
hold of the lock (atomic, as on a server). WATCH registers the connection as a watcher of each
key with the store (`Store._watch_keys`: the server's registry and rules, from
kvstore/commands/watching.py), whose write hook marks it dirty on any write to the key by any
connection or by the store's own methods, fast paths included (even A -> B -> A, or SET to the
same value), and on the key's expiry, FLUSHDB/FLUSHALL, SWAPDB or MOVE, as Redis does. EXEC
unwatches first, so its own writes do not count, then replies null (-> WatchError) if the flag
is set. DISCARD, UNWATCH, RESET and disconnect unwatch too, so the registry holds nothing for a
connection that is not watching, and the hook is gone when no connection watches.
Pub/sub goes through a `Hub` shared by the pool's connections: PUBLISH delivers to the
subscribed connections' inboxes (channel and glob pattern subscriptions, Redis's message
shapes), SPUBLISH to the shard channel's subscribers only; `read_push()` waits on the inbox.
Only clients of the same pool see each other's messages.
Blocking commands (BLPOP...) run as the store's handlers run them: no other connection can
push while a call holds the store, so they do not wait.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Any, Callable, Sequence

from kvstore.commands.table import Context, lookup
from kvstore.commands.watching import watched_key_expired
from kvstore.engine.glob import match
from kvstore.errors import ConnectionError, ResponseError, error_from_message
from kvstore.store import Store, _decode, encode_arg, resp2_value

_EXECABORT = "EXECABORT Transaction discarded because of previous errors."


class MemoryConnection:
    """A connection to an in-process Store (see the module docstring)."""

    def __init__(self, store: Store, db: int = 0, decode_responses: bool = False,
                 encoding: str = "utf-8", hub: "Hub | None" = None, **_ignored: Any) -> None:
        self.store = store
        self.hub = hub if hub is not None else Hub()
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.shard_channels: set[bytes] = set()
        self._inbox: deque = deque()
        self._inbox_cond = threading.Condition()
        self._wake: Callable[[], None] | None = None  # set by an asyncio reader
        self.db = db
        self.decode_responses = decode_responses
        self.encoding = encoding
        self.protocol = 2
        self._ctx: Context | None = None
        self._replies: deque = deque()
        self._multi: list[list[bytes]] | None = None
        self._multi_failed = False
        self.watched: dict = {}      # (db, key) -> [db, key, expired-at-WATCH] (watching.py)
        self.dirty_cas = False       # a watched key changed: EXEC fails

    # -- the connection interface used by clients, pools and pipelines -----------------------

    @property
    def is_connected(self) -> bool:
        return self._ctx is not None

    sock = property(lambda self: self._ctx)

    def connect(self) -> None:
        if self._ctx is None:
            self._ctx = Context(self.store.keyspace, self.db)
            self._ctx.on_write = self.store._script_hook

    def disconnect(self) -> None:
        if self.subscribed:
            self.hub.unsubscribe_all(self)
        self._inbox.clear()
        self._ctx = None
        self._replies.clear()
        self._multi = None
        self._unwatch()

    close = disconnect

    def check_health(self) -> None:
        pass

    def send_command(self, *args: Any) -> None:
        argv = [encode_arg(a) for a in _split_name(args)]
        name = argv[0].upper()
        if name in _SUBSCRIPTION_COMMANDS:
            if self._ctx is None:
                self.connect()
            self.hub.subscription(self, name, argv[1:])  # confirmations go to the inbox
            return
        self._replies.append(self._run(argv))

    # -- pub/sub -------------------------------------------------------------------------------

    @property
    def subscribed(self) -> bool:
        return bool(self.channels or self.patterns or self.shard_channels)

    def deliver(self, message: list) -> None:
        """Called by the hub (any thread): queue a pushed message and wake the reader."""
        with self._inbox_cond:
            self._inbox.append(message)
            self._inbox_cond.notify_all()
        wake = self._wake
        if wake is not None:
            wake()

    def _pop_message(self) -> Any:
        message = self._inbox.popleft()
        return _decode(message, self.encoding) if self.decode_responses else message

    def read_push(self, timeout: float | None) -> Any:
        """The next pushed message, or None after `timeout` seconds (None: wait forever)."""
        with self._inbox_cond:
            if not self._inbox:
                deadline = None if timeout is None else time.monotonic() + timeout
                while not self._inbox:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return None
                    self._inbox_cond.wait(left)
            return self._pop_message()

    def send_commands(self, commands: Sequence[Sequence[Any]]) -> None:
        for args in commands:
            self.send_command(*args)

    def read(self, name: bytes = b"", block: float | None = None,
             never_decode: bool = False) -> Any:
        if not self._replies:
            raise ConnectionError("no reply pending on the memory connection")
        reply = self._replies.popleft()
        if isinstance(reply, ResponseError):
            raise reply
        if self.decode_responses and not never_decode:
            return _decode(reply, self.encoding)
        return reply

    def read_many(self, items: Sequence[tuple[bytes, bool]],
                  block: float | None = None) -> list[Any]:
        out = []
        for _, never_decode in items:
            reply = self._replies.popleft()
            if self.decode_responses and not never_decode and not isinstance(reply,
                                                                             ResponseError):
                reply = _decode(reply, self.encoding)
            out.append(reply)
        return out

    # -- running commands --------------------------------------------------------------------

    def _run(self, argv: list[bytes]) -> Any:
        """One command's RESP2 reply (an exception instance for an error reply)."""
        if self._ctx is None:
            self.connect()
        name = argv[0].upper()
        if self._multi is not None and name not in _RUN_IN_MULTI:
            return self._queue(argv)
        handler = _CONNECTION_COMMANDS.get(name)
        if handler is not None:
            return handler(self, argv)
        return self._call(argv)

    def _call(self, argv: list[bytes]) -> Any:
        name = argv[0].upper()
        if name == b"PUBLISH" and len(argv) == 3:
            return self.hub.publish(argv[1], argv[2])
        if name == b"SPUBLISH" and len(argv) == 3:
            return self.hub.spublish(argv[1], argv[2])
        if name == b"PUBSUB" and len(argv) > 1:
            reply = self.hub.introspect(argv[1].upper(), argv[2:])
            if reply is not None:
                return reply
        store = self.store
        with store._lock:
            return self._call_locked(argv)

    def _call_locked(self, argv: list[bytes]) -> Any:
        store = self.store
        saved = store._ctx
        store._ctx = self._ctx
        try:
            value = resp2_value(store._call(argv))
        except ResponseError as exc:
            return exc
        finally:
            store._ctx = saved
        return value

    def _queue(self, argv: list[bytes]) -> Any:
        try:
            lookup(argv)  # unknown command / wrong arity: Redis rejects them at queue time
        except ResponseError as exc:
            self._multi_failed = True
            return error_from_message(str(exc))
        self._multi.append(argv)  # type: ignore[union-attr]
        return b"QUEUED"

    def _unwatch(self) -> None:
        if self.watched:
            with self.store._lock:
                self.store._unwatch_keys(self)
        self.dirty_cas = False


def _split_name(args: tuple) -> tuple:
    first = args[0]
    if isinstance(first, str) and " " in first:
        return (*first.split(), *args[1:])
    if isinstance(first, bytes) and b" " in first:
        return (*first.split(), *args[1:])
    return args


def _multi(conn: MemoryConnection, argv: list[bytes]) -> Any:
    if len(argv) != 1:
        return error_from_message("ERR wrong number of arguments for 'multi' command")
    if conn._multi is not None:
        return error_from_message("ERR MULTI calls can not be nested")
    conn._multi = []
    conn._multi_failed = False
    return b"OK"


def _exec(conn: MemoryConnection, argv: list[bytes]) -> Any:
    if conn._multi is None:
        return error_from_message("ERR EXEC without MULTI")
    queued, failed = conn._multi, conn._multi_failed
    conn._multi = None
    store = conn.store
    with store._lock:
        changed = conn.dirty_cas or (
            bool(conn.watched) and watched_key_expired(conn, store.keyspace.clock()))
        store._unwatch_keys(conn)  # first, as Redis's execCommand: its own writes do not count
        if failed:
            return error_from_message(_EXECABORT)
        if changed:
            return None  # a watched key changed: EXEC replies a null array
        # Time stands still during EXEC, as in Redis (no key expires midway): the keyspace's
        # clock is held at EXEC's instant while the lock keeps every other reader out.
        ks = store.keyspace
        clock = ks.clock
        now = clock()
        ks.clock = lambda: now
        try:
            return [conn._call_locked(a) for a in queued]
        finally:
            ks.clock = clock


def _discard(conn: MemoryConnection, argv: list[bytes]) -> Any:
    if conn._multi is None:
        return error_from_message("ERR DISCARD without MULTI")
    conn._multi = None
    conn._unwatch()
    return b"OK"


def _watch(conn: MemoryConnection, argv: list[bytes]) -> Any:
    if len(argv) < 2:
        return error_from_message("ERR wrong number of arguments for 'watch' command")
    if conn._multi is not None:
        return error_from_message("ERR WATCH inside MULTI is not allowed")
    with conn.store._lock:
        conn.store._watch_keys(conn, conn._ctx.db, argv[1:])  # type: ignore[union-attr]
    return b"OK"


def _unwatch(conn: MemoryConnection, argv: list[bytes]) -> Any:
    if len(argv) != 1:
        return error_from_message("ERR wrong number of arguments for 'unwatch' command")
    conn._unwatch()
    return b"OK"


def _reset(conn: MemoryConnection, argv: list[bytes]) -> Any:
    """RESET: leave MULTI, unwatch, unsubscribe, then the store's RESET (db 0, RESP2)."""
    if len(argv) != 1:
        return error_from_message("ERR wrong number of arguments for 'reset' command")
    conn._multi = None
    conn._unwatch()
    if conn.subscribed:
        conn.hub.unsubscribe_all(conn)
    return conn._call(argv)


_SUBSCRIPTION_COMMANDS = frozenset((b"SUBSCRIBE", b"PSUBSCRIBE", b"SSUBSCRIBE", b"UNSUBSCRIBE",
                                    b"PUNSUBSCRIBE", b"SUNSUBSCRIBE"))


def _count(conn: MemoryConnection, shard: bool) -> int:
    """The count a confirmation carries: Redis counts shard subscriptions apart."""
    return len(conn.shard_channels) if shard else len(conn.channels) + len(conn.patterns)


class Hub:
    """Channel, pattern and shard channel subscriptions of one pool's memory connections
    (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.channels: dict[bytes, set[MemoryConnection]] = {}
        self.patterns: dict[bytes, set[MemoryConnection]] = {}
        self.shard_channels: dict[bytes, set[MemoryConnection]] = {}

    def publish(self, channel: bytes, data: bytes) -> int:
        """Deliver to every subscriber; the number of deliveries (PUBLISH's reply)."""
        with self._lock:
            targets = [(c, None) for c in self.channels.get(channel, ())]
            for pattern, conns in self.patterns.items():
                if match(pattern, channel):
                    targets += [(c, pattern) for c in conns]
        for conn, pattern in targets:
            conn.deliver([b"message", channel, data] if pattern is None
                         else [b"pmessage", pattern, channel, data])
        return len(targets)

    def spublish(self, channel: bytes, data: bytes) -> int:
        """Deliver to the shard channel's subscribers only (SPUBLISH's reply)."""
        with self._lock:
            targets = list(self.shard_channels.get(channel, ()))
        for conn in targets:
            conn.deliver([b"smessage", channel, data])
        return len(targets)

    def introspect(self, sub: bytes, args: list[bytes]) -> Any:
        """PUBSUB CHANNELS / SHARDCHANNELS [pattern], NUMSUB / SHARDNUMSUB [channel ...],
        NUMPAT over this hub's subscriptions (as a server counts its clients'); None for any
        other form, which the store answers (arity and syntax errors included)."""
        with self._lock:
            if sub in (b"CHANNELS", b"SHARDCHANNELS") and len(args) <= 1:
                table = self.channels if sub == b"CHANNELS" else self.shard_channels
                return [ch for ch, conns in table.items() if conns and (
                    not args or match(args[0], ch))]
            if sub in (b"NUMSUB", b"SHARDNUMSUB"):
                table = self.channels if sub == b"NUMSUB" else self.shard_channels
                out: list[Any] = []
                for ch in args:
                    out += [ch, len(table.get(ch, ()))]
                return out
            if sub == b"NUMPAT" and not args:
                return sum(1 for conns in self.patterns.values() if conns)
        return None

    def subscription(self, conn: MemoryConnection, name: bytes, names: list[bytes]) -> None:
        """(P|S)(UN)SUBSCRIBE for conn; one confirmation message per name, as Redis sends,
        counting the shard subscriptions for S(UN)SUBSCRIBE and the others otherwise."""
        kind = name.lower()
        family = kind.replace(b"unsubscribe", b"subscribe")
        shard = family == b"ssubscribe"
        if shard:
            mine, table = conn.shard_channels, self.shard_channels
        elif family == b"psubscribe":
            mine, table = conn.patterns, self.patterns
        else:
            mine, table = conn.channels, self.channels
        with self._lock:
            if family != kind:  # an unsubscribe
                targets = names or sorted(mine)
                if not targets:
                    conn.deliver([kind, None, _count(conn, shard)])
                for n in targets:
                    mine.discard(n)
                    subs = table.get(n)
                    if subs is not None:
                        subs.discard(conn)
                        if not subs:
                            del table[n]
                    conn.deliver([kind, n, _count(conn, shard)])
            else:
                for n in names:
                    mine.add(n)
                    table.setdefault(n, set()).add(conn)
                    conn.deliver([kind, n, _count(conn, shard)])

    def unsubscribe_all(self, conn: MemoryConnection) -> None:
        with self._lock:
            for mine, table in ((conn.channels, self.channels), (conn.patterns, self.patterns),
                                (conn.shard_channels, self.shard_channels)):
                for n in mine:
                    subs = table.get(n)
                    if subs is not None:
                        subs.discard(conn)
                        if not subs:
                            del table[n]
                mine.clear()


_CONNECTION_COMMANDS = {b"MULTI": _multi, b"EXEC": _exec, b"DISCARD": _discard,
                        b"WATCH": _watch, b"UNWATCH": _unwatch, b"RESET": _reset}
# What Redis runs at once inside MULTI; anything else (UNWATCH too) is queued.
_RUN_IN_MULTI = frozenset((b"MULTI", b"EXEC", b"DISCARD", b"WATCH", b"QUIT", b"RESET"))


class MemoryPool:
    """The pool interface over one Store: connections are cheap, so each checkout of an idle one
    is a list pop and no limit applies."""

    def __init__(self, store: Store | None = None, db: int = 0, decode_responses: bool = False,
                 encoding: str = "utf-8", **_ignored: Any) -> None:
        import kvstore

        self.store = store if store is not None else kvstore.open()
        self._owns_store = store is None
        self.hub = Hub()
        self.connection_kwargs = {"db": db, "decode_responses": decode_responses,
                                  "encoding": encoding}
        self._idle: list[MemoryConnection] = []

    def get_connection(self, timeout: float | None = None) -> MemoryConnection:
        conn = self._idle.pop() if self._idle else MemoryConnection(
            self.store, hub=self.hub, **self.connection_kwargs)
        conn.connect()
        return conn

    def connect(self, conn: MemoryConnection) -> None:
        conn.connect()

    def release(self, conn: MemoryConnection) -> None:
        self._idle.append(conn)

    def disconnect(self) -> None:
        for conn in self._idle:
            conn.disconnect()
        self._idle.clear()

    def close(self) -> None:
        self.disconnect()
        if self._owns_store:
            self.store.close()


class AsyncMemoryConnection(MemoryConnection):
    """The same in-process connection with the asyncio connection's coroutine methods."""

    async def connect(self) -> None:  # type: ignore[override]
        MemoryConnection.connect(self)

    async def check_health(self) -> None:  # type: ignore[override]
        pass

    async def read(self, name: bytes = b"", block: float | None = None,  # type: ignore[override]
                   never_decode: bool = False) -> Any:
        return MemoryConnection.read(self, name, block, never_decode)

    async def read_many(self, items: Sequence[tuple[bytes, bool]],  # type: ignore[override]
                        block: float | None = None) -> list[Any]:
        return MemoryConnection.read_many(self, items, block)


    async def read_push(self, timeout: float | None) -> Any:  # type: ignore[override]
        """The next pushed message, or None after `timeout` s; publishers in other threads
        wake this loop with call_soon_threadsafe."""
        deadline = None if timeout is None else time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while not self._inbox:
            event = asyncio.Event()
            self._wake = lambda: loop.call_soon_threadsafe(event.set)
            if self._inbox:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), left)
            except asyncio.TimeoutError:
                return None
            finally:
                self._wake = None
        return self._pop_message()


class AsyncMemoryPool(MemoryPool):
    """MemoryPool for AsyncClient: get_connection and connect are coroutines."""

    async def get_connection(self, timeout: float | None = None) -> Any:  # type: ignore[override]
        conn = self._idle.pop() if self._idle else AsyncMemoryConnection(
            self.store, hub=self.hub, **self.connection_kwargs)
        MemoryConnection.connect(conn)
        return conn

    async def connect(self, conn: Any) -> None:
        MemoryConnection.connect(conn)

    async def aclose(self) -> None:
        self.close()
