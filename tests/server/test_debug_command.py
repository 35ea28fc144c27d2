"""DEBUG as one command (Redis's debugCommand): DEBUG ERROR, which clients' own test suites use
to make any error reply (redis-py's test_connection_pool.py), and the texts of a subcommand
that is unknown or given the wrong arguments. Every case runs on both servers."""

from __future__ import annotations

import os
import signal
import time

import pytest

from .conftest import start
from .helpers import Conn, raw_replies, wait_until


def error_replies(c: Conn) -> int:
    stats = c("INFO", "stats").decode()
    return int(stats.split("total_error_replies:")[1].split("\r\n")[0])


def test_debug_error_replies_with_the_text_as_given(server):
    script = [("DEBUG", "ERROR", "LOADING fake message"), ("DEBUG", "ERROR", "READONLY blah"),
              ("DEBUG", "ERROR", "no code\r\nat all"), ("DEBUG", "ERROR", ""),
              ("DEBUG", "ERROR"), ("DEBUG", "ERROR", "a", "b")]
    raw = raw_replies(server.port, 2, script, b"end")
    assert raw.split(b"\r\n")[:6] == [
        b"-LOADING fake message", b"-READONLY blah", b"-no code  at all", b"-",
        b"-ERR unknown subcommand or wrong number of arguments for 'ERROR'. Try DEBUG HELP.",
        b"-ERR unknown subcommand or wrong number of arguments for 'ERROR'. Try DEBUG HELP."]


def test_debug_error_is_not_a_failed_command(server):
    c = Conn(server.port)
    c("CONFIG", "RESETSTAT")
    c("DEBUG", "ERROR", "OOM made up")
    assert error_replies(c) == 0
    assert "errorstat_OOM" not in c("INFO", "errorstats").decode()
    c.close()


def test_unknown_subcommand_and_wrong_arguments(server):
    script = [("DEBUG", "nosuch"), ("DEBUG", "Sleep"), ("DEBUG", "sleep", "0", "1"), ("DEBUG",),
              ("DEBUG", "OBJECT")]
    lines = raw_replies(server.port, 3, script, b"end").split(b"\r\n")
    assert lines[:5] == [
        b"-ERR unknown subcommand or wrong number of arguments for 'nosuch'. Try DEBUG HELP.",
        b"-ERR unknown subcommand or wrong number of arguments for 'Sleep'. Try DEBUG HELP.",
        b"-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.",
        b"-ERR wrong number of arguments for 'debug' command",
        b"-ERR unknown subcommand or wrong number of arguments for 'OBJECT'. Try DEBUG HELP."]


DEBUG_REFUSED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you '
    'can run it from a local connection, otherwise you need to set this option in the '
    'configuration file, and then restart the server.')


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
@pytest.mark.parametrize("setting", ["no", "local", "yes"])
def test_enable_debug_command_refuses_before_any_other_check(kind, setting, tmp_path):
    """Redis 7's default (no) refuses every DEBUG after the arity check and before the
    subcommand, AUTH and MULTI's queueing; local lets a loopback connection through."""
    p = start(kind, tmp_path, "--enable-debug-command", setting, "--requirepass", "pw")
    try:
        c = Conn(p.port)
        refused = setting == "no"
        # (before AUTH: refused as DEBUG, else NOAUTH)
        assert str(c("DEBUG", "SLEEP", "0")) == (DEBUG_REFUSED if refused else
                                                 "NOAUTH Authentication required.")
        assert c("AUTH", "pw") == b"OK"
        replies = [c(*argv) for argv in [("DEBUG", "SLEEP", "0"), ("DEBUG", "nosuch"),
                                          ("DEBUG",), ("MULTI",), ("DEBUG", "SLEEP", "0"),
                                          ("EXEC",)]]
        texts = [str(r) for r in replies]
        assert texts[2] == "ERR wrong number of arguments for 'debug' command"
        if refused:
            assert texts[:2] == [DEBUG_REFUSED] * 2
            assert texts[4:] == [DEBUG_REFUSED,
                                 "EXECABORT Transaction discarded because of previous errors."]
        else:
            assert replies[0] == b"OK" and texts[1].startswith("ERR unknown subcommand")
            assert replies[4:] == [b"QUEUED", [b"OK"]]
        c.close()
    finally:
        p.stop()


def test_info_with_an_error_code_that_is_not_utf8(server):
    # An error code made of any bytes (a script's error_reply) is kept in errorstats; INFO
    # gives it back as it came, in both protocols, instead of dropping the connection.
    c = Conn(server.port)
    c("CONFIG", "RESETSTAT")
    reply = c("EVAL", b"return redis.error_reply('\xff\xfeBAD oops')", "0")
    assert str(reply) == b"\xff\xfeBAD oops".decode("utf-8", "replace")
    assert b"errorstat_\xff\xfeBAD:count=1\r\n" in c("INFO", "errorstats")
    c("HELLO", "3")
    assert b"errorstat_\xff\xfeBAD:count=1\r\n" in c("INFO")
    c("CONFIG", "RESETSTAT")
    c.close()


def test_commandstats_count_debug_as_one_command(server):
    c = Conn(server.port)
    c("CONFIG", "RESETSTAT")
    for argv in [("DEBUG", "nosuch"), ("DEBUG", "SLEEP"), ("DEBUG",), ("DEBUG", "SLEEP", "0"),
                 ("DEBUG", "OBJECT", "nokey"), ("DEBUG", "SET-ACTIVE-EXPIRE", "1"),
                 ("DEBUG", "ERROR", "x")]:
        c(*argv)
    stats = c("INFO", "commandstats").decode()
    lines = [line for line in stats.split("\r\n") if line.startswith("cmdstat_debug")]
    assert len(lines) == 1
    # a subcommand's own error is a failed call of DEBUG, DEBUG alone a rejected one
    assert lines[0].startswith("cmdstat_debug:calls=6,")
    assert lines[0].endswith(",rejected_calls=1,failed_calls=3")
    latency = c("INFO", "latencystats").decode()
    assert "latency_percentiles_usec_debug:" in latency and "debug|" not in latency
    histogram = c("LATENCY", "HISTOGRAM", "debug", "debug|sleep")  # (no such command)
    assert histogram[0] == b"debug" and len(histogram) == 2
    c("CONFIG", "RESETSTAT")
    c.close()


def test_debug_protocol_sends_each_resp_type(ports):
    # what clients' tests of their RESP3 parsers read: attributes and a push included
    names = ["string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib",
             "push", "verbatim", "true", "false", "nosuch", "Map"]
    script = [("DEBUG", "PROTOCOL", name) for name in names] + [("DEBUG", "PROTOCOL")]
    for protocol in (2, 3):
        ours, theirs = (raw_replies(ports[kind], protocol, script, b"end")
                        for kind in ("kvstore", "redis"))
        assert ours == theirs
    assert b"|1\r\n$14\r\nkey-popularity\r\n" in ours and b">2\r\n" in ours


def test_debug_object_sees_a_key_expired_and_not_deleted_yet(server):
    # Redis's DEBUG OBJECT looks the key up without expiring it (the replication tests read
    # a replica's expired keys with it)
    c = Conn(server.port)
    c("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        def now_ms() -> int:
            sec, usec = c("TIME")
            return int(sec) * 1000 + int(usec) // 1000

        c("SET", "dbg:soon", "v", "PX", "1")
        start = now_ms()
        wait_until(lambda: now_ms() > start + 2, what="the key's expiry time")
        assert bytes(c("DEBUG", "OBJECT", "dbg:soon")).startswith(b"Value at:")
        assert c("EXISTS", "dbg:soon") == 0  # (this read expires it)
        assert str(c("DEBUG", "OBJECT", "dbg:soon")) == "ERR no such key"
    finally:
        c("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        c.close()


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_loadaof_reloads_what_the_aof_holds(kv_factory, kind):
    """DEBUG LOADAOF (Redis's tests use it to check what an AOF keeps, TTLs included): the data
    set is what the AOF loads back, and nothing is logged twice by the reload."""
    p = kv_factory("--appendonly", "yes", kind=kind)
    c = Conn(p.port)
    c("SET", "a", "1")
    c("SET", "b", "2", "EX", "100")
    c("RPUSH", "l", "x", "y")
    c("DEL", "a")
    assert c("DEBUG", "LOADAOF") == b"OK"
    assert c("DEBUG", "LOADAOF") == b"OK"
    assert c("MGET", "a", "b") == [None, b"2"] and c("LRANGE", "l", "0", "-1") == [b"x", b"y"]
    assert 95 <= c("TTL", "b") <= 100 and c("DBSIZE") == 2
    c("SET", "c", "3")  # (after two reloads the AOF still holds each write once)
    assert c("DEBUG", "LOADAOF") == b"OK" and c("DBSIZE") == 3
    assert c("LRANGE", "l", "0", "-1") == [b"x", b"y"]


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_loadaof_with_appendonly_no_loads_what_bgrewriteaof_wrote(kv_factory, kind):
    """Redis's "Same dataset digest if saving/reloading as AOF?" (other.tcl) on a server
    without AOF: BGREWRITEAOF writes the files, DEBUG LOADAOF loads them back."""
    p = kv_factory(kind=kind)
    c = Conn(p.port)
    c("SET", "a", "1")
    c("HSET", "h", "f", "v")
    assert c("BGREWRITEAOF") == b"Background append only file rewriting started"
    wait_until(lambda: b"aof_rewrite_in_progress:0" in c("INFO", "persistence")
               and b"aof_last_bgrewrite_status:ok" in c("INFO", "persistence"),
               what="the rewrite to finish")
    c("SET", "later", "x")  # not in the files
    digest = c("DEBUG", "DIGEST")
    assert c("DEBUG", "LOADAOF") == b"OK"
    assert c("MGET", "a", "later") == [b"1", None] and c("HGET", "h", "f") == b"v"
    c("DEL", "h")
    c("HSET", "h", "f", "v")
    c("SET", "later", "x")
    assert c("DEBUG", "DIGEST") == digest


def test_set_disable_deny_scripts_lets_scripts_run_noscript_commands(server):
    """Redis's own tests use it (a script polling CLIENT LIST); back to refusing with 0."""
    c = Conn(server.port)
    script = "return type(redis.call('client', 'list'))"
    refused = "ERR This Redis command is not allowed from script"
    try:
        assert str(c("EVAL", script, 0)).startswith(refused)
        assert c("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1") == b"OK"
        assert c("EVAL", script, 0) == b"string"
        # A script does not see a RESP3 attribute, only the reply after it
        attrib = "redis.setresp(%d) return redis.call('debug', 'protocol', 'attrib')"
        for resp in (2, 3):
            assert c("EVAL", attrib % resp, 0) == b"Some real reply following the attribute"
    finally:
        assert c("DEBUG", "SET-DISABLE-DENY-SCRIPTS", "0") == b"OK"
    assert str(c("EVAL", script, 0)).startswith(refused)
    c.close()


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_aof_flush_sleep_delays_the_reply_until_the_aof_holds_the_write(kv_factory, kind):
    """DEBUG AOF-FLUSH-SLEEP (Redis's aof.tcl 'AOF fsync always barrier issue'): with a sleep
    before each AOF write, a write's reply still comes only once the AOF has grown."""
    p = kv_factory("--appendonly", "yes", "--appendfsync", "always", kind=kind)
    c = Conn(p.port)
    assert c("DEBUG", "AOF-FLUSH-SLEEP", "200000") == b"OK"
    aof_dir = os.path.join(c("CONFIG", "GET", "dir")[1].decode(), "appendonlydir")
    incr = next(f for f in os.listdir(aof_dir) if f.endswith(".incr.aof"))
    before = os.path.getsize(os.path.join(aof_dir, incr))
    started = time.monotonic()
    assert c("INCR", "n") == 1
    assert time.monotonic() - started >= 0.2  # (the sleep happened before the reply)
    assert os.path.getsize(os.path.join(aof_dir, incr)) > before
    assert c("DEBUG", "AOF-FLUSH-SLEEP", "0") == b"OK"


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_pause_cron_holds_a_signals_shutdown_which_shutdown_abort_calls_off(kv_factory,
                                                                                 kind):
    """Redis's shutdown.tcl 'SHUTDOWN ABORT can cancel SIGTERM': with the cron paused, a
    SIGTERM's shutdown waits (Redis's cron starts it), SHUTDOWN ABORT calls it off."""
    p = kv_factory(kind=kind)
    c = Conn(p.port)
    assert c("DEBUG", "PAUSE-CRON", "1") == b"OK"
    p.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: "Received SIGTERM scheduling shutdown" in p.output(),
               what="the signal to be logged")
    assert c("SHUTDOWN", "ABORT") == b"OK"
    wait_until(lambda: "Shutdown manually aborted" in p.output(), what="the abort's log line")
    assert c("DEBUG", "PAUSE-CRON", "0") == b"OK"
    assert c("PING") == b"PONG" and p.proc.poll() is None


LIBRARY = "#!lua name=lib%d\nredis.register_function('f%d', function() return 1 end)"


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_reload_nosave_loads_a_redis_rdb_file_named_by_dbfilename(kind, tmp_path):
    # redis-cli.tcl's "Dumping an RDB": `redis-cli --rdb` fetches one, it goes where
    # dbfilename points, and DEBUG RELOAD NOSAVE replaces the data set with it.
    import shutil
    import subprocess

    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli not installed")
    p = start(kind, tmp_path)
    try:
        c = Conn(p.port)
        assert c("DEBUG", "POPULATE", "1000") == b"OK"
        c("FUNCTION", "LOAD", LIBRARY % (1, 1))
        out = subprocess.run([cli, "-p", str(p.port), "--rdb", str(tmp_path / "cli.rdb")],
                             capture_output=True, text=True, timeout=60)
        assert "Transfer finished with success" in out.stdout + out.stderr
        os.replace(tmp_path / "cli.rdb", tmp_path / "dump.rdb")
        c("SET", "should-not-exist", "1")
        c("FUNCTION", "LOAD", LIBRARY % (2, 2))
        assert c("DEBUG", "RELOAD", "NOSAVE") == b"OK"
        assert c("DBSIZE") == 1000 and c("EXISTS", "should-not-exist") == 0
        assert c("GET", "key:7") == b"value:7"
        assert [lib[1] for lib in c("FUNCTION", "LIST")] == [b"lib1"]
        c.close()
    finally:
        p.stop()
