"""SORT and SORT_RO against the real redis-server (replies and error texts), the strtod reading
of scores, the ported partial quicksort, STORE's dirty counts and notifications, the key finder,
and the redis-py-shaped methods.

Redis 7.0.15 never clears errno before SORT's strtod, so once a score overflows or underflows
(ERANGE) every later numeric SORT of a non-integer string on that server fails too, until some
system call changes errno (a new connection does: accept() ends with EAGAIN). The cases that
set ERANGE therefore each run on a fresh connection.
"""

from __future__ import annotations

import inspect
import random

import pytest
import redis

import kvstore
from kvstore.commands.pqsort import partial_sort
from kvstore.commands.sort import pattern_lookup, sort_score
from kvstore.commands.table import COMMANDS, DENYOOM, READONLY, WRITE, Context
from kvstore.engine.keyspace import Keyspace
from tests.conftest import Oracle, outcome

from .helpers import keyevent_streams, same

INT64_MAX = "9223372036854775807"
INT64_MIN = "-9223372036854775808"


def fill(both):
    """A list, an intset, a hash-table set and a sorted set of the same numbers, plus weights
    (w_*), hashes (h_*) and a key of the wrong type for patterns to find."""
    both("RPUSH", "l", "3", "1", "2", "10", "-1", "1.5", "2")
    both("SADD", "is", "3", "1", "2", "10", "-1")
    both("SADD", "s", "3", "1", "2", "10", "-1", "1.5")
    both("ZADD", "z", "5", "3", "4", "1", "3", "2", "2", "10", "1", "-1")
    both("MSET", "w_1", "30", "w_2", "-5", "w_3", "7.5", "w_10", "2", "w_-1", "7.5")
    both("HSET", "h_1", "f", "b", "g", "1")
    both("HSET", "h_2", "f", "a")
    both("HSET", "h_10", "f", "c", "g", "-3")
    both("RPUSH", "w_1.5", "not a string")


# -- sorting ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["SORT", "SORT_RO"])
def test_numeric_and_alpha_over_each_source(both, cmd):
    fill(both)
    for key in ("l", "is", "s", "z", "nokey"):
        for opts in ((), ("DESC",), ("ASC",), ("DESC", "ASC"), ("ALPHA",), ("ALPHA", "DESC"),
                     ("alpha", "desc", "alpha")):
            both(cmd, key, *opts)
    for key in ("w_1", "h_1"):
        both(cmd, key)  # WRONGTYPE


def test_equal_scores_are_ordered_by_bytes(both):
    both("RPUSH", "t", "0", "-0", "0.0", "00", "1", "1.0", "0x1", "", " 0", "-0.0", "1e0")
    both("SORT", "t")
    both("SORT", "t", "DESC")
    both("SORT", "t", "BY", "missing_*")  # every score is 0: byte order
    both("SORT", "t", "BY", "missing_*", "DESC")
    both("SORT", "t", "BY", "missing_*", "LIMIT", 2, 4)


STRTOD_ACCEPTS = [b" 1", b"\t2", b"\n2", b"\x0b2", b"\x0c2", b"\r2", b"+3", b"0x10", b"0X1p4",
                  b"inf", b"-inf", b"Infinity", b"-INF", b"1\x00x", b"1\x00", b"", b"0e-999",
                  b"1.", b".5", b"1e308", b"1.7976931348623157e308", b"0x1p-1070",
                  b"0x1.8p-1070", b"0x1p-1022", b"0x0.8p-1022", b"2.2250738585072014e-308",
                  b"2.2250738585072013e-308", b"0x1.fffffffffffff8p-1023", b"-5e-1"]
STRTOD_REFUSES = [b"1 ", b"nan", b"-nan", b"NaN", b"0x", b"infinit", b"   ", b"1e", b"--1",
                  b"abc", b"1,5", b"\x001"]
# strtod sets ERANGE for these: overflow, underflow to zero, an inexact tiny result.
STRTOD_RANGE = [b"1e400", b"-1e400", b"1.7976931348623159e308", b"0x1.fffffffffffff8p1023",
                b"1e-400", b"0x1p-1080", b"1e-310", b"-1e-310", b"4.9e-324", b"1e-320",
                b"2.2250738585072011e-308", b"0x1.fffffffffffffp-1023"]


@pytest.mark.parametrize("value", STRTOD_ACCEPTS + STRTOD_REFUSES)
def test_scores_are_read_as_strtod_reads_them(both, value):
    both("RPUSH", "t", value, "5.5", "-0", "7")
    both("SORT", "t")
    both("MSET", "w_a", value, "w_b", "5.5")
    both("RPUSH", "byw", "a", "b")
    both("SORT", "byw", "BY", "w_*")


def test_out_of_range_scores_fail(redis_server, store):
    for value in STRTOD_RANGE:
        oracle = Oracle(redis_server)  # a fresh connection: errno is not ERANGE yet
        try:
            for target in (oracle, store):
                target.execute("DEL", "t")
                target.execute("RPUSH", "t", value, "5.5")
            want = outcome(oracle.execute, "SORT", "t")
            assert want == ("err", "ERR One or more scores can't be converted into double")
            assert outcome(store.execute, "SORT", "t") == want, value
        finally:
            oracle.close()
    store.execute("RPUSH", "u", "1.5", "0.5")
    assert store.execute("SORT", "u") == [b"0.5", b"1.5"]  # no state carries over here


def test_sort_score_unit():
    assert sort_score(b"") == 0.0
    assert sort_score(b" \t-2.5e1\x00junk") == -25.0
    assert sort_score(b"0x1p-1070") == 2.0 ** -1070
    for value in (b"1e-310", b"nan", b"1 ", b" ", b"inf1"):
        with pytest.raises(ValueError):
            sort_score(value)


def test_alpha_compares_bytes_and_strcoll_stops_at_nul(both):
    both("RPUSH", "a", "\xff", "z", "\x80", "Z", "a", "B", "b", "_", "1", "\x01", "é", "€")
    both("SORT", "a", "ALPHA")
    both("SORT", "a", "ALPHA", "DESC")
    both("SORT", "a")  # not numbers
    # Without STORE Redis compares with strcoll (C strings: equal up to a NUL), with STORE
    # with memcmp; equal strings keep their order.
    both("RPUSH", "n", b"a\x00c", b"a\x00b", b"a", b"a\x00a", b"b", b"a\x00b")
    both("SORT", "n", "ALPHA")
    both("SORT", "n", "ALPHA", "DESC")
    both("SORT", "n", "ALPHA", "STORE", "dst")
    both("LRANGE", "dst", 0, -1)
    both("SORT", "n", "ALPHA", "DESC", "STORE", "dst")
    both("LRANGE", "dst", 0, -1)


# -- LIMIT --------------------------------------------------------------------------------------

LIMITS = [(0, 0), (0, 1), (2, 3), (-5, 2), (2, -5), (-1, -1), (6, 1), (7, 1), (1, 100),
          (INT64_MAX, INT64_MAX), (INT64_MIN, 2), (1, INT64_MAX), (INT64_MIN, INT64_MIN), (3, 0)]


@pytest.mark.parametrize("offset,count", LIMITS)
def test_limit_is_clamped(both, offset, count):
    fill(both)
    for key in ("l", "z", "is", "nokey"):
        for opts in ((), ("DESC",), ("ALPHA",), ("BY", "w_*"), ("BY", "w_*", "ALPHA", "DESC"),
                     ("BY", "nosort"), ("BY", "nosort", "DESC")):
            both("SORT", key, "LIMIT", offset, count, *opts)
    both("SORT", "l", "LIMIT", 0, 1, "LIMIT", offset, count)  # the last LIMIT wins
    both("SORT", "l", "LIMIT", offset, count, "STORE", "dst")
    both("LRANGE", "dst", 0, -1)


# -- BY and GET ---------------------------------------------------------------------------------

def test_by_patterns(both):
    fill(both)
    for key in ("l", "is", "z"):
        for by in ("w_*", "h_*->f", "h_*->g", "h_*->", "w_*->f", "*", "h_*->missing", "x*y",
                   "w_1*", "nosort", "#", "w_1"):
            for opts in ((), ("ALPHA",), ("DESC",), ("ALPHA", "DESC")):
                # ALPHA ties in a sorted set keep Redis's dict order: compare contents only
                both("SORT", key, "BY", by, *opts, sort=key == "z" and "ALPHA" in opts)
    # One pattern without `*` turns sorting off for good, whatever BY comes after.
    both("SORT", "l", "BY", "nosort", "BY", "w_*")
    both("SORT", "l", "BY", "w_*", "BY", "nosort")
    both("SORT", "l", "BY", "w_*", "BY", "h_*->f", "ALPHA")


def test_by_nosort_keeps_list_and_zset_order(both):
    fill(both)
    for key in ("l", "z"):
        both("SORT", key, "BY", "nosort")
        both("SORT", key, "BY", "nosort", "DESC")
        both("SORT", key, "BY", "nosort", "DESC", "LIMIT", 1, 3)
        both("SORT", key, "BY", "nosort", "LIMIT", 2, 10, "GET", "#", "GET", "w_*")
    both("SORT", "is", "BY", "nosort")  # an intset iterates in ascending order
    both("SORT", "is", "BY", "nosort", "DESC", "LIMIT", 1, 2)
    # A hash-table set iterates in hash order: only its contents compare.
    both("SORT", "s", "BY", "nosort", sort=True)
    # With STORE Redis sorts a set ALPHA, so replicas store the same list.
    both("SORT", "s", "BY", "nosort", "STORE", "dst")
    both("LRANGE", "dst", 0, -1)
    both("SORT", "s", "BY", "nosort", "DESC", "LIMIT", 1, 3, "STORE", "dst")
    both("LRANGE", "dst", 0, -1)


def test_get_patterns(both):
    fill(both)
    gets = ["#", "w_*", "h_*->f", "h_*->g", "missing_*", "nostar", "w_*->f", "h_*->", "w_1.*"]
    for key in ("l", "is", "z"):
        both("SORT", key, *[x for g in gets for x in ("GET", g)])
        both("SORT", key, "BY", "w_*", "GET", "#", "GET", "#", "DESC")
        both("SORT_RO", key, "GET", "h_*->f", "ALPHA", "LIMIT", 1, 2)
    both("SORT", "nokey", "GET", "#")
    both("SET", b"k\x00*", "nul")
    both("RPUSH", "e", "x")
    both("SORT", "e", "GET", b"k\x00*", "GET", b"#\x00x", "GET", b"w_*\x00->f", "BY", b"q\x00*")


def test_patterns_read_the_current_database(both):
    both("RPUSH", "l", "2", "1")
    both("SELECT", 1)
    both("RPUSH", "l", "1", "2")
    both("MSET", "w_1", "9", "w_2", "3")
    both("SORT", "l", "BY", "w_*", "GET", "w_*")
    both("SELECT", 0)
    both("SORT", "l", "BY", "w_*", "GET", "w_*")


def test_pattern_lookup_unit():
    ks = Keyspace()
    ks.dbs[0].add(b"a1b", b"v")
    ctx = Context(ks)
    assert pattern_lookup(b"#")(ctx, b"el") == b"el"
    assert pattern_lookup(b"a*b")(ctx, b"1") == b"v"
    assert pattern_lookup(b"a*b")(ctx, b"2") is None
    assert pattern_lookup(b"ab")(ctx, b"1") is None
    assert (ks.hits, ks.misses) == (1, 1)  # lookups Redis counts (lookupKeyRead)


# Weights (one letter per element, "-" for none) and LIMIT windows where a partition of Redis
# 7.0's partial quicksort swaps nothing, which later versions finish by insertion sort instead.
PQSORT_CASES = [("abbcaaa", 3, 1), ("ecaaeccdecdddaacabceecceeace", 3, 4),
                ("-de-ab-----edad--c--d----d-ea-ada--ee---ea", 22, 5)]


@pytest.mark.parametrize("weights,offset,count", PQSORT_CASES)
def test_alpha_by_ties_in_partitions_without_swaps(both, weights, offset, count):
    elements = [f"e{i}" for i in range(len(weights))]
    both("RPUSH", "m", *elements)
    for element, weight in zip(elements, weights):
        if weight != "-":
            both("SET", "wt_" + element, weight)
    for opts in ((), ("DESC",)):
        both("SORT", "m", "BY", "wt_*", "ALPHA", "LIMIT", offset, count, *opts)


def test_alpha_by_ties_follow_redis_partial_quicksort(both):
    """Missing and equal BY values tie; with a narrowing LIMIT Redis's unstable partial
    quicksort orders them (lists only: a set or zset loads in Redis's dict order). Half the
    lists come nearly sorted by weight, where partitions find nothing to swap."""
    rng = random.Random(20)
    weights = ["", "a", "b", "c", "a\x00x", "a\x00y"]
    for trial in range(80):
        both("DEL", "m")
        n = rng.randint(1, 120)
        elements = [f"e{i}" for i in range(n)]
        picks = [rng.randrange(len(weights)) for _ in range(n)]
        if trial % 2:
            picks.sort()
            for _ in range(rng.randint(0, 3)):
                i, j = rng.randrange(n), rng.randrange(n)
                picks[i], picks[j] = picks[j], picks[i]
        both("RPUSH", "m", *elements)
        for element, pick in zip(elements, picks):
            if pick:
                both("SET", "wt_" + element, weights[pick])
            else:
                both("DEL", "wt_" + element)
        offset = rng.randint(-2, n + 2)
        count = rng.choice([rng.randint(-2, 10), rng.randint(-2, n + 2)])
        for opts in ((), ("DESC",), ("STORE", "dst")):
            both("SORT", "m", "BY", "wt_*", "ALPHA", "LIMIT", offset, count, *opts)
        both("LRANGE", "dst", 0, -1)


def test_partial_sort_sorts_the_window():
    rng = random.Random(3)
    for n in (0, 1, 6, 7, 8, 40, 41, 300):
        ranks = [rng.randint(0, 9) for _ in range(n)]
        for first, last in ((0, n - 1), (n // 3, n // 2), (n - 1, n - 1)):
            order = partial_sort(ranks, first, last)
            assert sorted(order) == list(range(n))
            got = [ranks[i] for i in order]
            assert got[first:last + 1] == sorted(ranks)[first:last + 1]


# -- STORE --------------------------------------------------------------------------------------

def test_store(both):
    fill(both)
    both("SET", "dst", "old", "EX", 100)
    assert both("SORT", "l", "STORE", "dst") == 7
    both("TTL", "dst")
    both("LRANGE", "dst", 0, -1)
    both("OBJECT", "ENCODING", "dst")
    for old in (("SADD", "dst", "x"), ("HSET", "dst", "f", "v"), ("ZADD", "dst", 1, "m")):
        both("DEL", "dst")
        both(*old)
        both("SORT", "z", "BY", "w_*", "GET", "#", "GET", "h_*->f", "STORE", "dst")
        both("LRANGE", "dst", 0, -1)
    both("SORT", "l", "STORE", "l")  # the source itself
    both("LRANGE", "l", 0, -1)
    both("SORT", "nokey", "STORE", "dst")  # an empty result deletes the destination
    both("EXISTS", "dst")
    both("SORT", "l", "LIMIT", 0, 0, "STORE", "nodst")
    both("EXISTS", "nodst")
    both("SORT", "l", "STORE", "a", "STORE", "b")
    both("EXISTS", "a", "b")


def test_errors(both):
    fill(both)
    for args in (("FOO",), ("LIMIT",), ("LIMIT", 1), ("BY",), ("GET",), ("STORE",),
                 ("LIMIT", "x", 1), ("LIMIT", 1, "x"), ("LIMIT", "1.5", 1),
                 ("LIMIT", "9223372036854775808", 1), ("ASC", "FOO"), ("GET", "#", "BY")):
        both("SORT", "l", *args)
        both("SORT", "w_1", *args)  # option errors come before WRONGTYPE
        both("SORT_RO", "l", *args)
    both("SORT_RO", "l", "STORE", "dst")
    both("SORT")
    both("SORT_RO")
    both("RPUSH", "bad", "1", "x")
    both("SET", "dst", "keep")
    both("SORT", "bad", "STORE", "dst")  # a score error stores nothing
    both("GET", "dst")
    both("SORT", "bad", "ALPHA", "STORE", "dst")


def test_sort_converts_a_small_zset_to_a_skiplist(both):
    both("ZADD", "z", 1, "a", 2, "b")
    both("OBJECT", "ENCODING", "z")
    both("SORT_RO", "z", "ALPHA")
    both("OBJECT", "ENCODING", "z")
    both("ZADD", "z2", 1, "a")
    both("SORT", "z2", "FOO")  # a syntax error reads nothing
    both("OBJECT", "ENCODING", "z2")
    both("SORT", "z2", "BY", "nosort")
    both("OBJECT", "ENCODING", "z2")


# -- the table, dirty counts, notifications -----------------------------------------------------

def test_command_table_and_getkeys(both):
    sort, sort_ro = COMMANDS[b"sort"], COMMANDS[b"sort_ro"]
    assert (sort.arity, sort.flags, sort.group) == (-2, WRITE | DENYOOM, "generic")
    assert (sort_ro.arity, sort_ro.flags, sort_ro.group) == (-2, READONLY, "generic")
    for args in (("SORT", "k"), ("SORT", "k", "STORE", "d"),
                 ("SORT", "k", "STORE", "a", "STORE", "b"),
                 ("SORT", "k", "BY", "store", "GET", "store", "LIMIT", "store", "store", "x"),
                 ("SORT", "k", "STORE", "limit", "x"), ("SORT", "k", "store"),
                 ("SORT", "k", "STORE", "d", "LIMIT"), ("SORT_RO", "k", "STORE", "d"),
                 ("SORT_RO", "k", "BY", "w_*")):
        both("COMMAND", "GETKEYS", *args)


def test_dirty_counts():
    s = kvstore.open(active_expire=False)
    ks = s.keyspace

    def dirty(*args):
        before = ks.dirty
        s.execute(*args)
        return ks.dirty - before

    s.execute("RPUSH", "l", "2", "1", "3")
    assert dirty("SORT", "l") == 0
    assert dirty("SORT_RO", "l", "GET", "#") == 0
    assert dirty("SORT", "l", "STORE", "d") == 3
    assert dirty("SORT", "l", "GET", "#", "GET", "x_*", "STORE", "d") == 6
    assert dirty("SORT", "nokey", "STORE", "d") == 1
    assert dirty("SORT", "nokey", "STORE", "d") == 0
    s.close()


def test_store_is_logged_as_its_result_when_patterns_read_keys():
    s = kvstore.open(active_expire=False)
    s.execute("RPUSH", "l", "2", "1")
    s.execute("SET", "w_1", "9", "PX", 1000)

    def effects(*args):
        s.execute(*args)
        return s._ctx.effects

    assert effects("SORT", "l", "STORE", "d") is None  # the source alone: logged as sent
    assert effects("SORT", "l", "BY", "nosort", "GET", "#", "STORE", "d") is None
    assert effects("SORT", "l", "BY", "w_*", "STORE", "d") == [
        [b"DEL", b"d"], [b"RPUSH", b"d", b"2", b"1"]]
    assert effects("SORT", "l", "GET", "w_*", "STORE", "d") == [
        [b"DEL", b"d"], [b"RPUSH", b"d", b"9", b""]]
    s.execute("RPUSH", "big", *range(2500))
    batches = effects("SORT", "big", "BY", "nosort", "GET", "x_*", "STORE", "d")
    assert [len(b) - 2 for b in batches[1:]] == [1024, 1024, 452]
    s.close()


def test_notifications(redis_server, oracle, store):
    seq = [("RPUSH", "l", "2", "1"), ("SORT", "l"), ("SORT", "l", "STORE", "d"),
           ("SORT", "l", "STORE", "d"), ("SORT", "nokey", "STORE", "d"),
           ("SORT", "nokey", "STORE", "d"), ("SET", "s", "x"), ("SORT", "l", "STORE", "s")]
    events, want = keyevent_streams(redis_server, oracle, store, "KEA", seq)
    assert [(e, k) for _, e, k in events] == want
    assert [(c, e) for c, e, _ in events if e in ("sortstore", "del")] == [
        ("l", "sortstore"), ("l", "sortstore"), ("g", "del"), ("l", "sortstore")]


# -- the redis-py-shaped methods ----------------------------------------------------------------

def test_methods(pair):
    for target in pair:
        target.rpush("l", "3", "1", "2")
        target.mset({"w_1": "c", "w_2": "a", "w_3": "b", "o_1": "x", "o_3": "z"})
    assert same(pair, "sort", "l") == [b"1", b"2", b"3"]
    same(pair, "sort", "l", 1, 2)
    same(pair, "sort", "l", start=0, num=1, desc=True)
    same(pair, "sort", "l", by="w_*", alpha=True)
    same(pair, "sort", "l", by="nosort", desc=True)
    same(pair, "sort", "l", get="o_*")
    same(pair, "sort", "l", get=["#", "o_*"])
    assert same(pair, "sort", "l", get=["#", "o_*", "w_*"], groups=True) == [
        (b"1", b"x", b"c"), (b"2", None, b"a"), (b"3", b"z", b"b")]
    same(pair, "sort", "nokey", get=["#", "o_*"], groups=True)
    assert same(pair, "sort", "l", by="w_*", alpha=True, store="dst") == 3
    same(pair, "lrange", "dst", 0, -1)
    same(pair, "sort_ro", "l", 0, 2, by="w_*", get="#", desc=True, alpha=True)
    same(pair, "sort_ro", "nokey")
    same(pair, "sort", "w_1")
    # redis-py's own checks, before anything is sent
    same(pair, "sort", "l", start=1)
    same(pair, "sort", "l", num=1)
    same(pair, "sort_ro", "l", num=1)
    same(pair, "sort", "l", groups=True)
    same(pair, "sort", "l", get="#", groups=True)
    same(pair, "sort", "l", get=["#"], groups=True)


def test_groups_with_store_return_the_count():
    s = kvstore.open(active_expire=False)
    s.rpush("l", "1", "2")
    assert s.sort("l", get=["#", "#"], groups=True, store="d") == 4
    s.close()


@pytest.mark.parametrize("name", ["sort", "sort_ro"])
def test_method_signatures_match_redis_py(name):
    from kvstore.methods.keys import KeyMethods

    def shape(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert shape(getattr(KeyMethods, name)) == shape(getattr(redis.Redis, name))
