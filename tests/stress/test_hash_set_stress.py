"""Seeded random stress of the hash and set commands against a naive Python model.

Each step runs one random command through the command table and checks its reply against the
model (exactly for deterministic commands, by properties for random ones, which then update the
model from what they returned). After every step the invariants are checked:

* the keyspace holds exactly the model's keys, with the same contents and Python types;
* no container is ever empty;
* the encoding flag is what Redis would report: sticky, raised by size or by a long / non-integer
  element (the model tracks it independently of `values.py`);
* a small hash keeps insertion order (listpack), an intset replies in ascending order.

A replica replays the write log (each write's `ctx.effects`, or the request when it has none,
plus a DEL for each key that expires) and must end up equal to the primary: that is what the AOF
relies on. Thresholds are lowered so conversions happen often; time moves with a ManualClock.
"""

from __future__ import annotations

import random

import pytest

import kvstore
from kvstore.commands.table import WRITE, Context, lookup
from kvstore.engine import Hash, ManualClock, Set
from kvstore.errors import ResponseError

HASH_ENTRIES, HASH_VALUE, SET_INTSET = 8, 6, 10
INT64 = (-(1 << 63), (1 << 63) - 1)
FIELDS = [b"f%d" % i for i in range(12)] + [b"long-field"]
MEMBERS = [b"%d" % i for i in range(-3, 14)] * 3 + [b"a", b"b", b"07", b"-0", b"long-member"]
VALUES = [b"1", b"-2", b"10", b"x", b"", b"toolongvalue", b"9223372036854775800"]
# Hash commands go to HKEYS, set commands to SKEYS; b"x" is shared, so it is sometimes the
# wrong type for the command sent to it.
HKEYS = [b"h1", b"h2", b"x"]
SKEYS = [b"s1", b"s2", b"s3", b"x"]
KEYS = sorted(set(HKEYS + SKEYS))
EXPIRE_AT = object()


def canonical_int(m: bytes) -> bool:
    try:
        n = int(m)
    except ValueError:
        return False
    return INT64[0] <= n <= INT64[1] and b"%d" % n == m


class Model:
    """key -> dict (hash) or set, plus the expected `big` flag and absolute expiry per key."""

    def __init__(self) -> None:
        self.data: dict[bytes, dict | set] = {}
        self.big: dict[bytes, bool] = {}
        self.expires: dict[bytes, int] = {}

    def expire(self, now: int) -> None:
        for key, when in list(self.expires.items()):
            if when < now:
                self.drop(key)

    def drop(self, key: bytes) -> None:
        self.data.pop(key, None)
        self.big.pop(key, None)
        self.expires.pop(key, None)

    def hash_write(self, key: bytes, field: bytes, value: bytes) -> None:
        h = self.data.setdefault(key, {})
        h[field] = value
        self.big[key] = self.big.get(key, False) or len(h) > HASH_ENTRIES \
            or len(field) > HASH_VALUE or len(value) > HASH_VALUE

    def set_add(self, key: bytes, members) -> int:
        s = self.data.setdefault(key, set())
        before = len(s)
        s.update(members)
        self.big[key] = self.big.get(key, False) or len(s) > SET_INTSET \
            or not all(map(canonical_int, members))
        return len(s) - before

    def store(self, key: bytes, result: set) -> None:
        self.drop(key)
        if result:
            self.data[key] = set(result)
            self.big[key] = len(result) > SET_INTSET or not all(map(canonical_int, result))

    def removed(self, key: bytes) -> None:
        if not self.data.get(key, True):
            self.drop(key)


class Harness:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        random.seed(seed)  # the handlers' random picks, for a reproducible run
        self.clock = ManualClock()
        # The replica replays each record at the time it was written (as an AOF load does not
        # expire keys by itself: the log's DELs do it).
        self.rclock = ManualClock()
        self.primary = kvstore.open(clock=self.clock, active_expire=False)
        self.replica = kvstore.open(clock=self.rclock, active_expire=False)
        for s in (self.primary, self.replica):
            limits = s.keyspace.limits
            limits.hash_entries, limits.hash_value, limits.set_intset = \
                HASH_ENTRIES, HASH_VALUE, SET_INTSET
        self.ctx = Context(self.primary.keyspace)
        self.rctx = Context(self.replica.keyspace)
        self.db = self.primary.keyspace.dbs[0]
        self.model = Model()
        # (time, argv) records; argv [EXPIRE_AT, key, when] stands for PEXPIREAT key when.
        self.log: list[tuple[int, list]] = []
        self.primary.keyspace.expired_listeners.append(
            lambda db, key: self.log.append((self.clock(), [b"DEL", key])))

    def run(self, *argv: bytes):
        """One command on the primary; its log record goes to the replica's log."""
        argv = list(argv)
        cmd = lookup(argv)
        ctx = self.ctx
        ctx.now = self.clock()
        ctx.effects = None
        dirty = self.primary.keyspace.dirty
        try:
            return cmd.handler(ctx, argv)
        finally:
            if self.primary.keyspace.dirty != dirty and cmd.flags & WRITE:
                self.log.extend((ctx.now, effect) for effect in ctx.effects or [argv])

    def replay(self) -> None:
        rdb = self.replica.keyspace.dbs[0]
        for now, argv in self.log:
            self.rclock.now = now
            if argv[0] is EXPIRE_AT:
                rdb.set_expire(argv[1], argv[2])
                continue
            self.rctx.now = now
            lookup(argv).handler(self.rctx, argv)
        self.log.clear()

    def close(self) -> None:
        self.primary.close()
        self.replica.close()

    # -- the invariant ------------------------------------------------------------------------

    def check(self) -> None:
        model = self.model
        data = self.db.data
        for key in KEYS:  # lazy expiry is how the model sees time too
            self.db.lookup(key, self.clock())
        assert set(data) == set(model.data)
        assert set(self.db.expires) <= set(data)
        for key, value in data.items():
            expect = model.data[key]
            assert value, key
            if isinstance(expect, dict):
                assert type(value) is Hash and dict(value) == expect
                assert value.big == model.big[key], key
                if not value.big:
                    assert list(value) == list(expect)  # listpack order
            else:
                assert type(value) is Set and set(value) == expect
                assert value.big == model.big[key], key
                if not value.big:
                    assert self.run(b"SMEMBERS", key) == sorted(expect, key=int)

    # -- one random step -----------------------------------------------------------------------

    def step(self) -> None:
        rng = self.rng
        if rng.random() < 0.03:
            self.time_step()
            return
        op = rng.choice(HASH_OPS + SET_OPS)
        is_hash_op = op in HASH_OPS
        key = rng.choice(HKEYS if is_hash_op else SKEYS)
        value = self.model.data.get(key)
        if value is not None and isinstance(value, dict) != is_hash_op:
            with pytest.raises(ResponseError, match="^WRONGTYPE"):
                self.run(b"HGET" if is_hash_op else b"SCARD", key, *([b"f"] if is_hash_op else []))
            return
        op(self, key)

    def time_step(self) -> None:
        rng = self.rng
        live = [k for k in self.model.data if k not in self.model.expires]
        if live and rng.random() < 0.7:
            key = rng.choice(live)
            when = self.clock() + rng.randint(1, 50)
            self.db.set_expire(key, when)
            self.log.append((self.clock(), [EXPIRE_AT, key, when]))
            self.model.expires[key] = when
        else:
            self.clock.advance(rng.randint(1, 60))
            self.model.expire(self.clock())


# -- hash operations (each checks its reply and updates the model) ------------------------------

def op_hset(h: Harness, key: bytes) -> None:
    pairs = []
    for _ in range(h.rng.randint(1, 3)):
        pairs += [h.rng.choice(FIELDS), h.rng.choice(VALUES)]
    model = h.model.data.get(key, {})
    added = len({f for f in pairs[::2] if f not in model})
    assert h.run(b"HSET", key, *pairs) == added
    for f, v in zip(pairs[::2], pairs[1::2]):
        h.model.hash_write(key, f, v)


def op_hsetnx(h: Harness, key: bytes) -> None:
    f, v = h.rng.choice(FIELDS), h.rng.choice(VALUES)
    exists = f in h.model.data.get(key, {})
    assert h.run(b"HSETNX", key, f, v) == (0 if exists else 1)
    if not exists:
        h.model.hash_write(key, f, v)


def op_hdel(h: Harness, key: bytes) -> None:
    fields = h.rng.sample(FIELDS, h.rng.randint(1, 4))
    model = h.model.data.get(key, {})
    expect = 0
    for f in fields:
        if f in model:
            del model[f]
            expect += 1
            if not model:
                break
    assert h.run(b"HDEL", key, *fields) == expect
    h.model.removed(key)


def op_hincrby(h: Harness, key: bytes) -> None:
    f = h.rng.choice(FIELDS)
    incr = h.rng.choice([1, -5, 100, INT64[1]])
    old = h.model.data.get(key, {}).get(f, b"0")
    try:
        reply = h.run(b"HINCRBY", key, f, b"%d" % incr)
    except ResponseError as exc:
        bad = not canonical_int(old)
        assert str(exc) == ("ERR hash value is not an integer" if bad
                            else "ERR increment or decrement would overflow")
        assert bad or not INT64[0] <= int(old) + incr <= INT64[1]
        return
    assert reply == int(old) + incr
    h.model.hash_write(key, f, b"%d" % reply)


def op_hincrbyfloat(h: Harness, key: bytes) -> None:
    f = h.rng.choice(FIELDS)
    try:
        reply = h.run(b"HINCRBYFLOAT", key, f, h.rng.choice([b"1.5", b"-0.25", b"3"]))
    except ResponseError as exc:
        assert str(exc) == "ERR hash value is not a float"
        return
    h.model.hash_write(key, f, reply)


def op_hread(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, {})
    f = h.rng.choice(FIELDS)
    assert h.run(b"HGET", key, f) == model.get(f)
    assert h.run(b"HLEN", key) == len(model)
    assert h.run(b"HEXISTS", key, f) == (f in model)
    assert h.run(b"HSTRLEN", key, f) == len(model.get(f, b""))
    assert h.run(b"HMGET", key, f, b"nope") == [model.get(f), None]
    assert h.run(b"HGETALL", key) == model
    assert sorted(h.run(b"HKEYS", key)) == sorted(model)


def op_hrandfield(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, {})
    count = h.rng.choice([1, 3, 20, -4])
    flat = h.run(b"HRANDFIELD", key, b"%d" % count, b"WITHVALUES")
    pairs = list(zip(flat[::2], flat[1::2]))
    assert all(model[f] == v for f, v in pairs)
    expect = -count if count < 0 else min(count, len(model))
    assert len(pairs) == (expect if model else 0)
    if count > 0:
        assert len({f for f, _ in pairs}) == len(pairs)


def op_hscan(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, {})
    seen: dict = {}
    cursor = b"0"
    while True:
        cursor, flat = h.run(b"HSCAN", key, cursor, b"COUNT", b"%d" % h.rng.randint(1, 5))
        seen.update(zip(flat[::2], flat[1::2]))
        if cursor == b"0":
            break
    assert seen == model


HASH_OPS = [op_hset, op_hset, op_hsetnx, op_hdel, op_hdel, op_hincrby, op_hincrbyfloat,
            op_hread, op_hrandfield, op_hscan]


# -- set operations -----------------------------------------------------------------------------

def op_sadd(h: Harness, key: bytes) -> None:
    members = h.rng.sample(MEMBERS, h.rng.randint(1, 4))
    added = len(set(members) - h.model.data.get(key, set()))
    assert h.run(b"SADD", key, *members) == added
    h.model.set_add(key, members)


def op_srem(h: Harness, key: bytes) -> None:
    members = h.rng.sample(MEMBERS, h.rng.randint(1, 4))
    model = h.model.data.get(key, set())
    expect = 0
    for m in members:
        if m in model:
            model.discard(m)
            expect += 1
            if not model:
                break
    assert h.run(b"SREM", key, *members) == expect
    h.model.removed(key)


def op_spop(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, set())
    if h.rng.random() < 0.5:
        got = h.run(b"SPOP", key)
        assert (got is None) if not model else got in model
        popped = [] if got is None else [got]
    else:
        count = h.rng.randint(0, 6)
        popped = h.run(b"SPOP", key, b"%d" % count)
        assert len(set(popped)) == len(popped) == min(count, len(model))
        assert set(popped) <= model
        if count < len(model) and (len(model) - count) * 5 <= count:
            # Redis's CASE 3: the members left are copied into a new set, encoded afresh; the
            # key keeps its TTL (dbOverwrite)
            when = h.model.expires.get(key)
            h.model.store(key, model - set(popped))
            if when is not None:
                h.model.expires[key] = when
            return
    model.difference_update(popped)
    h.model.removed(key)


def op_srandmember(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, set())
    count = h.rng.choice([1, 2, 50, -3])
    got = h.run(b"SRANDMEMBER", key, b"%d" % count)
    assert set(got) <= model
    assert len(got) == ((-count if count < 0 else min(count, len(model))) if model else 0)


def op_smove(h: Harness, key: bytes) -> None:
    dst = h.rng.choice(SKEYS)
    member = h.rng.choice(MEMBERS)
    src_model = h.model.data.get(key, set())
    dst_model = h.model.data.get(dst)
    if isinstance(dst_model, dict) and src_model:
        with pytest.raises(ResponseError):
            h.run(b"SMOVE", key, dst, member)
        return
    moved = member in src_model
    assert h.run(b"SMOVE", key, dst, member) == int(moved)
    if moved and dst != key:
        src_model.discard(member)
        h.model.removed(key)
        h.model.set_add(dst, [member])


def op_algebra(h: Harness, key: bytes) -> None:
    keys = h.rng.sample(SKEYS, h.rng.randint(1, 3))
    values = [h.model.data.get(k, set()) for k in keys]
    if any(isinstance(v, dict) for v in values):
        with pytest.raises(ResponseError):
            h.run(b"SUNION", *keys)
        return
    inter = set.intersection(*values)
    union = set().union(*values)
    diff = values[0].difference(*values[1:])
    assert sorted(h.run(b"SINTER", *keys)) == sorted(inter)
    assert sorted(h.run(b"SUNION", *keys)) == sorted(union)
    assert sorted(h.run(b"SDIFF", *keys)) == sorted(diff)
    limit = h.rng.randint(0, 4)
    expect = len(inter) if not limit else min(limit, len(inter))
    assert h.run(b"SINTERCARD", b"%d" % len(keys), *keys, b"LIMIT", b"%d" % limit) == expect
    cmd, result = h.rng.choice([(b"SINTERSTORE", inter), (b"SUNIONSTORE", union),
                                (b"SDIFFSTORE", diff)])
    assert h.run(cmd, key, *keys) == len(result)
    h.model.store(key, result)


def op_sread(h: Harness, key: bytes) -> None:
    model = h.model.data.get(key, set())
    m = h.rng.choice(MEMBERS)
    assert h.run(b"SCARD", key) == len(model)
    assert h.run(b"SISMEMBER", key, m) == (m in model)
    assert h.run(b"SMISMEMBER", key, m, b"zz") == [int(m in model), 0]
    assert sorted(h.run(b"SMEMBERS", key)) == sorted(model)
    seen = []
    cursor = b"0"
    while True:
        cursor, chunk = h.run(b"SSCAN", key, cursor, b"COUNT", b"3")
        seen += chunk
        if cursor == b"0":
            break
    assert sorted(seen) == sorted(model)


SET_OPS = [op_sadd, op_sadd, op_srem, op_spop, op_srandmember, op_smove, op_algebra, op_sread]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stress_against_model(seed):
    h = Harness(seed)
    try:
        for i in range(3000):
            h.step()
            h.check()
            if i % 100 == 99:
                h.replay()
                assert h.replica.keyspace.dbs[0].data == h.db.data
        h.replay()
        assert h.replica.keyspace.dbs[0].data == h.db.data
        for key, value in h.db.data.items():
            assert h.replica.keyspace.dbs[0].data[key].big == value.big
    finally:
        h.close()
