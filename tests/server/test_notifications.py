"""Keyspace notifications (notify-keyspace-events), black-box against kvstore AND redis-server."""

from __future__ import annotations

import pytest

from .helpers import Conn, err


@pytest.fixture
def c(server):
    conn = Conn(server.port)
    conn("FLUSHALL")
    yield conn
    conn("CONFIG", "SET", "notify-keyspace-events", "")
    conn.close()


@pytest.mark.parametrize("value,expected", [
    ("KEA", "AKE"), ("Kg", "gK"), ("Ex", "xE"), ("g$lshzxetd", "A"), ("KEn", "nKE"),
    ("KEm", "KEm"), ("KEAmn", "AKEm"), ("", ""),
])
def test_config_roundtrip(c, value, expected):
    assert c("CONFIG", "SET", "notify-keyspace-events", value) == b"OK"
    assert c("CONFIG", "GET", "notify-keyspace-events") == [b"notify-keyspace-events",
                                                            expected.encode()]


def test_config_bad_letter(c):
    assert "Invalid event class character. Use 'Ag$lshzxeKEtmdn'." in err(
        c("CONFIG", "SET", "notify-keyspace-events", "zq"))


def _events(sub, n):
    return [sub.reply() for _ in range(n)]


def test_keyspace_and_keyevent(server, c):
    c("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub = Conn(server.port)
    sub("PSUBSCRIBE", "__key*@0__:*")
    c("SET", "k", "v")
    c("LPUSH", "l", "a")
    c("DEL", "k")
    got = [(m[2], m[3]) for m in _events(sub, 6)]
    assert got == [
        (b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k"),
        (b"__keyspace@0__:l", b"lpush"), (b"__keyevent@0__:lpush", b"l"),
        (b"__keyspace@0__:k", b"del"), (b"__keyevent@0__:del", b"k"),
    ]
    sub.close()


def test_class_filter_and_db(server, c):
    c("CONFIG", "SET", "notify-keyspace-events", "El")
    sub = Conn(server.port)
    sub("PSUBSCRIBE", "__key*__:*")
    c("SELECT", "2")
    c("SET", "k", "v")  # string class: filtered out
    c("RPUSH", "l", "x")
    c("RPOP", "l")
    got = [(m[2], m[3]) for m in _events(sub, 2)]
    assert got == [(b"__keyevent@2__:rpush", b"l"), (b"__keyevent@2__:rpop", b"l")]
    sub.send(Conn.encode("PING"))
    assert sub.reply() == [b"pong", b""]  # the emptied list's "del" is class g: not sent
    sub.close()


def test_move_and_copy_notify_where_the_key_lands(server, c):
    c("CONFIG", "SET", "notify-keyspace-events", "Eg")
    sub = Conn(server.port)
    sub("PSUBSCRIBE", "__keyevent@*__:*")
    c("SET", "k", "v")
    assert c("COPY", "k", "k2", "DB", "3") == 1
    assert c("MOVE", "k", "1") == 1
    got = [(m[2], m[3]) for m in _events(sub, 3)]
    assert got == [(b"__keyevent@3__:copy_to", b"k2"), (b"__keyevent@0__:move_from", b"k"),
                   (b"__keyevent@1__:move_to", b"k")]
    sub.close()


def test_expired_event(server, c):
    c("CONFIG", "SET", "notify-keyspace-events", "Ex")
    sub = Conn(server.port)
    sub("SUBSCRIBE", "__keyevent@0__:expired")
    c("SET", "e", "1", "PX", "1")
    m = sub.reply()  # the active cycle (or a lookup) expires it
    assert m == [b"message", b"__keyevent@0__:expired", b"e"]
    sub.close()


def test_off_means_nothing(server, c):
    sub = Conn(server.port)
    sub("PSUBSCRIBE", "__key*")
    c("SET", "k", "v")
    sub.send(Conn.encode("PING"))
    assert sub.reply() == [b"pong", b""]  # no event came first
    sub.close()


# A command that creates a key raises `new` first (Redis's dbAdd), whatever creates it; one
# that writes an existing key does not. "KEAn" reads back "AKE" but keeps `new`, as in Redis.
NEW_CASES = [
    (("SET", "a", "1"), ["new:a", "set:a"]),
    (("SET", "a", "2"), ["set:a"]),
    (("MSET", "f", "1", "a", "3"), ["new:f", "set:f", "set:a"]),
    (("INCR", "n"), ["new:n", "incrby:n"]),
    (("INCRBYFLOAT", "n2", "1.5"), ["new:n2", "incrbyfloat:n2"]),
    (("SETBIT", "s", "7", "1"), ["new:s", "setbit:s"]),
    (("SET", "k", "1", "KEEPTTL"), ["new:k", "set:k"]),
    (("RPUSH", "l", "a", "b"), ["new:l", "rpush:l"]),
    (("LMOVE", "l", "l2", "LEFT", "RIGHT"), ["new:l2", "rpush:l2", "lpop:l"]),
    (("HINCRBY", "h", "f", "1"), ["new:h", "hincrby:h"]),
    (("ZADD", "z", "1", "m"), ["new:z", "zadd:z"]),
    (("SUNIONSTORE", "u", "l2", "nx"), ["err"]),
    (("COPY", "a", "c"), ["new:c", "copy_to:c"]),
    (("RENAME", "a", "r"), ["new:r", "rename_from:a", "rename_to:r"]),
]


def test_new_events(server, c):
    assert c("CONFIG", "SET", "notify-keyspace-events", "KEAn") == b"OK"
    assert c("CONFIG", "GET", "notify-keyspace-events") == [b"notify-keyspace-events", b"AKE"]
    sub = Conn(server.port)
    sub("PSUBSCRIBE", "__keyevent@0__:*")
    try:
        for argv, want in NEW_CASES:
            reply = c(*argv)
            c("PUBLISH", "__keyevent@0__:mark", "done")
            got = []
            while (msg := sub.reply())[3] != b"done":
                got.append(f"{msg[2].split(b':')[1].decode()}:{msg[3].decode()}")
            assert (got or (["err"] if err(reply) else [])) == want, argv
    finally:
        sub.close()


# Each case: setup commands (another connection), then the command whose own notifications the
# RESP3 client receives, before or after its reply as Redis's code orders them.
_SETUP = [("SET", "s", "hello"), ("EXPIRE", "s", 1000), ("SET", "n", "10"),
          ("RPUSH", "l", "a", "b", "c", "d"), ("HSET", "h", "f", "1"), ("SADD", "st", "a", "b"),
          ("SADD", "st2", "b", "x"), ("ZADD", "z", 1, "a", 2, "b"), ("ZADD", "z2", 5, "q"),
          ("XADD", "x", "1-1", "f", "v"), ("XGROUP", "CREATE", "x", "g", "0")]
_OWN = [
    ("SET", "s", "v"), ("SET", "s", "v", "GET"), ("SET", "s", "v", "GET", "EX", 100),
    ("GETSET", "s", "w"), ("GETDEL", "s"), ("GETEX", "s", "PX", 5000), ("GETEX", "s", "PERSIST"),
    ("BITFIELD", "bf", "SET", "u8", 0, 5), ("INCR", "n"), ("APPEND", "s", "x"),
    ("EXPIRE", "s", 100), ("EXPIRE", "s", -1), ("PEXPIREAT", "s", 1), ("DEL", "s", "l"),
    ("LPUSH", "l", "x"), ("RPUSHX", "l", "y"), ("LSET", "l", 0, "q"), ("LPOP", "l", 10),
    ("RPOP", "l"), ("LMPOP", 1, "l", "LEFT"), ("BLPOP", "l", 1), ("LMOVE", "l", "l2", "LEFT",
                                                                      "RIGHT"),
    ("LINSERT", "l", "BEFORE", "a", "z"), ("HSET", "h", "f", "2"), ("HINCRBYFLOAT", "h", "f", 1),
    ("HDEL", "h", "f"), ("SADD", "st", "c"), ("SREM", "st", "a"), ("SINTERSTORE", "st2", "st",
                                                              "nokey"),
    ("SINTERSTORE", "d", "st", "st2"), ("SUNIONSTORE", "d", "st"), ("SDIFFSTORE", "st2", "st",
                                                                     "st"),
    ("ZADD", "z", 3, "c"), ("ZADD", "z", "INCR", 1, "a"), ("ZINCRBY", "z", 2, "b"),
    ("ZPOPMIN", "z"), ("ZPOPMAX", "z", 5), ("ZMPOP", 2, "nokey", "z", "MIN", "COUNT", 1),
    ("BZPOPMAX", "nokey", "z", 1), ("BZMPOP", 1, 1, "z", "MAX"),
    ("ZUNIONSTORE", "z2", 1, "nokey"), ("ZRANGESTORE", "d", "z", 0, -1), ("ZREM", "z", "a"),
    ("XADD", "x", "MAXLEN", 1, "3-1", "f", "v"), ("XSETID", "x", "5-0"),
    ("XGROUP", "CREATE", "x", "g2", "$"),
    ("GEOADD", "geo", 13.36, 38.11, "p"), ("RENAME", "n", "n2"),
    ("RPOPLPUSH", "l", "l"), ("BLMOVE", "l", "l3", "RIGHT", "LEFT", 1), ("SMOVE", "st", "st2", "a"),
    ("BRPOPLPUSH", "l", "l4", 1), ("LMOVE", "l2", "l", "LEFT", "LEFT"), ("ZADD", "new", 1, "a"),
    ("XADD", "x", "MINID", "9-0", "9-1", "f", "v"), ("HSETNX", "h2", "f", "v"), ("SETRANGE", "s", 0, "y"),
    ("ZREMRANGEBYRANK", "z", 0, -1), ("SORT", "l", "ALPHA", "STORE", "d"), ("COPY", "l", "d"),
    ("EVAL", "redis.call('lpush', 'l', 'e') return redis.call('set', 's', 'e')", 0),
]
# Transactions: the pushes go inside the EXEC array, among the replies
_TRANSACTIONS = [
    [("MULTI",), ("LPUSH", "l", "m"), ("SET", "s", "m"), ("INCR", "s"), ("EXEC",)],
    [("MULTI",), ("GET", "s"), ("PUBLISH", "__keyevent@0__:mine", "hi"), ("HSET", "h", "a", "b"),
     ("EXEC",)],
    [("MULTI",), ("GET", "s"), ("EXEC",)],
    [("MULTI",), ("ZPOPMIN", "z", 5), ("LPOP", "l"), ("EXEC",)],
]
# (Not compared: XREADGROUP's new consumer, whose notification Redis writes inside the reply.)


def _own_notifications(port: int) -> list[bytes]:
    sub = Conn(port)
    other = Conn(port)
    sub("HELLO", "3")
    sub("FLUSHALL")
    sub("CONFIG", "SET", "notify-keyspace-events", "KEA")
    sub("PSUBSCRIBE", "__keyevent@0__:*")
    got = []
    try:
        for case in [[argv] for argv in _OWN] + _TRANSACTIONS:
            other("FLUSHALL")
            for setup in _SETUP:
                other(*setup)
            # What came before (the setup's events) ends at a PONG, then the case's own do
            for commands in ([("PING",)], case):
                sub.send(b"".join(Conn.encode(*argv) for argv in commands)
                         + Conn.encode("PING"))
                raw = sub.read_raw(until=b"+PONG\r\n")
                assert raw.endswith(b"+PONG\r\n"), (case, raw)
            got.append(raw)
    finally:
        sub("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()
        other.close()
    return got


def test_a_resp3_client_gets_its_own_notifications_where_redis_puts_them(ports):
    """Redis replies before notifying for some commands (LPUSH, HSET, ZADD, EXPIRE, SET GET...)
    and after for others (SET, DEL, LMOVE, SPOP...): the subscribed client sees which."""
    got = {kind: _own_notifications(port) for kind, port in ports.items()}
    for case, kv, redis_raw in zip(_OWN + _TRANSACTIONS, got["kvstore"], got["redis"]):
        assert kv == redis_raw, case
    # Both orders occur: the comparison above is not between two streams of one shape
    assert any(raw.startswith(b">") for raw in got["redis"])
    assert any(not raw.startswith(b">") and b"\r\n>" in raw for raw in got["redis"])
