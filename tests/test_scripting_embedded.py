"""Lua scripting through the embedded API (`kvstore.open()`): raw EVAL/SCRIPT against the real
redis-server (`both`), and the redis-py-shaped methods (eval, evalsha, script_load, ...,
register_script) against redis-py talking to the same redis-server.

The black-box wire cases are in tests/server/test_scripting.py; here it is the embedded paths:
replies shaped as redis-py shapes them, errors raised as kvstore's redis-py-like exceptions, the
store's lock shared by threads, and scripts' writes in the embedded AOF.
"""

from __future__ import annotations

import gc
import hashlib
import threading
import types

import pytest
import redis

import kvstore
from kvstore.commands import scripting
from kvstore.errors import NoScriptError, ResponseError, WrongTypeError


def sha1(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def at(script: str, line: int = 1) -> str:
    return f" script: {sha1(script)}, on @user_script:{line}."


@pytest.fixture
def rp(redis_server):
    """redis-py on the oracle, for the method-level comparisons (flushed, scripts too)."""
    r = redis.Redis(port=redis_server)
    r.flushall()
    r.script_flush()
    yield r
    r.close()


# ---------------------------------------------------------------------------------------------
# Raw commands: the embedded store against redis-server


@pytest.mark.parametrize("script", [
    "return 3.99", "return -3.99", "return 'hi'", "return true", "return false", "return nil",
    "return {1, 2, nil, 4}", "return {1, {2, {3, 'x'}}, 'y'}", "return {1, 2, a = 1}",
    "return {ok = 'fine'}", "return {err = 'bad thing'}", "return redis.status_reply('S')",
    "return redis.error_reply('MYERR E')", "return {1.5, true, false, 'z'}",
    "return {double = 3.14}", "return {map = {a = 1}}",
    "return redis.call('get', 'nokey')", "return type(redis.call('set', 'k', 'v'))",
    "return redis.call('set', 'k', 'v').ok", "return redis.pcall('incr', 's')",
    "return redis.call('incr', 's')", "return redis.call('nosuch')", "return redis.call()",
    "return redis.call('set', 'k', {})", "return redis.call('subscribe', 'x')",
    "x = 1", "return undefined_thing", "error('boom')", "error({err = 'custom'})",
    "local a = 1\nlocal b = nil\nreturn b.x", "return +",
    "return cjson.encode({a = {1, 2, {b = 'c'}}})", "return bit.tohex(bit.bxor(12, 10))",
    "return redis.sha1hex('x')",
    "redis.call('select', 1) redis.call('set', 'k', 'in1') return redis.call('get', 'k')",
    "redis.setresp(3) local r = redis.call('hgetall', 'h') return r.map.f",
    "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) "
    "return {#t > 25, rawget(_G, 'os') == nil, rawget(_G, 'io') == nil}",
])
def test_eval_matches_redis(both, script):
    both("SET", "s", "hello")
    both("HSET", "h", "f", "v")
    both("EVAL", script, 0)
    both("GET", "k")          # the script's writes went to the caller's db (or not at all)


def test_keys_argv_and_numkeys(both):
    script = "return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}"
    both("EVAL", script, 2, "k1", "k2", "a1")
    both("EVAL", script, 0)
    both("EVAL", script, -1)
    both("EVAL", script, 3, "a", "b")
    both("EVAL", script, "x")
    both("EVAL", script)
    both("EVAL_RO", "return redis.call('set', 'k', 'v')", 0)


def test_script_commands_match_redis(both):
    both("SCRIPT", "FLUSH")
    both("SCRIPT", "EXISTS", sha1("return 1"), "0" * 40)
    both("SCRIPT", "LOAD", "return 1")
    both("SCRIPT", "LOAD", "return +")
    both("EVALSHA", sha1("return 1"), 0)
    both("EVALSHA", sha1("return 1").upper(), 0)
    both("EVALSHA_RO", sha1("return 1"), 0)
    both("EVALSHA", "0" * 40, 0)
    both("EVAL", "return 2", 0)                          # EVAL caches its script
    both("SCRIPT", "EXISTS", sha1("return 1"), sha1("return 2"), sha1("return 3"))
    both("SCRIPT", "FLUSH", "ASYNC")
    both("SCRIPT", "EXISTS", sha1("return 1"))
    both("SCRIPT", "FLUSH", "bogus")
    both("SCRIPT", "KILL")


# ---------------------------------------------------------------------------------------------
# redis-py-shaped methods, compared with redis-py on redis-server


def test_eval_methods(store, rp):
    for script, args in [
        ("return {KEYS[1], ARGV[1], 3}", (1, "k", "a")),
        ("return redis.call('get', 'nokey')", (0,)),
        ("return {ok = 'x'}", (0,)),
        ("return 3.99", (0,)),
        ("return {1, 2, nil, 3}", (0,)),
        ("return redis.call('incrbyfloat', KEYS[1], ARGV[1])", (1, "f", "1.5")),
    ]:
        assert store.eval(script, *args) == rp.eval(script, *args), script
    assert store.eval_ro("return redis.call('get', KEYS[1])", 1, "f") == b"1.5"


def test_script_methods(store, rp):
    body = "return ARGV[1] .. '!'"
    sha = store.script_load(body)
    assert sha == rp.script_load(body) == sha1(body)
    assert store.evalsha(sha, 0, "x") == rp.evalsha(sha, 0, "x") == b"x!"
    assert store.evalsha_ro(sha, 0, "y") == b"y!"
    assert store.evalsha(sha.upper(), 0, "z") == b"z!"
    assert store.script_exists(sha, "0" * 40) == rp.script_exists(sha, "0" * 40) == \
        [True, False]
    assert store.script_flush() is rp.script_flush() is True
    assert store.script_exists(sha) == [False]
    store.script_load(body)
    assert store.script_flush("ASYNC") is True and store.script_exists(sha) == [False]
    store.script_load(body)
    assert store.script_flush("SYNC") is True and store.script_exists(sha) == [False]


def test_errors_are_redis_py_shaped(store):
    with pytest.raises(NoScriptError) as exc:
        store.evalsha("0" * 40, 0)
    assert str(exc.value) == "NOSCRIPT No matching script. Please use EVAL."
    assert isinstance(exc.value, ResponseError)
    script = "return redis.call('nosuch')"
    with pytest.raises(ResponseError) as exc:
        store.eval(script, 0)
    assert str(exc.value) == "ERR Unknown Redis command called from script" + at(script)
    with pytest.raises(ResponseError) as exc:
        store.eval("return +", 0)
    assert str(exc.value) == ("ERR Error compiling script (new function): user_script:1: "
                              "unexpected symbol near '+'")
    store.set("s", "x")
    script = "return redis.call('lpush', KEYS[1], 'a')"
    with pytest.raises(WrongTypeError) as exc:        # chosen by the text's first word
        store.eval(script, 1, "s")
    assert str(exc.value) == ("WRONGTYPE Operation against a key holding the wrong kind of "
                              "value" + at(script))
    with pytest.raises(ResponseError) as exc:
        store.eval("return {err = 'MYERR custom'}", 0)
    assert str(exc.value) == "MYERR custom"
    with pytest.raises(ResponseError) as exc:
        store.eval("return 1", -1)
    assert str(exc.value) == "ERR Number of keys can't be negative"


def test_register_script(store, rp):
    body = "return redis.call('incrby', KEYS[1], ARGV[1])"
    mine, theirs = store.register_script(body), rp.register_script(body)
    assert mine.sha == theirs.sha == sha1(body)
    assert mine(keys=["n"], args=[5]) == theirs(keys=["n"], args=[5]) == 5
    assert store.script_exists(mine.sha) == [True]
    store.script_flush()
    rp.script_flush()
    # NOSCRIPT: the Script loads itself again and retries, as redis-py's does
    assert mine(keys=["n"], args=[2]) == theirs(keys=["n"], args=[2]) == 7
    assert store.script_exists(mine.sha) == [True]
    assert mine(["n"], [1]) == 8                           # positional, as in redis-py
    assert store.get("n") == b"8"


def test_decode_responses():
    s = kvstore.open(decode_responses=True)
    try:
        assert s.eval("return {KEYS[1], 'x', 1}", 1, "k") == ["k", "x", 1]
        assert s.script_load("return 1") == sha1("return 1")
        assert s.evalsha(sha1("return 1"), 0) == 1
    finally:
        s.close()


def test_select_in_a_script_keeps_the_stores_db(store):
    assert store.eval("redis.call('select', 2) redis.call('set', 'k', 'in2') "
                      "return redis.call('get', 'k')", 0) == b"in2"
    assert store.get("k") is None
    assert store.select(2) is True
    assert store.get("k") == b"in2"
    assert store.eval("return redis.call('get', 'k')", 0) == b"in2"  # scripts start in db 2 now


def test_threads_share_the_store(store):
    """Each script runs under the store's lock: 2 x 1,000 INCRs from two threads make 2,000."""
    incr = "return redis.call('incr', KEYS[1])"
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(1000):
                store.eval(incr, 1, "counter")
        except BaseException as exc:   # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert store.get("counter") == b"2000"


def test_script_writes_are_persisted(tmp_path):
    s = kvstore.open(path=str(tmp_path), appendfsync="always")
    s.sadd("pool", "a", "b", "c")
    popped = s.eval("return redis.call('spop', KEYS[1])", 1, "pool")
    s.eval("redis.call('select', 1) redis.call('set', 'db1', 'x') "
           "redis.call('select', 0) return redis.call('rpush', 'l', 'a', 'b')", 0)
    with pytest.raises(ResponseError):
        s.eval("redis.call('set', 'partial', '1') error('stop')", 0)   # kept: no rollback
    s.close()
    s = kvstore.open(path=str(tmp_path))
    try:
        assert s.scard("pool") == 2 and not s.sismember("pool", popped)
        assert s.execute("LRANGE", "l", 0, -1) == [b"a", b"b"]
        assert s.get("partial") == b"1" and s.get("db1") is None
        assert s.select(1) and s.get("db1") == b"x"
    finally:
        s.close()


def test_a_failed_redis_call_pins_no_frames(store):
    # redis.call's error is a Python exception raised through lupa: lupa keeps the last one
    # (its traceback: every frame of the call, the script's arguments and the command's input
    # with them) and the script's Lua error value holds it until Lua's GC, which does not see
    # the Python memory. A 5 MB argument stayed pinned per failed call (200 MB after 20).
    script = "return redis.call('set', KEYS[1], ARGV[1], 'badopt')"
    for _ in range(3):
        try:  # (not pytest.raises: the error it keeps would hold the frames)
            store.execute("EVAL", script, 1, "k", "v" * 1000)
        except ResponseError as exc:
            assert "syntax error" in str(exc)
    gc.collect()
    pinned = [f.f_code.co_name for f in gc.get_objects()
              if isinstance(f, types.FrameType) and f.f_code.co_filename == scripting.__file__]
    assert pinned == []
