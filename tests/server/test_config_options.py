"""Every CONFIG option as redis-server 7.0.15 has it: kvstore and redis-server side by side
(`ports`), their replies compared directly.

* CONFIG GET * after a fresh start: the same names with the same values, but for the ones that
  differ by where or how the server runs (NOT_COMPARED). The TLS and cluster options are listed
  too, inert in kvstore, which has neither.
* The matrix: CONFIG SET of every name with each of MATRIX_VALUES, then CONFIG GET of it, the old
  value put back after each. Names whose change would move, lock or reconfigure the server are
  left out (SKIPPED), as they are from Redis's own `config set` fuzzing.
* Edge cases of single options (EDGES), run the same way: C arithmetic of memory values, the
  options whose value is parsed as a list or template, partial updates.
* A config file naming options of each kind loads in both, and CONFIG REWRITE writes them back
  so that a restart from the file shows the same values.
"""

from __future__ import annotations

import pytest

from .conftest import start
from .helpers import Conn, err

MATRIX_VALUES = ("bad_value_x", "-1", "99999999999999999999", "yes", "")
SKIPPED = {"requirepass", "masterauth", "masteruser", "dir", "dbfilename", "logfile", "pidfile",
           "appendfilename", "appenddirname", "bind", "port", "unixsocket", "aclfile",
           "replicaof", "slaveof", "syslog-ident", "enable-debug-command"}
# Set by the fixtures' start-up (ports, temporary dirs, redis-server's DEBUG for other tests),
# and `bind`: kvstore listens on loopback by default, as the redis.conf Redis ships says, where
# redis-server with no file binds "* -::*".
NOT_COMPARED = {"port", "dir", "enable-debug-command", "bind"}
EDGES = [
    ("maxmemory", "9223372036854775808kb"), ("maxmemory", "18446744073709551616"),
    ("maxmemory", "1" * 127), ("maxmemory", "1" * 128), ("maxmemory", "0x10"),
    ("maxmemory-clients", "99999999999999999999kb"), ("maxmemory-clients", "50%"),
    ("auto-aof-rewrite-min-size", "9223372036854775808kb"),
    ("hash-max-listpack-value", "1kb"), ("zset-max-ziplist-value", "2k"),
    ("oom-score-adj-values", "+1 0200 -800"), ("oom-score-adj-values", "0  200 800"),
    ("oom-score-adj-values", " 1 2"), ("oom-score-adj-values", "2001 0 0"),
    ("oom-score-adj-values", "1.5 0 0"), ("oom-score-adj-values", "\t1 0 0"),
    ("proc-title-template", "{title}"), ("proc-title-template", " {title} {server-mode} "),
    ("proc-title-template", "{bad}"), ("proc-title-template", "{title"),
    ("proc-title-template", "{{"), ("proc-title-template", "}"), ("proc-title-template", "x"),
    ("proc-title-template", "{port}"), ("proc-title-template", "{{title}"),
    ("client-output-buffer-limit", "pubsub 1 2 3"), ("activedefrag", "no"),
    ("sanitize-dump-payload", "CLIENTS"), ("syslog-facility", "local3"),
    ("repl-ping-slave-period", "0"), ("slave-announce-port", "65535"),
    ("active-defrag-max-scan-fields", "0"), ("socket-mark-id", "1"),
]


def reply(conn: Conn, *args):
    r = conn(*args)
    return ("error", err(r)) if err(r) is not None else r


def config(ports) -> dict[str, dict[bytes, bytes]]:
    out = {}
    for kind, port in ports.items():
        flat = Conn(port)("CONFIG", "GET", "*")
        out[kind] = dict(zip(flat[::2], flat[1::2]))
    return out


def test_config_get_after_start(ports):
    got = config(ports)
    assert set(got["kvstore"]) == set(got["redis"])
    differ = {n: (want, got["kvstore"][n]) for n, want in got["redis"].items()
              if n in got["kvstore"] and n.decode() not in NOT_COMPARED
              and want != got["kvstore"][n]}
    assert differ == {}


def set_and_get(conns: dict[str, Conn], name: str, value: str) -> list:
    """What each server answers to CONFIG SET name value and CONFIG GET name; the old value is
    then put back if it changed."""
    replies = []
    for conn in conns.values():
        old = conn("CONFIG", "GET", name)
        answer = reply(conn, "CONFIG", "SET", name, value)
        replies.append((answer, conn("CONFIG", "GET", name)))
        if answer == b"OK":
            assert conn("CONFIG", "SET", name, old[1]) == b"OK"
    return replies


def test_config_set_matrix(ports):
    conns = {kind: Conn(port) for kind, port in ports.items()}
    names = [n.decode() for n in config(ports)["redis"]]
    differ = {}
    for name in sorted(names):
        if name in SKIPPED:
            continue
        for value in MATRIX_VALUES:
            want, got = set_and_get(conns, name, value)
            if want != got:
                differ[name, value] = (want, got)
    assert differ == {}


@pytest.mark.parametrize("name,value", EDGES)
def test_config_set_edges(ports, name, value):
    want, got = set_and_get({kind: Conn(port) for kind, port in ports.items()}, name, value)
    assert got == want


def test_partial_buffer_limits_keep_the_other_classes(ports):
    for port in ports.values():
        c = Conn(port)
        assert c("CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 3") == b"OK"
        for value in ("pubsub 4 5 6", ""):
            assert c("CONFIG", "SET", "client-output-buffer-limit", value) == b"OK"
            assert c("CONFIG", "GET", "client-output-buffer-limit")[1] == (
                b"normal 1 2 3 slave 268435456 67108864 60 pubsub 4 5 6")
        c("CONFIG", "SET", "client-output-buffer-limit",
          "normal 0 0 0 pubsub 33554432 8388608 60")


FILE_OPTIONS = {"repl-ping-slave-period": "5", "syslog-facility": "local3",
                "server_cpulist": "0-3", "oom-score-adj-values": "1 2 3",
                "sanitize-dump-payload": "clients", "active-defrag-ignore-bytes": "1mb",
                "hash-max-ziplist-value": "1kb", "replica-announce-ip": "10.0.0.1"}
SET_THEN_REWRITE = {"acl-pubsub-default": "allchannels", "slave-ignore-maxmemory": "no",
                    "proc-title-template": "{title} {port}", "crash-log-enabled": "no"}


def test_config_file_and_rewrite(tmp_path):
    lines = "".join(f"{name} {value}\n" for name, value in FILE_OPTIONS.items())
    shown = {}
    for kind in ("kvstore", "redis"):
        conf = tmp_path / f"{kind}.conf"
        conf.write_text(lines)
        p = start(kind, tmp_path, config_file=str(conf))
        try:
            c = Conn(p.port)
            for name, value in SET_THEN_REWRITE.items():
                assert c("CONFIG", "SET", name, value) == b"OK"
            assert c("CONFIG", "REWRITE") == b"OK"
        finally:
            p.stop()
        p = start(kind, tmp_path, config_file=str(conf))
        try:
            c = Conn(p.port)
            shown[kind] = [c("CONFIG", "GET", name) for name in {**FILE_OPTIONS,
                                                                  **SET_THEN_REWRITE}]
        finally:
            p.stop()
    assert shown["kvstore"] == shown["redis"]
    assert shown["redis"][0] == [b"repl-ping-slave-period", b"5"]
