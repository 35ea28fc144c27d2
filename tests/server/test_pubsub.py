"""SUBSCRIBE & co., PUBLISH, PUBSUB, RESP2 subscribed mode and RESP3 pushes, black-box against
kvstore AND redis-server."""

from __future__ import annotations

import pytest
import redis

from .helpers import Conn, err


@pytest.fixture
def c(server):
    conn = Conn(server.port)
    yield conn
    conn.close()


def test_subscribe_publish_resp2(server, c):
    assert c("SUBSCRIBE", "ch1", "ch2") == [b"subscribe", b"ch1", 1]
    assert c.reply() == [b"subscribe", b"ch2", 2]
    assert c("PSUBSCRIBE", "ch*") == [b"psubscribe", b"ch*", 3]
    pub = Conn(server.port)
    assert pub("PUBLISH", "ch1", "hello") == 2
    assert c.reply() == [b"message", b"ch1", b"hello"]
    assert c.reply() == [b"pmessage", b"ch*", b"ch1", b"hello"]
    assert pub("PUBLISH", "nobody", "x") == 0
    assert pub("PUBSUB", "NUMSUB", "ch1", "zz") == [b"ch1", 1, b"zz", 0]
    assert pub("PUBSUB", "NUMPAT") == 1
    assert sorted(pub("PUBSUB", "CHANNELS")) == [b"ch1", b"ch2"]
    assert pub("PUBSUB", "CHANNELS", "*2") == [b"ch2"]
    first, second = c("UNSUBSCRIBE"), c.reply()  # Redis walks its dict: order unspecified
    assert {first[1], second[1]} == {b"ch1", b"ch2"}
    assert (first[0], first[2], second[0], second[2]) == (b"unsubscribe", 2, b"unsubscribe", 1)
    assert c("PUNSUBSCRIBE", "nomatch") == [b"punsubscribe", b"nomatch", 1]
    assert c("PUNSUBSCRIBE") == [b"punsubscribe", b"ch*", 0]
    assert c("UNSUBSCRIBE") == [b"unsubscribe", None, 0]
    assert c("GET", "x") is None  # out of subscribed mode
    pub.close()


def _stat(conn, field: str) -> int:
    line = next(x for x in conn("INFO", "stats").decode().split("\r\n")
                if x.startswith(field + ":"))
    return int(line.split(":")[1])


def test_info_counts_channels_and_patterns(server, c):
    admin = Conn(server.port)
    base = (_stat(admin, "pubsub_channels"), _stat(admin, "pubsub_patterns"))
    c("SUBSCRIBE", "info-a", "info-b")
    c.reply()
    c("PSUBSCRIBE", "info-*")
    other = Conn(server.port)
    other("SUBSCRIBE", "info-a")  # a channel with two subscribers counts once
    assert (_stat(admin, "pubsub_channels"), _stat(admin, "pubsub_patterns")) == \
        (base[0] + 2, base[1] + 1)
    c("UNSUBSCRIBE", "info-b")
    c("PUNSUBSCRIBE")
    assert (_stat(admin, "pubsub_channels"), _stat(admin, "pubsub_patterns")) == \
        (base[0] + 1, base[1])
    other.close()
    admin.close()


def test_subscribed_mode_restrictions(c):
    c("SUBSCRIBE", "a")
    assert err(c("GET", "x")) == ("ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                                  "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
                                  "context")
    assert err(c("NOPE")) == "ERR unknown command 'NOPE', with args beginning with: "
    assert c("PING") == [b"pong", b""]
    assert c("PING", "hi") == [b"pong", b"hi"]
    c.send(Conn.encode("PING"))
    assert c.read_raw(until=b"\r\n\r\n") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert c("RESET") == b"RESET"
    assert c("PING") == b"PONG"


def test_resp3_push_and_normal_commands(server, c):
    c("HELLO", "3")
    c.send(Conn.encode("SUBSCRIBE", "n"))
    assert c.read_raw(until=b":1\r\n") == b">3\r\n$9\r\nsubscribe\r\n$1\r\nn\r\n:1\r\n"
    assert c("GET", "nokey") is None  # every command still allowed
    assert c("PING") == b"PONG"
    pub = Conn(server.port)
    pub("PUBLISH", "n", "m")
    assert c.read_raw(until=b"$1\r\nm\r\n") == b">3\r\n$7\r\nmessage\r\n$1\r\nn\r\n$1\r\nm\r\n"
    pub.close()


def test_disconnect_leaves_nothing(server):
    sub = Conn(server.port)
    sub("SUBSCRIBE", "gone")
    sub("PSUBSCRIBE", "gone*")
    sub.close()
    pub = Conn(server.port)
    for _ in range(100):
        if pub("PUBSUB", "NUMSUB", "gone") == [b"gone", 0] and pub("PUBSUB", "NUMPAT") == 0:
            break
    assert pub("PUBLISH", "gone", "x") == 0
    pub.close()


def test_arity_and_errors(c):
    assert err(c("SUBSCRIBE")) == "ERR wrong number of arguments for 'subscribe' command"
    assert err(c("PUBLISH", "a")) == "ERR wrong number of arguments for 'publish' command"
    assert err(c("PUBSUB", "NUMPAT", "x")) == ("ERR wrong number of arguments for "
                                               "'pubsub|numpat' command")
    assert c("PUBSUB", "NUMSUB") == []
    assert c("UNSUBSCRIBE") == [b"unsubscribe", None, 0]


def test_pattern_glob(server, c):
    c("PSUBSCRIBE", "h?llo", "a[bc]d", "x\\*")
    c.reply(), c.reply()
    pub = Conn(server.port)
    assert pub("PUBLISH", "hello", "1") == 1
    assert pub("PUBLISH", "hallo", "2") == 1
    assert pub("PUBLISH", "acd", "3") == 1
    assert pub("PUBLISH", "x*", "4") == 1
    assert pub("PUBLISH", "xy", "5") == 0
    got = [c.reply() for _ in range(4)]
    assert [m[2] for m in got] == [b"hello", b"hallo", b"acd", b"x*"]
    pub.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pubsub(server, protocol):
    r = redis.Redis(port=server.port, protocol=protocol)
    p = r.pubsub()
    p.subscribe("news")
    assert p.get_message(timeout=2)["type"] == "subscribe"
    p.psubscribe("ne*")
    assert p.get_message(timeout=2)["type"] == "psubscribe"
    assert r.publish("news", "hi") == 2
    m1 = p.get_message(timeout=2)
    m2 = p.get_message(timeout=2)
    assert (m1["type"], m1["data"]) == ("message", b"hi")
    assert (m2["type"], m2["pattern"], m2["data"]) == ("pmessage", b"ne*", b"hi")
    assert r.pubsub_numsub("news") == [(b"news", 1)]
    p.close()
    r.close()


def test_resp3_publish_to_self_order(c):
    c("HELLO", "3")
    c("SUBSCRIBE", "me")
    c.send(Conn.encode("ECHO", "first") + Conn.encode("PUBLISH", "me", "hi"))
    data = c.read_raw(until=b":1\r\n")
    assert data == (b"$5\r\nfirst\r\n>3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n:1\r\n")


def test_client_list_fields(server, c):
    c("SUBSCRIBE", "a", "b")
    c.reply()
    c("PSUBSCRIBE", "p*")
    other = Conn(server.port)
    line = [ln for ln in other("CLIENT", "LIST").decode().splitlines() if "sub=2" in ln]
    assert len(line) == 1 and "psub=1" in line[0] and "flags=P" in line[0]
    other.close()
