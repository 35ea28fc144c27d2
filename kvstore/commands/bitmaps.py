"""Bit commands on string values (Redis `bitops.c`): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP.
(BITFIELD and BITFIELD_RO are in `bitfield.py`.)

A bitmap is an ordinary string value: bit 0 is the most significant bit of byte 0, as in Redis.
Strings are immutable `bytes` here, so SETBIT rebuilds the value (O(N) in its length; Redis is
O(1)) and stores it with `db.data[key] = new`, which keeps the TTL. Counting uses
`int.from_bytes(...).bit_count()`, which runs in C at memory speed; BITPOS and BITOP work on
the same big-int view of the bytes (bit_length, &, |, ^), so a 64 MB bitmap never meets a
Python-level loop.

Offsets are limited as Redis limits them: a bit offset must address a byte below
proto-max-bulk-len (512 MB), i.e. be below 2**32.
"""

from __future__ import annotations

from ..errors import SYNTAX, CommandError, wrongtype
from ..numbers import parse_int
from .args import to_int
from .strings import KEY1, PROTO_MAX_BULK_LEN, get_string
from .table import DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command

BIT_OFFSET_ERROR = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERROR = "ERR bit is not an integer or out of range"


def bit_offset(arg: bytes, field_bits: int = 0) -> int:
    """Redis `getBitOffsetFromArgument`: 0 <= offset < proto-max-bulk-len * 8. With
    `field_bits` (BITFIELD), "#N" is N fields of that many bits; the product wraps at 64 bits
    as Redis's `long long` does, so a huge N may land on a small offset."""
    usehash = field_bits and arg[:1] == b"#"
    try:
        offset = parse_int(arg[1:] if usehash else arg)
    except ValueError:
        raise CommandError(BIT_OFFSET_ERROR) from None
    if usehash:
        offset = ((offset * field_bits + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63)
    if offset < 0 or (offset >> 3) >= PROTO_MAX_BULK_LEN:
        raise CommandError(BIT_OFFSET_ERROR)
    return offset


@command("setbit", 4, WRITE | DENYOOM, KEY1, "bitmap")
def setbit(ctx: Context, argv: list[bytes]):
    """SETBIT key offset value

    Complexity: O(N) here (Redis O(1)). Reply: the bit's previous value. Grows the string with
    zero bytes as needed. Only a change (of the bit or of the length) counts as a write.
    """
    offset = bit_offset(argv[2])
    on = to_int(argv[3], BIT_VALUE_ERROR)
    if on & ~1:
        raise CommandError(BIT_VALUE_ERROR)
    key = argv[1]
    db = ctx.db
    old = db.lookup(key, ctx.now)
    if old is not None and type(old) is not bytes:
        raise wrongtype()
    byte = offset >> 3
    shift = 7 - (offset & 7)
    if old is not None and byte < len(old):
        current = old[byte]
        bitval = (current >> shift) & 1
        if bitval == on:
            db.mark_encoding(key, old, b"raw")  # Redis unshares the string all the same
            return bitval  # nothing changes: not dirty, as in Redis 7
        new = old[:byte] + bytes((current ^ (1 << shift),)) + old[byte + 1:]
    else:
        bitval = 0
        prefix = old or b""
        new = prefix + bytes(byte - len(prefix)) + bytes((on << shift,))
    if old is None:
        db.add(key, new)
    else:
        db.data[key] = new  # keeps the TTL of an existing key
    db.mark_encoding(key, new, b"raw")
    ctx.ks.dirty += 1
    ctx.notify("$", "setbit", key)
    return bitval


@command("getbit", 3, READONLY | FAST, KEY1, "bitmap")
def getbit(ctx: Context, argv: list[bytes]):
    """GETBIT key offset

    Complexity: O(1). Reply: the bit at offset; 0 past the end or for a missing key.
    """
    offset = bit_offset(argv[2])
    value = get_string(ctx, argv[1])
    byte = offset >> 3
    if value is None or byte >= len(value):
        return 0
    return (value[byte] >> (7 - (offset & 7))) & 1


def _clip(start: int, end: int, total: int) -> tuple[int, int]:
    """BITCOUNT's and BITPOS's range over `total` bytes or bits: negative indexes count from
    the end (clipped at 0), and the end is clipped to the last one."""
    if start < 0:
        start = max(start + total, 0)
    if end < 0:
        end = max(end + total, 0)
    return start, min(end, total - 1)


@command("bitcount", -2, READONLY, KEY1, "bitmap")
def bitcount(ctx: Context, argv: list[bytes]):
    """BITCOUNT key [start end [BYTE | BIT]]

    Complexity: O(N). Reply: the number of set bits in the range (inclusive, negative indexes
    count from the end; in bytes unless BIT). A missing key counts 0 before any argument check.
    """
    value = get_string(ctx, argv[1])
    if value is None:
        return 0
    argc = len(argv)
    if argc == 2:
        return int.from_bytes(value, "big").bit_count()
    if argc != 4 and argc != 5:
        raise CommandError(SYNTAX)
    start = to_int(argv[2])
    end = to_int(argv[3])
    if start < 0 and end < 0 and start > end:  # Redis answers this before reading the unit
        return 0
    is_bit = False
    if argc == 5:
        unit = argv[4].lower()
        if unit == b"bit":
            is_bit = True
        elif unit != b"byte":
            raise CommandError(SYNTAX)
    start, end = _clip(start, end, len(value) * 8 if is_bit else len(value))
    if start > end:
        return 0
    if not is_bit:
        return int.from_bytes(value[start : end + 1], "big").bit_count()
    first, last = start >> 3, end >> 3
    bits = int.from_bytes(value[first : last + 1], "big")
    width = (last - first + 1) * 8
    bits &= (1 << (width - (start & 7))) - 1  # drop the bits before `start` in its byte
    bits >>= 7 - (end & 7)                      # and those after `end` in its byte
    return bits.bit_count()


@command("bitpos", -3, READONLY, KEY1, "bitmap")
def bitpos(ctx: Context, argv: list[bytes]):
    """BITPOS key bit [start [end [BYTE | BIT]]]

    Complexity: O(N). Reply: the position (in bits from the start of the string) of the first
    bit equal to `bit` in the range, or -1. Redis's answers for "not found": a missing key is
    endless zeros (0 for bit 0, -1 for bit 1); an empty range is -1; a range of all 1s searched
    for a 0 is -1 if `end` was given, else the first bit past the range's last byte (the string
    reads as zero-padded to the right).
    """
    bit = to_int(argv[2])
    if bit & ~1:
        raise CommandError("ERR The bit argument must be 1 or 0.")
    value = get_string(ctx, argv[1])
    if value is None:
        return -1 if bit else 0
    argc = len(argv)
    if argc > 6:
        raise CommandError(SYNTAX)
    total = len(value)
    is_bit = False
    end_given = argc >= 5
    if argc >= 4:
        start = to_int(argv[3])
        if argc == 6:  # Redis reads the unit before the end
            unit = argv[5].lower()
            if unit == b"bit":
                is_bit = True
            elif unit != b"byte":
                raise CommandError(SYNTAX)
        end = to_int(argv[4]) if end_given else -1
        if is_bit:
            total *= 8
        start, end = _clip(start, end, total)
    else:
        start, end = 0, total - 1
    if start > end:
        return -1
    first, last = (start, end) if is_bit else (start * 8, end * 8 + 7)
    lo, hi = first >> 3, last >> 3
    width = (hi - lo + 1) * 8
    bits = int.from_bytes(value[lo : hi + 1], "big")
    if not bit:
        bits ^= (1 << width) - 1  # the first 0 is the first 1 of the complement
    bits &= (1 << (width - (first & 7))) - 1  # drop the bits before `first` in its byte
    bits >>= 7 - (last & 7)                     # and those after `last` in its byte
    if bits:
        return last + 1 - bits.bit_length()
    if bit or end_given:
        return -1
    return (hi + 1) * 8


BITOP_NOT_ARITY = "ERR BITOP NOT must be called with a single source key."


@command("bitop", -4, WRITE | DENYOOM, KeySpec(2, -1, 1), "bitmap")
def bitop(ctx: Context, argv: list[bytes]):
    """BITOP AND | OR | XOR | NOT destkey key [key ...]

    Complexity: O(N) in the longest source. Reply: the length of the result, that of the
    longest source: shorter and missing sources count as zero bytes. The result replaces
    destkey (dropping its TTL, raw encoding as in Redis); an empty result deletes it.
    """
    op = argv[1].lower()
    if op not in (b"and", b"or", b"xor", b"not"):
        raise CommandError(SYNTAX)
    if op == b"not" and len(argv) != 4:
        raise CommandError(BITOP_NOT_ARITY)
    values = [get_string(ctx, key) or b"" for key in argv[3:]]
    ctx.touched = (argv, [argv[2]])  # not its sources
    size = max(map(len, values))
    db = ctx.db
    dest = argv[2]
    if not size:
        if db.delete(dest):  # an expired dest counts too: Redis deletes it without a lookup
            ctx.ks.dirty += 1
            ctx.notify("g", "del", dest)
        return 0
    # Big ints, left-aligned to `size` bytes: the operations run in C whatever the length.
    ints = [int.from_bytes(v, "big") << (8 * (size - len(v))) for v in values]
    acc = ints[0]
    if op == b"not":
        acc ^= (1 << (8 * size)) - 1
    elif op == b"and":
        for x in ints[1:]:
            acc &= x
    elif op == b"or":
        for x in ints[1:]:
            acc |= x
    else:
        for x in ints[1:]:
            acc ^= x
    result = acc.to_bytes(size, "big")
    db.set_value(dest, result, ctx.now)
    db.mark_encoding(dest, result, b"raw")
    ctx.ks.dirty += 1
    ctx.notify("$", "set", dest)
    return size
