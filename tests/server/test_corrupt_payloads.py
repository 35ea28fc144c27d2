"""Corrupt DUMP payloads and RDB files, on kvstore and on redis-server (as corrupt-dump.tcl does):
RESTORE refuses them with "Bad data format" and logs why in Redis's words, DEBUG
SET-SKIP-CHECKSUM-VALIDATION lets a payload without a right CRC in, and an RDB file holding
empty containers (old Redis versions wrote them) loads without them."""

from __future__ import annotations

import struct
import time

import pytest

from kvstore.engine import rdb

from .conftest import start
from .helpers import Conn


def rdb_string(b: bytes) -> bytes:
    assert len(b) < 64
    return bytes((len(b),)) + b


def ziplist(items: list[bytes], prevlens: list[int] | None = None) -> bytes:
    """A ziplist of short strings; `prevlens` may lie about each entry's predecessor."""
    entries, prev = [], 0
    for i, item in enumerate(items):
        recorded = prev if prevlens is None else prevlens[i]
        entries.append(bytes((recorded, len(item))) + item)
        prev = len(entries[-1])
    body = b"".join(entries)
    return struct.pack("<IIH", 10 + len(body) + 1, 10 + len(body) - prev, len(items)) \
        + body + b"\xff"


def intset(values: list[int]) -> bytes:
    return struct.pack("<II", 2, len(values)) + b"".join(struct.pack("<h", v) for v in values)


# (payload body, what the log says): types 13 (hash ziplist), 14 (quicklist of ziplists),
# 9 (zipmap), 11 (intset), 12 (zset ziplist).
CORRUPT = [
    (b"\x0d" + rdb_string(ziplist([b"a", b"1", b"b", b"2"], [0, 3, 9, 3])),
     "Hash ziplist integrity check failed"),
    (b"\x0e\x01" + rdb_string(ziplist([b"a", b"b"], [0, 4])), "Ziplist integrity check failed"),
    (b"\x09" + rdb_string(b"\x00\xff"), "Zipmap integrity check failed"),
    (b"\x0b" + rdb_string(intset([2, 1])), "Intset integrity check failed"),
    (b"\x0c" + rdb_string(ziplist([b"m", b"1", b"m", b"2"])), "Zset ziplist integrity check failed"),
]


@pytest.fixture(params=["kvstore", "redis"])
def verbose(request, tmp_path):
    p = start(request.param, tmp_path, "--loglevel", "verbose", "--sanitize-dump-payload", "yes")
    yield p
    p.stop()


def wait_for_log(p, text: str) -> None:
    deadline = time.monotonic() + 5
    while text not in p.output():
        assert time.monotonic() < deadline, f"{text!r} not logged:\n{p.output()[-2000:]}"
        time.sleep(0.01)


def test_restore_refuses_and_logs_integrity_failures(verbose):
    c = Conn(verbose.port)
    for body, logged in CORRUPT:
        reply = c("RESTORE", "key", "0", rdb.frame(body))
        assert isinstance(reply, Exception) and str(reply) == "ERR Bad data format", (body, reply)
        wait_for_log(verbose, logged)
    assert c("DBSIZE") == 0
    c.close()


def test_skip_checksum_validation(verbose):
    c = Conn(verbose.port)
    payload = rdb.frame(b"\x00" + rdb_string(b"value"))
    bad_crc = payload[:-1] + bytes((payload[-1] ^ 1,))
    assert str(c("RESTORE", "k", "0", bad_crc)) == "ERR DUMP payload version or checksum are wrong"
    assert c("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1") == b"OK"
    try:
        assert c("RESTORE", "k", "0", bad_crc) == b"OK"
        assert c("GET", "k") == b"value"
        too_new = payload[:-10] + struct.pack("<H", 12) + payload[-8:]  # the version still counts
        assert str(c("RESTORE", "k2", "0", too_new)) \
            == "ERR DUMP payload version or checksum are wrong"
    finally:
        c("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")
        c.close()


def rdb_file(records: bytes) -> bytes:
    data = b"REDIS0009" + b"\xfe\x00" + records + b"\xff"
    return data + struct.pack("<Q", rdb.crc64(data))


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_an_rdb_file_with_empty_keys_loads_without_them(kind, tmp_path):
    # An empty set (type 2), list (1), zset (3), hash (4) and hash ziplist (13) beside a string.
    empties = [(2, b"set"), (1, b"list"), (3, b"zset"), (4, b"hash")]
    records = b"".join(bytes((t,)) + rdb_string(name) + b"\x00" for t, name in empties)
    records += b"\x0d" + rdb_string(b"hash_ziplist") + rdb_string(ziplist([]))
    records += b"\x00" + rdb_string(b"kept") + rdb_string(b"v")
    (tmp_path / "empty.rdb").write_bytes(rdb_file(records))
    p = start(kind, tmp_path, "--dbfilename", "empty.rdb")
    try:
        c = Conn(p.port)
        assert c("DBSIZE") == 1 and c("GET", "kept") == b"v"
        c.close()
        for _, name in empties + [(13, b"hash_ziplist")]:
            assert f"skipping empty key: {name.decode()}" in p.output()
        assert "empty keys skipped: 5" in p.output()
    finally:
        p.stop()
