"""Set commands. A set is a `Set` (a Python set of bytes members) in the keyspace.

Encoding: Redis 7.0 keeps a set as an intset while every member is a canonical 64-bit integer and
there are at most `set-max-intset-entries` of them, then converts it to a hash table for good.
`Set.big` mirrors that flag (raised through `Set.grew` after adding members).

Order: an intset is sorted, so Redis replies an intset-encoded set in ascending numeric order;
we do the same (sorting at most `set-max-intset-entries` members). A hash-table set comes out in
hash order, which clients must not rely on: there we reply in Python's set order. Results that
Redis builds into a fresh set before replying (SUNION, SDIFF, SPOP with a count covering the
whole set) are ordered by the encoding that fresh set would have; SINTER's order is that of its
smallest input, which is ascending whenever the result could be an intset.

Random picks (SPOP, SRANDMEMBER) go through engine.picker: O(1) each from a big set, whose
random-access index every handler here that adds or removes members keeps up to date (a small
set is walked instead).
"""

from __future__ import annotations

from ..engine.picker import (
    pop_random, pop_random_many, random_distinct, random_member, random_repeats,
)
from ..engine.values import Set, _is_intset_member, give_back
from ..errors import SYNTAX, CommandError, wrongtype
from ..numbers import parse_int
from ..replies import SetReply
from .args import repeated_picks, to_int
from .hashes import parse_cursor, parse_rand_count, parse_scan_options, scan_reply
from .table import (DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command, no_notify,
                    run_handler)

KEY1 = KeySpec(1, 1, 1)
ALL_KEYS = KeySpec(1, -1, 1)
POSITIVE = "ERR value is out of range, must be positive"
# SPOP with a count is logged as SREMs of at most this many members each (Redis does the same,
# so no single AOF record grows without bound).
SPOP_EFFECT_BATCH = 1024


def get_set(ctx: Context, key: bytes) -> Set | None:
    """The set at key, None if absent; WRONGTYPE for another type."""
    return ctx.read_typed(key, Set)  # type: ignore[return-value]


def in_order(members, limits) -> list[bytes]:
    """Members as Redis would reply them: ascending numbers if they would form an intset."""
    if len(members) <= limits.set_intset and all(map(_is_intset_member, members)):
        return sorted(members, key=int)
    return list(members)


def members_of(s: Set) -> list[bytes]:
    """A stored set's members in Redis's reply order (see the module docstring)."""
    return list(s) if s.big else sorted(s, key=int)


# -- single-set commands ----------------------------------------------------------------------

@command("sadd", -3, WRITE | DENYOOM | FAST, KEY1, "set")
def sadd(ctx: Context, argv: list[bytes]):
    """SADD key member [member ...]

    Complexity: O(1) per member. Reply: integer, the number of members added.
    """
    key = argv[1]
    db = ctx.db
    if key in db.expires:
        s = db.lookup_typed(key, ctx.now, Set)
    else:  # Database.lookup_typed, inlined (SADD is benchmarked)
        s = db.data.get(key)
        if s is not None and type(s) is not Set:
            raise wrongtype()
    if s is None:
        s = Set()
        db.add(key, s)
    if len(argv) == 3:  # the common case
        if not _add_member(s, argv[2], ctx.ks.limits):
            return 0
        added = 1
    else:
        before = len(s)
        picker = s.picker
        if picker is None:
            s.update(argv[2:])
        else:
            for member in argv[2:]:
                if member not in s:
                    s.add(member)
                    picker.added(member)
        added = len(s) - before
        if not added:
            return 0
        if not s.big:
            s.grew(ctx.ks.limits, *argv[2:])
    ctx.ks.dirty += added
    if ctx.notify is not no_notify:
        ctx.notify("s", "sadd", key)
    return added


def _add_member(s: Set, member: bytes, limits) -> int:
    """SADD of one member: 1 if it was added, 0 if already there."""
    if member in s:
        return 0
    s.add(member)
    if not s.big:
        s.grew(limits, member)
    elif s.picker is not None:
        s.picker.added(member)
    return 1


@run_handler("sadd")
def sadd_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `sadd` of one member to an existing set without a TTL
    if len(argvs[0]) != 3:
        return 0
    db = ctx.db
    data = db.data
    expires = db.expires
    limits = ctx.ks.limits
    name = argvs[0][0]
    done = added = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 3:
            break
        key = argv[1]
        s = data.get(key)
        if type(s) is not Set or key in expires:
            break
        if _add_member(s, argv[2], limits):
            added += 1
            append(b":1\r\n")
        else:
            append(b":0\r\n")
        done += 1
    ctx.ks.dirty += added
    return done


@command("srem", -3, WRITE | FAST, KEY1, "set")
def srem(ctx: Context, argv: list[bytes]):
    """SREM key member [member ...]

    Complexity: O(1) per member. Reply: integer, the number of members removed.
    """
    key = argv[1]
    s = ctx.db.lookup_typed(key, ctx.now, Set)
    if s is None:
        return 0
    removed = 0
    picker = s.picker
    for member in argv[2:]:
        if member in s:
            s.remove(member)
            if picker is not None:
                picker.removed(member)
            removed += 1
            if not s:
                break  # as Redis: the key goes, the remaining arguments are not looked at
    if removed:
        ctx.ks.dirty += removed
        ctx.notify("s", "srem", key)
        if not s:
            ctx.db.delete(key)
            ctx.notify("g", "del", key)
        elif s.big:
            give_back(s)
    return removed


@command("smembers", 2, READONLY, KEY1, "set")
def smembers(ctx: Context, argv: list[bytes]):
    """SMEMBERS key

    Complexity: O(N). Reply: set of the members.
    """
    s = get_set(ctx, argv[1])
    return SetReply() if s is None else SetReply(members_of(s))


@command("sismember", 3, READONLY | FAST, KEY1, "set")
def sismember(ctx: Context, argv: list[bytes]):
    """SISMEMBER key member

    Complexity: O(1). Reply: integer, 1 if member is in the set, else 0.
    """
    s = get_set(ctx, argv[1])
    return 1 if s is not None and argv[2] in s else 0


@command("smismember", -3, READONLY | FAST, KEY1, "set")
def smismember(ctx: Context, argv: list[bytes]):
    """SMISMEMBER key member [member ...]

    Complexity: O(N) for N members. Reply: array of integers 1 / 0.
    """
    s = get_set(ctx, argv[1])
    if s is None:
        return [0] * (len(argv) - 2)
    return [1 if m in s else 0 for m in argv[2:]]


@command("scard", 2, READONLY | FAST, KEY1, "set")
def scard(ctx: Context, argv: list[bytes]):
    """SCARD key

    Complexity: O(1). Reply: integer, the number of members.
    """
    s = get_set(ctx, argv[1])
    return 0 if s is None else len(s)


# -- random members ---------------------------------------------------------------------------

def _removed_key(ctx: Context, key: bytes) -> None:
    """The last member went: drop the key, as every container command does."""
    ctx.db.delete(key)
    ctx.notify("g", "del", key)


@command("spop", -2, WRITE | FAST, KEY1, "set")
def spop(ctx: Context, argv: list[bytes]):
    """SPOP key [count]

    Removes random members. Complexity: O(1) per member popped.
    Reply: bulk string / null without count; set of the popped members with one.
    Logged as SREM key <members>, or DEL key when a count empties the set.
    """
    n = len(argv)
    if n == 3:
        return _spop_count(ctx, argv)
    if n > 3:
        raise CommandError(SYNTAX)
    key = argv[1]
    s = ctx.db.lookup_typed(key, ctx.now, Set)
    if s is None:
        return None
    member = pop_random(s)
    ctx.ks.dirty += 1
    if ctx.notify is not no_notify:
        ctx.notify("s", "spop", key)
    if not s:
        _removed_key(ctx, key)
    ctx.effects = [[b"SREM", key, member]]  # even for the last member, as Redis
    return member


def _spop_count(ctx: Context, argv: list[bytes]):
    key = argv[1]
    count = to_int(argv[2], POSITIVE)
    if count < 0:
        raise CommandError(POSITIVE)
    s = ctx.db.lookup_typed(key, ctx.now, Set)
    if s is None or count == 0:
        return SetReply()
    size = len(s)
    if ctx.notify is not no_notify:
        ctx.notify("s", "spop", key)
    if count >= size:
        popped = members_of(s)  # Redis replies through a fresh set: same order rule
        _removed_key(ctx, key)
        ctx.ks.dirty += size
        ctx.effects = [[b"DEL", key]]
        return SetReply(popped)
    popped = pop_random_many(s, count)
    if (size - count) * 5 <= count and s.big:
        s.start_over(ctx.ks.limits)  # Redis copies the few members left into a new set
    ctx.ks.dirty += count
    ctx.effects = [
        [b"SREM", key, *popped[i:i + SPOP_EFFECT_BATCH]]
        for i in range(0, count, SPOP_EFFECT_BATCH)
    ]
    return SetReply(popped)


@command("srandmember", -2, READONLY, KEY1, "set")
def srandmember(ctx: Context, argv: list[bytes]):
    """SRANDMEMBER key [count]

    A positive count gives distinct members (the whole set if count >= size); a negative one
    allows repeats. Complexity: O(1) per member returned, O(N) for the whole set.
    Reply: bulk string / null without count; array with one.
    """
    n = len(argv)
    if n > 3:
        raise CommandError(SYNTAX)
    if n == 2:
        s = get_set(ctx, argv[1])
        return None if not s else random_member(s)
    count = parse_rand_count(argv[2])
    s = get_set(ctx, argv[1])
    if s is None or count == 0:
        return []
    if count == 1 or count == -1:
        return [random_member(s)]
    if count < 0:
        return random_repeats(s, repeated_picks(count))
    if count >= len(s):
        return members_of(s)
    return random_distinct(s, count)


# -- moves and multi-set operations -----------------------------------------------------------

@command("smove", 4, WRITE | FAST, KeySpec(1, 2, 1), "set")
def smove(ctx: Context, argv: list[bytes]):
    """SMOVE source destination member

    Complexity: O(1). Reply: integer, 1 if the member was moved, 0 if it was not in source.
    """
    src_key, dst_key, member = argv[1], argv[2], argv[3]
    db = ctx.db
    src = db.lookup(src_key, ctx.now)
    dst = db.lookup(dst_key, ctx.now)
    if src is None:
        return 0  # Redis does not look at the destination's type in this case
    if type(src) is not Set or (dst is not None and type(dst) is not Set):
        raise wrongtype()
    if src is dst:
        return 1 if member in src else 0
    if member not in src:
        return 0
    ctx.touched = (argv, [src_key])  # and the destination if it gains the member
    src.remove(member)  # type: ignore[union-attr]
    if src.picker is not None:  # type: ignore[union-attr]
        src.picker.removed(member)  # type: ignore[union-attr]
    ctx.notify("s", "srem", src_key)
    if not src:
        _removed_key(ctx, src_key)
    elif src.big:  # type: ignore[union-attr]
        give_back(src)  # type: ignore[arg-type]
    ctx.ks.dirty += 1
    if dst is None:
        dst = Set()
        db.add(dst_key, dst)
    if member not in dst:  # type: ignore[operator]
        dst.add(member)  # type: ignore[union-attr]
        if not dst.big:  # type: ignore[union-attr]
            dst.grew(ctx.ks.limits, member)  # type: ignore[union-attr]
        elif dst.picker is not None:  # type: ignore[union-attr]
            dst.picker.added(member)  # type: ignore[union-attr]
        ctx.ks.dirty += 1
        ctx.touched[1].append(dst_key)
        ctx.notify("s", "sadd", dst_key)
    return 1


def _load(ctx: Context, keys: list[bytes]) -> list[Set | None]:
    """The sets at keys (None for absent ones), read in order; WRONGTYPE at the first key that
    holds another type."""
    read = ctx.read_typed
    return [read(k, Set) for k in keys]  # type: ignore[misc]


def _inter(sets: list[Set | None]) -> set:
    if any(s is None for s in sets):
        return set()
    ordered = sorted(sets, key=len)  # type: ignore[arg-type]
    return ordered[0].intersection(*ordered[1:])  # type: ignore[union-attr]


def _union(sets: list[Set | None]) -> set:
    return set().union(*[s for s in sets if s is not None])


def _diff(sets: list[Set | None]) -> set:
    first = sets[0]
    if first is None:
        return set()
    return first.difference(*[s for s in sets[1:] if s is not None])


def _store(ctx: Context, dest: bytes, result: set, event: str) -> int:
    """Write a STORE command's result to dest (any old value and TTL go); an empty result
    deletes dest. Returns the result's size."""
    db = ctx.db
    if result:
        limits = ctx.ks.limits
        value = Set(result)
        if len(value) > limits.set_intset:
            value.big = True
        else:
            value.grew(limits, *value)
        db.set_value(dest, value, ctx.now)
        ctx.ks.dirty += 1
        ctx.notify("s", event, dest)
    elif db.delete(dest):  # (even past its TTL: Redis's dbDelete, a `del` event)
        ctx.ks.dirty += 1
        ctx.notify("g", "del", dest)
    return len(result)


@command("sinter", -2, READONLY, ALL_KEYS, "set")
def sinter(ctx: Context, argv: list[bytes]):
    """SINTER key [key ...]

    Complexity: O(N*M), N the smallest set's size, M the number of sets. Reply: set.
    """
    return SetReply(in_order(_inter(_load(ctx, argv[1:])), ctx.ks.limits))


@command("sinterstore", -3, WRITE | DENYOOM, ALL_KEYS, "set")
def sinterstore(ctx: Context, argv: list[bytes]):
    """SINTERSTORE destination key [key ...]

    Complexity: O(N*M). Reply: integer, the size of the stored set.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return _store(ctx, argv[1], _inter(_load(ctx, argv[2:])), "sinterstore")


@command("sunion", -2, READONLY, ALL_KEYS, "set")
def sunion(ctx: Context, argv: list[bytes]):
    """SUNION key [key ...]

    Complexity: O(N), N the total number of members. Reply: set.
    """
    return SetReply(in_order(_union(_load(ctx, argv[1:])), ctx.ks.limits))


@command("sunionstore", -3, WRITE | DENYOOM, ALL_KEYS, "set")
def sunionstore(ctx: Context, argv: list[bytes]):
    """SUNIONSTORE destination key [key ...]

    Complexity: O(N). Reply: integer, the size of the stored set.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return _store(ctx, argv[1], _union(_load(ctx, argv[2:])), "sunionstore")


@command("sdiff", -2, READONLY, ALL_KEYS, "set")
def sdiff(ctx: Context, argv: list[bytes]):
    """SDIFF key [key ...]

    Complexity: O(N), N the total number of members. Reply: set.
    """
    return SetReply(in_order(_diff(_load(ctx, argv[1:])), ctx.ks.limits))


@command("sdiffstore", -3, WRITE | DENYOOM, ALL_KEYS, "set")
def sdiffstore(ctx: Context, argv: list[bytes]):
    """SDIFFSTORE destination key [key ...]

    Complexity: O(N). Reply: integer, the size of the stored set.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return _store(ctx, argv[1], _diff(_load(ctx, argv[2:])), "sdiffstore")


def _sintercard_keys(argv: list[bytes]) -> list[bytes]:
    """COMMAND GETKEYS / routing for SINTERCARD: the numkeys keys after numkeys."""
    try:
        n = parse_int(argv[1])
    except (ValueError, IndexError):
        return []
    if n < 1 or n > len(argv) - 2:
        return []
    return argv[2:2 + n]


# Redis declares no fixed key range (0, 0, 0, "movablekeys"): the keys come from numkeys.
@command("sintercard", -3, READONLY, KeySpec(), "set", getkeys=_sintercard_keys)
def sintercard(ctx: Context, argv: list[bytes]):
    """SINTERCARD numkeys key [key ...] [LIMIT limit]

    Complexity: O(N*M), stopping early once `limit` members are counted (0: no limit).
    Reply: integer, the size of the intersection (at most limit).
    """
    numkeys = to_int(argv[1], "ERR numkeys should be greater than 0")
    if numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    if numkeys > len(argv) - 2:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].lower() == b"limit" and i + 1 < len(argv):
            i += 1
            limit = to_int(argv[i], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
        else:
            raise CommandError(SYNTAX)
        i += 1
    sets = _load(ctx, argv[2:2 + numkeys])
    if any(s is None for s in sets):
        return 0
    if not limit:
        return len(_inter(sets))
    ordered = sorted(sets, key=len)  # type: ignore[arg-type]
    first, rest = ordered[0], ordered[1:]
    count = 0
    for member in first:  # type: ignore[union-attr]
        for other in rest:
            if member not in other:  # type: ignore[operator]
                break
        else:
            count += 1
            if count >= limit:
                break
    return count


@command("sscan", -3, READONLY, KEY1, "set")
def sscan(ctx: Context, argv: list[bytes]):
    """SSCAN key cursor [MATCH pattern] [COUNT count]

    Complexity: O(N) per call for an intset (returned whole, in order), O(COUNT) per step of a
    hash-table set's walk (see hashes.scan_reply). Reply: [next cursor, [member, ...]].
    """
    cursor = parse_cursor(argv[2])
    s = get_set(ctx, argv[1])
    if s is None:
        return [b"0", []]
    count, pattern = parse_scan_options(argv, 3)
    return scan_reply(s, s.__iter__, cursor, count, pattern, False)
