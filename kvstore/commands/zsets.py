"""Sorted-set commands (Redis `t_zset.c`), part 1: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
Z[REV]RANK, ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN, and what the other parts share.
Ranges (ZRANGE..., ZCOUNT, ZREMRANGEBY...) are in `zsets_range`; ZUNION, ZINTER, ZDIFF, their
STORE forms and ZINTERCARD in `zsets_multi`.

Values are `engine.zset.ZSet`. Handlers follow t_zset.c's order of checks (option syntax, then
numbers, then the key's type) so that every error comes out as Redis's would.

Redis 7.0 keeps a small zset in a listpack, which stores an integral score as an integer. Two
things show it besides OBJECT ENCODING: a zero score loses its sign (ZADD z -0 a; ZSCORE z a is
"0", but "-0" once the zset is a skiplist), and ZSCAN prints such scores as integers
("1000000000000000000", not "1e+18"). `stored_zero`, `store_scores`, `store_pairs` and
`_listpack_score` reproduce that.

Effects for the AOF: ZADD INCR and ZINCRBY log `ZADD key <new score> member` (a score printed
with 17 significant digits reads back as the same double); everything else replays as is, pops
included (they are deterministic). `zpop()` is the pop that BZPOPMIN / BZPOPMAX / BZMPOP reuse,
`parse_mpop()` their argument parsing, `numkeys_keys()` the key finder of numkeys commands.
"""

from __future__ import annotations

import random
import struct

from ..engine.glob import compile_glob
from ..engine.zset import ADDED, ZSet
from ..errors import NOT_FLOAT, SYNTAX, CommandError, wrong_args, wrongtype
from ..numbers import format_double, parse_float, parse_int
from ..protocol import encode
from ..replies import NULL_ARRAY, Encoded, Frames, ScorePairs
from .args import repeated_picks, to_int
from .scan import parse_cursor
from .table import DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command, no_notify

KEY1 = KeySpec(1, 1, 1)
NO_KEYS = KeySpec()
GROUP = "sorted-set"

LONG_MAX = (1 << 63) - 1
NAN_SCORE = "ERR resulting score is not a number (NaN)"
NOT_POSITIVE = "ERR value is out of range, must be positive"

# A listpack stores a score as an integer when it is integral within +-LLONG_MAX/2 (double2ll).
_LP_INT_LIMIT = float(1 << 62)

# ZRANDMEMBER picks with its own generator (never the global one, which tests may seed).
_rng = random.Random()

# ZSCAN of a skiplist-encoded zset returns at least this many members per call (Redis's COUNT).
SCAN_DEFAULT_COUNT = 10


# -- numbers -----------------------------------------------------------------------------------


def _plain(arg: bytes) -> bool:
    """True for [-]digits[.digits] under 300 bytes: float() reads it exactly as strtod does, and
    it can neither overflow nor underflow, so the regex of parse_float can be skipped."""
    body = arg[1:] if arg[:1] == b"-" else arg
    return len(arg) < 300 and (body.isdigit() or body.replace(b".", b"", 1).isdigit())


def to_score(arg: bytes, message: str = NOT_FLOAT) -> float:
    """A score as ZADD reads it (getDoubleFromObject): strict, no NaN, no overflow."""
    if _plain(arg):
        return float(arg)
    try:
        return parse_float(arg)
    except ValueError:
        raise CommandError(message) from None


def stored_zero(zs: ZSet, member: bytes, score: float, limits) -> float:
    """A zero score as Redis stores it: a listpack keeps 0 as an integer, losing -0's sign.
    Called only for score == 0; the member goes in a listpack unless this insert converts it."""
    if zs.big or (
        member not in zs and (len(zs) + 1 > limits.zset_entries or len(member) > limits.zset_value)
    ):
        return score
    return 0.0


def _listpack_score(score: float) -> bytes:
    """A score as a listpack stores it (ZSCAN of a small zset): an integer when integral."""
    if -_LP_INT_LIMIT <= score <= _LP_INT_LIMIT and score == int(score):
        return b"%d" % int(score)
    return format_double(score)


def _lookup(ctx: Context, key: bytes) -> ZSet | None:
    """The zset at key for a command that reads it (counted, see Context.read)."""
    return ctx.read_typed(key, ZSet)  # type: ignore[return-value]


def _for_write(ctx: Context, key: bytes) -> ZSet | None:
    """The zset at key for a command that writes it (uncounted)."""
    return ctx.db.lookup_typed(key, ctx.now, ZSet)  # type: ignore[return-value]


def parse_long(arg: bytes, message: str) -> int:
    """A 64-bit integer, failing with `message` (getRangeLongFromObjectOrReply with a custom
    text, which Redis uses for junk and for out-of-range values alike)."""
    try:
        return parse_int(arg)
    except ValueError:
        raise CommandError(message) from None


def store_scores(ctx: Context, dst: bytes, scores: dict[bytes, float], event: str) -> int:
    """Store a result (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE) at `dst`, replacing any value and
    TTL, or delete `dst` when empty; Redis's dirty count and events. Returns the size. O(n log n).
    Redis builds the result as a skiplist and converts it when small: zeros then lose their sign.
    """
    if not scores:
        return _store_empty(ctx, dst)
    limits = ctx.ks.limits
    big = len(scores) > limits.zset_entries or max(map(len, scores)) > limits.zset_value
    if not big:
        for member, score in scores.items():
            if score == 0.0:
                scores[member] = 0.0
    return _store(ctx, dst, scores, big, event)


def store_pairs(ctx: Context, dst: bytes, pairs: list, event: str, size_hint: int = 0) -> int:
    """Store (member, score) pairs at `dst` as ZRANGESTORE does: one ZADD at a time into a new
    zset, a skiplist from the start if `size_hint` is over the listpack limit (zsetTypeCreate),
    else a listpack converted when a member makes it too big: zeros added to the listpack lose
    their sign."""
    if not pairs:
        return _store_empty(ctx, dst)
    limits = ctx.ks.limits
    entries, value = limits.zset_entries, limits.zset_value
    big = size_hint > entries
    scores = {}
    for i, (member, score) in enumerate(pairs):
        if not big and (i + 1 > entries or len(member) > value):
            big = True
        scores[member] = score if big or score != 0.0 else 0.0
    return _store(ctx, dst, scores, big, event)


def _store(ctx: Context, dst: bytes, scores: dict, big: bool, event: str) -> int:
    zs = ZSet.from_scores(scores)
    zs.big = big
    ctx.db.set_value(dst, zs, ctx.now)
    ctx.ks.dirty += 1
    ctx.notify("z", event, dst)
    return len(zs)


def _store_empty(ctx: Context, dst: bytes) -> int:
    if ctx.db.delete(dst):
        ctx.ks.dirty += 1
        ctx.notify("g", "del", dst)
    return 0


# -- ZADD, ZINCRBY, ZREM -----------------------------------------------------------------------


def new_zset(ctx: Context, first_member: bytes) -> ZSet:
    """An empty zset for ZADD: Redis 7.0 picks the encoding by the first member alone."""
    zs = ZSet()
    limits = ctx.ks.limits
    zs.big = limits.zset_entries == 0 or len(first_member) > limits.zset_value
    return zs


@command("zadd", -4, WRITE | DENYOOM | FAST, KEY1, GROUP)
def zadd(ctx: Context, argv: list[bytes]):
    """ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]

    Complexity: O(log N) per member. Reply: members added (or changed, with CH); with INCR the
    new score, or null when NX/XX/GT/LT stopped it.
    """
    # ZADD key <plain decimal> member: the hot path, without option parsing (an integer
    # score, the commonest, is recognised by one isdigit()).
    if len(argv) != 4:
        return _zadd_generic(ctx, argv, False)
    key, text, member = argv[1], argv[2], argv[3]
    if not (text.isdigit() and len(text) < 300 or _plain(text)):
        return _zadd_generic(ctx, argv, False)
    score = float(text)
    db = ctx.db
    if key in db.expires:
        zs = _for_write(ctx, key)
    else:  # Database.lookup_typed, inlined
        zs = db.data.get(key)
        if zs is not None and type(zs) is not ZSet:
            raise wrongtype()
    if zs is None:
        zs = new_zset(ctx, member)
        db.add(key, zs)
    if score == 0.0 and text[0] == 45 and not zs.big:  # "-0": only a sign can make it -0.0
        score = stored_zero(zs, member, score, ctx.ks.limits)
    done = zs.add(member, score)
    if not done:
        return 0
    if done == ADDED and not zs.big:
        limits = ctx.ks.limits
        if len(zs) > limits.zset_entries or len(member) > limits.zset_value:
            zs.big = True
    ctx.ks.dirty += 1
    if ctx.notify is not no_notify:
        ctx.notify("z", "zadd", key)
    return 1 if done == ADDED else 0


@command("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, GROUP)
def zincrby(ctx: Context, argv: list[bytes]):
    """ZINCRBY key increment member

    Complexity: O(log N). Reply: the new score (double).
    """
    return _zadd_generic(ctx, argv, True)


def _zadd_generic(ctx: Context, argv: list[bytes], incr: bool):
    """zaddGenericCommand: ZADD with options, and ZINCRBY (which parses ZADD's options too, so
    `ZINCRBY k nx m` is a syntax error, as in Redis)."""
    nx = xx = gt = lt = ch = False
    i, n = 2, len(argv)
    while i < n:
        opt = argv[i].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            ch = True
        elif opt == b"incr":
            incr = True
        elif opt == b"gt":
            gt = True
        elif opt == b"lt":
            lt = True
        else:
            break
        i += 1
    if (n - i) % 2 or n == i:
        raise CommandError(SYNTAX)
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and n - i > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    scores = [to_score(argv[j]) for j in range(i, n, 2)]
    key = argv[1]
    zs = _for_write(ctx, key)
    if zs is None:
        if xx:
            return None if incr else 0
        zs = new_zset(ctx, argv[i + 1])
        ctx.db.add(key, zs)
    limits = ctx.ks.limits
    current = zs.scores()
    added = updated = processed = 0
    score = 0.0
    for k, j in enumerate(range(i + 1, n, 2)):
        member = argv[j]
        score = scores[k]
        cur = current.get(member)
        if cur is not None:
            if nx:
                continue
            if incr:
                score += cur
                if score != score:
                    raise CommandError(NAN_SCORE)
            if (lt and score >= cur) or (gt and score <= cur):
                continue
            processed += 1
            if score != cur:
                zs.add(member, stored_zero(zs, member, score, limits) if score == 0.0 else score)
                updated += 1
        elif not xx:
            processed += 1
            added += 1
            zs.add(member, stored_zero(zs, member, score, limits) if score == 0.0 else score)
            if not zs.big:
                zs.grew(limits, member)
    if added or updated:
        ctx.ks.dirty += added + updated
        if ctx.notify is not no_notify:
            ctx.notify("z", "zincr" if incr else "zadd", key)
    if incr:
        return score if processed else None
    return added + updated if ch else added


@command("zrem", -3, WRITE | FAST, KEY1, GROUP)
def zrem(ctx: Context, argv: list[bytes]):
    """ZREM key member [member ...]

    Complexity: O(M log N). Reply: members removed.
    """
    key = argv[1]
    zs = _for_write(ctx, key)
    if zs is None:
        return 0
    remove = zs.remove
    deleted = 0
    for member in argv[2:]:
        if remove(member):
            deleted += 1
            if not zs:
                break
    if deleted:
        ctx.notify("z", "zrem", key)
        if not zs:
            ctx.db.delete(key)
            ctx.notify("g", "del", key)
        ctx.ks.dirty += deleted
    return deleted


# -- reads of one member or a count --------------------------------------------------------------


@command("zcard", 2, READONLY | FAST, KEY1, GROUP)
def zcard(ctx: Context, argv: list[bytes]):
    """ZCARD key

    Complexity: O(1). Reply: the number of members.
    """
    zs = _lookup(ctx, argv[1])
    return 0 if zs is None else len(zs)


@command("zscore", 3, READONLY | FAST, KEY1, GROUP)
def zscore(ctx: Context, argv: list[bytes]):
    """ZSCORE key member

    Complexity: O(1). Reply: the score (double), or null.
    """
    zs = _lookup(ctx, argv[1])
    return None if zs is None else zs.score(argv[2])


@command("zmscore", -3, READONLY | FAST, KEY1, GROUP)
def zmscore(ctx: Context, argv: list[bytes]):
    """ZMSCORE key member [member ...]

    Complexity: O(M). Reply: array of scores (double) or nulls.
    """
    zs = _lookup(ctx, argv[1])
    if zs is None:
        return [None] * (len(argv) - 2)
    get = zs.scores().get
    return [get(m) for m in argv[2:]]


def _zrank(ctx: Context, argv: list[bytes], reverse: bool):
    # Redis 7.2 (WITHSCORE, arity -3): extra arguments are queued in MULTI and refused when run,
    # more than one by arity, another fourth argument by syntax, before the key is looked up.
    if len(argv) > 4:
        raise wrong_args(argv[0].decode("utf-8", "replace").lower())
    withscore = len(argv) == 4
    if withscore and argv[3].lower() != b"withscore":
        raise CommandError(SYNTAX)
    zs = _lookup(ctx, argv[1])
    rank = None if zs is None else zs.rank(argv[2], reverse)
    if rank is None:
        return NULL_ARRAY if withscore else None
    return [rank, zs.score(argv[2])] if withscore else rank  # type: ignore[union-attr]


@command("zrank", -3, READONLY | FAST, KEY1, GROUP)
def zrank(ctx: Context, argv: list[bytes]):
    """ZRANK key member [WITHSCORE]

    Complexity: O(log N). Reply: the 0-based rank (with WITHSCORE [rank, score]), or null.
    """
    return _zrank(ctx, argv, False)


@command("zrevrank", -3, READONLY | FAST, KEY1, GROUP)
def zrevrank(ctx: Context, argv: list[bytes]):
    """ZREVRANK key member [WITHSCORE]

    Complexity: O(log N). Reply: the 0-based rank from the highest score, or null.
    """
    return _zrank(ctx, argv, True)


# -- pops -----------------------------------------------------------------------------------------


def zpop(ctx: Context, key: bytes, zs: ZSet, maximum: bool, count: int) -> list:
    """Pop up to `count` (>= 1) members of the non-empty zset at `key`, lowest (highest) first,
    with Redis's side effects: dirty per member, a zpopmin/zpopmax event, the key deleted when
    emptied. For ZPOPMIN/ZPOPMAX, ZMPOP and the blocking forms. Returns [(member, score)]."""
    pairs = zs.pop(count, maximum)
    ctx.ks.dirty += len(pairs)
    if ctx.notify is not no_notify:
        ctx.notify("z", "zpopmax" if maximum else "zpopmin", key)
    if not zs:
        ctx.db.delete(key)
        ctx.notify("g", "del", key)
    return pairs


def with_own_pushes(ctx: Context, reply, tokens: int):
    """`reply`, with the pop's notifications its own (RESP3) client receives where Redis writes
    them: inside the reply, after its first `tokens` header lines or values (the array
    header; and BZPOPMIN's key; ZMPOP's key and the header of its pairs). The server's
    notifier keeps them for this in `Client.mid_pushes` (server/pubsub.py)."""
    if ctx.notify is no_notify:  # (no notifications: the pops' common case, one test)
        return reply
    client = ctx.client
    pushes = getattr(client, "mid_pushes", None)
    if not pushes:
        return reply
    client.mid_pushes = []
    data = encode(reply, ctx.resp)
    cut = 0
    for _ in range(tokens):
        end = data.index(b"\r\n", cut) + 2
        if data[cut] == 36:  # a bulk string: its bytes too
            end += int(data[cut + 1 : end - 2]) + 2
        cut = end
    return Frames([Encoded(data[:cut]), Encoded(b"".join(pushes)), Encoded(data[cut:])])


def _zpop_command(ctx: Context, argv: list[bytes], maximum: bool):
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = -1
    if len(argv) == 3:
        count = parse_long(argv[2], NOT_POSITIVE)
        if count < 0:
            raise CommandError(NOT_POSITIVE)
    key = argv[1]
    zs = ctx.db.lookup_typed(key, ctx.now, ZSet)  # (not _lookup: one call less, benchmarked)
    if zs is None or count == 0:
        return []
    if count == -1:  # no COUNT: a flat [member, score], in RESP3 too
        member, score = zpop(ctx, key, zs, maximum, 1)[0]
        reply = [member, score]
    else:
        reply = ScorePairs(zpop(ctx, key, zs, maximum, count))
    return with_own_pushes(ctx, reply, 1)


@command("zpopmin", -2, WRITE | FAST, KEY1, GROUP)
def zpopmin(ctx: Context, argv: list[bytes]):
    """ZPOPMIN key [count]

    Complexity: O(log N * M). Reply: member-score pairs, lowest scores first.
    """
    return _zpop_command(ctx, argv, False)


@command("zpopmax", -2, WRITE | FAST, KEY1, GROUP)
def zpopmax(ctx: Context, argv: list[bytes]):
    """ZPOPMAX key [count]

    Complexity: O(log N * M). Reply: member-score pairs, highest scores first.
    """
    return _zpop_command(ctx, argv, True)


def parse_mpop(argv: list[bytes], numkeys_idx: int) -> tuple[list[bytes], bool, int]:
    """(keys, maximum, count) of ZMPOP / BZMPOP (`numkeys_idx` is 1 / 2), with Redis's errors."""
    numkeys = parse_long(argv[numkeys_idx], "ERR numkeys should be greater than 0")
    if numkeys < 1:
        raise CommandError("ERR numkeys should be greater than 0")
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= len(argv):
        raise CommandError(SYNTAX)
    where = argv[where_idx].lower()
    if where != b"min" and where != b"max":
        raise CommandError(SYNTAX)
    count = -1
    j = where_idx + 1
    while j < len(argv):
        if count == -1 and argv[j].lower() == b"count" and j < len(argv) - 1:
            j += 1
            count = parse_long(argv[j], "ERR count should be greater than 0")
            if count < 1:
                raise CommandError("ERR count should be greater than 0")
        else:
            raise CommandError(SYNTAX)
        j += 1
    return argv[numkeys_idx + 1 : where_idx], where == b"max", 1 if count == -1 else count


def numkeys_keys(argv: list[bytes], numkeys_idx: int = 1) -> list[bytes]:
    """The keys of a numkeys command (COMMAND GETKEYS, cluster routing); [] if malformed."""
    try:
        numkeys = parse_int(argv[numkeys_idx])
    except (ValueError, IndexError):
        return []
    if numkeys < 1 or numkeys > len(argv) - numkeys_idx - 1:
        return []
    return argv[numkeys_idx + 1 : numkeys_idx + 1 + numkeys]


@command("zmpop", -4, WRITE, NO_KEYS, GROUP, getkeys=numkeys_keys)
def zmpop(ctx: Context, argv: list[bytes]):
    """ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]

    Complexity: O(K + M log N). Reply: [key, [[member, score], ...]] from the first non-empty
    key, or a null array.
    """
    keys, maximum, count = parse_mpop(argv, 1)
    for key in keys:
        zs = ctx.db.lookup(key, ctx.now)
        if zs is None:
            continue
        if type(zs) is not ZSet:
            raise wrongtype()
        ctx.touched = (argv, [key])  # not the keys before it
        pairs = zpop(ctx, key, zs, maximum, count)
        # Propagated as Redis does, ZPOPMIN/ZPOPMAX of that key and the count popped.
        ctx.effects = [[b"ZPOPMAX" if maximum else b"ZPOPMIN", key, b"%d" % len(pairs)]]
        return with_own_pushes(ctx, [key, [[m, s] for m, s in pairs]], 3)
    return NULL_ARRAY


# -- ZRANDMEMBER, ZSCAN ---------------------------------------------------------------------------


@command("zrandmember", -2, READONLY, KEY1, GROUP)
def zrandmember(ctx: Context, argv: list[bytes]):
    """ZRANDMEMBER key [count [WITHSCORES]]

    Complexity: O(|count| log N). Reply: a member; with count, distinct members (count > 0) or
    members that may repeat (count < 0); with WITHSCORES, member-score pairs.
    """
    if len(argv) == 2:
        zs = _lookup(ctx, argv[1])
        return None if zs is None else zs.member_at(_rng.randrange(len(zs)))
    count = to_int(argv[2])
    if count < -LONG_MAX:
        raise CommandError(
            f"ERR value is out of range, value must between {-LONG_MAX} and {LONG_MAX}"
        )
    if len(argv) > 4 or (len(argv) == 4 and argv[3].lower() != b"withscores"):
        raise CommandError(SYNTAX)
    withscores = len(argv) == 4
    if withscores and not -(LONG_MAX // 2) <= count <= LONG_MAX // 2:
        raise CommandError("ERR value is out of range")
    zs = _lookup(ctx, argv[1])
    if zs is None or count == 0:
        return []
    n = len(zs)
    if count < 0:  # with repetitions, in random order
        picks = [_rng.randrange(n) for _ in range(repeated_picks(count))]
    elif count >= n:  # all of it, as Redis walks it: from the highest score down
        out = list(zs.iter_items(reverse=True))
        return ScorePairs(out) if withscores else [m for m, _ in out]
    else:
        picks = _rng.sample(range(n), count)
    if withscores:
        return ScorePairs(zs.items(i, i + 1)[0] for i in picks)
    return [zs.member_at(i) for i in picks]


_D = struct.Struct(">d")
_Q = struct.Struct(">Q")
_SIGN = 1 << 63
_ALL = (1 << 64) - 1


def _score_cursor(score: float) -> int:
    """A 64-bit cursor that sorts as the score does (never 0: -inf maps to 2**52 - 1)."""
    bits = _Q.unpack(_D.pack(score + 0.0))[0]  # + 0.0: -0 and 0 are one score
    return bits ^ _ALL if bits & _SIGN else bits | _SIGN


def _cursor_score(cursor: int) -> float:
    return _D.unpack(_Q.pack(cursor ^ _SIGN if cursor & _SIGN else cursor ^ _ALL))[0]


def _scan_batch(zs: ZSet, cursor: int, count: int) -> tuple[list, int]:
    """ZSCAN of a big zset: at least `count` pairs from the cursor's score, up to the end of a
    run of equal scores, and the cursor of the next score (0 at the end)."""
    n = len(zs)
    start = 0
    if cursor:
        score = _cursor_score(cursor)
        if score != score:  # not a cursor we made
            return [], 0
        start = zs.score_index(score)
    stop = min(n, start + count)
    if stop < n:
        stop = zs.score_index(zs.items(stop - 1, stop)[0][1], True)
    items = zs.items(start, stop)
    return items, (_score_cursor(zs.items(stop, stop + 1)[0][1]) if stop < n else 0)


@command("zscan", -3, READONLY, KEY1, GROUP)
def zscan(ctx: Context, argv: list[bytes]):
    """ZSCAN key cursor [MATCH pattern] [COUNT count]

    Complexity: O(COUNT) per call. Reply: [next cursor, [member, score, ...]]. A listpack-sized
    zset comes whole with cursor 0, scores as the listpack holds them, as in Redis. A bigger one
    is walked in score order: the cursor encodes the next score to return, and a call never
    stops inside a run of equal scores (so a huge run comes in one reply). Members present for
    the whole scan, with an unchanged score, come exactly once (Redis: at least once).
    """
    cursor = parse_cursor(argv[2])
    zs = _lookup(ctx, argv[1])
    if zs is None:
        return [b"0", []]
    count = SCAN_DEFAULT_COUNT
    pattern = None
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"count" and len(argv) - i >= 2:
            count = to_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif opt == b"match" and len(argv) - i >= 2:
            pattern = None if argv[i + 1] == b"*" else argv[i + 1]
        else:
            raise CommandError(SYNTAX)
        i += 2
    if not zs.big:
        items = list(zs.iter_items())
        fmt = _listpack_score
        next_cursor = 0
    else:
        items, next_cursor = _scan_batch(zs, cursor, count)
        fmt = format_double
    match = compile_glob(pattern) if pattern is not None else None
    out = []
    for member, score in items:
        if match is None or match(member) is not None:
            out.append(member)
            out.append(fmt(score))
    return [b"%d" % next_cursor, out]
