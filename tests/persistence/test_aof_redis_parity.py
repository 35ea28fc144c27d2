"""AOF loading as redis-server 7.0 does it (cases from Redis's tests/integration/aof.tcl and
aof-multi-part.tcl): each case builds the same directory for kvstore and for the real
redis-server, starts it, and checks the data, the files and the log, or the refusal to start.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from kvstore.engine import Keyspace, ManualClock
from kvstore.persistence import loader, snapshot
from kvstore.persistence import manifest as mf
from tests.conftest import free_port, require_binary, wait_for_port
from tests.server.helpers import Conn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETUP = ["--appendonly", "yes", "--appendfilename", "appendonly.aof", "--appenddirname",
         "appendonlydir", "--auto-aof-rewrite-percentage", "0", "--save", ""]
MAN = "appendonlydir/appendonly.aof.manifest"
INCR = "appendonlydir/appendonly.aof.1.incr.aof"
M1 = "file appendonly.aof.1.incr.aof seq 1 type i\n"
KINDS = pytest.mark.parametrize("kind", ["kvstore", "redis"])


resp = Conn.encode  # an AOF record is a RESP request


class Server:
    def __init__(self, kind: str, directory, *extra: str) -> None:
        self.port = free_port()
        self.log = os.path.join(directory, f"{kind}.log")
        if kind == "kvstore":
            cmd = [sys.executable, "-m", "kvstore"]
        else:
            cmd = [require_binary("redis-server")]
        cmd += ["--port", str(self.port), "--dir", str(directory), *SETUP, *extra]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                         env=dict(os.environ, PYTHONPATH=ROOT))

    def output(self) -> str:
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@pytest.fixture
def run(tmp_path):
    """run(kind, files, *options): build `files` ({path under dir: bytes | str}) in a fresh
    directory, start the server on it; returns (server, directory)."""
    servers: list[Server] = []

    def start(kind: str, files: dict, *extra: str):
        d = tmp_path / kind
        for rel, data in files.items():
            path = d / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
        d.mkdir(exist_ok=True)
        s = Server(kind, d, *extra)
        servers.append(s)
        return s, d

    yield start
    for s in servers:
        s.stop()


def serving(s: Server) -> Conn:
    """A connection once the server has loaded (Redis accepts them while loading)."""
    wait_for_port(s.port, s.proc, timeout=30)
    c = Conn(s.port)
    deadline = time.monotonic() + 30
    while str(c("PING")).startswith("LOADING") and time.monotonic() < deadline:
        time.sleep(0.01)
    return c


def refused(s: Server, *texts: str) -> None:
    """The server exits non-zero, logging each of `texts`."""
    assert s.proc.wait(30) != 0
    out = s.output()
    for text in texts:
        assert text in out, out


# -- 1. a transaction the file does not finish ----------------------------------------------------

MULTI_TAIL = resp("set", "foo", "hello") + resp("multi") + resp("set", "bar", "world")


@KINDS
def test_unfinished_multi_is_reverted_and_cut_off(run, kind):
    s, d = run(kind, {INCR: MULTI_TAIL, MAN: M1}, "--aof-load-truncated", "yes")
    c = serving(s)
    assert c("GET", "foo") == b"hello" and c("GET", "bar") is None
    # Cut back to before the MULTI, so what is appended next is not part of the transaction.
    assert (d / INCR).read_bytes() == resp("set", "foo", "hello")
    assert "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof" \
        in s.output()


@KINDS
def test_unfinished_multi_refused_when_aof_load_truncated_is_no(run, kind):
    s, d = run(kind, {INCR: MULTI_TAIL, MAN: M1}, "--aof-load-truncated", "no")
    refused(s, "Revert incomplete MULTI/EXEC transaction",
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof")
    assert (d / INCR).read_bytes() == MULTI_TAIL


@KINDS
def test_finished_multi_is_applied(run, kind):
    data = MULTI_TAIL + resp("exec") + resp("set", "after", "1")
    s, d = run(kind, {INCR: data, MAN: M1}, "--aof-load-truncated", "no")
    c = serving(s)
    assert [c("GET", k) for k in ("foo", "bar", "after")] == [b"hello", b"world", b"1"]


@KINDS
def test_an_approximate_trim_as_redis_logs_it_is_replayed(run, kind):
    # Redis logs XADD ... MAXLEN ~ 5 LIMIT 100 as the exact trim it did, LIMIT kept: a line a
    # client may not send, which its loader obeys (mustObeyClient). Ours dropped it.
    data = b"".join(resp("xadd", "s", f"{i}-1", "f", str(i)) for i in range(1, 8)) \
        + resp("xadd", "s", "MAXLEN", "=", "7", "LIMIT", "100", "8-1", "f", "last") \
        + resp("xtrim", "s", "MINID", "=", "3-1", "LIMIT", "100")
    s, d = run(kind, {INCR: data, MAN: M1}, "--aof-load-truncated", "no")
    c = serving(s)
    assert c("XLEN", "s") == 6
    assert c("XREVRANGE", "s", "+", "-", "COUNT", "1") == [[b"8-1", [b"f", b"last"]]]
    # A client is still refused it.
    assert "LIMIT cannot be used without the special ~ option" in str(
        c("XADD", "s", "MAXLEN", "=", "7", "LIMIT", "100", "*", "f", "v"))


def test_a_redis_aof_directory_with_an_rdb_preamble_moves_in(tmp_path):
    """An operator points kvstore at a Redis 7 data directory with appendonly yes: its base
    is an RDB preamble (aof-use-rdb-preamble yes, the default), then RESP records. Everything
    loads, writes append to Redis's incr file, and a rewrite replaces the base with ours."""
    redis = Server("redis", tmp_path)
    c = serving(redis)
    c("SET", "a", "1")
    c("RPUSH", "l", "x", "y")
    c("HSET", "h", "f", "v")
    c("SET", "t", "x", "EX", "1000")
    c("ZADD", "z", "1.5", "m")
    assert c("BGREWRITEAOF") is not None
    deadline = time.monotonic() + 20
    while b"aof_rewrite_in_progress:0" not in c("INFO", "persistence") \
            or b"aof_rewrite_scheduled:0" not in c("INFO", "persistence"):
        assert time.monotonic() < deadline, "Redis's rewrite did not end"
        time.sleep(0.01)
    c("SET", "b", "2")  # (in the incr file after the base)
    c("PERSIST", "t")
    c("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "10", "1-1", "f", "v")
    want = {k: c("DUMP", k) for k in (b"a", b"l", b"h", b"t", b"z", b"b", b"s")}
    c.send(resp("SHUTDOWN", "NOSAVE"))  # (the AOF is flushed)
    redis.proc.wait(20)
    files = sorted(os.listdir(tmp_path / "appendonlydir"))
    assert any(f.endswith(".base.rdb") for f in files), files

    ours = Server("kvstore", tmp_path, "--enable-debug-command", "yes")
    k = serving(ours)
    for key, payload in want.items():  # the same values (DUMP payloads differ in encoding)
        k("DEL", b"copy")
        assert k("RESTORE", b"copy", 0, payload) == b"OK"
        assert k("DEBUG", "DIGEST-VALUE", key) == k("DEBUG", "DIGEST-VALUE", b"copy") \
            != [b"0" * 40], key
    assert k("TTL", "t") == -1 and k("DBSIZE") == 8
    k("DEL", b"copy")
    k("SET", "c", "3")
    assert k("BGREWRITEAOF") is not None
    deadline = time.monotonic() + 20
    while not any(f.endswith(".base.kvs") for f in os.listdir(tmp_path / "appendonlydir")):
        assert time.monotonic() < deadline, "our rewrite did not end"
        time.sleep(0.01)
    k.send(resp("SHUTDOWN"))
    ours.proc.wait(20)
    again = Server("kvstore", tmp_path, "--enable-debug-command", "yes")
    k = serving(again)
    assert [k("GET", x) for x in ("a", "b", "c")] == [b"1", b"2", b"3"] and k("DBSIZE") == 8
    again.stop()


@KINDS
def test_a_slow_verbatim_script_is_replayed_whole(run, kind, tmp_path):
    # An AOF of Redis 6 and before may hold scripts verbatim. One running past lua-time-limit
    # while it is loaded goes on to its end ("Slow script detected" in the server's log file,
    # as one of its lines): nothing stops it, or the writes after its loop would be lost.
    script = ("redis.call('set', KEYS[1], 'before') for i = 1, 100000 do redis.call('ping') "
              "end redis.call('set', KEYS[2], 'after') return 'ok'")
    data = resp("select", "9") + resp("eval", script, "2", "x", "z")
    logfile = tmp_path / f"{kind}-logfile.log"
    s, d = run(kind, {INCR: data, MAN: M1}, "--lua-time-limit", "1", "--logfile", str(logfile))
    c = serving(s)
    c("SELECT", "9")
    assert [c("GET", "x"), c("GET", "z")] == [b"before", b"after"]
    lines = [line for line in logfile.read_text().splitlines() if "Slow script detected" in line]
    assert len(lines) == 1 and re.match(r"\d+:M .* # Slow script detected", lines[0]), lines


def test_truncated_record_inside_multi_cuts_before_the_multi(run):
    # Redis cuts at the last complete record here, leaving the MULTI open in the file: its next
    # appends would join the transaction and be reverted at the next start. We cut before it.
    data = MULTI_TAIL + resp("set", "x", "y")[:-3]
    s, d = run("kvstore", {INCR: data, MAN: M1}, "--aof-load-truncated", "yes")
    c = serving(s)
    assert c("GET", "bar") is None and c("GET", "x") is None
    assert (d / INCR).read_bytes() == resp("set", "foo", "hello")


# -- 2. nothing expires while loading -------------------------------------------------------------

@KINDS
def test_pexpireat_in_the_past_then_write_expires_after_loading(run, kind):
    data = resp("rpush", "list", "foo") + resp("pexpireat", "list", 1000) + \
        resp("rpush", "list", "bar")
    s, _ = run(kind, {INCR: data, MAN: M1}, "--aof-load-truncated", "no")
    c = serving(s)
    assert c("LLEN", "list") == 0


@KINDS
def test_relative_times_count_from_the_real_clock(run, kind):
    # No writer logs them (EXPIRE becomes PEXPIREAT, ...), but a hand-written file may.
    data = resp("set", "a", "v", "EX", 1000) + resp("set", "b", "v") + \
        resp("expire", "b", 1000) + resp("setex", "c", 1000, "v")
    s, _ = run(kind, {INCR: data, MAN: M1})
    c = serving(s)
    assert all(900 < c("TTL", k) <= 1000 for k in ("a", "b", "c"))


def test_snapshot_base_keys_past_their_ttl_take_later_writes(tmp_path):
    # The base was written while the key lived; the incr appended to it; the TTL passed before
    # this start. The key must go whole, not come back as the incr's part alone.
    t0 = 1_700_000_000_000
    ks = Keyspace(clock=ManualClock(t0))
    replayer = loader.Replayer(ks)
    replayer.apply([b"RPUSH", b"l", b"a"])
    replayer.apply([b"PEXPIREAT", b"l", str(t0 + 1000).encode()])
    d = str(tmp_path)
    m = mf.Manifest()
    m.base = m.next_base()
    m.incrs = [m.next_incr()]
    snapshot.dump(ks, os.path.join(d, m.base.name))
    with open(os.path.join(d, m.incrs[0].name), "wb") as f:
        f.write(resp("rpush", "l", "b"))
    m.write(d)
    later = Keyspace(clock=ManualClock(t0 + 5000))
    loader.load_aof_dir(later, d, "appendonly.aof")
    assert later.dbs[0].lookup(b"l", t0 + 5000) is None


# -- 3. '#TS:' annotations ------------------------------------------------------------------------

ANNOTATED = (b"#TS:1628217470\r\n" + resp("set", "foo1", "bar1") + b"#TS:1628217471\r\n" +
             resp("set", "foo2", "bar2") + b"#TS:1628217472\r\n#TS:1628217473\r\n" +
             resp("set", "foo3", "bar3") + b"#TS:1628217474\r\n")


@KINDS
@pytest.mark.parametrize("tail", [b"", resp("set", "foo4", "bar4")[:-2]], ids=["clean", "cut"])
def test_timestamp_annotations_are_skipped(run, kind, tail):
    truncated = ("--aof-load-truncated", "yes" if tail else "no")
    s, _ = run(kind, {INCR: ANNOTATED + tail, MAN: M1}, *truncated)
    c = serving(s)
    assert [c("GET", k) for k in ("foo1", "foo2", "foo3", "foo4")] == \
        [b"bar1", b"bar2", b"bar3", None]


@KINDS
def test_aof_timestamp_enabled_writes_an_annotation_per_second(run, kind):
    s, d = run(kind, {})
    c = serving(s)
    assert c("CONFIG", "SET", "aof-timestamp-enabled", "yes") == b"OK"
    m = mf.read(str(d / "appendonlydir"))
    incr = d / "appendonlydir" / m.incrs[-1].name
    c("SET", "a", "1")
    first = int(time.time())
    deadline = time.monotonic() + 5
    while int(time.time()) == first and time.monotonic() < deadline:  # the next second
        time.sleep(0.01)
    c("SET", "b", "2")
    c("SELECT", "1")
    c("SET", "c", "3")
    deadline = time.monotonic() + 10  # everysec: written by the end of the event loop turn
    while incr.read_bytes().count(b"SET") < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    data = incr.read_bytes()
    assert data.startswith(b"#TS:")
    stamps = [int(line[4:]) for line in data.split(b"\r\n") if line.startswith(b"#TS:")]
    assert len(stamps) >= 2 and stamps == sorted(set(stamps))  # one per second that wrote
    # An annotation comes before the SELECT of its record, as Redis writes it.
    assert b"#TS:%d\r\n*2\r\n$6\r\nSELECT\r\n" % stamps[0] in data


# -- 4. upgrade from an old single-file AOF -------------------------------------------------------

OLD = resp("set", "k1", "v1") + resp("set", "k2", "v2") + resp("set", "k3", "v3")
UPGRADED = "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"


@KINDS
def test_old_style_aof_is_moved_in_as_the_base(run, kind):
    s, d = run(kind, {"appendonly.aof": OLD})
    c = serving(s)
    assert [c("GET", k) for k in ("k1", "k2", "k3")] == [b"v1", b"v2", b"v3"]
    assert not (d / "appendonly.aof").exists()
    assert (d / "appendonlydir" / "appendonly.aof").read_bytes() == OLD
    assert (d / MAN).read_text() == UPGRADED
    assert "Successfully migrated an old-style AOF file (appendonly.aof)" in s.output()


@KINDS
def test_interrupted_upgrade_is_finished(run, kind):
    s, d = run(kind, {"appendonly.aof": OLD, MAN: "file appendonly.aof seq 1 type b\n"})
    c = serving(s)
    assert c("GET", "k1") == b"v1"
    assert not (d / "appendonly.aof").exists()
    assert (d / MAN).read_text() == UPGRADED


# -- 5, 6. refusals, with Redis's texts -----------------------------------------------------------

B1 = "appendonlydir/appendonly.aof.1.base.aof"
REFUSALS = {
    "blank line": ({INCR: resp("set", "k1", "v1"),
                    "appendonlydir/appendonly.aof.3.incr.aof": resp("set", "k2", "v2"),
                    MAN: M1 + "\nfile appendonly.aof.3.incr.aof seq 3 type i\n"},
                   "Invalid AOF manifest file format"),
    "too long line": ({B1: resp("set", "k1", "v1"), INCR: resp("set", "k3", "v3"),
                       MAN: "file appendonly.aof.1.base.aof seq 1 type b " * 42 + "\n" + M1},
                      "The AOF manifest file contains too long line"),
    "empty manifest": ({MAN: ""}, "Found an empty AOF manifest"),
    "missing incr": ({B1: resp("set", "k1", "v1"),
                      MAN: "file appendonly.aof.1.base.aof seq 1 type b\n" + M1},
                     "Unable to obtain the AOF file appendonly.aof.1.incr.aof length. stat: No "
                     "such file or directory"),
    "unknown type": ({B1: resp("set", "k1", "v1"), INCR: resp("set", "k3", "v3"),
                      MAN: "file appendonly.aof.1.base.aof seq 1 type x\n" + M1},
                     "Unknown AOF file type"),
    "unknown command": ({INCR: resp("set", "foo", "hello") + resp("bla", "foo", "hello") +
                         resp("set", "foo", "hello"), MAN: M1},
                        "Unknown command 'bla' reading the append only file "
                        "appendonly.aof.1.incr.aof"),
}


@KINDS
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_with_redis_text(run, kind, case):
    files, text = REFUSALS[case]
    s, _ = run(kind, files)
    refused(s, text)


@KINDS
def test_short_read_refused_when_aof_load_truncated_is_no(run, kind):
    data = resp("set", "foo", "hello") + resp("set", "bar", "world")[:-1]
    s, _ = run(kind, {INCR: data, MAN: M1}, "--aof-load-truncated", "no")
    refused(s, "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof")
