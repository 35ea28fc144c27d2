"""MULTI / EXEC / DISCARD / WATCH / UNWATCH, black-box against kvstore AND redis-server."""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest
import redis

from kvstore.persistence import aof
from kvstore.server.config import Config
from kvstore.server.server import Log, Server, run
from tests.conftest import free_port, wait_for_port

from .helpers import Conn, err


def raw(c: Conn, *args) -> bytes:
    c.send(Conn.encode(*args))
    return c.read_raw(until=b"\r\n", timeout=2.0)


def test_queue_and_exec(c):
    assert c("MULTI") == b"OK"
    assert c("SET", "k", "v") == b"QUEUED"
    assert c("INCR", "k") == b"QUEUED"
    assert c("GET", "k") == b"QUEUED"
    res = c("EXEC")
    assert res[0] == b"OK"
    assert err(res[1]) == "ERR value is not an integer or out of range"
    assert res[2] == b"v"


def test_raw_bytes(c):
    c.send(Conn.encode("MULTI") + Conn.encode("PING") + Conn.encode("EXEC"))
    assert c.read_raw(until=b"+PONG\r\n") == b"+OK\r\n+QUEUED\r\n*1\r\n+PONG\r\n"
    c.send(Conn.encode("MULTI") + Conn.encode("EXEC"))
    assert c.read_raw(until=b"*0\r\n") == b"+OK\r\n*0\r\n"


def test_errors_outside_and_nested(c):
    assert err(c("EXEC")) == "ERR EXEC without MULTI"
    assert err(c("DISCARD")) == "ERR DISCARD without MULTI"
    assert c("MULTI") == b"OK"
    assert err(c("MULTI")) == "ERR MULTI calls can not be nested"
    assert err(c("WATCH", "x")) == "ERR WATCH inside MULTI is not allowed"
    assert c("PING") == b"QUEUED"
    assert c("EXEC") == [b"PONG"]  # neither error aborts the transaction


def test_execabort(c):
    assert c("MULTI") == b"OK"
    assert c("SET", "a", "1") == b"QUEUED"
    assert err(c("NOSUCHCMD", "x")) == ("ERR unknown command 'NOSUCHCMD', with args beginning "
                                        "with: 'x' ")
    assert err(c("GET")) == "ERR wrong number of arguments for 'get' command"
    assert c("SET", "b", "2") == b"QUEUED"
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert c("EXISTS", "a", "b") == 0
    assert err(c("EXEC")) == "ERR EXEC without MULTI"


def test_a_replica_gone_stale_after_queueing_refuses_exec(server, kv_factory):
    """With replica-serve-stale-data no, a replica whose master link is down serves no GET or
    PING (MASTERDOWN), and EXEC judges the commands it queued before the link went: one
    without the stale flag makes it EXECABORT (Redis 7.0's tests/unit/multi.tcl)."""
    p = kv_factory("--replica-serve-stale-data", "no", kind=server.kind)
    c, admin = Conn(p.port), Conn(p.port)
    master_down = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    assert c("SET", "xx", "1") == b"OK"
    for queued in (("GET", "xx"), ("PING",)):
        assert c("MULTI") == b"OK" and c(*queued) == b"QUEUED"
        assert admin("REPLICAOF", "localhsot", "0") == b"OK"
        assert err(c("EXEC")) == "EXECABORT Transaction discarded because of: " + master_down
        assert err(c(*queued)) == master_down
        assert admin("REPLICAOF", "NO", "ONE") == b"OK"
    assert admin("REPLICAOF", "localhsot", "0") == b"OK"
    assert c("MULTI") == b"OK"  # MULTI is allowed while stale
    assert admin("REPLICAOF", "NO", "ONE") == b"OK"
    assert c("GET", "xx") == b"QUEUED"
    assert c("EXEC") == [b"1"]


def test_save_and_shutdown_are_refused_inside_multi(c):
    assert c("MULTI") == b"OK"
    assert c("SET", "a", "1") == b"QUEUED"
    for argv in (("SAVE",), ("SHUTDOWN", "NOSAVE")):  # Redis's no-multi commands
        assert err(c(*argv)) == "ERR Command not allowed inside a transaction"
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert c("PING") == b"PONG"  # the server is still up


EXEC_ARITY_ABORT = ("EXECABORT Transaction discarded because of: wrong number of arguments for "
                    "'exec' command")


def test_exec_with_wrong_arity_discards_the_transaction(c):
    """Redis's rejectCommand: a refused EXEC aborts at once and leaves MULTI, unlike a refused
    queued command, which only makes the later EXEC fail."""
    assert c("MULTI") == b"OK"
    assert c("SET", "a", "1") == b"QUEUED"
    assert err(c("EXEC", "now")) == EXEC_ARITY_ABORT
    assert c("EXISTS", "a") == 0  # ran at once: not in MULTI any more, and nothing was applied
    assert err(c("EXEC")) == "ERR EXEC without MULTI"
    assert err(c("EXEC", "x", "y")) == EXEC_ARITY_ABORT  # outside MULTI too


def test_rejected_exec_forgets_watched_keys(c, server):
    c("WATCH", "w")
    assert err(c("EXEC", "x")) == EXEC_ARITY_ABORT
    other = Conn(server.port)
    other("SET", "w", "changed")  # would break the transaction if `w` were still watched
    other.close()
    assert c("MULTI") == b"OK"
    assert c("PING") == b"QUEUED"
    assert c("EXEC") == [b"PONG"]


def test_exec_before_auth_is_an_execabort(kv_factory, server):
    p = kv_factory("--requirepass", "pw", kind=server.kind)
    c = Conn(p.port)
    assert err(c("EXEC")) == \
        "EXECABORT Transaction discarded because of: NOAUTH Authentication required."
    assert err(c("PING")) == "NOAUTH Authentication required."


def test_discard(c):
    c("WATCH", "w")
    assert c("MULTI") == b"OK"
    assert c("SET", "a", "1") == b"QUEUED"
    assert c("DISCARD") == b"OK"
    assert c("EXISTS", "a") == 0
    c2 = Conn(c.sock.getpeername()[1])
    c2("SET", "w", "1")  # DISCARD unwatched: the next transaction is not affected
    c("MULTI")
    c("PING")
    assert c("EXEC") == [b"PONG"]
    c2.close()


def _other(c):
    return Conn(c.sock.getpeername()[1])


@pytest.mark.parametrize("write", [
    ("SET", "w", "x"), ("DEL", "w"), ("EXPIRE", "w", "100"), ("RENAME", "w", "w2"),
    ("RENAME", "z", "w"), ("LPUSH", "l", "a"), ("FLUSHDB",), ("FLUSHALL",), ("SWAPDB", "0", "1"),
    ("APPEND", "w", "y"), ("MOVE", "w", "3"), ("INCR", "n"),
    ("LTRIM", "lt", "0", "-1"),  # trims nothing, yet Redis signals the key
])
def test_watch_broken_by_other_client(c, write):
    c("SET", "w", "1")
    c("SET", "z", "2")
    c("SET", "n", "1")
    c("RPUSH", "lt", "a")
    keys = {"RENAME": "w", "LPUSH": "l", "INCR": "n", "LTRIM": "lt"}
    c("WATCH", keys.get(write[0], "w"))
    other = _other(c)
    other(*write)
    c("MULTI")
    c("PING")
    assert c("EXEC") is None
    other("FLUSHALL")
    other.close()


def test_watch_not_broken(c):
    c("SET", "w", "1")
    c("WATCH", "w", "absent")
    other = _other(c)
    other("SET", "other", "x")
    other("GET", "w")
    other("DEL", "absent")  # deleting nothing is no change
    other("EXPIRE", "absent", "10")
    other("FLUSHDB")  # "w" existed: this one breaks it
    c("MULTI")
    c("PING")
    assert c("EXEC") is None
    c("WATCH", "absent")
    other("FLUSHALL")  # the watched key did not exist: no change (Redis 7.0)
    other("SWAPDB", "0", "1")
    c("MULTI")
    c("PING")
    assert c("EXEC") == [b"PONG"]
    other.close()


def test_watch_own_write_and_unwatch(c):
    c("WATCH", "k")
    c("SET", "k", "1")  # our own write before MULTI breaks it too
    c("MULTI")
    c("PING")
    assert c("EXEC") is None
    c("WATCH", "k")
    c("SET", "k", "2")
    assert c("UNWATCH") == b"OK"
    c("MULTI")
    c("GET", "k")
    assert c("EXEC") == [b"2"]
    c("WATCH", "k")  # EXEC unwatched everything: a later write does not matter
    c("MULTI")
    c("SET", "k", "3")
    assert c("EXEC") == [b"OK"]
    c("SET", "k", "4")
    c("MULTI")
    c("GET", "k")
    assert c("EXEC") == [b"4"]


def test_watch_other_db(c):
    c("WATCH", "k")
    other = _other(c)
    other("SELECT", "1")
    other("SET", "k", "x")  # same name, other database
    c("MULTI")
    c("PING")
    assert c("EXEC") == [b"PONG"]
    other("FLUSHALL")
    other.close()


def test_watch_expiry(c):
    c("SET", "e", "1", "PX", "30")
    c("WATCH", "e")
    time.sleep(0.06)
    c("MULTI")
    c("PING")
    assert c("EXEC") is None  # isWatchedKeyExpired


def test_watch_wrong_arity_and_type(c):
    assert err(c("WATCH")) == "ERR wrong number of arguments for 'watch' command"
    assert err(c("UNWATCH", "x")) == "ERR wrong number of arguments for 'unwatch' command"
    assert err(c("MULTI", "x")) == "ERR wrong number of arguments for 'multi' command"


def test_exec_runtime_wrongtype(c):
    c("SET", "s", "x")
    c("MULTI")
    c("LPUSH", "s", "a")
    c("SET", "t", "1")
    res = c("EXEC")
    assert err(res[0]).startswith("WRONGTYPE")
    assert res[1] == b"OK"


def test_atomic_against_other_clients(c):
    other = _other(c)
    c("MULTI")
    c("INCR", "n")
    other("SET", "n", "10")  # runs now; the queued INCR only at EXEC
    c("INCR", "n")
    assert c("EXEC") == [11, 12]
    other.close()


def test_blocking_inside_multi(c):
    c("MULTI")
    c("BLPOP", "nolist", "0")
    c("BLMOVE", "nolist", "x", "LEFT", "LEFT", "0")
    assert c("EXEC") == [None, None]
    c("MULTI")
    c.send(Conn.encode("BLPOP", "nolist", "0") + Conn.encode("EXEC"))
    assert c.read_raw(until=b"*-1\r\n") == b"+QUEUED\r\n*1\r\n*-1\r\n"


def test_reset_leaves_multi(c):
    c("WATCH", "k")
    c("MULTI")
    c("SET", "k", "1")
    assert c("RESET") == b"RESET"
    assert err(c("EXEC")) == "ERR EXEC without MULTI"
    assert c("EXISTS", "k") == 0


EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def test_wrong_arity_of_a_command_that_runs_in_multi_aborts_the_transaction(c):
    """MULTI, WATCH, DISCARD and RESET run instead of queueing, but their lookup errors are
    Redis's rejectCommand like any other's: EXEC aborts."""
    for argv in (("WATCH",), ("MULTI", "x"), ("DISCARD", "x"), ("RESET", "x")):
        assert c("MULTI") == b"OK"
        assert c("SET", "a", "1") == b"QUEUED"
        assert err(c(*argv)) == f"ERR wrong number of arguments for '{argv[0].lower()}' command"
        assert err(c("EXEC")) == EXECABORT, argv
        assert c("EXISTS", "a") == 0


def _fields(line: bytes) -> dict[str, str]:
    return dict(field.split("=", 1) for field in line.decode().split())


def _tx_fields(line: bytes) -> tuple[str, str, str]:
    f = _fields(line)
    return f["flags"], f["multi"], f["cmd"]


def test_client_list_while_queueing_and_inside_exec(c, server):
    """Redis keeps the MULTI flag and the queue while EXEC runs it, and its lastcmd is EXEC's;
    while queueing, multi= counts the commands stored for EXEC and cmd= is the last queued."""
    cid = c("CLIENT", "ID")
    other = Conn(server.port)
    assert c("MULTI") == b"OK"
    assert _tx_fields(other("CLIENT", "LIST", "ID", cid)) == ("x", "0", "multi")
    assert c("SET", "k", "v") == b"QUEUED"
    assert c("GET", "k") == b"QUEUED"
    assert _tx_fields(other("CLIENT", "LIST", "ID", cid)) == ("x", "2", "get")
    assert err(c("NOSUCH")) is not None
    assert c("STRLEN", "k") == b"QUEUED"  # but not stored: EXEC is bound to abort now
    assert _tx_fields(other("CLIENT", "LIST", "ID", cid)) == ("x", "2", "strlen")
    assert c("DISCARD") == b"OK"
    assert c("MULTI") == b"OK"
    for argv in (("SET", "k", "v"), ("CLIENT", "INFO"), ("CLIENT", "LIST", "ID", cid)):
        assert c(*argv) == b"QUEUED"
    replies = c("EXEC")
    assert [_tx_fields(line) for line in replies[1:]] == [("x", "3", "exec")] * 2
    assert _tx_fields(other("CLIENT", "LIST", "ID", cid)) == ("N", "-1", "exec")
    other.close()


OOM = "OOM command not allowed when used memory > 'maxmemory'."


def test_queueing_over_maxmemory_is_refused(kv_factory, server):
    """Over maxmemory (noeviction), Redis refuses every command a client in MULTI sends but
    EXEC, DISCARD, QUIT and RESET, not only DENYOOM ones (the queue takes memory too); the
    refusal makes EXEC abort. Far over the limit: kvstore's used-memory figure is approximate."""
    p = kv_factory(kind=server.kind)
    c, admin = Conn(p.port), Conn(p.port)
    admin("SET", "big", "x" * 8_000_000)
    assert c("MULTI") == b"OK"
    assert c("GET", "big") == b"QUEUED"
    admin("CONFIG", "SET", "maxmemory", "1mb")
    for argv in (("SET", "k", "v"), ("GET", "k"), ("PING",), ("MULTI",), ("WATCH", "k")):
        assert err(c(*argv)) == OOM, argv
    admin("CONFIG", "SET", "maxmemory", "0")
    assert c("PING") == b"QUEUED"
    assert err(c("EXEC")) == EXECABORT
    assert c("EXISTS", "k") == 0


def test_exec_over_maxmemory_with_a_queued_write_is_discarded(kv_factory, server):
    """EXEC is judged by what it would run: with a DENYOOM command queued it is refused over
    maxmemory and discards the transaction at once; with only reads queued it runs."""
    p = kv_factory(kind=server.kind)
    c, admin = Conn(p.port), Conn(p.port)
    admin("SET", "big", "x" * 8_000_000)
    assert c("MULTI") == b"OK"
    assert c("SET", "k", "v") == b"QUEUED"
    assert c("STRLEN", "big") == b"QUEUED"
    admin("CONFIG", "SET", "maxmemory", "1mb")
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of: " + OOM
    assert err(c("EXEC")) == "ERR EXEC without MULTI"
    assert c("EXISTS", "k") == 0
    assert c("MULTI") == b"OK"  # over the limit: MULTI and DISCARD are still allowed
    assert c("DISCARD") == b"OK"
    admin("CONFIG", "SET", "maxmemory", "0")
    assert c("MULTI") == b"OK"
    assert c("STRLEN", "big") == b"QUEUED"
    admin("CONFIG", "SET", "maxmemory", "1mb")
    assert c("EXEC") == [8_000_000]


def test_zrank_extra_arguments_follow_redis_7_2(kv_factory):
    """kvstore only: we report 7.2.4 and take 7.2's WITHSCORE, so ZRANK and ZREVRANK have 7.2's
    arity (-3): extra arguments are queued and refused when run, a fourth that is not
    WITHSCORE as a syntax error, more as a wrong arity (7.2's zrankGenericCommand), before the
    key is looked up. Redis 7.0, the oracle elsewhere, refuses both when queueing."""
    c = Conn(kv_factory().port)
    c("ZADD", "z", "1.5", "a")
    c("SET", "str", "x")
    arity = "ERR wrong number of arguments for '%s' command"
    cases = [(("ZRANK", "z", "a", "extra"), "ERR syntax error"),
             (("ZREVRANK", "str", "a", "WITHSCORES"), "ERR syntax error"),
             (("ZRANK", "nokey", "a", "WITHSCORE", "x"), arity % "zrank"),
             (("ZREVRANK", "z", "a", "b", "c"), arity % "zrevrank"),
             (("ZRANK", "z", "a", "withscore"), [0, b"1.5"])]
    assert c("MULTI") == b"OK"
    for argv, _ in cases:
        assert c(*argv) == b"QUEUED", argv
    assert [err(r) or r for r in c("EXEC")] == [want for _, want in cases]
    for argv, want in cases:
        assert (err(r := c(*argv)) or r) == want, argv


@pytest.mark.parametrize("protocol", [2, 3])
def test_redis_py_pipeline_and_watch(server, protocol):
    r = redis.Redis(port=server.port, protocol=protocol)
    r.flushall()
    with r.pipeline() as p:
        p.set("a", 1).incr("a").get("a")
        assert p.execute() == [True, 2, b"2"]
    r.set("bal", 10)
    with r.pipeline() as p:
        p.watch("bal")
        bal = int(p.get("bal"))
        r2 = redis.Redis(port=server.port, protocol=protocol)
        r2.set("bal", 99)
        p.multi()
        p.set("bal", bal - 1)
        with pytest.raises(redis.WatchError):
            p.execute()
        r2.close()
    with r.pipeline() as p:
        p.set("x", "s").lpush("x", 1)
        with pytest.raises(redis.ResponseError):
            p.execute()
    r.close()


def _script(seed: int, n: int = 300) -> list[tuple[int, tuple]]:
    """A seeded random interleaving of two clients' transactions, watches and writes."""
    import random

    rng = random.Random(seed)
    keys = ["a", "b", "c"]
    ops = []
    for _ in range(n):
        who = rng.randrange(2)
        k = rng.choice(keys)
        op = rng.choice([
            ("MULTI",), ("EXEC",), ("DISCARD",), ("WATCH", k, rng.choice(keys)), ("UNWATCH",),
            ("SET", k, str(rng.randrange(5))), ("INCR", k), ("GET", k), ("DEL", k),
            ("LPUSH", k, "x"), ("NOPE",), ("GET",), ("EXPIRE", k, "100"), ("RENAME", k, "c"),
            ("FLUSHDB",), ("SELECT", str(rng.randrange(2))),
        ])
        ops.append((who, op))
    return ops


def _plain(reply):
    """Replies with errors as comparable ("error", text) tuples."""
    if isinstance(reply, list):
        return [_plain(r) for r in reply]
    text = err(reply)
    return ("error", text) if text is not None else reply


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_against_redis(kv_factory, seed):
    """The same random script through kvstore and redis-server: identical replies."""
    results = []
    for kind in ("kvstore", "redis"):
        p = kv_factory(kind=kind)
        conns = [Conn(p.port), Conn(p.port)]
        out = []
        for who, op in _script(seed):
            out.append(_plain(conns[who](*op)))
        results.append(out)
        for conn in conns:
            conn.close()
    for i, (mine, theirs) in enumerate(zip(*results)):
        assert mine == theirs, (i, _script(seed)[i], mine, theirs)


def test_aof_logs_transaction_and_served_pops(kv_factory, tmp_path):
    """kvstore only: EXEC's writes are logged inside MULTI/EXEC; a served BLPOP as LPOP."""
    import glob

    p = kv_factory("--appendonly", "yes", "--appendfsync", "always")
    c = Conn(p.port)
    c("MULTI")
    c("SET", "a", "1")
    c("GET", "a")
    c("INCR", "a")
    assert c("EXEC") == [b"OK", b"1", 2]
    c("MULTI")
    c("GET", "a")
    assert c("EXEC") == [b"2"]  # read-only: nothing logged
    waiter = Conn(p.port)
    waiter.send(Conn.encode("BLPOP", "q", "0"))
    for _ in range(200):
        if "flags=b" in c("CLIENT", "LIST").decode():
            break
        time.sleep(0.005)
    c("RPUSH", "q", "v")
    assert waiter.reply() == [b"q", b"v"]
    c("PING")
    data = b"".join(open(f, "rb").read() for f in sorted(glob.glob(
        str(tmp_path / "appendonlydir" / "*.incr.aof"))))
    expected = (Conn.encode("MULTI") + Conn.encode("SET", "a", "1") + Conn.encode("INCR", "a")
                + Conn.encode("EXEC"))
    assert expected in data
    assert data.count(Conn.encode("MULTI")) == 1
    assert Conn.encode("RPUSH", "q", "v") + Conn.encode("LPOP", "q") in data
    assert b"BLPOP" not in data
    c.close()
    waiter.close()


def test_aof_write_error_refuses_queued_writes(tmp_path, monkeypatch):
    """kvstore only (a test cannot make redis-server's AOF writes fail): while the AOF cannot
    be written, Redis 7.0's processCommand refuses writes and PING with MISCONF before queueing
    them too, and an EXEC with a write queued. The server runs in this process so that the
    write can fail (`aof._write` is the seam for that)."""
    config = Config()
    port = free_port()
    monkeypatch.chdir(tmp_path)  # `dir` is a chdir: undone after the test
    for name, value in (("port", str(port)), ("appendonly", "yes"), ("dir", str(tmp_path))):
        config.set(name, value, startup=True)
    server = Server(config, Log("warning"))
    thread = threading.Thread(target=run, kwargs={"server": server, "install_signals": False})
    thread.start()
    wait_for_port(port)
    c, other = Conn(port), Conn(port)
    try:
        assert c("MULTI") == b"OK"
        assert c("SET", "queued", "1") == b"QUEUED"

        def full(fd, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(aof, "_write", full)
        other("SET", "k", "1")  # the write that fails
        misconf = "MISCONF Errors writing to the AOF file: " + os.strerror(errno.ENOSPC)
        assert err(c("EXEC")) == "EXECABORT Transaction discarded because of: " + misconf
        assert c("MULTI") == b"OK"
        assert c("GET", "k") == b"QUEUED"
        assert err(c("SET", "k", "2")) == misconf
        assert err(c("PING")) == misconf
        assert err(c("EXEC")) == EXECABORT
        assert c("MULTI") == b"OK"
        assert c("GET", "k") == b"QUEUED"
        assert c("EXEC") == [b"1"]  # nothing to write: EXEC runs
    finally:
        monkeypatch.undo()
        other.send(Conn.encode("SHUTDOWN"))
        thread.join(10)


def test_client_list_flags_in_redis_order(server, c):
    other = Conn(server.port)
    try:
        c("CLIENT", "SETNAME", "flagged")
        c("CLIENT", "NO-EVICT", "ON")
        c("WATCH", "fk")
        c("MULTI")
        other("SET", "fk", "1")  # the watched key changes: the `d` (dirty CAS) flag
        line = next(l for l in other("CLIENT", "LIST").decode().split("\n") if "name=flagged" in l)
        assert " flags=xde " in line, line
        c("DISCARD")
    finally:
        other.close()


def test_a_value_stored_by_a_queued_command_is_shared_with_the_queue(c):
    # Redis's transaction queue keeps its arguments' objects until EXEC ends: OBJECT REFCOUNT
    # of a string stored from one counts that reference (shared integers excepted).
    c("SET", "before", "abc")
    c("MULTI")
    for argv in (("SET", "k", "abc"), ("MSET", "m", "hello"), ("APPEND", "ap", "xyz"),
                 ("SET", "i", "12")):
        c(*argv)
    for key in ("k", "m", "ap", "i", "before"):
        c("OBJECT", "REFCOUNT", key)
    assert c("EXEC")[4:] == [2, 2, 2, 2147483647, 1]
    assert c("OBJECT", "REFCOUNT", "k") == 1


def test_time_stands_still_during_exec(c):
    c("MULTI")
    c("SET", "k", "v", "PX", "1")
    c("DEBUG", "SLEEP", "0.01")
    c("GET", "k")
    c("PTTL", "k")
    c("EXISTS", "k")
    assert c("EXEC") == [b"OK", b"OK", b"v", 0, 1]  # not expired until EXEC is over (PTTL 0)
    assert c("GET", "k") is None
