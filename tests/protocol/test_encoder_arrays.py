"""The encoder's fast paths for arrays of bulks must give exactly the per-item encoding."""

from __future__ import annotations

import random

import pytest

from kvstore.protocol.encoder import encode
from kvstore.replies import Verbatim


def reference(items: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%b\r\n" % (len(x), x) for x in items)


def test_seeded_arrays_of_bytes_equal_the_reference():
    rng = random.Random(7)
    for _ in range(2000):
        n = rng.randint(0, 40)
        width = rng.choice([None, 0, 1, 3, 1023, 1024, 5000])  # None: varying lengths
        items = [b"v" * width if width is not None else rng.randbytes(rng.randint(0, 40))
                 for _ in range(n)]
        assert encode(items, 2) == reference(items)
        assert encode(items, 3) == reference(items)
        assert encode(tuple(items), 2) == reference(items)


@pytest.mark.parametrize("odd", [7, None, "ab", [b"ab"], [b"a", b"b"], 1.5, bytearray(b"ab")])
def test_an_item_that_is_not_bytes_takes_the_generic_path(odd):
    items = [b"ab"] * 6 + [odd]
    assert encode(items, 2) == b"*7\r\n" + b"$2\r\nab\r\n" * 6 + encode(odd, 2)


def test_verbatim_items_keep_their_resp3_form():
    items = [b"ab"] * 6 + [Verbatim(b"ab")]
    assert encode(items, 3).endswith(b"=6\r\ntxt:ab\r\n")
    assert encode(items, 2) == reference([b"ab"] * 7)
