"""CONFIG SET appendonly yes as Redis does it (startAppendOnly): the reply comes at once, a forked
child writes the first base in the background while the writes that follow go to a temp incr
file, and only when the child is done does the manifest switch to both. Meanwhile INFO shows the
AOF on and its rewrite running, SHUTDOWN and SIGTERM are refused (the data set is in no AOF
yet), and a rewrite that fails is tried again. Each case runs on both servers, but WAITAOF
(Redis 7.2's) on kvstore only."""

from __future__ import annotations

import errno
import os

import pytest
import redis

from tests.server.helpers import Conn, wait_until

from .test_defaults import KINDS, _aof_ready, _launch
from .test_server import _PROCS, _reap_servers  # noqa: F401 (the fixture kills what is left)

# The first base's name in a fresh directory: ours is a kvstore snapshot, Redis's an RDB file
FIRST_BASE = {"kvstore": "appendonly.aof.1.base.kvs", "redis": "appendonly.aof.1.base.rdb"}
MANIFEST = "appendonly.aof.manifest"


def _pipeline(port: int, *commands) -> list:
    """Every command sent in one write, so that all of them run before the server can reap a
    child (both reap between event-loop iterations); their replies."""
    conn = Conn(port)
    try:
        conn.send(b"".join(Conn.encode(*c) for c in commands))
        return [conn.reply() for _ in commands]
    finally:
        conn.close()


def _info(r: redis.Redis) -> dict:
    return r.info("persistence")


@pytest.mark.parametrize("kind", KINDS)
def test_the_first_base_is_written_in_the_background_and_nothing_is_lost(kind, tmp_path):
    proc, r = _launch(kind, tmp_path, "--save", "")
    r.set("before", "1")
    port = r.connection_pool.connection_kwargs["port"]
    replies = _pipeline(port, ["CONFIG", "SET", "appendonly", "yes"], ["INFO", "persistence"],
                        ["SET", "during", "2"], ["SHUTDOWN"])
    assert replies[0] == b"OK" and replies[2] == b"OK"
    assert b"aof_enabled:1\r\n" in replies[1] and b"aof_rewrite_in_progress:1\r\n" in replies[1]
    assert isinstance(replies[3], Exception) and str(replies[3]) == \
        "ERR Errors trying to SHUTDOWN. Check logs."
    assert proc.poll() is None
    wait_until(lambda: _aof_ready(r), what="the first rewrite")
    assert os.path.exists(tmp_path / "appendonlydir" / MANIFEST)
    # Under everysec Redis may hold a write back while a background fsync runs (up to 2 s, the
    # file's first fsync here): the kill could lose it. Under always nothing acknowledged is.
    r.config_set("appendfsync", "always")
    r.set("after", "3")
    proc.kill()
    proc.wait(10)
    proc, r = _launch(kind, tmp_path, "--appendonly", "yes", "--save", "")
    assert r.mget("before", "during", "after") == [b"1", b"2", b"3"]


@pytest.mark.parametrize("kind", KINDS)
def test_appendonly_no_during_the_first_rewrite_stops_it(kind, tmp_path):
    proc, r = _launch(kind, tmp_path, "--save", "")
    r.set("k", "v")
    port = r.connection_pool.connection_kwargs["port"]
    replies = _pipeline(port, ["CONFIG", "SET", "appendonly", "yes"],
                        ["CONFIG", "SET", "appendonly", "no"], ["INFO", "persistence"])
    assert replies[:2] == [b"OK", b"OK"]
    for field in (b"aof_enabled:0", b"aof_rewrite_in_progress:0", b"aof_rewrite_scheduled:0"):
        assert field + b"\r\n" in replies[2]
    assert not os.path.exists(tmp_path / "appendonlydir" / MANIFEST)
    r.shutdown()
    assert proc.wait(20) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_first_rewrite_is_tried_again(kind, tmp_path):
    # A directory where the base must go: renaming the rewrite's file there fails.
    blocker = tmp_path / "appendonlydir" / FIRST_BASE[kind]
    blocker.mkdir(parents=True)
    proc, r = _launch(kind, tmp_path, "--save", "")
    r.set("before", "1")
    assert r.config_set("appendonly", "yes")
    r.set("during", "2")
    wait_until(lambda: _info(r)["aof_rewrites_consecutive_failures"] >= 1,
               what="a failed rewrite")
    info = _info(r)
    assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "err"
    assert not os.path.exists(tmp_path / "appendonlydir" / MANIFEST)
    blocker.rmdir()

    def done() -> bool:
        info = _info(r)
        if info["aof_rewrite_in_progress"] or info["aof_rewrite_scheduled"]:
            return False
        if info["aof_last_bgrewrite_status"] == "ok":
            return True
        # Failed again, and waiting out Redis's limit (3 in a row): BGREWRITEAOF is not limited
        r.bgrewriteaof()
        return False

    wait_until(done, what="a successful retry")
    assert _info(r)["aof_rewrites_consecutive_failures"] == 0
    r.set("after", "3")
    proc.kill()
    proc.wait(10)
    proc, r = _launch(kind, tmp_path, "--appendonly", "yes", "--save", "")
    assert r.mget("before", "during", "after") == [b"1", b"2", b"3"]


def test_repeated_failures_trigger_the_retry_limit(tmp_path):
    (tmp_path / "appendonlydir" / FIRST_BASE["kvstore"]).mkdir(parents=True)
    proc, r = _launch("kvstore", tmp_path, "--save", "")
    assert r.config_set("appendonly", "yes")
    log = next(tmp_path.glob("kvstore-*.log"))
    wait_until(lambda: "triggered the limit, will retry in 1 minutes" in log.read_text(),
               what="the retry limit")
    info = _info(r)
    assert info["aof_rewrites_consecutive_failures"] == 3 and info["aof_rewrite_scheduled"] == 1
    assert not info["aof_rewrite_in_progress"]


def test_waitaof_during_the_first_rewrite_waits_for_it(tmp_path):
    """The temp incr file is fsynced like any AOF, but no manifest lists it yet: WAITAOF must not
    count it (Redis 7.2 does not either)."""
    proc, r = _launch("kvstore", tmp_path, "--save", "", "--appendfsync", "always",
                      "--enable-debug-command", "yes")
    r.execute_command("DEBUG", "POPULATE", "200000")  # a child that runs long enough
    port = r.connection_pool.connection_kwargs["port"]
    replies = _pipeline(port, ["CONFIG", "SET", "appendonly", "yes"], ["SET", "k", "v"],
                        ["WAITAOF", "1", "0", "20000"])
    assert replies == [b"OK", b"OK", [1, 0]]
    assert os.path.exists(tmp_path / "appendonlydir" / MANIFEST)


def test_a_refused_fork_leaves_nothing_half_started(tmp_path, monkeypatch):
    """fork() can fail (ENOMEM, a process limit). CONFIG SET appendonly yes then fails as a
    whole (the server answers "Unable to turn on AOF"), no temp incr stays open, BGSAVE's failure
    shows in INFO, and the log says why, as Redis's."""
    from kvstore.engine import Keyspace
    from kvstore.persistence import manager

    def refused(job, setup=None):
        raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))

    logs: list[str] = []
    p = manager.Persistence(Keyspace(), str(tmp_path), log=logs.append, exclusive=False)
    p.start()
    monkeypatch.setattr(manager, "fork_job", refused)
    with pytest.raises(OSError):
        p.enable_aof()
    assert p.writer is None and not p.aof_starting and not p.rewrite_scheduled
    assert os.listdir(tmp_path / "appendonlydir") == []
    assert "Can't rewrite append only file in background: fork: Cannot allocate memory" in logs
    with pytest.raises(OSError):
        p.bgsave()
    assert dict(p.info())["rdb_last_bgsave_status"] == "err"
    assert "Can't save in background: fork: Cannot allocate memory" in logs
    p.close()


def test_a_crash_s_temp_files_are_removed_at_start(tmp_path):
    """What a process killed mid-rewrite leaves (a partial base, a first rewrite's temp incr)
    is listed by no manifest: the next start with the AOF deletes it rather than let crashes
    pile them up."""
    proc, r = _launch("kvstore", tmp_path, "--appendonly", "yes", "--save", "")
    r.set("k", "v")
    proc.kill()
    proc.wait(10)
    aof_dir = tmp_path / "appendonlydir"
    for name in ("temp-123-temp-rewrite-appendonly.aof.2.base.kvs", "temp-appendonly.aof.incr"):
        (aof_dir / name).write_bytes(b"partial")
    proc, r = _launch("kvstore", tmp_path, "--appendonly", "yes", "--save", "")
    assert r.get("k") == b"v"
    assert not [p.name for p in aof_dir.iterdir() if p.name.startswith("temp-")]


@pytest.mark.parametrize("kind", KINDS)
def test_forks_asked_for_inside_exec_wait_for_its_end(kind, tmp_path):
    """Redis's server.in_exec: BGREWRITEAOF, BGSAVE and CONFIG SET appendonly yes inside a
    transaction are scheduled, not forked there. A child forked in the middle of EXEC would
    save the transaction's first writes, which then also reach the new AOF: on the next load
    an INCR before the BGREWRITEAOF counted twice (kvstore did that)."""
    proc, r = _launch(kind, tmp_path, "--save", "", "--appendonly", "yes")
    wait_until(lambda: _aof_ready(r), what="the AOF")
    replies = _pipeline(r.connection_pool.connection_kwargs["port"], ["MULTI"], ["INCR", "x"],
                        ["BGREWRITEAOF"], ["BGSAVE"], ["EXEC"])
    assert replies[-1] == [1, b"Background append only file rewriting scheduled",
                           b"Background saving scheduled"]
    wait_until(lambda: _info(r)["aof_rewrites"] == 1 and _info(r)["rdb_saves"] == 1
               and not _info(r)["aof_rewrite_in_progress"]
               and not _info(r)["rdb_bgsave_in_progress"], what="the scheduled children")
    r.config_set("appendonly", "no")
    log = next(p for p in tmp_path.iterdir() if p.name.endswith(".log"))
    replies = _pipeline(r.connection_pool.connection_kwargs["port"], ["MULTI"], ["INCR", "x"],
                        ["CONFIG", "SET", "appendonly", "yes"], ["EXEC"])
    assert replies[-1] == [2, b"OK"]
    wait_until(lambda: "AOF was enabled during a transaction. An AOF background was scheduled "
                       "to start when possible." in log.read_text(), what="the log line")
    wait_until(lambda: _aof_ready(r), what="the AOF")
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0
    proc, r = _launch(kind, tmp_path, "--save", "", "--appendonly", "yes")
    assert r.get("x") == b"2"
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0


def _view(r: redis.Redis) -> tuple:
    return (r.get("s"), 0 < r.ttl("t") <= 1000, r.lrange("l", 0, -1), r.hgetall("h"),
            r.zrange("z", 0, -1, withscores=True), sorted(r.smembers("set")),
            r.xpending("st", "g")["pending"], r.fcall("f", 0), redis.Redis(
                port=r.connection_pool.connection_kwargs["port"], db=3).get("in3"))


@pytest.mark.parametrize("kind", KINDS)
def test_aof_use_rdb_preamble_no_writes_a_base_of_commands(kind, tmp_path):
    """aof-use-rdb-preamble no: the base is a RESP file (`.base.aof`), timestamped first with
    aof-timestamp-enabled, and loads back to the same data. kvstore's also loads in
    redis-server (its RESTORE payloads are Redis's format): a way from kvstore to Redis."""
    opts = ("--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", "no",
            "--aof-timestamp-enabled", "yes")
    proc, r = _launch(kind, tmp_path, *opts)
    wait_until(lambda: _aof_ready(r), what="the AOF")
    r.set("s", "v")
    r.set("t", "x", ex=1000)
    r.rpush("l", "a", "b")
    r.hset("h", mapping={"f": "1", "g": "x" * 100})
    r.zadd("z", {"m": 1.5, "n": -2})
    r.sadd("set", 1, 2, 3)
    r.xadd("st", {"f": "v"})
    r.xgroup_create("st", "g", "0")
    r.xreadgroup("g", "c", {"st": ">"})
    r.function_load("#!lua name=lib\nredis.register_function('f', function() return 7 end)")
    redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=3).set("in3", "three")
    before = _view(r)
    r.bgrewriteaof()
    wait_until(lambda: _info(r)["aof_rewrites"] == 1 and not _info(r)["aof_rewrite_in_progress"],
               what="the rewrite")
    manifest = (tmp_path / "appendonlydir" / MANIFEST).read_text()
    base = next(line.split()[1] for line in manifest.splitlines() if line.endswith("type b"))
    assert base.endswith(".base.aof"), manifest
    assert (tmp_path / "appendonlydir" / base).read_bytes().startswith(b"#TS:")
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0
    proc, r = _launch(kind, tmp_path, *opts)
    assert _view(r) == before
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0
    if kind == "kvstore":
        (tmp_path / "to-redis").mkdir()
        os.rename(tmp_path / "appendonlydir", tmp_path / "to-redis" / "appendonlydir")
        proc, r = _launch("redis", tmp_path / "to-redis", *opts)
        wait_until(lambda: not r.info("persistence")["loading"], what="the load")
        assert _view(r) == before
        r.shutdown(nosave=True)
        assert proc.wait(20) == 0
