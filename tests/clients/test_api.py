"""The same script of method calls through our clients and through redis-py: equal results.

Against both servers (kvstore-server and redis-server), RESP2 and RESP3, with and without
decode_responses; our memory:// transport is compared with redis-py on the real Redis; the
AsyncClient must give the sync client's results.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from clients import (
    AsyncClient, AuthenticationError, Client, DataError, NoPermissionError, ResponseError,
)
from tests.conftest import NO_RETRY

# (method, args, kwargs): every family of the method layer, replies of every shape (bool, int,
# float, bytes, None, list, dict, set), and error replies (WRONGTYPE, ERR ...).
SCRIPT = [
    ("set", ("s", "v"), {}),
    ("get", ("s",), {}),
    ("set", ("s", "w"), {"nx": True}),
    ("set", ("s", "x"), {"xx": True, "get": True}),
    ("mset", ({"a": 1, "b": 2},), {}),
    ("mget", (["a", "b", "zz"],), {}),
    ("incr", ("n",), {}),
    ("incrby", ("n", 5), {}),
    ("incrbyfloat", ("f", 1.5), {}),
    ("append", ("s", "!"), {}),
    ("strlen", ("s",), {}),
    ("getrange", ("s", 0, 1), {}),
    ("exists", ("a", "b", "zz"), {}),
    ("delete", ("a",), {}),
    ("expire", ("b", 100), {}),
    ("ttl", ("b",), {}),
    ("persist", ("b",), {}),
    ("type", ("b",), {}),
    ("rename", ("b", "c"), {}),
    ("hset", ("h",), {"mapping": {"f1": "1", "f2": "2"}}),
    ("hget", ("h", "f1"), {}),
    ("hgetall", ("h",), {}),
    ("hincrby", ("h", "f1", 3), {}),
    ("hincrbyfloat", ("h", "f2", 0.5), {}),
    ("hkeys", ("h",), {}),
    ("hmget", ("h", ["f1", "f2", "f3"]), {}),
    ("hdel", ("h", "f1"), {}),
    ("hexists", ("h", "f2"), {}),
    ("rpush", ("l", 1, 2, 3), {}),
    ("lpush", ("l", 0), {}),
    ("lrange", ("l", 0, -1), {}),
    ("lpop", ("l",), {}),
    ("rpop", ("l", 2), {}),
    ("llen", ("l",), {}),
    ("lindex", ("l", 5), {}),
    ("sadd", ("st", "a", "b", "c"), {}),
    ("smembers", ("st",), {}),
    ("sismember", ("st", "a"), {}),
    ("srem", ("st", "a"), {}),
    ("scard", ("st",), {}),
    ("dump", ("s",), {}),
    ("ping", (), {}),
    ("echo", ("hi",), {}),
    ("dbsize", (), {}),
    ("lpush", ("s", "x"), {}),  # WRONGTYPE
    ("incr", ("s",), {}),  # ERR value is not an integer
    ("hincrbyfloat", ("h", "f2", "x"), {}),
    ("getdel", ("s",), {}),
    ("get", ("s",), {}),
]


# Methods whose replies depend on the server they run on (memory sizes, ROLE's replication ID)
# or change its state for the test's duration: compared between our client and redis-py on the
# same server, not with the memory:// transport.
SERVER_SCRIPT = [
    ("publish", ("ch", "m"), {}),
    ("spublish", ("sch", "m"), {}),
    ("pubsub_channels", (), {}),
    ("pubsub_channels", ("c*",), {}),
    ("pubsub_shardchannels", (), {}),
    ("pubsub_numpat", (), {}),
    ("pubsub_numsub", ("ch", "other"), {}),
    ("pubsub_shardnumsub", ("sch",), {}),
    ("set", ("m", "v" * 100), {}),
    ("memory_usage", ("m",), {}),
    ("memory_usage", ("m",), {"samples": 0}),
    ("memory_usage", ("nokey",), {}),
    ("memory_purge", (), {}),
    ("wait", (0, 0), {}),
    ("slaveof", (), {}),          # NO ONE on a master: OK
    ("replicaof", ("NO", "ONE"), {}),
    ("readonly", (), {}),         # cluster support disabled
    ("readwrite", (), {}),
    ("module_list", (), {}),
    ("migrate", ("127.0.0.1", 1, "nokey", 0, 100), {}),
    ("migrate", ("127.0.0.1", 1, "m", 0, 100), {"copy": True, "replace": True}),
    ("client_getredir", (), {}),
    ("client_trackinginfo", (), {}),
    ("client_tracking_on", (), {"bcast": True, "prefix": ["p:"]}),
    ("client_trackinginfo", (), {}),
    ("client_tracking_off", (), {}),
    ("client_unblock", (999999,), {}),
    ("client_unblock", (999999,), {"error": True}),
    ("save", (), {}),
]


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except redis.ResponseError as exc:  # redis-py drops the "ERR " prefix
        return ("err", str(exc).removeprefix("ERR "))
    except Exception as exc:  # ours: kvstore.errors.ResponseError and subclasses
        return ("err", str(exc).removeprefix("ERR "))


def run_script(client, script=SCRIPT) -> list:
    client.flushdb()
    return [outcome(getattr(client, m), *a, **kw) for m, a, kw in script]


async def arun_script(client) -> list:
    await client.flushdb()
    out = []
    for m, a, kw in SCRIPT:
        try:
            out.append(("ok", await getattr(client, m)(*a, **kw)))
        except Exception as exc:
            out.append(("err", str(exc).removeprefix("ERR ")))
    return out


def compare(ours: list, theirs: list, skip: tuple = ()) -> None:
    for (m, a, _), got, want in zip(SCRIPT, ours, theirs):
        if m in skip:  # kvstore's DUMP payload is its own format (RESTORE-compatible with itself)
            assert type(got[1]) is type(want[1])
            continue
        assert got == want, f"{m}{a}: ours {got!r} != redis-py {want!r}"


@pytest.mark.parametrize("protocol", [2, 3])
@pytest.mark.parametrize("decode", [False, True])
def test_script_matches_redis_py(server, protocol, decode):
    theirs = redis.Redis(port=server.port, protocol=protocol, decode_responses=decode)
    ours = Client(port=server.port, protocol=protocol, decode_responses=decode)
    try:
        compare(run_script(ours), run_script(theirs))
        assert asyncio.run(_async_script(server.port, protocol, decode)) == run_script(ours)
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("decode", [False, True])
def test_server_methods_match_redis_py(server, decode):
    theirs = redis.Redis(port=server.port, decode_responses=decode, single_connection_client=True)
    ours = Client(port=server.port, decode_responses=decode, max_connections=1)
    try:
        got, want = run_script(ours, SERVER_SCRIPT), run_script(theirs, SERVER_SCRIPT)
        for (m, a, kw), g, w in zip(SERVER_SCRIPT, got, want):
            assert g == w, f"{m}{a}{kw}: ours {g!r} != redis-py {w!r}"
        stats = ours.memory_stats()
        assert stats.keys() == theirs.memory_stats().keys() and "keys.count" in stats
        assert isinstance(ours.role()[0], (bytes, str)) and ours.role()[0] in (b"master", "master")
    finally:
        ours.close()
        theirs.close()


async def _async_script(port, protocol, decode):
    async with AsyncClient(port=port, protocol=protocol, decode_responses=decode) as c:
        return await arun_script(c)


@pytest.mark.parametrize("decode", [False, True])
def test_memory_transport_matches_redis_py(redis_server, decode):
    theirs = redis.Redis(port=redis_server, decode_responses=decode)
    ours = Client.from_url("memory://", decode_responses=decode)
    try:
        compare(run_script(ours), run_script(theirs), skip=("dump",))
        amem = AsyncClient.from_url("memory://", decode_responses=decode)
        assert asyncio.run(arun_script(amem)) == run_script(ours)
    finally:
        ours.close()
        theirs.close()


def test_resp3_pairs_and_maps_are_resp2_shaped(redis_server):
    """ZRANGE WITHSCORES / HRANDFIELD WITHVALUES nest pairs in RESP3; callbacks get RESP2."""
    c2 = Client(port=redis_server)
    c3 = Client(port=redis_server, protocol=3)
    c2.flushdb()
    c2.execute_command("ZADD", "z", 1.5, "a", 2, "b")
    c2.hset("h", "f", "v")
    for args in [("ZRANGE", "z", 0, -1, "WITHSCORES"), ("ZUNION", 1, "z", "WITHSCORES"),
                 ("HRANDFIELD", "h", 1, "WITHVALUES"), ("CONFIG", "GET", "maxmemory"),
                 ("ZSCORE", "z", "b")]:
        assert c3.execute_command(*args) == c2.execute_command(*args), args
    assert c3.execute_command("ZINCRBY", "z", 0.25, "b") == b"2.25"
    assert c3.execute_command("ZPOPMIN", "z", 1) == [b"a", b"1.5"]
    assert c2.execute_command("ZPOPMIN", "z", 1) == [b"b", b"2.25"]
    c2.close()
    c3.close()


def test_select_auth_and_client_name_on_connect(server):
    with Client(port=server.port, db=3, client_name="tester") as c:
        c.set("k", "in3")
        assert c.execute_command("CLIENT", "GETNAME") == b"tester"
    with Client(port=server.port, db=0) as c0:
        assert c0.get("k") != b"in3"
        c0.execute_command("SELECT", 3)
        assert c0.get("k") == b"in3"
        c0.delete("k")


def test_auth_without_a_password_is_an_authentication_error(server):
    """redis-py raises AuthenticationError (not a bare ResponseError) for AUTH on a server with
    no password, by the reply's whole ERR text; ours must too, on every transport."""
    theirs = redis.Redis(port=server.port, retry=NO_RETRY)
    ours = Client(port=server.port)
    mem = Client.from_url("memory://")
    try:
        for args in [("pw",), ("pw", "someone")]:
            with pytest.raises(redis.AuthenticationError) as want:
                theirs.auth(*args)
            # (memory:// has no ACL users: AUTH with a username is accepted there)
            for c in (ours, mem) if len(args) == 1 else (ours,):
                with pytest.raises(AuthenticationError) as got:
                    c.auth(*args)
                # (redis-py drops the reply's first word, ERR or WRONGPASS; ours keeps it)
                assert str(got.value).split(" ", 1)[1] == str(want.value)
                assert isinstance(got.value, ResponseError)
        assert ours.ping() and mem.ping()
    finally:
        ours.close()
        mem.close()
        theirs.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_info_with_an_error_text_not_in_the_encoding(server, protocol):
    """INFO errorstats names an error by its first word, which a script may make any bytes:
    redis-py reads INFO undecoded and decodes it with the client's encoding_errors, "replace"
    where they fail; ours raised UnicodeDecodeError under decode_responses."""
    ours = Client(port=server.port, protocol=protocol)
    ours.config_resetstat()
    with pytest.raises(ResponseError):
        ours.eval(b"return redis.error_reply('\xff\xfeBAD oops')", 0)
    try:
        for kw in [{}, {"decode_responses": True},
                   {"decode_responses": True, "encoding_errors": "backslashreplace"}]:
            theirs = redis.Redis(port=server.port, protocol=protocol, **kw)
            c = Client(port=server.port, protocol=protocol, **kw)
            want = theirs.info("errorstats")
            assert any("BAD" in k for k in want), want
            assert c.info("errorstats") == want, kw
            assert c.pipeline(transaction=False).info("errorstats").execute() == [want], kw
            assert c.ping()
            c.close()
            theirs.close()
    finally:
        ours.config_resetstat()
        ours.close()


def test_function_list_and_restore_take_none_as_redis_py_does(server):
    """function_list(library=None) lists every library and function_restore(payload, None)
    sends no policy (APPEND): redis-py omits the argument; ours sent None (DataError)."""
    theirs = redis.Redis(port=server.port)
    ours = Client(port=server.port)
    code = "#!lua name={}\nredis.register_function('{}', function() return 1 end)"
    try:
        ours.function_flush()
        ours.function_load(code.format("liba", "fa"))
        ours.function_load(code.format("libb", "fb"))
        assert ours.function_list(library=None) == theirs.function_list(library=None)
        assert len(ours.function_list(None, withcode=True)) == 2
        payload = ours.function_dump()
        for c in (ours, theirs):
            c.function_flush()
            assert c.function_restore(payload, None) is True
            assert len(c.function_list()) == 2
    finally:
        ours.function_flush()
        ours.close()
        theirs.close()


def test_client_list_iter_as_redis_py(server):
    """redis-py's client_list_iter: client_list() as an iterator, with its argument checks."""
    theirs = redis.Redis(port=server.port, client_name="them")
    ours = Client(port=server.port, client_name="us")
    try:
        theirs.ping()
        got, want = ours.client_list_iter(), theirs.client_list_iter()
        assert not isinstance(got, list) and iter(got) is got
        got, want = list(got), list(want)
        assert {c["name"] for c in got} == {c["name"] for c in want} >= {"us", "them"}
        assert [c.keys() for c in got] == [c.keys() for c in want]
        mine = ours.client_id()
        assert [c["id"] for c in ours.client_list_iter(client_id=[mine])] == [str(mine)]
        assert [c["name"] for c in ours.client_list_iter(_type="normal")] == \
            [c["name"] for c in ours.client_list(_type="normal")]
        for kw in ({"_type": "nope"}, {"client_id": 1}):
            with pytest.raises(redis.DataError):
                theirs.client_list_iter(**kw)
            with pytest.raises(DataError):
                ours.client_list_iter(**kw)

        async def main():
            async with AsyncClient(port=server.port) as a:
                return list(await a.client_list_iter())

        assert len(asyncio.run(main())) >= 2
    finally:
        ours.close()
        theirs.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_an_acl_user_by_options_and_url(server, protocol):
    admin = Client(port=server.port)
    admin.acl_setuser("app", enabled=True, passwords=["+s3cret"], keys=["app:*"],
                      commands=["+get", "+set", "+acl|whoami"])
    try:
        with Client(port=server.port, username="app", password="s3cret",
                    protocol=protocol) as c:
            assert c.execute_command("ACL", "WHOAMI") == b"app"
            assert c.set("app:1", "v") and c.get("app:1") == b"v"
            with pytest.raises(NoPermissionError, match="no permissions to access one of the "
                               "keys"):
                c.get("other")
            with pytest.raises(NoPermissionError, match="'del' command"):
                c.delete("app:1")
        with Client.from_url(f"redis://app:s3cret@localhost:{server.port}") as c:
            assert c.get("app:1") == b"v"
        with pytest.raises(AuthenticationError, match="WRONGPASS"):
            Client(port=server.port, username="app", password="bad").ping()
    finally:
        admin.acl_deluser("app")
        admin.delete("app:1")
        admin.close()


def test_url_db_and_unix_and_errors(server):
    with Client.from_url(f"kvstore://localhost:{server.port}/2") as c:
        c.set("u", "2")
    with Client.from_url(f"redis://localhost:{server.port}?db=2") as c:
        assert c.get("u") == b"2"
        c.delete("u")


@pytest.mark.parametrize("protocol", [2, 3])
def test_pure_python_reader_gives_the_same_results(server, protocol, monkeypatch):
    """The clients parse with make_reader() (hiredis when installed); the pure reader must give
    the same results through the whole client stack."""
    import clients.aconnection
    import clients.connection
    from kvstore.protocol import Reader
    from kvstore.protocol.reader import make_reader

    with Client(port=server.port, protocol=protocol) as c:
        want = run_script(c)
    pure = lambda **kw: Reader(**{**kw, "protocolError": Exception,  # noqa: E731
                                  "replyError": __import__("kvstore").ResponseError})
    monkeypatch.setattr(clients.connection, "make_reader", pure)
    monkeypatch.setattr(clients.aconnection, "make_reader", pure)
    assert make_reader is not pure
    with Client(port=server.port, protocol=protocol) as c:
        assert type(c.connection_pool.get_connection()._reader) is Reader
        assert run_script(c) == want
    assert asyncio.run(_async_script(server.port, protocol, False)) == want


@pytest.mark.parametrize("url", ["memory://", "server"])
def test_async_scan_iterators_walk_everything(server, url):
    """The async client's *scan_iter are async generators that reach every element."""
    async def walk():
        c = AsyncClient.from_url("memory://") if url == "memory://" else \
            AsyncClient(port=server.port)
        await c.flushdb()
        await c.mset({f"k{i}": i for i in range(300)})
        await c.sadd("s", *range(300))
        await c.hset("h", mapping={f"f{i}": i for i in range(300)})
        await c.zadd("z", {f"m{i}": i for i in range(300)})
        keys = {k async for k in c.scan_iter(match="k*", count=50)}
        members = {m async for m in c.sscan_iter("s", count=50)}
        fields = {f async for f, _ in c.hscan_iter("h", count=50)}
        scored = {m async for m, _ in c.zscan_iter("z", count=50)}
        await c.aclose()
        return keys, members, fields, scored

    keys, members, fields, scored = asyncio.run(walk())
    assert keys == {b"k%d" % i for i in range(300)}
    assert members == {b"%d" % i for i in range(300)}
    assert fields == {b"f%d" % i for i in range(300)}
    assert scored == {b"m%d" % i for i in range(300)}


@pytest.mark.parametrize("make", [Client, AsyncClient])
def test_an_unknown_option_is_refused_at_once_as_redis_py_does(make):
    """A misspelt option used to pass the constructor and fail at the first command."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'socket_timeuot'"):
        redis.Redis(port=1, socket_timeuot=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'socket_timeuot'"):
        make(port=1, socket_timeuot=1)
    make(port=1, socket_timeout=1, decode_responses=True, max_connections=2)  # (known ones)


def _monitored(lines) -> list[dict]:
    """The entries of a MONITOR stream from the first SET on, time and client port left out
    (each connection's handshake comes before, and differs by client)."""
    out: list[dict] = []
    for entry in lines:
        if out or entry["command"].startswith("SET "):
            out.append({k: v for k, v in entry.items() if k not in ("time", "client_port")})
        if len(out) == 3:
            return out
    return out


def test_monitor_as_redis_py(server):
    """Client.monitor() and AsyncClient.monitor() read the stream into redis-py's dicts: an
    escaped quote, a Lua call, the database."""
    ours, theirs, writer = Client(port=server.port), redis.Redis(port=server.port), \
        redis.Redis(port=server.port, db=0)

    def write() -> None:
        writer.set("mon:a", 'x"y z')
        writer.eval("return redis.call('get', KEYS[1])", 1, "mon:a")

    async def async_ours() -> list[dict]:
        a = AsyncClient(port=server.port)
        async with a.monitor() as m:
            await asyncio.to_thread(write)
            got: list[dict] = []
            while len(_monitored(got)) < 3:
                got.append(await m.next_command())
        await a.aclose()
        return _monitored(got)

    try:
        with ours.monitor() as mine, theirs.monitor() as redis_py:
            write()
            got, want = _monitored(mine.listen()), _monitored(redis_py.listen())
        assert got == want
        assert [e["command"] for e in got] == ['SET mon:a x"y z',
                                               "EVAL return redis.call('get', KEYS[1]) 1 mon:a",
                                               "get mon:a"]
        assert got[2]["client_type"] == "lua" and got[0]["db"] == 0
        assert asyncio.run(async_ours()) == want
    finally:
        writer.delete("mon:a")
        for c in (ours, theirs, writer):
            c.close()
