"""Seeded random stress of the string family.

1. Against a naive model (a dict of bytearrays and absolute expiry times, bits as lists) while a
   ManualClock moves time, checking after every step that the keyspace invariants hold and that
   every key reads back as the model says.
2. Against the real redis-server: random sequences of string commands, replies and errors
   compared (no time moves, so TTL-dependent replies cannot differ).
"""

from __future__ import annotations

import random

import pytest

import kvstore
from kvstore.engine import ManualClock
from kvstore.errors import ResponseError

KEYS = [f"k{i}" for i in range(6)]
INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


class Model:
    """Redis string semantics, written the slow and obvious way."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.data: dict[bytes, bytearray] = {}
        self.expires: dict[bytes, int] = {}

    def live(self, key: bytes) -> bytearray | None:
        when = self.expires.get(key)
        if when is not None and when < self.clock.now:
            del self.data[key], self.expires[key]
        return self.data.get(key)

    def put(self, key: bytes, value: bytes, keep_ttl: bool = False) -> None:
        self.data[key] = bytearray(value)
        if not keep_ttl:
            self.expires.pop(key, None)

    def run(self, args: list) -> object:
        name, key = args[0], args[1]
        value = self.live(key)
        now = self.clock.now
        if name == "SET":  # SET k v [NX|XX] [GET] [EX s | KEEPTTL]
            opts = args[3:]
            old = None if value is None else bytes(value)
            if ("NX" in opts and value is not None) or ("XX" in opts and value is None):
                return old if "GET" in opts else None
            self.put(key, args[2], keep_ttl="KEEPTTL" in opts)
            if "EX" in opts:
                self.expires[key] = now + 1000 * int(opts[opts.index("EX") + 1])
            return old if "GET" in opts else b"OK"
        if name == "GETEX":  # GETEX k [PX ms | PERSIST]
            if value is not None:
                if "PX" in args:
                    self.expires[key] = now + int(args[3])
                elif "PERSIST" in args:
                    self.expires.pop(key, None)
            return None if value is None else bytes(value)
        if name == "GETDEL":
            if value is not None:
                del self.data[key]
                self.expires.pop(key, None)
            return None if value is None else bytes(value)
        if name == "APPEND":
            if value is None:
                self.put(key, args[2])
            else:
                value += args[2]
            return len(self.data[key])
        if name == "SETRANGE":
            offset, patch = args[2], args[3]
            if not patch:
                return 0 if value is None else len(value)
            if value is None:
                self.put(key, b"")
                value = self.data[key]
            if len(value) < offset + len(patch):
                value.extend(bytes(offset + len(patch) - len(value)))
            value[offset : offset + len(patch)] = patch
            return len(value)
        if name == "GETRANGE":
            return self.getrange(value, args[2], args[3])
        if name == "STRLEN":
            return 0 if value is None else len(value)
        if name == "INCRBY":
            try:
                current = 0 if value is None else int(bytes(value))
            except ValueError:
                raise ResponseError("ERR value is not an integer or out of range")
            if value is not None and (b"%d" % current != bytes(value)
                                      or not INT64_MIN <= current <= INT64_MAX):
                raise ResponseError("ERR value is not an integer or out of range")
            new = current + args[2]
            if not INT64_MIN <= new <= INT64_MAX:
                raise ResponseError("ERR increment or decrement would overflow")
            self.put(key, b"%d" % new, keep_ttl=True)
            return new
        if name in ("SETBIT", "GETBIT", "BITCOUNT"):
            return self.bits(name, key, value, args)
        raise AssertionError(name)

    @staticmethod
    def getrange(value, start: int, end: int) -> bytes:
        if value is None:
            return b""
        n = len(value)
        if start < 0 and end < 0 and start > end:
            return b""
        start = max(start + n if start < 0 else start, 0)
        end = min(max(end + n if end < 0 else end, 0), n - 1)
        return bytes(value[start : end + 1]) if start <= end else b""

    def bits(self, name, key, value, args):
        bits = [] if value is None else [(byte >> (7 - i)) & 1 for byte in value for i in range(8)]
        if name == "BITCOUNT":  # BITCOUNT k start end BIT, over the list of bits
            if value is None:
                return 0
            start, end = args[2], args[3]
            n = len(bits)
            if start < 0 and end < 0 and start > end:
                return 0
            start = max(start + n if start < 0 else start, 0)
            end = min(max(end + n if end < 0 else end, 0), n - 1)
            return sum(bits[start : end + 1])
        offset = args[2]
        old = bits[offset] if offset < len(bits) else 0
        if name == "SETBIT":
            if offset >= len(bits):
                bits.extend([0] * ((offset // 8 + 1) * 8 - len(bits)))
            bits[offset] = args[3]
            packed = bytes(
                sum(bit << (7 - i) for i, bit in enumerate(bits[j : j + 8]))
                for j in range(0, len(bits), 8)
            )
            self.put(key, packed, keep_ttl=True)
        return old


def random_command(rng: random.Random) -> list:
    key = rng.choice(KEYS).encode()
    value = rng.choice([b"", b"x", b"hello", b"12", b"-7", b"\x00\xff", b"9223372036854775806"])
    op = rng.randrange(12)
    if op == 0:
        opts = rng.choice([[], ["NX"], ["XX"], ["GET"], ["NX", "GET"], ["XX", "GET"]])
        opts += rng.choice([[], [], ["KEEPTTL"], ["EX", str(rng.randrange(1, 20))]])
        return ["SET", key, value, *opts]
    if op == 1:
        return ["GETEX", key, *rng.choice([[], ["PERSIST"], ["PX", rng.randrange(1, 20_000)]])]
    if op == 2:
        return ["GETDEL", key]
    if op == 3:
        return ["APPEND", key, value]
    if op == 4:
        return ["SETRANGE", key, rng.randrange(12), value]
    if op == 5:
        return ["GETRANGE", key, rng.randrange(-15, 15), rng.randrange(-15, 15)]
    if op == 6:
        return ["STRLEN", key]
    if op == 7:
        return ["INCRBY", key, rng.choice([1, -1, 100, -(1 << 62), 1 << 62, INT64_MAX, INT64_MIN])]
    if op == 8:
        return ["SETBIT", key, rng.randrange(70), rng.randrange(2)]
    if op == 9:
        return ["GETBIT", key, rng.randrange(70)]
    return ["BITCOUNT", key, rng.randrange(-80, 80), rng.randrange(-80, 80), "BIT"]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except ResponseError as exc:
        return ("err", str(exc))


@pytest.mark.parametrize("seed", range(4))
def test_random_operations_match_a_naive_model(seed):
    rng = random.Random(seed)
    clock = ManualClock()
    store = kvstore.open(clock=clock, active_expire=False)  # no thread: deterministic
    model = Model(clock)
    db = store.keyspace.dbs[0]
    for step in range(1500):
        args = random_command(rng)
        want = outcome(model.run, args)
        got = outcome(store.execute, *args)
        assert got == want, f"seed {seed} step {step} {args!r}"
        if rng.random() < 0.2:
            clock.advance(rng.randrange(0, 8_000))
        if rng.random() < 0.05:  # the active cycle must not change what reads see
            store.keyspace.active_expire()
        # Invariants: every TTL belongs to a key; values are bytes; reads agree with the model.
        assert set(db.expires) <= set(db.data)
        assert all(type(v) is bytes for v in db.data.values())
        for key in KEYS:
            k = key.encode()
            live = model.live(k)
            assert db.lookup(k, clock.now) == (None if live is None else bytes(live))
            if live is not None:
                assert db.expires.get(k) == model.expires.get(k)
    store.close()


@pytest.mark.parametrize("seed", range(3))
def test_random_sequences_match_redis(both, seed):
    rng = random.Random(100 + seed)
    for _ in range(600):
        args = random_command(rng)
        if args[0] == "SET" and "EX" in args:
            args[args.index("EX") + 1] = "1000"  # long enough to never expire during the test
        if args[0] == "GETEX" and "PX" in args:
            args[3] = 1_000_000
        both(*args)
    for key in KEYS:
        both("GET", key)
