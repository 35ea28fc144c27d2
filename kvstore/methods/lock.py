"""`lock()`: redis-py's distributed lock (redis/lock.py and redis/asyncio/lock.py), same API and
same wire behaviour, so code written for `redis.Redis.lock` runs on our clients and on the
embedded store, and our locks and redis-py's exclude each other on one server.

A lock is a key holding a random token: acquire is `SET name token NX [PX timeout]`, retried
every `sleep` seconds while `blocking` (until `blocking_timeout`); release, extend and
reacquire are Lua scripts that act only if the key still holds our token (redis-py's own
scripts, byte for byte, so their SHA1s are the ones a server already caches for redis-py).
The token is kept per thread by default (`thread_local`), as in redis-py.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any

from ..errors import LockError, LockNotOwnedError
from ..protocol.encoder import encode_arg

# KEYS[1] lock name, ARGV[1] token: 1 if released, else 0.
LUA_RELEASE_SCRIPT = """
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        redis.call('del', KEYS[1])
        return 1
    """
# ARGV[2] milliseconds to add (or to set, when ARGV[3] is "1"): 1 if extended, else 0.
LUA_EXTEND_SCRIPT = """
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        local expiration = redis.call('pttl', KEYS[1])
        if not expiration then
            expiration = 0
        end
        if expiration < 0 then
            return 0
        end

        local newttl = ARGV[2]
        if ARGV[3] == "0" then
            newttl = ARGV[2] + expiration
        end
        if tonumber(newttl) <= 0 then
            return 1
        end
        redis.call('pexpire', KEYS[1], newttl)
        return 1
    """
# ARGV[2] the lock's full timeout in milliseconds again: 1 if reset, else 0.
LUA_REACQUIRE_SCRIPT = """
        local token = redis.call('get', KEYS[1])
        if not token or token ~= ARGV[1] then
            return 0
        end
        if tonumber(ARGV[2]) > 0 then
            redis.call('pexpire', KEYS[1], ARGV[2])
        end
        return 1
    """


class Lock:
    """A lock on key `name` of `client` (see the module docstring). Use `with client.lock(...)`
    or acquire() / release(); extend() and reacquire() need a timeout."""

    def __init__(self, client: Any, name: Any, timeout: float | None = None,
                 sleep: float = 0.1, blocking: bool = True,
                 blocking_timeout: float | None = None, thread_local: bool = True,
                 raise_on_release_error: bool = True) -> None:
        self.redis = client
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = bool(thread_local)
        self.raise_on_release_error = raise_on_release_error
        self.local: Any = threading.local() if self.thread_local else SimpleNamespace()
        self.local.token = None
        self.lua_release = client.register_script(LUA_RELEASE_SCRIPT)
        self.lua_extend = client.register_script(LUA_EXTEND_SCRIPT)
        self.lua_reacquire = client.register_script(LUA_REACQUIRE_SCRIPT)

    def __enter__(self) -> "Lock":
        if self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified", lock_name=self.name)

    def __exit__(self, *exc: object) -> None:
        try:
            self.release()
        except LockError:
            if self.raise_on_release_error:
                raise

    def _plan(self, sleep: float | None, blocking: bool | None,
              blocking_timeout: float | None, token: Any) -> tuple[float, bool, float | None,
                                                                  bytes]:
        sleep = self.sleep if sleep is None else sleep
        token = uuid.uuid4().hex.encode() if token is None else encode_arg(token)
        blocking = self.blocking if blocking is None else blocking
        if blocking_timeout is None:
            blocking_timeout = self.blocking_timeout
        stop_at = None if blocking_timeout is None else time.monotonic() + blocking_timeout
        return sleep, blocking, stop_at, token

    def _px(self) -> int | None:
        return int(self.timeout * 1000) if self.timeout else None

    def acquire(self, sleep: float | None = None, blocking: bool | None = None,
                blocking_timeout: float | None = None, token: Any = None) -> bool:
        """Take the lock: True, or False if `blocking` is off or `blocking_timeout` passed."""
        sleep, blocking, stop_at, token = self._plan(sleep, blocking, blocking_timeout, token)
        while True:
            if self.do_acquire(token):
                self.local.token = token
                return True
            if not blocking or (stop_at is not None and time.monotonic() + sleep > stop_at):
                return False
            time.sleep(sleep)

    def do_acquire(self, token: bytes) -> bool:
        return bool(self.redis.set(self.name, token, nx=True, px=self._px()))

    def locked(self) -> bool:
        """Whether anyone holds the lock."""
        return self.redis.get(self.name) is not None

    def owned(self) -> bool:
        """Whether this lock object (in this thread, if thread_local) holds it."""
        return self._owns(self.redis.get(self.name))

    def _owns(self, stored: Any) -> bool:
        if stored and not isinstance(stored, bytes):
            stored = encode_arg(stored)
        return self.local.token is not None and stored == self.local.token

    def _release_token(self) -> bytes:
        token = self.local.token
        if token is None:
            raise LockError("Cannot release a lock that's not owned or is already unlocked.",
                            lock_name=self.name)
        return token

    def _released(self, token: bytes, ok: Any) -> None:
        if self.local.token == token:  # (a shared namespace may hold another owner's now)
            self.local.token = None
        if not ok:
            raise LockNotOwnedError("Cannot release a lock that's no longer owned",
                                    lock_name=self.name)

    def release(self) -> None:
        token = self._release_token()
        self._released(token, self.lua_release(keys=[self.name], args=[token],
                                               client=self.redis))

    def _check_timed(self, what: str) -> None:
        if self.local.token is None:
            raise LockError(f"Cannot {what} an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError(f"Cannot {what} a lock with no timeout", lock_name=self.name)

    def _done(self, ok: Any, what: str) -> bool:
        if not ok:
            raise LockNotOwnedError(f"Cannot {what} a lock that's no longer owned",
                                    lock_name=self.name)
        return True

    def extend(self, additional_time: float, replace_ttl: bool = False) -> bool:
        """Add `additional_time` seconds to the lock's TTL (or set it, with replace_ttl)."""
        self._check_timed("extend")
        return self._done(self.lua_extend(
            keys=[self.name], args=[self.local.token, int(additional_time * 1000),
                                    "1" if replace_ttl else "0"], client=self.redis), "extend")

    def reacquire(self) -> bool:
        """Reset the lock's TTL to its full timeout."""
        self._check_timed("reacquire")
        return self._done(self.lua_reacquire(
            keys=[self.name], args=[self.local.token, int(self.timeout * 1000)],  # type: ignore
            client=self.redis), "reacquire")


class AsyncLock(Lock):
    """Lock for `clients.AsyncClient`: the same, with coroutine methods and `async with`, as
    redis.asyncio.lock.Lock."""

    async def __aenter__(self) -> "AsyncLock":
        if await self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified", lock_name=self.name)

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.release()
        except LockError:
            if self.raise_on_release_error:
                raise

    async def acquire(self, sleep: float | None = None,  # type: ignore[override]
                      blocking: bool | None = None, blocking_timeout: float | None = None,
                      token: Any = None) -> bool:
        sleep, blocking, stop_at, token = self._plan(sleep, blocking, blocking_timeout, token)
        while True:
            if await self.do_acquire(token):
                self.local.token = token
                return True
            if not blocking or (stop_at is not None and time.monotonic() + sleep > stop_at):
                return False
            await asyncio.sleep(sleep)

    async def do_acquire(self, token: bytes) -> bool:  # type: ignore[override]
        return bool(await self.redis.set(self.name, token, nx=True, px=self._px()))

    async def locked(self) -> bool:  # type: ignore[override]
        return await self.redis.get(self.name) is not None

    async def owned(self) -> bool:  # type: ignore[override]
        return self._owns(await self.redis.get(self.name))

    async def release(self) -> None:  # type: ignore[override]
        token = self._release_token()
        self._released(token, await self.lua_release(keys=[self.name], args=[token],
                                                     client=self.redis))

    async def extend(self, additional_time: float,  # type: ignore[override]
                     replace_ttl: bool = False) -> bool:
        self._check_timed("extend")
        return self._done(await self.lua_extend(
            keys=[self.name], args=[self.local.token, int(additional_time * 1000),
                                    "1" if replace_ttl else "0"], client=self.redis), "extend")

    async def reacquire(self) -> bool:  # type: ignore[override]
        self._check_timed("reacquire")
        return self._done(await self.lua_reacquire(
            keys=[self.name], args=[self.local.token, int(self.timeout * 1000)],  # type: ignore
            client=self.redis), "reacquire")


class LockMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def lock(self, name: Any, timeout: float | None = None, sleep: float = 0.1,
             blocking: bool = True, blocking_timeout: float | None = None,
             lock_class: Any = None, thread_local: bool = True,
             raise_on_release_error: bool = True) -> Lock:
        """A `Lock` on key `name` (an `AsyncLock` on an asyncio client), as redis-py's
        `Redis.lock`: `timeout` (s) is the key's TTL, `sleep` the wait between tries,
        `blocking_timeout` how long acquire() tries."""
        if lock_class is None:
            lock_class = AsyncLock if inspect.iscoroutinefunction(self.execute_command) else Lock
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)
