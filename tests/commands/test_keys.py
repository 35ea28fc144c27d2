"""Generic key commands against the real redis-server (replies and error texts), the glob matcher
against a port of Redis's `stringmatchlen`, SCAN's guarantees, DUMP/RESTORE, dirty counts, AOF
effects, notifications, the redis-py-shaped methods, and a seeded stress test against a model.
"""

from __future__ import annotations

import random

import pytest
import redis

import kvstore
from kvstore.commands import scan
from kvstore.commands.scan import parse_cursor
from kvstore.commands.table import COMMANDS, Context, execute
from kvstore.engine import ManualClock
from kvstore.engine import rdb
from kvstore.engine.dump import copy_value, deserialize, serialize
from kvstore.engine.glob import compile_glob, match
from kvstore.engine.values import Hash, List, Set, Thresholds
from kvstore.errors import ResponseError

from .helpers import same, ttl_close

HAS_ZSET = b"zadd" in COMMANDS
needs_zset = pytest.mark.skipif(not HAS_ZSET, reason="ZADD not implemented yet")


def fill_types(both, prefix=""):
    """One key of each type (and encoding variety) on both servers; returns their names."""
    names = [prefix + n for n in ("str", "int", "raw", "list", "iset", "set", "hash", "bighash")]
    both("SET", names[0], "hello")
    both("SET", names[1], "12345")
    both("SET", names[2], "x" * 100)
    both("RPUSH", names[3], "a", "b", "c")
    both("SADD", names[4], "1", "2", "3")
    both("SADD", names[5], "a", "b", "1")
    both("HSET", names[6], "f", "v", "g", "w")
    both("HSET", names[7], "f", "v" * 100)
    if HAS_ZSET:
        both("ZADD", prefix + "zset", "1", "a", "2.5", "b")
        both("ZADD", prefix + "bigzset", "1", "m" * 100)
        names += [prefix + "zset", prefix + "bigzset"]
    return names


def same_value(both, key):
    """The value at `key` reads the same on both servers (for any type)."""
    kind = both("TYPE", key)
    reads = {
        b"string": [("GET", key)],
        b"list": [("LRANGE", key, 0, -1)],
        b"set": [("SMEMBERS", key)],
        b"hash": [("HGETALL", key)],
        b"zset": [("ZRANGE", key, 0, -1, "WITHSCORES")],
        b"none": [],
    }[kind]
    for read in reads:
        both(*read, sort=read[0] in ("SMEMBERS", "HGETALL"))
    both("OBJECT", "ENCODING", key)


# -- existence, type, deletion ----------------------------------------------------------------

def test_del_unlink_exists_touch(both):
    names = fill_types(both)
    both("EXISTS", *names)
    both("EXISTS", "str", "str", "nokey", "str")
    both("TOUCH", "str", "str", "nokey", "list")
    both("DEL", "str", "str", "nokey")
    both("UNLINK", "int", "list", "nokey", "int")
    both("EXISTS", *names)
    both("DEL", "nokey")
    both("DEL", *names)
    both("DBSIZE")
    for cmd in ("DEL", "UNLINK", "EXISTS", "TOUCH"):
        both(cmd)
        both(cmd.lower())


def test_type_of_every_type(both):
    for name in fill_types(both):
        both("TYPE", name)
    both("TYPE", "nokey")
    both("TYPE")
    both("TYPE", "a", "b")


def test_expired_keys_are_absent():
    clock = ManualClock()
    s = kvstore.open(clock=clock, active_expire=False)
    s.execute("SET", "k", "v", "PX", 100)
    s.execute("SET", "p", "v")
    clock.advance(101)
    assert s.execute("KEYS", "*") == [b"p"]
    assert s.execute("DBSIZE") == 2  # KEYS does not delete, as in Redis
    assert s.execute("SCAN", 0) == [b"0", [b"p"]]
    assert s.execute("DBSIZE") == 1  # SCAN met it and deleted it
    s.execute("SET", "k", "v", "PX", 100)
    clock.advance(101)
    assert s.execute("EXISTS", "k", "p") == 1
    s.execute("SET", "k", "v", "PX", 100)
    clock.advance(101)
    assert s.execute("TYPE", "k") == b"none"
    s.execute("SET", "k", "v", "PX", 100)
    clock.advance(101)
    assert s.execute("DEL", "k") == 0
    assert s.execute("RANDOMKEY") == b"p"
    s.close()


# -- renaming, copying, moving ----------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["RENAME", "RENAMENX"])
def test_rename(both, cmd):
    both(cmd, "nokey", "x")
    both(cmd, "nokey", "nokey")
    both("SET", "a", "1")
    both(cmd, "a", "a")
    both(cmd, "a", "b")
    both("EXISTS", "a", "b")
    both("SET", "c", "2", "EX", 100)
    both(cmd, "c", "d")
    ttl_close(both, "d")
    both("SET", "e", "3")
    both(cmd, "e", "d")  # RENAME overwrites (and drops d's TTL), RENAMENX refuses
    ttl_close(both, "d")
    both("GET", "d")
    both("HSET", "h", "f", "v")
    both(cmd, "h", "b")
    same_value(both, "b")
    both(cmd, "b")
    both(cmd, "b", "c", "d")


def test_copy(both):
    for name in fill_types(both):
        both("COPY", name, name + ":copy")
        same_value(both, name + ":copy")
    both("COPY", "nokey", "x")
    both("COPY", "str", "str")
    both("COPY", "nokey", "nokey")
    both("COPY", "str", "str", "DB", 0)
    both("COPY", "str", "list")  # exists: 0 without REPLACE
    both("COPY", "str", "list", "REPLACE")
    same_value(both, "list")
    both("SET", "t", "v", "EX", 100)
    both("COPY", "t", "t2")
    ttl_close(both, "t2")
    both("COPY", "str", "str", "DB", 1)
    both("COPY", "str", "other", "db", "2", "replace")
    both("SELECT", 2)
    both("GET", "other")
    both("SELECT", 0)
    for bad in (["DB"], ["DB", "x"], ["DB", "16"], ["DB", "-1"], ["DB", "4294967296"],
                ["FOO"], ["REPLACE", "DB"], ["DB", "1", "DB", "99"]):
        both("COPY", "str", "z", *bad)
    both("COPY", "nokey", "z", "DB", "99")
    both("COPY", "str")


def test_copy_keeps_encoding_and_is_deep(both):
    both("HSET", "h", "f", "v" * 100)
    both("HSET", "h", "f", "short")  # shrunk, but stays hashtable (sticky)
    both("COPY", "h", "h2")
    both("OBJECT", "ENCODING", "h2")
    both("HSET", "h2", "g", "w")
    both("HGETALL", "h", sort=True)
    both("SADD", "s", "a")
    both("SREM", "s", "a")
    both("SADD", "s", "1", "b")
    both("SREM", "s", "b")
    both("COPY", "s", "s2")
    both("OBJECT", "ENCODING", "s2")
    both("SADD", "s2", "z")
    both("SMEMBERS", "s", sort=True)


def test_move(both):
    both("SET", "a", "1", "EX", 100)
    both("MOVE", "a", 1)
    both("EXISTS", "a")
    both("SELECT", 1)
    ttl_close(both, "a")
    both("MOVE", "a", 0)
    both("SET", "a", "again")
    both("SELECT", 0)
    both("MOVE", "a", 1)  # exists in the target: 0
    both("MOVE", "nokey", 1)
    both("MOVE", "a", 0)
    both("MOVE", "nokey", 0)
    for bad in ("x", "16", "-1", "99999999999", ""):
        both("MOVE", "a", bad)
        both("MOVE", "nokey", bad)
    both("MOVE", "a")


# -- databases --------------------------------------------------------------------------------

def test_select_swapdb_dbsize(both):
    both("SET", "a", "0")
    for bad in ("16", "-1", "x", "99999999999", "1.0", ""):
        both("SELECT", bad)
    both("SELECT", "1")
    both("SET", "b", "1")
    both("DBSIZE")
    both("SWAPDB", 0, 1)
    both("GET", "a")  # we are still in db 1, which now holds db 0's keys
    both("DBSIZE")
    both("SWAPDB", 1, 1)
    both("SWAPDB", "a", "b")
    both("SWAPDB", "0", "b")
    both("SWAPDB", "99", "b")
    both("SWAPDB", "0", "99")
    both("SWAPDB", "-1", "0")
    both("SWAPDB", "99999999999", "0")
    both("SWAPDB", "0", "99999999999")
    both("SWAPDB", "0")
    both("SELECT")
    both("DBSIZE", "x")


def test_flushdb_flushall(both):
    both("SET", "a", "1")
    both("SELECT", 3)
    both("SET", "b", "1")
    for bad in (["x"], ["sync", "async"], ["ASYNC", "ASYNC"]):
        both("FLUSHDB", *bad)
        both("FLUSHALL", *bad)
    both("FLUSHDB", "sync")
    both("DBSIZE")
    both("SELECT", 0)
    both("DBSIZE")
    both("FLUSHDB")
    both("DBSIZE")
    both("SET", "a", "1")
    both("SELECT", 5)
    both("SET", "a", "1")
    both("FLUSHALL", "ASYNC")
    both("DBSIZE")
    both("SELECT", 0)
    both("DBSIZE")
    both("FLUSHALL")


# -- KEYS and glob patterns -------------------------------------------------------------------

TRICKY_KEYS = ["", "a", "b", "ab", "abc", "a]", "a-", "a^", "]", "-", "^", "\\", "a\\b", "*",
               "?", "[", "hello", "hallo", "hxllo", "hllo", "heeeello", "user:1", "user:20",
               "x\xff", "\x80", "a\nb"]
PATTERNS = ["*", "**", "", "a", "?", "??", "*a*", "a*", "*c", "h?llo", "h*llo", "h[ae]llo",
            "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "[a-]]", "a[a-]]", "a[", "a[^", "[", "[^",
            "\\*", "\\?", "\\[", "a\\", "\\", "[\\]]", "[\\", "[]a]", "a[]", "user:[0-9]",
            "user:*", "*:*", "[a-\xff]", "[\x80-a]", "*\xff", "a?b", "[*]", "[?]", "[-]",
            "[a-c-e]", "***a***", "*[*", "a*b*c", "*b", "[!a]"]


def test_keys_patterns_match_redis(both):
    for key in TRICKY_KEYS:
        both("SET", key.encode("latin-1"), "v")
    for pattern in PATTERNS:
        both("KEYS", pattern.encode("latin-1"), sort=True)
    both("KEYS")
    both("KEYS", "*", "*")


def ref_stringmatch(p: bytes, s: bytes) -> bool:
    """A direct port of Redis 7.0 `stringmatchlen_impl` (nocase=0), as the reference."""

    def signed(c):
        return c - 256 if c >= 128 else c

    def rec(pi, si):
        plen, slen = len(p) - pi, len(s) - si
        while plen and slen:
            c = p[pi]
            if c == 42:  # '*'
                while plen > 1 and p[pi + 1] == 42:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if rec(pi + 1, si):
                        return True
                    si += 1
                    slen -= 1
                return False
            elif c == 63:  # '?'
                si += 1
                slen -= 1
            elif c == 91:  # '['
                pi += 1
                plen -= 1
                neg = plen > 0 and p[pi] == 94
                if neg:
                    pi += 1
                    plen -= 1
                m = False
                while True:
                    if plen >= 2 and p[pi] == 92:
                        pi += 1
                        plen -= 1
                        m = m or p[pi] == s[si]
                    elif plen > 0 and p[pi] == 93:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and p[pi + 1] == 45:
                        lo, hi = sorted((signed(p[pi]), signed(p[pi + 2])))
                        pi += 2
                        plen -= 2
                        m = m or lo <= signed(s[si]) <= hi
                    else:
                        m = m or p[pi] == s[si]
                    pi += 1
                    plen -= 1
                if neg:
                    m = not m
                if not m:
                    return False
                si += 1
                slen -= 1
            else:
                if c == 92 and plen >= 2:
                    pi += 1
                    plen -= 1
                if p[pi] != s[si]:
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while plen and p[pi] == 42:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return rec(0, 0)


def test_glob_fuzz_against_reference():
    rng = random.Random(7)
    alphabet = b"ab*?[]^-\\\xff\x80z"
    keys_alphabet = b"ab-]^\\z\xff\x80*?["
    for _ in range(4000):
        pattern = bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))
        key = bytes(rng.choice(keys_alphabet) for _ in range(rng.randrange(0, 6)))
        assert match(pattern, key) == ref_stringmatch(pattern, key), (pattern, key)
    for pattern in PATTERNS:
        p = pattern.encode("latin-1")
        for key in TRICKY_KEYS:
            k = key.encode("latin-1")
            assert match(p, k) == ref_stringmatch(p, k), (p, k)


def test_glob_random_patterns_match_redis(both):
    rng = random.Random(11)
    keys = {bytes(rng.choice(b"ab-]^\\\xff") for _ in range(rng.randrange(0, 4)))
            for _ in range(40)}
    for key in keys:
        both("SET", key, "v")
    for _ in range(150):
        pattern = bytes(rng.choice(b"ab*?[]^-\\\xff") for _ in range(rng.randrange(0, 7)))
        both("KEYS", pattern, sort=True)


def test_glob_is_linear_on_hostile_patterns():
    # Redis bounds its recursion; a naive regex would backtrack for seconds here.
    key = b"a" * 5000
    assert not match(b"*a*a*a*a*a*a*a*a*b", key)
    assert match(b"*a*a*a*a*a*a*a*a*", key)
    assert compile_glob(b"h*llo") is compile_glob(b"h*llo")  # cached


# -- SCAN -------------------------------------------------------------------------------------

def full_scan(execute_fn, *options):
    seen, cursor, calls = [], b"0", 0
    while True:
        cursor, keys = execute_fn("SCAN", cursor, *options)
        seen.extend(keys)
        calls += 1
        if cursor == b"0":
            return seen, calls


def test_scan_matches_redis(both):
    names = fill_types(both)
    for i in range(300):
        both("SET", f"user:{i}", i)
    for options in ([], ["COUNT", 7], ["MATCH", "user:1*"], ["MATCH", "*", "COUNT", 1000],
                    ["TYPE", "string"], ["TYPE", "HASH"], ["TYPE", "nosuchtype"],
                    ["MATCH", "*s*", "TYPE", "set", "COUNT", 3], ["count", "50", "match", "z*"]):
        want, _ = full_scan(both.oracle.execute, *options)
        got, _ = full_scan(both.store.execute, *options)
        assert len(got) == len(set(got)), options  # no key twice
        assert sorted(set(want)) == sorted(got), options
    both("DEL", *names)
    assert sorted(both.store.execute("SCAN", 0, "COUNT", 1000)[1]) == sorted(
        both.oracle.execute("SCAN", 0, "COUNT", 1000)[1])


def test_an_unfinished_scan_lets_go_of_the_keys_deleted_since(store):
    # A SCAN snapshot held the keys deleted or expired since it was taken for as long as its
    # client left the scan unfinished: 200,000 expired keys kept ~11 MB per abandoned scan,
    # growing scan after scan. The server cron's `sweep` frees them; cursors still work.
    keys = [b"k%d" % i for i in range(100)]
    for key in keys:
        store.execute("SET", key, "v")
    cursor, first = store.execute("SCAN", 0, "COUNT", 10)
    store.execute("DEL", *keys[:95])
    state = scan._STATES[store.keyspace]
    (snapshot,) = [entry[1] for entry in state.snapshots.values()]
    while any(k is not None and k not in store.keyspace.dbs[0].data for k in snapshot):
        scan.sweep(store.keyspace)  # (a bounded number of entries per call)
    assert sorted(k for k in snapshot if k is not None) == sorted(keys[95:])
    seen = list(first)
    while cursor != b"0":
        cursor, found = store.execute("SCAN", cursor, "COUNT", 10)
        seen.extend(found)
    assert set(keys[95:]) <= set(seen) and len(seen) == len(set(seen))


def test_scan_small_db_in_one_call(both):
    both("SET", "a", "1")
    both("SET", "b", "2")
    for side in (both.oracle, both.store):
        cursor, keys = side.execute("SCAN", 0)
        assert cursor == b"0" and sorted(keys) == [b"a", b"b"]
    both("FLUSHALL")
    both("SCAN", 0)
    both("SCAN", 0, "MATCH", "x*", "COUNT", 1)


def test_scan_errors(both):
    both("SET", "a", "1")
    for cursor in ("abc", " 0", "0 ", "18446744073709551616", "0x1", "+", "-", "1.5"):
        both("SCAN", cursor)
    for cursor in ("", "+0", "00", "-0"):
        both("SCAN", cursor)
    # Valid cursors far past the end: Redis masks them to a bucket, which holds "a" or not
    # depending on its per-process hash seed; both end the scan.
    for cursor in ("18446744073709551615", "-1"):
        assert both.oracle.execute("SCAN", cursor)[0] == b"0"
        assert both.store.execute("SCAN", cursor)[0] == b"0"
    for bad in (["COUNT"], ["COUNT", "0"], ["COUNT", "-1"], ["COUNT", "x"], ["MATCH"],
                ["TYPE"], ["FOO", "bar"], ["COUNT", "1", "MATCH"],
                ["COUNT", "99999999999999999999"]):
        both("SCAN", 0, *bad)
    both("SCAN", "abc", "COUNT", "0")  # the cursor is checked first
    both("HSET", "h", "f", "v")
    for cursor in (b"0\x00", b"0\x00x", b"\x00", b"x\x00"):  # a C string ends at NUL
        both("HSCAN", "h", cursor)
    both("SCAN")


def test_parse_cursor_wraps_like_strtoul():
    assert parse_cursor(b"-1") == (1 << 64) - 1
    assert parse_cursor(b"-18446744073709551615") == 1
    assert parse_cursor(b"") == 0
    assert parse_cursor(b"5\x00x") == 5
    with pytest.raises(ResponseError, match="invalid cursor"):
        parse_cursor(b"\t1")


def test_scan_returns_every_stable_key_once_under_mutation():
    s = kvstore.open(active_expire=False)
    rng = random.Random(3)
    stable = {b"stable:%d" % i for i in range(500)}
    for key in stable:
        s.execute("SET", key, "v")
    for i in range(500):
        s.execute("SET", b"churn:%d" % i, "v")
    seen, cursor = [], b"0"
    while True:
        cursor, keys = s.execute("SCAN", cursor, "COUNT", 17)
        seen.extend(keys)
        for _ in range(20):  # deletions shift positions, insertions grow the dict
            s.execute("DEL", b"churn:%d" % rng.randrange(500))
            s.execute("SET", b"new:%d" % rng.randrange(10_000), "v")
        if cursor == b"0":
            break
    stable_seen = [k for k in seen if k in stable]
    assert sorted(stable_seen) == sorted(stable)  # all of them, none twice
    assert len(seen) == len(set(seen))
    s.close()


def test_scan_concurrent_and_evicted_cursors():
    from kvstore.commands import scan as scan_module

    s = kvstore.open(active_expire=False)
    for i in range(100):
        s.execute("SET", i, i)
    first = s.execute("SCAN", 0, "COUNT", 10)
    second = s.execute("SCAN", 0, "COUNT", 10)
    assert first[0] != second[0]  # two scans, two snapshots
    # Open more scans than are kept: the oldest cursor is evicted, and resuming it still works
    # (from its position in a fresh snapshot).
    for _ in range(scan_module._SCAN_MAX_SNAPSHOTS + 1):
        s.execute("SCAN", 0, "COUNT", 10)
    state = scan_module._STATES[s.keyspace]
    assert len(state.snapshots) <= scan_module._SCAN_MAX_SNAPSHOTS
    cursor, keys = s.execute("SCAN", first[0], "COUNT", 10)
    assert len(keys) == 10
    assert s.execute("SCAN", "999999999999", "COUNT", 10) == [b"0", []]  # past the end
    s.execute("FLUSHALL")
    assert state.snapshots == {} and state.held == 0
    s.close()


# -- RANDOMKEY --------------------------------------------------------------------------------

def test_randomkey(both):
    both("RANDOMKEY")
    both("SET", "only", "1")
    both("RANDOMKEY")
    both("RANDOMKEY", "x")
    for i in range(20):
        both("SET", f"k{i}", i)
    keys = set(both.oracle.execute("KEYS", "*"))
    # 1,000 picks miss one of 21 keys with probability 21 * (20/21)^1000 < 1e-19 (200 picks,
    # as before: about 1 run in 800)
    assert {both.store.execute("RANDOMKEY") for _ in range(1000)} == keys


def test_randomkey_big_db_and_expired_keys():
    from kvstore.commands import scan as scan_module

    clock = ManualClock()
    s = kvstore.open(clock=clock, active_expire=False)
    n = scan_module._RANDOM_EXACT_MAX * 2
    for i in range(n):
        s.execute("SET", i, i, "PX", 10) if i % 2 else s.execute("SET", i, i)
    clock.advance(11)
    picks = [s.execute("RANDOMKEY") for _ in range(400)]
    assert all(int(k) % 2 == 0 for k in picks)  # expired keys are never returned
    assert len(set(picks)) > 300
    s.execute("FLUSHDB")
    assert s.execute("RANDOMKEY") is None
    s.execute("SET", "a", "1")
    assert s.execute("RANDOMKEY") == b"a"
    s.close()


# -- OBJECT -----------------------------------------------------------------------------------

@pytest.mark.parametrize("commands", [
    [("SET", "k", "12"), ("APPEND", "k", "3")],          # raw, although it reads as an integer
    [("APPEND", "k", "12")],                             # a new key: by its bytes (int)
    [("SET", "k", "hello"), ("APPEND", "k", "")],        # raw even when nothing is appended
    [("SETRANGE", "k", 0, "a")],
    [("SET", "k", "123"), ("SETRANGE", "k", 0, "9")],
    [("SET", "k", "123"), ("SETRANGE", "k", 0, "")],     # changes nothing: still int
    [("SET", "k", "1"), ("SETBIT", "k", 0, 0)],          # raw even when the bit is unchanged
    [("SETBIT", "k", 3, 1)],
    [("INCRBYFLOAT", "k", "3")],                         # embstr, although it reads as 3
    [("INCRBYFLOAT", "k", "3.5"), ("INCRBYFLOAT", "k", "0.5")],
    [("SET", "k", "x"), ("APPEND", "k", "yz"), ("SET", "k", "xyz")],  # a new SET: by its bytes
    [("SET", "k", "x"), ("APPEND", "k", "yz"), ("INCR", "k")],
    [("SET", "k", "x"), ("APPEND", "k", "yz"), ("RENAME", "k", "k")],
    [("SET", "j", "x"), ("APPEND", "j", "yz"), ("RENAME", "j", "k")],
    [("SET", "j", "x"), ("APPEND", "j", "yz"), ("COPY", "j", "k")],
    [("SET", "j", "x"), ("APPEND", "j", "yz"), ("MOVE", "j", 1), ("SWAPDB", 0, 1),
     ("RENAME", "j", "k")],
    [("SET", "k", "x"), ("APPEND", "k", "yz"), ("EXPIRE", "k", 100), ("PERSIST", "k")],
    [("SET", "k", "x"), ("APPEND", "k", "yz"), ("DEL", "k"), ("SET", "k", "xyz")],
    [("SET", "k", "7"), ("APPEND", "k", "7"), ("FLUSHDB",), ("SET", "k", "77")],
    [("SET", "j", "77"), ("COPY", "j", "k")],            # int, but not the shared object
    [("SET", "j", "77"), ("COPY", "j", "k"), ("SET", "k", "77")],
    # INCR stores the shared object of a small integer, which comes back: APPEND's mark must
    # not stick to it.
    [("INCR", "k"), ("APPEND", "k", ""), ("INCR", "k"), ("DECR", "k")],
    [("INCR", "j"), ("APPEND", "j", ""), ("COPY", "j", "k"), ("INCRBY", "k", 5),
     ("DECRBY", "k", 5)],
    [("SET", "k", "9998"), ("INCR", "k"), ("INCR", "k"), ("DECR", "k")],
])
def test_object_encoding_of_a_string_follows_how_it_was_written(both, commands):
    for command in commands:
        both(*command)
    both("OBJECT", "ENCODING", "k")
    both("OBJECT", "REFCOUNT", "k")


def test_object(both):
    fill_types(both)
    both("SET", "big", "x" * 44)
    both("SET", "bigger", "x" * 45)
    for value in ("0", "9999", "10000", "-1", "abc", "01", "9223372036854775808"):
        both("SET", "n", value)
        both("OBJECT", "ENCODING", "n")
        both("OBJECT", "REFCOUNT", "n")
    for key in ("str", "int", "raw", "big", "bigger", "list", "iset", "set", "hash", "bighash"):
        both("OBJECT", "ENCODING", key)
        both("OBJECT", "REFCOUNT", key)
        both("OBJECT", "FREQ", key)
        # Seconds since the last access in Redis (0 or 1 here, depending on the machine's
        # speed); we keep no access times and say 0.
        assert both.store.execute("OBJECT", "idletime", key) == 0
        assert both.oracle.execute("OBJECT", "idletime", key) in (0, 1, 2)
    for sub in ("ENCODING", "REFCOUNT", "FREQ", "IDLETIME"):
        both("OBJECT", sub, "nokey")
        both("OBJECT", sub)
        both("OBJECT", sub, "a", "b")
    both("OBJECT", "HELP")
    both("object", "help")
    both("OBJECT", "HELP", "x")
    both("OBJECT", "NOSUCH", "x")
    both("OBJECT")


# -- DUMP / RESTORE ---------------------------------------------------------------------------

def test_dump_restore_roundtrip_on_each_server(both):
    names = fill_types(both)
    both("DUMP", "nokey")
    for name in names:
        for side in (both.oracle, both.store):
            payload = side.execute("DUMP", name)
            assert side.execute("RESTORE", name + ":r", 0, payload) == b"OK"
        same_value(both, name + ":r")
    both("HSET", "shrunk", "f", "v" * 100)
    both("HSET", "shrunk", "f", "v")
    for side in (both.oracle, both.store):
        side.execute("RESTORE", "shrunk:r", 0, side.execute("DUMP", "shrunk"))
    both("OBJECT", "ENCODING", "shrunk:r")  # the loader picks the encoding again


def test_restore_options_and_ttl(both):
    both("SET", "src", "v")
    o_payload = both.oracle.execute("DUMP", "src")
    k_payload = both.store.execute("DUMP", "src")

    def restore(*args):
        results = []
        for side, payload in ((both.oracle, o_payload), (both.store, k_payload)):
            try:
                results.append(side.execute("RESTORE", args[0], args[1], payload, *args[2:]))
            except ResponseError as exc:
                results.append(str(exc))
        assert results[0] == results[1], (args, results)

    restore("src", 0)  # BUSYKEY
    restore("src", "abc")  # BUSYKEY comes first
    restore("src", 0, "REPLACE")
    restore("new", 100000)
    ttl_close(both, "new")
    restore("new", 0, "REPLACE", "ABSTTL")
    both("TTL", "new")
    restore("abs", 4102444800000, "ABSTTL")
    both("PEXPIRETIME", "abs")
    restore("past", 1, "ABSTTL")  # already expired: OK, nothing created
    both("EXISTS", "past")
    restore("abs", 1, "ABSTTL", "REPLACE")  # deletes the old key
    both("EXISTS", "abs")
    restore("idle", 0, "IDLETIME", 100)
    restore("freq", 0, "FREQ", 5)
    for bad in (["IDLETIME", "-1"], ["FREQ", "256"], ["FREQ", "-1"], ["IDLETIME", "x"],
                ["FREQ", "x"], ["IDLETIME", "1", "FREQ", "1"], ["FREQ", "1", "IDLETIME", "1"],
                ["IDLETIME"], ["FOO"], ["REPLACE", "FOO"]):
        restore("opt", 0, *bad)
    restore("neg", -1)
    restore("nan", "x")
    restore("src", 0, "FOO")  # options are parsed before the busy check
    for side in (both.oracle, both.store):
        payload = side.execute("DUMP", "src")
        for bad in (b"", b"x", payload[:-1], payload[:-1] + bytes([payload[-1] ^ 1]),
                    payload + b"x"):
            with pytest.raises(ResponseError, match="DUMP payload version or checksum are wrong"):
                side.execute("RESTORE", "bad", 0, bad)
    # Payloads are Redis's own format: each takes the other's.
    for side, payload in ((both.oracle, k_payload), (both.store, o_payload)):
        assert side.execute("RESTORE", "foreign", 0, payload) == b"OK"
        assert side.execute("GET", "foreign") == b"v"
    both("RESTORE", "k", 0)
    both("DUMP")
    both("DUMP", "a", "b")


def test_restore_bad_data_format():
    s = kvstore.open(active_expire=False)
    lp_one = b"\x0d\x00\x00\x00\x01\x00\x81f\x02\xff"  # a listpack of one entry
    for body in (b"", b"\x09\x00", b"\x01\x00",  # a zipmap, an empty list
                 b"\x0f\x00",  # a stream
                 b"\x04\x01\x01f",  # a hash field without its value
                 b"\x10" + bytes((len(lp_one),)) + lp_one,  # a listpack hash with one entry
                 b"\x02\x02\x01a\x01a",  # a set member twice
                 b"\x05\x01\x01m" + b"\x00" * 6 + b"\xf8\x7f",  # a NaN score
                 b"\x03\x01\x01m\x03abc",  # a score that is not a number
                 b"\x00\xc3\x01\x05\x00"):  # LZF shorter than it claims
        with pytest.raises(ResponseError, match="^ERR Bad data format$"):
            s.execute("RESTORE", "k", 0, rdb.frame(body))
    s.close()


def test_dump_payload_values():
    limits = Thresholds()
    h = Hash()
    h.update({b"f": b"v"})
    for value in (b"", b"x" * 1000, List([b"a", b"b"]), Set([b"1", b"2"]), Set([b"a"]), h):
        restored = deserialize(serialize(value), limits)
        assert type(restored) is type(value) and restored == value
        copied = copy_value(value)
        assert type(copied) is type(value) and copied == value
        assert copied is value or type(value) is bytes or copied is not value
    assert deserialize(serialize(Set([b"a"])), limits).big is True
    assert deserialize(serialize(Set([b"1"])), limits).big is False
    assert serialize(b"x")[-10:-8] == b"\x0a\x00"  # RDB version 10: Redis 7.0


def test_dump_zset_values():
    zset_module = pytest.importorskip("kvstore.engine.zset")
    limits = Thresholds()
    z = zset_module.ZSet()
    for i in range(200):
        z.add(b"m%d" % i, i / 3)
    z.add(b"neg0", -0.0)
    z.add(b"inf", float("inf"))
    z.grew(limits, *z.scores())
    restored = deserialize(serialize(z), limits)
    restored._check()
    assert restored.big and restored.scores() == z.scores()
    assert str(restored.score(b"neg0")) == "-0.0"  # a skiplist keeps the sign
    copied = copy_value(z)
    assert copied.big and copied.scores() == z.scores() and copied is not z
    for i in range(150):
        z.remove(b"m%d" % i)
    small = deserialize(serialize(z), limits)
    small._check()
    assert not small.big and str(small.score(b"neg0")) == "0.0"  # as a listpack would store it
    assert list(small.iter_items()) == sorted(((m, s) for m, s in z.scores().items()),
                                              key=lambda p: (p[1], p[0]))


def test_generic_commands_on_a_zset_value():
    # Until ZADD lands, put a ZSet in the keyspace by hand: the generic commands must handle it.
    zset_module = pytest.importorskip("kvstore.engine.zset")
    s = kvstore.open(active_expire=False)
    z = zset_module.ZSet()
    z.add(b"a", 1.0)
    z.add(b"b", 2.0)
    s.keyspace.dbs[0].add(b"z", z)
    assert s.execute("TYPE", "z") == b"zset"
    assert s.execute("OBJECT", "ENCODING", "z") == b"listpack"
    assert s.execute("COPY", "z", "z2") == 1
    assert s.execute("SCAN", 0, "TYPE", "zset")[1] in ([b"z", b"z2"], [b"z2", b"z"])
    s.execute("RESTORE", "z3", 0, s.execute("DUMP", "z"))
    for name in (b"z2", b"z3"):
        value = s.keyspace.dbs[0].data[name]
        assert type(value) is zset_module.ZSet and value is not z
        assert list(value.iter_items()) == [(b"a", 1.0), (b"b", 2.0)]
    s.close()


# -- effects, dirty counts, notifications ----------------------------------------------------

def test_dirty_counts_and_effects():
    clock = ManualClock()
    s = kvstore.open(clock=clock, active_expire=False)
    ks = s.keyspace

    def run(*args):
        before = ks.dirty
        s.execute(*args)
        return ks.dirty - before, s._ctx.effects

    s.execute("SET", "a", "1")
    s.execute("SET", "b", "2")
    assert run("DEL", "nokey")[0] == 0
    assert run("EXISTS", "a", "b")[0] == 0
    assert run("TOUCH", "a")[0] == 0
    assert run("RENAMENX", "a", "b")[0] == 0
    assert run("COPY", "a", "b") == (0, None)
    assert run("MOVE", "nokey", 1)[0] == 0
    assert run("RENAME", "a", "a")[0] == 0
    assert run("SCAN", 0)[0] == 0
    assert run("KEYS", "*")[0] == 0
    assert run("RANDOMKEY")[0] == 0
    assert run("DUMP", "a")[0] == 0
    assert run("RENAME", "a", "c") == (1, None)
    assert run("COPY", "c", "d") == (1, None)
    assert run("MOVE", "d", 1) == (1, None)
    assert run("SWAPDB", 0, 0) == (1, None)
    assert run("DEL", "b", "c", "nokey") == (2, None)
    payload = s.execute("DUMP", "nokey") or serialize(b"v")
    assert run("RESTORE", "r", 0, payload) == (1, None)
    assert run("RESTORE", "r2", 5000, payload, "REPLACE") == (
        1, [[b"RESTORE", b"r2", b"%d" % (clock.now + 5000), payload, b"REPLACE", b"ABSTTL"]])
    assert run("RESTORE", "r3", clock.now + 5000, payload, "ABSTTL") == (1, None)
    assert run("RESTORE", "r", 1, payload, "ABSTTL", "REPLACE") == (1, [[b"DEL", b"r"]])
    assert run("RESTORE", "r", 1, payload, "ABSTTL")[0] == 0
    assert run("FLUSHDB")[0] == 3  # r2, r3, plus the forced propagation
    assert run("FLUSHDB")[0] == 1  # Redis logs FLUSHDB even on an empty db
    assert run("FLUSHALL")[0] == 2  # d in db 1
    assert run("SELECT", 1)[0] == 0
    s.close()


def test_notifications():
    s = kvstore.open(active_expire=False)
    ctx = Context(s.keyspace)
    events = []
    # (keymiss, class "m", is off unless asked for: tests/server/test_keyspace_stats.py)
    ctx.notify = lambda cls, event, key: cls == "m" or events.append((cls, event, key))
    for argv in (["SET", "a", "1"], ["DEL", "a", "nokey"], ["SET", "a", "1"],
                 ["RENAME", "a", "b"], ["COPY", "b", "c"], ["MOVE", "c", "1"],
                 ["RESTORE", "r", "0", serialize(b"v")], ["UNLINK", "r"], ["RENAMENX", "b", "b"]):
        execute(ctx, [x if type(x) is bytes else x.encode() for x in argv])
    assert [e for e in events if e[0] != "$"] == [
        ("g", "del", b"a"), ("g", "rename_from", b"a"), ("g", "rename_to", b"b"),
        ("g", "copy_to", b"c"), ("g", "move_from", b"c"), ("g", "move_to", b"c"),
        ("g", "restore", b"r"), ("g", "del", b"r")]
    s.close()


def test_command_table_entries():
    table = {"del": (-2, "generic"), "unlink": (-2, "generic"), "exists": (-2, "generic"),
             "type": (2, "generic"), "rename": (3, "generic"), "renamenx": (3, "generic"),
             "copy": (-3, "generic"), "keys": (2, "generic"), "scan": (-2, "generic"),
             "randomkey": (1, "generic"), "dbsize": (1, "server"), "flushdb": (-1, "server"),
             "flushall": (-1, "server"), "select": (2, "connection"), "swapdb": (3, "server"),
             "move": (3, "generic"), "touch": (-2, "generic"), "object": (-2, "generic"),
             "dump": (2, "generic"), "restore": (-4, "generic")}
    for name, (arity, group) in table.items():
        cmd = COMMANDS[name.encode()]
        assert (cmd.arity, cmd.group) == (arity, group), name
    argv = [b"del", b"a", b"b", b"c"]
    assert COMMANDS[b"del"].keys(argv) == [b"a", b"b", b"c"]
    assert COMMANDS[b"rename"].keys([b"rename", b"a", b"b"]) == [b"a", b"b"]
    assert COMMANDS[b"object"].subcommands[b"encoding"].keys([b"object", b"encoding", b"k"]) == [
        b"k"]
    assert COMMANDS[b"object"].subcommands[b"help"].arity == 2


# -- the redis-py-shaped methods --------------------------------------------------------------

def test_methods(pair):
    r, s = pair
    for target in pair:
        target.set("a", "1")
        target.set("b", "2")
        target.rpush("l", "x")
    assert same(pair, "exists", "a", "b", "nokey") == 2
    assert same(pair, "touch", "a", "nokey") == 1
    assert same(pair, "type", "l") == b"list"
    assert same(pair, "rename", "a", "c") is True
    same(pair, "rename", "nokey", "c")
    assert same(pair, "renamenx", "c", "b") is False
    assert same(pair, "copy", "c", "d") is True
    assert same(pair, "copy", "c", "d", replace=True) is True
    assert same(pair, "copy", "c", "d", destination_db=3) is True
    assert same(pair, "move", "d", 2) is True
    assert same(pair, "move", "nokey", 2) is False
    assert same(pair, "object", "encoding", "l") == b"quicklist"
    assert same(pair, "object", "refcount", "c") == 2147483647
    same(pair, "object", "freq", "c")
    assert same(pair, "dbsize") == 3
    assert same(pair, "keys", _sort=True) == [b"b", b"c", b"l"]
    assert same(pair, "keys", "[bc]", _sort=True) == [b"b", b"c"]
    assert same(pair, "swapdb", 0, 3) is True
    assert same(pair, "dbsize") == 1
    assert same(pair, "swapdb", 0, 3) is True
    assert sorted(s.scan_iter()) == sorted(r.scan_iter()) == [b"b", b"c", b"l"]
    assert sorted(s.scan_iter(match="l*", count=1, _type="list")) == [b"l"]
    assert same(pair, "scan", 0, match="nomatch*") == (0, [])
    cursor, keys = s.scan(0, count=100)
    assert cursor == 0 and sorted(keys) == [b"b", b"c", b"l"]
    assert same(pair, "unlink", "c", "nokey") == 1
    assert same(pair, "delete", "b", "nokey") == 1
    assert same(pair, "randomkey") == b"l"
    assert same(pair, "flushdb") is True
    assert same(pair, "flushdb", asynchronous=True) is True
    assert same(pair, "flushall", asynchronous=True) is True
    assert same(pair, "randomkey") is None


KEY_METHODS = ("delete unlink exists type rename renamenx copy keys scan scan_iter randomkey dbsize "
               "flushdb flushall swapdb move touch object dump restore expire pexpire expireat "
               "pexpireat ttl pttl expiretime pexpiretime persist").split()


@pytest.mark.parametrize("name", KEY_METHODS)
def test_method_signatures_match_redis_py(name):
    import inspect

    from kvstore.methods.keys import KeyMethods

    def shape(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    assert shape(getattr(KeyMethods, name)) == shape(getattr(redis.Redis, name))


def test_dump_restore_methods(pair):
    for target in pair:
        target.hset("h", mapping={"f": "v"})
        payload = target.dump("h")
        assert isinstance(payload, bytes)
        assert target.restore("h2", 0, payload) == b"OK"
        assert target.restore("h2", 10_000, payload, replace=True) == b"OK"
        assert target.restore("h3", 0, payload, idletime=5) == b"OK"
        assert target.restore("h4", 0, payload, frequency=5) == b"OK"
        assert target.restore("h5", 4102444800000, payload, absttl=True) == b"OK"
    same(pair, "hgetall", "h2")
    same(pair, "ttl", "h2")
    same(pair, "pexpiretime", "h5")
    same(pair, "restore", "h2", 0, b"garbage")
    assert same(pair, "dump", "nokey") is None


def test_dump_is_never_decoded():
    s = kvstore.open(decode_responses=True, active_expire=False)
    s.execute("SET", "k", "v")
    payload = s.dump("k")
    assert isinstance(payload, bytes)
    s.restore("k2", 0, payload)
    assert s.execute("GET", "k2") == "v"
    s.close()


# -- seeded stress against a model -------------------------------------------------------------

class Model:
    """A naive keyspace: per db, key -> (value, absolute expiry or None)."""

    def __init__(self, clock, ndbs):
        self.clock = clock
        self.dbs = [dict() for _ in range(ndbs)]
        self.cur = 0

    def live(self, db=None):
        d = self.dbs[self.cur if db is None else db]
        now = self.clock.now
        for key in [k for k, (_, when) in d.items() if when is not None and when < now]:
            del d[key]
        return d


def check_invariants(ks):
    for db in ks.dbs:
        assert set(db.expires) <= set(db.data)
        assert set(db.expires) <= set(db.volatile)  # the active cycle can find every TTL


def test_stress_against_model():
    rng = random.Random(1234)
    clock = ManualClock()
    s = kvstore.open(clock=clock, databases=3, active_expire=False)
    model = Model(clock, 3)
    keys = [b"k%d" % i for i in range(12)]
    for step in range(4000):
        op = rng.randrange(14)
        k1, k2 = rng.choice(keys), rng.choice(keys)
        d = model.live()
        if op == 0:
            s.execute("SET", k1, b"v%d" % step)
            d[k1] = (b"v%d" % step, None)
        elif op == 1:
            ms = rng.randrange(-5, 50)
            got = s.execute("PEXPIRE", k1, ms)
            assert got == (k1 in d)
            if k1 in d:
                if ms <= 0:
                    del d[k1]
                else:
                    d[k1] = (d[k1][0], clock.now + ms)
        elif op == 2:
            assert s.execute("DEL", k1, k2) == len({k1, k2} & set(d))
            d.pop(k1, None)
            d.pop(k2, None)
        elif op == 3:
            if k1 not in d:
                with pytest.raises(ResponseError):
                    s.execute("RENAME", k1, k2)
            else:
                s.execute("RENAME", k1, k2)
                d[k2] = d.pop(k1)
        elif op == 4:
            target = rng.randrange(3)
            if target == model.cur and k1 == k2:
                continue
            got = s.execute("COPY", k1, k2, "DB", target, "REPLACE")
            assert got == (k1 in d)
            if k1 in d:
                model.live(target)[k2] = d[k1]
        elif op == 5:
            target = rng.randrange(3)
            if target == model.cur:
                continue
            t = model.live(target)
            assert s.execute("MOVE", k1, target) == (k1 in d and k1 not in t)
            if k1 in d and k1 not in t:
                t[k1] = d.pop(k1)
        elif op == 6:
            assert s.execute("PERSIST", k1) == (k1 in d and d[k1][1] is not None)
            if k1 in d:
                d[k1] = (d[k1][0], None)
        elif op == 7:
            want = -2 if k1 not in d else -1 if d[k1][1] is None else d[k1][1] - clock.now
            assert s.execute("PTTL", k1) == want
        elif op == 8:
            clock.advance(rng.randrange(0, 20))
        elif op == 9:
            model.cur = rng.randrange(3)
            s.execute("SELECT", model.cur)
        elif op == 10:
            a, b = rng.randrange(3), rng.randrange(3)
            s.execute("SWAPDB", a, b)
            model.dbs[a], model.dbs[b] = model.dbs[b], model.dbs[a]
        elif op == 11:
            got, _ = full_scan(s.execute, "COUNT", rng.randrange(1, 6))
            assert sorted(got) == sorted(model.live())
        elif op == 12:
            payload = s.execute("DUMP", k1)
            if payload is not None:
                ttl = rng.randrange(0, 30)
                s.execute("RESTORE", k2, ttl, payload, "REPLACE")
                d[k2] = (d[k1][0], clock.now + ttl if ttl else None)
        else:
            s.keyspace.active_expire()
        if step % 50 == 0:
            check_invariants(s.keyspace)
            for i in range(3):
                live = model.live(i)
                db = s.keyspace.dbs[i]
                assert {k: db.data[k] for k in live} == {k: v for k, (v, _) in live.items()}
                now = clock.now
                assert {k for k in db.data if not (k in db.expires and db.expires[k] < now)} == set(
                    live)
    s.close()
