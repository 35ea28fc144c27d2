"""Sorted-set ranges (Redis `t_zset.c`): ZCOUNT, ZLEXCOUNT, ZRANGE and its older forms
(ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), ZRANGESTORE and ZREMRANGEBY{RANK,SCORE,LEX}.

Parsing and error precedence are here; the range semantics are the engine's (`ZSet.rank_span`,
`score_span`, `lex_span`, `range`): every range becomes indices [start, stop) into the zset's
order, found in O(log n), and replies are slices.

Score bounds are read with C's `strtod`, as zslParseRange does, which is more lenient than
ZADD's scores: a leading space, "" (0), "(" (exclusive 0) and overflow to inf are accepted.
Lex bounds are `[x`, `(x`, `-`, `+` (engine.zset.lex_bound).
"""

from __future__ import annotations

import re

from ..engine.zset import LexBound, ZSet, lex_bound
from ..errors import SYNTAX, CommandError, wrongtype
from ..replies import ScorePairs
from .args import to_int
from .table import DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command
from .zsets import GROUP, KEY1, _for_write, _lookup, store_pairs

NOT_RANGE_FLOAT = "ERR min or max is not a float"
NOT_RANGE_LEX = "ERR min or max not valid string range item"

# C `strtod` syntax after leading spaces: decimal, hex, inf/infinity ("nan" is refused by Redis).
_STRTOD_RE = re.compile(
    rb"[+-]?(?:(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    rb"|0[xX](?P<hex>(?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    rb"|(?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?))"
)
_C_SPACE = b" \t\n\v\f\r"


# -- parsing ranges --------------------------------------------------------------------------------


def _strtod(arg: bytes) -> float:
    """C `strtod` over a whole C string, as zslParseRange uses it; ValueError if it stops early."""
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]  # the C string ends there
    if arg.isdigit():
        return float(arg)
    if not arg:
        return 0.0  # nothing converted, and the end pointer is at the terminating NUL
    body = arg.lstrip(_C_SPACE)
    m = _STRTOD_RE.fullmatch(body)
    if m is None:
        raise ValueError(arg)
    if m.group("dec") is not None:
        return float(body)
    if m.group("inf") is not None:
        return -float("inf") if body[0] == 0x2D else float("inf")
    try:
        return float.fromhex(body.decode())
    except OverflowError:  # strtod returns HUGE_VAL; zslParseRange does not check ERANGE
        return -float("inf") if body[0] == 0x2D else float("inf")


def _range_item(arg: bytes) -> tuple[float, bool]:
    if arg[:1] == b"(":
        return _strtod(arg[1:]), True
    return _strtod(arg), False


def parse_score_range(lo: bytes, hi: bytes) -> tuple[float, float, bool, bool]:
    """(min, max, min exclusive, max exclusive) from ZRANGEBYSCORE-style bounds, in the order
    of ZSet.score_span's arguments."""
    try:
        (low, low_ex), (high, high_ex) = _range_item(lo), _range_item(hi)
    except ValueError:
        raise CommandError(NOT_RANGE_FLOAT) from None
    return low, high, low_ex, high_ex


def parse_lex_range(lo: bytes, hi: bytes) -> tuple[LexBound, LexBound]:
    """Two ZRANGEBYLEX bounds (`[x`, `(x`, `-`, `+`)."""
    try:
        return lex_bound(lo), lex_bound(hi)
    except ValueError:
        raise CommandError(NOT_RANGE_LEX) from None


@command("zcount", 4, READONLY | FAST, KEY1, GROUP)
def zcount(ctx: Context, argv: list[bytes]):
    """ZCOUNT key min max

    Complexity: O(log N). Reply: members with a score in [min, max].
    """
    rng = parse_score_range(argv[2], argv[3])
    zs = _lookup(ctx, argv[1])
    if zs is None:
        return 0
    return zs.count_by_score(*rng)


@command("zlexcount", 4, READONLY | FAST, KEY1, GROUP)
def zlexcount(ctx: Context, argv: list[bytes]):
    """ZLEXCOUNT key min max

    Complexity: O(log N). Reply: members between min and max ([x, (x, -, +).
    """
    rng = parse_lex_range(argv[2], argv[3])
    zs = _lookup(ctx, argv[1])
    if zs is None:
        return 0
    return zs.count_by_lex(*rng)


# -- ZRANGE and its older forms ------------------------------------------------------------------

AUTO, RANK, SCORE, LEX = 0, 1, 2, 3


def zrange_generic(ctx: Context, argv: list[bytes], src: int, store: bool, rangetype: int,
                   reverse: bool | None) -> list | tuple[list, int]:
    """Redis's zrangeGenericCommand: ZRANGE, ZRANGESTORE and the Z[REV]RANGE[BYSCORE|BYLEX]
    forms. `src` is the index of the source key; `rangetype` AUTO and `reverse` None let the
    options choose. Returns the reply, or for `store` the (member, score) pairs to store and
    the size Redis announces for them (a missing source is an empty result)."""
    minidx, maxidx = src + 1, src + 2
    withscores = False
    offset, limit = 0, -1
    j, n = src + 3, len(argv)
    while j < n:
        opt = argv[j].lower()
        if not store and opt == b"withscores":
            withscores = True
        elif opt == b"limit" and n - j - 1 >= 2:
            offset = to_int(argv[j + 1])
            limit = to_int(argv[j + 2])
            j += 2
        elif reverse is None and opt == b"rev":
            reverse = True
        elif rangetype == AUTO and opt == b"bylex":
            rangetype = LEX
        elif rangetype == AUTO and opt == b"byscore":
            rangetype = SCORE
        else:
            raise CommandError(SYNTAX)
        j += 1
    reverse = bool(reverse)
    if rangetype == AUTO:
        rangetype = RANK
    if limit != -1 and rangetype == RANK:
        raise CommandError(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    if withscores and rangetype == LEX:
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    if reverse and rangetype != RANK:
        minidx, maxidx = maxidx, minidx  # the range is given as max, min
    if rangetype == RANK:
        start, end = to_int(argv[minidx]), to_int(argv[maxidx])
    elif rangetype == SCORE:
        rng = parse_score_range(argv[minidx], argv[maxidx])
    else:
        rng = parse_lex_range(argv[minidx], argv[maxidx])  # type: ignore[assignment]
    zs = ctx.read(argv[src])
    if zs is None:
        return ([], 0) if store else []
    if type(zs) is not ZSet:
        raise wrongtype()
    pairs = withscores or store
    if rangetype == RANK:
        out = zs.range_by_rank(start, end, reverse, pairs)
    else:
        span = zs.score_span(*rng) if rangetype == SCORE else zs.lex_span(*rng, reverse)
        out = zs.range(*span, reverse, offset, limit, pairs)
    if store:
        # Redis sizes the destination up front when the count is known (a rank range).
        return out, (len(out) if rangetype == RANK else 0)
    return ScorePairs(out) if withscores else out


@command("zrange", -4, READONLY, KEY1, GROUP)
def zrange(ctx: Context, argv: list[bytes]):
    """ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]

    Complexity: O(log N + M). Reply: members (with WITHSCORES, member-score pairs).
    """
    if len(argv) == 4:  # ZRANGE key start stop: the hot path
        start, end = to_int(argv[2]), to_int(argv[3])
        zs = _lookup(ctx, argv[1])
        return [] if zs is None else zs.range_by_rank(start, end)
    return zrange_generic(ctx, argv, 1, False, AUTO, None)


@command("zrevrange", -4, READONLY, KEY1, GROUP)
def zrevrange(ctx: Context, argv: list[bytes]):
    """ZREVRANGE key start stop [WITHSCORES]

    Complexity: O(log N + M). Reply: members from the highest score.
    """
    return zrange_generic(ctx, argv, 1, False, RANK, True)


@command("zrangebyscore", -4, READONLY, KEY1, GROUP)
def zrangebyscore(ctx: Context, argv: list[bytes]):
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]

    Complexity: O(log N + M). Reply: members with a score in the range.
    """
    return zrange_generic(ctx, argv, 1, False, SCORE, False)


@command("zrevrangebyscore", -4, READONLY, KEY1, GROUP)
def zrevrangebyscore(ctx: Context, argv: list[bytes]):
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]

    Complexity: O(log N + M). Reply: members with a score in the range, highest first.
    """
    return zrange_generic(ctx, argv, 1, False, SCORE, True)


@command("zrangebylex", -4, READONLY, KEY1, GROUP)
def zrangebylex(ctx: Context, argv: list[bytes]):
    """ZRANGEBYLEX key min max [LIMIT offset count]

    Complexity: O(log N + M). Reply: members in the lex range.
    """
    return zrange_generic(ctx, argv, 1, False, LEX, False)


@command("zrevrangebylex", -4, READONLY, KEY1, GROUP)
def zrevrangebylex(ctx: Context, argv: list[bytes]):
    """ZREVRANGEBYLEX key max min [LIMIT offset count]

    Complexity: O(log N + M). Reply: members in the lex range, in reverse order.
    """
    return zrange_generic(ctx, argv, 1, False, LEX, True)


@command("zrangestore", -5, WRITE | DENYOOM, KeySpec(1, 2, 1), GROUP)
def zrangestore(ctx: Context, argv: list[bytes]):
    """ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]

    Complexity: O(log N + M). Reply: the number of members stored at dst (0 deletes dst).
    """
    pairs, size_hint = zrange_generic(ctx, argv, 2, True, AUTO, None)  # type: ignore[misc]
    ctx.touched = (argv, [argv[1]])  # not the source
    return store_pairs(ctx, argv[1], pairs, "zrangestore", size_hint)


def _zremrange(ctx: Context, argv: list[bytes], rangetype: int, event: str) -> int:
    if rangetype == RANK:
        start, end = to_int(argv[2]), to_int(argv[3])
    elif rangetype == SCORE:
        rng = parse_score_range(argv[2], argv[3])
    else:
        rng = parse_lex_range(argv[2], argv[3])  # type: ignore[assignment]
    key = argv[1]
    zs = _for_write(ctx, key)
    if zs is None:
        return 0
    if rangetype == RANK:
        removed = zs.remove_range_by_rank(start, end)
    elif rangetype == SCORE:
        removed = zs.remove_range_by_score(*rng)
    else:
        removed = zs.remove_range_by_lex(*rng)
    deleted = len(removed)
    if deleted:
        ctx.notify("z", event, key)
        if not zs:
            ctx.db.delete(key)
            ctx.notify("g", "del", key)
        ctx.ks.dirty += deleted
    return deleted


@command("zremrangebyrank", 4, WRITE, KEY1, GROUP)
def zremrangebyrank(ctx: Context, argv: list[bytes]):
    """ZREMRANGEBYRANK key start stop

    Complexity: O(log N + M). Reply: members removed.
    """
    return _zremrange(ctx, argv, RANK, "zremrangebyrank")


@command("zremrangebyscore", 4, WRITE, KEY1, GROUP)
def zremrangebyscore(ctx: Context, argv: list[bytes]):
    """ZREMRANGEBYSCORE key min max

    Complexity: O(log N + M). Reply: members removed.
    """
    return _zremrange(ctx, argv, SCORE, "zremrangebyscore")


@command("zremrangebylex", 4, WRITE, KEY1, GROUP)
def zremrangebylex(ctx: Context, argv: list[bytes]):
    """ZREMRANGEBYLEX key min max

    Complexity: O(log N + M). Reply: members removed.
    """
    return _zremrange(ctx, argv, LEX, "zremrangebylex")
