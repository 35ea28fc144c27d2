"""Server-assisted client-side caching: CLIENT TRACKING (Redis `tracking.c`).

Theory of operation. `Tracking` (one per server) keeps Redis's two tables:

* `table`: key -> set of client ids that may cache it (default mode). Keys are names only, as
  in Redis: the table is shared by every database. A tracking client's read-only command adds
  its keys (`remember`); a change to a key sends one invalidation to every id listed and drops
  the entry (`invalidate`). Ids are dropped lazily: a client that turns tracking off or goes
  away leaves its ids behind until their keys change, exactly as Redis does (so a client that
  turns tracking back on is told about keys it read before, and INFO counts them).
* `prefixes`: prefix -> `Bcast` (BCAST mode): the clients that asked for it and the keys
  changed since the end of the last loop iteration. Every change to a matching key is noted;
  at the end of the iteration each client gets one message per prefix with the keys, sorted
  (Redis sends them from `beforeSleep`, after the iteration's replies).

Per client, `Client.tracker` (a `Tracker`, None until tracking is first turned on) holds the
options. A client in default mode has the TRACKING state bit, so its commands take the slow
path, where `before_command` remembers the keys of a read-only one; no other connection pays
anything. Changes arrive through one write hook (`on_write`, the keys at a write's key
positions, as WATCH touches them), an expired-key listener and the write hooks that eviction
calls; all are installed only while a client tracks or the tables hold something.

Order of messages. An invalidation for the client whose command caused it (its own write, a
key it read that had expired, a FLUSHALL) goes after that command's reply, as Redis's
`tracking_pending_keys`: it waits in `Tracker.pending` (state bit PUSHES) until the client's
next command or the end of its batch. Anyone else gets it at once, behind what is queued for
it. A RESP3 client gets a push `>2 invalidate [keys]`; a RESP2 client only through REDIRECT
to a client in pub/sub mode, as a message on `__redis__:invalidate`; FLUSHDB/FLUSHALL send a
null in place of the keys, in the tracking client's own protocol (Redis's `shared.null`).
"""

from __future__ import annotations

import random
from itertools import islice

from ..commands.table import PUBSUB, READONLY, lookup
from ..commands.watching import written
from ..errors import CommandError
from ..protocol import encode
from ..replies import Push
from .client import MULTI, PUSHES, TRACKING

# Read-only scripts are not tracked as such: the keys they declare are, once they run a
# read-only command (commands/scripting.py), as Redis 7.0's call() does.
_SCRIPTS = frozenset(("eval_ro", "evalsha_ro", "fcall_ro"))
from .pubsub import deliver, deliver_bytes

_INVALIDATE_PUSH = b">2\r\n$10\r\ninvalidate\r\n"
_INVALIDATE_MESSAGE = b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
_NULLS = {2: b"$-1\r\n", 3: b"_\r\n"}
# trackingLimitUsedSlots: keys dropped per pass over the limit, growing while still over it.
LIMIT_EFFORT = 100


class Tracker:
    """One client's tracking options (Redis's CLIENT_TRACKING_* flags)."""

    __slots__ = ("on", "redirect", "bcast", "optin", "optout", "noloop", "caching", "spent",
                 "broken", "prefixes", "pending")

    def __init__(self) -> None:
        self.on = False
        self.redirect = 0            # client id, 0 = none
        self.bcast = self.optin = self.optout = self.noloop = False
        self.caching = False         # CLIENT CACHING YES/NO given for the next command
        self.spent = False           # ... and that command has run: clear it at the next one
        self.broken = False          # the redirect client has gone
        self.prefixes: list[bytes] = []
        self.pending: list[bytes | None] = []  # keys (None: all) to send after this reply


class Bcast:
    __slots__ = ("clients", "keys")

    def __init__(self) -> None:
        self.clients: dict = {}                  # Client -> None, in the order they came
        self.keys: dict[bytes, object] = {}      # key -> the client that changed it last


class Tracking:
    """The server's tracking tables, hooks and counters (INFO tracking_*)."""

    def __init__(self, server) -> None:
        self.server = server
        self.table: dict[bytes, set[int]] = {}
        self.items = 0                       # ids across the table (tracking_total_items)
        self.prefixes: dict[bytes, Bcast] = {}
        self.count = 0                       # clients with tracking on (tracking_clients)
        self._hooked = False
        self._scheduled = False
        self._over_limit_passes = 0
        # True while keys are evicted before a command runs: their invalidations go out at once,
        # ahead of its reply, even to the client about to run it (Redis's performEvictions runs
        # before the command is marked executing).
        self.evicting_first = False
        server.config.on_change("tracking-table-max-keys", lambda _v: self._schedule())

    # -- CLIENT TRACKING ------------------------------------------------------------------------

    def enable(self, client, redirect: int, bcast: bool, optin: bool, optout: bool,
               noloop: bool, prefixes: list[bytes]) -> None:
        """Redis `enableTracking`: options replace the previous ones, prefixes add to them."""
        t = client.tracker
        if t is None:
            t = client.tracker = Tracker()
        if not t.on:
            self.count += 1
            t.on = True
        t.redirect = redirect
        t.broken = False
        t.bcast, t.optin, t.optout, t.noloop = bcast, optin, optout, noloop
        if bcast:
            for prefix in prefixes or [b""]:
                bs = self.prefixes.get(prefix)
                if bs is None:
                    bs = self.prefixes[prefix] = Bcast()
                if client not in bs.clients:
                    bs.clients[client] = None
                    t.prefixes.append(prefix)
        else:
            client.state |= TRACKING
        self._update_hooks()

    def disable(self, client) -> None:
        """Redis `disableTracking` (CLIENT TRACKING OFF, RESET, disconnection)."""
        t = client.tracker
        if t is None or not t.on:
            return
        for prefix in t.prefixes:
            bs = self.prefixes[prefix]
            del bs.clients[client]
            if not bs.clients:
                del self.prefixes[prefix]
        t.prefixes = []
        t.on = t.bcast = t.optin = t.optout = t.noloop = t.caching = t.broken = False
        client.state &= ~TRACKING
        self.count -= 1
        self._update_hooks()

    def overlap(self, client, new: list[bytes]) -> str | None:
        """Redis `checkPrefixCollisionsOrReply`: the error text for overlapping prefixes."""
        old = sorted(client.tracker.prefixes) if client.tracker is not None else []
        for i, prefix in enumerate(new):
            for existing in old:
                if prefix.startswith(existing) or existing.startswith(prefix):
                    return (f"ERR Prefix '{_text(prefix)}' overlaps with an existing prefix "
                            f"'{_text(existing)}'. Prefixes for a single client must not "
                            "overlap.")
            for other in new[i + 1:]:
                if prefix.startswith(other) or other.startswith(prefix):
                    return (f"ERR Prefix '{_text(prefix)}' overlaps with another provided "
                            f"prefix '{_text(other)}'. Prefixes for a single client must not "
                            "overlap.")
        return None

    def _update_hooks(self) -> None:
        """Listen to writes and expiries only while someone tracks or the tables hold ids."""
        want = bool(self.count or self.table or self.prefixes)
        server = self.server
        if want and not self._hooked:
            server.add_write_hook(self.on_write, first=True)
            server.ks.expired_listeners.append(self._expired)
            server.ks.signal_listeners.append(self._signalled)
            self._hooked = True
        elif not want and self._hooked:
            server.remove_write_hook(self.on_write)
            server.ks.expired_listeners.remove(self._expired)
            server.ks.signal_listeners.remove(self._signalled)
            self._hooked = False

    # -- reads ----------------------------------------------------------------------------------

    def before_command(self, client, argv: list[bytes]) -> None:
        """A default-mode tracking client is about to run argv: remember a read's keys."""
        t = client.tracker
        if t.spent:  # Redis clears CLIENT CACHING's flag after the command it was for
            t.caching = t.spent = False
        try:
            cmd = lookup(argv)
        except CommandError:
            return  # not run: the normal path replies with the error
        name = cmd.name
        if not name.startswith("client|") and not (
                name == "multi" or client.state & MULTI and name not in ("exec", "discard")):
            t.spent = True
        if cmd.flags & READONLY and name not in _SCRIPTS:
            ctx = client.ctx
            keys = cmd.keys(argv)
            for key in keys:  # a key that has expired goes (and is invalidated) before it is read
                ctx.db.lookup(key, ctx.now)
            self.remember(client, cmd, keys)

    def remember(self, client, cmd, keys: list[bytes]) -> None:
        """Redis `trackingRememberKeys`, for the keys of a read-only command."""
        t = client.tracker
        if cmd.flags & PUBSUB or (t.optin and not t.caching) or (t.optout and t.caching):
            return
        table = self.table
        cid = client.id
        for key in keys:
            ids = table.get(key)
            if ids is None:
                table[key] = {cid}
                self.items += 1
            elif cid not in ids:
                ids.add(cid)
                self.items += 1
        limit = self.server.config["tracking-table-max-keys"]
        if limit and len(table) > limit:
            self._schedule()

    # -- changes --------------------------------------------------------------------------------

    def on_write(self, ctx, argv: list[bytes]) -> None:
        """Write hook: after a write that changed the keyspace (or an eviction's DEL)."""
        changed = written(ctx.db, argv, ctx.touched)
        if changed is None:  # FLUSHDB / FLUSHALL / SWAPDB; Redis's SWAPDB invalidates nothing
            if argv[0].lower() != b"swapdb":
                self.flushed(ctx.client)
            return
        for _db, keys in changed:
            for key in keys:
                self.invalidate(key, ctx.client)

    def _expired(self, db, key: bytes) -> None:
        self.invalidate(key, None)

    def _signalled(self, ctx, key: bytes) -> None:
        self.invalidate(key, ctx.client)

    def invalidate(self, key: bytes, writer, bcast: bool = True) -> None:
        """Redis `trackingInvalidateKey`: `key` changed, by `writer`'s command (None: by
        expiry or eviction, during whichever client's command is running, if any). `bcast`
        False: the key did not change, the table only forgets it (tracking-table-max-keys)."""
        if bcast and self.prefixes:
            for prefix, bs in self.prefixes.items():
                if key.startswith(prefix):
                    bs.keys[key] = writer
                    self._schedule()
        ids = self.table.pop(key, None)
        if ids is None:
            return
        self.items -= len(ids)
        clients = self.server.clients
        for cid in ids:
            client = clients.get(cid)
            if client is None:
                continue
            t = client.tracker
            if not t.on or t.bcast:
                continue
            current = client is writer if writer is not None else (
                client.out is not None and not self.evicting_first)
            if current:
                if not t.noloop:
                    self._later(client, key)
            else:
                self.send(client, key)
        if not self.table and not self.count:
            # Not from in here: the expired listeners are being iterated over.
            self.server.outbox.call_soon(self._update_hooks)

    def flushed(self, writer) -> None:
        """Redis `trackingInvalidateKeysOnFlush`: every tracking client is told that all keys
        are invalid (a null), and the table is emptied."""
        for client in list(self.server.clients.values()):
            t = client.tracker
            if t is not None and t.on:
                current = client is writer if writer is not None else client.out is not None
                if current:
                    self._later(client, None)
                else:
                    self.send(client, None)
        self.table = {}
        self.items = 0
        self._update_hooks()

    # -- delivery -------------------------------------------------------------------------------

    @staticmethod
    def _later(client, key: bytes | None) -> None:
        client.tracker.pending.append(key)
        client.state |= PUSHES

    def flush_pending(self, client) -> None:
        """Send what waited for the reply of the client's last command."""
        client.state &= ~PUSHES
        pending, client.tracker.pending = client.tracker.pending, []
        for key in pending:
            self.send(client, key)

    def send(self, client, key: bytes | None, keys: bytes | None = None) -> None:
        """Redis `sendTrackingMessage`: one invalidation of `key` (None: all keys) or of the
        RESP array `keys`, to the client or the client it redirects to."""
        t = client.tracker
        target = client
        if t.redirect:
            target = self.server.clients.get(t.redirect)
            if target is None:
                t.broken = True
                if client.ctx.conn_resp == 3:
                    deliver(client, Push([b"tracking-redir-broken", t.redirect]))
                return
        if target.ctx.conn_resp == 3:
            head = _INVALIDATE_PUSH
        elif t.redirect and target.kind == "pubsub":
            head = _INVALIDATE_MESSAGE
        else:
            return  # RESP2 has no pushes on a connection's own channel
        if keys is None:
            keys = _NULLS[client.ctx.conn_resp] if key is None else encode([key])
        deliver_bytes(target, head + keys)

    # -- end of the loop iteration (Redis's beforeSleep and serverCron) -------------------------

    def _schedule(self) -> None:
        if not self._scheduled and self.count:
            self._scheduled = True
            self.server.outbox.call_soon(self._end_of_iteration)

    def _end_of_iteration(self) -> None:
        self._scheduled = False
        self._broadcast()
        self._limit()

    def _broadcast(self) -> None:
        """Redis `trackingBroadcastInvalidationMessages`: per prefix, the keys changed."""
        for prefix in sorted(self.prefixes):
            bs = self.prefixes[prefix]
            if not bs.keys:
                continue
            changed, bs.keys = bs.keys, {}
            keys = sorted(changed)
            everyone = encode(keys)
            for client in list(bs.clients):
                if client.tracker.noloop:  # not the keys it changed itself
                    mine = [k for k in keys if changed[k] is not client]
                    if mine:
                        self.send(client, None, encode(mine))
                else:
                    self.send(client, None, everyone)

    def _limit(self) -> None:
        """Redis `trackingLimitUsedSlots`: over tracking-table-max-keys, forget keys picked at
        random, telling their clients as if the keys had changed; a pass that cannot get
        under the limit tries harder next time (the next iteration)."""
        limit = self.server.config["tracking-table-max-keys"]
        table = self.table
        if not limit or len(table) <= limit or not self.count:
            self._over_limit_passes = 0
            return
        effort = LIMIT_EFFORT * (self._over_limit_passes + 1)
        excess = min(len(table) - limit, effort)
        # One walk from a random place (a dict has no random access): O(start + excess).
        start = random.randrange(len(table))
        victims = list(islice(table, start, start + excess))
        if len(victims) < excess:
            victims += list(islice(table, excess - len(victims)))
        for key in victims:
            self.invalidate(key, None, bcast=False)
        if len(table) > limit:
            self._over_limit_passes += 1
            self._schedule()
        else:
            self._over_limit_passes = 0

    # -- INFO -----------------------------------------------------------------------------------

    def info(self) -> list:
        return [("tracking_total_keys", len(self.table)), ("tracking_total_items", self.items),
                ("tracking_total_prefixes", len(self.prefixes))]


def _text(prefix: bytes) -> str:
    return prefix.decode("utf-8", "replace")

__all__ = ["Tracker", "Tracking"]
