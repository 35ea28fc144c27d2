"""BITPOS, BITOP, BITFIELD and BITFIELD_RO against the real redis-server: replies, error texts
and their precedence, dirty counts, TTLs, OBJECT ENCODING, keyspace events, key positions, and
the redis-py-shaped methods. (SETBIT, GETBIT and BITCOUNT are in test_strings.py.)
"""

from __future__ import annotations

import inspect
import itertools
import random

import pytest
from redis.commands.core import BasicKeyCommands

from kvstore.methods.strings import StringMethods

from .helpers import keyevent_streams, same
from .test_strings import BIG, NOT_INTS, SMALL, Diff


@pytest.fixture
def d(both):
    return Diff(both)


ALL_ONES = b"\xff\xff\xff"
STRINGS = {"ones": ALL_ONES, "zeros": b"\x00\x00\x00", "mixed": b"\xff\xf0\x00\x0f\x80",
           "one": b"\x10", "empty": b""}
INDEXES = [SMALL, "-100", "-17", "-9", "-8", "-3", "-1", "0", "1", "2", "4", "7", "8", "9",
           "15", "23", "24", "39", "40", "100", BIG]


def plant_strings(d):
    for key, value in STRINGS.items():
        d("SET", key, value)


# -- BITPOS ---------------------------------------------------------------------------------------


def test_bitpos_every_range(d):
    plant_strings(d)
    for key, bit in itertools.product(STRINGS, "01"):  # reads: no dirty check
        d.both("BITPOS", key, bit)
        for start in INDEXES:
            d.both("BITPOS", key, bit, start)
            for end in INDEXES:
                d.both("BITPOS", key, bit, start, end)
                d.both("BITPOS", key, bit, start, end, "BIT")
        d.both("BITPOS", key, bit, "0", "-1", "byte")
        d.both("BITPOS", key, bit, "3", "-2", "bIt")


def test_bitpos_quirks(d):
    d("SET", "ones", ALL_ONES)
    assert d("BITPOS", "ones", "0") == 24          # no end: the bit past the string
    assert d("BITPOS", "ones", "0", "1") == 24
    assert d("BITPOS", "ones", "0", "1", "-1") == -1  # an explicit end: not found
    assert d("BITPOS", "ones", "0", "0", "-1", "BIT") == -1
    assert d("BITPOS", "ones", "0", "3", "-1", "BYTE") == -1  # empty range after clamping
    assert d("BITPOS", "missing", "0") == 0        # a missing key is endless zeros
    assert d("BITPOS", "missing", "1") == -1
    assert d("BITPOS", "missing", "0", "5", "2", "BIT") == 0
    d("SET", "empty", "")
    assert d("BITPOS", "empty", "0") == -1         # an empty string is not endless zeros
    d("SET", "n", "12")                            # an integer is read as its digits
    d("BITPOS", "n", "1")
    d("BITPOS", "n", "0", "1")


def test_bitpos_errors_and_their_order(d):
    d("SET", "s", "\x0f")
    d.plant("h")
    for bad in ["2", "-1", "9"]:
        d("BITPOS", "s", bad)
        d("BITPOS", "missing", bad)                # the bit is checked before the key
    for bad in NOT_INTS + [BIG + "0"]:
        d("BITPOS", "s", bad)
        d("BITPOS", "s", "1", bad)
        d("BITPOS", "s", "1", "0", bad)
    d("BITPOS", "h", "1")
    d("BITPOS", "h", "1", "junk")                  # WRONGTYPE before the range
    d("BITPOS", "missing", "1", "junk", "x", "y", "z")  # a missing key answers before the range
    d("BITPOS", "s", "1", "0", "junk", "nope")     # the unit is read before the end
    d("BITPOS", "s", "1", "0", "junk", "bit")
    d("BITPOS", "s", "1", "junk", "1", "nope")
    d("BITPOS", "s", "1", "0", "1", "bit", "extra")
    d("BITPOS", "h", "1", "0", "1", "bit", "extra")
    d("BITPOS", "s")
    d("BITPOS")


# -- BITOP ----------------------------------------------------------------------------------------


def test_bitop_every_operation(d):
    d("MSET", "a", "foobar", "b", "abcdef", "c", b"\xff\x0f", "n", "123")
    for op in ["AND", "OR", "XOR", "and", "xOr"]:
        for keys in [("a",), ("a", "b"), ("a", "c"), ("c", "a", "b"), ("a", "missing"),
                     ("missing", "c"), ("a", "a")]:
            assert d("BITOP", op, "dest", *keys) == (2 if keys == ("missing", "c") else 6)
            d("GET", "dest")
            d("OBJECT", "ENCODING", "dest")
    for src in ["a", "c", "n"]:
        d("BITOP", "NOT", "dest", src)
        d("GET", "dest")
        d("OBJECT", "ENCODING", "dest")        # raw even when it reads as an integer
    d("BITOP", "OR", "dest", "n")
    d("GET", "dest")
    d("OBJECT", "ENCODING", "dest")
    d("BITOP", "NOT", "a", "a")                # dest may be a source
    d("GET", "a")
    d("BITOP", "OR", "long", "a", "b", "c", "n", "missing")
    d("BITOP", "XOR", "big", "a", "long")
    d("SETBIT", "wide", "400", "1")
    d("BITOP", "AND", "dest", "wide", "a")     # past 44 bytes: raw by its length
    d("GET", "dest")
    d("OBJECT", "ENCODING", "dest")


def test_bitop_empty_result_deletes_the_destination(d):
    d("SET", "dest", "x")
    assert d("BITOP", "AND", "dest", "missing") == 0    # deleted: a change
    d("EXISTS", "dest")
    assert d("BITOP", "OR", "dest", "missing", "m2") == 0  # nothing to delete: none
    d("SET", "empty", "")
    d("SET", "dest", "x")
    d("BITOP", "NOT", "dest", "empty")
    d("EXISTS", "dest")
    d("RPUSH", "dest", "a")
    d("BITOP", "XOR", "dest", "empty", "missing")      # any type of dest goes
    d("EXISTS", "dest")


def test_bitop_replaces_the_destination(d):
    d("SET", "a", "ab")
    d("SET", "dest", "old", "EX", "100")
    d("BITOP", "OR", "dest", "a")
    d.pttl("dest")                             # the TTL goes with the old value
    d("RPUSH", "list", "x")
    d("BITOP", "OR", "list", "a")              # a non-string dest is replaced
    d("TYPE", "list")
    d("GET", "list")


def test_bitop_errors_and_their_order(d):
    d("SET", "a", "ab")
    d.plant("h")
    d("BITOP", "AND", "dest", "a", "h")
    d("BITOP", "AND", "dest", "h", "missing")
    d("BITOP", "AND", "h", "a")                # the dest's type does not matter
    d("TYPE", "h")
    d("BITOP", "NOT", "dest", "a", "a")
    d("BITOP", "not", "dest", "h", "a")        # the NOT count before the types
    d("BITOP", "NOT", "dest", "h")
    d("BITOP", "NAND", "dest", "a")
    d("BITOP", "", "dest", "a")
    d("BITOP", "ANDX", "dest", "h", "h")       # the operation before everything
    d("BITOP", "AND", "dest")
    d("BITOP", "NOT", "dest")
    d("BITOP")


def test_bitop_of_large_bitmaps(d):
    """Sources of a few MB, of different lengths: the result is compared bit for bit."""
    d("SETBIT", "x", str(8 * (3 << 20) - 1), "1")
    d("SETBIT", "y", str(8 * (1 << 20) + 5), "1")
    d("SETRANGE", "y", "1000", "some bytes")
    for op, keys in [("AND", ("x", "y")), ("OR", ("x", "y")), ("XOR", ("y", "x", "y")),
                     ("NOT", ("y",))]:
        assert d("BITOP", op, "r", *keys) == ((1 << 20) + 1 if op == "NOT" else 3 << 20)
        assert d.oracle.execute("GET", "r") == d.store.execute("GET", "r")
        d("BITCOUNT", "r")
        d("BITPOS", "r", "1", "1000")
        d("BITPOS", "r", "0", "-5")


# -- BITFIELD -------------------------------------------------------------------------------------

TYPES = ["i1", "u1", "i2", "u3", "i5", "u7", "i8", "u8", "i9", "u15", "i16", "u31", "i32",
         "u32", "i33", "u63", "i63", "i64"]
VALUES = ["0", "1", "-1", "2", "-2", "7", "8", "-8", "-9", "100", "127", "128", "-128", "-129",
          "255", "256", "65535", "4294967295", "4294967296", "-4611686018427387904",
          "9223372036854775806", BIG, SMALL, "-9223372036854775680", "-9223372036854775681"]


def test_bitfield_set_and_get_every_type(d):
    d("SET", "k", b"\x81\x42\xff\x00\x7f\x10\xaa\x55\xc3\x3c")
    for t in TYPES:
        for offset in ["0", "3", "7", "#1", "#3", "40", "77", "100"]:
            d.both("BITFIELD", "k", "GET", t, offset)
            d.both("BITFIELD_RO", "k", "GET", t, offset)
    for t, overflow in itertools.product(TYPES, ["WRAP", "SAT", "FAIL"]):
        for value in VALUES:
            d("BITFIELD", "s", "OVERFLOW", overflow, "SET", t, "5", value, "GET", t, "5",
              "GET", "u8", "0")
        d("GET", "s")


def test_bitfield_incrby_overflows(d):
    for t, overflow in itertools.product(TYPES, ["WRAP", "SAT", "FAIL", "wrap", "Sat"]):
        d("DEL", "c")
        for increment in ["1", "-1", "100", "-100", "1000", BIG, SMALL, "127", "-128", "3"]:
            d("BITFIELD", "c", "OVERFLOW", overflow, "INCRBY", t, "3", increment)
            d("BITFIELD", "c", "INCRBY", t, "#2", increment, "OVERFLOW", overflow,
              "INCRBY", t, "#2", increment)
        d("GET", "c")


def test_bitfield_writes_grow_and_count(d):
    d("BITFIELD", "g", "GET", "u8", "100")            # GETs only: no key
    d("EXISTS", "g")
    d("BITFIELD", "g")
    d("EXISTS", "g")
    d("BITFIELD", "g", "OVERFLOW", "FAIL", "INCRBY", "u2", "20", "9")  # refused, yet grown
    d("GET", "g")
    d("OBJECT", "ENCODING", "g")
    d("BITFIELD", "g", "SET", "u8", "#5", "65", "GET", "u8", "#5", "GET", "i64", "1000")
    d("GET", "g")
    d("BITFIELD", "g", "SET", "u8", "#5", "65")       # no change, still a write
    d("SET", "n", "12345")
    d("BITFIELD", "n", "GET", "u8", "0")
    d("OBJECT", "ENCODING", "n")                      # a read leaves it an integer
    d("BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u1", "0", "5")
    d("OBJECT", "ENCODING", "n")                      # any write makes it raw
    d("GET", "n")
    d("SET", "t", "abc", "EX", "100")
    d("BITFIELD", "t", "INCRBY", "u8", "#5", "1")
    d.pttl("t")                                       # written in place: the TTL stays
    d("SETBIT", "wide", "400", "1")
    d("BITFIELD", "wide", "INCRBY", "i5", "397", "3")
    d("OBJECT", "ENCODING", "wide")


def test_bitfield_offsets(d):
    d("SET", "k", "abcdefgh")
    for offset in ["#0", "#1", "#7", "4294967295", "4294967288", "#536870911", "#-0", "#",
                   "#-1", "-1", "4294967296", "#536870912", "#2305843009213693953", "##1",
                   "# 1", "1.5", "+1", "01", BIG, SMALL, "x", ""]:
        d("BITFIELD", "k", "GET", "u8", offset)
        d("BITFIELD_RO", "k", "GET", "i64", offset)
    d("BITFIELD", "k", "SET", "u8", "#2305843009213693953", "90")  # wraps to offset 8
    d("GET", "k")
    d("BITFIELD", "k", "INCRBY", "i63", "4294967295", "-1", "SET", "u1", "#4294967295", "1")
    d("BITFIELD", "k", "SET", "i8", "4294967296", "1")
    d("BITFIELD", "k", "SET", "u8", "#536870912", "1")
    d("STRLEN", "k")


def test_bitfield_types(d):
    d("SET", "k", "abc")
    for t in ["i0", "u0", "i64", "u63", "i65", "u64", "I8", "U8", "8", "", "i", "u", "i-1",
              "i08", "i+8", "u 8", "ii8", "i8x", "i8.0", "u99999999999999999999", "u8\0junk",
              "i\0" "8"]:
        d("BITFIELD", "k", "GET", t, "0")
        d("BITFIELD_RO", "k", "GET", t, "0")


def test_bitfield_errors_and_their_order(d):
    d("SET", "k", "abc")
    d.plant("h")
    d("BITFIELD", "h")
    d("BITFIELD", "h", "GET", "u8", "0")
    d("BITFIELD", "h", "SET", "u8", "0", "1")
    d("BITFIELD", "h", "GET", "u8", "0", "NOPE")          # arguments first, then the type
    d("BITFIELD", "h", "GET", "u8")
    d("BITFIELD", "k", "GET", "u8")
    d("BITFIELD", "k", "SET", "u8", "0")
    d("BITFIELD", "k", "INCRBY", "u8", "0")
    d("BITFIELD", "k", "OVERFLOW")
    d("BITFIELD", "k", "OVERFLOW", "NOPE", "GET", "x", "0")
    d("BITFIELD", "k", "GET", "x", "0", "OVERFLOW", "NOPE")
    d("BITFIELD", "k", "GET", "u8", "x", "GET", "x", "0")
    d("BITFIELD", "k", "SET", "x", "y", "z")              # type, then offset, then value
    d("BITFIELD", "k", "SET", "u8", "y", "z")
    d("BITFIELD", "k", "SET", "u8", "0", "z")
    d("BITFIELD", "k", "INCRBY", "u8", "0", "1.5")
    d("BITFIELD", "k", "INCRBY", "u8", "0", "9223372036854775808")
    d("BITFIELD", "k", "GET", "u8", "0", "FOO", "u8", "0")
    d("BITFIELD", "k", "SET", "u8", "0", "1", "GET", "u8")  # no write if any op is bad
    d("GET", "k")
    d("BITFIELD")


def test_bitfield_ro(d):
    d("SET", "k", b"\x12\x34")
    d("BITFIELD_RO", "k")
    d("BITFIELD_RO", "k", "GET", "u4", "#1", "GET", "i16", "0", "OVERFLOW", "SAT",
      "GET", "u8", "100")
    d("BITFIELD_RO", "missing", "GET", "u8", "0")
    d("EXISTS", "missing")
    d.plant("h")
    d("BITFIELD_RO", "h", "GET", "u8", "0")
    d("BITFIELD_RO", "k", "SET", "u8", "0", "1")
    d("BITFIELD_RO", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1")
    d("BITFIELD_RO", "h", "INCRBY", "u8", "0", "1")      # refused before the type check
    d("BITFIELD_RO", "k", "SET", "u8", "0", "x")         # the whole command parses first
    d("BITFIELD_RO", "k", "SET", "u64", "0", "1")
    d("BITFIELD_RO", "k", "OVERFLOW", "nope")
    d("GET", "k")
    d("BITFIELD_RO")


# -- all four: random streams, events, introspection --------------------------------------------


def _random_command(rng: random.Random) -> list[str]:
    key = rng.choice("abcm")
    x = rng.random()
    if x < 0.15:
        return ["SET", key, bytes(rng.choice([0, 255, 0x0F, 0xF0, 1, rng.randrange(256)])
                                  for _ in range(rng.randrange(0, 6)))]
    if x < 0.4:
        argv = ["BITPOS", key, rng.choice("01")]
        for _ in range(rng.randrange(0, 3)):
            argv.append(rng.choice(INDEXES[1:-1]))
        if len(argv) == 5 and rng.random() < 0.6:
            argv.append(rng.choice(["BIT", "BYTE"]))
        return argv
    if x < 0.55:
        op = rng.choice(["AND", "OR", "XOR", "NOT"])
        n = 1 if op == "NOT" else rng.randrange(1, 4)
        return ["BITOP", op, rng.choice("abcd"), *(rng.choice("abcmz") for _ in range(n))]
    argv = [rng.choice(["BITFIELD", "BITFIELD", "BITFIELD_RO"]), key]
    for _ in range(rng.randrange(0, 4)):
        t = rng.choice(TYPES)
        offset = rng.choice(["0", "1", "7", "13", "#1", "#3", str(rng.randrange(80))])
        y = rng.random()
        if y < 0.4:
            argv += ["GET", t, offset]
        elif y < 0.65:
            argv += ["SET", t, offset, rng.choice(VALUES)]
        elif y < 0.9:
            argv += ["INCRBY", t, offset, rng.choice(VALUES)]
        else:
            argv += ["OVERFLOW", rng.choice(["WRAP", "SAT", "FAIL"])]
    return argv


def test_random_streams_match_redis(d):
    rng = random.Random(11)
    for _ in range(3000):
        d(*_random_command(rng))
    for key in "abcdm":
        d("GET", key)
        d("OBJECT", "ENCODING", key)


def test_keyspace_events(redis_server, oracle, store):
    seq = [("SET", "a", "ab"), ("BITOP", "OR", "d", "a"), ("BITOP", "AND", "d", "missing"),
           ("BITOP", "AND", "d", "missing"), ("BITOP", "NOT", "e", "a"),
           ("BITFIELD", "f", "GET", "u8", "0"), ("BITFIELD", "f", "SET", "u8", "0", "1",
                                                 "INCRBY", "u8", "0", "1"),
           ("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "5"),  # no change
           ("BITFIELD_RO", "f", "GET", "u8", "0"), ("BITPOS", "f", "1"), ("DEL", "f")]
    events, want = keyevent_streams(redis_server, oracle, store, "KEA", seq)
    assert [(event, key) for _, event, key in events] == want
    assert [cls for cls, _, _ in events] == ["$", "$", "g", "$", "$", "g"]


@pytest.mark.parametrize("name", ["BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO"])
def test_command_info(both, name):
    """Name, arity, flags and key positions (kvstore has no ACL categories nor key specs)."""
    want = both.oracle.execute("COMMAND", "INFO", name)[0][:6]
    got = both.store.execute("COMMAND", "INFO", name)[0][:6]
    assert got == want


def test_command_getkeys(both):
    both("COMMAND", "GETKEYS", "BITOP", "AND", "dest", "a", "b", "c")
    both("COMMAND", "GETKEYS", "BITOP", "NOT", "dest", "a")
    both("COMMAND", "GETKEYS", "BITPOS", "k", "1", "0")
    both("COMMAND", "GETKEYS", "BITFIELD", "k", "GET", "u8", "0")
    both("COMMAND", "GETKEYS", "BITFIELD_RO", "k", "GET", "u8", "0")


# -- methods --------------------------------------------------------------------------------------


def test_method_signatures_match_redis_py():
    for name in ["bitpos", "bitop", "bitfield", "bitfield_ro"]:
        ours = inspect.signature(getattr(StringMethods, name))
        theirs = inspect.signature(getattr(BasicKeyCommands, name))
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
            (p.name, p.kind, p.default) for p in theirs.parameters.values()], name


def test_methods(pair):
    r, s = pair
    for who in pair:
        who.set("k", b"\x00\x0f\xff")
    same(pair, "bitpos", "k", 1)
    same(pair, "bitpos", "k", 0, 2)
    same(pair, "bitpos", "k", 1, 0, 10, "BIT")
    same(pair, "bitpos", "k", 0, end=2)
    same(pair, "bitpos", "k", 2)
    same(pair, "bitpos", "k", 1, mode="BIT")
    same(pair, "bitop", "AND", "d", "k", "missing")
    same(pair, "bitop", "not", "d", "k")
    same(pair, "bitop", "NOT", "d", "k", "k")
    same(pair, "bitop", "DIFF", "d", "k", "k")            # redis-py 8's, unknown to Redis 7.0
    same(pair, "get", "d")
    same(pair, "bitfield_ro", "k", "u8", 0)
    same(pair, "bitfield_ro", "k", "i4", "#3", [("u16", 4), ("i64", 100)])
    same(pair, "bitfield_ro", "k", "u64", 0)
    results = []
    for who in pair:
        op = who.bitfield("k", default_overflow="fail")
        op.set("u8", "#0", 300).incrby("i4", 4, 20).incrby("u2", 22, 7, overflow="sat")
        op.get("u8", 0).overflow("wrap").incrby("i8", 16, 200)
        assert op.command[:4] == ["BITFIELD", "k", "OVERFLOW", "FAIL"]
        results.append([op.execute(), op.execute(), op.incrby("u4", 0, 100).execute()])
    assert results[0] == results[1]
    assert results[0][1] == [] and results[0][0][0] is None
    same(pair, "get", "k")
