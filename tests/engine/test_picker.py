"""Unit tests of `engine.picker`: a seeded stress of `Picker` against a plain set with the
invariant checked after every step, uniformity of each kind of pick (live members only, every one
of them drawn, counts near the mean), and which containers get a picker at all.

The distribution checks draw 2,000 times from 10 members: a member is never drawn with probability
0.9**2000 (~1e-92), and a count outside [100, 300] (mean 200, sd ~13) is 7 sd away (~1e-12), so
they cannot fail by chance whatever the seed.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

import kvstore
from kvstore.engine import picker as pmod
from kvstore.engine.picker import Picker, picker_of, random_distinct, random_member
from kvstore.engine.values import Hash, Set

TEN = [b"m%d" % i for i in range(10)]


def with_dead(live: list[bytes], dead: list[bytes]) -> tuple[Set, Picker]:
    """A set of `live` whose picker still lists `dead` (removed after it was built)."""
    s = Set(live + dead)
    p = Picker(s)
    for m in dead:
        s.remove(m)
        p.removed(m)
    p._check(s)
    return s, p


def assert_uniform(draws: list[bytes], members: list[bytes]) -> None:
    counts = Counter(draws)
    assert set(counts) == set(members)
    per = len(draws) / len(members)
    assert all(per / 2 <= c <= per * 1.5 for c in counts.values()), counts


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_stress_against_a_set(seed):
    rng = random.Random(seed)
    random.seed(seed)
    pool = [b"x%d" % i for i in range(60)]
    s = Set(rng.sample(pool, 30))
    model = set(s)
    p = Picker(s)
    compactions = 0
    for _ in range(4000):
        op = rng.random()
        if op < 0.3:  # add (through the picker, as the handlers do)
            m = rng.choice(pool)
            if m not in s:
                s.add(m)
                p.added(m)
                model.add(m)
        elif op < 0.55 and len(s) > 1:  # remove behind the picker's back, as SREM / HDEL do
            m = rng.choice(list(model))
            s.remove(m)
            before = len(p.items)
            p.removed(m)
            compactions += len(p.items) < before
            model.discard(m)
        elif op < 0.7 and len(s) > 1:
            m = p.pop()
            assert m in model
            s.remove(m)
            model.discard(m)
        elif op < 0.8:
            assert p.pick() in model
        elif op < 0.9 and len(s) > 1:
            k = rng.randint(1, len(s) - 1)
            got = p.sample(k)
            assert len(got) == len(set(got)) == k and set(got) <= model
        else:
            got = p.choices(rng.randint(1, 20))
            assert set(got) <= model
        assert set(s) == model
        p._check(s)
    assert compactions  # the stress reached the compaction path


def test_pick_is_uniform_over_live_members_only():
    s, p = with_dead(TEN, [b"d%d" % i for i in range(9)])
    assert p.dead  # nine dead entries among nineteen
    assert_uniform([p.pick() for _ in range(2000)], TEN)
    assert not p.dead  # every dead entry met was dropped
    p._check(s)


def test_choices_are_uniform_over_live_members_only():
    s, p = with_dead(TEN, [b"d%d" % i for i in range(9)])
    assert_uniform(p.choices(2000), TEN)
    p._check(s)


def test_pop_is_uniform():
    firsts = []
    for _ in range(2000):
        s, p = with_dead(TEN, [b"d0", b"d1", b"d2"])
        m = p.pop()
        s.remove(m)
        p._check(s)
        firsts.append(m)
    assert_uniform(firsts, TEN)


def test_sample_is_uniform_and_distinct():
    s, p = with_dead(TEN, [b"d%d" % i for i in range(9)])
    draws = []
    for _ in range(500):
        got = p.sample(4)
        assert len(set(got)) == 4
        draws += got
        p._check(s)
    assert_uniform(draws, TEN)


def test_pop_drains_everything_once():
    s, p = with_dead(TEN, [b"d0", b"d1", b"d2", b"d3"])
    popped = []
    while s:
        m = p.pop()
        s.remove(m)
        popped.append(m)
        p._check(s)
    assert sorted(popped) == sorted(TEN) and p.items == []


def test_readd_of_a_dead_member_revives_its_entry():
    s, p = with_dead([b"a", b"b", b"c"], [b"d"])
    s.add(b"d")
    p.added(b"d")
    assert sorted(p.items) == [b"a", b"b", b"c", b"d"] and not p.dead
    p._check(s)


def test_only_big_containers_past_the_threshold_get_a_picker(monkeypatch):
    monkeypatch.setattr(pmod, "PICKER_MIN", 10)
    # A hash table at the threshold, a compact encoding past it, a hash table past it.
    small, compact, big = Set(TEN), Set(TEN + [b"x"]), Set(TEN + [b"x"])
    small.big = big.big = True
    for container in (small, compact):
        assert random_member(container) in container and picker_of(container) is None
        assert len(set(random_distinct(container, 3))) == 3
        assert container.picker is None
    assert random_member(big) in big and big.picker is not None
    big.picker._check(big)
    h = Hash()
    h.update((m, b"v") for m in TEN + [b"x"])
    h.big = True
    assert random_member(h) in h and h.picker is not None
    h.picker._check(h)


def test_walk_of_a_small_container_is_uniform():
    s = Set(TEN)
    assert_uniform([random_member(s) for _ in range(2000)], TEN)
    h = Hash()
    h.update((m, b"v") for m in TEN)
    assert_uniform([random_member(h) for _ in range(2000)], TEN)
    assert_uniform([m for _ in range(500) for m in random_distinct(h, 4)], TEN)
    assert s.picker is None and h.picker is None


def test_a_mutation_that_did_not_report_is_caught_by_the_count(monkeypatch):
    monkeypatch.setattr(pmod, "PICKER_MIN", 4)
    s = Set(TEN)
    s.big = True
    built = picker_of(s)
    s.add(b"new")  # behind the picker's back, as a direct path without the hook would
    rebuilt = picker_of(s)
    assert rebuilt is not built and rebuilt is s.picker
    rebuilt._check(s)
    s.remove(b"m0")
    picker_of(s)._check(s)
    assert picker_of(s) is picker_of(s)  # in step again: kept


def test_spop_that_starts_the_encoding_over_drops_the_picker():
    # SPOP leaving few members turns the set compact again (Redis's CASE 3); adds to a compact
    # set do not report to a picker, so one left in place would go stale at the next SADD.
    store = kvstore.open(active_expire=False)
    store.sadd("s", *range(pmod.PICKER_MIN * 2))
    assert len(store.srandmember("s", 5)) == 5
    value = store.keyspace.dbs[0].data[b"s"]
    assert value.picker is not None
    store.spop("s", pmod.PICKER_MIN * 2 - 10)
    assert store.object("encoding", "s") == b"intset"
    store.sadd("s", "new")
    assert value.picker is None or value.picker._check(value) is None
