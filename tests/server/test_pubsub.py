"""SUBSCRIBE & co., PUBLISH, PUBSUB, RESP2 subscribed mode and RESP3 pushes, black-box against
kvstore AND redis-server."""

from __future__ import annotations

import time

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
    assert err(c("EXEC")) == ("EXECABORT Transaction discarded because of: Can't execute "
                              "'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
                              "RESET are allowed in this context")
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


def test_resp3_publish_to_self_from_a_script_is_a_push(c):
    # The script's replies take its own protocol (RESP2 here); its caller's message stays a push
    c("HELLO", "3")
    c("SUBSCRIBE", "me")
    c.send(Conn.encode("EVAL", "redis.call('publish', 'me', 'hi') return 1", "0"))
    data = c.read_raw(until=b":1\r\n")
    assert data == b">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n:1\r\n"


def test_client_list_fields(server, c):
    c("SUBSCRIBE", "a", "b")
    c.reply()
    c("PSUBSCRIBE", "p*")
    other = Conn(server.port)
    line = [ln for ln in other("CLIENT", "LIST").decode().splitlines() if "sub=2" in ln]
    assert len(line) == 1 and "psub=1" in line[0] and "flags=P" in line[0]
    other.close()


# -- sharded pub/sub (Redis 7.0, standalone) ----------------------------------------------------

_SHARD_ERR = ("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
              "RESET are allowed in this context")


def test_shard_channels_resp2_bytes(server, c):
    c.send(Conn.encode("SSUBSCRIBE", "s1", "s2"))
    assert c.read_raw(until=b"s2\r\n:2\r\n") == (b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n"
                                                 b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n")
    # counts are per family: SUBSCRIBE's exclude shard channels, SSUBSCRIBE's count only them
    assert c("SUBSCRIBE", "s1") == [b"subscribe", b"s1", 1]
    assert c("PSUBSCRIBE", "s*") == [b"psubscribe", b"s*", 2]
    assert c("SSUBSCRIBE", "s1", "s3") == [b"ssubscribe", b"s1", 2]
    assert c.reply() == [b"ssubscribe", b"s3", 3]
    pub = Conn(server.port)
    assert pub("SPUBLISH", "s2", "hi") == 1  # neither the pattern nor a plain subscriber
    assert c.read_raw(until=b"hi\r\n") == b"*3\r\n$8\r\nsmessage\r\n$2\r\ns2\r\n$2\r\nhi\r\n"
    assert pub("PUBLISH", "s2", "plain") == 1  # the pattern only: no shard subscriber sees it
    assert c.reply() == [b"pmessage", b"s*", b"s2", b"plain"]
    assert pub("SPUBLISH", "nobody", "x") == 0
    assert pub("PUBSUB", "SHARDNUMSUB", "s1", "s2", "zz") == [b"s1", 1, b"s2", 1, b"zz", 0]
    assert pub("PUBSUB", "SHARDNUMSUB") == []
    assert pub("PUBSUB", "NUMSUB", "s1", "s2") == [b"s1", 1, b"s2", 0]
    assert sorted(pub("PUBSUB", "SHARDCHANNELS")) == [b"s1", b"s2", b"s3"]
    assert sorted(pub("PUBSUB", "SHARDCHANNELS", "s[12]")) == [b"s1", b"s2"]
    assert pub("PUBSUB", "CHANNELS") == [b"s1"]
    c.send(Conn.encode("SUNSUBSCRIBE", "s2", "zz"))
    assert c.read_raw(until=b"zz\r\n:2\r\n") == (
        b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:2\r\n"
        b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\nzz\r\n:2\r\n")
    first, second = c("SUNSUBSCRIBE"), c.reply()  # Redis walks its dict: order unspecified
    assert {first[1], second[1]} == {b"s1", b"s3"} and (first[2], second[2]) == (1, 0)
    c.send(Conn.encode("SUNSUBSCRIBE"))
    assert c.read_raw(until=b":0\r\n") == b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
    assert err(c("GET", "x")) == _SHARD_ERR  # the channel and the pattern remain
    c("UNSUBSCRIBE"), c("PUNSUBSCRIBE")
    assert c("GET", "x") is None
    pub.close()


def test_shard_subscribed_mode(server, c):
    assert c("SSUBSCRIBE", "only") == [b"ssubscribe", b"only", 1]
    assert err(c("GET", "x")) == _SHARD_ERR
    assert c("PING") == [b"pong", b""]
    # no plain subscription to drop: a null name and a count of 0, yet still subscribed
    assert c("UNSUBSCRIBE") == [b"unsubscribe", None, 0]
    assert c("PUNSUBSCRIBE") == [b"punsubscribe", None, 0]
    assert err(c("GET", "x")) == _SHARD_ERR
    assert c("SUNSUBSCRIBE", "only") == [b"sunsubscribe", b"only", 0]
    assert c("GET", "x") is None
    # inside EXEC SUBSCRIBE still runs, SSUBSCRIBE is refused (Redis's DENY BLOCKING check)
    c("MULTI"), c("SSUBSCRIBE", "m"), c("SUBSCRIBE", "m")
    replies = c("EXEC")
    assert err(replies[0]) == "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"
    assert replies[1] == [b"subscribe", b"m", 1]
    assert c("RESET") == b"RESET"


def test_shard_resp3_push_bytes(server, c):
    c("HELLO", "3")
    c.send(Conn.encode("SSUBSCRIBE", "r"))
    assert c.read_raw(until=b":1\r\n") == b">3\r\n$10\r\nssubscribe\r\n$1\r\nr\r\n:1\r\n"
    assert c("GET", "nokey") is None  # every command still allowed
    c.send(Conn.encode("ECHO", "first") + Conn.encode("SPUBLISH", "r", "hi"))
    assert c.read_raw(until=b":1\r\n") == (b"$5\r\nfirst\r\n>3\r\n$8\r\nsmessage\r\n$1\r\nr\r\n"
                                           b"$2\r\nhi\r\n:1\r\n")
    c.send(Conn.encode("SUNSUBSCRIBE"))
    assert c.read_raw(until=b":0\r\n") == b">3\r\n$12\r\nsunsubscribe\r\n$1\r\nr\r\n:0\r\n"
    c.send(Conn.encode("SUNSUBSCRIBE"))
    assert c.read_raw(until=b":0\r\n") == b">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n"


def test_hello_2_with_shard_subscriptions_is_subscribed_mode(c):
    c("HELLO", "3")
    c("SSUBSCRIBE", "h")
    assert c("GET", "x") is None
    c("HELLO", "2")
    assert err(c("GET", "x")) == _SHARD_ERR
    c("RESET")


def test_reset_and_disconnect_drop_shard_subscriptions(server, c):
    c("SSUBSCRIBE", "a")
    assert c("RESET") == b"RESET"
    assert c("PUBSUB", "SHARDNUMSUB", "a") == [b"a", 0]
    assert c("GET", "x") is None
    gone = Conn(server.port)
    gone("SSUBSCRIBE", "gone")
    gone.close()
    for _ in range(100):
        if c("PUBSUB", "SHARDNUMSUB", "gone") == [b"gone", 0]:
            break
    assert c("SPUBLISH", "gone", "x") == 0


def _pubsub_stats(conn) -> dict:
    return dict(ln.split(":", 1) for ln in conn("INFO", "stats").decode().splitlines()
                if ln.startswith("pubsub"))


def test_shard_client_list_and_info(server, c):
    other = Conn(server.port)
    idle = {"pubsub_channels": "0", "pubsub_patterns": "0", "pubsubshard_channels": "0"}
    for _ in range(100):  # the connections of earlier tests may still be closing
        if _pubsub_stats(other) == idle:
            break
        time.sleep(0.01)
    c("SSUBSCRIBE", "a", "b")
    c.reply()
    line = [ln for ln in other("CLIENT", "LIST").decode().splitlines() if "ssub=2" in ln]
    assert len(line) == 1 and " sub=0 psub=0 " in line[0] and "flags=P" in line[0]
    assert "ssub=2" in other("CLIENT", "LIST", "TYPE", "PUBSUB").decode()
    c("GET", "refused")
    line = [ln for ln in other("CLIENT", "LIST").decode().splitlines() if "ssub=2" in ln]
    assert "cmd=get" in line[0]  # Redis records the refused command
    assert _pubsub_stats(other) == dict(idle, pubsubshard_channels="2")
    c("SUBSCRIBE", "x")
    c("PSUBSCRIBE", "p*")
    stats = other("INFO", "stats").decode()
    assert "pubsub_channels:1\r\npubsub_patterns:1\r\npubsubshard_channels:2\r\n" in stats
    other.close()


def test_subscribed_mode_commandstats(server, c):
    c("CONFIG", "RESETSTAT")
    c("SUBSCRIBE", "x")
    c("GET", "k")
    c("PING")
    other = Conn(server.port)
    stats = other("INFO", "commandstats").decode()
    assert "cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0" in stats
    assert "cmdstat_ping:calls=1," in stats
    other.close()


def test_shard_command_info_and_getkeys(c):
    info = {e[0]: e for e in c("COMMAND", "INFO", "spublish", "ssubscribe", "sunsubscribe",
                               "publish")}
    assert info[b"spublish"][:6] == [b"spublish", 3, [b"pubsub", b"loading", b"stale", b"fast"],
                                     1, 1, 1]
    assert info[b"ssubscribe"][:6] == [b"ssubscribe", -2,
                                       [b"pubsub", b"noscript", b"loading", b"stale"], 1, -1, 1]
    assert info[b"sunsubscribe"][1:6] == [-1, [b"pubsub", b"noscript", b"loading", b"stale"],
                                          1, -1, 1]
    assert info[b"publish"][2] == [b"pubsub", b"loading", b"stale", b"fast"]
    assert info[b"spublish"][6] == [b"@pubsub", b"@fast"]
    help_info = c("COMMAND", "INFO", "pubsub|help")[0]
    assert help_info[:7] == [b"pubsub|help", 2, [b"loading", b"stale"], 0, 0, 0, [b"@slow"]]
    # declared as keys, flagged NOT_KEY: no key for GETKEYS
    for argv in (("spublish", "a", "m"), ("ssubscribe", "a", "b"), ("sunsubscribe", "a")):
        assert err(c("COMMAND", "GETKEYS", *argv)) == "ERR The command has no key arguments"


def test_shard_arity_and_pubsub_errors(c):
    assert err(c("SSUBSCRIBE")) == "ERR wrong number of arguments for 'ssubscribe' command"
    assert err(c("SPUBLISH", "a")) == "ERR wrong number of arguments for 'spublish' command"
    assert err(c("SPUBLISH", "a", "b", "c")) == ("ERR wrong number of arguments for 'spublish' "
                                                 "command")
    assert err(c("PUBSUB", "CHANNELS", "a", "b")) == (
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
    assert err(c("pubsub", "shardchannels", "a", "b")) == (
        "ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB "
        "HELP.")
    assert err(c("PUBSUB", "HELP", "x")) == ("ERR wrong number of arguments for 'pubsub|help' "
                                             "command")
    assert c("SUNSUBSCRIBE") == [b"sunsubscribe", None, 0]  # nothing to leave: normal mode
    assert c("GET", "x") is None


def test_pubsub_help(c):
    c.send(Conn.encode("PUBSUB", "HELP"))
    assert c.read_raw(until=b"Prints this help.\r\n") == (
        b"*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        b"+CHANNELS [<pattern>]\r\n"
        b"+    Return the currently active channels matching a <pattern> (default: '*').\r\n"
        b"+NUMPAT\r\n+    Return number of subscriptions to patterns.\r\n"
        b"+NUMSUB [<channel> ...]\r\n"
        b"+    Return the number of subscribers for the specified channels, excluding\r\n"
        b"+    pattern subscriptions(default: no channels).\r\n"
        b"+SHARDCHANNELS [<pattern>]\r\n"
        b"+    Return the currently active shard level channels matching a <pattern> "
        b"(default: '*').\r\n"
        b"+SHARDNUMSUB [<shardchannel> ...]\r\n"
        b"+    Return the number of subscribers for the specified shard level channel(s)\r\n"
        b"+HELP\r\n+    Prints this help.\r\n")


def test_keyspace_notifications_skip_shard_channels(server, c):
    other = Conn(server.port)
    other("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        c("SSUBSCRIBE", "__keyspace@0__:nk")
        c("SUBSCRIBE", "__keyspace@0__:nk")
        other("SET", "nk", "1")
        assert c.reply() == [b"message", b"__keyspace@0__:nk", b"set"]  # the plain one only
        assert other("SPUBLISH", "__keyspace@0__:nk", "x") == 1
        assert c.reply() == [b"smessage", b"__keyspace@0__:nk", b"x"]
    finally:
        other("CONFIG", "SET", "notify-keyspace-events", "")
        other("DEL", "nk")
        other.close()


def test_client_pause_write_postpones_spublish(server, c):
    other = Conn(server.port)
    assert other("CLIENT", "PAUSE", "300", "WRITE") == b"OK"
    t0 = time.monotonic()
    assert c("SPUBLISH", "x", "y") == 0  # may replicate: it waits like a write
    assert time.monotonic() - t0 >= 0.2
    other.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_sharded_pubsub(server, protocol):
    r = redis.Redis(port=server.port, protocol=protocol)
    p = r.pubsub()
    p.ssubscribe("shard")
    assert p.get_sharded_message(timeout=2) == {"type": "ssubscribe", "pattern": None,
                                                "channel": b"shard", "data": 1}
    p.subscribe("shard")
    assert p.get_message(timeout=2)["type"] == "subscribe"
    assert r.spublish("shard", "hi") == 1
    assert p.get_sharded_message(timeout=2) == {"type": "smessage", "pattern": None,
                                                "channel": b"shard", "data": b"hi"}
    assert r.pubsub_shardnumsub("shard") == [(b"shard", 1)]
    assert r.pubsub_shardchannels() == [b"shard"]
    p.sunsubscribe("shard")
    assert p.get_sharded_message(timeout=2)["type"] == "sunsubscribe"
    assert r.spublish("shard", "gone") == 0
    p.close()
    r.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_confirmations_pass_client_reply_off(c, proto):
    # Redis sends (un)subscribe confirmations as pushes, past CLIENT REPLY OFF and SKIP; every
    # other reply is held back, a subscribed PING's or a refusal's too.
    if proto == 3:
        c("HELLO", "3")
    c.send(Conn.encode("CLIENT", "REPLY", "OFF") + Conn.encode("SUBSCRIBE", "ch")
           + Conn.encode("PING") + Conn.encode("SSUBSCRIBE", "sh") + Conn.encode("GET", "k"))
    assert c.reply() == [b"subscribe", b"ch", 1]
    assert c.reply() == [b"ssubscribe", b"sh", 1]
    c.send(Conn.encode("SUNSUBSCRIBE") + Conn.encode("PING", "x") + Conn.encode("UNSUBSCRIBE")
           + Conn.encode("MULTI") + Conn.encode("SET", "k", "v") + Conn.encode("EXEC")
           + Conn.encode("CLIENT", "REPLY", "ON"))
    assert c.reply() == [b"sunsubscribe", b"sh", 0]
    assert c.reply() == [b"unsubscribe", b"ch", 0]
    assert c.reply() == b"OK"
    c.send(Conn.encode("CLIENT", "REPLY", "SKIP") + Conn.encode("SUBSCRIBE", "a")
           + Conn.encode("UNSUBSCRIBE", "a") + Conn.encode("CLIENT", "REPLY", "SKIP")
           + Conn.encode("GET", "k") + Conn.encode("ECHO", "back"))
    assert c.reply() == [b"subscribe", b"a", 1]
    assert c.reply() == [b"unsubscribe", b"a", 0]
    assert c.reply() == b"back"


def test_client_reply_off_lets_the_clients_own_messages_by(server, c):
    def push(text):
        return b">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$%d\r\n%s\r\n" % (len(text), text)

    c("HELLO", "3")
    c("SUBSCRIBE", "me")
    c.send(Conn.encode("CLIENT", "REPLY", "OFF") + Conn.encode("PUBLISH", "me", "own"))
    assert c.read_raw(until=push(b"own")) == push(b"own")
    other = Conn(server.port)
    assert other("PUBLISH", "me", "other") == 1
    other.close()
    c.send(Conn.encode("CLIENT", "REPLY", "ON"))
    assert c.read_raw(until=b"+OK\r\n") == push(b"other") + b"+OK\r\n"
