"""Hash commands. A hash is a `Hash` (a dict field -> value, both bytes) in the keyspace.

Encoding: Redis keeps a hash as a listpack until it holds more than `hash-max-listpack-entries`
fields or any field or value longer than `hash-max-listpack-value` bytes, then converts it to a
hash table for good (Redis 7.0 checks every field and value it writes: HSET, HSETNX, HINCRBY,
HINCRBYFLOAT). `Hash.big` mirrors that flag; OBJECT ENCODING reads it, HSCAN uses it to choose
between "everything in one reply" (listpack) and a cursor walk (hash table).

Order: a listpack keeps insertion order, an update keeps the field in place and a deleted field
leaves the order of the others alone: exactly a Python dict's order. So HKEYS / HGETALL / HSCAN of
a small hash come out in Redis's order; for a big one Redis uses hash-table order, which clients
must not rely on.

The SCAN helpers (`parse_scan_options`, `scan_reply`; the cursor is scan.py's `parse_cursor`)
and `parse_rand_count` live here and serve the set commands too. Scans follow Redis's `scanGenericCommand`: the cursor
is checked before the key is looked up, the options after (so a missing key with bad options
still replies an empty scan). A big container's scan walks a snapshot of its members (see
`_SCANS`): each step costs O(COUNT), and a member present throughout comes exactly once.

Random picks (HRANDFIELD) go through engine.picker: O(1) each from a big hash, whose
random-access index every handler here that adds or removes a field keeps up to date (a small
hash is walked instead). Overwriting a field's value leaves the index alone.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from functools import partial

from ..errors import NOT_INTEGER, OVERFLOW, SYNTAX, CommandError, wrong_args, wrongtype
from ..numbers import (
    INT64_MAX, INT64_MIN, add_long_double, format_long_double, is_finite_long_double,
    parse_int, parse_long_double,
)
from ..engine.glob import compile_glob
from ..engine.picker import random_distinct, random_member, random_repeats
from ..engine.values import Hash, give_back
from ..replies import OK
from .args import repeated_picks, to_int
from .scan import parse_cursor
from .table import (DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command, no_notify,
                    run_handler)

KEY1 = KeySpec(1, 1, 1)

# getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): HRANDFIELD / SRANDMEMBER counts.
COUNT_RANGE = "ERR value is out of range, value must between -9223372036854775807 and " \
              "9223372036854775807"
# With WITHVALUES the reply has 2*count entries, so Redis caps |count| at LONG_MAX / 2.
_HALF_LONG = INT64_MAX // 2
# SCAN's default COUNT (Redis scanGenericCommand).
SCAN_DEFAULT_COUNT = 10


def get_hash(ctx: Context, key: bytes) -> Hash | None:
    """The hash at key, None if absent; WRONGTYPE for another type. A read (counted, see
    Context.read): the writes look the key up with `db.lookup_typed`."""
    return ctx.read_typed(key, Hash)  # type: ignore[return-value]


def _hash_for_write(ctx: Context, key: bytes) -> Hash:
    """The hash at key, created (and added to the keyspace) when absent."""
    db = ctx.db
    h = db.lookup_typed(key, ctx.now, Hash)
    if h is None:
        h = Hash()
        db.add(key, h)
    return h  # type: ignore[return-value]


def _set_one(ctx: Context, h: Hash, field: bytes, value: bytes) -> None:
    """Write one field, raising the encoding flag as Redis's hashTypeSet would."""
    picker = h.picker
    if picker is not None and field not in h:
        picker.added(field)
    h[field] = value
    if not h.big:
        limits = ctx.ks.limits
        if len(h) > limits.hash_entries or len(field) > limits.hash_value \
                or len(value) > limits.hash_value:
            h.big = True


# -- writes -----------------------------------------------------------------------------------

def _set_field(h: Hash, field: bytes, value: bytes, limits) -> int:
    """HSET of one field: 1 if it was added, 0 if updated."""
    if field in h:  # an update: only the value's length can change the encoding
        h[field] = value
        if not h.big and len(value) > limits.hash_value:
            h.big = True
        return 0
    h[field] = value
    if not h.big:
        if len(h) > limits.hash_entries or len(field) > limits.hash_value \
                or len(value) > limits.hash_value:
            h.big = True
    elif h.picker is not None:
        h.picker.added(field)
    return 1


@command("hset", -4, WRITE | DENYOOM | FAST, KEY1, "hash")
def hset(ctx: Context, argv: list[bytes]):
    """HSET key field value [field value ...]

    Complexity: O(1) per field. Reply: integer, the number of fields that were added.
    """
    n = len(argv)
    if n & 1:
        raise wrong_args("hset")
    key = argv[1]
    db = ctx.db
    if key in db.expires:
        h = db.lookup_typed(key, ctx.now, Hash)
    else:  # Database.lookup_typed, inlined (HSET is benchmarked)
        h = db.data.get(key)
        if h is not None and type(h) is not Hash:
            raise wrongtype()
    if h is None:
        h = Hash()
        db.add(key, h)
    if n == 4:  # the common case
        added = _set_field(h, argv[2], argv[3], ctx.ks.limits)
    else:
        added = 0
        picker = h.picker
        for i in range(2, n, 2):
            field = argv[i]
            if field not in h:
                added += 1
                if picker is not None:
                    picker.added(field)
            h[field] = argv[i + 1]
        if not h.big:
            h.grew(ctx.ks.limits, *argv[2:])
    ctx.ks.dirty += (n - 2) >> 1
    if ctx.notify is not no_notify:
        ctx.notify("h", "hset", key)
    return added


@run_handler("hset", logged=True)
def hset_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `hset` of one field into an existing hash without a TTL
    if len(argvs[0]) != 4:
        return 0
    db = ctx.db
    data = db.data
    expires = db.expires
    limits = ctx.ks.limits
    name = argvs[0][0]
    done = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 4:
            break
        key = argv[1]
        h = data.get(key)
        if type(h) is not Hash or key in expires:
            break
        append(b":1\r\n" if _set_field(h, argv[2], argv[3], limits) else b":0\r\n")
        done += 1
    ctx.ks.dirty += done
    return done


@command("hmset", -4, WRITE | DENYOOM | FAST, KEY1, "hash")
def hmset(ctx: Context, argv: list[bytes]):
    """HMSET key field value [field value ...]

    Complexity: O(1) per field. Reply: OK. (Deprecated in Redis in favour of HSET.)
    """
    if len(argv) & 1:
        raise wrong_args("hmset")
    hset(ctx, argv)
    return OK


@command("hsetnx", 4, WRITE | DENYOOM | FAST, KEY1, "hash")
def hsetnx(ctx: Context, argv: list[bytes]):
    """HSETNX key field value

    Complexity: O(1). Reply: integer, 1 if the field was set, 0 if it already existed.
    """
    key, field = argv[1], argv[2]
    h = ctx.db.lookup_typed(key, ctx.now, Hash)
    if h is not None and field in h:
        return 0
    if h is None:
        h = _hash_for_write(ctx, key)
    _set_one(ctx, h, field, argv[3])
    ctx.ks.dirty += 1
    if ctx.notify is not no_notify:
        ctx.notify("h", "hset", key)
    return 1


@command("hdel", -3, WRITE | FAST, KEY1, "hash")
def hdel(ctx: Context, argv: list[bytes]):
    """HDEL key field [field ...]

    Complexity: O(1) per field. Reply: integer, the number of fields removed.
    """
    key = argv[1]
    h = ctx.db.lookup_typed(key, ctx.now, Hash)
    if h is None:
        return 0
    deleted = 0
    pop = h.pop
    picker = h.picker
    for field in argv[2:]:
        if pop(field, None) is not None:
            if picker is not None:
                picker.removed(field)
            deleted += 1
            if not h:
                break  # Redis stops too: the key is about to go
    if deleted:
        ctx.ks.dirty += deleted
        ctx.notify("h", "hdel", key)
        if not h:
            ctx.db.delete(key)
            ctx.notify("g", "del", key)
        elif h.big:
            give_back(h)
    return deleted


@command("hincrby", 4, WRITE | DENYOOM | FAST, KEY1, "hash")
def hincrby(ctx: Context, argv: list[bytes]):
    """HINCRBY key field increment

    Complexity: O(1). Reply: integer, the value after the increment.
    """
    key, field = argv[1], argv[2]
    incr = to_int(argv[3])
    h = _hash_for_write(ctx, key)
    old = h.get(field)
    if old is None:
        current = 0
    else:
        try:
            current = parse_int(old)
        except ValueError:
            raise CommandError("ERR hash value is not an integer") from None
    new = current + incr
    if not INT64_MIN <= new <= INT64_MAX:
        raise CommandError(OVERFLOW)
    _set_one(ctx, h, field, b"%d" % new)
    ctx.ks.dirty += 1
    ctx.notify("h", "hincrby", key)
    return new


@command("hincrbyfloat", 4, WRITE | DENYOOM | FAST, KEY1, "hash")
def hincrbyfloat(ctx: Context, argv: list[bytes]):
    """HINCRBYFLOAT key field increment

    Computes in long double like Redis (see kvstore.numbers). Complexity: O(1).
    Reply: bulk string, the value after the increment. Logged as HSET key field <new value>.
    """
    key, field = argv[1], argv[2]
    try:
        incr = parse_long_double(argv[3])
    except ValueError:
        raise CommandError("ERR value is not a valid float") from None
    if not is_finite_long_double(incr):
        raise CommandError("ERR value is NaN or Infinity")
    h = _hash_for_write(ctx, key)
    old = h.get(field)
    current = 0
    if old is not None:
        try:
            current = parse_long_double(old)
        except ValueError:
            raise CommandError("ERR hash value is not a float") from None
    total = add_long_double(current, incr)
    if not is_finite_long_double(total):
        raise CommandError("ERR increment would produce NaN or Infinity")
    new = format_long_double(total)
    _set_one(ctx, h, field, new)
    ctx.ks.dirty += 1
    ctx.effects = [[b"HSET", key, field, new]]
    ctx.notify("h", "hincrbyfloat", key)
    return new


# -- reads ------------------------------------------------------------------------------------

@command("hget", 3, READONLY | FAST, KEY1, "hash")
def hget(ctx: Context, argv: list[bytes]):
    """HGET key field

    Complexity: O(1). Reply: bulk string, or null when the key or field is absent.
    """
    h = get_hash(ctx, argv[1])
    return None if h is None else h.get(argv[2])


@command("hmget", -3, READONLY | FAST, KEY1, "hash")
def hmget(ctx: Context, argv: list[bytes]):
    """HMGET key field [field ...]

    Complexity: O(N) for N fields. Reply: array of values (null for absent fields).
    """
    h = get_hash(ctx, argv[1])
    if h is None:
        return [None] * (len(argv) - 2)
    get = h.get
    return [get(f) for f in argv[2:]]


@command("hexists", 3, READONLY | FAST, KEY1, "hash")
def hexists(ctx: Context, argv: list[bytes]):
    """HEXISTS key field

    Complexity: O(1). Reply: integer, 1 if the field exists, else 0.
    """
    h = get_hash(ctx, argv[1])
    return 1 if h is not None and argv[2] in h else 0


@command("hlen", 2, READONLY | FAST, KEY1, "hash")
def hlen(ctx: Context, argv: list[bytes]):
    """HLEN key

    Complexity: O(1). Reply: integer, the number of fields.
    """
    h = get_hash(ctx, argv[1])
    return 0 if h is None else len(h)


@command("hstrlen", 3, READONLY | FAST, KEY1, "hash")
def hstrlen(ctx: Context, argv: list[bytes]):
    """HSTRLEN key field

    Complexity: O(1). Reply: integer, the length of the value (0 when absent).
    """
    h = get_hash(ctx, argv[1])
    if h is None:
        return 0
    value = h.get(argv[2])
    return 0 if value is None else len(value)


@command("hkeys", 2, READONLY, KEY1, "hash")
def hkeys(ctx: Context, argv: list[bytes]):
    """HKEYS key

    Complexity: O(N). Reply: array of the fields.
    """
    h = get_hash(ctx, argv[1])
    return [] if h is None else list(h)


@command("hvals", 2, READONLY, KEY1, "hash")
def hvals(ctx: Context, argv: list[bytes]):
    """HVALS key

    Complexity: O(N). Reply: array of the values.
    """
    h = get_hash(ctx, argv[1])
    return [] if h is None else list(h.values())


@command("hgetall", 2, READONLY, KEY1, "hash")
def hgetall(ctx: Context, argv: list[bytes]):
    """HGETALL key

    Complexity: O(N). Reply: map field -> value (RESP2: flat array field, value, ...).
    """
    h = get_hash(ctx, argv[1])
    return {} if h is None else dict(h)


# -- random fields ----------------------------------------------------------------------------

def parse_rand_count(arg: bytes) -> int:
    """The count of HRANDFIELD / SRANDMEMBER, with Redis's two error texts."""
    n = to_int(arg)
    if n == INT64_MIN:
        raise CommandError(COUNT_RANGE)
    return n


def _pairs_reply(ctx: Context, pairs) -> list:
    """Field/value pairs: RESP3 an array of [field, value]; RESP2 a flat array."""
    if ctx.resp == 3:
        return [[f, v] for f, v in pairs]
    out = []
    for f, v in pairs:
        out.append(f)
        out.append(v)
    return out


@command("hrandfield", -2, READONLY, KEY1, "hash")
def hrandfield(ctx: Context, argv: list[bytes]):
    """HRANDFIELD key [count [WITHVALUES]]

    A positive count gives distinct fields (the whole hash, in order, if count >= size); a
    negative one allows repeats. Complexity: O(1) per field returned, O(N) for the whole hash.
    Reply: bulk string / null without count; array otherwise.
    """
    n = len(argv)
    if n == 2:
        h = get_hash(ctx, argv[1])
        return None if not h else random_member(h)
    count = parse_rand_count(argv[2])
    withvalues = False
    if n > 4 or (n == 4 and argv[3].lower() != b"withvalues"):
        raise CommandError(SYNTAX)
    if n == 4:
        withvalues = True
        if not -_HALF_LONG <= count <= _HALF_LONG:
            raise CommandError("ERR value is out of range")
    h = get_hash(ctx, argv[1])
    if h is None or count == 0:
        return []
    if count < 0 or count == 1:
        # With repeats: independent draws (Redis's CASE 1; count 1 is served the same way).
        k = repeated_picks(count) if count < 0 else 1
        fields = [random_member(h)] if k == 1 else random_repeats(h, k)
    elif count >= len(h):
        return _pairs_reply(ctx, h.items()) if withvalues else list(h)
    else:
        fields = random_distinct(h, count)
    return _pairs_reply(ctx, [(f, h[f]) for f in fields]) if withvalues else fields


# -- HSCAN (and the helpers SSCAN shares) -----------------------------------------------------

def parse_scan_options(argv: list[bytes], start: int) -> tuple[int, bytes | None]:
    """COUNT and MATCH options of HSCAN / SSCAN from argv[start:]. Returns (count, pattern),
    pattern None when absent or "*" (which matches everything)."""
    count = SCAN_DEFAULT_COUNT
    pattern = None
    i = start
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(SYNTAX)
        if opt == b"count":
            count = to_int(argv[i + 1], NOT_INTEGER)
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match":
            pattern = argv[i + 1]
        else:
            raise CommandError(SYNTAX)
        i += 2
    if pattern == b"*":
        pattern = None
    return count, pattern


# Scans in progress over big containers, as SCAN keeps them for keys (scan.py): HSCAN / SSCAN
# with cursor 0 takes a snapshot of the members (a list of references, O(N) once per full scan,
# what a full scan costs anyway) and the cursor is (snapshot id << 32 | position). Each step
# returns the snapshot's next COUNT members still present, so every member present for the
# whole scan comes exactly once (Redis: at least once), whatever is added or deleted meanwhile.
# Least recently used first out, at most _SCANS_MAX snapshots and _SCANS_MAX_REFS references; a
# cursor whose snapshot went resumes at its position in a fresh one (then members may be missed).
# A snapshot refers to its container weakly, and goes with it: a scan a client leaves does not
# keep a deleted hash or set (Redis's cursor holds nothing).
_SCANS: OrderedDict[int, tuple[weakref.ref, list]] = OrderedDict()
_SCANS_MAX = 64
_SCANS_MAX_REFS = 4_000_000
_scans_held = 0
_next_scan_id = 1


def _scan_step(container, cursor: int, count: int) -> tuple[list, int]:
    """The next `count` members of a scan of `container` still in it, and the next cursor."""
    global _scans_held, _next_scan_id
    scan_id, pos = cursor >> 32, cursor & 0xFFFFFFFF
    entry = _SCANS.get(scan_id) if cursor else None
    if entry is not None and entry[0]() is container:
        snapshot = entry[1]
        _SCANS.move_to_end(scan_id)
    else:
        snapshot = list(container)
        scan_id = _next_scan_id
        _next_scan_id = scan_id % 0xFFFFFFFF + 1
        _SCANS[scan_id] = (weakref.ref(container, partial(_drop_scan, scan_id)), snapshot)
        _scans_held += len(snapshot)
        while len(_SCANS) > 1 and (len(_SCANS) > _SCANS_MAX or _scans_held > _SCANS_MAX_REFS):
            _, (_, old) = _SCANS.popitem(last=False)
            _scans_held -= len(old)
    end = pos + count
    chunk = [m for m in snapshot[pos:end] if m in container]
    if end >= len(snapshot):
        _drop_scan(scan_id)
        return chunk, 0
    return chunk, scan_id << 32 | end


def _drop_scan(scan_id: int, _ref: object = None) -> None:
    """Forget a scan's snapshot: finished, or its container freed (the weakref's callback)."""
    global _scans_held
    entry = _SCANS.pop(scan_id, None)
    if entry is not None:
        _scans_held -= len(entry[1])


def scan_reply(container, elements, cursor: int, count: int, pattern, pairs: bool):
    """One HSCAN / SSCAN step over `container`; `elements()` iterates its members, or its
    (field, value) pairs when `pairs`.

    A compact encoding (listpack / intset, `big` False) is returned whole with cursor 0, as
    Redis does (intsets in ascending order). Otherwise a scan walks a snapshot of the members
    (`_scan_step`): each step examines `count` of them (before MATCH filtering, as Redis
    counts) and returns those still present. Complexity: O(count) a step, plus O(N) for the
    snapshot a new scan takes.
    """
    if container.big:
        chunk, next_cursor = _scan_step(container, cursor, count)
        if pairs:
            chunk = [(f, container[f]) for f in chunk]
    elif pairs:
        chunk, next_cursor = list(elements()), 0
    else:
        chunk, next_cursor = sorted(container, key=int), 0
    if pattern is not None:
        match = compile_glob(pattern)
        if pairs:
            chunk = [fv for fv in chunk if match(fv[0])]
        else:
            chunk = [m for m in chunk if match(m)]
    if pairs:
        flat = []
        for f, v in chunk:
            flat.append(f)
            flat.append(v)
        chunk = flat
    return [b"%d" % next_cursor, chunk]


@command("hscan", -3, READONLY, KEY1, "hash")
def hscan(ctx: Context, argv: list[bytes]):
    """HSCAN key cursor [MATCH pattern] [COUNT count]

    Complexity: O(N) per call for a small hash (returned whole), O(COUNT) per step of a big
    one's walk (see scan_reply). Reply: [next cursor, [field, value, ...]].
    """
    cursor = parse_cursor(argv[2])
    h = get_hash(ctx, argv[1])
    if h is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    return scan_reply(h, h.items, cursor, count, pattern, True)
