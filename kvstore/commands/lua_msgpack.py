"""`cmsgpack` for scripts: lua-cmsgpack 0.4 as Redis 7.0 bundles it (pack, unpack, unpack_one,
unpack_limit), byte for byte.

Packing follows lua-cmsgpack: a number that is an int64 is packed in the smallest integer form,
others as a float32 when that is exact, else a float64; a string is a str (fixstr, str8, str16,
str32); a table whose keys are exactly 1..n is an array, any other a map (in `next()` order);
past 16 levels of nesting a table packs as nil. Unpacking knows what lua-cmsgpack knows: no bin
or ext types ("Bad data format in input."), and a value cut short is "Missing bytes in input.".
"""

from __future__ import annotations

import struct
from typing import Any, Callable

MAX_NESTING = 16  # tables deeper than this pack as nil
MAX_DEPTH = 400   # arrays and maps nested in what is unpacked


class MsgpackError(ValueError):
    pass


def _int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + bytes((n,))
        elif n <= 0xFFFF:
            out += b"\xcd" + n.to_bytes(2, "big")
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + n.to_bytes(4, "big")
        else:
            out += b"\xcf" + n.to_bytes(8, "big")
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + n.to_bytes(1, "big", signed=True)
    elif n >= -32768:
        out += b"\xd1" + n.to_bytes(2, "big", signed=True)
    elif n >= -(1 << 31):
        out += b"\xd2" + n.to_bytes(4, "big", signed=True)
    else:
        out += b"\xd3" + n.to_bytes(8, "big", signed=True)


def _number(x: float, out: bytearray) -> None:
    if type(x) is int or (x == x and -9.223372036854776e18 <= x < 9.223372036854776e18
                          and x == int(x)):
        _int(int(x), out)
        return
    try:
        single = struct.pack(">f", x)
    except OverflowError:
        single = None
    if single is not None and struct.unpack(">f", single)[0] == x:
        out += b"\xca" + single
    else:
        out += b"\xcb" + struct.pack(">d", x)


def _header(n: int, small: int, limit: int, codes: bytes, out: bytearray) -> None:
    """A fix* header below `limit`, else the 8- (strings only), 16- or 32-bit form."""
    if n < limit:
        out.append(small | n)
    elif len(codes) == 3 and n <= 0xFF:
        out += codes[:1] + bytes((n,))
    elif n <= 0xFFFF:
        out += codes[-2:-1] + n.to_bytes(2, "big")
    else:
        out += codes[-1:] + n.to_bytes(4, "big")


def pack(value: Any, out: bytearray, depth: int, lua_type: Callable[[Any], str]) -> None:
    t = type(value)
    if value is None:
        out.append(0xC0)
    elif t is bool:
        out.append(0xC3 if value else 0xC2)
    elif t is int or t is float:
        _number(value, out)
    elif t is bytes:
        _header(len(value), 0xA0, 32, b"\xd9\xda\xdb", out)
        out += value
    elif lua_type(value) == "table" and depth <= MAX_NESTING:
        items = list(value.items())
        top = 0
        array = True
        for key, _ in items:
            if type(key) is bool or type(key) not in (int, float) or key <= 0 or key != int(key):
                array = False
                break
            top = max(top, int(key))
        if array and top == len(items):
            _header(top, 0x90, 16, b"\xdc\xdd", out)
            for i in range(1, top + 1):
                pack(value[i], out, depth + 1, lua_type)
        else:
            _header(len(items), 0x80, 16, b"\xde\xdf", out)
            for key, item in items:
                pack(key, out, depth + 1, lua_type)
                pack(item, out, depth + 1, lua_type)
    else:  # functions, userdata, tables nested too deep
        out.append(0xC0)


_FIXED = {0xCA: (">f", 4), 0xCB: (">d", 8), 0xCC: (">B", 1), 0xCD: (">H", 2), 0xCE: (">I", 4),
          0xCF: (">Q", 8), 0xD0: (">b", 1), 0xD1: (">h", 2), 0xD2: (">i", 4), 0xD3: (">q", 8)}


def unpack_one(data: bytes, pos: int, table: Callable[[Any], Any],
               depth: int = 0) -> tuple[Any, int]:
    """(value, next position) of the object at `pos`; MsgpackError if it is cut short, nested
    past MAX_DEPTH or not one lua-cmsgpack reads. `table` makes a Lua table of a list or dict."""
    if depth > MAX_DEPTH:  # (lua-cmsgpack runs out of C stack; we stop before Python does)
        raise MsgpackError("stack overflow (in function mp_decode_to_lua_array)")

    def need(n: int) -> None:
        if pos + n > len(data):
            raise MsgpackError("Missing bytes in input.")

    need(1)
    c = data[pos]
    pos += 1
    if c <= 0x7F:
        return c, pos
    if c >= 0xE0:
        return c - 256, pos
    if 0xA0 <= c <= 0xBF or c in (0xD9, 0xDA, 0xDB):
        if c <= 0xBF:
            n = c & 0x1F
        else:
            size = {0xD9: 1, 0xDA: 2, 0xDB: 4}[c]
            need(size)
            n = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        need(n)
        return data[pos : pos + n], pos + n
    if 0x90 <= c <= 0x9F or c in (0xDC, 0xDD):
        n, pos = _count(data, pos, c, 0x90, need)
        items = []
        for _ in range(n):
            item, pos = unpack_one(data, pos, table, depth + 1)
            items.append(item)
        return table(items), pos
    if 0x80 <= c <= 0x8F or c in (0xDE, 0xDF):
        n, pos = _count(data, pos, c, 0x80, need)
        mapping = {}
        for _ in range(n):
            key, pos = unpack_one(data, pos, table, depth + 1)
            item, pos = unpack_one(data, pos, table, depth + 1)
            if key is not None:
                mapping[key] = item
        return table(mapping), pos
    if c == 0xC0:
        return None, pos
    if c in (0xC2, 0xC3):
        return c == 0xC3, pos
    fixed = _FIXED.get(c)
    if fixed is None:
        raise MsgpackError("Bad data format in input.")
    fmt, size = fixed
    need(size)
    return struct.unpack(fmt, data[pos : pos + size])[0], pos + size


def _count(data: bytes, pos: int, c: int, fix: int, need: Callable[[int], None]) -> tuple[int, int]:
    if fix <= c <= fix + 15:
        return c & 0x0F, pos
    size = 2 if c in (0xDC, 0xDE) else 4
    need(size)
    return int.from_bytes(data[pos : pos + size], "big"), pos + size
