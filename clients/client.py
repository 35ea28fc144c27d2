"""`Client`: the synchronous client, redis-py's API over a pool of connections.

Theory of operation
-------------------
`Client` inherits every command method from `kvstore.methods.Methods`; each builds an argument
tuple and calls `execute_command(*args, callback=...)`. Here that takes a connection from the
pool, sends the packed command in one write, reads one reply (RESP2-shaped even over RESP3, see
clients/resp.py), gives the connection back and applies the callback.

Failures: an error *reply* (ResponseError and subclasses) is a normal answer, the connection stays
good. A ConnectionError is retried with exponential backoff when the command was not sent or is
safe to repeat (resp.retry_safe); anything else that interrupts a command (timeout,
KeyboardInterrupt) closes the connection before its slot returns to the pool.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, TypeVar

from kvstore.errors import BusyLoadingError, ConnectionError, ResponseError
from kvstore.methods import Methods

from .connection import Connection, ConnectionOptions
from .memory import MemoryPool
from .monitor import Monitor
from .pipeline import Pipeline, WatchError
from .pool import ConnectionPool, Retry
from .pubsub import PubSub
from .resp import BLOCKING, block_timeout, name_of, retry_safe
from .url import parse_url

T = TypeVar("T")


def pool_options(kwargs: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Split client keyword arguments into (transport, connection kwargs, pool kwargs)."""
    transport = kwargs.pop("transport", None)
    path = kwargs.pop("unix_socket_path", None)
    if transport is None:
        transport = "unix" if path else "tcp"
    pool_kw = {"max_connections": kwargs.pop("max_connections", None) or 2**31,
               "timeout": kwargs.pop("timeout", kwargs.pop("pool_timeout", 20.0)),
               "retry": kwargs.pop("retry", None)}
    if transport == "unix":
        kwargs["path"] = path
    return transport, kwargs, pool_kw


_CONNECTION_OPTIONS = frozenset(inspect.signature(ConnectionOptions).parameters)


class ClientBase(Methods):
    """What `Client` and `aclient.AsyncClient` share: the options, the pool a client builds for
    itself (of the classes below), `from_url`. Each adds its own `execute_command`."""

    _pool_class: Any = ConnectionPool
    _connection_class: Any = Connection
    _memory_pool_class: Any = MemoryPool

    def __init__(self, host: str = "localhost", port: int = 6379, db: int = 0,
                 *, connection_pool: Any = None, **options: Any) -> None:
        if connection_pool is None:
            transport, conn_kw, pool_kw = pool_options(dict(options))
            conn_kw.setdefault("db", db)
            if transport == "memory":
                store = conn_kw.pop("store", None)
                connection_pool = self._memory_pool_class(store=store, **conn_kw)
            else:
                if transport == "tcp":
                    conn_kw.setdefault("host", host)
                    conn_kw.setdefault("port", port)
                # (connections are made at the first command: a misspelt option would only
                # fail there, where redis-py's constructor refuses it at once)
                unknown = sorted(set(conn_kw) - _CONNECTION_OPTIONS)
                if unknown:
                    raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument "
                                    f"'{unknown[0]}'")
                connection_pool = self._pool_class(self._connection_class, **pool_kw, **conn_kw)
        self.connection_pool = connection_pool
        kw = connection_pool.connection_kwargs
        self.decode_responses: bool = kw.get("decode_responses", False)
        self.encoding: str = kw.get("encoding", "utf-8")
        self.encoding_errors: str = kw.get("encoding_errors", "strict")
        retry = getattr(connection_pool, "retry", None)
        self.retry: Retry = retry if retry is not None else Retry(0)

    @classmethod
    def from_url(cls: type[T], url: str, **kwargs: Any) -> T:
        """A client for `url` (redis://, kvstore://, unix://, memory://; see clients.url)."""
        options = parse_url(url)
        options.update(kwargs)
        return cls(**options)  # type: ignore[call-arg]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection_pool!r}>"


class Client(ClientBase):
    """A client for a kvstore (or Redis) server; see the module docstring.

    Options (redis-py's names): host, port, db, username, password, client_name, protocol (2|3),
    socket_timeout, socket_connect_timeout, decode_responses, encoding, encoding_errors,
    health_check_interval, max_connections, pool_timeout (wait for a free connection, s),
    retry (clients.pool.Retry), unix_socket_path, connection_pool.
    """

    # -- the one front door of every method ----------------------------------------------------

    def execute_command(self, *args: Any, callback: Callable[[Any], Any] | None = None,
                        never_decode: bool = False, **options: Any) -> Any:
        """Send one command, return its reply shaped by `callback` (see the module docstring)."""
        name = name_of(args)
        block = block_timeout(name, args) if name in BLOCKING else None
        pool = self.connection_pool
        attempt = 0
        while True:
            conn = pool.get_connection()
            sent = False
            try:
                conn.send_command(*args)
                sent = True
                reply = conn.read(name, block, never_decode)
            except BusyLoadingError:  # (run nowhere, and the connection is good)
                if attempt >= self.retry.retries:
                    raise
            except ResponseError:
                raise
            except ConnectionError:
                conn.disconnect()
                if attempt >= self.retry.retries or (sent and not retry_safe(name, args)):
                    raise
            except BaseException:  # timeout, KeyboardInterrupt: a reply may still be owed
                conn.disconnect()
                raise
            else:
                return callback(reply) if callback is not None else reply
            finally:
                pool.release(conn)
            time.sleep(self.retry.delay(attempt))
            attempt += 1

    # -- pipelines, transactions, pub/sub --------------------------------------------------------

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        """A Pipeline buffering commands until execute() (MULTI/EXEC around them if
        `transaction`)."""
        return Pipeline(self, transaction)

    def transaction(self, func: Callable[[Any], Any], *watches: Any, shard_hint: Any = None,
                    value_from_callable: bool = False, watch_delay: float | None = None) -> Any:
        """Run `func(pipe)` in a WATCH/MULTI/EXEC transaction, retried on WatchError; returns
        EXEC's results (or func's value with value_from_callable)."""
        with self.pipeline(True) as pipe:
            while True:
                try:
                    if watches:
                        pipe.watch(*watches)
                    func_value = func(pipe)
                    exec_value = pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        time.sleep(watch_delay)

    def pubsub(self, ignore_subscribe_messages: bool = False) -> PubSub:
        """A PubSub object with its own connection."""
        return PubSub(self.connection_pool, ignore_subscribe_messages)

    def monitor(self) -> Monitor:
        """MONITOR on a connection of its own, for a `with` block (clients/monitor.py)."""
        return Monitor(self.connection_pool)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection of the pool (and the in-process store of memory://)."""
        self.connection_pool.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
