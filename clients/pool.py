"""Connection pools (sync and asyncio) and the retry policy.

Theory of operation
-------------------
A pool creates connections lazily, up to `max_connections`, and keeps idle ones in a LIFO stack
(the most recently used socket is the warmest and the least likely to have been closed by an idle
timeout). When all are in use, `get_connection(timeout)` waits on a condition until one is
released or `timeout` seconds pass, then raises `ConnectionError("Too many connections")` (redis-
py's BlockingConnectionPool behaviour; `timeout=None` waits forever).

On the way out, a connection is checked: a socket the server closed (restart, idle timeout) is
noticed by a zero-timeout poll and reconnected, and an idle one is PINGed when
`health_check_interval` has passed. On the way in, a connection that still owes a reply is never
accepted as is: the callers close it on any error (see connection.py), and `release()` of a
closed connection only frees its slot.

`Retry`: exponential backoff (base * 2**attempt, capped) between attempts; the callers decide
*what* may be retried (clients/resp.py: connects always, commands only when safe).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

from kvstore.errors import ConnectionError, TimeoutError


class Retry:
    """`retries` extra attempts after the first, sleeping base * 2**n (at most `cap`) between."""

    __slots__ = ("retries", "base", "cap")

    def __init__(self, retries: int = 3, base: float = 0.008, cap: float = 0.512) -> None:
        self.retries = retries
        self.base = base
        self.cap = cap

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        return min(self.cap, self.base * (1 << attempt))


RETRYABLE = (ConnectionError, TimeoutError)


class PoolBase:
    """The options and the bookkeeping both pools share: idle connections, how many were
    created, all of them (to close them), and a condition (`_make_cond`) to wait for one."""

    def __init__(self, connection_class: Callable[..., Any], max_connections: int = 2**31,
                 timeout: float | None = 20.0, retry: Retry | None = None,
                 **connection_kwargs: Any) -> None:
        self.connection_class = connection_class
        self.connection_kwargs = connection_kwargs
        self.max_connections = max_connections
        self.timeout = timeout
        self.retry = retry or Retry()
        self._idle: list[Any] = []
        self._created = 0
        self._all: list[Any] = []
        self._cond = self._make_cond()
        self._closed = False

    @staticmethod
    def _make_cond() -> Any:
        raise NotImplementedError

    def make_connection(self) -> Any:
        return self.connection_class(**self.connection_kwargs)


class ConnectionPool(PoolBase):
    """A thread-safe pool of `Connection`s (see the module docstring)."""

    @staticmethod
    def _make_cond() -> threading.Condition:
        return threading.Condition(threading.Lock())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection_kwargs.get('path') or ''}" \
               f"{self.connection_kwargs.get('host', '')}:{self.connection_kwargs.get('port', '')}>"

    def get_connection(self, timeout: float | None = ...) -> Any:  # type: ignore[assignment]
        """A connected, healthy connection, waiting up to `timeout` s (default: the pool's)."""
        conn = self._checkout(self.timeout if timeout is ... else timeout)
        try:
            if conn.sock is not None:
                conn.check_health()
            if conn.sock is None:
                self.connect(conn)
        except BaseException:  # e.g. interrupted during the health PING: a reply may be owed
            conn.disconnect()
            self.release(conn)
            raise
        return conn

    def _checkout(self, timeout: float | None) -> Any:
        with self._cond:
            if self._closed:
                raise ConnectionError("Connection pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._created < self.max_connections:
                self._created += 1
                conn = self.make_connection()
                self._all.append(conn)
                return conn
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._idle:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise ConnectionError("Too many connections: no connection available "
                                          f"within {timeout} s")
                self._cond.wait(left)
            return self._idle.pop()

    def connect(self, conn: Any) -> None:
        """Connect with retries and exponential backoff (connect failures are always safe)."""
        retry = self.retry
        attempt = 0
        while True:
            try:
                conn.connect()
                return
            except RETRYABLE:
                if attempt >= retry.retries:
                    raise
                time.sleep(retry.delay(attempt))
                attempt += 1

    def release(self, conn: Any) -> None:
        with self._cond:
            if self._closed:
                conn.disconnect()
                return
            self._idle.append(conn)
            self._cond.notify()

    def disconnect(self) -> None:
        """Close every connection (idle ones now; in-use ones are closed, their users get a
        ConnectionError and the slot comes back on release)."""
        with self._cond:
            conns = list(self._all)
        for conn in conns:
            conn.disconnect()

    def close(self) -> None:
        self.disconnect()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reset(self) -> None:
        self.disconnect()


class AsyncConnectionPool(PoolBase):
    """The asyncio pool: same policy, an asyncio.Condition for the wait. One event loop."""

    @staticmethod
    def _make_cond() -> asyncio.Condition | None:
        return None  # made in the running loop, on first wait

    async def get_connection(self, timeout: float | None = ...) -> Any:  # type: ignore[assignment]
        if self._closed:
            raise ConnectionError("Connection pool is closed")
        if self._idle:
            conn = self._idle.pop()
        elif self._created < self.max_connections:
            self._created += 1
            conn = self.make_connection()
            self._all.append(conn)
        else:
            conn = await self._wait(self.timeout if timeout is ... else timeout)
        try:
            if conn.is_connected:
                await conn.check_health()
            if not conn.is_connected:
                await self.connect(conn)
        except BaseException:  # e.g. interrupted during the health PING: a reply may be owed
            conn.disconnect()
            self.release(conn)
            raise
        return conn

    async def _wait(self, timeout: float | None) -> Any:
        if self._cond is None:
            self._cond = asyncio.Condition()
        cond = self._cond
        async with cond:
            try:
                await asyncio.wait_for(cond.wait_for(lambda: bool(self._idle)), timeout)
            except asyncio.TimeoutError:
                raise ConnectionError("Too many connections: no connection available "
                                      f"within {timeout} s") from None
            return self._idle.pop()

    async def connect(self, conn: Any) -> None:
        retry = self.retry
        attempt = 0
        while True:
            try:
                await conn.connect()
                return
            except RETRYABLE:
                if attempt >= retry.retries:
                    raise
                await asyncio.sleep(retry.delay(attempt))
                attempt += 1

    def release(self, conn: Any) -> None:
        if self._closed:
            conn.disconnect()
            return
        self._idle.append(conn)
        cond = self._cond
        if cond is not None and cond._waiters:  # type: ignore[attr-defined]
            asyncio.ensure_future(self._notify(cond))

    @staticmethod
    async def _notify(cond: asyncio.Condition) -> None:
        async with cond:
            cond.notify()

    def disconnect(self) -> None:
        for conn in list(self._all):
            conn.disconnect()

    async def aclose(self) -> None:
        self.disconnect()
        self._closed = True
