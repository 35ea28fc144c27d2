"""DUMP payloads against the real redis-server: each side RESTOREs the other's, and where
Redis does not compress (rdbcompression no) and its order is ours, the bytes are the same."""

from __future__ import annotations

import pytest

# Each case: a key and the commands that build it, the same on both sides.
CASES = {
    "str": [("SET", "str", "hello")],
    "str:empty": [("SET", "str:empty", "")],
    "str:long": [("SET", "str:long", "abc" * 40)],
    "str:int8": [("SET", "str:int8", "-128")],
    "str:int16": [("SET", "str:int16", "32767")],
    "str:int32": [("SET", "str:int32", "-2147483648")],
    "str:int64": [("SET", "str:int64", "9223372036854775807")],
    "str:notint": [("SET", "str:notint", "007")],
    "str:minus0": [("SET", "str:minus0", "-0")],
    "str:incr": [("INCRBY", "str:incr", 100000)],
    "list": [("RPUSH", "list", "a", "b", "1", "-1", "4096", "70000", "x" * 70, "y" * 5000)],
    "list:ints": [("RPUSH", "list:ints", *[str(n) for n in (0, 127, 128, -4096, -4097, 32768,
                                                          -8388608, 8388608, 2**31,
                                                          -2**63, 2**63 - 1, 2**63)])],
    "list:nodes": [("RPUSH", "list:nodes", *[f"v{i:010d}" for i in range(1500)])],
    "list:big": [("RPUSH", "list:big", *["z" * 9000 for _ in range(3)])],
    "hash": [("HSET", "hash", "f", "v", "1", "2", "n", "-70000")],
    "hash:updated": [("HSET", "hash:updated", "a", "1", "b", "2", "c", "3"),
                     ("HSET", "hash:updated", "a", "changed"), ("HDEL", "hash:updated", "b")],
    "hash:big": [("HSET", "hash:big", *[x for i in range(200) for x in (f"f{i}", f"v{i}")])],
    "set:int16": [("SADD", "set:int16", 5, -3, 1000)],
    "set:int32": [("SADD", "set:int32", 5, 70000)],
    "set:int64": [("SADD", "set:int64", 5, -2**40)],
    "set": [("SADD", "set", "a", "b", "1")],
    "set:big": [("SADD", "set:big", *range(1000))],
    "zset": [("ZADD", "zset", 1, "a", 2.5, "b", -0.0, "c", "inf", "d", "-inf", "e", 0.1, "f",
              1e20, "g", 4503599627370497, "h", -5000, "i")],
    "zset:big": [("ZADD", "zset:big", *[x for i in range(300) for x in (i / 7, f"m{i}")])],
}
# Redis's order is its hash table's: the values must match, the bytes cannot.
UNORDERED = {"hash:big", "set", "set:big"}


def read(side, key):
    kind = side.execute("TYPE", key)
    if kind == b"string":
        value = side.execute("GET", key)
    elif kind == b"list":
        value = side.execute("LRANGE", key, 0, -1)
    elif kind == b"hash":
        value = side.execute("HGETALL", key)
        value = sorted(zip(value[::2], value[1::2]))
    elif kind == b"set":
        value = sorted(side.execute("SMEMBERS", key))
    else:
        value = side.execute("ZRANGE", key, 0, -1, "WITHSCORES")
    return kind, value, side.execute("OBJECT", "ENCODING", key)


@pytest.fixture
def filled(both):
    for commands in CASES.values():
        for command in commands:
            both(*command)
    return both


@pytest.mark.parametrize("key", list(CASES))
def test_each_side_restores_the_others_payload(filled, key):
    oracle, store = filled.oracle, filled.store
    from_redis = oracle.execute("DUMP", key)
    from_kvstore = store.execute("DUMP", key)
    assert store.execute("RESTORE", "copy", 0, from_redis) == b"OK"
    assert oracle.execute("RESTORE", "copy", 0, from_kvstore) == b"OK"
    want = read(oracle, key)
    assert read(store, "copy") == want  # encoding included: the loader picks it again
    assert read(oracle, "copy") == want


def test_payloads_are_redis_bytes_without_compression(filled):
    oracle, store = filled.oracle, filled.store
    oracle.execute("CONFIG", "SET", "rdbcompression", "no")
    try:
        for key in CASES:
            if key not in UNORDERED:
                assert store.execute("DUMP", key) == oracle.execute("DUMP", key), key
    finally:
        oracle.execute("CONFIG", "SET", "rdbcompression", "yes")


def test_compressed_payloads_are_read(filled):
    """Redis LZF-compresses strings over 20 bytes, listpacks included; we only read LZF."""
    oracle, store = filled.oracle, filled.store
    for key in ("str:long", "list:nodes", "zset", "hash:big"):
        payload = oracle.execute("DUMP", key)
        assert b"\xc3" in payload  # an LZF string header: the case is really compressed
        assert store.execute("RESTORE", "copy", 0, payload, "REPLACE") == b"OK"
        assert read(store, "copy") == read(oracle, key)


def test_a_list_built_from_the_head_round_trips(both):
    both("LPUSH", "l", *[f"item:{i}" for i in range(3000)])
    both("LPOP", "l", 7)
    payload = both.store.execute("DUMP", "l")
    assert both.oracle.execute("RESTORE", "back", 0, payload) == b"OK"
    assert both.oracle.execute("LRANGE", "back", 0, -1) == both.store.execute("LRANGE", "l", 0, -1)


def test_a_stream_with_a_deleted_entry_past_its_last_id_moves_both_ways(both):
    """Redis's XSETID may set the last ID below an XDEL'ed entry still in the listpack: a
    payload kvstore's RESTORE refused ("Bad data format") until it read past such entries."""
    both("XADD", "s", "5-0", "f", "v")
    both("XADD", "s", "39-0", "f", "v")
    both("XDEL", "s", "39-0")
    both("XSETID", "s", "16-0")
    payload = both.oracle.execute("DUMP", "s")
    assert both.store.execute("RESTORE", "copy", 0, payload) == b"OK"
    for side in (both.store, both.oracle):
        side.execute("XADD", "copy" if side is both.store else "s", "17-0", "x", "y")
    assert both.store.execute("XRANGE", "copy", "-", "+") == \
        both.oracle.execute("XRANGE", "s", "-", "+")
    back = both.store.execute("DUMP", "copy")
    assert both.oracle.execute("RESTORE", "back", 0, back) == b"OK"
    assert both.oracle.execute("XRANGE", "back", "-", "+") == \
        both.oracle.execute("XRANGE", "s", "-", "+")
