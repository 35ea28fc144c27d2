"""Reply frames and connection-level behaviour that the wire-level fuzz (`python -m
tests.compat.fuzz --server`) found different from Redis. Every case runs against kvstore AND
redis-server (`server` fixture). RESP3 frames are read with the fuzz's parser, which keeps every
type distinct (a verbatim string is not a bulk, a set is not an array).
"""

from __future__ import annotations

import pytest

from tests.compat.fuzz_wire import RawRedis

from .helpers import err

VERBATIM = "verbatim"


@pytest.fixture
def r3(server):
    """A RESP3 connection returning typed values (see tests/compat/fuzz_wire.py)."""
    r = RawRedis(server.port)
    r.ok("HELLO", "3")
    yield r
    r.close()


def call(r: RawRedis, *args):
    return r.call([a if isinstance(a, bytes) else str(a).encode() for a in args])


# -- HELLO --------------------------------------------------------------------------------------

def test_hello_protocol_version_is_parsed_as_redis_parses_integers(c):
    not_int = "ERR Protocol version is not an integer or out of range"
    for bad in ("9223372036854775808", "-9223372036854775809", "+3", "03", " 3", "3.0"):
        assert err(c("HELLO", bad)) == not_int, bad
    assert err(c("HELLO", "2147483651")) == "NOPROTO unsupported protocol version"


def test_hello_options_take_effect_in_order(c):
    c("CLIENT", "SETNAME", "first")
    assert err(c("HELLO", "2", "SETNAME", "second", "BOGUS")) == \
        "ERR Syntax error in HELLO option 'BOGUS'"
    assert c("CLIENT", "GETNAME") == b"second"
    assert err(c("HELLO", "2", "SETNAME", "third", "AUTH", "nobody", "pw")) == \
        "WRONGPASS invalid username-password pair or user is disabled."
    assert c("CLIENT", "GETNAME") == b"third"
    assert err(c("HELLO", "2", "SETNAME", "a b", "AUTH", "nobody", "pw")) == \
        "ERR Client names cannot contain spaces, newlines or special characters."
    assert err(c("HELLO", "2", "AUTH", "nobody", "pw", "SETNAME", "a b")) == \
        "WRONGPASS invalid username-password pair or user is disabled."
    assert c("CLIENT", "GETNAME") == b"third"


# -- verbatim and set frames --------------------------------------------------------------------

def test_client_info_and_list_are_verbatim_in_resp3(r3):
    kind, info = call(r3, "CLIENT", "INFO")
    assert kind == "ok" and info[:2] == (VERBATIM, b"txt") and b" resp=3" in info[2]
    kind, listing = call(r3, "CLIENT", "LIST", "ID", "999999")
    assert (kind, listing) == ("ok", (VERBATIM, b"txt", b""))
    assert call(r3, "HELLO", "2")[0] == "ok"
    kind, info = call(r3, "CLIENT", "INFO")
    assert kind == "ok" and type(info) is bytes and b" resp=2" in info


def test_command_info_collections_are_sets_in_resp3(r3):
    kind, [get] = call(r3, "COMMAND", "INFO", "get")
    assert get[:2] == [b"get", 2] and get[3:6] == [1, 1, 1]
    # flags, ACL categories, tips, key specs; subcommands: an empty set when there are none
    assert [get[i][0] for i in (2, 6, 7, 8, 9)] == ["set"] * 5
    assert sorted(get[2][1]) == ["fast", "readonly"] and get[9] == ("set", [])
    kind, [client] = call(r3, "COMMAND", "INFO", "client")
    assert type(client[9]) is list and b"client|id" in [sub[0] for sub in client[9]]


# -- CONFIG and INFO ----------------------------------------------------------------------------

def test_hash_listpack_limit_is_redis_7_0_default(c):
    r = c("CONFIG", "GET", "hash-max-listpack-entries")
    assert r == [b"hash-max-listpack-entries", b"512"]
    c("HSET", "wide", *[x for i in range(300) for x in (f"f{i}", "v")])
    assert c("OBJECT", "ENCODING", "wide") == b"listpack"
    c("HSET", "wide", *[x for i in range(300, 513) for x in (f"f{i}", "v")])
    assert c("OBJECT", "ENCODING", "wide") == b"hashtable"


def test_info_all_has_redis_sections(c):
    text = c("INFO", "all").decode()
    titles = [line[2:] for line in text.split("\r\n") if line.startswith("# ")]
    assert titles == ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
                      "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats",
                      "Cluster", "Keyspace"]
    assert c("INFO", "latencystats").decode().startswith("# Latencystats\r\n")
