"""BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP: blocking, serving, timeouts, FIFO, black-box against
kvstore AND redis-server. Short timeouts (tens of ms) are real waits: both servers keep time."""

from __future__ import annotations

import time

import pytest
import redis

from .helpers import Conn, err


def _other(c):
    return Conn(c.sock.getpeername()[1])


def _wait_blocked(other, n=1):
    for _ in range(200):
        info = other("CLIENT", "LIST").decode()
        if info.count("flags=b") >= n:
            return
        time.sleep(0.005)
    raise AssertionError("client never blocked")


def test_immediate(c):
    c("RPUSH", "l", "a", "b", "c")
    assert c("BLPOP", "none", "l", "0") == [b"l", b"a"]
    assert c("BRPOP", "l", "0") == [b"l", b"c"]
    assert c("BRPOPLPUSH", "l", "d", "0") == b"b"
    assert c("BLMOVE", "d", "e", "LEFT", "RIGHT", "0") == b"b"
    c("RPUSH", "m", "1", "2", "3")
    assert c("BLMPOP", "0", "2", "x", "m", "RIGHT", "COUNT", "2") == [b"m", [b"3", b"2"]]
    assert c("EXISTS", "l", "d") == 0


def test_errors(c):
    c("SET", "s", "x")
    assert err(c("BLPOP", "s", "0")).startswith("WRONGTYPE")
    assert err(c("BLPOP", "l", "-1")) == "ERR timeout is negative"
    assert err(c("BLPOP", "l", "abc")) == "ERR timeout is not a float or out of range"
    assert err(c("BLPOP", "l", "inf")) == "ERR timeout is negative"
    assert err(c("BLPOP", "l", " 1")) == "ERR timeout is not a float or out of range"
    assert err(c("BLPOP", "l")) == "ERR wrong number of arguments for 'blpop' command"
    assert err(c("BLMOVE", "a", "b", "UP", "LEFT", "x")) == "ERR syntax error"
    assert err(c("BLMOVE", "a", "b", "LEFT", "LEFT", "x")) == (
        "ERR timeout is not a float or out of range")
    assert err(c("BLMPOP", "x", "0", "a", "LEFT")) == "ERR numkeys should be greater than 0"
    assert err(c("BLMPOP", "x", "1", "a", "LEFT")) == (
        "ERR timeout is not a float or out of range")
    assert err(c("BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0")) == (
        "ERR count should be greater than 0")


def test_timeout_replies(c):
    assert c("BLPOP", "l", "0.02") is None
    c.send(Conn.encode("BRPOPLPUSH", "l", "d", "0.02"))
    assert c.read_raw(until=b"\r\n") == b"*-1\r\n"
    c.send(Conn.encode("BLMPOP", "0.02", "1", "l", "LEFT"))
    assert c.read_raw(until=b"\r\n") == b"*-1\r\n"
    c("HELLO", "3")
    c.send(Conn.encode("BLPOP", "l", "0.02"))
    assert c.read_raw(until=b"\r\n") == b"_\r\n"


def test_woken_by_push_fifo(c):
    a, b = _other(c), _other(c)
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c, 1)
    b.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c, 2)
    assert c("RPUSH", "q", "1", "2", "3") == 3
    assert a.reply() == [b"q", b"1"]
    assert b.reply() == [b"q", b"2"]
    assert c("LRANGE", "q", "0", "-1") == [b"3"]
    a.close()
    b.close()


def test_served_before_next_command_of_pipeline(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c)
    c.send(Conn.encode("RPUSH", "q", "x") + Conn.encode("LPOP", "q"))
    assert c.reply() == 1
    assert c.reply() is None  # the blocked client got it first
    assert a.reply() == [b"q", b"x"]
    a.close()


def test_pipeline_after_blocking_command_waits(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "q", "0") + Conn.encode("PING") + Conn.encode("GET", "q"))
    _wait_blocked(c)
    c("LPUSH", "q", "v")
    assert a.reply() == [b"q", b"v"]
    assert a.reply() == b"PONG"
    assert a.reply() is None
    a.close()


def test_blmove_chain_and_multi_wakeup(c):
    a, b = _other(c), _other(c)
    a.send(Conn.encode("BLMOVE", "src", "mid", "LEFT", "LEFT", "0"))
    _wait_blocked(c, 1)
    b.send(Conn.encode("BRPOP", "mid", "0"))
    _wait_blocked(c, 2)
    c("RPUSH", "src", "e")
    assert a.reply() == b"e"
    assert b.reply() == [b"mid", b"e"]
    assert c("EXISTS", "src", "mid") == 0
    a.close()
    b.close()


def test_exec_wakes_after_transaction(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c)
    c("MULTI")
    c("RPUSH", "q", "1")
    c("LPOP", "q")
    c("RPUSH", "q", "2")
    assert c("EXEC") == [1, b"1", 1]
    assert a.reply() == [b"q", b"2"]
    a.close()


def test_inside_multi_nothing_blocks_and_the_nulls_are_the_plain_commands(c):
    for proto, nulls in ((2, b"*6\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n*-1\r\n*-1\r\n"),
                         (3, b"*6\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n")):
        c("HELLO", str(proto))
        c("MULTI")
        for argv in (("BLMOVE", "a", "b", "LEFT", "RIGHT", "0"), ("BRPOPLPUSH", "a", "b", "0"),
                     ("BZPOPMIN", "z", "0"), ("BLMPOP", "0", "1", "a", "LEFT"),
                     ("BZMPOP", "0", "1", "z", "MIN"), ("BLPOP", "a", "0")):
            assert c(*argv) == b"QUEUED"
        c.send(Conn.encode("EXEC"))
        assert c.read_raw(until=nulls) == nulls


def test_wrong_type_keeps_blocked_and_disconnect(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "k", "0"))
    _wait_blocked(c)
    c("SET", "k", "str")
    c("DEL", "k")
    a.close()  # leaves while blocked
    for _ in range(200):
        if "flags=b" not in c("CLIENT", "LIST").decode():
            break
        time.sleep(0.005)
    assert c("RPUSH", "k", "x") == 1
    assert c("LLEN", "k") == 1  # nobody took it


def test_client_that_sent_more_and_left_while_blocked_takes_nothing(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c)
    a.send(Conn.encode("PING"))  # held while blocked: the server must still see the close
    a.close()
    deadline = time.monotonic() + 5
    while "flags=b" in c("CLIENT", "LIST").decode():
        assert time.monotonic() < deadline, "the departed client stays blocked"
        time.sleep(0.005)
    assert c("RPUSH", "q", "x") == 1
    assert c("LLEN", "q") == 1  # nobody took it


def test_input_held_while_blocked_is_bounded_by_the_query_buffer_limit(c):
    c("CONFIG", "SET", "client-query-buffer-limit", "1mb")
    try:
        a = _other(c)
        a.send(Conn.encode("BLPOP", "q", "0"))
        _wait_blocked(c)
        chunk = Conn.encode("SET", "k", "x" * 65536)
        deadline = time.monotonic() + 10
        try:
            for _ in range(64):  # 4 MB, sent while blocked
                a.sock.sendall(chunk)
        except OSError:
            pass  # cut off while sending
        while "flags=b" in c("CLIENT", "LIST").decode():
            assert time.monotonic() < deadline, "the blocked client's input grew past the limit"
            time.sleep(0.005)
        assert c("EXISTS", "k") == 0
    finally:
        c("CONFIG", "SET", "client-query-buffer-limit", "1gb")


def test_blmpop_served_with_count(c):
    a = _other(c)
    a.send(Conn.encode("BLMPOP", "0", "2", "x", "y", "LEFT", "COUNT", "5"))
    _wait_blocked(c)
    c("RPUSH", "y", "1", "2", "3")
    assert a.reply() == [b"y", [b"1", b"2", b"3"]]
    a.close()


def test_client_unblock(c):
    a = _other(c)
    cid = a("CLIENT", "ID")
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c)
    assert c("CLIENT", "UNBLOCK", cid) == 1
    assert a.reply() is None
    a.send(Conn.encode("BLPOP", "q", "0"))
    _wait_blocked(c)
    assert c("CLIENT", "UNBLOCK", cid, "ERROR") == 1
    assert err(a.reply()) == "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    assert c("CLIENT", "UNBLOCK", cid) == 0
    a.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py(server, protocol):
    r = redis.Redis(port=server.port, protocol=protocol)
    r.flushall()
    assert r.blpop(["q"], timeout=0.02) is None
    r.rpush("q", "a", "b")
    assert r.blpop(["q"], timeout=1) == (b"q", b"a") or r.blpop(["q"], 1) is not None
    assert r.brpoplpush("q", "d", timeout=1) in (b"b", None)
    assert r.blmove("nothing", "d", 0.02) is None
    r.close()


def test_zset_immediate_and_errors(c):
    c("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c("BZPOPMIN", "none", "z", "0") == [b"z", b"a", b"1"]
    assert c("BZPOPMAX", "z", "0") == [b"z", b"c", b"3"]
    c("ZADD", "z", "5", "e")
    assert c("BZMPOP", "0", "1", "z", "MAX", "COUNT", "5") == [b"z", [[b"e", b"5"], [b"b", b"2"]]]
    assert c("EXISTS", "z") == 0
    c("SET", "s", "x")
    assert err(c("BZPOPMIN", "s", "0")).startswith("WRONGTYPE")
    assert err(c("BZPOPMIN", "z", "abc")) == "ERR timeout is not a float or out of range"
    assert err(c("BZMPOP", "abc", "1", "z", "FOO")) == "ERR syntax error"
    assert err(c("BZMPOP", "abc", "1", "z", "MIN")) == (
        "ERR timeout is not a float or out of range")
    assert c("BZPOPMIN", "z", "0.02") is None
    c("HELLO", "3")
    c("ZADD", "z", "1.5", "m")
    c.send(Conn.encode("BZPOPMIN", "z", "0"))
    assert c.read_raw(until=b",1.5\r\n") == b"*3\r\n$1\r\nz\r\n$1\r\nm\r\n,1.5\r\n"


def test_zset_woken(c):
    a, b = _other(c), _other(c)
    a.send(Conn.encode("BZPOPMAX", "z", "0"))
    _wait_blocked(c, 1)
    b.send(Conn.encode("BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"))
    _wait_blocked(c, 2)
    c("LPUSH", "z2", "x")
    c("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert a.reply() == [b"z", b"c", b"3"]
    assert b.reply() == [b"z", [[b"a", b"1"], [b"b", b"2"]]]
    a.close()
    b.close()


def test_list_waiter_ignores_zset(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "k", "0.2"))
    _wait_blocked(c)
    c("ZADD", "k", "1", "a")  # wrong type for the waiter: it stays blocked, then times out
    assert a.reply() is None
    assert c("ZCARD", "k") == 1
    a.close()


def test_waiters_for_another_type_are_passed_over(c):
    """A BZPOPMIN behind a BLPOP on the same key is served when a zset appears there; the
    BLPOP stays blocked until a list does."""
    lists, zsets = _other(c), _other(c)
    lists.send(Conn.encode("BLPOP", "k", "5"))
    _wait_blocked(c)
    zsets.send(Conn.encode("BZPOPMIN", "k", "5"))
    _wait_blocked(c, 2)
    c("SET", "k", "v")  # a string: nobody's type
    c("DEL", "k")
    c("ZADD", "k", "1", "m")
    assert zsets.reply() == [b"k", b"m", b"1"]
    assert c("EXISTS", "k") == 0
    c("RPUSH", "k", "x")
    assert lists.reply() == [b"k", b"x"]
    lists.close()
    zsets.close()


def test_input_sent_while_blocked_runs_after(c):
    a = _other(c)
    a.send(Conn.encode("BLPOP", "q", "0") + Conn.encode("SET", "k1", "1"))
    _wait_blocked(c)
    a.send(Conn.encode("SET", "k2", "2") + Conn.encode("GET", "k1"))  # arrives while blocked
    assert c("MGET", "k1", "k2") == [None, None]
    c("RPUSH", "q", "v")
    assert [a.reply() for _ in range(4)] == [[b"q", b"v"], b"OK", b"OK", b"1"]
    a.close()


def _info_clients(c) -> dict:
    text = c("INFO", "clients").decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_info_counts_blocked_clients(c):
    a, b = _other(c), _other(c)
    a.send(Conn.encode("BLPOP", "q", "0"))
    b.send(Conn.encode("BLPOP", "q", "5"))
    _wait_blocked(c, 2)
    info = _info_clients(c)
    assert (info["blocked_clients"], info["clients_in_timeout_table"]) == ("2", "1")
    c("RPUSH", "q", "1", "2")
    assert a.reply() == [b"q", b"1"] and b.reply() == [b"q", b"2"]
    info = _info_clients(c)
    assert (info["blocked_clients"], info["clients_in_timeout_table"]) == ("0", "0")
    a.close()
    b.close()


def test_a_write_of_a_type_nobody_waits_for_expires_nothing(kv_factory, server):
    # Redis never looks again at a blocked key that now holds a string (signalKeyAsReady
    # ignores the type), so a SET there with a time already past stays until it is read.
    p = kv_factory("--enable-debug-command", "yes", kind=server.kind)
    c = Conn(p.port)
    c("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    waiter = Conn(p.port)
    waiter.send(Conn.encode("BLPOP", "k", "0"))
    while b" flags=b " not in c("CLIENT", "LIST", "TYPE", "normal"):
        pass  # until it is blocked
    assert c("SET", "k", "v", "PXAT", "1") == b"OK"
    assert b"expired_keys:0\r\n" in c("INFO", "stats")
    assert c("EXISTS", "k") == 0
    assert b"expired_keys:1\r\n" in c("INFO", "stats")
    waiter.close()
    c.close()
