"""Hash commands against the real redis-server: replies, error texts, encodings, order, dirty
counts, AOF effects, RESP3 shapes, and the redis-py-shaped methods.

Only hash commands and SET (to make a wrong-type key) are sent to both servers, so this file does
not depend on other families; key existence and encodings on the kvstore side are read from the
keyspace directly and compared with Redis's EXISTS / OBJECT ENCODING.
"""

from __future__ import annotations

import random

import pytest
import redis

import kvstore
from kvstore.commands.table import COMMANDS, Context, execute
from kvstore.engine import ManualClock
from kvstore.errors import DataError, ResponseError

from .helpers import same, same_keyspace

BIG = "9223372036854775807"
SMALL = "-9223372036854775808"
NOT_INTS = ["abc", "1.5", "", " 1", "+1", "01", "0x10", "1 "]


def same_hash(both, key):
    """HGETALL agrees as a mapping (a hash-table-encoded hash has no defined order)."""
    want = both.oracle.execute("HGETALL", key)
    got = both.store.execute("HGETALL", key)
    assert dict(zip(got[::2], got[1::2])) == dict(zip(want[::2], want[1::2])), key


def fill(both, key, n, prefix="f", value="v"):
    args = []
    for i in range(n):
        args += [f"{prefix}{i}", f"{value}{i}"]
    both("HSET", key, *args)


# -- HSET / HMSET / HSETNX / HGET / HMGET -------------------------------------------------------

def test_hset_adds_and_updates(both):
    both("HSET", "h", "a", "1")
    both("HSET", "h", "a", "2")
    both("HSET", "h", "b", "1", "c", "2", "b", "3")
    both("HSET", "h", "", "")
    both("HSET", "h", b"\x00\xff", b"\r\n")
    both("HGETALL", "h")
    both("HGET", "h", "b")
    both("HGET", "h", "")
    both("HGET", "h", "nope")
    both("HGET", "nokey", "a")
    both("HMGET", "h", "a", "nope", "b", "a")
    both("HMGET", "nokey", "a", "b")
    same_keyspace(both, "h", "nokey")


def test_hset_arity_and_wrongtype(both):
    both("HSET", "h", "a", "1", "b")
    both("HSET", "h", "a")
    both("HSET", "h")
    both("hset", "h", "a", "1", "b")
    both("HMSET", "h", "a", "1", "b")
    both("HMSET", "h", "a")
    both("HSETNX", "h", "a")
    both("HSETNX", "h", "a", "1", "2")
    both("HGET", "h")
    both("HMGET", "h")
    both("SET", "s", "v")
    both("HSET", "s", "a", "1")
    both("HSET", "s", "a", "1", "b")  # arity is checked before the type
    both("HMSET", "s", "a", "1")
    both("HSETNX", "s", "a", "1")
    both("HGET", "s", "a")
    both("HMGET", "s", "a")
    same_keyspace(both, "h", "s")


def test_hmset_and_hsetnx(both):
    both("HMSET", "h", "a", "1", "b", "2")
    both("HSETNX", "h", "a", "x")
    both("HSETNX", "h", "c", "3")
    both("HSETNX", "new", "f", "v")
    both("HGETALL", "h")
    both("HGETALL", "new")
    same_keyspace(both, "h", "new")


# -- encodings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [511, 512, 513])
def test_encoding_by_entries(both, n):
    fill(both, "h", n)
    same_keyspace(both, "h")
    both("HGETALL", "h", sort=True)


@pytest.mark.parametrize("cmd", [
    ("HSET", "h", "f" * 65, "v"), ("HSET", "h", "f", "v" * 65), ("HSET", "h", "f", "v" * 64),
    ("HSET", "h", "f" * 64, "v"), ("HMSET", "h", "x", "1", "y", "v" * 65),
    ("HSETNX", "h", "f" * 65, "1"), ("HSETNX", "h", "f", "v" * 65),
    ("HINCRBY", "h", "f" * 65, "1"), ("HINCRBYFLOAT", "h", "big", "1e70"),
])
def test_encoding_by_length(both, cmd):
    both("HSET", "h", "a", "1")
    both(*cmd)
    same_keyspace(both, "h")


def test_encoding_is_sticky(both):
    both("HSET", "h", "a", "v" * 100)
    both("HDEL", "h", "a")
    both("HSET", "h", "a", "1")
    same_keyspace(both, "h")
    both("HSET", "h", "b", "v" * 100)
    both("HSET", "h", "b", "1")
    same_keyspace(both, "h")
    # HSETNX that does not write converts nothing.
    both("HSET", "h2", "a", "1")
    both("HSETNX", "h2", "a", "v" * 100)
    same_keyspace(both, "h2")


def test_small_hash_keeps_listpack_order(both):
    both("HSET", "h", "z", "1", "a", "2", "m", "3")
    both("HSET", "h", "a", "updated")  # an update stays in place
    both("HDEL", "h", "z")
    both("HSET", "h", "z", "back")  # a re-added field goes to the end
    both("HKEYS", "h")
    both("HVALS", "h")
    both("HGETALL", "h")
    both("HSCAN", "h", 0)
    both("HRANDFIELD", "h", 10)
    both("HRANDFIELD", "h", 3, "WITHVALUES")


# -- HDEL / HEXISTS / HLEN / HSTRLEN / HKEYS / HVALS / HGETALL ------------------------------------

def test_hdel(both):
    both("HSET", "h", "a", "1", "b", "2", "c", "3")
    both("HDEL", "h", "a", "a", "nope")
    both("HDEL", "h", "nope")
    both("HDEL", "nokey", "a")
    both("HLEN", "h")
    both("HDEL", "h", "b", "c", "x")
    same_keyspace(both, "h")
    both("HLEN", "h")
    both("HDEL", "h")
    both("SET", "s", "v")
    both("HDEL", "s", "a")


def test_readers(both):
    both("HSET", "h", "a", "1", "b", "", "c", "12345")
    for cmd in ["HLEN", "HKEYS", "HVALS", "HGETALL"]:
        both(cmd, "h")
        both(cmd, "nokey")
        both(cmd)
        both(cmd, "h", "extra")
    for f in ["a", "b", "c", "nope"]:
        both("HEXISTS", "h", f)
        both("HSTRLEN", "h", f)
    both("HEXISTS", "nokey", "a")
    both("HSTRLEN", "nokey", "a")
    both("HEXISTS", "h")
    both("HSTRLEN", "h", "a", "b")
    both("SET", "s", "v")
    for cmd in ["HLEN", "HKEYS", "HVALS", "HGETALL"]:
        both(cmd, "s")
    both("HEXISTS", "s", "a")
    both("HSTRLEN", "s", "a")


def test_big_hash_readers_sorted(both):
    fill(both, "h", 600)
    for cmd in ["HKEYS", "HVALS", "HGETALL"]:
        both(cmd, "h", sort=True)
    both("HLEN", "h")
    both("HMGET", "h", "f0", "f599", "f600")


# -- HINCRBY / HINCRBYFLOAT ---------------------------------------------------------------------

def test_hincrby(both):
    both("HINCRBY", "h", "a", "5")
    both("HINCRBY", "h", "a", "-7")
    both("HINCRBY", "h", "a", "0")
    both("HSET", "h", "max", BIG, "min", SMALL, "s", "abc", "f", "1.5", "sp", " 1")
    both("HINCRBY", "h", "max", "1")
    both("HINCRBY", "h", "max", "0")
    both("HINCRBY", "h", "max", "-1")
    both("HINCRBY", "h", "min", "-1")
    both("HINCRBY", "h", "min", BIG)
    both("HINCRBY", "h", "new", SMALL)
    both("HINCRBY", "h", "new", "-1")
    for f in ["s", "f", "sp"]:
        both("HINCRBY", "h", f, "1")
    for bad in NOT_INTS + ["9223372036854775808", "-9223372036854775809"]:
        both("HINCRBY", "h", "a", bad)
        both("HINCRBY", "nokey", "a", bad)
    same_keyspace(both, "nokey")
    both("HGETALL", "h")
    both("SET", "str", "v")
    both("HINCRBY", "str", "a", "1")
    both("HINCRBY", "str", "a", "x")  # the increment is checked first
    both("HINCRBY", "h", "a")


@pytest.mark.parametrize("incr", [
    "1", "1.1", "-1.1", "0.1", "1e-300", "1e10", "-1e10", "5.0e3", "0x10", "1.7976931348623157e308",
    "1e4932", ".5", "5.", "-0", "3.0000000000000000001",
])
def test_hincrbyfloat_values(both, incr):
    both("HSET", "h", "i", "10", "f", "10.5", "e", "1e3", "z", "0")
    for field in ["i", "f", "e", "z", "new"]:
        both("HINCRBYFLOAT", "h", field, incr)
    same_hash(both, "h")
    same_keyspace(both, "h")


def test_hincrbyfloat_errors(both):
    both("HSET", "h", "s", "abc", "sp", " 1", "inf", "inf", "a", "1", "big", "1.18e4932")
    for bad in ["abc", "", " 1", "1 ", "nan", "1e5000", "1e-5000", "--1", "1.2.3"]:
        both("HINCRBYFLOAT", "h", "a", bad)
        both("HINCRBYFLOAT", "nokey", "a", bad)
    for bad in ["inf", "-inf", "+inf", "Infinity", "-INF"]:
        both("HINCRBYFLOAT", "h", "a", bad)
    both("HINCRBYFLOAT", "h", "s", "1")
    both("HINCRBYFLOAT", "h", "sp", "1")
    both("HINCRBYFLOAT", "h", "inf", "1")
    both("HINCRBYFLOAT", "h", "big", "1.18e4932")
    both("HINCRBYFLOAT", "h", "big", "-1.18e4932")
    same_hash(both, "h")
    same_keyspace(both, "nokey")
    both("SET", "str", "v")
    both("HINCRBYFLOAT", "str", "a", "1")
    both("HINCRBYFLOAT", "str", "a", "x")
    both("HINCRBYFLOAT", "h", "a")


def test_hincrbyfloat_logs_hset_of_the_result():
    ks_store = kvstore.open(active_expire=False)
    ctx = Context(ks_store.keyspace)
    assert execute(ctx, [b"HINCRBYFLOAT", b"h", b"f", b"10.5"]) == b"10.5"
    assert ctx.effects == [[b"HSET", b"h", b"f", b"10.5"]]
    assert execute(ctx, [b"HINCRBY", b"h", b"n", b"1"]) == 1
    assert ctx.effects is None  # deterministic: the request itself is logged
    ks_store.close()


# -- HRANDFIELD ---------------------------------------------------------------------------------

def test_hrandfield_errors_and_empty(both):
    both("HSET", "h", "a", "1", "b", "2", "c", "3")
    both("SET", "s", "v")
    for key in ["h", "nokey", "s"]:
        both("HRANDFIELD", key, "abc")
        both("HRANDFIELD", key, "1.5")
        both("HRANDFIELD", key, SMALL)
        both("HRANDFIELD", key, SMALL, "WITHVALUES")
        both("HRANDFIELD", key, "4611686018427387904", "WITHVALUES")
        both("HRANDFIELD", key, "-4611686018427387904", "WITHVALUES")
        both("HRANDFIELD", key, "1", "WITHVALUES", "x")
        both("HRANDFIELD", key, "1", "nope")
        both("HRANDFIELD", key, "abc", "nope")
        both("HRANDFIELD", key, "0")
        both("HRANDFIELD", key, "0", "withvalues")
    both("HRANDFIELD", "nokey")
    both("HRANDFIELD", "nokey", "5")
    both("HRANDFIELD", "nokey", "-5", "WITHVALUES")
    both("HRANDFIELD", "s")
    both("HRANDFIELD")


@pytest.mark.parametrize("size", [3, 200])
def test_hrandfield_properties(both, size):
    fill(both, "h", size)
    h = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    store = both.store
    for _ in range(5):
        assert store.execute("HRANDFIELD", "h") in h
    for count in [1, 2, size - 1, size, size + 5]:
        got = store.execute("HRANDFIELD", "h", count)
        assert len(got) == min(count, size) and len(set(got)) == len(got) and set(got) <= set(h)
        flat = store.execute("HRANDFIELD", "h", count, "WITHVALUES")
        pairs = list(zip(flat[::2], flat[1::2]))
        assert len(pairs) == min(count, size) and all(h[f] == v for f, v in pairs)
        assert len({f for f, _ in pairs}) == len(pairs)
    for count in [-1, -2, -(size * 3)]:
        got = store.execute("HRANDFIELD", "h", count)
        assert len(got) == -count and set(got) <= set(h)
        flat = store.execute("HRANDFIELD", "h", count, "WITHVALUES")
        assert len(flat) == -2 * count and all(h[f] == v for f, v in zip(flat[::2], flat[1::2]))
    # The whole hash, when asked for at least its size, comes in Redis's (listpack) order.
    if size < 128:
        both("HRANDFIELD", "h", size)
        both("HRANDFIELD", "h", size + 1, "WITHVALUES")


def test_hrandfield_negative_count_repeats():
    store = kvstore.open(active_expire=False)
    store.execute("HSET", "h", "a", "1", "b", "2")
    got = store.execute("HRANDFIELD", "h", -200)
    assert set(got) == {b"a", b"b"}  # both show up among 200 draws (fails with p = 2**-199)
    store.close()


@pytest.mark.parametrize("command, key", [("SRANDMEMBER", "s"), ("HRANDFIELD", "h"),
                                          ("ZRANDMEMBER", "z")])
def test_repeated_picks_are_limited(command, key):
    # Redis builds any such reply, and at -LONG_MAX dies out of memory: kvstore refuses
    from kvstore.commands.args import MAX_REPEATED_PICKS
    store = kvstore.open(active_expire=False)
    store.execute("SADD", "s", "a")
    store.execute("HSET", "h", "a", "1")
    store.execute("ZADD", "z", "1", "a")
    for count in (-MAX_REPEATED_PICKS - 1, -9223372036854775807):
        with pytest.raises(ResponseError, match="at most 16777216 random picks with repeats"):
            store.execute(command, key, count)
    assert store.execute(command, key, -3) == [b"a"] * 3
    store.close()


def test_hrandfield_resp3_pairs():
    store = kvstore.open(active_expire=False)
    ctx = Context(store.keyspace)
    ctx.resp = 3
    execute(ctx, [b"HSET", b"h", b"a", b"1", b"b", b"2"])
    assert execute(ctx, [b"HRANDFIELD", b"h", b"5", b"WITHVALUES"]) == [[b"a", b"1"], [b"b", b"2"]]
    assert execute(ctx, [b"HRANDFIELD", b"h", b"-3", b"WITHVALUES"])[0] in ([b"a", b"1"],
                                                                          [b"b", b"2"])
    assert execute(ctx, [b"HGETALL", b"h"]) == {b"a": b"1", b"b": b"2"}
    assert ctx.effects is None
    store.close()


# -- HSCAN --------------------------------------------------------------------------------------

def test_hscan_small(both):
    both("HSET", "h", "a", "1", "b", "2", "ab", "3", "x*", "4")
    for cursor in ["0", "5", "-1", "+5", "007", "18446744073709551615", ""]:
        both("HSCAN", "h", cursor)
    for cursor in ["abc", "18446744073709551616", " 1", "1 ", "-", "+", "0x1", "1.0",
                   "-18446744073709551616"]:
        both("HSCAN", "h", cursor)
        both("HSCAN", "nokey", cursor)
    both("HSCAN", "h", 0, "MATCH", "a*")
    both("HSCAN", "h", 0, "match", "*b")
    both("HSCAN", "h", 0, "MATCH", "x\\*")
    both("HSCAN", "h", 0, "MATCH", "*")
    both("HSCAN", "h", 0, "MATCH", "nomatch")
    both("HSCAN", "h", 0, "COUNT", "1")
    both("HSCAN", "h", 0, "COUNT", "1", "MATCH", "a*", "COUNT", "100")


def test_hscan_errors(both):
    both("HSET", "h", "a", "1")
    both("SET", "s", "v")
    for key in ["h", "s", "nokey"]:
        both("HSCAN", key, 0, "COUNT", "0")
        both("HSCAN", key, 0, "COUNT", "-1")
        both("HSCAN", key, 0, "COUNT", "x")
        both("HSCAN", key, 0, "COUNT")
        both("HSCAN", key, 0, "MATCH")
        both("HSCAN", key, 0, "NOVALUES")
        both("HSCAN", key, 0, "TYPE", "string")
        both("HSCAN", key, 0, "FOO", "bar")
        both("HSCAN", key, "x", "FOO")
    both("HSCAN", "h")


def test_hscan_big_returns_everything(both):
    fill(both, "h", 600)
    store = both.store
    for count in [None, 1, 7, 100, 1000]:
        cursor, seen, calls = b"0", {}, 0
        while True:
            args = ["HSCAN", "h", cursor] + (["COUNT", count] if count else [])
            cursor, flat = store.execute(*args)
            calls += 1
            seen.update(zip(flat[::2], flat[1::2]))
            if count and count < 600 and cursor != b"0":
                assert len(flat) == 2 * count
            if cursor == b"0":
                break
        assert seen == {f"f{i}".encode(): f"v{i}".encode() for i in range(600)}
        assert calls <= 600 // (count or 10) + 1
    cursor, flat = store.execute("HSCAN", "h", 0, "MATCH", "f1?", "COUNT", 10000)
    assert cursor == b"0" and sorted(flat[::2]) == sorted(f"f{i}".encode() for i in range(10, 20))
    assert store.execute("HSCAN", "h", 10**6) == [b"0", []]


# -- generic behaviour ---------------------------------------------------------------------------

def test_expired_hash_is_absent():
    clock = ManualClock()
    store = kvstore.open(clock=clock, active_expire=False)
    store.execute("HSET", "h", "a", "1")
    db = store.keyspace.dbs[0]
    db.set_expire(b"h", clock.now + 10)
    assert store.execute("HGET", "h", "a") == b"1"
    clock.advance(11)
    assert store.execute("HGET", "h", "a") is None
    assert store.execute("HSET", "h", "b", "2") == 1
    assert store.execute("HGETALL", "h") == [b"b", b"2"]
    assert b"h" not in db.expires  # a new hash, without the old TTL
    store.close()


def test_dirty_counts():
    store = kvstore.open(active_expire=False)
    ks = store.keyspace

    def dirty(*args):
        before = ks.dirty
        store.execute(*args)
        return ks.dirty - before

    assert dirty("HSET", "h", "a", "1", "b", "2") == 2
    assert dirty("HSET", "h", "a", "1") == 1  # Redis counts every pair written
    assert dirty("HSETNX", "h", "a", "1") == 0
    assert dirty("HSETNX", "h", "c", "1") == 1
    assert dirty("HDEL", "h", "nope") == 0
    assert dirty("HDEL", "h", "a", "b") == 2
    assert dirty("HINCRBY", "h", "n", "1") == 1
    assert dirty("HINCRBYFLOAT", "h", "n", "1") == 1
    for read in [("HGET", "h", "a"), ("HGETALL", "h"), ("HRANDFIELD", "h", -5), ("HSCAN", "h", 0),
                 ("HLEN", "h"), ("HKEYS", "h"), ("HMGET", "h", "a")]:
        assert dirty(*read) == 0
    with pytest.raises(ResponseError):
        store.execute("HINCRBY", "h", "n", "x")
    assert dirty("HDEL", "h", "c", "n") == 2
    assert ks.dbs[0].data == {}
    store.close()


def test_notifications():
    store = kvstore.open(active_expire=False)
    ctx = Context(store.keyspace)
    events = []
    # (keymiss, class "m", is off unless asked for: tests/server/test_keyspace_stats.py)
    ctx.notify = lambda cls, event, key: cls == "m" or events.append((cls, event, key))
    for argv in [[b"HSET", b"h", b"a", b"1"], [b"HSETNX", b"h", b"a", b"1"],
                 [b"HINCRBY", b"h", b"n", b"1"], [b"HINCRBYFLOAT", b"h", b"n", b"1"],
                 [b"HDEL", b"h", b"x"], [b"HDEL", b"h", b"a", b"n"]]:
        execute(ctx, argv)
    assert events == [("h", "hset", b"h"), ("h", "hincrby", b"h"), ("h", "hincrbyfloat", b"h"),
                      ("h", "hdel", b"h"), ("g", "del", b"h")]
    store.close()


def test_command_table_entries():
    for name, arity in [("hset", -4), ("hsetnx", 4), ("hget", 3), ("hmget", -3), ("hmset", -4),
                        ("hdel", -3), ("hexists", 3), ("hlen", 2), ("hkeys", 2), ("hvals", 2),
                        ("hgetall", 2), ("hincrby", 4), ("hincrbyfloat", 4), ("hstrlen", 3),
                        ("hrandfield", -2), ("hscan", -3)]:
        cmd = COMMANDS[name.encode()]
        assert cmd.arity == arity and cmd.group == "hash" and cmd.summary.startswith(name.upper())
        assert cmd.keys([name.encode(), b"k", b"x", b"y"]) == [b"k"]


# -- the redis-py-shaped methods ----------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Call to deprecated hmset:DeprecationWarning")
def test_methods(pair):
    assert same(pair, "hset", "h", "a", "1") == 1
    same(pair, "hset", "h", mapping={"b": 2, "c": 3.5})
    same(pair, "hset", "h", items=["d", "4", "e", "5"])
    same(pair, "hset", "h", "x", "y", mapping={"m": "n"}, items=["i", "j"])
    same(pair, "hsetnx", "h", "a", "z")
    same(pair, "hsetnx", "h", "new", "z")
    assert same(pair, "hmset", "h2", {"a": 1, "b": 2}) is True
    same(pair, "hget", "h", "a")
    same(pair, "hget", "h", "nope")
    same(pair, "hmget", "h", ["a", "b", "nope"])
    same(pair, "hmget", "h", "a", "b")
    assert isinstance(same(pair, "hgetall", "h"), dict)
    assert same(pair, "hgetall", "nokey") == {}
    assert same(pair, "hexists", "h", "a") is True
    assert same(pair, "hexists", "h", "zz") is False
    same(pair, "hlen", "h")
    same(pair, "hkeys", "h")
    same(pair, "hvals", "h")
    same(pair, "hstrlen", "h", "c")
    same(pair, "hincrby", "h", "n")
    same(pair, "hincrby", "h", "n", 5)
    assert same(pair, "hincrbyfloat", "h", "f") == 1.0
    same(pair, "hincrbyfloat", "h", "f", 2.25)
    same(pair, "hincrby", "h", "c", 1)  # "3.5" is not an integer: same error
    same(pair, "hdel", "h", "a", "b", "nope")
    same(pair, "hscan", "h")
    same(pair, "hscan", "h", 0, match="[dx]*", count=5)
    same(pair, "hscan", "h", no_values=True)  # NOVALUES is 7.4+: both answer "syntax error"
    assert dict(pair[1].hscan_iter("h")) == dict(pair[0].hscan_iter("h"))
    theirs, ours = (sorted(target.hscan_iter("h", match="n*")) for target in pair)
    assert ours == theirs
    same(pair, "hrandfield", "h", 100)
    same(pair, "hrandfield", "h", 100, withvalues=True)
    same(pair, "hrandfield", "nokey")
    same(pair, "hrandfield", "h", 0, withvalues=True)
    assert pair[1].hrandfield("h") in pair[0].hkeys("h")
    pair[0].set("str", "v")
    pair[1].set("str", "v")
    same(pair, "hget", "str", "a")
    same(pair, "hgetall", "str")
    for target in pair:
        with pytest.raises((redis.DataError, DataError)):
            target.hset("h")
        with pytest.raises((redis.DataError, DataError)):
            target.hmset("h", {})


def test_methods_take_redis_py_argument_forms(pair):
    """bytearray and memoryview are one field (not a list of ints), and no_values=False is
    the default (no NOVALUES sent), as in redis-py."""
    for field, value in [(bytearray(b"fa"), bytearray(b"va")), (memoryview(b"fm"), b"vm")]:
        same(pair, "hset", "h", field, value)
        same(pair, "hget", "h", field)
        same(pair, "hmget", "h", field)
        same(pair, "hmget", "h", field, "nope")
    same(pair, "hscan", "h", no_values=False)
    assert dict(pair[1].hscan_iter("h", no_values=False)) == dict(pair[0].hscan_iter("h"))


def test_hscan_iter_big(pair):
    mapping = {f"f{i}": i for i in range(1000)}
    for target in pair:
        target.hset("big", mapping=mapping)
    assert dict(pair[1].hscan_iter("big", count=33)) == dict(pair[0].hscan_iter("big"))


def test_decode_responses():
    store = kvstore.open(decode_responses=True, active_expire=False)
    store.hset("h", mapping={"a": "1", "b": "2"})
    assert store.hgetall("h") == {"a": "1", "b": "2"}
    assert store.hscan("h") == (0, {"a": "1", "b": "2"})
    assert store.hincrbyfloat("h", "a", 0.5) == 1.5
    store.close()


def test_method_signatures_match_redis_py():
    import inspect

    from redis.commands.core import HashCommands

    for name in ["hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen",
                 "hset", "hsetnx", "hmset", "hmget", "hvals", "hstrlen", "hrandfield", "hscan",
                 "hscan_iter"]:
        ours = inspect.signature(getattr(kvstore.Store, name))
        theirs = getattr(HashCommands, name, None) or getattr(redis.Redis, name)
        theirs = inspect.signature(inspect.unwrap(theirs))
        assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
            [(p.name, p.default, p.kind) for p in theirs.parameters.values()], name


def test_random_differential(both):
    """Random hash commands on a few keys; order-insensitive replies compared sorted."""
    rng = random.Random(1234)
    fields = [f"f{i}" for i in range(12)] + ["x" * 70]
    values = ["1", "-3", "abc", "2.5", "9223372036854775806", "v" * 70, ""]
    for _ in range(600):
        key = rng.choice(["h1", "h2"])
        op = rng.randrange(9)
        if op == 0:
            args = []
            for _ in range(rng.randint(1, 3)):
                args += [rng.choice(fields), rng.choice(values)]
            both("HSET", key, *args)
        elif op == 1:
            both("HDEL", key, *rng.sample(fields, rng.randint(1, 4)))
        elif op == 2:
            both("HINCRBY", key, rng.choice(fields), rng.choice(["1", "-2", BIG]))
        elif op == 3:
            both("HINCRBYFLOAT", key, rng.choice(fields), rng.choice(["1.5", "-0.25", "1e3"]))
        elif op == 4:
            both("HSETNX", key, rng.choice(fields), rng.choice(values))
        elif op == 5:
            same_hash(both, key)
        elif op == 6:
            both("HMGET", key, *rng.sample(fields, 3))
        elif op == 7:
            both("HLEN", key)
        else:
            both("HSTRLEN", key, rng.choice(fields))
        same_keyspace(both, key)


def test_hscan_walks_survive_interleaving_and_writes():
    """Two walks at once, and fields added / updated mid-walk: every field present from start
    to end is returned, and each walk ends."""
    store = kvstore.open(active_expire=False)
    for key in ("a", "b"):
        store.execute("HSET", key, *[x for i in range(700) for x in (f"f{i}", "v")])
    cursors = {"a": b"0", "b": b"0"}
    seen = {"a": set(), "b": set()}
    done = set()
    step = 0
    while len(done) < 2:
        for key in ("a", "b"):
            if key in done:
                continue
            cursors[key], flat = store.execute("HSCAN", key, cursors[key], "COUNT", 50)
            seen[key].update(flat[::2])
            if cursors[key] == b"0":
                done.add(key)
        step += 1
        store.execute("HSET", "a", f"new{step}", "x")  # size changes: the next step re-seeks
        store.execute("HSET", "b", "f0", f"updated{step}")  # same size: the walk continues
        assert step < 100
    for key in ("a", "b"):
        assert {f"f{i}".encode() for i in range(700)} <= seen[key]
    store.close()
