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
