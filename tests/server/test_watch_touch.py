"""Which keys a write touches, seen through WATCH (Redis's signalModifiedKey).

A write that names several keys touches only those it changed: a STORE's destination, not its
sources; DEL's keys that existed; the key a multi-key pop popped from; SMOVE's destination
only when it gained the member. Keys already expired when WATCHed are absent for FLUSHDB and
SWAPDB (Redis 7.0's touchAllWatchedKeysInDb). Each case runs on kvstore and redis-server.
"""

from __future__ import annotations

import pytest

from .helpers import Conn


def _setup(c) -> None:
    c("SADD", "s1", "a", "b")
    c("SADD", "s2", "b", "c")
    c("SADD", "dst", "a")
    c("ZADD", "z1", "1", "a", "2", "b")
    c("ZADD", "z2", "1", "b")
    c("SET", "b1", "ab")
    c("SET", "b2", "cd")
    c("PFADD", "h1", "x", "y")
    c("RPUSH", "l", "3", "1", "2")
    c("GEOADD", "g", "0.1", "0.1", "p")


def _exec_after(c, watched: str, *write) -> object:
    c("WATCH", watched)
    other = Conn(c.sock.getpeername()[1])
    other(*write)
    other.close()
    c("MULTI")
    c("PING")
    return c("EXEC")


# (watched key, write): the write changes other keys than the watched one, or none.
UNTOUCHED = [
    ("s1", ("SINTERSTORE", "d", "s1", "s2")),
    ("s2", ("SUNIONSTORE", "d", "s1", "s2")),
    ("s1", ("SDIFFSTORE", "d", "s1", "s2")),
    ("z1", ("ZUNIONSTORE", "d", "2", "z1", "z2")),
    ("z2", ("ZINTERSTORE", "d", "2", "z1", "z2")),
    ("z1", ("ZDIFFSTORE", "d", "2", "z1", "z2")),
    ("z1", ("ZRANGESTORE", "d", "z1", "0", "-1")),
    ("b1", ("BITOP", "AND", "d", "b1", "b2")),
    ("h1", ("PFMERGE", "d", "h1")),
    ("l", ("SORT", "l", "STORE", "d")),
    ("g", ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "100", "km")),
    ("g", ("GEORADIUS", "g", "0", "0", "100", "km", "STORE", "d")),
    ("dst", ("SMOVE", "s1", "dst", "a")),  # dst already holds "a"
    ("absent", ("DEL", "b1", "absent")),
    ("absent", ("UNLINK", "absent", "b2")),
    ("absent", ("LMPOP", "2", "absent", "l", "LEFT")),
    ("absent", ("BLPOP", "absent", "l", "0")),
    ("absent", ("BLMPOP", "0", "2", "absent", "l", "RIGHT")),
    ("absent", ("ZMPOP", "2", "absent", "z1", "MIN")),
    ("absent", ("BZPOPMIN", "absent", "z1", "0")),
    ("absent", ("BZMPOP", "0", "2", "absent", "z2", "MAX")),
    # a sparse HLL made dense: logged, but Redis signals no change
    ("h1", ("PFDEBUG", "TODENSE", "h1")),
    ("h1", ("PFDEBUG", "GETREG", "h1")),
]

# (watched key, write): the write changed the watched key.
TOUCHED = [
    ("d", ("SINTERSTORE", "d", "s1", "s2")),
    ("d", ("ZRANGESTORE", "d", "z1", "0", "-1")),
    ("d", ("SORT", "l", "STORE", "d")),
    ("s1", ("SMOVE", "s1", "dst", "a")),
    ("dst", ("SMOVE", "s1", "dst", "b")),  # dst gains "b"
    ("b1", ("DEL", "b1", "absent")),
    ("l", ("LMPOP", "2", "absent", "l", "LEFT")),
    ("z1", ("BZPOPMIN", "absent", "z1", "0")),
    ("l", ("LTRIM", "l", "0", "-1")),  # trims nothing, still a signal in Redis
]


@pytest.mark.parametrize("watched,write", UNTOUCHED, ids=lambda x: x if isinstance(x, str)
                         else " ".join(x))
def test_write_leaves_other_keys_untouched(c, watched, write):
    _setup(c)
    assert _exec_after(c, watched, *write) == [b"PONG"]


@pytest.mark.parametrize("watched,write", TOUCHED, ids=lambda x: x if isinstance(x, str)
                         else " ".join(x))
def test_write_touches_the_keys_it_changed(c, watched, write):
    _setup(c)
    assert _exec_after(c, watched, *write) is None


def test_served_blocked_pop_touches_only_the_popped_key(c):
    waiter = Conn(c.sock.getpeername()[1])
    waiter.send(Conn.encode("BLPOP", "q1", "q2", "0"))
    c("WATCH", "q1")
    while c("CLIENT", "LIST", "TYPE", "normal").count(b"cmd=blpop") != 1:
        pass  # until the waiter is blocked
    c("RPUSH", "q2", "x")  # served at once: pops q2 only
    assert waiter.reply() == [b"q2", b"x"]
    waiter.close()
    c("MULTI")
    c("PING")
    assert c("EXEC") == [b"PONG"]


@pytest.fixture
def no_active_expiry(c):
    c("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    yield
    c("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def _exec_ping(c):
    c("MULTI")
    c("PING")
    return c("EXEC")


def test_flushdb_of_a_stale_watched_key_is_no_change(c, no_active_expiry):
    c("SET", "x", "v", "PX", "1")
    c("DEBUG", "SLEEP", "0.01")
    c("WATCH", "x")
    c("FLUSHDB")
    assert _exec_ping(c) == [b"PONG"]


@pytest.mark.parametrize("here,there,result", [
    ("stale", None, [b"PONG"]),     # a stale key goes away
    (None, "stale", [b"PONG"]),     # an absent key is replaced by a stale one
    ("stale", "stale", [b"PONG"]),  # a stale key is replaced by another
    ("stale", "live", None),
    (None, "live", None),
])
def test_swapdb_and_stale_watched_keys(c, no_active_expiry, here, there, result):
    if here == "stale":
        c("SET", "x", "v", "PX", "1")
    if there == "stale":
        c("SELECT", "1")
        c("SET", "x", "w", "PX", "1")
        c("SELECT", "0")
    elif there == "live":
        c("SELECT", "1")
        c("SET", "x", "w")
        c("SELECT", "0")
    c("DEBUG", "SLEEP", "0.01")
    c("WATCH", "x")
    c("SWAPDB", "0", "1")
    assert _exec_ping(c) == result
    c("FLUSHALL")


def test_a_watch_of_many_keys_still_tracks_each(server):
    """20,000 watched keys (WATCH finds an entry in O(1): 6.2 s -> 0.1 s for these WATCHes):
    a write to any one of them, and only a write, fails EXEC."""
    c = Conn(server.port)
    other = Conn(server.port)
    keys = [f"w:{i}" for i in range(20000)]
    for start in range(0, len(keys), 1000):
        assert c("WATCH", *keys[start:start + 1000]) == b"OK"
    assert c("WATCH", "w:7") == b"OK"  # again: no second entry
    assert other("SET", "unwatched", "1") == b"OK"
    assert c("MULTI") == b"OK" and c("PING") == b"QUEUED"
    assert c("EXEC") == [b"PONG"]
    for start in range(0, len(keys), 1000):
        c("WATCH", *keys[start:start + 1000])
    assert other("SET", "w:19999", "1") == b"OK"
    assert c("MULTI") == b"OK" and c("PING") == b"QUEUED"
    assert c("EXEC") is None
    other("DEL", "w:19999", "unwatched")
