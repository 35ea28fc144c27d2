"""MEMORY and DEBUG POPULATE over the wire, on kvstore and on redis-server: `redis-cli --memkeys`
sees non-zero sizes, RESP3 reply types, and (kvstore) populated keys surviving an AOF restart.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import start
from .helpers import Conn


def test_redis_cli_memkeys_reports_sizes(server, c):
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli not installed")
    assert c("DEBUG", "POPULATE", "20") == b"OK"
    c("RPUSH", "l", "a", "b", "c")
    out = subprocess.run([cli, "-p", str(server.port), "--memkeys"], capture_output=True,
                         text=True, timeout=30).stdout
    strings = re.search(r"^20 strings with (\d+) bytes", out, re.M)
    lists = re.search(r"^1 lists with (\d+) bytes", out, re.M)
    assert strings and lists, out
    assert int(strings.group(1)) > 0 and int(lists.group(1)) > 0, out
    c("FLUSHALL")


def test_resp3_reply_types(server, c):
    c("HELLO", "3")
    c("SET", "k", "v")
    stats = c("MEMORY", "STATS")
    assert isinstance(stats, dict) and isinstance(stats[b"db.0"], dict), stats
    assert isinstance(stats[b"dataset.percentage"], float)
    assert isinstance(c("MEMORY", "DOCTOR"), (bytes, str))
    assert c("MEMORY", "USAGE", "nokey") is None
    assert c("MEMORY", "USAGE", "k") > 0
    c("HELLO", "2")
    c("FLUSHALL")


def test_populate_survives_aof_restart(tmp_path):
    first = start("kvstore", tmp_path, "--appendonly", "yes")
    try:
        c = Conn(first.port)
        c("SET", "p:1", "kept")
        assert c("DEBUG", "POPULATE", "5", "p", "12") == b"OK"
        c.close()
    finally:
        assert first.stop() == 0
    second = start("kvstore", tmp_path, "--appendonly", "yes")
    try:
        c = Conn(second.port)
        assert c("DBSIZE") == 5
        assert c("GET", "p:1") == b"kept"
        assert c("GET", "p:4") == b"value:4" + b"\0" * 5
        c.close()
    finally:
        second.stop()


def test_populate_breaks_a_watch_on_a_key_it_creates(server, c):
    other = Conn(server.port)
    try:
        assert c("WATCH", "wp:1", "other") == b"OK"
        assert other("DEBUG", "POPULATE", "3", "wp") == b"OK"
        assert c("MULTI") == b"OK"
        assert c("PING") == b"QUEUED"
        assert c("EXEC") is None  # wp:1 was created: the transaction is aborted
        assert c("WATCH", "other") == b"OK"
        assert other("DEBUG", "POPULATE", "3", "wq") == b"OK"
        c("MULTI")
        c("PING")
        assert c("EXEC") == [b"PONG"]  # no watched key among those created
    finally:
        other.close()


def test_access_info_stays_within_twice_the_keys():
    """Under an LRU or LFU policy every accessed key gets an entry; entries of keys deleted
    since are pruned, so a stream of short-lived keys does not grow the dict without bound."""
    from types import SimpleNamespace

    from kvstore.engine import Keyspace
    from kvstore.server.memory import Memory

    for policy in ("allkeys-lru", "allkeys-lfu"):
        ks = Keyspace()
        server = SimpleNamespace(ks=ks, config={"lfu-log-factor": 10, "lfu-decay-time": 1})
        memory = Memory(server)
        memory.configure(1 << 30, policy)
        db = ks.dbs[0]
        for i in range(20_000):
            key = b"k%d" % i
            db.data[key] = b"v"
            memory.touch(db, [key])
            if i % 100:  # all but 1 in 100 are deleted again (as DEL would, after its touch)
                del db.data[key]
        assert len(memory.atime) <= max(2 * len(db.data), 1024) + 1, policy
        assert (0, b"k100") in memory.atime and (0, b"k101") not in memory.atime
