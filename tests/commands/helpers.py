"""Helpers shared by the command tests.

`same` compares a redis-py method on the real Redis with the same method on kvstore's embedded
Store (the `pair` fixture of conftest.py), by their `method_outcome`: results, or errors by their
text without Redis's "ERR " prefix. `same_keyspace` and `ttl_close` compare keys through the `both`
fixture; `keyevent_streams` runs a command sequence on both and returns the two keyspace-event
streams.
"""

from __future__ import annotations

import socket

import hiredis
import redis

from kvstore.engine import encoding_of
from kvstore.errors import DataError, ResponseError


def method_outcome(target, method, *args, **kwargs):
    """('ok', result), ('err', text without Redis's "ERR " prefix) or ('data', text)."""
    try:
        return ("ok", getattr(target, method)(*args, **kwargs))
    except (redis.ResponseError, ResponseError) as exc:
        text = str(exc)
        return ("err", text[4:] if text.startswith("ERR ") else text)
    except (redis.DataError, DataError) as exc:
        return ("data", str(exc))


def same(pair, method, *args, _sort=False, **kwargs):
    """Call a method on redis-py (real Redis) and on kvstore; results or errors must agree
    (`_sort`: as sorted lists, for replies in hash order)."""
    results = [method_outcome(target, method, *args, **kwargs) for target in pair]
    if _sort:
        results = [(kind, sorted(value) if kind == "ok" else value) for kind, value in results]
    assert results[0] == results[1], f"{method}{args}{kwargs}: {results}"
    return results[0][1]


def same_keyspace(both, *keys):
    """Each key exists on both sides or on neither, with the same OBJECT ENCODING."""
    data = both.store.keyspace.dbs[0].data
    for key in keys:
        k = key.encode() if isinstance(key, str) else key
        exists = both.oracle.execute("EXISTS", key)
        assert (k in data) == bool(exists), key
        if exists:
            assert encoding_of(data[k]) == both.oracle.execute("OBJECT", "ENCODING", key), key


def ttl_close(both, key):
    """TTLs agree (the two servers' clocks differ by the round trip, so PTTL is approximate)."""
    want = both.oracle.execute("PTTL", key)
    got = both.store.execute("PTTL", key)
    assert (want < 0 and got == want) or (want >= 0 and abs(want - got) < 1000), (key, want, got)


def keyevent_streams(redis_server, oracle, store, flags: str, seq):
    """Run `seq` on Redis (with notify-keyspace-events `flags`) and on kvstore; return
    (kvstore's recorded (class, event, key) list, Redis's __keyevent@0__ (event, key) list)."""
    sub = socket.create_connection(("127.0.0.1", redis_server))
    reader = hiredis.Reader()

    def send(*args):
        argv = [str(a).encode() for a in args]
        sub.sendall(b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a)
                                                      for a in argv))

    def read():
        while True:
            msg = reader.gets()
            if msg is not False:
                return msg
            reader.feed(sub.recv(1 << 16))

    oracle.execute("CONFIG", "SET", "notify-keyspace-events", flags)
    try:
        send("PSUBSCRIBE", "__keyevent@0__:*", "done")
        read(), read()
        events = []
        # (the server's notifier drops the classes `flags` leave out; of those only the
        # keymiss class "m", which no flags here enable, is raised by these sequences)
        store._ctx.notify = lambda cls, event, key: cls == "m" or events.append(
            (cls, event, key))
        for args in seq:
            oracle.execute(*args)
            store.execute(*args)
        oracle.execute("PUBLISH", "done", "x")
        want = []
        while True:
            msg = read()
            if msg[2] == b"done":
                break
            want.append((msg[2].split(b":", 1)[1].decode(), msg[3]))
        return events, want
    finally:
        oracle.execute("CONFIG", "SET", "notify-keyspace-events", "")
        sub.close()


class Recorder:
    """Stands in for a client: records the argv a method (redis-py's or kvstore's) builds."""

    def execute_command(self, *args, **options):
        self.args = args
        return True


def argv_of(method, *args, **kwargs):
    """The argv `method` (unbound: redis.Redis.pexpire, kvstore.Store.pexpire) would send."""
    rec = Recorder()
    method(rec, *args, **kwargs)
    return rec.args
