"""One asyncio connection to a RESP server (TCP or Unix socket).

Theory of operation
-------------------
An `asyncio.Protocol` (not streams: one callback per read, no StreamReader buffer copy) feeds
every received chunk to the same sans-IO reader the sync client uses and wakes the one coroutine
waiting for a reply. `read()` parses what is buffered first and only awaits when no reply is
complete, so the replies of a pipeline are taken without suspending once their bytes are in.

Deadlines use `loop.call_later` on the waiting future (no `wait_for` task per read). A timeout, a
connection loss or a cancellation (asyncio.CancelledError) in the middle of a command closes the
transport: a connection that owes a reply is never reused (the owner then frees its pool slot).
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, Sequence

from kvstore.errors import ConnectionError, ResponseError, TimeoutError
from kvstore.protocol import make_reader, pack_command

from .connection import BLOCK_GRACE, Connection, ConnectionOptions
from .resp import raise_if_error, to_resp2


class _Protocol(asyncio.Protocol):
    __slots__ = ("conn", "transport")

    def __init__(self, conn: "AsyncConnection") -> None:
        self.conn = conn
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn._reader.feed(data)
        waiter = conn._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        conn = self.conn
        if conn.transport is not None and conn.transport is not self.transport:
            return  # an old transport of a connection that has reconnected since
        conn._lost = True
        waiter = conn._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"Connection closed by server {conn.address}."))
        drain = conn._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def pause_writing(self) -> None:
        self.conn._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drain, self.conn._drain = self.conn._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)


def _expire(fut: asyncio.Future, address: str) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError(f"Timeout reading from {address}"))


class AsyncConnection(ConnectionOptions):
    """Same options as `clients.connection.Connection`; I/O methods are coroutines."""

    # Per-connection state (instance attributes once set).
    transport: asyncio.Transport | None = None
    _reader: Any = None
    _waiter: asyncio.Future | None = None
    _drain: asyncio.Future | None = None
    _lost = False
    last_used = 0.0

    @property
    def is_connected(self) -> bool:
        return self.transport is not None and not self._lost

    handshake_commands = Connection.handshake_commands

    async def connect(self) -> None:
        if self.is_connected:
            return
        self.disconnect()  # a half-dead transport must not survive a failed reconnect
        loop = asyncio.get_running_loop()
        self._reader = (make_reader(encoding=self.encoding, errors=self.encoding_errors)
                        if self.decode_responses else make_reader())
        try:
            if self.path:
                coro = loop.create_unix_connection(lambda: _Protocol(self), self.path)
            else:
                coro = loop.create_connection(lambda: _Protocol(self), self.host, self.port)
            transport, _ = await asyncio.wait_for(coro, self.socket_connect_timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"Timeout connecting to {self.address}") from None
        except OSError as exc:
            raise ConnectionError(f"Error {exc.errno} connecting to {self.address}. "
                                  f"{exc.strerror or exc}.") from None
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport  # type: ignore[assignment]
        self._lost = False
        try:
            cmds = self.handshake_commands()
            if cmds:
                self.send(b"".join(pack_command(*c) for c in cmds))
                replies = [await self._read_raw(self.socket_timeout, True) for _ in cmds]
                for reply in replies:
                    raise_if_error(reply)
        except BaseException:
            self.disconnect()
            raise
        self.last_used = time.monotonic()

    def disconnect(self) -> None:
        transport, self.transport = self.transport, None
        self._lost = True
        if transport is not None:
            transport.abort()  # drop unsent data too: nothing of a dead command may go out

    close = disconnect

    async def check_health(self) -> None:
        """Reconnect a connection the server closed; PING one idle past the interval."""
        if self._lost or (self._reader is not None and self._reader.has_data()):
            self.disconnect()
            return
        interval = self.health_check_interval
        if interval and time.monotonic() - self.last_used > interval:
            try:
                self.send(b"*1\r\n$4\r\nPING\r\n")
                await self._read_raw(self.socket_timeout, False)
            except (ConnectionError, TimeoutError):
                self.disconnect()

    def send(self, data: bytes) -> None:
        """Queue packed commands on the transport (one write call)."""
        transport = self.transport
        if transport is None or self._lost or transport.is_closing():
            raise ConnectionError(f"Connection to {self.address} closed")
        transport.write(data)

    def send_command(self, *args: Any) -> None:
        self.send(pack_command(*args))

    def send_commands(self, commands: Sequence[Sequence[Any]]) -> None:
        self.send(b"".join([pack_command(*c) for c in commands]))

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        drain = self._drain
        if drain is not None:
            await drain

    async def read(self, name: bytes = b"", block: float | None = None,
                   never_decode: bool = False) -> Any:
        timeout = self.socket_timeout
        if block is not None:
            timeout = None if block == 0 or timeout is None else block + timeout + BLOCK_GRACE
        reply = await self._read_raw(timeout, not never_decode)
        if isinstance(reply, ResponseError):
            raise_if_error(reply)
        if self.protocol == 3:
            return to_resp2(reply, name, None if never_decode or not self.decode_responses
                            else self.encoding)
        return reply

    async def read_raw(self, timeout: float | None = None, decode: bool = True) -> Any:
        return await self._read_raw(timeout, decode)

    async def _read_raw(self, timeout: float | None, decode: bool) -> Any:
        reader = self._reader
        reply = reader.gets(decode)
        if reply is not False:
            return reply
        loop = asyncio.get_running_loop()
        while True:
            if self._lost:
                self.disconnect()
                raise ConnectionError(f"Connection to {self.address} closed")
            fut = self._waiter = loop.create_future()
            handle = loop.call_later(timeout, _expire, fut, self.address) if timeout else None
            try:
                await fut
            except BaseException:  # timeout, connection lost, CancelledError: reply unread
                self.disconnect()
                raise
            finally:
                self._waiter = None
                if handle is not None:
                    handle.cancel()
            reply = reader.gets(decode)
            if reply is not False:
                self.last_used = time.monotonic()
                return reply

    async def read_many(self, items: Sequence[tuple[bytes, bool]],
                       block: float | None = None) -> list[Any]:
        """One reply per (name, never_decode), error replies returned in place (pipelines),
        RESP2-shaped. `block`: the longest blocking timeout among them, as in read()."""
        timeout = self.socket_timeout
        if block is not None:
            timeout = None if block == 0 or timeout is None else block + timeout + BLOCK_GRACE
        out = []
        for name, never_decode in items:
            reply = await self._read_raw(timeout, not never_decode)
            if self.protocol == 3 and not isinstance(reply, ResponseError):
                reply = to_resp2(reply, name, None if never_decode or not self.decode_responses
                                 else self.encoding)
            out.append(reply)
        return out

    async def read_push(self, timeout: float | None) -> Any:
        """The next message of a subscribed connection, or None after `timeout` seconds (None:
        forever). Nothing is owed on a subscribed connection, so a timeout or a cancellation
        here keeps it open."""
        reply = self._reader.gets()
        if reply is not False:
            return reply
        if self._lost:
            self.disconnect()
            raise ConnectionError(f"Connection to {self.address} closed")
        loop = asyncio.get_running_loop()
        fut = self._waiter = loop.create_future()
        handle = (loop.call_later(timeout, _resolve, fut) if timeout is not None else None)
        try:
            await fut
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()
        reply = self._reader.gets()
        return None if reply is False else reply


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)
