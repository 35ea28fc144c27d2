"""BITPOS, BITOP, BITFIELD and BITFIELD_RO over the wire: the raw reply bytes of a kvstore-server
and of redis-server, in RESP2 and RESP3 (BITFIELD's nulls are `$-1` in one, `_` in the other),
and redis-cli's rendering of them.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .helpers import raw_replies

END = b"end-of-bits"
SCRIPT = [
    ("SET", "k", b"\x00\x0f\xff"),
    ("BITPOS", "k", "1"), ("BITPOS", "k", "0", "2"), ("BITPOS", "k", "0", "2", "-1"),
    ("BITPOS", "k", "1", "3", "13", "BIT"), ("BITPOS", "missing", "0"), ("BITPOS", "k", "2"),
    ("BITPOS", "k", "1", "0", "x", "y"),
    ("BITOP", "XOR", "d", "k", "missing"), ("GET", "d"), ("BITOP", "NOT", "d", "k", "k"),
    ("BITOP", "AND", "d", "missing"), ("EXISTS", "d"),
    ("BITFIELD", "f", "SET", "u8", "#1", "300", "OVERFLOW", "FAIL", "INCRBY", "i4", "0", "9",
     "GET", "i16", "0", "OVERFLOW", "SAT", "INCRBY", "u2", "100", "-5"),
    ("BITFIELD", "f"), ("BITFIELD", "f", "GET", "u64", "0"), ("BITFIELD", "f", "OVERFLOW", "x"),
    ("BITFIELD_RO", "f", "GET", "i8", "#1", "GET", "u8", "200"),
    ("BITFIELD_RO", "f", "SET", "u8", "0", "1"), ("GET", "f"), ("OBJECT", "ENCODING", "f"),
    ("RPUSH", "l", "x"), ("BITFIELD", "l", "GET", "u8", "0"), ("BITOP", "OR", "d", "l"),
    ("BITPOS", "l", "1"),
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_raw_replies_match_redis(ports, protocol):
    want = raw_replies(ports["redis"], protocol, SCRIPT, END)
    assert want.endswith(END + b"\r\n")
    assert raw_replies(ports["kvstore"], protocol, SCRIPT, END) == want


def test_redis_cli_renders_the_same(ports):
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli not installed")

    def run(port: int, *args: str) -> str:
        return subprocess.run([cli, "-p", str(port), *args], capture_output=True, text=True,
                              timeout=10).stdout

    for port in ports.values():
        run(port, "flushall")
    for args in [("bitfield", "c", "incrby", "u4", "0", "10", "overflow", "fail",
                  "incrby", "u4", "0", "10", "get", "i4", "0"),
                 ("bitpos", "c", "0"), ("bitop", "not", "n", "c"), ("--no-raw", "get", "n"),
                 ("bitfield_ro", "c", "incrby", "u4", "0", "1")]:
        assert run(ports["kvstore"], *args) == run(ports["redis"], *args), args
