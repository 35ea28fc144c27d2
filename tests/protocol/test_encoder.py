"""Encoder: byte-exact RESP2/RESP3 for every reply type, a Hypothesis round trip through both
readers, pack_command, and byte comparisons with the real redis-server's replies."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvstore.errors import DataError, ResponseError
from kvstore.numbers import format_double
from kvstore.protocol.encoder import encode, encode_into, pack_command
from kvstore.protocol.reader import Reader
from kvstore.protocol.request import RequestParser
from kvstore.replies import (
    NULL_ARRAY,
    OK,
    PONG,
    QUEUED,
    Bool,
    Error,
    Push,
    ScorePairs,
    SetReply,
    Status,
    Verbatim,
)

try:
    import hiredis
except ImportError:  # pragma: no cover
    hiredis = None

# (value, RESP2 bytes, RESP3 bytes)
CASES = [
    (b"", b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (b"abc", b"$3\r\nabc\r\n", b"$3\r\nabc\r\n"),
    (b"a\r\nb", b"$4\r\na\r\nb\r\n", b"$4\r\na\r\nb\r\n"),
    (bytearray(b"ab"), b"$2\r\nab\r\n", b"$2\r\nab\r\n"),
    (memoryview(b"ab"), b"$2\r\nab\r\n", b"$2\r\nab\r\n"),
    ("é", b"$2\r\n\xc3\xa9\r\n", b"$2\r\n\xc3\xa9\r\n"),
    (0, b":0\r\n", b":0\r\n"),
    (-1, b":-1\r\n", b":-1\r\n"),
    (10000, b":10000\r\n", b":10000\r\n"),
    (10001, b":10001\r\n", b":10001\r\n"),
    (-(2**63), b":-9223372036854775808\r\n", b":-9223372036854775808\r\n"),
    (True, b":1\r\n", b"#t\r\n"),
    (False, b":0\r\n", b"#f\r\n"),
    (Bool(True), b":1\r\n", b"#t\r\n"),
    (Bool(False), b":0\r\n", b"#f\r\n"),
    (None, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (1.1, b"$18\r\n1.1000000000000001\r\n", b",1.1000000000000001\r\n"),
    (3.0, b"$1\r\n3\r\n", b",3\r\n"),
    (-0.0, b"$2\r\n-0\r\n", b",-0\r\n"),
    (1e20, b"$5\r\n1e+20\r\n", b",1e+20\r\n"),
    (math.inf, b"$3\r\ninf\r\n", b",inf\r\n"),
    (-math.inf, b"$4\r\n-inf\r\n", b",-inf\r\n"),
    (OK, b"+OK\r\n", b"+OK\r\n"),
    (PONG, b"+PONG\r\n", b"+PONG\r\n"),
    (QUEUED, b"+QUEUED\r\n", b"+QUEUED\r\n"),
    (Status("background saving started"), b"+background saving started\r\n", b"+background saving started\r\n"),
    (Error("ERR syntax error"), b"-ERR syntax error\r\n", b"-ERR syntax error\r\n"),
    (Error("ERR a\r\nb"), b"-ERR a  b\r\n", b"-ERR a  b\r\n"),  # a line reply cannot hold CR LF
    (Error(b"ERR \xff".decode("utf-8", "surrogateescape")), b"-ERR \xff\r\n", b"-ERR \xff\r\n"),
    (Verbatim(b"# Server\r\n"), b"$10\r\n# Server\r\n\r\n", b"=14\r\ntxt:# Server\r\n\r\n"),
    ([], b"*0\r\n", b"*0\r\n"),
    ([b"a", 1, None, [b"b"]], b"*4\r\n$1\r\na\r\n:1\r\n$-1\r\n*1\r\n$1\r\nb\r\n",
     b"*4\r\n$1\r\na\r\n:1\r\n_\r\n*1\r\n$1\r\nb\r\n"),
    ((b"a", 2), b"*2\r\n$1\r\na\r\n:2\r\n", b"*2\r\n$1\r\na\r\n:2\r\n"),
    ({}, b"*0\r\n", b"%0\r\n"),
    ({b"f": b"v", b"n": 1}, b"*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n",
     b"%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n:1\r\n"),
    (SetReply([b"a", b"b"]), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", b"~2\r\n$1\r\na\r\n$1\r\nb\r\n"),
    (SetReply(), b"*0\r\n", b"~0\r\n"),
    (Push([b"message", b"ch", b"hi"]), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
     b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
    (ScorePairs([(b"a", 1.1), (b"b", math.inf)]),
     b"*4\r\n$1\r\na\r\n$18\r\n1.1000000000000001\r\n$1\r\nb\r\n$3\r\ninf\r\n",
     b"*2\r\n*2\r\n$1\r\na\r\n,1.1000000000000001\r\n*2\r\n$1\r\nb\r\n,inf\r\n"),
    (ScorePairs(), b"*0\r\n", b"*0\r\n"),
    ([Error("ERR x"), OK, 3], b"*3\r\n-ERR x\r\n+OK\r\n:3\r\n", b"*3\r\n-ERR x\r\n+OK\r\n:3\r\n"),
]


@pytest.mark.parametrize(("value", "resp2", "resp3"), CASES, ids=lambda v: repr(v)[:30])
def test_byte_exact(value, resp2, resp3):
    assert encode(value, 2) == resp2
    assert encode(value, 3) == resp3


def test_big_values():
    big = b"x" * 5000
    parts = []
    encode_into(parts, big, 2)
    assert parts[1] is big  # appended as is: copied once, by the final join
    assert b"".join(parts) == b"$%d\r\n%b\r\n" % (len(big), big)
    assert encode([big, b"y" * 2000], 3) == (b"*2\r\n$%d\r\n%b\r\n$2000\r\n%b\r\n"
                                            % (len(big), big, b"y" * 2000))


def test_encode_into_appends_a_batch():
    parts = []
    for reply in (OK, 1, None, [b"a"], b"v"):
        encode_into(parts, reply, 2)
    assert b"".join(parts) == b"+OK\r\n:1\r\n$-1\r\n*1\r\n$1\r\na\r\n$1\r\nv\r\n"


def test_subclasses_and_unknown_types():
    import enum

    class Color(enum.IntEnum):
        RED = 7

    class MyDict(dict):
        pass

    assert encode(Color.RED, 2) == b":7\r\n"
    assert encode(MyDict(a=b"b"), 3) == b"%1\r\n$1\r\na\r\n$1\r\nb\r\n"
    with pytest.raises(TypeError):
        encode(object(), 2)


# --- pack_command --------------------------------------------------------------------------------


def test_pack_command():
    assert pack_command("SET", b"k", "é", 12, -3, 1.5, 0.1, bytearray(b"b"), memoryview(b"m")) == (
        b"*9\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n$2\r\n12\r\n$2\r\n-3\r\n$3\r\n1.5\r\n"
        b"$3\r\n0.1\r\n$1\r\nb\r\n$1\r\nm\r\n"
    )
    assert pack_command("CONFIG GET", "maxmemory") == pack_command("CONFIG", "GET", "maxmemory")
    assert pack_command(b"CLIENT LIST") == pack_command("CLIENT", "LIST")
    assert pack_command("ECHO", "a b") == b"*2\r\n$4\r\nECHO\r\n$3\r\na b\r\n"  # only the name splits


@pytest.mark.parametrize("bad", [True, False, None, object(), [b"a"], {b"a": 1}])
def test_pack_command_rejects(bad):
    with pytest.raises(DataError, match="Invalid input of type"):
        pack_command("SET", "k", bad)


def test_pack_command_matches_redis_py():
    redis_connection = pytest.importorskip("redis.connection")
    args = ("SET", "ключ", b"\x00\xff", 42, 2.5, 1e300, -0.0, float("inf"))
    expected = b"".join(redis_connection.Connection().pack_command(*args))
    assert pack_command(*args) == expected


@given(st.lists(st.binary(max_size=30) | st.integers() | st.text(max_size=10), min_size=1, max_size=8))
def test_pack_command_parses_back(args):
    args = [b"CMD"] + args
    parser = RequestParser()
    parser.feed(pack_command(*args))
    expected = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    assert parser.get_commands() == [expected]


# --- round trip: encode, then parse with each reader ---------------------------------------------

scalars = (
    st.binary(max_size=20)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.text(max_size=8).map(Status)
    | st.from_regex(r"[A-Z]{2,8} [a-z ]{0,12}", fullmatch=True).map(Error)
    | st.binary(max_size=20).map(Verbatim)
    | st.just(NULL_ARRAY)
)
replies = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=4).map(SetReply)
    | st.lists(inner, max_size=4).map(Push)
    | st.dictionaries(st.binary(max_size=6), inner, max_size=3)
    | st.lists(st.tuples(st.binary(max_size=6), st.floats(allow_nan=False)), max_size=3).map(ScorePairs),
    max_leaves=12,
)


def expected_after_parse(value, proto):
    """What a reader returns for encode(value, proto)."""
    r3 = proto == 3
    if isinstance(value, Error):
        return ("error", value.message)
    if isinstance(value, (bool, Bool)):
        truth = value.value if isinstance(value, Bool) else value
        return truth if r3 else int(truth)
    if value is NULL_ARRAY or value is None:
        return None
    if isinstance(value, Status):  # a line reply: CR and LF become spaces, as Redis does
        return value.encode().replace(b"\r", b" ").replace(b"\n", b" ")
    if isinstance(value, float):
        return value if r3 else format_double(value)
    if isinstance(value, ScorePairs):
        if r3:
            return [[m, s] for m, s in value]
        return [x for m, s in value for x in (m, format_double(s))]
    if isinstance(value, dict):
        if r3:
            return {k: expected_after_parse(v, proto) for k, v in value.items()}
        return [x for k, v in value.items() for x in (k, expected_after_parse(v, proto))]
    if isinstance(value, list):
        return [expected_after_parse(v, proto) for v in value]
    if isinstance(value, bytes):
        return bytes(value)
    return value


def comparable(parsed):
    if isinstance(parsed, Exception):
        return ("error", str(parsed))
    if isinstance(parsed, list):
        return [comparable(p) for p in parsed]
    if isinstance(parsed, dict):
        return {k: comparable(v) for k, v in parsed.items()}
    return parsed


def readers():
    yield Reader(notEnoughData=Reader)
    if hiredis is not None:
        yield hiredis.Reader(notEnoughData=Reader)


@settings(max_examples=300, deadline=None)
@given(value=replies, proto=st.sampled_from([2, 3]), cut=st.integers(min_value=0))
def test_round_trip_through_readers(value, proto, cut):
    data = encode(value, proto)
    cut = cut % (len(data) + 1)
    for reader in readers():
        reader.feed(data[:cut])  # any split: the first part alone is incomplete or complete
        first = reader.gets()
        if first is Reader:
            reader.feed(data[cut:])
            first = reader.gets()
        assert comparable(first) == expected_after_parse(value, proto)
        assert reader.gets() is Reader


# --- oracle: bytes from the real redis-server ----------------------------------------------------


@pytest.mark.parametrize("proto", [2, 3])
def test_oracle_sorted_set_replies(redis70, proto):
    hello3 = proto == 3
    scores = [1.1, 0.0, -0.0, 1e20, 3.0, math.inf, -math.inf, 2.5e-7, 123456789.123456789]
    members = [b"m%d" % i for i in range(len(scores))]
    redis70.command("DEL", "z")
    for member, score in zip(members, scores):
        redis70.command("ZADD", "z", repr(score), member)
    stored = [0.0 if s == 0 else s for s in scores]  # a small (listpack) zset stores -0 as 0
    # ties (0 and -0) are ordered by member bytes, by Redis and by sorted() here
    pairs = ScorePairs(sorted(zip(members, stored), key=lambda p: (p[1], p[0])))
    assert redis70.command("ZRANGE", "z", "0", "-1", "WITHSCORES", hello3=hello3) == encode(pairs, proto)
    for member, score in zip(members, stored):
        assert redis70.command("ZSCORE", "z", member, hello3=hello3) == encode(score, proto)
    assert redis70.command("ZINCRBY", "z", "-0.0", "m2", hello3=hello3) == encode(0.0, proto)


@pytest.mark.parametrize("proto", [2, 3])
def test_oracle_other_types(redis_oracle, proto):
    hello3 = proto == 3
    o = redis_oracle
    o.command("DEL", "h", "s", "l", "str")
    o.command("HSET", "h", "f", "v")
    o.command("SADD", "s", "m")
    o.command("RPUSH", "l", "a", "b")
    assert o.command("HGETALL", "h", hello3=hello3) == encode({b"f": b"v"}, proto)
    assert o.command("SMEMBERS", "s", hello3=hello3) == encode(SetReply([b"m"]), proto)
    assert o.command("LRANGE", "l", "0", "-1", hello3=hello3) == encode([b"a", b"b"], proto)
    assert o.command("GET", "nokey", hello3=hello3) == encode(None, proto)
    assert o.command("BLPOP", "nolist", "0.01", hello3=hello3) == encode(NULL_ARRAY, proto)
    assert o.command("SET", "str", "v", hello3=hello3) == encode(OK, proto)
    assert o.command("EXISTS", "str", hello3=hello3) == encode(1, proto)
    assert o.command("INCR", "h", hello3=hello3) == encode(
        Error("WRONGTYPE Operation against a key holding the wrong kind of value"), proto)


def test_reader_parses_oracle_replies_like_hiredis(redis_oracle):
    if hiredis is None:
        pytest.skip("hiredis is not installed")
    raw = redis_oracle.command("HELLO", "3", hello3=False)
    ours, theirs = Reader(), hiredis.Reader(replyError=ResponseError)
    ours.feed(raw)
    theirs.feed(raw)
    assert comparable(ours.gets()) == comparable(theirs.gets())
