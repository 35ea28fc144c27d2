"""Pipelines' errors and DISCARD, pub/sub's `subscribed` and `Subscription`: as redis-py 8.2.

Each session runs on redis-py against the real redis-server and on our clients (kvstore-server,
redis-server and memory://; sync and asyncio), and both must record the same outcomes. Error
texts are compared after `_as_redis_py()`: redis-py strips some error codes ("ERR ", "OOM ", ...)
that kvstore's exceptions keep, which is kvstore's documented choice, not what is tested here.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import redis
import redis.asyncio

import clients
from clients import AsyncClient, Client
from tests.clients.test_pipeline_pubsub import client  # noqa: F401 - a fixture

LONG = "a" * 50                            # redis-py's test_exec_error_in_pipeline_truncated
UNICODE = chr(3456) + "abcd" + chr(3421)   # ... and _unicode_command

# (what to buffer, execute's raise_on_error): redis-py's tests' cases, plus a reply known
# without sending (mget of no keys: it still counts in the numbering), a queue-time error
# (wrong arity: EXECABORT in a transaction), errors returned rather than raised (never
# annotated), and credentials (redacted from the text).
PIPELINE_STEPS = [
    (lambda p: p.mget([]).set("a", 1).set("b", 2).lpush("c", 3).set("d", 4), True),
    (lambda p: p.hset(LONG, mapping={"field_a": "a" * 20, "field_b": "b" * 20})
     .expire(LONG, 100), True),
    (lambda p: p.llen(UNICODE).expire(UNICODE, 100), True),
    (lambda p: p.set("x", 1).lpush("c", 1).set("y", 2), False),
    (lambda p: p.set("x", 1).execute_command("SET", "x"), True),
    (lambda p: p.get("x").config_set("no-such-option", "secret"), True),
]


def _errors_as_text(value: Any) -> Any:
    """An outcome with each error as ("error", its text)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_errors_as_text(v) for v in value)
    if isinstance(value, Exception):
        return ("error", str(value))
    return value


def _as_redis_py(value: Any) -> Any:
    """Our outcome with each error's text as redis-py gives it: without the error code."""
    if isinstance(value, list):
        return [_as_redis_py(v) for v in value]
    if isinstance(value, tuple) and value[:1] == ("error",):
        return ("error", re.sub(r"(^|caused error: )(ERR|OOM|EXECABORT|NOSCRIPT) ", r"\1",
                                value[1], count=1))
    return value


def outcome(fn, *args, **kwargs) -> Any:
    try:
        return _errors_as_text(fn(*args, **kwargs))
    except Exception as exc:
        return _errors_as_text(exc)


async def aoutcome(fn, *args, **kwargs) -> Any:
    try:
        return _errors_as_text(await fn(*args, **kwargs))
    except Exception as exc:
        return _errors_as_text(exc)


def _seed(r) -> None:
    r.flushdb()
    r.set("c", "a")
    r.set(LONG, 1)
    r.set(UNICODE, 1)


@pytest.fixture
def theirs(redis_server):
    r = redis.Redis(port=redis_server)
    r.flushdb()
    yield r
    r.close()


def _async_client(kind: str, server) -> AsyncClient:
    return AsyncClient(port=server.port) if kind == "socket" else AsyncClient.from_url("memory://")


# -- pipelines: "Command # N (ARGS) of pipeline caused error: ..." ----------------------------

def _on_both_async(session, client: str, server, redis_server) -> list:
    """`session(r)` on our AsyncClient (`client`: "socket" or "memory") and on redis-py's
    asyncio client against redis-server: both must record the same; returns ours."""
    async def main():
        ours = _async_client(client, server)
        theirs = redis.asyncio.Redis(port=redis_server)
        try:
            got = await session(ours)
            assert got == await session(theirs)
            return got
        finally:
            await ours.aclose()
            await theirs.aclose()

    return asyncio.run(main())


def _pipeline_errors(r, transaction: bool) -> list:
    _seed(r)
    out = []
    with r.pipeline(transaction=transaction) as pipe:
        for buffer, raise_on_error in PIPELINE_STEPS:
            buffer(pipe)
            out.append(outcome(pipe.execute, raise_on_error=raise_on_error))
    return out


async def _apipeline_errors(r, transaction: bool) -> list:
    await r.flushdb()
    for key, value in (("c", "a"), (LONG, 1), (UNICODE, 1)):
        await r.set(key, value)
    out = []
    async with r.pipeline(transaction=transaction) as pipe:
        for buffer, raise_on_error in PIPELINE_STEPS:
            buffer(pipe)
            out.append(await aoutcome(pipe.execute, raise_on_error=raise_on_error))
    return out


@pytest.mark.parametrize("transaction", [False, True])
def test_pipeline_errors_are_annotated_as_redis_py(client, theirs, transaction):
    got = _as_redis_py(_pipeline_errors(client, transaction))
    assert got == _pipeline_errors(theirs, transaction)
    assert got[0] == ("error", "Command # 4 (LPUSH c 3) of pipeline caused error: WRONGTYPE "
                               "Operation against a key holding the wrong kind of value")
    assert got[1][1].startswith(f"Command # 1 (HSET {LONG} field_a {'a' * 20} field_b...) of")
    assert got[5][1].startswith("Command # 2 (CONFIG SET <REDACTED>) of pipeline caused error: ")


@pytest.mark.parametrize("transaction", [False, True])
@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pipeline_errors_are_annotated_as_redis_py(server, redis_server, client,
                                                        transaction):
    async def main():
        ours = _async_client(client, server)
        theirs = redis.asyncio.Redis(port=redis_server)
        got = _as_redis_py(await _apipeline_errors(ours, transaction))
        assert got == await _apipeline_errors(theirs, transaction)
        assert got[2][1].startswith(f"Command # 1 (LLEN {UNICODE}) of pipeline caused error: ")
        await ours.aclose()
        await theirs.aclose()

    asyncio.run(main())


# -- Pipeline.discard(): a buffered DISCARD, as redis-py's --------------------------------------

def _discard_session(r) -> list:
    r.flushdb()
    out = []
    with r.pipeline() as pipe:   # redis-py's test_pipeline_discard, outcomes recorded
        pipe.set("key", "someval")
        out.append(outcome(pipe.discard))
        out.append(outcome(pipe.execute))   # EXEC without MULTI
        pipe.set("key", "someval").set("someotherkey", "val")
        out.append(outcome(pipe.execute))
        pipe.set("key", "another value!")
        pipe.discard()
        pipe.set("key", "another vae!")    # after DISCARD: run at once, outside MULTI
        out.append(outcome(pipe.execute))
        pipe.set("foo", "bar")
        out.append(outcome(pipe.execute))
    with r.pipeline(transaction=False) as pipe:
        pipe.set("a", 1).discard()
        out.append(outcome(pipe.execute))   # DISCARD without MULTI, annotated
    with r.pipeline() as pipe:
        pipe.watch("foo")
        out.append(outcome(pipe.discard))   # immediate mode: raised at once
    out.append([r.get("key"), r.get("foo"), r.get("a")])
    return out


def test_pipeline_discard_as_redis_py(client, theirs):
    got = _as_redis_py(_discard_session(client))
    assert got == _discard_session(theirs)
    assert got[:2] == [None, ("error", "EXEC without MULTI")]


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pipeline_discard_as_redis_py(server, redis_server, client):
    async def session(r) -> list:
        await r.flushdb()
        out = []
        async with r.pipeline() as pipe:
            pipe.set("key", "v")
            out.append(await aoutcome(pipe.discard))
            pipe.set("key", "w")
            out.append(await aoutcome(pipe.execute))
        async with r.pipeline(transaction=False) as pipe:
            pipe.set("a", 1)
            await pipe.discard()
            out.append(await aoutcome(pipe.execute))
        async with r.pipeline() as pipe:
            await pipe.watch("a")
            out.append(await aoutcome(pipe.discard))
        out.append([await r.get("key"), await r.get("a")])
        return out

    async def main():
        ours = _async_client(client, server)
        theirs = redis.asyncio.Redis(port=redis_server)
        assert _as_redis_py(await session(ours)) == await session(theirs)
        await ours.aclose()
        await theirs.aclose()

    asyncio.run(main())


# -- pub/sub: `subscribed` until the unsubscribe confirmation is read ----------------------------

FAMILIES = {"channel": ("subscribe", "unsubscribe", "get_message"),
            "pattern": ("psubscribe", "punsubscribe", "get_message"),
            "shard": ("ssubscribe", "sunsubscribe", "get_sharded_message")}


def _subscribed_session(r, family: str) -> list:
    """redis-py's _test_subscribed_property: p.subscribed after each step, and the messages."""
    sub, unsub, get = FAMILIES[family]
    p = r.pubsub()
    s, u, get_message = getattr(p, sub), getattr(p, unsub), getattr(p, get)

    def g():
        return get_message(timeout=1)

    out = [p.subscribed]
    for action in (lambda: s("k1"), g, lambda: u(), g, lambda: s("k1"), g, lambda: u(),
                   lambda: s("k2"), g, g, lambda: u("k2"), g):
        out += [action(), p.subscribed]
    p.subscribe("k3")
    p.unsubscribe("k3")
    out += [m["type"] for m in p.listen()]   # ends once the unsubscribe has been read
    out.append(p.subscribed)
    p.close()
    return out


def _ignored_session(r) -> list:
    """redis-py's test_ignore_all_subscribe_messages, then ..._individual_...: the confirmations
    are ignored, but still end the subscription once read."""
    out = []
    for ignore_all in (True, False):
        p = r.pubsub(ignore_subscribe_messages=ignore_all)
        for name, fn, get in (("foo", p.subscribe, p.get_message),
                              ("foo", p.unsubscribe, p.get_message),
                              ("f*", p.psubscribe, p.get_message),
                              ("f*", p.punsubscribe, p.get_message),
                              ("foo", p.ssubscribe, p.get_sharded_message),
                              ("foo", p.sunsubscribe, p.get_sharded_message)):
            out += [fn(name), p.subscribed,
                    get(ignore_subscribe_messages=True, timeout=1), p.subscribed]
        p.close()
    return out


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_pubsub_subscribed_until_unsubscribe_is_read_as_redis_py(client, theirs, family):
    got = _subscribed_session(client, family)
    assert got == _subscribed_session(theirs, family)
    assert got[:7] == [False, None, True, {"type": FAMILIES[family][0], "pattern": None,
                                           "channel": b"k1", "data": 1}, True, None, True]


def test_pubsub_ignored_confirmations_end_the_subscription_as_redis_py(client, theirs):
    assert _ignored_session(client) == _ignored_session(theirs)


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pubsub_subscribed_until_unsubscribe_is_read(server, redis_server, client):
    async def session(r) -> list:
        p = r.pubsub()
        out = [p.subscribed]
        await p.subscribe("k1")
        await p.psubscribe("k*")
        out += [p.subscribed, await p.get_message(timeout=1), await p.get_message(timeout=1)]
        await p.unsubscribe()
        out.append(p.subscribed)
        await p.punsubscribe("k*")
        out += [p.subscribed, await p.get_message(timeout=1), p.subscribed,
                await p.get_message(timeout=1), p.subscribed]
        await p.subscribe("k2")
        await p.unsubscribe("k2")
        out += [m["type"] async for m in p.listen()]
        out.append(p.subscribed)
        await p.aclose()
        return out

    assert _on_both_async(session, client, server, redis_server)[4:6] == [True, True]


# -- pub/sub: Subscription(name, handler) objects, as redis-py 8.2 accepts -----------------------

def _subscription_session(r, subscription: type) -> list:
    """Binary names with handlers (redis-py's *_message_handler_with_subscription tests), mixed
    with plain names, in a list, and without a handler."""
    seen: list = []
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe(subscription(b"\x80\x81\x82", seen.append), "plain")
    p.psubscribe([subscription(b"\x80*", seen.append)])
    p.ssubscribe(subscription(b"\x80s", seen.append))
    p.subscribe(subscription("nohandler"))
    out = [p.get_message(timeout=1) for _ in range(5)]   # the ignored confirmations
    out.append(r.execute_command("PUBLISH", b"\x80\x81\x82", b"m1"))
    out.append(r.execute_command("SPUBLISH", b"\x80s", b"m2"))
    out.append(r.execute_command("PUBLISH", "nohandler", "m3"))
    out += [p.get_message(timeout=1) for _ in range(4)]
    out.append(seen)
    out.append(sorted(p.channels.items(), key=repr) == sorted(
        {b"\x80\x81\x82": seen.append, b"plain": None, b"nohandler": None}.items(), key=repr))
    p.close()
    return out


@pytest.mark.parametrize("subscription", [clients.Subscription, redis.Subscription])
def test_pubsub_subscription_objects_as_redis_py(client, theirs, subscription):
    got = _subscription_session(client, subscription)
    assert got == _subscription_session(theirs, redis.Subscription)
    assert got[-2][0] == {"type": "message", "pattern": None, "channel": b"\x80\x81\x82",
                          "data": b"m1"}
    assert got[-1] is True


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pubsub_subscription_objects(server, client):
    async def main():
        c = _async_client(client, server)
        p = c.pubsub(ignore_subscribe_messages=True)
        seen: list = []
        await p.subscribe(clients.Subscription(b"\x80a", seen.append))
        await p.psubscribe(redis.Subscription(b"\x80*", seen.append))
        assert [await p.get_message(timeout=1) for _ in range(2)] == [None, None]
        assert await c.execute_command("PUBLISH", b"\x80a", b"x") == 2
        assert [await p.get_message(timeout=1) for _ in range(2)] == [None, None]
        assert [m["type"] for m in seen] == ["message", "pmessage"]
        await p.aclose()
        await c.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pubsub_awaits_coroutine_handlers_as_redis_py(server, redis_server, client):
    async def session(r) -> list:
        seen: list = []

        async def handler(message):
            await asyncio.sleep(0)
            seen.append((message["type"], message["data"]))

        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe(ch=handler)
        await p.psubscribe(**{"c*": lambda m: seen.append((m["type"], m["data"]))})
        out = [await p.get_message(timeout=1) for _ in range(2)]
        out.append(await r.execute_command("PUBLISH", "ch", "x"))
        out += [await p.get_message(timeout=1) for _ in range(2)]
        out.append(seen)
        await p.aclose()
        return out

    got = _on_both_async(session, client, server, redis_server)
    assert got[-1] == [("message", b"x"), ("pmessage", b"x")]


# -- pub/sub: PING on a subscribed connection ------------------------------------------------

def _ping_session(p) -> list:
    """redis-py's test_ping_response_shapes: PING with and without a message, read by
    get_message and by listen."""
    p.subscribe("foo")
    out = [p.get_message(timeout=1)]
    for message in (None, "x", "hello\u2603"):
        p.ping(message)
        out.append(p.get_message(timeout=1))
        p.ping(message)
        out.append(next(p.listen()))
    p.close()
    return out


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode", [False, True])
def test_pubsub_ping_is_a_pong_message_over_both_protocols(server, redis_server, protocol,
                                                          decode):
    """Over RESP3 Redis answers a subscribed PING as a plain reply, not ["pong", arg]: redis-py
    still makes it a pong message; ours dropped it (get_message None, listen() hung)."""
    ours = Client(port=server.port, protocol=protocol, decode_responses=decode)
    theirs = redis.Redis(port=redis_server, protocol=protocol, decode_responses=decode)
    try:
        got = _ping_session(ours.pubsub())
        assert got == _ping_session(theirs.pubsub())
        assert got[1] == {"type": "pong", "pattern": None, "channel": None,
                          "data": "" if decode else b""}
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_async_pubsub_ping_is_a_pong_message(server, protocol):
    async def main():
        async with AsyncClient(port=server.port, protocol=protocol) as c:
            p = c.pubsub()
            await p.subscribe("foo")
            await p.get_message(timeout=1)
            await p.ping("x")
            got = await p.get_message(timeout=1)
            await p.aclose()
            return got

    assert asyncio.run(main()) == {"type": "pong", "pattern": None, "channel": None,
                                   "data": b"x"}


# -- pipelines: close() / aclose() are reset() ----------------------------------------------

def _closing_session(r) -> list:
    """redis-py's test_close_is_reset and test_closing: close() resets a watching pipeline
    (UNWATCH, buffered commands dropped), so `contextlib.closing` works."""
    from contextlib import closing

    r.set("a", 1)
    with closing(r.pipeline()) as pipe:
        pipe.watch("a")
        pipe.multi()
        pipe.set("a", 2)
    out = [pipe.watching, len(pipe), r.get("a")]
    pipe = r.pipeline()
    pipe.watch("a")
    pipe.close()
    r.set("a", 3)             # not watched any more: the next transaction goes through
    pipe.multi()
    pipe.get("a")
    return out + [pipe.execute()]


def test_pipeline_close_is_reset_as_redis_py(client, theirs):
    assert _closing_session(client) == _closing_session(theirs) == [False, 0, b"1", [b"3"]]


@pytest.mark.parametrize("client", ["socket", "memory"])
def test_async_pipeline_aclose_is_reset(server, redis_server, client):
    async def session(r) -> list:
        await r.set("a", 1)
        pipe = r.pipeline()
        await pipe.watch("a")
        pipe.multi()
        pipe.set("a", 2)
        await pipe.aclose()
        return [pipe.watching, len(pipe), await r.get("a")]

    assert _on_both_async(session, client, server, redis_server) == [False, 0, b"1"]


# -- pub/sub: run_in_thread ------------------------------------------------------------------

def _worker_session(r) -> list:
    """redis-py's run_in_thread: handlers run on the worker thread; stop() ends it and closes
    the PubSub; an exception goes to exception_handler; a handler-less channel is refused."""
    import threading

    got, seen = [], threading.Event()
    p = r.pubsub()
    p.subscribe(**{"wk": lambda m: (got.append(m["data"]), seen.set())})
    worker = p.run_in_thread(sleep_time=0.05, daemon=True)
    for _ in range(100):   # until the subscription is live
        if r.publish("wk", "hello"):
            break
        threading.Event().wait(0.02)
    out = [seen.wait(5), got[:1], worker.daemon]
    worker.stop(timeout=5)
    out += [worker.is_alive(), p.subscribed]

    failed = threading.Event()
    p2 = r.pubsub()
    p2.subscribe(**{"wk": print})
    p2.get_message = None   # calling it raises TypeError in the worker
    worker = p2.run_in_thread(exception_handler=lambda exc, ps, th: (
        failed.set(), th.stop()))
    out += [failed.wait(5)]
    worker.join(5)
    out.append(worker.is_alive())

    p3 = r.pubsub()
    p3.subscribe("plain")
    try:
        p3.run_in_thread()
    except Exception as exc:
        out.append((type(exc).__name__, str(exc)))
    p3.close()
    return out


def test_pubsub_run_in_thread_as_redis_py(client, theirs):
    got = _worker_session(client)
    assert got == _worker_session(theirs)
    assert got == [True, [b"hello"], True, False, False, True, False,
                   ("PubSubError", "Channel: 'b'plain'' has no handler registered")]
