"""Redis 7 functions (FUNCTION ..., FCALL, FCALL_RO) on the embedded store, each command run on
the real redis-server too with the same outcome (`both`); the wire and persistence are in
tests/server/test_functions.py."""

from __future__ import annotations

import pytest

LIB = """#!lua name=mylib
redis.register_function('incr_key', function(keys, args) return redis.call('incr', keys[1]) end)
redis.register_function{function_name='echo_ro', callback=function(keys, args) return args[1] end,
  flags={'no-writes'}, description='read only'}
redis.register_function('boom', function(keys, args)
  error('bad')
end)
redis.register_function('callerr', function(keys, args) return redis.call('nosuch') end)
redis.register_function('globals', function(keys, args) return KEYS end)
redis.register_function('writes', function(keys, args) return redis.call('set', 'x', 1) end)
"""


@pytest.fixture
def fb(both):
    both("FUNCTION", "FLUSH")
    yield both
    both("FUNCTION", "FLUSH")


def listing(reply):
    """FUNCTION LIST with each library's functions in name order (Redis's order is its hash
    table's)."""
    out = []
    for lib in reply:
        lib = list(lib)
        i = lib.index(b"functions") + 1
        lib[i] = sorted(lib[i])
        out.append(lib)
    return sorted(out)


def same_list(fb, *args) -> None:
    assert listing(fb.store.execute("FUNCTION", "LIST", *args)) == \
        listing(fb.oracle.execute("FUNCTION", "LIST", *args))


def test_load_and_call(fb):
    assert fb("FUNCTION", "LOAD", LIB) == b"mylib"
    assert fb("FCALL", "incr_key", 1, "k") == 1
    assert fb("FCALL", "incr_key", "1", "k") == 2
    assert fb("FCALL", "echo_ro", 0, "hello") == b"hello"
    assert fb("FCALL_RO", "echo_ro", 0, "hi") == b"hi"
    fb("FCALL_RO", "incr_key", 1, "k")          # a write function: refused
    fb("FCALL", "writes", 0)
    fb("FCALL", "nosuch", 0)
    fb("FCALL", "incr_key", -1)
    fb("FCALL", "incr_key", 2, "a")
    fb("FCALL", "incr_key", "x", "a")
    fb("FCALL", "boom", 0)                      # "... script: boom, on @user_function:5."
    fb("FCALL", "callerr", 0)
    fb("FCALL", "globals", 1, "a")              # no KEYS global in a function
    fb("FCALL")


@pytest.mark.parametrize("code", [
    "redis.register_function('x', function() return 1 end)",          # no metadata
    "#!lua name=lib2\nreturn 1",                                       # nothing registered
    "#!lua name=lib3\nredis.register_function('incr_key', function() return 1 end)",
    "#!lua name=lib4\nredis.call('ping')",                             # no redis.call at load
    "#!lua name=lib5 foo=bar\n",
    "#!lua\n",
    "#!luax name=a\n",
    "#!lua name=lib6\nlocal x = ",
    "#!lua name=e2\nredis.register_function()",
    "#!lua name=e3\nredis.register_function(1, function() end)",
    "#!lua name=e4\nredis.register_function('f', 'notfunc')",
    "#!lua name=e5\nredis.register_function{function_name='f', callback=function() end, "
    "flags={'bad-flag'}}",
    "#!lua name=e6\nredis.register_function{function_name='f'}",
    "#!lua name=e7\nredis.register_function{function_name='f', callback=function() end, foo=1}",
    "#!lua name=bad-name!\nredis.register_function('f', function() end)",
    "#!lua name=e8\nredis.register_function('bad name', function() end)",
    "#!lua name=e9\nredis.register_function{callback=function() end}",
    "#!lua name=e10\nredis.log(redis.LOG_NOTICE, 'loading') "
    "redis.register_function('logged', function() return 1 end)",
])
def test_load_errors_and_odd_libraries(fb, code):
    fb("FUNCTION", "LOAD", LIB)
    fb("FUNCTION", "LOAD", code)
    same_list(fb)


def test_replace_delete_list_stats(fb):
    fb("FUNCTION", "LOAD", LIB)
    fb("FUNCTION", "LOAD", LIB)                   # exists
    fb("FUNCTION", "LOAD", "REPLACE", LIB.replace("return args[1]", "return 'new'"))
    assert fb("FCALL", "echo_ro", 0, "x") == b"new"
    fb("FUNCTION", "LOAD", "#!lua name=other\n"
       "redis.register_function('other_fn', function() return 'o' end)")
    # LIBRARYNAME matches without regard to case (Redis's stringmatchlen with nocase=1)
    for args in ([], ["WITHCODE"], ["LIBRARYNAME", "my*"], ["LIBRARYNAME", "nomatch"],
                 ["WITHCODE", "LIBRARYNAME", "oth*"], ["LIBRARYNAME", "MY*"]):
        same_list(fb, *args)
    fb("FUNCTION", "LIST", "LIBRARYNAME")
    fb("FUNCTION", "LIST", "BAD")
    fb("FUNCTION", "STATS")
    fb("FUNCTION", "DELETE", "nosuch")
    fb("FUNCTION", "DELETE", "other")
    fb("FCALL", "other_fn", 0)
    fb("FUNCTION", "STATS")
    fb("FUNCTION", "FLUSH", "BAD")
    fb("FUNCTION", "FLUSH", "ASYNC")
    fb("FUNCTION", "STATS")
    fb("FUNCTION", "KILL")
    fb("FUNCTION", "NOSUCH")


def test_dump_restore_across_redis_and_kvstore(fb):
    fb("FUNCTION", "LOAD", LIB)
    theirs = fb.oracle.execute("FUNCTION", "DUMP")
    ours = fb.store.execute("FUNCTION", "DUMP")
    fb("FUNCTION", "RESTORE", theirs)              # APPEND onto an existing library: refused
    fb("FUNCTION", "RESTORE", ours, "REPLACE")
    fb("FUNCTION", "RESTORE", theirs, "BAD")
    fb("FUNCTION", "RESTORE", b"garbage")
    fb("FUNCTION", "FLUSH")
    fb("FUNCTION", "RESTORE", ours)                # each side's payload loads on the other
    assert fb.store.execute("FUNCTION", "FLUSH") == b"OK"
    fb.store.execute("FUNCTION", "RESTORE", theirs)
    assert fb("FCALL", "incr_key", 1, "n") == 1
    fb("FUNCTION", "RESTORE", ours, "FLUSH")
    same_list(fb, "WITHCODE")


def test_script_flush_leaves_functions(fb):
    fb("FUNCTION", "LOAD", LIB)
    fb("SCRIPT", "FLUSH")
    assert fb("FCALL", "echo_ro", 0, "still") == b"still"
    fb("FLUSHALL")
    assert fb("FCALL", "echo_ro", 0, "still") == b"still"


def test_methods_as_redis_py(store, redis_server):
    import redis

    r = redis.Redis(port=redis_server)
    r.function_flush()
    try:
        for client in (store, r):
            assert client.function_load(LIB) == b"mylib"
            assert client.function_load(LIB, replace=True) == b"mylib"
            assert client.fcall("incr_key", 1, "fk") == 1
            assert client.fcall_ro("echo_ro", 0, "a") == b"a"
            assert client.function_stats() == [
                b"running_script", None,
                b"engines", [b"LUA", [b"libraries_count", 1, b"functions_count", 6]]]
            payload = client.function_dump()
            assert client.function_delete("mylib") is True
            assert client.function_restore(payload) is True
            assert listing(client.function_list(withcode=True))[0][-2:] == \
                [b"library_code", LIB.encode()]
            assert client.function_list(library="nomatch") == []
            assert client.function_flush() is True
    finally:
        r.function_flush()
        r.close()
