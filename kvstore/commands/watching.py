"""WATCH bookkeeping shared by both front doors (Redis `multi.c`, `touchWatchedKey`).

Theory of operation.

A watcher is a connection object with two attributes: `watched`, a dict (db, key) -> [db, key,
expired] (one per watched key; `expired`: the key was already logically expired when WATCHed;
a dict, so that WATCH and a write find the entry in O(1) whatever the number watched), and
`dirty_cas`, set when a watched key is touched (its EXEC must then fail). `Database.watched` is
the reverse index, key -> set of watchers, so a write finds the watchers of a key in O(1).
Invariant: a watcher is in `db.watched[key]` iff [db, key, _] is in its `watched`; no set in
`db.watched` is empty.

A key is touched, as Redis's `signalModifiedKey` touches it:
- by a write command that changed the keyspace (`touch_written`, called by the front door's
  write hook with the request's argv): the keys named by the command table's key positions (or
  `Context.touched`), in the connection's database, or in the databases MOVE and COPY ... DB
  name;
- by its expiry (`on_expired`, a `Keyspace.expired_listeners` entry);
- by FLUSHDB / FLUSHALL / SWAPDB when it exists on either side (`on_flush`, a
  `Keyspace.flush_listeners` entry), as Redis 7.0's `touchAllWatchedKeysInDb`.
A write that changed fewer keys than it names (a STORE's sources, DEL's absent keys) says which
in `Context.touched`; the others touch every key they name.

Redis 7 rule for keys already expired when WATCHed: deleting such a key (by expiry, or by a
write while it is absent) is no change, and clears the flag; any other write touches it. At EXEC,
a watched key that was live when WATCHed and has expired since fails it even if nothing has
deleted it yet (`watched_key_expired`, Redis `isWatchedKeyExpired`).

Users: the server (kvstore/server/blocking.py, one hook in `server.write_hooks`) and the embedded
store for its in-process connections (`Store._watch_keys`, a hook in `Store._after_write`). Each
installs its hook and listeners only while a connection watches a key, so writes pay nothing
otherwise.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..engine.keyspace import Database
from .table import LOGGED, fast_lookup

# Writes that touch keys outside the connection's database (MOVE, COPY ... DB) or whole
# databases (FLUSH*, SWAPDB: reached through `on_flush`).
WIDE = frozenset((b"flushdb", b"flushall", b"swapdb", b"move", b"copy"))


def watch(watcher: Any, db: Database, key: bytes, now: int) -> bool:
    """WATCH one key (no-op if already watched). True when it is the watcher's first key."""
    if (db, key) in watcher.watched:
        return False
    when = db.expires.get(key)
    watcher.watched[db, key] = [db, key, when is not None and when < now]
    db.watched.setdefault(key, set()).add(watcher)
    return len(watcher.watched) == 1


def unwatch(watcher: Any) -> bool:
    """Forget every watched key and the CAS flag. True when the watcher watched anything."""
    watcher.dirty_cas = False
    if not watcher.watched:
        return False
    for db, key in watcher.watched:
        watchers = db.watched.get(key)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del db.watched[key]
    watcher.watched = {}
    return True


def touch(db: Database, keys: Iterable[bytes], expired: bool = False) -> None:
    """Mark the watchers of keys dirty (Redis `touchWatchedKey`)."""
    watched = db.watched
    for key in keys:
        watchers = watched.get(key)
        if not watchers:
            continue
        for watcher in watchers:
            entry = watcher.watched[db, key]
            if entry[2] and (key not in db.data or expired):
                # Watched while already expired: its deletion is not a change.
                entry[2] = False
            else:
                watcher.dirty_cas = True


def signal_unchanged(ctx, key: bytes) -> None:
    """Redis's signalModifiedKey for a key that a write command left as it was (an LTRIM that
    trimmed nothing): its watchers' transactions fail and its trackers hear of it, as in
    Redis, but nothing is logged, as `dirty` did not move."""
    if ctx.db.watched:
        touch(ctx.db, (key,))
    for listener in ctx.ks.signal_listeners:
        listener(ctx, key)


def written(db: Database, argv: list[bytes], touched: tuple | None = None
            ) -> list[tuple[Database, list[bytes]]] | None:
    """The (database, keys) pairs a write command on `db` changed, or None for FLUSH*/SWAPDB
    (whole databases): the keys it names, or those of `touched` (`Context.touched`) when that
    is about this argv."""
    if touched is not None and touched[0] is argv:
        return [(db, touched[1])]
    name = argv[0].lower()
    if name in WIDE:
        dbs = db.keyspace.dbs
        if name == b"move":
            return [(db, [argv[1]]), (dbs[int(argv[2])], [argv[1]])]
        if name == b"copy":
            target = db
            for i in range(3, len(argv) - 1):  # the command succeeded: its options are valid
                if argv[i].lower() == b"db":
                    target = dbs[int(argv[i + 1])]
            return [(target, [argv[2]])]
        return None
    cmd = fast_lookup(argv)
    if not cmd.flags & LOGGED:  # the MULTI and EXEC markers of a propagated transaction
        return []
    if name == b"debug":  # DEBUG POPULATE names no key: its watched <prefix>:<i> keys, now set
        prefix = (argv[3].split(b"\0", 1)[0] if len(argv) >= 4 else b"key") + b":"
        return [(db, [k for k in db.watched if k.startswith(prefix) and k in db.data])]
    return [(db, cmd.keys(argv))]


def touch_written(db: Database, argv: list[bytes], touched: tuple | None = None
                  ) -> list[tuple[Database, list[bytes]]] | None:
    """After a write on `db` that changed the keyspace: touch the keys it changed. Returns
    `written(db, argv, touched)` for the caller's other uses (the server's blocked clients)."""
    changed = written(db, argv, touched)
    if changed:
        for wdb, keys in changed:
            if wdb.watched:
                touch(wdb, keys)
    return changed


def on_flush(db: Database, other: Database | None) -> None:
    """Flush listener: before FLUSHDB/FLUSHALL empties `db` (other None) or SWAPDB swaps it with
    `other`, touch its watched keys that exist in either (Redis 7.0 `touchAllWatchedKeysInDb`).
    Logically expired keys count as absent: a stale key that goes away or is replaced by
    another stale one is no change, and an absent key replaced by a stale one becomes a key
    watched while expired."""
    if not db.watched:
        return
    now = db.keyspace.clock()
    for key, watchers in db.watched.items():
        here = key in db.data
        there = other is not None and key in other.data
        if not (here or there):
            continue
        when = other.expires.get(key) if there else None  # type: ignore[union-attr]
        stale_there = when is not None and when < now
        for watcher in watchers:
            entry = watcher.watched[db, key]
            if entry[2]:
                if not there:
                    entry[2] = False
                    continue
                if stale_there:
                    continue
            elif not here and stale_there:
                entry[2] = True
                continue
            watcher.dirty_cas = True


def on_expired(db: Database, key: bytes) -> None:
    """Expired listener: an expiry is a change (Redis deleteExpiredKeyAndPropagate)."""
    if db.watched and key in db.watched:
        touch(db, [key], expired=True)


def watched_key_expired(watcher: Any, now: int) -> bool:
    """Redis `isWatchedKeyExpired`, at EXEC: a key live when WATCHed has expired since."""
    for db, key, was_expired in watcher.watched.values():
        if not was_expired:
            when = db.expires.get(key)
            if when is not None and when < now:
                return True
    return False


__all__ = ["WIDE", "on_expired", "on_flush", "touch", "touch_written", "unwatch", "watch",
           "watched_key_expired", "written"]
