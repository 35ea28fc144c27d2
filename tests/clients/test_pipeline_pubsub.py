"""Pipelines, transactions (WATCH / MULTI / EXEC) and pub/sub, against redis-py as the reference.

Transports: kvstore-server and redis-server (features kvstore-server does not implement yet are
skipped there), plus memory:// for pipelines and transactions.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis

from clients import AsyncClient, Client, WatchError, WrongTypeError
from clients.memory import MemoryPool
from tests.clients.conftest import need


@pytest.fixture(params=["socket", "memory"])
def client(request, server):
    """Our sync client over each server's socket, and over memory:// (once)."""
    if request.param == "memory":
        c = Client.from_url("memory://")
    else:
        c = Client(port=server.port)
        c.flushdb()
    yield c
    c.close()


def _pipeline_ops(pipe):
    pipe.set("a", 1).incr("a").get("a").lpush("a", "x").hset("h", "f", "v").hgetall("h")
    pipe.delete("a", "h")
    return pipe


def test_pipeline_replies_and_errors(client):
    with client.pipeline(transaction=False) as pipe:
        res = _pipeline_ops(pipe).execute(raise_on_error=False)
    assert res[:3] == [True, 2, b"2"]
    assert isinstance(res[3], WrongTypeError)
    assert res[4:] == [1, {b"f": b"v"}, 2]
    with pytest.raises(WrongTypeError):
        _pipeline_ops(client.pipeline(transaction=False)).execute()
    assert client.pipeline().execute() == []


def test_pipeline_of_many_commands_in_one_write(client):
    pipe = client.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"k{i}", i)
    for i in range(1000):
        pipe.get(f"k{i}")
    res = pipe.execute()
    assert res[:1000] == [True] * 1000
    assert res[1000:] == [str(i).encode() for i in range(1000)]


def _need_multi(client):
    if not isinstance(client.connection_pool, MemoryPool):
        need(client.connection_pool.connection_kwargs["port"], "MULTI")


def test_transaction_matches_redis_py(client, redis_server):
    _need_multi(client)
    theirs = redis.Redis(port=redis_server)
    theirs.flushdb()
    with theirs.pipeline() as tp:
        want = _pipeline_ops(tp).execute(raise_on_error=False)
    with client.pipeline() as pipe:
        got = _pipeline_ops(pipe).execute(raise_on_error=False)
    assert [type(x).__name__ if isinstance(x, Exception) else x for x in got] == \
        [("WrongTypeError" if isinstance(x, Exception) else x) for x in want]
    theirs.close()


def test_execabort_raises_the_queued_error(client):
    _need_multi(client)
    pipe = client.pipeline()
    pipe.set("a", 1)
    pipe.execute_command("SET", "a")  # wrong arity: rejected at queue time
    with pytest.raises(Exception, match="wrong number of arguments"):
        pipe.execute()
    assert client.get("a") is None


def test_watch_and_transaction_helper(client):
    _need_multi(client)
    client.set("counter", 5)

    def incr_double(pipe):
        value = int(pipe.get("counter"))  # immediate mode after WATCH
        pipe.multi()
        pipe.set("counter", value * 2)
        return value

    assert client.transaction(incr_double, "counter") == [True]
    assert client.get("counter") == b"10"
    assert client.transaction(incr_double, "counter", value_from_callable=True) == 10


def test_watch_conflict_raises_and_transaction_retries(client):
    _need_multi(client)
    client.set("w", "1")
    pipe = client.pipeline()
    pipe.watch("w")
    assert pipe.get("w") == b"1"
    client.set("w", "changed")  # another pooled connection writes the watched key
    pipe.multi()
    pipe.set("w", "mine")
    with pytest.raises(WatchError):
        pipe.execute()
    assert client.get("w") == b"changed"
    calls = []

    def txn(p):
        calls.append(1)
        p.get("w")
        if len(calls) == 1:
            client.set("w", "again")  # break the first attempt
        p.multi()
        p.set("w", "final")

    assert client.transaction(txn, "w") == [True]
    assert len(calls) == 2
    assert client.get("w") == b"final"


def test_async_pipeline_and_transaction(server):
    async def main():
        async with AsyncClient(port=server.port) as c:
            await c.flushdb()
            pipe = c.pipeline(transaction=False)
            pipe.set("a", 1).incr("a").get("a")
            assert await pipe.execute() == [True, 2, b"2"]
            if server.kind == "redis":
                async def txn(p):
                    v = int(await p.get("a"))
                    p.multi()
                    p.set("a", v + 10)
                assert await c.transaction(txn, "a") == [True]
                assert await c.get("a") == b"12"

    asyncio.run(main())


# -- pub/sub -----------------------------------------------------------------------------------

def test_pubsub_messages_match_redis_py(server):
    need(server.port, "PUBSUB", "CHANNELS")
    theirs = redis.Redis(port=server.port)
    ours = Client(port=server.port)
    got, want = [], []
    for client, out in ((ours, got), (theirs, want)):
        p = client.pubsub()
        p.subscribe("ch")
        p.psubscribe("pa*")
        out.append(p.get_message(timeout=1))
        out.append(p.get_message(timeout=1))
        client.execute_command("PUBLISH", "ch", "hello")
        client.execute_command("PUBLISH", "pat", "world")
        out.append(p.get_message(timeout=1))
        out.append(p.get_message(timeout=1))
        assert p.get_message(timeout=0.01) is None
        p.unsubscribe("ch")
        out.append(p.get_message(timeout=1))
        p.close()
    assert got == want
    assert got[2] == {"type": "message", "pattern": None, "channel": b"ch", "data": b"hello"}
    ours.close()
    theirs.close()


def test_pubsub_handlers_ignore_and_listen(server):
    need(server.port, "PUBSUB", "CHANNELS")
    c = Client(port=server.port, decode_responses=True)
    p = c.pubsub(ignore_subscribe_messages=True)
    seen = []
    p.subscribe(**{"h": seen.append})
    p.subscribe("plain")
    c.execute_command("PUBLISH", "h", "x")
    c.execute_command("PUBLISH", "plain", "y")
    c.execute_command("PUBLISH", "plain", "z")
    # two ignored confirmations, one message consumed by its handler, then "y" for us
    assert [p.get_message(timeout=1) for _ in range(3)] == [None, None, None]
    assert seen[0]["data"] == "x"
    assert p.get_message(timeout=1)["data"] == "y"
    assert next(p.listen()) == {"type": "message", "pattern": None, "channel": "plain",
                                "data": "z"}
    p.close()
    c.close()


def test_pubsub_resubscribes_after_restart(restartable):
    need(restartable.port, "PUBSUB", "CHANNELS")
    c = Client(port=restartable.port)
    p = c.pubsub(ignore_subscribe_messages=True)
    p.subscribe("news")
    assert p.get_message(timeout=0.2) is None
    restartable.kill()
    restartable.start()
    assert p.get_message(timeout=0.5) is None  # notices the break, reconnects, resubscribes
    for _ in range(20):
        if p.get_message(timeout=0.05) is None and c.execute_command("PUBSUB", "NUMSUB",
                                                                      "news")[1] == 1:
            break
    assert c.execute_command("PUBLISH", "news", "back") == 1
    assert p.get_message(timeout=1)["data"] == b"back"
    p.close()
    c.close()


def test_async_pubsub_listen(server):
    need(server.port, "PUBSUB", "CHANNELS")

    async def main():
        async with AsyncClient(port=server.port, protocol=3) as c:
            p = c.pubsub()
            await p.subscribe("ac")
            assert (await p.get_message(timeout=1))["type"] == "subscribe"
            got = []

            async def reader():
                async for m in p.listen():
                    got.append(m)
                    return

            task = asyncio.ensure_future(reader())
            await asyncio.sleep(0)
            await c.execute_command("PUBLISH", "ac", "z")
            await asyncio.wait_for(task, 2)
            assert got == [{"type": "message", "pattern": None, "channel": b"ac", "data": b"z"}]
            await p.aclose()

    asyncio.run(main())


def test_blocking_pop_through_methods_from_another_thread(server):
    need(server.port, "BLPOP", "none", "0.01")
    c = Client(port=server.port)
    c.delete("bq")
    threading.Timer(0.05, lambda: Client(port=server.port).rpush("bq", "v")).start()
    assert c.blpop("bq", timeout=5) == (b"bq", b"v")
    c.close()


def test_memory_pubsub_matches_redis_py(redis_server):
    """memory:// pub/sub (an in-process hub) gives the messages redis-py gets from Redis."""
    theirs = redis.Redis(port=redis_server)
    ours = Client.from_url("memory://")
    got, want = [], []
    for client, out in ((ours, got), (theirs, want)):
        p = client.pubsub()
        p.subscribe("mch")
        p.psubscribe("mp*")
        out += [p.get_message(timeout=1), p.get_message(timeout=1)]
        out.append(client.execute_command("PUBLISH", "mch", "hello"))
        out.append(client.execute_command("PUBLISH", "mpx", "world"))
        out.append(client.execute_command("PUBLISH", "other", "lost"))
        out += [p.get_message(timeout=1), p.get_message(timeout=1)]
        out.append(p.get_message(timeout=0.01))
        p.unsubscribe()
        p.punsubscribe()
        out += [p.get_message(timeout=1), p.get_message(timeout=1)]
        p.close()
    assert got == want
    ours.close()
    theirs.close()


def test_memory_async_pubsub_across_threads():
    async def main():
        c = AsyncClient.from_url("memory://")
        p = c.pubsub(ignore_subscribe_messages=True)
        await p.subscribe("t")
        assert await p.get_message(timeout=0.05) is None  # the ignored confirmation
        # published from another thread (and event loop) through the same pool
        threading.Timer(0.05, lambda: asyncio.run(c.execute_command("PUBLISH", "t", "x"))
                        ).start()
        msg = await p.get_message(timeout=2)
        assert msg == {"type": "message", "pattern": None, "channel": b"t", "data": b"x"}
        await p.aclose()

    asyncio.run(main())


def _sharded_session(client) -> list:
    """SSUBSCRIBE beside SUBSCRIBE on one name, SPUBLISH and PUBLISH to it, then SUNSUBSCRIBE:
    the messages as a redis-py-shaped PubSub reports them."""
    p = client.pubsub()
    p.ssubscribe("sh1", "sh2")
    p.subscribe("sh1")
    out = [p.get_sharded_message(timeout=1) for _ in range(3)]
    out.append(client.execute_command("SPUBLISH", "sh1", "shard"))
    out.append(client.execute_command("PUBLISH", "sh1", "plain"))
    out += [p.get_sharded_message(timeout=1) for _ in range(2)]
    out.append(p.get_message(timeout=0.01))
    p.sunsubscribe("sh1")
    out.append(p.get_message(timeout=1))
    p.sunsubscribe()
    out.append(p.get_message(timeout=1))
    out.append(client.execute_command("SPUBLISH", "sh1", "gone"))
    p.close()
    return out


def test_sharded_pubsub_matches_redis_py(server):
    theirs = redis.Redis(port=server.port)
    ours = Client(port=server.port)
    got, want = _sharded_session(ours), _sharded_session(theirs)
    assert got == want
    assert got[0] == {"type": "ssubscribe", "pattern": None, "channel": b"sh1", "data": 1}
    assert got[2] == {"type": "subscribe", "pattern": None, "channel": b"sh1", "data": 1}
    assert got[5] == {"type": "smessage", "pattern": None, "channel": b"sh1", "data": b"shard"}
    ours.close()
    theirs.close()


def test_memory_sharded_pubsub_matches_redis_py(redis_server):
    theirs = redis.Redis(port=redis_server)
    ours = Client.from_url("memory://")
    assert _sharded_session(ours) == _sharded_session(theirs)
    ours.close()
    theirs.close()


def test_sharded_handlers_and_resubscribe(restartable):
    c = Client(port=restartable.port, decode_responses=True)
    p = c.pubsub(ignore_subscribe_messages=True)
    seen = []
    p.ssubscribe(**{"handled": seen.append})
    p.ssubscribe("plain")
    assert p.get_sharded_message(timeout=0.2) is None  # two ignored confirmations
    assert p.get_sharded_message(timeout=0.2) is None
    assert c.execute_command("SPUBLISH", "handled", "x") == 1
    assert p.get_sharded_message(timeout=1) is None  # consumed by its handler
    assert seen == [{"type": "smessage", "pattern": None, "channel": "handled", "data": "x"}]
    restartable.kill()
    restartable.start()
    assert p.get_message(timeout=0.5) is None  # notices the break, reconnects, resubscribes
    for _ in range(20):
        if p.get_message(timeout=0.05) is None and c.execute_command(
                "PUBSUB", "SHARDNUMSUB", "plain")[1] == 1:
            break
    assert c.execute_command("SPUBLISH", "plain", "back") == 1
    assert next(p.listen()) == {"type": "smessage", "pattern": None, "channel": "plain",
                                "data": "back"}
    p.close()
    c.close()


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_sharded_pubsub(server, client):
    async def main():
        c = AsyncClient(port=server.port, protocol=3) if client == "socket" \
            else AsyncClient.from_url("memory://")
        p = c.pubsub()
        await p.ssubscribe("as")
        assert (await p.get_sharded_message(timeout=1))["type"] == "ssubscribe"
        assert await c.execute_command("SPUBLISH", "as", "z") == 1
        assert await p.get_sharded_message(timeout=1) == {
            "type": "smessage", "pattern": None, "channel": b"as", "data": b"z"}
        await p.sunsubscribe()
        assert await p.get_message(timeout=1) == {
            "type": "sunsubscribe", "pattern": None, "channel": b"as", "data": 0}
        assert not p.subscribed
        await p.aclose()
        await c.aclose()

    asyncio.run(main())
