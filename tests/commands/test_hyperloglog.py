"""HyperLogLog commands against the real redis-server: the bytes of the value after every step
(GET), PFCOUNT's numbers, errors and their texts, dirty counts, encodings, keyspace events and
the redis-py-shaped methods. Corrupt values are SET on both sides and must fail (or not) the
same way, with the same bytes left behind.
"""

from __future__ import annotations

import random
import re

import pytest

from clients import Client
from clients.pipeline import WatchError
from kvstore.engine import hyperloglog as hll

from .helpers import keyevent_streams, same
from .test_strings import Diff

SPARSE_HEADER = b"HYLL\x01\x00\x00\x00" + bytes(7) + b"\x80"  # cached count marked invalid
DENSE_HEADER = b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80"


def xzero(run: int) -> bytes:
    return bytes((0x40 | (run - 1) >> 8, (run - 1) & 0xFF))


def zero(run: int) -> bytes:
    return bytes((run - 1,))


def val(value: int, run: int) -> bytes:
    return bytes((0x80 | (value - 1) << 2 | (run - 1),))


@pytest.fixture
def d(both):
    """`Diff` (replies, errors and dirty deltas), with hll-sparse-max-bytes put back after."""
    yield Diff(both)
    both.oracle.execute("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def same_bytes(d, *keys):
    """Each key's bytes and OBJECT ENCODING agree."""
    for key in keys:
        d.both("GET", key)
        if d.oracle.execute("EXISTS", key):
            d.both("OBJECT", "ENCODING", key)


def elements(start: int, n: int) -> list[bytes]:
    return [b"e:%d" % i for i in range(start, start + n)]


# -- PFADD and PFCOUNT ---------------------------------------------------------------------------


def test_pfadd_replies(d):
    d("PFADD", "h")          # creates an empty HLL: 1
    d("PFADD", "h")          # nothing to add: 0
    d("PFADD", "h", "a", "b")
    d("PFADD", "h", "a", "b")  # no register rises: 0, no change
    d("PFADD", "h", "a", "c", "c")
    same_bytes(d, "h")
    d("PFCOUNT", "h")
    d("PFCOUNT", "h")          # cached: no change the second time
    d("PFCOUNT", "missing")
    same_bytes(d, "h")


def test_growth_from_sparse_to_dense_byte_for_byte(d):
    """0..200000 elements in growing batches: each step's bytes equal Redis's, through the
    sparse encoding, its promotion and the dense one; PFCOUNT at every step."""
    n = 0
    for size in [1, 1, 2, 5, 10, 30, 100, 300, 500, 800, 1200, 2000, 5000, 20000, 70000,
                 100100]:
        d("PFADD", "h", *elements(n, size))
        n += size
        same_bytes(d, "h")
        d("PFCOUNT", "h")
        same_bytes(d, "h")
    assert n > 200000
    assert d.oracle.execute("PFDEBUG", "ENCODING", "h") == b"dense"
    d("PFADD", "h", *elements(0, 1000))  # all seen: no register rises
    d("PFCOUNT", "h")


def test_one_element_per_call_across_promotion(d):
    for i in range(1800):
        d.both("PFADD", "h", b"x%d" % i)
        if i % 97 == 0:
            d("PFCOUNT", "h")
    same_bytes(d, "h")
    d("PFCOUNT", "h")


def test_register_values_above_sparse_range_promote(d):
    """A run of zeros over 32 (1 in 2**32 elements) cannot be a VAL: planted directly."""
    payload = xzero(100) + val(32, 1) + xzero(16283)
    d("SET", "h", SPARSE_HEADER + payload)
    d("PFCOUNT", "h")
    d("PFADD", "h", *elements(0, 50))
    same_bytes(d, "h")


@pytest.mark.parametrize("limit", ["0", "30", "100", "1000", "10000"])
def test_sparse_max_bytes(d, limit):
    d("CONFIG", "SET", "hll-sparse-max-bytes", limit)
    d("CONFIG", "GET", "hll-sparse-max-bytes")
    for start in range(0, 3000, 150):
        d("PFADD", "h", *elements(start, 150))
        same_bytes(d, "h")
    d("PFCOUNT", "h")


def test_count_edge_all_registers_63(d):
    """Every register 63: Redis divides by zero and replies llroundl(inf) as a long long;
    the cache it writes reads as invalid, so each PFCOUNT recomputes and is a change."""
    d("SET", "h", DENSE_HEADER + b"\xff" * (hll.DENSE_SIZE - 16))
    d("PFCOUNT", "h")
    d("PFCOUNT", "h")
    d("PFCOUNT", "h", "missing")
    same_bytes(d, "h")


# -- PFMERGE and PFCOUNT of several keys ---------------------------------------------------------


def test_pfmerge_and_multi_key_pfcount(d):
    rng = random.Random(7)
    d("PFADD", "s1", *elements(0, 40))          # sparse
    d("PFADD", "s2", *elements(30, 60))         # sparse, overlapping
    d("PFADD", "big", *elements(0, 5000))       # dense
    d("PFCOUNT", "s1", "s2")
    d("PFCOUNT", "s1", "big", "missing")
    d("PFMERGE", "m1", "s1", "s2")              # all sparse: stays sparse
    d.both("PFDEBUG", "ENCODING", "m1")
    d("PFMERGE", "m2", "s1", "big")             # a dense input: dense
    d("PFMERGE", "s1", "s2")                    # the target is an input too
    d("PFMERGE", "s2")                          # only the target
    d("PFMERGE", "empty")                       # nothing at all: an empty HLL
    d("PFMERGE", "empty2", "missing")
    for _ in range(20):
        keys = rng.sample(["s1", "s2", "big", "m1", "m2", "missing"], rng.randint(1, 4))
        d("PFMERGE", rng.choice(["m1", "m3", "s2"]), *keys)
        d("PFCOUNT", *keys)
    same_bytes(d, "s1", "s2", "big", "m1", "m2", "m3", "empty", "empty2")


def test_pfmerge_sparse_inputs_past_max_bytes(d):
    d("CONFIG", "SET", "hll-sparse-max-bytes", "200")
    d("PFADD", "a", *elements(0, 40))
    d("PFADD", "b", *elements(1000, 40))
    d("PFMERGE", "m", "a", "b")  # the union does not fit: dense
    d.both("PFDEBUG", "ENCODING", "m")
    same_bytes(d, "m")


def test_pfmerge_keeps_the_target_ttl_and_header(d):
    d("PFADD", "t", "a")
    d("PFCOUNT", "t")  # a valid cached count in the header
    d("PEXPIRE", "t", "100000")
    d("PFADD", "big", *elements(0, 3000))
    d("PFMERGE", "t", "big")
    same_bytes(d, "t")
    assert d.store.execute("PTTL", "t") > 0


# -- types and corrupt values --------------------------------------------------------------------


def test_wrong_types(d):
    d("RPUSH", "list", "a")
    d("SET", "plain", "not an hll")
    d("SET", "int", "12345")
    d("SET", "short", "HYLL")
    d("SET", "badenc", b"HYLL\x02" + bytes(30))
    d("SET", "dense_len", DENSE_HEADER + bytes(100))
    d("PFADD", "good", "x")
    for key in ["list", "plain", "int", "short", "badenc", "dense_len"]:
        d("PFADD", key, "a")
        d("PFCOUNT", key)
        d("PFCOUNT", "good", key)
        d("PFMERGE", key, "good")
        d("PFMERGE", "good", key)
        d("PFDEBUG", "ENCODING", key)
    same_bytes(d, "good")


CORRUPT = {
    "empty payload": b"",
    "short": xzero(16383),
    "exact then zero": xzero(16384) + zero(1),
    "exact then xzero": xzero(16384) + xzero(3),
    "exact then val": xzero(16384) + val(3, 1),
    "val past the end": xzero(16383) + val(3, 2),
    "runs past the end": xzero(16384) + xzero(16384) + val(1, 1) + zero(10),
    "cut xzero, short": xzero(16000) + b"\x41",
    "cut xzero, exact": xzero(16384 - 257) + b"\x41",
    "many xzeros": xzero(16384) * 2000,
    "ok": xzero(100) + val(5, 3) + zero(20) + xzero(16261),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
@pytest.mark.parametrize("cached", [False, True])
def test_corrupt_sparse(d, name, cached):
    header = SPARSE_HEADER if not cached else SPARSE_HEADER[:15] + b"\x00"
    value = header + CORRUPT[name]
    for command in [("PFCOUNT", "h"), ("PFCOUNT", "h", "missing"), ("PFMERGE", "m", "h"),
                    ("PFADD", "h", *elements(0, 20)), ("PFDEBUG", "TODENSE", "h"),
                    ("PFDEBUG", "DECODE", "h"), ("PFDEBUG", "GETREG", "h")]:
        d.both("DEL", "h", "m")
        d.both("SET", "h", value)
        d(*command)
        same_bytes(d, "h", "m")


def test_random_corruption(d):
    """Random bytes over valid values: same replies, same bytes left, never a crash."""
    rng = random.Random(3)
    d("PFADD", "src", *elements(0, 300))
    base = d.oracle.execute("GET", "src")
    for _ in range(150):
        value = bytearray(base)
        for _ in range(rng.randint(1, 3)):
            value[rng.randrange(16, len(value))] = rng.randrange(256)
        if rng.random() < 0.3:
            del value[rng.randrange(16, len(value)):]
        value[15] |= 0x80
        if hll.Sparse(bytes(value)).cut:  # Redis's next edit reads memory past the string
            value.append(0)
        d("SET", "h", bytes(value))
        d(*rng.choice([("PFCOUNT", "h"), ("PFCOUNT", "h", "src"), ("PFMERGE", "h", "src"),
                            ("PFADD", "h", *elements(rng.randrange(1000), 30))]))
        same_bytes(d, "h")


# -- PFDEBUG, flags, events, methods -------------------------------------------------------------


def test_pfdebug(d):
    d("PFADD", "h", *elements(0, 100))
    d("PFDEBUG", "DECODE", "h")
    d("PFDEBUG", "ENCODING", "h")
    d("PFDEBUG", "encoding", "h")
    d("PFDEBUG", "FOO", "h")
    d("PFDEBUG", b"F\xffO\0O", "h")  # (the name quoted up to its NUL, bytes as sent)
    d("PFDEBUG", "ENCODING", "missing")
    d("PFDEBUG", "GETREG", "h")  # turns it dense
    same_bytes(d, "h")
    d("PFDEBUG", "DECODE", "h")
    d("PFDEBUG", "TODENSE", "h")
    d("PFADD", "s", "a")
    d("PFDEBUG", "TODENSE", "s")
    same_bytes(d, "s")


@pytest.mark.parametrize("name", ["PFADD", "PFCOUNT", "PFMERGE", "PFDEBUG", "PFSELFTEST"])
def test_command_info(both, name):
    want = both.oracle.execute("COMMAND", "INFO", name)[0]
    got = both.store.execute("COMMAND", "INFO", name)[0]
    assert got[:7] == want[:7]


def test_keyspace_events(redis_server, oracle, store):
    seq = [("PFADD", "h", "a"), ("PFADD", "h", "a"), ("PFCOUNT", "h"), ("PFMERGE", "m", "h"),
           ("PFDEBUG", "TODENSE", "m")]
    events, want = keyevent_streams(redis_server, oracle, store, "KEA", seq)
    assert [(event, key) for _, event, key in events] == want
    assert {cls for cls, _, _ in events} == {"$"}


def test_pfcount_caching_breaks_a_watch():
    """PFCOUNT that caches the count changes the value: a WATCH on it fails EXEC, as in
    Redis; one that only reads the cache does not."""
    client = Client.from_url("memory://")
    other = client  # its commands use another connection of the pool than the pipeline's
    other.pfadd("h", "a")
    for uncached, fails in ((True, True), (False, False)):
        with client.pipeline() as pipe:
            pipe.watch("h")
            if uncached:
                other.pfcount("h")
            pipe.multi()
            pipe.pfcount("h")
            if fails:
                with pytest.raises(WatchError):
                    pipe.execute()
            else:
                assert pipe.execute() == [1]


def test_methods(pair):
    same(pair, "pfadd", "h", "a", "b", "c")
    same(pair, "pfadd", "h", "a")
    same(pair, "pfadd", "h2", *range(100))
    same(pair, "pfcount", "h")
    same(pair, "pfcount", "h", "h2")
    same(pair, "pfmerge", "m", "h", "h2")
    same(pair, "pfcount", "m")
    same(pair, "get", "m")


# -- PFSELFTEST ----------------------------------------------------------------------------------


def test_pfselftest(d):
    d("PFSELFTEST")  # OK, no change
    d("PFSELFTEST", "extra")
    d("CONFIG", "SET", "hll-sparse-max-bytes", "0")  # promoted at once: sparse never required
    d("PFSELFTEST")
    # Sparse required up to 10000 elements: kvstore only (Redis's then takes a minute).
    d.store.execute("CONFIG", "SET", "hll-sparse-max-bytes", "20000")
    assert d.store.execute("PFSELFTEST") == b"OK"


def _raise_register_1234(fn):
    def broken(value):
        regs = bytearray(fn(value))
        regs[1234] ^= 1
        return bytes(regs)
    return broken


def _dense_set_clobbers_4320(fn):
    def broken(buf, index, count):  # setting register 4321 zeroes its neighbour below
        changed = fn(buf, index, count)
        if index == 4321:
            regs = bytearray(hll.dense_registers(bytes(buf)))
            regs[4320] = 0
            buf[hll.HEADER:] = hll.pack_dense(bytes(regs))
        return changed
    return broken


def _histogram_off_by_one(fn):
    def broken(self):
        hist = fn(self)
        hist[0] -= 1
        hist[1] += 1
        return hist
    return broken


# Each check of the self-test, with a fault planted in what it checks: PFSELFTEST must name it.
FAULTS = {
    "register read back": (
        "dense_registers", _raise_register_1234,
        r"ERR TESTFAILED Register 1234 should be \d+ but is \d+"),
    "register set": (
        "dense_set", _dense_set_clobbers_4320,
        r"ERR TESTFAILED Register 4320 should be [1-9]\d* but is 0"),
    "sparse given up": (
        "Sparse.set", lambda fn: lambda self, index, count, max_bytes: None,
        r"ERR TESTFAILED sparse encoding not used"),
    "sparse count": (
        "Sparse.histogram", _histogram_off_by_one, r"ERR TESTFAILED dense/sparse disagree"),
    "estimate": (
        "estimate", lambda fn: lambda hist: 2 * fn(hist),
        r"ERR TESTFAILED Too big error\. card:10 abserr:\d+"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_pfselftest_finds_planted_faults(store, monkeypatch, name):
    target, wrap, error = FAULTS[name]
    owner = hll
    if "." in target:
        cls, target = target.split(".")
        owner = getattr(hll, cls)
    monkeypatch.setattr(owner, target, wrap(getattr(owner, target)))
    with pytest.raises(Exception) as exc:
        store.execute("PFSELFTEST")
    assert re.fullmatch(error, str(exc.value)), str(exc.value)
