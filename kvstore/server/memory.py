"""maxmemory: the used-memory estimate and eviction (Redis `evict.c`, approximated).

Used memory. Python cannot ask "how many bytes do my keys take" cheaply: tracemalloc slows every
allocation, and RSS never goes down once CPython has touched memory. glibc's `mallinfo2()` reports
the bytes malloc has handed out (`uordblks`, in-use heap) plus mmapped chunks (`hblkhd`), and it
does shrink when objects are freed. It does not see pymalloc's arenas, which CPython maps itself
and where every object of 512 bytes or less lives: most keys and small values. So while
maxmemory is set, what a key and its value hold there is estimated from 32 keys drawn every
100 ms (`estimate_small`, by sys.getsizeof) and counted per key, and the key tables count per
key too (`_keys_adjustment`). The estimate is that figure minus what the process held when the
server became ready (`baseline`), so an empty server uses ~0 as in Redis: with 100-byte values
under maxmemory 20mb, kvstore keeps 85,790 keys where Redis keeps 89,021. A reading costs
~1-2 microseconds, a third of a pipelined write's CPU under maxmemory, so it is not taken
before every command as Redis reads its counter: while maxmemory is set it is taken again
before a command once the keyspace has changed since the last reading and WRITE_SAMPLE_MS has
passed, or MEMORY_SAMPLE_MS has passed (client buffers), and during eviction after every
EVICT_BATCH keys. Memory a command itself allocates takes time to
fill, so a write that grows memory by much (a SETBIT far out, a big SUNIONSTORE) is seen by the
next command, even in the same pipeline; what cheap writes allocate between two readings is a
few KB.

Access information (LRU/LFU). Tracking every access would slow every read for users who keep the
default policy, so access info lives in a side dict (`atime`: (db, key) -> last access in
seconds, or Redis's LFU word: minutes of the last access << 8 | logarithmic counter) that exists
only under an LFU policy, or an LRU one with maxmemory set; keys are recorded in the server's
gated pre-command hook (`touch`), raised while `atime` exists. That path costs a pipelined GET
2.4x (LRU) to 3.1x (LFU) its CPU, too much to keep idle times nobody evicts by, but an LFU
policy is how Redis users ask for access frequencies (`redis-cli --hotkeys`). OBJECT
IDLETIME and OBJECT FREQ read it, and the commands Redis looks up without touching (OBJECT, TYPE,
TTL, EXISTS, ...) skip it. A key missing before a command gets a fresh entry (LRU: now) or none
(LFU: the initial counter), so a re-created key starts anew as in Redis. Entries of keys gone
since are dropped when the dict has doubled since the last pruning (amortised O(1)), so it
stays within about twice the number of keys.

Eviction follows Redis: take `maxmemory-samples` random candidates (all keys or keys with a TTL,
per policy) from each database, merge them into the pool of the EVICTION_POOL_SIZE best seen so
far (Redis's eviction pool, kept between evictions: idlest, least frequent or soonest to
expire), evict the best one still there, repeat until under the limit; the random policies
evict a random candidate. If nothing can be evicted, refuse DENYOOM commands with the OOM
error.
Random access into a dict is O(n), so all-keys sampling draws from a snapshot list of keys,
rebuilt when it is mostly stale (amortised O(1)); volatile sampling uses the keyspace's
`volatile` list.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import random
import sys
import time
from itertools import islice

from ..commands.table import Context

# Memory is read again before a command after WRITE_SAMPLE_MS if the keyspace changed meanwhile,
# else after MEMORY_SAMPLE_MS (client buffers grow too). A 400 KB SETBIT takes ~200 us.
WRITE_SAMPLE_MS = 0.05
MEMORY_SAMPLE_MS = 1
EVICT_BATCH = 16          # keys evicted between two memory readings
EVICT_MAX_PER_CALL = 10000  # bounds the latency of one command, like Redis's tenacity
# pymalloc serves objects up to this size from arenas it maps itself, which mallinfo2 does not
# count; bigger ones come from malloc, which it does.
SMALL_OBJECT_MAX = 512
SMALL_SAMPLES = 32   # keys drawn per estimate of what small objects a key holds
SMALL_MEMBERS = 4    # members drawn per container for that estimate


def _small(obj: object) -> int:
    size = sys.getsizeof(obj)
    return size if size <= SMALL_OBJECT_MAX else 0


def small_bytes(key: bytes, value: object) -> int:
    """About what `key` and `value` hold in pymalloc's arenas: the small objects, a
    container's members estimated from its first SMALL_MEMBERS."""
    total = _small(key) + _small(value)
    if type(value) is bytes:
        return total
    scores = getattr(value, "scores", None)  # a sorted set: its members and float scores
    members = scores() if scores is not None else value
    n = len(members) if hasattr(members, "__len__") else 0
    if not n:
        return total
    each = 0
    picked = 0
    items = members.items() if isinstance(members, dict) else members
    for item in islice(items, SMALL_MEMBERS):
        if type(item) is tuple:
            each += _small(item[0]) + _small(item[1])
        else:
            each += _small(item)
        picked += 1
    return total + each * n // picked


# A key's share of its database's table (CPython 3.11: a 24-byte entry and a 4-byte index per
# slot, at 1/3 to 2/3 of the slots used): see Memory._keys_adjustment.
TABLE_BYTES_PER_KEY = 48
EVICTION_POOL_SIZE = 16  # Redis's EVPOOL_SIZE
LFU_INIT_VAL = 5
_PRUNE_MIN = 1024  # access entries kept before the first pruning
OOM_TEXT = "OOM command not allowed when used memory > 'maxmemory'."


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _libc_function(name: str):
    """glibc's `name`, or None where it is missing (another libc, an older glibc)."""
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None


_MALLINFO = _libc_function("mallinfo2")
if _MALLINFO is not None:
    _MALLINFO.restype = _MallInfo2
_MALLOC_TRIM = _libc_function("malloc_trim")
_MALLOPT = _libc_function("mallopt")
_M_TRIM_THRESHOLD = -1  # mallopt's parameters
_M_MMAP_THRESHOLD = -3
# A server's malloc thresholds. glibc starts at 128 KB for both and raises them only once a
# mapped block has been freed, so until then a free leaving over 128 KB free at the heap's top
# gives those pages back and the next allocation faults them in again: 16 GETs of a 4 KB value
# (a 64 KB reply a read) cost 2.75 us of server CPU a request, 1.85 with these (the same
# process, once an earlier load had raised them: 1.70). Free heap top up to TRIM_THRESHOLD is
# kept; blocks from MMAP_THRESHOLD up are mapped, and unmapped when freed.
MMAP_THRESHOLD = 4 << 20
TRIM_THRESHOLD = 16 << 20


def tune_malloc() -> None:
    """Set the server's malloc thresholds (glibc; nothing elsewhere). Not for the embedded
    store: the process is its user's."""
    if _MALLOPT is not None:
        _MALLOPT(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        _MALLOPT(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def release_free_memory() -> None:
    """Give free heap pages back to the OS (MEMORY PURGE; jemalloc's purge in Redis)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def allocated_bytes() -> int:
    """Bytes handed out by malloc (heap in use + mmapped), or RSS where mallinfo2 is missing."""
    if _MALLINFO is not None:
        info = _MALLINFO()
        return info.uordblks + info.hblkhd
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:
        return 0


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:
        return 0


class Memory:
    """The server's memory estimate, maxmemory settings, access info and evictor."""

    def __init__(self, server) -> None:
        self.server = server
        self.maxmemory = 0
        self.policy = "noeviction"
        self.base = 0
        self.used = 0
        self.peak = 0
        self.last_sample = 0.0
        self.sampled_dirty = -1  # the keyspace's change counter at the last reading
        # Bytes a key and its value hold in pymalloc's arenas, unseen by mallinfo2, estimated
        # from sampled keys while maxmemory is set (`estimate_small`); 0 otherwise.
        self.small_per_key = 0.0
        self.atime: dict | None = None
        self.lfu = False
        self._prune_at = 0
        self._snapshots: dict[int, list] = {}
        self._rng = random.Random()
        # The best candidates seen, worst first: (score, db id, key), as Redis's EvictionPool
        self._pool: list[tuple[float, int, bytes]] = []

    def configure(self, maxmemory: int, policy: str) -> None:
        changed = self.maxmemory != maxmemory
        self.maxmemory = maxmemory
        if policy != self.policy:
            self._pool = []  # (scores of another policy)
        self.policy = policy
        lfu = policy.endswith("lfu")
        tracking = lfu or (maxmemory > 0 and policy.endswith("lru"))
        if not maxmemory:
            self.small_per_key = 0.0
        if maxmemory and self.base:
            self.estimate_small()
            self.sample()
        if not tracking:
            self.atime = None
        elif self.atime is None or lfu != self.lfu:
            self.atime = {}  # (one kind's entries mean nothing to the other)
            self._prune_at = _PRUNE_MIN
        self.lfu = lfu
        if maxmemory and self.base and changed:
            self.make_room()  # as Redis's CONFIG SET maxmemory: evict at once, not at next write

    def baseline(self) -> None:
        self.base = allocated_bytes()
        self.sample()

    def sample(self) -> int:
        self.used = max(allocated_bytes() - self.base + self._keys_adjustment(), 0)
        self.peak = max(self.peak, self.used)
        self.last_sample = time.monotonic()
        self.sampled_dirty = self.server.ks.dirty
        return self.used

    def _keys_adjustment(self) -> int:
        """What mallinfo2 misses or overstates about the keys. The small objects of keys and
        values live in pymalloc's arenas, which it does not see: `small_per_key` a key is
        added. And a dict doubles when 2/3 full and keeps its size as keys go: counted whole,
        a table's doubling (5 MB -> 10 MB at 350K keys) could be more than evicting every key
        gave back (maxmemory emptied the database and still refused writes), so a table
        counts TABLE_BYTES_PER_KEY a key, each key evicted giving its share back."""
        adjustment = 0.0
        per_key = self.small_per_key
        for db in self.server.ks.dbs:
            data = db.data
            if data:
                n = len(data)
                adjustment += per_key * n - max(sys.getsizeof(data) - TABLE_BYTES_PER_KEY * n, 0)
                expires = db.expires
                if expires:
                    adjustment -= max(sys.getsizeof(expires) - TABLE_BYTES_PER_KEY * len(expires),
                                      0)
        return int(adjustment)

    def used_memory(self) -> int:
        elapsed = time.monotonic() - self.last_sample
        if elapsed > MEMORY_SAMPLE_MS / 1000.0 or (
                elapsed > WRITE_SAMPLE_MS / 1000.0 and self.server.ks.dirty != self.sampled_dirty):
            self.sample()
        return self.used

    # -- access info ----------------------------------------------------------------------------

    def touch(self, db, keys: list[bytes]) -> None:
        """Record an access to `keys` of `db` (before the command runs)."""
        atime = self.atime
        data = db.data
        db_id = db.id
        if not self.lfu:
            now = time.monotonic()
            for key in keys:
                atime[(db_id, key)] = now
        else:
            minutes = self._minutes()
            log_factor = self.server.config["lfu-log-factor"]
            for key in keys:
                if key not in data:
                    atime.pop((db_id, key), None)
                    continue
                counter = self._decayed(atime.get((db_id, key)), minutes)
                # Redis's LFULogIncr: the likelier the lower the counter
                if counter < 255 and self._rng.random() < 1.0 / (
                        (max(counter - LFU_INIT_VAL, 0)) * log_factor + 1):
                    counter += 1
                atime[(db_id, key)] = minutes << 8 | counter
        if len(atime) > self._prune_at:
            self._prune()

    def restored(self, db_id: int, key: bytes, idle: int | None, freq: int | None) -> None:
        """RESTORE ... IDLETIME / FREQ: the access info it carries, kept only under the policy
        that uses it (Redis's objectSetLRUOrLFU)."""
        atime = self.atime
        if atime is None:
            return
        if self.lfu and freq is not None:
            atime[(db_id, key)] = self._minutes() << 8 | freq
        elif not self.lfu and idle is not None:
            atime[(db_id, key)] = time.monotonic() - idle

    def _prune(self) -> None:
        dbs = self.server.ks.dbs
        self.atime = atime = {k: v for k, v in self.atime.items() if k[1] in dbs[k[0]].data}
        self._prune_at = max(2 * len(atime), _PRUNE_MIN)

    @staticmethod
    def _minutes() -> int:
        return int(time.monotonic() // 60) & 0xFFFF

    def _decayed(self, word: int | None, minutes: int) -> int:
        """Redis's LFUDecrAndReturn: the counter less one per lfu-decay-time minutes idle."""
        if word is None:
            return LFU_INIT_VAL
        counter = word & 255
        period = self.server.config["lfu-decay-time"]
        if period:
            idle = (minutes - (word >> 8)) & 0xFFFF
            counter = max(counter - idle // period, 0)
        return counter

    def frequency(self, db_id: int, key: bytes) -> int | None:
        """OBJECT FREQ's figure, or None when the policy is not an LFU one."""
        if self.atime is None or not self.lfu:
            return None
        return self._decayed(self.atime.get((db_id, key)), self._minutes())

    def idle_seconds(self, db_id: int, key: bytes) -> int | None:
        """OBJECT IDLETIME's figure, or None under an LFU policy. Without tracking (the default
        policy) 0: access times are not kept."""
        if self.atime is None:
            return 0
        if self.lfu:
            return None
        last = self.atime.get((db_id, key))
        return 0 if last is None else int(time.monotonic() - last)

    # -- eviction -------------------------------------------------------------------------------

    def make_room(self) -> bool:
        """Evict until used <= maxmemory. False when still over the limit with nothing left to
        evict (refuse the command: Redis's EVICT_FAIL). Past EVICT_MAX_PER_CALL keys the
        command goes on and the next commands, or the cron, evict more (Redis's EVICT_RUNNING:
        a write is refused only when nothing can make room, not because one call's share of
        the work ran out, as after a key table doubled)."""
        if self.used_memory() <= self.maxmemory:
            return True
        if self.policy == "noeviction":
            return False
        evicted = 0
        while evicted < EVICT_MAX_PER_CALL:
            for _ in range(EVICT_BATCH):
                if not self._evict_one():
                    return self.sample() <= self.maxmemory
                evicted += 1
            if self.sample() <= self.maxmemory:
                return True
        return True

    def _keys_pool(self, db) -> list[bytes]:
        """A snapshot of the database's keys to draw from (random access into a dict is
        O(n)): rebuilt when mostly stale, or when it lacks most keys (added since)."""
        pool = self._snapshots.get(db.id)
        if pool is None or len(pool) > 2 * len(db.data) + 64 or 2 * len(pool) < len(db.data):
            pool = self._snapshots[db.id] = list(db.data)
        return pool

    def estimate_small(self) -> None:
        """Re-estimate `small_per_key` from SMALL_SAMPLES random keys (the cron's, every 100 ms
        while maxmemory is set): what a key and its value hold in pymalloc's arenas."""
        total = found = 0
        dbs = [db for db in self.server.ks.dbs if db.data]
        for db in dbs:
            want = -(-SMALL_SAMPLES // len(dbs))
            for key in self._sample(db, self._keys_pool(db), want):
                total += small_bytes(key, db.data[key])
                found += 1
        if found:
            average = total / found
            # (smoothed: a few big containers drawn or not must not make the figure jump)
            self.small_per_key = average if not self.small_per_key \
                else 0.7 * self.small_per_key + 0.3 * average

    def _candidates(self, db) -> list[bytes]:
        n = self.server.config["maxmemory-samples"]
        if self.policy.startswith("volatile"):
            return self._sample(db, db.volatile, n)
        pool = self._keys_pool(db)
        out = self._sample(db, pool, n)
        if not out and db.data:  # every key drawn had gone: the live ones are not in it
            pool = self._snapshots[db.id] = list(db.data)
            out = self._sample(db, pool, n)
        return out

    def _sample(self, db, pool: list[bytes], n: int) -> list[bytes]:
        """Up to n live keys drawn from pool (a snapshot of the keys, or the database's
        `volatile`), dropping each gone one drawn. Past 2n draws it stops at the first live key:
        one is found while the pool holds any (each miss shrinks it), so an evictable key never
        goes unseen, and the misses are paid once."""
        out: list[bytes] = []
        data = db.data
        live = db.expires if pool is db.volatile else data  # (a key of expires is in data)
        rng = self._rng
        draws = 0
        while pool and len(out) < n and (draws < 2 * n or not out):
            draws += 1
            i = rng.randrange(len(pool))
            key = pool[i]
            if key in live:
                out.append(key)
            else:  # (volatile keeps every key of expires: only a gone one leaves)
                pool[i] = pool[-1]
                pool.pop()
        return out

    def _score(self, db, key: bytes) -> float:
        """Higher = better to evict."""
        policy = self.policy
        if policy.endswith("random"):
            return self._rng.random()
        if policy == "volatile-ttl":
            return -db.expires.get(key, math.inf)
        info = self.atime.get((db.id, key)) if self.atime is not None else None
        if self.lfu:
            return -self._decayed(info, self._minutes())
        return -(info if info is not None else 0.0)

    def _evict_one(self) -> bool:
        dbs = self.server.ks.dbs
        pool = [] if self.policy.endswith("random") else self._pool
        pooled = {(db_id, key) for _, db_id, key in pool}
        for db in dbs:
            if db.data:
                for key in self._candidates(db):
                    if (db.id, key) not in pooled:
                        pooled.add((db.id, key))
                        pool.append((self._score(db, key), db.id, key))
        pool.sort(key=lambda e: e[0])
        del pool[:-EVICTION_POOL_SIZE]
        volatile = self.policy.startswith("volatile")
        while pool:
            _, db_id, key = pool.pop()
            db = dbs[db_id]
            if key in (db.expires if volatile else db.data):  # (a pooled key may have gone)
                break
        else:
            return False
        db.delete(key)
        if self.atime is not None:
            self.atime.pop((db.id, key), None)
        # Not a change in `dirty` (Redis's server.dirty): an eviction makes no save due, and
        # must not make the command that caused it look like a write.
        self.server.stats.evicted_keys += 1
        self.server.notifier.fire(db.id, "e", "evicted", key)
        if self.server.write_hooks:
            ctx = Context(self.server.ks, db.id)
            ctx.effects = [[b"DEL", key]]
            for hook in self.server.write_hooks:
                hook(ctx, [b"DEL", key])
        return True
