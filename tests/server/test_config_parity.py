"""Configuration handling compared with redis-server 7.0.15: config lines, the command line,
CONFIG GET and CONFIG SET. Every case runs on both servers and their outcomes must be equal.

* Start-up refusals (REFUSED): every case's process is launched at once, for both kinds, and
  what each prints before exiting 1 is compared: the fatal block (its version line aside), or the
  last log line when Redis logs the reason instead.
* Start-up acceptances: one server of each kind reads a file of lines Redis accepts (STARTS)
  and the values they lead to are compared.
* Run time: one server of each kind, started with a directory as its config file (Redis reads
  that as an empty file), answers the same CONFIG commands (RUNTIME, GLOBS).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port, require_binary

from .conftest import ROOT, start
from .helpers import Conn, err

# (config file text or None, command-line arguments); {DIR} is the case's directory.
REFUSED = [
    # wrong argument counts: Redis counts before it reads the value
    ("requirepass foo bar", []), ("masterauth a b", []), ("ignore-warnings a b", []),
    ("proc-title-template {title} {port}", []), ("hz 10 20", []), ("port 7000 7001", []),
    ("maxmemory 1mb # comment", []), ("notify-keyspace-events K E", []),
    ("\n\nmaxmemory", []), ("appendonly", []), ("replicaof 127.0.0.1", []),
    ("slaveof h p x", []), ('replicaof ""', []), ("maxmemory-policy noeviction allkeys-lru", []),
    (None, ["--maxmemory"]), (None, ["--requirepass"]), (None, ["--maxmemory", "--port", "1"]),
    (None, ["--requirepass", "--port", "0"]), (None, ["--maxmemory", "1mb", "2mb"]),
    ("hz 10\n", ["--hz", "20", "30"]), ("# c\nhz 20\n\n", ["--nosuch", "1"]),
    ("hz 20", ["--maxmemory", "abc"]), ("hz 20\n", ["junk"]), (None, ["--loglevel", "bogus"]),
    # values
    ('replicaof "127.0.0.1 abc"', []), ("replicaof 127.0.0.1 70000", []),
    ('replicaof "no one" x', []),
    ("unixsocketperm 800", []), ("unixsocketperm abc", []), ("unixsocketperm 1000", []),
    ("unixsocketperm -1", []),
    ("save 0 1", []), ("save -1 1", []), ("save 900 -1", []), ('save 10 "1 2"', []),
    ('client-output-buffer-limit "pubsub 1mb 1mb -1"', []),
    ('client-output-buffer-limit "pubsub 1mb 1mb 99999999999999999999"', []),
    ('client-output-buffer-limit ""', []),
    ('appendfilename ""', []), ('appenddirname ""', []),
    ("sentinel monitor m 127.0.0.1 7299 2", []),
    ("cluster-enabled yes\nreplicaof 127.0.0.1 7299", []),
    ("masterauth 'a'b", []), ("user alice on\nuser alice off", []),
    ("rename-command nosuch x", []), ("rename-command get set", []),
    ('rename-command flushall ""\nrename-command flushall x', []),
    ("rename-command get", []),
    # files and directories
    ("dir /nonexistent/x", []), ("logfile /nonexistent/x.log", []),
    ("hz 20\ninclude nosuch.conf", []), ("unixsocket /nonexistent/x.sock", []),
]

# Lines Redis accepts, and the values it then shows (compared between the servers).
STARTS = """\
save
replicaof no one
slaveof "no one"
masterauth abc"def"
list-max-ziplist-entries 512
list-max-ziplist-value 64
lua-replicate-commands yes
oom-score-adj relative
oom-score-adj-values "0  200 800"
unixsocket {DIR}/s.sock
unixsocketperm 0700
include {DIR}/conf.d/*.conf
include {DIR}/none.d/*.conf
include {DIR}/conf.d
replica-announce-ip "p\\xc3\\xa4ss \\xff"
cluster-enabled no
cluster-config-file nodes.conf
cluster-port 0
cluster-node-timeout 15000
cluster-announce-ip ""
cluster-announce-hostname ""
cluster-announce-port 0
cluster-announce-bus-port 0
cluster-announce-tls-port 0
cluster-replica-validity-factor 10
cluster-slave-validity-factor 10
cluster-replica-no-failover no
cluster-slave-no-failover no
cluster-migration-barrier 1
cluster-require-full-coverage yes
cluster-allow-reads-when-down no
cluster-allow-pubsubshard-when-down yes
cluster-allow-replica-migration yes
cluster-link-sendbuf-limit 0
cluster-preferred-endpoint-type ip
tls-port 0
tls-replication no
tls-cluster no
tls-auth-clients yes
tls-session-caching yes
tls-session-cache-size 20480
tls-session-cache-timeout 300
tls-prefer-server-ciphers no
tls-cert-file ""
tls-key-file ""
tls-key-file-pass ""
tls-client-cert-file ""
tls-client-key-file ""
tls-client-key-file-pass ""
tls-dh-params-file ""
tls-ca-cert-file ""
tls-ca-cert-dir ""
tls-protocols ""
tls-ciphers ""
tls-ciphersuites ""
"""
# (after the file's `include`, each `save` replaces the rules: Redis's reading flag is off)
STARTS_ARGS = ("--maxmemory 1mb", "--save", "900", "1", "--save", "300", "10")
STARTS_GET = ("save", "replicaof", "masterauth", "replica-announce-ip", "oom-score-adj",
              "oom-score-adj-values",
              "unixsocketperm", "maxmemory", "hz", "tls-*", "cluster-*")

RUNTIME = [
    # names first, then values; a value's error names the option as the table does
    ("CONFIG", "SET", "MAXMEMORY", "abc"), ("CONFIG", "SET", "HASH-MAX-ZIPLIST-ENTRIES", "abc"),
    ("CONFIG", "SET", "maxmemory", "abc", "daemonize", "no"),
    ("CONFIG", "SET", "daemonize", "no", "nosuch", "1"), ("CONFIG", "SET", "Daemonize", "no"),
    ("CONFIG", "SET", "maxmemory", "1", "daemonize", "no", "maxmemory", "2"),
    ("CONFIG", "SET", "pidfile", "abc"),
    # save
    ("CONFIG", "SET", "save", "  "), ("CONFIG", "SET", "save", "0 1"),
    ("CONFIG", "SET", "save", "900 -1"), ("CONFIG", "SET", "save", " 1 2"),
    ("CONFIG", "SET", "save", "1 4294967295 2 -0 3 +4"), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "save", "9223372036854775808 1"), ("CONFIG", "GET", "save"),
    # list-valued options, split at each space
    ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 1mb -1"),
    ("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 1mb 99999999999999999999"),
    ("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 "),
    ("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 4294967296"),
    ("CONFIG", "GET", "client-output-buffer-limit"),
    ("CONFIG", "SET", "latency-tracking-info-percentiles", "50  90"),
    ("CONFIG", "SET", "latency-tracking-info-percentiles", " 50"),
    ("CONFIG", "GET", "latency-tracking-info-percentiles"),
    # others
    ("CONFIG", "SET", "oom-score-adj", "RELATIVE"), ("CONFIG", "GET", "oom-score-adj"),
    ("CONFIG", "SET", "repl-backlog-size", "1kb"), ("CONFIG", "GET", "repl-backlog-size"),
    ("CONFIG", "SET", "maxclients", "1000000"), ("CONFIG", "GET", "maxclients"),
    ("CONFIG", "SET", "dir", "/nonexistent/x"), ("CONFIG", "SET", "dir", ""),
    ("CONFIG", "SET", "dbfilename", "a/b.rdb"), ("CONFIG", "SET", "tls-port", "0"),
    ("CONFIG", "SET", "tls-port", "6380"), ("CONFIG", "SET", "tls-port", "65536"),
    ("CONFIG", "SET", "cluster-announce-hostname", "a_b"),
    ("CONFIG", "GET", "tls-port"),
]
# CONFIG GET patterns (Redis's reply order is its hash table's, so replies compare as maps)
GLOBS = [("[^p]ort",), ("[!p]ort",), ("[z-a]ort",), ("maxmemor\\y*",), ("*\\-policy",),
         ("h[^a]*",), ("h[!a]*",), ("maxmemory", "MAXMEMORY"), ("HZ", "Hz"), ("*", "hz"),
         ("MAXMEMORY*",)]
# Set by the fixtures, or by where each server runs (test_config_options.py says why)
NOT_COMPARED = {b"port", b"dir", b"bind", b"enable-debug-command"}
RESET = ("rdb_saves", "latest_fork_usec", "total_forks", "aof_rewrites")
FILTERS = ("CONFIG|G*", "[^c]onfig*", "*\\|SET")


def _launch(kind: str, where, conf: str | None, args: list[str]) -> subprocess.Popen:
    where.mkdir()
    exe = [sys.executable, "-m", "kvstore"] if kind == "kvstore" else \
        [require_binary("redis-server")]
    if conf is not None:
        (where / "redis.conf").write_text(conf.replace("{DIR}", str(where)))
        exe.append(str(where / "redis.conf"))
    return subprocess.Popen([*exe, *args], cwd=where, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ,
                                                                         PYTHONPATH=ROOT))


def _why(proc: subprocess.Popen, where, deadline: float) -> tuple:
    """Exit status and reason: the fatal block (the Redis version left out), else the last
    log line's message. A process still running at `deadline` (time.monotonic) is killed."""
    try:
        out, errors = proc.communicate(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:  # it runs: the case was accepted
        proc.kill()
        out, errors = proc.communicate()
        return "running", out
    errors = re.sub(r"\(Redis [0-9.]+\)", "(Redis)", errors.replace(str(where), "{DIR}"))
    if not errors.strip():
        lines = out.replace(str(where), "{DIR}").strip().splitlines() or [""]
        errors = lines[-1].split(" # ", 1)[-1]
    return proc.returncode, errors


def test_refused_at_start_up_as_redis_refuses(tmp_path):
    # Port 0 (no TCP listener), so that a case wrongly accepted exits too; before the case's
    # arguments, but for one that must follow the file.
    procs = {(i, kind): _launch(kind, tmp_path / f"{kind}{i}", conf,
                                args + ["--port", "0"] if args[:1] == ["junk"] else
                                ["--port", "0", *args])
             for i, (conf, args) in enumerate(REFUSED) for kind in ("redis", "kvstore")}
    deadline = time.monotonic() + 30  # for all: they run side by side
    for i, case in enumerate(REFUSED):
        outcome = {kind: _why(procs[i, kind], tmp_path / f"{kind}{i}", deadline)
                   for kind in ("redis", "kvstore")}
        assert outcome["redis"][0] == 1, case
        assert outcome["kvstore"] == outcome["redis"], case


@pytest.mark.parametrize("args, why", [
    (["--tls-port", "7398"], "TLS"),
    (["--loadmodule", "/nonexistent/mod.so"], "Can't load module from /nonexistent/mod.so: "
                                               "server aborting"),
    (["--user", "alice", "on", "--aclfile", "/nonexistent/u.acl"],
     "Configuring Redis with users defined in redis.conf and at the same setting an ACL file "
     "path is invalid."),
])
def test_refused_once_the_config_is_read(tmp_path, args, why):
    """Refused by both when they start (with a port to listen on: Redis checks that first),
    the TLS and module cases for reasons told in other words (Redis: no certificate, no file;
    kvstore: no TLS, no modules)."""
    procs = {kind: _launch(kind, tmp_path / kind, None, ["--port", str(free_port()), *args])
             for kind in ("redis", "kvstore")}
    deadline = time.monotonic() + 30
    for kind, proc in procs.items():
        code, reason = _why(proc, tmp_path / kind, deadline)
        assert code == 1 and why in reason and "FATAL" not in reason  # a log line


def _both(tmp_path, *extra, config_file=None, make=None):
    servers = {}
    for kind in ("redis", "kvstore"):
        where = tmp_path / kind
        where.mkdir(parents=True)
        if make:
            make(where)
        conf = config_file(where) if config_file else None
        try:
            servers[kind] = (start(kind, where, *extra, config_file=conf), where)
        except RuntimeError:
            for p, _ in servers.values():
                p.stop()
            raise
    return servers


def _get(port: int, *names: str) -> dict:
    flat = Conn(port)("CONFIG", "GET", *names)
    return dict(zip(flat[::2], flat[1::2]))


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_debug_config_rewrite_force_all_writes_a_file_that_starts_the_same(kind, tmp_path):
    """Redis's "CONFIG REWRITE sanity": every option written, defaults too, and a server
    started from that file has the same configuration. Without a file: Redis's EFAULT text."""
    p = start(kind, tmp_path)
    assert err(Conn(p.port)("DEBUG", "CONFIG-REWRITE-FORCE-ALL")) == \
        "ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address"
    p.stop()
    conf = tmp_path / "redis.conf"
    conf.write_text("")
    p = start(kind, tmp_path, config_file=str(conf))
    before = _get(p.port, "*")
    assert Conn(p.port)("DEBUG", "CONFIG-REWRITE-FORCE-ALL") == b"OK"
    p.stop()
    written = conf.read_text().splitlines()
    assert "hz 10" in written and "maxmemory-policy noeviction" in written  # (defaults)
    p = start(kind, tmp_path, config_file=str(conf))
    try:
        after = _get(p.port, "*")
        del before[b"port"], after[b"port"]
        assert after == before
    finally:
        p.stop()


def test_accepted_lines_and_their_values(tmp_path):
    def make(where):
        (where / "conf.d").mkdir()
        (where / "conf.d" / "a.conf").write_text("hz 40\n")
        (where / "conf.d" / "b.conf").write_text("maxmemory 7mb\n")
        (where / "redis.conf").write_text(STARTS.replace("{DIR}", str(where)))

    servers = _both(tmp_path, *STARTS_ARGS, config_file=lambda w: str(w / "redis.conf"),
                    make=make)
    try:
        got = {kind: _get(p.port, *STARTS_GET) for kind, (p, _) in servers.items()}
        assert got["kvstore"] == got["redis"]
        assert got["redis"][b"save"] == b"300 10" and got["redis"][b"hz"] == b"40"
        assert got["redis"][b"replica-announce-ip"] == b"p\xc3\xa4ss \xff"  # (\xHH: bytes)
        for p, where in servers.values():  # unixsocketperm is octal: 0700, not 700 decimal
            assert stat.S_IMODE(os.stat(where / "s.sock").st_mode) == 0o700
    finally:
        for p, _ in servers.values():
            p.stop()


def test_rename_command(tmp_path):
    renames = ('rename-command FLUSHALL ""\nrename-command CONFIG myconfig\n'
               'rename-command get fetch\nrename-command fetch GET2\n')
    servers = _both(tmp_path, config_file=lambda where: str(where / "r.conf"),
                    make=lambda where: (where / "r.conf").write_text(renames))
    try:
        got = {}
        for kind, (p, _) in servers.items():
            c = Conn(p.port)
            c("SET", "k", "v")
            replies = [c(*cmd) for cmd in (
                ("FLUSHALL",), ("CONFIG", "GET", "hz"), ("MYCONFIG", "GET", "hz"), ("GET", "k"),
                ("FETCH", "k"), ("get2", "k"), ("EVAL", "return redis.call('get2', 'k')", "0"),
                ("EVAL", "return redis.call('flushall')", "0"), ("MULTI",), ("GET2", "k"),
                ("FLUSHALL",), ("EXEC",), ("DBSIZE",))]
            got[kind] = [err(r) if err(r) is not None else r for r in replies]
            c.close()
        assert got["kvstore"] == got["redis"]
        assert got["redis"][5] == b"v" and got["redis"][-1] == 1
    finally:
        for p, _ in servers.values():
            p.stop()


def test_config_commands_at_run_time(tmp_path):
    servers = _both(tmp_path, "--enable-protected-configs", "yes",
                    config_file=lambda where: str(where))  # a directory: read as empty
    try:
        conns = {kind: Conn(p.port) for kind, (p, _) in servers.items()}

        def answers(*cmd):
            out = {}
            for kind, c in conns.items():
                r = c(*cmd)
                out[kind] = err(r) if err(r) is not None else r
            return out

        for cmd in RUNTIME:
            got = answers(*cmd)
            assert got["kvstore"] == got["redis"], cmd
        for patterns in GLOBS:
            got = {kind: _get(p.port, *patterns) for kind, (p, _) in servers.items()}
            got = {kind: {k: v for k, v in d.items() if k not in NOT_COMPARED}
                   for kind, d in got.items()}
            assert got["kvstore"] == got["redis"], patterns
        for pattern in FILTERS:
            got = answers("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)
            assert sorted(got["kvstore"]) == sorted(got["redis"]), pattern
        # CONFIG RESETSTAT zeroes the fork and save counters too
        for kind, c in conns.items():
            assert c("BGSAVE") == b"Background saving started"
            while b"rdb_bgsave_in_progress:1" in c("INFO", "persistence"):
                c("PING")  # (a round trip per look, no sleep)
            assert c("SAVE") == b"OK" and c("CONFIG", "RESETSTAT") == b"OK"
            info = c("INFO", "all").decode()
            assert {f: re.search(f"{f}:(\\d+)", info).group(1) for f in RESET} == dict.fromkeys(
                RESET, "0"), kind
        # dir: a chdir, shown as the absolute working directory
        for kind, (p, where) in servers.items():
            (where / "sub").mkdir()
            c = conns[kind]
            assert _get(p.port, "dir") == {b"dir": str(where).encode()}
            assert c("CONFIG", "SET", "dir", "sub") == b"OK"
            assert _get(p.port, "dir") == {b"dir": str(where / "sub").encode()}
    finally:
        for p, _ in servers.values():
            p.stop()


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_option_name_and_value_in_one_argument(tmp_path, kind):
    p = start(kind, tmp_path, "--maxmemory 1mb", "--replicaof", "no", "one", "--save", "900",
              "1", "--save", "300", "10")
    try:
        assert _get(p.port, "maxmemory", "replicaof", "save") == {
            b"maxmemory": b"1048576", b"replicaof": b"", b"save": b"900 1 300 10"}
    finally:
        p.stop()


# CONFIG REWRITE: a file with comments, repeated and aliased options, directives Redis keeps or
# comments out, and values set back to their defaults (so their lines stay).
REWRITTEN = """\
# Top comment

bind 127.0.0.1
   maxmemory 10mb
save 900 1
save 300 10
hash-max-ziplist-entries 64
client-output-buffer-limit pubsub 32mb 8mb 60
notify-keyspace-events Ex
requirepass "p@ss word"
MAXMEMORY-SAMPLES 7
slave-priority 50
include {DIR}/sub.conf
list-max-ziplist-entries 512
hz 10
hz 20
# trailing comment
"""
REWRITE_SETS = [
    ("maxmemory", "20mb"), ("timeout", "30"), ("hash-max-listpack-entries", "100"),
    ("save", "60 5"), ("client-output-buffer-limit", "normal 1mb 1mb 0"),
    ("notify-keyspace-events", ""), ("requirepass", 'new"pw\\x'), ("maxmemory-samples", "5"),
    ("latency-tracking-info-percentiles", "50 99.5"), ("oom-score-adj-values", "0 100 200"),
    ("proc-title-template", "{title} {port}"), ("maxmemory-clients", "10%"),
    ("replica-announce-ip", "a b"), ("masterauth", ""), ("masteruser", "üser wörd"),
    ("ignore-warnings", "tab\there"),
    ("replica-priority", "60"), ("auto-aof-rewrite-min-size", "3gb")]


def _rewritten(path, where, port) -> str:
    """The file, the server's own directory and port left out, and the appended lines sorted
    (Redis appends in its hash table's order, seeded at random)."""
    if not os.path.exists(path):
        return "<none>"
    with open(path) as f:
        text = f.read().replace(str(where), "{DIR}").replace(f" {port}\n", " {PORT}\n")
    text = "".join(line for line in text.splitlines(True)
                   if not line.startswith("enable-debug-command"))  # the fixture's, for Redis
    head, mark, tail = text.partition("# Generated by CONFIG REWRITE\n")
    return head + mark + "".join(sorted(tail.splitlines(True)))


def test_config_rewrite_as_redis_writes_it(tmp_path):
    def make(where):
        (where / "sub.conf").write_text("maxmemory-policy volatile-lru\n")
        (where / "redis.conf").write_text(REWRITTEN.replace("{DIR}", str(where)))
        (where / "marked.conf").write_text("# Generated by CONFIG REWRITE\nhz 12\n")

    servers = _both(tmp_path, config_file=lambda where: str(where / "redis.conf"), make=make)
    try:
        files = {}
        for kind, (p, where) in servers.items():
            c = Conn(p.port)
            c("AUTH", "p@ss word")
            for name, value in REWRITE_SETS:
                assert c("CONFIG", "SET", name, value) == b"OK", name
            c("AUTH", 'new"pw\\x')
            assert c("CONFIG", "REWRITE") == b"OK"
            files[kind] = _rewritten(where / "redis.conf", where, p.port)
            os.unlink(where / "redis.conf")  # a deleted file is written anew
            assert c("CONFIG", "REWRITE") == b"OK"
            files[kind] += _rewritten(where / "redis.conf", where, p.port)
        assert files["kvstore"] == files["redis"]
    finally:
        for p, _ in servers.values():
            p.stop()
    servers = _both(tmp_path / "marked", config_file=lambda where: str(where / "marked.conf"),
                    make=make)
    try:
        files = {}
        for kind, (p, where) in servers.items():
            assert Conn(p.port)("CONFIG", "REWRITE") == b"OK"
            files[kind] = _rewritten(where / "marked.conf", where, p.port)
        assert files["kvstore"] == files["redis"]  # the existing marker is the one used
    finally:
        for p, _ in servers.values():
            p.stop()
