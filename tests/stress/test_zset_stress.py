"""Seeded random stress of sorted sets against a naive model (a dict, sorted on demand).

Two levels:

* the engine: random adds, updates, removes, range deletes and pops on a `ZSet` with tiny
  sublists (so splits, merges and index rebuilds happen all the time), every query checked
  against the model and `_check()` run regularly;
* the commands: random ZADD / ZINCRBY / ZREM / ZPOP / ZREMRANGEBY* / ZUNIONSTORE through the
  command table, replies checked against the model, the write log replayed on a replica that
  must end equal (what the AOF relies on), encodings checked against Redis's rules.
"""

from __future__ import annotations

import math
import random

import pytest

import kvstore
from kvstore.commands.table import WRITE, Context, lookup
from kvstore.engine import zset as zmod
from kvstore.engine.zset import ZSet
from kvstore.errors import ResponseError


def order(model: dict) -> list:
    return sorted(model.items(), key=lambda kv: (kv[1], kv[0]))


@pytest.mark.parametrize("load,seed", [(2, 1), (4, 2), (16, 3), (zmod.LOAD, 4)])
def test_engine_against_model(monkeypatch, load, seed):
    monkeypatch.setattr(zmod, "LOAD", load)
    rng = random.Random(seed)
    z, model = ZSet(), {}
    members = [b"m%d" % i for i in range(200)]
    for step in range(4000):
        op = rng.random()
        m = rng.choice(members)
        if op < 0.45:
            s = rng.choice([float(rng.randrange(30)), rng.random(), math.inf, -math.inf, -0.0])
            z.add(m, s)
            model[m] = s
        elif op < 0.65:
            assert z.remove(m) == (model.pop(m, None) is not None)
        elif op < 0.7:
            srt = order(model)
            a = rng.randrange(len(srt) + 1)
            b = min(len(srt), a + rng.randrange(0, 3 * load + 2))
            assert z.remove_range(a, b) == [k for k, _ in srt[a:b]]
            for k, _ in srt[a:b]:
                del model[k]
        elif op < 0.75:
            srt = order(model)
            k, top = rng.randrange(1, 2 * load + 2), rng.random() < 0.5
            assert z.pop(k, top) == (srt[::-1] if top else srt)[:k]
            for kk, _ in (srt[::-1] if top else srt)[:k]:
                del model[kk]
        else:
            srt = order(model)
            if srt:
                i = rng.randrange(len(srt))
                assert z.rank(srt[i][0]) == i and z.member_at(i) == srt[i][0]
                a = rng.randrange(len(srt))
                assert z.items(a, a + 5) == srt[a:a + 5]
            s = float(rng.randrange(-1, 31))
            assert z.score_index(s) == sum(1 for _, v in srt if v < s)
            assert z.score_index(s, True) == sum(1 for _, v in srt if v <= s)
        assert len(z) == len(model)
        if step % 250 == 0:
            z._check()
    z._check()
    assert list(z.iter_items()) == order(model)


ZKEYS = [b"z1", b"z2", b"z3"]
MEMBERS = [b"m%d" % i for i in range(20)] + [b"", b"a-member-longer-than-8"]
ENTRIES, VALUE = 6, 8


def _score(rng: random.Random) -> bytes:
    return rng.choice([b"%d" % rng.randrange(-5, 6), b"%.3f" % rng.uniform(-4, 4), b"inf",
                       b"-inf", b"-0", b"0.1", b"1e300"])


def test_commands_against_model():
    rng = random.Random(99)
    store = kvstore.open(active_expire=False)
    ks = store.keyspace
    ks.limits.zset_entries, ks.limits.zset_value = ENTRIES, VALUE
    ctx = Context(ks)
    log: list[list[bytes]] = []
    model: dict[bytes, dict[bytes, float]] = {}
    big: dict[bytes, bool] = {}

    def run(*argv):
        cmd = lookup(list(argv))
        ctx.now = ks.clock()
        ctx.effects = None
        before = ks.dirty
        reply = cmd.handler(ctx, list(argv))
        if ks.dirty != before and cmd.flags & WRITE:
            log.extend(ctx.effects or [list(argv)])
        return reply

    def grew(key, added):
        zs = model[key]
        if len(zs) > ENTRIES or any(len(m) > VALUE for m in added):
            big[key] = True

    for step in range(3000):
        key = rng.choice(ZKEYS)
        zs = model.get(key)
        op = rng.randrange(9)
        if op < 3:
            pairs = [(_score(rng), rng.choice(MEMBERS)) for _ in range(rng.randrange(1, 4))]
            flat = [x for p in pairs for x in p]
            added = 0
            if zs is None:
                zs = model[key] = {}
                big[key] = len(pairs[0][1]) > VALUE
            new = []
            for s, m in pairs:
                added += m not in zs
                if m not in zs:
                    new.append(m)
                zs[m] = float(s)
            assert run(b"ZADD", key, *flat) == len(set(new))
            grew(key, new)
        elif op == 3:
            s, m = _score(rng), rng.choice(MEMBERS)
            cur = (zs or {}).get(m, 0.0)
            want = cur + float(s)
            try:
                got = run(b"ZINCRBY", key, s, m)
            except ResponseError as exc:
                assert math.isnan(want) and "NaN" in str(exc)
                continue
            assert got == want or (got == 0 and want == 0)
            if zs is None:
                zs = model[key] = {}
                big[key] = len(m) > VALUE
            new = [m] if m not in zs else []
            zs[m] = want
            grew(key, new)
        elif op == 4:
            victims = rng.sample(MEMBERS, 3)
            want = sum(1 for v in set(victims) if zs and v in zs)
            assert run(b"ZREM", key, *victims) == want
            for v in victims:
                (zs or {}).pop(v, None)
        elif op == 5:
            count = rng.randrange(1, 4)
            top = rng.random() < 0.5
            got = run(b"ZPOPMAX" if top else b"ZPOPMIN", key, b"%d" % count)
            srt = order(zs or {})
            want = (srt[::-1] if top else srt)[:count]
            assert list(got) == want
            for m, _ in want:
                del zs[m]
        elif op == 6:
            a, b = rng.randrange(-4, 4), rng.randrange(-4, 4)
            srt = order(zs or {})
            n = len(srt)
            lo, hi = (a + n if a < 0 else a), (b + n if b < 0 else b)
            lo = max(lo, 0)
            gone = srt[lo:hi + 1] if lo <= hi and lo < n else []
            assert run(b"ZREMRANGEBYRANK", key, b"%d" % a, b"%d" % b) == len(gone)
            for m, _ in gone:
                del zs[m]
        elif op == 7:
            lo = rng.randrange(-5, 5)
            hi = lo + rng.randrange(0, 4)
            gone = [m for m, s in (zs or {}).items() if lo <= s <= hi]
            assert run(b"ZREMRANGEBYSCORE", key, b"%d" % lo, b"%d" % hi) == len(gone)
            for m in gone:
                del zs[m]
        else:
            dst, a, b = rng.choice(ZKEYS), rng.choice(ZKEYS), rng.choice(ZKEYS)
            ma, mb = model.get(a, {}), model.get(b, {})
            union = dict(ma)
            for m, s in mb.items():
                total = union[m] + s if m in union else s
                union[m] = 0.0 if total != total else total
            assert run(b"ZUNIONSTORE", dst, b"2", a, b) == len(union)
            if union:
                small = len(union) <= ENTRIES and all(len(m) <= VALUE for m in union)
                model[dst] = {m: (0.0 if s == 0 and small else s) for m, s in union.items()}
                big[dst] = not small
            else:
                model.pop(dst, None)
        for k in ZKEYS:
            if k in model and not model[k]:
                del model[k]
        # Invariants: same keys and contents; never an empty zset; encodings as Redis's rules.
        db = ks.dbs[0]
        assert sorted(db.data) == sorted(model)
        for k, want in model.items():
            value = db.data[k]
            assert type(value) is ZSet and len(value) == len(want)
            assert list(value.iter_items()) == order(want), k
            assert value.big == big[k], (k, step)
        if step % 300 == 0:
            for value in db.data.values():
                value._check()
    # The write log replays to the same state, scores bit for bit.
    replica = kvstore.open(active_expire=False)
    replica.keyspace.limits.zset_entries, replica.keyspace.limits.zset_value = ENTRIES, VALUE
    for argv in log:
        replica.execute(*argv)
    for k in ZKEYS:
        assert replica.execute("ZRANGE", k, 0, -1, "WITHSCORES") == \
            store.execute("ZRANGE", k, 0, -1, "WITHSCORES")
    store.close()
    replica.close()
