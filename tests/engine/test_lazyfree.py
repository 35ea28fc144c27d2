"""engine.lazyfree: values are taken apart whole, a slice per step, with Redis's counters; and the
embedded store frees what UNLINK leaves from its expiry thread."""

from __future__ import annotations

import time

import kvstore
from kvstore.engine.lazyfree import LAZYFREE_THRESHOLD, LazyFree, free_effort
from kvstore.engine.stream import Stream
from kvstore.engine.values import Hash, List, Set
from kvstore.engine.zset import ZSet


def big_values() -> dict[str, object]:
    h = Hash()
    h.update((b"f%d" % i, b"v") for i in range(5000))
    h.big = True
    s = Set(b"m%d" % i for i in range(5000))
    s.big = True
    z = ZSet()
    for i in range(5000):
        z.add(b"m%d" % i, float(i % 97))
    z.big = True
    lst = List([b"x" * 100] * 10_000)
    st = Stream()
    for i in range(1, 2001):
        st.append(i << 64, (b"f", b"v"), 2, 4096, 5)
    return {"hash": h, "set": s, "zset": z, "list": lst, "stream": st}


def drained(value: object) -> bool:
    if isinstance(value, ZSet):
        return not value.scores() and not any(value.index_parts())
    if isinstance(value, Stream):
        return not value.nodes
    return not value  # type: ignore[truthy-bool]


def test_each_big_value_is_taken_apart_a_slice_at_a_time():
    for name, value in big_values().items():
        assert free_effort(value) > LAZYFREE_THRESHOLD, name
        lf = LazyFree()
        lf.background = True
        lf.free(value)
        assert lf.pending_objects == 1 and lf.freed_objects == 0, name
        slices = 0
        while lf.step(0):  # a zero budget: one slice per step
            slices += 1
            assert slices < 10_000, name
        assert slices >= 2, name  # not all in one go
        assert drained(value), name
        assert lf.pending_objects == 0 and lf.freed_objects == 1 and not lf, name


def test_small_values_and_no_background_free_at_once():
    lf = LazyFree()
    lf.background = True
    small = Set(b"m%d" % i for i in range(LAZYFREE_THRESHOLD))
    small.big = True
    lf.free(small)
    lf.free(b"x" * 10_000)
    assert not lf and lf.pending_objects == 0
    idle = LazyFree()  # nothing would ever call step
    idle.free(big_values()["set"])
    idle.free_table({b"k": b"v"}, {})
    assert not idle and idle.pending_objects == 0


def test_a_flushed_table_counts_its_keys_and_frees_its_big_values_in_slices():
    lf = LazyFree()
    lf.background = True
    values = big_values()
    data: dict = {b"k%d" % i: b"v" for i in range(3000)}
    data.update((name.encode(), value) for name, value in values.items())
    expires = {b"k1": 1}
    lf.free_table(data, expires)
    assert lf.pending_objects == len(data)
    total = len(data)
    while lf.step(0):
        pass
    assert not data and not expires
    assert all(drained(v) for v in values.values())
    assert lf.pending_objects == 0 and lf.freed_objects == total


def test_the_embedded_store_frees_in_its_thread():
    store = kvstore.open()
    try:
        for lo in range(0, 100_000, 10_000):
            store.sadd("big", *[b"m%d" % i for i in range(lo, lo + 10_000)])
        assert store.unlink("big") == 1
        assert store.exists("big") == 0
        assert store.info("memory")["lazyfree_pending_objects"] == 1
        deadline = time.monotonic() + 10
        while store.info("memory")["lazyfree_pending_objects"]:
            assert time.monotonic() < deadline, "the expiry thread never freed it"
            time.sleep(0.005)
        assert store.info("memory")["lazyfreed_objects"] == 1
    finally:
        store.close()
    manual = kvstore.open(active_expire=False)  # no thread: freed at once, nothing counted
    try:
        manual.sadd("big", *range(1000))
        manual.unlink("big")
        assert manual.info("memory")["lazyfree_pending_objects"] == 0
        assert manual.info("memory")["lazyfreed_objects"] == 0
    finally:
        manual.close()
