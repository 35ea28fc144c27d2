"""The wire fuzz's reply parser (tests/compat/fuzz_wire.py) must keep every RESP3 type apart, or
the server-level differential run could not see a reply sent in the wrong frame."""

from __future__ import annotations

import io

import pytest

from tests.compat.fuzz_wire import canon, plain, read_reply

# The same content in two frames a client tells apart (redis-py gives different Python values).
DIFFERENT_FRAMES = [
    (b",1.5\r\n", b"$3\r\n1.5\r\n"),                        # double vs bulk
    (b"%1\r\n$1\r\nk\r\n:1\r\n", b"*2\r\n$1\r\nk\r\n:1\r\n"),  # map vs flat array
    (b"~1\r\n$1\r\nx\r\n", b"*1\r\n$1\r\nx\r\n"),            # set vs array
    (b"#t\r\n", b":1\r\n"),                                 # boolean vs integer
    (b"_\r\n", b"$-1\r\n"),                                 # RESP3 null vs RESP2 null bulk
    (b"$-1\r\n", b"*-1\r\n"),                               # null bulk vs null array
    (b"=7\r\ntxt:abc\r\n", b"$3\r\nabc\r\n"),                # verbatim vs bulk
    (b"(12\r\n", b"$2\r\n12\r\n"),                          # big number vs bulk
    (b"+OK\r\n", b"$2\r\nOK\r\n"),                          # simple vs bulk string
]


def parse(data: bytes):
    f = io.BytesIO(data)
    outcome = read_reply(f)
    assert f.read() == b"", "the parser left bytes of the frame unread"
    return outcome


@pytest.mark.parametrize("a, b", DIFFERENT_FRAMES)
def test_frames_that_differ_compare_different(a, b):
    assert canon(parse(a)[1]) != canon(parse(b)[1])


def test_maps_and_sets_compare_unordered_and_plain_gives_resp2():
    m1 = parse(b"%2\r\n$1\r\na\r\n,1\r\n$1\r\nb\r\n_\r\n")[1]
    m2 = parse(b"%2\r\n$1\r\nb\r\n_\r\n$1\r\na\r\n,1\r\n")[1]
    assert m1 != m2 and canon(m1) == canon(m2)
    assert plain(m1) == [b"a", b"1", b"b", None]
    s1, s2 = parse(b"~2\r\n:1\r\n:2\r\n")[1], parse(b"~2\r\n:2\r\n:1\r\n")[1]
    assert canon(s1) == canon(s2) and plain(s1) == [1, 2]


def test_errors_inside_aggregates_and_blob_errors():
    assert parse(b"*2\r\n-ERR x\r\n:1\r\n") == ("ok", [("err", "ERR x"), 1])
    assert parse(b"!5\r\nERR y\r\n") == ("err", "ERR y")
