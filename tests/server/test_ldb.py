"""The Lua debugger (SCRIPT DEBUG YES|SYNC, then EVAL: what `redis-cli --ldb` drives), run side
by side on kvstore-server and redis-server: every array of debugger lines, the EVAL reply that
ends the session and the closed connection after it must be the same bytes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .helpers import Conn

SCRIPT = """local function f(x)
  local y = x * 2
  redis.breakpoint()
  return y
end
local t = {a=1, list={1, "two\\n", true}}
redis.call("SET", KEYS[1], ARGV[1])
redis.debug(t, "s", nil, 1.5)
local v = redis.call("GET", KEYS[1])
return f(#v)
"""

# Every debugger command, with its arguments' odd cases (an existing breakpoint, a bad line, a
# long reply under maxlen, a failing and a refused redis command, eval errors...).
COMMANDS = [
    ["s"], ["s"], ["p"], ["p", "t"], ["p", "nosuch"], ["p", "KEYS"], ["s"],
    ["r", "set", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"], ["r", "get"],
    ["r", "lrange", "nokey", "0", "-1"], ["r", "hset", "ldb:h", "f", "v"],
    ["r", "hgetall", "ldb:h"], ["m", "10"], ["r", "set", "ldb:long", "x" * 100],
    ["r", "get", "ldb:long"], ["m", "0"], ["m"], ["b", "4"], ["b", "4"], ["b", "x"], ["b", "99"],
    ["b"], ["l", "2", "1"], ["w"], ["h"], ["t"], ["e", "1 + 1"], ["e", ")"], ["e", "t"],
    ["e", "redis.call('ping')"], ["E", "{1, 2}"], ["zz"], ["c"], ["t"], ["p"], ["p", "x"],
    ["b", "-4"], ["b", "-9"], ["b", "0"], ["c"],
]


def _session(port: int, mode: str, commands) -> list:
    """What the debugged connection receives: SCRIPT DEBUG's reply, the first stop, the lines
    after each command, then whatever comes until the server closes the connection."""
    c = Conn(port)
    got = [c("SCRIPT", "DEBUG", mode)]
    c.send(Conn.encode("EVAL", SCRIPT, "1", "ldb:k", "hello"))
    got.append(c.reply())
    for cmd in commands:
        c.send(Conn.encode(*cmd))
        got.append(c.reply())
    got.append(c.reply())  # the EVAL reply, after <endsession>
    got.append(c.read_raw())  # then the connection closes
    c.close()
    return [_anywhere(x) for x in got]


def _anywhere(reply):
    """A reply with the addresses of functions shown (function@0x...) left out."""
    if isinstance(reply, list):
        return [_anywhere(x) for x in reply]
    return re.sub(rb"@0x[0-9a-f]+", b"@0x", reply) if isinstance(reply, bytes) else reply


@pytest.mark.parametrize("mode", ["yes", "sync"])
def test_a_debugging_session_is_redis_s_line_for_line(ports, mode):
    sessions = {kind: _session(port, mode, COMMANDS) for kind, port in ports.items()}
    assert sessions["kvstore"] == sessions["redis"]
    got = sessions["redis"]
    assert got[1] == [b"* Stopped at 5, stop reason = step over", b"-> 5   end"]
    assert got[-3] == [b"<endsession>"] and got[-2] == 10 and got[-1] == b""


def test_yes_forks_and_drops_the_writes_sync_keeps_them(ports):
    for kind, port in ports.items():
        c = Conn(port)
        c("DEL", "ldb:k", "ldb:h")
        _session(port, "yes", [["c"], ["c"]])
        assert c("EXISTS", "ldb:k", "ldb:h") == 0, kind  # (the child's, gone with it)
        _session(port, "sync", [["r", "hset", "ldb:h", "f", "v"], ["c"], ["c"]])
        assert c("MGET", "ldb:k") == [b"hello"] and c("HGET", "ldb:h", "f") == b"v", kind
        c("DEL", "ldb:k", "ldb:h")


@pytest.mark.parametrize("mode", ["yes", "sync"])
def test_abort_a_protocol_error_and_a_client_that_leaves(ports, mode):
    for kind, port in ports.items():
        aborted = _session(port, mode, [["s"], ["a"]])
        assert str(aborted[-2]).startswith("ERR script aborted for user request script: "), kind
        c = Conn(port)
        c("SCRIPT", "DEBUG", mode)
        c.send(Conn.encode("EVAL", "return 1", "0"))
        c.reply()
        c.send(b"hello\r\n")  # not a debugger command at all
        assert c.reply() == [b"<endsession>"]
        assert str(c.reply()).startswith("ERR protocol error script: "), kind
        # A client that leaves mid-session: the script runs to its end, unattended.
        c = Conn(port)
        c("SCRIPT", "DEBUG", mode)
        c.send(Conn.encode("EVAL", "redis.call('SET', 'ldb:left', 1) return 1", "0"))
        c.reply()
        c.close()
        other = Conn(port)
        assert other("GET", "ldb:left") == (b"1" if mode == "sync" else None), kind
        other("DEL", "ldb:left")


def test_evalsha_and_the_modes_refused(ports):
    for kind, port in ports.items():
        c = Conn(port)
        assert c("SCRIPT", "DEBUG", "yes") == b"OK"
        assert str(c("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")) == \
            "ERR Please use EVAL instead of EVALSHA for debugging"
        assert c("SCRIPT", "DEBUG", "no") == b"OK" and c("EVAL", "return 3", "0") == 3
        assert str(c("SCRIPT", "DEBUG", "maybe")) == "ERR Use SCRIPT DEBUG YES/SYNC/NO"
        c.send(Conn.encode("PING") + Conn.encode("SCRIPT", "DEBUG", "yes"))
        assert c.reply() == b"PONG"
        assert str(c.reply()) == "ERR SCRIPT DEBUG must be called outside a pipeline"


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli is not installed")
def test_redis_cli_ldb(ports, tmp_path):
    """redis-cli --ldb as a user runs it (its commands from stdin), on both servers."""
    script = tmp_path / "s.lua"
    script.write_text(SCRIPT)
    out = {}
    for kind, port in ports.items():
        for sync in ([], ["--ldb-sync-mode"]):
            run = subprocess.run(
                ["redis-cli", "-p", str(port), "--ldb", *sync, "--eval", str(script), "ldb:k",
                 ",", "hello"], input="s\np\nr incr ldb:n\nb 9\nc\nw\nc\nc\n", capture_output=True,
                text=True, timeout=30)
            out[kind, bool(sync)] = re.sub(r"@0x[0-9a-f]+", "@0x", run.stdout)
        Conn(port)("DEL", "ldb:k", "ldb:n")
    assert out["kvstore", False] == out["redis", False]
    assert out["kvstore", True] == out["redis", True]
    assert "dataset changes rolled back" in out["redis", False]
    assert "<redis> incr ldb:n" in out["redis", True]


def test_a_shutdown_ends_the_forked_sessions(tmp_path):
    """As Redis's prepareForShutdown: a forked session's child is killed with the server, so the
    debugged client sees its connection close instead of waiting on a child nobody ends."""
    from .conftest import start

    for kind in ("kvstore", "redis"):
        (tmp_path / kind).mkdir()
        p = start(kind, tmp_path / kind)
        debugged = Conn(p.port, timeout=10)
        debugged("SCRIPT", "DEBUG", "yes")
        debugged.send(Conn.encode("EVAL", "return 1", "0"))
        assert debugged.reply()[0].startswith(b"* Stopped at 1")
        Conn(p.port).send(Conn.encode("SHUTDOWN", "NOSAVE"))
        assert p.proc.wait(20) == 0
        assert debugged.sock.recv(100) == b"", kind  # closed, not left waiting
