"""The server's persistence: start-up loading and refusals, embedded <-> server directories,
rewrite under concurrent clients, persistence commands over TCP."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import redis

import kvstore
from kvstore.persistence import manifest as mf
from tests.conftest import NO_RETRY, free_port, wait_for_port


def _cmd(directory, port, *extra):
    return [sys.executable, "-m", "kvstore", "--port", str(port), "--dir", str(directory),
            "--appendonly", "yes", "--save", ""] + list(extra)


_PROCS: list = []


@pytest.fixture(autouse=True)
def _reap_servers():
    """A failing test must not leave its server running."""
    yield
    while _PROCS:
        proc = _PROCS.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _start(directory, *extra):
    port = free_port()
    proc = subprocess.Popen(_cmd(directory, port, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    _PROCS.append(proc)
    wait_for_port(port, proc, timeout=30)
    return proc, port


def _shutdown(proc, port) -> str:
    redis.Redis(port=port, retry=NO_RETRY).shutdown(nosave=True)
    out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, out
    return out


def _incr(directory) -> str:
    d = os.path.join(directory, "appendonlydir")
    return os.path.join(d, mf.read(d).incrs[-1].name)


def test_embedded_directory_opens_in_the_server_and_back(tmp_path):
    s = kvstore.open(path=str(tmp_path), appendfsync="always")
    s.set("from-embedded", "1")
    s.execute("HSET", "h", "f", "v")
    s.execute("SET", "t", "x", "EX", 1000)
    s.close()
    proc, port = _start(tmp_path)
    r = redis.Redis(port=port)
    assert r.get("from-embedded") == b"1" and r.hgetall("h") == {b"f": b"v"}
    assert 0 < r.ttl("t") <= 1000
    r.set("from-server", "2")
    r.bgrewriteaof()
    r.rpush("l", "a")
    _shutdown(proc, port)
    s = kvstore.open(path=str(tmp_path))
    assert s.execute("MGET", "from-embedded", "from-server") == [b"1", b"2"]
    assert s.execute("LRANGE", "l", 0, -1) == [b"a"]
    s.close()


def test_corrupt_aof_refuses_to_start_naming_file_and_offset(tmp_path):
    s = kvstore.open(path=str(tmp_path))
    s.set("a", "1")
    s.close()
    incr = _incr(tmp_path)
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"garbage\r\n*1\r\n$4\r\nPING\r\n")
    port = free_port()
    out = subprocess.run(_cmd(tmp_path, port), capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"appendonly.aof.1.incr.aof at offset {good}" in out.stdout + out.stderr


def test_truncated_tail_loads_with_warning_or_refuses(tmp_path):
    s = kvstore.open(path=str(tmp_path))
    s.set("a", "1")
    s.set("b", "2")
    s.close()
    incr = _incr(tmp_path)
    os.truncate(incr, os.path.getsize(incr) - 4)
    port = free_port()
    out = subprocess.run(_cmd(tmp_path, port, "--aof-load-truncated", "no"),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "aof-load-truncated is no" in out.stdout + out.stderr
    proc, port = _start(tmp_path)
    r = redis.Redis(port=port)
    assert r.get("a") == b"1" and r.get("b") is None
    out = _shutdown(proc, port)
    assert "AOF loaded anyway because aof-load-truncated is enabled" in out


def test_rewrite_under_concurrent_clients_and_commands(tmp_path):
    proc, port = _start(tmp_path, "--appendfsync", "everysec")
    r = redis.Redis(port=port)
    stop = threading.Event()
    counts = [0] * 3

    def writer(n: int) -> None:
        c = redis.Redis(port=port)
        while not stop.is_set() or counts[n] < 200:
            c.rpush(f"list{n}", counts[n])
            counts[n] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    replies = set()
    for _ in range(3):
        try:
            replies.add(r.bgrewriteaof())
        except redis.ResponseError as exc:  # one still running
            assert "already in progress" in str(exc)
        while b"aof_rewrite_in_progress:1" in r.execute_command("INFO", "persistence"):
            pass
    stop.set()
    for t in threads:
        t.join()
    info = r.info("persistence")
    assert info["aof_enabled"] == 1 and info["aof_last_write_status"] == "ok"
    assert info["aof_rewrites"] >= 1 and info["aof_last_bgrewrite_status"] == "ok"
    raw = redis.Redis(port=port).connection_pool.get_connection()
    raw.send_command("BGSAVE")
    assert raw.read_response() == b"Background saving started"
    while r.info("persistence")["rdb_bgsave_in_progress"]:
        pass
    assert r.save() is True
    assert r.lastsave()
    _shutdown(proc, port)
    assert os.path.exists(os.path.join(tmp_path, "dump.kvs"))
    proc, port = _start(tmp_path)
    r = redis.Redis(port=port)
    for n in range(3):
        assert r.lrange(f"list{n}", 0, -1) == [str(i).encode() for i in range(counts[n])]
    _shutdown(proc, port)


def test_pipelined_writes_logged_as_read_survive_kill_dash_nine(tmp_path):
    """A read of plain writes goes to the AOF as it came (AofWriter.log_batch), including the
    2 bytes after each bulk that hiredis and Redis skip unread; other batches are encoded."""
    from tests.server.helpers import Conn

    proc, port = _start(tmp_path, "--appendfsync", "always")
    c = Conn(port)
    assert c("SET", "first", "1") == b"OK"  # the file's SELECT 0: later batches are plain
    odd = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\nodd:%d\r\n$2\r\nv%d%s" % (
        len(b"odd:%d" % i), i, i, b"XY" if i % 2 else b"\r\n") for i in range(10))
    c.send(odd)
    assert [c.reply() for _ in range(10)] == [b"OK"] * 10
    mixed = [("SET", "m", "5"), ("INCR", "m"), ("GET", "m"), ("EXPIRE", "m", "1000"),
             ("SET", "nx", "1", "NX"), ("SET", "nx", "2", "NX"), ("DEL", "first")]
    c.send(b"".join(Conn.encode(*cmd) for cmd in mixed))
    assert [c.reply() for _ in mixed] == [b"OK", 6, b"6", 1, b"OK", None, 1]
    log = open(_incr(tmp_path), "rb").read()
    assert odd in log  # logged as it was read
    proc.kill()
    proc.wait(10)
    proc, port = _start(tmp_path)
    r = redis.Redis(port=port)
    assert r.mget([f"odd:{i}" for i in range(10)]) == [b"v%d" % i for i in range(10)]
    assert r.get("m") == b"6" and 990 < r.ttl("m") <= 1000
    assert r.get("nx") == b"1" and r.exists("first") == 0
    _shutdown(proc, port)


def test_inline_writes_are_logged_as_multibulks(tmp_path):
    """One inline line per read (telnet, redis-benchmark's inline tests) takes the one-command
    path; its write goes to the AOF as a multibulk, never as the line it came as."""
    import socket

    proc, port = _start(tmp_path, "--appendfsync", "always")
    with socket.create_connection(("127.0.0.1", port)) as s:
        for line, reply in ((b"SET first 1\r\n", b"+OK\r\n"), (b"SET k  v\r\n", b"+OK\r\n"),
                            (b"INCR n\n", b":1\r\n"), (b"GET k\r\n", b"$1\r\nv\r\n")):
            s.sendall(line)
            got = b""
            while len(got) < len(reply):
                got += s.recv(100)
            assert got == reply
    log = open(_incr(tmp_path), "rb").read()
    assert b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" in log and b"SET k" not in log
    assert b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" in log
    proc.kill()
    proc.wait(10)
    proc, port = _start(tmp_path)
    r = redis.Redis(port=port)
    assert r.get("k") == b"v" and r.get("n") == b"1"
    _shutdown(proc, port)


def _redis_dump(directory) -> None:
    """A dump.rdb written by redis-server into `directory`: every type, TTLs, two databases,
    a function library, and a key that expires before kvstore starts."""
    from tests.conftest import require_binary

    port = free_port()
    proc = subprocess.Popen([require_binary("redis-server"), "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        r = redis.Redis(port=port)
        r.set("s", "v")
        r.set("n", 12345)
        r.set("ttl", "x", ex=1000)
        r.set("gone", "x", px=1)
        r.rpush("l", *range(300))
        r.sadd("si", 1, 2, 3)
        r.hset("h", mapping={f"f{i}": i for i in range(200)})
        r.zadd("z", {"a": 1.5, "b": float("-inf")})
        redis.Redis(port=port, db=4).set("in4", "four")
        r.function_load("#!lua name=lib\nredis.register_function('f', function() return 7 end)")
        r.save()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("appendonly", ["yes", "no"])
def test_a_redis_dump_rdb_is_imported_once(tmp_path, appendonly):
    _redis_dump(tmp_path)
    proc, port = _start(tmp_path, "--appendonly", appendonly)
    r = redis.Redis(port=port)
    assert r.get("s") == b"v" and r.get("gone") is None and 0 < r.ttl("ttl") <= 1000
    assert r.lrange("l", 0, -1) == [str(i).encode() for i in range(300)]
    assert r.smembers("si") == {b"1", b"2", b"3"} and r.hlen("h") == 200
    assert r.zrange("z", 0, -1, withscores=True) == [(b"b", float("-inf")), (b"a", 1.5)]
    assert redis.Redis(port=port, db=4).get("in4") == b"four" and r.fcall("f", 0) == 7
    assert r.dbsize() == 7
    r.flushall()
    r.set("mine", "1")
    if appendonly == "no":
        r.save()
    out = _shutdown(proc, port)
    assert "Imported 8 keys from Redis's dump.rdb" in out
    # our own data is there now: the file is not imported again (FLUSHALL stays flushed)
    proc, port = _start(tmp_path, "--appendonly", appendonly)
    assert redis.Redis(port=port).keys("*") == [b"mine"]
    assert "Imported" not in _shutdown(proc, port)


def test_a_redis_rdb_file_named_by_dbfilename_is_loaded(tmp_path):
    """A snapshot path (dbfilename) that holds a Redis RDB file is read as one, as a
    redis-server pointed at it would read it; SAVE then writes our format there."""
    _redis_dump(tmp_path)
    os.rename(tmp_path / "dump.rdb", tmp_path / "from-redis.rdb")
    proc, port = _start(tmp_path, "--dbfilename", "from-redis.rdb")
    r = redis.Redis(port=port)
    assert r.get("s") == b"v" and r.hlen("h") == 200 and r.fcall("f", 0) == 7
    assert redis.Redis(port=port, db=4).get("in4") == b"four" and r.get("gone") is None
    assert r.save()
    _shutdown(proc, port)
    proc, port = _start(tmp_path, "--dbfilename", "from-redis.rdb")
    assert redis.Redis(port=port).lrange("l", 0, 2) == [b"0", b"1", b"2"]
    _shutdown(proc, port)


def test_a_redis_dump_rdb_we_cannot_read_refuses_to_start(tmp_path):
    _redis_dump(tmp_path)
    path = tmp_path / "dump.rdb"
    data = bytearray(path.read_bytes())
    data[data.index(b"four")] ^= 1  # the checksum no longer matches
    path.write_bytes(bytes(data))
    proc = subprocess.Popen(_cmd(tmp_path, free_port()), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    _PROCS.append(proc)
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 1 and "cannot import this RDB file" in out and "checksum" in out
    assert "Traceback" not in out  # a clear refusal, not a crash
