"""RequestParser: every case three ways (whole, byte by byte, with trailing partial data), for
every implementation in PARSERS; limits and error texts; fuzzing; redis-server as the oracle."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvstore.errors import ProtocolError
from kvstore.protocol.encoder import pack_command
from kvstore.protocol.request import (
    ERR_BIG_BULK,
    ERR_BIG_INLINE,
    ERR_BIG_MBULK,
    ERR_INVALID_BULK,
    ERR_INVALID_MULTIBULK,
    ERR_QUOTES,
    ERR_UNAUTH_BULK,
    ERR_UNAUTH_MULTIBULK,
    PARSERS,
    PROTO_INLINE_MAX_SIZE,
    RequestParser,
    split_inline,
)


@pytest.fixture(params=sorted(PARSERS))
def make_parser(request):
    return PARSERS[request.param]


def run(parser, chunks):
    """Feed chunks, taking commands after each (the server's loop); -> (commands, error text)."""
    out = []
    for chunk in chunks:
        parser.feed(chunk)
        try:
            while batch := parser.get_commands():
                out += batch
        except ProtocolError as exc:
            return out, str(exc)
    return out, None


def multibulk(*args):
    """A command as a client sends it (pack_command would split a first argument with spaces)."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


def bytewise(data):
    return [data[i : i + 1] for i in range(len(data))]


TRAILER = b"*2\r\n$3\r\nGET\r\n$3\r\nke"  # a partial command, completed by b"y\r\n"


def check_three_ways(make_parser, data, commands, error=None):
    assert run(make_parser(), [data]) == (commands, error)
    assert run(make_parser(), bytewise(data)) == (commands, error)
    if error is None:  # trailing partial data stays buffered, then completes
        parser = make_parser()
        assert run(parser, [data + TRAILER]) == (commands, None)
        assert parser.buffered() > 0
        assert parser.get_commands() == []
        assert run(parser, [b"y\r\n"]) == ([[b"GET", b"key"]], None)
        assert parser.buffered() == 0


# (input, commands, error): expectations checked against redis-server 7.0.15 (see test_oracle_*).
CASES = [
    (b"*1\r\n$4\r\nPING\r\n", [[b"PING"]], None),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", [[b"SET", b"k", b""]], None),
    (pack_command("SET", "k", "v" * 100), [[b"SET", b"k", b"v" * 100]], None),
    (pack_command("SET", "k", "v" * 5000), [[b"SET", b"k", b"v" * 5000]], None),
    (pack_command("SET", "k", "v" * 20000), [[b"SET", b"k", b"v" * 20000]], None),
    (pack_command("ECHO", b"a\r\nb\r\n$1\r\n*"), [[b"ECHO", b"a\r\nb\r\n$1\r\n*"]], None),
    (b"".join(pack_command("INCR", f"k{i}") for i in range(50)),
     [[b"INCR", b"k%d" % i] for i in range(50)], None),
    (pack_command(*[b"a"] * 1500), [[b"a"] * 1500], None),
    # no-op multibulk counts, as Redis
    (b"*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", [[b"PING"]], None),
    # the byte after a header's \r, and the 2 bytes after bulk data, are skipped unchecked
    (b"*1\rX$4\r\nPINGXY*1\r\n$4\r\nPING\r\n", [[b"PING"], [b"PING"]], None),
    # inline commands, mixed with multibulk
    (b"PING\r\n", [[b"PING"]], None),
    (b"PING\n", [[b"PING"]], None),
    (b"\r\n\n  \r\n\t\nPING\n", [[b"PING"]], None),
    (b"  SET   k  v  \r\n*1\r\n$4\r\nPING\r\nECHO x\n", [[b"SET", b"k", b"v"], [b"PING"], [b"ECHO", b"x"]], None),
    (b"ECHO a\rb\n", [[b"ECHO", b"a", b"b"]], None),
    (b'ECHO "a\\x41" \'b\\\'c\' ""\r\n', [[b"ECHO", b"aA", b"b'c", b""]], None),
    (b"+OK\r\n:1\r\n", [[b"+OK"], [b":1"]], None),  # reply-looking lines are inline commands
    # whole reads of plain inline lines (the parser's one-split path), and near misses
    (b"PING\r\nECHO a\r\n\r\nECHO b  c\r\nPING\n", [[b"PING"], [b"ECHO", b"a"],
                                                   [b"ECHO", b"b", b"c"], [b"PING"]], None),
    (b"PING\r\nECHO 'a b'\r\nPING\r\n", [[b"PING"], [b"ECHO", b"a b"], [b"PING"]], None),
    (b"PING\r\n*1\r\n$4\r\nPING\r\n", [[b"PING"], [b"PING"]], None),
    (b"ECHO a*b\r\nPING\r\n", [[b"ECHO", b"a*b"], [b"PING"]], None),
    # errors
    (b"*2147483648\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*01\r\n$4\r\nPING\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*+1\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*-0\r\n", [], ERR_INVALID_MULTIBULK),
    (b"* 1\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*x\r\n", [], ERR_INVALID_MULTIBULK),
    (b"*1\r\n$-1\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$+4\r\nPING\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$04\r\nPING\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$abc\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$536870913\r\n", [], ERR_INVALID_BULK),
    (b"*1\r\n$99999999999999999999\r\n", [], ERR_INVALID_BULK),
    (b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n:1\r\n", [], "ERR Protocol error: expected '$', got ':'"),
    (b"*1\r\n*1\r\n", [], "ERR Protocol error: expected '$', got '*'"),
    (b"*1\r\n\r\n", [], "ERR Protocol error: expected '$', got ' '"),
    (b"*1\r\n\n\r\n", [], "ERR Protocol error: expected '$', got ' '"),
    (b"*1\r\n\xff\r\n", [], "ERR Protocol error: expected '$', got '\udcff'"),
    (b'ECHO "abc\r\n', [], ERR_QUOTES),
    (b"ECHO 'abc\r\n", [], ERR_QUOTES),
    (b'ECHO "a"b\r\n', [], ERR_QUOTES),
    (b'ECHO "a\\"\r\n', [], ERR_QUOTES),
    # good commands first, then the error
    (b"*1\r\n$4\r\nPING\r\n*1\r\n$-1\r\n", [[b"PING"]], ERR_INVALID_BULK),
    (b"PING\r\n*1\r\n$4\r\nPING\r\nECHO 'x\r\n", [[b"PING"], [b"PING"]], ERR_QUOTES),
]


def case_id(value):
    return repr(value[:24]) if isinstance(value, bytes) else None


@pytest.mark.parametrize(("data", "commands", "error"), CASES, ids=case_id)
def test_cases_three_ways(make_parser, data, commands, error):
    check_three_ways(make_parser, data, commands, error)


def test_waiting_states_keep_data_buffered(make_parser):
    for partial in [b"*", b"*3", b"*3\r", b"*3\r\n", b"*3\r\n$3\r\nSET\r\n$1", b"*1\r\n$4\r\nPI",
                    b"*1\r\n$4\r\nPING\r", b"PING", b"PING\r", b"*2147483647\r\n",
                    b"*1\r\n$536870912\r\n"]:
        assert run(make_parser(), [partial]) == ([], None)
        assert run(make_parser(), bytewise(partial)) == ([], None)


def test_bulk_past_counts_the_bulk_being_waited_for_only(make_parser):
    # Redis's big-argument query buffer: the bulk and its CRLF, not its header, not what
    # came before it, not what follows it.
    parser = make_parser()
    head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n"
    assert run(parser, [head + b"x" * 400]) == ([], None)
    assert not parser.bulk_past(602, 1002)  # all 1002 bytes (bulk + CRLF) fit a 1002 limit
    assert parser.bulk_past(602, 1001)
    assert not parser.bulk_past(601, 1001)  # 1001 of them so far
    assert not parser.bulk_past(10**6, 1002)  # what follows the bulk is not its
    assert run(parser, [b"x" * 600 + b"\r\n*1\r\n$4\r\nPING\r\n"]) == (
        [[b"SET", b"k", b"x" * 1000], [b"PING"]], None)
    assert not parser.bulk_past(10**6, 10)  # no bulk waited for: nothing to say
    assert run(parser, [b"*1\r\n$2000"]) == ([], None)  # a header still arriving
    assert not parser.bulk_past(10**6, 10)


def test_error_is_sticky_and_deferred_after_good_commands(make_parser):
    parser = make_parser()
    parser.feed(b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$x\r\nPING\r\n")
    assert parser.get_commands() == [[b"PING"], [b"PING"]]
    assert str(parser.error) == ERR_INVALID_BULK
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        parser.get_commands()
    parser.feed(b"*1\r\n$4\r\nPING\r\n")  # nothing after an error is parsed
    with pytest.raises(ProtocolError):
        parser.get_commands()


def test_error_text_has_no_leading_dash(make_parser):
    parser = make_parser()
    parser.feed(b"*x\r\n")
    with pytest.raises(ProtocolError) as info:
        parser.get_commands()
    assert str(info.value) == "ERR Protocol error: invalid multibulk length"


# --- limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "error"),
    ids=case_id,
    argvalues=[
        (b"x" * (PROTO_INLINE_MAX_SIZE + 1), ERR_BIG_INLINE),
        (b"*" + b"1" * PROTO_INLINE_MAX_SIZE, ERR_BIG_MBULK),
        (b"*1\r\n$" + b"1" * PROTO_INLINE_MAX_SIZE, ERR_BIG_BULK),
        (b"*1\r\n%" + b"1" * PROTO_INLINE_MAX_SIZE, ERR_BIG_BULK),  # the line end comes first
        (b"PING\x00" + b"x" * PROTO_INLINE_MAX_SIZE + b"\r\n", ERR_BIG_INLINE),  # NUL hides \n
        (b"*1\x00" + b"1" * PROTO_INLINE_MAX_SIZE + b"\r\n", ERR_BIG_MBULK),
        (b"*1\r\n$4\x00" + b"1" * PROTO_INLINE_MAX_SIZE + b"\r\n", ERR_BIG_BULK),
    ],
)
def test_line_limits(make_parser, data, error):
    assert run(make_parser(), [data]) == ([], error)
    assert run(make_parser(), [data[:-2]] + bytewise(data[-2:])) == ([], error)
    # one byte less than the limit (and no line end) is still waiting, not an error
    assert run(make_parser(), [data[: PROTO_INLINE_MAX_SIZE]]) == ([], None)


def test_line_at_the_limit_with_its_end_is_fine(make_parser):
    line = b"ECHO " + b"x" * (PROTO_INLINE_MAX_SIZE - 5)
    assert run(make_parser(), [line + b"\r\n"]) == ([[b"ECHO", b"x" * (PROTO_INLINE_MAX_SIZE - 5)]], None)


def test_a_whole_inline_line_past_what_redis_reads_is_refused(make_parser):
    # Redis reads 16 KB at a time and refuses a line still without its end past 64 KB: a
    # 70 KB line can get through, a 100 KB one cannot, however it arrives
    ok = b"ECHO " + b"x" * 70_000
    assert run(make_parser(), [ok + b"\r\n"]) == ([[b"ECHO", b"x" * 70_000]], None)
    assert run(make_parser(), [b"ECHO " + b"x" * 100_000 + b"\r\n"]) == ([], ERR_BIG_INLINE)


def test_nul_in_a_line_hides_the_line_end_like_redis(make_parser):
    for data in [b"PING\x00\r\n", b"\x00PING\r\n", b"ECHO a\x00b\r\nPING\r\n", b"*1\x00\r\n$4\r\nPING\r\n",
                 b"*1\r\n$4\x00\r\nPING\r\n", b"*1\r\n\x00\r\n"]:
        assert run(make_parser(), [data]) == ([], None)


def test_configurable_bulk_limit(make_parser):
    parser = make_parser(max_bulk_len=10)
    assert run(parser, [pack_command("SET", "k", "x" * 10)]) == ([[b"SET", b"k", b"x" * 10]], None)
    assert run(make_parser(max_bulk_len=10), [pack_command("SET", "k", "x" * 11)]) == ([], ERR_INVALID_BULK)
    assert run(make_parser(max_multibulk_len=2), [pack_command("SET", "k", "v")]) == ([], ERR_INVALID_MULTIBULK)


def test_unauthenticated_limits(make_parser):
    def unauth(data):
        return run(make_parser(authenticated=False), [data])

    assert unauth(pack_command(*["a"] * 10)) == ([[b"a"] * 10], None)
    assert unauth(b"*11\r\n") == ([], ERR_UNAUTH_MULTIBULK)
    assert unauth(pack_command("AUTH", "x" * 16384)) == ([[b"AUTH", b"x" * 16384]], None)
    assert unauth(b"*1\r\n$16385\r\n") == ([], ERR_UNAUTH_BULK)
    assert unauth(b"*2147483648\r\n") == ([], ERR_INVALID_MULTIBULK)  # checked first
    assert unauth(b"*1\r\n$536870913\r\n") == ([], ERR_INVALID_BULK)
    assert unauth(b"*-5\r\nPING\r\n") == ([[b"PING"]], None)


def test_unauthenticated_parser_returns_one_command_at_a_time(make_parser):
    # Redis runs AUTH before parsing the next command, whose limits AUTH may lift.
    parser = make_parser(authenticated=False)
    parser.feed(pack_command("AUTH", "pw") + pack_command(*["a"] * 20) + b"PING\r\n")
    assert parser.get_commands() == [[b"AUTH", b"pw"]]
    parser.authenticated = True  # the server ran AUTH successfully
    assert parser.get_commands() == [[b"a"] * 20, [b"PING"]]
    parser = make_parser(authenticated=False)
    parser.feed(pack_command("AUTH", "pw") + pack_command(*["a"] * 20))
    assert parser.get_commands() == [[b"AUTH", b"pw"]]
    with pytest.raises(ProtocolError, match="unauthenticated multibulk length"):
        parser.get_commands()  # AUTH failed: the limit holds


# --- buffering and speed -------------------------------------------------------------------------


def test_big_value_in_small_chunks_is_linear(make_parser):
    value = bytes(range(256)) * (10 * 1024 * 1024 // 256)  # 10 MB
    data = pack_command("SET", "k", value)
    parser = make_parser()
    started = time.perf_counter()
    for i in range(0, len(data), 1024):
        parser.feed(data[i : i + 1024])
        batch = parser.get_commands()
        if i + 1024 < len(data):
            assert batch == []
    elapsed = time.perf_counter() - started
    assert batch == [[b"SET", b"k", value]]
    # Linear work is ~0.1 s here; re-scanning or re-joining the buffer per chunk would be minutes.
    assert elapsed < 5, elapsed


def test_many_arguments_in_small_chunks_resume_where_they_stopped(make_parser):
    data = multibulk(*[b"x" * 10] * 20_000)
    parser = make_parser()
    for i in range(0, len(data), 4096):
        parser.feed(data[i : i + 4096])
        batch = parser.get_commands()
        # finished arguments leave the buffer: only the argument being read is ever re-parsed
        assert parser.buffered() < 64
    assert batch == [[b"x" * 10] * 20_000]


def test_feed_accepts_bytes_like(make_parser):
    parser = make_parser()
    parser.feed(bytearray(b"*1\r\n$4\r\nPI"))
    parser.feed(memoryview(b"NG\r\n"))
    assert parser.get_commands() == [[b"PING"]]
    assert all(type(arg) is bytes for arg in [[b"PING"]][0])


# --- inline splitting (sdssplitargs) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "args"),
    [
        (b"", []),
        (b"   ", []),
        (b"a b  c", [b"a", b"b", b"c"]),
        (b"a\tb", [b"a", b"b"]),
        (b"a\x0bb", [b"a\x0bb"]),  # \v and \f separate nothing inside an argument...
        (b"\x0b\x0cb", [b"b"]),  # ...but are skipped between arguments
        (b'"a b"', [b"a b"]),
        (b'a"b c"', [b"ab c"]),
        (b'"\\n\\r\\t\\b\\a\\\\\\"\\q"', [b"\n\r\t\b\a\\\"q"]),
        (b'"\\x41\\x4a\\x4G\\x"', [b"AJx4Gx"]),
        (b"'a\\'b\\n'", [b"a'b\\n"]),
        (b'"a"\x0b', [b"a"]),
        (b'""', [b""]),
        (b"''", [b""]),
        (b"'\"'", [b'"']),
        (b'"\'"', [b"'"]),
    ],
)
def test_split_inline(line, args):
    assert split_inline(line) == args


@pytest.mark.parametrize("line", [b'"abc', b"'abc", b'"a"b', b"'a'b", b'"a\\"', b'"\\', b"'a\\'"])
def test_split_inline_unbalanced(line):
    with pytest.raises(ProtocolError, match="unbalanced quotes"):
        split_inline(line)


# --- fuzzing -------------------------------------------------------------------------------------

_PIECES = [b"*", b"$", b"\r\n", b"\r", b"\n", b"1", b"3", b"-1", b"0", b"PING", b"\x00", b'"', b"'",
           b"\\x41", b" ", b"+", b"=", b"(", b"~", b":", b"%", b"|", b">", b"*1\r\n$4\r\nPING\r\n"]
near_protocol = st.lists(st.sampled_from(_PIECES) | st.binary(max_size=4), max_size=40).map(b"".join)
commands = st.lists(st.lists(st.binary(max_size=20), min_size=1, max_size=5), max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=200) | near_protocol, split=st.integers(1, 7))
def test_fuzz_any_input_parses_or_raises_protocol_error(data, split):
    results = set()
    for cls in PARSERS.values():
        for chunks in ([data], [data[i : i + split] for i in range(0, len(data), split)]):
            cmds, error = run(cls(), chunks)  # anything but ProtocolError escapes and fails
            assert all(type(a) is bytes for cmd in cmds for a in cmd)
            assert error is None or error.startswith("ERR Protocol error: ")
            results.add(repr((cmds, error)))
    # every implementation, however the input is cut, sees the same commands and the same error
    assert len(results) == 1


@settings(max_examples=120, deadline=None)
@given(cmds=commands, garbage=near_protocol)
def test_fuzz_valid_pipelines_then_garbage(cmds, garbage):
    data = b"".join(multibulk(*c) for c in cmds)
    for cls in PARSERS.values():
        got, error = run(cls(), [data + garbage])
        assert got[: len(cmds)] == cmds
        assert run(cls(), bytewise(data + garbage)) == (got, error)


# Arguments long enough for every bulk-header path: short (<100), mid, and _bulk_header's
long_args = st.lists(st.binary(max_size=30) | st.sampled_from([b"v" * 150, b"w" * 20000]),
                     min_size=1, max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=st.lists(long_args, min_size=1, max_size=8), cuts=st.lists(st.integers(0, 10**6)))
def test_unreturned_counts_every_byte_of_commands_not_returned(cmds, cuts):
    # A replica's offset in its master's stream is the bytes received minus these: one byte off
    # and it resumes inside a command after a reconnection (a lost write)
    data = b"".join(multibulk(*c) for c in cmds)
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    for cls in PARSERS.values():
        parser = cls()
        returned = 0
        for start, stop in zip(bounds, bounds[1:]):
            parser.feed(data[start:stop])
            while batch := parser.get_commands():
                returned += sum(len(multibulk(*c)) for c in batch)
            assert parser.unreturned() == stop - returned
        assert returned == len(data)


# --- oracle: the real redis-server ---------------------------------------------------------------

ORACLE_INPUTS = [
    b"ECHO a\r\n",
    b'ECHO "a\\x41"\r\n',
    b"ECHO 'a\\'b'\r\n",
    b"ECHO a\x0bb\r\n",
    b"ECHO \x0bb\r\n",
    b'ECHO "\\q\\n\\\\"\r\n',
    b'ECHO a"b"\r\n',
    b'ECHO "a"\x0b\r\n',
    b"\r\n\n  \r\nECHO x\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*2\r\n$4\r\nECHO\r\n$1\r\nz\r\n",
    b"*2\r\n$4\r\nECHO\r\n$1\r\nq\r\n*0\r\n*-1\r\n",
    b"*2147483648\r\n",
    b"*01\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$+4\r\nPING\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n:1\r\n",
    b"*1\r\n\r\n",
    b"*1\r\n\xff\r\n",
    b"*1\r\n$536870913\r\n",
    b'ECHO "a"b\r\n',
    b"ECHO 'abc\r\n",
    b"*2\r\n$4\r\nECHO\r\n$1\r\nk\r\n*1\r\n$x\r\n",
    b"x" * (PROTO_INLINE_MAX_SIZE + 1),
    b"*" + b"1" * (PROTO_INLINE_MAX_SIZE + 1),
    b"*1\r\n$" + b"1" * (PROTO_INLINE_MAX_SIZE + 1),
]


def expected_replies(data, authenticated=True):
    """What Redis should reply to `data` if it parses it as we do: ECHO's argument per command,
    then the protocol error (as the text of an error reply)."""
    cmds, error = run(RequestParser(authenticated=authenticated), [data])
    replies = [c[1] if c[0] == b"ECHO" else c for c in cmds]
    return replies, error


@pytest.mark.parametrize("data", ORACLE_INPUTS, ids=lambda d: repr(d[:30]))
def test_oracle_same_commands_and_error_text(redis_oracle, data):
    replies, error = expected_replies(data)
    got = redis_oracle.exchange(data, ping=error is None or "too big" not in error)
    if error is None:
        assert got == replies
    else:
        assert got[:-1] == replies
        # the reader decodes error replies with "replace"; ours carries raw bytes as surrogates
        assert str(got[-1]) == error.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def test_oracle_unauthenticated_limits(redis_oracle):
    cases = [b"*11\r\n", b"*1\r\n$16385\r\n", b"*2147483648\r\n",
             pack_command("AUTH", "sekret") + pack_command(*["ECHO"] * 12)]
    with redis_oracle.requirepass(b"sekret"):
        for data in cases[:3]:
            _, error = expected_replies(data, authenticated=False)
            assert [str(r) for r in redis_oracle.exchange(data)] == [error]
        # after AUTH in the same packet, the next command may be long
        got = redis_oracle.exchange(cases[3])
        assert got[0] == b"OK"
        assert str(got[1]).startswith("ERR wrong number of arguments for 'echo'")
