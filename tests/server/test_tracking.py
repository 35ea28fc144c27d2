"""CLIENT TRACKING (client-side caching), black-box against kvstore AND redis-server: the exact
bytes of invalidation pushes and where they fall among the replies, RESP2 redirection, BCAST,
OPTIN/OPTOUT, NOLOOP, flushes, expiry, the table limit, errors, and redis-py's cache."""

from __future__ import annotations

import time

import pytest
import redis
from redis.cache import CacheConfig
from redis.connection import CacheProxyConnection

from .helpers import Conn, err


def inv(*keys: bytes) -> bytes:
    """A RESP3 invalidation push of keys."""
    return b">2\r\n$10\r\ninvalidate\r\n*%d\r\n" % len(keys) + b"".join(
        b"$%d\r\n%b\r\n" % (len(k), k) for k in keys)


INV_ALL3 = b">2\r\n$10\r\ninvalidate\r\n_\r\n"
MESSAGE = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"


def conn(server, resp: int = 3) -> Conn:
    c = Conn(server.port)
    if resp == 3:
        c("HELLO", "3")
    return c


# A marker command: its reply comes after everything the server sent the connection before it
# (replies, and the pushes a key change queued), so waiting for it is waiting on a condition.
_MARK = ("ECHO", "end-of-output")
_MARK_REPLY = b"$13\r\nend-of-output\r\n"
_SUBSCRIBED_PONG = b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"  # PING in RESP2 subscribed mode


def pending(c: Conn, subscribed: bool = False) -> bytes:
    """What the server sent `c` before the reply of a marker sent now."""
    c.send(Conn.encode("PING") if subscribed else Conn.encode(*_MARK))
    mark = _SUBSCRIBED_PONG if subscribed else _MARK_REPLY
    out = c.read_raw(until=mark)
    assert out.endswith(mark), out
    return out[:-len(mark)]


def pipe(c: Conn, *commands) -> bytes:
    """Send commands and the marker in one write: what came back before the marker's reply.
    (Not for BCAST, whose pushes leave at the end of the loop iteration: see `expect`.)"""
    c.send(b"".join(Conn.encode(*cmd) for cmd in commands) + Conn.encode(*_MARK))
    out = c.read_raw(until=_MARK_REPLY)
    assert out.endswith(_MARK_REPLY), out
    return out[:-len(_MARK_REPLY)]


def expect(c: Conn, want: bytes) -> None:
    """The next bytes from the server are `want` (waited for), and nothing follows them."""
    assert c.read_raw(until=want) == want
    assert pending(c) == b""


def gone(c: Conn, cid: int) -> None:
    """Wait until the server has dropped client `cid`."""
    deadline = time.monotonic() + 5
    while c("CLIENT", "LIST", "ID", cid):
        assert time.monotonic() < deadline, "the client is still connected"
        time.sleep(0.005)


def client_id(c: Conn) -> int:
    return c("CLIENT", "ID")


def test_own_writes_are_invalidated_after_their_reply(server, c):
    a = conn(server)
    assert a("CLIENT", "TRACKING", "ON") == b"OK"
    out = pipe(a, ["GET", "k"], ["SET", "k", "1"], ["GET", "k"], ["SET", "k", "2"], ["GET", "k"],
               ["DEL", "k"], ["PING"])
    assert out == (b"_\r\n+OK\r\n" + inv(b"k") + b"$1\r\n1\r\n+OK\r\n" + inv(b"k")
                   + b"$1\r\n2\r\n:1\r\n" + inv(b"k") + b"+PONG\r\n")
    # In a transaction, after the EXEC reply as a whole.
    out = pipe(a, ["GET", "m"], ["MULTI"], ["GET", "m"], ["SET", "m", "1"], ["EXEC"], ["PING"])
    assert out == (b"_\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n_\r\n+OK\r\n" + inv(b"m")
                   + b"+PONG\r\n")
    a.close()


def test_other_clients_writes(server, c):
    a = conn(server)
    a("CLIENT", "TRACKING", "ON")
    assert pipe(a, ["MGET", "k1", "k2"], ["STRLEN", "k3"], ["GETDEL", "w"]) == (
        b"*2\r\n_\r\n_\r\n:0\r\n_\r\n")
    assert c("MSET", "k2", "x", "k1", "y", "w", "z") == b"OK"
    # One push per key, in the order the write names them; a write-flagged read (GETDEL) is
    # not tracked; a key is forgotten once invalidated.
    expect(a, inv(b"k2") + inv(b"k1"))
    c("SET", "k1", "again")
    c("SET", "k3", "1")
    expect(a, inv(b"k3"))
    # A key is a name: reading it in db 0 tracks it in every db. SWAPDB invalidates nothing.
    a("GET", "k9")
    c("SELECT", "1")
    c("SET", "k9", "1")
    expect(a, inv(b"k9"))
    a("GET", "k1")
    c("SWAPDB", "0", "1")
    assert pending(a) == b""
    a.close()


def test_scripts_track_their_declared_keys_once_they_read(server, c):
    # Redis 7.0: when a script runs a read-only command, its caller remembers the keys the
    # script declared (not the keys the command read); a script that reads nothing, EVAL_RO
    # included, is not tracked.
    a = conn(server)
    a("CLIENT", "TRACKING", "ON")
    assert a("EVAL", "return redis.call('get', 'inside')", "0") is None
    assert a("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "declared") is None
    assert a("EVAL", "return redis.call('get', KEYS[1])", "1", "evaled") is None
    assert a("EVAL_RO", "return 1", "1", "unread") == 1
    assert a("EVAL", "redis.call('set', 'w', 1) return 1", "1", "written") == 1
    for key in ("inside", "declared", "evaled", "unread", "written"):
        c("SET", key, "1")
    expect(a, inv(b"declared") + inv(b"evaled"))
    a.close()


def test_flush_sends_a_null_to_every_tracking_client(server, c):
    a, b = conn(server), conn(server)
    a("CLIENT", "TRACKING", "ON")
    b("CLIENT", "TRACKING", "ON", "BCAST")
    assert pipe(a, ["FLUSHDB"], ["PING"]) == b"+OK\r\n" + INV_ALL3 + b"+PONG\r\n"
    expect(b, INV_ALL3)
    c("FLUSHALL")
    expect(a, INV_ALL3)
    expect(b, INV_ALL3)
    a.close()
    b.close()


def test_resp2_redirect_to_a_subscriber(server, c):
    r = Conn(server.port)
    rid = client_id(r)
    assert r("SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    a = conn(server, resp=2)
    assert a("CLIENT", "TRACKING", "ON", "REDIRECT", rid) == b"OK"
    a("GET", "k")
    c("SET", "k", "1")
    assert pending(r, subscribed=True) == MESSAGE + b"*1\r\n$1\r\nk\r\n"
    c("FLUSHALL")  # the null of the tracking client's protocol
    assert pending(r, subscribed=True) == MESSAGE + b"$-1\r\n"
    a("HELLO", "3")
    c("FLUSHALL")
    assert pending(r, subscribed=True) == MESSAGE + b"_\r\n"
    # RESP2 without redirection: tracked, but nothing can be sent.
    d = conn(server, resp=2)
    d("CLIENT", "TRACKING", "ON")
    d("GET", "x")
    c("SET", "x", "1")
    assert pending(d) == b""
    for x in (r, a, d):
        x.close()


def test_redirect_to_a_resp3_client_and_broken_redirect(server, c):
    r = conn(server)
    rid = client_id(r)
    a = conn(server)
    aid = client_id(a)
    a("CLIENT", "TRACKING", "ON", "REDIRECT", rid)
    a("GET", "k")
    c("SET", "k", "1")
    expect(r, inv(b"k"))
    assert pending(a) == b""
    assert a("CLIENT", "GETREDIR") == rid
    r.close()
    gone(c, rid)
    a("GET", "k")
    c("SET", "k", "2")
    expect(a, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % rid)
    assert a("CLIENT", "TRACKINGINFO") == {b"flags": [b"on", b"broken_redirect"],
                                           b"redirect": rid, b"prefixes": []}
    line = a("CLIENT", "LIST", "ID", aid).decode()
    assert " flags=tR " in line and f" redir={rid} " in line
    a("CLIENT", "TRACKING", "ON")  # re-enabling clears the redirection
    assert " flags=t " in a("CLIENT", "INFO").decode()
    a.close()


def test_bcast_prefixes(server, c):
    a = conn(server)
    assert a("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "b") == b"OK"
    # Sent at the end of the event-loop iteration: after the replies, one push per prefix
    # (in prefix order) with its keys sorted and once each.
    a.send(Conn.encode("SET", "user:1", "x") + Conn.encode("SET", "other", "1"))
    expect(a, b"+OK\r\n+OK\r\n" + inv(b"user:1"))
    c("MSET", "user:2", "x", "zz", "1", "b3", "1", "user:0", "1", "user:2", "y")
    expect(a, inv(b"b3") + inv(b"user:0", b"user:2"))
    # NOLOOP: not the keys the client changed itself. Prefixes add up.
    a("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP", "PREFIX", "c")
    assert pipe(a, ["SET", "user:9", "1"], ["SET", "c1", "1"]) == b"+OK\r\n+OK\r\n"
    c("SET", "c2", "1")
    expect(a, inv(b"c2"))
    assert a("CLIENT", "TRACKINGINFO") == {
        b"flags": [b"on", b"bcast", b"noloop"], b"redirect": 0,
        b"prefixes": [b"b", b"c", b"user:"]}
    assert " flags=tB " in a("CLIENT", "INFO").decode()
    info = c("INFO", "stats").decode()
    assert "tracking_total_prefixes:3\r\n" in info
    a.close()


def test_writes_that_change_nothing_by_redis_signals(server, c):
    """What a tracker hears is what Redis signals (what breaks a WATCH), not what changed: an
    LTRIM that keeps every element is a signal, a PFDEBUG that turns an HLL dense is not."""
    c("RPUSH", "l", "a", "b")
    c("PFADD", "h", "x")
    a = conn(server)
    a("CLIENT", "TRACKING", "ON", "BCAST")
    c("LTRIM", "l", "0", "-1")
    expect(a, inv(b"l"))
    assert c("PFDEBUG", "TODENSE", "h") == 1
    assert c("PFDEBUG", "GETREG", "h")[:1] == [0]
    c("SET", "after", "1")
    expect(a, inv(b"after"))
    a.close()


def test_noloop(server, c):
    a = conn(server)
    a("CLIENT", "TRACKING", "ON", "NOLOOP")
    assert pipe(a, ["GET", "k"], ["SET", "k", "1"], ["GET", "k"]) == b"_\r\n+OK\r\n$1\r\n1\r\n"
    c("SET", "k", "2")
    expect(a, inv(b"k"))
    assert pipe(a, ["FLUSHALL"]) == b"+OK\r\n" + INV_ALL3  # a flush is not a key change
    a.close()


def test_optin_optout(server, c):
    a = conn(server)
    a("CLIENT", "TRACKING", "ON", "OPTIN")
    pipe(a, ["GET", "k1"], ["CLIENT", "CACHING", "YES"], ["CLIENT", "ID"], ["GET", "k2"],
         ["GET", "k3"], ["CLIENT", "CACHING", "YES"], ["PING"], ["GET", "k4"])
    c("MSET", "k1", "1", "k2", "1", "k3", "1", "k4", "1")
    expect(a, inv(b"k2"))
    # YES before MULTI covers the whole transaction, and no more.
    pipe(a, ["CLIENT", "CACHING", "YES"], ["MULTI"], ["GET", "k1"], ["GET", "k2"], ["EXEC"],
         ["GET", "k3"])
    c("MSET", "k1", "1", "k2", "1", "k3", "1")
    expect(a, inv(b"k1") + inv(b"k2"))
    a("CLIENT", "CACHING", "YES")
    assert a("CLIENT", "TRACKINGINFO")[b"flags"] == [b"on", b"optin", b"caching-yes"]
    a("PING")
    assert a("CLIENT", "TRACKINGINFO")[b"flags"] == [b"on", b"optin"]
    a("CLIENT", "TRACKING", "OFF")
    a("CLIENT", "TRACKING", "ON", "OPTOUT")
    pipe(a, ["GET", "k1"], ["CLIENT", "CACHING", "NO"], ["GET", "k2"], ["GET", "k3"])
    c("MSET", "k1", "1", "k2", "1", "k3", "1")
    expect(a, inv(b"k1") + inv(b"k3"))
    a.close()


def test_expiry_invalidates(server, c):
    a = conn(server)
    a("CLIENT", "TRACKING", "ON")
    # Active expiry.
    assert pipe(a, ["SET", "e", "1", "PX", "20"], ["GET", "e"]) == b"+OK\r\n$1\r\n1\r\n"
    expect(a, inv(b"e"))
    # Lazy: the client's own read finds it expired: the push follows that read's reply, and
    # the key is tracked again.
    c("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        assert pipe(a, ["SET", "e", "1", "PX", "20"], ["GET", "e"]) == b"+OK\r\n$1\r\n1\r\n"
        time.sleep(0.1)  # past its 20 ms TTL (no one may look at it meanwhile)
        assert pipe(a, ["GET", "e"], ["PING"]) == b"_\r\n" + inv(b"e") + b"+PONG\r\n"
        c("SET", "e", "2")
        expect(a, inv(b"e"))
    finally:
        c("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    a.close()


def test_table_limit_evicts_keys(server, c):
    a = conn(server)
    c("CONFIG", "SET", "tracking-table-max-keys", "2")
    try:
        a("CLIENT", "TRACKING", "ON")
        a.send(b"".join(Conn.encode("GET", k) for k in ("a1", "a2", "a3", "a4")))
        out = b""
        deadline = time.monotonic() + 5
        while out.count(b"invalidate") < 2:  # dropped at the end of the batch
            assert time.monotonic() < deadline, out
            out += a.read_raw(timeout=0.05)
        out += pending(a)
        assert out.count(b"invalidate") == 2  # two of the four, picked at random
        info = c("INFO", "stats").decode()
        assert "tracking_total_keys:2\r\n" in info and "tracking_total_items:2\r\n" in info
    finally:
        c("CONFIG", "SET", "tracking-table-max-keys", "1000000")
    a.close()


def tracking_clients(c: Conn) -> int:
    return int(c("INFO", "clients").decode().split("tracking_clients:")[1].split("\r")[0])


def test_state_counters_and_cleanup(server, c):
    before = tracking_clients(c)
    a = conn(server, resp=2)
    aid = client_id(a)
    assert a("CLIENT", "TRACKINGINFO") == [b"flags", [b"off"], b"redirect", -1, b"prefixes", []]
    assert a("CLIENT", "GETREDIR") == -1
    assert " redir=-1 " in a("CLIENT", "LIST", "ID", aid).decode()
    a("CLIENT", "TRACKING", "ON")
    assert a("CLIENT", "GETREDIR") == 0
    line = a("CLIENT", "LIST", "ID", aid).decode()
    assert " flags=t " in line and " redir=0 " in line
    assert tracking_clients(c) == before + 1
    a("GET", "x")
    assert a("RESET") == b"RESET"
    assert a("CLIENT", "TRACKINGINFO")[1] == [b"off"]
    assert tracking_clients(c) == before
    # Turning tracking off leaves the client's keys in the table, as Redis does.
    assert "tracking_total_keys:1\r\n" in c("INFO", "stats").decode()
    a("CLIENT", "TRACKING", "ON")
    a.close()
    gone(c, aid)
    assert tracking_clients(c) == before


def test_errors(server, c):
    other = client_id(c)
    cases = [
        (["CLIENT", "TRACKING"], "ERR wrong number of arguments for 'client|tracking' command"),
        (["CLIENT", "TRACKING", "maybe"], "ERR syntax error"),
        (["CLIENT", "TRACKING", "on", "redirect"], "ERR syntax error"),
        (["CLIENT", "TRACKING", "on", "redirect", "abc", "bogus"],
         "ERR value is not an integer or out of range"),
        (["CLIENT", "TRACKING", "on", "bogus", "redirect", "abc"], "ERR syntax error"),
        (["CLIENT", "TRACKING", "on", "redirect", "999999"],
         "ERR The client ID you want redirect to does not exist"),
        (["CLIENT", "TRACKING", "on", "redirect", "0"],
         "ERR The client ID you want redirect to does not exist"),
        (["CLIENT", "TRACKING", "on", "redirect", other, "redirect", "abc"],
         "ERR A client can only redirect to a single other client"),
        (["CLIENT", "TRACKING", "on", "optin", "prefix", "x"],
         "ERR PREFIX option requires BCAST mode to be enabled"),
        (["CLIENT", "TRACKING", "on", "prefix", "x", "optin", "optout", "bcast"],
         "ERR OPTIN and OPTOUT are not compatible with BCAST"),
        (["CLIENT", "TRACKING", "on", "optin", "optout"],
         "ERR You can't specify both OPTIN mode and OPTOUT mode"),
        (["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"],
         "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single "
         "client must not overlap."),
        (["CLIENT", "TRACKING", "maybe", "optin", "optout"], "ERR syntax error"),
        (["CLIENT", "CACHING", "yes"], "ERR CLIENT CACHING can be called only when the client "
         "is in tracking mode with OPTIN or OPTOUT mode enabled"),
        (["CLIENT", "CACHING"], "ERR wrong number of arguments for 'client|caching' command"),
        (["CLIENT", "GETREDIR", "x"],
         "ERR wrong number of arguments for 'client|getredir' command"),
        (["CLIENT", "TRACKINGINFO", "x"],
         "ERR wrong number of arguments for 'client|trackinginfo' command"),
    ]
    for args, text in cases:
        assert err(c(*args)) == text, args
    assert c("CLIENT", "TRACKING", "off", "optin", "optout", "prefix", "x") == b"OK"
    c("CLIENT", "TRACKING", "on")
    for args, text in [
        (["CLIENT", "CACHING", "yes"],
         "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."),
        (["CLIENT", "CACHING", "no"],
         "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."),
        (["CLIENT", "CACHING", "maybe"], "ERR syntax error"),
        (["CLIENT", "TRACKING", "on", "bcast", "optin"],
         "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
         "and then re-enabling it with a different mode."),
    ]:
        assert err(c(*args)) == text, args
    c("CLIENT", "TRACKING", "on", "optin")
    assert err(c("CLIENT", "TRACKING", "on", "optout")) == (
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and "
        "then re-enabling it with a different mode.")
    c("CLIENT", "TRACKING", "off")
    c("CLIENT", "TRACKING", "on", "bcast", "prefix", "a")
    assert err(c("CLIENT", "TRACKING", "on", "bcast", "prefix", "ab")) == (
        "ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client "
        "must not overlap.")
    c("CLIENT", "TRACKING", "off")


def test_client_help_lists_tracking_in_redis_order(server, c):
    lines = [line.decode() for line in c("CLIENT", "HELP")]
    assert lines[1:5] == [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled."]
    at = lines.index("TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]")
    assert lines[at - 2].startswith("UNBLOCK ")
    assert lines[at + 1:at + 5] == [
        "         [OPTIN] [OPTOUT] [NOLOOP]", "    Control server assisted client side caching.",
        "TRACKINGINFO", "    Report tracking status for the current connection."]
    assert lines.index("NO-EVICT (ON|OFF)") > at


def test_redis_py_client_side_cache(server, c, monkeypatch):
    # redis-py enables its cache only for servers reporting 7.4 or later; the tracking it
    # relies on is 6.0's, which both servers here have.
    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")
    cached = redis.Redis(port=server.port, protocol=3, cache_config=CacheConfig())
    other = redis.Redis(port=server.port)
    try:
        other.set("foo", "bar")
        assert cached.get("foo") == b"bar"
        before = other.info("stats")["total_commands_processed"]
        assert cached.get("foo") == b"bar"  # served from the local cache
        assert other.info("stats")["total_commands_processed"] == before + 1  # (the INFO)
        other.set("foo", "baz")
        deadline = time.monotonic() + 5
        while cached.get("foo") != b"baz":  # once the invalidation push has come in
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        cached.close()
        other.close()


def test_a_served_blocking_move_invalidates_its_own_destination_after_the_reply(server, c):
    b = conn(server)
    b("CLIENT", "TRACKING", "ON")
    assert b("GET", "dst") is None
    b.send(Conn.encode("BLMOVE", "src", "dst", "LEFT", "LEFT", "0"))
    while b"cmd=blmove" not in c("CLIENT", "LIST", "TYPE", "normal"):
        pass  # until b is blocked
    c("RPUSH", "src", "foo")
    expect(b, b"$3\r\nfoo\r\n" + inv(b"dst"))
    b.close()


def test_an_eviction_before_a_command_is_invalidated_before_its_reply(server, c):
    # Redis evicts before it runs the command, so even the client whose command made room is
    # told first (tracking.tcl's "eviction keys should be before response").
    a = conn(server)
    a("CLIENT", "TRACKING", "ON")
    policy = c("CONFIG", "GET", "maxmemory-policy")[1]
    try:
        assert pipe(a, ["SETEX", "volatile-key", "10000", "x"], ["GET", "volatile-key"]) \
            == b"+OK\r\n$1\r\nx\r\n"
        c("CONFIG", "SET", "maxmemory-policy", "volatile-random")
        # Headroom for Redis's client buffers, which used_memory counts and which move by tens
        # of KB as these connections are used; the 400 KB string is over it whatever they do.
        info = c("INFO", "memory").decode()
        c("CONFIG", "SET", "maxmemory", int(info.split("used_memory:")[1].split()[0]) + 200_000)
        # (in one write: the marker `pipe` adds after them would make room too)
        assert pipe(a, ["SETBIT", "big-key", "3200000", "0"], ["GETBIT", "big-key", "0"]) \
            == b":0\r\n" + inv(b"volatile-key") + b":0\r\n"
        assert c("EXISTS", "volatile-key") == 0
    finally:
        c("CONFIG", "SET", "maxmemory", 0)
        c("CONFIG", "SET", "maxmemory-policy", policy)
        c("DEL", "big-key")
        a.close()


def test_a_swapdb_that_serves_a_blocked_pop_signals_only_a_moves_destination(server, c):
    # Redis signals a popped list when it was written, not when a blocked client is served
    # from it; SWAPDB signals nothing, so only what a BLMOVE pushes to is invalidated. A
    # zset pop signals its key (the next test).
    a = conn(server)
    a("CLIENT", "TRACKING", "ON", "BCAST")
    movers = [Conn(server.port) for _ in range(3)]
    for i, command in enumerate([("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"),
                                 ("BLPOP", "src", "0"), ("BRPOP", "src", "0")]):
        movers[i].send(Conn.encode(*command))
        while c("CLIENT", "LIST", "TYPE", "normal").count(b" flags=b ") <= i:
            pass  # until it is blocked: they are served in that order
    c("SELECT", "1")
    c("RPUSH", "src", "x", "y", "z")
    expect(a, inv(b"src"))  # (a key is a name, whatever its database)
    c("SWAPDB", "0", "1")
    assert movers[0].reply() == b"x"
    assert movers[1].reply() == [b"src", b"y"]
    assert movers[2].reply() == [b"src", b"z"]
    expect(a, inv(b"dst"))
    for m in movers:
        m.close()
    a.close()


@pytest.mark.parametrize("pop,push,reply", [
    (("BZPOPMIN", "z", "0"), ("ZADD", "z", "1", "m", "2", "n"), [b"z", b"m", b"1"]),
    # Redis 7.0's BLMPOP serve pops through listElementsRemoved, which signals the key
    (("BLMPOP", "0", "1", "z", "LEFT", "COUNT", "2"), ("RPUSH", "z", "a", "b", "c"),
     [b"z", [b"a", b"b"]]),
], ids=["zset pop", "blmpop"])
def test_a_swapdb_that_serves_these_pops_signals_their_key(server, c, pop, push, reply):
    a = conn(server)
    a("CLIENT", "TRACKING", "ON", "BCAST")
    popper = Conn(server.port)
    popper.send(Conn.encode(*pop))
    while b" flags=b " not in c("CLIENT", "LIST", "TYPE", "normal"):
        pass  # until it is blocked
    c("SELECT", "1")
    c(*push)
    expect(a, inv(b"z"))
    c("SWAPDB", "0", "1")
    assert popper.reply() == reply
    expect(a, inv(b"z"))
    popper.close()
    a.close()


@pytest.mark.parametrize("cmd", [("LMOVE", "src", "dst", "LEFT", "RIGHT"),
                                 ("RPOPLPUSH", "src", "dst"),
                                 ("BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")])
def test_a_move_invalidates_its_destination_first(server, c, cmd):
    # Redis signals the destination as it pushes (lmoveHandlePush), then the source
    c("RPUSH", "src", "a", "b")
    c("RPUSH", "dst", "x")
    a = conn(server)
    a("CLIENT", "TRACKING", "ON")
    assert a("LRANGE", "src", "0", "-1") == [b"a", b"b"] and a("LLEN", "dst") == 1
    c(*cmd)
    expect(a, inv(b"dst") + inv(b"src"))
    a.close()
