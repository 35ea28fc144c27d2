"""The keyspace: numbered databases of key -> value, plus key -> absolute expiry.

Each `Database` holds two dicts, as Redis does: `data` (key bytes -> value) and `expires` (key ->
absolute expiry, ms since the epoch). Invariant: every key of `expires` is in `data`. A key with
an expiry in the past is logically absent: every access goes through `lookup()` (or checks
`expires` itself on a fast path), which deletes it first (lazy expiry).

Memory held by expired keys that nobody reads is reclaimed by the active cycle (`active_expire`):
it checks a sample of keys that have a TTL, deletes the expired ones, repeats while more than a
quarter of a sample was expired, and stops at a time budget, as Redis's `expire.c` does. A dict
cannot be walked a piece at a time, so each database keeps `volatile`, a list of keys that were
given a TTL. Invariant: every key of `expires` is in `volatile`. The list may also hold stale
entries (a key persisted, deleted or re-expired, possibly twice): the cycle drops those when it
meets them, and `volatile` is rebuilt when stale entries outnumber live ones, so its size stays
within a small factor of `len(expires)`.

Samples are consecutive entries from a cursor (`expire_pos`) that wraps around the list, not
random picks, for the reason Redis 6 moved from random sampling to a scan of the expires table:
random picks take ~ln(n) times the list's length to have met every entry (a coupon collector), so
the last expired keys of a big database, hidden among live ones, linger (1M TTL keys, half
expired: ~310,000 calls to reclaim them all by random picks, ~700 with the cursor); a cursor
meets every entry once per pass. Removal is swap-with-last, which keeps the pass complete:
the entry moved into the cursor's slot is examined next.

A Python dict never gives back its table as keys go, so a database emptied by DEL or expiry
would keep the memory of its largest size (two tables of ~40 bytes a slot: ~20 MB after 200,000
keys). Redis shrinks a table under 10% full from its cron (`tryResizeHashTables`); the server's
cron calls `shrink`, which rebuilds such a table in place (same dict, same order) while it
holds at most DB_SHRINK_MAX keys and is not huge (values.give_back): a few milliseconds, once
(Redis rehashes a step at a time; a dict can only be copied whole). A database left with more
keys, or one that held millions, keeps its table.

The keyspace is not thread-safe by itself: the server runs every command on one thread and the
embedded store serialises calls with a lock, so handlers never see a concurrent mutation.

Side effects other layers need (AOF propagation of expired keys, keyspace notifications, waking
WATCH) go through the `Keyspace` hooks `on_expired` and `on_deleted`, which are no-ops until a
server or persistence layer installs them.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator

from ..errors import wrongtype
from .clock import wall_ms
from .lazyfree import LazyFree
from .values import EMBSTR_MAX, Thresholds, give_back

DEFAULT_DATABASES = 16
# The most keys a database table may hold to be rebuilt smaller (`Database.shrink`): 5.6 ms
# for 25K left of 1M.
DB_SHRINK_MAX = 25_000

# Encodings a string mark can record (`Database.mark_encoding`), by code.
_MARK_NAMES = (b"", b"raw", b"embstr", b"int")
_MARK_CODES = {name: code for code, name in enumerate(_MARK_NAMES) if name}

# Lazy expiry already makes reads correct; the active cycle only bounds the memory held by keys
# nobody reads. Redis samples 20 keys per round and repeats while > 25% of them were expired.
ACTIVE_EXPIRE_SAMPLE = 20
ACTIVE_EXPIRE_REPEAT_PCT = 25
# Per call of `active_expire`: the server calls it every ACTIVE_EXPIRE_PERIOD_MS, so at most
# 2/10 of the loop's time goes to expiry, and no command waits more than ~2 ms behind it.
ACTIVE_EXPIRE_BUDGET_MS = 2.0
ACTIVE_EXPIRE_PERIOD_MS = 10
# The period while no key has a TTL (`expire_period`): an idle server woke 100 times a second
# for nothing, 1-2% of a core (Redis, at hz 10: 0.1%).
ACTIVE_EXPIRE_IDLE_MS = 100


class Database:
    """One numbered database. See the module docstring for the invariants."""

    __slots__ = (
        "id", "keyspace", "data", "expires", "volatile", "expire_pos", "watched", "blocked",
        "encodings", "avg_ttl",
    )

    def __init__(self, keyspace: "Keyspace", index: int) -> None:
        self.id = index
        self.keyspace = keyspace
        self.data: dict[bytes, object] = {}
        self.expires: dict[bytes, int] = {}
        self.volatile: list[bytes] = []
        self.expire_pos = 0  # the active cycle's cursor into `volatile`
        # key -> set of watchers (server connections); only touched when WATCH is used.
        self.watched: dict[bytes, set] = {}
        # key -> clients blocked on it (BLPOP ...); the server owns the values.
        self.blocked: dict[bytes, list] = {}
        # key -> mark of a string whose encoding comes from how it was written, not from its
        # bytes (`mark_encoding`).
        self.encodings: dict[bytes, int] = {}
        # INFO keyspace's avg_ttl (ms): Redis's running average of the TTLs the active cycle
        # meets, each sample weighing 2%.
        self.avg_ttl = 0

    def __len__(self) -> int:
        return len(self.data)

    # -- reads ----------------------------------------------------------------------------------

    def lookup(self, key: bytes, now: int) -> object | None:
        """The live value of `key`, or None. Deletes it first if it has expired. O(1)."""
        if key in self.expires and self.expires[key] < now:
            self.expire_key(key)
            return None
        return self.data.get(key)

    def lookup_typed(self, key: bytes, now: int, cls: type) -> object | None:
        """Like `lookup`, but raises WRONGTYPE when the value is not a `cls`."""
        if key in self.expires and self.expires[key] < now:
            self.expire_key(key)
            return None
        value = self.data.get(key)
        if value is not None and type(value) is not cls:
            raise wrongtype()
        return value

    def exists(self, key: bytes, now: int) -> bool:
        return self.lookup(key, now) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        """Absolute expiry of a key known to be live, or None if it has none."""
        return self.expires.get(key)

    # -- writes ---------------------------------------------------------------------------------

    def set_value(self, key: bytes, value: object, now: int = 0) -> None:
        """Store a new value, dropping any TTL (what SET without KEEPTTL does); see `untime`."""
        if key in self.expires:
            self.untime(key, now)
        if self.keyspace.on_new is not None and key not in self.data:
            self.add(key, value)
        else:
            self.data[key] = value

    def untime(self, key: bytes, now: int) -> None:
        """Drop the TTL of a key with one that is about to be overwritten. A key already past
        it at `now` is expired first (its `expired` event, INFO's expired_keys), as Redis's
        lookupKeyWrite does before the write; on a replica it only loses the TTL."""
        if self.expires[key] < now and not self.keyspace.replica:
            self.expire_key(key)
        else:
            del self.expires[key]

    def add(self, key: bytes, value: object) -> None:
        """Store a value under a key known to be absent (e.g. the first HSET of a hash): Redis's
        dbAdd, which raises the `new` keyspace event."""
        self.data[key] = value
        on_new = self.keyspace.on_new
        if on_new is not None:
            on_new(self, key)

    def delete(self, key: bytes) -> bool:
        """Remove a key and its TTL. Returns whether it existed (expired or not)."""
        if self.data.pop(key, None) is None:
            return False
        if key in self.expires:
            del self.expires[key]
        if self.encodings:
            self.encodings.pop(key, None)
        return True

    def mark_encoding(self, key: bytes, value: bytes, encoding: bytes) -> None:
        """Record the OBJECT ENCODING Redis gives the string just stored at `key` because of
        how it was written: `raw` after APPEND to an existing string, SETRANGE or SETBIT (Redis
        unshares it into a plain sds), `embstr` after INCRBYFLOAT even if it reads as an
        integer. The mark holds no reference to the value: it is one int, a hash of the
        value's identity and bytes with the encoding in its 2 low bits (~70 bytes a key with
        its dict slot), so any later write of another value (SET, INCR, ...) voids it without
        having to clear it. Strings over EMBSTR_MAX bytes are raw by their length alone: no
        mark, and no hash of a long string. `value` is never a shared integer
        (`values.SHARED_INT_BYTES`): INCR stores those without voiding a mark."""
        if len(value) <= EMBSTR_MAX:
            self.encodings[key] = hash((id(value), value)) << 2 | _MARK_CODES[encoding]

    def string_encoding(self, key: bytes, value: bytes) -> bytes | None:
        """The encoding `mark_encoding` recorded for `value` at `key`, if it still holds."""
        mark = self.encodings.get(key)
        if mark is not None and mark >> 2 == hash((id(value), value)):
            return _MARK_NAMES[mark & 3]
        return None

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Give a live key an absolute expiry (ms since the epoch)."""
        if key not in self.expires:
            self.volatile.append(key)
            if len(self.volatile) > 2 * len(self.expires) + 1024:
                self.volatile = list(self.expires)
                self.volatile.append(key)
        self.expires[key] = when_ms
        ks = self.keyspace
        if ks.replica and not ks.from_master:  # a writable replica's own TTL: it expires it
            ks.own_expires[(self.id, key)] = None

    def persist(self, key: bytes) -> bool:
        """Drop a key's TTL. Returns whether it had one."""
        return self.expires.pop(key, None) is not None

    def expire_key(self, key: bytes, force: bool = False) -> None:
        """Delete a key whose TTL has passed, and tell the layers above (AOF DEL, notification).
        On a replica the key stays (reads still see it as absent): only the master's DEL
        deletes it, or the replica's data would drift from its master's, whose clock decides;
        `force` for a TTL the replica set itself (`Keyspace.expire_own`)."""
        if self.keyspace.replica and not force:
            return
        value = self.data.pop(key, None)
        self.expires.pop(key, None)
        if self.keyspace.lazy_expire and value is not None:
            self.keyspace.lazyfree.free(value)
        if self.encodings:
            self.encodings.pop(key, None)
        self.keyspace.on_expired(self, key)

    def shrink(self) -> None:
        """Give back the memory of `data` and `expires` when they are mostly empty (see the
        module docstring and values.give_back). O(len) when it rebuilds, else O(1)."""
        give_back(self.data, DB_SHRINK_MAX)
        give_back(self.expires, DB_SHRINK_MAX)

    def remove_if_empty(self, key: bytes, value: object) -> None:
        """Containers never stay empty in Redis: the key goes with its last element."""
        if not value:
            self.delete(key)

    def flush(self) -> None:
        for listener in self.keyspace.flush_listeners:  # WATCH: touch keys about to go
            listener(self, None)
        self.data = {}
        self.expires = {}
        self.volatile = []
        self.expire_pos = 0
        self.encodings = {}
        self.avg_ttl = 0

    # -- active expiry --------------------------------------------------------------------------

    def expire_sample(self, now: int, rng: random.Random | None = None) -> tuple[int, int]:
        """Check the next ACTIVE_EXPIRE_SAMPLE entries of `volatile` from the cursor; delete the
        expired keys. Returns (sampled, expired), counting stale list entries as expired so the
        caller keeps going. O(ACTIVE_EXPIRE_SAMPLE). (`rng` is unused, kept for callers.)"""
        volatile = self.volatile
        expires = self.expires
        i = self.expire_pos
        sampled = expired = ttl_sum = ttl_samples = 0
        while sampled < ACTIVE_EXPIRE_SAMPLE and volatile:
            if i >= len(volatile):
                i = 0  # wrap around: the next pass
            key = volatile[i]
            sampled += 1
            when = expires.get(key)
            if when is None or when < now:
                # Stale entry or expired key. Swap-remove, O(1): the last entry moves into slot
                # i, which is examined next, so the pass still meets every entry.
                volatile[i] = volatile[-1]
                volatile.pop()
                expired += 1
                if when is not None:
                    self.expire_key(key)
            else:
                i += 1
                ttl_sum += when - now
                ttl_samples += 1
        self.expire_pos = i
        if ttl_samples:
            average = ttl_sum // ttl_samples
            if not self.avg_ttl:
                self.avg_ttl = average
            self.avg_ttl = self.avg_ttl // 50 * 49 + average // 50
        return sampled, expired


class Keyspace:
    """All databases plus the settings and hooks every command may need."""

    def __init__(
        self,
        databases: int = DEFAULT_DATABASES,
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        self.clock = clock
        self.dbs = [Database(self, i) for i in range(databases)]
        self.limits = Thresholds()
        # Count of changes (Redis `server.dirty`): tells the dispatcher that a write command
        # changed something (so it is logged). Only grows; `dirty - saved_dirty` is Redis's
        # changes since the last save, which drive the save rules (`unsaved`).
        self.dirty = 0
        self.saved_dirty = 0
        self.active_expire_enabled = True
        # Scripts refuse the commands flagged noscript unless DEBUG SET-DISABLE-DENY-SCRIPTS 1
        # (Redis's server.script_disable_deny_script, which its own tests use).
        self.scripts_deny_noscript = True
        # DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and FUNCTION RESTORE take a payload whatever
        # its CRC (Redis's tests build corrupt payloads without one).
        self.skip_checksum_validation = False
        # A replica (server/replica_link.py): expired keys are hidden, never deleted, and the
        # active cycle is off, as in Redis.
        self.replica = False
        # On a writable replica, the keys whose TTL a client of its own set: the replica expires
        # those itself, as Redis's slaveKeysWithExpire. `from_master` is set while TTLs come
        # from elsewhere: its master's stream, or a data set being put in (`loading`).
        self.from_master = False
        # (an ordered set: `expire_own` takes them in turn)
        self.own_expires: OrderedDict[tuple[int, bytes], None] = OrderedDict()
        self._rng = random.Random()
        self._expire_cursor = 0
        self.expired_keys = 0  # INFO stats
        # Values detached from the keyspace, freed a slice at a time (UNLINK, FLUSHALL ASYNC,
        # lazyfree-lazy-*), and the options that send deletions there.
        self.lazyfree = LazyFree()
        self.lazy_user_del = self.lazy_user_flush = self.lazy_expire = False
        # INFO stats of the active cycle: Redis's running estimate of the share of expired keys
        # among those sampled (each cycle weighing 5%), cycles stopped by their time budget,
        # and their time (us).
        self.expired_stale_perc = 0.0
        self.expire_time_cap_reached = 0
        self.expire_cycle_us = 0
        # INFO's keyspace_hits / keyspace_misses: lookups of commands that read a key (Redis's
        # lookupKeyRead; `Context.read`), not of those that write it.
        self.hits = 0
        self.misses = 0
        # The server's LRU/LFU access info (server/memory.py `Memory`) for OBJECT IDLETIME and
        # FREQ; None in a store without a server, which keeps none.
        self.access = None
        # The embedded store's ACL users (server/acl.py `Acl`), made by the first ACL command
        # that needs them; a server keeps its own.
        self.acl = None
        self.expired_listeners: list[Callable[[Database, bytes], None]] = []
        # Called with (db, key) when a key is created (`Database.add`), while the server's
        # notify-keyspace-events asks for `new` events ('n'); None otherwise.
        self.on_new: Callable[[Database, bytes], None] | None = None
        # Called with (db, None) before a db is emptied and (a, b), (b, a) before a SWAPDB.
        self.flush_listeners: list[Callable[[Database, Database | None], None]] = []
        # Called with (ctx, key) when a command signals a key it did not change (see
        # commands.watching.signal_unchanged): CLIENT TRACKING's, while anyone tracks.
        self.signal_listeners: list[Callable[[Any, bytes], None]] = []

    @property
    def unsaved(self) -> int:
        """Changes since the last save (INFO's rdb_changes_since_last_save)."""
        return self.dirty - self.saved_dirty

    def mark_saved(self) -> None:
        self.saved_dirty = self.dirty

    def force_propagation(self) -> None:
        """A write that must reach the AOF and the replicas even when it changed nothing (Redis's
        forceCommandPropagation: FLUSHALL, FLUSHDB of empty databases): a change in `dirty`,
        which the front doors check, that is no change to save."""
        self.dirty += 1
        self.saved_dirty += 1

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """While a data set is put in (a file at start-up, a master's sync file, DEBUG
        RELOAD): its TTLs are not a replica's own to expire (Redis's loaders give setExpire no
        client)."""
        was, self.from_master = self.from_master, True
        try:
            yield
        finally:
            self.from_master = was

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT: the INFO counters kept here."""
        self.expired_keys = self.expire_time_cap_reached = self.expire_cycle_us = 0
        self.expired_stale_perc = 0.0
        self.hits = self.misses = 0
        self.lazyfree.freed_objects = 0

    def on_expired(self, db: Database, key: bytes) -> None:
        # Not a change in `dirty`, as in Redis: an expiry makes no save due, and a write command
        # that only met an expired key is not propagated (the key's DEL is, by the listeners).
        self.expired_keys += 1
        for listener in self.expired_listeners:
            listener(db, key)

    def expire_own(self) -> None:
        """A replica's cycle over `own_expires`, as Redis's expireSlaveKeys: the entries in
        turn, deleting the keys whose TTL has passed and forgetting those gone or without a
        TTL now (its master's writes may have replaced them), until more than three still
        to expire were met or a millisecond has passed. Each cron does a few, not all of
        them: when every cycle did all, 200K such keys kept a core busy while idle."""
        own = self.own_expires
        now = self.clock()
        timer = time.perf_counter
        began = timer()
        checked = waiting = 0
        while own:
            entry = own.popitem(last=False)[0]
            db = self.dbs[entry[0]]
            when = db.expires.get(entry[1])
            if when is not None:
                if when < now:
                    db.expire_key(entry[1], force=True)
                else:
                    own[entry] = None  # (to the back)
                    waiting += 1
                    if waiting > 3:
                        break
            checked += 1
            if not checked & 63 and timer() - began > 0.001:
                break

    def expire_all(self) -> int:
        """Delete every key whose TTL has passed, as its expiry would (see `expire_key`).
        Returns how many. O(keys with a TTL)."""
        now = self.clock()
        n = 0
        for db in self.dbs:
            for key in [key for key, when in db.expires.items() if when < now]:
                db.expire_key(key)
                n += 1
        return n

    def flushall(self) -> None:
        for db in self.dbs:
            db.flush()
        self.own_expires.clear()

    def swap(self, a: int, b: int) -> None:
        """SWAPDB: exchange contents; the Database objects (and their watchers) stay put."""
        da, db_ = self.dbs[a], self.dbs[b]
        for listener in self.flush_listeners:
            listener(da, db_)
            listener(db_, da)
        da.data, db_.data = db_.data, da.data
        da.expires, db_.expires = db_.expires, da.expires
        da.volatile, db_.volatile = db_.volatile, da.volatile
        da.encodings, db_.encodings = db_.encodings, da.encodings
        da.avg_ttl, db_.avg_ttl = db_.avg_ttl, da.avg_ttl

    def expire_period(self) -> float:
        """Seconds until the next active cycle is worth running: ACTIVE_EXPIRE_PERIOD_MS while
        any database lists keys given a TTL or a writable replica has TTLs of its own
        (`expire_own`), ACTIVE_EXPIRE_IDLE_MS otherwise (a TTL set meanwhile waits that long
        at most for its first cycle; reads expire it anyway)."""
        if self.own_expires:
            return ACTIVE_EXPIRE_PERIOD_MS / 1000.0
        for db in self.dbs:
            if db.volatile:
                return ACTIVE_EXPIRE_PERIOD_MS / 1000.0
        return ACTIVE_EXPIRE_IDLE_MS / 1000.0

    def active_expire(self, budget_ms: float = ACTIVE_EXPIRE_BUDGET_MS) -> int:
        """One active expiry cycle over all databases, within about `budget_ms` of wall-clock
        time (checked after each sample, so a call may overrun it by one sample).

        A call that runs out of time resumes, next time, at the database after the one it was
        in (Redis's `current_db` does the same), so a database full of expired keys cannot
        starve the others. Returns how many keys it deleted (stale list entries not counted).
        """
        if not self.active_expire_enabled or self.replica:
            return 0
        timer = time.perf_counter
        began = timer()
        deadline = began + budget_ms / 1000.0
        now = self.clock()
        before = self.expired_keys
        ndbs = len(self.dbs)
        start = self._expire_cursor
        total_sampled = total_expired = 0
        self._expire_cursor = 0
        out_of_time = False
        for step in range(ndbs):
            db = self.dbs[(start + step) % ndbs]
            if not db.expires:
                db.avg_ttl = 0
            while db.volatile:
                sampled, expired = db.expire_sample(now)
                total_sampled += sampled
                total_expired += expired
                if timer() > deadline:
                    out_of_time = True
                    break
                if expired * 100 <= sampled * ACTIVE_EXPIRE_REPEAT_PCT:
                    break
            if out_of_time:
                self._expire_cursor = (start + step + 1) % ndbs
                self.expire_time_cap_reached += 1
                break
        self.expire_cycle_us += int((timer() - began) * 1e6)
        share = total_expired / total_sampled if total_sampled else 0.0
        self.expired_stale_perc = share * 0.05 + self.expired_stale_perc * 0.95
        return self.expired_keys - before
