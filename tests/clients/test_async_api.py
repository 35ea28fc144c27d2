"""The asyncio client and the pipelines give what the sync methods give, or what redis-py does.

The shared methods (kvstore.methods) must do all their work in the callback they hand to
execute_command: whatever a method does with execute_command's result breaks where that result
is a coroutine (AsyncClient) or the pipeline itself. `test_*_equal_the_sync_methods` call every
method on the async client and in pipelines over memory://, record the raw replies the transport
handed over, and replay them through the sync method layer: both must give the same outcome.
What cannot be shared (the dunders, SHUTDOWN, mget of no keys) is compared with redis-py, on
kvstore-server, redis-server and memory://.
"""

from __future__ import annotations

import asyncio
import types
import warnings
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.retry
from redis.backoff import NoBackoff

from clients import AsyncClient, Client
from clients.memory import AsyncMemoryConnection, MemoryConnection
from kvstore.methods import Methods
from tests.clients.test_typing_runtime import CALLS, seeded  # noqa: F401 - `seeded`: a fixture
from tests.conftest import NO_RETRY
from tests.server.conftest import start

DUNDERS = ("__contains__", "__getitem__", "__setitem__", "__delitem__")
SCAN_ITERATORS = ("scan_iter", "sscan_iter", "hscan_iter", "zscan_iter")
# Return a builder at once on every transport; its execute() (a Script's call) is the command:
# see test_bitfield_builder_as_redis_py and test_register_script_as_redis_py.
BUILDERS = ("bitfield", "register_script", "lock")  # lock: tests/clients/test_lock.py


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    procs = {kind: start(kind, tmp_path_factory.mktemp(kind)) for kind in ("kvstore", "redis")}
    yield {kind: p.port for kind, p in procs.items()}
    for p in procs.values():
        p.stop()


@pytest.fixture(params=["kvstore", "redis", "memory"])
def url(request, servers):
    """Our clients' URL on each transport; its keyspace flushed."""
    if request.param == "memory":
        return "memory://"
    with redis.Redis(port=servers[request.param]) as r:
        r.flushall()
    return f"redis://localhost:{servers[request.param]}"


@pytest.fixture
def theirs(redis_server):
    """redis-py, sync and asyncio, on the real redis-server (flushed)."""
    r = redis.Redis(port=redis_server)
    r.flushall()
    yield r, redis.asyncio.Redis(port=redis_server)
    r.close()


def outcome(fn, *args, **kwargs) -> tuple:
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:
        return ("err", type(exc).__name__, str(exc))


def settled(o: tuple) -> tuple:
    """An outcome with an iterator reply (client_list_iter's generator) listed, to compare."""
    if o[0] == "ok" and isinstance(o[1], types.GeneratorType):
        return ("ok", list(o[1]))
    return o


async def aoutcome(fn, *args, **kwargs) -> tuple:
    try:
        return ("ok", await fn(*args, **kwargs))
    except Exception as exc:
        return ("err", type(exc).__name__, str(exc))


# -- every method: async and pipelined == the sync method layer on the same replies -----------


class Replay(Methods):
    """The sync method layer over recorded raw replies (an exception: an error reply)."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = iter(replies)

    def execute_command(self, *args: Any, callback: Any = None, **options: Any) -> Any:
        reply = next(self.replies)
        if isinstance(reply, Exception):
            raise reply
        return callback(reply) if callback is not None else reply


def replayed(replies: list[Any], name: str, args: tuple, kwargs: dict) -> tuple:
    method = getattr(Replay(replies), name)
    if name in SCAN_ITERATORS:
        return outcome(lambda: list(method(*args, **kwargs)))
    return outcome(method, *args, **kwargs)


@pytest.fixture
def recorded(monkeypatch) -> list[Any]:
    """The raw replies the memory:// connections hand to the clients, in order."""
    replies: list[Any] = []
    read, read_many = AsyncMemoryConnection.read, MemoryConnection.read_many

    async def recording_read(self, *args: Any, **kwargs: Any) -> Any:
        try:
            reply = await read(self, *args, **kwargs)
        except Exception as exc:
            replies.append(exc)
            raise
        replies.append(reply)
        return reply

    def recording_read_many(self, *args: Any, **kwargs: Any) -> list[Any]:
        out = read_many(self, *args, **kwargs)
        replies.extend(out)
        return out

    monkeypatch.setattr(AsyncMemoryConnection, "read", recording_read)
    monkeypatch.setattr(MemoryConnection, "read_many", recording_read_many)
    return replies


def test_async_client_methods_equal_the_sync_methods(seeded, recorded):
    async def run() -> list[str]:
        ac = AsyncClient.from_url("memory://", store=seeded,
                                  decode_responses=seeded.decode_responses)
        wrong = []
        for name, args, kwargs in CALLS:
            if name in DUNDERS or name in BUILDERS:  # see DUNDERS and BUILDERS
                continue
            recorded.clear()
            if name in SCAN_ITERATORS:
                got = await aoutcome(lambda: _collect(getattr(ac, name)(*args, **kwargs)))
            else:
                got = await aoutcome(getattr(ac, name), *args, **kwargs)
            got, want = settled(got), settled(replayed(recorded, name, args, kwargs))
            if got != want:
                wrong.append(f"{name}{args}{kwargs}: async {got!r} != sync {want!r}")
        await ac.aclose()
        return wrong

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # hmset
        wrong = asyncio.run(run())
    assert not wrong, "\n".join(wrong)


async def _collect(items: Any) -> list[Any]:
    return [x async for x in items]


def _pipelined(pipe: Any, name: str, args: tuple, kwargs: dict) -> Any:
    """The outcome of one method buffered in `pipe` and its execute() (awaitable if async)."""
    try:
        getattr(pipe, name)(*args, **kwargs)
    except Exception as exc:  # refused before buffering (DataError, command_docs)
        return ("err", type(exc).__name__, str(exc))
    result = pipe.execute(raise_on_error=False)

    def shape(results: list[Any]) -> tuple:
        if len(results) != 1:
            return ("results", results)
        reply = results[0]
        if isinstance(reply, Exception):
            return ("err", type(reply).__name__, str(reply))
        return ("ok", reply)

    if asyncio.iscoroutine(result):
        async def later() -> tuple:
            return shape(await result)
        return later()
    return shape(result)


# The dunders, scan iterators and shutdown() need replies at once: not commands of a pipeline;
# a pipeline's reset() is its own (as in redis-py), not RESET.
NOT_PIPELINED = (*DUNDERS, *SCAN_ITERATORS, *BUILDERS, "shutdown", "reset")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_pipelined_methods_equal_the_sync_methods(seeded, recorded, kind):
    async def run() -> list[str]:
        cls = AsyncClient if kind == "async" else Client
        c = cls.from_url("memory://", store=seeded, decode_responses=seeded.decode_responses)
        wrong = []
        for name, args, kwargs in CALLS:
            if name in NOT_PIPELINED:
                continue
            recorded.clear()
            got = _pipelined(c.pipeline(transaction=False), name, args, kwargs)
            if asyncio.iscoroutine(got):
                got = await got
            got, want = settled(got), settled(replayed(recorded, name, args, kwargs))
            if got != want:
                wrong.append(f"{name}{args}{kwargs}: pipelined {got!r} != sync {want!r}")
        return wrong

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # hmset
        wrong = asyncio.run(run())
    assert not wrong, "\n".join(wrong)


# -- what is not shared, against redis-py ------------------------------------------------------


def _mget_pipeline(pipe: Any) -> Any:
    return pipe.set("a", 1).mget([]).get("a").execute()


def test_mget_of_no_keys_as_redis_py(url, theirs):
    """redis-py answers [] for mget([]) ("MGET" alone is an error), in pipelines too."""
    r, ar = theirs

    async def run(client: Any) -> list[Any]:
        out = [await client.mget([])]
        for transaction in (False, True):
            out.append(await _mget_pipeline(client.pipeline(transaction=transaction)))
        async with client.pipeline() as pipe:  # after WATCH, commands run at once
            await pipe.watch("a")
            out.append(await pipe.mget([]))
        await client.aclose()
        return out

    with Client.from_url(url) as c:
        ours = [c.mget([])] + [_mget_pipeline(c.pipeline(transaction=t)) for t in (False, True)]
        assert ours == [r.mget([])] + [_mget_pipeline(r.pipeline(transaction=t))
                                       for t in (False, True)]
    assert asyncio.run(run(AsyncClient.from_url(url))) == asyncio.run(run(ar))


def _bitfield_calls(client: Any, key: str) -> list[Any]:
    """One BITFIELD built with every builder method, run twice: execute() resets the builder.
    Returns what each execute() returned (replies, a coroutine, or the pipeline)."""
    op = client.bitfield(key, default_overflow="SAT")
    op.set("u8", 0, 300).incrby("i4", "#3", 9, overflow="FAIL").get("u4", 4).overflow("wrap")
    first = op.execute()
    second = op.incrby("u8", 0, 1).execute()
    return [first, second]


def test_bitfield_builder_as_redis_py(url, theirs):
    """bitfield() builds at once on every transport; execute() answers as execute_command does:
    replies, a coroutine of them, or the pipeline (whose execute() then has them). Each run
    has a key of its own (a memory:// URL is a new store per client)."""
    r, ar = theirs

    def piped(client: Any, transaction: bool) -> list[Any]:
        pipe = client.pipeline(transaction=transaction)
        assert all(x is pipe for x in _bitfield_calls(pipe, f"p{transaction}"))
        return pipe.execute()

    async def run_async(client: Any) -> list[Any]:
        out = [await x for x in _bitfield_calls(client, "a")]
        for transaction in (False, True):
            pipe = client.pipeline(transaction=transaction)
            assert all(x is pipe for x in _bitfield_calls(pipe, f"ap{transaction}"))
            out.append(await pipe.execute())
        await client.aclose()
        return out

    with Client.from_url(url) as c:
        ours = _bitfield_calls(c, "s") + [piped(c, t) for t in (False, True)]
    theirs_sync = _bitfield_calls(r, "s") + [piped(r, t) for t in (False, True)]
    assert ours == theirs_sync
    assert asyncio.run(run_async(AsyncClient.from_url(url))) == asyncio.run(run_async(ar))


INCR_SCRIPT = "return redis.call('incrby', KEYS[1], ARGV[1])"


def test_register_script_as_redis_py(url, theirs):
    """A registered script runs on every transport, and again after SCRIPT FLUSH (it loads
    itself back): called directly, through a pipeline (the reply comes from execute()), and on
    the asyncio client and pipeline."""
    r, ar = theirs

    def run_sync(client: Any) -> list[Any]:
        script = client.register_script(INCR_SCRIPT)
        out = [script(keys=["n"], args=[1])]
        client.script_flush()
        out.append(script(keys=["n"], args=[2]))
        for transaction in (False, True):
            pipe = client.pipeline(transaction=transaction)
            script(keys=["n"], args=[3], client=pipe)
            pipe.get("n")
            out.append(pipe.execute())
        return out

    async def run_async(client: Any) -> list[Any]:
        script = client.register_script(INCR_SCRIPT)
        out = [await script(keys=["a"], args=[1])]
        await client.script_flush()
        out.append(await script(keys=["a"], args=[2]))
        pipe = client.pipeline(transaction=True)
        assert await script(keys=["a"], args=[3], client=pipe) is pipe
        out.append(await pipe.execute())
        await client.aclose()
        return out

    with Client.from_url(url) as c:
        ours = run_sync(c)
    assert ours == run_sync(r) == [1, 3, [6, b"6"], [9, b"9"]]
    r.script_flush()
    assert asyncio.run(run_async(AsyncClient.from_url(url))) == asyncio.run(run_async(ar)) \
        == [1, 3, [6]]


def test_async_pipeline_scan_iterators_while_watching(url, theirs):
    """After watch() an asyncio pipeline runs commands at once: its scan iterators are async
    generators, as on redis-py's asyncio pipeline."""
    _, ar = theirs

    async def run(client: Any) -> tuple:
        await client.mset({"a": 1, "b": 2})
        await client.hset("h", mapping={"f": "v"})
        async with client.pipeline() as pipe:
            await pipe.watch("a")
            keys = sorted([k async for k in pipe.scan_iter()])
            fields = [f async for f in pipe.hscan_iter("h")]
            pipe.multi()
            result = await pipe.get("a").execute()
        await client.aclose()
        return keys, fields, result

    assert asyncio.run(run(AsyncClient.from_url(url))) == asyncio.run(run(ar))


def _dunders(c: Any) -> list[tuple]:
    def contains(name: str) -> bool:
        return name in c

    def delete(name: str) -> None:
        del c[name]

    return [outcome(c.__getitem__, "k"), outcome(c.__setitem__, "k", "v"),
            outcome(c.__getitem__, "k"), outcome(contains, "k"), outcome(delete, "k"),
            outcome(contains, "k"), outcome(delete, "k"), outcome(c.__getitem__, "k")]


def test_sync_dunders_as_redis_py(url, theirs):
    r, _ = theirs
    with Client.from_url(url) as c:
        assert _dunders(c) == _dunders(r)
        # a pipeline buffers them (redis-py's too): GET, SET, GET, EXISTS, DEL, EXISTS, DEL, GET
        pipe, their_pipe = c.pipeline(transaction=False), r.pipeline(transaction=False)
        _dunders(pipe), _dunders(their_pipe)
        assert pipe.execute() == their_pipe.execute()


def test_async_dunders_raise_as_redis_py(url, theirs):
    """`"k" in ac` was always True and `ac["k"] = v` stored nothing: they raise redis-py's
    TypeError, on the client and on its pipeline."""
    _, ar = theirs

    async def run(client: Any) -> list[Any]:
        out = [_dunders(client), _dunders(client.pipeline()), await client.get("k")]
        await client.aclose()
        return out

    ours = asyncio.run(run(AsyncClient.from_url(url)))
    assert ours == asyncio.run(run(ar))
    assert {o[:2] for o in ours[0]} == {("err", "TypeError")}


@pytest.mark.parametrize("decode", [False, True])
@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_slowlog_get_as_redis_py(servers, kind, decode):
    """SLOWLOG GET's entries have redis-py's shape: bytes, even with decode_responses."""
    port = servers[kind]

    def shape(entries: list[dict]) -> list[dict]:
        return [{k: v if k == "command" else type(v) for k, v in e.items()} for e in entries]

    def logged(c: Any) -> list[dict]:
        c.slowlog_reset()
        c.set("k", "v")
        return shape(c.slowlog_get())

    async def alogged(c: Any) -> list[dict]:
        await c.slowlog_reset()
        await c.set("k", "v")
        entries = shape(await c.slowlog_get())
        await c.aclose()
        return entries

    theirs = redis.Redis(port=port, decode_responses=decode)
    threshold = theirs.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    theirs.config_set("slowlog-log-slower-than", 0)  # log every command
    try:
        want = logged(theirs)
        assert want[0]["command"] == b"SET k v"
        with Client(port=port, decode_responses=decode) as c:
            assert logged(c) == want
        assert asyncio.run(alogged(AsyncClient(port=port, decode_responses=decode))) == want
    finally:
        theirs.config_set("slowlog-log-slower-than", threshold)
        theirs.close()


def test_shutdown_as_redis_py(restartable):
    """SHUTDOWN: the server exits and closes the connection, which redis-py (sync and asyncio)
    takes for success; so do ours."""
    port = restartable.port

    async def ashutdown(client: Any) -> Any:
        try:
            return await client.shutdown(nosave=True)
        finally:
            await client.aclose()

    calls = {
        "ours": lambda: Client(port=port).shutdown(nosave=True),
        "ours async": lambda: asyncio.run(ashutdown(AsyncClient(port=port))),
        "redis-py": lambda: redis.Redis(port=port, retry=NO_RETRY).shutdown(nosave=True),
        "redis-py async": lambda: asyncio.run(ashutdown(redis.asyncio.Redis(
            port=port, retry=redis.asyncio.retry.Retry(NoBackoff(), 0)))),
    }
    results = {}
    for who, call in calls.items():
        if restartable.p.proc.poll() is not None:
            restartable.start()
        results[who] = (outcome(call), restartable.p.proc.wait(10))
    assert set(results.values()) == {(("ok", None), 0)}, results
