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
