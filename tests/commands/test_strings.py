"""String and bit commands against the real redis-server: replies, error texts and their
precedence, dirty counts (Redis's `rdb_changes_since_last_save`), TTLs, AOF effects, and the
redis-py-shaped methods.

The string family must not depend on other families, so non-string values are planted directly
in the embedded keyspace (and created with HSET / RPUSH on Redis), and TTLs are read from
`db.expires` rather than with TTL / PTTL.
"""

from __future__ import annotations

import datetime
import inspect
import itertools
import random

import pytest
import redis
from redis.commands.core import BasicKeyCommands

import kvstore
from kvstore.engine import Hash, List, ManualClock
from kvstore.errors import ResponseError
from kvstore.methods.strings import StringMethods

from .helpers import argv_of

BIG = "9223372036854775807"
SMALL = "-9223372036854775808"
NOT_INTS = ["abc", "1.5", "", " 1", "1 ", "+1", "01", "-0", "0x10", "9223372036854775808",
            "-9223372036854775809", "1e3"]


# -- helpers -------------------------------------------------------------------------------------


class Diff:
    """`both`, plus: kvstore's dirty delta must equal Redis's (a write that changes nothing, or
    only met an expired key, must not count)."""

    def __init__(self, both):
        self.both = both
        self.oracle = both.oracle
        self.store = both.store
        self.ks = both.store.keyspace

    def redis_dirty(self) -> int:
        info = self.oracle.execute("INFO", "persistence").decode()
        return int(info.split("rdb_changes_since_last_save:")[1].split()[0])

    def __call__(self, *args, **kwargs):
        before_redis = self.redis_dirty()
        before = self.ks.dirty
        result = self.both(*args, **kwargs)
        changed = self.ks.dirty - before
        assert changed == self.redis_dirty() - before_redis, f"dirty of {args!r}"
        return result

    def plant(self, key: str, kind: str = "hash") -> None:
        """A non-string value under key, on both sides, without using other families."""
        db = self.store.keyspace.dbs[0]
        if kind == "hash":
            self.oracle.execute("HSET", key, "f", "v")
            value = Hash()
            value[b"f"] = b"v"
        else:
            self.oracle.execute("RPUSH", key, "a")
            value = List([b"a"])
        db.set_value(key.encode(), value)

    def pttl(self, key: str) -> None:
        """Assert both sides agree on a key's remaining TTL."""
        assert_same_pttl(key, self.oracle.execute("PTTL", key), self.store)


def assert_same_pttl(key: str, want: int, store: kvstore.Store) -> None:
    """`want` is Redis's PTTL of key (-2 absent, -1 no TTL, else ms); the store's must agree,
    within a second for a relative TTL set at slightly different instants."""
    db = store.keyspace.dbs[0]
    now = store.keyspace.clock()
    k = key.encode()
    if db.lookup(k, now) is None:
        got = -2
    else:
        when = db.expires.get(k)
        got = -1 if when is None else when - now
    if want < 0 or got < 0:
        assert got == want, f"PTTL {key}: kvstore {got} != redis {want}"
    else:
        assert abs(got - want) < 1000, f"PTTL {key}: kvstore {got} != redis {want}"


@pytest.fixture
def d(both):
    return Diff(both)


def effects_of(store, *args):
    """Run one command on the embedded store; return (reply, the effects it would log)."""
    reply = store.execute(*args)
    return reply, store._ctx.effects


# -- GET / SET -----------------------------------------------------------------------------------


def test_get_and_plain_set(d):
    d("GET", "k")
    d("SET", "k", "v")
    d("GET", "k")
    d("SET", "k", b"\x00\xff\r\n")
    d("GET", "k")
    d("SET", "", "")
    d("GET", "")
    d.plant("h")
    d("GET", "h")
    d("SET", "h", "now a string")
    d("GET", "h")


def test_set_conditions_and_get(d):
    d("SET", "k", "v", "NX")
    d("SET", "k", "w", "NX")
    d("SET", "k", "w", "XX")
    d("SET", "missing", "w", "XX")
    d("SET", "k", "x", "XX", "GET")
    d("SET", "k", "y", "NX", "GET")
    d("SET", "new", "y", "NX", "GET")
    d("SET", "new2", "y", "XX", "GET")
    d("SET", "k", "z", "GET", "GET")
    d("SET", "k", "z", "NX", "NX")
    d("SET", "k", "z", "xx", "Xx")
    d("SET", "k", "z", "NX", "XX")
    d("SET", "k", "z", "XX", "NX")
    d("GET", "k")
    d.plant("h")
    d("SET", "h", "v", "GET")
    d("SET", "h", "v", "NX", "GET")
    d("SET", "h", "v", "NX")
    d("SET", "h", "v", "XX", "GET")
    d("SET", "h", "v", "XX")
    d("GET", "h")


def test_set_expire_options(d):
    d("SET", "k", "v", "EX", "100")
    d.pttl("k")
    d("SET", "k", "v", "PX", "100000")
    d.pttl("k")
    d("SET", "k", "v", "EX", "10", "EX", "200")
    d.pttl("k")
    d("SET", "k", "v", "EX", "abc", "EX", "300")  # only the last argument counts
    d.pttl("k")
    d("SET", "k", "v", "KEEPTTL", "KEEPTTL")
    d.pttl("k")
    d("SET", "k", "v2", "keepttl", "XX", "GET")
    d.pttl("k")
    d("SET", "k", "v3")
    d.pttl("k")
    d("SET", "k", "v", "EXAT", "99999999999")
    d.pttl("k")
    d("SET", "k", "v", "PXAT", "99999999999999")
    d.pttl("k")
    d("SET", "k", "v", "PXAT", BIG)
    d.pttl("k")
    d("SET", "k", "v", "EXAT", "9223372036854775")
    d.pttl("k")
    d("SET", "k", "v", "ex", "5", "nx")
    d("SET", "k", "v", "pX", "5000", "xx", "get")
    d.pttl("k")


def test_set_expire_errors(d):
    d("SET", "k", "old")
    for opt in ("EX", "PX", "EXAT", "PXAT"):
        for bad in ["0", "-1", SMALL, *NOT_INTS]:
            d("SET", "k", "v", opt, bad)
            d("SET", "k", "v", opt, bad, "GET")
        d("SET", "k", "v", opt)
        d("SET", "k", "v", opt, "10", "KEEPTTL")
        d("SET", "k", "v", "KEEPTTL", opt, "10")
    d("SET", "k", "v", "EX", "9223372036854776")       # seconds * 1000 overflows
    d("SET", "k", "v", "EXAT", "9223372036854776")
    d("SET", "k", "v", "PX", BIG)                        # now + ms overflows
    d("SET", "k", "v", "EX", "9223372036854775")         # fits, but now + it does not
    d("SET", "k", "v", "EX", "10", "PX", "10")
    d("SET", "k", "v", "PXAT", "10", "EXAT", "10")
    d("SET", "k", "v", "EX", "10", "EXAT", "10")
    d("SET", "k", "v", "NOPE")
    d("SET", "k", "v", "GET", "NOPE")
    d("SET", "k", "v", "PERSIST")
    d("GET", "k")
    d.plant("h")
    d("SET", "h", "v", "GET", "EX", "-1")                 # the expire time is checked first
    d("SET", "h", "v", "GET", "EX", "abc")


def test_set_absolute_time_in_the_past(d):
    d("SET", "k", "old")
    d("SET", "k", "v", "EXAT", "1", "GET")
    d("GET", "k")
    d.pttl("k")
    d("SET", "k", "v", "PXAT", "1")
    d("SET", "k", "again", "NX", "GET")
    d("GET", "k")


SET_OPTIONS = [("NX",), ("XX",), ("GET",), ("EX", "100"), ("PX", "100000"),
               ("EXAT", "99999999999"), ("PXAT", "99999999999999"), ("EXAT", "1"), ("KEEPTTL",)]


def prepare(d, key: str, state: str) -> None:
    if state == "string":
        d.both("SET", key, "old")
    elif state == "volatile":
        d.both("SET", key, "old", "EX", "500")
    elif state == "hash":
        d.plant(key)


@pytest.mark.parametrize("state", ["missing", "string", "volatile", "hash"])
def test_set_every_option_combination(d, state):
    """Every ordered choice of up to three options, on each kind of key: reply, value, TTL."""
    combos = [c for n in (1, 2, 3) for c in itertools.permutations(SET_OPTIONS, n)]
    for i, combo in enumerate(combos):
        key = f"k{i}"
        prepare(d, key, state)
        d.both("SET", key, "new", *itertools.chain(*combo))
        d.both("MGET", key)
        d.pttl(key)


@pytest.mark.parametrize("state", ["missing", "string", "volatile", "hash"])
def test_getex_every_option_combination(d, state):
    options = [("EX", "100"), ("PX", "100000"), ("EXAT", "99999999999"),
               ("PXAT", "99999999999999"), ("EXAT", "1"), ("PXAT", "1"), ("PERSIST",)]
    combos = [()] + [c for n in (1, 2) for c in itertools.permutations(options, n)]
    for i, combo in enumerate(combos):
        key = f"k{i}"
        prepare(d, key, state)
        d.both("GETEX", key, *itertools.chain(*combo))
        d.both("MGET", key)
        d.pttl(key)


def test_set_arity_and_case(d):
    d("SET")
    d("SET", "k")
    d("set", "k", "v")
    d("sEt", "k", "v", "Ex", "10", "gEt")


def test_set_effects_are_absolute(timed, clock):
    now = clock.now
    assert effects_of(timed, "SET", "k", "v") == (b"OK", None)
    assert effects_of(timed, "SET", "k", "v", "EX", 10) == (
        b"OK", [[b"SET", b"k", b"v", b"PXAT", b"%d" % (now + 10_000)]])
    assert effects_of(timed, "SET", "k", "v", "PXAT", 5, "GET")[1] == [
        [b"SET", b"k", b"v", b"PXAT", b"5"]]
    assert effects_of(timed, "SET", "nope", "v", "XX", "EX", 10) == (None, None)


# -- SETNX / SETEX / PSETEX / GETSET ---------------------------------------------------------------


def test_setnx(d):
    d("SETNX", "k", "v")
    d("SETNX", "k", "w")
    d("GET", "k")
    d.plant("h")
    d("SETNX", "h", "v")
    d("GET", "h")
    d("SET", "t", "v", "PXAT", "1")
    d("SETNX", "t", "new")
    d("GET", "t")
    d.pttl("t")
    d("SETNX", "k")
    d("SETNX", "k", "v", "x")


@pytest.mark.parametrize("cmd", ["SETEX", "PSETEX"])
def test_setex_and_psetex(d, cmd):
    d(cmd, "k", "100000", "v")
    d("GET", "k")
    d.pttl("k")
    d.plant("h")
    d(cmd, "h", "100000", "v")
    d("GET", "h")
    for bad in ["0", "-1", SMALL, *NOT_INTS]:
        d(cmd, "k", bad, "w")
    d(cmd, "k", BIG, "w")
    d(cmd, "k", "9223372036854775", "w")
    d("GET", "k")
    d(cmd, "k", "10")
    d(cmd, "k", "10", "v", "x")
    d(cmd.lower(), "k", "10", "v")


def test_setex_effects(timed, clock):
    now = clock.now
    assert effects_of(timed, "SETEX", "k", 10, "v") == (
        b"OK", [[b"SET", b"k", b"v", b"PXAT", b"%d" % (now + 10_000)]])
    assert effects_of(timed, "PSETEX", "k", 10, "v")[1] == [
        [b"SET", b"k", b"v", b"PXAT", b"%d" % (now + 10)]]


def test_getset(d):
    d("GETSET", "k", "v")
    d("GETSET", "k", "w")
    d("GET", "k")
    d("SET", "t", "v", "EX", "100")
    d("GETSET", "t", "x")
    d.pttl("t")
    d.plant("h")
    d("GETSET", "h", "v")
    d("GET", "h")
    d("GETSET", "k")


# -- MGET / MSET / MSETNX --------------------------------------------------------------------------


def test_mget(d):
    d("MSET", "a", "1", "b", "2")
    d.plant("h")
    d("MGET", "a")
    d("MGET", "a", "nope", "h", "b", "a")
    d("MGET", "nope")
    d("MGET")


def test_mset(d):
    d("SET", "t", "v", "EX", "100")
    d("MSET", "t", "1", "a", "2", "a", "3")
    d("MGET", "t", "a")
    d.pttl("t")
    d.plant("h")
    d("MSET", "h", "s")
    d("GET", "h")
    d("MSET", "a", "1", "b")
    d("MSET", "a")
    d("MSET")
    d("mset", "a", "1", "b")


def test_msetnx(d):
    d("MSETNX", "a", "1", "b", "2")
    d("MSETNX", "b", "x", "c", "3")
    d("MGET", "a", "b", "c")
    d("MSETNX", "c", "1", "c", "2")
    d("GET", "c")
    d.plant("h")
    d("MSETNX", "d", "1", "h", "2")
    d("GET", "d")
    d("MSETNX", "a", "1", "b")
    d("msetnx", "a")


# -- GETDEL / GETEX --------------------------------------------------------------------------------


def test_getdel(d):
    d("GETDEL", "k")
    d("SET", "k", "v", "EX", "100")
    d("GETDEL", "k")
    d("GET", "k")
    d.pttl("k")
    d.plant("h")
    d("GETDEL", "h")
    d("MGET", "h")
    d("GETDEL")
    d("GETDEL", "k", "x")


def test_getex_options(d):
    d("SET", "k", "v")
    d("GETEX", "k")
    d.pttl("k")
    d("GETEX", "k", "EX", "100")
    d.pttl("k")
    d("GETEX", "k", "px", "200000")
    d.pttl("k")
    d("GETEX", "k", "EX", "10", "EX", "300")
    d.pttl("k")
    d("GETEX", "k", "EXAT", "99999999999")
    d.pttl("k")
    d("GETEX", "k", "PXAT", "99999999999999")
    d.pttl("k")
    d("GETEX", "k", "PERSIST")
    d.pttl("k")
    d("GETEX", "k", "PERSIST", "persist")
    d.pttl("k")
    d("GETEX", "k", "EXAT", "1")
    d("GET", "k")
    d.pttl("k")
    d("SET", "k", "v")
    d("GETEX", "k", "PXAT", "1")
    d("GETEX", "k")


def test_getex_errors_and_their_order(d):
    d("SET", "k", "v")
    for opt in ("EX", "PX", "EXAT", "PXAT"):
        for bad in ["0", "-1", *NOT_INTS]:
            d("GETEX", "k", opt, bad)
            d("GETEX", "missing", opt, bad)  # nil: the key is looked up before the time
        d("GETEX", "k", opt)
        d("GETEX", "k", opt, "10", "PERSIST")
        d("GETEX", "k", "PERSIST", opt, "10")
    d("GETEX", "k", "EX", "10", "PX", "10")
    d("GETEX", "k", "EX", "9223372036854776")
    d("GETEX", "k", "PX", BIG)
    for opt in ("NX", "XX", "GET", "KEEPTTL", "nope"):
        d("GETEX", "k", opt)
        d("GETEX", "missing", opt)  # options are parsed before the lookup
    d.plant("h")
    d("GETEX", "h")
    d("GETEX", "h", "EX", "abc")
    d("GETEX", "h", "EX", "10", "PX", "10")
    d("GETEX")
    d.pttl("k")


def test_getex_effects(timed, clock):
    now = clock.now
    timed.execute("SET", "k", "v")
    assert effects_of(timed, "GETEX", "k") == (b"v", None)
    assert effects_of(timed, "GETEX", "k", "PERSIST") == (b"v", None)
    assert effects_of(timed, "GETEX", "k", "EX", 10)[1] == [
        [b"PEXPIREAT", b"k", b"%d" % (now + 10_000)]]
    assert effects_of(timed, "GETEX", "k", "PXAT", now + 5)[1] == [
        [b"PEXPIREAT", b"k", b"%d" % (now + 5)]]
    assert effects_of(timed, "GETEX", "k", "PERSIST")[1] == [[b"PERSIST", b"k"]]
    assert effects_of(timed, "GETEX", "k", "PXAT", now) == (b"v", [[b"DEL", b"k"]])
    assert timed.get("k") is None


# -- APPEND / STRLEN -------------------------------------------------------------------------------


def test_append_and_strlen(d):
    d("STRLEN", "k")
    d("APPEND", "k", "")
    d("STRLEN", "k")
    d("GET", "k")
    d("APPEND", "k", "")
    d("APPEND", "k", "abc")
    d("APPEND", "k", b"\x00\xff")
    d("GET", "k")
    d("STRLEN", "k")
    d("SET", "n", "12")
    d("APPEND", "n", "34")
    d("INCR", "n")
    d("SET", "t", "v", "EX", "100")
    d("APPEND", "t", "w")
    d.pttl("t")
    d.plant("h")
    d("APPEND", "h", "x")
    d("APPEND", "h", "")
    d("STRLEN", "h")
    d("APPEND", "k")
    d("STRLEN")
    d("STRLEN", "k", "x")


# -- counters --------------------------------------------------------------------------------------


def test_incr_family(d):
    d("INCR", "n")
    d("INCR", "n")
    d("DECR", "n")
    d("DECR", "m")
    d("INCRBY", "n", "100")
    d("INCRBY", "n", "-300")
    d("DECRBY", "n", "-7")
    d("DECRBY", "n", "0")
    d("INCRBY", "n", "0")
    d("GET", "n")
    d("SET", "t", "10", "EX", "100")
    d("INCR", "t")
    d.pttl("t")
    d("SET", "z", "-0005")
    d("INCR", "z")


def test_incr_limits(d):
    d("SET", "max", BIG)
    d("INCR", "max")
    d("INCRBY", "max", "1")
    d("INCRBY", "max", "0")
    d("DECRBY", "max", "-1")
    d("SET", "min", SMALL)
    d("DECR", "min")
    d("DECRBY", "min", "1")
    d("INCRBY", "min", "-1")
    d("INCRBY", "fresh", SMALL)
    d("INCRBY", "fresh", SMALL)
    d("DECRBY", "other", SMALL)
    d("DECRBY", "other", "-9223372036854775807")
    d("INCRBY", "other", "1")
    d("INCRBY", "max", SMALL)
    d("INCRBY", "min", BIG)
    d("GET", "max")
    d("GET", "min")


def test_incr_bad_values_and_arguments(d):
    for i, bad in enumerate(NOT_INTS):
        d("SET", f"k{i}", bad)
        d("INCR", f"k{i}")
        d("DECRBY", f"k{i}", "1")
        d("INCRBY", "n", bad)
        d("DECRBY", "n", bad)
    d.plant("h")
    d("INCR", "h")
    d("DECR", "h")
    d("INCRBY", "h", "abc")  # the increment is parsed before the type check
    d("INCRBY", "h", "1")
    d("INCR")
    d("INCR", "a", "b")
    d("INCRBY", "a")
    d("DECRBY", "a", "1", "2")


INCRBYFLOAT_CASES = [
    ("10.5", "0.1"), ("1.1", "2.2"), ("0", "3.0e3"), ("5", "-5"), ("-0.0", "0"),
    ("5.0e3", "2.0e2"), ("1", "0x10"), ("1", "1e-10"), ("3", "-4.5"),
    ("123456789012345678901234567890", "1"), ("0.1", "0.2"), ("1e4931", "1e4931"),
    ("1", "1e4932"), ("1", "inf"), ("1", "-inf"), ("1", "+inf"), ("inf", "1"), ("1", "nan"),
    ("1", " 1"), ("1", "1 "), ("1", ""), ("1", "abc"), ("abc", "1"), ("1", "1.5.5"),
    ("1", "1e-5000"), ("1", "1e5000"), ("1", "0.0000000000000000001"), ("7", "-7"),
    ("1.7976931348623157e308", "1.7976931348623157e308"), ("0", "1e-4940"), ("2", "1" * 6000),
]


@pytest.mark.parametrize("start,incr", INCRBYFLOAT_CASES)
def test_incrbyfloat(d, start, incr):
    d("SET", "f", start)
    d("INCRBYFLOAT", "f", incr)
    d("GET", "f")
    d("INCRBYFLOAT", "g", incr)


def test_incrbyfloat_keeps_ttl_type_and_arity(d):
    d("SET", "t", "1", "EX", "100")
    d("INCRBYFLOAT", "t", "1.5")
    d.pttl("t")
    d.plant("h")
    d("INCRBYFLOAT", "h", "1")
    d("INCRBYFLOAT", "h", "abc")
    d("INCRBYFLOAT", "t")
    d("INCRBYFLOAT", "t", "1", "2")


def test_incrbyfloat_effect_is_set_keepttl(timed):
    assert effects_of(timed, "INCRBYFLOAT", "f", "10.5") == (
        b"10.5", [[b"SET", b"f", b"10.5", b"KEEPTTL"]])
    assert effects_of(timed, "INCRBYFLOAT", "f", "0.1")[1] == [
        [b"SET", b"f", b"10.6", b"KEEPTTL"]]


# -- GETRANGE / SUBSTR / SETRANGE ------------------------------------------------------------------

INDEXES = [SMALL, "-20", "-12", "-11", "-10", "-5", "-1", "0", "1", "5", "10", "11", "20", BIG]


@pytest.mark.parametrize("cmd", ["GETRANGE", "SUBSTR"])
def test_getrange_every_index_pair(d, cmd):
    d("SET", "s", "Hello World")
    d("SET", "e", "")
    d("SET", "n", "-12345")
    for start, end in itertools.product(INDEXES, repeat=2):  # reads: no dirty check
        d.both(cmd, "s", start, end)
        d.both(cmd, "n", start, end)
    d(cmd, "e", "0", "-1")
    d(cmd, "missing", "0", "-1")


@pytest.mark.parametrize("cmd", ["GETRANGE", "SUBSTR"])
def test_getrange_errors(d, cmd):
    d.plant("h")
    d("SET", "s", "abc")
    d(cmd, "h", "0", "-1")
    d(cmd, "h", "x", "-1")  # indexes are parsed before the type check
    d(cmd, "missing", "0", "x")
    for bad in NOT_INTS:
        d(cmd, "s", bad, "1")
        d(cmd, "s", "1", bad)
    d(cmd, "s", "0")
    d(cmd, "s", "0", "1", "2")


def test_setrange(d):
    d("SETRANGE", "k", "0", "")
    d("MGET", "k")
    d("SETRANGE", "k", "5", "")
    d("SETRANGE", "k", "3", "abc")
    d("GET", "k")
    d("SETRANGE", "k", "1", "X")
    d("SETRANGE", "k", "5", "YZW")
    d("SETRANGE", "k", "6", "")
    d("SETRANGE", "k", "10", "end")
    d("GET", "k")
    d("SETRANGE", "k", "0", "")
    d("SET", "n", "12345")
    d("SETRANGE", "n", "2", "x")
    d("GET", "n")
    d("SET", "t", "abc", "EX", "100")
    d("SETRANGE", "t", "1", "Z")
    d.pttl("t")


def test_setrange_errors(d):
    d("SET", "k", "abc")
    d.plant("h")
    for bad in ["-1", SMALL]:
        d("SETRANGE", "k", bad, "x")
        d("SETRANGE", "h", bad, "x")  # the offset is checked before the type
    for bad in NOT_INTS:
        d("SETRANGE", "k", bad, "x")
    d("SETRANGE", "h", "0", "x")
    d("SETRANGE", "h", "0", "")
    d("SETRANGE", "k", "536870912", "x")        # one byte past proto-max-bulk-len
    d("SETRANGE", "k", "536870911", "xy")
    d("SETRANGE", "missing", "536870912", "x")
    d("SETRANGE", "missing", BIG, "x")          # overflow of offset + len is refused too
    d("SETRANGE", "missing", BIG, "")
    d("MGET", "missing")
    d("SETRANGE", "k", "0")
    d("SETRANGE", "k", "0", "x", "y")


def test_append_limit_is_checked(store):
    """APPEND past proto-max-bulk-len (without building 512 MB: the limit is patched)."""
    from kvstore.commands import strings
    store.execute("SET", "k", "12345")
    old = strings.PROTO_MAX_BULK_LEN
    strings.PROTO_MAX_BULK_LEN = 8
    try:
        assert store.execute("APPEND", "k", "678") == 8
        with pytest.raises(ResponseError, match=r"^ERR string exceeds maximum allowed size "
                                                r"\(proto-max-bulk-len\)$"):
            store.execute("APPEND", "k", "9")
    finally:
        strings.PROTO_MAX_BULK_LEN = old
    assert store.get("k") == b"12345678"


# -- bits ------------------------------------------------------------------------------------------


def test_setbit_and_getbit(d):
    d("SETBIT", "b", "7", "1")
    d("SETBIT", "b", "7", "1")   # unchanged: not a write
    d("SETBIT", "b", "7", "0")
    d("SETBIT", "b", "7", "0")
    d("SETBIT", "b", "100", "0")  # grows: a write even with 0
    d("SETBIT", "b", "100", "0")
    d("SETBIT", "b", "0", "1")
    d("SETBIT", "b", "13", "1")
    d("GET", "b")
    for offset in ["0", "1", "7", "8", "13", "100", "101", "1000", "4294967295"]:
        d("GETBIT", "b", offset)
    d("GETBIT", "missing", "3")
    d("SET", "n", "42")
    d("SETBIT", "n", "5", "1")
    d("GET", "n")
    d("GETBIT", "n", "2")
    d("SET", "t", "a", "EX", "100")
    d("SETBIT", "t", "20", "1")
    d.pttl("t")


def test_bit_errors(d):
    d("SET", "k", "abc")
    d.plant("h")
    for bad in ["-1", "4294967296", BIG, SMALL, *NOT_INTS]:
        d("SETBIT", "k", bad, "1")
        d("SETBIT", "h", bad, "1")
        d("GETBIT", "k", bad)
        d("GETBIT", "h", bad)
    for bad in ["2", "-1", "abc", "", "01", "1.0"]:
        d("SETBIT", "k", "1", bad)
        d("SETBIT", "h", "1", bad)
    d("SETBIT", "h", "1", "1")
    d("GETBIT", "h", "1")
    d("SETBIT", "k", "1")
    d("GETBIT", "k")
    d("GETBIT", "k", "1", "2")


BITCOUNT_INDEXES = [SMALL, "-100", "-17", "-9", "-8", "-6", "-3", "-1", "0", "1", "2", "5", "7",
                    "8", "15", "40", "47", "48", "100", BIG]


def test_bitcount_ranges(d):
    d("SET", "s", "foobar")
    d("SET", "x", b"\xff\x00\x0f\xf0\xaa")
    d("SET", "e", "")
    for key in ("s", "x", "e"):
        d("BITCOUNT", key)
        for start, end in itertools.product(BITCOUNT_INDEXES, repeat=2):  # reads: no dirty check
            d.both("BITCOUNT", key, start, end)
            d.both("BITCOUNT", key, start, end, "BIT")
        for start, end in [("0", "-1"), ("1", "2"), ("-2", "-1")]:
            d("BITCOUNT", key, start, end, "byte")
            d("BITCOUNT", key, start, end, "bIt")


def test_bitcount_errors_and_their_order(d):
    d("SET", "s", "foobar")
    d.plant("h")
    d("BITCOUNT", "missing", "junk")          # a missing key is 0 before any argument check
    d("BITCOUNT", "missing", "1", "2", "3", "4")
    d("BITCOUNT", "h")
    d("BITCOUNT", "h", "junk")
    d("BITCOUNT", "s", "1")
    d("BITCOUNT", "s", "1", "2", "3", "4")
    d("BITCOUNT", "s", "a", "1")
    d("BITCOUNT", "s", "1", "a")
    d("BITCOUNT", "s", "0", "-1", "nope")
    d("BITCOUNT", "s", "-1", "-2", "nope")    # answered before the unit is read
    d("BITCOUNT", "s", "a", "1", "nope")
    d("BITCOUNT")


# -- LCS -------------------------------------------------------------------------------------------


def test_lcs_options(d):
    d("MSET", "a", "ohmytext", "b", "mynewtext")
    d("LCS", "a", "b")
    d("LCS", "a", "b", "LEN")
    d("LCS", "a", "b", "IDX")
    d("LCS", "a", "b", "idx", "WITHMATCHLEN")
    d("LCS", "a", "b", "IDX", "MINMATCHLEN", "4")
    d("LCS", "a", "b", "IDX", "MINMATCHLEN", "-3", "WITHMATCHLEN")
    d("LCS", "a", "b", "LEN", "MINMATCHLEN", "3")
    d("LCS", "a", "missing")
    d("LCS", "missing", "b", "IDX")
    d("LCS", "missing", "missing2", "LEN")
    d("LCS", "a", "a", "IDX", "WITHMATCHLEN")


def test_lcs_errors(d):
    d("SET", "a", "abc")
    d.plant("h")
    d("LCS", "a", "h")
    d("LCS", "h", "a", "NOPE")   # the type check comes first
    d("LCS", "a", "a", "IDX", "LEN")
    d("LCS", "a", "a", "NOPE")
    d("LCS", "a", "a", "MINMATCHLEN")
    d("LCS", "a", "a", "MINMATCHLEN", "x")
    d("LCS", "a")


def test_lcs_random_strings_match_redis(d):
    rng = random.Random(7)
    for i in range(60):
        a = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 25)))
        b = "".join(rng.choice("abc") for _ in range(rng.randrange(0, 25)))
        d("MSET", "a", a, "b", b)
        d("LCS", "a", "b")
        d("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", str(i % 4))


# -- arity of every command ------------------------------------------------------------------------

ARITY = {
    "GET": 2, "SETNX": 3, "SETEX": 4, "PSETEX": 4, "GETSET": 3, "GETDEL": 2, "APPEND": 3,
    "STRLEN": 2, "INCR": 2, "DECR": 2, "INCRBY": 3, "DECRBY": 3, "INCRBYFLOAT": 3,
    "GETRANGE": 4, "SUBSTR": 4, "SETRANGE": 4, "SETBIT": 4, "GETBIT": 3,
}


@pytest.mark.parametrize("cmd", sorted(ARITY))
def test_fixed_arity(d, cmd):
    n = ARITY[cmd]
    d(cmd, *["k"] * (n - 2))
    d(cmd, *["k"] * n)


@pytest.mark.parametrize("cmd", ["SET", "MGET", "MSET", "MSETNX", "GETEX", "BITCOUNT", "LCS"])
def test_variadic_arity(d, cmd):
    d(cmd)


# -- effects replay to the same state --------------------------------------------------------------


class Recorder(kvstore.Store):
    """An embedded store that keeps what the AOF would log: effects, else the request."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.log: list[list[bytes]] = []
        self._after_write = lambda argv, effects=None: self.log.extend(effects or [argv])


def replay(store, argv):
    """Run a logged argv; the generic key commands it may name (DEL, PEXPIREAT, PERSIST) are
    applied by hand when the keys family is not there, so this test depends on strings only."""
    try:
        store.execute(*argv)
        return
    except ResponseError as exc:
        if not str(exc).startswith("ERR unknown command"):
            raise
    db = store.keyspace.dbs[0]
    name, key = argv[0], argv[1]
    if name == b"DEL":
        db.delete(key)
    elif name == b"PERSIST":
        db.persist(key)
    elif name == b"PEXPIREAT":
        when = int(argv[2])
        if when <= store.keyspace.clock():
            db.delete(key)
        else:
            db.set_expire(key, when)
    else:
        raise AssertionError(f"unexpected logged command {argv!r}")


def test_effects_replay_later_to_the_same_state(clock):
    src = Recorder(clock=clock, active_expire=False)
    rng = random.Random(3)
    for i in range(400):
        key = f"k{rng.randrange(8)}"
        op = rng.randrange(9)
        args = [
            ("SET", key, f"v{i}", "EX", rng.randrange(1, 50)),
            ("SETEX", key, rng.randrange(1, 50), "x"),
            ("PSETEX", key, rng.randrange(1, 50_000), "y"),
            ("INCRBYFLOAT", key, rng.choice(["0.1", "1.5", "-2.25"])),
            ("GETEX", key, "EX", rng.randrange(1, 50)),
            ("GETEX", key, "PXAT", clock.now + rng.randrange(-5_000, 50_000)),
            ("GETEX", key, "PERSIST"),
            ("APPEND", key, "z"),
            ("SETRANGE", key, rng.randrange(5), "q"),
        ][op]
        try:
            src.execute(*args)
        except ResponseError:
            pass
        clock.advance(rng.randrange(0, 3_000))
    later = ManualClock(clock.now + 7_000)  # replayed later: relative times would shift
    dst = kvstore.open(clock=later, active_expire=False)
    for argv in src.log:
        replay(dst, argv)
    a, b = src.keyspace.dbs[0], dst.keyspace.dbs[0]
    assert a.expires and len(a.data) > 2
    for key in list(a.data) + list(b.data):
        assert a.lookup(key, later.now) == b.lookup(key, later.now)
        assert a.expires.get(key) == b.expires.get(key)
    src.close()
    dst.close()


# -- redis-py-shaped methods -----------------------------------------------------------------------


def _result(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except (redis.exceptions.DataError, kvstore.DataError):
        return ("data-error",)  # the text depends on redis-py's packer (hiredis or not)
    except (redis.exceptions.ResponseError, ResponseError) as exc:
        text = str(exc)
        return ("error", text[4:] if text.startswith("ERR ") else text)


def same(pair, method, *args, **kwargs):
    r, s = pair
    want = _result(getattr(r, method), *args, **kwargs)
    got = _result(getattr(s, method), *args, **kwargs)
    assert got == want, f"{method}{args}{kwargs}: kvstore {got!r} != redis-py {want!r}"
    return want[-1]


def test_method_signatures_match_redis_py():
    for name in ["get", "set", "setnx", "setex", "psetex", "mget", "mset", "msetnx", "getset",
                 "getdel", "getex", "append", "strlen", "incr", "decr", "incrby", "decrby",
                 "incrbyfloat", "getrange", "setrange", "setbit", "getbit", "bitcount",
                 "substr", "lcs"]:
        ours = inspect.signature(getattr(StringMethods, name))
        theirs = inspect.signature(getattr(BasicKeyCommands, name))
        assert [(p.name, p.default) for p in ours.parameters.values()] == [
            (p.name, p.default) for p in theirs.parameters.values()], name


def same_ttl(pair, key: str) -> None:
    r, s = pair
    assert_same_pttl(key, r.pttl(key), s)


@pytest.mark.filterwarnings("ignore:Call to deprecated setex", "ignore:Call to 'set' method")
def test_methods_set_family(pair):
    same(pair, "set", "k", "v")
    same(pair, "set", "k", "w", nx=True)
    same(pair, "set", "k", "w", xx=True, get=True)
    same(pair, "set", "k", 12, ex=100)
    same_ttl(pair, "k")
    same(pair, "set", "k", 1.5, px=datetime.timedelta(seconds=100))
    same_ttl(pair, "k")
    same(pair, "set", "k", "v", ex=datetime.timedelta(seconds=5), nx=True, get=True)
    same(pair, "set", "k", "v", exat=datetime.datetime(2100, 1, 1), xx=True)
    same_ttl(pair, "k")
    same(pair, "set", "k", "v", exat=99999999999, keepttl=True)
    same(pair, "set", "k", "v", ex=1, px=1)
    same(pair, "set", "k", "v", nx=True, xx=True)
    same(pair, "set", "k", "v", ex=1.5)
    same(pair, "set", "k", "v", ifeq="v")       # Redis 8.4 option: a syntax error on 7.0
    same(pair, "set", "k", "v", pxat=99999999999999, xx=True)
    same(pair, "set", "k", "v", keepttl=True)
    same(pair, "get", "k")
    same(pair, "get", "missing")
    same(pair, "setnx", "k", "x")
    same(pair, "setnx", "n", "x")
    same(pair, "setex", "e", 100, "v")
    same(pair, "setex", "e", datetime.timedelta(minutes=1), "v")
    same_ttl(pair, "e")
    same(pair, "setex", "e", 0, "v")
    same(pair, "psetex", "p", 100000, "v")
    same(pair, "psetex", "p", datetime.timedelta(seconds=3), "v")
    same_ttl(pair, "p")
    same(pair, "getset", "k", "new")
    same(pair, "getset", "fresh", "new")
    same(pair, "getdel", "fresh")
    same(pair, "getdel", "fresh")
    same(pair, "getex", "k")
    same(pair, "getex", "k", ex=100)
    same(pair, "getex", "k", px=datetime.timedelta(seconds=10))
    same_ttl(pair, "k")
    same(pair, "getex", "k", exat=99999999999)
    same(pair, "getex", "k", pxat=datetime.datetime(2100, 1, 1))
    same_ttl(pair, "k")
    same(pair, "getex", "k", pxat=99999999999999)
    same(pair, "getex", "k", persist=True)
    same_ttl(pair, "k")
    same(pair, "getex", "k", ex=1, persist=True)
    same(pair, "getex", "k", ex="10")
    same(pair, "getex", "k", ex=1.5)
    same(pair, "exists", "k", "missing", "k")
    r, s = pair
    assert ("k" in s) == ("k" in r)
    s["item"] = "x"
    r["item"] = "x"
    same(pair, "__getitem__", "item")
    with pytest.raises(KeyError):
        s["absent"]


@pytest.mark.parametrize("method, args, kwargs", [
    ("psetex", ("k", datetime.timedelta(milliseconds=1001), "v"), {}),
    ("set", ("k", "v"), {"px": datetime.timedelta(milliseconds=1001)}),
    ("getex", ("k",), {"px": datetime.timedelta(milliseconds=1001)}),
    ("set", ("k", "v"), {"px": "1001"}),
    ("getex", ("k",), {"px": "1001"}),
    ("set", ("k", "v"), {"ex": "7"}),
])
def test_millisecond_and_digit_string_arguments_like_redis_py(method, args, kwargs):
    """timedelta -> ms in integer arithmetic (1001 ms is 1001, not 1000 through a float), and
    px, like ex, may be a digit string: the argv redis-py sends."""
    assert argv_of(getattr(StringMethods, method), *args, **kwargs) == \
        argv_of(getattr(BasicKeyCommands, method), *args, **kwargs)


@pytest.mark.parametrize("kwargs", [{"ex": 1.5}, {"px": 1.5}, {"ex": "1.5"}, {"px": "x"}])
def test_bad_expiry_types_raise_redis_py_data_error(kwargs):
    texts = []
    for method in (StringMethods.set, BasicKeyCommands.set):
        with pytest.raises((redis.DataError, kvstore.DataError)) as exc:
            argv_of(method, "k", "v", **kwargs)
        texts.append(str(exc.value))
    assert texts[0] == texts[1]


def test_methods_multi_key(pair):
    same(pair, "mset", {"a": 1, "b": b"2", "c": "3"})
    same(pair, "mget", ["a", "b", "missing", "c"])
    same(pair, "mget", "a", "b")
    same(pair, "mget", [])
    same(pair, "mget", ("a",), "c")
    same(pair, "msetnx", {"a": 1, "z": 2})
    same(pair, "msetnx", {"y": 1, "z": 2})
    same(pair, "mget", "y", "z")


def test_methods_counters_and_ranges(pair):
    same(pair, "incr", "n")
    same(pair, "incr", "n", 10)
    same(pair, "incrby", "n", -3)
    same(pair, "decr", "n")
    same(pair, "decr", "n", 5)
    same(pair, "decrby", "n", 2)
    same(pair, "incrbyfloat", "f")
    same(pair, "incrbyfloat", "f", 0.1)
    same(pair, "incrbyfloat", "f", -10)
    same(pair, "incrbyfloat", "n", "abc")
    same(pair, "set", "s", "abc")
    same(pair, "incr", "s")
    same(pair, "append", "s", "def")
    same(pair, "append", "new", 12)
    same(pair, "strlen", "s")
    same(pair, "getrange", "s", 1, -2)
    same(pair, "substr", "s", 2)
    same(pair, "substr", "s", 1, 3)
    same(pair, "setrange", "s", 10, "xyz")
    same(pair, "setrange", "s", -1, "xyz")
    same(pair, "get", "s")
    same(pair, "lcs", "s", "new")
    same(pair, "lcs", "s", "new", len=True)
    same(pair, "lcs", "s", "new", idx=True, minmatchlen=1, withmatchlen=True)


def test_fast_incr_agrees_with_the_generic_path(pair):
    r, s = pair
    for amount in [1, -1, 5, 2**63 - 1, -2**63, 2**63, 1.5, "7", b"x", True]:
        for who in ("n", "s", "h", "max"):
            r.set("s", "abc")
            s.set("s", "abc")
            r.set("max", BIG)
            s.set("max", BIG)
            r.hset("h", "f", "v")
            s.keyspace.dbs[0].set_value(b"h", Hash())
            same(pair, "incrby", who, amount)
            same(pair, "incr", who, amount)
    log = []
    s._after_write = lambda argv, effects=None: log.append(effects or [argv])
    assert s.incr(b"n") == int(s.execute("GET", "n")) and log == [[[b"INCRBY", b"n", b"1"]]]
    with pytest.raises(kvstore.WrongTypeError):
        s.incr("h")


def test_methods_bits(pair):
    same(pair, "setbit", "b", 7, 1)
    same(pair, "setbit", "b", 9, True)
    same(pair, "setbit", "b", 9, 0)
    same(pair, "setbit", "b", 30, 5)
    same(pair, "getbit", "b", 7)
    same(pair, "getbit", "b", 1000)
    same(pair, "bitcount", "b")
    same(pair, "bitcount", "b", 0, 0)
    same(pair, "bitcount", "b", 0, 9, "BIT")
    same(pair, "bitcount", "b", 0)
    same(pair, "bitcount", "b", end=3)
    same(pair, "setbit", "b", -1, 1)


def test_methods_decode_responses(redis_server):
    r = redis.Redis(port=redis_server, decode_responses=True)
    s = kvstore.open(decode_responses=True)
    try:
        r.flushall()
        for who in (r, s):
            assert who.set("k", "é") is True
            assert who.getset("k", "v") == "é"
            assert who.mget("k", "x") == ["v", None]
            assert who.incrbyfloat("f", 1.5) == 1.5
            assert who.setnx("k", "w") is False
            assert who.mset({"a": 1}) is True
            assert who.getrange("k", 0, -1) == "v"
    finally:
        r.close()
        s.close()
