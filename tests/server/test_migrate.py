"""MIGRATE from a real redis-server into a kvstore server: the end-to-end proof that our DUMP
payloads are Redis's. Redis DUMPs each key itself (LZF-compressing long strings and list nodes,
as it saves them) and sends SELECT then pipelined RESTOREs over its own connection; kvstore must
take all of them, and Redis deletes what it moved only when kvstore replied OK. The other
direction, kvstore's own MIGRATE, is in test_migrate_out.py.
"""

from __future__ import annotations

import pytest
import redis

from .conftest import start

TTL_MS = 100_000


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(redis-server, kvstore server) processes, shared by the module's tests."""
    tmp = tmp_path_factory.mktemp("migrate")
    src = start("redis", tmp)
    try:
        dst = start("kvstore", tmp)
    except BaseException:
        src.stop()
        raise
    yield src, dst
    dst.stop()
    src.stop()


@pytest.fixture
def pair(servers):
    """redis-py clients of (redis-server, kvstore), both flushed."""
    src, dst = servers
    r, k = redis.Redis(port=src.port), redis.Redis(port=dst.port)
    r.flushall()
    k.flushall()
    yield r, k, dst.port
    r.close()
    k.close()


def read(client, key) -> tuple:
    kind = client.type(key)
    reads = {
        b"string": client.get,
        b"list": lambda k: client.lrange(k, 0, -1),
        b"set": client.smembers,
        b"hash": client.hgetall,
        b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
    }
    return kind, reads[kind](key)


def fill(r) -> dict:
    """One key per type and Redis encoding; returns name -> the encoding Redis chose."""
    r.set("str", "hello")
    r.set("int", "12345")
    r.set("long", "compressible " * 10)  # LZF in the payload
    r.set("noise", bytes(range(256)))  # LZF cannot shrink it: raw in the payload
    r.hset("hash", mapping={"f": "v", "n": "42"})
    r.hset("bighash", mapping={f"field:{i}": f"value:{i}" for i in range(200)})
    r.rpush("list", "a", "-3", "b" * 70)
    r.rpush("biglist", *[f"element:{i}" for i in range(2000)])  # several quicklist nodes
    r.sadd("intset", 1, -2, 70000, 1 << 40)
    r.sadd("bigset", *[f"member:{i}" for i in range(200)])
    r.zadd("zset", {"a": 1.5, "b": 2, "c": float("-inf")})
    r.zadd("bigzset", {f"m{i}": i / 7 for i in range(200)})
    r.set("ttl", "expiring", px=TTL_MS)
    return {key.decode(): r.object("encoding", key) for key in r.keys()}


def test_migrate_every_type_and_encoding(pair):
    r, k, port = pair
    encodings = fill(r)
    # The fixture really covers Redis's encodings, and the list spans several nodes.
    assert set(encodings.values()) == {
        b"embstr", b"int", b"raw", b"listpack", b"hashtable", b"quicklist", b"intset",
        b"skiplist"}
    assert int(r.debug_object("biglist")["ql_nodes"]) > 1
    names = sorted(encodings)
    want = {name: read(r, name) for name in names}
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", *names) == b"OK"
    assert {name: read(k, name) for name in names} == want
    assert r.exists(*names) == 0  # moved, not copied
    assert TTL_MS - 10_000 < k.pttl("ttl") <= TTL_MS
    assert k.pttl("str") == -1


def test_migrate_one_key_with_copy_and_replace(pair):
    r, k, port = pair
    r.hset("key", mapping={"f": "v"})
    k.rpush("key", "old")  # another type: REPLACE must drop it whole
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "key", 0, 5000, "COPY",
                             "REPLACE") == b"OK"
    assert read(k, "key") == read(r, "key") == (b"hash", {b"f": b"v"})


def test_migrate_to_a_busy_key_keeps_the_source(pair):
    r, k, port = pair
    r.set("key", "new")
    k.set("key", "old")
    with pytest.raises(redis.ResponseError, match="BUSYKEY"):
        r.execute_command("MIGRATE", "127.0.0.1", port, "key", 0, 5000)
    assert r.get("key") == b"new" and k.get("key") == b"old"


def test_migrate_to_another_database(pair):
    r, k, port = pair
    r.set("a", "1")
    r.set("b", "2")
    # Redis caches its connection to kvstore and SELECTs only when the database changes.
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "a", 1, 5000) == b"OK"
    assert r.execute_command("MIGRATE", "127.0.0.1", port, "b", 0, 5000) == b"OK"
    k1 = redis.Redis(port=port, db=1)
    assert (k1.get("a"), k1.get("b")) == (b"1", None)
    assert (k.get("a"), k.get("b")) == (None, b"2")
    k1.close()
