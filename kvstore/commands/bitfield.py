"""BITFIELD and BITFIELD_RO (Redis `bitops.c`, `bitfieldGeneric`): integers of 1 to 64 bits at
any bit offset of a string value.

The whole argument list is parsed into operations before the key is looked at, so every
argument error wins over WRONGTYPE, and no operation runs unless all parse. A command with a
SET or INCRBY first grows the string with zero bytes up to the farthest bit any of them writes
(even if every write then fails under OVERFLOW FAIL, as in Redis) and edits a `bytearray` copy in
place, O(1) per operation; the copy is stored once at the end, keeping the TTL. A command of
GETs only reads, and never creates the key.

Overflow, as Redis computes it, is plain arithmetic on the exact sum: outside the type's range,
WRAP keeps the low bits (two's complement for signed types), SAT clamps, FAIL skips the write and
replies nil. Redis's 64-bit checks leave two quirks in SET under SAT, kept here: an unsigned
SET converts its value to uint64 first, so a negative value overflows upwards (SET u8 0 -1
stores 255); a signed SET of a value far below the type's minimum stores its maximum.

Dirty and notifications follow Redis 7.0: a SET or INCRBY counts one change if it wrote (not
refused by FAIL) and either the string was created or grown or the field's value changed; a
command with any change emits one "setbit" event. So a refused write on a missing key creates
it without counting a change, as Redis does.
"""

from __future__ import annotations

from ..errors import SYNTAX, CommandError, wrongtype
from ..numbers import INT64_MAX, parse_int
from .args import to_int
from .bitmaps import bit_offset
from .strings import KEY1
from .table import DENYOOM, FAST, READONLY, WRITE, Context, command

TYPE_ERROR = ("ERR Invalid bitfield type. Use something like i16 u8. "
              "Note that u64 is not supported but i64 is.")
OVERFLOW_TYPE_ERROR = "ERR Invalid OVERFLOW type specified"
READONLY_ERROR = "ERR BITFIELD_RO only supports the GET subcommand"

_GET, _SET, _INCRBY = 0, 1, 2
_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOWS = {b"wrap": _WRAP, b"sat": _SAT, b"fail": _FAIL}
# Arguments each operation takes after its name.
_OPS = {b"get": (_GET, 2), b"set": (_SET, 3), b"incrby": (_INCRBY, 3)}


def field_type(arg: bytes) -> tuple[bool, int]:
    """Redis `getBitfieldTypeFromArgument`: (signed, width) from i1..i64 or u1..u63. Redis reads
    the width as a C string, so it stops at a NUL byte ("u8\\0x" is u8)."""
    arg = arg.split(b"\0", 1)[0]
    signed = arg[:1] == b"i"
    if not signed and arg[:1] != b"u":
        raise CommandError(TYPE_ERROR)
    try:
        bits = parse_int(arg[1:])
    except ValueError:
        raise CommandError(TYPE_ERROR) from None
    if bits < 1 or bits > (64 if signed else 63):
        raise CommandError(TYPE_ERROR)
    return signed, bits


def parse_ops(argv: list[bytes]) -> list[tuple[int, bool, int, int, int, int]]:
    """The operations of argv[2:], as (opcode, signed, bits, offset, value, overflow)."""
    ops = []
    overflow = _WRAP
    i, argc = 2, len(argv)
    while i < argc:
        name = argv[i].lower()
        remaining = argc - i - 1
        if name == b"overflow" and remaining >= 1:
            overflow = _OVERFLOWS.get(argv[i + 1].lower(), -1)
            if overflow < 0:
                raise CommandError(OVERFLOW_TYPE_ERROR)
            i += 2
            continue
        opcode, nargs = _OPS.get(name, (-1, 0))
        if opcode < 0 or remaining < nargs:
            raise CommandError(SYNTAX)
        signed, bits = field_type(argv[i + 1])
        offset = bit_offset(argv[i + 2], bits)
        value = to_int(argv[i + 3]) if opcode != _GET else 0
        ops.append((opcode, signed, bits, offset, value, overflow))
        i += nargs + 1
    return ops


def read_field(buf: bytes | bytearray, offset: int, bits: int, signed: bool) -> int:
    """The integer of `bits` bits at bit `offset` (big-endian); zeros past the end."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    chunk = buf[first : last + 1]
    chunk = int.from_bytes(chunk, "big") << (8 * (last + 1 - first - len(chunk)))
    value = (chunk >> (7 - ((offset + bits - 1) & 7))) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def write_field(buf: bytearray, offset: int, bits: int, value: int) -> None:
    """Store the low `bits` bits of `value` at bit `offset`; `buf` already reaches it."""
    first, last = offset >> 3, (offset + bits - 1) >> 3
    shift = 7 - ((offset + bits - 1) & 7)
    mask = ((1 << bits) - 1) << shift
    chunk = int.from_bytes(buf[first : last + 1], "big")
    chunk = (chunk & ~mask) | ((value << shift) & mask)
    buf[first : last + 1] = chunk.to_bytes(last + 1 - first, "big")


def apply_overflow(total: int, signed: bool, bits: int, overflow: int,
                   upwards: bool = False) -> int | None:
    """`total` fitted into the type by the overflow policy; None when FAIL refuses it.
    `upwards`: Redis takes this overflow for one above the maximum whatever its sign."""
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if low <= total <= high:
        return total
    if overflow == _FAIL:
        return None
    if overflow == _SAT:
        return high if total > high or upwards else low
    total &= (1 << bits) - 1
    if signed and total >> (bits - 1):
        total -= 1 << bits
    return total


def run_write(ctx: Context, key: bytes, ops: list) -> list[int | None]:
    """The operations of a BITFIELD with at least one SET or INCRBY (see the module docstring)."""
    db = ctx.db
    old = db.lookup(key, ctx.now)
    if old is not None and type(old) is not bytes:
        raise wrongtype()
    size = max((offset + bits - 1) >> 3 for op, _, bits, offset, _, _ in ops if op != _GET) + 1
    buf = bytearray(old or b"")
    grown = old is None or len(buf) < size
    if len(buf) < size:
        buf += bytes(size - len(buf))
    changes = 0
    replies: list[int | None] = []
    for opcode, signed, bits, offset, value, overflow in ops:
        current = read_field(buf, offset, bits, signed)
        if opcode == _GET:
            replies.append(current)
            continue
        if opcode == _INCRBY:
            new = apply_overflow(current + value, signed, bits, overflow)
            replies.append(new)
        else:
            if signed:
                # Redis tests `max - value > 0` in 64 bits, which wraps for values this low:
                # they count as above the maximum (SET i8 0 -9223372036854775807 SAT is 127).
                upwards = bits < 64 and value < (1 << (bits - 1)) - 1 - INT64_MAX
            else:
                value &= (1 << 64) - 1  # Redis's uint64_t: a negative value overflows upwards
                upwards = True
            new = apply_overflow(value, signed, bits, overflow, upwards)
            replies.append(None if new is None else current)
        if new is not None:
            write_field(buf, offset, bits, new)
            if grown or new != current:
                changes += 1
    result = bytes(buf)
    if old is None:
        db.add(key, result)
    else:
        db.data[key] = result  # keeps the TTL
    db.mark_encoding(key, result, b"raw")
    if changes:
        ctx.ks.dirty += changes
        ctx.notify("$", "setbit", key)
    return replies


def bitfield_generic(ctx: Context, argv: list[bytes], readonly: bool) -> list[int | None]:
    ops = parse_ops(argv)
    key = argv[1]
    if any(op[0] != _GET for op in ops):
        if readonly:
            raise CommandError(READONLY_ERROR)
        return run_write(ctx, key, ops)
    value = ctx.read(key)
    if value is not None and type(value) is not bytes:
        raise wrongtype()
    value = value or b""
    return [read_field(value, offset, bits, signed) for _, signed, bits, offset, _, _ in ops]


@command("bitfield", -2, WRITE | DENYOOM, KEY1, "bitmap")
def bitfield(ctx: Context, argv: list[bytes]):
    """BITFIELD key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL]
    {SET encoding offset value | INCRBY encoding offset increment} ...]

    Complexity: O(1) per operation, plus O(N) to copy the string when one writes. Reply: one
    entry per GET, SET or INCRBY: the value read, the old value (SET), the new value (INCRBY),
    or nil for a write that OVERFLOW FAIL refused.
    """
    return bitfield_generic(ctx, argv, False)


@command("bitfield_ro", -2, READONLY | FAST, KEY1, "bitmap")
def bitfield_ro(ctx: Context, argv: list[bytes]):
    """BITFIELD_RO key [GET encoding offset ...]

    Complexity: O(1) per GET. Reply: the values read. OVERFLOW is accepted and ignored; SET and
    INCRBY are refused once the whole command has parsed.
    """
    return bitfield_generic(ctx, argv, True)
