"""Embedded durability: kvstore.open(path=...) round trips, rewrite, crashes, write errors."""

from __future__ import annotations

import errno
import os
import threading

import pytest

import kvstore
from kvstore.commands.table import COMMANDS
from kvstore.engine import ManualClock
from kvstore.errors import ResponseError
from kvstore.persistence import PersistenceError, aof, manager
from kvstore.persistence import manifest as mf

T0 = 1_700_000_000_000
HAS_ZSET = b"zadd" in COMMANDS


def _open(path, clock=None, **kw):
    return kvstore.open(path=str(path), clock=clock or ManualClock(T0), active_expire=False,
                        **kw)


def _fill(s) -> None:
    s.set("str", "v")
    s.execute("SET", "ttl-short", "x", "PX", 500)
    s.execute("SET", "ttl-long", "y", "EX", 1000)
    s.execute("HSET", "h", "a", "1", "b", "2")
    s.execute("RPUSH", "l", "1", "2", "3")
    s.execute("SADD", "s", "m1", "m2")
    s.execute("INCRBYFLOAT", "f", "2.5")
    s.execute("EXPIRE", "h", 100)
    s.execute("SELECT", 3)
    s.execute("SET", "db3", "z")
    s.execute("SELECT", 0)
    if HAS_ZSET:
        s.execute("ZADD", "z", 1.5, "a", "-inf", "b")


def _dump(s) -> dict:
    out = {}
    for db in range(16):
        s.execute("SELECT", db)
        for k in s.execute("KEYS", "*"):
            t = s.execute("TYPE", k)
            v = {b"string": lambda: s.execute("GET", k),
                 b"hash": lambda: sorted(s.execute("HGETALL", k)),
                 b"list": lambda: s.execute("LRANGE", k, 0, -1),
                 b"set": lambda: sorted(s.execute("SMEMBERS", k)),
                 b"zset": lambda: s.execute("ZRANGE", k, 0, -1, "WITHSCORES")}[t]()
            out[(db, k)] = (t, v, s.execute("PEXPIRETIME", k) if b"pexpiretime" in COMMANDS
                            else s.execute("PTTL", k))
    s.execute("SELECT", 0)
    return out


@pytest.mark.parametrize("fsync", ["always", "everysec", "no"])
def test_round_trip_every_type_with_ttls(tmp_path, fsync):
    s = _open(tmp_path, appendfsync=fsync)
    _fill(s)
    before = _dump(s)
    s.close()
    s = _open(tmp_path)
    assert _dump(s) == before
    s.close()
    # 1 s later: the 500 ms key is gone for good, not resurrected.
    s = _open(tmp_path, clock=ManualClock(T0 + 1000))
    after = _dump(s)
    assert (0, b"ttl-short") not in after and (0, b"ttl-long") in after
    s.close()


def test_only_what_goes_to_the_aof_is_logged(tmp_path):
    """An embedded store has no replicas: a script's writes under redis.set_repl(REPL_REPLICA)
    and PUBLISH (replicas only, in a server) are not in its AOF; REPL_AOF's are."""
    s = _open(tmp_path)
    s.execute("EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replicas', 1) "
                      "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', 1)", 0)
    s.execute("EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'alone', 1)", 0)
    s.execute("EVAL", "redis.call('publish', 'ch', 'm')", 0)
    s.close()
    d = tmp_path / "appendonlydir"
    logged = b"".join(f.read_bytes() for f in d.iterdir() if f.name.endswith(".incr.aof"))
    assert b"replicas" not in logged and b"alone" not in logged and b"publish" not in logged
    s = _open(tmp_path)
    assert s.execute("MGET", "replicas", "aof", "alone") == [None, b"1", None]
    s.close()


def test_rewrite_compacts_and_keeps_everything(tmp_path):
    s = _open(tmp_path)
    for i in range(200):
        s.set(f"k{i % 20}", i)
    _fill(s)
    before = _dump(s)
    assert s.execute("BGREWRITEAOF") == b"Background append only file rewriting started"
    s._persistence.wait_child()
    d = os.path.join(tmp_path, "appendonlydir")
    m = mf.read(d)
    assert m.base.name == "appendonly.aof.2.base.kvs" and [e.seq for e in m.incrs] == [2]
    assert sorted(os.listdir(d)) == ["appendonly.aof.2.base.kvs", "appendonly.aof.2.incr.aof",
                                     "appendonly.aof.manifest"]
    s.set("after", "1")
    s.close()
    s = _open(tmp_path)
    assert _dump(s) == {**before, (0, b"after"): (b"string", b"1", -1)}
    s.close()


def test_rewrite_under_concurrent_writes_loses_nothing(tmp_path):
    s = kvstore.open(path=str(tmp_path), appendfsync="no")
    stop = threading.Event()
    counts = [0] * 4

    def writer(n: int) -> None:
        while not stop.is_set() or counts[n] < 300:
            s.set(f"w{n}:{counts[n]}", counts[n])
            s.execute("RPUSH", f"list{n}", counts[n])
            counts[n] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for _ in range(3):
        s.execute("BGREWRITEAOF")
        s._persistence.wait_child()
    stop.set()
    for t in threads:
        t.join()
    s.close()
    s = kvstore.open(path=str(tmp_path))
    for n in range(4):
        assert s.execute("LRANGE", f"list{n}", 0, -1) == [str(i).encode()
                                                          for i in range(counts[n])]
        assert s.execute("EXISTS", *[f"w{n}:{i}" for i in range(counts[n])]) == counts[n]
    s.close()


def test_crash_during_rewrite_leaves_a_loadable_directory(tmp_path, monkeypatch):
    s = _open(tmp_path)
    _fill(s)
    before = _dump(s)
    # The child hangs, then is killed: the rewrite fails, the manifest of step 1 stays.
    monkeypatch.setattr(manager.snapshot, "dump", lambda *a, **k: threading.Event().wait(60))
    s.execute("BGREWRITEAOF")
    with pytest.raises(ResponseError, match="already in progress"):
        s.execute("BGREWRITEAOF")
    s.set("during", "1")
    s._persistence.kill_child()
    s._persistence.wait_child()
    monkeypatch.undo()
    assert s.execute("INFO", "persistence").count(b"aof_last_bgrewrite_status:err") == 1
    d = os.path.join(tmp_path, "appendonlydir")
    assert not [n for n in os.listdir(d) if n.startswith("temp-")]
    s.set("after", "2")
    s.close()
    # A crash right after step 1 (the process died with the child): leftovers are harmless.
    open(os.path.join(d, "temp-rewrite-appendonly.aof.9.base.kvs"), "wb").write(b"junk")
    s = _open(tmp_path)
    assert _dump(s) == {**before, (0, b"during"): (b"string", b"1", -1),
                        (0, b"after"): (b"string", b"2", -1)}
    # ... and the next rewrite succeeds.
    s.execute("BGREWRITEAOF")
    s._persistence.wait_child()
    s.close()
    s = _open(tmp_path)
    assert (0, b"after") in _dump(s)
    s.close()


def test_disk_full_refuses_writes_with_misconf_and_recovers(tmp_path, monkeypatch):
    s = _open(tmp_path, appendfsync="everysec")
    s.set("a", "1")
    real = aof._write

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(aof, "_write", full)
    s.set("b", "2")  # applied in memory, its record stays buffered
    with pytest.raises(ResponseError) as err:
        s.set("c", "3")
    assert str(err.value) == "MISCONF Errors writing to the AOF file: No space left on device"
    with pytest.raises(ResponseError, match="MISCONF"):
        s.execute("DEL", "a")
    assert s.get("a") == b"1"  # reads still work
    assert b"aof_last_write_status:err" in s.execute("INFO", "persistence")
    monkeypatch.setattr(aof, "_write", real)
    s._persistence.wait_child()
    with s._lock:
        s._persistence.cron()  # the retry the cron thread makes
    assert b"aof_last_write_status:ok" in s.execute("INFO", "persistence")
    s.set("c", "3")
    s.close()
    s = _open(tmp_path)
    assert s.execute("MGET", "a", "b", "c") == [b"1", b"2", b"3"]
    s.close()


def test_partial_write_is_cut_back(tmp_path, monkeypatch):
    s = _open(tmp_path, appendfsync="always")
    s.set("a", "1")
    real = aof._write
    calls = []

    def short_then_eio(fd, data):
        if not calls:
            calls.append(1)
            return real(fd, bytes(data[:7]))  # half a record reaches the file
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(aof, "_write", short_then_eio)
    with pytest.raises(ResponseError, match="MISCONF Errors writing to the AOF file: "
                                           "Input/output error"):
        s.set("b", "2")
    monkeypatch.setattr(aof, "_write", real)
    with s._lock:
        s._persistence.cron()
    s.close()
    s = _open(tmp_path)
    assert s.execute("MGET", "a", "b") == [b"1", b"2"]
    s.close()


def test_second_process_is_refused_by_the_lock(tmp_path):
    s = _open(tmp_path)
    with pytest.raises(PersistenceError, match="directory is locked by another process"):
        _open(tmp_path)
    s.close()
    _open(tmp_path).close()  # released on close


def test_snapshots_save_bgsave_lastsave(tmp_path):
    s = _open(tmp_path, appendonly=False)
    _fill(s)
    before = _dump(s)
    assert s.execute("SAVE") == b"OK"
    assert isinstance(s.execute("LASTSAVE"), int)
    info = s.execute("INFO", "persistence")
    assert b"rdb_changes_since_last_save:0" in info and b"aof_enabled:0" in info
    s.set("more", "1")
    assert s.execute("BGSAVE") == b"Background saving started"
    s._persistence.wait_child()
    with pytest.raises(ResponseError, match="syntax error"):
        s.execute("BGSAVE", "x")
    s.close()
    assert os.path.exists(os.path.join(tmp_path, "dump.kvs"))
    assert not os.path.exists(os.path.join(tmp_path, "appendonlydir"))
    s = _open(tmp_path, appendonly=False)
    assert _dump(s) == {**before, (0, b"more"): (b"string", b"1", -1)}
    s.close()
    # Turning the AOF on later starts from the snapshot's data.
    s = _open(tmp_path)
    assert (0, b"more") in _dump(s)
    s.close()


def test_without_a_path_persistence_commands_error():
    s = kvstore.open()
    with pytest.raises(ResponseError, match="persistence is not enabled"):
        s.execute("SAVE")
    s.close()
    with pytest.raises(TypeError):
        kvstore.open(appendfsync="always")


def test_a_change_with_nothing_to_propagate_logs_nothing(tmp_path):
    """An XREADGROUP of an empty history counts as a change, as in Redis (the consumer's
    seen-time: rdb_changes_since_last_save grows), but Redis propagates nothing of it: the AOF
    must not get the command (effects `[]`, see Context)."""
    s = _open(tmp_path)
    s.execute("XADD", "s", "1-0", "f", "v")
    s.execute("XGROUP", "CREATE", "s", "g", "$")
    s.execute("XGROUP", "CREATECONSUMER", "s", "g", "c")
    incr = os.path.join(tmp_path, "appendonlydir", mf.read(
        os.path.join(tmp_path, "appendonlydir")).incrs[-1].name)

    def changes() -> int:
        info = s.execute("INFO", "persistence")
        return int(info.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0])

    size, before = os.path.getsize(incr), changes()
    assert s.execute("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0") == [[b"s", []]]
    assert changes() == before + 1
    assert os.path.getsize(incr) == size
    s.execute("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0-0")   # the same, logged alike
    s.execute("XADD", "s", "2-0", "f", "w")
    s.execute("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">")
    with open(incr, "rb") as f:
        logged = f.read()
    assert b"XREADGROUP" not in logged and b"XCLAIM" in logged
    pending = s.execute("XPENDING", "s", "g")
    s.close()
    s = _open(tmp_path)
    assert s.execute("XPENDING", "s", "g") == pending
    s.close()
