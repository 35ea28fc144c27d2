"""`AsyncClient`: the asyncio client, over the same method layer as the sync client.

Theory of operation
-------------------
The shared methods end with `return self.execute_command(...)`; here execute_command is a
coroutine function, so every method returns an awaitable (`await client.get("k")`) and the
callback runs after the reply has been awaited. The few methods that need a reply at once are
AsyncMethods' (clients/amethods.py: dunders, scan iterators) or this class's: `_local_reply`
(mget([]) -> [] with no round trip) and shutdown(), whose success is the connection's loss,
caught around the await as redis-py's asyncio client does.

Same retry rule and failure handling as the sync client (clients/client.py); in addition, a call
cancelled while it waits (asyncio.CancelledError, e.g. from asyncio.wait_for around a BLPOP)
closes its connection, which still owes a reply, before the pool slot is released, so the next
call gets a clean connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from kvstore.errors import BusyLoadingError, ConnectionError, KvstoreError, ResponseError
from kvstore.methods.server import shutdown_args

from .aconnection import AsyncConnection
from .amethods import AsyncMethods
from .client import ClientBase
from .memory import AsyncMemoryPool
from .monitor import AsyncMonitor
from .pipeline import AsyncPipeline, WatchError
from .pool import AsyncConnectionPool
from .pubsub import AsyncPubSub
from .resp import BLOCKING, block_timeout, name_of, retry_safe


class AsyncClient(AsyncMethods, ClientBase):
    """The asyncio client; same options as `clients.Client`."""

    _pool_class = AsyncConnectionPool
    _connection_class = AsyncConnection
    _memory_pool_class = AsyncMemoryPool

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
            except BusyLoadingError:  # (run nowhere, and the connection is good)
                if attempt >= self.retry.retries:
                    raise
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

    async def _local_reply(self, value: Any) -> Any:
        return value

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> AsyncPipeline:
        return AsyncPipeline(self, transaction)

    async def transaction(self, func: Callable[[Any], Awaitable[Any] | Any], *watches: Any,
                          shard_hint: Any = None, value_from_callable: bool = False,
                          watch_delay: float | None = None) -> Any:
        """Run `func(pipe)` (a coroutine function or a plain one) in WATCH/MULTI/EXEC, retried
        on WatchError."""
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

    def pubsub(self, ignore_subscribe_messages: bool = False) -> AsyncPubSub:
        return AsyncPubSub(self.connection_pool, ignore_subscribe_messages)

    def monitor(self) -> AsyncMonitor:
        """MONITOR on a connection of its own, for an `async with` block (clients/monitor.py)."""
        return AsyncMonitor(self.connection_pool)

    async def shutdown(self, save: bool = False, nosave: bool = False, now: bool = False,
                       force: bool = False, abort: bool = False, **kwargs: Any) -> None:
        """SHUTDOWN: the server closes the connection instead of replying, which is success."""
        try:
            await self.execute_command(*shutdown_args(save, nosave, now, force, abort))
        except (ConnectionError, OSError):
            return None
        raise KvstoreError("SHUTDOWN seems to have failed.")

    async def aclose(self) -> None:
        await self.connection_pool.aclose()

    close = aclose

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
