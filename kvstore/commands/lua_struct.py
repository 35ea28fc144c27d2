"""`struct` for scripts: Roberto Ierusalimschy's struct library as Redis 7.0 bundles it (pack,
unpack, size), on x86-64's sizes (long and size_t 8 bytes, int 4, alignment at most 8).

A format is options, each optionally followed by a number: `>` big-endian, `<` little-endian
(the default), `!n` items aligned to min(n, their size) (n defaults to 8; without `!`, no
alignment), `x` a zero byte, `b`/`B` `h`/`H` `l`/`L` `T` `i[n]`/`I[n]` signed/unsigned
integers of 1, 2, 8, 8, n (default 4, at most 32) bytes, `f` float, `d` double, `s` a
zero-terminated string, `c[n]` n bytes (`c0`: the whole string when packing; when unpacking,
the number unpacked just before), spaces ignored.
"""

from __future__ import annotations

import struct as _struct
from typing import Any

MAXINTSIZE = 32
MAXALIGN = 8
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}


class StructError(ValueError):
    """`arg`: the Lua argument it is about; the text as luaL_argerror gives it."""

    def __init__(self, arg: int, fn: str, message: str) -> None:
        super().__init__(f"bad argument #{arg} to '{fn}' ({message})")


def _options(fmt: bytes, fn: str):  # noqa: C901 - one branch per option, as struct.c
    """(option, size, align limit, big-endian) for each data option of `fmt`."""
    big = False
    align = 1
    i = 0
    while i < len(fmt):
        opt = chr(fmt[i])
        i += 1
        digits = b""
        while i < len(fmt) and 48 <= fmt[i] <= 57:
            digits += fmt[i : i + 1]
            i += 1
        number = int(digits) if digits else None
        if opt in _SIZES:
            yield opt, _SIZES[opt], align, big
        elif opt in "iI":
            size = 4 if number is None else number
            if size > MAXINTSIZE:
                raise ValueError(f"integral size {size} is larger than limit of {MAXINTSIZE}")
            yield opt, size, align, big
        elif opt == "c":
            yield opt, 1 if number is None else number, align, big
        elif opt == "s":
            yield opt, 0, align, big
        elif opt == " ":
            continue
        elif opt == ">" or opt == "<":
            big = opt == ">"
        elif opt == "!":
            align = MAXALIGN if number is None else number
            if align & (align - 1) or align == 0:
                raise ValueError(f"alignment {align} is not a power of 2")
        else:
            raise StructError(1, fn, f"invalid format option '{opt}'")


def _padding(length: int, size: int, align: int, opt: str) -> int:
    if size == 0 or opt == "c":
        return 0
    size = min(size, align)
    return (size - (length & (size - 1))) & (size - 1)


def _number(value: Any, arg: int, fn: str) -> float:
    if type(value) in (int, float) and type(value) is not bool:
        return value
    if type(value) is bytes:
        text = value.strip()
        try:
            return int(text, 16) if text[:2].lower() in (b"0x",) else float(text)
        except ValueError:
            pass
    kind = {bytes: "string", bool: "boolean", type(None): "no value"}.get(type(value), "table")
    raise StructError(arg, fn, f"number expected, got {kind}")


def pack(fmt: bytes, args: tuple) -> bytes:
    out = bytearray()
    arg = 0
    for opt, size, align, big in _options(fmt, "pack"):
        out += bytes(_padding(len(out), size, align, opt))
        if opt == "x":
            out.append(0)
        elif opt in "fd":
            n = _number(args[arg] if arg < len(args) else None, arg + 2, "pack")
            arg += 1
            out += _struct.pack((">" if big else "<") + opt, n)
        elif opt in "cs":
            data = args[arg] if arg < len(args) else None
            if type(data) in (int, float):
                data = (b"%.14g" % data)
            if type(data) is not bytes:
                raise StructError(arg + 2, "pack", "string expected, got "
                                  + ("no value" if data is None else "table"))
            if opt == "s" or size == 0:
                size = len(data)
            if len(data) < size:  # (struct.c names the argument after it here)
                raise StructError(arg + 3, "pack", "string too short")
            out += data[:size]
            if opt == "s":
                out.append(0)
            arg += 1
        else:
            n = _number(args[arg] if arg < len(args) else None, arg + 2, "pack")
            arg += 1
            # C: (unsigned long)(long)n for a negative n, else (unsigned long)n: 64 bits
            value = int(n) & 0xFFFFFFFFFFFFFFFF
            raw = bytes((value >> (8 * k)) & 0xFF if k < 8 else 0 for k in range(size))
            out += raw[::-1] if big else raw
    return bytes(out)


def unpack(fmt: bytes, data: bytes, init: int) -> list:
    """The values, then the position after them (1-based), as struct.unpack returns them."""
    pos = init - 1
    if not 0 <= pos <= len(data):
        raise StructError(3, "unpack", "initial position out of string")
    values: list = []
    for opt, size, align, big in _options(fmt, "unpack"):
        pos += _padding(pos, size, align, opt)
        if opt == "c" and size == 0:
            if not values or type(values[-1]) not in (int, float):
                raise ValueError("format 'c0' needs a previous size")
            size = int(values.pop())
        if opt == "s":
            end = data.find(b"\0", pos)
            if end < 0:
                raise ValueError("unfinished string in data")
            values.append(data[pos:end])
            pos = end + 1
            continue
        if pos + size > len(data):
            raise StructError(2, "unpack", "data string too short")
        chunk = data[pos : pos + size]
        if opt == "x":
            pass
        elif opt in "fd":
            values.append(_struct.unpack((">" if big else "<") + opt, chunk)[0])
        elif opt == "c":
            values.append(chunk)
        else:
            value = int.from_bytes(chunk, "big" if big else "little")
            if opt.islower() and value >> (size * 8 - 1):  # sign extension
                value -= 1 << (size * 8)
            values.append(float(value) if abs(value) >= 1 << 53 else value)
        pos += size
    values.append(pos + 1)
    return values


def size(fmt: bytes) -> int:
    total = 0
    for opt, item, align, _ in _options(fmt, "size"):
        if opt == "s":
            raise StructError(1, "size", "option 's' has no fixed size")
        if opt == "c" and item == 0:
            raise StructError(1, "size", "option 'c0' has no fixed size")
        total += _padding(total, item, align, opt) + item
    return total
