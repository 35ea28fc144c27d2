"""Redis's partial quicksort (`pqsort.c`), which SORT uses when BY and LIMIT are both given.

It is NetBSD's qsort (Bentley and McIlroy, "Engineering a Sort Function") that skips the
partitions lying wholly outside the wanted window. It is not stable: elements that compare
equal end up in an order set by its exact swaps, and SORT ... BY pattern ALPHA LIMIT shows that
order whenever two BY values tie (missing ones all tie). So this is a line-by-line port, on a
list of ranks instead of C memory: same pivots, same swaps, same skipped partitions.

Where ranks do not tie, any correct sort gives the same window: callers use `sorted()` then,
which is faster than this Python loop.
"""

from __future__ import annotations

# Below this many elements a partition is finished by insertion sort.
_INSERTION_MAX = 6
# Above this many, the pivot is a median of three medians of three (Tukey's ninther).
_NINTHER_MIN = 41


def partial_sort(ranks: list[int], first: int, last: int) -> list[int]:
    """The permutation of range(len(ranks)) that Redis's pqsort(vector, first, last) leaves,
    comparing elements by their rank (a smaller rank sorts first). Positions first..last of it
    are sorted; the others are only partitioned. O(n log n) comparisons on average."""
    order = list(range(len(ranks)))
    todo = [(0, len(order))]
    while todo:
        base, n = todo.pop()
        while n > 1:
            if n <= _INSERTION_MAX:
                _insertion(ranks, order, base, n)
                break
            pa, pb, pc, pd = _partition(ranks, order, base, n)
            end = base + n
            size = min(pa - base, pb - pa)
            _swap_blocks(order, base, pb - size, size)
            size = min(pd - pc, end - pd - 1)
            _swap_blocks(order, pb, end - size, size)
            # The left part (less than the pivot) is queued, the right one (greater) loops:
            # they are disjoint, so the order in which they are sorted does not matter.
            size = pb - pa
            if size > 1 and _wanted(first, last, base, base + size - 1):
                todo.append((base, size))
            size = pd - pc
            if size <= 1 or not _wanted(first, last, end - size, end - 1):
                break
            base, n = end - size, size
    return order


def _wanted(first: int, last: int, lo: int, hi: int) -> bool:
    """Whether the window first..last reaches the partition lo..hi (pqsort's range test)."""
    return not ((first < lo and last < lo) or (first > hi and last > hi))


def _insertion(ranks: list[int], order: list[int], base: int, n: int) -> None:
    for i in range(base + 1, base + n):
        j = i
        while j > base and ranks[order[j - 1]] > ranks[order[j]]:
            order[j - 1], order[j] = order[j], order[j - 1]
            j -= 1


def _swap_blocks(order: list[int], a: int, b: int, n: int) -> None:
    """pqsort's vecswap: exchange order[a:a+n] and order[b:b+n] (never overlapping there)."""
    if n > 0:
        order[a:a + n], order[b:b + n] = order[b:b + n], order[a:a + n]


def _median(ranks: list[int], order: list[int], a: int, b: int, c: int) -> int:
    ra, rb, rc = ranks[order[a]], ranks[order[b]], ranks[order[c]]
    if ra < rb:
        return b if rb < rc else (c if ra < rc else a)
    return b if rb > rc else (a if ra < rc else c)


def _partition(ranks: list[int], order: list[int], base: int, n: int
               ) -> tuple[int, int, int, int]:
    """Bentley-McIlroy three-way partition of order[base:base+n] around a median pivot, moved
    to `base`: returns pqsort's pointers (pa, pb, pc, pd). (Later Redis versions switch to
    insertion sort when a partition swapped nothing; 7.0.15, our oracle, does not.)"""
    mid = base + n // 2
    if n > 7:
        lo, hi = base, base + n - 1
        if n >= _NINTHER_MIN:
            d = n // 8
            lo = _median(ranks, order, lo, lo + d, lo + 2 * d)
            mid = _median(ranks, order, mid - d, mid, mid + d)
            hi = _median(ranks, order, hi - 2 * d, hi - d, hi)
        mid = _median(ranks, order, lo, mid, hi)
    order[base], order[mid] = order[mid], order[base]
    pivot = ranks[order[base]]
    pa = pb = base + 1
    pc = pd = base + n - 1
    while True:
        while pb <= pc and ranks[order[pb]] <= pivot:
            if ranks[order[pb]] == pivot:
                order[pa], order[pb] = order[pb], order[pa]
                pa += 1
            pb += 1
        while pb <= pc and ranks[order[pc]] >= pivot:
            if ranks[order[pc]] == pivot:
                order[pc], order[pd] = order[pd], order[pc]
                pd -= 1
            pc -= 1
        if pb > pc:
            break
        order[pb], order[pc] = order[pc], order[pb]
        pb += 1
        pc -= 1
    return pa, pb, pc, pd
