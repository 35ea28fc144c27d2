"""A script running past busy-reply-threshold, on kvstore-server and redis-server side by side.

Redis lets such a script run on and answers the other clients meanwhile: BUSY to nearly every
command, while SCRIPT KILL / FUNCTION KILL stop a script that wrote nothing and SHUTDOWN NOSAVE
stops the server whatever the script did. Each case runs on both servers (a fresh one per case:
some leave the script spinning or the server gone) and checks the same replies, byte for byte
where they hold no address, id or version.
"""

from __future__ import annotations

import pathlib
import signal
import time

import pytest

# (kvstore's texts: every case checks them against redis-server's replies too)
from kvstore.server.busy import BUSY_EVAL, BUSY_FUNCTION, UNKILLABLE

from .conftest import start
from .helpers import Conn, err, server_has_read, wait_until

THRESHOLD_MS = "50"

# Read-only loops: SCRIPT KILL must stop each, however the script catches errors.
SPINNING = [
    "while true do end",
    "while true do pcall(function() while true do end end) end",
    "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
    "local co = coroutine.wrap(function() while true do end end) co()",
    "coroutine.wrap(function() while true do pcall(function() while true do end end) end end)()",
]


@pytest.fixture(params=["kvstore", "redis"])
def fresh(request, tmp_path):
    """A server of each kind with busy-reply-threshold 50 ms, killed at the end (a case may
    leave a script spinning)."""
    procs = []

    def make(*extra: str):
        p = start(request.param, tmp_path, "--busy-reply-threshold", THRESHOLD_MS, *extra)
        procs.append(p)
        return p

    yield make
    for p in procs:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait(5)


def _busy(port: int, runner: Conn, text: str = BUSY_EVAL) -> None:
    """Wait until the script `runner` sent runs and a new connection's PING is refused with
    `text`."""
    server_has_read(port, runner)
    def refused():
        c = Conn(port)
        try:
            return err(c("PING")) == text
        finally:
            c.close()

    wait_until(refused, timeout=10, what="the script to be busy")


@pytest.mark.parametrize("script", SPINNING)
def test_script_kill_stops_a_read_only_script_and_the_server_goes_on(fresh, script):
    p = fresh()
    runner, other = Conn(p.port, timeout=10), Conn(p.port, timeout=10)
    assert other("PING") == b"PONG"
    # The script's own connection pipelines a PING: it must be answered after the script
    runner.send(Conn.encode("EVAL", script, 0) + Conn.encode("PING"))
    _busy(p.port, runner)
    assert err(other("PING")) == BUSY_EVAL      # a connection opened before it went busy
    assert err(other("FUNCTION", "KILL")) == BUSY_EVAL
    assert other("SCRIPT", "KILL") == b"OK"
    killed = err(runner.reply())
    assert killed is not None and killed.startswith(
        "ERR Script killed by user with SCRIPT KILL..."), killed
    assert runner.reply() == b"PONG"
    assert other("PING") == b"PONG"
    assert err(other("SCRIPT", "KILL")) == "NOTBUSY No scripts in execution right now."
    assert runner("EVAL", "return 1", 0) == 1


def test_a_script_past_the_threshold_still_returns_its_reply(fresh):
    p = fresh()
    c = Conn(p.port, timeout=10)
    script = ("local t = redis.call('time') local start = t[1] * 1000000 + t[2] "
              "repeat t = redis.call('time') until t[1] * 1000000 + t[2] - start > 300000 "
              "redis.call('set', 'done', 'yes') return 'ok'")
    assert c("EVAL", script, 0) == b"ok"
    assert c("GET", "done") == b"yes"


def _allowed_session(port: int):
    """What a connection opened before the script and one opened during it get for commands
    sent while it is busy (allow_busy ones run), and the errorstats after."""
    before = Conn(port)
    before("SET", "x", "1")
    runner = Conn(port)
    runner.send(Conn.encode("EVAL", "while true do end", 0))
    _busy(port, runner)
    during = Conn(port)  # accepted while the script runs
    got = []
    for c in (before, during):
        for argv in (["GET", "x"], ["AUTH", "pw"], ["CLIENT", "ID"], ["SELECT", "1"],
                     ["MULTI"], ["SET", "a", "b"], ["EXEC"], ["DISCARD"], ["WATCH", "x"],
                     ["UNWATCH"], ["MULTI"], ["DISCARD"], ["FUNCTION", "STATS"],
                     ["SHUTDOWN"], ["SHUTDOWN", "SAVE"], ["SCRIPT", "FLUSH"],
                     ["SUBSCRIBE", "ch"], ["RESET"]):
            c.send(Conn.encode(*argv))
            got.append((argv, c.read_raw(until=b"\r\n", timeout=5)))
    assert during("HELLO", "3")[b"proto"] == 3
    during.send(Conn.encode("QUIT"))
    got.append((["QUIT"], during.read_raw()))
    assert before("SCRIPT", "KILL") == b"OK"
    assert "Script killed by user" in err(runner.reply())  # (it ends after KILL's reply)
    info = before("INFO", "errorstats").decode()
    return got, sorted(line for line in info.splitlines() if "BUSY" in line or "EXECABORT" in line)


def test_commands_while_busy_are_answered_as_redis_does(tmp_path):
    sessions = {}
    for kind in ("kvstore", "redis"):
        p = start(kind, tmp_path, "--busy-reply-threshold", THRESHOLD_MS)
        try:
            sessions[kind] = _allowed_session(p.port)
        finally:
            p.proc.kill()
            p.proc.wait(5)
    assert sessions["kvstore"] == sessions["redis"]
    got, errorstats = sessions["redis"]
    assert (["EXEC"], b"-EXECABORT Transaction discarded because of: " + BUSY_EVAL.encode()
            + b"\r\n") in got
    assert (["QUIT"], b"+OK\r\n") in got and errorstats


def test_subscribed_connection_while_busy(fresh):
    p = fresh()
    sub = Conn(p.port)
    sub("SUBSCRIBE", "ch")
    runner = Conn(p.port)
    runner.send(Conn.encode("EVAL", "while true do end", 0))
    _busy(p.port, runner)
    assert err(sub("PING")) == BUSY_EVAL
    assert err(sub("UNSUBSCRIBE", "ch")) == BUSY_EVAL
    assert err(sub("GET", "x")).startswith("ERR Can't execute 'get'")
    assert Conn(p.port)("SCRIPT", "KILL") == b"OK"
    # (the script ends after KILL's reply: its own error first, or a PING may still be refused)
    assert "Script killed by user" in err(runner.reply())
    assert sub("PING") == [b"pong", b""]


def test_a_script_that_wrote_cannot_be_killed_but_shutdown_nosave_stops_the_server(fresh):
    p = fresh("--appendonly", "yes", "--appendfsync", "always")
    c = Conn(p.port)
    assert c("SET", "before", "1") == b"OK"
    runner = Conn(p.port)
    runner.send(Conn.encode("EVAL", "redis.call('set', 'during', '1') "
                            "redis.call('incr', 'before') while true do end", 0))
    _busy(p.port, runner)
    assert err(c("SCRIPT", "KILL")) == UNKILLABLE
    assert err(c("FUNCTION", "KILL")) == UNKILLABLE
    assert err(c("SHUTDOWN")) == BUSY_EVAL
    assert err(c("GET", "before")) == BUSY_EVAL
    c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
    assert c.closed(10) and runner.closed(10)
    assert p.proc.wait(10) == 0
    assert "Slow script detected: still in execution after" in p.output()
    # Nothing of the script is kept (Redis never propagated it); what came before is
    again = start(p.kind, pathlib.Path(p.log).parent, "--appendonly", "yes")
    try:
        assert Conn(again.port)("MGET", "before", "during") == [b"1", None]
    finally:
        again.stop()


def test_shutdown_nosave_keeps_nothing_of_a_transaction_whose_script_is_busy(fresh):
    p = fresh("--appendonly", "yes", "--appendfsync", "always")
    c = Conn(p.port)
    assert c("SET", "before", "1") == b"OK"
    runner = Conn(p.port)
    runner.send(b"".join(Conn.encode(*argv) for argv in (
        ("MULTI",), ("SET", "c", "3"),
        ("EVAL", "redis.call('set', 'a', '1') while true do end", 0), ("SET", "b", "2"),
        ("EXEC",))))
    _busy(p.port, runner)
    c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
    assert c.closed(10) and p.proc.wait(10) == 0
    again = start(p.kind, pathlib.Path(p.log).parent, "--appendonly", "yes")
    try:
        assert Conn(again.port)("MGET", "before", "a", "b", "c") == [b"1", None, None, None]
    finally:
        again.stop()


def test_function_kill_and_stats_while_a_function_is_busy(fresh):
    p = fresh()
    c = Conn(p.port)
    assert c("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('spin', "
             "function(keys, args) while true do end end)") == b"lib"
    runner = Conn(p.port)
    runner.send(Conn.encode("FCALL", "spin", 1, "k", "a"))
    _busy(p.port, runner, BUSY_FUNCTION)
    assert err(c("SCRIPT", "KILL")) == BUSY_FUNCTION
    stats = c("FUNCTION", "STATS")
    running = dict(zip(stats[1][::2], stats[1][1::2]))
    assert running[b"name"] == b"spin"
    assert running[b"command"] == [b"FCALL", b"spin", b"1", b"k", b"a"]
    assert running[b"duration_ms"] >= int(THRESHOLD_MS)
    assert c("FUNCTION", "KILL") == b"OK"
    killed = err(runner.reply())
    assert killed == "ERR Script killed by user with SCRIPT KILL... script: spin, on " \
                     "@user_function:2.", killed
    assert c("FUNCTION", "STATS")[1] is None


def test_a_connection_accepted_as_the_script_starts_is_answered(fresh):
    """The server sleeps while a connection arrives and the script comes, so that it accepts
    the one and reads the other in the same loop iteration."""
    p = fresh()
    runner, sleeper = Conn(p.port), Conn(p.port)
    assert runner("PING") == b"PONG"
    sleeper.send(Conn.encode("DEBUG", "SLEEP", "0.3"))
    server_has_read(p.port, sleeper)
    late = Conn(p.port, timeout=10)
    runner.send(Conn.encode("EVAL", "while true do end", 0))
    assert err(late("PING")) == BUSY_EVAL
    assert late("SCRIPT", "KILL") == b"OK"
    assert err(runner.reply()).startswith("ERR Script killed by user")
    assert late("PING") == b"PONG"


def test_clients_come_and_go_while_busy(fresh):
    """Connections opened, closed and quit during the busy script, and one that sends a partial
    command: the server serves them all afterwards."""
    p = fresh()
    runner = Conn(p.port)
    runner.send(Conn.encode("EVAL", "while true do end", 0))
    _busy(p.port, runner)
    for _ in range(20):
        Conn(p.port).close()
    half = Conn(p.port)
    half.send(b"*2\r\n$4\r\nECHO\r\n$5\r\nhel")
    quitter = Conn(p.port)
    assert quitter("QUIT") == b"OK" and quitter.closed()
    killer = Conn(p.port)
    assert killer("SCRIPT", "KILL") == b"OK"
    assert err(runner.reply()).startswith("ERR Script killed by user")
    half.send(b"lo\r\n")
    assert half.reply() == b"hello"
    assert killer("PING") == b"PONG"
    assert len(killer("CLIENT", "LIST").splitlines()) == 3  # runner, half, killer


def test_a_client_that_hangs_up_while_busy_is_gone_at_once(fresh):
    """Redis frees a connection that hangs up during a busy script: the script itself sees it
    go from INFO (kvstore used to keep it until the script ended)."""
    p = fresh()
    before = Conn(p.port)
    runner = Conn(p.port, timeout=10)
    runner.send(Conn.encode(
        "EVAL", "while not string.match(redis.call('info', 'clients'), "
                "'connected_clients:1\\r') do end return 'alone'", 0))
    _busy(p.port, runner)  # (its probing connections are closed, and go too)
    before.close()
    assert runner.reply() == b"alone"


def test_a_replica_that_leaves_while_busy_is_gone_at_once(fresh):
    """After Redis's "not enough good replicas state change during long script": the script
    waits for INFO to show the replica gone, then writes, under min-replicas-to-write 1."""
    master, replica = fresh(), fresh()
    m, r = Conn(master.port, timeout=10), Conn(replica.port)
    assert r("REPLICAOF", "127.0.0.1", str(master.port)) == b"OK"
    wait_until(lambda: b"slave0:" in m("INFO", "replication")
               and b"state=online" in m("INFO", "replication"), what="the replica online")
    assert m("CONFIG", "SET", "min-replicas-to-write", "1") == b"OK"
    runner = Conn(master.port, timeout=10)
    runner.send(Conn.encode(
        "EVAL", "redis.call('set', KEYS[1], 'script value') "
                "while true do local info = redis.call('info', 'replication') "
                "if string.match(info, 'connected_slaves:0') then "
                "redis.call('set', KEYS[1], info) break end end return 1", 1, "x"))
    _busy(master.port, runner)
    assert r("REPLICAOF", "NO", "ONE") == b"OK"
    assert runner.reply() == 1
    assert b"connected_slaves:0" in m("GET", "x")


def _signalled_while_busy(p, sig: signal.Signals) -> Conn:
    """Make `p` busy with an endless script, send it `sig`, and wait for its log line: the
    signal is taken at once, while the script runs on. Returns the script's connection."""
    runner = Conn(p.port, timeout=10)
    runner.send(Conn.encode("EVAL", "while true do end", 0))
    _busy(p.port, runner)
    p.proc.send_signal(sig)
    wait_until(lambda: f"Received {sig.name} scheduling shutdown..." in p.output(),
               what="the signal to be logged while the script runs")
    assert err(Conn(p.port)("PING")) == BUSY_EVAL
    return runner


def test_sigterm_during_a_busy_script_shuts_down_once_it_ends(fresh):
    p = fresh()
    _signalled_while_busy(p, signal.SIGTERM)
    assert Conn(p.port)("SCRIPT", "KILL") == b"OK"
    assert p.proc.wait(10) == 0
    assert "User requested shutdown..." in p.output()


def test_a_second_sigint_during_a_busy_script_exits_at_once(fresh):
    p = fresh()
    _signalled_while_busy(p, signal.SIGINT)
    p.proc.send_signal(signal.SIGINT)
    assert p.proc.wait(10) == 1
    assert "You insist... exiting now." in p.output()


def test_shutdown_abort_calls_off_a_sigterm_during_a_busy_script(fresh):
    """Redis's "SHUTDOWN ABORT can cancel SIGTERM": the signal's shutdown had not begun."""
    p = fresh()
    runner = _signalled_while_busy(p, signal.SIGTERM)
    c = Conn(p.port, timeout=10)
    assert c("SHUTDOWN", "ABORT") == b"OK"
    assert c("SCRIPT", "KILL") == b"OK"
    assert "Script killed by user" in err(runner.reply())  # (it ends after KILL's reply)
    assert c("PING") == b"PONG"
    assert "Shutdown manually aborted." in p.output()
    assert p.proc.poll() is None
    assert err(c("SHUTDOWN", "ABORT")) == "ERR No shutdown in progress."
