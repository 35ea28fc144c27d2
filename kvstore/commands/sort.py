"""SORT and SORT_RO (Redis 7.0 `sort.c`).

Theory of operation. SORT takes the elements of a list, set or sorted set (a missing key is an
empty list), gives each a sort key, orders them, cuts the LIMIT window, and replies the elements
(or, with GET patterns, what the patterns find for each), or stores that as a list (STORE).

Sort keys, as Redis's `sortCompare` orders them:
- numeric (the default): the element, or its BY pattern's value (0 when that is missing), read
  as C's strtod reads it (`sort_score`); equal scores are ordered by the elements' bytes, so the
  order is total and every correct sort gives the same answer;
- ALPHA: the element, or its BY value (a missing one first). Redis compares with strcoll unless
  STORE is given: in the C locale that is strcmp, which stops at a NUL byte, so the key is the
  bytes up to the first NUL; with STORE it is memcmp of the whole strings. Ties keep the order
  the elements were loaded in: Redis's qsort is glibc's merge sort, stable like `sorted()`;
- DESC negates the comparison, so ties still keep their load order.
With BY and a LIMIT window narrower than the whole, Redis uses its partial quicksort, which is
not stable: for ALPHA ties we port it (`pqsort.py`); without ties `sorted()` gives the same.

A BY pattern without `*` (conventionally `nosort`) turns sorting off for good (Redis never
clears its `dontsort` flag, whatever BY follows): a list or sorted set keeps its own order
(reversed by DESC) and LIMIT takes the window straight from it; a set comes out in its
iteration order, DESC or not, except with STORE, where Redis sorts it ALPHA so that replicas and
the AOF store the same list.

Load order: a list's, a sorted set's by score, an intset's ascending (as Redis iterates them).
Redis loads a hash-table set, and a sorted set it sorts, in dict order (random per process), so
ALPHA BY ties among their elements, and a hash-table set under BY nosort, come out in an order
no client can rely on; ours is deterministic (ascending bytes for a hash-table set when it is
sorted, so that a logged SORT ... STORE replays to the same list).

The AOF: SORT ... STORE is logged as sent when its result depends on the source alone (the load
order above is deterministic); when BY or GET patterns read other keys, whose TTLs may end
before a replay, it is logged as its result (DEL, then RPUSHes).

Redis converts a small sorted set to a skiplist for SORT, which OBJECT ENCODING then shows: we
raise `big` likewise. Sizes: LIMIT offsets and counts are clamped to the source's length before
anything is sliced, as Redis clamps them.
"""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from fractions import Fraction
from typing import Callable

from ..engine.values import Hash, List, Set
from ..engine.zset import ZSet
from ..errors import SYNTAX, CommandError, wrongtype
from ..numbers import parse_float
from ..server.acl import ACL_CHECK
from .keyspecs import sort_keys
from .args import to_int
from .lists import list_range
from .pqsort import partial_sort
from .sets import members_of
from .table import DENYOOM, READONLY, WRITE, Context, KeySpec, command

KEY1 = KeySpec(1, 1, 1)
NOT_DOUBLE = "ERR One or more scores can't be converted into double"

# C's isspace(): strtod skips these before a number.
_C_SPACE = b" \t\n\v\f\r"
_DBL_MIN = sys.float_info.min
# glibc's strtod sets ERANGE for a result that is tiny (below DBL_MIN even after rounding to
# 53 bits with an unbounded exponent, i.e. below 2**-1022 - 2**-1076) and inexact. Redis's
# string2d lets such values through, SORT does not.
_TINY = Fraction(2**54 - 1, 2**1076)
_HEX = re.compile(rb"([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?")
# SORT ... STORE whose patterns read other keys is logged as its result, in RPUSHes of at most
# this many elements (so no AOF record grows without bound).
STORE_EFFECT_BATCH = 1024

Lookup = Callable[[Context, bytes], "bytes | None"]


def sort_score(value: bytes) -> float:
    """The double SORT reads from `value`: C's strtod on it as a C string (up to its first NUL),
    leading white space skipped, "" read as 0. ValueError where Redis refuses it: trailing
    text, NaN, or strtod's ERANGE (overflow, underflow to zero, an inexact tiny result)."""
    text = value.partition(b"\0")[0]
    if not text:  # strtod reads nothing and stops at the terminator, which Redis accepts
        return 0.0
    number = text.lstrip(_C_SPACE)
    score = parse_float(number)
    if score and -_DBL_MIN <= score <= _DBL_MIN and _inexact_tiny(number, score):
        raise ValueError(f"float underflow: {number[:40]!r}")
    return score


def _inexact_tiny(number: bytes, score: float) -> bool:
    """Whether the exact value spelled by `number` is tiny and differs from `score`. Only
    called for a result near DBL_MIN, so its exponent is bounded by the digits' count."""
    m = _HEX.fullmatch(number)
    if m is None:
        exact = Fraction(Decimal(number.decode("ascii")))
    else:
        sign, whole, frac, exp = m.groups()
        exact = Fraction(int(whole + frac, 16)) * Fraction(2) ** (int(exp or b"0") - 4 * len(frac))
        if sign == b"-":
            exact = -exact
    return abs(exact) < _TINY and exact != score


def pattern_lookup(pattern: bytes) -> Lookup:
    """Redis's `lookupKeyByPattern` for one BY or GET pattern: `#` is the element itself;
    otherwise the first `*` is replaced by the element and the key read as a string, or, with
    `->field` after the `*`, that field of the hash at the key. A pattern without `*`, a missing
    key or field, or a value of another type: None. Redis scans the pattern as a C string."""
    text = pattern.partition(b"\0")[0]
    if text == b"#":
        return lambda ctx, element: element
    star = text.find(b"*")
    if star < 0:
        return lambda ctx, element: None
    arrow = text.find(b"->", star + 1)
    prefix = pattern[:star]
    if arrow < 0 or arrow + 2 == len(text):  # no arrow, or nothing after it: part of the key
        suffix = pattern[star + 1:]

        def string_at(ctx: Context, element: bytes) -> bytes | None:
            value = ctx.read(prefix + element + suffix)
            return value if type(value) is bytes else None

        return string_at
    suffix, field = pattern[star + 1:arrow], pattern[arrow + 2:]

    def field_at(ctx: Context, element: bytes) -> bytes | None:
        value = ctx.read(prefix + element + suffix)
        return value.get(field) if type(value) is Hash else None

    return field_at


class _Options:
    """SORT's parsed options."""

    __slots__ = ("desc", "alpha", "offset", "count", "by", "dontsort", "gets", "store")

    def __init__(self) -> None:
        self.desc = False
        self.alpha = False
        self.offset = 0
        self.count = -1
        self.by: bytes | None = None
        self.dontsort = False
        self.gets: list[bytes] = []
        self.store: bytes | None = None


def _parse(ctx: Context, argv: list[bytes], readonly: bool) -> _Options:
    """Options in any order, the last of a repeated one winning; an unknown word, or one
    missing its arguments, is a syntax error (SORT_RO knows no STORE). BY with a pattern and
    GET read keys no ACL key pattern names: a user without every key may not use them."""
    opts = _Options()
    full_keys = _full_key_access(ctx, argv)
    i = 2
    argc = len(argv)
    while i < argc:
        word = argv[i].lower()
        left = argc - i - 1
        if word == b"asc":
            opts.desc = False
        elif word == b"desc":
            opts.desc = True
        elif word == b"alpha":
            opts.alpha = True
        elif word == b"limit" and left >= 2:
            opts.offset = to_int(argv[i + 1])
            opts.count = to_int(argv[i + 2])
            i += 2
        elif word == b"store" and left >= 1 and not readonly:
            opts.store = argv[i + 1]
            i += 1
        elif word == b"by" and left >= 1:
            opts.by = argv[i + 1]
            if b"*" not in opts.by.partition(b"\0")[0]:
                opts.dontsort = True
            elif not full_keys:
                raise CommandError(_DENIED % "BY")
            i += 1
        elif word == b"get" and left >= 1:
            if not full_keys:
                raise CommandError(_DENIED % "GET")
            opts.gets.append(argv[i + 1])
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    return opts


_DENIED = "ERR %s option of SORT denied due to insufficient ACL permissions."


def _full_key_access(ctx: Context, argv: list[bytes]) -> bool:
    """Redis's ACLUserCheckCmdWithUnrestrictedKeyAccess: a selector allows this SORT and every
    key (`allkeys`)."""
    client = ctx.client
    if client is None or not client.state & ACL_CHECK:
        return True
    name = "sort_ro" if argv[0].lower() == b"sort_ro" else "sort"
    return client.user.full_key_access(name, argv)


def _window(n: int, offset: int, count: int) -> tuple[int, int]:
    """LIMIT offset count over n elements, clamped as Redis does: inclusive (start, end), empty
    when end < start. A negative offset is 0, a negative count means all."""
    start = min(max(offset, 0), n)
    count = min(max(count, -1), n)
    if start >= n:
        return n - 1, n - 2
    end = n - 1 if count < 0 else start + count - 1
    return start, min(end, n - 1)


def _in_place(value: List | ZSet | None, start: int, end: int, desc: bool) -> list[bytes]:
    """The window of a list or sorted set in its own order (from the tail with desc), read
    straight from it as Redis does under BY nosort. O(log n + window) for a sorted set."""
    if value is None or end < start:
        return []
    n = len(value)
    lo, hi = (n - 1 - end, n - 1 - start) if desc else (start, end)
    if isinstance(value, ZSet):
        picked = value.members(lo, hi + 1)
    else:
        picked = list_range(value, lo, hi)
    if desc:
        picked.reverse()
    return picked


def _load(value: List | Set | ZSet) -> list[bytes]:
    """Every element, in the order SORT takes them before sorting (module docstring)."""
    if isinstance(value, List):
        return list(value)
    if isinstance(value, ZSet):
        return value.members(0, len(value))
    return sorted(value) if value.big else members_of(value)


def _sort_keys(ctx: Context, elements: list[bytes], by: bytes | None, alpha: bool,
               binary: bool) -> list:
    """Each element's sort key (module docstring). Every BY value is read before a score error
    is raised, as Redis reads them all (their lazy expiry included)."""
    if by is None:
        values: list = elements
    else:
        find = pattern_lookup(by)
        values = [find(ctx, element) for element in elements]
    if alpha:
        if by is None:
            return values if binary else [v.partition(b"\0")[0] for v in values]
        return [(0, b"") if v is None else (1, v if binary else v.partition(b"\0")[0])
                for v in values]
    keys = []
    failed = False
    for element, v in zip(elements, values):
        score = 0.0
        if v is not None:
            try:
                score = sort_score(v)
            except ValueError:
                failed = True
        keys.append((score, element))
    if failed:
        raise CommandError(NOT_DOUBLE)
    return keys


def _sorted(elements: list[bytes], keys: list, desc: bool, pqsort_window: tuple | None
            ) -> list[bytes]:
    """The elements ordered by their keys. `pqsort_window`: the (start, end) Redis's partial
    quicksort gets, when it is the one Redis uses; it only matters where keys tie."""
    if pqsort_window is not None and len(set(keys)) < len(keys):
        rank = {key: i for i, key in enumerate(sorted(set(keys)))}
        ranks = [-rank[key] if desc else rank[key] for key in keys]
        return [elements[i] for i in partial_sort(ranks, *pqsort_window)]
    order = sorted(range(len(elements)), key=keys.__getitem__, reverse=desc)
    return [elements[i] for i in order]


def _store(ctx: Context, dest: bytes, values: list, log_result: bool) -> int:
    """Write SORT's result at dest as a list (any old value and TTL go; a missing GET value is
    an empty string), or delete dest when it is empty. Returns the result's length.

    `log_result`: the patterns read other keys, whose TTLs may end before the AOF is replayed,
    so the effect is logged (DEL, then RPUSHes) rather than the request."""
    db = ctx.db
    if values:
        stored = List(b"" if v is None else v for v in values)
        db.set_value(dest, stored, ctx.now)
        ctx.ks.dirty += len(values)
        ctx.notify("l", "sortstore", dest)
        if log_result:
            items = list(stored)
            ctx.effects = [[b"DEL", dest]] + [
                [b"RPUSH", dest, *items[i:i + STORE_EFFECT_BATCH]]
                for i in range(0, len(items), STORE_EFFECT_BATCH)]
    elif db.delete(dest):  # (even past its TTL: Redis's dbDelete, a `del` event)
        ctx.ks.dirty += 1
        ctx.notify("g", "del", dest)
    return len(values)


def _sort(ctx: Context, argv: list[bytes], readonly: bool):
    opts = _parse(ctx, argv, readonly)
    if opts.store is not None:
        ctx.touched = (argv, [opts.store])  # not the source
    value = ctx.read(argv[1])
    kind = type(value)
    if value is not None and kind is not List and kind is not Set and kind is not ZSet:
        raise wrongtype()
    dontsort, alpha, by = opts.dontsort, opts.alpha, opts.by
    if dontsort and kind is Set and opts.store is not None:
        dontsort, alpha, by = False, True, None
    if kind is ZSet:
        value.big = True  # type: ignore[union-attr]
    n = 0 if value is None else len(value)  # type: ignore[arg-type]
    start, end = _window(n, opts.offset, opts.count)
    if dontsort and kind is not Set:
        picked = _in_place(value, start, end, opts.desc)  # type: ignore[arg-type]
    else:
        elements = _load(value) if value is not None else []  # type: ignore[arg-type]
        if not dontsort:
            keys = _sort_keys(ctx, elements, by, alpha, opts.store is not None)
            narrowed = by is not None and (start != 0 or end != n - 1)
            elements = _sorted(elements, keys, opts.desc, (start, end) if narrowed else None)
        picked = elements[start:end + 1]
    values: list[bytes] | list[bytes | None] = picked
    if opts.gets:
        finds = [pattern_lookup(p) for p in opts.gets]
        values = [find(ctx, element) for element in picked for find in finds]
    if opts.store is not None:
        reads_keys = (by is not None and not dontsort) or any(
            p.partition(b"\0")[0] != b"#" for p in opts.gets)
        return _store(ctx, opts.store, values, reads_keys)
    return values


def _sort_keys_of(argv: list[bytes]) -> list[bytes]:
    """The keys SORT reads and writes (Redis's sortGetKeys)."""
    return [argv[pos] for pos, _ in sort_keys(argv)]


@command("sort", -2, WRITE | DENYOOM, KEY1, "generic", getkeys=_sort_keys_of)
def sort(ctx: Context, argv: list[bytes]):
    """SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]

    Complexity: O(N + M log M), N the source's size, M the elements sorted, plus one lookup per
    element and pattern. Reply: the elements (or the GET values, null where missing); with
    STORE, the stored list's length.
    """
    return _sort(ctx, argv, False)


def _first_key(argv: list[bytes]) -> list[bytes]:
    return argv[1:2]


# Redis finds SORT_RO's one key by a function too (sortROGetKeys): it is `movablekeys`.
@command("sort_ro", -2, READONLY, KEY1, "generic", getkeys=_first_key)
def sort_ro(ctx: Context, argv: list[bytes]):
    """SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]

    Complexity: as SORT. Reply: as SORT without STORE, which SORT_RO refuses (syntax error).
    """
    return _sort(ctx, argv, True)
