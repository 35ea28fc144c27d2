"""Type-checked by tests/clients/test_typing.py with mypy, never run.

Each `assert_type` states what a type checker must infer for a call on the embedded store, the
sync client, the asyncio client and the pipelines. A line ending in `# error: <code>` is misuse
that mypy must reject with that error code, and mypy must report nothing else.
"""

from __future__ import annotations

from typing import Any, assert_type

import kvstore
from clients import AsyncClient, AsyncPipeline, AsyncPubSub, Client, Pipeline, PubSub

Reply = bytes | str


def sync_client(c: Client) -> None:
    assert_type(c.get("k"), Reply | None)
    assert_type(c.set("k", "v"), bool | Reply | None)
    assert_type(c.hgetall("h"), dict[bytes | str, bytes | str])
    assert_type(c.zscore("z", "m"), float | None)
    assert_type(c.incr("n"), int)
    assert_type(c.smembers("s"), set[Reply])
    assert_type(c.zpopmin("z"), list[tuple[Reply, float]])
    assert_type(c.mget(["a", "b"]), list[Reply | None])
    assert_type(c.blpop("l", timeout=1), tuple[Reply, Reply] | None)
    assert_type(c.dump("k"), bytes | None)
    assert_type(c.scan(), tuple[int, list[Reply]])
    assert_type(c.mset({"a": 1, "b": 2.5}), bool)
    assert_type(c.lpop("l"), Reply | None)
    assert_type(c.lpop("l", 2), list[Reply] | None)
    assert_type(c.zrange("z", 0, -1), list[Reply])
    assert_type(c.sort("l", by="w_*", get="#"), list[Reply | None])
    assert_type(c.sort("l", get=["#", "w_*"], groups=True), list[tuple[Reply | None, ...]])
    assert_type(c.sort("l", store="sorted"), int)
    assert_type(c.sort_ro("l", alpha=True), list[Reply | None])
    assert_type(c.xadd("st", {"f": 1}), Reply | None)
    assert_type(c.xclaim("st", "g", "c", 0, ["1-0"], justid=True), list[Reply])
    for entry_id, fields in c.xrange("st"):
        assert_type(fields, dict[Reply, Reply] | None)
    for stream, entries in c.xread({"st": "$"}, block=100):
        assert_type(stream, Reply | list[tuple[Reply | None, dict[Reply, Reply] | None]])
    for member, score in c.zrange("z", 0, -1, withscores=True):
        assert_type(member, Reply)
    for field, value in c.hscan_iter("h"):
        assert_type(value, Reply)
    for key in c.scan_iter(match="user:*"):
        assert_type(key, Reply)
    assert_type(c.pipeline(), Pipeline)
    assert_type(c.pubsub(), PubSub)
    c["k"] = "v"
    assert_type(c["k"], Reply)
    del c["k"]
    assert_type("k" in c, bool)


def embedded(store: kvstore.Store) -> None:
    assert_type(kvstore.open(), kvstore.Store)
    assert_type(store.hgetall("h"), dict[Reply, Reply])
    assert_type(store.lrange("l", 0, -1), list[Reply])
    assert_type(store.expire("k", 10), bool)
    assert_type(store.ttl("k"), int)
    assert_type(store.zpopmax("z", 2), list[tuple[Reply, float]])
    assert_type(store.info(), dict[str, Any])
    # The direct paths (kvstore/fastpaths.py) keep the shared methods' types, overloads too.
    assert_type(store.get("k"), Reply | None)
    assert_type(store.incr("n"), int)
    assert_type(store.zscore("z", "m"), float | None)
    assert_type(store.zrange("z", 0, -1), list[Reply])
    assert_type(store.zrange("z", 0, -1, withscores=True), list[tuple[Reply, Any]])
    bad: int = store.get("k")  # error: assignment


async def async_client(ac: AsyncClient) -> None:
    assert_type(await ac.get("k"), bytes | str | None)
    assert_type(await ac.set("k", "v", ex=10), bool | Reply | None)
    assert_type(await ac.hgetall("h"), dict[bytes | str, bytes | str])
    assert_type(await ac.zscore("z", "m"), float | None)
    assert_type(await ac.incr("n"), int)
    assert_type(await ac.sdiff(["a", "b"]), set[Reply])
    assert_type(await ac.zrange("z", 0, -1), list[Reply])
    assert_type(await ac.zrange("z", 0, -1, withscores=True), list[tuple[Reply, Any]])
    assert_type(await ac.zunion(["a", "b"], withscores=True), list[tuple[Reply, Any]])
    assert_type(await ac.spop("s", 3), list[Reply])
    assert_type(await ac.xinfo_stream("st"), dict[str, Any])
    assert_type(await ac.xautoclaim("st", "g", "c", 0, justid=True), list[Reply])
    assert_type(await ac.execute_command("PING"), Any)
    assert_type(AsyncClient.from_url("memory://"), AsyncClient)
    async for key in ac.scan_iter():
        assert_type(key, Reply)
    async for field, value in ac.hscan_iter("h"):
        assert_type(field, Reply)
    async with ac.pipeline() as pipe:
        assert_type(pipe, AsyncPipeline)
        assert_type(pipe.set("a", 1).incr("b").get("a"), AsyncPipeline)
        assert_type(await pipe.execute(), list[Any])
    assert_type(ac.pubsub(), AsyncPubSub)
    await ac.shutdown(nosave=True)
    await ac.aclose()


def pipelines(c: Client) -> None:
    p: Pipeline = c.pipeline()
    assert_type(p.set("a", 1).expire("a", 60).hgetall("h"), Pipeline)
    assert_type(p.execute(), list[Any])
    assert_type(p.reset(), None)


async def misuse(ac: AsyncClient, c: Client) -> None:
    x: int = await ac.get("k")  # error: assignment
    ac.get("k").decode()  # error: attr-defined
    y: bytes | str | None = ac.get("k")  # error: assignment
    await ac.zadd("z", {"m": 1}, nx="yes")  # error: arg-type
    c.get(1.5)  # error: arg-type
    c.get("k").decode()  # error: union-attr
    "k" in ac  # error: operator
    ac["k"]  # error: index
    ac["k"] = "v"  # error: index
    del ac["k"]  # error: attr-defined
    c.pipeline().shutdown()  # error: attr-defined
