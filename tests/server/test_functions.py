"""Redis 7 functions over the wire and across restarts: FUNCTION STATS in RESP3 on both servers,
and on kvstore libraries surviving an AOF rewrite plus kill -9, and a SAVEd snapshot."""

from __future__ import annotations

import os
import time

import redis

from .helpers import Conn

LIB = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) " \
      "return redis.call('incrby', keys[1], args[1]) end)"
LIB2 = "#!lua name=lib2\nredis.register_function{function_name='f2', " \
       "callback=function(keys, args) return 'two' end, flags={'no-writes'}}"


def test_function_stats_and_list_in_resp3(server):
    c = Conn(server.port)
    try:
        c("FUNCTION", "FLUSH")
        c.send(Conn.encode("HELLO", "3"))
        c.reply()
        c("FUNCTION", "LOAD", LIB2)
        c.send(Conn.encode("FUNCTION", "STATS"))
        assert c.read_raw(until=b"functions_count\r\n:1\r\n") == (
            b"%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n"
            b"$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n")
        c.send(Conn.encode("FUNCTION", "LIST"))
        assert c.read_raw(until=b"+no-writes\r\n") == (
            b"*1\r\n%3\r\n$12\r\nlibrary_name\r\n$4\r\nlib2\r\n$6\r\nengine\r\n$3\r\nLUA\r\n"
            b"$9\r\nfunctions\r\n*1\r\n%3\r\n$4\r\nname\r\n$2\r\nf2\r\n$11\r\ndescription\r\n"
            b"_\r\n$5\r\nflags\r\n~1\r\n+no-writes\r\n")
        c("FUNCTION", "FLUSH")
    finally:
        c.close()


def test_info_memory_counts_libraries_functions_and_system_memory(server):
    r = redis.Redis(port=server.port)
    try:
        r.function_flush()
        three = LIB2 + "\nredis.register_function('f3', function() return 3 end)"
        r.function_load(LIB)
        r.function_load(three.replace("lib2", "lib3"))
        info = r.info("memory")
        assert (info["number_of_libraries"], info["number_of_functions"]) == (2, 3)
        assert info["total_system_memory"] == os.sysconf("SC_PAGE_SIZE") * os.sysconf(
            "SC_PHYS_PAGES")
        assert info["used_memory_functions"] > 0 and info["used_memory_vm_functions"] > 0
        # (Redis samples RSS and used memory for it in its cron: only the field is compared)
        assert isinstance(info["mem_fragmentation_bytes"], int)
        r.function_flush()
        assert r.info("memory")["number_of_functions"] == 0
    finally:
        r.close()


def test_libraries_survive_rewrite_and_kill_9(kv_factory):
    aof = ("--appendonly", "yes", "--appendfsync", "always")
    p = kv_factory(*aof)
    r = redis.Redis(port=p.port)
    r.function_load(LIB)
    assert r.fcall("f1", 1, "n", 5) == 5
    r.bgrewriteaof()
    deadline = time.monotonic() + 20
    while r.info("persistence")["aof_rewrite_in_progress"]:
        assert time.monotonic() < deadline, "the rewrite did not finish"
        time.sleep(0.01)
    r.function_load(LIB2)                      # into the incremental file after the new base
    r.close()
    p.proc.kill()
    p.proc.wait(10)
    p = kv_factory(*aof)
    r = redis.Redis(port=p.port)
    assert r.fcall("f1", 1, "n", 1) == 6
    assert r.fcall_ro("f2", 0) == b"two"
    r.function_delete("lib2")
    r.close()
    p.proc.kill()
    p.proc.wait(10)
    p = kv_factory(*aof)
    r = redis.Redis(port=p.port)
    assert [lib[1] for lib in r.function_list()] == [b"lib1"]
    r.close()


def test_libraries_in_a_saved_snapshot(kv_factory):
    p = kv_factory("--dbfilename", "snap.kvs")
    r = redis.Redis(port=p.port)
    r.function_load(LIB2)
    r.save()
    r.close()
    p.proc.kill()
    p.proc.wait(10)
    p = kv_factory("--dbfilename", "snap.kvs")
    assert redis.Redis(port=p.port).fcall("f2", 0) == b"two"


def test_library_metadata_errors(server):
    # functionExtractLibMetaData: the shebang line needs its newline and is split as
    # sdssplitargs splits, name= in any case, once.
    c = Conn(server.port)
    cases = {
        "#!lua": "ERR Invalid library metadata",
        "#!lua name=x": "ERR Invalid library metadata",
        "#!lua 'name=x\n": "ERR Invalid library metadata",
        "#!lua\nreturn 1": "ERR Library name was not given",
        "#!lua foo\n": "ERR Invalid metadata value given: foo",
        "#!lua name=x name=y\n": "ERR Invalid metadata value, name argument was given "
                                 "multiple times",
        "#!js name=x\n": "ERR Engine 'js' not found",
        '#!lua "name=a b"\n': "ERR Library names can only contain letters, numbers, or "
                              "underscores(_) and must be at least one character long",
        "#!LUA NAME=x\n": "ERR No functions registered",
    }
    for code, text in cases.items():
        assert str(c("FUNCTION", "LOAD", code)) == text, code
    c.close()


def test_function_errors_as_redis_gives_them(server):
    c = Conn(server.port)
    c("FUNCTION", "FLUSH")
    cases = [
        (("FUNCTION", "RESTORE", "a", "b", "c"),
         "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP."),
        (("FUNCTION", "FLUSH", "sync", "x"),
         "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP."),
        (("FUNCTION", "LOAD", "#!lua name=l2\nredis.register_function('f1')"),
         "ERR Error registering functions: ERR calling redis.register_function with a single "
         "argument is only applicable to Lua table (representing named arguments)."),
        (("FUNCTION", "LOAD", "#!lua name=a\0b\nredis.register_function('x', function() end)"),
         "ERR Invalid library metadata"),
        (("FUNCTION", "LOAD", "#!lua name=t\nlocal a = 1\nwhile 1 do a = a + 1 end\n"),
         "ERR Error registering functions: ERR FUNCTION LOAD timeout"),  # after 500 ms
        # line ends become spaces, a trailing one kept (unlike most errors, which trim it);
        # the argument is read as a C string
        (("FUNCTION", "LIST", "x\n"), "ERR Unknown argument x "),
        (("FUNCTION", "LIST", "a\rb\0c\n"), "ERR Unknown argument a b"),
    ]
    for argv, text in cases:
        assert str(c(*argv)) == text, argv
    # register_function kept by the library and called later, from a function
    c("FUNCTION", "LOAD", "#!lua name=l1\nlocal lib = redis\nlib.register_function('f1', "
                          "function() lib.register_function('f2', function() end) end)")
    assert str(c("FCALL", "f1", "0")) == ("ERR redis.register_function can only be called on "
                                          "FUNCTION LOAD command script: f1, on @user_function:3.")
    c("FUNCTION", "FLUSH")
    c.close()


def test_a_function_may_not_block_on_xread(server):
    """XREAD / XREADGROUP ... BLOCK from a function is refused as from a script (it answered
    nil: the check knew only EVAL's engine)."""
    c = Conn(server.port)
    c("FLUSHALL")
    c("FUNCTION", "FLUSH")
    lib = ("#!lua name=blk\n"
           "redis.register_function('rd', function(k) return redis.pcall("
           "'xread', 'BLOCK', 0, 'STREAMS', k[1], '$') end)\n"
           "redis.register_function('grp', function(k) return redis.pcall("
           "'xreadgroup', 'GROUP', 'g', 'c', 'BLOCK', 0, 'STREAMS', k[1], '>') end)")
    assert c("FUNCTION", "LOAD", lib) == b"blk"
    c("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
    for name, cmd in (("rd", "xread"), ("grp", "xreadgroup")):
        assert str(c("FCALL", name, "1", "s")) == \
            f"ERR {cmd} command is not allowed with BLOCK option from scripts"
    c("FUNCTION", "FLUSH")
    c("DEL", "s")
