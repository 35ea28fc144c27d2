"""Sorted sets.

A ZSet keeps two views of the same members: `_scores` (dict member -> score, O(1) ZSCORE) and an
ordered index for O(log n) rank and range. Invariant: both hold exactly the same members. Every
mutation updates `_scores` first, then the index; `_check()` asserts the invariant and is called
by stress tests only. Ties are ordered by member bytes, as in Redis; -inf and +inf are scores
like any other, NaN never gets in (callers refuse it).

The index is a list of sublists, as in sortedcontainers' SortedList, but each sublist is two
parallel sequences: `_ss[i]`, an `array('d')` of scores, and `_ms[i]`, a list of members. We
measured a SortedList of (score, member) tuples first: at 1M members every bisection probe
dereferences a tuple and then a float, two cache misses, and rank/update ran 8-10x slower than
at 1K. Raw doubles in an array make a probe one cache line at most, and drop the 56-byte tuple
per member. `_maxs` (each sublist's last score) and `_maxm` (its last member) route a lookup to
its sublist with two bisections; `_maxs` is a list, not an array: it is small (n / LOAD) and a
probe of a list compares a float in place where an array's creates one (a quarter faster at
1M). For the same reason a zset of one sublist (up to 2*LOAD members, all the small ones)
keeps its scores in a list, the very float objects of `_scores`, so no more memory: ZRANK on
1,000 members went from 1.33M to 1.52M embedded calls/s. Its first split turns them into
arrays, and a merge back to one sublist into a list (`_check` asserts which). `_index` is a Fenwick tree of the sublist lengths (rebuilt lazily after a split or merge),
which turns (sublist, offset) into a rank and back in O(log n); a read-mostly zset also gets
`_starts`, each sublist's first index, which does it in O(1) and one bisection, and which any
length change empties (see `_build_starts`).

Sublists hold between LOAD/2 and 2*LOAD members; a single-element insert or delete splits or
merges like sortedcontainers, a range delete re-chunks the sublists it touched. A score change
routes the new pair beside the old one: when both fall in the same sublist the member moves
within it (no length, index or `_starts` change; the max only if the last member changed),
otherwise it is a delete and an insert into the sublist already found. A zset of one sublist
(up to 2*LOAD members: every listpack-sized one) needs no routing, which `_route`, `add` and
`rank` skip.

Redis's ranges (by rank, by score with exclusive bounds, by lex with `[x (x - +`, LIMIT offset
count) are spans of indices [start, stop) (`rank_span`, `score_span`, `lex_span`), which
`range` slices and `remove_range` deletes. Lex ranges assume that all scores are equal; with
mixed scores (unspecified by Redis) `lex_span` walks the members as Redis walks a listpack.

`big` is the OBJECT ENCODING flag (listpack -> skiplist), raised by `grew()` past Redis's
zset-max-listpack-* thresholds and never lowered, as Redis never converts back.
A listpack stores an integral score as an integer, so a small zset turns -0.0 into 0: callers
store `0.0` for a zero score while `big` is False (see commands.zsets).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, repeat
from operator import add as _add
from typing import Iterator

from .values import Thresholds, give_back, register_type

# Members per sublist, between LOAD/2 and 2*LOAD: an insert moves at most 8 KiB of doubles plus
# 8 KiB of pointers. 256, 512 and 1024 measured within noise of each other at 1M members. In
# instructions per embedded call (callgrind), 256 saves ZADD 1K 3% but costs ZRANGE 1K 36%
# (two sublists instead of one), and 1024 costs ZADD 1K 9% (fewer list probes, more array ones).
LOAD = 512

# The descent steps of `_pos` for an index of each length (size + 1): size/2, ..., 2, 1.
_STEPS = {(1 << k) + 1: tuple(1 << j for j in range(k - 1, -1, -1)) for k in range(64)}

# What `add` did.
NOP = 0
ADDED = 1
UPDATED = 2

# A lex range bound: (kind, value, exclusive), kind -1 for "-" (below every member), +1 for "+"
# (above every member), 0 for a member value from "[value" (inclusive) or "(value" (exclusive).
LexBound = tuple[int, bytes, bool]


def lex_bound(spec: bytes) -> LexBound:
    """A ZRANGEBYLEX bound from its syntax: `[x`, `(x`, `-` or `+`; ValueError otherwise.
    (Like Redis, which reads a C string there, "+" or "-" followed by a NUL byte passes.)"""
    c = spec[:1]
    if c == b"(" or c == b"[":
        return 0, spec[1:], c == b"("
    if (c == b"+" or c == b"-") and spec[1:2] in (b"", b"\0"):
        return (1 if c == b"+" else -1), b"", True
    raise ValueError(f"not a lex range bound: {spec[:40]!r}")


def _gte_min(member: bytes, lo: LexBound) -> bool:
    if lo[0]:
        return lo[0] < 0
    return member > lo[1] if lo[2] else member >= lo[1]


def _lte_max(member: bytes, hi: LexBound) -> bool:
    if hi[0]:
        return hi[0] > 0
    return member < hi[1] if hi[2] else member <= hi[1]


def _lex_empty(lo: LexBound, hi: LexBound) -> bool:
    """Redis's zslIsInLexRange pre-check (sdscmplex): a range that can hold nothing."""
    if lo[0] and lo[0] == hi[0]:
        cmp = 0
    elif lo[0] < 0 or hi[0] > 0:
        cmp = -1
    elif lo[0] > 0 or hi[0] < 0:
        cmp = 1
    else:
        cmp = (lo[1] > hi[1]) - (lo[1] < hi[1])
    return cmp > 0 or (cmp == 0 and (lo[2] or hi[2]))


class ZSet:
    """A sorted set of bytes members with float scores. See the module docstring."""

    __slots__ = ("_scores", "_ss", "_ms", "_maxs", "_maxm", "_index", "_starts", "_reads", "big")

    def __init__(self) -> None:
        self._scores: dict[bytes, float] = {}
        self._ss: list[array] = []
        self._ms: list[list[bytes]] = []
        self._maxs: list[float] = []
        self._maxm: list[bytes] = []
        self._index: list[int] = []
        self._starts: list[int] = []
        self._reads = 0
        self.big = False

    @classmethod
    def from_scores(cls, scores: dict[bytes, float]) -> "ZSet":
        """A zset owning `scores` (member -> score). O(n log n)."""
        z = cls()
        z._scores = scores
        if scores:
            pairs = sorted(zip(scores.values(), scores.keys()))
            ss = [p[0] for p in pairs]
            ms = [p[1] for p in pairs]
            if len(ms) > LOAD:
                ss = array("d", ss)
            for i in range(0, len(ms), LOAD):
                z._ss.append(ss[i : i + LOAD])
                z._ms.append(ms[i : i + LOAD])
            z._maxs = [s[-1] for s in z._ss]
            z._maxm = [m[-1] for m in z._ms]
        return z

    # -- O(1) ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._scores)

    def __contains__(self, member: bytes) -> bool:
        return member in self._scores

    def score(self, member: bytes) -> float | None:
        """The member's score, or None. O(1)."""
        return self._scores.get(member)

    def scores(self) -> dict[bytes, float]:
        """The member -> score dict itself (read it, never change it). O(1)."""
        return self._scores

    def index_parts(self) -> tuple[list, list]:
        """The lists of sublists (members, scores), for a zset being taken apart by lazy
        freeing (engine.lazyfree): popping them frees the index a sublist at a time."""
        return self._ms, self._ss

    def grew(self, limits: Thresholds, *members: bytes) -> None:
        """Call after adding members: flips to skiplist past the entry count or member size."""
        if not self.big and (
            len(self._scores) > limits.zset_entries
            or any(len(m) > limits.zset_value for m in members)
        ):
            self.big = True

    # -- updates, O(log n) -----------------------------------------------------------------------

    def add(self, member: bytes, score: float) -> int:
        """Set member's score. Returns ADDED, UPDATED or NOP (same score). O(log n)."""
        scores = self._scores
        old = scores.get(member)
        if old is None:
            scores[member] = score
            self._insert(score, member)
            return ADDED
        if old == score:
            return NOP
        scores[member] = score
        # Route the old pair to its sublist and the new one to where it goes (`_route`,
        # inlined). The old pair may be a sublist's max: routing the new one past it is still
        # right, as removing the old pair only lowers that max.
        maxs = self._maxs
        last = len(maxs) - 1
        if last:
            pos = bisect_left(maxs, old)
            if maxs[pos] == old:
                pos = bisect_left(self._maxm, member, pos, bisect_right(maxs, old, pos))
            to = bisect_left(maxs, score)
            if to <= last and maxs[to] == score:
                to = bisect_left(self._maxm, member, to, bisect_right(maxs, score, to))
            if to > last:
                to = last
        else:
            pos = to = 0
        ss = self._ss[pos]
        ms = self._ms[pos]
        idx = bisect_left(ss, old)
        if idx + 1 < len(ss) and ss[idx + 1] == old and ms[idx] != member:
            # Tied scores: a pair is the commonest case, settled without two more bisections.
            idx += 1
            if idx + 1 < len(ss) and ss[idx + 1] == old and ms[idx] != member:
                idx = bisect_left(ms, member, idx + 1, bisect_right(ss, old, idx + 1))
        if to == pos:
            # It stays in its sublist: no length or index change, and the new place is on the
            # side of the old one the score moved to.
            del ss[idx], ms[idx]
            lo, hi = (idx, len(ss)) if score > old else (0, idx)
            at = bisect_left(ss, score, lo, hi)
            if at < hi and ss[at] == score:
                if at + 1 < hi and ss[at + 1] == score:
                    at = bisect_left(ms, member, at, bisect_right(ss, score, at + 2, hi))
                elif ms[at] < member:
                    at += 1
            ss.insert(at, score)
            ms.insert(at, member)
            last = len(ss) - 1
            if at == last or idx == last:
                maxs[pos] = ss[last]
                self._maxm[pos] = ms[last]
        elif len(ms) > (LOAD >> 1) + 1:
            # Out of a sublist left above LOAD/2 (no merge, so `to` still numbers the target).
            del ss[idx], ms[idx]
            if idx == len(ms):
                maxs[pos] = ss[-1]
                self._maxm[pos] = ms[-1]
            if self._index:
                self._index_add(pos, -1)
            self._insert(score, member, to)
        else:
            self._remove_at(pos, idx)
            self._insert(score, member)
        return UPDATED

    def remove(self, member: bytes) -> bool:
        """Remove member; returns whether it was there. O(log n)."""
        old = self._scores.pop(member, None)
        if old is None:
            return False
        self._remove(old, member)
        if self.big:
            give_back(self._scores)
        return True

    # -- positions, O(log n) ---------------------------------------------------------------------

    def rank(self, member: bytes, reverse: bool = False) -> int | None:
        """0-based rank by ascending (score, member), or from the top with reverse. O(log n)."""
        score = self._scores.get(member)
        if score is None:
            return None
        # `_locate(score, member, True)` and `_loc`, inlined: two calls and a tuple less.
        maxs = self._maxs
        if len(maxs) == 1:
            pos = 0
        else:
            pos = bisect_left(maxs, score)  # < len(maxs): the member is there
            if maxs[pos] == score:
                pos = bisect_left(self._maxm, member, pos, bisect_right(maxs, score, pos))
        ss = self._ss[pos]
        rank = bisect_left(ss, score)
        if rank + 1 < len(ss) and ss[rank + 1] == score:
            rank = bisect_left(self._ms[pos], member, rank, bisect_right(ss, score, rank))
        if pos:  # `_loc`, with its `_starts` case inlined (a read-mostly zset's)
            starts = self._starts
            rank = rank + starts[pos] if starts else self._loc(pos, rank)
        return len(self._scores) - 1 - rank if reverse else rank

    def score_index(self, score: float, after: bool = False) -> int:
        """Index of the first member with score >= `score` (> with `after`). O(log n)."""
        maxs = self._maxs
        pos = bisect_right(maxs, score) if after else bisect_left(maxs, score)
        if pos == len(maxs):
            return len(self._scores)
        ss = self._ss[pos]
        idx = bisect_right(ss, score) if after else bisect_left(ss, score)
        return self._loc(pos, idx) if pos else idx

    def uniform(self) -> bool:
        """True when every member has the same score (what lex ranges assume). O(1)."""
        return not self._ss or self._ss[0][0] == self._maxs[-1]

    def lex_index(self, member: bytes, after: bool = False) -> int:
        """For a uniform() zset: index of the first member >= `member` (> with `after`).
        O(log n)."""
        if not self._ss:
            return 0
        score = self._maxs[-1]
        pos, idx = self._locate(score, member)
        if after and idx < len(self._ms[pos]) and self._ms[pos][idx] == member:
            idx += 1
        return self._loc(pos, idx) if pos else idx

    def member_at(self, index: int) -> bytes:
        """The member at a 0-based index (0 <= index < len). O(log n)."""
        pos, idx = self._pos(index)
        return self._ms[pos][idx]

    # -- ranges, O(log n + k) --------------------------------------------------------------------

    def members(self, start: int, stop: int) -> list[bytes]:
        """Members at indices [start, stop), ascending (0 <= start; stop is clipped to len).
        O(log n + k)."""
        n = len(self._scores)
        # Not min(): it parses keywords, and was 18% of an embedded ZRANGE (callgrind).
        need = (stop if stop < n else n) - start
        if need <= 0:
            return []
        all_ms = self._ms
        if start + need <= len(all_ms[0]):  # a small zset, or the head of a big one
            return all_ms[0][start : start + need]
        pos, idx = self._pos(start)
        return self._gather(pos, idx, need)

    def _gather(self, pos: int, idx: int, need: int) -> list[bytes]:
        """`need` members from offset `idx` of sublist `pos` on, across sublists."""
        all_ms = self._ms
        out = all_ms[pos][idx : idx + need]
        need -= len(out)
        while need > 0:
            pos += 1
            chunk = all_ms[pos][:need]
            out += chunk
            need -= len(chunk)
        return out

    def items(self, start: int, stop: int) -> list[tuple[bytes, float]]:
        """(member, score) pairs at indices [start, stop), ascending (stop clipped to len).
        O(log n + k)."""
        out: list[tuple[bytes, float]] = []
        n = len(self._scores)
        need = (stop if stop < n else n) - start
        if need <= 0:
            return out
        pos, idx = self._pos(start)
        all_ms = self._ms
        all_ss = self._ss
        while need > 0:
            chunk = all_ms[pos][idx : idx + need]
            out += zip(chunk, all_ss[pos][idx : idx + len(chunk)])
            need -= len(chunk)
            pos += 1
            idx = 0
        return out

    def iter_items(self, reverse: bool = False) -> Iterator[tuple[bytes, float]]:
        """Every (member, score), ascending (descending with reverse). O(n) in total."""
        if reverse:
            for ms, ss in zip(reversed(self._ms), reversed(self._ss)):
                yield from zip(reversed(ms), reversed(ss))
        else:
            for ms, ss in zip(self._ms, self._ss):
                yield from zip(ms, ss)

    def remove_range(self, start: int, stop: int) -> list[bytes]:
        """Remove the members at indices [start, stop); returns them. O(log n + k)."""
        removed = self.members(start, stop)
        if not removed:
            return removed
        if len(removed) == 1:
            self._remove(self._scores.pop(removed[0]), removed[0])
            if self.big:
                give_back(self._scores)
            return removed
        pos, idx = self._pos(start)  # before touching _scores: _pos reads its length
        first = pos
        need = len(removed)
        ss_all, ms_all, maxs, maxm = self._ss, self._ms, self._maxs, self._maxm
        while need > 0:
            ms = ms_all[pos]
            end = min(len(ms), idx + need)
            need -= end - idx
            if idx == 0 and end == len(ms):
                del ss_all[pos], ms_all[pos], maxs[pos], maxm[pos]
            else:
                ss = ss_all[pos]
                del ss[idx:end], ms[idx:end]
                maxs[pos] = ss[-1]
                maxm[pos] = ms[-1]
                pos += 1
            idx = 0
        scores = self._scores
        for m in removed:
            del scores[m]
        # At most the first and last touched sublists are left partial, now adjacent.
        self._rechunk(max(first - 1, 0), min(first + 2, len(ms_all)))
        if self.big:
            give_back(scores)
        return removed

    def pop(self, count: int, maximum: bool = False) -> list[tuple[bytes, float]]:
        """Remove and return up to `count` lowest (highest) members in pop order. O(log n + k)."""
        n = len(self._scores)
        k = min(count, n)
        if maximum:
            out = self.items(n - k, n)
            out.reverse()
            self.remove_range(n - k, n)
        else:
            out = self.items(0, k)
            self.remove_range(0, k)
        return out

    # -- Redis ranges: spans of indices [start, stop), then slices ------------------------------

    def rank_span(self, start: int, end: int) -> tuple[int, int]:
        """Indices of ranks start..end inclusive, negative ones counting from the end, clipped
        as Redis does (ZRANGE, ZREMRANGEBYRANK). O(1)."""
        n = len(self._scores)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            return 0, 0
        return start, (end if end < n else n - 1) + 1

    def score_span(self, lo: float, hi: float, lo_ex: bool = False,
                   hi_ex: bool = False) -> tuple[int, int]:
        """Indices of the members with lo <= score <= hi (< with the exclusive flags). O(log n)."""
        start = self.score_index(lo, lo_ex)
        return start, max(start, self.score_index(hi, not hi_ex))

    def lex_span(self, lo: LexBound, hi: LexBound, reverse: bool = False) -> tuple[int, int]:
        """Indices of the members between two `lex_bound`s. O(log n) when every score is the
        same, which lex ranges assume. Otherwise (unspecified by Redis) O(n): members are
        walked forward (backward with reverse) as Redis walks a listpack, so small zsets answer
        as Redis does."""
        n = len(self._scores)
        if not n or _lex_empty(lo, hi):
            return 0, 0
        if self.uniform():
            start = self.lex_index(lo[1], lo[2]) if not lo[0] else (0 if lo[0] < 0 else n)
            stop = self.lex_index(hi[1], not hi[2]) if not hi[0] else (n if hi[0] > 0 else 0)
            return start, max(start, stop)
        members = self.members(0, n)
        if not _gte_min(members[-1], lo) or not _lte_max(members[0], hi):
            return 0, 0
        if reverse:
            last = next(i for i in range(n - 1, -1, -1) if _lte_max(members[i], hi))
            if not _gte_min(members[last], lo):
                return 0, 0
            first = last
            while first > 0 and _gte_min(members[first - 1], lo):
                first -= 1
            return first, last + 1
        first = next(i for i in range(n) if _gte_min(members[i], lo))
        if not _lte_max(members[first], hi):
            return 0, 0
        stop = first + 1
        while stop < n and _lte_max(members[stop], hi):
            stop += 1
        return first, stop

    def range(self, start: int, stop: int, reverse: bool = False, offset: int = 0,
              count: int = -1, withscores: bool = False) -> list:
        """Members (or (member, score) pairs) of the span [start, stop), walked downward with
        reverse, after LIMIT offset count as Redis applies it: a negative offset skips
        everything, a negative count means no limit. O(log n + k)."""
        if offset < 0:
            return []
        if reverse:
            hi = stop - offset
            lo = start if count < 0 else max(start, hi - count)
        else:
            lo = start + offset
            hi = stop if count < 0 else min(stop, lo + count)
        if lo >= hi:
            return []
        out = self.items(lo, hi) if withscores else self.members(lo, hi)
        if reverse:
            out.reverse()
        return out

    def range_by_rank(self, start: int, end: int, reverse: bool = False,
                      withscores: bool = False) -> list:
        """ZRANGE start end [REV]: ranks from the top with reverse. O(log n + k)."""
        if reverse or withscores:
            lo, hi = self.rank_span(start, end)
            if not reverse:
                return self.items(lo, hi)
            n = len(self._scores)
            return self.range(n - hi, n - lo, True, withscores=withscores)
        # `rank_span` and `members`, inlined for the commonest read of a big zset.
        n = len(self._scores)
        if start < 0:
            start += n
            if start < 0:
                start = 0
        if end < 0:
            end += n
        if start > end or start >= n:
            return []
        all_ms = self._ms
        stop = end + 1 if end < n else n
        first = all_ms[0]
        if stop <= len(first):  # in the first sublist (a small zset): one slice
            return first[start:stop]
        starts = self._starts
        if starts:  # `_pos`, inlined for a read-mostly zset
            pos = bisect_right(starts, start) - 1
            idx = start - starts[pos]
        else:
            pos, idx = self._pos(start)
        ms = all_ms[pos]
        if idx + stop - start <= len(ms):  # within one sublist: one slice
            return ms[idx : idx + stop - start]
        return self._gather(pos, idx, stop - start)

    def range_by_score(self, lo: float, hi: float, lo_ex: bool = False, hi_ex: bool = False,
                       reverse: bool = False, offset: int = 0, count: int = -1,
                       withscores: bool = False) -> list:
        """ZRANGE lo hi BYSCORE [REV] [LIMIT offset count]. O(log n + k)."""
        return self.range(*self.score_span(lo, hi, lo_ex, hi_ex), reverse, offset, count,
                          withscores)

    def range_by_lex(self, lo: LexBound, hi: LexBound, reverse: bool = False, offset: int = 0,
                     count: int = -1) -> list:
        """ZRANGE lo hi BYLEX [REV] [LIMIT offset count]. O(log n + k) (see lex_span)."""
        return self.range(*self.lex_span(lo, hi, reverse), reverse, offset, count)

    def count_by_score(self, lo: float, hi: float, lo_ex: bool = False,
                       hi_ex: bool = False) -> int:
        """ZCOUNT. O(log n)."""
        start, stop = self.score_span(lo, hi, lo_ex, hi_ex)
        return stop - start

    def count_by_lex(self, lo: LexBound, hi: LexBound) -> int:
        """ZLEXCOUNT. O(log n) (see lex_span)."""
        start, stop = self.lex_span(lo, hi)
        return stop - start

    def remove_range_by_rank(self, start: int, end: int) -> list[bytes]:
        """ZREMRANGEBYRANK; returns the members removed. O(log n + k)."""
        return self.remove_range(*self.rank_span(start, end))

    def remove_range_by_score(self, lo: float, hi: float, lo_ex: bool = False,
                              hi_ex: bool = False) -> list[bytes]:
        """ZREMRANGEBYSCORE; returns the members removed. O(log n + k)."""
        return self.remove_range(*self.score_span(lo, hi, lo_ex, hi_ex))

    def remove_range_by_lex(self, lo: LexBound, hi: LexBound) -> list[bytes]:
        """ZREMRANGEBYLEX; returns the members removed. O(log n + k) (see lex_span)."""
        return self.remove_range(*self.lex_span(lo, hi))

    # -- internals -------------------------------------------------------------------------------

    def _route(self, score: float, member: bytes) -> int:
        """The sublist where (score, member) is, or would be inserted. Needs a sublist."""
        maxs = self._maxs
        last = len(maxs) - 1
        if not last:
            return 0  # one sublist (a small zset): nothing to route
        pos = bisect_left(maxs, score)
        if pos <= last and maxs[pos] == score:
            # Several sublists may end with this score: pick by their last member.
            pos = bisect_left(self._maxm, member, pos, bisect_right(maxs, score, pos))
        return pos if pos <= last else last

    def _locate(self, score: float, member: bytes, present: bool = False) -> tuple[int, int]:
        """(sublist, offset) where (score, member) is, or would be inserted. Needs a sublist.

        `present`: the pair is known to be in the zset, so a score held by one member only
        needs no member comparison (which would dereference a member: a cache miss at 1M).
        """
        pos = self._route(score, member)
        ss = self._ss[pos]
        lo = bisect_left(ss, score)
        if lo < len(ss) and ss[lo] == score:
            # Scores are mostly distinct: look at the next one before bisecting for the end.
            hi = lo + 1
            if hi < len(ss) and ss[hi] == score:
                hi = bisect_right(ss, score, hi)
            elif present:
                return pos, lo
            return pos, bisect_left(self._ms[pos], member, lo, hi)
        return pos, lo

    def _insert(self, score: float, member: bytes, pos: int = -1) -> None:
        """Insert a new pair, into sublist `pos` if given (which `_route` would return)."""
        if not self._ss:
            self._ss.append([score])
            self._ms.append([member])
            self._maxs.append(score)
            self._maxm.append(member)
            self._drop_index()
            return
        if pos < 0:
            pos = self._route(score, member)
        ms = self._ms[pos]
        ss = self._ss[pos]
        idx = bisect_left(ss, score)
        if idx < len(ss) and ss[idx] == score:
            # Tied scores: order by member, a pair without two more bisections.
            if idx + 1 < len(ss) and ss[idx + 1] == score:
                idx = bisect_left(ms, member, idx, bisect_right(ss, score, idx + 2))
            elif ms[idx] < member:
                idx += 1
        ss.insert(idx, score)
        ms.insert(idx, member)
        if idx == len(ms) - 1:
            self._maxs[pos] = score
            self._maxm[pos] = member
        if len(ms) > 2 * LOAD:
            if type(ss) is list:  # the first split: scores go into arrays from now on
                ss = self._ss[pos] = array("d", ss)
            self._ss.insert(pos + 1, ss[LOAD:])
            self._ms.insert(pos + 1, ms[LOAD:])
            del ss[LOAD:], ms[LOAD:]
            self._maxs[pos] = ss[-1]
            self._maxm[pos] = ms[-1]
            self._maxs.insert(pos + 1, self._ss[pos + 1][-1])
            self._maxm.insert(pos + 1, self._ms[pos + 1][-1])
            self._drop_index()
        elif self._index:
            self._index_add(pos, 1)

    def _remove(self, score: float, member: bytes) -> None:
        self._remove_at(*self._locate(score, member, True))

    def _remove_at(self, pos: int, idx: int) -> None:
        ms = self._ms[pos]
        ss = self._ss[pos]
        del ss[idx], ms[idx]
        if len(ms) > LOAD >> 1 or (len(self._ms) == 1 and ms):
            if idx == len(ms):
                self._maxs[pos] = ss[-1]
                self._maxm[pos] = ms[-1]
            if self._index:
                self._index_add(pos, -1)
        elif len(self._ms) > 1:
            # Merge into the previous sublist (the next one for the first), then maybe split.
            prev = pos - 1 if pos else 0
            self._rechunk(prev, prev + 2)
        else:  # the last member went
            self._ss.clear()
            self._ms.clear()
            self._maxs.clear()
            self._maxm.clear()
            self._drop_index()

    def _rechunk(self, lo: int, hi: int) -> None:
        """Re-cut sublists [lo, hi) into pieces of about LOAD; refresh maxes; drop the index."""
        ss_all, ms_all = self._ss, self._ms
        ss = array("d")
        ms: list[bytes] = []
        for i in range(lo, hi):
            ss.extend(ss_all[i])  # (an array, or the list of a zset's only sublist)
            ms += ms_all[i]
        pieces = max(1, len(ms) // LOAD)
        size = -(-len(ms) // pieces) if ms else 0
        new_ss = [ss[i : i + size] for i in range(0, len(ms), size)] if ms else []
        new_ms = [ms[i : i + size] for i in range(0, len(ms), size)] if ms else []
        if len(new_ss) == 1 and hi - lo == len(ss_all):  # back to one sublist: a list again
            new_ss = [new_ss[0].tolist()]
        ss_all[lo:hi] = new_ss
        ms_all[lo:hi] = new_ms
        self._maxs[lo:hi] = [s[-1] for s in new_ss]
        self._maxm[lo:hi] = [m[-1] for m in new_ms]
        self._drop_index()

    # Positional index: a Fenwick tree over the sublist lengths, padded with empty sublists to a
    # power of two `size`: `_index[i]` (1 <= i <= size) sums the lengths of sublists
    # [i - lowbit(i), i), `_index[0]` is unused. A rank adds popcount(pos) entries and a length
    # change updates about half of log2(size) of them, where sortedcontainers' tree walked all
    # log2(size) levels either way: `_loc` at 1M members went from 820 to 340 ns. A list, not an
    # array: reading an entry creates no int.

    def _build_index(self) -> list[int]:
        """Build `_index` from the sublist lengths and return it. O(n / LOAD), in C loops."""
        row = list(map(len, self._ms))
        size = 1 << (len(row) - 1).bit_length()
        row += repeat(0, size - len(row))
        index = [0] * (size + 1)
        # Entries at odd multiples of `step` sum `step` lengths: the row of sums of `step`.
        step = 1
        while True:
            index[step::2 * step] = row[::2]
            if step == size:
                break
            pairs = iter(row)
            row = list(map(_add, pairs, pairs))
            step <<= 1
        self._index = index
        self._reads = size
        return index

    def _index_add(self, pos: int, delta: int) -> None:
        """Sublist `pos` grew by `delta` (the index is built)."""
        if self._starts:
            self._starts = []
        index = self._index
        self._reads = size = len(index) - 1
        pos += 1
        while pos <= size:
            index[pos] += delta
            pos += pos & -pos

    def _drop_index(self) -> None:
        """Sublists were added, split, merged or re-cut: the index is rebuilt when next read."""
        self._index = []
        self._starts = []
        self._reads = 0

    # A read-mostly zset: once as many positions have been read through the tree as it has
    # entries (`_reads` counts down), with no length changed meanwhile, `_starts` (each
    # sublist's first index) is built and answers a rank with one lookup and a position with
    # one bisection in C. Any length change empties it, so alternating writes and reads never
    # build it, and pay only the countdown (5% of a ZRANK's instructions at 1M members); a
    # build (74 us at 1M) costs under a tenth of the tree reads that preceded it. At 1M
    # members: `_loc` 416 -> 96 ns, `_pos` 808 -> 381 ns.

    def _build_starts(self) -> None:
        starts = [0]
        starts += accumulate(map(len, self._ms))
        starts.pop()
        self._starts = starts

    def _tree(self) -> list[int]:
        """The positional index, for one read through it (counted toward `_starts`)."""
        index = self._index or self._build_index()
        self._reads -= 1
        if not self._reads:
            self._build_starts()
        return index

    def _loc(self, pos: int, idx: int) -> int:
        """Global index of offset `idx` in sublist `pos`."""
        if not pos:
            return idx
        starts = self._starts
        if starts:
            return starts[pos] + idx
        index = self._tree()
        while pos:
            idx += index[pos]
            pos &= pos - 1
        return idx

    def _pos(self, idx: int) -> tuple[int, int]:
        """(sublist, offset) of global index `idx` (0 <= idx < len)."""
        if idx < len(self._ms[0]):
            return 0, idx
        last = len(self._ms[-1])
        n = len(self._scores)
        if idx >= n - last:
            return len(self._ms) - 1, idx - (n - last)
        starts = self._starts
        if starts:
            pos = bisect_right(starts, idx) - 1
            return pos, idx - starts[pos]
        index = self._tree()
        # The last sublist with at most idx members before it: binary descent of the tree.
        # Over a tuple of the steps: a third faster than halving a step in a while loop.
        pos = 0
        for step in _STEPS[len(index)]:
            below = index[pos + step]
            if below <= idx:
                pos += step
                idx -= below
        return pos, idx

    def _check(self) -> None:
        """Assert every invariant (stress tests only). O(n)."""
        scores = self._scores
        assert len(self._ss) == len(self._ms) == len(self._maxs) == len(self._maxm)
        kinds = {type(ss) for ss in self._ss}
        assert kinds <= ({list} if len(self._ss) == 1 else {array}), kinds
        total = 0
        prev = None
        for ss, ms, mx, mm in zip(self._ss, self._ms, self._maxs, self._maxm):
            assert ms and len(ss) == len(ms) <= 2 * LOAD, (len(ss), len(ms))
            assert ss[-1] == mx and ms[-1] == mm
            for s, m in zip(ss, ms):
                assert scores[m] == s, (m, scores[m], s)
                if prev is not None:
                    assert prev < (s, m), (prev, (s, m))
                prev = (s, m)
            total += len(ms)
        assert total == len(scores)
        if self._starts:
            assert self._index
            assert self._starts == [sum(map(len, self._ms[:p])) for p in range(len(self._ms))]
        if self._index:
            saved = self._index
            assert saved == self._build_index(), (saved, self._index)
        for i in range(0, total, max(1, total // 50)):
            m = self.member_at(i)
            assert self.rank(m) == i


register_type(ZSet, b"zset")
