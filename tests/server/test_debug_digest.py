"""DEBUG DIGEST / DIGEST-VALUE give redis-server's digits for the same data (both servers
side by side), and a digest follows the data: unchanged by a reload, changed by a write."""

from __future__ import annotations

from .helpers import Conn


def load(c: Conn) -> None:
    c("FLUSHALL")
    c("SET", "s", "hello")
    c("SET", "n", "12345")
    c("RPUSH", "l", "a", "b", "c")
    c("SADD", "st", "x", "y", "1")
    c("SADD", "big", *[str(i) for i in range(600)])
    c("HSET", "h", "f", "v", "g", "w")
    c("ZADD", "z", "1.5", "a", "2", "b", "-inf", "c", "0.1", "d")
    c("SET", "t", "v", "EX", "100")
    c("SELECT", "3")
    c("SET", "k3", "v")
    c("SELECT", "0")


def test_digests_are_redis(ports):
    replies = {}
    for kind, port in ports.items():
        c = Conn(port)
        c("FLUSHALL")
        assert c("DEBUG", "DIGEST") == b"0" * 40  # an empty dataset
        load(c)
        replies[kind] = (c("DEBUG", "DIGEST"),
                         c("DEBUG", "DIGEST-VALUE", "s", "n", "l", "st", "big", "h", "z", "t",
                           "nosuch"))
        c("FLUSHALL")
    assert replies["kvstore"] == replies["redis"]
    assert replies["kvstore"][1][-1] == b"0" * 40  # a missing key


def test_a_digest_follows_the_data(ports):
    c = Conn(ports["kvstore"])
    load(c)
    before = c("DEBUG", "DIGEST")
    assert c("DEBUG", "RELOAD") == b"OK" and c("DEBUG", "DIGEST") == before
    c("LSET", "l", "0", "A")
    assert c("DEBUG", "DIGEST") != before
    c("FLUSHALL")


def test_debug_change_repl_id(ports):
    for port in ports.values():
        c = Conn(port)
        before = [x for x in c("INFO", "replication").split(b"\r\n") if b"master_replid:" in x]
        assert c("DEBUG", "CHANGE-REPL-ID") == b"OK"
        after = [x for x in c("INFO", "replication").split(b"\r\n") if b"master_replid:" in x]
        assert len(after[0]) == len(b"master_replid:") + 40 and after != before
