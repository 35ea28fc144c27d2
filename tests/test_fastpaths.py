"""The embedded store's direct paths give what the shared generic methods give: the same
replies, the same exceptions and texts, and the same logged effects, on random sequences that
include wrong types, missing keys and decode_responses."""

from __future__ import annotations

import random

import pytest

import kvstore
from kvstore.engine import ManualClock
from kvstore.methods import Methods

FAST = ["get", "set", "incr", "incrby", "hset", "hget", "lpush", "rpush", "sadd", "sismember",
        "zadd", "zrange", "zrank", "zscore"]


def random_call(rng: random.Random):
    key = rng.choice(["s", "h", "l", "set", "z", "missing", "n"])
    member = rng.choice(["a", "b", "c", b"\x00bin", 7, 2.5])
    name = rng.choice(FAST)
    args = {
        "get": (key,),
        "set": (key, member),
        "incr": (key,),
        "incrby": (key, rng.choice([1, -3, 2**62])),
        "hset": (key, member, rng.choice(["v", 1])),
        "hget": (key, member),
        "lpush": (key, member, "x"),
        "rpush": (key, member),
        "sadd": (key, member),
        "sismember": (key, member),
        "zadd": (key, {member: rng.choice([1.0, -2, 3.5, float("inf")])}),
        "zrange": (key, rng.randrange(-3, 3), rng.randrange(-3, 3)),
        "zrank": (key, member),
        "zscore": (key, member),
    }[name]
    return name, args


def outcome(fn, args):
    try:
        return ("ok", fn(*args))
    except kvstore.KvstoreError as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("decode", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_direct_paths_match_the_generic_methods(seed, decode):
    clock = ManualClock()
    fast = kvstore.open(clock=clock, active_expire=False, decode_responses=decode)
    slow = kvstore.open(clock=clock, active_expire=False, decode_responses=decode)
    logs: dict[int, list] = {id(fast): [], id(slow): []}
    for store in (fast, slow):
        log = logs[id(store)]
        store._after_write = lambda argv, effects=None, log=log: log.extend(effects or [argv])
    rng = random.Random(seed)
    for _ in range(600):
        name, args = random_call(rng)
        got = outcome(getattr(fast, name), args)
        want = outcome(getattr(Methods, name).__get__(slow), args)
        assert got == want, (name, args)
    assert logs[id(fast)] == logs[id(slow)]
    fast.close()
    slow.close()
