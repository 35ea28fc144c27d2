"""Bit commands on string values (Redis `bitops.c`): SETBIT, GETBIT, BITCOUNT.

A bitmap is an ordinary string value: bit 0 is the most significant bit of byte 0, as in Redis.
Strings are immutable `bytes` here, so SETBIT rebuilds the value (O(N) in its length; Redis is
O(1)) and stores it with `db.data[key] = new`, which keeps the TTL. Counting uses
`int.from_bytes(...).bit_count()`, which runs in C at memory speed.

Offsets are limited as Redis limits them: a bit offset must address a byte below
proto-max-bulk-len (512 MB), i.e. be below 2**32.
"""

from __future__ import annotations

from ..errors import SYNTAX, CommandError, wrongtype
from ..numbers import parse_int
from .args import to_int
from .strings import KEY1, PROTO_MAX_BULK_LEN, get_string
from .table import DENYOOM, FAST, READONLY, WRITE, Context, command

BIT_OFFSET_ERROR = "ERR bit offset is not an integer or out of range"
BIT_VALUE_ERROR = "ERR bit is not an integer or out of range"


def bit_offset(arg: bytes) -> int:
    """Redis `getBitOffsetFromArgument` (no '#' form): 0 <= offset < proto-max-bulk-len * 8."""
    try:
        offset = parse_int(arg)
    except ValueError:
        raise CommandError(BIT_OFFSET_ERROR) from None
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
    total = len(value) * 8 if is_bit else len(value)
    if start < 0:
        start = max(start + total, 0)
    if end < 0:
        end = max(end + total, 0)
    if end >= total:
        end = total - 1
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
