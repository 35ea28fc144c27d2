"""Seeded random stress of the random-pick index (engine.picker) through the commands.

PICKER_MIN and the encoding thresholds are lowered so that sets and hashes of a few members get a
picker, which every command that mutates them in place must then keep up to date: SADD, SREM,
SPOP, SMOVE, HSET, HSETNX, HINCRBY, HDEL, and the key-level moves and copies (RENAME, COPY,
RESTORE, SUNIONSTORE over an existing key, DEL). Random replies are checked by their properties
against a naive model, which then takes what they returned. After every step the keyspace equals
the model and every container's picker passes `_check()`.

A replica replays each write's logged effects (SPOP is logged as SREM) and must end up equal to
the primary, as an AOF replay would.

Then a 200K-member set is drained with SPOP through the embedded store: it must complete (no
time limit is asserted; a quadratic drain would not finish in any reasonable time).
"""

from __future__ import annotations

import random

import pytest

import kvstore
from kvstore.commands.table import WRITE, Context, lookup
from kvstore.engine import Hash, Set
from kvstore.engine import picker as pmod
from kvstore.errors import ResponseError

MEMBERS = [b"%d" % i for i in range(20)] + [b"m%d" % i for i in range(20)]
VALUES = [b"1", b"22", b"x"]
SKEYS = [b"s1", b"s2", b"s3"]
HKEYS = [b"h1", b"h2"]


class Harness:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        random.seed(seed)  # the handlers' picks, for a reproducible run
        self.primary = kvstore.open(active_expire=False)
        self.replica = kvstore.open(active_expire=False)
        for store in (self.primary, self.replica):
            limits = store.keyspace.limits
            limits.set_intset, limits.hash_entries = 6, 6
        self.ctx = Context(self.primary.keyspace)
        self.rctx = Context(self.replica.keyspace)
        self.data = self.primary.keyspace.dbs[0].data
        self.model: dict[bytes, set | dict] = {}
        self.log: list[list[bytes]] = []
        self.pickers_seen = self.dead_seen = 0

    def run(self, *argv: bytes):
        argv_list = list(argv)
        cmd = lookup(argv_list)
        ctx = self.ctx
        ctx.now = self.primary.keyspace.clock()
        ctx.effects = None
        dirty = self.primary.keyspace.dirty
        try:
            return cmd.handler(ctx, argv_list)
        finally:
            if self.primary.keyspace.dirty != dirty and cmd.flags & WRITE:
                self.log.extend(ctx.effects or [argv_list])

    def replay(self) -> None:
        for argv in self.log:
            self.rctx.now = self.replica.keyspace.clock()
            lookup(argv).handler(self.rctx, argv)
        self.log.clear()
        assert self.replica.keyspace.dbs[0].data == self.data

    def check(self) -> None:
        assert set(self.data) == set(self.model)
        for key, value in self.data.items():
            expect = self.model[key]
            assert type(value) is (Hash if isinstance(expect, dict) else Set)
            assert value == expect, key
            if value.picker is not None:
                value.picker._check(value)
                self.pickers_seen += 1
                self.dead_seen += bool(value.picker.dead)

    def step(self) -> None:
        rng = self.rng
        op = rng.choice(SET_OPS + HASH_OPS + KEY_OPS)
        op(self, rng.choice(HKEYS if op in HASH_OPS else SKEYS))

    def drop_if_empty(self, key: bytes) -> None:
        if key in self.model and not self.model[key]:
            del self.model[key]


# -- sets --------------------------------------------------------------------------------------

def op_sadd(h: Harness, key: bytes) -> None:
    members = h.rng.sample(MEMBERS, h.rng.randint(1, 5))
    model = h.model.setdefault(key, set())
    assert h.run(b"SADD", key, *members) == len(set(members) - model)
    model.update(members)


def op_srem(h: Harness, key: bytes) -> None:
    members = h.rng.sample(MEMBERS, h.rng.randint(1, 5))
    model = h.model.get(key, set())
    expect = 0
    for m in members:
        if m in model:
            model.discard(m)
            expect += 1
            if not model:
                break
    assert h.run(b"SREM", key, *members) == expect
    h.drop_if_empty(key)


def op_spop(h: Harness, key: bytes) -> None:
    model = h.model.get(key, set())
    if h.rng.random() < 0.5:
        got = h.run(b"SPOP", key)
        popped = [] if got is None else [got]
        assert (got is None) == (not model)
    else:
        count = h.rng.randint(0, 8)
        popped = h.run(b"SPOP", key, b"%d" % count)
        assert len(set(popped)) == len(popped) == min(count, len(model))
    assert set(popped) <= model
    model.difference_update(popped)
    h.drop_if_empty(key)


def op_srandmember(h: Harness, key: bytes) -> None:
    model = h.model.get(key, set())
    got = h.run(b"SRANDMEMBER", key)
    assert (got is None) if not model else got in model
    count = h.rng.choice([1, 2, 3, 7, 50, -1, -5, -40])
    got = h.run(b"SRANDMEMBER", key, b"%d" % count)
    assert set(got) <= model
    if count > 0:
        assert len(got) == len(set(got)) == min(count, len(model))
    else:
        assert len(got) == (-count if model else 0)


def op_smove(h: Harness, key: bytes) -> None:
    dst = h.rng.choice(SKEYS)
    member = h.rng.choice(MEMBERS)
    src_model = h.model.get(key, set())
    moved = member in src_model
    assert h.run(b"SMOVE", key, dst, member) == int(moved)
    if moved and dst != key:
        src_model.discard(member)
        h.drop_if_empty(key)
        h.model.setdefault(dst, set()).add(member)


def op_sunionstore(h: Harness, key: bytes) -> None:
    other = h.rng.choice(SKEYS)
    result = h.model.get(key, set()) | h.model.get(other, set())
    assert h.run(b"SUNIONSTORE", key, key, other) == len(result)
    h.model.pop(key, None)
    if result:
        h.model[key] = set(result)


SET_OPS = [op_sadd, op_sadd, op_srem, op_spop, op_srandmember, op_smove, op_sunionstore]


# -- hashes ------------------------------------------------------------------------------------

def op_hset(h: Harness, key: bytes) -> None:
    pairs = []
    for _ in range(h.rng.randint(1, 4)):
        pairs += [h.rng.choice(MEMBERS), h.rng.choice(VALUES)]
    model = h.model.setdefault(key, {})
    assert h.run(b"HSET", key, *pairs) == len(set(pairs[::2]) - set(model))
    model.update(zip(pairs[::2], pairs[1::2]))


def op_hsetnx_hincrby(h: Harness, key: bytes) -> None:
    field = h.rng.choice(MEMBERS)
    model = h.model.setdefault(key, {})
    if h.rng.random() < 0.5:
        assert h.run(b"HSETNX", key, field, b"5") == int(field not in model)
        model.setdefault(field, b"5")
        return
    try:
        assert h.run(b"HINCRBY", key, field, b"3") == int(model.get(field, b"0")) + 3
    except ResponseError:
        assert model[field] == b"x"
        h.drop_if_empty(key)
        return
    model[field] = b"%d" % (int(model.get(field, b"0")) + 3)


def op_hdel(h: Harness, key: bytes) -> None:
    fields = h.rng.sample(MEMBERS, h.rng.randint(1, 5))
    model = h.model.get(key, {})
    expect = 0
    for f in fields:
        if f in model:
            del model[f]
            expect += 1
            if not model:
                break
    assert h.run(b"HDEL", key, *fields) == expect
    h.drop_if_empty(key)


def op_hrandfield(h: Harness, key: bytes) -> None:
    model = h.model.get(key, {})
    got = h.run(b"HRANDFIELD", key)
    assert (got is None) if not model else got in model
    count = h.rng.choice([1, 2, 5, 50, -1, -6, -30])
    flat = h.run(b"HRANDFIELD", key, b"%d" % count, b"WITHVALUES")
    pairs = list(zip(flat[::2], flat[1::2]))
    assert all(model[f] == v for f, v in pairs)
    if count > 0:
        assert len(pairs) == len({f for f, _ in pairs}) == min(count, len(model))
    else:
        assert len(pairs) == (-count if model else 0)


HASH_OPS = [op_hset, op_hset, op_hsetnx_hincrby, op_hdel, op_hrandfield]


# -- whole keys: the picker moves with a renamed value, copies start without one ---------------

def op_rename(h: Harness, key: bytes) -> None:
    keys = HKEYS if key in HKEYS else SKEYS
    dst = h.rng.choice(keys)
    if key not in h.model:
        with pytest.raises(ResponseError, match="^ERR no such key"):
            h.run(b"RENAME", key, dst)
        return
    h.run(b"RENAME", key, dst)
    h.model[dst] = h.model.pop(key)


def op_copy_or_restore(h: Harness, key: bytes) -> None:
    keys = HKEYS if key in HKEYS else SKEYS
    dst = h.rng.choice(keys)
    if key not in h.model or dst == key:
        return
    if h.rng.random() < 0.5:
        assert h.run(b"COPY", key, dst, b"REPLACE") == 1
    else:
        h.run(b"RESTORE", dst, b"0", h.run(b"DUMP", key), b"REPLACE")
    value = h.model[key]
    h.model[dst] = set(value) if isinstance(value, set) else dict(value)


def op_del(h: Harness, key: bytes) -> None:
    if h.rng.random() < 0.3:
        assert h.run(b"DEL", key) == int(h.model.pop(key, None) is not None)


def op_on_hash_key(op):
    """A key-level op applied to a hash key instead of a set key (same body)."""
    def on_hash(h: Harness, key: bytes) -> None:
        op(h, h.rng.choice(HKEYS))
    on_hash.__name__ = op.__name__ + "_hash"
    return on_hash


KEY_OPS = [op_rename, op_copy_or_restore, op_del] + [
    op_on_hash_key(op) for op in (op_rename, op_copy_or_restore, op_del)
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stress_against_model(seed, monkeypatch):
    monkeypatch.setattr(pmod, "PICKER_MIN", 4)
    h = Harness(seed)
    try:
        for i in range(4000):
            h.step()
            h.check()
            if i % 200 == 199:
                h.replay()
        h.replay()
        # The run exercised pickers, including ones with dead entries.
        assert h.pickers_seen > 1000 and h.dead_seen > 100
    finally:
        h.primary.close()
        h.replica.close()


def test_spop_drains_a_200k_member_set():
    store = kvstore.open(active_expire=False)
    members = [b"member:%d" % i for i in range(200_000)]
    for i in range(0, len(members), 10_000):
        store.sadd("s", *members[i:i + 10_000])
    popped = [store.spop("s") for _ in range(len(members))]
    assert sorted(popped) == sorted(members)
    assert store.spop("s") is None and store.exists("s") == 0
    store.close()
