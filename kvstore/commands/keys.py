"""Generic key commands (Redis `db.c`, `object.c`, `cluster.c` for DUMP/RESTORE): DEL UNLINK
EXISTS TYPE TOUCH RENAME RENAMENX COPY MOVE SWAPDB SELECT DBSIZE FLUSHDB FLUSHALL OBJECT DUMP
RESTORE. KEYS, SCAN and RANDOMKEY live in `scan.py` (imported below, which registers them), the
EXPIRE family in `expire.py`.

Error precedence follows Redis, since clients see it: COPY and MOVE check their DB index before
the key, RESTORE parses its options, then refuses a busy key, then checks the TTL, then the
payload.

Values move between keys and databases by reference (RENAME, MOVE): only COPY duplicates one,
keeping its encoding as Redis's `dupObject` does. DUMP payloads are Redis's RDB format
(`engine/rdb.py`), so they move between Redis and kvstore both ways.
"""

from __future__ import annotations

from ..engine.dump import PayloadChecksumError, PayloadFormatError, copy_value, deserialize
from ..engine.dump import serialize
from ..engine.values import SHARED_INTEGERS, encoding_of, type_name
from ..errors import NO_SUCH_KEY, NOT_INTEGER, SYNTAX, BusyKeyError, CommandError
from ..numbers import INT64_MAX, parse_int
from ..replies import OK, Status
from .args import to_int
from .scan import forget_db
from .table import (
    ASKING, DENYOOM, FAST, LOADING, READONLY, STALE, WRITE, Context, KeySpec, command, container,
)

KEY1 = KeySpec(1, 1, 1)
KEYS_ALL = KeySpec(1, -1, 1)
KEYS_TWO = KeySpec(1, 2, 1)
OBJECT_KEY = KeySpec(2, 2, 1)

SAME_OBJECT = "ERR source and destination objects are the same"
DB_OUT_OF_RANGE = "ERR DB index is out of range"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
BUSYKEY = "BUSYKEY Target key name already exists."
FREQ_NOT_TRACKED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
IDLE_NOT_TRACKED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def to_int32(arg: bytes, message: str | None = None) -> int:
    """Redis `getIntFromObjectOrReply`: a 64-bit integer, then the int range check."""
    try:
        n = parse_int(arg)
    except ValueError:
        raise CommandError(message or NOT_INTEGER) from None
    if not INT32_MIN <= n <= INT32_MAX:
        raise CommandError(message or INT_RANGE)
    return n


def db_index(ctx: Context, arg: bytes) -> int:
    """A DB index argument (SELECT, MOVE, COPY ... DB): int, then in range."""
    index = to_int32(arg)
    if not 0 <= index < len(ctx.ks.dbs):
        raise CommandError(DB_OUT_OF_RANGE)
    return index


# -- existence, type, deletion ---------------------------------------------------------------------


def _delete(ctx: Context, argv: list[bytes], lazy: bool) -> int:
    db = ctx.db
    now = ctx.now
    lookup = db.lookup
    notify = ctx.notify
    free = ctx.ks.lazyfree.free if lazy else None
    deleted = 0
    gone: list[bytes] | None = [] if len(argv) > 2 else None
    for key in argv[1:]:
        value = lookup(key, now)
        if value is not None:
            db.delete(key)
            if free is not None:
                free(value)
            deleted += 1
            notify("g", "del", key)
            if gone is not None:
                gone.append(key)
    if deleted:
        ctx.ks.dirty += deleted
        if gone is not None and deleted < len(argv) - 1:
            ctx.touched = (argv, gone)  # the absent keys did not change
    return deleted


@command("del", -2, WRITE, KEYS_ALL, "generic")
def del_(ctx: Context, argv: list[bytes]):
    """DEL key [key ...]

    Complexity: O(N) keys. Reply: integer, the number of keys removed. Big values are freed
    in the background under lazyfree-lazy-user-del, as UNLINK's.
    """
    return _delete(ctx, argv, ctx.ks.lazy_user_del)


@command("unlink", -2, WRITE | FAST, KEYS_ALL, "generic")
def unlink(ctx: Context, argv: list[bytes]):
    """UNLINK key [key ...]

    Complexity: O(1) per key. Reply: integer, the number of keys removed. A big value (more
    than 64 allocations to free: engine.lazyfree) is freed in the background, a slice at a time.
    """
    return _delete(ctx, argv, True)


@command("exists", -2, READONLY | FAST, KEYS_ALL, "generic")
def exists(ctx: Context, argv: list[bytes]):
    """EXISTS key [key ...]

    Complexity: O(N) keys. Reply: integer, how many of the keys exist (repeats count again).
    """
    read = ctx.read
    return sum(1 for key in argv[1:] if read(key) is not None)


@command("touch", -2, READONLY | FAST, KEYS_ALL, "generic")
def touch(ctx: Context, argv: list[bytes]):
    """TOUCH key [key ...]

    Complexity: O(N) keys. Reply: integer, how many of the keys exist. (We keep no access
    times, so touching changes nothing else.)
    """
    return exists(ctx, argv)


_TYPE_STATUS = {
    name.encode(): Status(name) for name in ("string", "list", "set", "zset", "hash", "stream")
}
_NONE = Status("none")


@command("type", 2, READONLY | FAST, KEY1, "generic")
def type_(ctx: Context, argv: list[bytes]):
    """TYPE key

    Complexity: O(1). Reply: status, the type name or "none".
    """
    value = ctx.read(argv[1])
    if value is None:
        return _NONE
    name = type_name(value)
    return _TYPE_STATUS.get(name) or Status(name.decode())


# -- renaming, copying, moving ---------------------------------------------------------------------


def _transfer(src_db, src: bytes, dst_db, dst: bytes, value: object) -> None:
    """Take `src` out of src_db and store `value` (its value) at `dst` in dst_db, with src's TTL
    (RENAME, MOVE). `dst` must be free."""
    when = src_db.expires.get(src)
    mark = src_db.encodings.get(src)
    src_db.delete(src)
    dst_db.add(dst, value)
    if when is not None:
        dst_db.set_expire(dst, when)
    if mark is not None:  # the same object: an encoding mark still names it
        dst_db.encodings[dst] = mark


def _rename(ctx: Context, argv: list[bytes], nx: bool):
    src, dst = argv[1], argv[2]
    db = ctx.db
    now = ctx.now
    value = db.lookup(src, now)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    if db.lookup(dst, now) is not None:
        if nx:
            return 0
        db.delete(dst)
    _transfer(db, src, db, dst, value)
    ctx.ks.dirty += 1
    ctx.notify("g", "rename_from", src)
    ctx.notify("g", "rename_to", dst)
    return 1 if nx else OK


@command("rename", 3, WRITE, KEYS_TWO, "generic")
def rename(ctx: Context, argv: list[bytes]):
    """RENAME key newkey

    Complexity: O(1). Reply: OK; "ERR no such key" when key is missing. The TTL moves along.
    """
    return _rename(ctx, argv, False)


@command("renamenx", 3, WRITE | FAST, KEYS_TWO, "generic")
def renamenx(ctx: Context, argv: list[bytes]):
    """RENAMENX key newkey

    Complexity: O(1). Reply: integer, 1 if renamed, 0 if newkey exists.
    """
    return _rename(ctx, argv, True)


@command("copy", -3, WRITE | DENYOOM, KEYS_TWO, "generic")
def copy(ctx: Context, argv: list[bytes]):
    """COPY source destination [DB destination-db] [REPLACE]

    Complexity: O(N) in the size of the value. Reply: integer, 1 if copied, 0 if not (no
    source, or destination exists without REPLACE). The TTL is copied too.
    """
    src, dst = argv[1], argv[2]
    dst_db = ctx.db
    replace = False
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and i + 1 < len(argv):
            dst_db = ctx.ks.dbs[db_index(ctx, argv[i + 1])]
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if dst_db is ctx.db and src == dst:
        raise CommandError(SAME_OBJECT)
    value = ctx.read(src)
    if value is None:
        return 0
    when = ctx.db.expires.get(src)
    if dst_db.lookup(dst, ctx.now) is not None:
        if not replace:
            return 0
        dst_db.delete(dst)
    dst_db.add(dst, copy_value(value))
    if when is not None:
        dst_db.set_expire(dst, when)
    mark = ctx.db.encodings.get(src)
    if mark is not None:  # Redis's dupObject keeps a string's encoding; ours shares the bytes
        dst_db.encodings[dst] = mark
    elif type(value) is bytes and encoding_of(value) == b"int":
        dst_db.mark_encoding(dst, value, b"int")  # a copy of a shared integer is not shared
    ctx.ks.dirty += 1
    _notify_in(ctx, dst_db, "copy_to", dst)
    return 1


def _notify_in(ctx: Context, db, event: str, key: bytes) -> None:
    """A generic keyspace event in `db`, which may not be the selected one (Redis sends
    copy_to and move_to where the key lands). `ctx.notify` reads the db from the context."""
    selected = ctx.db
    ctx.db = db
    try:
        ctx.notify("g", event, key)
    finally:
        ctx.db = selected


@command("move", 3, WRITE | FAST, KEY1, "generic")
def move(ctx: Context, argv: list[bytes]):
    """MOVE key db

    Complexity: O(1). Reply: integer, 1 if moved, 0 if key is missing or exists in db.
    """
    key = argv[1]
    dst_db = ctx.ks.dbs[db_index(ctx, argv[2])]
    src_db = ctx.db
    if dst_db is src_db:
        raise CommandError(SAME_OBJECT)
    value = src_db.lookup(key, ctx.now)
    if value is None or dst_db.lookup(key, ctx.now) is not None:
        return 0
    _transfer(src_db, key, dst_db, key, value)
    ctx.ks.dirty += 1
    ctx.notify("g", "move_from", key)
    _notify_in(ctx, dst_db, "move_to", key)
    return 1


# -- databases -------------------------------------------------------------------------------------


@command("select", 2, LOADING | STALE | FAST, KeySpec(), "connection")
def select(ctx: Context, argv: list[bytes]):
    """SELECT index

    Complexity: O(1). Reply: OK.
    """
    ctx.select(db_index(ctx, argv[1]))
    return OK


@command("swapdb", 3, WRITE | FAST, KeySpec(), "server")
def swapdb(ctx: Context, argv: list[bytes]):
    """SWAPDB index1 index2

    Complexity: O(1). Reply: OK. Connections keep their db number and see the other contents.
    """
    first = to_int32(argv[1], "ERR invalid first DB index")
    second = to_int32(argv[2], "ERR invalid second DB index")
    n = len(ctx.ks.dbs)
    if not (0 <= first < n and 0 <= second < n):
        raise CommandError(DB_OUT_OF_RANGE)
    if first != second:
        ctx.ks.swap(first, second)
    ctx.ks.dirty += 1  # Redis counts a swap (even of a db with itself) as a change
    return OK


@command("dbsize", 1, READONLY | FAST, KeySpec(), "server")
def dbsize(ctx: Context, argv: list[bytes]):
    """DBSIZE

    Complexity: O(1). Reply: integer, keys in the current db (expired ones not yet reclaimed
    included, as in Redis).
    """
    return len(ctx.db.data)


def _flush_async(ctx: Context, argv: list[bytes]) -> bool:
    """FLUSHDB / FLUSHALL [ASYNC | SYNC]: whether the keys go to lazy freeing (ASYNC, or
    neither under lazyfree-lazy-user-flush)."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"sync", b"async")):
        raise CommandError(SYNTAX)
    return argv[1].lower() == b"async" if len(argv) == 2 else ctx.ks.lazy_user_flush


@command("flushdb", -1, WRITE, KeySpec(), "server")
def flushdb(ctx: Context, argv: list[bytes]):
    """FLUSHDB [ASYNC | SYNC]

    Complexity: O(N) keys. Reply: OK. Counts the keys removed as changes, and is propagated
    even when it removed none: Redis forces it to replicas and the AOF.
    """
    lazy = _flush_async(ctx, argv)
    db = ctx.db
    removed = len(db.data)
    tables = db.data, db.expires
    db.flush()
    forget_db(ctx.ks, db)
    if lazy:
        ctx.ks.lazyfree.free_table(*tables)
    ctx.ks.dirty += removed
    ctx.ks.force_propagation()
    return OK


@command("flushall", -1, WRITE, KeySpec(), "server")
def flushall(ctx: Context, argv: list[bytes]):
    """FLUSHALL [ASYNC | SYNC]

    Complexity: O(N) keys. Reply: OK. As FLUSHDB for changes and propagation; with save rules
    (`save`), the empty data set is saved at once, as in Redis (persistence.after_flushall).
    """
    lazy = _flush_async(ctx, argv)
    ks = ctx.ks
    removed = sum(len(db.data) for db in ks.dbs)
    tables = [(db.data, db.expires) for db in ks.dbs]
    ks.flushall()
    for db in ks.dbs:
        forget_db(ks, db)
    if lazy:
        for data, expires in tables:
            ks.lazyfree.free_table(data, expires)
    ks.dirty += removed
    ks.force_propagation()
    p = getattr(ks, "persistence", None)
    if p is not None:
        p.after_flushall()
    return OK


# -- OBJECT ----------------------------------------------------------------------------------------

container("object", -2, 0, "generic")


@command("object|encoding", 3, READONLY, OBJECT_KEY, "generic")
def object_encoding(ctx: Context, argv: list[bytes]):
    """OBJECT ENCODING key

    Complexity: O(1). Reply: the encoding Redis would use, or null.
    """
    key = argv[2]
    value = ctx.read(key, notify=False)
    return None if value is None else value_encoding(ctx, key, value)


def value_encoding(ctx: Context, key: bytes, value: object) -> bytes:
    """What OBJECT ENCODING says of `value`, stored at `key`."""
    if type(value) is bytes:
        return ctx.db.string_encoding(key, value) or encoding_of(value)
    return encoding_of(value)


@command("object|refcount", 3, READONLY, OBJECT_KEY, "generic")
def object_refcount(ctx: Context, argv: list[bytes]):
    """OBJECT REFCOUNT key

    Complexity: O(1). Reply: integer: INT_MAX for a shared integer 0..9999, else 1; or null.
    """
    key = argv[2]
    value = ctx.read(key, notify=False)
    return None if value is None else value_refcount(ctx, key, value)


def value_refcount(ctx: Context, key: bytes, value: object) -> int:
    """What OBJECT REFCOUNT says of `value`, stored at `key`."""
    # Shared (OBJ_SHARED_REFCOUNT): an integer 0..9999 stored by its bytes, not one marked by
    # how it was written (APPEND, COPY, ...: Redis's copies are its own objects).
    if type(value) is bytes and len(value) <= 4 and encoding_of(value) == b"int" \
            and ctx.db.string_encoding(key, value) is None and 0 <= int(value) < SHARED_INTEGERS:
        return INT32_MAX
    client = ctx.client
    if ctx.in_multi and client is not None and any(
            a is value for _, queued in client.queue for a in queued):
        # A string stored from an argument of a queued command (SET, MSET, APPEND...): until
        # EXEC ends Redis's transaction queue holds the same object, a second reference.
        return 2
    return 1


@command("object|idletime", 3, READONLY, OBJECT_KEY, "generic")
def object_idletime(ctx: Context, argv: list[bytes]):
    """OBJECT IDLETIME key

    Complexity: O(1). Reply: integer, seconds since the key was last accessed under an LRU
    maxmemory-policy (0 under the default policy: access times are kept only for LRU and LFU
    policies); Redis's error under an LFU policy; or null for a missing key.
    """
    key = argv[2]
    if ctx.read(key, notify=False) is None:
        return None
    access = ctx.ks.access
    idle = access.idle_seconds(ctx.db.id, key) if access is not None else 0
    if idle is None:
        raise CommandError(IDLE_NOT_TRACKED)
    return idle


@command("object|freq", 3, READONLY, OBJECT_KEY, "generic")
def object_freq(ctx: Context, argv: list[bytes]):
    """OBJECT FREQ key

    Complexity: O(1). Reply: null for a missing key, else its logarithmic access counter under
    an LFU maxmemory-policy, or Redis's error under any other.
    """
    key = argv[2]
    if ctx.read(key, notify=False) is None:
        return None
    access = ctx.ks.access
    freq = access.frequency(ctx.db.id, key) if access is not None else None
    if freq is None:
        raise CommandError(FREQ_NOT_TRACKED)
    return freq


_OBJECT_HELP = [
    Status(line) for line in (
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    )
]


@command("object|help", 2, LOADING | STALE, KeySpec(), "generic")
def object_help(ctx: Context, argv: list[bytes]):
    """OBJECT HELP

    Reply: array of status lines.
    """
    return list(_OBJECT_HELP)


# -- DUMP / RESTORE --------------------------------------------------------------------------------


@command("dump", 2, READONLY, KEY1, "generic")
def dump(ctx: Context, argv: list[bytes]):
    """DUMP key

    Complexity: O(N) in the value's size. Reply: the payload (Redis's RDB format, see
    engine/rdb.py), or null.
    """
    value = ctx.read(argv[1])
    return None if value is None else serialize(value)


def _restore_options(argv: list[bytes]) -> tuple[bool, bool, int | None, int | None]:
    """(replace, absttl, idle seconds, LFU frequency) from RESTORE's options."""
    replace = absttl = False
    idle = freq = None
    i = 4
    while i < len(argv):
        opt = argv[i].lower()
        more = i + 1 < len(argv)
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more and freq is None:
            idle = to_int(argv[i + 1])
            if idle < 0:
                raise CommandError("ERR Invalid IDLETIME value, must be >= 0")
            i += 1
        elif opt == b"freq" and more and idle is None:
            freq = to_int(argv[i + 1])
            if not 0 <= freq <= 255:
                raise CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return replace, absttl, idle, freq


@command("restore", -4, WRITE | DENYOOM, KEY1, "generic")
def restore(ctx: Context, argv: list[bytes]):
    """RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]

    Complexity: O(N) in the value's size. Reply: OK. A TTL already in the past creates nothing
    (and with REPLACE deletes the old key, logged as DEL); a relative TTL is logged as ABSTTL.
    """
    key = argv[1]
    replace, absttl, idle, freq = _restore_options(argv)
    db = ctx.db
    now = ctx.now
    if not replace and db.lookup(key, now) is not None:
        raise BusyKeyError(BUSYKEY)
    ttl = to_int(argv[2])
    if ttl < 0:
        raise CommandError("ERR Invalid TTL value, must be >= 0")
    try:
        value = deserialize(argv[3], ctx.ks.limits, not ctx.ks.skip_checksum_validation)
    except PayloadChecksumError:
        raise CommandError("ERR DUMP payload version or checksum are wrong") from None
    except PayloadFormatError as exc:
        if ctx.client is not None:  # (Redis logs why, in verbose: rdbReportError)
            ctx.client.server.log.verbose("Internal error in RDB reading RESTORE payload -> %s",
                                          exc)
        raise CommandError("ERR Bad data format") from None
    deleted = replace and db.lookup(key, now) is not None and db.delete(key)
    if ttl and not absttl:
        ttl += now
        if ttl > INT64_MAX:  # C's signed overflow wraps: the key is born expired
            ttl -= 1 << 64
    if ttl and ttl <= now:
        if deleted:
            ctx.ks.dirty += 1
            ctx.effects = [[b"DEL", key]]
            ctx.notify("g", "del", key)
        return OK
    db.add(key, value)
    if ttl:
        db.set_expire(key, ttl)
        if not absttl:
            ctx.effects = [[b"RESTORE", key, b"%d" % ttl, *argv[3:], b"ABSTTL"]]
    access = ctx.ks.access
    if access is not None and (idle is not None or freq is not None):
        access.restored(db.id, key, idle, freq)  # under the policy that keeps it, as Redis
    ctx.ks.dirty += 1
    ctx.notify("g", "restore", key)
    return OK


# What Redis Cluster's MIGRATE sends to a node importing the key's slot (after ASKING); with no
# cluster mode it is RESTORE.
command("restore-asking", -4, WRITE | DENYOOM | ASKING, KEY1, "generic")(restore)
