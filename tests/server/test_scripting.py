"""Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT), black-box against kvstore AND
redis-server 7.0.15.

Every case that takes `c` runs on both servers with the same expectations, each checked against
redis-server (the definition of right). Texts that name a script carry its sha1, computed here from
the body. The kvstore-only cases at the end (marked) cover what only a Python host must guarantee
(no way out of Lua into Python, bounded memory and nesting) and the AOF of scripts' effects.
Scripts past busy-reply-threshold: test_busy_scripts.py.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal

import pytest
import redis

from .conftest import start
from .helpers import Conn, err, server_has_read


def sha1(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def at(script: str, line: int = 1) -> str:
    """The suffix Redis adds to an error raised by a script (redis.call errors, Lua errors)."""
    return f" script: {sha1(script)}, on @user_script:{line}."


def ev(c: Conn, script: str, *args, keys=()):
    return c("EVAL", script, len(keys), *keys, *args)


def raw(c: Conn, *argv, timeout: float = 2.0) -> bytes:
    """The bytes of one simple reply (one line: status, error, integer, null, boolean, double)."""
    c.send(Conn.encode(*argv))
    return c.read_raw(until=b"\r\n", timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Lua values -> RESP replies


@pytest.mark.parametrize("script, want", [
    ("return 3.99", 3),            # numbers are cast to integers, truncating toward zero
    ("return -3.99", -3),
    ("return -0.5", 0),
    ("return 7", 7),
    ("return 'hi'", b"hi"),
    ("return ''", b""),
    ("return true", 1),
    ("return false", None),
    ("return nil", None),
    ("return", None),
])
def test_scalar_replies(c, script, want):
    assert ev(c, script) == want


@pytest.mark.parametrize("script, want", [
    ("return {1, 2, nil, 4}", [1, 2]),                          # an array stops at its first nil
    ("return {1, {2, {3, 'x'}}, 'y'}", [1, [2, [3, b"x"]], b"y"]),
    ("return {}", []),
    ("return {a = 1}", []),                                     # the hash part is ignored...
    ("return {1, 2, 3, a = 1, b = 2}", [1, 2, 3]),              # ...even next to an array part
    ("return {1.5, 2.9, true, false, 'z'}", [1, 2, 1, None, b"z"]),  # false: nil, not the end
    ("return {ok = 5}", []),      # ok/err only count when they hold a string
    ("return {err = 5}", []),
    # Read raw, as Redis does: a metatable's __index neither runs nor fails the reply
    ("return setmetatable({}, {__index = function() error('no') end})", []),
    ("return setmetatable({1, 2}, {__index = function() return 'x' end})", [1, 2]),
    ("return setmetatable({7}, {__index = {err = 'e', ok = 's', map = {a = 1}}})", [7]),
])
def test_table_replies(c, script, want):
    assert ev(c, script) == want


def test_a_function_may_return_its_globals(c):
    """A function's _G raises on a missing name (its __index): reading the reply must not."""
    c("FUNCTION", "LOAD", "REPLACE",
      "#!lua name=globals\nredis.register_function('g', function() return _G end)")
    assert c("FCALL", "g", 0) == []
    assert c("FUNCTION", "DELETE", "globals") == b"OK"


def test_status_and_error_tables_in_an_array(c):
    r = ev(c, "return {1, {ok = 'x'}, {err = 'y'}}")
    assert r[:2] == [1, b"x"] and err(r[2]) == "y" and len(r) == 3


@pytest.mark.parametrize("script, want", [
    ("return {ok = 'fine'}", b"+fine\r\n"),
    ("return redis.status_reply('S')", b"+S\r\n"),
    ("return {err = 'bad thing'}", b"-bad thing\r\n"),           # sent as is: no ERR added
    ("return {err = 'My bad thing'}", b"-My bad thing\r\n"),
    ("return redis.error_reply('E')", b"-ERR E\r\n"),            # error_reply adds ERR...
    ("return redis.error_reply('MYERR E')", b"-MYERR E\r\n"),    # ...unless a code is there
    ("return redis.error_reply('-X y')", b"-X y\r\n"),           # a leading '-' is dropped
    # CR and LF in a status or error would break the protocol: Redis turns them into spaces
    ("return redis.status_reply('a\\r\\nb')", b"+a  b\r\n"),
    ("return {err = 'a\\r\\nb'}", b"-a  b\r\n"),
])
def test_status_and_error_replies_raw(c, script, want):
    assert raw(c, "EVAL", script, 0) == want


@pytest.mark.parametrize("script, want", [
    ("return {double = 3.14}", b"3.1400000000000001"),   # %.17g, a bulk string in RESP2
    ("return {map = {a = 1}}", [b"a", 1]),
    ("return {set = {a = true}}", [b"a"]),
])
def test_resp3_tables_to_a_resp2_client(c, script, want):
    assert ev(c, script) == want


@pytest.mark.parametrize("script, want", [
    ("return {double = 3.5}", b",3.5\r\n"),
    ("return {map = {a = 1}}", b"%1\r\n$1\r\na\r\n:1\r\n"),
    ("return {set = {a = true}}", b"~1\r\n$1\r\na\r\n"),
    ("return true", b":1\r\n"),     # the script speaks RESP2 (its default) whatever the client
    ("return false", b"_\r\n"),
    ("return {1, nil, 2}", b"*1\r\n:1\r\n"),
    ("redis.setresp(3) return redis.call('exists', 'h') == 1", b"#t\r\n"),  # a RESP3 script
    ("redis.setresp(3) return redis.call('hgetall', 'h')", b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("redis.setresp(3) return redis.call('zscore', 'z', 'm')", b",1.5\r\n"),
    ("redis.setresp(3) return redis.call('get', 'nokey')", b"_\r\n"),
])
def test_replies_to_a_resp3_client_raw(c, script, want):
    c("HSET", "h", "f", "v")
    c("ZADD", "z", "1.5", "m")
    assert c("HELLO", "3")
    c.send(Conn.encode("EVAL", script, 0) + Conn.encode("PING"))
    assert c.read_raw(until=b"+PONG\r\n") == want + b"+PONG\r\n"


# ---------------------------------------------------------------------------------------------
# RESP replies -> Lua values inside a script


def test_redis_call_reply_types(c):
    c("SET", "s", "hello")
    c("RPUSH", "l", "a", "b", "c")
    assert ev(c, "local v = redis.call('incr', 'n') return {type(v), v}") == [b"number", 1]
    assert ev(c, "local v = redis.call('get', 's') return {type(v), v}") == [b"string", b"hello"]
    # a nil bulk is false (and `false` is replied as nil again)
    assert ev(c, "local v = redis.call('get', 'nokey') return {type(v), tostring(v)}") == \
        [b"boolean", b"false"]
    assert ev(c, "local v = redis.call('lrange', 'l', 0, -1) return {type(v), #v, v[1], v[3]}") \
        == [b"table", 3, b"a", b"c"]
    assert ev(c, "local v = redis.call('lrange', 'nol', 0, -1) return {type(v), #v}") == \
        [b"table", 0]
    assert ev(c, "return redis.call('exists', 'nokey') == 0") == 1


def test_status_reply_is_a_table_with_ok(c):
    assert ev(c, "return type(redis.call('set', 'k', 'v'))") == b"table"
    assert ev(c, "return redis.call('set', 'k', 'v').ok") == b"OK"
    assert ev(c, "return redis.call('ping')") == b"PONG"   # and goes back out as a status
    assert raw(c, "EVAL", "return redis.call('set', 'k', 'v')", 0) == b"+OK\r\n"


def test_pcall_error_is_a_table_with_err(c):
    c("SET", "s", "hello")
    assert ev(c, "local r = redis.pcall('incr', 's') return {type(r), r.err}") == \
        [b"table", b"ERR value is not an integer or out of range"]
    # returned as is, the table is an error reply without the "script: ..." suffix
    assert err(ev(c, "return redis.pcall('incr', 's')")) == \
        "ERR value is not an integer or out of range"
    assert err(ev(c, "return redis.pcall('nosuch')")) == \
        "ERR Unknown Redis command called from script"
    # the script sees the reply's line: line ends trimmed from the end, the others spaces
    assert ev(c, "return redis.pcall('pexpireat', 'k', '1', 'a\\nb\\r\\n').err") == \
        b"ERR Unsupported option a b"


def test_a_nan_goes_out_as_c_prints_it(c):
    # 0/0 has its sign bit set on x86: printf gives -nan, as an argument and as a double reply
    assert ev(c, "return redis.call('echo', 0/0)") == b"-nan"
    assert ev(c, "return redis.call('echo', -(0/0))") == b"nan"
    assert ev(c, "return {double=0/0}") == b"-nan"


def test_lua_pcall_catches_redis_call_errors_as_strings(c):
    """Redis 7's pcall hands the err field of an error table to the script, as a string."""
    s = "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), type(e), e}"
    assert ev(c, s) == [b"false", b"string", b"ERR Unknown Redis command called from script"]
    s = "local ok, e = pcall(function() error({err = 'custom'}) end) return {type(e), e}"
    assert ev(c, s) == [b"string", b"custom"]
    s = "local ok, e = pcall(function() local t = nil; return t.x end) return {tostring(ok), e}"
    assert ev(c, s) == [b"false", b"user_script:1: attempt to index local 't' (a nil value)"]
    assert ev(c, "return {pcall(error, 'x')}") == [None, b"x"]   # false, then the message
    assert ev(c, "local ok, e = pcall(error, {1, 2}) return e") == [1, 2]  # other tables stay


# ---------------------------------------------------------------------------------------------
# KEYS, ARGV, numkeys, arity


def test_keys_and_argv(c):
    assert c("EVAL", "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", 2,
             "k1", "k2", "a1", "a2") == [b"k1", b"k2", b"a1", b"a2", 2, 2]
    assert c("EVAL", "return {#KEYS, #ARGV}", 0) == [0, 0]
    assert c("EVAL", "return {#KEYS, #ARGV}", 0, "a", "b", "c") == [0, 3]
    assert c("EVAL", "return {#KEYS, #ARGV}", 3, "a", "b", "c") == [3, 0]
    assert c("EVAL", "return type(KEYS[1])", 1, "5") == b"string"   # never converted
    assert c("EVAL", "return ARGV[1] .. ARGV[2]", 0, b"a\x00b", "c") == b"a\x00bc"  # binary-safe
    assert c("EVAL", "KEYS[1] = 'x' return KEYS[1]", 1, "k") == b"x"  # KEYS itself is writable


@pytest.mark.parametrize("numkeys, rest, want", [
    (-1, [], "ERR Number of keys can't be negative"),
    (1, [], "ERR Number of keys can't be greater than number of args"),
    (2, ["a"], "ERR Number of keys can't be greater than number of args"),
    ("x", [], "ERR value is not an integer or out of range"),
    ("1.5", ["a"], "ERR value is not an integer or out of range"),
    ("", [], "ERR value is not an integer or out of range"),
    ("99999999999999999999", [], "ERR value is not an integer or out of range"),
])
def test_numkeys_errors(c, numkeys, rest, want):
    assert err(c("EVAL", "return 1", numkeys, *rest)) == want
    assert err(c("EVAL_RO", "return 1", numkeys, *rest)) == want
    sha = c("SCRIPT", "LOAD", "return 1").decode()
    assert err(c("EVALSHA", sha, numkeys, *rest)) == want


def test_evalsha_checks_the_sha_length_then_numkeys_then_the_cache(c):
    """A sha that is not 40 characters is NOSCRIPT at once; a 40-character one that is not
    cached gets its numkeys checked first."""
    c("SCRIPT", "FLUSH")
    noscript = "NOSCRIPT No matching script. Please use EVAL."
    for numkeys in ("-1", "x", "1", "0"):
        assert err(c("EVALSHA", "abc", numkeys)) == noscript
        assert err(c("EVALSHA", "0" * 41, numkeys)) == noscript
    assert err(c("EVALSHA", "0" * 40, "-1")) == "ERR Number of keys can't be negative"
    assert err(c("EVALSHA", "0" * 40, "x")) == "ERR value is not an integer or out of range"
    assert err(c("EVALSHA", "0" * 40, "1")) == \
        "ERR Number of keys can't be greater than number of args"
    assert err(c("EVALSHA", "0" * 40, "0")) == noscript


@pytest.mark.parametrize("argv", [
    ("EVAL",), ("EVAL", "return 1"), ("EVALSHA", "abc"), ("EVAL_RO", "return 1"),
    ("EVALSHA_RO", "x"),
])
def test_eval_arity(c, argv):
    assert err(c(*argv)) == f"ERR wrong number of arguments for '{argv[0].lower()}' command"


# ---------------------------------------------------------------------------------------------
# Error texts


@pytest.mark.parametrize("call, want", [
    ("redis.call('nosuch')", "ERR Unknown Redis command called from script"),
    ("redis.call('nosuch', 'a')", "ERR Unknown Redis command called from script"),
    ("redis.call('script', 'x')", "ERR Unknown Redis command called from script"),
    ("redis.call('get')", "ERR Wrong number of args calling Redis command from script"),
    ("redis.call('get', 'a', 'b')", "ERR Wrong number of args calling Redis command from script"),
    # arity is checked before the no-script flag
    ("redis.call('multi', 'x')", "ERR Wrong number of args calling Redis command from script"),
    ("redis.call('set', 'k', {})", "ERR Lua redis lib command arguments must be strings or "
                                   "integers"),
    ("redis.call('set', 'k', true)", "ERR Lua redis lib command arguments must be strings or "
                                     "integers"),
    ("redis.call('set', 'k', nil)", "ERR Lua redis lib command arguments must be strings or "
                                    "integers"),
    ("redis.call({})", "ERR Lua redis lib command arguments must be strings or integers"),
    ("redis.call()", "ERR Please specify at least one argument for this redis lib call"),
    ("redis.call('incr', 's')", "ERR value is not an integer or out of range"),
    ("redis.call('lpush', 's', 'x')", "WRONGTYPE Operation against a key holding the wrong kind "
                                      "of value"),
    ("redis.call('set', 'k', 'v', 'ex', '0')", "ERR invalid expire time in 'set' command"),
    ("redis.call('set', 'k', 'v', 'bad')", "ERR syntax error"),
    ("redis.call('select', 16)", "ERR DB index is out of range"),
    ("redis.sha1hex()", "ERR wrong number of arguments"),
])
def test_redis_call_errors(c, call, want):
    c("SET", "s", "hello")
    script = f"return {call}"
    assert err(ev(c, script)) == want + at(script)
    # redis.pcall returns the same error as a table: replied as is, with no suffix
    pscript = script.replace("redis.call", "redis.pcall")
    if pscript != script:
        assert err(ev(c, pscript)) == want


@pytest.mark.parametrize("argv", [
    "'subscribe', 'x'", "'psubscribe', 'x'", "'eval', 'return 1', '0'",
    "'evalsha', 'abc', '0'", "'eval_ro', 'return 1', '0'", "'multi'", "'exec'", "'discard'",
    "'watch', 'x'", "'unwatch'", "'script', 'load', 'return 1'", "'script', 'flush'",
    "'monitor'", "'save'", "'bgsave'", "'shutdown'", "'client', 'list'", "'auth', 'x'",
    "'hello', '3'", "'debug', 'sleep', '0'", "'config', 'get', 'maxmemory'",
    "'blpop', 'nolist', 0",   # Redis 7 flags blocking list commands no-script
    "'brpoplpush', 'nolist', 'x', 0", "'bzpopmin', 'nolist', 0",
])
def test_commands_not_allowed_from_scripts(c, argv):
    script = f"return redis.call({argv})"
    assert err(ev(c, script)) == "ERR This Redis command is not allowed from script" + at(script)


def test_blpop_in_a_script_is_refused_even_with_data(c):
    """Redis 6 ran BLPOP in a script as LPOP; Redis 7 refuses it outright (no-script flag)."""
    c("RPUSH", "l", "a")
    script = "return redis.call('blpop', 'l', 0)"
    assert err(ev(c, script)) == "ERR This Redis command is not allowed from script" + at(script)
    assert c("LLEN", "l") == 1


def test_write_in_a_read_only_script(c):
    c("SET", "s", "hello")
    for script in ("return redis.call('set', 'k', 'v')", "return redis.call('del', 's')"):
        assert err(c("EVAL_RO", script, 0)) == \
            "ERR Write commands are not allowed from read-only scripts." + at(script)
    assert err(c("EVAL_RO", "return redis.pcall('set', 'k', 'v')", 0)) == \
        "ERR Write commands are not allowed from read-only scripts."
    assert c("EVAL_RO", "return redis.call('get', 's')", 0) == b"hello"
    sha = c("SCRIPT", "LOAD", "return redis.call('set', 'k', 'v')").decode()
    assert err(c("EVALSHA_RO", sha, 0)) == \
        "ERR Write commands are not allowed from read-only scripts." + \
        at("return redis.call('set', 'k', 'v')")
    assert c("EXISTS", "k") == 0 and c("GET", "s") == b"hello"


@pytest.mark.parametrize("script, want", [
    ("error('boom')", "ERR user_script:1: boom"),
    ("error('boom', 0)", "ERR boom"),            # level 0: no position
    ("error(42)", "ERR user_script:1: 42"),
    ("error()", "ERR nil"),
    ("error({err = 'custom'})", "custom"),       # an error table is sent as is...
    ("error({err = 'MYCODE custom'})", "MYCODE custom"),
])
def test_lua_errors(c, script, want):
    assert err(ev(c, script)) == want + at(script)     # ...but still gets the suffix


@pytest.mark.parametrize("script, want", [
    ("local a = 1\nlocal b = 2\nlocal c = nil + a\nreturn c",
     "ERR user_script:3: attempt to perform arithmetic on a nil value"),
    ("local t = nil\n\nreturn t.x", "ERR user_script:3: attempt to index local 't' (a nil value)"),
    ("local a = 1\nlocal b = 2\nlocal c = b.x.y\nreturn c",
     "ERR user_script:3: attempt to index local 'b' (a number value)"),
])
def test_runtime_errors_name_the_line(c, script, want):
    assert err(ev(c, script)) == want + at(script, 3)


_FAILED_SET = "redis.call('set', KEYS[1], ARGV[1], 'badopt')"


@pytest.mark.parametrize("script", [
    f"return {_FAILED_SET}",
    f"return xpcall(function() return {_FAILED_SET} end, function(e) return 1 end)",
    f"local co = coroutine.create(function() return {_FAILED_SET} end) "
    "return tostring(coroutine.resume(co))",
])
def test_failed_calls_keep_no_arguments(c, script):
    # Each failed redis.call kept its script's arguments (in the frames of the Python error's
    # traceback, held by lupa and by the Lua error value): 10 MB per failed call with a 5 MB
    # argument, until Lua collected. As in Redis, only the last call's Lua garbage remains.
    big = "x" * (4 << 20)

    def used() -> int:
        return int(re.search(rb"used_memory:(\d+)", c("INFO", "memory")).group(1))

    first = repr(ev(c, script, big, keys=["k"]))  # (an error reply: a ReplyError)
    before = used()
    for _ in range(8):
        assert repr(ev(c, script, big, keys=["k"])) == first
    assert used() - before < 2 * len(big)


@pytest.mark.parametrize("script, want", [
    ("return +", "user_script:1: unexpected symbol near '+'"),
    ("return 'unterminated", "user_script:1: unfinished string near '<eof>'"),
    ("x = ", "user_script:1: unexpected symbol near '<eof>'"),
    ("local x =\n\n )", "user_script:3: unexpected symbol near ')'"),
    ("end", "user_script:1: '<eof>' expected near 'end'"),
])
def test_compile_errors(c, script, want):
    want = "ERR Error compiling script (new function): " + want   # no sha suffix
    assert err(ev(c, script)) == want
    assert err(c("SCRIPT", "LOAD", script)) == want
    assert c("SCRIPT", "EXISTS", sha1(script)) == [0]


# ---------------------------------------------------------------------------------------------
# EVALSHA and SCRIPT


def test_script_load_exists_evalsha(c):
    c("SCRIPT", "FLUSH")
    body = "return {#KEYS, #ARGV}"
    assert c("SCRIPT", "EXISTS", sha1(body)) == [0]
    assert c("SCRIPT", "LOAD", body) == sha1(body).encode()
    assert c("SCRIPT", "LOAD", body) == sha1(body).encode()   # loading twice is fine
    assert c("EVALSHA", sha1(body), 1, "a", "b") == [1, 1]
    assert c("EVALSHA", sha1(body).upper(), 1, "a", "b") == [1, 1]   # case-insensitive
    assert c("EVALSHA_RO", sha1(body), 1, "a", "b") == [1, 1]
    assert c("SCRIPT", "EXISTS", sha1(body), sha1(body).upper(), "nope", "0" * 40) == \
        [1, 1, 0, 0]
    for bad in (sha1(body)[:39], sha1(body) + "0"):
        assert err(c("EVALSHA", bad, 0)) == "NOSCRIPT No matching script. Please use EVAL."


def test_eval_caches_the_script(c):
    c("SCRIPT", "FLUSH")
    assert c("SCRIPT", "EXISTS", sha1("return 1")) == [0]
    assert c("EVAL", "return 1", 0) == 1
    assert sha1("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
    assert c("SCRIPT", "EXISTS", sha1("return 1")) == [1]
    assert c("EVALSHA", sha1("return 1"), 0) == 1
    # a script that fails at run time is cached too; one that does not compile is not
    assert err(c("EVAL", "error('x')", 0))
    assert c("SCRIPT", "EXISTS", sha1("error('x')")) == [1]


@pytest.mark.parametrize("mode", [(), ("ASYNC",), ("SYNC",), ("sync",)])
def test_script_flush(c, mode):
    sha = c("SCRIPT", "LOAD", "return 'flushme'").decode()
    assert c("SCRIPT", "FLUSH", *mode) == b"OK"
    assert c("SCRIPT", "EXISTS", sha) == [0]
    assert err(c("EVALSHA", sha, 0)) == "NOSCRIPT No matching script. Please use EVAL."


@pytest.mark.parametrize("argv, want", [
    (("SCRIPT", "FLUSH", "bogus"), "ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
    (("SCRIPT", "FLUSH", "SYNC", "ASYNC"), "ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
    (("SCRIPT", "KILL"), "NOTBUSY No scripts in execution right now."),
    (("SCRIPT", "NOSUCH"), "ERR unknown subcommand 'NOSUCH'. Try SCRIPT HELP."),
    (("SCRIPT",), "ERR wrong number of arguments for 'script' command"),
    (("SCRIPT", "EXISTS"), "ERR wrong number of arguments for 'script|exists' command"),
    (("SCRIPT", "LOAD"), "ERR wrong number of arguments for 'script|load' command"),
    (("SCRIPT", "LOAD", "a", "b"), "ERR wrong number of arguments for 'script|load' command"),
])
def test_script_errors(c, argv, want):
    assert err(c(*argv)) == want


def test_script_help(c):
    lines = c("SCRIPT", "HELP")
    assert lines[0] == b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for line in (b"EXISTS <sha1> [<sha1> ...]", b"FLUSH [ASYNC|SYNC]", b"KILL",
                 b"LOAD <script>", b"HELP",
                 b"    Load a script into the scripts cache without executing it."):
        assert line in lines
    assert lines[-2:] == [b"HELP", b"    Prints this help."]


def test_script_commands_in_multi(c):
    c("SCRIPT", "FLUSH")
    assert c("MULTI") == b"OK"
    assert c("SCRIPT", "LOAD", "return 'loaded'") == b"QUEUED"
    assert c("EVALSHA", sha1("return 'loaded'"), 0) == b"QUEUED"
    assert c("SCRIPT", "FLUSH") == b"QUEUED"
    assert c("EXEC") == [sha1("return 'loaded'").encode(), b"loaded", b"OK"]
    assert c("SCRIPT", "EXISTS", sha1("return 'loaded'")) == [0]


# ---------------------------------------------------------------------------------------------
# The sandbox


READ_ONLY_ATTEMPTS = [
    "x = 1", "x = 1\nreturn x", "_G.x = 1", "redis = 1", "redis.call = 1", "string.foo = 1",
    "KEYS = 1", "function f() end", "cjson = nil", "bit.band = nil", "math.random = nil",
    "pcall = nil", "getmetatable(_G).__index = {}",
]
RAW_READ_ONLY_ATTEMPTS = ["rawset(_G, 'x', 1) return x", "setmetatable(_G, nil)",
                          "rawset(redis, 'call', 1)", "rawset(string, 'rep', 1)"]


def test_globals_are_read_only(server, kv_factory):
    """On a server of its own: an attempt that got through would break every later script."""
    p = kv_factory(kind=server.kind)
    c = Conn(p.port)
    for script in READ_ONLY_ATTEMPTS:
        assert err(ev(c, script)) == \
            "ERR user_script:1: Attempt to modify a readonly table" + at(script), script
    for script in RAW_READ_ONLY_ATTEMPTS:
        assert err(ev(c, script)) == "ERR Attempt to modify a readonly table" + at(script), \
            script
    # nothing changed: the sandbox is whole for the next scripts
    assert ev(c, "return {type(redis), type(redis.call), type(cjson), type(bit.band), "
                 "type(math.random), type(pcall), type(string.rep), type(KEYS), "
                 "type(rawget(_G, 'x')), type(rawget(_G, 'f'))}") == \
        [b"table", b"function", b"table", b"function", b"function", b"function", b"function",
         b"table", b"nil", b"nil"]
    assert ev(c, "return redis.call('ping')") == b"PONG"
    c.close()


def test_scripts_on_a_stale_replica(server, kv_factory):
    """replica-serve-stale-data no, master link down: a script without a shebang is refused as
    a whole; one flagged allow-stale runs, but its calls of commands that may not serve stale
    data (GET, PING; not INFO) fail (Redis's scriptVerifyAllowStale), as do functions'."""
    p = kv_factory("--replica-serve-stale-data", "no", kind=server.kind)
    c = Conn(p.port)
    stale = "#!lua flags=allow-stale,no-writes\n"
    assert c("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function{function_name='f', "
             "callback=function() return redis.pcall('get', 'x') end, "
             "flags={'allow-stale', 'no-writes'}}") == b"lib"
    assert c("REPLICAOF", "127.0.0.1", "1") == b"OK"
    refused = "ERR Can not execute the command on a stale replica"
    assert err(ev(c, "return redis.pcall('get', 'x')")) == \
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
    for call in ("get', 'x", "ping"):
        assert err(ev(c, stale + f"return redis.pcall('{call}')")) == refused
    assert err(c("FCALL", "f", "0")) == refused
    assert err(ev(c, stale + "return redis.call('get', 'x')")) == \
        refused + at(stale + "return redis.call('get', 'x')", 2)
    assert b"redis_version" in ev(c, stale + "return redis.call('info', 'server')")
    assert c("REPLICAOF", "NO", "ONE") == b"OK"
    assert ev(c, stale + "return redis.pcall('ping')") == b"PONG"
    c.close()


@pytest.mark.parametrize("script, name, line", [
    ("return undefined_thing", "undefined_thing", 1),
    ("local a = 1\nreturn a + nope", "nope", 2),
    ("return os", "os", 1),
    ("return os.time()", "os", 1),
    ("return io.open('/etc/passwd')", "io", 1),
    ("return require('os')", "require", 1),
    ("return loadfile('/etc/passwd')", "loadfile", 1),
    ("return dofile('/etc/passwd')", "dofile", 1),
    ("return debug.getinfo(1)", "debug", 1),
    ("return python", "python", 1),
])
def test_reading_undefined_globals_fails(c, script, name, line):
    assert err(ev(c, script)) == (f"ERR user_script:{line}: Script attempted to access "
                                  f"nonexistent global variable '{name}'" + at(script, line))


MISSING_GLOBALS = ("local out = {} for _, n in ipairs(ARGV) do "
                   "if rawget(_G, n) == nil then out[#out+1] = n end end return out")
PRESENT_GLOBALS = MISSING_GLOBALS.replace("== nil", "~= nil")


def test_essential_globals_exist(c):
    names = ["redis", "cjson", "bit", "KEYS", "ARGV", "string", "table", "math", "coroutine",
             "pcall", "xpcall", "error", "assert", "type", "tostring", "tonumber", "pairs",
             "ipairs", "next", "select", "unpack", "rawget", "rawset", "rawequal",
             "setmetatable", "getmetatable", "loadstring", "collectgarbage", "_G", "_VERSION"]
    assert c("EVAL", MISSING_GLOBALS, 0, *names) == []
    assert ev(c, "return _VERSION") == b"Lua 5.1"
    assert ev(c, "return type(getmetatable(_G).__index)") == b"function"  # (read-only)


def test_dangerous_globals_are_absent(c):
    names = ["os", "io", "require", "loadfile", "dofile", "debug", "module", "package",
             "getfenv", "setfenv", "newproxy", "print", "python"]
    assert c("EVAL", PRESENT_GLOBALS, 0, *names) == []


def test_global_names_are_redis_7s(c):
    # cmsgpack and struct are Redis's; __redis__err__handler is its error handler, left in _G
    script = "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t"
    assert ev(c, script) == [
        b"ARGV", b"KEYS", b"_G", b"_VERSION", b"__redis__err__handler", b"assert", b"bit",
        b"cjson", b"cmsgpack", b"collectgarbage", b"coroutine", b"error", b"gcinfo",
        b"getmetatable", b"ipairs", b"load", b"loadstring", b"math", b"next", b"pairs",
        b"pcall", b"rawequal", b"rawget", b"rawset", b"redis", b"select", b"setmetatable",
        b"string", b"struct", b"table", b"tonumber", b"tostring", b"type", b"unpack", b"xpcall"]


def test_bytecode_is_refused(c):
    assert ev(c, "local f = function() return 1 end "
                 "return loadstring(string.dump(f)) == nil") == 1
    assert ev(c, "local f = function() return 1 end local g, e = loadstring(string.dump(f)) "
                 "return {type(g), type(e)}") == [b"nil", b"string"]
    assert ev(c, "return loadstring('return 7')()") == 7   # source text still loads
    assert ev(c, "return type(string.dump(function() end))") == b"string"


def test_harmless_builtins_work(c):
    assert ev(c, "return type(collectgarbage('count'))") == b"number"
    assert ev(c, "return {type(redis.call), type(redis.pcall), type(cjson.encode), "
                 "type(bit.band)}") == [b"function"] * 4
    assert ev(c, "return {string.format('%d %s %5.2f', 42, 'x', 3.14159), string.rep('ab', 3), "
                 "string.upper('x'), math.floor(3.7), math.max(1, 5, 3), "
                 "table.concat({'a', 'b'}, '-'), #string.format('%q', 'a\\nb')}") == \
        [b"42 x  3.14", b"ababab", b"X", 3, 5, b"a-b", 6]
    assert ev(c, "return {tonumber('0x10'), tonumber('  12  '), tonumber('1e2'), "
                 "tostring(tonumber('x'))}") == [16, 12, 100, b"nil"]
    assert ev(c, "local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) "
                 "return b * 2 end) return {f(1), f(10)}") == [2, 20]


# Walks everything reachable from _G (and metatables) and lists what is not plain Lua: userdata,
# threads, metatables. On Redis that is cjson.null (a lightuserdata) and _G's own metatable (the
# nonexistent-global guard); a Python host must add nothing (a Python object reached by a script
# is a way out of the sandbox).
FOREIGN_OBJECTS = r"""
local seen, out = {}, {}
local function walk(v, path, depth)
  local t = type(v)
  if t == 'table' or t == 'function' or t == 'userdata' or t == 'thread' then
    if seen[v] then return end
    seen[v] = true
  end
  if t == 'userdata' or t == 'thread' then out[#out+1] = path .. ':' .. t end
  local ok, mt = pcall(getmetatable, v)
  if ok and mt ~= nil and t ~= 'string' then   -- strings share string's metatable
    out[#out+1] = path .. ':metatable'
    if type(mt) == 'table' then walk(mt, path .. '<mt>', depth + 1) end
  end
  if t == 'table' and depth < 6 then
    for k, x in pairs(v) do walk(x, path .. '.' .. tostring(k), depth + 1) end
  end
end
walk(_G, '_G', 0)
table.sort(out)
return out
"""


def test_nothing_foreign_is_reachable_from_globals(c):
    assert set(ev(c, FOREIGN_OBJECTS)) <= {b"_G.cjson.null:userdata", b"_G:metatable"}


ESCAPES = r"""
local found = {}
local function probe(name, f)
  local ok, v = pcall(f)
  if ok and v ~= nil then found[#found+1] = name .. '=' .. type(v) end
end
local fns = {redis.call, redis.pcall, redis.sha1hex, redis.log, redis.error_reply,
             redis.status_reply, redis.setresp, cjson.encode, cjson.decode, bit.band, pcall,
             loadstring, string.dump}
for i, f in ipairs(fns) do
  probe(i .. '.__globals__', function() return f.__globals__ end)
  probe(i .. '.__class__', function() return f.__class__ end)
  probe(i .. '.mt', function() return getmetatable(f) end)
  probe(i .. '.mt.__index', function() return getmetatable(f).__index(f, '__globals__') end)
end
local ok, e = pcall(redis.call, 'nosuch')
probe('err.__class__', function() return e.__class__ end)
probe('reply.__class__', function() return redis.call('ping').__class__ end)
probe('python', function() return rawget(_G, 'python') end)
return found
"""


def test_no_attribute_access_through_lua_values(c):
    assert ev(c, ESCAPES) == []


@pytest.mark.parametrize("script, want", [
    ("return python", "ERR user_script:1: Script attempted to access nonexistent global "
                      "variable 'python'"),
    ("return python.eval('1')", "ERR user_script:1: Script attempted to access nonexistent "
                                "global variable 'python'"),
    ("return redis.call.__globals__",
     "ERR user_script:1: attempt to index field 'call' (a function value)"),
    ("return redis.call.__class__.__mro__",
     "ERR user_script:1: attempt to index field 'call' (a function value)"),
    ("return getmetatable(redis.call).__index(redis.call, '__globals__')",
     "ERR user_script:1: attempt to index a nil value"),
    ("return loadstring(string.dump(function() return 1 end))()",
     "ERR user_script:1: attempt to call a nil value"),
])
def test_no_way_out_of_lua_errors(c, script, want):
    """What a script on a Python host might try to reach Python with: plain Lua errors."""
    assert err(ev(c, script)) == want + at(script)


@pytest.mark.parametrize("script, want", [
    ("return tostring(getmetatable(redis.call))", b"nil"),
    ("return type(getmetatable(redis.pcall))", b"nil"),
    ("return string.sub(tostring(redis.call), 1, 10)", b"function: "),
    ("return collectgarbage('count') > 0", 1),
    ("return collectgarbage('collect')", 0),
    ("return type(redis.call('ping'))", b"table"),
    ("local ok, e = pcall(redis.call, 'nosuch') return {type(e), tostring(e)}",
     [b"string", b"ERR Unknown Redis command called from script"]),
    ("return cjson.decode('{\"__class__\": 1}').__class__", 1),
    ("return rawget(_G, '_python')", None),
    ("return getmetatable('').__index == string", 1),
    ("return string.sub(tostring(coroutine.create(function() end)), 1, 7)", b"thread:"),
])
def test_no_way_out_of_lua_values(c, script, want):
    assert ev(c, script) == want


# ---------------------------------------------------------------------------------------------
# The redis library


def test_sha1hex(c):
    assert ev(c, "return redis.sha1hex('')") == sha1("").encode()
    assert ev(c, "return redis.sha1hex('return 1')") == sha1("return 1").encode()
    assert ev(c, "return redis.sha1hex(12)") == sha1("12").encode()


def test_lua_numbers_as_command_arguments(c):
    script = ("redis.call('set', 'a', 3.5) redis.call('set', 'b', 1e20) "
              "redis.call('set', 'c', 10) redis.call('set', 'd', -0.25) "
              "redis.call('set', 'e', 1/3) redis.call('set', 'f', 2^53) "
              "redis.call('set', 'g', 123456789012) "
              "return redis.call('mget', 'a', 'b', 'c', 'd', 'e', 'f', 'g')")
    assert ev(c, script) == [b"3.5", b"1e+20", b"10", b"-0.25", b"0.33333333333333331",
                             b"9007199254740992", b"123456789012"]


def test_redis_version_matches_info(c):
    info = c("INFO", "server").decode()
    version = re.search(r"redis_version:(\S+)", info).group(1)
    major, minor, patch = (int(x) for x in version.split("."))
    assert ev(c, "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}") == \
        [version.encode(), (major << 16) | (minor << 8) | patch]


def test_redis_log(c):
    assert ev(c, "return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, "
                 "redis.LOG_WARNING}") == [0, 1, 2, 3]
    # it returns no value at all (not even nil)
    assert ev(c, "return select('#', redis.log(redis.LOG_WARNING, 'from a script'))") == 0
    assert ev(c, "return select('#', redis.log(redis.LOG_DEBUG, 'a', 'b', 3))") == 0
    for script, want in [
        ("return redis.log(redis.LOG_WARNING)", "ERR redis.log() requires two arguments or more."),
        ("return redis.log(99, 'x')", "ERR Invalid debug level."),
        ("return redis.log('x', 'x')", "ERR First argument must be a number (log level)."),
    ]:
        assert err(ev(c, script)) == want + at(script)


@pytest.mark.parametrize("script, want", [
    ("redis.setresp(4)", "ERR RESP version must be 2 or 3."),
    ("redis.setresp(1)", "ERR RESP version must be 2 or 3."),
    ("redis.setresp('x')", "ERR RESP version must be 2 or 3."),
    ("redis.setresp()", "ERR redis.setresp() requires one argument."),
])
def test_setresp_errors(c, script, want):
    assert err(ev(c, script)) == want + at(script)


def test_setresp_3_conversions(c):
    c("HSET", "h", "f", "v")
    c("ZADD", "z", "1.5", "m")
    c("SADD", "s", "a")
    r3 = "redis.setresp(3) "
    assert ev(c, r3 + "local r = redis.call('hgetall', 'h') return {type(r), type(r.map), "
                      "r.map.f}") == [b"table", b"table", b"v"]
    assert ev(c, r3 + "local r = redis.call('zscore', 'z', 'm') return {type(r), "
                      "type(r.double), tostring(r.double)}") == [b"table", b"number", b"1.5"]
    assert ev(c, r3 + "return redis.call('zscore', 'z', 'm').double * 2") == 3
    assert ev(c, r3 + "local r = redis.call('smembers', 's') return {type(r.set), "
                      "tostring(r.set.a)}") == [b"table", b"true"]
    # a RESP3 null is nil (RESP2's nil bulk is false)
    assert ev(c, r3 + "local r = redis.call('get', 'nokey') return {type(r)}") == [b"nil"]
    assert ev(c, r3 + "local r = redis.call('set', 'x', '1') return {type(r), r.ok}") == \
        [b"table", b"OK"]
    assert ev(c, r3 + "local r = redis.call('zrange', 'z', 0, -1, 'withscores') "
                      "return {type(r[1]), r[1][1], tostring(r[1][2].double)}") == \
        [b"table", b"m", b"1.5"]
    # to a RESP2 client the tables go out in RESP2 shapes
    assert ev(c, r3 + "return redis.call('hgetall', 'h')") == [b"f", b"v"]
    assert ev(c, r3 + "return redis.call('zscore', 'z', 'm')") == b"1.5"
    assert ev(c, r3 + "return redis.call('zrange', 'z', 0, -1, 'withscores')") == \
        [[b"m", b"1.5"]]
    assert ev(c, "return redis.setresp(2)") is None


# ---------------------------------------------------------------------------------------------
# cjson and bit


@pytest.mark.parametrize("script, want", [
    ("return cjson.encode({a = 1})", b'{"a":1}'),
    ("return cjson.encode({1, 2, 'x', true, false})", b'[1,2,"x",true,false]'),
    ("return cjson.encode({})", b"{}"),
    ("return cjson.encode({a = {b = {1, 2, {c = 'd'}}}})", b'{"a":{"b":[1,2,{"c":"d"}]}}'),
    ("return cjson.encode(3.5)", b"3.5"),
    ("return cjson.encode(100)", b"100"),
    ("return cjson.encode(0.1)", b"0.1"),
    ("return cjson.encode(1e20)", b"1e+20"),
    ("return cjson.encode(1/3)", b"0.33333333333333"),     # cjson's %.14g
    ("return cjson.encode('a\"b\\\\c/\\n')", b'"a\\"b\\\\c\\/\\n"'),
    ("return cjson.encode(cjson.null)", b"null"),
    ("return cjson.encode({1, nil, 3})", b"[1,null,3]"),
    ("return cjson.encode(cjson.decode(ARGV[1]))", b'{"k":[1,2,3]}'),
])
def test_cjson_encode(c, script, want):
    assert c("EVAL", script, 0, '{"k":[1,2,3]}') == want


def test_cjson_decode(c):
    assert ev(c, "local t = cjson.decode('{\"a\":1,\"b\":[1,2,{\"c\":\"d\"}],\"e\":null,"
                 "\"f\":true}') return {t.a, t.b[2], t.b[3].c, tostring(t.e == cjson.null), "
                 "tostring(t.f), type(t.a)}") == [1, 2, b"d", b"true", b"true", b"number"]
    assert ev(c, "local t = cjson.decode('[1,2.5,\"x\"]') return {#t, tostring(t[2]), t[3]}") \
        == [3, b"2.5", b"x"]
    assert ev(c, "return cjson.decode('3.75') * 4") == 15
    s = "return cjson.decode('{bad')"
    assert err(ev(c, s)) == ("ERR user_script:1: Expected object key string but found invalid "
                             "token at character 2" + at(s))
    s = "return cjson.encode(function() end)"
    assert err(ev(c, s)) == ("ERR user_script:1: Cannot serialise function: type not supported"
                             + at(s))
    # lua-cjson names the type of what it cannot serialise, a library function's too
    for s, what in [("return cjson.encode(redis.call)", "function: type not supported"),
                    ("return cjson.encode({1, redis.sha1hex})", "function: type not supported"),
                    ("return cjson.encode({[{}] = 1})",
                     "table: table key must be a number or string"),
                    ("return cjson.encode({a = {[cjson.encode] = 2}})",
                     "function: table key must be a number or string")]:
        assert err(ev(c, s)) == f"ERR user_script:1: Cannot serialise {what}" + at(s)
    assert ev(c, "local ok, e = pcall(cjson.encode, {[true] = 1}) return e") == \
        b"Cannot serialise boolean: table key must be a number or string"


def test_cjson_settings_last_until_script_flush(c):
    """lua-cjson's settings functions (Redis's own scripting.tcl calls them): their replies,
    their effect on later scripts, their argument errors, cjson.new()'s own settings."""
    try:
        assert ev(c, "return {cjson.encode_sparse_array()}") == [None, 2, 10]
        assert ev(c, "return {cjson.encode_max_depth(), cjson.decode_max_depth(), "
                     "cjson.encode_number_precision(), cjson.encode_keep_buffer(), "
                     "cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}") == \
            [1000, 1000, 14, 1, None, 1]
        for s, message in [
                ("cjson.encode_max_depth(0)", "expected integer between 1 and 2147483647"),
                ("cjson.encode_max_depth('x')", "number expected, got string"),
                ("cjson.encode_max_depth(5, 6)", None),
                ("cjson.encode_sparse_array(nil, -1)", None),
                ("cjson.encode_invalid_numbers('bogus')", "invalid option 'bogus'")]:
            assert "bad argument #" in err(ev(c, s)), s
            if message:
                assert message in err(ev(c, s)), s
        assert ev(c, "cjson.encode_number_precision(3) return cjson.encode(3.14159)") == b"3.14"
        assert ev(c, "return cjson.encode(2/3)") == b"0.667"  # (kept by the next script)
        assert ev(c, "cjson.encode_invalid_numbers('null') return cjson.encode({1/0, 0/0})") \
            == b"[null,null]"
        assert ev(c, "cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0})") \
            == b"[inf,-inf]"
        assert ev(c, "cjson.encode_sparse_array(true) return cjson.encode({[1]=1,[20]=2})") \
            == b'{"1":1,"20":2}'
        assert ev(c, "cjson.encode_sparse_array(false, 0) return #cjson.encode({[1]=1,[9]=2})") \
            == 40  # [1,null,...,2]
        s = "cjson.encode_max_depth(2) return cjson.encode({{{1}}})"
        assert err(ev(c, s)) == "ERR user_script:1: Cannot serialise, excessive nesting (3)" + at(s)
        s = "cjson.decode_max_depth(2) return cjson.decode('[[[1]]]')"
        assert err(ev(c, s)) == ("ERR user_script:1: Found too many nested data structures (3) "
                                 "at character 3" + at(s))
        for text, found in [("[nan]", "invalid token"), ("[0x10]", "invalid number"),
                            ("[05]", "invalid number"), ("[+1]", "invalid token")]:
            s = f"cjson.decode_invalid_numbers(false) return cjson.decode('{text}')"
            assert err(ev(c, s)) == (f"ERR user_script:1: Expected value but found {found} at "
                                     "character 2" + at(s))
        assert ev(c, "return cjson.decode('[-.5, 2, 1e2]')[3]") == 100
        assert ev(c, "local j = cjson.new() return {j.encode_number_precision(), "
                     "j.encode(0.125), cjson.encode_number_precision()}") == [14, b"0.125", 3]
    finally:
        assert c("SCRIPT", "FLUSH") == b"OK"  # (a new Lua runtime: the defaults again)
    assert ev(c, "return cjson.encode(2/3)") == b"0.66666666666667"
    s = "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))"
    assert err(ev(c, s)) == ("ERR user_script:1: Found too many nested data structures (1001) "
                             "at character 1001" + at(s))


@pytest.mark.parametrize("script", [
    "return cmsgpack.pack({1, 2, 3}, 'abc', 1.5, 0.1, -1, 300, {a = 1}, true, nil, {})",
    "return cmsgpack.pack(string.rep('x', 40), string.rep('y', 300), 2^40, -2^40, 1e300, 2^70,"
    " -33, -200, -40000, 70000, -3000000000, 2^63, 0/0, 1/0)",
    "local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t, {[1] = 'a', [3] = 'c'})",
    "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)",
    "return {cmsgpack.unpack(cmsgpack.pack({1, 2, {3}}, 'x', 42))}",
    "return cmsgpack.unpack('')",
    "return cmsgpack.unpack('\\196\\1x')",            # bin8: not in lua-cmsgpack 0.4
    "return cmsgpack.unpack('\\146\\1')",             # cut short
    "local a, b = cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0) return {a, b}",
    "local a, b = cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1) return {a, b}",
    "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}",
    "local t = cmsgpack.unpack(cmsgpack.pack({x = {y = {1, 2}}, [1] = 'a'})) "
    "return {t.x.y[2], t[1]}",
    "return {cmsgpack.unpack('\\202\\64\\0\\0\\0\\203\\64\\0\\0\\0\\0\\0\\0\\0"
    "\\208\\128\\205\\1\\0')}",
    "return cmsgpack.pack()",
])
def test_cmsgpack(c, script, redis_server):
    """Each reply (packed bytes, unpacked values, error texts) is the oracle redis-server's."""
    oracle = Conn(redis_server)
    try:
        got, want = ev(c, script), ev(oracle, script)
        assert (err(got), got if err(got) is None else None) == \
            (err(want), want if err(want) is None else None)
    finally:
        oracle.close()


STRUCT_CASES = [
    "return struct.pack('>i4<h!4bBhHlLTi2I3fdsc3c0', 1, -2, 3, 250, -300, 60000, -5, 5, 7, -9, "
    "9, 1.5, 2.25, 'str', 'abc', 'whole')",
    "return {struct.unpack('>i4<h', struct.pack('>i4<h', 1, -2))}",
    "return struct.size('>i4<h!4bd')",
    "return struct.size('s')",
    "return struct.size('c0')",
    "return struct.pack('q', 1)",
    "return struct.pack('i20', 1)",
    "return struct.pack('i33', 1)",
    "return struct.pack('!3i', 1)",
    "return struct.pack('c5', 'ab')",
    "return struct.pack('i', 'x')",
    "return struct.pack('i', '12')",
    "return {struct.unpack('i4', 'ab')}",
    "return {struct.unpack('bc0', struct.pack('bc0', 3, 'xyz'))}",
    "return {struct.unpack('s', 'ab\\0cd')}",
    "return {struct.unpack('s', 'abc')}",
    "return {struct.unpack('>I2', 'zzab', 3)}",
    "return {struct.unpack('f', struct.pack('f', 0.1))}",
    "return {struct.unpack('<i8>I8', struct.pack('<i8>I8', -1, 2^40))}",
    "return {struct.unpack('!8bd', struct.pack('!8bd', 1, 2.5))}",
]


@pytest.mark.parametrize("script", STRUCT_CASES)
def test_struct(c, script, redis_server):
    test_cmsgpack(c, script, redis_server)


def test_bit(c):
    assert ev(c, "return {bit.band(12, 10), bit.bor(12, 10), bit.bxor(12, 10), "
                 "bit.lshift(1, 10), bit.rshift(1024, 3), bit.tohex(255), bit.tohex(255, 4), "
                 "bit.tobit(2^32 + 5), bit.bnot(0), bit.arshift(-16, 2), bit.rshift(-1, 28), "
                 "bit.tohex(-1), bit.tobit(0xffffffff), bit.rol(1, 33), bit.bswap(0x12345678)}") \
        == [8, 14, 6, 1024, 128, b"000000ff", b"00ff", 5, -1, -4, 15, b"ffffffff", -1, 2,
            2018915346]
    assert ev(c, "return bit.tohex(255, -4)") == b"00FF"
    assert ev(c, "return bit.lshift(1, 31)") == -2147483648


# ---------------------------------------------------------------------------------------------
# Semantics


def test_select_inside_a_script_keeps_the_callers_db(c):
    assert ev(c, "redis.call('select', 1) redis.call('set', 'k', 'in1') "
                 "return redis.call('get', 'k')") == b"in1"
    assert c("GET", "k") is None
    assert c("SET", "k", "in0") == b"OK"
    assert c("SELECT", "1") == b"OK"
    assert c("GET", "k") == b"in1"
    assert ev(c, "return redis.call('get', 'k')") == b"in1"   # a script starts in the caller's db
    c("SELECT", "0")
    assert c("GET", "k") == b"in0"


def test_writes_before_an_error_are_kept(c):
    """A script is atomic (nothing runs in between) but not a transaction: no rollback."""
    s = "redis.call('set', 'a', '1') redis.call('incr', 'a') error('late')"
    assert err(ev(c, s)) == "ERR user_script:1: late" + at(s)
    assert c("GET", "a") == b"2"


def test_many_writes_are_visible_afterwards(c, server):
    s = ("for i = 1, tonumber(ARGV[1]) do redis.call('set', 'key:' .. i, i) end "
         "return redis.call('dbsize')")
    assert c("EVAL", s, 0, 1000) == 1000
    other = Conn(server.port)
    assert other("MGET", "key:1", "key:500", "key:1000") == [b"1", b"500", b"1000"]
    assert other("DBSIZE") == 1000
    other.close()


def test_spop_and_incrbyfloat_in_a_script(c):
    c("SADD", "s", "only")
    # SPOP's nil bulk is false: replied as nil inside the array, which goes on
    assert ev(c, "return {redis.call('spop', 's'), redis.call('spop', 's'), "
                 "redis.call('scard', 's')}") == [b"only", None, 0]
    c("SET", "f", "10.5")
    assert ev(c, "return redis.call('incrbyfloat', 'f', '0.1')") == b"10.6"
    assert ev(c, "return redis.call('incrbyfloat', 'f', '5.0e3')") == b"5010.60000000000000009"
    assert c("GET", "f") == b"5010.60000000000000009"


def test_reading_a_key_with_a_ttl(c):
    c("SET", "t", "v", "EX", "100")
    assert ev(c, "return {redis.call('get', 't'), redis.call('ttl', 't') > 90 and 1 or 0}") == \
        [b"v", 1]
    assert ev(c, "redis.call('expire', 't', 5) return redis.call('ttl', 't')") == 5
    assert c("TTL", "t") in (4, 5)


def test_time_is_frozen_for_expiry_during_a_script(c):
    """Redis 7 expires keys against the script's start time: a key set with PX 1 in a script is
    still there after 5 ms of busy waiting in the same script, and gone after it."""
    s = ("redis.call('set', 'k', 'v', 'px', 1) local t0 = redis.call('time') "
         "repeat local t = redis.call('time') "
         "until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 5000 "
         "return {redis.call('get', 'k'), redis.call('exists', 'k')}")
    assert ev(c, s) == [b"v", 1]
    assert c("EXISTS", "k") == 0


def test_eval_inside_multi(c):
    assert c("MULTI") == b"OK"
    incr = "return redis.call('incr', KEYS[1])"
    assert c("EVAL", incr, 1, "n") == b"QUEUED"
    assert c("EVAL", incr, 1, "n") == b"QUEUED"
    assert c("EVAL", "return redis.call('nosuch')", 0) == b"QUEUED"
    assert c("EVALSHA", "0" * 40, 0) == b"QUEUED"
    res = c("EXEC")
    assert res[:2] == [1, 2]
    assert err(res[2]) == "ERR Unknown Redis command called from script" + \
        at("return redis.call('nosuch')")
    assert err(res[3]) == "NOSCRIPT No matching script. Please use EVAL."
    assert c("MULTI") == b"OK"
    assert err(c("EVAL", "return 1")) == "ERR wrong number of arguments for 'eval' command"
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of previous errors."


def test_watch_is_broken_by_another_clients_script(c, server):
    other = Conn(server.port)
    c("SET", "w", "1")
    assert c("WATCH", "w") == b"OK"
    assert other("EVAL", "return redis.call('get', KEYS[1])", 1, "w") == b"1"  # reads don't
    c("MULTI")
    c("PING")
    assert c("EXEC") == [b"PONG"]
    assert c("WATCH", "w") == b"OK"
    assert other("EVAL", "return redis.call('set', KEYS[1], 'x')", 1, "w") == b"OK"
    c("MULTI")
    c("PING")
    assert c("EXEC") is None
    other.close()


def _stat(info: bytes, name: str) -> str | None:
    m = re.search(rf"^{re.escape(name)}:(.*?)\r?$", info.decode(), re.M)
    return m.group(1) if m else None


def test_commandstats_and_errorstats(c):
    c("SET", "str", "abc")
    assert c("CONFIG", "RESETSTAT") == b"OK"
    ev(c, "return 1")
    ev(c, "return redis.call('set', 'x', '1')")
    ev(c, "error('x')")                                   # ERR
    ev(c, "return redis.call('incr', 'str')")             # ERR, counted once (by INCR)
    ev(c, "return {err = 'MYERR xyz'}")                   # MYERR
    ev(c, "return {err = 'LF\\nxyz'}")                    # LF: sent as "LF xyz"
    c("EVALSHA", "0" * 40, 0)                             # NOSCRIPT
    stats = c("INFO", "commandstats")
    assert re.match(r"calls=6,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=4$",
                    _stat(stats, "cmdstat_eval"))
    assert re.match(r"calls=1,.*,rejected_calls=0,failed_calls=1$",
                    _stat(stats, "cmdstat_evalsha"))
    # commands called by scripts count as commands
    assert re.match(r"calls=1,.*,failed_calls=1$", _stat(stats, "cmdstat_incr"))
    assert re.match(r"calls=1,.*,failed_calls=0$", _stat(stats, "cmdstat_set"))
    errors = c("INFO", "errorstats")
    assert _stat(errors, "errorstat_ERR") == "count=2"
    assert _stat(errors, "errorstat_MYERR") == "count=1"
    assert _stat(errors, "errorstat_LF") == "count=1"
    assert _stat(errors, "errorstat_NOSCRIPT") == "count=1"
    assert _stat(c("INFO", "stats"), "total_error_replies") == "5"


# ---------------------------------------------------------------------------------------------
# redis-py against both servers


@pytest.fixture(params=[2, 3])
def r(server, c, request):
    client = redis.Redis(port=server.port, protocol=request.param)
    client.script_flush()
    yield client
    client.close()


def test_redis_py_eval_and_evalsha(r):
    assert r.eval("return {KEYS[1], ARGV[1], 3}", 1, "k", "a") == [b"k", b"a", 3]
    assert r.eval("return redis.call('get', 'nokey')", 0) is None
    assert r.eval("return {ok = 'x'}", 0) == b"x"
    sha = r.script_load("return ARGV[1] .. '!'")
    assert sha == sha1("return ARGV[1] .. '!'")
    assert r.evalsha(sha, 0, "x") == b"x!"
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.eval_ro("return 1", 0) == 1
    assert r.evalsha_ro(sha, 0, "y") == b"y!"
    with pytest.raises(redis.ResponseError) as exc:
        r.eval("return redis.call('nosuch')", 0)
    assert str(exc.value) == "Unknown Redis command called from script" + \
        at("return redis.call('nosuch')")
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("0" * 40, 0)
    assert r.script_flush() is True
    assert r.script_exists(sha) == [False]


def test_redis_py_register_script(r):
    incrby = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incrby.sha == sha1("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incrby(keys=["n"], args=[5]) == 5
    assert r.script_exists(incrby.sha) == [True]
    r.script_flush()
    assert incrby(keys=["n"], args=[5]) == 10   # NOSCRIPT: redis-py loads it again
    assert r.script_exists(incrby.sha) == [True]
    pipe = r.pipeline()
    incrby(keys=["n"], args=[1], client=pipe)
    pipe.get("n")
    assert pipe.execute() == [11, b"11"]


def test_redis_py_lock(r):
    lock = r.lock("name", timeout=5)
    assert lock.acquire(blocking=False)
    assert lock.owned()
    assert 0 < r.pttl("name") <= 5000
    assert not r.lock("name", timeout=5).acquire(blocking=False)   # held
    assert lock.extend(10)                                           # adds to the TTL
    assert 10000 < r.pttl("name") <= 15000
    assert lock.reacquire()                                          # back to `timeout`
    assert 0 < r.pttl("name") <= 5000
    lock.release()
    assert r.exists("name") == 0
    with r.lock("name", timeout=5, blocking_timeout=1) as held:
        assert r.exists("name") == 1 and held.owned()
        r.set("name", "stolen")            # another owner now: the scripts must refuse
        with pytest.raises(redis.exceptions.LockNotOwnedError):
            held.extend(1)
        with pytest.raises(redis.exceptions.LockNotOwnedError):
            held.reacquire()
        with pytest.raises(redis.exceptions.LockNotOwnedError):
            held.release()
        assert r.get("name") == b"stolen"
        r.delete("name")
        assert held.acquire(blocking=False)
    assert r.exists("name") == 0


# ---------------------------------------------------------------------------------------------
# Persistence of scripts' effects


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_scripts_effects_survive_restarts(kv_factory, kind):
    """The AOF after scripts (random SPOP, SELECT inside, EVAL/EVALSHA in MULTI, an error after
    a write), restarted after SIGTERM, then after kill -9. Run on redis-server too, to prove
    the expectations."""
    aof = ("--appendonly", "yes", "--appendfsync", "always")
    p = kv_factory(*aof, kind=kind)
    c = Conn(p.port)
    assert c("SADD", "pool", "a", "b", "c") == 3
    popped = c("EVAL", "return redis.call('spop', KEYS[1])", 1, "pool")   # random: effects only
    assert c("EVAL", "redis.call('select', 1) redis.call('set', 'db1', 'x') "
                     "redis.call('select', 0) redis.call('set', 'db0', 'y') "
                     "redis.call('select', 2) return redis.call('incrbyfloat', 'f', '1.5')",
             0) == b"1.5"
    assert c("SET", "after", "plain") == b"OK"          # lands in db 0: the caller's db
    assert c("MULTI") == b"OK"
    c("EVAL", "return redis.call('rpush', KEYS[1], ARGV[1], ARGV[2])", 1, "l", "a", "b")
    c("INCR", "n")
    c("EVALSHA", sha1("return redis.call('rpush', KEYS[1], ARGV[1], ARGV[2])"), 1, "l", "c", "d")
    assert c("EXEC") == [2, 1, 4]
    assert err(c("EVAL", "redis.call('set', 'partial', '1') error('stop')", 0))  # kept
    assert c("EVAL", "for i = 1, 200 do redis.call('hset', 'h', 'f' .. i, i) end "
                     "return redis.call('hlen', 'h')", 0) == 200
    assert c("EVAL", "redis.set_repl(redis.REPL_REPLICA) redis.call('set', 'replicas', 1) "
                     "redis.set_repl(redis.REPL_AOF) redis.call('set', 'aof', 1)", 0) is None
    c.close()
    p.proc.send_signal(signal.SIGTERM)
    p.proc.wait(20)

    def check(port):
        c = Conn(port)
        try:
            while str(c("PING")).startswith("LOADING"):
                pass  # redis-server answers LOADING until its AOF is in
            assert popped not in c("SMEMBERS", "pool") and c("SCARD", "pool") == 2
            assert c("MGET", "db0", "after", "db1", "f", "partial") == \
                [b"y", b"plain", None, None, b"1"]
            assert c("LRANGE", "l", 0, -1) == [b"a", b"b", b"c", b"d"]
            assert c("GET", "n") == b"1"
            assert c("MGET", "replicas", "aof") == [None, b"1"]  # (redis.set_repl)
            assert c("HLEN", "h") == 200 and c("HGET", "h", "f200") == b"200"
            c("SELECT", "1")
            assert c("DBSIZE") == 1 and c("GET", "db1") == b"x"
            c("SELECT", "2")
            assert c("DBSIZE") == 1 and c("GET", "f") == b"1.5"
        finally:
            c.close()

    p = kv_factory(*aof, kind=kind)
    check(p.port)
    c = Conn(p.port)
    assert c("EVAL", "redis.call('select', 3) return redis.call('set', 'late', 'z')", 0) == b"OK"
    c.close()
    p.proc.kill()                                        # kill -9: no shutdown at all
    p.proc.wait(20)
    p = kv_factory(*aof, kind=kind)
    check(p.port)
    c = Conn(p.port)
    c("SELECT", "3")
    assert c("GET", "late") == b"z"
    c.close()
    assert os.path.isdir(os.path.join(os.path.dirname(p.log), "appendonlydir"))


def test_many_scripts_leave_the_lua_heap_near_what_it_holds(c):
    """Redis's "EVAL does not leak in the Lua stack": after 10,000 small scripts
    used_memory_lua is under 100 KB (a step of the collector every 50 calls, as Redis's
    luaCallFunction; before, kvstore's heap reached 159 KB)."""
    script = 'return redis.call("incr", KEYS[1])'
    c.send(b"".join(Conn.encode("EVAL", script, 1, "x") for _ in range(10000)))
    assert [c.reply() for _ in range(10000)][-1] == 10000
    used = int(re.search(rb"used_memory_lua:(\d+)", c("INFO", "memory")).group(1))
    assert used < 100 * 1024


# =============================================================================================
# kvstore only: behaviour Redis does not have, or that only a Python host must guarantee.


@pytest.fixture(scope="module")
def _kv_only_holder(tmp_path_factory):
    holder = {"dir": tmp_path_factory.mktemp("kv-only"), "proc": None}
    yield holder
    if holder["proc"] is not None:
        holder["proc"].stop()


@pytest.fixture
def kv_only(_kv_only_holder):
    """A kvstore of the module's own, started again if a failed case killed it."""
    p = _kv_only_holder["proc"]
    if p is None or p.proc.poll() is not None:
        p = start("kvstore", _kv_only_holder["dir"])
        _kv_only_holder["proc"] = p
    return p


@pytest.mark.parametrize("script", [
    "local t = {} while true do t[#t+1] = string.rep('x', 1000000) end",
    "local t = {} while true do t[#t+1] = string.rep('x', 1000000) .. #t end",  # not interned
    "local s = 'x' while true do s = s .. s end",
])
def test_kvstore_survives_a_script_allocating_without_bound(kv_factory, script):
    p = kv_factory("--busy-reply-threshold", "1000")
    c = Conn(p.port, timeout=30)
    done = False
    try:
        c.send(Conn.encode("EVAL", script, 0))
        server_has_read(p.port, c)
        # The Lua memory limit stops it, or, if it grows slowly (an interned string added
        # again and again), it is still running past the threshold, and SCRIPT KILL stops it
        killer = Conn(p.port, timeout=30)
        killed = killer("SCRIPT", "KILL")
        assert killed == b"OK" or str(killed).startswith("NOTBUSY"), killed
        reply = c.reply()
        done = True
        assert err(reply) is not None and str(reply).startswith("ERR"), reply
        assert c("PING") == b"PONG"
        assert c("EVAL", "return #string.rep('y', 1000)", 0) == 1000
        assert p.proc.poll() is None
    finally:
        c.close()
        if not done:                       # do not let a runaway allocation go on
            p.proc.kill()


def test_kvstore_nested_reply_past_the_limit_is_an_error_element(kv_only):
    """A reply nested 100,000 tables deep: Redis runs out of Lua stack and puts an error where
    it stopped; kvstore does the same at MAX_REPLY_DEPTH, instead of overflowing Python's stack
    (which closed the connection)."""
    from kvstore.commands.scripting import MAX_REPLY_DEPTH

    c = Conn(kv_only.port)
    try:
        reply = ev(c, "local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end "
                      "return t")
        depth = 0
        while isinstance(reply, list):
            reply = reply[0]
            depth += 1
        assert depth == MAX_REPLY_DEPTH and err(reply) == "ERR reached lua stack limit"
        assert c("PING") == b"PONG"
    finally:
        c.close()


@pytest.mark.parametrize("script, numkeys, count", [
    ("return #ARGV", 0, 200_000),
    ("return {#KEYS, #ARGV, KEYS[100000], ARGV[1]}", 100_000, 100_001),
])
def test_many_keys_and_args(server, script, numkeys, count):
    """More arguments than Lua's stack takes in one call reach the script whole."""
    r = redis.Redis(port=server.port)
    want = count if not numkeys else [numkeys, count - numkeys, b"99999", b"100000"]
    assert r.eval(script, numkeys, *range(count)) == want
    assert r.ping()
    r.close()


def test_cmsgpack_nesting_past_the_limit(c):
    script = "return cmsgpack.unpack(string.rep('\\145', 100000) .. '\\1')"
    assert err(ev(c, script)) == ("ERR user_script:1: stack overflow (in function "
                                  "mp_decode_to_lua_array)" + at(script))
    assert c("PING") == b"PONG"


# -- scripts with a shebang: flags the server judges the call by ----------------------------------

WRITES = "#!lua\nreturn redis.call('set', KEYS[1], 'v')"
NO_WRITES = "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])"
ALLOW_OOM = "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'v')"


def test_shebang_flags_decide_oom_and_read_only_calls(c):
    try:
        assert ev(c, WRITES, keys=["sb"]) == b"OK"
        assert err(c("EVAL_RO", WRITES, 1, "sb")) == \
            "ERR Can not execute a script with write flag using *_ro command."
        assert c("EVAL_RO", NO_WRITES, 1, "sb") == b"v"
        c("CONFIG", "SET", "maxmemory", "1")
        # a script that may write is refused before it runs, as a write command would be
        assert err(ev(c, WRITES, keys=["sb"])) == \
            "OOM command not allowed when used memory > 'maxmemory'."
        assert ev(c, NO_WRITES, keys=["sb"]) == b"v"
        assert ev(c, ALLOW_OOM, keys=["sb2"]) == b"OK"
        # without a shebang the script runs and its write is refused inside it
        plain = "return redis.call('set', KEYS[1], 'v')"
        assert err(ev(c, plain, keys=["sb3"])) == \
            "OOM command not allowed when used memory > 'maxmemory'." + at(plain)
    finally:
        c("CONFIG", "SET", "maxmemory", "0")


@pytest.mark.parametrize("script, want", [
    ("#!lua flags=bogus\nreturn 1", "ERR Unexpected flag in script shebang: bogus"),
    ("#!nolua\nreturn 1", "ERR Unexpected engine in script shebang: #!nolua"),
    ("#!lua name=x\nreturn 1", "ERR Unknown lua shebang option: name=x"),
    ("#!lua return 1", "ERR Invalid script shebang"),
])
def test_bad_shebangs(c, script, want):
    assert err(ev(c, script)) == want
    assert err(c("SCRIPT", "LOAD", script)) == want


def test_read_only_scripts_refuse_may_replicate_commands(c):
    script = "return redis.call('pfcount', KEYS[1])"
    assert err(c("EVAL_RO", script, 1, "nohll")) == \
        "ERR Write commands are not allowed from read-only scripts." + at(script)
    assert ev(c, script, keys=["nohll"]) == 0


def test_fcall_finds_functions_whatever_their_case(c):
    c("FUNCTION", "LOAD", "REPLACE",
      "#!lua name=caselib\nredis.register_function('MyFunc', function() return 7 end)")
    try:
        assert c("FCALL", "myfunc", 0) == 7
        assert c("FCALL", "MYFUNC", 0) == 7
        assert err(c("FUNCTION", "LOAD", "#!lua name=other\n"
                     "redis.register_function('myFUNC', function() return 8 end)")) == \
            "ERR Function myFUNC already exists"
    finally:
        c("FUNCTION", "DELETE", "caselib")


@pytest.mark.parametrize("text, want", [
    ('{"\\u00e9": "\\u00e9"}', b'{"\xc3\xa9":"\xc3\xa9"}'),  # escapes as UTF-8, keys too
    ('{"\\ud83d\\ude00": 1}', b'{"\xf0\x9f\x98\x80":1}'),
    ('[+23, 05, 2., -.5e3, 0x10, -0.e3]', b"[23,5,2,-500,16,-0]"),  # strtod's numbers
])
def test_cjson_decode_reads_as_redis_cjson(c, text, want):
    assert ev(c, "return cjson.encode(cjson.decode(ARGV[1]))", text) == want


@pytest.mark.parametrize("text, found", [
    ('{"\\ud800": 1}', "Expected object key string but found invalid unicode escape code at "
                       "character 3"),
    ('["\\x"]', "Expected value but found invalid escape code at character 3"),
    ('{"k": "v', "Expected value but found unexpected end of string at character 9"),
])
def test_cjson_decode_string_errors(c, text, found):
    script = "return cjson.decode(ARGV[1])"
    assert err(ev(c, script, text)) == f"ERR user_script:1: {found}" + at(script)


@pytest.mark.parametrize("text, found", [
    # a whole value, then another token: cjson names it
    ("1 2", "Expected the end but found T_NUMBER at character 3"),
    ("1 +1", "Expected the end but found T_NUMBER at character 3"),
    ("1 NaN", "Expected the end but found T_NUMBER at character 3"),
    ("1 -x", "Expected the end but found invalid number at character 3"),
    ("{} x", "Expected the end but found invalid token at character 4"),
    ("1]", "Expected the end but found T_ARR_END at character 2"),
    ('1 "a"', "Expected the end but found T_STRING at character 3"),
    ("true false", "Expected the end but found T_BOOLEAN at character 6"),
    ("1 null", "Expected the end but found T_NULL at character 3"),
    # a NUL among the first two bytes reads as a wide encoding; later, as the input's end
    ("1\0", "JSON parser does not support UTF-16 or UTF-32"),
    ("[1, 2\0]", "Expected comma or array end but found T_END at character 6"),
])
def test_cjson_decode_trailing_data_and_nul_errors(c, text, found):
    script = "return cjson.decode(ARGV[1])"
    assert err(ev(c, script, text)) == f"ERR user_script:1: {found}" + at(script)
    assert ev(c, script, "7 \0 x") == 7


@pytest.mark.parametrize("script, text", [
    ("local n = 0 for k in pairs('x') do n = n + 1 end return n",
     "bad argument #1 to 'pairs' (table expected, got string)"),
    ("local k = next(5) return 1", "bad argument #1 to 'next' (table expected, got number)"),
    ("local v = rawget('a', 1) return 1",
     "bad argument #1 to 'rawget' (table expected, got string)"),
    ("rawset(nil, 1, 2) return 1", "bad argument #1 to 'rawset' (table expected, got nil)"),
    ("local t = {} setmetatable(t, 5) return 1",
     "bad argument #2 to 'setmetatable' (nil or table expected)"),
    ("local m = getmetatable() return 1", "bad argument #1 to 'getmetatable' (value expected)"),
])
def test_sandboxed_builtins_blame_the_script_line(c, script, text):
    # pairs & co are wrapped by the sandbox: their errors still name the script's line.
    sha = hashlib.sha1(script.encode()).hexdigest()
    assert err(c("EVAL", script, "0")) == \
        f"ERR user_script:1: {text} script: {sha}, on @user_script:1."


def test_errorstats_count_each_error_once_where_redis_does(c):
    # A command's error counts when it happens, caught by pcall or not; a script's reply made
    # of it is not counted again. Other error replies count by their code: what precedes a
    # space in the first 32 bytes of "-" + text, else ERR.
    c("SET", "s", "x")
    c("CONFIG", "RESETSTAT")
    for script in ["redis.pcall('LPUSH', 's', 'a') return 1",
                   "return redis.call('LPUSH', 's', 'a')",
                   "return redis.pcall('LPUSH', 's', 'a')",
                   "local ok = pcall(redis.call, 'LPUSH', 's', 'a') return 1",
                   "return redis.pcall('nosuch')",
                   "return {err='-X'}", "return {err='-X y'}", "return {err='MYERR y'}",
                   "return {err='" + "A" * 36 + " x'}", "error('boom')"]:
        ev(c, script)
    stats = dict(line.split(":", 1) for line in c("INFO", "errorstats").decode().split("\r\n")
                 if line.startswith("errorstat_"))
    assert stats == {"errorstat_WRONGTYPE": "count=4", "errorstat_ERR": "count=4",
                     "errorstat_-X": "count=1", "errorstat_MYERR": "count=1"}
    assert "total_error_replies:10" in c("INFO", "stats").decode()
    table = ev(c, "local t = redis.pcall('LPUSH', 's', 'a') return t.ignore_error_stats_update")
    assert table == 1


def test_errors_nested_in_a_script_reply_count_as_error_replies(c):
    # Each error table in the reply is an error reply (Redis's afterErrorReply): in errorstats
    # unless a command's error already counted there, and in EVAL's failed_calls, once for all
    # the uncounted ones and once for each already counted one.
    c("SET", "s", "x")
    c("CONFIG", "RESETSTAT")
    ev(c, "return {1, {err = 'e'}, {{err = 'MY f'}}}")
    ev(c, "return {redis.pcall('INCR', 's'), redis.pcall('INCR', 's')}")
    assert _stat(c("INFO", "errorstats"), "errorstat_ERR") == "count=3"
    assert _stat(c("INFO", "errorstats"), "errorstat_MY") == "count=1"
    assert _stat(c("INFO", "stats"), "total_error_replies") == "4"
    assert re.match(r"calls=2,.*,rejected_calls=0,failed_calls=3$",
                    _stat(c("INFO", "commandstats"), "cmdstat_eval"))


def test_calls_a_script_may_not_make_count_as_rejected(c):
    # scriptCall's refusals (unknown command, arity, NOSCRIPT, a write from a read-only
    # script) are error replies when they happen, and rejected_calls of the command.
    c("CONFIG", "RESETSTAT")
    for script in ["redis.pcall('hset', 'k') return 1", "redis.pcall('nosuch') return 1",
                   "return redis.pcall('nosuch')", "redis.pcall('config', 'get', 'x') return 1",
                   "return redis.call('hset', 'k')"]:
        ev(c, script)
    c("EVAL_RO", "redis.pcall('set', 'a', 'b') return 1", "0")
    c("EVAL", "redis.pcall() return 1", "0")  # Lua's own error, before any command: not one
    info = c("INFO", "all").decode()
    assert "errorstat_ERR:count=6" in info and "total_error_replies:6" in info
    for name, rejected in (("hset", 2), ("set", 1), ("config|get", 1)):
        assert f"cmdstat_{name}:calls=0," in info
        assert re.search(rf"cmdstat_{re.escape(name)}:.*rejected_calls={rejected},", info)


def test_commands_in_a_script_reply_in_the_scripts_protocol(c):
    # A RESP3 caller's script still gets RESP2 replies from redis.call until redis.setresp(3):
    # HRANDFIELD's flat pairs, XREAD's array; after setresp(3), nested pairs and a map.
    c("HELLO", "3")
    c("HSET", "h", "a", "1")
    c("XADD", "s", "1-1", "f", "v")
    assert c("EVAL", "return redis.call('hrandfield', 'h', -2, 'withvalues')", 0) == \
        [b"a", b"1", b"a", b"1"]
    assert c("EVAL", "return redis.call('xread', 'streams', 's', '0')", 0) == \
        [[b"s", [[b"1-1", [b"f", b"v"]]]]]
    assert c("EVAL", "redis.setresp(3); return redis.call('hrandfield', 'h', -2, 'withvalues')",
             0) == [[b"a", b"1"], [b"a", b"1"]]
    assert c("EVAL", "redis.setresp(3); return redis.call('xread', 'streams', 's', '0')['map']"
             "['s'][1][1]", 0) == b"1-1"
    c("HELLO", "2")


def test_script_debug(c, server):
    assert c("SCRIPT", "DEBUG", "NO") == b"OK"
    assert err(c("SCRIPT", "DEBUG", "MAYBE")) == "ERR Use SCRIPT DEBUG YES/SYNC/NO"
    assert err(c("SCRIPT", "DEBUG")) == \
        "ERR wrong number of arguments for 'script|debug' command"
    assert c("MULTI") == b"OK" and c("SCRIPT", "DEBUG", "NO") == b"QUEUED"
    assert str(c("EXEC")[0]) == "ERR SCRIPT DEBUG must be called outside a pipeline"
    assert err(c("EVAL", "return redis.call('script', 'debug', 'no')", "0")).startswith(
        "ERR This Redis command is not allowed from script")
    assert c("SCRIPT", "DEBUG", "YES") == b"OK"  # (sessions: test_ldb.py)
    assert c("SCRIPT", "DEBUG", "NO") == b"OK" and c("EVAL", "return 1", "0") == 1
