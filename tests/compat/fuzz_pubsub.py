"""Pub/sub in the wire fuzz (`--subscribers N`): N subscriber connections per server and one
publisher, driven by their own random stream beside the command stream, the same on both
servers.

Now and then, before a stream command, one action (each reply compared between the servers):

* a subscriber sends SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE or
  SUNSUBSCRIBE with zero to three channels or patterns, or a command that its mode may refuse
  (GET, PING with a message), or RESET; everything it got back up to a PING's reply (the
  barrier: a server answers a connection in order) is compared;
* the publisher sends PUBLISH or SPUBLISH of a numbered message (the count of receivers is
  compared), then every subscriber's messages are read up to a PING's reply and compared (as
  a set: Redis sends the pmessages of several patterns in its pattern table's order);
* the publisher asks PUBSUB CHANNELS [pattern], NUMSUB, NUMPAT, SHARDCHANNELS or SHARDNUMSUB
  (CHANNELS and SHARDCHANNELS as sets: their order is a hash table's).

Channels and patterns come from small alphabets full of glob edge cases (escapes, classes,
ranges, `^`, unterminated brackets, empty names), so pattern matching is compared too.
Subscribers speak RESP2 (even ones) and RESP3 (odd ones), where pushes and replies interleave.
The keyspace-event connection of --notify is a receiver too: it counts in PUBLISH's reply.
"""

from __future__ import annotations

import random
from collections import Counter

from .fuzz_wire import RawRedis, read_reply

CHANNELS = [b"news", b"news.1", b"news.2", b"hello", b"hallo", b"hxllo", b"a*b", b"[x]", b"*",
            b"", b"ch:1", b"ch:2", b"\\", b"h\\llo", b"x" * 70]
PATTERNS = [b"news.*", b"*", b"h?llo", b"h[ae]llo", b"h[^e]llo", b"h[a-e]llo", b"[a-c]*",
            b"\\*", b"news.[12]", b"*.1", b"x\\", b"[", b"[a-", b"[]]", b"[^]", b"a*b*",
            b"h\\?llo", b"ch:[!1]", b"", b"**", b"?", b"[\\]]", b"news.[2-1]"]


class Subscribers:
    """The subscribers and publisher of both servers: `oracle` on Redis, `other` on kvstore."""

    def __init__(self, oracle_port: int, other_port: int, n: int, seed: int) -> None:
        self.r = random.Random(seed ^ 0x5B5)
        self.oracle = [self._connect(oracle_port, i) for i in range(n)]
        self.other = [self._connect(other_port, i) for i in range(n)]
        self.publishers = (RawRedis(oracle_port), RawRedis(other_port))
        self.sent = 0
        self.counts: Counter = Counter()   # what happened, for the report

    @staticmethod
    def _connect(port: int, i: int) -> RawRedis:
        conn = RawRedis(port)
        if i % 2:
            conn.ok("HELLO", "3")
        return conn

    def before(self) -> list[tuple]:
        """Maybe one action; returns the differences: (what, redis's, kvstore's)."""
        r = self.r
        x = r.random()
        if x < 0.08:
            return self._subscriber_command()
        if x < 0.14:
            return self._publish()
        if x < 0.16:
            return self._introspect()
        return []

    def _subscriber_command(self) -> list[tuple]:
        r = self.r
        i = r.randrange(len(self.oracle))
        y = r.random()
        if y < 0.9:
            verb = r.choice([b"SUBSCRIBE", b"UNSUBSCRIBE", b"PSUBSCRIBE", b"PUNSUBSCRIBE",
                             b"SSUBSCRIBE", b"SUNSUBSCRIBE"])
            pool = PATTERNS if verb.startswith(b"P") else CHANNELS
            argv = [verb, *(r.choice(pool) for _ in range(r.choice([0, 1, 1, 2, 3])))]
        elif y < 0.95:
            argv = r.choice([[b"GET", b"news"], [b"PING", b"hi"], [b"ECHO", b"x"]])
        else:
            argv = [b"RESET"]
        self.counts[argv[0].decode()] += 1
        want = _unordered(argv, self._exchange(self.oracle[i], argv))
        got = _unordered(argv, self._exchange(self.other[i], argv))
        if want == got:
            return []
        self._renew(i)
        return [([b"subscriber %d:" % i, *argv], want, got)]

    def _renew(self, i: int) -> None:
        """After a difference: subscriber i starts over on both servers, unsubscribed."""
        for side in (self.oracle, self.other):
            port = side[i].sock.getpeername()[1]
            side[i].close()
            side[i] = self._connect(port, i)

    def _publish(self) -> list[tuple]:
        r = self.r
        self.sent += 1
        argv = [r.choice([b"PUBLISH", b"PUBLISH", b"SPUBLISH"]), r.choice(CHANNELS),
                b"m%d" % self.sent]
        self.counts[argv[0].decode()] += 1
        want = self.publishers[0].call(argv)
        got = self.publishers[1].call(argv)
        diffs = [] if want == got else [(argv, want, got)]
        for i in range(len(self.oracle)):
            want = sorted(self._exchange(self.oracle[i], None), key=repr)
            got = sorted(self._exchange(self.other[i], None), key=repr)
            self.counts["messages received"] += len(want)
            if want != got:
                diffs.append(([b"received by subscriber %d after" % i, *argv], want, got))
                self._renew(i)
        return diffs

    def _introspect(self) -> list[tuple]:
        r = self.r
        sub = r.choice([b"CHANNELS", b"NUMSUB", b"NUMPAT", b"SHARDCHANNELS", b"SHARDNUMSUB"])
        argv = [b"PUBSUB", sub]
        if sub in (b"CHANNELS", b"SHARDCHANNELS"):
            argv += [r.choice(PATTERNS)] if r.random() < 0.6 else []
        elif sub != b"NUMPAT":
            argv += r.sample(CHANNELS, r.choice([0, 1, 2, 3]))
        self.counts["PUBSUB " + sub.decode()] += 1
        want = self.publishers[0].call(argv)
        got = self.publishers[1].call(argv)
        if sub in (b"CHANNELS", b"SHARDCHANNELS"):   # (a hash table's order)
            want, got = _sorted(want), _sorted(got)
        return [] if want == got else [(argv, want, got)]

    @staticmethod
    def _exchange(conn: RawRedis, argv: list[bytes] | None) -> list:
        """Send argv (if any) and a PING; everything received before the PING's reply."""
        out = []
        for a in ([argv] if argv else []) + [[b"PING"]]:
            out.append(b"*%d\r\n" % len(a))
            for x in a:
                out.append(b"$%d\r\n%s\r\n" % (len(x), x))
        conn.sock.sendall(b"".join(out))
        got = []
        while True:
            reply = read_reply(conn.f)
            # PING's reply: +PONG (RESP3, or RESP2 outside pub/sub mode), or [pong, ""] in it
            if reply in (("ok", "PONG"), ("ok", [b"pong", b""])):
                return got
            if not _harness_message(reply):
                got.append(reply)

    def close(self) -> None:
        for conn in self.oracle + self.other + list(self.publishers):
            conn.close()


def _harness_message(reply) -> bool:
    """A message a pattern (`*`) caught from --notify's keyspace events or the harness's
    markers: the servers publish those for the harness's own writes too, which differ."""
    v = reply[1]
    if type(v) is tuple and v[0] == "push":
        v = v[1]
    return type(v) is list and len(v) == 4 and v[0] == b"pmessage" \
        and v[2].startswith((b"__keyspace@", b"__keyevent@", b"fuzz:"))


_ALL = {b"UNSUBSCRIBE", b"PUNSUBSCRIBE", b"SUNSUBSCRIBE"}


def _unordered(argv: list[bytes], replies: list) -> list:
    """An unsubscribe from everything answers one reply per channel in the order of a hash
    table of Redis's (two redis-servers differ): the channels as a set, the counts in order."""
    if argv[0] not in _ALL or len(argv) > 1 or len(replies) < 2:
        return replies
    frames = [reply[1][1] if type(reply[1]) is tuple else reply[1] for reply in replies]
    if not all(type(f) is list and len(f) == 3 for f in frames):
        return replies
    kinds = [(reply[0], type(reply[1]).__name__, f[0]) for reply, f in zip(replies, frames)]
    return ["unsubscribed from", kinds, sorted(f[1] for f in frames), [f[2] for f in frames]]


def _sorted(outcome):
    kind, v = outcome
    return (kind, sorted(v)) if kind == "ok" and type(v) is list else outcome
