"""Containers rebuild their mostly empty tables (values.give_back), whichever way members go."""

from __future__ import annotations

import sys

from kvstore.engine.keyspace import Keyspace
from kvstore.engine.picker import pop_random, pop_random_many
from kvstore.engine.values import SHRINK_MAX, Hash, Set, give_back
from kvstore.engine.zset import ZSet

N = 100_000


def test_give_back_rebuilds_only_a_sparse_small_table_in_place_and_in_order():
    h = Hash()
    h.update((b"f%d" % i, b"v") for i in range(N))
    for i in range(SHRINK_MAX + 10, N):
        del h[b"f%d" % i]
    grown = sys.getsizeof(h)
    give_back(h)
    assert sys.getsizeof(h) == grown  # still over SHRINK_MAX members: left alone
    for i in range(5, SHRINK_MAX + 10):
        del h[b"f%d" % i]
    give_back(h)
    assert sys.getsizeof(h) < grown / 100
    assert list(h) == [b"f0", b"f1", b"f2", b"f3", b"f4"]
    dense = Hash()
    dense.update((b"f%d" % i, b"v") for i in range(1000))
    size = sys.getsizeof(dense)
    give_back(dense)
    assert sys.getsizeof(dense) == size


def test_set_pops_give_the_table_back():
    s = Set(b"m%d" % i for i in range(N))
    s.big = True
    grown = sys.getsizeof(s)
    pop_random_many(s, N - 20)
    assert len(s) == 20 and sys.getsizeof(s) < grown / 100
    s = Set(b"m%d" % i for i in range(N))
    s.big = True
    for _ in range(N - 20):
        pop_random(s)
    assert len(s) == 20 and sys.getsizeof(s) < grown / 100


def test_zset_removals_give_the_table_back():
    for remove in (lambda z: z.pop(N - 20),
                   lambda z: z.remove_range(0, N - 20),
                   lambda z: [z.remove(b"m%d" % i) for i in range(N - 20)]):
        z = ZSet.from_scores({b"m%d" % i: float(i) for i in range(N)})
        z.big = True
        grown = sys.getsizeof(z.scores())
        remove(z)
        assert len(z) == 20 and sys.getsizeof(z.scores()) < grown / 100
        z._check()


def test_a_database_gives_its_tables_back():
    db = Keyspace().dbs[0]
    for i in range(N):
        db.data[b"k%d" % i] = b"v"
        db.expires[b"k%d" % i] = 1
    grown = sys.getsizeof(db.data)
    for i in range(10, N):
        del db.data[b"k%d" % i], db.expires[b"k%d" % i]
    db.shrink()
    assert sys.getsizeof(db.data) < grown / 100 and sys.getsizeof(db.expires) < grown / 100
    assert list(db.data) == [b"k%d" % i for i in range(10)]


def test_a_database_table_up_to_db_shrink_max_keys_is_rebuilt():
    from kvstore.engine.keyspace import DB_SHRINK_MAX

    db = Keyspace().dbs[0]
    for i in range(10 * DB_SHRINK_MAX):
        db.data[b"k%d" % i] = b"v"
    grown = sys.getsizeof(db.data)
    for i in range(DB_SHRINK_MAX, 10 * DB_SHRINK_MAX):  # (more than a container's SHRINK_MAX)
        del db.data[b"k%d" % i]
    db.shrink()
    assert sys.getsizeof(db.data) < grown / 5 and len(db.data) == DB_SHRINK_MAX


def test_a_huge_table_keeps_its_memory_rather_than_stall():
    """Going over the table of a set that held 1M members took 16 ms (32 ms at 2M): one SREM's
    wait. Past SHRINK_MAX_SET_BYTES (and SHRINK_MAX_DICT_BYTES) the table is left alone."""
    from kvstore.engine.values import SHRINK_MAX_SET_BYTES

    s = Set(range(1_000_000))
    grown = sys.getsizeof(s)
    assert grown > SHRINK_MAX_SET_BYTES
    for i in range(100, 1_000_000):
        s.discard(i)
    give_back(s)
    assert sys.getsizeof(s) == grown and len(s) == 100
    small = Set(range(400_000))  # (a table under the limit: rebuilt)
    for i in range(100, 400_000):
        small.discard(i)
    give_back(small)
    assert sys.getsizeof(small) < grown / 100
