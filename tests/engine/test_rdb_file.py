"""`rdb.read_file`: whole RDB files, as a master sends a replica. Our own files (`write_rdb`)
read back to the same data set; damaged or truncated files raise RdbFormatError only (a replica
keeps its data then); a file SAVEd by redis-server reads to the values it holds."""

from __future__ import annotations

import io
import random

import pytest

import kvstore
from kvstore.engine import rdb
from kvstore.engine.dump import write_rdb

WRITES = [
    ("SET", "s", "hello"), ("SET", "n", "12345"), ("SET", "long", "x" * 300),
    ("RPUSH", "l", "a", "b", "1", "-7", "z" * 70), ("SADD", "ints", 1, 2, 70000),
    ("SADD", "set", "a", "b"), ("HSET", "h", "f", "v", "g", "w"),
    ("ZADD", "z", 1, "a", 2.5, "b", "-inf", "c"), ("SET", "ttl", "v", "PXAT", 4102444800000),
    ("SELECT", 3), ("SET", "in3", "x"),
    ("ZADD", "zbig", *[x for i in range(200) for x in (i, f"m{i}")]),
    ("SELECT", 0),
    ("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"),
]


def file_of(store) -> bytes:
    out = io.BytesIO()
    write_rdb(store.keyspace, out, store.keyspace.clock())
    return out.getvalue()


@pytest.fixture
def data() -> bytes:
    store = kvstore.open(active_expire=False)
    for argv in WRITES:
        store.execute(*argv)
    yield file_of(store)
    store.close()


def test_our_file_reads_back_to_the_same_data_set(data):
    records = list(rdb.read_file(data))
    keys = {(r[1], r[2]): (r[3], r[4], r[5]) for r in records if r[0] == "key"}
    assert keys[(0, b"s")] == ("string", b"hello", None)
    assert keys[(0, b"l")] == ("list", [b"a", b"b", b"1", b"-7", b"z" * 70], None)
    assert sorted(keys[(0, b"ints")][1]) == [b"1", b"2", b"70000"]
    assert keys[(0, b"h")][1] == [b"f", b"v", b"g", b"w"]
    assert keys[(0, b"z")][1] == [b"c", float("-inf"), b"a", 1.0, b"b", 2.5]
    assert keys[(0, b"ttl")] == ("string", b"v", 4102444800000)
    assert keys[(3, b"in3")] == ("string", b"x", None)
    zbig = keys[(3, b"zbig")][1]
    assert dict(zip(zbig[0::2], zbig[1::2])) == {b"m%d" % i: float(i) for i in range(200)}
    assert len(keys) == 11
    assert [r[1] for r in records if r[0] == "function"] == [WRITES[-1][2].encode()]


def test_a_flipped_byte_is_caught_by_the_checksum(data):
    at = data.index(b"hello")
    bad = data[:at] + b"j" + data[at + 1:]
    with pytest.raises(rdb.RdbFormatError, match="checksum"):
        list(rdb.read_file(bad))


def test_a_zero_checksum_is_not_checked(data):
    assert list(rdb.read_file(data[:-8] + bytes(8))) == list(rdb.read_file(data))


@pytest.mark.parametrize("bad", [b"", b"REDIS", b"RADIS0010\xff", b"REDIS0099\xff" + bytes(8),
                                 b"REDISabcd\xff"])
def test_not_an_rdb_file(bad):
    with pytest.raises(rdb.RdbFormatError):
        list(rdb.read_file(bad))


def test_truncated_or_mutated_files_raise_only_rdb_format_error(data):
    rng = random.Random(7)
    for cut in range(9, len(data) - 1, 7):
        with pytest.raises(rdb.RdbFormatError):
            list(rdb.read_file(data[:cut]))
    for _ in range(300):
        b = bytearray(data[:-8] + bytes(8))  # no checksum: the reader itself must hold
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(9, len(b) - 8)] = rng.randrange(256)
        try:
            list(rdb.read_file(bytes(b)))
        except rdb.RdbFormatError:
            pass


def test_a_file_saved_by_redis_server(oracle):
    oracle.execute("FUNCTION", "FLUSH")
    for argv in WRITES:
        oracle.execute(*argv)
    oracle.execute("SAVE")
    path = oracle.execute("CONFIG", "GET", "dir")[1] + b"/" + \
        oracle.execute("CONFIG", "GET", "dbfilename")[1]
    oracle.execute("FUNCTION", "FLUSH")
    with open(path, "rb") as f:
        records = list(rdb.read_file(f.read()))
    ours = kvstore.open(active_expire=False)
    for argv in WRITES:
        ours.execute(*argv)
    mine = list(rdb.read_file(file_of(ours)))

    def normal(recs):
        out = set()
        for r in recs:
            if r[0] == "aux":  # (versions, times and memory differ)
                continue
            if r[0] == "key" and r[3] in ("set", "hash"):
                r = r[:4] + (tuple(sorted(r[4])),) + r[5:]
            elif r[0] == "key":
                r = r[:4] + (tuple(r[4]) if isinstance(r[4], list) else r[4],) + r[5:]
            out.add(r)
        return out
    assert normal(records) == normal(mine)
    ours.close()
