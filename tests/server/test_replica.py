"""Replication, the replica side, black-box: kvstore-server (and, as the oracle, redis-server)
as the replica of a real redis-server master, and once of a kvstore master. The replica gets
the data set (every type, TTLs, several databases) and then the stream; it refuses client
writes with READONLY, reports ROLE / INFO replication, answers WAIT through its ACKs, turns
back into a master on REPLICAOF NO ONE and resyncs after its master restarts.

Every case parametrised over `replica_kind` runs the same assertions on a redis-server replica,
so it checks Redis's behaviour. Every wait polls a condition with a deadline. The master and
the replica get their own directories: a redis-server replica writes the file it is sent to
its dump.rdb, which a master restarted in the same directory would load (and PSYNC would go on
from it).
"""

from __future__ import annotations

import random

import hiredis
import pytest
import redis

import tests.server.conftest as server_conftest

from .helpers import Conn, err, wait_until

READONLY = "READONLY You can't write against a read only replica."
# redis-server's master waits 5 s for more replicas before a diskless sync, by default
NO_DELAY = ("--repl-diskless-sync-delay", "0")
TYPES = {
    "string": lambda r, k: r.get(k),
    "hash": lambda r, k: r.hgetall(k),
    "list": lambda r, k: r.lrange(k, 0, -1),
    "set": lambda r, k: sorted(r.smembers(k)),
    "zset": lambda r, k: r.zrange(k, 0, -1, withscores=True),
    "stream": lambda r, k: stream_view(r, k),
}


def stream_view(r: redis.Redis, key) -> tuple:
    """A stream's entries, counters, node count, groups, consumers and PEL, but times (read
    raw: redis-py's callbacks reshape these replies)."""
    kw = r.connection_pool.connection_kwargs
    c = Conn(kw["port"])
    c("SELECT", kw.get("db", 0))
    try:
        return _stream_view(c, key)
    finally:
        c.close()


def _stream_view(r: Conn, key) -> tuple:
    info = r("XINFO", "STREAM", key)
    info = dict(zip(info[::2], info[1::2]))
    groups = []
    for g in r("XINFO", "GROUPS", key):
        g = dict(zip(g[::2], g[1::2]))
        pel = [(i, c, n) for i, c, _idle, n in
               r("XPENDING", key, g[b"name"], "-", "+", 1000)]
        consumers = [(c[1], c[3]) for c in
                     r("XINFO", "CONSUMERS", key, g[b"name"])]
        groups.append((g[b"name"], g[b"last-delivered-id"], g[b"entries-read"], pel, consumers))
    return (r("XRANGE", key, "-", "+"),
            [info[f] for f in (b"length", b"radix-tree-keys", b"last-generated-id",
                               b"max-deleted-entry-id", b"entries-added")], groups)


def cli(port: int, db: int = 0, **kw) -> redis.Redis:
    return redis.Redis(port=port, db=db, protocol=2, **kw)


def snapshot(port: int, password: str | None = None) -> dict:
    """(db, key) -> (type, value, PTTL) for every key of every database."""
    out = {}
    for db in range(16):
        r = cli(port, db, password=password)
        for key in r.keys("*"):
            kind = r.type(key).decode()
            out[(db, key)] = (kind, TYPES[kind](r, key), r.pttl(key))
        r.close()
    return out


def differences(master: int, replica: int, password: str | None = None) -> list:
    """The keys whose type, value or TTL (within a second) differ between the two servers."""
    a, b = snapshot(master, password), snapshot(replica)
    out = []
    for k in sorted(a.keys() | b.keys()):
        x, y = a.get(k), b.get(k)
        if x is None or y is None or x[:2] != y[:2] or (x[2] < 0) != (y[2] < 0) \
                or abs(x[2] - y[2]) > 1000:
            out.append((k, x, y))
    return out


def wait_same(master: int, replica: int, password: str | None = None) -> None:
    wait_until(lambda: not differences(master, replica, password),
               what=lambda: f"the replica's data: {differences(master, replica, password)!r}")


def dbsizes(port: int, password: str | None = None) -> list[int]:
    """DBSIZE counts keys that are logically expired too: a key is gone only once deleted."""
    return [cli(port, db, password=password).dbsize() for db in range(16)]


def linked(port: int) -> bool:
    info = cli(port).info("replication")
    return (info["role"] == "slave" and info["master_link_status"] == "up"
            and info["master_sync_in_progress"] == 0)


def wait_linked(replica) -> None:
    wait_until(lambda: linked(replica.port),
               what=lambda: f"the replica's sync: {cli(replica.port).info('replication')}\n"
                            f"{replica.output()[-3000:]}")


@pytest.fixture(params=["kvstore", "redis"])
def replica_kind(request):
    return request.param


@pytest.fixture
def spawn(tmp_path, monkeypatch):
    """spawn(kind, name, *options, port=None): a server in tmp_path/name (on `port` if given);
    all stopped at the end of the test."""
    procs = []

    def spawn(kind: str, name: str, *extra: str, port: int | None = None):
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        with monkeypatch.context() as m:
            if port is not None:
                m.setattr(server_conftest, "free_port", lambda: port)
            p = server_conftest.start(kind, d, *extra)
        procs.append(p)
        return p

    yield spawn
    for p in reversed(procs):
        p.stop()


def replica_of(spawn, kind: str, master, *extra: str):
    return spawn(kind, "replica", "--replicaof", f"127.0.0.1 {master.port}", *extra)


def fill(port: int, password: str | None = None) -> None:
    """Every type, small and big encodings, with and without TTLs, in databases 0 and 3."""
    for db in (0, 3):
        r = cli(port, db, password=password)
        r.set("s", f"v{db}")
        r.set("n", 12345)
        r.set("big", "x" * 5000)
        r.set("s_ttl", "soon", px=600_000)
        r.pfadd("hll", *range(100))
        r.hset("h", mapping={"f": "1", "g": "2"})
        r.hset("hbig", mapping={f"f{i}": "v" * 100 for i in range(300)})
        r.hset("h_ttl", "f", "v")
        r.expire("h_ttl", 500)
        r.rpush("l", "a", "b", "c")
        r.rpush("lbig", *range(1000))
        r.rpush("l_ttl", "x")
        r.expire("l_ttl", 400)
        r.sadd("si", 1, 2, 3)
        r.sadd("ss", "a", "b", "c")
        r.sadd("sbig", *range(600))
        r.sadd("s_set_ttl", "m")
        r.expire("s_set_ttl", 300)
        r.zadd("z", {"m": 1.5, "n": -2, "o": float("inf")})
        r.zadd("zbig", {f"m{i}": i / 3 for i in range(500)})
        r.zadd("z_ttl", {"a": 1})
        r.expire("z_ttl", 200)
        r.close()


def synced(spawn, replica_kind):
    """A filled redis-server master and a replica that has synced with it."""
    master = spawn("redis", "master", *NO_DELAY)
    fill(master.port)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    assert differences(master.port, replica.port) == []
    return master, replica


def test_initial_sync_of_every_type_ttls_and_databases(spawn, replica_kind):
    master, replica = synced(spawn, replica_kind)
    assert dbsizes(replica.port) == dbsizes(master.port)
    assert dbsizes(replica.port)[:4] == [18, 0, 0, 18]
    r3 = cli(replica.port, 3)
    assert r3.get("s") == b"v3" and r3.pttl("s") == -1
    assert 590_000 < r3.pttl("s_ttl") <= 600_000 and 0 < r3.ttl("z_ttl") <= 200
    assert r3.lrange("lbig", 0, -1) == [str(i).encode() for i in range(1000)]
    assert r3.zscore("z", "o") == float("inf")


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_a_syncs_child_shows_in_info_and_obeys_rdb_key_save_delay(spawn, master_kind):
    # The child writing a replica's file is an RDB child (INFO rdb_bgsave_in_progress), and
    # rdb-key-save-delay (us per key) slows it, as replication tests use it to.
    master = spawn(master_kind, "master", *NO_DELAY, "--rdb-key-save-delay", "100000")
    m = cli(master.port)
    m.mset({f"k{i}": i for i in range(20)})  # 20 keys: a 2 s file
    replica = replica_of(spawn, "redis", master)
    # Still writing after a second (without the delay the file takes milliseconds; with it
    # two seconds at least, whatever the machine's speed).
    wait_until(lambda: (p := m.info("persistence"))["rdb_bgsave_in_progress"] == 1
               and p["rdb_current_bgsave_time_sec"] >= 1, what="the sync's child in INFO")
    assert not linked(replica.port)
    m.config_set("rdb-key-save-delay", 0)
    wait_linked(replica)
    wait_until(lambda: m.info("persistence")["rdb_bgsave_in_progress"] == 0,
               what="the child's end in INFO")
    assert differences(master.port, replica.port) == []


def test_replica_lazy_flush_frees_the_old_data_set_in_the_background(spawn, replica_kind):
    # replica-lazy-flush yes: a full sync's flush of the old data set is lazy (Redis's
    # emptyData with EMPTYDB_ASYNC), counted per key in INFO lazyfreed_objects.
    master = spawn("redis", "master", *NO_DELAY)
    fill(master.port)
    replica = spawn(replica_kind, "replica", "--replica-lazy-flush", "yes")
    r = cli(replica.port)
    r.mset({f"old{i}": i for i in range(1000)})
    r.sadd("old-set", *range(1000))
    r.config_resetstat()
    r.replicaof("127.0.0.1", master.port)
    wait_linked(replica)
    wait_until(lambda: r.info("memory")["lazyfree_pending_objects"] == 0
               and r.info("memory")["lazyfreed_objects"] == 1001,
               what=lambda: f"the old keys freed: {r.info('memory')}")
    assert differences(master.port, replica.port) == []


@pytest.mark.parametrize("kinds", [("kvstore", "kvstore"), ("kvstore", "redis"),
                                   ("redis", "kvstore")], ids="-".join)
def test_a_replicas_subscribers_get_what_is_published_on_its_master(spawn, kinds):
    """PUBLISH (from a client, EXEC or a script) and SPUBLISH reach the replicas, which
    deliver them to their own subscribers, as Redis propagates them (not to the AOF)."""
    master_kind, replica_kind = kinds
    master = spawn(master_kind, "master", *NO_DELAY)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    sub = Conn(replica.port)
    assert sub("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
    assert sub("SSUBSCRIBE", "sh") == [b"ssubscribe", b"sh", 1]
    m = Conn(master.port)
    assert m("PUBLISH", "ch", "plain") == 0  # (the master has no subscriber of its own)
    assert m("MULTI") == b"OK" and m("PUBLISH", "ch", "in-exec") == b"QUEUED"
    assert m("EXEC") == [0]
    assert m("EVAL", "return redis.call('publish', 'ch', 'scripted')", 0) == 0
    assert m("SPUBLISH", "sh", "sharded") == 0
    assert [sub.reply() for _ in range(4)] == [
        [b"message", b"ch", b"plain"], [b"message", b"ch", b"in-exec"],
        [b"message", b"ch", b"scripted"], [b"smessage", b"sh", b"sharded"]]


def test_a_client_blocked_when_its_server_becomes_a_replica_is_let_go(spawn, replica_kind):
    """Redis's 'BLPOP followed by role change, issue #2473': the clients blocked on keys (and
    in WAIT) get UNBLOCKED and their connection closes; the master's pushes stay unpopped."""
    master = spawn("redis", "master", *NO_DELAY)
    node = spawn(replica_kind, "node", *NO_DELAY)
    popper, waiter = Conn(node.port), Conn(node.port)
    popper.send(Conn.encode("BLPOP", "foo", "0"))
    waiter.send(Conn.encode("WAIT", "1", "0"))
    wait_until(lambda: cli(node.port).info("clients")["blocked_clients"] == 2,
               what="two blocked clients")
    assert Conn(node.port)("REPLICAOF", "127.0.0.1", str(master.port)) == b"OK"
    text = ("UNBLOCKED force unblock from blocking operation, instance state changed "
            "(master -> replica?)")
    for c in (popper, waiter):
        assert err(c.reply()) == text
        with pytest.raises(ConnectionError):
            c.reply()
    wait_linked(node)
    cli(master.port).rpush("foo", "a", "b", "c")
    wait_until(lambda: cli(node.port).lrange("foo", 0, -1) == [b"a", b"b", b"c"],
               what="the master's push on the replica")


def test_debug_replicate_sends_a_command_the_replica_logs_as_critical(spawn, replica_kind):
    """DEBUG REPLICATE on a kvstore master (Redis's replication-4.tcl 'Data divergence can
    happen under default conditions'): the replica refuses the unknown command and logs it
    once, with '== CRITICAL =='; the stream goes on."""
    master = spawn("kvstore", "master", *NO_DELAY)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    m = Conn(master.port)
    assert m("DEBUG", "REPLICATE", "fake-command-1") == b"OK"
    assert m("SET", "foo", "bar2") == b"OK"
    assert m("WAIT", "1", "2000") == 1
    wait_until(lambda: cli(replica.port).get("foo") == b"bar2", what="the SET on the replica")
    log = replica.output()
    assert log.count("fake-command-1") == 1 and log.count("== CRITICAL ==") == 1


def test_bind_source_addr_is_the_address_the_master_sees(spawn, replica_kind):
    """CONFIG SET bind-source-addr: a replica connects to its master from that address
    (Redis 7.0.15's networking.tcl)."""
    # (127.0.0.2 is not loopback to protected mode, which knows 127.0.0.1 and ::1 only)
    master = spawn("redis", "master", *NO_DELAY, "--protected-mode", "no")
    replica = spawn(replica_kind, "replica", *NO_DELAY)
    r = Conn(replica.port)
    assert r("CONFIG", "SET", "bind-source-addr", "127.0.0.2") == b"OK"
    assert r("REPLICAOF", "127.0.0.1", str(master.port)) == b"OK"
    wait_linked(replica)
    assert cli(master.port).info("replication")["slave0"]["ip"] == "127.0.0.2"


def test_streaming_writes_after_sync(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    m.set("before", "1")
    m.rpush("l", "a")
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    m.set("s", "v")
    m.incrbyfloat("f", "10.5")
    m.incrbyfloat("f", "0.25")
    m.append("s", "w")
    pipe = m.pipeline(transaction=True)
    pipe.lpush("l", "head").hset("h", mapping={"f": "1", "g": "2"}).sadd("set", "x", "y")
    pipe.zadd("z", {"a": 1, "b": 2.5}).expire("s", 900).incr("counter")
    assert pipe.execute() == [2, 2, 2, 2, True, 1]
    c = Conn(master.port)   # SELECT on the same connection: the stream switches databases
    assert c("SELECT", "3") == b"OK" and c("SET", "in3", "three") == b"OK"
    assert c("SELECT", "0") == b"OK" and c("DEL", "before") == 1
    c.close()
    m5 = cli(master.port, 5)
    m5.set("doomed", "x")
    m5.rpush("doomed_list", 1, 2)
    m5.flushdb()
    m.set("short", "v", px=200)
    wait_until(lambda: m.get("short") is None, what="the key's expiry on the master")
    m.set("last", "1")
    wait_same(master.port, replica.port)
    # the expired key is deleted on the replica too (DBSIZE counts an expired key not deleted)
    assert dbsizes(replica.port) == dbsizes(master.port)
    assert dbsizes(replica.port)[:6] == [8, 0, 0, 1, 0, 0]
    r = cli(replica.port)
    assert r.get("f") == b"10.75" and r.lrange("l", 0, -1) == [b"head", b"a"]
    assert 890_000 < r.pttl("s") <= 900_000 and r.get("s") == b"vw"


def test_a_replica_never_expires_keys_itself(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")   # only a read expires it there
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    r = cli(replica.port)
    m.set("e", "1", px=200)
    m.set("keep", "1")
    wait_until(lambda: r.get("keep") == b"1", what="the writes on the replica")
    wait_until(lambda: r.get("e") is None, what="the key's logical expiry on the replica")
    # logically expired, but still there until the master's DEL
    assert (r.exists("e"), r.pttl("e"), r.type("e"), r.keys("*")) == (0, -2, b"none", [b"keep"])
    assert r.dbsize() == 2
    assert m.dbsize() == 2 and m.get("e") is None and m.dbsize() == 1  # the read expires it
    wait_until(lambda: r.dbsize() == 1, what="the master's DEL on the replica")


def test_ttls_from_the_sync_file_and_its_own_file_stay_the_masters(spawn, replica_kind):
    """A replica expires itself only keys whose TTL a client of its own set (on a writable
    replica: Redis's slave_expires_tracked_keys), not those its master's file or its own file
    brought, nor those of the stream."""
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    m.set("e1", "1", ex=1000)
    m.set("e2", "1", ex=1000)
    m.set("plain", "1")
    replica = replica_of(spawn, replica_kind, master, "--replica-read-only", "no")
    wait_linked(replica)
    r = cli(replica.port)
    m.set("e3", "1", ex=1000)
    wait_until(lambda: r.exists("e3"), what="the stream on the replica")
    assert r.info("stats")["slave_expires_tracked_keys"] == 0
    assert r.set("own", "1", ex=1000) is True
    assert r.info("stats")["slave_expires_tracked_keys"] == 1
    assert r.save() is True
    r.close()
    replica.stop()
    master.stop()  # (so the restarted replica keeps what its own file holds)
    replica = replica_of(spawn, replica_kind, master, "--replica-read-only", "no")
    r = cli(replica.port)
    assert r.dbsize() == 5 and r.ttl("e1") > 0 and r.ttl("own") > 0
    assert r.info("stats")["slave_expires_tracked_keys"] == 0


def test_read_only_replica_refuses_writes(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    m.set("k", "v")
    m.rpush("l", "a", "b")
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    c = Conn(replica.port)
    for argv in (("SET", "k", "x"), ("DEL", "k"), ("EXPIRE", "k", "100"), ("INCR", "n"),
                 ("LPUSH", "l", "c"), ("FLUSHALL",)):
        assert err(c(*argv)) == READONLY, argv
    assert err(c("EVAL", "return redis.call('set', 'k', 'x')", "0")).startswith(READONLY)
    assert c("EVAL", "return redis.call('get', 'k')", "0") == b"v"  # a script's reads are fine
    assert c("MULTI") == b"OK" and c("GET", "k") == b"QUEUED"
    assert err(c("SET", "k", "x")) == READONLY
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    # reads still work, and nothing was written
    assert c("GET", "k") == b"v" and c("LRANGE", "l", "0", "-1") == [b"a", b"b"]
    assert c("PTTL", "k") == -1 and c("EXISTS", "k", "n") == 1 and c("DBSIZE") == 2
    c.close()
    assert differences(master.port, replica.port) == []


def test_role_and_info_replication(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    r = cli(replica.port)
    role = r.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"]
    assert isinstance(role[4], int) and role[4] >= 0
    info = r.info("replication")
    assert {k: info[k] for k in ("role", "master_host", "master_port", "master_link_status",
                                 "master_sync_in_progress", "slave_read_only",
                                 "connected_slaves")} == {
        "role": "slave", "master_host": "127.0.0.1", "master_port": master.port,
        "master_link_status": "up", "master_sync_in_progress": 0, "slave_read_only": 1,
        "connected_slaves": 0}
    m.set("k", "v" * 100)
    want = m.info("replication")["master_repl_offset"]
    assert want > 0
    # the replica's offset follows the master's (the master PINGs every 10 s: poll for both)
    wait_until(lambda: r.info("replication")["slave_repl_offset"]
               == m.info("replication")["master_repl_offset"] >= want, what="the offset")
    wait_until(lambda: r.execute_command("ROLE")[4]
               == m.info("replication")["master_repl_offset"], what="ROLE's offset")
    # the master's view: the replica's listening port, and its ACKs (one a second)
    mrole = m.execute_command("ROLE")
    assert mrole[0] == b"master" and [x[:2] for x in mrole[2]] == \
        [[b"127.0.0.1", str(replica.port).encode()]]
    wait_until(lambda: m.info("replication")["slave0"]["offset"]
               == m.info("replication")["master_repl_offset"], what="the replica's ACK")
    c = Conn(replica.port)
    assert c("REPLICAOF", "127.0.0.1", str(master.port)) == \
        b"OK Already connected to specified master"
    assert err(c("REPLICAOF", "NO")) == "ERR wrong number of arguments for 'replicaof' command"
    assert err(c("SLAVEOF", "127.0.0.1", "x")) == "ERR Invalid master port"
    assert err(c("REPLICAOF", "127.0.0.1", "70000")) == "ERR Invalid master port"
    c.close()
    assert err(Conn(replica.port)("WAIT", "0", "0")).startswith(
        "ERR WAIT cannot be used with replica instances.")
    assert linked(replica.port)


def test_replicaof_no_one_makes_a_writable_master(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    fill(master.port)
    m = cli(master.port)
    replica = spawn(replica_kind, "replica")      # a master until told otherwise, at run time
    r = cli(replica.port)
    r.set("own", "dropped by the sync")
    assert Conn(replica.port)("REPLICAOF", "127.0.0.1", str(master.port)) == b"OK"
    wait_linked(replica)
    m.set("streamed", "1")
    wait_same(master.port, replica.port)
    before = snapshot(master.port)
    assert Conn(replica.port)("REPLICAOF", "NO", "ONE") == b"OK"
    role = r.execute_command("ROLE")
    assert role[0] == b"master" and role[2] == []
    info = r.info("replication")
    assert info["role"] == "master" and "master_host" not in info
    assert r.set("own", "mine") and r.incr("n") == 12346 and r.delete("s") == 1
    assert r.get("own") == b"mine"
    after = snapshot(replica.port)
    changed = {(0, b"own"), (0, b"n"), (0, b"s")}
    assert {k: v[:2] for k, v in after.items() if k not in changed} == \
        {k: v[:2] for k, v in before.items() if k not in changed}
    wait_until(lambda: m.info("replication")["connected_slaves"] == 0,
               what="the master to see its replica go")
    assert m.get("own") is None   # the replica's writes are its own


def test_resync_after_the_master_restarts(spawn, replica_kind):
    master, replica = synced(spawn, replica_kind)
    r = cli(replica.port)
    at = cli(master.port).info("replication")["master_repl_offset"]
    wait_until(lambda: r.info("replication")["slave_repl_offset"] == at, what="the stream")
    master.stop()
    wait_until(lambda: r.info("replication")["master_link_status"] == "down",
               what="the replica to see the link drop")
    role = r.execute_command("ROLE")
    assert role[:3] == [b"slave", b"127.0.0.1", master.port]
    assert role[3] in (b"connect", b"connecting") and role[4] == -1
    # INFO shows where PSYNC is to continue (Redis's cached master); ROLE does not
    info = r.info("replication")
    assert (info["slave_repl_offset"], info["slave_read_repl_offset"]) == (at, at)
    assert r.get("s") == b"v0" and err(Conn(replica.port)("SET", "x", "1")) == READONLY
    # the same port, other data: the replica must flush what it had and load the new set
    new = spawn("redis", "master2", *NO_DELAY, port=master.port)
    n = cli(new.port)
    n.set("s", "new")
    n.zadd("z2", {"q": 7})
    cli(new.port, 9).rpush("l9", "x", "y")
    wait_until(lambda: linked(replica.port), timeout=15, what="the reconnection")
    wait_same(new.port, replica.port)
    assert dbsizes(replica.port) == dbsizes(new.port)
    assert sum(dbsizes(replica.port)) == 3 and cli(replica.port, 3).dbsize() == 0
    assert r.execute_command("ROLE")[3] == b"connected"


def test_partial_resync_after_the_link_drops(spawn, replica_kind):
    # the replica asks to continue where it stopped, the master's backlog holds it: no new
    # full sync, and the stream goes on in the database it had selected
    master, replica = synced(spawn, replica_kind)
    m5 = cli(master.port, 5)
    m5.set("in5", "before")
    wait_until(lambda: cli(replica.port, 5).get("in5") == b"before", what="the stream")
    assert cli(master.port).execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    m5.set("in5", "after")
    cli(master.port).set("s", "changed")
    wait_until(lambda: linked(replica.port) and not differences(master.port, replica.port),
               what=lambda: f"the replica again: {differences(master.port, replica.port)}")
    stats = cli(master.port).info("stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)
    assert cli(replica.port).execute_command("ROLE")[3] == b"connected"


def test_masterauth(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY, "--requirepass", "s3cret")
    fill(master.port, password="s3cret")
    replica = replica_of(spawn, replica_kind, master, "--masterauth", "s3cret")
    wait_linked(replica)
    m = cli(master.port, password="s3cret")
    m.set("after", "auth")
    wait_same(master.port, replica.port, password="s3cret")
    assert cli(replica.port).get("after") == b"auth"


def test_wait_counts_the_replicas_ack(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    replica = spawn(replica_kind, "replica")
    r = cli(replica.port)
    assert Conn(replica.port)("SLAVEOF", "127.0.0.1", str(master.port)) == b"OK"
    wait_linked(replica)
    c = Conn(master.port)
    c.send(Conn.encode("SET", "w", "1") + Conn.encode("WAIT", "1", "5000")
           + Conn.encode("GET", "w"))
    assert [c.reply(), c.reply(), c.reply()] == [b"OK", 1, b"1"]
    assert r.get("w") == b"1"       # acknowledged: applied
    assert c("WAIT", "2", "100") == 1
    c.close()


def test_replica_read_only_no_accepts_writes(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    m = cli(master.port)
    m.set("k", "master")
    replica = replica_of(spawn, replica_kind, master, "--replica-read-only", "no")
    wait_linked(replica)
    r = cli(replica.port)
    assert r.info("replication")["slave_read_only"] == 0
    assert r.set("local", "x") is True and r.get("local") == b"x"
    assert r.incr("k2") == 1 and r.get("k") == b"master"
    m.set("k", "changed")
    wait_until(lambda: r.get("k") == b"changed", what="the stream after a local write")
    assert m.get("local") is None and m.exists("k2") == 0   # not sent up to the master
    assert linked(replica.port)


def test_kvstore_master_to_kvstore_replica(spawn):
    master = spawn("kvstore", "master")
    fill(master.port)
    m = cli(master.port)
    replica = replica_of(spawn, "kvstore", master)
    wait_linked(replica)
    assert differences(master.port, replica.port) == []
    assert dbsizes(replica.port)[:4] == [18, 0, 0, 18]
    r = cli(replica.port)
    assert r.execute_command("ROLE")[:4] == [b"slave", b"127.0.0.1", master.port, b"connected"]
    pipe = m.pipeline(transaction=True)
    pipe.lpush("l", "head").srem("ss", "a").zincrby("z", 2, "m").expire("s", 100)
    pipe.execute()
    cli(master.port, 3).delete("hbig")
    m.set("short", "v", px=200)
    wait_until(lambda: m.get("short") is None, what="the key's expiry on the master")
    assert m.wait(1, 5000) == 1
    wait_same(master.port, replica.port)
    assert dbsizes(replica.port) == dbsizes(master.port)
    assert err(Conn(replica.port)("SET", "k", "v")) == READONLY


# --- kvstore only: a scripted master, to pin the wire details a real one sends by chance ----

class FakeMaster:
    """A listening socket that plays a master's side of the handshake on the first connection
    and then sends what the test gives it, byte for byte."""

    def __init__(self) -> None:
        import socket

        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.conn = None
        self.got = b""

    def accept(self, psync_reply: bytes) -> None:
        """Take the replica's connection and answer its handshake up to PSYNC, whose
        (replid, offset) it keeps in `psync`."""
        self.srv.settimeout(10)
        self.conn, _ = self.srv.accept()
        self.conn.settimeout(10)
        self.got = b""
        for word, answer in ((b"PING", b"\n+PONG\r\n"), (b"listening-port", b"+OK\r\n"),
                             (b"capa", b"+OK\r\n"), (b"PSYNC", psync_reply)):
            self.until(word)
            if word == b"PSYNC":  # `PSYNC\r\n$<n>\r\n<replid>\r\n$<n>\r\n<offset>\r\n`
                while self.got.split(b"PSYNC", 1)[1].count(b"\r\n") < 5:
                    self.more()
                fields = self.got.split(b"PSYNC", 1)[1].split(b"\r\n")
                self.psync = (fields[2], int(fields[4]))
            self.conn.sendall(answer)

    def more(self) -> None:
        data = self.conn.recv(65536)
        assert data, "the replica closed the link"
        self.got += data

    def until(self, needle: bytes) -> bytes:
        while needle not in self.got:
            self.more()
        return self.got

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.srv.close()


def rdb_file(*writes) -> bytes:
    """An RDB file of a store given `writes` (kvstore's writer, Redis 7.0's format)."""
    import io

    import kvstore
    from kvstore.engine.dump import write_rdb

    store = kvstore.open(active_expire=False)
    for argv in writes:
        store.execute(*argv)
    out = io.BytesIO()
    write_rdb(store.keyspace, out, store.keyspace.clock())
    store.close()
    return out.getvalue()


@pytest.fixture
def fake_master():
    master = FakeMaster()
    yield master
    master.close()


def test_diskless_file_with_the_stream_in_the_same_read_and_getack(spawn, fake_master):
    replica = spawn("kvstore", "replica", "--replicaof", f"127.0.0.1 {fake_master.port}")
    mark = b"m" * 40
    fake_master.accept(b"\n\n+FULLRESYNC " + b"a" * 40 + b" 1000\r\n")
    stream = (Conn.encode("SELECT", "0") + Conn.encode("SET", "k", "2")
              + Conn.encode("REPLCONF", "GETACK", "*"))
    # keep-alive newlines, the EOF-mark form split inside the mark, and the stream right after
    # the mark, in the same read
    first = b"\n\n$EOF:" + mark + b"\r\n" + rdb_file(("SET", "k", "1")) + mark[:25]
    fake_master.conn.sendall(first)
    wait_until(lambda: cli(replica.port).info("replication").get("master_sync_read_bytes")
               == len(first) - len(b"\n\n$EOF:" + mark + b"\r\n"), what="the first part")
    fake_master.conn.sendall(mark[25:] + stream)
    ack = b"REPLCONF\r\n$3\r\nACK\r\n$4\r\n%d\r\n" % (1000 + len(stream))
    fake_master.until(ack)  # the GETACK in the middle of a read is answered, with its offset
    assert cli(replica.port).get("k") == b"2"
    assert cli(replica.port).execute_command("ROLE")[3:] == [b"connected", 1000 + len(stream)]


def test_a_damaged_file_leaves_the_data_and_the_replica_retries(spawn, fake_master):
    replica = spawn("kvstore", "replica")
    r = cli(replica.port)
    r.set("mine", "kept")
    assert Conn(replica.port)("REPLICAOF", "127.0.0.1", str(fake_master.port)) == b"OK"
    fake_master.accept(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n")
    data = bytearray(rdb_file(("SET", "k", "from master")))
    data[data.index(b"from master")] ^= 1  # the checksum no longer matches
    fake_master.conn.sendall(b"$%d\r\n" % len(data) + bytes(data))
    # the replica drops the link and dials again; its data set is untouched meanwhile
    fake_master.srv.settimeout(10)
    again, _ = fake_master.srv.accept()
    again.close()
    assert r.get("mine") == b"kept" and r.get("k") is None
    assert "checksum" in replica.output()
    assert r.info("replication")["master_link_status"] == "down"


def test_stream_writes_replicate(spawn, replica_kind):
    # A Redis master propagates a ~ trim as the exact one it did, LIMIT kept, which only a
    # master may send; consumer groups travel as XCLAIM ... FORCE and XGROUP SETID.
    master = spawn("redis", "master", *NO_DELAY)
    m = Conn(master.port)
    for i in range(1, 151):
        m("XADD", "s", f"{i}-1", "f", i)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    script = [("XADD", "s", "MAXLEN", "~", "20", "LIMIT", "100", "*", "g", "x"),
              ("XADD", "s", "MINID", "~", "120", "*", "g", "y"),
              ("XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "1000"),
              ("XGROUP", "CREATE", "s", "grp", "0"), ("XGROUP", "CREATE", "e", "g2", "$",
                                                      "MKSTREAM"),
              ("XREADGROUP", "GROUP", "grp", "alice", "COUNT", "3", "STREAMS", "s", ">"),
              ("XREADGROUP", "GROUP", "grp", "bob", "COUNT", "2", "NOACK", "STREAMS", "s", ">"),
              ("XREADGROUP", "GROUP", "grp", "carol", "COUNT", "2", "STREAMS", "s", ">"),
              ("XACK", "s", "grp", "101-1"), ("XDEL", "s", "102-1"),
              ("XCLAIM", "s", "grp", "dave", "0", "103-1", "RETRYCOUNT", "5"),
              ("XAUTOCLAIM", "s", "grp", "erin", "0", "0", "COUNT", "1"),
              ("XGROUP", "CREATECONSUMER", "s", "grp", "frank"),
              ("XGROUP", "DELCONSUMER", "s", "grp", "carol"),
              ("XSETID", "e", "7-7", "ENTRIESADDED", "3", "MAXDELETEDID", "5-0"),
              ("XGROUP", "SETID", "s", "grp", "$", "ENTRIESREAD", "150")]
    for argv in script:
        reply = m(*argv)
        assert not isinstance(reply, hiredis.ReplyError), (argv, reply)
    m.close()
    wait_same(master.port, replica.port)
    view = stream_view(cli(replica.port), "s")
    assert view[1][0] < 152 and view[2][0][3]  # trimmed; a PEL with entries


def test_a_redis_masters_failover_promotes_the_replica(spawn, replica_kind):
    """FAILOVER on a redis-server master: once the replica has acknowledged everything, the
    master becomes its replica and sends PSYNC <replid> <offset> FAILOVER, which promotes it.
    A PSYNC FAILOVER for another history is refused."""
    master = spawn("redis", "master", *NO_DELAY)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    m, r = cli(master.port), cli(replica.port)
    m.set("before", "1")
    wait_until(lambda: r.get("before") == b"1", what="the write to reach the replica")
    assert err(Conn(replica.port)("PSYNC", "0" * 40, "1", "FAILOVER")) == \
        "ERR PSYNC FAILOVER replid must match my replid."
    assert m.execute_command("FAILOVER", "TO", "127.0.0.1", str(replica.port)) == b"OK"
    wait_until(lambda: r.info("replication")["role"] == "master"
               and linked(master.port), what="the failover to complete")
    assert m.info("replication")["master_port"] == replica.port
    assert r.set("after", "2") and r.get("before") == b"1"
    wait_until(lambda: m.get("after") == b"2", what="the new master's write to replicate")


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_failover_hands_the_master_role_to_a_replica(spawn, master_kind, replica_kind):
    master = spawn(master_kind, "master", *NO_DELAY)
    mc = Conn(master.port)
    assert err(mc("FAILOVER")) == "ERR FAILOVER requires connected replicas."
    assert err(mc("FAILOVER", "ABORT")) == "ERR No failover in progress."
    assert err(mc("FAILOVER", "TIMEOUT", "0")) == "ERR FAILOVER timeout must be greater than 0"
    assert err(mc("FAILOVER", "TO", "h")) == "ERR syntax error"
    replica = replica_of(spawn, replica_kind, master, *NO_DELAY)
    wait_linked(replica)
    m, r = cli(master.port), cli(replica.port)
    assert err(mc("FAILOVER", "FORCE", "TIMEOUT", "10")) == \
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP."
    assert err(mc("FAILOVER", "TO", "127.0.0.1", "1")) == \
        "ERR FAILOVER target HOST and PORT is not a replica."
    assert err(Conn(replica.port)("FAILOVER")) == \
        "ERR FAILOVER is not valid when server is a replica."
    m.set("before", "1")
    wait_until(lambda: r.get("before") == b"1", what="the write to reach the replica")
    assert mc("FAILOVER", "TIMEOUT", "10000") == b"OK"
    wait_until(lambda: r.info("replication")["role"] == "master" and linked(master.port),
               what="the failover to complete")
    assert m.info("replication")["master_port"] == replica.port
    assert m.info("replication")["master_failover_state"] == "no-failover"
    assert err(mc("SET", "x", "1")) == "READONLY You can't write against a read only replica."
    assert r.set("after", "2")
    wait_until(lambda: m.get("after") == b"2", what="the new master's write to replicate")
    # the old master goes on with the history they share: no full sync
    assert (r.info("stats")["sync_full"], r.info("stats")["sync_partial_ok"]) == (0, 1)


def test_failover_abort_resumes_writes(spawn):
    master = spawn("kvstore", "master", *NO_DELAY)
    replica = replica_of(spawn, "kvstore", master, *NO_DELAY)
    wait_linked(replica)
    mc = Conn(master.port)
    # a target that does not catch up (asleep: no ACK): the failover waits, writes with it
    mc("SET", "k", "1")
    sleeper = Conn(replica.port)
    sleeper.send(sleeper.encode("DEBUG", "SLEEP", "5"))
    probe = Conn(replica.port)
    probe.sock.settimeout(0.5)
    with pytest.raises(TimeoutError):  # it sleeps
        probe("PING")
    assert mc("FAILOVER", "TO", "127.0.0.1", str(replica.port)) == b"OK"
    assert cli(master.port).info("replication")["master_failover_state"] == "waiting-for-sync"
    assert err(mc("FAILOVER")) == "ERR FAILOVER already in progress."
    assert err(mc("REPLICAOF", "127.0.0.1", "1")) == \
        "ERR REPLICAOF not allowed while failing over."
    writer = Conn(master.port)
    writer.send(writer.encode("SET", "k", "2"))
    assert mc("GET", "k") == b"1"  # the SET is held
    assert mc("FAILOVER", "ABORT") == b"OK"
    assert writer.reply() == b"OK" and mc("GET", "k") == b"2"
    assert cli(master.port).info("replication")["role"] == "master"


def test_a_restricted_default_user_does_not_restrict_the_masters_stream(spawn, replica_kind):
    master = spawn("redis", "master", *NO_DELAY)
    replica = replica_of(spawn, replica_kind, master)
    wait_linked(replica)
    r = Conn(replica.port)
    assert r("ACL", "SETUSER", "admin", "on", ">pw", "+@all", "~*", "&*") == b"OK"
    assert r("ACL", "SETUSER", "default", "-@all", "+auth") == b"OK"
    assert r("AUTH", "admin", "pw") == b"OK"
    cli(master.port).set("after", "1")
    wait_until(lambda: r("GET", "after") == b"1", what="the master's write to apply")
    assert b"master_link_status:up" in r("INFO", "replication")


# --- one history (psync2): a promoted replica is continued by its old master and siblings ----

def offsets_meet(*servers) -> None:
    """Every server's master_repl_offset the same (each has run the whole stream)."""
    def offsets():
        return [cli(s.port).info("replication")["master_repl_offset"] for s in servers]
    wait_until(lambda: len(set(offsets())) == 1, what=lambda: f"the offsets: {offsets()}")


def goes_on(master, replicas, syncs: tuple[int, int]) -> None:
    """More writes on `master` (in database 5 too) reach every replica, and the master's
    (sync_full, sync_partial_ok) are `syncs`."""
    cli(master.port, 5).set("in5", "after")
    cli(master.port).rpush("l", "more")
    cli(master.port, 3).delete("hbig")
    for replica in replicas:
        wait_same(master.port, replica.port)
    stats = cli(master.port).info("stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == syncs


def spawn_chain_member(spawn, kind: str, name: str, master, *extra: str, port=None):
    return spawn(kind, name, "--replicaof", f"127.0.0.1 {master.port}", *NO_DELAY, *extra,
                 port=port)


# (old master, promoted replica, sibling replica); all redis-server: the oracle
PSYNC2_KINDS = [("redis", "redis", "redis"), ("kvstore", "kvstore", "kvstore"),
                ("redis", "kvstore", "redis"), ("kvstore", "redis", "kvstore")]


@pytest.mark.parametrize("kinds", PSYNC2_KINDS, ids="-".join)
def test_a_promoted_replica_is_continued_by_its_old_master_and_sibling(spawn, kinds):
    old_kind, promoted_kind, sibling_kind = kinds
    quiet = ("--repl-ping-replica-period", "3600")  # no PING moves the old master's offset on
    old = spawn(old_kind, "master", *NO_DELAY, *quiet)
    fill(old.port)
    a = spawn_chain_member(spawn, promoted_kind, "a", old, *quiet)
    b = spawn_chain_member(spawn, sibling_kind, "b", old, *quiet)
    wait_linked(a)
    wait_linked(b)
    cli(old.port, 5).set("in5", "before")
    cli(old.port).incr("n")
    offsets_meet(old, a, b)
    old_id = cli(old.port).info("replication")["master_replid"]
    offset = cli(old.port).info("replication")["master_repl_offset"]
    assert cli(a.port).info("replication")["master_replid"] == old_id

    assert Conn(a.port)("REPLICAOF", "NO", "ONE") == b"OK"
    info = cli(a.port).info("replication")
    assert (info["master_replid2"], info["second_repl_offset"]) == (old_id, offset + 1)
    assert info["master_replid"] != old_id and info["master_repl_offset"] == offset
    for s in (b, old):
        assert Conn(s.port)("REPLICAOF", "127.0.0.1", str(a.port)) == b"OK"
    wait_linked(b)
    wait_linked(old)
    goes_on(a, (b, old), (0, 2))  # (in database 5: the stream goes on in the one it was in)
    offsets_meet(a, b, old)


@pytest.mark.parametrize("kinds", [("redis", "redis", "redis"), ("kvstore", "kvstore", "kvstore"),
                                   ("redis", "kvstore", "redis"), ("redis", "redis", "kvstore")],
                         ids="-".join)
def test_a_chain_shares_the_masters_history(spawn, kinds):
    """top -> middle -> bottom: the middle replica hands its master's stream on as it came,
    so the bottom one has the top's replication ID and offset, and goes on with the middle one
    after its promotion without a full sync. The bottom one's file says which database the
    stream is in."""
    top_kind, middle_kind, bottom_kind = kinds
    top = spawn(top_kind, "master", *NO_DELAY)
    middle = spawn_chain_member(spawn, middle_kind, "middle", top)
    wait_linked(middle)
    cli(top.port, 7).set("k", "in db 7")  # the stream is in database 7 from here on
    wait_until(lambda: cli(middle.port, 7).get("k") == b"in db 7", what="the stream")
    bottom = spawn_chain_member(spawn, bottom_kind, "bottom", middle)
    wait_linked(bottom)
    cli(top.port, 7).set("k2", "still db 7")  # no SELECT: the bottom must know it is in 7
    fill(top.port)
    for _ in range(20):  # transactions go on whole
        cli(top.port, 2).pipeline(transaction=True).incr("t").lpush("tl", "x").execute()
    wait_same(top.port, bottom.port)
    offsets_meet(top, middle, bottom)
    top_id = cli(top.port).info("replication")["master_replid"]
    assert cli(bottom.port).info("replication")["master_replid"] == top_id

    top.stop()
    assert Conn(middle.port)("REPLICAOF", "NO", "ONE") == b"OK"
    wait_linked(bottom)
    goes_on(middle, (bottom,), (1, 1))


def test_an_open_transaction_is_handed_on_whole_with_its_exec(spawn, fake_master):
    """A replica counts a transaction run (its offset, what its own replicas get) only at its
    EXEC, as Redis does; what came before the MULTI goes on at once."""
    middle = spawn("kvstore", "middle", "--replicaof", f"127.0.0.1 {fake_master.port}")
    fake_master.accept(b"+FULLRESYNC " + b"a" * 40 + b" 1000\r\n")
    data = rdb_file(("SET", "k", "1"))
    fake_master.conn.sendall(b"$%d\r\n" % len(data) + data)
    wait_linked(middle)
    bottom = spawn("kvstore", "bottom", "--replicaof", f"127.0.0.1 {middle.port}")
    wait_linked(bottom)
    before = Conn.encode("SELECT", "0") + Conn.encode("SET", "k", "2")
    opened = Conn.encode("MULTI") + Conn.encode("SET", "k", "3") + Conn.encode("INCR", "n")
    fake_master.conn.sendall(before + opened)
    wait_until(lambda: cli(bottom.port).get("k") == b"2", what="what came before the MULTI")
    m = cli(middle.port).info("replication")
    assert (m["master_replid"], m["master_repl_offset"]) == ("a" * 40, 1000 + len(before))
    assert cli(bottom.port).info("replication")["master_repl_offset"] == 1000 + len(before)
    fake_master.conn.sendall(Conn.encode("EXEC"))
    wait_until(lambda: cli(bottom.port).get("n") == b"1", what="the transaction")
    total = 1000 + len(before + opened + Conn.encode("EXEC"))
    assert cli(bottom.port).get("k") == b"3"
    offsets_meet(middle, bottom)
    assert cli(middle.port).info("replication")["master_repl_offset"] == total


def test_a_slow_script_from_the_master_cannot_be_killed(spawn, fake_master):
    # A master's script (verbatim, as Redis 6 and before send them) past busy-reply-threshold:
    # the replica answers BUSY meanwhile, and SCRIPT KILL is refused, as Redis's scriptKill.
    replica = spawn("kvstore", "replica", "--replicaof", f"127.0.0.1 {fake_master.port}",
                    "--busy-reply-threshold", "10")
    fake_master.accept(b"+FULLRESYNC " + b"a" * 40 + b" 1000\r\n")
    data = rdb_file(("SET", "k", "1"))
    fake_master.conn.sendall(b"$%d\r\n" % len(data) + data)
    wait_linked(replica)
    script = "local t = redis.call('time')[1] + 0 while redis.call('time')[1] - t < 2 do end"
    fake_master.conn.sendall(Conn.encode("EVAL", script + " return 1", "0"))
    c = Conn(replica.port)
    wait_until(lambda: str(c("PING")).startswith("BUSY"), what="the replica busy")
    assert str(c("SCRIPT", "KILL")) == ("UNKILLABLE The busy script was sent by a master "
                                        "instance in the context of replication and cannot "
                                        "be killed.")
    wait_until(lambda: c("PING") == b"PONG", what="the script's end")
    c.close()


def test_a_command_cut_by_a_lost_link_is_asked_for_again_whole(spawn, fake_master):
    """The offset counts whole commands only: a link lost inside a command, after some of its
    bulks were parsed, resumes at the command's first byte. (It resumed past its header, so
    the master's next bytes were garbage here and the command was lost for good.)"""
    replica = spawn("kvstore", "replica", "--replicaof", f"127.0.0.1 {fake_master.port}")
    fake_master.accept(b"+FULLRESYNC " + b"a" * 40 + b" 1000\r\n")
    data = rdb_file(("SET", "k", "1"))
    fake_master.conn.sendall(b"$%d\r\n" % len(data) + data)
    wait_linked(replica)
    whole = Conn.encode("SELECT", "0") + Conn.encode("SET", "k", "2")
    cut = Conn.encode("SET", "k", "3")
    fake_master.conn.sendall(whole + cut[:-4])  # up to the last bulk's header
    wait_until(lambda: cli(replica.port).get("k") == b"2", what="the whole commands")
    wait_until(lambda: cli(replica.port).execute_command("ROLE")[4] == 1000 + len(whole),
               what="the offset of the whole commands")
    assert cli(replica.port).client_kill_filter(_type="master") == 1
    fake_master.conn.close()
    fake_master.accept(b"+CONTINUE " + b"a" * 40 + b"\r\n")
    assert fake_master.psync == (b"a" * 40, 1000 + len(whole) + 1)
    fake_master.conn.sendall(cut)
    wait_until(lambda: cli(replica.port).get("k") == b"3", what="the command sent again")
    assert cli(replica.port).execute_command("ROLE")[4] == 1000 + len(whole + cut)


@pytest.mark.parametrize("kinds", [("redis", "redis"), ("kvstore", "kvstore"),
                                   ("kvstore", "redis"), ("redis", "kvstore")], ids="-".join)
def test_a_replica_of_an_unlinked_replica_waits_and_continues(spawn, kinds):
    """A replica refuses to sync its own replicas while it is not linked to its master
    (NOMASTERLINK); they ask again later for the same history, and continue it once the link
    is back. Its replicas stay connected when it is told to follow another master."""
    middle_kind, bottom_kind = kinds
    top = spawn("redis", "master", *NO_DELAY)
    middle = spawn_chain_member(spawn, middle_kind, "middle", top)
    wait_linked(middle)
    bottom = spawn_chain_member(spawn, bottom_kind, "bottom", middle)
    wait_linked(bottom)
    fill(top.port)
    wait_same(top.port, bottom.port)
    nowhere = server_conftest.free_port()  # (nothing listens there)
    assert Conn(middle.port)("REPLICAOF", "127.0.0.1", str(nowhere)) == b"OK"
    assert linked(bottom.port)
    assert err(Conn(middle.port)("PSYNC", "?", "-1")) == \
        "NOMASTERLINK Can't SYNC while not connected with my master"
    assert cli(middle.port).execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
    wait_until(lambda: cli(bottom.port).info("replication")["master_link_status"] == "down",
               what="the bottom replica's link to drop")
    cli(top.port).set("while", "away")
    assert Conn(middle.port)("REPLICAOF", "127.0.0.1", str(top.port)) == b"OK"
    wait_linked(middle)
    wait_linked(bottom)
    wait_same(top.port, bottom.port)
    assert cli(top.port).info("stats")["sync_full"] == 1
    stats = cli(middle.port).info("stats")
    assert (stats["sync_full"], stats["sync_partial_ok"]) == (1, 1)


def test_random_failovers_among_kvstore_and_redis_servers(spawn):
    """After Redis's psync2.tcl: two kvstore-servers and two redis-servers; each round writes on
    the master (counters, keys in four databases, transactions), checks that every server has
    the same DEBUG DIGEST at the same offset, then promotes a random other server and points
    the rest at it or at one another (chains). Only the first syncs are full ones."""
    rng = random.Random(7)
    quiet = ("--repl-ping-replica-period", "3600", "--enable-debug-command", "yes")
    servers = [spawn(kind, f"s{i}", *NO_DELAY, *quiet)
               for i, kind in enumerate(["kvstore", "redis", "kvstore", "redis"])]
    for s in servers[1:]:
        assert Conn(s.port)("REPLICAOF", "127.0.0.1", str(servers[0].port)) == b"OK"
    master = servers[0]
    for _ in range(8):
        for s in servers:
            if s is not master:
                wait_linked(s)
        for _ in range(rng.randrange(1, 40)):
            r = cli(master.port, rng.randrange(4))
            op = rng.random()
            if op < 0.4:
                r.incr("counter")
            elif op < 0.7:
                r.set(f"k{rng.randrange(30)}", rng.randbytes(8))
            elif op < 0.85:
                r.pipeline(transaction=True).rpush("l", op).sadd("s", rng.randrange(9)).execute()
            else:
                r.delete(f"k{rng.randrange(30)}")
        offsets_meet(*servers)
        digests = {Conn(s.port)("DEBUG", "DIGEST") for s in servers}
        assert len(digests) == 1, digests
        master = rng.choice([s for s in servers if s is not master])
        assert Conn(master.port)("REPLICAOF", "NO", "ONE") == b"OK"
        placed = [master]  # a tree: each follows the new master or a server already under it
        for s in rng.sample(servers, len(servers)):
            if s is not master:
                up = rng.choice(placed)
                assert Conn(s.port)("REPLICAOF", "127.0.0.1", str(up.port)) in (
                    b"OK", b"OK Already connected to specified master")
                placed.append(s)
    for s in servers:
        if s is not master:
            wait_linked(s)
    assert sum(cli(s.port).info("stats")["sync_full"] for s in servers) == 3


SAVES = ("--save", "3600 1")  # (a file on shutdown, with where its data set is in the history)


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_a_restarted_replica_continues_from_its_file(spawn, master_kind, replica_kind):
    """Keys expired in its file stay until the master's DELs, as on a replica that ran on."""
    master = spawn(master_kind, "master", *NO_DELAY)
    fill(master.port)
    replica = spawn_chain_member(spawn, replica_kind, "replica", master, *SAVES)
    wait_linked(replica)
    m = cli(master.port)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    m.set("soon", "gone", px=100)
    cli(master.port, 5).set("in5", "before")  # the stream is in database 5 when it stops
    offsets_meet(master, replica)
    wait_until(lambda: cli(replica.port).pttl("soon") == -2, what="the key's expiry")
    replica.stop()  # SIGTERM: the file is saved
    cli(master.port, 5).set("in5", "while down")
    replica = spawn_chain_member(spawn, replica_kind, "replica", master, *SAVES,
                                 port=replica.port)
    wait_linked(replica)
    goes_on(master, (replica,), (1, 1))
    dbsize = m.dbsize()
    assert cli(replica.port).dbsize() == dbsize  # "soon" included
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    wait_until(lambda: cli(replica.port).dbsize() == m.dbsize() == dbsize - 1,
               what="the master's DEL of the expired key, on both")


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_a_restarted_master_is_continued_by_its_replica(spawn, master_kind, replica_kind):
    """A master's file keeps its place in the history too: restarted, it takes a new ID and
    keeps the file's as replid2, so its replicas continue with it."""
    master = spawn(master_kind, "master", *NO_DELAY, *SAVES)
    fill(master.port)
    replica = spawn_chain_member(spawn, replica_kind, "replica", master)
    wait_linked(replica)
    cli(master.port, 5).set("in5", "before")
    offsets_meet(master, replica)
    replid = cli(master.port).info("replication")["master_replid"]
    master.stop()
    master = spawn(master_kind, "master", *NO_DELAY, *SAVES, port=master.port)
    info = cli(master.port).info("replication")
    assert info["master_replid"] != replid and info["master_replid2"] == replid
    wait_linked(replica)
    goes_on(master, (replica,), (0, 1))


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_the_master_pings_its_replicas_every_repl_ping_replica_period(spawn, master_kind):
    master = spawn(master_kind, "master", *NO_DELAY, "--repl-ping-replica-period", "3600")
    replica = spawn_chain_member(spawn, "kvstore", "replica", master)
    wait_linked(replica)
    assert cli(master.port).config_set("repl-ping-replica-period", 1)  # applies at once
    start = cli(master.port).info("replication")["master_repl_offset"]
    # a quiet master: only its PINGs (14 bytes each) move the offset on
    wait_until(lambda: cli(master.port).info("replication")["master_repl_offset"] >= start + 28,
               timeout=10, what="two PINGs")
    offsets_meet(master, replica)


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_keys_expired_while_a_master_was_down_are_deleted_in_its_stream(spawn, master_kind,
                                                                        replica_kind):
    """A restarted master deletes the keys that expired while it was down, and its stream
    carries the DELs after its file's offset (Redis's RDBFLAGS_FEED_REPL): its replicas
    continue, and delete them too."""
    master = spawn(master_kind, "master", *NO_DELAY, *SAVES)
    replica = spawn_chain_member(spawn, replica_kind, "replica", master)
    wait_linked(replica)
    m = cli(master.port)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # no DEL before the restart
    cli(master.port, 3).set("soon", "gone", px=100)
    m.set("soon", "gone", px=100)
    m.set("stays", "1")
    offsets_meet(master, replica)
    wait_until(lambda: cli(replica.port).pttl("soon") == cli(replica.port, 3).pttl("soon") == -2,
               what="the keys' expiry")
    assert cli(replica.port).dbsize() == cli(replica.port, 3).dbsize() + 1 == 2  # (kept)
    master.stop()
    master = spawn(master_kind, "master", *NO_DELAY, *SAVES, port=master.port)
    assert cli(master.port).info("persistence")["rdb_last_load_keys_expired"] == 2
    wait_linked(replica)
    goes_on(master, (replica,), (0, 1))
    assert (cli(replica.port).dbsize(), cli(replica.port, 3).dbsize()) == (2, 0)  # +l


def writable_replica(spawn, replica_kind):
    """A redis-server master and its replica of `replica_kind` with replica-read-only no,
    linked: (master, replica)."""
    master = spawn("redis", "master", *NO_DELAY)
    replica = spawn_chain_member(spawn, replica_kind, "replica", master,
                                 "--replica-read-only", "no")
    wait_linked(replica)
    return master, replica


def test_a_writable_replica_expires_the_ttls_it_set_itself(spawn, replica_kind):
    """Not those of its master's stream (the master's DEL deletes those)."""
    master, replica = writable_replica(spawn, replica_kind)
    m, r = cli(master.port), cli(replica.port)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # no DEL from the master
    m.set("theirs", "v", px=200)
    offsets_meet(master, replica)
    r.set("mine", "v", px=200)
    r.set("also_mine", "v")
    r.pexpire("also_mine", 200)
    assert r.info("stats")["slave_expires_tracked_keys"] == 2
    wait_until(lambda: r.dbsize() == 1, what=lambda: f"the replica's own keys deleted: "
                                                     f"{r.dbsize()} keys")
    assert r.info("stats")["slave_expires_tracked_keys"] == 0
    assert r.pttl("theirs") == -2 and m.dbsize() == 1  # (expired, kept for the master's DEL)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    wait_until(lambda: r.dbsize() == 0, what="the master's DEL")


def test_a_writable_replicas_write_over_an_expired_key_starts_afresh(spawn, replica_kind):
    """(Redis's replication-3.tcl 'Writable replica doesn't return expired keys'.)"""
    master, replica = writable_replica(spawn, replica_kind)
    m, r = cli(master.port), cli(replica.port)
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    m.set("key1", 5, px=10)
    m.set("key2", 5, px=10)
    offsets_meet(master, replica)
    wait_until(lambda: r.dbsize() == 2 and r.exists("key1", "key2") == 0,
               what="the keys' expiry on the replica")
    assert r.incr("key1") == 1
    assert r.ttl("key1") == -1  # a new key, without the old TTL
    assert r.get("key2") is None and r.dbsize() == 2


def test_a_command_of_the_stream_that_fails_here_is_logged(spawn, replica_kind):
    """Its error reply goes nowhere: the replica logs it and counts it (data sets differ)."""
    master, replica = writable_replica(spawn, replica_kind)
    cli(replica.port).set("k", "abc")  # (a writable replica's own write)
    cli(master.port).incrby("k", 2)
    offsets_meet(master, replica)
    assert cli(replica.port).get("k") == b"abc"
    assert cli(replica.port).info("stats")["unexpected_error_replies"] == 1
    line = ("== CRITICAL == This replica is sending an error to its master: 'value is not an "
            "integer or out of range' after processing the command 'incrby'")
    wait_until(lambda: line in replica.output(), what=lambda: replica.output()[-2000:])


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_a_promoted_replica_alone_frees_its_backlog_and_ends_its_history(spawn, kind):
    """After repl-backlog-ttl seconds without replicas the backlog goes, and with it the
    history: a new ID and no replid2, since the offset stops while writes go on."""
    master = spawn("redis", "master", *NO_DELAY)
    replica = spawn_chain_member(spawn, kind, "replica", master, "--repl-backlog-ttl", "1")
    wait_linked(replica)
    r = cli(replica.port)
    old = r.info("replication")["master_replid"]
    assert r.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    info = r.info("replication")
    assert (info["repl_backlog_active"], info["master_replid2"]) == (1, old)
    wait_until(lambda: r.info("replication")["repl_backlog_active"] == 0, timeout=10,
               what="the backlog freed")
    info = r.info("replication")
    assert info["master_replid"] not in (old, info["master_replid2"])
    # (forty zeroes, which redis-py reads as a number)
    assert info["master_replid2"] == 0 and info["second_repl_offset"] == -1


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_failover_to_any_replica_picks_one_that_caught_up(spawn, master_kind):
    import signal

    master = spawn(master_kind, "master", *NO_DELAY)
    stuck = spawn_chain_member(spawn, "redis", "stuck", master)
    ready = spawn_chain_member(spawn, "kvstore", "ready", master)
    wait_linked(stuck)
    wait_linked(ready)
    stuck.proc.send_signal(signal.SIGSTOP)  # it cannot acknowledge anything now
    try:
        cli(master.port).set("k", "v")
        assert Conn(master.port)("FAILOVER") == b"OK"
        wait_until(lambda: cli(ready.port).info("replication")["role"] == "master",
                   what="the failover to the replica that caught up")
    finally:
        stuck.proc.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_a_silent_replica_lags_stops_writes_then_is_dropped_at_repl_timeout(spawn, master_kind):
    """A replica that stops acknowledging: INFO's lag grows, min-replicas-to-write refuses
    writes once it is over min-replicas-max-lag, and the master drops it after repl-timeout
    (Redis's replicationCron); back, it resyncs and writes go on."""
    import signal

    master = spawn(master_kind, "master", *NO_DELAY, "--repl-timeout", "3",
                   "--min-replicas-to-write", "1", "--min-replicas-max-lag", "1")
    replica = spawn_chain_member(spawn, "redis", "replica", master)
    wait_linked(replica)
    m = cli(master.port)
    wait_until(lambda: m.info("replication").get("min_slaves_good_slaves") == 1,
               what="a good replica")
    assert m.set("k", "v")
    replica.proc.send_signal(signal.SIGSTOP)  # it cannot acknowledge anything now
    try:
        wait_until(lambda: m.info("replication")["slave0"]["lag"] >= 1, what="the lag")
        wait_until(lambda: err(Conn(master.port)("SET", "k", "w")) == (
            "NOREPLICAS Not enough good replicas to write."), what="NOREPLICAS")
        wait_until(lambda: m.info("replication")["connected_slaves"] == 0, timeout=20,
                   what="the timed-out replica to be dropped")
        assert m.info("replication")["min_slaves_good_slaves"] == 0
    finally:
        replica.proc.send_signal(signal.SIGCONT)
    wait_until(lambda: m.info("replication").get("min_slaves_good_slaves") == 1, timeout=20,
               what="the replica back")
    assert m.set("k", "w") and m.get("k") == b"w"


@pytest.mark.parametrize("master_kind", ["kvstore", "redis"])
def test_a_replica_that_stops_reading_is_cut_at_the_replica_output_limit(spawn, master_kind):
    """The "replica" class of client-output-buffer-limit: over its hard limit the master drops
    the replica at once, over its soft limit for longer than its seconds too (the kernel's
    socket buffers take some megabytes first, hence the sizes)."""
    import signal

    master = spawn(master_kind, "master", *NO_DELAY, "--client-output-buffer-limit",
                   "replica 16mb 0 0")
    replica = spawn_chain_member(spawn, "redis", "replica", master)
    m = cli(master.port)
    for limit, megabytes in (("replica 16mb 0 0", 40), ("replica 0 4mb 1", 30)):
        assert m.config_set("client-output-buffer-limit", limit)
        wait_linked(replica)
        replica.proc.send_signal(signal.SIGSTOP)  # it reads nothing now
        try:
            value = b"x" * 100_000
            for i in range(megabytes * 10):
                m.set(f"k{i}", value)
            wait_until(lambda: m.info("replication")["connected_slaves"] == 0,
                       what=f"the replica cut at {limit}")
        finally:
            replica.proc.send_signal(signal.SIGCONT)
        m.flushall()


def test_the_other_clients_get_loading_while_the_replica_loads_its_file(spawn, replica_kind):
    """As a Redis replica loading the file its master sent: LOADING to every command not
    flagged loading, INFO meanwhile, the data set after (key-load-delay: 1 ms a key)."""
    master = spawn("redis", "master", *NO_DELAY)
    assert Conn(master.port)("DEBUG", "POPULATE", "2000") == b"OK"
    replica = spawn(replica_kind, "replica", "--key-load-delay", "1000",
                    "--loading-process-events-interval-bytes", "1024")
    c = Conn(replica.port, timeout=10)
    assert c("SET", "old", "1") == b"OK"
    assert c("REPLICAOF", "127.0.0.1", str(master.port)) == b"OK"
    wait_until(lambda: b"loading:1" in c("INFO", "persistence"), what="the replica to load")
    assert err(c("PING")) == "LOADING Redis is loading the dataset in memory"
    assert err(c("GET", "key:1")) == "LOADING Redis is loading the dataset in memory"
    assert c("CONFIG", "GET", "key-load-delay") == [b"key-load-delay", b"1000"]
    wait_linked(replica)
    assert c("DBSIZE") == 2000 and c("GET", "key:1") == b"value:1"
    assert c("PING") == b"PONG"


def test_a_paused_replica_reads_its_master_but_runs_nothing(spawn, replica_kind):
    """CLIENT PAUSE WRITE on a replica (Redis's pause.tcl): its master's writes are read
    (slave_read_repl_offset) but not run (slave_repl_offset, the REPLCONF ACKs, the data) until
    the unpause."""
    master = spawn("redis", "master", *NO_DELAY)
    replica = replica_of(spawn, replica_kind, master, *NO_DELAY)
    wait_linked(replica)
    m, r = cli(master.port), cli(replica.port)
    m.set("foo", "bar")
    offset = m.info("replication")["master_repl_offset"]
    wait_until(lambda: r.info("replication")["slave_repl_offset"] == offset,
               what="the replica to run the stream")
    assert r.execute_command("CLIENT", "PAUSE", "100000", "WRITE")
    m.set("foo2", "bar2")
    m.incr("n")
    end = m.info("replication")["master_repl_offset"]
    wait_until(lambda: r.info("replication")["slave_read_repl_offset"] == end,
               what="the replica to read the stream")
    assert r.info("replication")["slave_repl_offset"] == offset
    assert r.get("foo2") is None
    assert r.execute_command("CLIENT", "UNPAUSE")
    wait_until(lambda: r.info("replication")["slave_repl_offset"] == end,
               what="the replica to run what it held")
    assert r.mget("foo2", "n") == [b"bar2", b"1"]


def test_the_masters_stream_is_not_held_to_the_query_buffer_limit(spawn, replica_kind):
    """Redis's replication-3.tcl: a write longer than the replica's client-query-buffer-limit
    reaches it over the same link (kvstore closed the link, and synced again from scratch)."""
    master = spawn("redis", "master", *NO_DELAY, "--client-query-buffer-limit", "4mb")
    replica = replica_of(spawn, replica_kind, master, *NO_DELAY,
                         "--client-query-buffer-limit", "1mb")
    wait_linked(replica)
    m, r = cli(master.port), cli(replica.port)
    m.set("key", "x" * 1_100_000)
    end = m.info("replication")["master_repl_offset"]
    wait_until(lambda: r.info("replication")["slave_repl_offset"] == end,
               what="the replica to run the long write")
    assert r.strlen("key") == 1_100_000
    assert m.info("stats")["sync_full"] == 1
