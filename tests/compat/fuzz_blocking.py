"""Blocked clients in the wire fuzz (`--blockers N`): N more connections per server that block on
the stream's keys, so that the stream's writes, transactions, scripts, SWAPDBs and expiries
serve them.

Before a stream command, now and then an idle blocker sends a blocking command without a timeout
(BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, XREAD and XREADGROUP with
BLOCK 0) on keys of the generator's pools, the same on both servers. Each server either answers
it at once (the two replies are compared) or blocks it (CLIENT LIST shows the flag `b`): both
must do the same. After each stream command every blocked blocker is looked at again on both
servers: served (its reply has come: compared) or still blocked. Now and then the admin
connection ends a block with CLIENT UNBLOCK [TIMEOUT | ERROR], or a blocked blocker hangs up
and reconnects, which must leave no trace (the state checks see what it would have taken).

Blockers speak RESP2 (even ones) and RESP3 (odd ones). A blocker answered at once or served is
idle again. After a difference both servers' blockers are unblocked and drained, so the runs go
on from the same footing; the keys are resynced by the runner.

Determinism: a blocked client's reply is sent in the loop iteration that served it, before the
reply of the command that served it or right after; the CLIENT LIST that follows on the admin
connection is a barrier: once a blocker no longer shows `b`, its reply is on its way.
"""

from __future__ import annotations

import random
import select
import time
from collections import Counter

from .fuzz_gen import POOLS
from .fuzz_wire import RawRedis, read_reply

BLOCKED = ("blocked",)
GONE = ("hung up",)
STREAM_GROUPS = [b"g1", b"g2"]   # (fuzz_gen's group names: XREADGROUP finds some of them)


def blocking_command(r: random.Random) -> list[bytes]:
    """A blocking command without a timeout on the generator's keys."""
    lists = POOLS["list"][:3] + POOLS["any"][:3]
    zsets = POOLS["zset"][:3] + POOLS["any"][:3]
    streams = POOLS["stream"][:3]

    def some(pool: list[bytes]) -> list[bytes]:
        return r.sample(pool, r.choice([1, 1, 2, 3]))

    def count() -> list[bytes]:
        return [b"COUNT", r.choice([b"1", b"2", b"5"])] if r.random() < 0.5 else []

    side = lambda: r.choice([b"LEFT", b"RIGHT"])  # noqa: E731
    kind = r.randrange(9)
    if kind == 0:
        return [r.choice([b"BLPOP", b"BRPOP"]), *some(lists), b"0"]
    if kind == 1:
        return [b"BLMOVE", r.choice(lists), r.choice(lists), side(), side(), b"0"]
    if kind == 2:
        return [b"BRPOPLPUSH", r.choice(lists), r.choice(lists), b"0"]
    if kind == 3:
        keys = some(lists)
        return [b"BLMPOP", b"0", b"%d" % len(keys), *keys, side(), *count()]
    if kind == 4:
        return [r.choice([b"BZPOPMIN", b"BZPOPMAX"]), *some(zsets), b"0"]
    if kind == 5:
        keys = some(zsets)
        return [b"BZMPOP", b"0", b"%d" % len(keys), *keys, r.choice([b"MIN", b"MAX"]),
                *count()]
    if kind == 6:
        keys = some(streams)
        return [b"XREAD", *count(), b"BLOCK", b"0", b"STREAMS", *keys, *[b"$"] * len(keys)]
    if kind == 7:
        keys = some(streams)
        return [b"XREADGROUP", b"GROUP", r.choice(STREAM_GROUPS), b"c9", *count(), b"BLOCK",
                b"0", b"STREAMS", *keys, *[b">"] * len(keys)]
    return [b"BLPOP", *some(lists), *some(zsets[:3]), b"0"]  # (zset keys: WRONGTYPE or block)


class Blocker:
    """One blocking connection on one server."""

    def __init__(self, port: int, resp: int) -> None:
        self.port = port
        self.resp = resp
        self._connect()

    def _connect(self) -> None:
        self.conn = RawRedis(self.port)
        if self.resp == 3:
            self.conn.ok("HELLO", "3")
        self.id = self.conn.ok("CLIENT", "ID")
        self.blocked = False

    def send(self, argv: list[bytes]) -> None:
        out = [b"*%d\r\n" % len(argv)]
        for a in argv:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.conn.sock.sendall(b"".join(out))
        self.blocked = True

    def outcome(self, admin: RawRedis):
        """The reply of the command sent, or BLOCKED while the server holds it (see the module
        docstring); waits for one of the two."""
        deadline = time.monotonic() + 10
        while True:
            if select.select([self.conn.sock], [], [], 0)[0]:
                self.blocked = False
                return read_reply(self.conn.f)
            kind, line = admin.call([b"CLIENT", b"LIST", b"ID", b"%d" % self.id])
            flags = line.split(b" flags=", 1)[1].split(b" ", 1)[0] if kind == "ok" else b""
            if b"b" in flags:
                return BLOCKED
            if time.monotonic() > deadline:
                raise RuntimeError(f"blocker {self.id}: neither blocked nor answered: {line!r}")

    def hang_up(self) -> None:
        """Close while blocked; a new connection takes its place."""
        self.conn.close()
        self._connect()

    def close(self) -> None:
        self.conn.close()


class Blockers:
    """The blockers of both servers, in pairs: `oracle[i]` on Redis, `other[i]` on kvstore."""

    def __init__(self, oracle_port: int, other_port: int, n: int, seed: int) -> None:
        self.r = random.Random(seed ^ 0xB10C)
        self.oracle = [Blocker(oracle_port, 3 if i % 2 else 2) for i in range(n)]
        self.other = [Blocker(other_port, 3 if i % 2 else 2) for i in range(n)]
        self.blocked_on: dict[int, list[bytes]] = {}   # blocker index -> its command
        self.counts: Counter = Counter()   # what happened, for the report
        self.log: list[str] = []   # what happened since the runner last took it (its history)

    def before(self, oracle_admin: RawRedis, other_admin: RawRedis) -> list[tuple]:
        """Maybe start a block, end one or hang one up. Returns the differences:
        (argv, redis's outcome, kvstore's outcome)."""
        r = self.r
        diffs = []
        idle = [i for i in range(len(self.oracle)) if i not in self.blocked_on]
        if idle and r.random() < 0.2:
            i = r.choice(idle)
            argv = blocking_command(r)
            self.oracle[i].send(argv)
            self.other[i].send(argv)
            want = self.oracle[i].outcome(oracle_admin)
            got = self.other[i].outcome(other_admin)
            self.counts["answered at once" if want is not BLOCKED else "blocked"] += 1
            self.log.append(f"blocker {i}: {_show(argv)}: "
                            f"{'blocked' if want is BLOCKED else 'answered'}")
            if want is BLOCKED and got is BLOCKED:
                self.blocked_on[i] = argv
            elif want != got:
                diffs.append((argv, want, got))
                self._settle(i, want, got, oracle_admin, other_admin)
        elif self.blocked_on and r.random() < 0.004:
            i = r.choice(sorted(self.blocked_on))
            how = r.choice([[], [b"TIMEOUT"], [b"ERROR"]])
            argv = self.blocked_on.pop(i)
            self.counts["unblocked by CLIENT UNBLOCK"] += 1
            self.log.append(f"blocker {i}: CLIENT UNBLOCK {_show(how)}")
            want = oracle_admin.call([b"CLIENT", b"UNBLOCK", b"%d" % self.oracle[i].id, *how])
            got = other_admin.call([b"CLIENT", b"UNBLOCK", b"%d" % self.other[i].id, *how])
            want = (want, self.oracle[i].outcome(oracle_admin))
            got = (got, self.other[i].outcome(other_admin))
            if want != got:
                diffs.append(([b"CLIENT", b"UNBLOCK", b"<id>", *how, b"<-", *argv], want, got))
        elif self.blocked_on and r.random() < 0.0015:
            i = r.choice(sorted(self.blocked_on))
            del self.blocked_on[i]
            self.counts["hung up while blocked"] += 1
            self.log.append(f"blocker {i}: hung up")
            self.oracle[i].hang_up()
            self.other[i].hang_up()
        return diffs

    def after(self, oracle_admin: RawRedis, other_admin: RawRedis) -> list[tuple]:
        """After a stream command: the blockers it served on either server, compared."""
        diffs = []
        for i, argv in sorted(self.blocked_on.items()):
            want = self.oracle[i].outcome(oracle_admin)
            got = self.other[i].outcome(other_admin)
            if want is BLOCKED and got is BLOCKED:
                continue
            del self.blocked_on[i]
            self.counts["served"] += 1
            self.log.append(f"blocker {i}: served")
            if want != got:
                diffs.append((argv, want, got))
                self._settle(i, want, got, oracle_admin, other_admin)
        return diffs

    def _settle(self, i: int, want, got, oracle_admin: RawRedis, other_admin: RawRedis) -> None:
        """After a difference: the blocker still held on one side is let go (and its reply
        read), so both are idle."""
        self.blocked_on.pop(i, None)
        for blocker, outcome, admin in ((self.oracle[i], want, oracle_admin),
                                        (self.other[i], got, other_admin)):
            if outcome is BLOCKED:
                admin.call([b"CLIENT", b"UNBLOCK", b"%d" % blocker.id])
                blocker.outcome(admin)

    def close(self) -> None:
        for blocker in self.oracle + self.other:
            blocker.close()


def _show(argv: list[bytes]) -> str:
    return " ".join(a.decode(errors="backslashreplace") for a in argv)
