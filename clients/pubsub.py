"""Publish/subscribe, sync and asyncio (redis-py's PubSub API and message shapes).

Theory of operation
-------------------
A PubSub owns one connection taken from the client's pool at the first subscribe and kept until
close(). (P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE are sent without waiting: their confirmations arrive
as messages, like everything else, read by `get_message(timeout=...)` (or its redis-py alias
`get_sharded_message`) or `listen()`. Messages are dicts shaped as redis-py's:

    {'type': 'message', 'pattern': None, 'channel': b'c', 'data': b'x'}
    {'type': 'pmessage', 'pattern': b'c*', 'channel': b'c1', 'data': b'x'}
    {'type': 'smessage', 'pattern': None, 'channel': b'sc', 'data': b'x'}   (SPUBLISH)
    {'type': 'subscribe', 'pattern': None, 'channel': b'c', 'data': 1}

The type is always a str; the rest follows decode_responses. A channel subscribed with a handler
(`subscribe(c=fn)`) calls fn(message) instead of returning the message; the asyncio PubSub awaits
a coroutine function handler, as redis-py's does.

A name may also be given as `Subscription(name, handler)` (redis-py 8.2's form, for names that
cannot be keywords, such as binary ones); redis-py's own `redis.Subscription` is accepted too.

The subscriptions are tables name -> handler, as redis-py keeps them. (P|S)UNSUBSCRIBE does not
remove a name at once: it marks it pending, and the name leaves its table when its confirmation
is read (a subscribe in between cancels the mark). So `subscribed` (any table non-empty) stays
True until the last unsubscribe confirmation has been read, and `listen()` yields that
confirmation before it ends, as in redis-py.

The subscriptions are remembered, so when the connection breaks (server restart) the next
get_message() reconnects and subscribes again to everything not pending unsubscription, then
goes on; the confirmations of the re-subscription are delivered as messages, as after the first
subscribe.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterator

from kvstore.errors import ConnectionError, KvstoreError, TimeoutError
from kvstore.methods.base import list_or_args
from kvstore.protocol.encoder import encode_arg

Handler = Callable[[dict], Any] | None

_SUBSCRIBE_TYPES = frozenset(("subscribe", "psubscribe", "ssubscribe", "unsubscribe",
                              "punsubscribe", "sunsubscribe"))
_HANDLED_TYPES = frozenset(("message", "pmessage", "smessage"))


_UNSUBSCRIBE_TYPES = {"unsubscribe": "channels", "punsubscribe": "patterns",
                      "sunsubscribe": "shard_channels"}
_PLAIN_NAMES = (str, bytes, memoryview, int, float)


class PubSubError(KvstoreError):
    """A PubSub used in a way it cannot serve (redis-py's PubSubError)."""


@dataclass(frozen=True)
class Subscription:
    """A channel or pattern to subscribe to, with an optional handler (redis-py 8.2's)."""

    name: Any
    handler: Handler = None


def _subscriptions(args: tuple, kwargs: dict) -> dict:
    """name -> handler from positional names or Subscriptions (or one list of them) and
    name=handler keywords: redis-py's parse_pubsub_subscriptions. Any object with `name` and
    `handler` attributes counts as a Subscription, so redis.Subscription works too."""
    out: dict = {}
    for arg in list_or_args(args[0], args[1:]) if args else []:
        if not isinstance(arg, _PLAIN_NAMES) and hasattr(arg, "name") and hasattr(arg,
                                                                                 "handler"):
            out[arg.name] = arg.handler
        else:
            out[arg] = None
    out.update(kwargs)
    return out


class _Base:
    def __init__(self, pool: Any, ignore_subscribe_messages: bool = False) -> None:
        self.connection_pool = pool
        self.ignore_subscribe_messages = ignore_subscribe_messages
        kw = getattr(pool, "connection_kwargs", {})
        self.encoding: str | None = kw.get("encoding", "utf-8") if kw.get(
            "decode_responses") else None
        self.conn: Any = None
        self.channels: dict[Any, Handler] = {}
        self.patterns: dict[Any, Handler] = {}
        self.shard_channels: dict[Any, Handler] = {}
        # Names unsubscribed whose confirmation has not been read yet (redis-py's).
        self.pending_unsubscribe_channels: set = set()
        self.pending_unsubscribe_patterns: set = set()
        self.pending_unsubscribe_shard_channels: set = set()

    @property
    def subscribed(self) -> bool:
        """Subscribed to anything, counting what is unsubscribed but not yet confirmed."""
        return bool(self.channels or self.patterns or self.shard_channels)

    def _norm(self, name: Any) -> Any:
        """A channel name as messages will report it (to find its handler): bytes, str with
        decode_responses (redis-py's encode then decode)."""
        if self.encoding is None:
            return encode_arg(name)
        return name if isinstance(name, str) else encode_arg(name).decode(self.encoding)

    def _pending(self, table: str) -> set:
        return getattr(self, f"pending_unsubscribe_{table}")

    def _register(self, table: str, args: tuple, kwargs: dict) -> list:
        """Add the subscriptions (see `_subscriptions`); the names to send."""
        new = _subscriptions(args, kwargs)
        names, pending = getattr(self, table), self._pending(table)
        for name, handler in new.items():
            key = self._norm(name)
            names[key] = handler
            pending.discard(key)
        return list(new)

    def _forget(self, table: str, args: tuple) -> list:
        """Mark names (all of the table's, when none is given) pending unsubscription; the
        names to send. They leave the table when their confirmation is read."""
        names = list_or_args(args[0], args[1:]) if args else []
        pending = self._pending(table)
        if names:
            pending.update(self._norm(name) for name in names)
        else:
            pending.update(getattr(self, table))
        return names

    def _confirmed(self, kind: str, name: Any) -> None:
        """An unsubscribe confirmation was read: the name leaves its table if still pending."""
        table = _UNSUBSCRIBE_TYPES[kind]
        pending = self._pending(table)
        if name in pending:
            pending.discard(name)
            getattr(self, table).pop(name, None)

    def _drop_pending(self) -> None:
        """A new connection: what was being unsubscribed is not subscribed there."""
        for table in _UNSUBSCRIBE_TYPES.values():
            pending, names = self._pending(table), getattr(self, table)
            for name in pending:
                names.pop(name, None)
            pending.clear()

    def _clear(self) -> None:
        for table in _UNSUBSCRIBE_TYPES.values():
            getattr(self, table).clear()
            self._pending(table).clear()

    def _resubscribe_commands(self) -> list[tuple]:
        """The commands that restore the subscriptions on a new connection."""
        self._drop_pending()
        cmds: list[tuple] = []
        if self.channels:
            cmds.append(("SUBSCRIBE", *self.channels))
        if self.patterns:
            cmds.append(("PSUBSCRIBE", *self.patterns))
        if self.shard_channels:
            cmds.append(("SSUBSCRIBE", *self.shard_channels))
        return cmds

    def handle_message(self, reply: Any, ignore_subscribe_messages: bool = False) -> Any:
        """redis-py's message dict for one pushed reply (None when consumed or ignored)."""
        message, handler = self._message(reply, ignore_subscribe_messages)
        if handler is not None:
            handler(message)
            return None
        return message

    def _message(self, reply: Any, ignore_subscribe_messages: bool) -> tuple[Any, Handler]:
        """(the message dict or None, the handler it is for or None) of one pushed reply."""
        if isinstance(reply, (bytes, str)):
            # Over RESP3 a subscribed connection's PING is answered as a plain reply, "PONG"
            # or its argument (RESP2 sends ["pong", arg]): a pong message all the same, as
            # redis-py makes it.
            reply = ["pong", reply[:0] if reply in (b"PONG", "PONG") else reply]
        if not isinstance(reply, list) or not reply:
            return None, None
        kind = reply[0]
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        if kind == "pmessage":
            message = {"type": kind, "pattern": reply[1], "channel": reply[2], "data": reply[3]}
        elif kind == "pong":
            message = {"type": kind, "pattern": None, "channel": None,
                       "data": reply[1] if len(reply) > 1 else b""}
        else:
            message = {"type": kind, "pattern": None, "channel": reply[1],
                       "data": reply[2] if len(reply) > 2 else None}
        if kind in _SUBSCRIBE_TYPES:
            if kind in _UNSUBSCRIBE_TYPES:
                self._confirmed(kind, message["channel"])
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None, None
        elif kind in _HANDLED_TYPES:
            if kind == "pmessage":
                return message, self.patterns.get(message["pattern"])
            table = self.shard_channels if kind == "smessage" else self.channels
            return message, table.get(message["channel"])
        return message, None


class PubSub(_Base):
    """Sync pub/sub (see the module docstring)."""

    def __enter__(self) -> "PubSub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute_command(self, *args: Any) -> None:
        if self.conn is None:
            self.conn = self.connection_pool.get_connection()
        try:
            self.conn.send_command(*args)
        except (ConnectionError, TimeoutError):
            self._reconnect()  # resubscribes everything, this command's channels included

    def _reconnect(self) -> None:
        conn = self.conn
        conn.disconnect()
        self.connection_pool.connect(conn) if hasattr(self.connection_pool, "connect") \
            else conn.connect()
        cmds = self._resubscribe_commands()
        if cmds:
            conn.send_commands(cmds)

    def subscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        """SUBSCRIBE channels (names, Subscription(name, handler), or name=handler keywords)."""
        names = self._register("channels", args, kwargs)
        self.execute_command("SUBSCRIBE", *names)

    def psubscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        names = self._register("patterns", args, kwargs)
        self.execute_command("PSUBSCRIBE", *names)

    def unsubscribe(self, *args: Any) -> None:
        self.execute_command("UNSUBSCRIBE", *self._forget("channels", args))

    def punsubscribe(self, *args: Any) -> None:
        self.execute_command("PUNSUBSCRIBE", *self._forget("patterns", args))

    def ssubscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        """SSUBSCRIBE shard channels (as subscribe)."""
        names = self._register("shard_channels", args, kwargs)
        self.execute_command("SSUBSCRIBE", *names)

    def sunsubscribe(self, *args: Any) -> None:
        self.execute_command("SUNSUBSCRIBE", *self._forget("shard_channels", args))

    def ping(self, message: Any = None) -> None:
        self.execute_command("PING", *([] if message is None else [message]))

    def get_message(self, ignore_subscribe_messages: bool = False,
                    timeout: float | None = 0.0) -> dict | None:
        """The next message, or None if none arrived within `timeout` s (None: wait)."""
        if self.conn is None:
            return None
        try:
            if not self.conn.is_connected:
                self._reconnect()
            reply = self.conn.read_push(timeout)
        except ConnectionError:
            self._reconnect()
            return None
        if reply is None:
            return None
        return self.handle_message(reply, ignore_subscribe_messages)

    get_sharded_message = get_message  # redis-py's name for reading smessages

    def listen(self) -> Iterator[dict]:
        """Messages as they arrive, while subscribed to anything."""
        while self.subscribed:
            message = self.get_message(timeout=None)
            if message is not None:
                yield message

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.disconnect()  # subscribed: it cannot serve normal commands any more
            self.connection_pool.release(conn)
        self._clear()

    reset = close

    def run_in_thread(self, sleep_time: float = 0.0, daemon: bool = False,
                      exception_handler: Callable[[BaseException, Any, Any], None] | None
                      = None, pubsub: Any = None,
                      sharded_pubsub: bool = False) -> "PubSubWorkerThread":
        """A started thread that reads messages (each `sleep_time` s at most) so that their
        handlers run, until its stop(); every subscription must have a handler (redis-py's)."""
        for table, what in (("channels", "Channel"), ("patterns", "Pattern"),
                            ("shard_channels", "Shard Channel")):
            for name, handler in getattr(self, table).items():
                if handler is None:
                    raise PubSubError(f"{what}: '{name}' has no handler registered")
        thread = PubSubWorkerThread(self if pubsub is None else pubsub, sleep_time,
                                    daemon=daemon, exception_handler=exception_handler,
                                    sharded_pubsub=sharded_pubsub)
        thread.start()
        return thread


class PubSubWorkerThread(threading.Thread):
    """redis-py's worker: get_message() in a loop until stop(), then close() the PubSub. An
    exception goes to `exception_handler(exc, pubsub, thread)` if given, else ends the thread."""

    def __init__(self, pubsub: Any, sleep_time: float, daemon: bool = False,
                 exception_handler: Callable[[BaseException, Any, Any], None] | None = None,
                 sharded_pubsub: bool = False) -> None:
        super().__init__(daemon=daemon)
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self.sharded_pubsub = sharded_pubsub
        self._running = threading.Event()
        self._running.set()  # before start(), so that an early stop() is not undone

    def run(self) -> None:
        pubsub = self.pubsub
        read = pubsub.get_sharded_message if self.sharded_pubsub else pubsub.get_message
        while self._running.is_set():
            try:
                read(ignore_subscribe_messages=True, timeout=self.sleep_time)
            except BaseException as exc:
                if self.exception_handler is None:
                    raise
                self.exception_handler(exc, pubsub, self)
        pubsub.close()

    def stop(self, timeout: float | None = None) -> None:
        """End the loop and wait (up to `timeout` s) for the thread to close the PubSub; from
        the thread itself (an exception handler) it only ends the loop."""
        self._running.clear()
        if threading.current_thread() is not self and self.is_alive():
            self.join(timeout)


class AsyncPubSub(_Base):
    """asyncio pub/sub: the same API, coroutines; `async for m in pubsub.listen()`."""

    async def __aenter__(self) -> "AsyncPubSub":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def execute_command(self, *args: Any) -> None:
        if self.conn is None:
            self.conn = await self.connection_pool.get_connection()
        try:
            self.conn.send_command(*args)
        except (ConnectionError, TimeoutError):
            await self._reconnect()

    async def _reconnect(self) -> None:
        conn = self.conn
        conn.disconnect()
        await self.connection_pool.connect(conn)
        cmds = self._resubscribe_commands()
        if cmds:
            conn.send_commands(cmds)

    async def subscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        await self.execute_command("SUBSCRIBE", *self._register("channels", args, kwargs))

    async def psubscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        await self.execute_command("PSUBSCRIBE", *self._register("patterns", args, kwargs))

    async def unsubscribe(self, *args: Any) -> None:
        await self.execute_command("UNSUBSCRIBE", *self._forget("channels", args))

    async def punsubscribe(self, *args: Any) -> None:
        await self.execute_command("PUNSUBSCRIBE", *self._forget("patterns", args))

    async def ssubscribe(self, *args: Any, **kwargs: Callable[[dict], Any]) -> None:
        await self.execute_command("SSUBSCRIBE",
                                   *self._register("shard_channels", args, kwargs))

    async def sunsubscribe(self, *args: Any) -> None:
        await self.execute_command("SUNSUBSCRIBE", *self._forget("shard_channels", args))

    async def ping(self, message: Any = None) -> None:
        await self.execute_command("PING", *([] if message is None else [message]))

    async def get_message(self, ignore_subscribe_messages: bool = False,
                          timeout: float | None = 0.0) -> dict | None:
        if self.conn is None:
            return None
        try:
            if not self.conn.is_connected:
                await self._reconnect()
            reply = await self.conn.read_push(timeout)
        except ConnectionError:
            await self._reconnect()
            return None
        if reply is None:
            return None
        return await self.handle_message(reply, ignore_subscribe_messages)

    get_sharded_message = get_message

    async def handle_message(self, reply: Any,  # type: ignore[override]
                             ignore_subscribe_messages: bool = False) -> Any:
        """As the sync one; a coroutine function handler is awaited, as in redis-py."""
        message, handler = self._message(reply, ignore_subscribe_messages)
        if handler is not None:
            if inspect.iscoroutinefunction(handler):
                await handler(message)
            else:
                handler(message)
            return None
        return message

    async def listen(self) -> AsyncIterator[dict]:
        while self.subscribed:
            message = await self.get_message(timeout=None)
            if message is not None:
                yield message

    async def aclose(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.disconnect()
            self.connection_pool.release(conn)
        self._clear()

    close = aclose
    reset = aclose
