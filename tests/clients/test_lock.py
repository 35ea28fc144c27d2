"""`lock()`: the same scenario through redis-py's Lock and ours gives the same outcomes, on both
servers; our locks and redis-py's exclude each other on one key; the asyncio lock and the
embedded store's behave the same."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis

import kvstore
from clients import AsyncClient, Client, LockError, LockNotOwnedError


def scenario(client, errors) -> list:
    """Each step's outcome; `errors` are the lock error classes of that library."""
    lock_error, not_owned = errors
    out = []

    def step(fn, *args, **kwargs):
        try:
            out.append(("ok", fn(*args, **kwargs)))
        except not_owned as exc:
            out.append(("not owned", str(exc)))
        except lock_error as exc:
            out.append(("lock error", str(exc)))

    client.delete("L")
    a = client.lock("L", timeout=10)
    b = client.lock("L", blocking=False)
    step(a.acquire)
    step(b.acquire)
    step(lambda: (a.owned(), b.owned(), a.locked()))
    step(lambda: 9_000 < client.pttl("L") <= 10_000)
    step(a.extend, 5)
    step(lambda: 14_000 < client.pttl("L") <= 15_000)
    step(a.extend, 3, replace_ttl=True)
    step(lambda: 2_000 < client.pttl("L") <= 3_000)
    step(a.reacquire)
    step(lambda: 9_000 < client.pttl("L") <= 10_000)
    step(b.extend, 1)                 # not held
    step(b.release)
    client.set("L", "someone else")   # the key changed hands: a no longer owns it
    step(a.owned)
    step(a.extend, 1)
    step(a.release)
    step(a.release)                   # the token is gone now
    client.delete("L")
    c = client.lock("L")              # no timeout
    step(c.acquire, token="mine")
    step(lambda: client.get("L"))
    step(c.extend, 1)
    step(lambda: client.pttl("L"))
    step(c.release)
    step(lambda: client.exists("L"))
    return out


def test_same_outcomes_as_redis_py(server):
    theirs = redis.Redis(port=server.port)
    ours = Client(port=server.port)
    try:
        want = scenario(theirs, (redis.exceptions.LockError, redis.exceptions.LockNotOwnedError))
        got = scenario(ours, (LockError, LockNotOwnedError))
        assert got == want
        embedded = kvstore.open()
        assert scenario(embedded, (kvstore.LockError, kvstore.LockNotOwnedError)) == want
        embedded.close()
    finally:
        ours.close()
        theirs.close()


def test_ours_and_redis_pys_exclude_each_other(server):
    theirs = redis.Redis(port=server.port)
    ours = Client(port=server.port)
    try:
        theirs.delete("X")
        held = theirs.lock("X", timeout=30)
        assert held.acquire()
        assert ours.lock("X", blocking_timeout=0.2).acquire() is False
        held.release()
        with ours.lock("X", timeout=30) as mine:
            assert theirs.lock("X", blocking=False).acquire() is False
            assert mine.owned()
        assert theirs.lock("X", blocking=False).acquire() is True
    finally:
        ours.close()
        theirs.close()


def test_blocking_acquire_gets_the_lock_when_released(server):
    ours = Client(port=server.port)
    try:
        ours.delete("B")
        first = ours.lock("B", timeout=30)
        assert first.acquire()
        got = []
        waiter = threading.Thread(target=lambda: got.append(
            ours.lock("B", sleep=0.01, blocking_timeout=10).acquire()))
        waiter.start()
        first.release()
        waiter.join(15)
        assert got == [True]
    finally:
        ours.close()


def test_asyncio_lock(server):
    async def main():
        async with AsyncClient(port=server.port) as a:
            await a.delete("A")
            lock = a.lock("A", timeout=5)
            async with lock:
                assert await lock.owned() and await lock.locked()
                assert await a.lock("A", blocking=False).acquire() is False
                assert await lock.extend(5)
                assert 9_000 < await a.pttl("A") <= 10_000
                assert await lock.reacquire()
            assert not await lock.locked()
            with pytest.raises(LockError):
                await lock.release()

    asyncio.run(main())
