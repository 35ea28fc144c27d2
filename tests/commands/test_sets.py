"""Set commands against the real redis-server: replies, error texts, encodings, order (ascending
for intsets, compared sorted for hash tables), dirty counts, AOF effects, RESP3 shapes, and the
redis-py-shaped methods.

Only set commands and SET (to make a wrong-type key) are sent to both servers; key existence and
encodings on the kvstore side are read from the keyspace and compared with Redis's EXISTS /
OBJECT ENCODING.
"""

from __future__ import annotations

import random

import pytest
import redis

import kvstore
from kvstore.commands.table import COMMANDS, Context, execute
from kvstore.engine import ManualClock
from kvstore.replies import SetReply

from .helpers import same, same_keyspace

SMALL = "-9223372036854775808"


def same_members(both, key):
    """SMEMBERS agrees: exactly for an intset (ascending), as sets for a hash table."""
    big = both.oracle.execute("OBJECT", "ENCODING", key) == b"hashtable" \
        if both.oracle.execute("EXISTS", key) else False
    both("SMEMBERS", key, sort=big)


def ints(n, start=0):
    return [str(i) for i in range(start, start + n)]


# -- SADD / SREM / SMEMBERS / SISMEMBER / SMISMEMBER / SCARD ------------------------------------

def test_sadd_srem_basics(both):
    both("SADD", "s", "3", "1", "2", "-5", "10", "1")
    both("SADD", "s", "1")
    both("SMEMBERS", "s")  # intset: ascending numeric order
    both("SCARD", "s")
    both("SISMEMBER", "s", "1")
    both("SISMEMBER", "s", "01")
    both("SMISMEMBER", "s", "1", "7", "10", "1")
    both("SREM", "s", "1", "1", "nope")
    both("SREM", "s", "nope")
    both("SREM", "nokey", "a")
    both("SMEMBERS", "s")
    both("SREM", "s", "3", "2", "-5", "10", "x")
    same_keyspace(both, "s")
    both("SCARD", "s")
    both("SMEMBERS", "nokey")
    both("SISMEMBER", "nokey", "a")
    both("SMISMEMBER", "nokey", "a", "b")
    both("SADD", "b", "", b"\x00\xff", "a" * 1000)
    both("SMEMBERS", "b", sort=True)


def test_arity_and_wrongtype(both):
    both("SET", "str", "v")
    for args in [("SADD", "str", "a"), ("SREM", "str", "a"), ("SMEMBERS", "str"),
                 ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SCARD", "str"),
                 ("SPOP", "str"), ("SPOP", "str", "1"), ("SRANDMEMBER", "str"),
                 ("SRANDMEMBER", "str", "1"), ("SINTER", "str"), ("SUNION", "str"),
                 ("SDIFF", "str"), ("SSCAN", "str", "0")]:
        both(*args)
    for args in [("SADD", "s"), ("SREM", "s"), ("SMEMBERS",), ("SMEMBERS", "a", "b"),
                 ("SISMEMBER", "s"), ("SISMEMBER", "s", "a", "b"), ("SMISMEMBER", "s"),
                 ("SCARD",), ("SPOP",), ("SRANDMEMBER",), ("SMOVE", "a", "b"), ("SINTER",),
                 ("SINTERSTORE", "d"), ("SUNION",), ("SUNIONSTORE", "d"), ("SDIFF",),
                 ("SDIFFSTORE", "d"), ("SINTERCARD", "1"), ("SSCAN", "s"), ("sadd", "s")]:
        both(*args)
    same_keyspace(both, "str", "s")


# -- encodings and order ------------------------------------------------------------------------

@pytest.mark.parametrize("members", [
    ["1", "2"], ["a"], ["1", "a"], ["-0"], ["01"], ["+1"], [" 1"], ["1.0"], [SMALL],
    ["9223372036854775807"], ["9223372036854775808"], ["-9223372036854775809"], [""],
])
def test_intset_or_hashtable(both, members):
    both("SADD", "s", *members)
    same_keyspace(both, "s")
    same_members(both, "s")


@pytest.mark.parametrize("n", [511, 512, 513])
def test_encoding_by_count(both, n):
    both("SADD", "s", *ints(n))
    same_keyspace(both, "s")
    same_members(both, "s")


def test_encoding_grows_and_sticks(both):
    both("SADD", "s", *ints(512))
    same_keyspace(both, "s")
    both("SADD", "s", "512")
    same_keyspace(both, "s")
    both("SREM", "s", "512", "511")
    same_keyspace(both, "s")  # hash table for good
    both("SADD", "t", "1", "2")
    both("SADD", "t", "x")
    both("SREM", "t", "x")
    same_keyspace(both, "t")
    same_members(both, "t")
    both("SADD", "u", "5", "1", "3")
    both("SADD", "u", "5")
    same_keyspace(both, "u")
    both("SMEMBERS", "u")


# -- SPOP / SRANDMEMBER -------------------------------------------------------------------------

def test_spop_srandmember_errors_and_empty(both):
    both("SADD", "s", "1", "2", "3")
    both("SET", "str", "v")
    for key in ["s", "nokey", "str"]:
        for count in ["abc", "-1", "1.5", SMALL, "", "0"]:
            both("SPOP", key, count)
        for count in ["abc", "1.5", SMALL, "", "0"]:
            both("SRANDMEMBER", key, count)
        both("SPOP", key, "1", "2")
        both("SRANDMEMBER", key, "1", "2")
        both("SRANDMEMBER", key, "abc", "2")
    both("SPOP", "nokey")
    both("SRANDMEMBER", "nokey")
    both("SRANDMEMBER", "nokey", "5")
    both("SRANDMEMBER", "nokey", "-5")
    both("SPOP", "nokey", "5")
    same_keyspace(both, "s", "nokey")


@pytest.mark.parametrize("members", [ints(5), ints(600), ["a", "b", "c", "1"]])
def test_whole_set_when_count_covers_it(both, members):
    both("SADD", "s", *members)
    big = len(members) > 512 or "a" in members
    both("SRANDMEMBER", "s", len(members), sort=big)
    both("SRANDMEMBER", "s", len(members) + 10, sort=big)
    both("SPOP", "s", len(members) + 1, sort=big)
    same_keyspace(both, "s")


@pytest.mark.parametrize("size", [5, 700])
def test_random_properties(both, size):
    both("SADD", "s", *ints(size))
    members = {m.encode() for m in ints(size)}
    store = both.store
    assert store.execute("SRANDMEMBER", "s") in members
    for count in [1, 2, size - 1]:
        got = store.execute("SRANDMEMBER", "s", count)
        assert len(got) == count and len(set(got)) == count and set(got) <= members
    for count in [-1, -3, -(size * 2)]:
        got = store.execute("SRANDMEMBER", "s", count)
        assert len(got) == -count and set(got) <= members
    popped = store.execute("SPOP", "s")
    assert popped in members
    members.discard(popped)
    got = store.execute("SPOP", "s", 3)
    assert len(set(got)) == 3 and set(got) <= members
    members -= set(got)
    assert set(store.execute("SMEMBERS", "s")) == members
    assert store.execute("SCARD", "s") == size - 4


def test_srandmember_negative_count_repeats():
    store = kvstore.open(active_expire=False)
    store.execute("SADD", "s", "a", "b")
    assert set(store.execute("SRANDMEMBER", "s", -200)) == {b"a", b"b"}
    store.close()


@pytest.mark.parametrize("left, count, encoding", [(6, 34, "intset"), (7, 34, "hashtable"),
                                                   (10, 30, "hashtable")])
def test_spop_count_of_most_of_a_set_starts_its_encoding_over(both, left, count, encoding):
    # Redis copies the members left into a new set when left * 5 <= count: an intset again
    # if they are all integers (its members then listed in order); the key keeps its TTL
    for db in (both.oracle, both.store):
        db.execute("DEL", "s")
        db.execute("SADD", "s", *range(left + count), "a")
        db.execute("SREM", "s", "a")
        db.execute("EXPIRE", "s", 1000)
        db.execute("SPOP", "s", count)
        assert db.execute("OBJECT", "ENCODING", "s") == encoding.encode()
        assert 0 < db.execute("TTL", "s") <= 1000  # the new set replaces the value, not the key
        members = db.execute("SMEMBERS", "s")
        assert len(members) == left
        if encoding == "intset":
            assert members == sorted(members, key=int)


def test_spop_effects_replay_to_the_same_state():
    src = kvstore.open(active_expire=False)
    ctx = Context(src.keyspace)
    execute(ctx, [b"SADD", b"s", *(b"m%d" % i for i in range(3000))])
    log = []
    for argv in [[b"SPOP", b"s"], [b"SPOP", b"s", b"2500"], [b"SPOP", b"s", b"0"],
                 [b"SPOP", b"s", b"10000"], [b"SADD", b"t", b"1"], [b"SPOP", b"t"]]:
        dirty = src.keyspace.dirty
        reply = execute(ctx, argv)
        if src.keyspace.dirty != dirty:
            log.extend(ctx.effects or [argv])
        if argv[1] == b"s" and len(argv) == 3:
            assert type(reply) is SetReply
    # (a single SPOP is an SREM even of the last member, as in Redis)
    assert [e[0] for e in log] == [b"SREM", b"SREM", b"SREM", b"SREM", b"DEL", b"SADD", b"SREM"]
    assert all(len(e) <= 2 + 1024 for e in log)
    dst = kvstore.open(active_expire=False)
    dctx = Context(dst.keyspace)
    execute(dctx, [b"SADD", b"s", *(b"m%d" % i for i in range(3000))])
    for argv in log:
        execute(dctx, argv)
    assert dst.keyspace.dbs[0].data == src.keyspace.dbs[0].data == {}
    src.close()
    dst.close()


# -- SMOVE --------------------------------------------------------------------------------------

def test_smove(both):
    both("SADD", "a", "1", "2", "x")
    both("SADD", "b", "3")
    both("SET", "str", "v")
    both("SMOVE", "a", "b", "1")
    both("SMOVE", "a", "b", "nope")
    both("SMOVE", "a", "new", "2")
    same_keyspace(both, "a", "b", "new")
    both("SMOVE", "a", "a", "x")
    both("SMOVE", "a", "a", "nope")
    both("SMOVE", "nokey", "str", "x")  # a missing source is checked before the types
    both("SMOVE", "a", "str", "x")
    both("SMOVE", "a", "str", "nope")
    both("SMOVE", "str", "a", "x")
    both("SMOVE", "a", "b", "x")  # empties the source
    same_keyspace(both, "a", "b", "new", "str")
    both("SADD", "c", "3")
    both("SMOVE", "b", "c", "3")  # already in the destination
    same_keyspace(both, "b", "c")
    both("SMOVE", "c", "d", "abc")
    same_keyspace(both, "c", "d")
    both("SMEMBERS", "b", sort=True)


# -- SINTER / SUNION / SDIFF and the STORE variants ---------------------------------------------

def test_algebra(both):
    both("SADD", "i1", "1", "2", "3", "4")
    both("SADD", "i2", "3", "4", "5")
    both("SADD", "m", "a", "b", "3", "4")
    both("SET", "str", "v")
    for op in ["SINTER", "SUNION", "SDIFF"]:
        for keys in [["i1"], ["i1", "i2"], ["i2", "i1"], ["i1", "m"], ["m", "i1", "i2"],
                     ["i1", "nokey"], ["nokey", "i1"], ["nokey"], ["i1", "i1"]]:
            both(op, *keys, sort="m" in keys[:1] or (op == "SUNION" and "m" in keys))
        both(op, "i1", "str")
        both(op, "nokey", "str")
        both(op, "str", "nokey")


@pytest.mark.parametrize("op", ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])
def test_store_variants(both, op):
    both("SADD", "i1", "1", "2", "3", "4")
    both("SADD", "i2", "3", "4", "5")
    both("SADD", "m", "a", "b", "3")
    both("SET", "str", "v")
    for keys in [["i1", "i2"], ["i1", "m"], ["m", "i1"], ["i1", "nokey"], ["nokey"]]:
        both(op, "d", *keys)
        same_keyspace(both, "d")
        same_members(both, "d")
    both(op, "str", "i1", "i2")  # any old value is overwritten
    same_keyspace(both, "str")
    both("SET", "str2", "v")
    both(op, "str2", "nokey")  # an empty result deletes the destination
    same_keyspace(both, "str2")
    both(op, "d", "i1", "str")
    both(op, "i1", "i1", "i2")  # destination among the sources
    same_members(both, "i1")
    both(op, "d", "nokey", "str")


def test_store_results_encoding(both):
    both("SADD", "a", *ints(300))
    both("SADD", "b", *ints(300, 250))
    for op in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]:
        both(op, "d", "a", "b")
        same_keyspace(both, "d")
        same_members(both, "d")
    both("SINTER", "a", "b")
    both("SDIFF", "a", "b")
    both("SUNION", "a", "b", sort=True)


def test_store_drops_the_ttl():
    clock = ManualClock()
    store = kvstore.open(clock=clock, active_expire=False)
    store.execute("SADD", "a", "1")
    store.execute("SADD", "d", "x")
    db = store.keyspace.dbs[0]
    db.set_expire(b"d", clock.now + 1000)
    assert store.execute("SUNIONSTORE", "d", "a") == 1
    assert b"d" not in db.expires
    db.set_expire(b"d", clock.now + 1000)
    clock.advance(1000)
    dirty = store.keyspace.dirty
    assert store.execute("SINTERSTORE", "d", "nokey") == 0  # d had expired: nothing to delete
    assert store.keyspace.dirty == dirty + 1  # the lazy expiry itself, not a DEL by the command
    store.close()


# -- SINTERCARD ---------------------------------------------------------------------------------

def test_sintercard(both):
    both("SADD", "a", *ints(20))
    both("SADD", "b", *ints(20, 10))
    both("SADD", "m", "x", "y", "15")
    both("SET", "str", "v")
    for args in [("1", "a"), ("2", "a", "b"), ("3", "a", "b", "m"), ("2", "a", "nokey"),
                 ("2", "a", "b", "LIMIT", "0"), ("2", "a", "b", "LIMIT", "3"),
                 ("2", "a", "b", "limit", "100"), ("1", "a", "LIMIT", "1", "LIMIT", "5"),
                 ("2", "a", "a", "LIMIT", "7")]:
        both("SINTERCARD", *args)
    for args in [("0", "a"), ("-1", "a"), ("abc", "a"), ("", "a"), ("1.5", "a"),
                 ("9223372036854775808", "a"), ("3", "a", "b"), ("1", "a", "LIMIT"),
                 ("1", "a", "LIMIT", "-1"), ("1", "a", "LIMIT", "abc"), ("1", "a", "FOO", "1"),
                 ("1", "a", "b"), ("2", "a", "str"), ("2", "nokey", "str"),
                 ("2", "str", "a", "LIMIT", "-1"), ("1", "str", "LIMIT")]:
        both("SINTERCARD", *args)
    cmd = COMMANDS[b"sintercard"]
    assert cmd.keys([b"SINTERCARD", b"2", b"a", b"b", b"LIMIT", b"1"]) == [b"a", b"b"]
    assert cmd.keys([b"SINTERCARD", b"x", b"a"]) == []
    assert cmd.keys([b"SINTERCARD", b"5", b"a"]) == []


# -- SSCAN --------------------------------------------------------------------------------------

def test_sscan_intset_and_small(both):
    both("SADD", "s", "10", "3", "-1", "12")
    both("SADD", "m", "a")
    both("SET", "str", "v")
    for cursor in ["0", "7", "-1", "+5", "", "18446744073709551615"]:
        both("SSCAN", "s", cursor)  # an intset ignores the cursor
    both("SSCAN", "m", "0")  # a hash table's answer to other cursors depends on hashes
    for cursor in ["x", "18446744073709551616", " 0"]:
        both("SSCAN", "s", cursor)
        both("SSCAN", "nokey", cursor)
    both("SSCAN", "s", "0", "MATCH", "1*")
    both("SSCAN", "s", "0", "MATCH", "-?", "COUNT", "1")
    for key in ["s", "str", "nokey"]:
        both("SSCAN", key, "0", "COUNT", "0")
        both("SSCAN", key, "0", "COUNT", "x")
        both("SSCAN", key, "0", "MATCH")
        both("SSCAN", key, "0", "BAD", "1")


def test_sscan_big_returns_everything():
    store = kvstore.open(active_expire=False)
    members = {b"m%d" % i for i in range(1000)}
    store.execute("SADD", "s", *members)
    for count in [None, 1, 9, 250, 5000]:
        cursor, seen = b"0", []
        while True:
            args = ["SSCAN", "s", cursor] + (["COUNT", count] if count else [])
            cursor, chunk = store.execute(*args)
            seen += chunk
            if cursor == b"0":
                break
        assert sorted(seen) == sorted(members)
    cursor, chunk = store.execute("SSCAN", "s", 0, "MATCH", "m99?", "COUNT", 100000)
    assert cursor == b"0" and sorted(chunk) == sorted(b"m99%d" % i for i in range(10))
    store.close()


# -- generic behaviour ---------------------------------------------------------------------------

def test_dirty_and_notifications():
    store = kvstore.open(active_expire=False)
    ks = store.keyspace
    ctx = Context(ks)
    events = []
    # (keymiss, class "m", is off unless asked for: tests/server/test_keyspace_stats.py)
    ctx.notify = lambda cls, event, key: cls == "m" or events.append((cls, event, key))

    def dirty(*argv):
        before = ks.dirty
        execute(ctx, [a.encode() if isinstance(a, str) else a for a in argv])
        return ks.dirty - before

    assert dirty("SADD", "s", "a", "b", "a") == 2
    assert dirty("SADD", "s", "a") == 0
    assert dirty("SREM", "s", "x") == 0
    assert dirty("SMOVE", "s", "t", "x") == 0
    assert dirty("SMOVE", "s", "t", "a") == 2
    for read in [("SMEMBERS", "s"), ("SRANDMEMBER", "s", "-3"), ("SINTER", "s", "t"),
                 ("SINTERCARD", "1", "s"), ("SSCAN", "s", "0"), ("SCARD", "s")]:
        assert dirty(*read) == 0
    assert dirty("SUNIONSTORE", "u", "s", "t") == 1
    assert dirty("SINTERSTORE", "u", "nokey") == 1
    assert dirty("SINTERSTORE", "u", "nokey") == 0
    assert dirty("SREM", "s", "b") == 1
    assert events == [
        ("s", "sadd", b"s"), ("s", "srem", b"s"), ("s", "sadd", b"t"),
        ("s", "sunionstore", b"u"), ("g", "del", b"u"), ("s", "srem", b"s"), ("g", "del", b"s"),
    ]
    store.close()


def test_spop_resp3_is_a_set_and_srandmember_an_array():
    store = kvstore.open(active_expire=False)
    ctx = Context(store.keyspace)
    ctx.resp = 3
    execute(ctx, [b"SADD", b"s", b"1", b"2", b"3"])
    assert type(execute(ctx, [b"SRANDMEMBER", b"s", b"5"])) is list
    assert type(execute(ctx, [b"SMEMBERS", b"s"])) is SetReply
    assert type(execute(ctx, [b"SPOP", b"nokey", b"2"])) is SetReply
    assert type(execute(ctx, [b"SPOP", b"s", b"1"])) is SetReply
    store.close()


def test_command_table_entries():
    table = {"sadd": (-3, 1, 1), "srem": (-3, 1, 1), "smembers": (2, 1, 1), "sismember": (3, 1, 1),
             "smismember": (-3, 1, 1), "scard": (2, 1, 1), "spop": (-2, 1, 1),
             "srandmember": (-2, 1, 1), "smove": (4, 1, 2), "sinter": (-2, 1, -1),
             "sinterstore": (-3, 1, -1), "sunion": (-2, 1, -1), "sunionstore": (-3, 1, -1),
             "sdiff": (-2, 1, -1), "sdiffstore": (-3, 1, -1), "sintercard": (-3, 0, 0),
             "sscan": (-3, 1, 1)}
    for name, (arity, first, last) in table.items():
        cmd = COMMANDS[name.encode()]
        assert (cmd.arity, cmd.keyspec.first, cmd.keyspec.last) == (arity, first, last), name
        assert cmd.group == "set" and cmd.summary.startswith(name.upper())


# -- the redis-py-shaped methods ----------------------------------------------------------------

def test_methods(pair):
    assert same(pair, "sadd", "a", 1, 2, 3, "x") == 4
    same(pair, "sadd", "b", 3, 4)
    same(pair, "sadd", "i", 5, 1, 3)
    assert same(pair, "smembers", "a") == {b"1", b"2", b"3", b"x"}
    assert same(pair, "smembers", "nokey") == set()
    same(pair, "scard", "a")
    assert same(pair, "sismember", "a", 1) == 1
    same(pair, "sismember", "a", "zz")
    same(pair, "smismember", "a", [1, "zz", "x"])
    same(pair, "smismember", "a", 1, 2)
    assert same(pair, "sinter", ["a", "b"]) == {b"3"}
    same(pair, "sinter", "a", "b")
    same(pair, "sunion", ["a", "b"])
    same(pair, "sdiff", "a", "b")
    same(pair, "sinterstore", "d1", ["a", "b"])
    same(pair, "sunionstore", "d2", "a", "b")
    same(pair, "sdiffstore", "d3", ["a"], "b")
    same(pair, "sintercard", 2, ["a", "b"])
    same(pair, "sintercard", 1, ["a"], limit=2)
    assert same(pair, "smove", "a", "b", "x") is True
    assert same(pair, "smove", "a", "b", "nope") is False
    same(pair, "srem", "b", "x", "nope")
    same(pair, "srandmember", "i", 10)
    same(pair, "srandmember", "nokey")
    same(pair, "srandmember", "nokey", 2)
    same(pair, "spop", "nokey")
    same(pair, "spop", "nokey", 2)
    same(pair, "spop", "i", 10)
    same(pair, "sscan", "d1")  # intset: ascending, like Redis
    for kwargs in [{}, {"match": "[12x]", "count": 100}]:  # hash table: order unspecified
        want, got = (target.sscan("d2", 0, **kwargs) for target in pair)
        assert (got[0], sorted(got[1])) == (want[0], sorted(want[1]))
    assert sorted(pair[1].sscan_iter("a")) == sorted(pair[0].sscan_iter("a"))
    assert pair[1].spop("a") in {b"1", b"2", b"3"}
    same(pair, "spop", "a", -1)
    same(pair, "srandmember", "a", 2**63)
    pair[0].set("str", "v")
    pair[1].set("str", "v")
    same(pair, "smembers", "str")
    same(pair, "sadd", "str", 1)


def test_sscan_iter_big(pair):
    for target in pair:
        target.sadd("big", *range(2000))
    assert sorted(pair[1].sscan_iter("big", count=77)) == sorted(pair[0].sscan_iter("big"))
    assert sorted(pair[1].sscan_iter("big", match="1?")) == sorted(pair[0].sscan_iter("big",
                                                                                      match="1?"))


def test_method_signatures_match_redis_py():
    import inspect

    from redis.commands.core import SetCommands

    for name in ["sadd", "scard", "sdiff", "sdiffstore", "sinter", "sintercard", "sinterstore",
                 "sismember", "smembers", "smismember", "smove", "spop", "srandmember", "srem",
                 "sunion", "sunionstore", "sscan", "sscan_iter"]:
        ours = inspect.signature(getattr(kvstore.Store, name))
        theirs = getattr(SetCommands, name, None) or getattr(redis.Redis, name)
        theirs = inspect.signature(inspect.unwrap(theirs))
        assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
            [(p.name, p.default, p.kind) for p in theirs.parameters.values()], name


def test_random_differential(both):
    """Random deterministic set commands on a few keys, keyspace compared after each."""
    rng = random.Random(4321)
    pool = ints(8) + ["a", "b", "-3", "01"]
    keys = ["s1", "s2", "s3"]
    for _ in range(600):
        op = rng.randrange(8)
        key = rng.choice(keys)
        if op == 0:
            both("SADD", key, *rng.sample(pool, rng.randint(1, 4)))
        elif op == 1:
            both("SREM", key, *rng.sample(pool, rng.randint(1, 3)))
        elif op == 2:
            both("SMOVE", key, rng.choice(keys), rng.choice(pool))
        elif op == 3:
            both(rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key,
                 *rng.sample(keys, rng.randint(1, 3)))
        elif op == 4:
            both("SINTERCARD", 2, *rng.sample(keys, 2), "LIMIT", rng.randint(0, 3))
        elif op == 5:
            both("SMISMEMBER", key, *rng.sample(pool, 3))
        elif op == 6:
            both("SCARD", key)
        else:
            same_members(both, key)
        same_keyspace(both, key)
