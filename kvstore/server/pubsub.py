"""Pub/Sub: channel and pattern subscriptions, message delivery, keyspace notifications.

Theory of operation. `PubSub` (one per server) keeps three registries, as Redis's
`server.pubsub_*`: `channels` (channel -> {client: None}), `patterns` (pattern -> {client: None})
and `shard_channels` (Redis 7's sharded pub/sub: SSUBSCRIBE / SPUBLISH, a namespace of its own
that PUBLISH and patterns never reach); dicts are used as insertion-ordered sets, so subscribers
receive a message in subscription order, like Redis's lists. Each client mirrors its own
subscriptions in `client.subs` / `client.psubs` / `client.ssubs` (same order as it subscribed,
which is the order an (S|P)UNSUBSCRIBE without arguments replies in). Invariant: client c is in
`channels[ch]` iff ch is in `c.subs` (same for patterns and shard channels), and no registry
entry is empty. `drop_client` removes every subscription of a disconnecting client.

Delivery: a message is encoded for each subscriber in its own protocol (RESP2 array / RESP3
push) and written to its transport at once (to a client that is running its own batch, e.g. a
RESP3 client publishing to itself, it joins that batch's replies, so the order is Redis's); the subscriber's output-buffer limits (class
"pubsub" while it has subscriptions) are checked right after, as Redis does on every reply.

Keyspace notifications (`notify-keyspace-events`): `Notifier` turns the flag letters into a
bit set and, when it is not empty, installs on every connection's Context a `notify` closure that
publishes `__keyspace@<db>__:<key>` -> event and `__keyevent@<db>__:<event>` -> key (Redis
`notifyKeyspaceEvent`). When the setting is empty every Context gets the no-op back, so handlers
pay one call and nothing else. A RESP3 client subscribed to its own notifications gets them
before or after its command's reply as Redis's code orders addReply and notifyKeyspaceEvent:
after for the commands of `_REPLY_FIRST` (and SET ... GET, which says so itself: `late`), held
in `kept_pushes` until the reply is in (state bit PUSHES); inside the reply for the sorted set
pops' (`_POPS_INSIDE`: `mid_pushes`, which the pop's handler places).
"""

from __future__ import annotations

from typing import Any

from ..engine.glob import compile_glob
from ..protocol import encode, encode_into
from ..replies import Push
from .client import DROP_LAST, PUSHES

# Redis's NOTIFY_* bits and their letters (notify.c).
_KEYSPACE, _KEYEVENT = 1, 2
_CLASS_BITS = {
    "g": 4, "$": 8, "l": 16, "s": 32, "h": 64, "z": 128, "x": 256, "e": 512, "t": 1024,
    "m": 4096, "n": 8192, "d": 2048,
}
_ALL = 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512 | 1024 | 2048  # 'A': g$lshzxetd (not m, not n)

# The commands whose reply Redis writes before their keyspace notifications, each with the events
# that still come first (a "del" its code sends before replying); those of every other command
# come first. Measured command by command on redis-server 7.0.15 (tests/server/
# test_notifications.py compares them). The sorted set pops: `_POPS_INSIDE`. Not here:
# XREADGROUP creating a consumer, whose notification Redis writes in the middle of its reply;
# kvstore sends it before. (In EXEC: states.run_exec.)
_FIRST_DEL = frozenset({"del"})
_REPLY_FIRST: dict[str, frozenset[str]] = {
    **dict.fromkeys(("getset", "getdel", "getex", "bitfield", "lpush", "rpush", "lpushx", "rpushx",
                     "lset", "lpop", "rpop", "lmpop", "blpop", "brpop", "blmpop", "hset",
                     "hsetnx", "hincrby", "hincrbyfloat", "hmset", "sunionstore", "sdiffstore",
                     "zadd", "zincrby", "zunionstore", "zinterstore", "zdiffstore", "zrangestore",
                     "geoadd", "xadd", "xsetid", "xgroup|create", "xgroup|setid",
                     "xgroup|destroy", "xreadgroup"), frozenset()),
    **dict.fromkeys(("expire", "pexpire", "expireat", "pexpireat", "sinterstore"), _FIRST_DEL),
    # the push, the reply, then the pop (and the source's "del")
    **dict.fromkeys(("lmove", "rpoplpush", "blmove", "brpoplpush"),
                    frozenset({"lpush", "rpush"})),
}
# The sorted set pops, whose pop event Redis writes inside their reply, after its headers (and
# the key), their "del" after it (commands.zsets.with_own_pushes).
_POPS_INSIDE = frozenset({"zpopmin", "zpopmax", "zmpop", "bzpopmin", "bzpopmax", "bzmpop"})
_POP_EVENTS = frozenset({"zpopmin", "zpopmax"})
# The letter order Redis's keyspaceEventsFlagsToString uses.
_ORDER = (("g", 4), ("$", 8), ("l", 16), ("s", 32), ("h", 64), ("z", 128), ("x", 256),
          ("e", 512), ("t", 1024), ("d", 2048), ("n", 8192))


def parse_flags(text: str) -> int:
    """Redis `keyspaceEventsStringToFlags` (the config layer has already rejected bad letters)."""
    flags = 0
    for ch in text:
        if ch == "A":
            flags |= _ALL
        elif ch == "K":
            flags |= _KEYSPACE
        elif ch == "E":
            flags |= _KEYEVENT
        else:
            flags |= _CLASS_BITS.get(ch, 0)
    return flags


def flags_to_text(flags: int) -> str:
    """Redis `keyspaceEventsFlagsToString`: 'A' when every class of A is on (else the class
    letters, 'n' included), then K, E, m. E.g. "KEA" -> "AKE", "KEn" -> "nKE"."""
    out = ""
    if flags & _ALL == _ALL:
        out = "A"
    else:
        out = "".join(ch for ch, bit in _ORDER if flags & bit)
    if flags & _KEYSPACE:
        out += "K"
    if flags & _KEYEVENT:
        out += "E"
    if flags & 4096:
        out += "m"
    return out


class PubSub:
    """The server's subscriptions. See the module docstring for the invariants."""

    def __init__(self, server) -> None:
        self.server = server
        self.channels: dict[bytes, dict] = {}
        self.patterns: dict[bytes, dict] = {}
        self.shard_channels: dict[bytes, dict] = {}
        self._matchers: dict[bytes, object] = {}  # pattern -> compiled glob

    # -- subscriptions (each returns whether it changed anything) -------------------------------

    def subscribe(self, client, channel: bytes) -> bool:
        return self._join(client, client.subs, self.channels, channel)

    def unsubscribe(self, client, channel: bytes) -> bool:
        return self._leave(client, client.subs, self.channels, channel)

    def ssubscribe(self, client, channel: bytes) -> bool:
        return self._join(client, client.ssubs, self.shard_channels, channel)

    def sunsubscribe(self, client, channel: bytes) -> bool:
        return self._leave(client, client.ssubs, self.shard_channels, channel)

    @staticmethod
    def _join(client, mine: dict, registry: dict, channel: bytes) -> bool:
        if channel in mine:
            return False
        mine[channel] = None
        registry.setdefault(channel, {})[client] = None
        client.kind = "pubsub"
        return True

    def _leave(self, client, mine: dict, registry: dict, channel: bytes) -> bool:
        if mine.pop(channel, 0) is not None:
            return False
        subs = registry[channel]
        del subs[client]
        if not subs:
            del registry[channel]
        self._maybe_normal(client)
        return True

    def psubscribe(self, client, pattern: bytes) -> bool:
        if pattern in client.psubs:
            return False
        client.psubs[pattern] = None
        if pattern not in self.patterns:
            self.patterns[pattern] = {}
            self._matchers[pattern] = compile_glob(pattern)
        self.patterns[pattern][client] = None
        client.kind = "pubsub"
        return True

    def punsubscribe(self, client, pattern: bytes) -> bool:
        if client.psubs.pop(pattern, 0) is not None:
            return False
        subs = self.patterns[pattern]
        del subs[client]
        if not subs:
            del self.patterns[pattern]
            del self._matchers[pattern]
        self._maybe_normal(client)
        return True

    @staticmethod
    def _maybe_normal(client) -> None:
        if not (client.subs or client.psubs or client.ssubs) and client.kind == "pubsub":
            client.kind = "normal"

    def drop_client(self, client) -> None:
        """A disconnecting client leaves no subscription behind."""
        for channel in list(client.subs):
            self.unsubscribe(client, channel)
        for pattern in list(client.psubs):
            self.punsubscribe(client, pattern)
        for channel in list(client.ssubs):
            self.sunsubscribe(client, channel)

    # -- publishing -----------------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes, own: Any = None,
                own_deliver: Any = None) -> int:
        """Deliver to channel subscribers, then to matching pattern subscribers (Redis order);
        to `own`, the client running the command that caused it, by `own_deliver` (after or
        inside its reply). Returns the number of deliveries. O(subscribers + patterns)."""
        receivers = 0
        subs = self.channels.get(channel)
        if subs:
            msg = Push((b"message", channel, message))
            for client in list(subs):
                (deliver if client is not own else own_deliver)(client, msg)
            receivers = len(subs)
        if self.patterns:
            matchers = self._matchers
            for pattern, clients in list(self.patterns.items()):
                if matchers[pattern](channel):
                    msg = Push((b"pmessage", pattern, channel, message))
                    for client in list(clients):
                        (deliver if client is not own else own_deliver)(client, msg)
                    receivers += len(clients)
        return receivers

    def spublish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the shard channel's subscribers only. Returns the number of deliveries.
        O(subscribers)."""
        subs = self.shard_channels.get(channel)
        if not subs:
            return 0
        msg = Push((b"smessage", channel, message))
        for client in list(subs):
            deliver(client, msg)
        return len(subs)

    def numpat(self) -> int:
        return len(self.patterns)


def deliver(client, value) -> None:
    """Send one out-of-band reply to a client, in its protocol."""
    if client.transport is None:
        return
    if client.out is not None and not client.state & DROP_LAST:
        encode_into(client.out, value, client.ctx.conn_resp)  # its own batch: in reply order
        return
    deliver_bytes(client, encode(value, client.ctx.conn_resp))


def _deliver_after_reply(client, value) -> None:
    """`deliver`, for after the reply of the command running (flush_pushes sends it)."""
    if client.transport is not None:
        client.kept_pushes.append(encode(value, client.ctx.conn_resp))
        client.state |= PUSHES


def _deliver_inside_reply(client, value) -> None:
    """`deliver`, for inside the reply of the command running (commands.zsets.with_own_pushes
    places it)."""
    if client.transport is not None:
        client.mid_pushes.append(encode(value, client.ctx.conn_resp))


def deliver_bytes(client, data: bytes) -> None:
    """`deliver` of a message already encoded (CLIENT TRACKING's invalidations)."""
    if client.transport is None:
        return
    if client.out is not None:
        if client.state & DROP_LAST:
            # CLIENT REPLY OFF / SKIP drop the running command's reply, not its pushes (Redis's
            # CLIENT_PUSHING): they go out once the reply is dropped
            client.kept_pushes.append(data)
            client.state |= PUSHES
        else:
            client.out.append(data)
        return
    server = client.server
    server.stats.net_output += len(data)
    server.outbox.put(client, data)  # behind what is queued, and after the AOF write (outbox.py)


class Notifier:
    """Keyspace notifications; installed on Contexts only while the config is non-empty."""

    def __init__(self, server) -> None:
        self.server = server
        self.flags = 0
        self._listening = False

    def configure(self, flags: int) -> None:
        self.flags = flags
        active = bool(self.flags & (_KEYSPACE | _KEYEVENT))
        self.server.ks.on_new = self._new if active and self.flags & _CLASS_BITS["n"] else None
        for client in list(self.server.clients.values()):
            self.attach(client)
        if active and not self._listening:
            self.server.ks.expired_listeners.append(self._expired)
            self._listening = True

    def attach(self, client) -> None:
        """Give a connection's Context the real notify or the no-op, per the current flags."""
        from ..commands.table import no_notify

        ctx = client.ctx
        if self.flags & (_KEYSPACE | _KEYEVENT):
            fire = self.fire

            def notify(cls: str, event: str, key: bytes, late: bool = False) -> None:
                # (`late`: the handler replies first; else `_REPLY_FIRST` says. Not in a script,
                # whose commands' replies are the script's.)
                own = None
                if client.out is not None and not ctx.in_script:
                    if late:
                        own = _deliver_after_reply
                    else:
                        cmd = client.in_exec or client.last_cmd
                        name = cmd.name if cmd is not None else ""
                        first = _REPLY_FIRST.get(name)
                        if first is not None and event not in first:
                            own = _deliver_after_reply
                        elif name in _POPS_INSIDE:
                            own = _deliver_inside_reply if event in _POP_EVENTS \
                                else _deliver_after_reply
                fire(ctx.db.id, cls, event, key, client if own is not None else None, own)

            ctx.notify = notify
        else:
            ctx.notify = no_notify

    def fire(self, db: int, cls: str, event: str, key: bytes, own: Any = None,
             own_deliver: Any = None) -> None:
        """Redis `notifyKeyspaceEvent(type, event, key, dbid)`; `own`: see `publish`."""
        flags = self.flags
        if not flags & _CLASS_BITS.get(cls, 0):
            return
        publish = self.server.pubsub.publish
        ev = event.encode()
        if flags & _KEYSPACE:
            publish(b"__keyspace@%d__:%b" % (db, key), ev, own, own_deliver)
        if flags & _KEYEVENT:
            publish(b"__keyevent@%d__:%b" % (db, ev), key, own, own_deliver)

    def _new(self, db, key: bytes) -> None:
        self.fire(db.id, "n", "new", key)

    def _expired(self, db, key: bytes) -> None:
        if self.flags & (_KEYSPACE | _KEYEVENT):
            self.fire(db.id, "x", "expired", key)


__all__ = ["Notifier", "PubSub", "deliver", "flags_to_text", "parse_flags"]
