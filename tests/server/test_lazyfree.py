"""Lazy freeing (UNLINK, FLUSHDB/FLUSHALL ASYNC, lazyfree-lazy-*), on kvstore and on redis-server:
which deletions free in the background is read off INFO's lazyfreed_objects, which both servers
must count alike, once lazyfree_pending_objects is back to 0."""

from __future__ import annotations

import time

import pytest
import redis

from .helpers import Conn


def _memory(r: redis.Redis) -> dict:
    return r.info("memory")


def freed_after(r: redis.Redis, setup, command) -> int:
    """lazyfreed_objects counted for `command`, run after `setup` on an empty server."""
    r.flushall()
    r.config_resetstat()
    setup()
    command()
    deadline = time.monotonic() + 10
    while _memory(r)["lazyfree_pending_objects"]:
        assert time.monotonic() < deadline, "lazy freeing never ended"
        time.sleep(0.005)
    return _memory(r)["lazyfreed_objects"]


@pytest.fixture
def r(server, c):
    client = redis.Redis(port=server.port)
    yield client
    client.config_set("lazyfree-lazy-user-del", "no")
    client.config_set("lazyfree-lazy-user-flush", "no")
    client.config_set("lazyfree-lazy-expire", "no")
    client.flushall()
    client.close()


def members(n: int, prefix: str = "m") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


# (name, setup on r, command on r, lazyfreed_objects): Redis frees in the background what
# takes more than 64 allocations (a hash table's entries, a skiplist's nodes, a quicklist's
# nodes, a stream's nodes), at once what is one (a string, a listpack, an intset).
CASES = [
    ("string", lambda r: r.set("k", "v" * 1000), lambda r: r.unlink("k"), 0),
    ("set of 65 strings", lambda r: r.sadd("k", *members(65)), lambda r: r.unlink("k"), 1),
    ("set of 64 strings", lambda r: r.sadd("k", *members(64)), lambda r: r.unlink("k"), 0),
    ("intset of 500", lambda r: r.sadd("k", *range(500)), lambda r: r.unlink("k"), 0),
    ("set of 600 integers", lambda r: r.sadd("k", *range(600)), lambda r: r.unlink("k"), 1),
    ("listpack hash", lambda r: r.hset("k", mapping=dict.fromkeys(members(100), 1)),
     lambda r: r.unlink("k"), 0),
    ("hashtable hash", lambda r: r.hset("k", mapping=dict.fromkeys(members(5000), 1)),
     lambda r: r.unlink("k"), 1),
    ("skiplist zset", lambda r: r.zadd("k", {m: i for i, m in enumerate(members(200))}),
     lambda r: r.unlink("k"), 1),
    ("listpack zset", lambda r: r.zadd("k", {m: i for i, m in enumerate(members(100))}),
     lambda r: r.unlink("k"), 0),
    ("list of 2000 small", lambda r: r.rpush("k", *range(2000)), lambda r: r.unlink("k"), 0),
    ("list of 10000 x 100 B", lambda r: r.rpush("k", *["x" * 100] * 10000),
     lambda r: r.unlink("k"), 1),
    ("DEL", lambda r: r.sadd("k", *members(1000)), lambda r: r.delete("k"), 0),
    ("DEL under lazyfree-lazy-user-del",
     lambda r: (r.config_set("lazyfree-lazy-user-del", "yes"), r.sadd("k", *members(1000))),
     lambda r: r.delete("k"), 1),
    ("FLUSHALL ASYNC of 10 keys", lambda r: r.mset(dict.fromkeys(members(10), 1)),
     lambda r: r.flushall(asynchronous=True), 10),
    ("FLUSHDB ASYNC with a big set",
     lambda r: (r.mset(dict.fromkeys(members(100), 1)), r.sadd("s", *members(1000))),
     lambda r: r.flushdb(asynchronous=True), 101),
    ("FLUSHALL ASYNC of nothing", lambda r: None, lambda r: r.flushall(asynchronous=True), 0),
    ("FLUSHALL SYNC", lambda r: r.mset(dict.fromkeys(members(100), 1)),
     lambda r: r.execute_command("FLUSHALL", "SYNC"), 0),
    ("FLUSHALL under lazyfree-lazy-user-flush",
     lambda r: (r.config_set("lazyfree-lazy-user-flush", "yes"),
                r.mset(dict.fromkeys(members(100), 1))),
     lambda r: r.flushall(), 100),
]


@pytest.mark.parametrize("setup, command, freed", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_which_deletions_free_in_the_background(r, setup, command, freed):
    assert freed_after(r, lambda: setup(r), lambda: command(r)) == freed


def test_streams_as_lazyfree_tcl(r):
    # Many nodes, a group with a PEL: lazily; one entry and a group destroyed: at once.
    def big_stream():
        r.config_set("stream-node-max-entries", 5)
        for j in range(1000):
            r.xadd("stream", {"foo" if j % 10 else "bar": j})
        r.xgroup_create("stream", "mygroup", "0")
        records = r.xreadgroup("mygroup", "Alice", {"stream": ">"}, count=2)
        r.xdel("stream", records[0][1][1][0])
        r.xack("stream", "mygroup", records[0][1][0][0])

    try:
        assert freed_after(r, big_stream, lambda: r.unlink("stream")) == 1
    finally:
        r.config_set("stream-node-max-entries", 100)

    def small_stream():
        r.xadd("s", {"a": "b"})
        r.xgroup_create("s", "bla", "$")
        r.xgroup_destroy("s", "bla")

    assert freed_after(r, small_stream, lambda: r.unlink("s")) == 0


def test_an_expired_big_value_under_lazyfree_lazy_expire(r):
    def volatile_set():
        r.config_set("lazyfree-lazy-expire", "yes")
        r.sadd("k", *members(1000))
        r.pexpire("k", 1)

    def until_expired():
        deadline = time.monotonic() + 10
        while r.info("stats")["expired_keys"] < 1:  # (the active cycle: no read touches it)
            assert time.monotonic() < deadline
            time.sleep(0.005)

    assert freed_after(r, volatile_set, until_expired) == 1


def test_the_data_set_is_whole_while_a_big_value_is_freed(server, r):
    # A key written again under the name being freed, and other keys, are untouched by it.
    for lo in range(0, 200_000, 20_000):
        r.sadd("big", *members(20_000, f"{lo}:"))
    r.mset({"a": 1, "b": 2})
    c = Conn(server.port)
    c.send(b"".join(Conn.encode(*cmd) for cmd in (
        ["UNLINK", "big"], ["SADD", "big", "x"], ["SMEMBERS", "big"], ["MGET", "a", "b"],
        ["INFO", "memory"])))
    assert c.reply() == 1
    assert c.reply() == 1
    assert c.reply() == [b"x"]
    assert c.reply() == [b"1", b"2"]
    info = c.reply().decode()
    c.close()
    assert "lazyfree_pending_objects:" in info
    deadline = time.monotonic() + 10
    while _memory(r)["lazyfree_pending_objects"]:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert r.smembers("big") == {b"x"} and r.mget("a", "b") == [b"1", b"2"]
    assert _memory(r)["lazyfreed_objects"] >= 1
