"""Sorted-set algebra (Redis `zunionInterDiffGenericCommand`): ZUNION, ZINTER, ZDIFF, their STORE
forms and ZINTERCARD.

Inputs may be sorted sets or plain sets (a set member scores 1). The arithmetic follows Redis to
the bit, because clients compare the scores' text: each input score is multiplied by its weight
(a NaN product, 0 * inf, becomes 0); SUM adds in Redis's order and turns a NaN sum (inf + -inf)
into 0; MIN and MAX use C's `<` / `>`, which keep the current value when a NaN comes along.
Redis sorts the inputs of ZUNION / ZINTER by size (glibc's qsort: a stable merge sort), which
fixes the order in which a member's scores are added; so do we, with a stable sort. ZDIFF keeps
the first input's scores. The result is ordered by (score, member).

Complexity: ZUNION O(N) over all input members, plus O(M log M) to sort the result; ZINTER
O(N*K) for N members in the smallest input and K inputs; ZDIFF O(L) over all inputs.
"""

from __future__ import annotations

from ..engine.values import Set
from ..engine.zset import ZSet
from ..errors import SYNTAX, CommandError, wrongtype
from ..replies import ScorePairs
from .args import to_int
from .table import DENYOOM, READONLY, WRITE, Context, command
from .zsets import GROUP, KEY1, NO_KEYS, numkeys_keys, parse_long, store_scores, to_score

UNION, INTER, DIFF = 0, 1, 2
SUM, MIN, MAX = 0, 1, 2
_AGGREGATES = {b"sum": SUM, b"min": MIN, b"max": MAX}


def _scores_of(value) -> dict | Set | None:
    """An input as member -> score lookups: the zset's dict, or the set itself (score 1)."""
    return value.scores() if type(value) is ZSet else value


def _pairs(src) -> object:
    if src is None:
        return ()
    if type(src) is dict:
        return src.items()
    return ((m, 1.0) for m in src)


def _find(src, member: bytes) -> float | None:
    if type(src) is dict:
        return src.get(member)
    return 1.0 if member in src else None


def _aggregate(target: float, value: float, how: int) -> float:
    """zunionInterAggregate, with C's comparison semantics for NaN."""
    if how == SUM:
        total = target + value
        return 0.0 if total != total else total
    if how == MIN:
        return value if value < target else target
    return value if value > target else target


def _setop(ctx: Context, argv: list[bytes], numkeys_idx: int, op: int, store: bool,
           card: bool = False):
    """Parse, check and compute. Returns (member -> score dict, withscores), or the count for
    ZINTERCARD, raising Redis's errors in Redis's order (inputs' types before options)."""
    name = argv[0].decode("utf-8", "replace").lower()
    setnum = to_int(argv[numkeys_idx])
    if setnum < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    if setnum > len(argv) - numkeys_idx - 1:
        raise CommandError(SYNTAX)
    srcs = []
    j = numkeys_idx + 1
    for key in argv[j : j + setnum]:
        value = ctx.read(key)
        if value is not None and type(value) is not ZSet and type(value) is not Set:
            raise wrongtype()
        srcs.append(None if value is None else _scores_of(value))
    weights = [1.0] * setnum
    how = SUM
    withscores = False
    limit = 0
    j += setnum
    n = len(argv)
    while j < n:
        opt = argv[j].lower()
        left = n - j
        if op != DIFF and not card and left >= setnum + 1 and opt == b"weights":
            weights = [to_score(a, "ERR weight value is not a float")
                       for a in argv[j + 1 : j + 1 + setnum]]
            j += setnum + 1
        elif op != DIFF and not card and left >= 2 and opt == b"aggregate":
            how = _AGGREGATES.get(argv[j + 1].lower(), -1)
            if how < 0:
                raise CommandError(SYNTAX)
            j += 2
        elif not store and not card and opt == b"withscores":
            withscores = True
            j += 1
        elif card and left >= 2 and opt == b"limit":
            limit = parse_long(argv[j + 1], "ERR LIMIT can't be negative")
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            j += 2
        else:
            raise CommandError(SYNTAX)
    if op == DIFF:
        return _diff(srcs), withscores
    # Smallest inputs first, weights following their inputs; a stable sort, as glibc's qsort.
    order = sorted(range(setnum), key=lambda i: 0 if srcs[i] is None else len(srcs[i]))
    srcs = [srcs[i] for i in order]
    weights = [weights[i] for i in order]
    if op == INTER:
        return _inter(srcs, weights, how, card, limit), withscores
    return _union(srcs, weights, how), withscores


def _inter(srcs: list, weights: list, how: int, card: bool, limit: int):
    """Members of every input, scanning the smallest; or only their count (ZINTERCARD)."""
    out: dict[bytes, float] = {}
    count = 0
    if srcs[0] is None or not srcs[0]:
        return count if card else out
    rest = list(zip(srcs[1:], weights[1:]))
    w0 = weights[0]
    for member, s in _pairs(srcs[0]):
        score = w0 * s
        if score != score:
            score = 0.0
        for src, w in rest:
            found = _find(src, member) if src is not None else None
            if found is None:
                break
            if not card:
                score = _aggregate(score, found * w, how)
        else:
            if card:
                count += 1
                if limit and count >= limit:
                    break
            else:
                out[member] = score
    return count if card else out


def _union(srcs: list, weights: list, how: int) -> dict[bytes, float]:
    acc: dict[bytes, float] = {}
    get = acc.get
    for src, w in zip(srcs, weights):
        for member, s in _pairs(src):
            score = w * s
            if score != score:
                score = 0.0
            cur = get(member)
            acc[member] = score if cur is None else _aggregate(cur, score, how)
    return acc


def _diff(srcs: list) -> dict[bytes, float]:
    first = srcs[0]
    if not first:
        return {}
    others = [s for s in srcs[1:] if s]
    if any(s is first for s in others):  # the same key again: nothing is left
        return {}
    return {m: s for m, s in _pairs(first) if not any(_find(o, m) is not None for o in others)}


def _reply(scores: dict[bytes, float], withscores: bool):
    ordered = sorted(zip(scores.values(), scores.keys()))
    if withscores:
        return ScorePairs([(m, s) for s, m in ordered])
    return [m for _, m in ordered]


def _store_keys(argv: list[bytes]) -> list[bytes]:
    sources = numkeys_keys(argv, 2)  # none for a bad numkeys: then no key at all, as Redis
    return [argv[1], *sources] if sources else []


@command("zunion", -3, READONLY, NO_KEYS, GROUP, getkeys=numkeys_keys)
def zunion(ctx: Context, argv: list[bytes]):
    """ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]

    Complexity: O(N) + O(M log M). Reply: members (with WITHSCORES, member-score pairs).
    """
    return _reply(*_setop(ctx, argv, 1, UNION, False))


@command("zinter", -3, READONLY, NO_KEYS, GROUP, getkeys=numkeys_keys)
def zinter(ctx: Context, argv: list[bytes]):
    """ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]

    Complexity: O(N*K) + O(M log M). Reply: members (with WITHSCORES, member-score pairs).
    """
    return _reply(*_setop(ctx, argv, 1, INTER, False))


@command("zdiff", -3, READONLY, NO_KEYS, GROUP, getkeys=numkeys_keys)
def zdiff(ctx: Context, argv: list[bytes]):
    """ZDIFF numkeys key [key ...] [WITHSCORES]

    Complexity: O(L + M log M). Reply: members (with WITHSCORES, member-score pairs).
    """
    return _reply(*_setop(ctx, argv, 1, DIFF, False))


@command("zunionstore", -4, WRITE | DENYOOM, KEY1, GROUP, getkeys=_store_keys)
def zunionstore(ctx: Context, argv: list[bytes]):
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]

    Complexity: O(N) + O(M log M). Reply: the size of the stored result.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return store_scores(ctx, argv[1], _setop(ctx, argv, 2, UNION, True)[0], "zunionstore")


@command("zinterstore", -4, WRITE | DENYOOM, KEY1, GROUP, getkeys=_store_keys)
def zinterstore(ctx: Context, argv: list[bytes]):
    """ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]

    Complexity: O(N*K) + O(M log M). Reply: the size of the stored result.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return store_scores(ctx, argv[1], _setop(ctx, argv, 2, INTER, True)[0], "zinterstore")


@command("zdiffstore", -4, WRITE | DENYOOM, KEY1, GROUP, getkeys=_store_keys)
def zdiffstore(ctx: Context, argv: list[bytes]):
    """ZDIFFSTORE destination numkeys key [key ...]

    Complexity: O(L + M log M). Reply: the size of the stored result.
    """
    ctx.touched = (argv, [argv[1]])  # not its sources
    return store_scores(ctx, argv[1], _setop(ctx, argv, 2, DIFF, True)[0], "zdiffstore")


@command("zintercard", -3, READONLY, NO_KEYS, GROUP, getkeys=numkeys_keys)
def zintercard(ctx: Context, argv: list[bytes]):
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]

    Complexity: O(N*K), stopping at LIMIT. Reply: the size of the intersection.
    """
    return _setop(ctx, argv, 1, INTER, False, card=True)[0]
