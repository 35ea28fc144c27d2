"""kvstore.numbers: Redis 7.0's number syntax and formatting, checked against tables of values
taken from redis-server 7.0.15 and, when it is installed, against the live server."""

from __future__ import annotations

import math
import random
import shutil
import socket
import subprocess
import threading
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvstore.numbers import (
    add_long_double,
    format_double,
    format_long_double,
    incrbyfloat,
    parse_float,
    parse_int,
    parse_long_double,
)
from kvstore.protocol.encoder import pack_command
from kvstore.protocol.reader import Reader

# --- parse_int (string2ll) -----------------------------------------------------------------------

INT_OK = [(b"0", 0), (b"1", 1), (b"-1", -1), (b"123", 123), (b"9223372036854775807", 2**63 - 1),
          (b"-9223372036854775808", -(2**63))]
INT_BAD = [b"", b"-", b"+1", b"01", b"-0", b"00", b" 1", b"1 ", b"1_0", b"1.0", b"1e3", b"0x10",
           b"9223372036854775808", b"-9223372036854775809", b"\xd9\xa1", b"12345678901234567890123",
           b"1\x00", b"abc", b"--1", b"\t1"]


@pytest.mark.parametrize(("text", "value"), INT_OK)
def test_parse_int_accepts(text, value):
    assert parse_int(text) == value


@pytest.mark.parametrize("text", INT_BAD)
def test_parse_int_rejects(text):
    with pytest.raises(ValueError):
        parse_int(text)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_parse_int_round_trip(n):
    assert parse_int(b"%d" % n) == n


# --- parse_float (string2d) ----------------------------------------------------------------------

FLOAT_OK = [(b"1.1", 1.1), (b"0", 0.0), (b"-0", -0.0), (b"3.0", 3.0), (b".5", 0.5), (b"5.", 5.0),
            (b"+1.5", 1.5), (b"1e20", 1e20), (b"1E-5", 1e-5), (b"inf", math.inf), (b"+inf", math.inf),
            (b"-inf", -math.inf), (b"INF", math.inf), (b"Infinity", math.inf), (b"-iNfInItY", -math.inf),
            (b"0x10", 16.0), (b"0X1.8p1", 3.0), (b"-0x.8", -0.5), (b"0e-400", 0.0), (b"1e-320", 1e-320),
            (b"1.7976931348623157e308", 1.7976931348623157e308)]
FLOAT_BAD = [b"", b" 1", b"1 ", b"\t1", b"nan", b"NaN", b"-nan", b"1_0", b"1e", b"1e+", b".", b"e5",
             b"1e400", b"-1e400", b"1e-400", b"0x", b"0x1p99999", b"0x1p-99999", b"infinit", b"1.5x",
             b"1\x00", b"++1", b"0b1", b"\xef\xbc\x91"]


@pytest.mark.parametrize(("text", "value"), FLOAT_OK)
def test_parse_float_accepts(text, value):
    got = parse_float(text)
    assert got == value and math.copysign(1, got) == math.copysign(1, value)


@pytest.mark.parametrize("text", FLOAT_BAD)
def test_parse_float_rejects(text):
    with pytest.raises(ValueError):
        parse_float(text)


# --- format_double (addReplyDouble, %.17g) -------------------------------------------------------

DOUBLES = [(1.1, b"1.1000000000000001"), (0.0, b"0"), (-0.0, b"-0"), (1e20, b"1e+20"), (3.0, b"3"),
           (math.inf, b"inf"), (-math.inf, b"-inf"), (0.1, b"0.10000000000000001"),
           (1e16, b"10000000000000000"), (1e17, b"1e+17"), (1e-5, b"1.0000000000000001e-05"),
           (0.0001, b"0.0001"), (1.23e-18, b"1.23e-18"), (-100.25, b"-100.25"),
           (123456789.123456789, b"123456789.12345679"), (1e-320, b"9.9998886718268301e-321"),
           (1.7976931348623157e308, b"1.7976931348623157e+308")]


@pytest.mark.parametrize(("value", "text"), DOUBLES)
def test_format_double(value, text):
    assert format_double(value) == text


@given(st.floats(allow_nan=False))
def test_format_double_round_trips(x):
    back = parse_float(format_double(x))
    assert back == x and math.copysign(1, back) == math.copysign(1, x)


# --- long doubles: INCRBYFLOAT -------------------------------------------------------------------

# (current value, increment, new value) from redis-server 7.0.15 on x86-64 (80-bit long double)
INCRBYFLOAT = [
    (b"10.5", b"0.1", b"10.6"),
    (b"10.6", b"5.0e3", b"5010.60000000000000009"),
    (b"0.1", b"0.2", b"0.3"),
    (b"0", b"1e20", b"100000000000000000000"),
    (b"0", b"1e30", b"1000000000000000000024696061952"),
    (b"0", b"-0", b"0"),
    (b"1", b"-1", b"0"),
    (b"3", b"1.5", b"4.5"),
    (b"5", b"1e-20", b"5"),
    (b"0", b"0x10", b"16"),
    (b"0", b"+1.5", b"1.5"),
    (b"1.0", b"0", b"1"),
    (b"0", b"123456789.123456789", b"123456789.12345678899873747"),
    (b"0", b"1e-7", b"0.0000001"),
    (b"1", b"1e17", b"100000000000000001"),
    (b"1", b"3.14159265358979323846264338327950288", b"4.14159265358979324"),
    (b"0", b"1e-18", b"0"),
    (b"0", b"-1e-18", b"0"),
    (b"0", b"5e-4951", b"0"),
    (b"0", b"1.23456789012345678901234567890e-3", b"0.00123456789012346"),
    (None, b"2.5", b"2.5"),
    (b"0", b"1.7976931348623157e308", b"179769313486231569995921046774104434048386446944329178485314"
     b"420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026"
     b"477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333"
     b"598953852832103282504751611691208117720159985926376802466863339536384"),
]


@pytest.mark.parametrize(("current", "increment", "result"), INCRBYFLOAT)
def test_incrbyfloat(current, increment, result):
    assert incrbyfloat(current, increment) == result


def test_incrbyfloat_huge_values_have_no_digit_limit():
    # beyond Python's 4300-digit int<->str limit; LDBL_MAX is ~1.19e4932
    assert incrbyfloat(b"0", b"1e4932").startswith(b"10000000000000000000060189493879638913238")
    assert len(incrbyfloat(b"0", b"1e4932")) == 4933
    assert incrbyfloat(b"1e400", b"0")[:25] == b"1000000000000000000028188"


@pytest.mark.parametrize(
    ("current", "increment"),
    [(b"0", b"1e-5000"), (b"0", b"1e5000"), (b"0", b"nan"), (b"0", b" 1"), (b"0", b"1e"),
     (b"0", b"1e-4952"), (b"0", b"1\x00"), (b"abc", b"1"), (b"0", b"1" * 5120), (b"", b"1")],
)
def test_incrbyfloat_not_a_float(current, increment):
    with pytest.raises(ValueError):
        incrbyfloat(current, increment)


@pytest.mark.parametrize(("current", "increment"), [(b"0", b"inf"), (b"0", b"-INFINITY"), (b"inf", b"-inf"),
                                                    (b"1e4932", b"1e4932")])
def test_incrbyfloat_nan_or_infinity(current, increment):
    with pytest.raises(OverflowError):
        incrbyfloat(current, increment)


def test_long_double_helpers():
    tenth = parse_long_double(b"0.1")
    assert isinstance(tenth, Fraction) and tenth != Fraction(1, 10)  # rounded to 64 bits
    assert abs(tenth - Fraction(1, 10)) < Fraction(1, 10) * Fraction(1, 2**64)
    assert add_long_double(tenth, math.inf) == math.inf
    assert math.isnan(add_long_double(math.inf, -math.inf))
    assert format_long_double(0.5) == b"0.5"
    assert format_long_double(-2) == b"-2"
    assert format_long_double(Fraction(1, 3)) == b"0.33333333333333333"
    assert format_long_double(math.inf) == b"inf"


# --- the live oracle -----------------------------------------------------------------------------


class Oracle:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.reader = Reader(notEnoughData=Oracle)

    def __call__(self, *args: bytes | str):
        """One command's reply, parsed (an error reply comes back as a ResponseError)."""
        self.sock.sendall(pack_command(*args))
        while (reply := self.reader.gets()) is Oracle:
            self.reader.feed(self.sock.recv(65536))
        return reply


@pytest.fixture(scope="module")
def redis70():
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed: oracle comparisons need the real Redis 7.0")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--logfile", ""],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        version = ""
        for line in proc.stdout:  # wait for readiness by reading the log: no sleeping
            if b"version=" in line:
                version = line.split(b"version=", 1)[1].split(b",", 1)[0].decode()
            if b"Ready to accept connections" in line:
                break
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        if not version.startswith("7.0."):
            pytest.skip(f"needs redis-server 7.0.x (its number formatting), found {version}")
        oracle = Oracle(port)
        yield oracle
        oracle.sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _random_number_strings(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)  # deterministic: the same strings on every run
    out = []
    for _ in range(count):
        mantissa = rng.choice(["", "-", "+"]) + str(rng.randint(0, 10**rng.randint(0, 20)))
        if rng.random() < 0.6:
            mantissa += "." + str(rng.randint(0, 10**rng.randint(0, 19)))
        if rng.random() < 0.4:
            mantissa += "e" + str(rng.randint(-330, 330))
        out.append(mantissa.encode())
    return out


ORACLE_NUMBERS = [t for t, _ in FLOAT_OK] + FLOAT_BAD + [t for t, _ in INT_OK] + INT_BAD + [
    b"1e-310", b"4.9e-324", b"2.5e-324", b"0x1p-1074", b"1e308", b"123456789012345678901234567890",
] + _random_number_strings(7, 150)


def test_oracle_parse_and_format_double(redis70):
    for text in ORACLE_NUMBERS:
        if b"\x00" in text:
            continue
        reply = redis70("ZADD", "z", text, "m")
        try:
            value = parse_float(text)
        except ValueError:
            assert isinstance(reply, Exception) and str(reply) == "ERR value is not a valid float", text
            continue
        assert reply in (0, 1), text
        # ZINCRBY by 0 replies the stored double itself (ZSCORE would too)
        assert redis70("ZINCRBY", "z", "0", "m") == format_double(value + 0.0), text


def test_oracle_parse_int(redis70):
    for text in ORACLE_NUMBERS:
        if b"\x00" in text:
            continue
        redis70("SET", "i", "0")
        reply = redis70("INCRBY", "i", text)
        try:
            value = parse_int(text)
        except ValueError:
            assert str(reply) == "ERR value is not an integer or out of range", text
            continue
        assert reply == value, text


def test_oracle_incrbyfloat(redis70):
    starts = [b"0", b"10.5", b"-3.25", b"1e20", b"0.1", b"123456.789"]
    for i, increment in enumerate(ORACLE_NUMBERS):
        if b"\x00" in increment:
            continue
        current = starts[i % len(starts)]
        redis70("SET", "f", current)
        reply = redis70("INCRBYFLOAT", "f", increment)
        try:
            expected = incrbyfloat(current, increment)
        except ValueError:
            assert str(reply) == "ERR value is not a valid float", increment
            continue
        except OverflowError:
            assert str(reply) == "ERR increment would produce NaN or Infinity", increment
            continue
        assert reply == expected, (current, increment)
