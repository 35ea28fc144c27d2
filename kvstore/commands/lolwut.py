"""LOLWUT [VERSION version] [version's arguments...]: computer art, and the server's version.

As Redis does: LOLWUT 5 draws Georg Nees's "Schotter" (squares growing disordered row by row)
in Braille characters, LOLWUT 6 a skyline of an 8-bit game in the four grays of a terminal,
anything else prints the version alone ("Redis ver. 7.2.4"), which is what a 7.x server
answers by default. The drawing repeats Redis's arithmetic, single-precision floats included,
so a drawing without randomness (Schotter's first two rows) is Redis's to the dot; the random
part draws from Python's generator instead of libc's rand().
"""

from __future__ import annotations

import math
import random
import struct

from ..replies import text_reply
from ..version import REDIS_VERSION
from .args import to_int
from .table import FAST, READONLY, Context, command

_F32 = struct.Struct("f")


def _f32(x: float) -> float:
    """x rounded to a C float, as each float operation of lolwut.c stores it."""
    return _F32.unpack(_F32.pack(x))[0]


def _c_round(x: float) -> int:
    """C's round(): halves away from zero (Python's round() goes to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


class _Canvas:
    def __init__(self, width: int, height: int, background: int = 0) -> None:
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw(self, x: int, y: int, color: int) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x: int, y: int) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1: int, y1: int, x2: int, y2: int, color: int) -> None:
        """Bresenham's line."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                break
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x: int, y: int, size: float, angle: float, color: int) -> None:
        """A square centred on x, y, rotated by `angle`: its corners are points of the circle
        the square is inscribed in, a quarter turn apart."""
        size = float(_c_round(_f32(size / 1.4142135623)))
        k = _f32(math.pi / 4 + angle)
        px, py = [], []
        for _ in range(4):
            px.append(_c_round(math.sin(k) * size + x))
            py.append(_c_round(math.cos(k) * size + y))
            k = _f32(k + math.pi / 2)
        for j in range(4):
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color)


def _schotter(cols: int, per_row: int, per_col: int) -> _Canvas:
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = _f32((width - padding * 2) / per_row)
    canvas = _Canvas(width, int(_f32(_f32(side * per_col) + padding * 2)))
    rand = random.random
    for y in range(per_col):
        for x in range(per_row):
            sx = int(_f32(_f32(_f32(x * side) + _f32(side / 2)) + padding))
            sy = int(_f32(_f32(_f32(y * side) + _f32(side / 2)) + padding))
            angle = 0.0
            if y > 1:  # disorder grows row by row
                r1, r2, r3 = (_f32(rand() / per_col * y) * (1 if rand() < 0.5 else -1)
                              for _ in range(3))
                angle = r1
                sx = int(sx + _f32(r2 * side / 3))
                sy = int(sy + _f32(r3 * side / 3))
            canvas.square(sx, sy, side, angle, 1)
    return canvas


def _braille(canvas: _Canvas) -> str:
    """Each 2x4 block of pixels as one Braille character (dots 1-8 as Unicode numbers them)."""
    get = canvas.get
    rows = []
    for y in range(0, canvas.height, 4):
        row = []
        for x in range(0, canvas.width, 2):
            bits = (get(x, y) | get(x, y + 1) << 1 | get(x, y + 2) << 2 | get(x + 1, y) << 3
                    | get(x + 1, y + 1) << 4 | get(x + 1, y + 2) << 5 | get(x, y + 3) << 6
                    | get(x + 1, y + 3) << 7)
            row.append(chr(0x2800 + bits))
        rows.append("".join(row) + ("\n" if y != canvas.height - 1 else ""))
    return "".join(rows)


def _lolwut5(argv: list[bytes]) -> str:
    cols, per_row, per_col = (to_int(a) for a in (argv[1:4] + [b"66", b"8", b"12"][len(argv) - 1:]))
    canvas = _schotter(min(max(cols, 1), 1000), min(max(per_row, 1), 200),
                       min(max(per_col, 1), 200))
    return (_braille(canvas) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "
            + REDIS_VERSION + "\n")


_GRAYS = ("0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m")  # black, two grays, white


def _skyscraper(canvas: _Canvas, xoff: int, width: int, height: int, windows: bool,
                color: int) -> None:
    start = canvas.height - 1
    end = start - height + 1
    for y in range(start, end - 1, -1):
        for x in range(xoff, xoff + width):
            if y == end and (x <= xoff + 1 or x >= xoff + width - 2):
                continue  # the roof is four pixels narrower
            c = color
            if windows and xoff + 1 < x < xoff + width - 2 and end + 1 < y < start - 1:
                relx, rely = x - (xoff + 1), y - (end + 1)
                if relx // 2 % 2 and rely % 2:  # windows two pixels wide, one tall
                    c = random.choice([g for g in (1, 2) if g != color])
                    if relx % 2:
                        c = canvas.get(x - 1, y)
            canvas.draw(x, y, c)


def _skyline(canvas: _Canvas) -> None:
    rand = random.randrange
    h = canvas.height
    for color in (2, 1):  # two passes of background towers, the lighter ones behind
        offset = -10
        while offset < canvas.width:
            offset += rand(8)
            width = 10 + rand(9)
            height = h // 2 + (rand(h) // 2 if color == 2 else rand(h) // 3)
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:  # the foreground, with windows
        offset += rand(8)
        width = 5 + rand(14)
        if width % 4:
            width += width % 3
        _skyscraper(canvas, offset, width, h // 3 + rand(h) // 2, True, 0)
        offset += width + 5


def _lolwut6(argv: list[bytes]) -> str:
    cols, rows = (to_int(a) for a in (argv[1:3] + [b"80", b"20"][len(argv) - 1:]))
    canvas = _Canvas(min(max(cols, 1), 1000), min(max(rows, 1), 1000), 3)
    _skyline(canvas)
    lines = []
    for y in range(canvas.height):
        lines.append("".join(f"\033[{_GRAYS[canvas.get(x, y)]} \033[0m"
                             for x in range(canvas.width)))
    return ("\n".join(lines) + "\nDedicated to the 8 bit game developers of past and present.\n"
            "Original 8 bit image from Plaguemon by hikikomori. Redis ver. " + REDIS_VERSION
            + "\n")


@command("lolwut", -1, READONLY | FAST, group="server")
def lolwut(ctx: Context, argv: list[bytes]):
    """LOLWUT [VERSION version]"""
    version = REDIS_VERSION
    if len(argv) >= 3 and argv[1].lower() == b"version":
        version = "%d.0.0" % (to_int(argv[2]) % (1 << 32))  # (unsigned int) of the long
        argv = argv[:1] + argv[3:]
    if version[:2] == "5." and version[2:3] != "9" or version[:3] == "4.9":
        text = _lolwut5(argv)
    elif version[:2] == "6." and version[2:3] != "9" or version[:3] == "5.9":
        text = _lolwut6(argv)
    else:
        text = "Redis ver. " + REDIS_VERSION + "\n"
    return text_reply(ctx.resp, text)
