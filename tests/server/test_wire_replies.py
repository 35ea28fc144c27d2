"""Reply frames and connection-level behaviour that the wire-level fuzz (`python -m
tests.compat.fuzz --server`) found different from Redis. Every case runs against kvstore AND
redis-server (`server` fixture). RESP3 frames are read with the fuzz's parser, which keeps every
type distinct (a verbatim string is not a bulk, a set is not an array).
"""

from __future__ import annotations

import pytest

from tests.compat.fuzz_wire import RawRedis

from .helpers import Conn, err

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


# -- before AUTH --------------------------------------------------------------------------------

NOAUTH = "NOAUTH Authentication required."


def test_unknown_command_and_wrong_arity_are_reported_before_noauth(kv_factory, server):
    """Redis 7.0's processCommand checks that the command exists and its arity before AUTH."""
    p = kv_factory("--requirepass", "pw", kind=server.kind)
    c = Conn(p.port)
    assert err(c("NOSUCH", "x")) == "ERR unknown command 'NOSUCH', with args beginning with: 'x' "
    assert err(c("GET")) == "ERR wrong number of arguments for 'get' command"
    assert err(c("GET", "a", "b")) == "ERR wrong number of arguments for 'get' command"
    assert err(c("CLIENT", "NOSUCH")) == "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."
    assert err(c("CONFIG", "GET")) == "ERR wrong number of arguments for 'config|get' command"
    assert err(c("EXEC", "x")) == ("EXECABORT Transaction discarded because of: wrong number of "
                                   "arguments for 'exec' command")
    assert err(c("GET", "a")) == NOAUTH  # well-formed: then AUTH is required
    assert err(c("CLIENT", "INFO")) == NOAUTH
    assert c("AUTH", "pw") == b"OK"  # the errors kept the connection
    assert c("GET", "a") is None


def test_pre_auth_size_limits_still_apply_to_unknown_commands(kv_factory, server):
    p = kv_factory("--requirepass", "pw", kind=server.kind)
    c = Conn(p.port)
    c.send(Conn.encode(*["NOSUCH"] * 11))
    assert err(c.reply()) == "ERR Protocol error: unauthenticated multibulk length"
    assert c.closed()
    c = Conn(p.port)
    c.send(b"*2\r\n$6\r\nNOSUCH\r\n$20000\r\n")
    assert err(c.reply()) == "ERR Protocol error: unauthenticated bulk length"
    assert c.closed()


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


MAXMEMORY_CLIENTS_ERR = ("ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') "
                         "- ")


def test_maxmemory_clients_takes_a_memory_or_percent_value(c):
    def get():
        return c("CONFIG", "GET", "maxmemory-clients")[1].decode()

    assert get() == "0"
    try:
        for value, shown in [("10%", "10%"), ("100%", "100%"), ("0%", "0"), ("1gb", "1073741824"),
                             ("5B", "5"), ("9223372036854775807", "9223372036854775807")]:
            assert c("CONFIG", "SET", "maxmemory-clients", value) == b"OK", value
            assert get() == shown
        for value in ("-1", "-5%", "-100%", "1.5gb", "abc", "%", "50%%", "05%", "+5%", " 10%"):
            assert err(c("CONFIG", "SET", "maxmemory-clients", value)) == \
                MAXMEMORY_CLIENTS_ERR + "argument must be a memory or percent value", value
        for value in ("101%", "9223372036854775808"):
            assert err(c("CONFIG", "SET", "maxmemory-clients", value)) == \
                MAXMEMORY_CLIENTS_ERR + "percentage argument must be less or equal to 100", value
        assert get() == "9223372036854775807"  # refused values changed nothing
        assert "maxmemory-clients" in [n.decode() for n in c("CONFIG", "GET", "maxmemory*")[::2]]
    finally:
        c("CONFIG", "SET", "maxmemory-clients", "0")


def test_maxmemory_clients_from_the_command_line(kv_factory, server):
    p = kv_factory("--maxmemory-clients", "5%", kind=server.kind)
    assert Conn(p.port)("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"5%"]


def test_info_all_has_redis_sections(c):
    text = c("INFO", "all").decode()
    titles = [line[2:] for line in text.split("\r\n") if line.startswith("# ")]
    assert titles == ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
                      "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats",
                      "Cluster", "Keyspace"]
    assert c("INFO", "latencystats").decode().startswith("# Latencystats\r\n")
