"""INFO's keyspace_hits / keyspace_misses and the `keymiss` event, on both servers.

Redis counts each lookup of a command that reads a key (lookupKeyRead: GET, MGET, EXISTS, TYPE,
TTL, OBJECT, the sources of SINTERSTORE or ZUNIONSTORE, SORT's BY and GET patterns, SET ... GET)
as a hit or a miss, and none of a command that writes the key (lookupKeyWrite: INCR, LPOP,
BLPOP, PFADD...), even when the write reads it too. Where a command stops at an error decides
which of its keys were counted. Each case runs one command on the same small data set and
compares the counters' change with Redis 7.0's figures (the test runs against redis-server too).
"""

from __future__ import annotations

import time

import pytest

from .helpers import Conn, wait_until

SETUP = [
    ("SET", "s", "5"), ("SET", "s2", "hello"), ("HSET", "h", "f", "1", "g", "2"),
    ("RPUSH", "l", "3", "1", "2"), ("SADD", "st", "a", "b"), ("SADD", "st2", "b", "c"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZADD", "z2", "1", "b"), ("PFADD", "hll", "a"),
    ("PFADD", "hll2", "b"),
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"),
    ("SET", "w_3", "1"), ("SET", "o_1", "x"),
]

# (command, keyspace_hits added, keyspace_misses added); `nx`, `nx2`, `d` are missing keys.
CASES = [
    ('GET s', 1, 0),
    ('GET nx', 0, 1),
    ('GET h', 1, 0),
    ('MGET s nx h', 2, 1),
    ('GETRANGE s 0 1', 1, 0),
    ('SUBSTR s 0 1', 1, 0),
    ('STRLEN s', 1, 0),
    ('STRLEN nx', 0, 1),
    ('GETEX s', 1, 0),
    ('GETEX nx PX 100', 0, 1),
    ('GETDEL s', 1, 0),
    ('GETDEL nx', 0, 1),
    ('GETSET s 1', 1, 0),
    ('GETSET nx 1', 0, 1),
    ('SET s 1 GET', 1, 0),
    ('SET nx 1 GET', 0, 1),
    ('SET s 1', 0, 0),
    ('SET s 1 NX', 0, 0),
    ('SET nx 1 XX', 0, 0),
    ('SET s 1 NX GET', 1, 0),
    ('SETNX s 1', 0, 0),
    ('SETEX s 10 1', 0, 0),
    ('APPEND s x', 0, 0),
    ('INCR s', 0, 0),
    ('INCR nx', 0, 0),
    ('INCRBYFLOAT s 1', 0, 0),
    ('DECR h', 0, 0),
    ('SETRANGE s 0 x', 0, 0),
    ('MSETNX s 1 nx 2', 0, 0),
    ('MSET s 1 nx 2', 0, 0),
    ('LCS s s2', 2, 0),
    ('LCS s nx', 1, 1),
    ('GETBIT s 0', 1, 0),
    ('GETBIT nx 0', 0, 1),
    ('SETBIT s 0 1', 0, 0),
    ('BITCOUNT s', 1, 0),
    ('BITCOUNT nx', 0, 1),
    ('BITPOS s 1', 1, 0),
    ('BITOP AND d s nx', 1, 1),
    ('BITOP NOT d s', 1, 0),
    ('BITFIELD s GET u8 0', 1, 0),
    ('BITFIELD nx GET u8 0', 0, 1),
    ('BITFIELD s SET u8 0 1', 0, 0),
    ('BITFIELD s INCRBY u8 0 1 GET u8 0', 0, 0),
    ('BITFIELD_RO s GET u8 0', 1, 0),
    ('BITFIELD s', 1, 0),
    ('HGET h f', 1, 0),
    ('HGET nx f', 0, 1),
    ('HGET s f', 1, 0),
    ('HMGET h f x', 1, 0),
    ('HLEN h', 1, 0),
    ('HSTRLEN h f', 1, 0),
    ('HEXISTS h f', 1, 0),
    ('HKEYS h', 1, 0),
    ('HVALS h', 1, 0),
    ('HGETALL h', 1, 0),
    ('HGETALL nx', 0, 1),
    ('HRANDFIELD h', 1, 0),
    ('HRANDFIELD h 2', 1, 0),
    ('HSCAN h 0', 1, 0),
    ('HSCAN nx 0', 0, 1),
    ('HSET h f 2', 0, 0),
    ('HSETNX h f 2', 0, 0),
    ('HDEL h f', 0, 0),
    ('HINCRBY h f 1', 0, 0),
    ('HINCRBYFLOAT h f 1', 0, 0),
    ('HMSET h a b', 0, 0),
    ('LLEN l', 1, 0),
    ('LLEN nx', 0, 1),
    ('LINDEX l 0', 1, 0),
    ('LRANGE l 0 -1', 1, 0),
    ('LRANGE nx 0 -1', 0, 1),
    ('LPOS l 1', 1, 0),
    ('LPUSH l 1', 0, 0),
    ('LPUSHX l 1', 0, 0),
    ('LPUSHX nx 1', 0, 0),
    ('RPUSHX l 1', 0, 0),
    ('LINSERT l BEFORE 1 0', 0, 0),
    ('LSET l 0 1', 0, 0),
    ('LPOP l', 0, 0),
    ('LPOP nx', 0, 0),
    ('RPOP l 2', 0, 0),
    ('LTRIM l 0 1', 0, 0),
    ('LREM l 0 1', 0, 0),
    ('LMOVE l l2 LEFT LEFT', 0, 0),
    ('LMOVE nx l2 LEFT LEFT', 0, 0),
    ('RPOPLPUSH l l', 0, 0),
    ('LMPOP 2 nx l LEFT', 0, 0),
    ('BLPOP l 1', 0, 0),
    ('BLPOP nx l 1', 0, 0),
    ('BRPOPLPUSH l l2 1', 0, 0),
    ('BLMOVE l l2 LEFT LEFT 1', 0, 0),
    ('BLMPOP 1 2 nx l LEFT', 0, 0),
    ('SORT l', 1, 0),
    ('SORT nx', 0, 1),
    ('SORT_RO l', 1, 0),
    ('SORT l STORE d', 1, 0),
    ('SORT l BY w_* GET o_*', 3, 4),
    ('SORT l BY nosort', 1, 0),
    ('SISMEMBER st a', 1, 0),
    ('SISMEMBER nx a', 0, 1),
    ('SMISMEMBER st a b', 1, 0),
    ('SCARD st', 1, 0),
    ('SMEMBERS st', 1, 0),
    ('SMEMBERS nx', 0, 1),
    ('SRANDMEMBER st', 1, 0),
    ('SRANDMEMBER st 2', 1, 0),
    ('SSCAN st 0', 1, 0),
    ('SINTER st st2', 2, 0),
    ('SINTER nx st', 1, 1),
    ('SINTER st nx st2', 2, 1),
    ('SINTER st s st2', 2, 0),
    ('SINTERCARD 2 st st2', 2, 0),
    ('SINTERSTORE d st st2', 2, 0),
    ('SINTERSTORE d st nx', 1, 1),
    ('SUNION st st2 nx', 2, 1),
    ('SUNIONSTORE d st st2', 2, 0),
    ('SDIFF st st2 nx', 2, 1),
    ('SDIFF nx st', 1, 1),
    ('SDIFFSTORE d st st2', 2, 0),
    ('SADD st a', 0, 0),
    ('SREM st a', 0, 0),
    ('SPOP st', 0, 0),
    ('SPOP nx', 0, 0),
    ('SMOVE st st2 a', 0, 0),
    ('ZSCORE z a', 1, 0),
    ('ZSCORE nx a', 0, 1),
    ('ZMSCORE z a b', 1, 0),
    ('ZRANK z a', 1, 0),
    ('ZREVRANK z a', 1, 0),
    ('ZCARD z', 1, 0),
    ('ZCOUNT z 0 10', 1, 0),
    ('ZLEXCOUNT z - +', 1, 0),
    ('ZRANGE z 0 -1', 1, 0),
    ('ZRANGE nx 0 -1', 0, 1),
    ('ZRANGE z 0 -1 BYSCORE', 1, 0),
    ('ZRANGEBYSCORE z 0 10', 1, 0),
    ('ZREVRANGE z 0 -1', 1, 0),
    ('ZRANGEBYLEX z - +', 1, 0),
    ('ZREVRANGEBYSCORE z 10 0', 1, 0),
    ('ZRANGESTORE d z 0 -1', 1, 0),
    ('ZRANGESTORE d nx 0 -1', 0, 1),
    ('ZRANDMEMBER z', 1, 0),
    ('ZRANDMEMBER z 2', 1, 0),
    ('ZSCAN z 0', 1, 0),
    ('ZUNION 2 z nx', 1, 1),
    ('ZINTER 2 z z2', 2, 0),
    ('ZDIFF 2 z z2', 2, 0),
    ('ZUNIONSTORE d 2 z nx', 1, 1),
    ('ZINTERSTORE d 2 z z2', 2, 0),
    ('ZDIFFSTORE d 2 z z2', 2, 0),
    ('ZINTERCARD 2 z z2', 2, 0),
    ('ZADD z 1 a', 0, 0),
    ('ZINCRBY z 1 a', 0, 0),
    ('ZREM z a', 0, 0),
    ('ZREMRANGEBYRANK z 0 0', 0, 0),
    ('ZREMRANGEBYSCORE z 0 1', 0, 0),
    ('ZREMRANGEBYLEX z - +', 0, 0),
    ('ZPOPMIN z', 0, 0),
    ('ZPOPMAX nx', 0, 0),
    ('ZMPOP 2 nx z MIN', 0, 0),
    ('BZPOPMIN z 1', 0, 0),
    ('BZMPOP 1 2 nx z MIN', 0, 0),
    ('PFADD hll x', 0, 0),
    ('PFCOUNT hll', 1, 0),
    ('PFCOUNT nx', 0, 1),
    ('PFCOUNT hll hll2', 2, 0),
    ('PFCOUNT hll nx', 1, 1),
    ('PFMERGE hll hll2', 2, 0),
    ('PFMERGE d hll nx', 1, 2),
    ('PFDEBUG GETREG hll', 0, 0),
    ('GEOADD g 13 38 x', 0, 0),
    ('GEOPOS g Palermo', 1, 0),
    ('GEOPOS nx Palermo', 0, 1),
    ('GEODIST g Palermo Catania', 1, 0),
    ('GEOHASH g Palermo', 1, 0),
    ('GEOSEARCH g FROMMEMBER Palermo BYRADIUS 200 km', 1, 0),
    ('GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 200 km', 1, 0),
    ('GEORADIUS g 15 37 200 km', 1, 0),
    ('GEORADIUS g 15 37 200 km STORE d', 1, 0),
    ('GEORADIUSBYMEMBER g Palermo 200 km', 1, 0),
    ('GEORADIUS_RO g 15 37 200 km', 1, 0),
    ('EXISTS s nx s', 2, 1),
    ('TYPE s', 1, 0),
    ('TYPE nx', 0, 1),
    ('TTL s', 1, 0),
    ('TTL nx', 0, 1),
    ('PTTL s', 1, 0),
    ('EXPIRETIME s', 1, 0),
    ('PEXPIRETIME nx', 0, 1),
    ('TOUCH s nx', 1, 1),
    ('OBJECT ENCODING s', 1, 0),
    ('OBJECT ENCODING nx', 0, 1),
    ('OBJECT REFCOUNT s', 1, 0),
    ('OBJECT IDLETIME s', 1, 0),
    ('OBJECT FREQ s', 1, 0),
    ('DUMP s', 1, 0),
    ('DUMP nx', 0, 1),
    ('COPY s d', 1, 0),
    ('COPY nx d', 0, 1),
    ('COPY s st', 1, 0),
    ('RENAME s d', 0, 0),
    ('RENAMENX s d', 0, 0),
    ('MOVE s 1', 0, 0),
    ('DEL s nx', 0, 0),
    ('UNLINK s', 0, 0),
    ('EXPIRE s 100', 0, 0),
    ('EXPIRE nx 100', 0, 0),
    ('PEXPIREAT s 1', 0, 0),
    ('PERSIST s', 0, 0),
    ('RANDOMKEY', 0, 0),
    ('KEYS *', 0, 0),
    ('SCAN 0', 0, 0),
    ('DBSIZE', 0, 0),
    ('MEMORY USAGE s', 0, 0),
    ('WATCH s', 0, 0),
    (('EVAL', "return redis.call('get', KEYS[1])", '1', 's'), 1, 0),
    (('EVAL', "return redis.call('get', KEYS[1])", '1', 'nx'), 0, 1),
    (('EVAL', "return redis.pcall('hget', KEYS[1], 'f')", '1', 's'), 1, 0),
    ('GETRANGE s a b', 0, 0),
    ('GETEX s PX abc', 1, 0),
    ('GETEX s FOO', 0, 0),
    ('SET s 1 GET EX abc', 0, 0),
    ('LRANGE l a 1', 0, 0),
    ('LINDEX l a', 1, 0),
    ('LPOS l 1 RANK 0', 0, 0),
    ('LPOS l 1 FOO', 0, 0),
    ('HRANDFIELD h abc', 0, 0),
    ('HRANDFIELD h -5 WITHVALUES', 1, 0),
    ('HRANDFIELD nx 5', 0, 1),
    ('SRANDMEMBER st abc', 0, 0),
    ('SRANDMEMBER nx 3', 0, 1),
    ('ZRANDMEMBER z abc', 0, 0),
    ('ZRANGE z a b', 0, 0),
    ('ZRANGE z 0 1 BYSCORE LIMIT a b', 0, 0),
    ('ZRANGE z (a 1 BYSCORE', 0, 0),
    ('ZCOUNT z a b', 0, 0),
    ('ZLEXCOUNT z a b', 0, 0),
    ('ZRANGEBYLEX z a b', 0, 0),
    ('ZSCORE h a', 1, 0),
    ('ZMSCORE nx a', 0, 1),
    ('ZUNION 2 z', 0, 0),
    ('ZUNION 0 z', 0, 0),
    ('ZUNION 2 z s', 2, 0),
    ('ZUNION 2 s z', 1, 0),
    ('ZINTERSTORE d 2 z nx WEIGHTS a b', 1, 1),
    ('SINTERCARD 2 st st2 LIMIT -1', 0, 0),
    ('SINTERCARD 0 st', 0, 0),
    ('BITCOUNT s 0', 1, 0),
    ('BITCOUNT s a b', 1, 0),
    ('BITPOS s 2', 0, 0),
    ('BITFIELD s GET u99 0', 0, 0),
    ('BITFIELD_RO s SET u8 0 1', 0, 0),
    ('SORT l BY w_* LIMIT a b', 0, 0),
    ('SORT l FOO', 0, 0),
    ('SORT s', 1, 0),
    ('SORT h', 1, 0),
    ('SORT l GET #', 1, 0),
    ('SORT l BY w_*->f GET h_*->f', 2, 5),
    ('SORT l ALPHA BY nosort GET o_*', 2, 2),
    ('LCS s h', 2, 0),
    ('LCS s s2 IDX MINMATCHLEN a', 2, 0),
    ('COPY s s', 0, 0),
    ('COPY s d DB 99', 0, 0),
    ('OBJECT FOO s', 0, 0),
    ('OBJECT ENCODING h', 1, 0),
    ('DUMP h', 1, 0),
    ('GEODIST g Palermo Nowhere', 1, 0),
    ('GEOSEARCH g FROMMEMBER Nowhere BYRADIUS 200 km', 1, 0),
    ('GEOSEARCH g FROMLONLAT 200 200 BYRADIUS 1 km', 1, 0),
    ('GEOPOS s a', 1, 0),
    ('GEORADIUS g 15 37 -1 km', 1, 0),
    ('PFCOUNT s', 1, 0),
    ('PFCOUNT s hll', 1, 0),
    ('PFMERGE s hll', 1, 0),
    ('PFMERGE hll s', 2, 0),
    ('MGET', 0, 0),
    ('EXISTS', 0, 0),
    ('TYPE s x', 0, 0),
    ('HSCAN h abc', 0, 0),
    ('SSCAN st 0 COUNT 0', 1, 0),
    ('ZSCAN z 0 MATCH', 1, 0),
    (('EVAL', "return redis.call('mget', KEYS[1], 'nx', 'nx2')", '1', 's'), 1, 2),
    (('EVAL', "return redis.call('exists', 'nx')", '0'), 0, 1),
    (('EVAL_RO', "return redis.call('zrange', 'z', 0, -1)", '0'), 1, 0),
]


def counters(conn: Conn) -> tuple[int, int]:
    text = conn("INFO", "stats").decode()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(fields["keyspace_hits"]), int(fields["keyspace_misses"])


@pytest.fixture
def conns(server):
    """A connection for the commands and one for INFO, on a flushed server."""
    conn, probe = Conn(server.port), Conn(server.port)
    conn("FLUSHALL")
    yield conn, probe
    conn.close()
    probe.close()


def test_each_command_counts_the_keys_it_reads(conns):
    conn, probe = conns
    wrong = []
    for command, hits, misses in CASES:
        conn("FLUSHALL")
        for argv in SETUP:
            conn(*argv)
        before = counters(probe)
        conn(*(command.split() if isinstance(command, str) else command))
        after = counters(probe)
        got = (after[0] - before[0], after[1] - before[1])
        if got != (hits, misses):
            wrong.append((command, got, (hits, misses)))
    assert not wrong


def test_reads_inside_a_transaction_count_and_resetstat_clears_them(conns):
    conn, probe = conns
    conn("SET", "k", "v")
    before = counters(probe)
    conn("MULTI")
    conn("GET", "k")
    conn("GET", "missing")
    conn("INCR", "n")
    assert conn("EXEC") == [b"v", None, 1]
    after = counters(probe)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
    assert conn("CONFIG", "RESETSTAT") == b"OK"
    assert counters(probe) == (0, 0)


def test_a_key_past_its_expiry_is_a_miss(conns):
    conn, probe = conns
    assert conn("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    try:
        when = int(time.time() * 1000) + 50
        conn("SET", "k", "v", "PXAT", str(when))
        wait_until(lambda: time.time() * 1000 > when + 5, what="the key's expiry time")
        before = counters(probe)
        assert conn("GET", "k") is None
        after = counters(probe)
        assert (after[0] - before[0], after[1] - before[1]) == (0, 1)
    finally:
        conn("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_a_miss_raises_the_keymiss_event_except_for_object(conns):
    conn, probe = conns
    sub = Conn(probe.sock.getpeername()[1])
    try:
        assert conn("CONFIG", "SET", "notify-keyspace-events", "Em") == b"OK"
        sub("SUBSCRIBE", "__keyevent@0__:keymiss")
        conn("SET", "s", "1")
        conn("RPUSH", "l", "2", "1")
        for argv in [("GET", "s"), ("GET", "nx"), ("OBJECT", "ENCODING", "nx2"),
                     ("TYPE", "nx3"), ("INCR", "nx4"), ("SORT", "l", "BY", "w_*"),
                     ("MGET", "s", "nx5")]:
            conn(*argv)
        conn("PUBLISH", "__keyevent@0__:keymiss", "end")
        keys = []
        while not keys or keys[-1] != b"end":
            kind, _, key = sub.reply()
            assert kind == b"message"
            keys.append(key)
        assert keys == [b"nx", b"nx3", b"w_2", b"w_1", b"nx5", b"end"]
    finally:
        conn("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()


# A write over a key past its TTL (not yet removed) expires it first, as Redis's lookupKeyWrite
# does: an `expired` event and INFO's expired_keys, then the write's own event. A STORE whose
# result is empty deletes the key as it stands (a `del` event, nothing counted as expired).
# SCAN ... TYPE reads each key to learn its type (counted, and expiring it).
# (command, reply, expired_keys added, keyspace_hits, keyspace_misses, events)
EXPIRED_DEST = [
    ("SET d v2", b"OK", 1, 0, 0, ["expired:d", "set:d"]),
    ("MSET d v2 x y", b"OK", 1, 0, 0, ["expired:d", "set:d", "set:x"]),
    ("SDIFFSTORE d nx nx2", 0, 0, 0, 2, ["del:d"]),
    ("SDIFFSTORE d s1 nx", 1, 1, 1, 1, ["expired:d", "sdiffstore:d"]),
    ("SINTERSTORE d s1 nx", 0, 0, 1, 1, ["del:d"]),
    ("ZUNIONSTORE d 1 z1", 1, 1, 1, 0, ["expired:d", "zunionstore:d"]),
    ("SORT nx STORE d", 0, 0, 0, 1, ["del:d"]),
    ("SORT l1 STORE d", 1, 1, 1, 0, ["expired:d", "sortstore:d"]),
    ("BITOP AND d str", 1, 1, 1, 0, ["expired:d", "set:d"]),
    ("SCAN 0 TYPE set", [b"0", [b"s1"]], 1, 4, 1, ["expired:d"]),
    ("SCAN 0 TYPE none", [b"0", [b"d"]], 1, 4, 1, ["expired:d"]),
]


def test_writes_over_a_key_past_its_ttl(conns):
    conn, probe = conns
    sub = Conn(probe.sock.getpeername()[1])
    assert conn("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"OK"
    try:
        conn("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub("PSUBSCRIBE", "__keyevent@0__:*")
        wrong = []
        for command, reply, expired, hits, misses, events in EXPIRED_DEST:
            conn("FLUSHALL")
            conn("SADD", "s1", "a")
            conn("RPUSH", "l1", "3")
            conn("ZADD", "z1", "1", "a")
            conn("SET", "str", "x")
            conn("SET", "d", "v", "PXAT", "1")
            conn("PUBLISH", "__keyevent@0__:mark", "start")
            while sub.reply()[3] != b"start":  # the setup's events
                pass
            conn("CONFIG", "RESETSTAT")
            got_reply = conn(*command.split())
            conn("PUBLISH", "__keyevent@0__:mark", "end")
            got_events = []
            while (msg := sub.reply())[3] != b"end":
                got_events.append(f"{msg[2].decode().split(':')[1]}:{msg[3].decode()}")
            text = probe("INFO", "stats").decode()
            fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
            got = (got_reply, int(fields["expired_keys"]), int(fields["keyspace_hits"]),
                   int(fields["keyspace_misses"]), got_events)
            if got != (reply, expired, hits, misses, events):
                wrong.append((command, got))
        assert not wrong
    finally:
        conn("CONFIG", "SET", "notify-keyspace-events", "")
        conn("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        sub.close()


def test_avg_ttl_and_the_active_cycle_stats(conns):
    conn, probe = conns
    for i in range(20):
        conn("SET", f"k{i}", "v", "EX", "100")

    def avg_ttl() -> int:
        line = probe("INFO", "keyspace").decode().split("db0:")[1].split()[0]
        return int(dict(f.split("=") for f in line.split(","))["avg_ttl"])

    # The active cycle's running average of the TTLs it samples (ms), from 0
    ttl = wait_until(avg_ttl, what="an avg_ttl from the active expiry cycle")
    assert 0 < ttl <= 100_000
    text = probe("INFO", "stats").decode()
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    assert float(fields["expired_stale_perc"]) >= 0.0
    assert int(fields["expired_time_cap_reached_count"]) >= 0
    assert int(fields["expire_cycle_cpu_milliseconds"]) >= 0
