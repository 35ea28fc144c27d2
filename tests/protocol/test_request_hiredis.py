"""HiredisRequestParser: the hiredis path must give exactly the pure parser's commands and errors.

The generic cases of test_request.py already run over every parser in PARSERS; these attack the
guards of the hiredis path (module docstring of kvstore.protocol.request): reads that end
mid-command, huge headers, RESP3 types hiredis accepts where Redis wants `$` or `*`, garbage after
good commands, unauthenticated clients, plus a seeded differential fuzz against the pure parser.
"""

from __future__ import annotations

import random
import time

import pytest

from kvstore.errors import ProtocolError
from kvstore.protocol import request
from kvstore.protocol.request import (
    ERR_BIG_INLINE,
    ERR_INVALID_BULK,
    ERR_UNAUTH_MULTIBULK,
    PROTO_INLINE_MAX_SIZE,
    PythonRequestParser,
)

from .test_request import multibulk, run

pytest.importorskip("hiredis")
HiredisRequestParser = request.HiredisRequestParser

SET = multibulk(b"SET", b"k", b"v")
GET = multibulk(b"GET", b"k")


def both(chunks, **kwargs):
    """(commands, error) from each parser; the test asserts they are equal."""
    return run(PythonRequestParser(**kwargs), chunks), run(HiredisRequestParser(**kwargs), chunks)


def used_hiredis(data: bytes, **kwargs) -> bool:
    parser = HiredisRequestParser(**kwargs)
    return parser._hiredis(data) is not None


def test_default_parser_is_the_hiredis_one():
    assert request.RequestParser is HiredisRequestParser
    assert set(request.PARSERS) == {"python", "hiredis"}


def test_plain_pipeline_takes_the_hiredis_path():
    data = SET * 10 + GET * 10
    assert used_hiredis(data)
    parser = HiredisRequestParser()
    parser.feed(data)
    assert parser.buffered() == len(data)
    assert parser.get_commands() == [[b"SET", b"k", b"v"]] * 10 + [[b"GET", b"k"]] * 10
    assert parser.buffered() == 0 and parser.get_commands() == []


LONG_SET = multibulk(b"SET", b"key:000000000001", b"v" * 20)  # reads over _HIREDIS_MIN_READ


@pytest.mark.parametrize("cut", range(1, len(LONG_SET + GET)))
def test_read_split_mid_command_falls_back_and_resumes(cut):
    data = LONG_SET + GET + LONG_SET + LONG_SET
    first, second = data[:cut], data[cut:]
    py, hi = both([first, second])
    assert hi == py
    parser = HiredisRequestParser()
    parser.feed(first)
    got = parser.get_commands()
    parser.feed(second)
    got += parser.get_commands()
    long_set = [b"SET", b"key:000000000001", b"v" * 20]
    assert got == [long_set, [b"GET", b"k"], long_set, long_set]
    # the partial command stayed with the pure parser; once it is empty, hiredis is used again
    assert parser._fast is None and parser.buffered() == 0
    parser.feed(GET * 4)
    assert parser._fast is not None
    assert parser.get_commands() == [[b"GET", b"k"]] * 4


def test_single_command_reads_take_the_pure_path():
    # hiredis pays off from two commands per read; its results would be the same
    for data in (SET, multibulk(b"SET", b"k", b"v" * 100), GET * 3):
        parser = HiredisRequestParser()
        parser.feed(data)
        assert parser._fast is None
        assert parser.get_commands() == run(PythonRequestParser(), [data])[0]
        assert used_hiredis(data)
    parser = HiredisRequestParser()
    parser.feed(GET * 4)  # 80 bytes, two commands or more
    assert parser._fast is not None


def test_two_feeds_before_get_commands():
    parser = HiredisRequestParser()
    parser.feed(SET)
    parser.feed(GET)
    assert parser.get_commands() == [[b"SET", b"k", b"v"], [b"GET", b"k"]]


@pytest.mark.parametrize("data", [b"*2147483647\r\n", b"*1\r\n*2147483647\r\n",
                                  b"*2\r\n$1\r\na\r\n*999999\r\n", b"*100000\r\n$1\r\na\r\n"])
def test_huge_counts_never_reach_hiredis(data):
    started = time.perf_counter()
    assert not used_hiredis(data)
    py, hi = both([data])
    assert py == hi
    assert time.perf_counter() - started < 0.5


class RecordingReader:
    """hiredis.Reader that records what it is fed."""
    fed: list[bytes] = []

    def __init__(self):
        import hiredis
        self._reader = hiredis.Reader()

    def feed(self, data):
        RecordingReader.fed.append(bytes(data))
        self._reader.feed(data)

    def __getattr__(self, name):
        return getattr(self._reader, name)


@pytest.mark.parametrize("kind", [b"*", b"~", b">", b"|", b"%"])
@pytest.mark.parametrize("shape", ["alone", "after an argument", "in a pipeline"])
def test_huge_aggregate_counts_of_every_type_never_reach_hiredis(monkeypatch, kind, shape):
    # hiredis sizes a set or push from its header: `>999999999` took 7.6 GB and 20 s.
    import hiredis
    monkeypatch.setattr(request, "_hiredis", type("H", (), {
        "Reader": RecordingReader, "HiredisError": hiredis.HiredisError}))
    RecordingReader.fed = []
    huge = kind + b"999999999\r\n"
    data = {"alone": b"*1\r\n" + huge,
            "after an argument": b"*2\r\n$4\r\nECHO\r\n" + huge,
            "in a pipeline": GET * 3 + b"*1\r\n" + huge + GET}[shape]
    parser = HiredisRequestParser()
    got = run_take_one(parser, [data])
    assert got == run(PythonRequestParser(), [data])
    assert not any(huge in fed for fed in RecordingReader.fed)


def test_count_below_the_guard_is_fine():
    data = multibulk(*[b"x"] * 99999)
    assert used_hiredis(data)
    assert both([data])[0] == both([data])[1] == ([[b"x"] * 99999], None)


@pytest.mark.parametrize("data", [
    b"*2\r\n$4\r\nECHO\r\n+PING\r\n",            # simple string where Redis wants `$`
    b"*3\r\n$4\r\nECHO\r\n$1\r\naZZ+PING\r\n$1\r\nb\r\n",  # after the 2 unchecked bytes
    b"*2\r\n$4\r\nECHO\r\n=8\r\ntxt:abcd\r\n",   # verbatim string
    b"*2\r\n$4\r\nECHO\r\n(123\r\n",             # big number
    b"*2\r\n$4\r\nECHO\r\n:1\r\n",               # integer
    b"*2\r\n$4\r\nECHO\r\n$-1\r\n",              # null bulk
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",    # nested array
    b"*2\r\n$4\r\nECHO\r\n_\r\n",
    b"*2\r\n$4\r\nECHO\r\n-ERR\r\n",
    b"*1\r\n$4\r\nPING\r\n~1\r\n$4\r\nPING\r\n",  # set at the top level: inline for Redis
    b"*1\r\n$4\r\nPINGZZ>1\r\n$4\r\nPING\r\n",    # push after the two unchecked bytes
    b"*1\r\n$4\r\nPINGZZ|1\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n",  # attribute
    b"*1\r\n$4\r\nPINGZZ%1\r\n$1\r\na\r\n$1\r\nb\r\n",
    b"*1\r\n$4\r\nPING\r\n+PING\r\n",
    b"*1\r\n$4\r\nPING\r\n*0\r\n*1\r\n$4\r\nPING\r\n",  # `*0` is a no-op, not our sentinel
    b"*1\r\n$4\r\nPING\r\n*0\r\n",
    b"*1\r\n$4\r\nPING\r\n*-1\r\n",
    b"*1\r\n$03\r\nabc\r\n",
    b"*1\r\n$3\rXabc\r\n",
    b"*1\r\n$536870913\r\n",
    b"*1\r\n$" + b"1" * 30 + b"\r\n",
    b"*1\r\n$4\r\nPING\r\n*1\r",
    b"*1\r\n$4\r\nPING\r\n*",
])
def test_lookalike_types_and_odd_framing_give_the_pure_parsers_result(data):
    py, hi = both([data])
    assert hi == py
    bytewise = [data[i:i + 1] for i in range(len(data))]
    assert both(bytewise)[1] == py


@pytest.mark.parametrize("lookalike", [
    b"*2\r\n$4\r\nECHO\r\n+PING\r\n",             # hiredis: ECHO with b"PING"
    b"*2\r\n$4\r\nECHO\r\n=8\r\ntxt:abcd\r\n",    # ECHO with b"abcd"
    b"*2\r\n$4\r\nECHO\r\n(123\r\n",               # big number
    b"~1\r\n$4\r\nPING\r\n",                         # a set that looks like a command
    b">1\r\n$4\r\nPING\r\n",                         # a push, likewise
    b"|1\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$4\r\nPING\r\n",  # an attribute before a command
    b"%1\r\n$4\r\nPING\r\n$1\r\nx\r\n",             # a map, whose keys join like bytes
])
def test_lookalikes_inside_a_pipeline_give_the_pure_parsers_result(lookalike):
    # Between two plain commands in a read long enough to go to hiredis (a lone command or a
    # short read goes to the pure parser first): each lookalike byte must send it back.
    data = LONG_SET + lookalike + GET
    parser = HiredisRequestParser()
    parser.feed(data)
    assert parser._fast is not None
    py, hi = both([data])
    assert hi == py


def test_canonical_values_holding_type_bytes_still_use_hiredis():
    data = multibulk(b"SET", b"a+b=c~d>e|f%g(h", b"\r\n+OK\r\n$3\r\n*1\r\n")
    assert used_hiredis(data)
    assert both([data])[1] == ([[b"SET", b"a+b=c~d>e|f%g(h", b"\r\n+OK\r\n$3\r\n*1\r\n"]], None)


@pytest.mark.parametrize("value, fast", [(b"v" * 100, True), (b"v" * 1000, True),
                                         (b"v" * 2000, False), (b"v=" * 30, True),
                                         (b"v=" * 100, False)])
def test_long_arguments_go_to_the_pure_parser(value, fast):
    # Its slices cost less than hiredis behind the scans of its guards from about 512 bytes an
    # argument, or 64 with a lookalike byte (which adds a scan and the canonical check)
    data = multibulk(b"SET", b"k", value) * 16
    assert used_hiredis(data) == fast
    assert both([data])[1] == ([[b"SET", b"k", value]] * 16, None)
    mset = multibulk(b"MSET", *[b"k", value] * 20)  # one command of many arguments alike
    assert used_hiredis(mset) == fast
    assert both([mset])[1] == ([[b"MSET", *[b"k", value] * 20]], None)


def test_garbage_after_good_commands_runs_them_then_errors():
    data = SET + GET + b"*1\r\n$x\r\n" + SET
    py, hi = both([data])
    assert hi == py == ([[b"SET", b"k", b"v"], [b"GET", b"k"]], "ERR Protocol error: invalid bulk length")
    assert both([SET + b"*1\r\n$-5\r\n"])[1] == ([[b"SET", b"k", b"v"]], ERR_INVALID_BULK)


def test_unauthenticated_clients_never_use_hiredis():
    parser = HiredisRequestParser(authenticated=False)
    parser.feed(multibulk(b"AUTH", b"pw") + multibulk(*[b"a"] * 20))
    assert parser._fast is None
    assert parser.get_commands() == [[b"AUTH", b"pw"]]
    with pytest.raises(Exception, match="unauthenticated multibulk length"):
        parser.get_commands()
    assert both([multibulk(*[b"a"] * 11)], authenticated=False)[1] == ([], ERR_UNAUTH_MULTIBULK)


def test_inline_limit_is_the_pure_parsers():
    data = b"*" + b"1" * (PROTO_INLINE_MAX_SIZE + 1)
    assert both([data]) == (([], "ERR Protocol error: too big mbulk count string"),) * 2
    inline = SET + b"x" * (PROTO_INLINE_MAX_SIZE + 1)
    assert both([inline])[1] == ([[b"SET", b"k", b"v"]], ERR_BIG_INLINE)


def test_small_configured_limits_disable_the_fast_path():
    assert both([SET], max_bulk_len=2)[1] == ([], ERR_INVALID_BULK)
    assert both([SET], max_multibulk_len=2)[1] == ([], "ERR Protocol error: invalid multibulk length")


# --- differential fuzz ---------------------------------------------------------------------------

_TYPE_BYTES = b"*$+-:_,#!=(%~>|\r\n0123456789"


def _random_pipeline(rng: random.Random) -> bytes:
    cmds = [LONG_SET] if rng.random() < 0.5 else []  # long enough for the hiredis path
    for _ in range(rng.randint(1, 6)):
        args = [bytes(rng.choice(b"ab+=$*\r\n:%~|(>-0123") for _ in range(rng.randint(0, 6)))
                for _ in range(rng.randint(1, 4))]
        cmds.append(multibulk(*args))
    return b"".join(cmds)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(0, 3)):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.5:
            data[i] = rng.choice(_TYPE_BYTES)
        elif op < 0.75:
            data.insert(i, rng.choice(_TYPE_BYTES))
        else:
            del data[i]
    return bytes(data)


def test_seeded_differential_fuzz_against_the_pure_parser():
    rng = random.Random(20240611)
    fast = 0
    for _ in range(6000):
        data = _mutate(rng, _random_pipeline(rng))
        cut = rng.randint(1, max(1, len(data)))
        for chunks in ([data], [data[:cut], data[cut:]]):
            py = run(PythonRequestParser(), chunks)
            assert run(HiredisRequestParser(), chunks) == py, (data, chunks)
        fast += data[:1] == b"*" and used_hiredis(data)
    assert fast > 1000  # the fast path was really exercised


# --- take_one: the server's one-command-per-read path ---------------------------------------------

def run_take_one(parser, chunks):
    """The server's use: take_one() each read; when it declines, take() and get_commands()."""
    out = []
    for chunk in chunks:
        one = parser.take_one(chunk)
        if one is not None:
            out.append(one)
            continue
        try:
            batch = parser.take(chunk)
            while batch:
                out += batch
                batch = parser.get_commands()
        except ProtocolError as exc:
            return out, str(exc)
    return out, None


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
def test_take_one_takes_exactly_one_small_command(parser_class):
    parser = parser_class()
    assert parser.take_one(SET) == [b"SET", b"k", b"v"]
    assert parser.take_one(GET) == [b"GET", b"k"]
    assert parser.take_one(b"*1\r\n$4\r\nPING\r\n") == [b"PING"]
    assert parser.buffered() == 0
    # a bulk holding a line end (the split at line ends declines it; the command is still taken)
    assert parser.take_one(multibulk(b"SET", b"a\r\nb", b"\r\n")) == [b"SET", b"a\r\nb", b"\r\n"]
    # lookalike bytes inside bulk strings (a script): taken, once the bytes prove canonical
    script = multibulk(b"EVAL", b"return redis.call('incr', KEYS[1]) + 1 % 2", b"0")
    assert parser.take_one(script) == [b"EVAL", b"return redis.call('incr', KEYS[1]) + 1 % 2",
                                       b"0"]
    # one plain inline line (redis-benchmark's ping_inline, telnet), split as Redis splits it
    assert parser.take_one(b"PING\r\n") == [b"PING"]
    assert parser.take_one(b" SET  k\tv \r\n") == [b"SET", b"k", b"v"]
    assert parser.take_one(b"GET k\n") == [b"GET", b"k"]
    assert parser.buffered() == 0


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
@pytest.mark.parametrize("data", [
    SET + GET,                          # two commands
    SET[:-1],                           # a partial one
    b"*1\r\n$4\r\nPING\r\n*0\r\n",      # a no-op after it
    b"*1\r\n$4\r\nPING\r\n*1",          # the start of another
    b"*1\r\n$5\r\nPING\r\n",             # a bulk shorter than its header says
    b"*2\r\n$4\r\nECHO\r\n+PING\r\n",   # a lookalike type
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n",
    b"*1\r\n*9999999\r\n",              # a huge nested count never reaches hiredis
    b"*2\r\n$200\r\n" + b"x" * 200 + b"\r\n*9999999\r\n",  # ... in a long read too
    b"*12\r\n" + b"$1\r\na\r\n" * 3,
    b"PING\r\nPING\r\n",                # two inline lines
    b'SET k "a b"\r\n',                 # quoted
    b"KEYS *\r\n",                      # a `*` (a line may start a multibulk)
    b"GET k\x0b\r\n",                   # a byte Redis's line split treats apart
    b"\r\n   \r\n",                      # blank lines
    b"PING",                            # no line end yet
    b"",
])
def test_take_one_declines_and_consumes_nothing(parser_class, data):
    parser = parser_class()
    assert parser.take_one(data) is None
    assert run_take_one(parser_class(), [data]) == run(PythonRequestParser(), [data])


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
@pytest.mark.parametrize("size", [100, 999, 1000, 4096, 65536, 300_000])
def test_take_one_takes_one_command_with_a_long_value(parser_class, size):
    # (a value over 99 bytes went through the batch path: 3 us more a read, most of a 4 KB SET)
    value = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    data = multibulk(b"SET", b"key", value)
    parser = parser_class()
    assert parser.take_one(data) == [b"SET", b"key", value]
    assert parser.buffered() == 0
    assert parser.take_one(GET) == [b"GET", b"k"]


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
@pytest.mark.parametrize("header, size", [
    (b"$01000", 1000), (b"$1000\rX", 1000), (b"$1001", 1000), (b"$999", 1000),
    (b"$1000x", 1000), (b"$-1000", 1000), (b"$+1000", 1000), (b"$99999999999999", 1000),
    (b"%1000", 1000), (b"$2500", 2500)])
def test_take_one_leaves_long_headers_it_cannot_read_to_the_parser(parser_class, header, size):
    # Not canonical, or not the value's length, or over proto-max-bulk-len (2000 here): the
    # batch path's answer, error included
    data = b"*2\r\n$3\r\nSET\r\n" + header + b"\r\n" + b"v" * size + b"\r\n"
    parser = parser_class(max_bulk_len=2000)
    assert parser.take_one(data) is None
    assert parser.buffered() == 0
    assert run_take_one(parser_class(max_bulk_len=2000), [data]) \
        == run(PythonRequestParser(max_bulk_len=2000), [data])


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
def test_take_one_wants_a_long_header_ended_by_a_line_end(parser_class):
    # `$1000\rX` then the value: no line end after the header, which Redis refuses
    data = b"*2\r\n$3\r\nSET\r\n$1000\rX" + b"v" * 1000 + b"\r\n"
    assert parser_class().take_one(data) is None
    assert run_take_one(parser_class(), [data]) == run(PythonRequestParser(), [data])


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
def test_take_one_declines_while_a_command_is_partly_read(parser_class):
    parser = parser_class()
    assert parser.take(SET[:7]) == []
    assert parser.take_one(SET[7:]) is None  # the rest of a command, not one of its own
    assert parser.take(SET[7:]) == [[b"SET", b"k", b"v"]]


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
def test_take_one_declines_before_auth(parser_class):
    assert parser_class(authenticated=False).take_one(GET) is None


@pytest.mark.parametrize("parser_class", [PythonRequestParser, HiredisRequestParser])
def test_take_one_seeded_differential_fuzz(parser_class):
    rng = random.Random(20261205)
    taken = 0
    for _ in range(4000):
        reads = []
        for _ in range(rng.randint(1, 4)):
            args = [bytes(rng.choice(b"ab+=$*\r\n:%~|(>-0123") for _ in range(rng.randint(0, 5)))
                    for _ in range(rng.randint(1, 5))]
            data = multibulk(*args)
            if rng.random() < 0.2:  # an inline line instead, plain or not
                data = b" ".join(args).replace(b"\r\n", b" ") + rng.choice([b"\r\n", b"\n", b""])
            if rng.random() < 0.3:
                data = _mutate(rng, data)
            if rng.random() < 0.2 and len(data) > 1:  # split a command across reads
                cut = rng.randrange(1, len(data))
                reads += [data[:cut], data[cut:]]
            else:
                reads.append(data)
        parser = parser_class()
        got = run_take_one(parser, reads)
        assert got == run(PythonRequestParser(), reads), reads
        taken += sum(parser_class().take_one(r) is not None for r in reads[:1])
    assert taken > 500  # the short path was really exercised


@pytest.mark.parametrize("data", [
    b"*1\r\n*9999999\r\n",
    b"*2\r\n$200\r\n" + b"x" * 200 + b"\r\n*9999999\r\n",
])
def test_take_one_keeps_a_huge_nested_count_from_hiredis(data):
    """hiredis sizes a list from its header: `*9999999` would allocate 80 MB, and whatever is
    allocated is walked again at release. take_one must not feed such a read to it, short or
    long."""
    class Untouchable:
        def feed(self, data):
            raise AssertionError("the read reached hiredis")

    parser = HiredisRequestParser()
    parser._reader = Untouchable()
    assert parser.take_one(data) is None
