"""Sorted-set commands against the real redis-server: replies, error texts and their precedence,
dirty counts (Redis's `rdb_changes_since_last_save`), encodings, keyspace notifications, AOF
effects, the redis-py-shaped methods, and a seeded random differential run.

ZRANK/ZREVRANK follow Redis 7.2 (WITHSCORE, and a syntax error for another fourth argument, where
the 7.0 oracle has arity 3 and answers "wrong number of arguments"), so four arguments are checked
against hand-written 7.2 replies instead. ZRANDMEMBER is random
and a big zset's ZSCAN order differs from Redis's bucket walk: those compare properties.
"""

from __future__ import annotations

import itertools
import random
from collections import ChainMap, UserDict
from types import MappingProxyType

import pytest
import redis

import kvstore
from kvstore.commands import COMMANDS, Context, execute
from kvstore.engine import ManualClock
from kvstore.errors import ResponseError

from .helpers import keyevent_streams, same

SCORE_BOUNDS = ["-inf", "+inf", "inf", "(1", "1", "(2", "2", "2.5", "(3", "3", "(-1", "",
                "(", " 2", "1e999", "-1e999", "0x2", "nan", "(nan", "abc", "2 ", "((1", "[1",
                "+1", "1e-400", "2\x00x", "-0"]
LEX_BOUNDS = ["-", "+", "[a", "(a", "[c", "(c", "[cc", "(cc", "[z", "(z", "[", "(", "a", "",
              "+x", "-x", "+\x00", "[\x00"]
NOT_FLOATS = ["abc", "nan", "NaN", "-nan", "", " 1", "1 ", "1e309", "-1e309", "1e-400", "0x",
              "1e", "--1", "inf1"]


def rdb_changes(oracle) -> int:
    info = oracle.execute("INFO", "persistence").decode()
    return int(info.split("rdb_changes_since_last_save:")[1].split()[0])


class Diff:
    """`both`, plus: kvstore's dirty delta must equal Redis's for every command."""

    def __init__(self, both):
        self.both = both
        self.oracle = both.oracle
        self.store = both.store
        self.ks = both.store.keyspace

    def __call__(self, *args, sort=False):
        before_r = rdb_changes(self.oracle)
        before_k = self.ks.dirty
        result = self.both(*args, sort=sort)
        assert self.ks.dirty - before_k == rdb_changes(self.oracle) - before_r, \
            f"dirty of {args!r}"
        return result

    def run(self, *commands):
        for args in commands:
            self(*args)

    def plant(self):
        """A string, a hash and a set, for WRONGTYPE and set inputs."""
        self.run(("SET", "str", "x"), ("HSET", "h", "f", "v"), ("SADD", "s", "a", "b", "x"),
                 ("SADD", "ints", "1", "2", "3"))


@pytest.fixture
def d(both):
    return Diff(both)


@pytest.fixture
def small(oracle, store):
    """zset-max-listpack-entries 4 / -value 8 on both sides, restored afterwards."""
    oracle.execute("CONFIG", "SET", "zset-max-listpack-entries", "4")
    oracle.execute("CONFIG", "SET", "zset-max-listpack-value", "8")
    limits = store.keyspace.limits
    limits.zset_entries, limits.zset_value = 4, 8
    yield
    oracle.execute("CONFIG", "SET", "zset-max-listpack-entries", "128")
    oracle.execute("CONFIG", "SET", "zset-max-listpack-value", "64")


def scores(n: int, base: str = "m") -> list:
    out = []
    for i in range(n):
        out += [i % 7 - 3 + (0.5 if i % 3 == 0 else 0), f"{base}{i:03d}"]
    return out


# -- ZADD, ZINCRBY ---------------------------------------------------------------------------------


def test_zadd_options(d):
    d.run(("ZADD", "z", 1, "a", 2, "b", 3, "c"), ("ZADD", "z", 1, "a"),
          ("ZADD", "z", "CH", 5, "a", 6, "d"),
          ("ZADD", "z", "NX", 10, "a", 7, "e"), ("ZADD", "z", "XX", 10, "a", 8, "f"),
          ("ZADD", "z", "xx", "ch", 11, "a", 8, "f"), ("ZADD", "z", "GT", 5, "a"),
          ("ZADD", "z", "gt", "CH", 20, "a"), ("ZADD", "z", "LT", "CH", 30, "a"),
          ("ZADD", "z", "LT", "CH", 1, "a"), ("ZADD", "z", "XX", "GT", "CH", 100, "b"),
          ("ZADD", "z", "GT", 1, "new"), ("ZADD", "z", "LT", "CH", 1, "new2", 0, "new"),
          ("ZADD", "z", 1, "dup", 2, "dup", 3, "dup"), ("ZADD", "z", "CH", 3, "dup"),
          ("ZADD", "z", "INCR", 5, "a"), ("ZADD", "z", "INCR", "NX", 5, "a"),
          ("ZADD", "z", "INCR", "NX", 5, "fresh"), ("ZADD", "z", "INCR", "XX", 5, "nosuch"),
          ("ZADD", "z", "INCR", "GT", -1, "a"), ("ZADD", "z", "INCR", "LT", -1, "a"),
          ("ZADD", "z", "INCR", "GT", 0, "a"), ("ZADD", "z", "INCR", 0, "a"),
          ("ZADD", "z", "CH", "INCR", 1, "a"), ("ZRANGE", "z", 0, -1, "WITHSCORES"),
          ("ZADD", "nokey", "XX", 1, "a"), ("EXISTS", "nokey"),
          ("ZADD", "nokey", "XX", "INCR", 1, "a"), ("EXISTS", "nokey"),
          ("ZADD", "nokey", "GT", "CH", 1, "a"), ("ZRANGE", "nokey", 0, -1, "WITHSCORES"))


def test_zadd_errors(d):
    d.plant()
    d.run(("ZADD", "z", 1, "a"), ("ZADD", "z"), ("ZADD", "z", 1), ("ZADD", "z", 1, "a", 2),
          ("ZADD", "z", "NX"), ("ZADD", "z", "NX", "XX", 1, "a"), ("ZADD", "z", "GT", "LT", 1, "a"),
          ("ZADD", "z", "NX", "GT", 1, "a"), ("ZADD", "z", "NX", "LT", 1, "a"),
          ("ZADD", "z", "INCR", 1, "a", 2, "b"), ("ZADD", "z", "NX", "XX", "INCR", 1, "a", 2, "b"),
          ("ZADD", "z", "GT", "LT", "INCR", 1, "a", 2, "b"), ("ZADD", "z", "NX", "XX", 1, "a", 2),
          ("ZADD", "z", "foo", 1, "a"), ("ZADD", "z", 1, "a", "nx", "b"), ("ZADD", "str", 1, "a"),
          ("ZADD", "str", "XX", 1, "a"), ("ZADD", "str", "abc", "a"), ("ZADD", "h", 1, "a"),
          ("ZADD", "z", "INCR", "inf", "a"), ("ZADD", "z", "INCR", "-inf", "a"),
          ("ZSCORE", "z", "a"), ("ZINCRBY", "z", "inf", "a"), ("ZINCRBY", "z", "-inf", "a"))
    for bad in NOT_FLOATS:
        d("ZADD", "z", bad, "x")
        d("ZADD", "z", 1, "ok", bad, "x")  # all scores are checked before anything is added
        d("ZINCRBY", "z", bad, "x")
    d("ZRANGE", "z", 0, -1, "WITHSCORES")


def test_zadd_score_syntax_and_formatting(d):
    for i, score in enumerate(["1", "-1", "+1", "007", "1.5", ".5", "1.", "-.5e3", "1e308",
                               "-1e308", "inf", "-inf", "+inf", "Infinity", "-INF", "0x1p3",
                               "0X1.8P1", "1.1", "0.1", "1e-300", "5e-324", "123456789012345678",
                               "9007199254740993", "-0", "0", "1E2", "3.0000000000000001"]):
        d("ZADD", "z", score, f"m{i}")
        d("ZSCORE", "z", f"m{i}")
    d("ZRANGE", "z", 0, -1, "WITHSCORES")
    d("ZINCRBY", "z", "0.1", "m0")
    d("ZINCRBY", "z", "1.1", "new")
    d("ZINCRBY", "z", "-1.1", "new")
    d("ZADD", "z", "INCR", "1e308", "m8")
    d("ZADD", "z", "INCR", "1e308", "m8")  # overflows to inf: allowed
    d("ZMSCORE", "z", "m8", "new", "m0", "nope")


def test_zincrby(d):
    d.plant()
    d.run(("ZINCRBY", "z", 1, "a"), ("ZINCRBY", "z", "2.5", "a"), ("ZINCRBY", "z", "-3.5", "a"),
          ("ZINCRBY", "z", 0, "a"), ("ZINCRBY", "z", "NX", "a"), ("ZINCRBY", "z", "incr", "a"),
          ("ZINCRBY", "z", "ch", "5"), ("ZINCRBY", "z", 1, "nx"), ("ZINCRBY", "str", 1, "a"),
          ("ZINCRBY", "z", 1), ("ZINCRBY", "z", 1, "a", "b"), ("ZRANGE", "z", 0, -1, "WITHSCORES"))


# -- single members, counts ------------------------------------------------------------------------


def test_zrem_zcard_zscore_zmscore(d):
    d.plant()
    d.run(("ZADD", "z", 1, "a", 2, "b", 3, "c"), ("ZCARD", "z"), ("ZCARD", "nokey"),
          ("ZCARD", "str"), ("ZSCORE", "z", "b"), ("ZSCORE", "z", "nope"), ("ZSCORE", "nokey", "a"),
          ("ZSCORE", "str", "a"), ("ZMSCORE", "z", "a", "nope", "c"),
          ("ZMSCORE", "nokey", "a", "b"), ("ZMSCORE", "str", "a"), ("ZMSCORE", "z"),
          ("ZREM", "z", "nope"), ("ZREM", "z", "a", "a", "x"), ("ZREM", "nokey", "a"),
          ("ZREM", "str", "a"), ("ZREM", "z"), ("ZREM", "z", "b", "c", "zz"),
          ("EXISTS", "z"), ("ZCARD", "z"), ("ZSCORE", "z"), ("ZCARD", "z", "x"))


def test_zrank(d):
    d.plant()
    d.run(("ZADD", "z", 1, "a", 2, "b", 2, "bb", 3, "c"), ("ZRANK", "z", "a"), ("ZRANK", "z", "bb"),
          ("ZREVRANK", "z", "a"), ("ZREVRANK", "z", "c"), ("ZRANK", "z", "nope"),
          ("ZRANK", "nokey", "a"), ("ZREVRANK", "nokey", "a"), ("ZRANK", "str", "a"),
          ("ZREVRANK", "h", "a"), ("ZRANK", "z"), ("ZRANK", "z", "a", "b", "c"))


def test_zrank_withscore_is_redis_7_2(store):
    """7.2's WITHSCORE, and 7.2's syntax error for any other fourth argument, before the key
    is looked up (the 7.0 oracle rejects the argument count, so no differential). Five or more
    arguments get the arity error in both, checked against Redis in test_zrank."""
    e = store.execute
    e("ZADD", "z", 1, "a", "2.5", "b")
    e("SET", "str", "x")
    assert e("ZRANK", "z", "b", "WITHSCORE") == [1, b"2.5"]
    assert e("ZREVRANK", "z", "b", "withscore") == [0, b"2.5"]
    assert e("ZRANK", "z", "nope", "WITHSCORE") is None  # a null array
    assert e("ZRANK", "nokey", "a", "WITHSCORE") is None
    for argv, text in [(("ZRANK", "z", "a", "WITHSCORE", "x"),
                        "ERR wrong number of arguments for 'zrank' command"),
                       (("ZRANK", "z", "a", "foo"), "ERR syntax error"),
                       (("ZREVRANK", "z", "a", "NX"), "ERR syntax error"),
                       (("ZRANK", "z", "a", "WITHSCORES"), "ERR syntax error"),
                       (("ZRANK", "str", "a", "foo"), "ERR syntax error"),
                       (("ZREVRANK", "nokey", "a", "foo"), "ERR syntax error"),
                       (("ZREVRANK", "str", "a", "WITHSCORE"),
                        "WRONGTYPE Operation against a key holding the wrong kind of value")]:
        with pytest.raises(ResponseError) as exc:
            e(*argv)
        assert str(exc.value) == text


def test_zcount_bounds(d):
    d.plant()
    d("ZADD", "z", 1, "a", 2, "b", "2.5", "c", 3, "d", "-inf", "lo", "inf", "hi", 0, "z0")
    for lo, hi in itertools.product(SCORE_BOUNDS, ["+inf", "(3", "2", "(2", "-inf", "x", ""]):
        d("ZCOUNT", "z", lo, hi)
    for lo in SCORE_BOUNDS[:6]:
        d("ZCOUNT", "nokey", lo, "+inf")
        d("ZCOUNT", "str", lo, "+inf")
    d("ZCOUNT", "str", "x", "+inf")  # the range is parsed before the key is looked up


def test_zlexcount_bounds(d):
    d.plant()
    d("ZADD", "z", 0, "a", 0, "b", 0, "c", 0, "cc", 0, "d", 0, "", 0, "\x00", 0, "z\xff")
    for lo, hi in itertools.product(LEX_BOUNDS, LEX_BOUNDS):
        d("ZLEXCOUNT", "z", lo, hi)
    d("ZLEXCOUNT", "nokey", "-", "+")
    d("ZLEXCOUNT", "str", "-", "+")
    d("ZLEXCOUNT", "str", "x", "+")


def test_lex_ranges_with_mixed_scores_follow_the_listpack_walk(d):
    """Unspecified by Redis; for a listpack-encoded zset we answer as Redis does."""
    d("ZADD", "m", 1, "d", 2, "a", 3, "c", 4, "b", 5, "e")
    for lo, hi in itertools.product(["-", "[a", "(b", "[c", "[e", "(a"], ["+", "[b", "(d", "[e"]):
        d("ZLEXCOUNT", "m", lo, hi)
        d("ZRANGEBYLEX", "m", lo, hi)
        d("ZREVRANGEBYLEX", "m", hi, lo)
        d("ZRANGE", "m", lo, hi, "BYLEX", "LIMIT", 1, 2)


# -- ZRANGE and friends ----------------------------------------------------------------------------


def test_zrange_by_rank(d):
    d("ZADD", "z", *scores(12))
    idx = [0, 1, 5, 11, 12, 100, -1, -2, -12, -13, -100]
    for start, stop in itertools.product(idx, idx):
        d("ZRANGE", "z", start, stop)
        d("ZREVRANGE", "z", start, stop, "WITHSCORES")
    for start, stop in [(0, -1), (2, 5), (-3, -1)]:
        d("ZRANGE", "z", start, stop, "REV", "WITHSCORES")
        d("ZRANGE", "z", start, stop, "withscores", "rev")
    d("ZRANGE", "nokey", 0, -1)
    d("ZRANGE", "z", "0", "9223372036854775807")
    d("ZRANGE", "z", "-9223372036854775808", "9223372036854775807")


def test_zrange_by_score_and_lex(d):
    d("ZADD", "z", *scores(12), "-inf", "lo", "inf", "hi")
    d("ZADD", "l", *[x for c in "abcdefg" for x in (0, c)])
    limits = [(0, 2), (1, 3), (0, -1), (3, -5), (-1, 2), (0, 0), (11, 5), (100, 1), (2, 100)]
    for lo, hi in [("-inf", "+inf"), ("(-2", "2"), ("-1.5", "(1"), ("2", "-2"), ("(0", "(0"),
                   ("0", "0"), ("inf", "inf"), ("(inf", "inf"), ("x", "1")]:
        d("ZRANGEBYSCORE", "z", lo, hi)
        d("ZRANGEBYSCORE", "z", lo, hi, "WITHSCORES")
        d("ZREVRANGEBYSCORE", "z", hi, lo, "WITHSCORES")
        d("ZRANGE", "z", lo, hi, "BYSCORE")
        d("ZRANGE", "z", hi, lo, "BYSCORE", "REV", "WITHSCORES")
        for off, cnt in limits:
            d("ZRANGEBYSCORE", "z", lo, hi, "LIMIT", off, cnt)
            d("ZREVRANGEBYSCORE", "z", hi, lo, "WITHSCORES", "LIMIT", off, cnt)
            d("ZRANGE", "z", hi, lo, "BYSCORE", "REV", "LIMIT", off, cnt)
    for lo, hi in [("-", "+"), ("[b", "(f"), ("(b", "[b"), ("[c", "+"), ("+", "-"), ("x", "+")]:
        d("ZRANGEBYLEX", "l", lo, hi)
        d("ZREVRANGEBYLEX", "l", hi, lo)
        d("ZRANGE", "l", lo, hi, "BYLEX")
        d("ZRANGE", "l", hi, lo, "BYLEX", "REV")
        for off, cnt in limits:
            d("ZRANGEBYLEX", "l", lo, hi, "LIMIT", off, cnt)
            d("ZRANGE", "l", hi, lo, "BYLEX", "REV", "LIMIT", off, cnt)
    d("ZRANGEBYSCORE", "nokey", 0, 1)
    d("ZRANGEBYLEX", "nokey", "-", "+")


def test_zrange_errors(d):
    d.plant()
    d("ZADD", "z", 1, "a", 2, "b")
    for args in [("z", 0, -1, "LIMIT", 0, 1), ("z", 0, -1, "LIMIT", 0, -1),
                 ("z", 0, -1, "REV", "REV"),
                 ("z", 0, -1, "BYSCORE", "BYLEX"), ("z", 0, -1, "BYSCORE", "BYSCORE"),
                 ("z", "-", "+", "BYLEX", "WITHSCORES"), ("z", 0, -1, "LIMIT", 0),
                 ("z", 0, -1, "LIMIT"), ("z", 0, 1, "BYSCORE", "LIMIT", "x", 1),
                 ("z", 0, 1, "BYSCORE", "LIMIT", 1, "x"), ("z", 0, 1, "BYSCORE", "LIMIT", "x", "y"),
                 ("z", "a", 1), ("z", 0, "1.5"), ("z", "x", 1, "BYSCORE"), ("z", "a", "+", "BYLEX"),
                 ("z", 0, -1, "foo"), ("z", 0, -1, "LIMIT", 0, 1, "BYSCORE", "WITHSCORES", "REV"),
                 ("str", 0, -1), ("str", "x", 1), ("str", 0, 1, "BYSCORE"), ("nokey", "x", 1),
                 ("z", 0), ("nokey", 0, -1, "BYLEX")]:
        d("ZRANGE", *args)
    for cmd in ["ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX"]:
        for extra in [("REV",), ("BYSCORE",), ("BYLEX",), ("LIMIT", 0, 1), ("WITHSCORES",),
                      ("LIMIT", 0, 1, "WITHSCORES"), ("LIMIT", "a", 1)]:
            d(cmd, "z", "-inf", "+inf", *extra)
            d(cmd, "z", "-", "+", *extra)
            d(cmd, "z", 0, -1, *extra)
        d(cmd, "str", 0, 1)
        d(cmd, "z", 0)


def test_zrangestore(d, small):
    d.plant()
    d("ZADD", "z", *scores(9))
    d.run(("ZRANGESTORE", "d", "z", 0, 2), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
          ("OBJECT", "ENCODING", "d"), ("ZRANGESTORE", "d", "z", 0, -1, "REV"),
          ("OBJECT", "ENCODING", "d"), ("ZRANGE", "d", 0, -1, "WITHSCORES"),
          ("ZRANGESTORE", "d", "z", "(-2", 2, "BYSCORE", "LIMIT", 1, 3),
          ("ZRANGE", "d", 0, -1, "WITHSCORES"), ("ZRANGESTORE", "d", "z", 5, 1), ("EXISTS", "d"),
          ("ZRANGESTORE", "d", "z", 5, 1), ("ZRANGESTORE", "str", "z", 0, 0), ("TYPE", "str"),
          ("ZRANGESTORE", "d", "nokey", 0, -1), ("ZRANGESTORE", "d", "str", 0, -1),
          ("ZRANGESTORE", "d", "z", 0, -1, "WITHSCORES"), ("ZRANGESTORE", "d", "z", 0),
          ("ZRANGESTORE", "d", "z", 0, -1, "LIMIT", 0, 1), ("ZRANGESTORE", "z", "z", 0, 1),
          ("ZRANGE", "z", 0, -1, "WITHSCORES"))
    d("ZADD", "lex", 0, "a", 0, "b", 0, "c")
    d("ZRANGESTORE", "d", "lex", "[b", "+", "BYLEX")
    d("ZRANGE", "d", 0, -1)


def test_zremrange(d):
    d.plant()
    for args in [(0, 0), (-1, -1), (2, 4), (5, 1), (-100, 100), (0, -1), ("x", 1), (1, "y")]:
        d("ZADD", "z", *scores(10))
        d("ZREMRANGEBYRANK", "z", *args)
        d("ZRANGE", "z", 0, -1)
    for args in [("-inf", "+inf"), ("(0", "2"), ("2", "0"), ("(1", "(1.5"), ("x", "1"),
                 ("-1", "1")]:
        d("ZADD", "z", *scores(10))
        d("ZREMRANGEBYSCORE", "z", *args)
        d("ZRANGE", "z", 0, -1)
    for args in [("-", "+"), ("[b", "(d"), ("(b", "[b"), ("x", "+"), ("+", "-"), ("[c", "+")]:
        d("ZADD", "l", *[x for c in "abcdef" for x in (0, c)])
        d("ZREMRANGEBYLEX", "l", *args)
        d("ZRANGE", "l", 0, -1)
    for cmd, lo, hi in [("ZREMRANGEBYRANK", 0, -1), ("ZREMRANGEBYSCORE", "-inf", "inf"),
                        ("ZREMRANGEBYLEX", "-", "+")]:
        d(cmd, "nokey", lo, hi)
        d(cmd, "str", lo, hi)
        d(cmd, "str", "x", "y")
        d(cmd, "z", lo)
    d("EXISTS", "z", "l")


# -- pops, ZRANDMEMBER -----------------------------------------------------------------------------


def test_zpop(d):
    d.plant()
    d("ZADD", "z", *scores(8))
    for cmd in ["ZPOPMIN", "ZPOPMAX"]:
        d.run((cmd, "z"), (cmd, "z", 2), (cmd, "z", 0), (cmd, "z", "-1"), (cmd, "z", "abc"),
              (cmd, "z", 1, 2), (cmd, "nokey"), (cmd, "nokey", 3), (cmd, "nokey", 0),
              (cmd, "str"), (cmd, "str", 0), (cmd, "str", "abc"), (cmd, "nokey", "-1"))
    d.run(("ZPOPMIN", "z", 100), ("EXISTS", "z"), ("ZPOPMAX", "z"))
    d("ZADD", "a", 1, "x")
    d("ZADD", "b", 1, "y", 2, "z")
    for args in [(2, "a", "b", "MIN"), (2, "a", "b", "max", "COUNT", 5),
                 (3, "nokey", "str", "b", "MIN"),
                 (2, "nokey", "b", "MAX", "count", 1), (1, "nokey", "MIN"), (0, "a", "MIN"),
                 ("-1", "a", "MIN"), ("x", "a", "MIN"), (2, "a", "MIN"), (1, "a", "foo"),
                 (1, "a", "MIN", "COUNT", 0), (1, "a", "MIN", "COUNT", -1),
                 (1, "a", "MIN", "COUNT"),
                 (1, "a", "MIN", "COUNT", 1, "COUNT", 1), (1, "a", "MIN", "foo"),
                 (1, "str", "MAX"), (5, "a", "MIN"), (1, "b", "MIN", "COUNT", "x")]:
        d("ZMPOP", *args)
    d("EXISTS", "a", "b")


def test_zrandmember_exact_parts(d):
    d.plant()
    d("ZADD", "z", 1, "a", 2, "b", 3, "c")
    for args in [("z", 3), ("z", 3, "WITHSCORES"), ("z", 100, "withscores"), ("z", 0), ("nokey",),
                 ("nokey", 5), ("nokey", -5, "WITHSCORES"), ("str",), ("str", 1), ("str", 0),
                 ("z", "abc"), ("z", 1, "foo"), ("z", 1, "WITHSCORES", "x"), ("nokey", 1, "foo"),
                 ("z", "-9223372036854775808"), ("z", "-9223372036854775807", "WITHSCORES"),
                 ("nokey", "4611686018427387904", "WITHSCORES"), ("str", "-4611686018427387904",
                                                                  "WITHSCORES"),
                 ("z", "4611686018427387903", "WITHSCORES"), ("z", "-9223372036854775807", "x"),
                 ("z", "1.5")]:
        d("ZRANDMEMBER", *args)


def test_zrandmember_properties(both):
    both("ZADD", "z", *scores(50))
    e = both.store.execute
    all_ = dict(zip(e("ZRANGE", "z", 0, -1)[::1], e("ZRANGE", "z", 0, -1, "WITHSCORES")[1::2]))
    assert e("ZRANDMEMBER", "z") in all_
    for count in [1, 5, 49]:
        got = e("ZRANDMEMBER", "z", count)
        assert len(got) == len(set(got)) == count and set(got) <= set(all_)
        flat = e("ZRANDMEMBER", "z", count, "WITHSCORES")
        assert len(flat) == 2 * count and all(all_[m] == s for m, s in zip(flat[::2], flat[1::2]))
    got = e("ZRANDMEMBER", "z", -200)
    assert len(got) == 200 and set(got) <= set(all_) and len(set(got)) > 1
    flat = e("ZRANDMEMBER", "z", -7, "WITHSCORES")
    assert len(flat) == 14 and all(all_[m] == s for m, s in zip(flat[::2], flat[1::2]))


# -- ZUNION, ZINTER, ZDIFF, ZINTERCARD ----------------------------------------------------------


def test_set_algebra(d):
    d.plant()
    d.run(("ZADD", "z1", 1, "a", 2, "b", 3, "c", "inf", "i", "-inf", "n"),
          ("ZADD", "z2", 10, "b", 20, "c", 30, "d", "-inf", "i", "inf", "n", "1.1", "a"),
          ("ZADD", "z3", "0.1", "a", "0.2", "b", "0.3", "x"))
    inputs = [("z1",), ("z1", "z2"), ("z2", "z1"), ("z1", "z2", "z3"), ("z1", "s"), ("s", "z2"),
              ("z1", "nokey"), ("nokey", "z1"), ("z1", "z1"), ("nokey",), ("s", "ints", "z1")]
    for keys in inputs:
        for cmd in ["ZUNION", "ZINTER", "ZDIFF"]:
            d(cmd, len(keys), *keys, "WITHSCORES")
            d(cmd + "STORE", "dst", len(keys), *keys)
            d("ZRANGE", "dst", 0, -1, "WITHSCORES")
        d("ZINTERCARD", len(keys), *keys)
        for opts in [("WEIGHTS", *["2"] * len(keys)), ("WEIGHTS", *["0"] * len(keys)),
                     ("WEIGHTS", *["-1.5"] * len(keys), "AGGREGATE", "MIN"),
                     ("AGGREGATE", "max"), ("AGGREGATE", "MIN"), ("aggregate", "sum"),
                     ("WEIGHTS", *["inf"] * len(keys), "AGGREGATE", "SUM"),
                     ("WEIGHTS", *["-inf"] * len(keys), "AGGREGATE", "MAX"),
                     ("WEIGHTS", *["1"] * len(keys), "WEIGHTS", *["3"] * len(keys))]:
            d("ZUNION", len(keys), *keys, *opts, "WITHSCORES")
            d("ZINTER", len(keys), *keys, *opts, "WITHSCORES")
            d("ZUNIONSTORE", "dst", len(keys), *keys, *opts)
            d("ZRANGE", "dst", 0, -1, "WITHSCORES")


def test_set_algebra_errors(d):
    d.plant()
    d("ZADD", "z", 1, "a")
    for cmd in ["ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"]:
        for args in [(0, "z"), (-1, "z"), ("x", "z"), (2, "z"), (1, "z", "WEIGHTS"),
                     (1, "z", "WEIGHTS", "x"), (1, "z", "WEIGHTS", 1, 2), (1, "z", "AGGREGATE"),
                     (1, "z", "AGGREGATE", "avg"), (1, "z", "WITHSCORES", "x"), (1, "str"),
                     (2, "z", "h"), (1, "z", "LIMIT", 1), (1, "z", "LIMIT", -1),
                     (1, "z", "LIMIT", "x"),
                     (1, "str", "LIMIT", -1), (1, "z", "LIMIT"), (1, "z", "foo"),
                     (1, "z", "WEIGHTS", "nan"), (1, "z", "WITHSCORES", "WITHSCORES"),
                     (1, "z", "LIMIT", 0, "LIMIT", 5), (2, "z", "z", "WEIGHTS", 1, " 2")]:
            d(cmd, *args)
        d(cmd, 1)
    for cmd in ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]:
        for args in [(0, "z"), (1, "z", "WITHSCORES"), (1, "str"), (2, "z"), (1, "z", "WEIGHTS", 2),
                     (1, "z", "AGGREGATE", "MAX"), ("x", "z")]:
            d(cmd, "dst", *args)
        d(cmd, "dst", 1)
    d.run(("ZUNIONSTORE", "str", 1, "z"), ("TYPE", "str"), ("ZINTERSTORE", "z", 2, "z", "nokey"),
          ("EXISTS", "z"), ("ZDIFFSTORE", "nokey", 1, "nokey"), ("EXISTS", "nokey"))


def test_zintercard_limits(d):
    d("ZADD", "a", *scores(20))
    d("ZADD", "b", *scores(30))
    d("SADD", "s", *[f"m{i:03d}" for i in range(0, 40, 2)])
    for limit in [0, 1, 5, 10, 100]:
        d("ZINTERCARD", 2, "a", "b", "LIMIT", limit)
        d("ZINTERCARD", 3, "a", "b", "s", "LIMIT", limit)
        d("ZINTERCARD", 2, "a", "nokey", "LIMIT", limit)


# -- ZSCAN, encodings --------------------------------------------------------------------------


def test_zscan_small(d):
    d.plant()
    d("ZADD", "z", 1, "a", "1.5", "b", "1e18", "big", "-0", "neg0", "inf", "i", "0.1", "c",
      "4611686018427387904", "p62", "9223372036854775808", "p63", "123456789012345678", "q")
    for args in [(0,), (0, "COUNT", 1), (0, "MATCH", "*"), (0, "MATCH", "[a-c]*"),
                 (0, "MATCH", "p6?", "COUNT", 3), (0, "count", 0), (0, "COUNT", "x"),
                 (0, "MATCH"), (0, "TYPE", "zset"), (0, "foo", "bar"), ("",), ("-1",), (" 0",),
                 ("x",), ("18446744073709551616",), ("18446744073709551615",)]:
        d("ZSCAN", "z", *args)
    d("ZSCAN", "nokey", 0, "COUNT", 0)
    d("ZSCAN", "str", 0)
    d("ZSCAN", "str", "x")
    d("ZSCAN", "z")


def test_zscan_big_walks_everything_once(both, small):
    both("ZADD", "z", *scores(300), *[x for i in range(40) for x in (5, f"tie{i:02d}")])
    e = both.store.execute
    want = dict(zip(*[iter(both.oracle.execute("ZRANGE", "z", 0, -1, "WITHSCORES"))] * 2))
    for count, match in [(1, None), (10, None), (7, "m1*"), (1000, "*")]:
        seen, cursor = [], b"0"
        while True:
            opts = (["COUNT", count] if count else []) + (["MATCH", match] if match else [])
            cursor, flat = e("ZSCAN", "z", cursor, *opts)
            seen += list(zip(flat[::2], flat[1::2]))
            if cursor == b"0":
                break
        expected = {m: s for m, s in want.items() if match in (None, "*") or m.startswith(b"m1")}
        assert len(seen) == len(expected) and dict(seen) == expected
        redis_seen = {}
        cursor = b"0"
        while True:
            cursor, flat = both.oracle.execute("ZSCAN", "z", cursor, *opts)
            redis_seen.update(zip(flat[::2], flat[1::2]))
            if cursor == b"0":
                break
        assert redis_seen == expected  # same members, scores printed the same way


def test_encodings_and_zero_sign(d, small):
    d.run(("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d"), ("OBJECT", "ENCODING", "z"),
          ("ZADD", "z", "-0", "zero"), ("ZSCORE", "z", "zero"), ("OBJECT", "ENCODING", "z"),
          ("ZADD", "z", "-0", "neg0"), ("ZSCORE", "z", "neg0"), ("ZREM", "z", "a", "b", "c", "d"),
          ("OBJECT", "ENCODING", "z"), ("ZRANGE", "z", 0, -1, "WITHSCORES"),
          ("ZADD", "y", "-0", "a"),
          ("ZSCORE", "y", "a"), ("ZADD", "y", 1, "123456789"), ("OBJECT", "ENCODING", "y"),
          ("ZADD", "y", "-0", "b"), ("ZSCORE", "y", "b"), ("ZADD", "x", 1, "123456789"),
          ("OBJECT", "ENCODING", "x"), ("ZADD", "w", 1, "a", 1, "a", 1, "a", 1, "a", 1, "a"),
          ("OBJECT", "ENCODING", "w"), ("ZADD", "v", 1, "a", 2, "b", 3, "c", 4, "d", "-0", "e"),
          ("ZSCORE", "v", "e"), ("ZINCRBY", "u", "-0", "m"), ("ZSCORE", "u", "m"),
          ("ZADD", "t", "-0", "m", 1, "n"), ("ZUNIONSTORE", "d1", 1, "t"), ("ZSCORE", "d1", "m"),
          ("ZUNIONSTORE", "d2", 1, "z"), ("OBJECT", "ENCODING", "d2"), ("ZSCORE", "d2", "neg0"),
          ("ZUNION", 1, "t", "WITHSCORES"), ("ZUNION", 1, "t", "WEIGHTS", -1, "WITHSCORES"),
          ("ZUNIONSTORE", "d3", 1, "t", "WEIGHTS", -1), ("ZSCORE", "d3", "m"),
          ("ZADD", "big", *scores(5), "-0", "q"), ("ZRANGESTORE", "d4", "big", 0, -1),
          ("OBJECT", "ENCODING", "d4"), ("ZSCORE", "d4", "q"), ("ZRANGESTORE", "d5", "big", 0, 3),
          ("OBJECT", "ENCODING", "d5"), ("ZSCORE", "d5", "q"),
          ("ZRANGESTORE", "d8", "big", "-inf", "inf", "BYSCORE"), ("ZSCORE", "d8", "q"),
          ("OBJECT", "ENCODING", "d8"), ("ZRANGESTORE", "d9", "big", "-", "+", "BYLEX"),
          ("ZSCORE", "d9", "q"), ("ZINTERSTORE", "d6", 2, "z", "z"),
          ("OBJECT", "ENCODING", "d6"), ("ZDIFFSTORE", "d7", 1, "z"), ("OBJECT", "ENCODING", "d7"))


@pytest.mark.parametrize("n", [127, 128, 129])
def test_encoding_by_count(d, n):
    d("ZADD", "z", *scores(n))
    d("OBJECT", "ENCODING", "z")
    d("ZADD", "long", 1, "x" * 64)
    d("OBJECT", "ENCODING", "long")
    d("ZADD", "long2", 1, "x" * 65)
    d("OBJECT", "ENCODING", "long2")


def test_arity(d):
    for cmd, argc in [("ZADD", 3), ("ZINCRBY", 3), ("ZREM", 2), ("ZCARD", 1), ("ZSCORE", 2),
                      ("ZMSCORE", 2), ("ZRANK", 2), ("ZREVRANK", 2), ("ZCOUNT", 3),
                      ("ZLEXCOUNT", 3), ("ZRANGE", 3), ("ZRANGESTORE", 4), ("ZREVRANGE", 3),
                      ("ZRANGEBYSCORE", 3), ("ZREVRANGEBYSCORE", 3), ("ZRANGEBYLEX", 3),
                      ("ZREVRANGEBYLEX", 3), ("ZREMRANGEBYRANK", 3), ("ZREMRANGEBYSCORE", 3),
                      ("ZREMRANGEBYLEX", 3), ("ZPOPMIN", 1), ("ZPOPMAX", 1), ("ZMPOP", 3),
                      ("ZRANDMEMBER", 1), ("ZUNION", 2), ("ZINTER", 2), ("ZDIFF", 2),
                      ("ZUNIONSTORE", 3), ("ZINTERSTORE", 3), ("ZDIFFSTORE", 3),
                      ("ZINTERCARD", 2), ("ZSCAN", 2)]:
        d(cmd, *["k"] * (argc - 1))
    for cmd in ["ZCARD", "ZSCORE", "ZCOUNT", "ZLEXCOUNT", "ZINCRBY", "ZREMRANGEBYRANK"]:
        d(cmd, *["k"] * 5)


def test_command_table():
    for name, arity, first, last in [("zadd", -4, 1, 1), ("zrangestore", -5, 1, 2),
                                     ("zunionstore", -4, 1, 1), ("zunion", -3, 0, 0),
                                     ("zmpop", -4, 0, 0), ("zintercard", -3, 0, 0),
                                     ("zrank", -3, 1, 1), ("zscan", -3, 1, 1)]:
        cmd = COMMANDS[name.encode()]
        assert (cmd.arity, cmd.keyspec.first, cmd.keyspec.last) == (arity, first, last)
        assert cmd.group == "sorted-set" and cmd.summary.startswith(name.upper())
    keys = lambda name, *argv: COMMANDS[name].keys([name, *argv])  # noqa: E731
    assert keys(b"zunionstore", b"d", b"2", b"a", b"b", b"WEIGHTS", b"1", b"2") == \
        [b"d", b"a", b"b"]
    assert keys(b"zinter", b"2", b"a", b"b") == [b"a", b"b"]
    assert keys(b"zmpop", b"1", b"a", b"MIN") == [b"a"]
    assert keys(b"zintercard", b"x", b"a") == []
    assert keys(b"zrangestore", b"d", b"s", b"0", b"1") == [b"d", b"s"]


# -- notifications, effects, expiry -------------------------------------------------------------


def test_notifications_match_redis(redis_server, oracle, store):
    """The (event, key) stream equals Redis's __keyevent@0__ messages; classes are z / g."""
    seq = [("ZADD", "z", 1, "a", 2, "b", 3, "c", 4, "d"), ("ZADD", "z", 1, "a"),
           ("ZADD", "z", "INCR", 1, "a"), ("ZINCRBY", "z", 0, "a"), ("ZINCRBY", "z", 1, "q"),
           ("ZREM", "z", "nope"), ("ZREM", "z", "q"), ("ZREMRANGEBYRANK", "z", 5, 6),
           ("ZREMRANGEBYRANK", "z", 0, 0), ("ZREMRANGEBYSCORE", "z", 3, 3),
           ("ZREMRANGEBYLEX", "z", "-", "+"), ("ZADD", "z", 1, "a", 2, "b", 3, "c"),
           ("ZPOPMIN", "z"), ("ZPOPMAX", "z", 5), ("ZPOPMIN", "nokey"),
           ("ZADD", "y", 1, "a", 2, "b"), ("ZMPOP", 2, "nokey", "y", "MAX"),
           ("ZRANGESTORE", "d", "y", 0, -1), ("ZRANGESTORE", "d", "y", 5, 6),
           ("ZRANGESTORE", "d", "y", 5, 6), ("ZUNIONSTORE", "u", 1, "y"),
           ("ZINTERSTORE", "u", 2, "y", "nokey"), ("ZDIFFSTORE", "u", 1, "y"),
           ("ZADD", "w", 1, "a"), ("ZREM", "w", "a"), ("ZADD", "w", 1, "a"),
           ("ZPOPMAX", "w", 1), ("ZADD", "w", 1, "a"), ("ZMPOP", 1, "w", "MIN", "COUNT", 3)]
    events, want = keyevent_streams(redis_server, oracle, store, "Ezg", seq)
    assert [(e, k) for _, e, k in events] == want
    assert all(cls == ("g" if e == "del" else "z") for cls, e, _ in events)


def test_effects_replay_to_the_same_state():
    """ZINCRBY / ZADD INCR log themselves, as Redis propagates them (ZMPOP logs ZPOPMAX);
    replaying the log on an empty store gives the same zsets, scores bit for bit."""
    store = kvstore.open(active_expire=False)
    log = []
    store._after_write = lambda argv, effects=None: log.extend(effects or [argv])
    e = store.execute
    e("ZADD", "z", "0.1", "a", "0.2", "b")
    e("ZINCRBY", "z", "0.7", "a")
    assert log[-1] == [b"ZINCRBY", b"z", b"0.7", b"a"]
    e("ZADD", "z", "INCR", "1e-16", "b")
    assert log[-1] == [b"ZADD", b"z", b"INCR", b"1e-16", b"b"]
    e("ZADD", "z", "INCR", "1e-17", "b")  # below half an ulp: the score does not change
    e("ZADD", "z", "INCR", "NX", "1", "b")  # nothing done: nothing logged
    e("ZINCRBY", "z", "0", "b")
    assert len(log) == 3 and log[-1][-1] == b"b"
    e("ZUNIONSTORE", "u", 2, "z", "z", "WEIGHTS", "0.3", "0.7")
    e("ZPOPMIN", "u")
    e("ZADD", "y", 1, "a", 2, "b", 3, "c")
    e("ZMPOP", 1, "y", "MAX", "COUNT", 2)
    assert log[-1] == [b"ZPOPMAX", b"y", b"2"]
    e("ZRANGESTORE", "r", "z", 0, 0)
    e("ZREMRANGEBYSCORE", "y", "-inf", "inf")
    assert log[-1] == [b"ZREMRANGEBYSCORE", b"y", b"-inf", b"inf"]
    replay = kvstore.open(active_expire=False)
    for argv in log:
        replay.execute(*argv)
    for key in ["z", "u", "y", "r"]:
        assert replay.execute("ZRANGE", key, 0, -1, "WITHSCORES") == \
            e("ZRANGE", key, 0, -1, "WITHSCORES"), key
    store.close()
    replay.close()


def test_effects_on_the_context():
    store = kvstore.open(active_expire=False)
    ctx = Context(store.keyspace)
    execute(ctx, [b"ZADD", b"z", b"1", b"a"])
    assert ctx.effects is None
    execute(ctx, [b"ZINCRBY", b"z", b"1.5", b"a"])
    assert ctx.effects is None  # propagated as sent, as Redis does
    store.close()


def test_expired_keys_are_absent():
    clock = ManualClock()
    store = kvstore.open(clock=clock, active_expire=False)
    e = store.execute
    e("ZADD", "z", 1, "a", 2, "b")
    e("PEXPIRE", "z", 100)
    clock.advance(101)
    assert e("ZRANGE", "z", 0, -1) == [] and e("ZCARD", "z") == 0
    e("ZADD", "z", "XX", 5, "a")
    assert e("EXISTS", "z") == 0
    e("ZADD", "z", 3, "c")
    assert e("ZRANGE", "z", 0, -1, "WITHSCORES") == [b"c", b"3"] and e("PTTL", "z") == -1
    e("ZADD", "src", 1, "x")
    e("PEXPIRE", "src", 10)
    e("ZUNIONSTORE", "d", 1, "z")
    e("PEXPIRE", "d", 50)
    clock.advance(11)
    assert e("ZUNIONSTORE", "d", 1, "src") == 0 and e("EXISTS", "d") == 0
    e("ZADD", "d2", 1, "q")
    e("PEXPIRE", "d2", 50)
    e("ZRANGESTORE", "d2", "z", 0, -1)
    assert e("PTTL", "d2") == -1  # a stored result replaces the value and its TTL
    store.close()


def test_resp3_reply_types():
    from kvstore.replies import NULL_ARRAY, ScorePairs

    store = kvstore.open(active_expire=False)
    ctx = Context(store.keyspace)
    ctx.resp = 3
    run = lambda *argv: execute(ctx, [str(a).encode() for a in argv])  # noqa: E731
    run("ZADD", "z", 1, "a", 2, "b", 3, "c")
    assert type(run("ZRANGE", "z", 0, -1, "WITHSCORES")) is ScorePairs
    assert run("ZSCORE", "z", "a") == 1.0 and type(run("ZSCORE", "z", "a")) is float
    assert run("ZPOPMIN", "z") == [b"a", 1.0]  # no COUNT: flat, even in RESP3
    assert type(run("ZPOPMIN", "z", 1)) is ScorePairs
    assert run("ZMPOP", 1, "nokey", "MIN") is NULL_ARRAY
    assert run("ZMPOP", 1, "z", "MIN") == [b"z", [[b"c", 3.0]]]
    assert run("ZRANK", "nokey", "a", "WITHSCORE") is NULL_ARRAY
    store.close()


# -- seeded random differential -------------------------------------------------------------------


def test_random_differential(d):
    rng = random.Random(20240607)
    members = [f"m{i}" for i in range(12)] + ["a", "b", ""]
    keys = ["k1", "k2", "k3"]

    def score():
        return rng.choice([str(rng.randrange(-5, 6)), f"{rng.uniform(-3, 3):.3f}", "inf", "-inf",
                           "0", "-0"])

    def bound():
        return rng.choice(["-inf", "+inf", f"({rng.randrange(-4, 5)}", str(rng.randrange(-4, 5))])

    def lex():
        return rng.choice(["-", "+", "[" + rng.choice(members), "(" + rng.choice(members)])

    for _ in range(500):
        k = rng.choice(keys)
        op = rng.randrange(16)
        if op < 4:
            pairs = [x for _ in range(rng.randrange(1, 4)) for x in (score(), rng.choice(members))]
            opts = rng.sample(["NX", "XX", "GT", "LT", "CH"], rng.randrange(0, 2))
            d("ZADD", k, *opts, *pairs)
        elif op == 4:
            d("ZINCRBY", k, score(), rng.choice(members))
        elif op == 5:
            d("ZREM", k, *rng.sample(members, 3))
        elif op == 6:
            d("ZRANGE", k, rng.randrange(-6, 6), rng.randrange(-6, 6), "WITHSCORES")
        elif op == 7:
            d("ZRANGEBYSCORE", k, bound(), bound(), "WITHSCORES", "LIMIT", rng.randrange(0, 3),
              rng.randrange(-1, 4))
        elif op == 8:
            d("ZREVRANGEBYSCORE", k, bound(), bound())
        elif op == 9:
            d("ZRANK", k, rng.choice(members))
            d("ZREVRANK", k, rng.choice(members))
        elif op == 10:
            d("ZCOUNT", k, bound(), bound())
        elif op == 11:
            d(rng.choice(["ZPOPMIN", "ZPOPMAX"]), k, rng.randrange(0, 3))
        elif op == 12:
            d(rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]), rng.choice(keys), 2,
              *rng.sample(keys, 2))
        elif op == 13:
            d("ZREMRANGEBYSCORE", k, bound(), bound())
        elif op == 14:
            d("ZLEXCOUNT", k, lex(), lex())
        else:
            d("ZREMRANGEBYRANK", k, rng.randrange(-4, 4), rng.randrange(-4, 4))
    for k in keys:
        d("ZRANGE", k, 0, -1, "WITHSCORES")


# -- the redis-py-shaped methods ------------------------------------------------------------------


def test_methods(pair):
    assert same(pair, "zadd", "z", {"a": 1, "b": 2.5, "c": 3, "d": 4e20}) == 4
    assert same(pair, "zadd", "z", {"a": 5}, incr=True) == 6.0
    same(pair, "zadd", "z", {"a": 5}, nx=True, incr=True)
    same(pair, "zadd", "z", {"a": 7, "e": 1}, xx=True, ch=True)
    same(pair, "zadd", "z", {"a": 1}, gt=True, ch=True)
    same(pair, "zadd", "z", {"a": 1}, lt=True, ch=True)
    for kwargs in [{"nx": True, "xx": True}, {"gt": True, "lt": True}, {"incr": True},
                   {"nx": True, "gt": True}]:
        same(pair, "zadd", "z", {"a": 1, "b": 2}, **kwargs)
    same(pair, "zadd", "z", {})
    same(pair, "zadd", "l", {c: 0 for c in "abcdefg"})
    same(pair, "zadd", "y", {"b": 10, "x": 1})
    assert same(pair, "zscore", "z", "b") == 2.5
    same(pair, "zscore", "z", "nope")
    same(pair, "zincrby", "z", 1.5, "b")
    same(pair, "zcard", "z")
    same(pair, "zcount", "z", "(1", "+inf")
    same(pair, "zlexcount", "l", "[b", "(f")
    same(pair, "zmscore", "z", ["a", "nope", "b"])
    same(pair, "zmscore", "z", [])
    for m in ["a", "d", "nope"]:
        same(pair, "zrank", "z", m)
        same(pair, "zrevrank", "z", m)
    for kwargs in [{}, {"withscores": True}, {"desc": True}, {"desc": True, "withscores": True},
                   {"withscores": True, "score_cast_func": int},
                   {"byscore": True, "offset": 1, "num": 2}, {"byscore": True, "desc": True}]:
        same(pair, "zrange", "z", 0, -1, **kwargs) if not kwargs.get("byscore") else \
            same(pair, "zrange", "z", "+inf" if kwargs.get("desc") else "-inf",
                 "-inf" if kwargs.get("desc") else "+inf", **kwargs)
    same(pair, "zrange", "l", "[b", "[e", bylex=True, desc=False, offset=0, num=2)
    for kwargs in [{"byscore": True, "bylex": True}, {"offset": 1}, {"bylex": True,
                                                                      "withscores": True}]:
        same(pair, "zrange", "z", 0, -1, **kwargs)
    same(pair, "zrevrange", "z", 0, 1, withscores=True)
    same(pair, "zrangestore", "dst", "z", 0, 1)
    same(pair, "zrangestore", "dst", "z", 1, 3, byscore=True, desc=False, offset=0, num=1)
    same(pair, "zrangebyscore", "z", 1, "inf", withscores=True)
    same(pair, "zrangebyscore", "z", 1, "inf", 0, 2)
    same(pair, "zrangebyscore", "z", 1, "inf", 0)
    same(pair, "zrevrangebyscore", "z", "inf", 1, withscores=True, score_cast_func=str)
    same(pair, "zrangebylex", "l", "-", "+", 1, 3)
    same(pair, "zrevrangebylex", "l", "+", "[c")
    same(pair, "zrangebylex", "l", "-", "+", 1)
    same(pair, "zunion", ["z", "y"], withscores=True)
    same(pair, "zunion", {"z": 2, "y": 0.5}, aggregate="max", withscores=True)
    same(pair, "zunion", ["z", "y"], aggregate="avg")
    same(pair, "zinter", ["z", "y"], aggregate="MIN", withscores=True)
    same(pair, "zinter", ["z", "y"])
    same(pair, "zdiff", ["z", "y"], withscores=True)
    same(pair, "zunionstore", "u", {"z": 1, "y": 3})
    same(pair, "zinterstore", "i", ["z", "y"], aggregate="SUM")
    same(pair, "zdiffstore", "df", ["z", "y"])
    same(pair, "zintercard", 2, ["z", "y"])
    same(pair, "zintercard", 2, ["z", "y"], limit=1)
    same(pair, "zscan", "z")
    same(pair, "zscan", "z", 0, match="[ab]", count=5, score_cast_func=str)
    assert sorted(pair[1].zscan_iter("z")) == sorted(pair[0].zscan_iter("z"))
    same(pair, "zremrangebyscore", "u", 2, 3)
    same(pair, "zremrangebyrank", "u", 0, 0)
    same(pair, "zremrangebylex", "l", "-", "[b")
    same(pair, "zrem", "z", "a", "nope")
    same(pair, "zpopmin", "u")
    same(pair, "zpopmax", "u", 2)
    same(pair, "zpopmin", "nokey")
    same(pair, "zmpop", 2, ["nokey", "l"], min=True)
    same(pair, "zmpop", 1, ["l"], max=True, count=2)
    same(pair, "zmpop", 1, ["l"])
    same(pair, "zrandmember", "nokey")
    same(pair, "zrandmember", "z", 10, withscores=True)  # count >= size: the whole zset
    assert pair[1].zrandmember("z") in pair[0].zrange("z", 0, -1)
    pair[0].set("str", "v")
    pair[1].set("str", "v")
    same(pair, "zadd", "str", {"a": 1})
    same(pair, "zrange", "str", 0, 1)


def test_methods_with_decoded_responses(redis_server):
    client = redis.Redis(port=redis_server, decode_responses=True)
    store = kvstore.open(active_expire=False, decode_responses=True)
    client.flushall()
    pair = (client, store)
    try:
        same(pair, "zadd", "z", {"a": 1, "b": 2})
        same(pair, "zrange", "z", 0, -1, withscores=True)
        same(pair, "zpopmax", "z")
        same(pair, "zscan", "z")
        same(pair, "zrank", "z", "a")
    finally:
        client.close()
        store.close()


def test_zrank_withscore_method_shape():
    store = kvstore.open(active_expire=False)
    store.zadd("z", {"a": 1, "b": 2})
    assert store.zrank("z", "b", withscore=True) == [1, 2.0]
    assert store.zrevrank("z", "b", withscore=True, score_cast_func=int) == [0, 2]
    assert store.zrank("z", "nope", withscore=True) is None
    store.close()


def test_method_signatures_match_redis_py():
    import inspect

    from redis.commands.core import ScanCommands, SortedSetCommands

    names = [n for n in vars(SortedSetCommands) if n.startswith(("z", "bz"))]
    assert len(names) >= 30
    for name in names + ["zscan", "zscan_iter"]:
        if name.encode() not in COMMANDS and not name.endswith("_iter"):
            continue  # a command newer than Redis 7 (redis-py 8.2's ZMOVE)
        ours = inspect.signature(getattr(kvstore.Store, name))
        theirs = getattr(SortedSetCommands, name, None) or getattr(ScanCommands, name)
        theirs = inspect.signature(inspect.unwrap(theirs))
        assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == \
            [(p.name, p.default, p.kind) for p in theirs.parameters.values()], name


@pytest.mark.parametrize("mapping", [UserDict, MappingProxyType, lambda d: ChainMap(d)])
@pytest.mark.parametrize("method", ["zunion", "zinter", "zunionstore", "zinterstore"])
def test_aggregate_weights_from_any_mapping(pair, method, mapping):
    """Any Mapping of key -> weight gives WEIGHTS, as in redis-py (not only a dict)."""
    for target in pair:
        target.zadd("a", {"shared": 2, "left": 3})
        target.zadd("b", {"shared": 5, "right": 7})
    keys = mapping({"a": 2, "b": -1})
    if method.endswith("store"):
        same(pair, method, "dest", keys)
        same(pair, "zrange", "dest", 0, -1, withscores=True)
    else:
        same(pair, method, keys, withscores=True)


@pytest.mark.parametrize("dest", ["", b"", memoryview(b"")])
def test_zrangestore_to_an_empty_key_name(pair, dest):
    for target in pair:
        target.zadd("source", {"a": 1, "b": 2, "c": 3})
    assert same(pair, "zrangestore", dest, "source", 0, 1) == 2
    same(pair, "zrange", dest, 0, -1)
