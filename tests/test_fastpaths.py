"""The embedded store's direct paths give what the shared generic methods give: the same
replies, the same exceptions and texts, the same logged effects, the same change counter, the
same keyspace hits and misses, and the same keyspace (values, TTLs, OBJECT ENCODING), on random
sequences that include wrong types, missing keys, keys that expire, encoding conversions and
decode_responses."""

from __future__ import annotations

import errno
import os
import random

import pytest

import kvstore
from kvstore.engine import ManualClock
from kvstore.engine.values import encoding_of
from kvstore.engine.zset import ZSet
from kvstore.methods import Methods

FAST = ["get", "set", "incr", "incrby", "hset", "hget", "lpush", "rpush", "sadd", "sismember",
        "zadd", "zrange", "zrank", "zscore"]
KEYS = ["s", "h", "l", "set", "z", "missing", "n"]
# "x" * 70 is over the listpack value limit; ints and floats are encoded as redis-py does.
MEMBERS = ["a", "b", "c", b"\x00bin", 7, 2.5, "x" * 70, "d", "e"]
# A score must reach the zset as the text the generic path sends would: signed zeros, exponents,
# the smallest subnormal, infinities, NaN (refused), ints past 2**63 and past any double.
SCORES = [1.0, -2, 3.5, 0, 0.0, -0.0, 1e16, 1.5e-7, 5e-324, float("inf"), float("-inf"),
          float("nan"), 2**62, 2**70, 10**400]


def random_call(rng: random.Random):
    key = rng.choice(KEYS)
    member = rng.choice(MEMBERS)
    name = rng.choice(FAST)
    some = rng.sample(MEMBERS, rng.choice([1, 1, 2, 3]))
    bound = [-3, -1, 0, 1, 2, 5, 2**64]
    args = {
        "get": (key,),
        "set": (key, member),
        "incr": (key,),
        "incrby": (key, rng.choice([1, -3, 2**62, 2**63, -(2**63)])),
        "hset": (key, member, rng.choice(["v", 1, "y" * 70])),
        "hget": (key, member),
        "lpush": (key, *some),
        "rpush": (key, *some),
        "sadd": (key, *some),
        "sismember": (key, member),
        "zadd": (key, {m: rng.choice(SCORES) for m in some}),
        "zrange": (key, rng.choice(bound), rng.choice(bound)),
        "zrank": (key, member),
        "zscore": (key, member),
    }[name]
    return name, args


def exact(value):
    """A reply with floats spelled out, so that -0.0 and 0.0 differ."""
    if type(value) is float:
        return ("float", repr(value))
    if type(value) is list:
        return [exact(x) for x in value]
    return value


def outcome(fn, args):
    try:
        return ("ok", exact(fn(*args)))
    except kvstore.KvstoreError as exc:
        return (type(exc).__name__, str(exc))


def snapshot(store) -> dict:
    """Every key's type, OBJECT ENCODING, contents and TTL, read off the engine."""
    db = store.keyspace.dbs[0]
    out = {}
    for key, value in db.data.items():
        if type(value) is ZSet:
            content = [(m, repr(s)) for m, s in value.iter_items()]
        elif isinstance(value, dict):
            content = list(value.items())
        elif isinstance(value, (set, bytes)):
            content = sorted(value) if isinstance(value, set) else value
        else:
            content = list(value)
        out[key] = (type(value).__name__, encoding_of(value), content, db.expires.get(key))
    return out


def pair(clock, decode=False):
    stores = []
    for _ in range(2):
        store = kvstore.open(clock=clock, active_expire=False, decode_responses=decode)
        # Low thresholds, so that the random sequences cross them.
        for option in ("set-max-intset-entries", "hash-max-listpack-entries",
                       "zset-max-listpack-entries"):
            store.execute("CONFIG", "SET", option, 3)
        log: list = []
        store._after_write = lambda argv, effects=None, log=log: log.extend(effects or [argv])
        stores.append((store, log))
    return stores


@pytest.mark.parametrize("decode", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_direct_paths_match_the_generic_methods(seed, decode):
    clock = ManualClock()
    (fast, fast_log), (slow, slow_log) = pair(clock, decode)
    rng = random.Random(seed)
    for _ in range(800):
        if rng.random() < 0.05:  # a TTL, then time passes: lazy expiry on the next access
            key, ms = rng.choice(KEYS), rng.choice([1, 5, 50])
            assert fast.execute("PEXPIRE", key, ms) == slow.execute("PEXPIRE", key, ms)
            clock.advance(rng.choice([0, 2, 10]))
        name, args = random_call(rng)
        got = outcome(getattr(fast, name), args)
        want = outcome(getattr(Methods, name).__get__(slow), args)
        assert got == want, (name, args)
    assert fast_log == slow_log
    assert fast.keyspace.dirty == slow.keyspace.dirty
    assert (fast.keyspace.hits, fast.keyspace.misses) == (slow.keyspace.hits, slow.keyspace.misses)
    assert snapshot(fast) == snapshot(slow)
    fast.close()
    slow.close()


def test_direct_zadd_stores_each_score_as_its_text_would_be_stored():
    (fast, fast_log), (slow, slow_log) = pair(ManualClock())
    for i, score in enumerate(SCORES):
        # A fresh zset is a listpack (a zero loses its sign); "x" * 70 makes one a skiplist.
        for key, first in ((f"small{i}", "m"), (f"big{i}", "x" * 70)):
            for member in (first, "m", "n"):
                args = (key, {member: score})
                got = outcome(fast.zadd, args)
                assert got == outcome(Methods.zadd.__get__(slow), args), args
            assert outcome(fast.zscore, (key, "m")) == outcome(slow.zscore, (key, "m"))
    assert fast_log == slow_log
    assert snapshot(fast) == snapshot(slow)


def test_direct_incrby_overflows_and_odd_texts_like_the_generic_path():
    """The direct INCRBY's own branches (a shared small integer, up to 18 plain digits) at
    the int64 edges, and the texts it leaves to `stored_int`: 19 digits, signs, leading zeros,
    spaces, "0"."""
    (fast, fast_log), (slow, slow_log) = pair(ManualClock())
    top = 2**63 - 1
    olds = ["9" * 18, "1" + "0" * 17, "0", "7", "9999", "10000", "9" * 19, "-" + "9" * 18,
            "-5", "+5", "007", " 5", "5 ", "1_0", "", "x", str(top), str(-top - 1)]
    amounts = [1, -1, top, -top - 1, top - 10**18 + 1, top - 10**18 + 2, 0, top - 10000,
               top - 9999, -10000]
    for i, old in enumerate(olds):
        for j, amount in enumerate(amounts):
            key = f"n{i}.{j}"
            for store in (fast, slow):
                store.set(key, old)
            got = outcome(fast.incrby, (key, amount))
            assert got == outcome(Methods.incrby.__get__(slow), (key, amount)), (old, amount)
    assert fast_log == slow_log
    assert fast.keyspace.dirty == slow.keyspace.dirty
    assert snapshot(fast) == snapshot(slow)


def test_direct_writes_refuse_like_the_generic_path_while_the_aof_cannot_be_written(
        tmp_path, monkeypatch):
    from kvstore.persistence import aof

    store = kvstore.open(path=str(tmp_path), appendfsync="everysec", active_expire=False)
    store.set("n", 1)
    real = aof._write

    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(aof, "_write", full)
    store.set("pending", "1")  # applied, its record stays buffered: the AOF is now in error
    before = snapshot(store)
    writes = [("set", ("k", "v")), ("incr", ("n",)), ("incrby", ("n", 5)),
              ("hset", ("h", "f", "v")), ("lpush", ("l", "a")), ("lpush", ("l", "a", "b")),
              ("rpush", ("l", "a")), ("sadd", ("s", "a")), ("sadd", ("s", "a", "b")),
              ("zadd", ("z", {"a": 1})), ("zadd", ("z", {"a": 1, "b": 2.5}))]
    for name, args in writes:
        got = outcome(getattr(store, name), args)
        assert got == outcome(getattr(Methods, name).__get__(store), args), name
        assert got[0] == "MisconfError", (name, got)
    assert snapshot(store) == before
    monkeypatch.setattr(aof, "_write", real)
    store._persistence.wait_child()
    with store._lock:
        store._persistence.cron()  # the retry the cron thread makes
    store.close()


def test_direct_adds_keep_the_random_index_of_big_containers():
    store = kvstore.open(active_expire=False)
    store.sadd("s", *range(600))
    store.hset("h", mapping={f"f{i}": "v" for i in range(600)})
    store.srandmember("s")
    store.hrandfield("h")  # the first random picks build the indexes
    store.sadd("s", "new")
    store.sadd("s", 5)
    store.hset("h", "new", "v")
    store.hset("h", "f1", "w")
    db = store.keyspace.dbs[0]
    for key in (b"s", b"h"):
        container = db.data[key]
        assert container.picker is not None
        container.picker._check(container)
    store.close()
