"""Reply readers: our pure Reader and hiredis.Reader pass the same cases, each three ways (whole,
byte by byte, followed by trailing partial data that must stay buffered)."""

from __future__ import annotations

import time

import pytest

from kvstore.errors import ProtocolError, ResponseError
from kvstore.protocol import reader as reader_module
from kvstore.protocol.reader import Reader, make_reader

try:
    import hiredis as _hiredis
except ImportError:  # pragma: no cover
    _hiredis = None

IMPLS = {"python": Reader}
if _hiredis is not None:
    IMPLS["hiredis"] = _hiredis.Reader

NOT_ENOUGH = object()  # False would be ambiguous with RESP3 `#f`


@pytest.fixture(params=sorted(IMPLS))
def make(request):
    cls = IMPLS[request.param]

    def factory(**kwargs):
        kwargs.setdefault("notEnoughData", NOT_ENOUGH)
        kwargs.setdefault("protocolError", ProtocolError)
        kwargs.setdefault("replyError", ResponseError)
        return cls(**kwargs)

    factory.impl = request.param
    return factory


def drain(reader):
    out = []
    while (reply := reader.gets()) is not NOT_ENOUGH:
        out.append(reply)
    return out


def read(make, chunks, **kwargs):
    reader = make(**kwargs)
    out = []
    for chunk in chunks:
        reader.feed(chunk)
        out += drain(reader)
    return out


TAIL = b"$5\r\nhel"  # a partial bulk, completed by b"lo\r\n"


def check_three_ways(make, data, expected, **kwargs):
    assert norm(read(make, [data], **kwargs)) == norm(expected)
    assert norm(read(make, [data[i : i + 1] for i in range(len(data))], **kwargs)) == norm(expected)
    reader = make(**kwargs)
    reader.feed(data + TAIL)
    assert norm(drain(reader)) == norm(expected)
    assert reader.has_data()  # the partial bulk is still buffered
    assert reader.gets() is NOT_ENOUGH
    reader.feed(b"lo\r\n")
    tail = reader.gets()
    assert tail in (b"hello", "hello")
    assert not reader.has_data()


def norm(value):
    """Comparable form: error instances become ("error", type, message)."""
    if isinstance(value, Exception):
        return ("error", type(value).__name__, str(value))
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    return value


CASES = [
    (b"+OK\r\n", [b"OK"]),
    (b"+\r\n", [b""]),
    (b"-ERR unknown command\r\n", [ResponseError("ERR unknown command")]),
    (b":0\r\n:-1\r\n:9223372036854775807\r\n", [0, -1, 2**63 - 1]),
    (b"$0\r\n\r\n$-1\r\n$3\r\nfoo\r\n", [b"", None, b"foo"]),
    (b"$6\r\na\r\nb\r\n\r\n", [b"a\r\nb\r\n"]),
    (b"*0\r\n*-1\r\n", [[], None]),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", [[b"SET", b"k", b"v"]]),
    (b"*3\r\n:1\r\n$-1\r\n*2\r\n+a\r\n-ERR x\r\n", [[1, None, [b"a", ResponseError("ERR x")]]]),
    (b"*2\r\n*2\r\n*1\r\n:1\r\n*0\r\n:2\r\n", [[[[1], []], 2]]),
    (b"*1500\r\n" + b"$1\r\nx\r\n" * 1500, [[b"x"] * 1500]),
    # RESP3
    (b"_\r\n#t\r\n#f\r\n", [None, True, False]),
    (b",1.5\r\n,-0.25\r\n,inf\r\n,-inf\r\n,3\r\n,1e+20\r\n", [1.5, -0.25, float("inf"), float("-inf"), 3.0, 1e20]),
    (b"%2\r\n$1\r\na\r\n:1\r\n+b\r\n_\r\n", [{b"a": 1, b"b": None}]),
    (b"%0\r\n%-1\r\n", [{}, None]),
    (b"~3\r\n:1\r\n:2\r\n:3\r\n~0\r\n", [[1, 2, 3], []]),
    (b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", [[b"message", b"ch", b"hi"]]),
    (b"=15\r\ntxt:Some string\r\n=4\r\ntxt:\r\n", [b"Some string", b""]),
    (b"*2\r\n%1\r\n+k\r\n~1\r\n:1\r\n_\r\n", [[{b"k": [1]}, None]]),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=lambda v: repr(v[:24]) if isinstance(v, bytes) else None)
def test_cases_three_ways(make, data, expected):
    check_three_ways(make, data, expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"!21\r\nSYNTAX invalid syntax\r\n", [ResponseError("SYNTAX invalid syntax")]),
        (b"(3492890328409238509324850943850943825024385\r\n", [3492890328409238509324850943850943825024385]),
        # attributes are dropped, at the top level and inside aggregates
        (b"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:5\r\n", [5]),
        (b"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", [[1, 2]]),
        (b"|0\r\n:7\r\n", [7]),
    ],
)
def test_pure_reader_only_types(data, expected):
    """Types hiredis 3.x handles differently: `!` (unsupported), `(` (bytes), `|` (returned)."""
    check_three_ways(lambda **kw: Reader(notEnoughData=NOT_ENOUGH, **kw), data, expected)


def test_known_hiredis_differences():
    if _hiredis is None:
        pytest.skip("hiredis is not installed")
    r = _hiredis.Reader()
    r.feed(b"(12345678901234567890\r\n")
    assert r.gets() == b"12345678901234567890"  # we return an int, as the RESP3 spec means


@pytest.mark.parametrize(
    "data",
    [b"?\r\n", b":abc\r\n", b"$abc\r\n", b"$-2\r\n", b"*-2\r\n", b"*x\r\n", b"#x\r\n", b"_x\r\n",
     b",1.5x\r\n", b"=3\r\nabc\r\n", b"%1\r\n*1\r\n:1\r\n:2\r\n"],
)
def test_protocol_errors_raise_and_stay(make, data):
    reader = make()
    reader.feed(data)
    exc_types = (ProtocolError, TypeError) if data.startswith(b"%") else ProtocolError
    with pytest.raises(exc_types):
        reader.gets()
    if not data.startswith(b"%"):  # hiredis raises TypeError for an unhashable key, once
        with pytest.raises(ProtocolError):
            reader.gets()


def test_error_replies_are_returned_not_raised(make):
    reader = make(replyError=ValueError)
    reader.feed(b"-WRONGTYPE Operation against a key\r\n+OK\r\n-ERR \xff\r\n")
    first, second, third = drain(reader)
    assert type(first) is ValueError and str(first) == "WRONGTYPE Operation against a key"
    assert second == b"OK"
    assert str(third) == "ERR \ufffd"  # errors decode with "replace", encoding or not


def test_encoding(make):
    data = b"+OK\r\n$2\r\n\xc3\xa9\r\n%1\r\n$1\r\nk\r\n*1\r\n+v\r\n=8\r\ntxt:abcd\r\n:1\r\n"
    check_three_ways(make, data, ["OK", "é", {"k": ["v"]}, "abcd", 1], encoding="utf-8")
    reader = make(encoding="utf-8")
    reader.feed(b"$1\r\na\r\n+OK\r\n")
    assert reader.gets(False) == b"a"  # shouldDecode=False for one call
    assert reader.gets() == "OK"


def test_set_encoding(make):
    reader = make()
    reader.feed(b"+a\r\n+b\r\n+c\xff\r\n")
    assert reader.gets() == b"a"
    reader.set_encoding("utf-8")
    assert reader.gets() == "b"
    reader.set_encoding("ascii", "ignore")
    assert reader.gets() == "c"
    with pytest.raises(LookupError):
        make(encoding="no-such-codec")


def test_decode_error_skips_the_whole_reply_and_goes_on(make):
    reader = make(encoding="utf-8")
    reader.feed(b"$1\r\n\xff\r\n:5\r\n*2\r\n$1\r\n\xff\r\n:1\r\n:6\r\n")
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    assert reader.gets() == 5
    with pytest.raises(UnicodeDecodeError):
        reader.gets()
    assert reader.gets() == 6
    assert reader.gets() is NOT_ENOUGH


def test_feed_offset_length_and_bytes_like(make):
    reader = make()
    reader.feed(b"xx+OK\r\nyy", 2, 5)
    reader.feed(bytearray(b":1\r\n"))
    reader.feed(memoryview(b"__$1\r\na\r\n"), 2)
    assert drain(reader) == [b"OK", 1, b"a"]


def test_not_enough_data_default_is_false():
    reader = Reader()
    assert reader.gets() is False
    reader.feed(b"$3\r\nab")
    assert reader.gets() is False
    assert reader.has_data()
    assert reader.len() == 6


def test_big_bulk_in_small_chunks_is_linear(make):
    value = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    data = b"$%d\r\n%b\r\n" % (len(value), value)
    reader = make()
    started = time.perf_counter()
    for i in range(0, len(data), 1024):
        reader.feed(data[i : i + 1024])
        reply = reader.gets()
    assert reply == value
    assert time.perf_counter() - started < 5  # linear: ~0.1 s; quadratic: minutes


def test_big_array_in_small_chunks_resumes():
    data = b"*20000\r\n" + b"$10\r\nxxxxxxxxxx\r\n" * 20000
    reader = Reader(notEnoughData=NOT_ENOUGH)
    for i in range(0, len(data), 4096):
        reader.feed(data[i : i + 4096])
        reply = reader.gets()
        assert reader.len() < 64  # finished elements leave the buffer; only one is re-read
    assert reply == [b"xxxxxxxxxx"] * 20000


def test_make_reader():
    reader = make_reader()
    assert type(reader).__name__ == "Reader"
    assert reader_module.READER_IMPL == ("hiredis" if reader_module.HIREDIS_AVAILABLE else "python")
    assert isinstance(reader, _hiredis.Reader if _hiredis is not None else Reader)
    reader.feed(b"-ERR x\r\n*1\r\n")
    assert isinstance(reader.gets(), ResponseError)
    reader.feed(b"?\r\n")
    with pytest.raises(ProtocolError):
        reader.gets()
