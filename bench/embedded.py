"""Embedded API throughput: kvstore.open() beside fakeredis, and memory per key.

Each row times one redis-py-shaped method call in a tight loop, at a data size of 1K and 1M keys
(or members, for the container types), on one core. fakeredis is the usual in-process choice; it
is preloaded with bulk commands (MSET, HSET mapping, ...) so its 1M rows finish in minutes.

    taskset -c 1 python bench/embedded.py            # full table (a few minutes)
    taskset -c 1 python bench/embedded.py --quick    # 1K rows only, shorter loops

Memory: a child process stores 1M keys with 100-byte values and reports RSS growth per key.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import subprocess
import sys
import time

import kvstore

SIZES = {"1K": 1_000, "1M": 1_000_000}
VALUE = b"x" * 100


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def preload(client, kind: str, n: int) -> None:
    """Fill `client` with n keys or members of one kind, in bulk commands of 10K."""
    step = 10_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        if kind == "strings":
            client.mset({b"key:%d" % i: b"%d" % i for i in range(lo, hi)})
        elif kind == "hash":
            client.hset(b"h", mapping={b"f:%d" % i: VALUE for i in range(lo, hi)})
        elif kind == "list":
            client.rpush(b"l", *[VALUE] * (hi - lo))
        elif kind == "set":
            client.sadd(b"s", *[b"m:%d" % i for i in range(lo, hi)])
        elif kind == "zset":
            client.zadd(b"z", {b"m:%d" % i: float(i) for i in range(lo, hi)})


def workloads(n: int):
    """(row, kind to preload, method name, args(i) for a pseudo-random int i) for each row."""
    return [
        ("GET", "strings", "get", lambda i: (b"key:%d" % (i % n),)),
        ("SET", "strings", "set", lambda i: (b"key:%d" % (i % n), VALUE)),
        ("INCR", "strings", "incr", lambda i: (b"key:%d" % (i % n),)),
        ("HSET", "hash", "hset", lambda i: (b"h", b"f:%d" % (i % n), VALUE)),
        ("LPUSH", "list", "lpush", lambda i: (b"l", VALUE)),
        ("SADD", "set", "sadd", lambda i: (b"s", b"m:%d" % (i % (2 * n)))),
        ("ZADD", "zset", "zadd", lambda i: (b"z", {b"m:%d" % (i % (2 * n)): float(i % 997)})),
        ("ZRANGE", "zset", "zrange", lambda i: (b"z", i % n, i % n + 9)),
        ("ZRANK", "zset", "zrank", lambda i: (b"z", b"m:%d" % (i % n))),
    ]


def time_op(client, method: str, make_args, seconds: float) -> float:
    """ops/s of `client.<method>(*args)` over about `seconds`. Arguments are built before the
    clock starts, so the figure is the method's cost, not the harness's."""
    rng = random.Random(1)
    calls = [make_args(rng.randrange(1 << 30)) for _ in range(1000)]
    fn = getattr(client, method)
    done = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for args in calls:
            fn(*args)
        done += len(calls)
        elapsed = time.perf_counter() - start
    return done / elapsed


def make_client(which: str):
    if which == "kvstore":
        return kvstore.open()
    import fakeredis

    return fakeredis.FakeRedis()


def memory_child() -> None:
    store = kvstore.open()
    gc.collect()
    before = rss_bytes()
    for lo in range(0, 1_000_000, 10_000):
        # Distinct value objects, as values read off a socket would be.
        store.mset({b"key:%07d" % i: b"%0100d" % i for i in range(lo, lo + 10_000)})
    gc.collect()
    after = rss_bytes()
    print((after - before) / 1_000_000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1K sizes only, 0.3 s per row")
    ap.add_argument("--seconds", type=float, default=1.0, help="time per row")
    ap.add_argument("--no-fakeredis", action="store_true")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child()
        return
    seconds = 0.3 if args.quick else args.seconds
    sizes = {"1K": SIZES["1K"]} if args.quick else SIZES
    peers = ["kvstore"] if args.no_fakeredis else ["kvstore", "fakeredis"]
    print(f"{'op':8} {'size':5} {'kvstore ops/s':>14} {'fakeredis ops/s':>16} {'ratio':>8}")
    for size_name, n in sizes.items():
        for name, kind, method, make_args in workloads(n):
            rates = {}
            for peer in peers:
                client = make_client(peer)
                preload(client, kind, n)
                gc.collect()
                rates[peer] = time_op(client, method, make_args, seconds)
                if peer == "kvstore":
                    client.close()
                del client
                gc.collect()
            fr = rates.get("fakeredis")
            ratio = f"{rates['kvstore'] / fr:7.0f}x" if fr else "      -"
            fr_text = f"{fr:16,.0f}" if fr else f"{'-':>16}"
            print(f"{name:8} {size_name:5} {rates['kvstore']:14,.0f} {fr_text} {ratio}", flush=True)
    per_key = float(subprocess.check_output(
        [sys.executable, __file__, "--memory-child"], text=True).strip())
    print(f"\nmemory: 1M keys with 100-byte values: {per_key:.0f} bytes of RSS per key")


if __name__ == "__main__":
    main()
