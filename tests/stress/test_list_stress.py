"""Seeded random stress of the list commands against a naive model (a dict of Python lists).

The model is written from the command documentation, independently of the handlers: plain list
slicing and loops, no deque, no index tricks. After every command the touched keys are compared,
and `_check` asserts the keyspace invariants: every list value is a non-empty `List` of bytes,
and every key with a TTL exists. Time moves through a ManualClock, so TTLs expire lazily.
"""

from __future__ import annotations

import random

import pytest

import kvstore
from kvstore.engine import List, ManualClock
from kvstore.errors import ResponseError

ELEMS = [b"a", b"b", b"c", b"1", b"22", b""]
KEYS = [b"k0", b"k1", b"k2", b"k3"]


def _check(store) -> None:
    db = store.keyspace.dbs[0]
    for key, value in db.data.items():
        if type(value) is List:
            assert len(value) > 0, f"empty list left at {key!r}"
            assert all(type(x) is bytes for x in value)
    assert set(db.expires) <= set(db.data)


class Model:
    """Lists as Python lists; expiry as key -> absolute ms."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.lists: dict[bytes, list[bytes]] = {}
        self.expires: dict[bytes, int] = {}

    def get(self, key):
        when = self.expires.get(key)
        if when is not None and when < self.clock.now:
            self.lists.pop(key, None)
            del self.expires[key]
        return self.lists.get(key)

    def drop_if_empty(self, key):
        if key in self.lists and not self.lists[key]:
            del self.lists[key]
            self.expires.pop(key, None)

    @staticmethod
    def span(n, start, end):
        start = start + n if start < 0 else start
        end = end + n if end < 0 else end
        start = max(start, 0)
        end = min(end, n - 1)
        return (start, end) if start <= end else (0, -1)

    def run(self, cmd, *args):  # noqa: C901 - one branch per command, on purpose
        key = args[0]
        lst = self.get(key)
        if cmd in (b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"):
            if lst is None:
                if cmd.endswith(b"X"):
                    return 0
                lst = self.lists[key] = []
            for x in args[1:]:
                if cmd.startswith(b"L"):
                    lst.insert(0, x)
                else:
                    lst.append(x)
            return len(lst)
        if cmd in (b"LPOP", b"RPOP"):
            if lst is None:
                return None
            if len(args) == 1:
                out = lst.pop(0) if cmd == b"LPOP" else lst.pop()
            else:
                out = []
                for _ in range(min(args[1], len(lst))):
                    out.append(lst.pop(0) if cmd == b"LPOP" else lst.pop())
            self.drop_if_empty(key)
            return out
        if cmd == b"LLEN":
            return 0 if lst is None else len(lst)
        if cmd == b"LRANGE":
            if lst is None:
                return []
            s, e = self.span(len(lst), args[1], args[2])
            return lst[s:e + 1]
        if cmd == b"LTRIM":
            if lst is not None:
                s, e = self.span(len(lst), args[1], args[2])
                lst[:] = lst[s:e + 1]
                self.drop_if_empty(key)
            return b"OK"
        if cmd == b"LINDEX":
            if lst is None:
                return None
            i = args[1] + len(lst) if args[1] < 0 else args[1]
            return lst[i] if 0 <= i < len(lst) else None
        if cmd == b"LSET":
            if lst is None:
                raise ResponseError("ERR no such key")
            i = args[1] + len(lst) if args[1] < 0 else args[1]
            if not 0 <= i < len(lst):
                raise ResponseError("ERR index out of range")
            lst[i] = args[2]
            return b"OK"
        if cmd == b"LINSERT":
            if lst is None:
                return 0
            if args[2] not in lst:
                return -1
            i = lst.index(args[2])
            lst.insert(i + (args[1] == b"AFTER"), args[3])
            return len(lst)
        if cmd == b"LREM":
            if lst is None:
                return 0
            n, x = args[1], args[2]
            order = list(range(len(lst))) if n >= 0 else list(range(len(lst) - 1, -1, -1))
            hits = [i for i in order if lst[i] == x]
            if n:
                hits = hits[:abs(n)]
            for i in sorted(hits, reverse=True):
                del lst[i]
            self.drop_if_empty(key)
            return len(hits)
        if cmd == b"LPOS":  # always sent with COUNT: an array, even for a missing key
            if lst is None:
                return []
            rank, count, maxlen = args[2], args[3], args[4]
            order = list(range(len(lst))) if rank > 0 else list(range(len(lst) - 1, -1, -1))
            if maxlen:
                order = order[:maxlen]
            hits = [i for i in order if lst[i] == args[1]][abs(rank) - 1:]
            return hits[:count] if count else hits
        if cmd == b"LMOVE":
            src, dst, wf, wt = args
            if lst is None:
                return None
            x = lst.pop(0) if wf == b"LEFT" else lst.pop()
            dlist = self.get(dst)
            if dlist is None:
                dlist = self.lists[dst] = []
            dlist.insert(0, x) if wt == b"LEFT" else dlist.append(x)
            self.drop_if_empty(src)
            return x
        if cmd == b"LMPOP":
            keys, where, count = args[:-2], args[-2], args[-1]
            for k in keys:
                if self.get(k):
                    return [k, self.run(b"LPOP" if where == b"LEFT" else b"RPOP", k, count)]
            return None
        raise AssertionError(cmd)


def _random_command(rng: random.Random):
    key = rng.choice(KEYS)
    idx = lambda: rng.choice([rng.randint(-12, 12), rng.randint(-300, 300)])  # noqa: E731
    r = rng.random()
    if r < 0.30:
        cmd = rng.choice([b"LPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"])
        return (cmd, key, *rng.choices(ELEMS, k=rng.randint(1, 12)))
    if r < 0.45:
        cmd = rng.choice([b"LPOP", b"RPOP"])
        return (cmd, key) if rng.random() < 0.5 else (cmd, key, rng.randint(1, 8))
    if r < 0.55:
        return (b"LRANGE", key, idx(), idx())
    if r < 0.58:
        return (b"LTRIM", key, idx(), idx())
    if r < 0.63:
        return (b"LINDEX", key, idx())
    if r < 0.67:
        return (b"LSET", key, idx(), rng.choice(ELEMS))
    if r < 0.72:
        return (b"LINSERT", key, rng.choice([b"BEFORE", b"AFTER"]), rng.choice(ELEMS),
                rng.choice(ELEMS))
    if r < 0.77:
        return (b"LREM", key, rng.randint(-3, 3), rng.choice(ELEMS))
    if r < 0.85:
        return (b"LPOS", key, rng.choice(ELEMS), rng.choice([1, 2, 3, -1, -2]),
                rng.randint(0, 3), rng.choice([0, 0, 1, 5, 50]))
    if r < 0.93:
        return (b"LMOVE", key, rng.choice(KEYS), rng.choice([b"LEFT", b"RIGHT"]),
                rng.choice([b"LEFT", b"RIGHT"]))
    if r < 0.99:
        return (b"LMPOP", *rng.sample(KEYS, 2), rng.choice([b"LEFT", b"RIGHT"]),
                rng.randint(1, 6))
    return (b"LLEN", key)


def _to_argv(command):
    cmd, *args = command
    if cmd == b"LPOS":
        key, x, rank, count, maxlen = args
        return [cmd, key, x, b"RANK", rank, b"COUNT", count, b"MAXLEN", maxlen]
    if cmd == b"LMPOP":
        *keys, where, count = args
        return [cmd, len(keys), *keys, where, b"COUNT", count]
    return [cmd, *args]


def _outcome(fn, *args):
    try:
        return fn(*args)
    except ResponseError as exc:
        return ("err", str(exc))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lists_against_model(seed):
    rng = random.Random(seed)
    clock = ManualClock()
    store = kvstore.open(clock=clock, active_expire=False)
    model = Model(clock)
    db = store.keyspace.dbs[0]
    try:
        for step in range(15000):
            if rng.random() < 0.01:
                # A TTL on a live key, then time moves: both sides expire it lazily.
                key = rng.choice(KEYS)
                if model.get(key) is not None and db.lookup(key, clock.now) is not None:
                    when = clock.now + rng.randint(1, 50)
                    model.expires[key] = when
                    db.set_expire(key, when)
                clock.advance(rng.randint(0, 30))
            command = _random_command(rng)
            got = _outcome(store.execute, *_to_argv(command))
            want = _outcome(model.run, *command)
            assert got == want, f"step {step}: {command!r}"
            if step % 50 == 0:
                _check(store)
                for key in KEYS:
                    lst = model.get(key)
                    assert store.execute(b"LRANGE", key, 0, -1) == (lst or []), key
        _check(store)
    finally:
        store.close()
