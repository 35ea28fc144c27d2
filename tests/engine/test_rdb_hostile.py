"""RESTORE of hostile payloads: bodies whose CRC is right (forged with `rdb.frame`) but whose bytes
are not. A checksum only proves a payload was not damaged in transit; anyone can compute one, so
the reader is the only line of defence, and it must answer "ERR Bad data format" without running
past the body's end, allocating what a length field merely claims, or accepting an invalid value.

The fuzz starts from valid bodies of every kind (the ones we write, the ones only older Redis
versions write, and real ones from the redis-server oracle), mutates them with a seeded RNG and
requires each outcome to be either a readable key whose DUMP restores to the same value, or that
exact error. The targeted cases then pin each invariant the fuzz is unlikely to hit by chance.
"""

from __future__ import annotations

import random
import struct
import tracemalloc

import pytest

import kvstore
from kvstore.engine import rdb
from kvstore.errors import ResponseError

BAD = "ERR Bad data format"

# Per type, the command that reads a whole value, and how to compare replies (sets and hashes
# come back in iteration order, which a round trip need not keep).
_READ = {
    b"string": (("GET",), lambda r: r),
    b"list": (("LRANGE", 0, -1), lambda r: r),
    b"set": (("SMEMBERS",), sorted),
    b"hash": (("HGETALL",), lambda r: sorted(zip(r[0::2], r[1::2]))),
    b"zset": (("ZRANGE", 0, -1, "WITHSCORES"), lambda r: list(zip(r[0::2], r[1::2]))),
}


@pytest.fixture
def s():
    store = kvstore.open(active_expire=False)
    yield store
    store.close()


def read(s, key) -> tuple:
    kind = s.execute("TYPE", key)
    (cmd, *args), shape = _READ[kind]
    return kind, shape(s.execute(cmd, key, *args))


def restore(s, body: bytes, key: str = "k"):
    """The value a forged payload restores to, or BAD; any other outcome raises."""
    try:
        s.execute("RESTORE", key, 0, rdb.frame(body), "REPLACE")
    except ResponseError as exc:
        assert str(exc) == BAD, f"{body[:64].hex()}: {exc}"
        return BAD
    value = read(s, key)
    # What we accepted we must also be able to write back, and read again unchanged.
    s.execute("RESTORE", "again", 0, s.execute("DUMP", key), "REPLACE")
    assert read(s, "again") == value, body[:64].hex()
    return value


# -- building bodies by hand (independent of rdb.py's writers) ----------------------------------

def rdb_string(b: bytes) -> bytes:
    n = len(b)
    return (bytes((n,)) if n < 64 else bytes((0x40 | n >> 8, n & 0xFF))) + b


def listpack(items: list[bytes], count: int | None = None) -> bytes:
    """A listpack of short strings; `count` may lie about the number of entries."""
    body = b"".join(bytes((0x80 | len(x),)) + x + bytes((1 + len(x),)) for x in items)
    count = len(items) if count is None else count
    return (len(body) + 7).to_bytes(4, "little") + count.to_bytes(2, "little") + body + b"\xff"


def ziplist(items: list) -> bytes:
    """A ziplist (Redis before 7.0) of strings under 16 KB and int8 integers."""
    entries, prev = [], 0
    for item in items:
        if isinstance(item, int):
            enc = bytes((0xF1 + item,)) if 0 <= item <= 12 else b"\xfe" + struct.pack("b", item)
        else:
            n = len(item)
            enc = (bytes((n,)) if n < 64 else struct.pack(">H", 0x4000 | n)) + item
        # The previous entry's length: one byte, or 254 and four bytes.
        entries.append((bytes((prev,)) if prev < 254 else b"\xfe" + struct.pack("<I", prev)) + enc)
        prev = len(entries[-1])
    body = b"".join(entries)
    tail = 10 + len(body) - prev
    return struct.pack("<IIH", 10 + len(body) + 1, tail, len(items)) + body + b"\xff"


def zipmap(pairs: list[tuple[bytes, bytes]], free: int = 0) -> bytes:
    """A zipmap (a small hash before Redis 2.6): each value followed by `free` unused bytes."""
    def length(n: int) -> bytes:
        return bytes((n,)) if n < 254 else b"\xfe" + struct.pack("<I", n)

    body = b"".join(length(len(f)) + f + length(len(v)) + bytes((free,)) + v + b"\0" * free
                    for f, v in pairs)
    return bytes((len(pairs),)) + body + b"\xff"


def intset(width: int, values: list[int]) -> bytes:
    fmt = {2: "h", 4: "i", 8: "q"}[width]
    return struct.pack("<II", width, len(values)) + b"".join(struct.pack("<" + fmt, v)
                                                             for v in values)


def framed(body: bytes, version: int) -> bytes:
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", rdb.crc64(data))


# "ab" * 50 as LZF: a literal "ab", then one back reference of 98 bytes at distance 2.
LZF_AB = b"\x00\xc3\x06\x40\x64" + b"\x01ab\xe0\x59\x01"

# Bodies that Redis reads and writes (or wrote, before 7.0) but we never write, with the value
# each must restore to.
OLD_FORMATS = [
    (LZF_AB, (b"string", b"ab" * 50)),
    (b"\x0d" + rdb_string(ziplist([b"f1", b"v1", b"f2", 7, b"n", -5])),
     (b"hash", [(b"f1", b"v1"), (b"f2", b"7"), (b"n", b"-5")])),
    (b"\x09" + rdb_string(zipmap([(b"f1", b"v1"), (b"big", b"x" * 300), (b"", b"e")], free=2)),
     (b"hash", [(b"", b"e"), (b"big", b"x" * 300), (b"f1", b"v1")])),
    (b"\x0a" + rdb_string(ziplist([b"a", 3, b"bc", 100])),
     (b"list", [b"a", b"3", b"bc", b"100"])),
    (b"\x0c" + rdb_string(ziplist([b"a", b"1.5", b"b", 2])),
     (b"zset", [(b"a", b"1.5"), (b"b", b"2")])),
    (b"\x0e\x02" + rdb_string(ziplist([b"x", 1])) + rdb_string(ziplist([b"y"])),
     (b"list", [b"x", b"1", b"y"])),
    (b"\x0a" + rdb_string(ziplist([b"z" * 300, b"after"])), (b"list", [b"z" * 300, b"after"])),
    # Text scores: a length byte and the digits, or 254 / 255 for +inf / -inf.
    (b"\x03\x04" + rdb_string(b"a") + b"\x031.5" + rdb_string(b"b") + b"\xfe"
     + rdb_string(b"c") + b"\xff" + rdb_string(b"d") + b"\x02-3",
     (b"zset", [(b"c", b"-inf"), (b"d", b"-3"), (b"a", b"1.5"), (b"b", b"inf")])),
    (b"\x12\x02\x01" + rdb_string(b"plain node") + b"\x02" + rdb_string(listpack([b"p", b"q"])),
     (b"list", [b"plain node", b"p", b"q"])),
    (b"\x14" + rdb_string(listpack([b"m", b"n", b"o"])), (b"set", [b"m", b"n", b"o"])),
    (b"\x04\x01" + rdb_string(b"f") + b"\xc0\x05", (b"hash", [(b"f", b"5")])),
    (b"\x0b" + rdb_string(intset(8, [-(1 << 40), 3, 1 << 40])),
     (b"set", [b"-1099511627776", b"1099511627776", b"3"])),
]


def our_bodies(s) -> list[bytes]:
    """What we write for each type and encoding: DUMP payloads without their version and CRC."""
    s.execute("SET", "str", "hello")
    s.execute("SET", "int", "12345")
    s.execute("SET", "neg", "-7")
    s.execute("SET", "int64", "4294967296")  # too wide to be written as an integer
    s.execute("SET", "long", "x" * 100)
    s.execute("HSET", "hash", "f", "v", "n", "42", "e", "")
    s.execute("HSET", "bighash", *[b"f%d" % i for i in range(150) for _ in (0, 1)])
    s.execute("RPUSH", "list", "a", "-3", "300000", "b" * 70)
    s.execute("RPUSH", "biglist", *[b"element:%d" % i for i in range(2000)])
    s.execute("SADD", "intset", "1", "-2", "70000", str(1 << 40))
    s.execute("ZADD", "zset", 1.5, "a", 2, "b", "-inf", "c")
    s.execute("ZADD", "bigzset", *[x for i in range(150) for x in (i / 7, b"m%d" % i)])
    keys = ["str", "int", "neg", "int64", "long", "hash", "bighash", "list", "biglist", "intset",
            "zset", "bigzset"]
    bodies = [s.execute("DUMP", k)[:-10] for k in keys]
    s.execute("FLUSHALL")
    # A big set, as we write it, built here: our set's iteration order changes with the
    # process's hash seed, and the fuzz must mutate the same bytes on every run.
    return bodies + [b"\x02\x40\x96" + b"".join(rdb_string(b"m%d" % i) for i in range(150))]


# -- the mutation fuzz -----------------------------------------------------------------------------

INTERESTING = (0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0x81, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xE0,
               0xF0, 0xF4, 0xF5, 0xFD, 0xFE, 0xFF)


def _pos(rng: random.Random, body: bytes) -> int:
    # Half the time near the start, where the type, counts and container headers are.
    return rng.randrange(min(len(body), 24) if rng.random() < 0.5 else len(body))


def _flip(rng, body):
    i = _pos(rng, body)
    b = rng.choice(INTERESTING) if rng.random() < 0.5 else body[i] ^ 1 << rng.randrange(8)
    return body[:i] + bytes((b,)) + body[i + 1:]


def _truncate(rng, body):
    return body[:rng.randrange(len(body))]


def _insert(rng, body):
    i = _pos(rng, body)
    return body[:i] + rng.randbytes(rng.randint(1, 8)) + body[i:]


def _delete(rng, body):
    i = _pos(rng, body)
    return body[:i] + body[i + rng.randint(1, 8):]


def _huge_length(rng, body):
    """A length byte replaced by a 32- or 64-bit length far past the body's end."""
    i = _pos(rng, body)
    if rng.random() < 0.5:
        head = b"\x80" + rng.randrange(1 << 24, 1 << 32).to_bytes(4, "big")
    else:
        head = b"\x81" + rng.randrange(1 << 32, 1 << 64).to_bytes(8, "big")
    return body[:i] + head + body[i + 1:]


def _duplicate(rng, body):
    i = _pos(rng, body)
    j = min(len(body), i + rng.randint(1, 32))
    return body[:j] + body[i:j] + body[j:]


MUTATIONS = (_flip, _truncate, _insert, _delete, _huge_length, _duplicate)


def fuzz(s, seeds: list[bytes], rounds: int, seed: int) -> tuple[int, int]:
    """(accepted, refused) over `rounds` payloads of one to three stacked mutations."""
    rng = random.Random(seed)
    for body in seeds:  # each seed is valid: the fuzz starts from accepted payloads
        assert restore(s, body) != BAD, body[:64].hex()
    accepted = refused = 0
    for n in range(rounds):
        body = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            if body:
                body = rng.choice(MUTATIONS)(rng, body)
        try:
            outcome = restore(s, body)
        except Exception as exc:
            raise AssertionError(f"round {n} of seed {seed}: {body[:200].hex()}") from exc
        if outcome == BAD:
            refused += 1
        else:
            accepted += 1
    return accepted, refused


def test_fuzz_from_the_bodies_we_write(s):
    accepted, refused = fuzz(s, our_bodies(s), 2500, seed=1)
    assert accepted > 0 and refused > 0, (accepted, refused)


def test_old_formats_restore_to_their_values(s):
    for body, value in OLD_FORMATS:
        assert restore(s, body) == value, body.hex()


def test_fuzz_from_the_formats_only_redis_writes(s):
    accepted, refused = fuzz(s, [body for body, _ in OLD_FORMATS], 2500, seed=2)
    assert accepted > 0 and refused > 0, (accepted, refused)


def test_fuzz_from_real_redis_payloads(s, oracle):
    # With rdbcompression (the default), Redis LZF-compresses every string over 20 bytes it
    # saves: the long string, and each listpack node of the list.
    oracle.execute("SET", "lzf", "abcdefghij" * 10)
    oracle.execute("RPUSH", "list", *[b"item:%d" % i for i in range(500)])
    oracle.execute("HSET", "hash", *[b"field:%d" % i for i in range(20)])
    oracle.execute("ZADD", "zset", *[x for i in range(20) for x in (i / 3, b"m%d" % i)])
    seeds = [oracle.execute("DUMP", k)[:-10] for k in ("lzf", "list", "hash", "zset")]
    assert seeds[0][:2] == b"\x00\xc3"  # really compressed
    accepted, refused = fuzz(s, seeds, 1000, seed=3)
    assert accepted > 0 and refused > 0, (accepted, refused)


# -- targeted cases --------------------------------------------------------------------------------

def lzf_string(compressed: bytes, size: int) -> bytes:
    def length(n):
        return bytes((n,)) if n < 64 else b"\x81" + n.to_bytes(8, "big")

    return b"\x00\xc3" + length(len(compressed)) + length(size) + compressed


LP_AB = listpack([b"a", b"b"])
ZL_AB = ziplist([b"a", b"b"])  # entries at offsets 10 and 13, each 3 bytes long
LP_ONE = struct.pack("<IH", 9, 1)  # the header of a listpack of one two-byte entry
HOSTILE = {
    "empty list": b"\x01\x00",
    "empty set": b"\x02\x00",
    "empty zset": b"\x03\x00",
    "empty hash": b"\x04\x00",
    "empty zset2": b"\x05\x00",
    "empty listpack hash": b"\x10" + rdb_string(listpack([])),
    "empty intset": b"\x0b" + rdb_string(intset(2, [])),
    "empty quicklist": b"\x12\x00",
    "quicklist of an empty listpack": b"\x12\x01\x02" + rdb_string(listpack([])),
    "listpack total bytes one more": b"\x14" + rdb_string(b"\x0e" + LP_AB[1:]),
    "listpack total bytes one less": b"\x14" + rdb_string(b"\x0c" + LP_AB[1:]),
    "listpack count lies": b"\x14" + rdb_string(listpack([b"a", b"b"], count=3)),
    "listpack without terminator": b"\x14" + rdb_string(LP_AB[:-1] + b"\x00"),
    # One entry whose back-length byte is the terminator: the sizes agree, the entries do not.
    "listpack entry over its terminator": b"\x14" + rdb_string(LP_ONE + b"\x81a\xff"),
    "listpack entry encoding 0xF5": b"\x14" + rdb_string(LP_ONE + b"\xf5\x01\xff"),
    "ziplist entry encoding 0x81": b"\x0a" + rdb_string(struct.pack("<IIH", 13, 10, 1)
                                                        + b"\x00\x81\xff"),
    "quicklist container 3": b"\x12\x01\x03" + rdb_string(LP_AB),
    # What Redis's deep check walks (corrupt-dump.tcl's "ziplist prev len" and "#3080" cases):
    # each entry's record of the one before it, the offset of the last entry, back-lengths.
    "ziplist previous length too big": b"\x0a" + rdb_string(ZL_AB[:13] + b"\x04" + ZL_AB[14:]),
    "ziplist previous length too small": b"\x0a" + rdb_string(ZL_AB[:13] + b"\x02" + ZL_AB[14:]),
    "ziplist first previous length": b"\x0a" + rdb_string(ZL_AB[:10] + b"\x01" + ZL_AB[11:]),
    "ziplist tail offset": b"\x0a" + rdb_string(ZL_AB[:4] + struct.pack("<I", 10) + ZL_AB[8:]),
    "listpack back-length lies": b"\x14" + rdb_string(LP_AB[:8] + b"\x03" + LP_AB[9:]),
    "quicklist of an empty ziplist string": b"\x0e\x01\x00",
    "quicklist plain node empty": b"\x12\x01\x01\x00",
    "ziplist hash field twice": b"\x0d" + rdb_string(ziplist([b"a", b"1", b"a", b"2"])),
    "ziplist zset member twice": b"\x0c" + rdb_string(ziplist([b"m", 1, b"m", 2])),
    "listpack zset member twice": b"\x11" + rdb_string(listpack([b"m", b"1", b"m", b"2"])),
    "empty zipmap": b"\x09" + rdb_string(b"\x00\xff"),
    "ziplist total bytes lies": b"\x0a" + rdb_string(b"\x00" + ziplist([b"a"])[1:]),
    "intset not sorted": b"\x0b" + rdb_string(intset(2, [2, 1])),
    "intset duplicate": b"\x0b" + rdb_string(intset(2, [1, 1])),
    "intset width 3": b"\x0b" + rdb_string(struct.pack("<II", 3, 2) + b"\x01\x00\x00\x02\x00\x00"),
    "intset count lies": b"\x0b" + rdb_string(struct.pack("<IIhh", 2, 3, 1, 2)),
    "set member twice": b"\x02\x02" + rdb_string(b"a") + rdb_string(b"a"),
    "listpack set member twice": b"\x14" + rdb_string(listpack([b"a", b"a"])),
    "hash field twice": b"\x04\x02" + rdb_string(b"f") + rdb_string(b"1") + rdb_string(b"f")
                        + rdb_string(b"2"),
    "listpack hash field twice": b"\x10" + rdb_string(listpack([b"f", b"1", b"f", b"2"])),
    "listpack hash odd entries": b"\x10" + rdb_string(listpack([b"f", b"1", b"g"])),
    "zset member twice": b"\x05\x02" + (rdb_string(b"m") + struct.pack("<d", 1.0)) * 2,
    "binary NaN score": b"\x05\x01" + rdb_string(b"m") + struct.pack("<d", float("nan")),
    "text NaN score (253)": b"\x03\x01" + rdb_string(b"m") + b"\xfd",
    "text nan score": b"\x03\x01" + rdb_string(b"m") + b"\x03nan",
    "listpack nan score": b"\x11" + rdb_string(listpack([b"m", b"nan"])),
    **{f"type {t}": bytes((t,)) + b"\x01" + rdb_string(b"a") for t in
       (6, 7, 8, 9, 15, 19, 21, 22, 23, 24, 25, 255)},
    "LZF declaring 2**40 bytes": lzf_string(b"\x01ab", 1 << 40),
    "LZF declaring 256 MB": lzf_string(b"\x01ab\xe0\xff\x01" * 4, 1 << 28),
    "LZF reference before the output": lzf_string(b"\x20\x05", 3),
    "LZF reference one before the output": lzf_string(b"\x00a\x20\x01", 4),
    # Declaring what a reader that clipped the literal would produce.
    "LZF literal past its input": lzf_string(b"\x05ab", 2),
    # 2 MB of output for 2 declared bytes: the reader must stop at the first excess.
    "LZF far longer than declared": lzf_string(b"\x01ab" + b"\xe0\xff\x01" * 8000, 2),
    "LZF longer than declared": lzf_string(b"\x01ab\xe0\x59\x01", 99),
    "string of 2**62 bytes": b"\x00\x81" + (1 << 62).to_bytes(8, "big") + b"abc",
    "set of 2**62 members": b"\x02\x81" + (1 << 62).to_bytes(8, "big") + rdb_string(b"a"),
    "string of 2**32-1 bytes": b"\x00\x80\xff\xff\xff\xff" + b"abc",
    "unknown string encoding": b"\x00\xc4\x00",
    "length byte 0x82": b"\x00\x82abc",
    "encoded length as a count": b"\x01\xc0\x01",
    "nothing after the type": b"\x00",
    "nothing at all": b"",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_body_is_bad_data_format(s, body):
    # Refusing must cost nothing like what a length field claims: the peak is for the whole
    # command, payload copies included.
    tracemalloc.start()
    try:
        with pytest.raises(ResponseError) as exc:
            s.execute("RESTORE", "k", 0, rdb.frame(body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(exc.value) == BAD
    assert peak < 1 << 20, peak
    assert s.execute("EXISTS", "k") == 0


def test_version_and_checksum(s):
    body = b"\x00" + rdb_string(b"v")
    s.execute("RESTORE", "v11", 0, framed(body, 11))  # Redis 7.2's: we read it
    assert s.execute("GET", "v11") == b"v"
    good = framed(body, 10)
    for payload in (framed(body, 12), framed(body, 0xFFFF), good[:-1] + bytes((good[-1] ^ 1,))):
        with pytest.raises(ResponseError) as exc:
            s.execute("RESTORE", "k", 0, payload)
        assert str(exc.value) == "ERR DUMP payload version or checksum are wrong"
    assert s.execute("EXISTS", "k") == 0
