"""LOLWUT on both servers. Without randomness (Schotter's first two rows: one or two rows of
squares) the drawing must be Redis's to the dot; with it, the shape of the output must be."""

from __future__ import annotations

import random
import re

import hiredis
import pytest

from .helpers import Conn

VERSION = re.compile(rb"Redis ver\. [0-9.]+\n$")


def drawings(port: int, cases) -> list:
    conn = Conn(port)
    out = [conn(*case) for case in cases]
    conn.close()
    # each server names its own version
    return [VERSION.sub(b"Redis ver. X\n", r) if isinstance(r, bytes) else str(r) for r in out]


def test_drawings_without_randomness_are_redis(ports):
    rng = random.Random(5)
    cases = [("LOLWUT",), ("LOLWUT", "foo", "bar"), ("LOLWUT", "VERSION", "7"),
             ("LOLWUT", "VERSION", "-1"), ("LOLWUT", "VERSION", "4294967301", "7", "1", "1"),
             ("LOLWUT", "VERSION", "5", "0", "0", "0"), ("LOLWUT", "version", "5", "1000", "3", "2"),
             ("LOLWUT", "VERSION", "x"), ("LOLWUT", "VERSION", "5", "7", "y"),
             ("LOLWUT", "VERSION", "6", "x")]
    cases += [("LOLWUT", "VERSION", "5", str(rng.randrange(1, 300)), str(rng.randrange(1, 80)),
               str(rng.randrange(1, 3))) for _ in range(150)]
    assert drawings(ports["kvstore"], cases) == drawings(ports["redis"], cases)


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_random_drawings_have_redis_shape(ports, kind):
    conn = Conn(ports[kind])
    schotter = conn("LOLWUT", "VERSION", "5").decode()  # 66 columns, 8 x 12 squares
    lines = schotter.split("\n")
    assert len(lines) == 49 + 3  # 196 pixel rows in 4-pixel characters, then the legend
    assert all(len(line) == 66 and set(line) <= set(map(chr, range(0x2800, 0x2900)))
               for line in lines[:49])
    assert lines[-2].startswith("Georg Nees - schotter, plotter on paper, 1968. Redis ver. ")
    skyline = conn("LOLWUT", "VERSION", "6", "30", "8").decode().split("\n")
    assert len(skyline) == 8 + 3
    cell = re.compile("\033\\[0;(30;40|90;100|37;47|97;107)m \033\\[0m")
    assert all(len(cell.findall(row)) == 30 and not cell.sub("", row) for row in skyline[:8])
    assert skyline[-2].startswith("Original 8 bit image from Plaguemon by hikikomori.")
    conn.close()


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_verbatim_in_resp3(ports, kind):
    conn = Conn(ports[kind])
    conn("HELLO", "3")
    conn.send(Conn.encode("LOLWUT"))
    raw = conn.read_raw(until=b"\n\r\n")
    assert raw.startswith(b"=") and b"\r\ntxt:Redis ver. " in raw
    conn.close()


def test_embedded_method():
    import kvstore

    store = kvstore.open()
    assert store.lolwut() == b"Redis ver. 7.2.4\n"
    assert store.lolwut(5, 3, 1, 1).startswith("\u2800".encode())
    with pytest.raises(kvstore.ResponseError, match="not an integer"):
        store.lolwut("x")
    store.close()


def test_hiredis_reads_it():
    # (the RESP3 verbatim reply above, parsed as a client does)
    reader = hiredis.Reader()
    reader.feed(b"=21\r\ntxt:Redis ver. 7.2.4\n\r\n")
    assert reader.gets() == b"Redis ver. 7.2.4\n"
