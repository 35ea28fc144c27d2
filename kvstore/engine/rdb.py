"""Redis's RDB object encoding, as DUMP payloads carry it, so payloads move both ways between
Redis and kvstore (DUMP on one, RESTORE on the other; MIGRATE from a Redis into kvstore).

A payload is `type byte + object + RDB version (2 bytes, little endian) + CRC-64 (8 bytes, little
endian)` of everything before the CRC (Redis's `createDumpPayload`).

Writing emits what Redis 7.0 (RDB version 10) writes, byte for byte, for strings, small hashes
and sorted sets (listpacks), intsets, single-node lists and skiplist sorted sets, with one
exception: Redis LZF-compresses strings over 20 bytes, we store them as they are (any RDB reader
takes both). Large hashes and sets come out in our iteration order, which Redis's own order (its
hash table's) could not match anyway.

Reading takes every type Redis 2.6 to 7.2 (RDB version 11) writes for the five value types:
plain lists, sets, hashes and sorted sets, ziplists, listpacks, intsets, quicklists of either,
LZF-compressed and integer-encoded strings, and streams (engine/stream.py reads and writes them,
nodes and consumer groups as Redis does). Modules, zipmaps and hashes with field TTLs are
refused as a bad format. Every read is bounds-checked, so a payload with a forged checksum
can only raise `RdbFormatError`, never run past its end or allocate more than it declares.
"""

from __future__ import annotations

import struct
import sys

from ..numbers import parse_float

RDB_VERSION = 10  # what we write: Redis 7.0's, which every Redis since reads
MAX_RDB_VERSION = 11  # the newest we read: Redis 7.2's (we report 7.2 as our version)

# RDB object types (rdb.h).
T_STRING, T_LIST, T_SET, T_ZSET, T_HASH, T_ZSET_2 = 0, 1, 2, 3, 4, 5
T_HASH_ZIPMAP = 9  # Redis before 2.6: still read, as Redis 7.0 reads it
T_LIST_ZIPLIST, T_SET_INTSET, T_ZSET_ZIPLIST, T_HASH_ZIPLIST, T_LIST_QUICKLIST = 10, 11, 12, 13, 14
T_HASH_LISTPACK, T_ZSET_LISTPACK, T_LIST_QUICKLIST_2, T_SET_LISTPACK = 16, 17, 18, 20
T_STREAM_LISTPACKS, T_STREAM, T_STREAM_LISTPACKS_3 = 15, 19, 21  # T_STREAM: Redis 7.0's

# Largest string a payload may declare (Redis's proto-max-bulk-len default): an LZF header can
# claim any length, and we refuse before decompressing rather than after.
MAX_STRING = 512 * 1024 * 1024
# A quicklist node's listpack bytes at most (Redis's list-max-listpack-size -2).
_NODE_BYTES = 8192
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class RdbFormatError(ValueError):
    """The bytes are not a valid RDB object of a type we hold."""


# -- CRC-64 (Jones polynomial, reflected, as Redis's crc64.c) ---------------------------------

def _crc_tables() -> list[list[int]]:
    """Slicing-by-8 tables: [0] is the byte-at-a-time table, [k] advances a byte by k more."""
    poly = 0x95AC9329AC4BC9B5  # 0xad93d23594c935a9, bit-reflected
    first = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        first.append(crc)
    tables = [first]
    for _ in range(7):
        tables.append([first[c & 0xFF] ^ (c >> 8) for c in tables[-1]])
    return tables


_CRC_TABLES = _crc_tables()
_LITTLE_ENDIAN = sys.byteorder == "little"


def crc64(data: bytes, crc: int = 0) -> int:
    """Redis's crc64(crc, data), eight bytes per step where the machine is little-endian:
    about 0.06 s a megabyte in pure Python (0.1 s a byte at a time)."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _CRC_TABLES
    words = len(data) & ~7 if _LITTLE_ENDIAN else 0
    if words:
        for w in memoryview(data)[:words].cast("Q"):
            crc ^= w
            crc = (t7[crc & 0xFF] ^ t6[(crc >> 8) & 0xFF] ^ t5[(crc >> 16) & 0xFF]
                   ^ t4[(crc >> 24) & 0xFF] ^ t3[(crc >> 32) & 0xFF] ^ t2[(crc >> 40) & 0xFF]
                   ^ t1[(crc >> 48) & 0xFF] ^ t0[crc >> 56])
    for b in data[words:]:
        crc = t0[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def frame(body: bytes) -> bytes:
    """A DUMP payload: the object, the RDB version, the CRC."""
    data = body + struct.pack("<H", RDB_VERSION)
    return data + struct.pack("<Q", crc64(data))


def unframe(payload: bytes, check_crc: bool = True) -> bytes | None:
    """The object of a payload whose version we read and whose CRC is right (unless not
    `check_crc`: DEBUG SET-SKIP-CHECKSUM-VALIDATION); else None (Redis's `verifyDumpPayload`)."""
    if len(payload) < 10:
        return None
    version = payload[-10] | payload[-9] << 8
    if version > MAX_RDB_VERSION:
        return None
    if check_crc and crc64(payload[:-8]) != int.from_bytes(payload[-8:], "little"):
        return None
    return payload[:-10]


# -- writing ----------------------------------------------------------------------------------

def _canonical_int(s: bytes) -> int | None:
    """The integer a string spells exactly as Redis prints it ("12", "-7"; not "+1", "007",
    "-0", " 1"), within int64; else None. Redis's string2ll plus its round-trip check."""
    if not 0 < len(s) <= 20 or s[0] not in b"-0123456789":
        return None
    try:
        n = int(s)
    except ValueError:
        return None
    if b"%d" % n != s or not _INT64_MIN <= n <= _INT64_MAX:
        return None
    return n


def _length(n: int) -> bytes:
    if n < 64:
        return bytes((n,))
    if n < 16384:
        return bytes((0x40 | n >> 8, n & 0xFF))
    if n <= 0xFFFFFFFF:
        return b"\x80" + n.to_bytes(4, "big")
    return b"\x81" + n.to_bytes(8, "big")


def _string(s: bytes) -> bytes:
    """Redis's rdbSaveRawString without LZF: short integers in 1, 2 or 4 bytes."""
    if len(s) <= 11:
        n = _canonical_int(s)
        if n is not None:
            if -128 <= n <= 127:
                return b"\xc0" + n.to_bytes(1, "little", signed=True)
            if -32768 <= n <= 32767:
                return b"\xc1" + n.to_bytes(2, "little", signed=True)
            if -(1 << 31) <= n < 1 << 31:
                return b"\xc2" + n.to_bytes(4, "little", signed=True)
    return _length(len(s)) + s


def _lp_entry(s: bytes) -> bytes:
    """One listpack entry (encoding, data, back-length): integers as integers, as lpAppend."""
    n = _canonical_int(s)
    if n is None:
        size = len(s)
        if size < 64:
            head = bytes((0x80 | size,))
        elif size < 4096:
            head = bytes((0xE0 | size >> 8, size & 0xFF))
        else:
            head = b"\xf0" + size.to_bytes(4, "little")
        entry = head + s
    elif 0 <= n <= 127:
        entry = bytes((n,))
    elif -4096 <= n <= 4095:
        n &= 0x1FFF
        entry = bytes((0xC0 | n >> 8, n & 0xFF))
    elif -32768 <= n <= 32767:
        entry = b"\xf1" + n.to_bytes(2, "little", signed=True)
    elif -(1 << 23) <= n < 1 << 23:
        entry = b"\xf2" + n.to_bytes(3, "little", signed=True)
    elif -(1 << 31) <= n < 1 << 31:
        entry = b"\xf3" + n.to_bytes(4, "little", signed=True)
    else:
        entry = b"\xf4" + n.to_bytes(8, "little", signed=True)
    return entry + _backlen(len(entry))


def _backlen(size: int) -> bytes:
    """An entry's length, written so that it reads backwards from the entry's end: most
    significant 7 bits first, every byte after the first flagged (lpEncodeBacklen)."""
    if size <= 127:
        return bytes((size,))
    n = _backlen_bytes(size)
    return bytes((size >> 7 * (n - 1 - i)) & 127 | (128 if i else 0) for i in range(n))


def _backlen_bytes(size: int) -> int:
    return 1 if size <= 127 else 2 if size < 16383 else 3 if size < 2097151 \
        else 4 if size < 268435455 else 5


def _listpack(entries: list[bytes], count: int) -> bytes:
    body = b"".join(entries)
    return (len(body) + 7).to_bytes(4, "little") + min(count, 65535).to_bytes(2, "little") \
        + body + b"\xff"


def _score_text(score: float) -> bytes:
    """A score as a listpack holds it: Redis 7.0's d2string (an integral score as an integer,
    -0 as 0, else %.17g)."""
    if score != score:
        raise ValueError("NaN score")
    if score == 0:
        return b"0"
    if -4503599627370495 < score < 4503599627370496 and score == int(score):
        return b"%d" % int(score)
    if score in (float("inf"), float("-inf")):
        return b"inf" if score > 0 else b"-inf"
    return b"%.17g" % score


def dump_string(value: bytes) -> bytes:
    return bytes((T_STRING,)) + _string(value)


def dump_list(items) -> bytes:
    """Listpack nodes filled as Redis's RPUSH fills them (quicklist's
    _quicklistNodeAllowInsert at list-max-listpack-size -2), so a list built by appending
    dumps as Redis dumps it."""
    nodes = []
    entries: list[bytes] = []
    size = 7  # an empty listpack: header and terminator
    for item in items:
        if entries and size + len(item) + 8 > _NODE_BYTES:  # (8: Redis's estimate of overhead)
            nodes.append(_listpack(entries, len(entries)))
            entries, size = [], 7
        entry = _lp_entry(item)
        entries.append(entry)
        size += len(entry)
    if entries:
        nodes.append(_listpack(entries, len(entries)))
    out = [bytes((T_LIST_QUICKLIST_2,)), _length(len(nodes))]
    for node in nodes:
        out.append(b"\x02")  # a packed (listpack) node
        out.append(_string(node))
    return b"".join(out)


def dump_intset(members) -> bytes:
    """An intset, or a plain set if a member is not an integer after all."""
    ints = [_canonical_int(m) for m in members]
    if None in ints:
        return dump_set(members)
    ints.sort()
    width = 2
    if ints and (ints[0] < -32768 or ints[-1] > 32767):
        width = 4 if -(1 << 31) <= ints[0] and ints[-1] < 1 << 31 else 8
    blob = width.to_bytes(4, "little") + len(ints).to_bytes(4, "little") + b"".join(
        n.to_bytes(width, "little", signed=True) for n in ints)
    return bytes((T_SET_INTSET,)) + _string(blob)


def dump_set(members) -> bytes:
    members = list(members)
    return bytes((T_SET,)) + _length(len(members)) + b"".join(map(_string, members))


def dump_hash(pairs, small: bool) -> bytes:
    pairs = list(pairs)
    if small:
        entries = [_lp_entry(x) for pair in pairs for x in pair]
        return bytes((T_HASH_LISTPACK,)) + _string(_listpack(entries, len(entries)))
    out = [bytes((T_HASH,)), _length(len(pairs))]
    for field, value in pairs:
        out.append(_string(field))
        out.append(_string(value))
    return b"".join(out)


def dump_zset(items: list, small: bool) -> bytes:
    """`items`: (member, score) in rank order."""
    if small:
        entries = []
        for member, score in items:
            entries.append(_lp_entry(member))
            entries.append(_lp_entry(_score_text(score)))
        return bytes((T_ZSET_LISTPACK,)) + _string(_listpack(entries, len(entries)))
    # Highest first, as Redis saves a skiplist (its loader then inserts at the head).
    out = [bytes((T_ZSET_2,)), _length(len(items))]
    for member, score in reversed(items):
        out.append(_string(member))
        out.append(struct.pack("<d", score))
    return b"".join(out)


# The string and length encodings, for the RDB file writer (dump.write_rdb).
rdb_string = _string
rdb_length = _length


# -- reading ----------------------------------------------------------------------------------

class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise RdbFormatError("truncated")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise RdbFormatError("truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def length(self) -> tuple[int, bool]:
        """(length, False), or (special encoding, True) for an encoded string."""
        b = self.byte()
        kind = b >> 6
        if kind == 0:
            return b & 0x3F, False
        if kind == 1:
            return (b & 0x3F) << 8 | self.byte(), False
        if kind == 3:
            return b & 0x3F, True
        if b == 0x80:
            return int.from_bytes(self.take(4), "big"), False
        if b == 0x81:
            return int.from_bytes(self.take(8), "big"), False
        raise RdbFormatError("bad length")

    def count(self) -> int:
        n, encoded = self.length()
        if encoded:
            raise RdbFormatError("encoded count")
        return n

    def string(self) -> bytes:
        n, encoded = self.length()
        if not encoded:
            return self.take(n)
        if n == 0:
            return b"%d" % int.from_bytes(self.take(1), "little", signed=True)
        if n == 1:
            return b"%d" % int.from_bytes(self.take(2), "little", signed=True)
        if n == 2:
            return b"%d" % int.from_bytes(self.take(4), "little", signed=True)
        if n == 3:
            compressed = self.count()
            size = self.count()
            if size > MAX_STRING:
                raise RdbFormatError("string too long")
            return lzf_decompress(self.take(compressed), size)
        raise RdbFormatError("unknown string encoding")

    def text_double(self) -> float:
        """An old-style (RDB_TYPE_ZSET) score: a length byte, then text; 253-255 are NaN and
        the infinities."""
        n = self.byte()
        if n == 253:
            raise RdbFormatError("NaN score")
        if n == 254:
            return float("inf")
        if n == 255:
            return float("-inf")
        return _parse_score(self.take(n))

    def binary_double(self) -> float:
        score = struct.unpack("<d", self.take(8))[0]
        if score != score:
            raise RdbFormatError("NaN score")
        return score


def _parse_score(text: bytes) -> float:
    """A score written as text, in strtod's syntax (Python's float() also takes "1_5" and
    spaces, which no Redis writes)."""
    try:
        return parse_float(text)
    except ValueError:
        raise RdbFormatError("bad score") from None


def lzf_decompress(data: bytes, size: int) -> bytes:
    """liblzf's lzf_decompress; `size` is the length the header declares, which the output must
    reach exactly."""
    out = bytearray()
    i, end = 0, len(data)
    while i < end:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # a literal run of ctrl + 1 bytes
            run = ctrl + 1
            if i + run > end:
                raise RdbFormatError("lzf literal past the input")
            out += data[i:i + run]
            i += run
        else:  # a back reference
            run = ctrl >> 5
            if run == 7:
                if i >= end:
                    raise RdbFormatError("lzf truncated")
                run += data[i]
                i += 1
            if i >= end:
                raise RdbFormatError("lzf truncated")
            ref = len(out) - ((ctrl & 0x1F) << 8) - 1 - data[i]
            i += 1
            run += 2
            if ref < 0:
                raise RdbFormatError("lzf reference before the output")
            if ref + run <= len(out):
                out += out[ref:ref + run]
            else:  # overlapping: the run repeats the bytes it copies
                for k in range(run):
                    out.append(out[ref + k])
        if len(out) > size:
            raise RdbFormatError("lzf output longer than declared")
    if len(out) != size:
        raise RdbFormatError("lzf output shorter than declared")
    return bytes(out)


def _packed(blob: bytes, header: int) -> tuple[_Reader, int]:
    """A reader at the first entry of a listpack (6-byte header) or ziplist (10), after checking
    the total size the header declares and the 0xFF terminator; and the terminator's position."""
    if len(blob) <= header or int.from_bytes(blob[:4], "little") != len(blob) \
            or blob[-1] != 0xFF:
        raise RdbFormatError("bad listpack or ziplist header")
    r = _Reader(blob)
    r.pos = header
    return r, len(blob) - 1


def _check_count(blob: bytes, header: int, r: _Reader, items: list) -> None:
    """The entries must end at the terminator and match the header's count (the header's last
    two bytes; 65535 means "count them")."""
    declared = blob[header - 2] | blob[header - 1] << 8
    if r.pos != len(blob) - 1 or (declared != 65535 and declared != len(items)):
        raise RdbFormatError("listpack or ziplist count or size mismatch")


def listpack_items(blob: bytes) -> list[bytes]:
    """The entries of a listpack, integers as their decimal text."""
    r, end = _packed(blob, 6)
    items: list[bytes] = []
    append = items.append
    while r.pos < end:
        start = r.pos
        b = r.byte()
        if b < 0x80:
            append(b"%d" % b)
        elif b < 0xC0:
            append(r.take(b & 0x3F))
        elif b < 0xE0:
            n = (b & 0x1F) << 8 | r.byte()
            append(b"%d" % (n - 8192 if n >= 4096 else n))
        elif b < 0xF0:
            append(r.take((b & 0x0F) << 8 | r.byte()))
        elif b == 0xF0:
            append(r.take(int.from_bytes(r.take(4), "little")))
        elif 0xF1 <= b <= 0xF4:
            width = (2, 3, 4, 8)[b - 0xF1]
            append(b"%d" % int.from_bytes(r.take(width), "little", signed=True))
        else:
            raise RdbFormatError("bad listpack entry")
        size = r.pos - start
        if r.take(_backlen_bytes(size)) != _backlen(size):
            raise RdbFormatError("bad listpack entry length")
    _check_count(blob, 6, r, items)
    return items


def ziplist_items(blob: bytes) -> list[bytes]:
    """The entries of a ziplist (Redis before 7.0), integers as their decimal text."""
    r, end = _packed(blob, 10)
    items: list[bytes] = []
    append = items.append
    previous = 0  # the length of the entry before (0 before the first)
    start = 10
    while r.pos < end:
        start = r.pos
        prevlen = r.byte()  # the previous entry's length: 1 byte, or 254 and 4 bytes
        if prevlen == 254:
            prevlen = int.from_bytes(r.take(4), "little")
        if prevlen != previous:  # (what Redis's deep check compares, walking backwards)
            raise RdbFormatError("bad ziplist previous entry length")
        b = r.byte()
        kind = b >> 6
        if kind == 0:
            append(r.take(b & 0x3F))
        elif kind == 1:
            append(r.take((b & 0x3F) << 8 | r.byte()))
        elif b == 0x80:
            append(r.take(int.from_bytes(r.take(4), "big")))
        elif b in _ZIPLIST_INTS:
            append(b"%d" % int.from_bytes(r.take(_ZIPLIST_INTS[b]), "little", signed=True))
        elif 0xF1 <= b <= 0xFD:
            append(b"%d" % ((b & 0x0F) - 1))
        else:
            raise RdbFormatError("bad ziplist entry")
        previous = r.pos - start
    # zltail: the offset of the last entry (of the terminator's place when empty)
    if int.from_bytes(blob[4:8], "little") != (start if items else 10):
        raise RdbFormatError("bad ziplist tail offset")
    _check_count(blob, 10, r, items)
    return items


_ZIPLIST_INTS = {0xC0: 2, 0xD0: 4, 0xE0: 8, 0xF0: 3, 0xFE: 1}


def zipmap_items(blob: bytes) -> list[bytes]:
    """The fields and values of a zipmap (a small hash before Redis 2.6): a count byte, then
    <len>field<len><free>value<free bytes> pairs up to 0xFF; a length is one byte under 254,
    or 254 and 4 bytes (little-endian)."""
    r = _Reader(blob)
    r.byte()  # (the count: 254 and over means "count them")
    items: list[bytes] = []

    def length(b: int) -> int:
        if b == 254:
            return int.from_bytes(r.take(4), "little")
        return b

    while True:
        b = r.byte()
        if b == 0xFF:
            break
        field = r.take(length(b))
        b = r.byte()
        if b == 0xFF:
            raise RdbFormatError("bad zipmap entry")
        size = length(b)
        free = r.byte()
        items.append(field)
        items.append(r.take(size))
        r.take(free)
    if r.pos != len(blob) or not items:  # (Redis's validation refuses an empty zipmap)
        raise RdbFormatError("bad zipmap end")
    return items


def intset_items(blob: bytes) -> list[bytes]:
    if len(blob) < 8:
        raise RdbFormatError("bad intset header")
    width = int.from_bytes(blob[:4], "little")
    count = int.from_bytes(blob[4:8], "little")
    if width not in (2, 4, 8) or len(blob) != 8 + width * count:
        raise RdbFormatError("bad intset size")
    ints = [int.from_bytes(blob[i:i + width], "little", signed=True)
            for i in range(8, len(blob), width)]
    if any(a >= b for a, b in zip(ints, ints[1:])):
        raise RdbFormatError("intset not sorted")
    return [b"%d" % n for n in ints]


def load(body: bytes) -> tuple[str, object]:
    """(kind, data) of an RDB object: ("string", bytes), ("list", [items]), ("set", [members]),
    ("hash", [field, value, ...]), ("zset", [member, score, ...]) with float scores. Bytes after
    the object are ignored, as Redis's RESTORE ignores them."""
    r = _Reader(body)
    return _object(r, r.byte())


def _object(r: _Reader, t: int) -> tuple[str, object]:
    """`load` from the reader's position, for an object of type `t` (already read)."""
    if t == T_STRING:
        return "string", r.string()
    if t == T_LIST or t == T_SET:
        return ("list" if t == T_LIST else "set"), [r.string() for _ in range(r.count())]
    if t == T_HASH:
        return "hash", [r.string() for _ in range(2 * r.count())]
    if t == T_ZSET or t == T_ZSET_2:
        flat: list = []
        read_score = r.text_double if t == T_ZSET else r.binary_double
        for _ in range(r.count()):
            flat.append(r.string())
            flat.append(read_score())
        return "zset", flat
    if t == T_SET_INTSET:
        return "set", _checked(intset_items, r.string(), "Intset")
    if t == T_SET_LISTPACK:
        return "set", _checked(listpack_items, r.string(), "Set listpack")
    if t == T_LIST_ZIPLIST:
        return "list", _checked(ziplist_items, r.string(), "List ziplist")
    if t == T_HASH_ZIPMAP:
        return "hash", _checked(zipmap_items, r.string(), "Zipmap")
    if t == T_HASH_ZIPLIST or t == T_HASH_LISTPACK:
        if t == T_HASH_ZIPLIST:
            return "hash", _checked(ziplist_items, r.string(), "Hash ziplist", pairs=True)
        return "hash", _checked(listpack_items, r.string(), "Hash listpack", pairs=True)
    if t == T_ZSET_ZIPLIST or t == T_ZSET_LISTPACK:
        if t == T_ZSET_ZIPLIST:
            flat = _checked(ziplist_items, r.string(), "Zset ziplist", pairs=True)
        else:
            flat = _checked(listpack_items, r.string(), "Zset listpack", pairs=True)
        flat[1::2] = [_parse_score(s) for s in flat[1::2]]
        return "zset", flat
    if t == T_LIST_QUICKLIST or t == T_LIST_QUICKLIST_2:
        items = []
        for _ in range(r.count()):
            container = 2 if t == T_LIST_QUICKLIST else r.count()
            if container not in (1, 2):
                raise RdbFormatError("Quicklist integrity check failed.")
            node = r.string()
            if not node:  # (no node, even a plain one, is empty)
                raise RdbFormatError("Quicklist integrity check failed.")
            if container == 1:  # a plain node: one large element
                items.append(node)
            elif t == T_LIST_QUICKLIST:
                items += _checked(ziplist_items, node, "Ziplist")
            else:
                # (a node without entries is skipped, as Redis does; an empty list is refused)
                items += _checked(listpack_items, node, "Listpack")
        return "list", items
    if t in (T_STREAM_LISTPACKS, T_STREAM, T_STREAM_LISTPACKS_3):
        from .stream import from_rdb  # (engine.stream builds on this module)

        return "stream", from_rdb(r, t)
    raise RdbFormatError(f"Unknown RDB encoding type {t}")


def _checked(read, blob: bytes, what: str, pairs: bool = False) -> list:
    """`read(blob)`, any fault of the blob reported as Redis's loader reports it ("<what>
    integrity check failed."), an odd count or a repeated field too where entries go in
    pairs."""
    try:
        items = read(blob)
    except RdbFormatError:
        raise RdbFormatError(f"{what} integrity check failed.") from None
    # (in pairs, the fields or members must differ too: Redis's validation with dup checks)
    if pairs and (len(items) % 2 or 2 * len(set(items[0::2])) != len(items)):
        raise RdbFormatError(f"{what} integrity check failed.")
    return items


# RDB file opcodes (rdb.h).
_OP_FUNCTION2, _OP_MODULE_AUX, _OP_IDLE, _OP_FREQ = 0xF5, 0xF7, 0xF8, 0xF9
_OP_AUX, _OP_RESIZEDB, _OP_EXPIRETIME_MS, _OP_EXPIRETIME, _OP_SELECTDB, _OP_EOF = (
    0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF)


def read_file(data: bytes, progress=None):
    """The records of a whole RDB file (what a master sends a replica, or a dump.rdb), in
    order: ("function", library code), ("key", db, key, kind, data, expire ms or None) with
    kind and data as `load` gives them. Checks the header, the version and the CRC-64 (a zero
    CRC means the writer had rdbchecksum off). Raises RdbFormatError; nothing is yielded after
    an error is found, but records before it may have been. `progress` (persistence.progress)
    is told the bytes read, and steps, every 1,024 keys (each key when paced)."""
    if len(data) < 9 + 1 or data[:5] != b"REDIS" or not data[5:9].isdigit():
        raise RdbFormatError("not an RDB file")
    version = int(data[5:9])
    if not 1 <= version <= MAX_RDB_VERSION:
        raise RdbFormatError(f"can't handle RDB format version {version}")
    r = _Reader(data)
    r.pos = 9
    db = 0
    expire: int | None = None
    every = countdown = 1 if progress is not None and progress.paced else 1024
    while True:
        op = r.byte()
        if op == _OP_EOF:
            break
        if op == _OP_SELECTDB:
            db = r.count()
        elif op == _OP_RESIZEDB:
            r.count()
            r.count()
        elif op == _OP_AUX:
            yield ("aux", r.string(), r.string())
        elif op == _OP_EXPIRETIME_MS:
            expire = int.from_bytes(r.take(8), "little", signed=True)
        elif op == _OP_EXPIRETIME:
            expire = int.from_bytes(r.take(4), "little", signed=True) * 1000
        elif op == _OP_FREQ:
            r.byte()
        elif op == _OP_IDLE:
            r.count()
        elif op == _OP_FUNCTION2:
            yield ("function", r.string())
        elif op == _OP_MODULE_AUX:
            raise RdbFormatError("module data is not supported")
        else:
            key = r.string()
            kind, value = _object(r, op)
            yield ("key", db, key, kind, value, expire)
            expire = None
            if progress is not None:
                countdown -= 1
                if not countdown:
                    countdown = every
                    progress.loaded = r.pos
                    progress.step()
    if version >= 5:
        end = r.pos
        stored = int.from_bytes(r.take(8), "little")
        if stored and stored != _file_crc(data, end, progress):
            raise RdbFormatError("wrong RDB checksum")


def _file_crc(data: bytes, end: int, progress) -> int:
    """crc64 of data[:end], a quarter megabyte at a time with a `progress` step after each
    (15 ms each, a second for 16 MB: the clients of a replica loading its master's file are
    served meanwhile)."""
    view = memoryview(data)
    crc = 0
    for start in range(0, end, 1 << 18):
        crc = crc64(view[start:min(end, start + (1 << 18))], crc)
        if progress is not None:
            progress.step()
    return crc
