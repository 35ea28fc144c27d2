"""rdb.crc64 against the CRC-64/Jones check value and a byte-at-a-time reference, at every
alignment the eight-byte steps meet (the payload tests compare whole payloads with Redis's)."""

from __future__ import annotations

import random

from kvstore.engine import rdb


def reference_crc64(data: bytes) -> int:
    """The textbook bitwise CRC-64/Jones (reflected, poly 0xad93d23594c935a9, no xor)."""
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def test_check_value():
    assert rdb.crc64(b"123456789") == 0xE9C6D914C4B8D9CA  # Redis's crc64.c test vector


def test_every_length_and_tail_matches_the_reference():
    rng = random.Random(7)
    for size in list(range(0, 34)) + [255, 256, 1000, 4099]:
        data = rng.randbytes(size)
        assert rdb.crc64(data) == reference_crc64(data), size


def test_crc_is_continued_from_a_previous_value():
    data = random.Random(8).randbytes(1000)
    for cut in (0, 1, 8, 13, 999, 1000):
        assert rdb.crc64(data[cut:], rdb.crc64(data[:cut])) == rdb.crc64(data)
