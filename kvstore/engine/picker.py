"""Uniform random picks from sets and hashes (SPOP, SRANDMEMBER, HRANDFIELD).

A Python set or dict has no random access: the only way to its i-th element is to walk there
(islice, in C). Redis picks from a hash table in O(1), so a big container gets a `Picker`, a
random-access index of its members (a set's members, a hash's fields), built on its first random
pick and kept in the container's `picker` slot:

* `items`, a list holding every member once, in no particular order, plus
* `dead`, the members removed since they were listed (still in `items`).

Invariant: `items` has no duplicates and holds exactly the container's members plus `dead`;
`dead` and the container are disjoint; `2 * len(dead) <= len(items)`. `_check()` asserts it (the
stress tests call it after every step).

A pick draws a random slot of `items`; a dead member found there is swap-removed (O(1)) and the
draw repeated, so picks are uniform over the live members, and the bound on `dead` keeps the
expected number of draws at most 2. A removal that does not go through the picker (SREM, HDEL,
SMOVE) only marks the member dead, O(1); once `dead` passes half of `items` the list is
compacted, O(n), paid for by the n/2 removals before it. An added member is appended, or revived
when it is still listed as dead. Every in-place mutation of a container that has a picker must
report it through `added` / `removed`: these are the set and hash command handlers (a value that
is renamed or moved keeps its picker; COPY, RESTORE, *STORE and loads build new containers
without one). As a safety net, every command compares, before it picks, the picker's count of
live members with the container's size and rebuilds the picker when they differ, so a mutation
that forgot to report costs an O(n) rebuild instead of a wrong reply (only an unreported add
and an unreported removal between the same two picks would cancel out).

Small containers, the common case, get no picker (their slot stays None) and no extra work: a
pick walks them, which costs less than the command around it. Only a hash-table container (`big`,
raised by size or by a long or non-integer element, and sticky) above PICKER_MIN members gets
one, so a container has a picker only while `big` is true, and code that adds members to a
container that is not big need not look. A compact encoding is bounded by its thresholds (512
entries by default; Redis walks a listpack for a random pick too). A picker costs 8 bytes per
member (the list), against ~80 for the set or dict and its member objects.
"""

from __future__ import annotations

import random
from itertools import islice

from .values import Hash, give_back

# Containers up to this many members are walked for a pick: about 1.5 us in C at 512 (measured),
# below a command's own overhead. Above it a walk costs more, and a Picker is built.
PICKER_MIN = 512


class Picker:
    """Random access to a container's members. See the module docstring for the invariant."""

    __slots__ = ("items", "dead")

    def __init__(self, container) -> None:
        self.items: list[bytes] = list(container)
        self.dead: set[bytes] = set()

    # -- maintenance: every in-place mutation of the container reports here -------------------

    def added(self, member: bytes) -> None:
        """`member`, absent before, was just added to the container. O(1)."""
        dead = self.dead
        if dead and member in dead:
            dead.remove(member)  # still listed: live again
        else:
            self.items.append(member)

    def removed(self, member: bytes) -> None:
        """`member` was just removed from the container. O(1) amortised."""
        dead = self.dead
        dead.add(member)
        if len(dead) * 2 > len(self.items):
            self._compact()

    # -- picks --------------------------------------------------------------------------------

    def pick(self) -> bytes:
        """A uniformly random live member (the container must not be empty). O(1) expected."""
        items = self.items
        dead = self.dead
        while True:
            i = random.randrange(len(items))
            member = items[i]
            if not dead or member not in dead:
                return member
            self._drop_at(i)

    def pop(self) -> bytes:
        """Unlist a uniformly random live member and return it; the caller removes it from the
        container. O(1) expected."""
        items = self.items
        dead = self.dead
        while True:
            i = random.randrange(len(items))
            member = items[i]
            live = not dead or member not in dead
            self._drop_at(i)
            if live:
                if len(dead) * 2 > len(items):  # the list shrank under the bound
                    self._compact()
                return member

    def sample(self, k: int) -> list[bytes]:
        """k distinct live members (k < the container's size), uniformly, in random order.
        O(k) expected: a partial Fisher-Yates shuffle of `items` (order carries no meaning)."""
        items = self.items
        dead = self.dead
        randrange = random.randrange
        j = 0
        while j < k:
            i = randrange(j, len(items))
            member = items[i]
            if dead and member in dead:
                self._drop_at(i)  # the last slot (>= j) moves into slot i: still unchosen
                continue
            items[i] = items[j]
            items[j] = member
            j += 1
        return items[:k]

    def choices(self, k: int) -> list[bytes]:
        """k independent uniform picks (repeats allowed). O(k) expected: each round of draws
        keeps the live ones, at least half of them on average."""
        items = self.items
        dead = self.dead
        out = random.choices(items, k=k)
        if dead:
            out = [m for m in out if m not in dead]
            while len(out) < k:
                out += [m for m in random.choices(items, k=k - len(out)) if m not in dead]
        return out

    def _compact(self) -> None:
        """Unlist every dead member. O(n), paid for by the removals that made them dead."""
        dead = self.dead
        self.items = [m for m in self.items if m not in dead]
        self.dead = set()

    def _drop_at(self, i: int) -> None:
        """Swap-remove slot i; a dead member there is then dead no more. O(1)."""
        items = self.items
        member = items[i]
        last = items.pop()
        if i < len(items):
            items[i] = last
        self.dead.discard(member)

    def _check(self, container) -> None:
        items = self.items
        dead = self.dead
        listed = set(items)
        assert len(listed) == len(items), "a member listed twice"
        assert dead <= listed, "a dead member not listed"
        assert dead.isdisjoint(container), "a live member marked dead"
        assert listed - dead == set(container), "listed live members differ from the container"
        assert len(dead) * 2 <= len(items), "too many dead entries"


def picker_of(container) -> Picker | None:
    """The container's picker, built now if it is big enough to need one; None for a container
    that is walked instead. O(1), or O(n) when it builds one."""
    picker = container.picker
    if picker is not None:
        if len(picker.items) - len(picker.dead) == len(container):
            return picker
        # A mutation did not report (a direct path inlining a handler without the hook): the
        # counts disagree. Rebuild rather than pick from a stale list.
    elif not container.big or len(container) <= PICKER_MIN:
        return None
    picker = container.picker = Picker(container)
    return picker


# -- picks for the commands: through the picker, or by walking a small container ---------------

def random_member(container) -> bytes:
    """One uniformly random member of a non-empty set, or field of a hash."""
    picker = picker_of(container)
    if picker is not None:
        return picker.pick()
    n = len(container)
    i = random.randrange(n)
    if i >= n >> 1 and type(container) is Hash:  # a dict iterates backwards too: walk less
        return next(islice(reversed(container), n - 1 - i, None))
    return next(islice(iter(container), i, None))


def random_distinct(container, k: int) -> list[bytes]:
    """k distinct members, uniformly (0 < k < len(container)). O(k) with a picker; a walk, O(n),
    returns them in the container's iteration order."""
    picker = picker_of(container)
    if picker is not None:
        return picker.sample(k)
    out: list[bytes] = []
    append = out.append
    it = iter(container)
    last = -1
    for pos in sorted(random.sample(range(len(container)), k)):
        # islice in C skips the gap without a Python-level loop per element.
        append(next(islice(it, pos - last - 1, None)))
        last = pos
    return out


def random_repeats(container, k: int) -> list[bytes]:
    """k independent uniform picks (repeats allowed) from a non-empty container. O(k) with a
    picker, O(n + k) without."""
    picker = picker_of(container)
    if picker is not None:
        return picker.choices(k)
    return random.choices(list(container), k=k)


def pop_random(s) -> bytes:
    """Remove a uniformly random member from a non-empty set and return it."""
    picker = picker_of(s)
    member = random_member(s) if picker is None else picker.pop()
    s.remove(member)
    if s.big:
        give_back(s)
    return member


def pop_random_many(s, k: int) -> list[bytes]:
    """Remove k distinct random members (0 < k < len(s)) from a set and return them."""
    picker = picker_of(s)
    if picker is None:
        popped = random_distinct(s, k)
    else:
        pop = picker.pop
        popped = [pop() for _ in range(k)]
    s.difference_update(popped)
    if s.big:
        give_back(s)
    return popped
