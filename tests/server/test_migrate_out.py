"""MIGRATE from kvstore (and, for the expectations, from redis-server) into a redis-server
target: the same replies, the same keys moved or kept, the values and TTLs arriving whole."""

from __future__ import annotations

import pytest
import redis

import kvstore

from .conftest import start
from .helpers import Conn, err


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A redis-server to migrate into, and one that wants a password."""
    tmp = tmp_path_factory.mktemp("target")
    plain = start("redis", tmp)
    locked = start("redis", tmp, "--requirepass", "pw")
    yield plain, locked
    plain.stop()
    locked.stop()


@pytest.fixture
def moves(server, target):
    plain, locked = target
    redis.Redis(port=plain.port).flushall()
    redis.Redis(port=locked.port, password="pw").flushall()
    c = Conn(server.port)
    c("FLUSHALL")
    c.src_port = server.port
    yield c, plain.port, locked.port
    c.close()


def migrate(c, port, key, db=0, timeout=1000, *options):
    return c("MIGRATE", "127.0.0.1", port, key, db, timeout, *options)


def test_replies_and_what_moves(moves):
    c, port, locked = moves
    t = redis.Redis(port=port)
    c("SET", "a", "1")
    c("SET", "b", "2", "PX", "100000")
    assert migrate(c, port, "nokey") == b"NOKEY"
    assert migrate(c, port, "a", 0, 1000, "COPY") == b"OK"
    assert err(migrate(c, port, "a", 0, 1000, "COPY")) == \
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    assert migrate(c, port, "a", 0, 1000, "COPY", "REPLACE") == b"OK"
    assert err(migrate(c, port, "a", 0, 1000, "BAD")) == "ERR syntax error"
    assert err(migrate(c, port, "a", 0, 1000, "KEYS", "b")) == \
        "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
    # a refused key stays, the accepted one moves, the first error is the reply
    assert err(migrate(c, port, "", 0, 1000, "KEYS", "b", "a", "nokey")) == \
        "ERR Target instance replied with error: BUSYKEY Target key name already exists."
    assert c("EXISTS", "a", "b") == 1
    assert 90_000 < t.pttl("b") <= 100_000
    assert err(migrate(c, port, "a", "x")) == "ERR value is not an integer or out of range"
    assert err(migrate(c, port, "a", 0, "x")) == "ERR value is not an integer or out of range"
    assert err(migrate(c, port, "a", 0, 1000, "AUTH")) == "ERR syntax error"
    # after a failed SELECT nothing counts as moved, though the target took the RESTORE
    c("SET", "e", "5")
    assert err(migrate(c, port, "e", 99)) == \
        "ERR Target instance replied with error: ERR DB index is out of range"
    assert c("EXISTS", "e") == 1
    assert err(migrate(c, 1, "e", 0, 100)) == "IOERR error or timeout writing to target instance"


def test_auth(moves):
    c, _, locked = moves
    c("SET", "c", "3")
    assert err(migrate(c, locked, "c")) == \
        "ERR Target instance replied with error: NOAUTH Authentication required."
    assert err(migrate(c, locked, "c", 0, 1000, "AUTH", "wrong")) == (
        "ERR Target instance replied with error: WRONGPASS invalid username-password pair or "
        "user is disabled.")
    assert migrate(c, locked, "c", 0, 1000, "AUTH", "pw") == b"OK"
    c("SET", "d", "4")
    assert migrate(c, locked, "d", 0, -5, "AUTH2", "default", "pw") == b"OK"  # timeout<=0: 1s
    assert c("EXISTS", "c", "d") == 0
    assert redis.Redis(port=locked, password="pw").mget("c", "d") == [b"3", b"4"]


def test_every_type_arrives_whole(moves):
    c, port, _ = moves
    src = redis.Redis(port=c.src_port)
    src.rpush("l", *range(500))
    src.hset("h", mapping={f"f{i}": "x" * 80 for i in range(200)})
    src.hset("hs", "f", "v")
    src.sadd("si", *range(20))
    src.sadd("ss", "a", "b")
    src.zadd("z", {"m": 1.5, "n": float("-inf")})
    src.zadd("zb", {f"m{i}": i for i in range(300)})
    src.set("big", "y" * 100_000)
    src.pfadd("hll", *range(50))
    src.expire("l", 1000)
    keys = ["l", "h", "hs", "si", "ss", "z", "zb", "big", "hll"]
    want = {k: content(src, k) for k in keys}
    assert migrate(c, port, "", 3, 5000, "KEYS", *keys) == b"OK"
    assert src.exists(*keys) == 0
    t = redis.Redis(port=port, db=3)
    assert {k: content(t, k) for k in keys} == want
    assert 990 < t.ttl("l") <= 1000 and t.ttl("h") == -1
    assert t.pfcount("hll") == 50


def content(r: redis.Redis, key: str):
    kind = r.type(key).decode()
    read = {"string": r.get, "list": lambda k: r.lrange(k, 0, -1), "hash": r.hgetall,
            "set": lambda k: sorted(r.smembers(k)),
            "zset": lambda k: r.zrange(k, 0, -1, withscores=True)}[kind]
    return kind, read(key)


def test_moved_keys_are_logged_as_deleted(kv_factory, target):
    port = target[0].port
    redis.Redis(port=port).flushall()
    aof = ("--appendonly", "yes", "--appendfsync", "always")
    p = kv_factory(*aof)
    c = Conn(p.port)
    c("MSET", "m1", "1", "m2", "2", "keep", "3")
    assert migrate(c, port, "", 0, 1000, "KEYS", "m1", "m2") == b"OK"
    assert migrate(c, port, "keep", 0, 1000, "COPY") == b"OK"
    c.close()
    p.proc.kill()
    p.proc.wait(10)
    p = kv_factory(*aof)
    assert redis.Redis(port=p.port).keys("*") == [b"keep"]


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def test_a_hostile_target_cannot_make_the_source_allocate(server):
    # MIGRATE reads one line per reply, as Redis does: a target answering RESTORE with a push
    # header claiming 999,999,999 elements is a non-error line (the key counts as moved, as
    # in Redis), never an aggregate to build
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        data = b""
        while data.count(b"RESTORE") < 1 or not data.endswith(b"\r\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.sendall(b"+OK\r\n>999999999\r\n")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    c = Conn(server.port)
    c("FLUSHALL")
    c("SET", "k", "v")
    before = peak_rss_mb(server.proc.pid)
    assert migrate(c, listener.getsockname()[1], "k") == b"OK"
    assert c("EXISTS", "k") == 0
    assert peak_rss_mb(server.proc.pid) - before < 100
    thread.join(10)
    listener.close()
    c.close()


def cached_sockets(c) -> int:
    return int(c("INFO", "stats").split(b"migrate_cached_sockets:")[1].split(b"\r")[0])


def test_connections_are_kept_per_target(moves):
    """Redis's migrate_cached_sockets: one connection per target serves later MIGRATEs (to any
    database), and one the target closed meanwhile is replaced within the same MIGRATE."""
    c, port, _ = moves
    t = redis.Redis(port=port)
    accepted = t.info("stats")["total_connections_received"]
    kept = cached_sockets(c) + 1  # (the module's earlier tests may have left some, to here too)
    for i, db in enumerate((0, 0, 3, 0)):
        c("SET", f"k{i}", i)
        assert migrate(c, port, f"k{i}", db) == b"OK"
        kept = min(kept, cached_sockets(c))
        assert cached_sockets(c) == kept and kept >= 1
    assert t.get("k3") == b"3" and redis.Redis(port=port, db=3).get("k2") == b"2"
    assert t.info("stats")["total_connections_received"] - accepted <= 1
    assert t.client_kill_filter(_type="normal", skipme=True) >= 1
    c("SET", "k4", "4")
    assert migrate(c, port, "k4", 3) == b"OK" and redis.Redis(port=port, db=3).get("k4") == b"4"
    assert cached_sockets(c) == kept


def test_an_embedded_store_lets_idle_connections_go(target, monkeypatch):
    """No cron there: each MIGRATE first closes the kept connections idle for the TTL."""
    from kvstore.commands import migrate as m

    plain, _ = target
    t = redis.Redis(port=plain.port)
    s = kvstore.open()
    try:
        s.set("a", "1")
        s.set("b", "2")
        assert s.execute("MIGRATE", "127.0.0.1", plain.port, "a", 0, 1000) == b"OK"
        accepted = t.info("stats")["total_connections_received"]
        monkeypatch.setattr(m, "_CACHE_TTL", -1.0)  # (everything kept is idle now)
        assert s.execute("MIGRATE", "127.0.0.1", plain.port, "b", 0, 1000) == b"OK"
        assert t.info("stats")["total_connections_received"] == accepted + 1
        assert len(m.sockets(s.keyspace)) == 1
    finally:
        s.close()
