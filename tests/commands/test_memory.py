"""MEMORY and DEBUG POPULATE on the embedded store against the real redis-server: keys, values
and errors exactly; MEMORY USAGE by shape only (our byte counts are estimates of Python objects);
DEBUG POPULATE's dirty count and its AOF effects across a reopen.
"""

from __future__ import annotations

import pytest

import kvstore


def _keyspace(both):
    """Every key with its value and STRLEN, asserted equal on both sides."""
    keys = both("KEYS", "*", sort=True)
    for key in keys:
        both("GET", key)
        both("STRLEN", key)
    return keys


@pytest.mark.parametrize("args", [
    ("3",), ("0",), ("4", "p"), ("3", "k", "10"), ("3", "k", "3"), ("2", "k", "0"),
    ("12", "wide", "7"), ("2", "x" * 130),
])
def test_populate_keys_and_values_match_redis(both, args):
    assert both("DEBUG", "POPULATE", *args) == b"OK"
    _keyspace(both)
    both("DBSIZE")  # long prefixes are cut at 127 bytes, so keys may coincide


def test_populate_keeps_existing_keys(both):
    both("SET", "k:1", "mine")
    both("RPUSH", "k:2", "a")
    assert both("DEBUG", "POPULATE", "4", "k", "5") == b"OK"
    assert both("GET", "k:1") == b"mine"
    assert both("TYPE", "k:2") == b"list"
    assert both("KEYS", "k:[03]", sort=True) == [b"k:0", b"k:3"]
    assert both("GET", "k:3") == b"value"


@pytest.mark.parametrize("args", [
    (), ("-1",), ("abc",), ("1", "p", "-1"), ("1", "p", "x"), ("1", "p", "1", "extra"),
    ("99999999999999999999",),
])
def test_populate_errors_match_redis(both, args):
    assert both("DEBUG", "POPULATE", *args)[0] == "err"
    assert both("DBSIZE") == 0


def test_populate_counts_created_keys_as_dirty(store):
    store.set("key:0", "x")
    before = store.keyspace.dirty
    store.execute("DEBUG", "POPULATE", "5")
    assert store.keyspace.dirty - before == 4
    store.execute("DEBUG", "POPULATE", "5")
    assert store.keyspace.dirty - before == 4


def test_populate_survives_aof_reopen(tmp_path):
    s = kvstore.open(path=str(tmp_path), appendfsync="always")
    s.set("key:1", "kept")
    s.execute("DEBUG", "POPULATE", "4", "key", "9")
    s.close()
    s = kvstore.open(path=str(tmp_path))
    try:
        assert s.dbsize() == 4
        assert s.get("key:0") == b"value:0\0\0"
        assert s.get("key:1") == b"kept"
        assert s.get("key:3") == b"value:3\0\0"
    finally:
        s.close()


# -- MEMORY ---------------------------------------------------------------------------------------

def _usage(target, *args):
    return target.execute("MEMORY", "USAGE", *args)


def _fill(target, n: int, size: int) -> None:
    """One key of each type, n members (or bytes, for the string) of `size` bytes each."""
    member = lambda i: b"%d:" % i + b"m" * size
    target.execute("SET", "str", b"v" * (n * size))
    target.execute("RPUSH", "list", *[member(i) for i in range(n)])
    target.execute("SADD", "set", *[member(i) for i in range(n)])
    target.execute("HSET", "hash", *[x for i in range(n) for x in (member(i), b"v" * size)])
    target.execute("ZADD", "zset", *[x for i in range(n) for x in (i, member(i))])


@pytest.mark.parametrize("key", ["str", "list", "set", "hash", "zset"])
def test_usage_is_positive_and_grows_with_size(oracle, store, key):
    for target in (oracle, store):
        _fill(target, 3, 4)
        small = _usage(target, key)
        for k in ("str", "list", "set", "hash", "zset"):
            target.execute("DEL", k)
        _fill(target, 300, 100)
        big = _usage(target, key, "SAMPLES", "0")
        assert 0 < small < big, (target, key, small, big)


def test_usage_samples_extrapolate_to_the_whole(store):
    store.execute("RPUSH", "l", *[b"x" * 10] * 1000)
    assert _usage(store, "l", "SAMPLES", "1") == _usage(store, "l", "SAMPLES", "0")


@pytest.mark.parametrize("args", [
    ("missing",), ("missing", "SAMPLES", "3"), ("k", "SAMPLES", "-1"), ("k", "SAMPLES", "x"),
    ("k", "SAMPLES"), ("k", "FOO", "1"), ("missing", "SAMPLES", "-1"), ("k", "samples", "1", "x"),
])
def test_usage_nil_and_errors_match_redis(both, args):
    both("SET", "k", "v")
    both("MEMORY", "USAGE", *args)


@pytest.mark.parametrize("args", [
    ("MEMORY",), ("MEMORY", "FOO"), ("MEMORY", "DOCTOR", "x"), ("MEMORY", "STATS", "x"),
    ("MEMORY", "PURGE", "x"), ("MEMORY", "MALLOC-STATS", "x"), ("MEMORY", "USAGE"),
    ("MEMORY", "HELP"), ("MEMORY", "PURGE"),
])
def test_memory_replies_and_errors_match_redis(both, args):
    both(*args)


def test_doctor_and_malloc_stats_are_text(oracle, store):
    for target in (oracle, store):
        assert target.execute("MEMORY", "DOCTOR").startswith(b"Hi Sam, ")
        assert isinstance(target.execute("MEMORY", "MALLOC-STATS"), bytes)


STATS_FIELDS = [b"peak.allocated", b"total.allocated", b"startup.allocated", b"keys.count",
                b"keys.bytes-per-key", b"dataset.bytes", b"dataset.percentage",
                b"overhead.total", b"aof.buffer", b"fragmentation"]


def test_stats_fields_and_db_entries(oracle, store):
    for target in (oracle, store):
        target.execute("DEBUG", "POPULATE", "10")
        target.execute("SELECT", "2")
        target.execute("SET", "a", "b")
        flat = target.execute("MEMORY", "STATS")
        stats = dict(zip(flat[::2], flat[1::2]))
        assert all(f in stats for f in STATS_FIELDS), (target, stats)
        assert stats[b"keys.count"] == 11
        assert b"db.0" in stats and b"db.2" in stats and b"db.1" not in stats
        db0 = dict(zip(stats[b"db.0"][::2], stats[b"db.0"][1::2]))
        assert set(db0) >= {b"overhead.hashtable.main", b"overhead.hashtable.expires"}
        target.execute("FLUSHALL")
        target.execute("SELECT", "0")


def test_command_info_matches_redis(oracle, store):
    """Arity, flags and key positions of MEMORY and each subcommand, as Redis declares them."""
    def shape(entry):
        return [entry[0], entry[1], sorted(entry[2]), entry[3], entry[4], entry[5],
                sorted(shape(s) for s in entry[9])]

    want, got = (t.execute("COMMAND", "INFO", "memory")[0] for t in (oracle, store))
    assert shape(got) == shape(want)
    flags = {s[0]: s[2] for s in got[9]}
    assert flags[b"memory|usage"] == [b"readonly"]

