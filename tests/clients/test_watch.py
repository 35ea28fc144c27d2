"""WATCH sees every write to a watched key, as Redis does: memory:// beside both servers.

Each scenario runs on kvstore-server, on redis-server (proving the expectation is Redis's) and on
memory:// (an embedded store on a hand-moved clock, so expiry needs no waiting). On memory://
the "other" writer is a second client with its own pool on the same store, and the fast-path
cases write through the store's own methods (kvstore/fastpaths.py), which bypass the generic
command path; on the servers the same calls go through a second client.
"""

from __future__ import annotations

import asyncio
import time

import pytest

import kvstore
from clients import AsyncClient, Client, WatchError
from kvstore.engine import ManualClock


class Env:
    """A client, a second writer on the same data, and a clock to let time pass."""

    def __init__(self, client: Client, other: Client, make_client, store=None,
                 clock: ManualClock | None = None) -> None:
        self.client = client
        self.other = other
        self.make_client = make_client  # make_client(db) -> a new client on the same data
        self.store = store              # memory:// only
        self.clock = clock

    def writer(self):
        """Where fast-path writes go: the store's own methods on memory://."""
        return self.store if self.store is not None else self.other

    def now_ms(self) -> int:
        if self.clock is not None:
            return self.clock.now
        sec, usec = self.client.execute_command("TIME")
        return int(sec) * 1000 + int(usec) // 1000

    def pass_ms(self, ms: int) -> None:
        """Let `ms` ms pass on the data's clock (for a server: wait until its TIME says so)."""
        if self.clock is not None:
            self.clock.advance(ms)
            return
        target = self.now_ms() + ms
        deadline = time.monotonic() + 10
        while self.now_ms() < target:
            assert time.monotonic() < deadline, "the server's clock did not advance"
            time.sleep(0.005)

    def wait_until(self, condition) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, "condition not met in 10 s"
            time.sleep(0.005)


@pytest.fixture(params=["socket", "memory"])
def env(request, server):
    made: list[Client] = []
    if request.param == "memory":
        clock = ManualClock()
        store = kvstore.open(clock=clock, active_expire=False)

        def make(db: int = 0) -> Client:
            made.append(Client.from_url(f"memory://?db={db}", store=store))
            return made[-1]

        yield Env(make(), make(), make, store, clock)
    else:
        def make(db: int = 0) -> Client:
            made.append(Client(port=server.port, db=db))
            return made[-1]

        make().flushall()
        yield Env(made[0], make(), make)
        made[0].execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    for c in made:
        c.close()
    if request.param == "memory":
        store.close()


def watched(env: Env, *keys: str):
    pipe = env.client.pipeline()
    pipe.watch(*keys)
    return pipe


def executes(pipe) -> bool:
    """Finish a watched transaction: True if EXEC ran it, False on WatchError."""
    pipe.multi()
    pipe.ping()
    try:
        return pipe.execute() == [True]
    except WatchError:
        return False
    finally:
        pipe.reset()


# -- writes that abort --------------------------------------------------------------------------

ABORTING = {
    "a-b-a": [("SET", "k", "B"), ("SET", "k", "A")],
    "set-same-value": [("SET", "k", "A")],
    "expire": [("EXPIRE", "k", "100")],
    "persist": [("PERSIST", "k")],  # the test gives k a TTL first
    "del": [("DEL", "k")],
    "flushdb": [("FLUSHDB",)],
    "flushall": [("FLUSHALL",)],
    "swapdb": [("SWAPDB", "0", "1")],
    "move": [("MOVE", "k", "1")],
    "rename-from": [("RENAME", "k", "k2")],
    "rename-to": [("RENAME", "other", "k")],
    "copy-over": [("COPY", "other", "k", "REPLACE")],
    "append-empty": [("APPEND", "k", "")],  # changes nothing, still a write that touches
    "setrange": [("SETRANGE", "k", "0", "A")],
}


@pytest.mark.parametrize("case", sorted(ABORTING))
def test_any_write_to_the_watched_key_aborts(env, case):
    env.client.set("k", "A")
    env.client.set("other", "O")
    if case == "persist":
        env.client.expire("k", 100)
    pipe = watched(env, "k")
    for write in ABORTING[case]:
        env.other.execute_command(*write)
    assert not executes(pipe)


@pytest.mark.parametrize("method, args", [
    ("set", ("k", "A")),              # the same value
    ("incr", ("n",)),
    ("incrby", ("n", 5)),
    ("hset", ("h", "f", "v")),        # the same field and value
    ("lpush", ("l", "x")),
    ("rpush", ("l", "x")),
    ("sadd", ("s", "new")),
    ("zadd", ("z", {"m": 2})),
])
def test_fast_path_writes_abort(env, method, args):
    c = env.client
    c.set("k", "A")
    c.set("n", 1)
    c.hset("h", "f", "v")
    c.rpush("l", "x")
    c.sadd("s", "m")
    c.zadd("z", {"m": 1})
    pipe = watched(env, args[0])
    getattr(env.writer(), method)(*args)
    assert not executes(pipe)


@pytest.mark.parametrize("method, args", [
    ("sadd", ("s", "m")),         # already a member
    ("zadd", ("z", {"m": 1})),    # same score
    ("get", ("k",)),
    ("hget", ("h", "f")),
    ("sismember", ("s", "m")),
    ("zscore", ("z", "m")),
    ("zrange", ("z", 0, -1)),
    ("zrank", ("z", "m")),
])
def test_fast_paths_that_change_nothing_do_not_abort(env, method, args):
    c = env.client
    c.set("k", "A")
    c.hset("h", "f", "v")
    c.sadd("s", "m")
    c.zadd("z", {"m": 1})
    pipe = watched(env, args[0])
    getattr(env.writer(), method)(*args)
    assert executes(pipe)


def test_own_write_before_multi_aborts(env):
    pipe = watched(env, "k")
    pipe.set("k", "mine")  # immediate mode: runs on the watching connection itself
    assert not executes(pipe)


# -- writes that do not abort -------------------------------------------------------------------

@pytest.mark.parametrize("write", [
    ("SET", "unrelated", "x"),
    ("DEL", "absent"),
    ("EXPIRE", "absent", "10"),
    ("COPY", "k", "copy"),        # COPY writes only its destination
    ("MOVE", "unrelated", "1"),
])
def test_writes_elsewhere_do_not_abort(env, write):
    env.client.set("k", "A")
    env.client.set("unrelated", "U")
    pipe = watched(env, "k")
    env.other.execute_command(*write)
    assert executes(pipe)


def test_same_key_name_in_another_db_does_not_abort(env):
    env.client.set("k", "A")
    db1 = env.make_client(1)
    pipe = watched(env, "k")
    db1.set("k", "B")
    db1.flushdb()
    db1.delete("k")
    assert executes(pipe)
    # ... but a write that reaches db 0 from db 1 does: COPY ... DB 0.
    db1.set("src", "S")
    pipe = watched(env, "k")
    db1.copy("src", "k", destination_db=0, replace=True)
    assert not executes(pipe)


def test_watch_in_another_db(env):
    db1 = env.make_client(1)
    pipe = db1.pipeline()
    pipe.watch("k")
    env.other.set("k", "in db 0")
    assert executes(pipe)
    pipe = db1.pipeline()
    pipe.watch("k")
    env.other.set("k", "moved")
    env.other.move("k", 1)  # MOVE touches the key in its target database too
    assert not executes(pipe)


def test_flush_of_an_absent_watched_key_does_not_abort(env):
    env.client.set("present", "x")
    pipe = watched(env, "absent")
    env.other.flushdb()
    env.other.flushall()
    assert executes(pipe)


# -- expiry ---------------------------------------------------------------------------------------

TTL_MS = 300  # room for a loaded machine between SET and WATCH on a real server


@pytest.mark.parametrize("how", ["unread", "read", "fast-read", "active"])
def test_expiry_of_a_watched_key_aborts(env, how):
    c = env.client
    at = env.now_ms() + TTL_MS
    c.set("k", "v", pxat=at)
    pipe = watched(env, "k")
    assert c.pttl("k") > 0  # it was live when WATCHed
    env.pass_ms(TTL_MS + 1)
    if how in ("read", "fast-read"):
        reader = env.other if how == "read" else env.writer()
        assert reader.get("k") is None  # lazy expiry deletes it
    elif how == "active":
        if env.store is not None:
            with env.store._lock:
                env.store.keyspace.active_expire()
        else:
            env.wait_until(lambda: env.other.dbsize() == 0)  # DBSIZE counts unexpired keys
        assert env.client.dbsize() == 0
    assert not executes(pipe)


@pytest.mark.parametrize("then, aborts", [(None, False), (("GET", "k"), False),
                                          (("SET", "k", "new"), True)])
def test_key_already_expired_when_watched(env, then, aborts):
    """Redis 7: deleting a key that had expired before WATCH is no change; a write is."""
    c = env.client
    c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)  # keep it in the keyspace, expired
    at = env.now_ms() + 20
    c.set("k", "v", pxat=at)
    env.pass_ms(21)
    pipe = watched(env, "k")
    if then is not None:
        env.other.execute_command(*then)
    assert executes(pipe) is not aborts


# -- whose writes count -------------------------------------------------------------------------

def test_exec_writes_abort_other_watchers_not_itself(env):
    env.client.set("k", "A")
    mine = watched(env, "k")
    theirs = env.other.pipeline()
    theirs.watch("k")
    mine.multi()
    mine.set("k", "B")
    assert mine.execute() == [True]
    mine.reset()
    assert not executes(theirs)


def test_transaction_retries_after_a_same_value_write(env):
    env.client.set("k", "A")
    calls = []

    def txn(pipe):
        calls.append(pipe.get("k"))
        if len(calls) == 1:
            env.writer().set("k", "A")  # no visible change, still a write
        pipe.multi()
        pipe.set("k", "final")

    assert env.client.transaction(txn, "k") == [True]
    assert calls == [b"A", b"A"]
    assert env.client.get("k") == b"final"


def test_async_memory_transaction_aborts_on_a_write():
    store = kvstore.open(active_expire=False)

    async def main():
        async with AsyncClient.from_url("memory://", store=store) as c:
            await c.set("k", "A")
            pipe = c.pipeline()
            await pipe.watch("k")
            store.set("k", "A")
            pipe.multi()
            pipe.get("k")
            with pytest.raises(WatchError):
                await pipe.execute()
            await pipe.reset()

    asyncio.run(main())
    store.close()


# -- the memory:// registry leaves nothing behind -----------------------------------------------

def _registry_empty(store) -> bool:
    ks = store.keyspace
    return (store._after_write is None and not ks.expired_listeners and not ks.flush_listeners
            and not any(db.watched for db in ks.dbs))


@pytest.mark.parametrize("end", ["EXEC", "DISCARD", "UNWATCH", "RESET", "disconnect",
                                 "pool-close"])
def test_memory_registry_is_emptied(end):
    store = kvstore.open(active_expire=False)
    client = Client.from_url("memory://", store=store)
    assert _registry_empty(store)  # no watcher: writes pay nothing
    conn = client.connection_pool.get_connection()
    conn.send_command("WATCH", "k", "k2")
    conn.send_command("SELECT", "3")
    conn.send_command("WATCH", "k")
    assert [conn.read() for _ in range(3)] == [b"OK", b"OK", b"OK"]
    assert store._after_write is not None
    if end in ("EXEC", "DISCARD"):
        conn.send_command("MULTI")
        conn.send_command(end)
        conn.read()
        conn.read()
    elif end in ("UNWATCH", "RESET"):
        conn.send_command(end)
        conn.read()
    elif end == "disconnect":
        conn.disconnect()
    else:
        client.connection_pool.release(conn)
        client.close()
    assert _registry_empty(store)
    store.close()


def test_unwatch_inside_multi_is_queued(env):
    pipe = watched(env, "k")
    pipe.multi()
    pipe.execute_command("UNWATCH")
    assert pipe.execute() == [b"OK"]
    if env.store is not None:
        assert _registry_empty(env.store)


def test_memory_watch_with_the_aof_hook(tmp_path):
    """The WATCH hook and the AOF feed share `_after_write`: both see the write."""
    store = kvstore.open(path=str(tmp_path), appendfsync="always", active_expire=False)
    client = Client.from_url("memory://", store=store)
    pipe = client.pipeline()
    pipe.watch("k")
    store.set("k", "logged")
    assert not executes(pipe)
    assert store._after_write == store._log_write  # the WATCH hook is gone, the AOF's stays
    client.close()
    store.close()
    reopened = kvstore.open(path=str(tmp_path), active_expire=False)
    assert reopened.get("k") == b"logged"
    reopened.close()
