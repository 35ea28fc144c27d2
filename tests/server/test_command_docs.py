"""COMMAND DOCS and COMMAND INFO byte for byte as redis-server gives them, for every command both
servers have: redis-cli builds `help` and its argument hints from COMMAND DOCS, cluster clients
read COMMAND INFO's key specs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .helpers import Conn, raw_replies

# kvstore follows Redis 7.2 here (ZRANK/ZREVRANK WITHSCORE; CLIENT NO-TOUCH and SETINFO).
DIFFERENT = {"zrank", "zrevrank", "client"}


def command_names(port: int) -> set[str]:
    conn = Conn(port)
    names = {n.decode() for n in conn("COMMAND", "LIST")}
    conn.close()
    return names


def containers(port: int) -> set[str]:
    return {name.split("|")[0] for name in command_names(port) if "|" in name}


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("subcommand", ["INFO", "DOCS"])
def test_every_common_command_described_as_redis_does(ports, protocol, subcommand):
    # Redis lists a container's subcommands in its hash table's order, which changes from one
    # process to the next: containers are compared by `test_containers...`, their
    # subcommands here one by one.
    names = (command_names(ports["kvstore"]) & command_names(ports["redis"])
             - DIFFERENT - containers(ports["redis"]))
    assert len(names) > 300  # commands and subcommands
    script = [("COMMAND", subcommand, name) for name in sorted(names)]
    ours, theirs = (raw_replies(ports[kind], protocol, script, b"end").split(b"\r\n")
                    for kind in ("kvstore", "redis"))
    assert ours == theirs


def test_containers_described_as_redis_does(ports):
    def described(kind: str, name: str):
        conn = Conn(ports[kind])
        [info] = conn("COMMAND", "INFO", name)
        docs = conn("COMMAND", "DOCS", name)
        conn.close()
        subs = sorted(sub[0] for sub in info[9])
        doc = dict(zip(docs[1][::2], docs[1][1::2]))
        doc[b"subcommands"] = sorted(doc[b"subcommands"][::2])
        return info[:9], doc, subs

    names = containers(ports["redis"])
    assert {"client", "config", "object", "xinfo"} <= names
    for name in sorted(names & containers(ports["kvstore"])):
        ours, theirs = described("kvstore", name), described("redis", name)
        if name not in DIFFERENT:
            assert ours == theirs, name
        else:  # but a subcommand or two
            assert ours[0] == theirs[0], name
            assert len(set(ours[2]) ^ set(theirs[2])) <= 2, name


def test_debug_is_one_command(ports):
    for kind in ("kvstore", "redis"):
        conn = Conn(ports[kind])
        assert b"debug|sleep" not in conn("COMMAND", "LIST")
        assert conn("COMMAND", "INFO", "debug|sleep") == [None]
        [entry] = conn("COMMAND", "INFO", "debug")
        assert entry[2] == [b"admin", b"noscript", b"loading", b"stale"]
        conn.close()


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_help_from_command_docs(ports):
    # redis-cli asks the server for COMMAND DOCS and prints its summary, arguments and group
    def help_text(kind: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(ports[kind])],
                              input="help SET\nhelp ZRANGESTORE\nhelp @hash\n",
                              capture_output=True, text=True, timeout=30).stdout

    ours, theirs = help_text("kvstore"), help_text("redis")
    assert "Set the string value of a key" in theirs
    assert ours == theirs


# Argument lists the random stream rarely draws: key functions Redis prefers to its specs.
KEYS_CASES = [
    ("SET", "k", "v"), ("SET", "k", "v", "GET"), ("SET", "k", "v", "EX", "10", "get"),
    ("BITFIELD", "k", "GET", "u8", "0"), ("BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"),
    ("BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"), ("BITFIELD", "k", "GET", "u8"),
    ("BITFIELD_RO", "k", "GET", "u8", "0"),
    ("SORT", "k"), ("SORT", "k", "BY", "w_*", "STORE", "d"), ("SORT", "k", "STORE", "STORE", "d"),
    ("SORT", "k", "LIMIT", "0", "STORE", "GET", "#"), ("SORT_RO", "k", "BY", "nosort"),
    ("MIGRATE", "h", "1", "k", "0", "10"), ("MIGRATE", "h", "1", "", "0", "10", "KEYS", "a", "b"),
    ("MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"),
    ("MIGRATE", "h", "1", "", "0", "10", "AUTH", "KEYS", "KEYS", "a"),
    ("MIGRATE", "h", "1", "", "0", "10", "AUTH2", "u", "KEYS", "KEYS", "a"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "STOREDIST", "d"),
    ("GEORADIUSBYMEMBER", "k", "m", "1", "km", "STOREDIST", "d"),
    ("PFMERGE", "d"), ("PFMERGE", "d", "s"), ("EVAL", "s", "0"), ("EVAL", "s", "-1", "a"),
    ("EVAL", "s", "01", "a"), ("FCALL", "f", "2", "a", "b"), ("LMPOP", "3", "a", "b", "LEFT"),
    ("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"), ("OBJECT", "ENCODING", "k"),
    ("MEMORY", "USAGE", "k", "SAMPLES", "0"), ("LCS", "a", "b"), ("MSET", "a", "1", "b"),
    ("GET",), ("NOSUCH", "k"), ("PING",), ("CLIENT", "LIST"), ("DEBUG", "OBJECT", "k"),
    # counts that string2ll refuses and atoi reads: the key functions' answer, with no flags
    ("ZUNIONSTORE", "d", "01", "a"), ("LMPOP", "+1", "a", "LEFT"), ("SINTERCARD", " 2", "a", "b"),
    ("BLMPOP", "0", "4294967297", "a", "LEFT"), ("EVAL", "s", "x"), ("FCALL", "f", "1x", "k"),
    # a keyword as the last argument is none
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE"), ("GEORADIUSBYMEMBER", "k", "m", "1", "km",
                                                        "STOREDIST"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d", "STORE"),
    ("MIGRATE", "h", "1", "", "0", "10", "KEYS"), ("MIGRATE", "h", "1", "", "0", "10", "COPY"),
]


@pytest.mark.parametrize("subcommand", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_keys_of_commands_found_as_redis_finds_them(ports, subcommand):
    from tests.compat.fuzz_gen import Gen

    argvs = list(KEYS_CASES)
    for seed in (1, 2):
        gen = Gen(seed)
        argvs += [gen.next()[0] for _ in range(2000)]  # every family's commands, bad ones too
    script = [("COMMAND", subcommand, *argv) for argv in argvs]
    for protocol in (2, 3):
        ours, theirs = (raw_replies(ports[kind], protocol, script, b"end").split(b"\r\n")
                        for kind in ("kvstore", "redis"))
        assert ours == theirs


def test_restore_asking_is_restore(server):
    # what Redis Cluster's MIGRATE sends to an importing node; outside cluster mode, RESTORE
    c = Conn(server.port)
    c("SET", "src", "hello")
    c("DEL", "dst")
    payload = c("DUMP", "src")
    assert c("RESTORE-ASKING", "dst", "0", payload) == b"OK"
    assert c("GET", "dst") == b"hello"
    assert str(c("RESTORE-ASKING", "dst", "0", payload)).startswith("BUSYKEY")
    assert c("RESTORE-ASKING", "dst", "0", payload, "REPLACE") == b"OK"
    c("DEL", "src", "dst")
    c.close()
