"""`AsyncClient`: the asyncio client, over the same method layer as the sync client.

Theory of operation
-------------------
The shared methods end with `return self.execute_command(...)`; here execute_command is a
coroutine function, so every method returns an awaitable (`await client.get("k")`) and the
callback runs after the reply has been awaited. Same retry rule and failure handling as the sync
client (clients/client.py); in addition, a call cancelled while it waits (asyncio.CancelledError,
e.g. from asyncio.wait_for around a BLPOP) closes its connection, which still owes a reply,
before the pool slot is released, so the next call gets a clean connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, TypeVar

from kvstore.errors import ConnectionError, ResponseError
from kvstore.methods import Methods

from .aconnection import AsyncConnection
from .client import BLOCKING, name_of, pool_options
from .memory import AsyncMemoryPool
from .pool import AsyncConnectionPool, Retry
from .resp import block_timeout, retry_safe
from .url import parse_url

T = TypeVar("T")


class AsyncClient(Methods):
    """The asyncio client; same options as `clients.Client`."""

    def __init__(self, host: str = "localhost", port: int = 6379, db: int = 0,
                 *, connection_pool: Any = None, **options: Any) -> None:
        if connection_pool is None:
            transport, conn_kw, pool_kw = pool_options(dict(options))
            conn_kw.setdefault("db", db)
            if transport == "memory":
                connection_pool = AsyncMemoryPool(store=conn_kw.pop("store", None), **conn_kw)
            else:
                if transport == "tcp":
                    conn_kw.setdefault("host", host)
                    conn_kw.setdefault("port", port)
                connection_pool = AsyncConnectionPool(AsyncConnection, **pool_kw, **conn_kw)
        self.connection_pool = connection_pool
        kw = connection_pool.connection_kwargs
        self.decode_responses: bool = kw.get("decode_responses", False)
        self.encoding: str = kw.get("encoding", "utf-8")
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

    async def execute_command(self, *args: Any, callback: Callable[[Any], Any] | None = None,
                              never_decode: bool = False, **options: Any) -> Any:
        """Send one command; await and return its reply shaped by `callback`."""
        name = name_of(args)
        block = block_timeout(name, args) if name in BLOCKING else None
        pool = self.connection_pool
        attempt = 0
        while True:
            conn = await pool.get_connection()
            sent = False
            try:
                conn.send_command(*args)
                sent = True
                reply = await conn.read(name, block, never_decode)
            except ResponseError:
                raise
            except ConnectionError:
                conn.disconnect()
                if attempt >= self.retry.retries or (sent and not retry_safe(name, args)):
                    raise
            except BaseException:  # timeout, CancelledError: the reply is still owed
                conn.disconnect()
                raise
            else:
                return callback(reply) if callback is not None else reply
            finally:
                pool.release(conn)
            await asyncio.sleep(self.retry.delay(attempt))
            attempt += 1

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        from .pipeline import AsyncPipeline

        return AsyncPipeline(self, transaction)

    async def transaction(self, func: Callable[[Any], Awaitable[Any] | Any], *watches: Any,
                          shard_hint: Any = None, value_from_callable: bool = False,
                          watch_delay: float | None = None) -> Any:
        """Run `func(pipe)` (a coroutine function or a plain one) in WATCH/MULTI/EXEC, retried
        on WatchError."""
        from .pipeline import WatchError

        async with self.pipeline(True) as pipe:
            while True:
                try:
                    if watches:
                        await pipe.watch(*watches)
                    func_value = func(pipe)
                    if asyncio.iscoroutine(func_value):
                        func_value = await func_value
                    exec_value = await pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        await asyncio.sleep(watch_delay)

    def pubsub(self, ignore_subscribe_messages: bool = False) -> Any:
        from .pubsub import AsyncPubSub

        return AsyncPubSub(self.connection_pool, ignore_subscribe_messages)

    async def aclose(self) -> None:
        await self.connection_pool.aclose()

    close = aclose

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
