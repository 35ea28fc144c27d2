"""The stream methods through our clients: the same results as redis-py's (RESP2 / legacy shapes).

A script of stream calls runs through `clients.Client` (RESP2 and RESP3, with and without
decode_responses) and through redis-py (RESP2) on each server (kvstore-server and redis-server);
the AsyncClient, a pipeline and a transaction must give the sync client's results, and memory://
redis-py's on the real Redis. Over RESP3, XREAD and XREADGROUP reply a map that the clients
turn back into RESP2's [[stream, entries], ...] (clients/resp.py). Blocking reads wait on a
server, for their timeout or until an entry arrives.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis

from clients import AsyncClient, Client
from tests.clients.conftest import need

T = "<ms>"


def _ms(value):
    assert type(value) is int and value >= 0, value
    return T


def mask_consumers(reply):
    return [{**c, "idle": _ms(c["idle"])} for c in reply]


def mask_pending_range(reply):
    return [{**e, "time_since_delivered": _ms(e["time_since_delivered"])} for e in reply]


def mask_full(reply):
    for g in reply["groups"]:
        g["pending"] = [[i, c, _ms(t), n] for i, c, t, n in g["pending"]]
        for c in g["consumers"]:
            c["seen-time"] = _ms(c["seen-time"])
            c["pending"] = [[i, _ms(t), n] for i, t, n in c["pending"]]
    return reply


# (method, args, kwargs, mask): every stream method, replies of each shape, error replies.
SCRIPT = [
    ("xadd", ("s", {"a": 1, "b": "x"}), {"id": "1-1"}, None),
    ("xadd", ("s", {"a": 2}), {"id": "1-2"}, None),
    ("xadd", ("s", {b"bin\x00": b"v\xc3\xa9"}), {"id": "2-*"}, None),
    ("xadd", ("s", {"a": 3}), {"id": "3-0", "maxlen": 10, "approximate": False}, None),
    ("xadd", ("s", {"a": 4}), {"id": "4-0", "minid": "1-0", "limit": 5}, None),
    ("xadd", ("s", {"a": 1}), {"id": "1-0"}, None),  # ERR: smaller than the top
    ("xadd", ("nokey", {"a": 1}), {"nomkstream": True}, None),
    ("xadd", ("t", {"x": 1}), {"id": "1-0"}, None),
    ("xlen", ("s",), {}, None),
    ("xrange", ("s",), {}, None),
    ("xrange", ("s", "1-2", "+"), {"count": 2}, None),
    ("xrevrange", ("s",), {"count": 2}, None),
    ("xrange", ("nokey",), {}, None),
    ("xread", ({"s": "1-1", "t": 0},), {"count": 2}, None),
    ("xread", ({"s": "$"},), {}, None),
    ("xread", ({"s": "$", "nokey": "$"},), {"block": 1}, None),
    ("xgroup_create", ("s", "g"), {"id": "0"}, None),
    ("xgroup_create", ("s", "g"), {}, None),  # BUSYGROUP
    ("xgroup_create", ("m", "g"), {"mkstream": True, "id": "$", "entries_read": 0}, None),
    ("xgroup_create", ("t", "g"), {"id": "0"}, None),
    ("xgroup_createconsumer", ("s", "g", "c0"), {}, None),
    ("xreadgroup", ("g", "c1", {"s": ">"}), {"count": 2}, None),
    ("xreadgroup", ("g", "c2", {"s": ">", "t": ">"}), {}, None),
    ("xreadgroup", ("g", "c2", {"s": ">"}), {"block": 1}, None),
    ("xreadgroup", ("g", "c1", {"s": "0"}), {}, None),
    ("xreadgroup", ("g", "c3", {"m": ">"}), {"noack": True}, None),
    ("xreadgroup", ("nogroup", "c1", {"s": ">"}), {}, None),
    ("xpending", ("s", "g"), {}, None),
    ("xpending_range", ("s", "g", "-", "+", 10), {}, mask_pending_range),
    ("xpending_range", ("s", "g", "-", "+", 10), {"consumername": "c2", "idle": 0},
     mask_pending_range),
    ("xack", ("s", "g", "1-1", "9-9"), {}, None),
    ("xclaim", ("s", "g", "c3", 0, ["1-2"]), {}, None),
    ("xclaim", ("s", "g", "c3", 0, ["2-0"]), {"justid": True, "retrycount": 3}, None),
    ("xdel", ("s", "3-0"), {}, None),
    ("xautoclaim", ("s", "g", "c4", 0), {"count": 10}, None),
    ("xautoclaim", ("s", "g", "c4", 0), {"justid": True}, None),
    ("xinfo_stream", ("s",), {}, None),
    ("xinfo_stream", ("s",), {"full": True}, mask_full),
    ("xinfo_groups", ("s",), {}, None),
    ("xinfo_consumers", ("s", "g"), {}, mask_consumers),
    ("xgroup_setid", ("s", "g", "1-0"), {"entries_read": 1}, None),
    ("xgroup_delconsumer", ("s", "g", "c4"), {}, None),
    ("xgroup_destroy", ("s", "g"), {}, None),
    ("xgroup_destroy", ("s", "g"), {}, None),
    ("xtrim", ("s",), {"maxlen": 1, "approximate": False}, None),
    ("xtrim", ("s",), {"minid": "9-0", "approximate": False}, None),
    ("xinfo_stream", ("s",), {}, None),
    ("set", ("str", "v"), {}, None),
    ("xadd", ("str", {"a": 1}), {}, None),  # WRONGTYPE
    ("xread", ({"str": 0},), {}, None),
]


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:  # redis-py drops "ERR "; ours keeps it
        return ("err", str(exc).removeprefix("ERR "))


def shaped(result, mask):
    return ("ok", mask(result[1])) if mask is not None and result[0] == "ok" else result


def run(client) -> list:
    client.flushdb()
    return [shaped(outcome(getattr(client, m), *a, **kw), mask) for m, a, kw, mask in SCRIPT]


async def arun(client) -> list:
    await client.flushdb()
    out = []
    for m, a, kw, mask in SCRIPT:
        try:
            out.append(shaped(("ok", await getattr(client, m)(*a, **kw)), mask))
        except Exception as exc:
            out.append(("err", str(exc).removeprefix("ERR ")))
    return out


def compare(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs) == len(SCRIPT)
    wrong = [f"{m}{a}{kw}: ours {g!r} != redis-py {w!r}"
             for (m, a, kw, _), g, w in zip(SCRIPT, ours, theirs) if g != w]
    assert not wrong, "\n".join(wrong)


def pipelined(client, transaction: bool) -> list:
    """The script's calls, each alone in a pipeline (so that an error reply is its own)."""
    client.flushdb()
    out = []
    for m, a, kw, mask in SCRIPT:
        pipe = client.pipeline(transaction=transaction)
        getattr(pipe, m)(*a, **kw)
        (result,) = pipe.execute(raise_on_error=False)
        if isinstance(result, Exception):
            out.append(("err", str(result).removeprefix("ERR ")))
        else:
            out.append(shaped(("ok", result), mask))
    return out


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode", [False, True])
def test_script_matches_redis_py(server, protocol, decode):
    need(server.port, "XLEN", "s")
    theirs = redis.Redis(port=server.port, protocol=2, decode_responses=decode)
    ours = Client(port=server.port, protocol=protocol, decode_responses=decode)
    try:
        want = run(theirs)
        got = run(ours)
        compare(got, want)
        assert asyncio.run(_async(server.port, protocol, decode)) == got
        compare(pipelined(ours, transaction=False), want)
        compare(pipelined(ours, transaction=True), want)
    finally:
        ours.close()
        theirs.close()


async def _async(port, protocol, decode):
    async with AsyncClient(port=port, protocol=protocol, decode_responses=decode) as c:
        return await arun(c)


@pytest.mark.parametrize("decode", [False, True])
def test_memory_transport_matches_redis_py(redis_server, decode):
    theirs = redis.Redis(port=redis_server, decode_responses=decode)
    ours = Client.from_url("memory://", decode_responses=decode)
    try:
        want = run(theirs)
        got = run(ours)
        compare(got, want)
        amem = AsyncClient.from_url("memory://", decode_responses=decode)
        assert asyncio.run(arun(amem)) == got
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_resp3_xread_is_resp2_shaped(server, protocol):
    """The raw XREAD / XREADGROUP reply of a RESP3 connection, as RESP2's."""
    need(server.port, "XLEN", "s")
    c2 = Client(port=server.port)
    c = Client(port=server.port, protocol=protocol)
    try:
        c2.flushdb()
        c2.xadd("a", {"f": "v"}, id="1-0")
        c2.xadd("b", {"g": "w"}, id="2-0")
        c2.xgroup_create("a", "grp", id="0")
        read = ("XREAD", "COUNT", 5, "STREAMS", "a", "b", "0", "0")
        assert c.execute_command(*read) == c2.execute_command(*read) == [
            [b"a", [[b"1-0", [b"f", b"v"]]]], [b"b", [[b"2-0", [b"g", b"w"]]]]]
        assert c.execute_command("XREADGROUP", "GROUP", "grp", "x", "STREAMS", "a", ">") == [
            [b"a", [[b"1-0", [b"f", b"v"]]]]]
        assert c.execute_command("XREAD", "STREAMS", "a", "$") is None
    finally:
        c.close()
        c2.close()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_block_waits_for_its_timeout_or_an_entry(server, kind):
    need(server.port, "XLEN", "s")
    writer = redis.Redis(port=server.port)
    writer.flushdb()
    writer.xadd("s", {"a": 1}, id="1-0")
    writer.xgroup_create("s", "g", id="$")

    threads = []

    def add_later():
        time.sleep(0.2)
        writer.xadd("s", {"a": 2}, id="2-0")

    async def calls(c):
        t0 = time.monotonic()
        timed_out = await c.xread({"s": "$"}, block=150)
        waited = time.monotonic() - t0
        threads.append(threading.Thread(target=add_later))
        threads[0].start()
        t0 = time.monotonic()
        woken = await c.xreadgroup("g", "c", {"s": ">"}, block=5000)
        return timed_out, waited, woken, time.monotonic() - t0

    async def on_async():
        async with AsyncClient(port=server.port) as c:
            return await calls(c)

    class Sync:  # the sync client, awaited alike
        def __init__(self, c):
            self.c = c

        def __getattr__(self, name):
            async def call(*a, **kw):
                return getattr(self.c, name)(*a, **kw)
            return call

    try:
        if kind == "async":
            result = asyncio.run(on_async())
        else:
            with Client(port=server.port) as c:
                result = asyncio.run(calls(Sync(c)))
        timed_out, waited, woken, took = result
        assert timed_out == [] and 0.1 <= waited < 2
        assert woken == [[b"s", [(b"2-0", {b"a": b"2"})]]] and 0.1 <= took < 3
    finally:
        for t in threads:  # its XADD's reply read before the writer closes
            t.join()
        writer.close()
