"""The EXPIRE family against the real redis-server, plus exact TTL arithmetic with a manual clock,
AOF effects, dirty counts, notifications, the redis-py-shaped methods and a seeded stress test
against a model.

The oracle runs on the wall clock, the store on its own: relative TTLs are compared to within a
second, absolute ones (EXPIREAT, PEXPIRETIME) exactly.
"""

from __future__ import annotations

import datetime
import random

import pytest
import redis

import kvstore
from kvstore.commands.table import COMMANDS, Context, execute

from .helpers import argv_of, same, ttl_close

FAR = 4102444800  # 2100-01-01, in seconds
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


# -- differential -----------------------------------------------------------------------------

@pytest.mark.parametrize("cmd,amount", [("EXPIRE", 100), ("PEXPIRE", 100_000)])
def test_relative_expire(both, cmd, amount):
    both(cmd, "nokey", amount)
    both("SET", "k", "v")
    both(cmd, "k", amount)
    ttl_close(both, "k")
    both("TTL", "k")
    both(cmd, "k", 0)  # now: deleted, reply 1
    both("EXISTS", "k")
    both("SET", "k", "v")
    both(cmd, "k", -5)
    both("EXISTS", "k")
    both(cmd, "nokey", -5)


@pytest.mark.parametrize("cmd,when", [("EXPIREAT", FAR), ("PEXPIREAT", FAR * 1000 + 123)])
def test_absolute_expire(both, cmd, when):
    both("SET", "k", "v")
    both(cmd, "k", when)
    both("EXPIRETIME", "k")
    both("PEXPIRETIME", "k")
    ttl_close(both, "k")
    both(cmd, "k", 1)  # in the past: deleted
    both("EXISTS", "k")
    both("SET", "k", "v")
    both(cmd, "k", 0)
    both("EXISTS", "k")


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_options(both, cmd):
    absolute = cmd.endswith("AT")
    big = (FAR * 1000 if cmd.startswith("P") else FAR) if absolute else 10**7
    both("SET", "plain", "v")
    both("SET", "ttl", "v")
    both(cmd, "ttl", big)
    for opts in (["NX"], ["XX"], ["GT"], ["LT"], ["nx"], ["Xx", "gt"], ["XX", "LT"], ["GT", "GT"],
                 ["XX", "XX"]):
        for key in ("plain", "ttl", "nokey"):
            # The same relative amount twice would race the clocks (GT/LT on equal times).
            for amount in (big // 2, big, big * 2) if absolute else (big // 2, big * 2):
                both(cmd, key, amount, *opts)
                if absolute:
                    both("PEXPIRETIME", key)
                else:
                    ttl_close(both, key)
            both("SET", "plain", "v")
            both("SET", "ttl", "v")
            both(cmd, "ttl", big)
    for bad in (["NX", "XX"], ["NX", "GT"], ["NX", "LT"], ["GT", "LT"], ["XX", "NX"],
                ["LT", "GT"], ["FOO"], ["NX", "FOO"], ["NX", "XX", "FOO"], ["GT", "LT", "NX"]):
        both(cmd, "ttl", big, *bad)
        both(cmd, "nokey", big, *bad)
    both(cmd, "ttl", "abc", "FOO")  # options are parsed before the number
    both(cmd, "ttl", "abc", "NX", "XX")
    both(cmd, "ttl", "abc")
    both(cmd, "ttl", "1.5")
    both(cmd, "ttl", "")
    both(cmd, "ttl")
    both(cmd)
    # LT on a key without TTL sets (no TTL counts as infinite); GT never does.
    both(cmd, "plain", big, "LT")
    both("SET", "plain", "v")
    both(cmd, "plain", big, "GT")
    both("TTL", "plain")


def test_expire_time_limits(both):
    cases = [
        ("EXPIRE", [INT64_MAX, INT64_MIN, INT64_MAX // 1000, -(INT64_MAX // 1000),
                    INT64_MAX // 1000 + 1, -(INT64_MAX // 1000) - 1, 9223372036854]),
        ("PEXPIRE", [INT64_MAX, INT64_MAX - 1, INT64_MIN, "9223372036854775808"]),
        ("EXPIREAT", [INT64_MAX // 1000, INT64_MAX // 1000 + 1, -(INT64_MAX // 1000),
                      -(INT64_MAX // 1000) - 1, INT64_MIN]),
        ("PEXPIREAT", [INT64_MAX, INT64_MIN, "-9223372036854775809"]),
    ]
    for cmd, values in cases:
        for value in values:
            both("SET", "k", "v")
            both(cmd, "k", value)
            both(cmd, "nokey", value)
            both("EXISTS", "k")
            if cmd.endswith("AT"):
                both("PEXPIRETIME", "k")
                both("EXPIRETIME", "k")


def test_ttl_family(both):
    for cmd in ("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"):
        both(cmd, "nokey")
        both("SET", "k", "v")
        both(cmd, "k")
        both(cmd)
        both(cmd, "k", "x")
    both("PEXPIREAT", "k", INT64_MAX)
    both("EXPIRETIME", "k")
    both("PEXPIRETIME", "k")
    ttl_close(both, "k")
    both("HSET", "h", "f", "v")
    both("EXPIRE", "h", 50)
    both("TTL", "h")


def test_persist(both):
    both("PERSIST", "nokey")
    both("SET", "k", "v")
    both("PERSIST", "k")
    both("EXPIRE", "k", 100)
    both("PERSIST", "k")
    both("TTL", "k")
    both("PERSIST", "k")
    both("PERSIST")
    both("PERSIST", "a", "b")


def test_set_drops_ttl_but_other_writes_keep_it(both):
    both("SET", "k", "v", "EX", 100)
    both("APPEND", "k", "x")
    ttl_close(both, "k")
    both("SET", "k", "v")
    both("TTL", "k")
    both("RPUSH", "l", "a")
    both("EXPIRE", "l", 100)
    both("RPUSH", "l", "b")
    ttl_close(both, "l")


# -- exact arithmetic with a manual clock ---------------------------------------------------

def test_ttl_rounding_and_lazy_expiry(timed, clock):
    timed.execute("SET", "k", "v")
    timed.execute("PEXPIRE", "k", 1500)
    assert timed.execute("PTTL", "k") == 1500
    assert timed.execute("TTL", "k") == 2  # (ttl + 500) / 1000: rounded to nearest
    clock.advance(1)
    assert timed.execute("TTL", "k") == 1
    clock.advance(1000)
    assert timed.execute("TTL", "k") == 0  # 499 ms left
    assert timed.execute("PEXPIRETIME", "k") == clock.now + 499
    assert timed.execute("EXPIRETIME", "k") == (clock.now + 499 + 500) // 1000
    clock.advance(498)
    assert timed.execute("PTTL", "k") == 1
    clock.advance(1)
    assert timed.execute("PTTL", "k") == 0  # alive through its deadline ms, as in Redis
    clock.advance(1)
    assert timed.execute("PTTL", "k") == -2
    assert timed.execute("DBSIZE") == 0  # the read deleted it
    timed.execute("SET", "k", "v")
    assert timed.execute("PEXPIREAT", "k", clock.now) == 1  # at now: already expired
    assert timed.execute("EXISTS", "k") == 0


def test_gt_lt_compare_absolute_times(timed, clock):
    timed.execute("SET", "k", "v")
    assert timed.execute("PEXPIRE", "k", 1000) == 1
    assert timed.execute("PEXPIRE", "k", 1000, "GT") == 0  # equal is not greater
    assert timed.execute("PEXPIRE", "k", 1000, "LT") == 0
    assert timed.execute("PEXPIRE", "k", 1001, "GT") == 1
    assert timed.execute("PEXPIREAT", "k", clock.now + 500, "LT", "XX") == 1
    assert timed.execute("PTTL", "k") == 500
    assert timed.execute("PEXPIRE", "k", -1, "LT") == 1  # past: deleted
    assert timed.execute("EXISTS", "k") == 0


def test_effects_dirty_and_notifications(clock):
    s = kvstore.open(clock=clock, active_expire=False)
    ks = s.keyspace
    events = []
    ctx = Context(ks)
    # (keymiss, class "m", is off unless asked for: tests/server/test_keyspace_stats.py)
    ctx.notify = lambda cls, event, key: cls == "m" or events.append((cls, event, key))

    def run(*args):
        before = ks.dirty
        execute(ctx, [a if type(a) is bytes else str(a).encode() for a in args])
        return ks.dirty - before, ctx.effects

    run("SET", "k", "v")
    events.clear()
    assert run("EXPIRE", "k", 10) == (1, [[b"PEXPIREAT", b"k", b"%d" % (clock.now + 10_000)]])
    assert run("PEXPIRE", "k", 10) == (1, [[b"PEXPIREAT", b"k", b"%d" % (clock.now + 10)]])
    assert run("EXPIREAT", "k", FAR) == (1, [[b"PEXPIREAT", b"k", b"%d" % (FAR * 1000)]])
    assert run("PEXPIREAT", "k", FAR * 1000 + 1) == (1, [[b"PEXPIREAT", b"k", b"%d" % (
        FAR * 1000 + 1)]])
    assert run("EXPIRE", "k", 10, "NX") == (0, None)
    assert run("EXPIRE", "nokey", 10) == (0, None)
    assert run("TTL", "k")[0] == 0
    assert run("PERSIST", "k") == (1, None)
    assert run("PERSIST", "k") == (0, None)
    assert run("EXPIRE", "k", -1) == (1, [[b"DEL", b"k"]])
    assert events == [("g", "expire", b"k")] * 4 + [("g", "persist", b"k"), ("g", "del", b"k")]
    s.close()


def test_command_table_entries():
    for name, arity in [("expire", -3), ("pexpire", -3), ("expireat", -3), ("pexpireat", -3),
                        ("ttl", 2), ("pttl", 2), ("expiretime", 2), ("pexpiretime", 2),
                        ("persist", 2)]:
        cmd = COMMANDS[name.encode()]
        assert cmd.arity == arity and cmd.group == "generic"
        assert cmd.summary.startswith(name.upper())
        assert cmd.keys([name.encode(), b"k", b"1"]) == [b"k"]


# -- the redis-py-shaped methods --------------------------------------------------------------

def test_methods(pair):
    for target in pair:
        target.set("k", "v")
    assert same(pair, "expire", "nokey", 10) is False
    assert same(pair, "expire", "k", 100) is True
    assert same(pair, "expire", "k", datetime.timedelta(seconds=200), gt=True) is True
    assert same(pair, "ttl", "k") == 200
    assert same(pair, "expire", "k", 50, nx=True) is False
    assert same(pair, "expire", "k", 50, xx=True, lt=True) is True
    assert same(pair, "pexpire", "k", datetime.timedelta(seconds=300), gt=True) is True
    assert same(pair, "ttl", "k") == 300
    same(pair, "expire", "k", 10, nx=True, xx=True)
    same(pair, "expire", "k", 10, gt=True, lt=True)
    when = datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc)
    assert same(pair, "expireat", "k", when) is True
    assert same(pair, "expiretime", "k") == FAR
    assert same(pair, "pexpireat", "k", when, lt=True) is False  # equal, not less
    assert same(pair, "pexpireat", "k", FAR * 1000 - 1, lt=True) is True
    assert same(pair, "pexpiretime", "k") == FAR * 1000 - 1
    assert same(pair, "expireat", "k", FAR + 1, xx=True) is True
    assert abs(pair[0].pttl("k") - pair[1].pttl("k")) < 1000
    assert same(pair, "persist", "k") is True
    assert same(pair, "persist", "k") is False
    assert same(pair, "ttl", "k") == -1
    assert same(pair, "pttl", "nokey") == -2
    assert same(pair, "expiretime", "nokey") == -2
    assert same(pair, "pexpiretime", "k") == -1
    assert same(pair, "pexpire", "k", 0) is True
    assert same(pair, "exists", "k") == 0


# -- seeded stress against a model -------------------------------------------------------------

def test_stress_against_model(timed, clock):
    """Random expiry commands with every option, time moving by hand, replies checked against a
    model of absolute expiry times; the keyspace invariants are checked as we go."""
    rng = random.Random(99)
    model: dict[bytes, int | None] = {}  # key -> absolute ms expiry or None
    keys = [b"k%d" % i for i in range(8)]
    db = timed.keyspace.dbs[0]
    option_sets = [[], ["NX"], ["XX"], ["GT"], ["LT"], ["XX", "GT"], ["XX", "LT"]]
    for step in range(5000):
        now = clock.now
        for key in [k for k, when in model.items() if when is not None and when <= now]:
            del model[key]
        key = rng.choice(keys)
        op = rng.randrange(7)
        if op == 0:
            timed.execute("SET", key, "v")
            model[key] = None
        elif op == 1:
            cmd = rng.choice(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
            amount = rng.randrange(-3, 60)
            when = {"EXPIRE": now + amount * 1000, "PEXPIRE": now + amount,
                    "EXPIREAT": (now // 1000 + amount) * 1000, "PEXPIREAT": now + amount}[cmd]
            arg = {"EXPIRE": amount, "PEXPIRE": amount, "EXPIREAT": now // 1000 + amount,
                   "PEXPIREAT": now + amount}[cmd]
            opts = rng.choice(option_sets)
            current = model.get(key, "absent")
            ok = current != "absent" and not (
                ("NX" in opts and current is not None)
                or ("XX" in opts and current is None)
                or ("GT" in opts and (current is None or when <= current))
                or ("LT" in opts and current is not None and when >= current))
            assert timed.execute(cmd, key, arg, *opts) == int(ok), (step, cmd, arg, opts)
            if ok:
                if when <= now:
                    del model[key]
                else:
                    model[key] = when
        elif op == 2:
            had = model.get(key, "absent")
            assert timed.execute("PERSIST", key) == int(had not in ("absent", None))
            if had != "absent":
                model[key] = None
        elif op == 3:
            when = model.get(key, "absent")
            want = -2 if when == "absent" else -1 if when is None else when - now
            assert timed.execute("PTTL", key) == want
            want_s = want if want < 0 else (want + 500) // 1000
            assert timed.execute("TTL", key) == want_s
            want_abs = -2 if when == "absent" else -1 if when is None else when
            assert timed.execute("PEXPIRETIME", key) == want_abs
        elif op == 4:
            clock.advance(rng.randrange(0, 3000))
        elif op == 5:
            timed.keyspace.active_expire()
        else:
            assert timed.execute("DEL", key) == int(key in model)
            model.pop(key, None)
        if step % 100 == 0:
            assert set(db.expires) <= set(db.data)
            assert set(db.expires) <= set(db.volatile)
            live = {k for k in db.data if not (k in db.expires and db.expires[k] <= clock.now)}
            now = clock.now
            assert live == {k for k, w in model.items() if w is None or w > now}


@pytest.mark.parametrize("method, args", [
    ("pexpire", ("k", datetime.timedelta(milliseconds=1001))),
    ("pexpire", ("k", datetime.timedelta(milliseconds=-1001))),
    ("pexpire", ("k", datetime.timedelta(seconds=1, microseconds=999))),
    ("pexpireat", ("k", datetime.datetime(2100, 1, 1, 0, 0, 1, 1000,
                                          tzinfo=datetime.timezone.utc))),
    ("pexpireat", ("k", datetime.datetime(2100, 1, 1, 0, 0, 1, 1000))),  # naive: local time
])
def test_millisecond_arguments_are_exact_like_redis_py(method, args):
    """timedelta -> ms in integer arithmetic, as redis-py: 1001 ms is 1001, not 1000 (float)."""
    assert argv_of(getattr(kvstore.Store, method), *args) == \
        argv_of(getattr(redis.Redis, method), *args)
