"""The embedded store: the engine and the command table in your process, behind redis-py's API.

`Store` runs commands through the same table and handlers as the server, so replies and errors
are Redis's; its methods (from `kvstore.methods`) have redis-py's names, arguments and reply
shapes. Replies come back as a RESP2 client would see them (bytes, int, None, lists), then the
method's callback shapes them (SET -> True, HGETALL -> dict, ZSCORE -> float, ...).

Threads: one Store may be shared by any number of threads. Every command runs under one lock,
so each is atomic and sees a consistent keyspace, as with a Redis server; the active expiry
thread takes the same lock for at most ACTIVE_EXPIRE_BUDGET_MS at a time.

Hot commands (GET, SET, ...) skip the generic path (argv building, table lookup, reply
conversion) and call the engine directly; they must give the same replies, errors and effects as
the handlers, which the tests check by running both.

Every write path, generic or direct, ends in one call, `_after_write(argv, effects)`, made only
when it is not None: the fan-out of `_write_hooks`, which holds the AOF feed when persistence is
open and the WATCH hook while an in-process connection (clients.memory) watches a key
(`_watch_keys`, rules in kvstore/commands/watching.py). With neither, writes pay nothing.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from . import commands
from .commands import watching
from .hooks import fan_out
from .commands.table import LOGGED, WRITE, Context, ReplOnly, fast_lookup
from .engine import Keyspace
from .errors import ResponseError, error_from_message, line_text
from .fastpaths import FastPaths
from .numbers import format_double, format_long_double
from .protocol.encoder import encode_arg
from .persistence import commands as persistence_commands
from .replies import Bool, Error, HumanDouble, NullArray, ScorePairs, Status

__all__ = ["Store", "open"]

_ = commands, persistence_commands  # the imports register every command (SAVE, BGSAVE, ...)

# While values wait to be freed (engine/lazyfree.py), the expiry thread frees a slice of
# LAZYFREE_SLICE_MS every LAZYFREE_PERIOD_S under the lock: a caller waits for one at most.
LAZYFREE_PERIOD_S = 0.001
LAZYFREE_SLICE_MS = 0.5


def resp2_value(reply: Any) -> Any:
    """A handler's reply as a RESP2 client parses it (hiredis-style: bytes, int, None, list)."""
    t = type(reply)
    if t is bytes or t is int or reply is None:
        return reply
    if t is Status:
        return reply.encode()
    if t is list or isinstance(reply, list):
        if t is ScorePairs:
            out = []
            for member, score in reply:
                out.append(member)
                out.append(format_double(score))
            return out
        return [resp2_value(x) for x in reply]
    if t is float:
        return format_double(reply)
    if t is HumanDouble:
        return format_long_double(reply)
    if t is dict:
        out = []
        for k, v in reply.items():
            out.append(resp2_value(k))
            out.append(resp2_value(v))
        return out
    if isinstance(reply, bytes):
        return bytes(reply)
    if t is NullArray:
        return None
    if t is Bool:
        return int(reply.value)
    if t is Error:
        return error_from_message(reply.message)
    if t is bool:
        return int(reply)
    if t is str:
        return reply.encode()
    raise TypeError(f"unexpected reply type {t!r}")


def _log(message: str) -> None:
    import logging

    level = logging.WARNING if "rror" in message or "arning" in message else logging.INFO
    logging.getLogger("kvstore").log(level, message)


def _decode(value: Any, encoding: str) -> Any:
    t = type(value)
    if t is bytes:
        return value.decode(encoding)
    if t is list:
        return [_decode(x, encoding) for x in value]
    return value


def _typed(exc: ResponseError) -> ResponseError:
    """The exception subclass for an error's text (WRONGTYPE -> WrongTypeError, ...), which
    reads as a redis-py client receives it: one line (a script's error may hold line breaks),
    bytes that are not UTF-8 (kept as surrogates by the handlers) as U+FFFD."""
    text = str(exc)
    if not text.isascii():
        fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        if fixed != text:
            exc = type(exc)(fixed)  # a subclass keeps its class; a plain one is typed below
            text = fixed
    if type(exc) is ResponseError:
        if "\r" in text or "\n" in text:
            text = line_text(text)
        return error_from_message(text)
    return exc


class Store(FastPaths):
    """An in-process kvstore. Create one with `kvstore.open()`."""

    def __init__(
        self,
        databases: int = 16,
        db: int = 0,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        clock: Callable[[], int] | None = None,
        active_expire: bool = True,
        path: str | None = None,
        **persistence: Any,
    ) -> None:
        self.keyspace = Keyspace(databases, clock) if clock else Keyspace(databases)
        self._ctx = Context(self.keyspace, db)
        self._ctx.on_write = self._script_hook
        self._lock = threading.Lock()
        self.decode_responses = decode_responses
        self.encoding = encoding
        self._closed = threading.Event()
        # Durability (kvstore.persistence): None unless opened with a path.
        self._persistence = None
        # Called with (argv, effects) after each write that changed the keyspace, when set: the
        # hooks of `_write_hooks` (the AOF feed, WATCH). None keeps writes free of the call.
        self._after_write: Callable[..., None] | None = None
        self._write_hooks: list[Callable[..., None]] = []
        self._watching = 0  # connections (memory://) with at least one WATCHed key
        self._pubsub_client: Any = None  # made by the first publish() or pubsub()
        if path is not None:
            self._open_persistence(path, persistence)
        elif persistence:
            raise TypeError(f"unexpected options {sorted(persistence)} (persistence needs path)")
        self._expire_thread: threading.Thread | None = None
        if active_expire:
            self.keyspace.lazyfree.background = True  # (the thread frees what UNLINK leaves)
            self._expire_thread = threading.Thread(
                target=self._active_expire_loop, name="kvstore-expire", daemon=True
            )
            self._expire_thread.start()

    # -- the generic path -------------------------------------------------------------------

    def execute_command(self, *args: Any, callback: Callable[[Any], Any] | None = None,
                        never_decode: bool = False, **options: Any) -> Any:
        """Run one command given as arguments (str, bytes, int, float); returns the reply as
        redis-py's RESP2 parser would, shaped by `callback` if given. Raises ResponseError
        subclasses for error replies. `never_decode`: keep bytes even with decode_responses
        (redis-py's NEVER_DECODE, for binary replies such as DUMP). redis-py's options are
        accepted too: NEVER_DECODE (the same), EMPTY_RESPONSE (the value to return instead of
        raising an error reply); the others (keys, ...) are for its response callbacks."""
        if options:
            return self._execute_with_options(args, callback, never_decode, options)
        argv = [a if type(a) is bytes else encode_arg(a) for a in args]
        with self._lock:
            reply = self._call(argv)
        t = type(reply)
        if t is bytes or t is int or reply is None:
            value = reply
        else:
            value = resp2_value(reply)
            if isinstance(value, ResponseError):
                raise value
        if self.decode_responses and not never_decode:
            value = _decode(value, self.encoding)
        return callback(value) if callback is not None else value

    def _execute_with_options(self, args: tuple, callback: Callable[[Any], Any] | None,
                              never_decode: bool, options: dict) -> Any:
        """execute_command with redis-py's `**options` (see there)."""
        never_decode = never_decode or "NEVER_DECODE" in options
        if "EMPTY_RESPONSE" not in options:
            return self.execute_command(*args, callback=callback, never_decode=never_decode)
        try:
            return self.execute_command(*args, callback=callback, never_decode=never_decode)
        except ResponseError:
            return options["EMPTY_RESPONSE"]

    def execute(self, *args: Any) -> Any:
        """A raw command: `store.execute("ZADD", "z", 1, "a")`. Replies as RESP2 values."""
        return self.execute_command(*args)

    def _call(self, argv: list[bytes]) -> Any:
        """Run argv under the lock already held: the single front door of the embedded store."""
        ctx = self._ctx
        ks = self.keyspace
        try:
            cmd = fast_lookup(argv)
            ctx.now = ks.clock()
            ctx.effects = None
            dirty = ks.dirty
            if self._persistence is not None and cmd.flags & WRITE:
                self._check_writable()
            reply = cmd.handler(ctx, argv)  # type: ignore[misc]
        except ResponseError as exc:
            raise _typed(exc) from None
        if ks.dirty != dirty and cmd.flags & LOGGED and self._after_write is not None:
            self._after_write(argv, ctx.effects)
        return reply

    def _script_hook(self) -> Callable[[Context, list[bytes]], None] | None:
        """`Context.on_write`: the write hooks, for the writes inside a script."""
        after_write = self._after_write
        if after_write is None:
            return None
        return lambda ctx, argv: after_write(argv, ctx.effects)

    def _log_write(self, argv: list[bytes], effects: list[list[bytes]] | None = None) -> None:
        """A write changed the keyspace: log its effects (`effects`, or argv itself) to the AOF
        right away, under the lock (no event loop here: each call is its own batch)."""
        p = self._persistence
        if p is not None and p.writer is not None and effects != []:  # ([]: nothing to log)
            if effects is not None:  # (an embedded store has no replicas)
                effects = [e for e in effects if type(e) is not ReplOnly]
                if not effects:
                    return
            p.writer.feed(self._ctx.db.id, effects or [argv])
            if not p.flush() and p.writer.policy == "always":
                raise error_from_message(p.misconf_text())

    def _check_writable(self) -> None:
        """Refuse writes while the AOF cannot be written (Redis's MISCONF)."""
        p = self._persistence
        if p is not None and p.write_error is not None:
            raise error_from_message(p.misconf_text())

    def _open_persistence(self, path: str, options: dict) -> None:
        from .persistence import Persistence

        opts = {k.replace("_", "-"): v for k, v in options.items()}
        opts.setdefault("appendonly", True)
        p = Persistence(self.keyspace, path, opts, log=_log, run_later=self._run_locked)
        unknown = set(opts) - set(p.opt)
        if unknown:
            raise TypeError(f"unknown persistence options {sorted(unknown)}")
        p.start()
        self.keyspace.persistence = p
        self._persistence = p
        self._add_write_hook(self._log_write)
        p.start_cron_thread(self._lock)

    def _add_write_hook(self, hook: Callable[..., None], first: bool = False) -> None:
        self._write_hooks.insert(0 if first else len(self._write_hooks), hook)
        self._set_after_write()

    def _remove_write_hook(self, hook: Callable[..., None]) -> None:
        self._write_hooks.remove(hook)
        self._set_after_write()

    def _set_after_write(self) -> None:
        self._after_write = fan_out(self._write_hooks)

    # -- WATCH for the store's connections (clients.memory), lock held -----------------------

    def _watch_keys(self, conn: Any, db: Any, keys: list[bytes]) -> None:
        """WATCH keys of database `db` for `conn` (a watcher, see `watching`). The first
        watching connection installs the write hook and the keyspace listeners."""
        now = self.keyspace.clock()
        for key in keys:
            if watching.watch(conn, db, key, now):
                self._watching += 1
                if self._watching == 1:
                    ks = self.keyspace
                    ks.expired_listeners.append(watching.on_expired)
                    ks.flush_listeners.append(watching.on_flush)
                    # First: touching cannot fail, and the write happened even if logging fails.
                    self._add_write_hook(self._touch_written, first=True)

    def _unwatch_keys(self, conn: Any) -> None:
        """UNWATCH everything for `conn`; the last watching connection removes the hooks."""
        if watching.unwatch(conn):
            self._watching -= 1
            if not self._watching:
                ks = self.keyspace
                ks.expired_listeners.remove(watching.on_expired)
                ks.flush_listeners.remove(watching.on_flush)
                self._remove_write_hook(self._touch_written)

    def _touch_written(self, argv: list[bytes], effects: list[list[bytes]] | None = None) -> None:
        watching.touch_written(self._ctx.db, argv, self._ctx.touched)

    def _run_locked(self, fn: Callable[[], None]) -> None:
        with self._lock:
            fn()

    _encode = staticmethod(encode_arg)
    _typed = staticmethod(_typed)

    # -- lifecycle ---------------------------------------------------------------------------

    def select(self, db: int) -> bool:
        """Switch this store's current database (embedded equivalent of SELECT)."""
        return self.execute_command("SELECT", db, callback=lambda r: r == b"OK")

    # -- pipelines, transactions, pub/sub: through clients' in-process transport -------------

    def _client(self, db: int) -> Any:
        """A `clients.Client` on this store (the memory:// transport: MULTI/EXEC, WATCH and
        pub/sub, which need a connection's state), in database `db`."""
        from clients import Client

        return Client(transport="memory", store=self, db=db,
                      decode_responses=self.decode_responses, encoding=self.encoding)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        """A `clients.Pipeline` on this store, in its current database: commands buffered
        until execute(), run as one MULTI/EXEC (atomic) when `transaction`."""
        return self._client(self._ctx.db.id).pipeline(transaction)

    def transaction(self, func: Callable[[Any], Any], *watches: Any, **kwargs: Any) -> Any:
        """redis-py's `transaction`: `func(pipe)` under WATCH of `watches`, then MULTI/EXEC,
        retried while a watched key changes."""
        return self._client(self._ctx.db.id).transaction(func, *watches, **kwargs)

    def pubsub(self, ignore_subscribe_messages: bool = False) -> Any:
        """A `clients.PubSub` that receives what this store's `publish()` sends."""
        return self._hub_client().pubsub(ignore_subscribe_messages)

    def publish(self, channel: Any, message: Any, **kwargs: Any) -> int:
        return self._hub_client().publish(channel, message)

    def spublish(self, shard_channel: Any, message: Any) -> int:
        return self._hub_client().spublish(shard_channel, message)

    # PUBSUB introspection counts the subscribers of this store's pubsub() objects.
    def pubsub_channels(self, pattern: Any = "*", **kwargs: Any) -> list:
        return self._hub_client().pubsub_channels(pattern)

    def pubsub_shardchannels(self, pattern: Any = "*", **kwargs: Any) -> list:
        return self._hub_client().pubsub_shardchannels(pattern)

    def pubsub_numpat(self, **kwargs: Any) -> int:
        return self._hub_client().pubsub_numpat()

    def pubsub_numsub(self, *args: Any, **kwargs: Any) -> list:
        return self._hub_client().pubsub_numsub(*args)

    def pubsub_shardnumsub(self, *args: Any, **kwargs: Any) -> list:
        return self._hub_client().pubsub_shardnumsub(*args)

    def _hub_client(self) -> Any:
        """The one client whose pool's hub connects publish() and pubsub()."""
        client = self._pubsub_client
        if client is None:
            client = self._pubsub_client = self._client(0)
        return client

    def _active_expire_loop(self) -> None:
        keyspace = self.keyspace
        lazyfree = keyspace.lazyfree
        next_cycle = 0.0
        # (read without the lock: a TTL set meanwhile is seen at the next wake-up)
        while not self._closed.wait(LAZYFREE_PERIOD_S if lazyfree else keyspace.expire_period()):
            with self._lock:
                if lazyfree:  # a slice of what UNLINK & co. left (engine/lazyfree.py)
                    lazyfree.step(LAZYFREE_SLICE_MS)
                now = time.monotonic()
                if now >= next_cycle:
                    keyspace.active_expire()
                    next_cycle = now + keyspace.expire_period()

    def close(self) -> None:
        self._closed.set()
        if self._pubsub_client is not None:
            self._pubsub_client.close()  # (its pool does not own the store)
        if self._expire_thread is not None:
            self._expire_thread.join()
            self._expire_thread = None
        if self._persistence is not None:
            self._persistence.close()  # flush + fsync + unlock; waits for a running child
            self._persistence = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open(**options: Any) -> Store:  # noqa: A001 - kvstore.open() is the public name
    """An embedded store. Options: databases, db, decode_responses, clock, active_expire.

    Durability: `path` (a directory) persists like the server, into the same files: appendonly
    (default True with a path), appendfsync ("always" | "everysec" | "no"), save ([(secs,
    changes)]), dbfilename, appendfilename, appenddirname, aof_load_truncated,
    auto_aof_rewrite_percentage, auto_aof_rewrite_min_size. Close the store to flush."""
    return Store(**options)
