"""Lazy freeing: UNLINK, FLUSHDB/FLUSHALL ASYNC and the lazyfree-lazy-* options (Redis `lazyfree.c`).

Freeing a value is not free: dropping the last reference to a set of 2M members takes ~80 ms
of deallocation, during which nothing else runs. Redis hands such values to a background thread;
CPython's deallocation holds the GIL, so a thread would stall the server all the same. Instead
a value detached from the keyspace is queued here and taken apart a slice at a time
(`step`): the server runs a slice per event-loop iteration, the embedded store's expiry thread
every millisecond, so a client waits for one slice at most, never for the whole value.

Which values: Redis's `lazyfreeGetFreeEffort` (about one per allocation to free) over
LAZYFREE_THRESHOLD; anything smaller (strings, listpack-encoded containers, short lists) is
freed at once, as Redis does, since queuing it would cost more. A flushed database's key table
is queued whole and counts its keys (Redis's `lazyfree_pending_objects` and `lazyfreed_objects`,
INFO): its values are freed as they come out of it, the big ones queued in turn.

Freeing happens only where something calls `step`: `background` says so (the server, or a store
with its expiry thread); without it every value is freed at once.
"""

from __future__ import annotations

from collections import deque
from itertools import repeat, starmap
from time import perf_counter
from typing import Any, Callable, Iterator

from .stream import Stream
from .values import Hash, List, Set
from .zset import ZSet

# Redis's LAZYFREE_THRESHOLD: values that take more allocations than this to free go to the
# background.
LAZYFREE_THRESHOLD = 64
# Elements freed between two looks at the clock: ~30 us of deallocation.
SLICE = 1024
# Bytes a quicklist node holds at list-max-listpack-size -2 (Redis's default), to estimate a
# list's node count from its length.
_NODE_BYTES = 8192


def free_effort(value: Any) -> int:
    """About how many allocations freeing `value` takes (Redis's lazyfreeGetFreeEffort): 1 for a
    string or a listpack/intset container, the node count of a list, the members of a hash
    table, set or skiplist, the nodes and group entries of a stream."""
    t = type(value)
    if t is bytes:
        return 1
    if t is List:
        # Quicklist nodes, estimated from the head element's size: O(1).
        return 1 + len(value) * (len(value[0]) + 2) // _NODE_BYTES if value else 1
    if t is Hash or t is Set or t is ZSet:
        return len(value) if value.big else 1
    if t is Stream:
        effort = len(value.nodes)
        if value.groups:
            first = next(iter(value.groups.values()))
            effort += len(value.groups) * (1 + len(first.pel))
        return effort
    return 1


def _drain(value: Any) -> Iterator[None]:
    """Take `value` apart, yielding after each slice of about SLICE elements."""
    t = type(value)
    if t is ZSet:
        # Its sublists (up to 2 * LOAD members each: the scores go), then member -> score.
        for part in value.index_parts():
            while part:
                part.pop()
                yield
        yield from _drain(value.scores())
    elif t is Stream:
        nodes = value.nodes
        while nodes:
            del nodes[-16:]  # (a node holds up to stream-node-max-entries, 100 by default)
            yield
        for group in value.groups.values():
            yield from _drain(group.pel)  # (a SortedDict: a dict)
    elif isinstance(value, dict):
        pop = value.popitem
        while value:
            deque(starmap(pop, repeat((), min(SLICE, len(value)))), maxlen=0)
            yield
    elif isinstance(value, (set, deque)):
        pop = value.pop
        while value:
            deque(starmap(pop, repeat((), min(SLICE, len(value)))), maxlen=0)
            yield


class LazyFree:
    """The queue of values to free in slices, and Redis's two INFO counters."""

    def __init__(self) -> None:
        self._queue: deque[Iterator[None]] = deque()
        # (objects each queued job counts: 1 for a value, the key count for a key table)
        self._counts: deque[int] = deque()
        self.pending_objects = 0  # INFO lazyfree_pending_objects
        self.freed_objects = 0    # INFO lazyfreed_objects (reset by CONFIG RESETSTAT)
        self.background = False   # something calls `step` (see the module docstring)
        # Called when the queue goes from empty to not (the server schedules its slices).
        self.on_pending: Callable[[], None] | None = None

    def __bool__(self) -> bool:
        return bool(self._queue)

    def free(self, value: Any) -> None:
        """`value` has left the keyspace: free it now if it is small, else queue it."""
        if self.background and type(value) is not bytes \
                and free_effort(value) > LAZYFREE_THRESHOLD:
            self._push(_drain(value), 1)

    def free_table(self, data: dict, expires: dict) -> None:
        """A flushed database's key table and TTL table (FLUSHDB/FLUSHALL ASYNC): queued
        whatever its size, as Redis's emptyDbAsync, so INFO counts its keys alike."""
        if not self.background or not data:
            return
        self._push(self._drain_table(data, expires), len(data))

    def _push(self, job: Iterator[None], count: int) -> None:
        self._queue.append(job)
        self._counts.append(count)
        self.pending_objects += count
        if len(self._queue) == 1 and self.on_pending is not None:
            self.on_pending()

    def _drain_table(self, data: dict, expires: dict) -> Iterator[None]:
        yield from _drain(expires)
        pop = data.popitem
        while data:
            n = min(SLICE, len(data))
            for _ in range(n):
                value = pop()[1]
                if type(value) is not bytes and free_effort(value) > LAZYFREE_THRESHOLD:
                    # Queued behind this table (counted apart: Redis frees it with the table).
                    self._queue.append(_drain(value))
                    self._counts.append(0)
            yield

    def step(self, budget_ms: float) -> bool:
        """Free for about `budget_ms` (at least one slice). Returns whether more is queued."""
        deadline = perf_counter() + budget_ms / 1000.0
        queue = self._queue
        while queue:
            job = queue[0]
            for _ in job:
                if perf_counter() > deadline:
                    return True
            queue.popleft()
            count = self._counts.popleft()
            self.pending_objects -= count
            self.freed_objects += count
        return False
