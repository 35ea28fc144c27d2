"""Unit tests of `engine.zset.ZSet`: every public method, its edge cases, and the internal
sublist machinery (splits, merges, range deletes) with a tiny LOAD so they happen constantly."""

from __future__ import annotations

import math

import pytest

from kvstore.engine import zset as zmod
from kvstore.engine.values import Thresholds, encoding_of, type_name
from kvstore.engine.zset import ADDED, NOP, UPDATED, ZSet

INF = math.inf


@pytest.fixture(params=[2, 4, zmod.LOAD])
def load(request, monkeypatch):
    """Run with sublists of a few members (many splits and merges) and with the real size."""
    monkeypatch.setattr(zmod, "LOAD", request.param)
    return request.param


def model_order(scores: dict) -> list:
    return sorted(scores.items(), key=lambda kv: (kv[1], kv[0]))


def test_empty():
    z = ZSet()
    assert len(z) == 0 and not z and b"a" not in z
    assert z.score(b"a") is None and z.rank(b"a") is None
    assert z.members(0, 0) == [] and z.items(0, 0) == [] and list(z.iter_items()) == []
    assert z.pop(3) == [] and z.remove_range(0, 0) == [] and not z.remove(b"a")
    assert z.score_index(1.0) == 0 and z.lex_index(b"a") == 0 and z.uniform()
    z._check()


def test_add_update_nop_and_order(load):
    z = ZSet()
    assert z.add(b"b", 1.0) == ADDED
    assert z.add(b"a", 1.0) == ADDED
    assert z.add(b"c", -INF) == ADDED
    assert z.add(b"d", INF) == ADDED
    assert z.add(b"b", 1.0) == NOP
    assert z.add(b"a", -0.0) == UPDATED
    assert z.add(b"a", 0.0) == NOP  # -0 and 0 are one score, as in C
    assert z.add(b"", 1.0) == ADDED
    assert z.items(0, len(z)) == [(b"c", -INF), (b"a", -0.0), (b"", 1.0), (b"b", 1.0),
                                  (b"d", INF)]
    assert [z.rank(m) for m in (b"c", b"a", b"", b"b", b"d")] == [0, 1, 2, 3, 4]
    assert z.rank(b"c", reverse=True) == 4 and z.rank(b"d", True) == 0
    assert z.member_at(2) == b"" and z.score(b"d") == INF
    assert list(z.iter_items(reverse=True)) == z.items(0, 5)[::-1]
    z._check()


def test_ties_order_by_member_bytes(load):
    z = ZSet()
    members = [b"b", b"a", b"\xff", b"\x00", b"ab", b"", b"B", b"a\x00"]
    for m in members:
        z.add(m, 5.0)
    assert z.members(0, len(z)) == sorted(members)
    assert z.uniform()
    z.add(b"x", 6.0)
    assert not z.uniform()
    z._check()


def test_remove(load):
    z = ZSet.from_scores({b"m%d" % i: float(i % 5) for i in range(40)})
    for i in range(0, 40, 3):
        assert z.remove(b"m%d" % i)
        assert not z.remove(b"m%d" % i)
        z._check()
    assert len(z) == 40 - 14


def test_score_index(load):
    z = ZSet.from_scores({b"a": 1.0, b"b": 2.0, b"c": 2.0, b"d": 3.0, b"e": INF, b"f": -INF})
    assert [z.score_index(s) for s in (-INF, 1.0, 1.5, 2.0, 3.0, INF, 99.0)] == \
        [0, 1, 2, 2, 4, 5, 5]
    assert [z.score_index(s, after=True) for s in (-INF, 1.0, 2.0, 3.0, INF)] == [1, 2, 4, 5, 6]
    assert z.score_index(-0.0) == z.score_index(0.0) == 1


def test_lex_index(load):
    z = ZSet.from_scores({m: 0.0 for m in (b"a", b"b", b"bb", b"c", b"e")})
    assert [z.lex_index(m) for m in (b"", b"a", b"b", b"ba", b"bb", b"d", b"f")] == \
        [0, 0, 1, 2, 2, 4, 5]
    assert [z.lex_index(m, after=True) for m in (b"a", b"bb", b"d", b"e")] == [1, 3, 4, 5]


def test_ranges_and_slices(load):
    scores = {b"m%02d" % i: float((i * 7) % 11) for i in range(30)}
    z = ZSet.from_scores(dict(scores))
    order = model_order(scores)
    for start in range(0, 31, 3):
        for stop in range(start, 31, 4):
            assert z.items(start, stop) == order[start:stop]
            assert z.members(start, stop) == [m for m, _ in order[start:stop]]
    assert z.members(5, 3) == []


def test_remove_range_and_pop(load):
    scores = {b"m%02d" % i: float(i // 3) for i in range(50)}
    z = ZSet.from_scores(dict(scores))
    order = model_order(scores)
    assert z.remove_range(10, 25) == [m for m, _ in order[10:25]]
    del order[10:25]
    z._check()
    assert z.pop(3) == order[:3]
    assert z.pop(2, maximum=True) == order[-2:][::-1]
    del order[:3]
    del order[-2:]
    z._check()
    assert z.items(0, len(z)) == order
    assert z.pop(1000, maximum=True) == order[::-1]
    assert len(z) == 0 and z.items(0, 0) == []
    z._check()
    z.add(b"again", 1.0)
    assert z.items(0, 1) == [(b"again", 1.0)]
    z._check()


def test_from_scores_takes_the_dict_and_sorts(load):
    d = {b"b": 2.0, b"a": 2.0, b"c": -1.0}
    z = ZSet.from_scores(d)
    assert z.scores() is d
    assert z.members(0, 3) == [b"c", b"a", b"b"]
    z._check()


def test_grew_is_sticky():
    limits = Thresholds()
    limits.zset_entries, limits.zset_value = 3, 4
    z = ZSet()
    for m in (b"a", b"b", b"c"):
        z.add(m, 1.0)
        z.grew(limits, m)
    assert not z.big and encoding_of(z) == b"listpack"
    z.add(b"d", 1.0)
    z.grew(limits, b"d")
    assert z.big and encoding_of(z) == b"skiplist"
    z.remove(b"d")
    z.grew(limits)
    assert z.big
    y = ZSet()
    y.add(b"toolong", 1.0)
    y.grew(limits, b"toolong")
    assert y.big and type_name(y) == b"zset"


def test_many_splits_and_merges(load):
    z = ZSet()
    model = {}
    for i in range(400):
        m = b"k%d" % ((i * 37) % 150)
        s = float((i * 13) % 17)
        z.add(m, s)
        model[m] = s
        if i % 5 == 4:
            victim = b"k%d" % ((i * 11) % 150)
            assert z.remove(victim) == (model.pop(victim, None) is not None)
    z._check()
    assert z.items(0, len(z)) == model_order(model)
    for m, _ in model_order(model)[::7]:
        z.remove(m)
    z._check()


def test_score_changes_move_members_within_and_across_sublists(load):
    """`add` on a present member: the move inside its sublist, the move to another one (with
    the index built, so both lengths change in it), and the fallback when the old sublist
    would merge; with runs of tied scores of 1, 2 and many members, and the sublist maxes."""
    import random

    rng = random.Random(load)
    z, model = ZSet(), {}
    members = [b"m%03d" % i for i in range(8 * load + 40)]
    for m in members:
        s = float(rng.randrange(12))
        z.add(m, s)
        model[m] = s
    for step in range(1500):
        m = rng.choice(members)
        s = rng.choice([float(rng.randrange(12)), rng.random() * 12, -INF, INF])
        expect = NOP if model[m] == s else UPDATED
        assert z.add(m, s) == expect
        model[m] = s
        if step % 3 == 0:
            order = model_order(model)
            i = rng.randrange(len(order))
            assert z.rank(order[i][0]) == i and z.member_at(i) == order[i][0]
        if step % 100 == 0:
            z._check()
    z._check()
    assert z.items(0, len(z)) == model_order(model)


def test_fenwick_index_against_prefix_sums(load):
    """The positional index (`_index`, `_loc`, `_pos`) against the sublist lengths, built
    and then updated in place by inserts and removes that neither split nor merge."""
    z = ZSet()
    for i in range(11 * load + 3):  # an odd number of sublists: the tree is padded
        z.add(b"k%05d" % i, float(i))
    z._reads = -10**9  # keep reading through the tree: `_starts` is never built here
    for grow in range(3 * load):
        lengths = [len(ms) for ms in z._ms]
        starts = [sum(lengths[:p]) for p in range(len(lengths))]
        for p, start in enumerate(starts):
            assert z._loc(p, 1) == start + 1
            assert z._pos(start) == (p, 0) and z._pos(start + lengths[p] - 1) == (p, lengths[p] - 1)
        assert z._index == z._build_index()
        if grow % 2:
            z.add(b"k%05d+" % (grow * 7 % len(z)), float(grow * 7 % len(z)))
        else:
            z.remove(z.member_at(grow * 5 % len(z)))
        z._check()


def test_starts_built_for_a_read_mostly_zset_and_dropped_by_a_length_change(load):
    """`_starts` appears after more tree reads than index entries with no length change,
    answers ranks and positions, is emptied by any length change (not by a move inside a
    sublist), and an alternation of writes and reads never builds it."""
    z, model = ZSet(), {}
    for i in range(9 * load + 5):
        z.add(b"k%05d" % i, float(i))
        model[b"k%05d" % i] = float(i)

    def check_all():
        order = model_order(model)
        for i, (m, _) in enumerate(order):
            assert z.rank(m) == i and z.member_at(i) == m
            assert z.members(i, i + 3) == [k for k, _ in order[i:i + 3]]
        z._check()

    check_all()
    assert z._starts and z._index
    z.add(b"k00000", 0.5)  # a move inside the first sublist: no length changes
    model[b"k00000"] = 0.5
    assert z._starts
    check_all()
    for step in range(40):  # alternate: a length change, then a few reads
        m = b"new%03d" % step
        z.add(m, step * 2.5)
        model[m] = step * 2.5
        assert not z._starts
        order = model_order(model)
        for i in range(0, len(order), max(1, len(order) // 4)):
            assert z.rank(order[i][0]) == i and z.member_at(i) == order[i][0]
    check_all()
    assert z._starts
    z.remove(b"new000")
    del model[b"new000"]
    assert not z._starts
    check_all()


def test_lex_bound():
    assert zmod.lex_bound(b"[a") == (0, b"a", False)
    assert zmod.lex_bound(b"(a") == (0, b"a", True)
    assert zmod.lex_bound(b"[") == (0, b"", False)
    assert zmod.lex_bound(b"-") == (-1, b"", True) and zmod.lex_bound(b"+")[0] == 1
    assert zmod.lex_bound(b"+\x00")[0] == 1
    for bad in (b"", b"a", b"+a", b"--", b"]a"):
        with pytest.raises(ValueError):
            zmod.lex_bound(bad)


def test_redis_ranges(load):
    z = ZSet.from_scores({b"a": 1.0, b"b": 2.0, b"c": 3.0, b"d": 4.0, b"e": 5.0})
    assert z.range_by_rank(0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert z.range_by_rank(-2, 100, withscores=True) == [(b"d", 4.0), (b"e", 5.0)]
    assert z.range_by_rank(0, 1, reverse=True) == [b"e", b"d"]
    assert z.range_by_rank(3, 1) == [] and z.range_by_rank(5, 9) == []
    assert z.range_by_score(2.0, 4.0) == [b"b", b"c", b"d"]
    assert z.range_by_score(2.0, 4.0, lo_ex=True, hi_ex=True) == [b"c"]
    assert z.range_by_score(-INF, INF, reverse=True, offset=1, count=2) == [b"d", b"c"]
    assert z.range_by_score(-INF, INF, offset=-1) == [] and z.range_by_score(4.0, 2.0) == []
    assert z.range_by_score(1.0, 5.0, offset=3, count=-1, withscores=True) == \
        [(b"d", 4.0), (b"e", 5.0)]
    assert z.count_by_score(2.0, INF, lo_ex=True) == 3
    lb = zmod.lex_bound
    flat = ZSet.from_scores({m: 0.0 for m in (b"a", b"b", b"c", b"d")})
    assert flat.range_by_lex(lb(b"[b"), lb(b"+")) == [b"b", b"c", b"d"]
    assert flat.range_by_lex(lb(b"-"), lb(b"(c"), reverse=True) == [b"b", b"a"]
    assert flat.range_by_lex(lb(b"-"), lb(b"+"), offset=1, count=2) == [b"b", b"c"]
    assert flat.count_by_lex(lb(b"(a"), lb(b"[c")) == 2
    assert flat.count_by_lex(lb(b"+"), lb(b"-")) == 0
    assert flat.count_by_lex(lb(b"[b"), lb(b"(b")) == 0
    assert flat.remove_range_by_lex(lb(b"[b"), lb(b"[c")) == [b"b", b"c"]
    assert z.remove_range_by_score(2.0, 3.0) == [b"b", b"c"]
    assert z.remove_range_by_rank(-1, -1) == [b"e"]
    assert z.members(0, 9) == [b"a", b"d"] and flat.members(0, 9) == [b"a", b"d"]
    z._check()
    flat._check()


def test_lex_span_with_mixed_scores_walks_like_a_listpack():
    z = ZSet.from_scores({b"d": 1.0, b"a": 2.0, b"c": 3.0, b"b": 4.0})
    lb = zmod.lex_bound
    assert z.range_by_lex(lb(b"[a"), lb(b"[c")) == []  # the first member is already > max
    assert z.range_by_lex(lb(b"[b"), lb(b"+")) == [b"d", b"a", b"c", b"b"]
    assert z.range_by_lex(lb(b"[c"), lb(b"[d"), reverse=True) == []
