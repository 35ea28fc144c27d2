"""Method-level checks of the server/connection methods (kvstore/methods/server.py).

1. Our mixin on the embedded store vs redis-py on the real redis-server, same arguments, for the
   methods whose results are deterministic.
2. redis-py on a kvstore server vs redis-py on redis-server for the per-connection methods (the
   embedded store has no connection, so CLIENT SETNAME etc. are checked over TCP).
"""

from __future__ import annotations

import datetime

import pytest
import redis

import kvstore
from kvstore.errors import DataError, ResponseError


@pytest.fixture
def pair(redis_server):
    r = redis.Redis(port=redis_server)
    r.config_set("slowlog-max-len", 128)
    s = kvstore.open()
    yield r, s
    r.config_set("slowlog-max-len", 128)
    s.close()


def both(pair, method, *args, **kwargs):
    r, s = pair
    want = getattr(r, method)(*args, **kwargs)
    got = getattr(s, method)(*args, **kwargs)
    assert got == want, f"{method}{args}: kvstore {got!r} != redis {want!r}"
    return want


def test_deterministic_methods_match_redis(pair):
    both(pair, "ping")
    both(pair, "echo", "hello")
    both(pair, "echo", b"\x00\xff")
    both(pair, "config_get", "maxmemory")
    both(pair, "config_get", "maxmemory-policy", "maxclients")
    both(pair, "config_set", "slowlog-max-len", 64)
    both(pair, "config_get", "slowlog-max-len")
    both(pair, "config_resetstat")
    both(pair, "command_getkeys", "set", "a", "b")
    both(pair, "command_getkeys", "get", "k")
    both(pair, "client_setinfo", "LIB-NAME", "x") if False else None
    both(pair, "slowlog_reset")


def test_shapes_match_redis(pair):
    r, s = pair
    for method in ("time", "lastsave", "slowlog_len", "command_count", "info", "slowlog_get"):
        want, got = getattr(r, method)(), getattr(s, method)()
        assert type(got) is type(want), method
    assert isinstance(s.lastsave(), datetime.datetime)
    info = s.info()
    assert info["redis_version"] == "7.2.4" and isinstance(info["uptime_in_seconds"], int)
    assert set(s.info("keyspace")) <= set(r.info("keyspace")) | {"db0"}
    assert isinstance(s.command(), dict) and "get" in s.command()
    assert s.command()["get"]["arity"] == r.command()["get"]["arity"]
    assert s.command()["get"]["flags"] == r.command()["get"]["flags"]
    assert set(s.command_list(pattern="ge*")) <= set(r.command_list(pattern="ge*"))


def test_errors_match_redis(pair):
    r, s = pair
    for method, args in (("config_set", ("port", "abc")), ("config_set", ("nosuch", 1)),
                         ("config_get", ()) if False else ("command_getkeys", ("nosuch",))):
        with pytest.raises(redis.ResponseError) as want:
            getattr(r, method)(*args)
        with pytest.raises(ResponseError) as got:
            getattr(s, method)(*args)
        assert str(got.value).removeprefix("ERR ") == str(want.value)
    with pytest.raises(DataError):
        s.client_list(_type="bogus")
    with pytest.raises(DataError):
        s.client_pause("x")
    with pytest.raises(DataError):
        s.shutdown(save=True, nosave=True)


@pytest.fixture(scope="module", params=["kvstore"])
def kv_port(request, tmp_path_factory):
    from .conftest import start

    p = start("kvstore", tmp_path_factory.mktemp("kvm"))
    yield p.port
    p.stop()


@pytest.mark.parametrize("protocol", [2, 3])
def test_connection_methods_over_tcp_match_redis(redis_server, kv_port, protocol):
    r = redis.Redis(port=redis_server, protocol=protocol)
    k = redis.Redis(port=kv_port, protocol=protocol)
    results = []
    for c in (r, k):
        out = [c.client_setname("conn1"), c.client_getname()]
        info = c.client_info()
        out += [info["name"], type(info["id"]), type(c.client_id())]
        out.append(any(e["name"] == "conn1" for e in c.client_list()))
        out += [c.client_list(client_id=[999999]), c.client_kill_filter(_id=999999)]
        out += [c.client_no_evict("on"), c.client_unpause(), c.client_pause(1)]
        out += [c.config_get("maxclients"), c.ping(), c.echo("x")]
        results.append(out)
        c.close()
    assert results[1] == results[0]


def test_acl_methods_match_redis(redis_server):
    # redis-py's RESP2 shapes, which the embedded methods follow (kvstore/methods/acl.py)
    r = redis.Redis(port=redis_server, protocol=2)
    s = kvstore.open()
    try:
        pair = (r, s)
        for method, args in [("acl_whoami", ()), ("acl_users", ()), ("acl_list", ()),
                             ("acl_cat", ()), ("acl_cat", ("hash",)),
                             ("acl_getuser", ("default",)), ("acl_getuser", ("nobody",)),
                             ("acl_dryrun", ("default", "get", "x")), ("acl_log_reset", ()),
                             ("acl_log", ()), ("acl_deluser", ("nobody",)),
                             ("command_getkeysandflags", ("lmove", "a", "b", "left", "left"))]:
            if method == "acl_cat":  # the same categories, in each server's order
                assert sorted(getattr(s, method)(*args)) == sorted(getattr(r, method)(*args))
            else:
                both(pair, method, *args)
        assert len(s.acl_genpass()) == len(r.acl_genpass()) == 64
        assert len(s.acl_genpass(12)) == len(r.acl_genpass(12)) == 3
        for call in (lambda c: c.acl_genpass(5000), lambda c: c.acl_log(count="x"),
                     lambda c: c.acl_setuser("default", passwords=["pw"]),
                     lambda c: c.acl_setuser("default", nopass=True, passwords=["+pw"])):
            with pytest.raises(redis.DataError):
                call(r)
            with pytest.raises(DataError):
                call(s)
        # rules that leave the default user unrestricted: accepted by both
        assert s.acl_setuser("default", enabled=True, nopass=True, categories=["+@all"],
                             keys=["*"], channels=["*"]) is True
        assert s.acl_getuser("default") == r.acl_getuser("default")
        # a user of its own: described, listed, checked and deleted alike
        for c in pair:
            assert c.acl_setuser("app", enabled=True, passwords=["+pw"],
                                 categories=["+@hash", "-@dangerous"], commands=["-hdel"],
                                 keys=["app:*"], channels=["news"],
                                 selectors=[("+set", "%W~w:*")]) is True
        assert s.acl_getuser("app") == r.acl_getuser("app")
        assert [u for u in s.acl_list() if " app " in u] == \
            [u for u in r.acl_list() if " app " in u]
        for args in (("set", "w:1", "v"), ("hset", "app:h", "f", "v"), ("hdel", "app:h", "f")):
            assert s.acl_dryrun("app", *args) == r.acl_dryrun("app", *args)
        assert s.acl_deluser("app") == r.acl_deluser("app") == 1
    finally:
        s.close()
