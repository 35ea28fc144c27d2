"""Enumerating keys (Redis `db.c`): KEYS, SCAN, RANDOMKEY.

KEYS matches every key against a glob compiled to a regex (engine/glob.py), in C through
`filter`; like Redis it skips expired keys without deleting them.

SCAN. Redis's cursor walks hash buckets in reverse-binary order, which a Python dict cannot do,
and a dict has no positional access either. A cursor that is a position in the dict's order
would skip keys: deleting a key shifts every later one down. So SCAN 0 takes a snapshot of the
database's keys (a list of references: 8 bytes a key, ~8 MB per 1M keys, O(n) once per full
scan, which is what a full scan costs anyway) and the cursor is (snapshot id << 32 | position).
Each call examines COUNT snapshot entries and returns those still live and matching, so: every
key present for the whole scan is returned exactly once (better than Redis's "at least once"),
keys added during the scan are not returned (allowed), and a call may return fewer than COUNT
keys, even none, with a non-zero cursor (as in Redis). A database no larger than COUNT is
returned whole with cursor 0 and no snapshot. Snapshots are kept per keyspace, least recently
used first out, at most _SCAN_MAX_SNAPSHOTS of them and _SCAN_MAX_KEYS references in all; a
finished scan frees its own, FLUSHDB / FLUSHALL free those of the flushed databases. A cursor
whose snapshot was evicted (or never existed) resumes at its position in a fresh snapshot: no
error, but then keys may be missed. A snapshot would also keep the keys deleted or expired since
it was taken (their bytes, not just 8 bytes a key), for as long as a client leaves its scan
unfinished: the server's cron calls `sweep`, which, once a database has fewer keys than its
snapshot holds, turns the entries of the gone ones to None, a bounded number per call. Positions
stay, so cursors do.

RANDOMKEY. Redis picks a random bucket in O(1). Up to _RANDOM_EXACT_MAX keys we walk to a
uniformly random position (islice, in C). Larger databases sample from a cached key list,
rebuilt when it has served 1/8 of its size or the database size drifted by 1/8; deleted entries
are dropped as they are met. Amortised O(1), at the price that a key created since the last
rebuild is not picked until the next one.
"""

from __future__ import annotations

import random
import weakref
from collections import OrderedDict
from itertools import islice

from ..engine.glob import compile_glob
from ..engine.values import type_name
from ..errors import SYNTAX, CommandError
from .args import to_int
from .table import READONLY, Context, KeySpec, command

_SCAN_DEFAULT_COUNT = 10
_SCAN_MAX_SNAPSHOTS = 64          # live SCAN snapshots per keyspace
_SCAN_MAX_KEYS = 4_000_000        # key references held by all of them (~32 MB)
_SCAN_SWEEP_BUDGET = 10_000       # snapshot entries `sweep` checks per call (~0.3 ms)
_RANDOM_EXACT_MAX = 1 << 12       # keys; above this RANDOMKEY samples a cached list
_ULONG_MAX = (1 << 64) - 1


# -- per-keyspace state ------------------------------------------------------------------------


class _KeySample:
    """RANDOMKEY's cached key list for one database (see the module docstring)."""

    __slots__ = ("data_id", "keys", "built", "served")

    def __init__(self, data: dict) -> None:
        self.data_id = id(data)
        self.keys = list(data)
        self.built = len(self.keys)
        self.served = 0


class _State:
    """SCAN snapshots (id -> (database, keys)) and RANDOMKEY samples (db index -> sample)."""

    __slots__ = ("snapshots", "held", "next_id", "samples", "__weakref__")

    def __init__(self) -> None:
        # id -> [database, keys (None: swept), sweep position, entries swept to None]
        self.snapshots: OrderedDict[int, list] = OrderedDict()
        self.held = 0
        self.next_id = 1
        self.samples: dict[int, _KeySample] = {}

    def open_scan(self, db: object, keys: list[bytes]) -> int:
        scan_id = self.next_id
        self.next_id = scan_id % 0xFFFFFFFF + 1  # 1 .. 2**32-1, so the cursor fits 64 bits
        self.snapshots[scan_id] = [db, keys, 0, 0]
        self.held += len(keys)
        while len(self.snapshots) > 1 and (
            len(self.snapshots) > _SCAN_MAX_SNAPSHOTS or self.held > _SCAN_MAX_KEYS
        ):
            _, (_, old, _, _) = self.snapshots.popitem(last=False)
            self.held -= len(old)
        return scan_id

    def close_scan(self, scan_id: int) -> None:
        entry = self.snapshots.pop(scan_id, None)
        if entry is not None:
            self.held -= len(entry[1])

    def forget_db(self, db: object) -> None:
        """Drop what refers to a flushed database, so its keys can be freed."""
        for scan_id in [i for i, entry in self.snapshots.items() if entry[0] is db]:
            self.close_scan(scan_id)
        self.samples.pop(db.id, None)  # type: ignore[attr-defined]

    def sweep(self, dbs: list, budget: int) -> None:
        """Let go of the keys gone from the databases since their snapshots and samples were
        taken (see the module docstring); checks at most `budget` snapshot entries."""
        for entry in self.snapshots.values():
            db, keys, pos, swept = entry
            data = db.data
            if pos == 0 and len(data) >= len(keys) - swept:
                continue  # nothing deleted since the last pass (or as many keys added)
            end = min(pos + budget, len(keys))
            for i in range(pos, end):
                key = keys[i]
                if key is not None and key not in data:
                    keys[i] = None
                    swept += 1
            entry[2], entry[3] = (0 if end == len(keys) else end), swept
            budget -= end - pos
            if budget <= 0:
                return
        # (a sample the database drifted from is rebuilt at the next RANDOMKEY anyway)
        for db_id, sample in list(self.samples.items()):
            data = dbs[db_id].data
            if sample.data_id != id(data) or abs(len(data) - sample.built) * 8 > sample.built:
                del self.samples[db_id]


_STATES: "weakref.WeakKeyDictionary[object, _State]" = weakref.WeakKeyDictionary()


def _state(ks: object) -> _State:
    state = _STATES.get(ks)
    if state is None:
        state = _STATES[ks] = _State()
    return state


def sweep(ks) -> None:
    """The server cron's: free the keys unfinished scans' snapshots would keep (`_State.sweep`)."""
    state = _STATES.get(ks)
    if state is not None and (state.snapshots or state.samples):
        state.sweep(ks.dbs, _SCAN_SWEEP_BUDGET)


def forget_db(ks: object, db: object) -> None:
    """Drop the snapshots and samples of a flushed database (FLUSHDB, FLUSHALL), so its keys
    can be freed now rather than when the state would have been evicted."""
    state = _STATES.get(ks)
    if state is not None:
        state.forget_db(db)


# -- KEYS, SCAN, RANDOMKEY -------------------------------------------------------------------------


def _live(db, keys: list[bytes], now: int) -> list[bytes]:
    """`keys` without the expired ones (KEYS does not delete them, as in Redis)."""
    expires = db.expires
    if not expires:
        return keys
    dead = {k for k, when in expires.items() if when < now}
    return [k for k in keys if k not in dead] if dead else keys


@command("keys", 2, READONLY, KeySpec(), "generic")
def keys(ctx: Context, argv: list[bytes]):
    """KEYS pattern

    Complexity: O(N) keys, matching in C (compiled glob). Reply: array of keys.
    """
    pattern = argv[1]
    data = ctx.db.data
    if pattern == b"*":
        found = list(data)
    else:
        found = list(filter(compile_glob(pattern), data))
    return _live(ctx.db, found, ctx.now)


def parse_cursor(arg: bytes) -> int:
    """A SCAN cursor as Redis 7.0 reads it (`strtoul` base 10): an optional sign (a negative
    value wraps modulo 2**64, so "-1" is 2**64 - 1), leading zeros, no leading space, no
    trailing garbage, "" is 0. Redis reads the argument as a C string, so a NUL byte ends it."""
    if b"\0" in arg:
        arg = arg[:arg.index(b"\0")]
    if not arg:
        return 0
    digits = arg[1:] if arg[0] in b"+-" else arg
    if not digits.isdigit():
        raise CommandError("ERR invalid cursor")
    digits = digits.lstrip(b"0")
    # Over 20 significant digits is past 2**64 (strtoul's ERANGE); checking the length first
    # also keeps int() away from its 4300-digit limit.
    if len(digits) > 20 or (digits and int(digits) > _ULONG_MAX):
        raise CommandError("ERR invalid cursor")
    n = int(digits) if digits else 0
    return (-n) & _ULONG_MAX if arg[0] == 0x2D else n


def _scan_options(argv: list[bytes]) -> tuple[int, bytes | None, bytes | None]:
    """(count, pattern or None, lowercase type name or None) from SCAN's options."""
    count = _SCAN_DEFAULT_COUNT
    pattern = type_filter = None
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        if len(argv) - i < 2 or opt not in (b"count", b"match", b"type"):
            raise CommandError(SYNTAX)
        arg = argv[i + 1]
        if opt == b"count":
            count = to_int(arg)
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match":
            pattern = None if arg == b"*" else arg  # "*" matches all: no filter
        else:
            type_filter = arg.lower()
        i += 2
    return count, pattern, type_filter


@command("scan", -2, READONLY, KeySpec(), "generic")
def scan(ctx: Context, argv: list[bytes]):
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]

    Complexity: O(COUNT) per call, plus O(N) for the snapshot a new scan takes (see the module
    docstring). Reply: [next cursor, [key, ...]].
    """
    cursor = parse_cursor(argv[1])
    count, pattern, type_filter = _scan_options(argv)
    db = ctx.db
    data = db.data
    if cursor == 0 and count >= len(data):
        chunk, next_cursor = list(data), 0
    else:
        state = _state(ctx.ks)
        scan_id, pos = cursor >> 32, cursor & 0xFFFFFFFF
        entry = state.snapshots.get(scan_id) if cursor else None
        if entry is not None and entry[0] is db:
            snapshot = entry[1]
            state.snapshots.move_to_end(scan_id)
        else:
            snapshot = list(data)
            scan_id = state.open_scan(db, snapshot)
        end = pos + count
        chunk = snapshot[pos:end]
        if end >= len(snapshot):
            state.close_scan(scan_id)
            next_cursor = 0
        else:
            next_cursor = scan_id << 32 | end
    return [b"%d" % next_cursor, _scan_filter(ctx, chunk, pattern, type_filter)]


def _scan_filter(ctx: Context, chunk: list[bytes], pattern, type_filter) -> list[bytes]:
    """The keys of `chunk` still live and matching, in Redis's order of checks: pattern, type,
    then expiry (an expired key met by SCAN is deleted, as Redis does). The type is checked by
    a read of the key (Context.read: counted, and expiring it), after which an expired key is
    "none" and no longer has a TTL, so that TYPE none lists it, as in Redis."""
    db = ctx.db
    data = db.data
    expires = db.expires
    now = ctx.now
    match = compile_glob(pattern) if pattern is not None else None
    out = []
    for key in chunk:
        if key is None:  # swept: gone since the snapshot was taken
            continue
        if match is not None and match(key) is None:
            continue
        value = data.get(key)
        if value is None:  # deleted since the snapshot was taken
            continue
        if type_filter is not None:
            value = ctx.read(key)
            if (b"none" if value is None else type_name(value)) != type_filter:
                continue
        if key in expires and expires[key] < now:
            db.expire_key(key)
            continue
        out.append(key)
    return out


def _sampled_key(ctx: Context) -> bytes | None:
    """A random key of a big database from the cached sample (see the module docstring)."""
    db = ctx.db
    data = db.data
    samples = _state(ctx.ks).samples
    sample = samples.get(db.id)
    if (
        sample is None
        or sample.data_id != id(data)
        or sample.served * 8 > sample.built
        or abs(len(data) - sample.built) * 8 > sample.built
    ):
        sample = samples[db.id] = _KeySample(data)
    keys = sample.keys
    while keys:
        i = random.randrange(len(keys))
        key = keys[i]
        if key in data:
            sample.served += 1
            return key
        keys[i] = keys[-1]  # gone since the sample was taken: swap-remove, O(1)
        keys.pop()
    del samples[db.id]
    return None


@command("randomkey", 1, READONLY, KeySpec(), "generic")
def randomkey(ctx: Context, argv: list[bytes]):
    """RANDOMKEY

    Complexity: O(1) amortised (see the module docstring). Reply: a key, or null when the db
    is empty. An expired key picked is deleted and another one is tried, as in Redis.
    """
    db = ctx.db
    tries = 100
    while db.data:
        data = db.data
        if len(data) <= _RANDOM_EXACT_MAX:
            key = next(islice(data, random.randrange(len(data)), None))
        else:
            key = _sampled_key(ctx)
            if key is None:
                continue
        if db.lookup(key, ctx.now) is not None:
            return key
        tries -= 1
        if ctx.ks.replica and tries <= 0 and len(db.expires) == len(data):
            # A replica never deletes expired keys: with every key expired the loop would not
            # end, so Redis gives up after 100 tries and returns an expired key.
            return key
    return None
