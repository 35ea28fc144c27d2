"""MEMORY USAGE, STATS, DOCTOR, PURGE, MALLOC-STATS and HELP (Redis `object.c`).

Theory of operation. Redis sums the allocator's sizes of a key's structures; we sum CPython's:
`sys.getsizeof` of the key, of the value's container and of its members. So MEMORY USAGE is an
estimate of our own objects (shared objects and allocator rounding are not seen), comparable
between keys of one kvstore, not with Redis's figures. Like Redis, a container is not walked in
full: the first SAMPLES members (default 5, 0 for all) are measured and their mean is
extrapolated to the whole, so the cost is O(samples), not O(n).

MEMORY STATS reports the process-wide figures the server already keeps for INFO memory
(kvstore/server/memory.py: malloc's in-use bytes above the baseline taken when the server became
ready, so startup.allocated is 0). The embedded store has no baseline: its figures are the whole
process's. Fields Redis has and we lack (replication backlog, Lua caches) are reported as 0.
"""

from __future__ import annotations

import gc
import sys
from itertools import islice

from ..engine.stream import Stream
from ..engine.values import Hash, List, Set
from ..errors import SYNTAX, CommandError
from ..replies import OK, Status, text_reply
from .args import to_int
from .table import LOADING, READONLY, STALE, Context, KeySpec, command, container

DEFAULT_SAMPLES = 5  # as Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES
# Below this much allocated memory Redis's doctor declines to diagnose (5 MB, as `object.c`).
DOCTOR_MIN_BYTES = 5 * 1024 * 1024
# A ZSet member costs its bytes object, a float in the score dict, and a slot in the sorted
# list of members and in the array of scores (8 bytes each).
_ZSET_MEMBER_EXTRA = sys.getsizeof(1.0) + 16

container("memory", -2, group="server")


def _sampled(members, n: int, samples: int, size) -> int:
    """The size of `n` members extrapolated from the first `samples` of them."""
    seen = list(islice(members, samples))
    if not seen:
        return 0
    return sum(size(m) for m in seen) * n // len(seen)


def value_usage(value: object, samples: int) -> int:
    """Bytes estimated for a value: its container plus its (sampled) members."""
    getsize = sys.getsizeof
    t = type(value)
    if t is bytes:
        return getsize(value)
    if t is Hash:
        return getsize(value) + _sampled(
            value.items(), len(value), samples, lambda kv: getsize(kv[0]) + getsize(kv[1]))
    if t is List or t is Set:
        return getsize(value) + _sampled(value, len(value), samples, getsize)
    if t is Stream:  # per node: its lists, then its entries (sampled), then the groups' PELs
        nodes = value.nodes  # type: ignore[attr-defined]
        entries = _sampled((n.flat(k) for n in nodes for k in range(len(n.ids))),
                           sum(len(n.ids) for n in nodes), samples,
                           lambda flat: getsize(flat) + sum(map(getsize, flat)) + 32)
        pels = sum(len(g.pel) for g in value.groups.values())  # type: ignore[attr-defined]
        return getsize(value) + 200 * len(nodes) + entries + 150 * pels
    # ZSet: its score dict holds every member once.
    n = len(value)  # type: ignore[arg-type]
    head = value.members(0, samples)  # type: ignore[attr-defined]
    return getsize(value._scores) + _sampled(  # type: ignore[attr-defined]
        head, n, samples, lambda m: getsize(m) + _ZSET_MEMBER_EXTRA)


@command("memory|usage", -3, READONLY, KeySpec(2, 2, 1), group="server")
def memory_usage(ctx: Context, argv: list[bytes]):
    """MEMORY USAGE key [SAMPLES count]

    Complexity: O(count). Reply: integer, estimated bytes of the key and its value; nil if the
    key does not exist.
    """
    samples = DEFAULT_SAMPLES
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            samples = to_int(argv[i + 1])
            if samples < 0:
                raise CommandError(SYNTAX)
            if samples == 0:
                samples = sys.maxsize
            i += 2
        else:
            raise CommandError(SYNTAX)
    key = argv[2]
    value = ctx.db.lookup(key, ctx.now)
    if value is None:
        return None
    return sys.getsizeof(key) + value_usage(value, samples)


def _stats(ctx: Context) -> dict:
    """MEMORY STATS's fields, in Redis's order."""
    from ..server.memory import allocated_bytes, rss_bytes

    server = ctx.client.server if ctx.client is not None else None
    raw = allocated_bytes()
    if server is not None:
        total = server.memory.sample()
        peak = server.memory.peak
    else:
        total = peak = raw
    p = getattr(ctx.ks, "persistence", None)  # set by both front doors when the AOF is on
    aof = len(p.writer.buf) if p is not None and p.writer is not None else 0
    out: dict = {b"peak.allocated": peak, b"total.allocated": total, b"startup.allocated": 0,
                 b"replication.backlog": 0, b"clients.slaves": 0, b"clients.normal": 0,
                 b"cluster.links": 0, b"aof.buffer": aof, b"lua.caches": 0,
                 b"functions.caches": 0}
    overhead = aof
    keys = 0
    for db in ctx.ks.dbs:
        if not db.data:
            continue
        main, expires = sys.getsizeof(db.data), sys.getsizeof(db.expires)
        out[b"db.%d" % db.id] = {b"overhead.hashtable.main": main,
                                 b"overhead.hashtable.expires": expires}
        overhead += main + expires
        keys += len(db.data)
    dataset = max(total - overhead, 0)
    rss = rss_bytes()
    out.update({
        b"overhead.total": overhead, b"keys.count": keys,
        b"keys.bytes-per-key": total // keys if keys else 0, b"dataset.bytes": dataset,
        b"dataset.percentage": dataset * 100.0 / total if total else 0.0,
        b"peak.percentage": total * 100.0 / peak if peak else 0.0,
        b"allocator.allocated": raw, b"allocator.active": raw, b"allocator.resident": rss,
        b"allocator-fragmentation.ratio": 1.0, b"allocator-fragmentation.bytes": 0,
        b"allocator-rss.ratio": rss / raw if raw else 0.0, b"allocator-rss.bytes": rss - raw,
        b"rss-overhead.ratio": 1.0, b"rss-overhead.bytes": 0,
        b"fragmentation": rss / total if total else 0.0,
        b"fragmentation.bytes": rss - total,
    })
    return out


@command("memory|stats", 2, group="server")
def memory_stats(ctx: Context, argv: list[bytes]):
    """MEMORY STATS"""
    return _stats(ctx)


@command("memory|doctor", 2, group="server")
def memory_doctor(ctx: Context, argv: list[bytes]):
    """MEMORY DOCTOR"""
    if _stats(ctx)[b"total.allocated"] < DOCTOR_MIN_BYTES:
        return text_reply(ctx.resp, "Hi Sam, this instance is empty or is using very little "
                          "memory, my issues detector can't be used in these conditions. Please, "
                          "leave for your mission on Earth and fill it with some data. The new "
                          "Sam and I will be back to our programming as soon as I finished "
                          "rebooting.\n")
    return text_reply(ctx.resp, "Hi Sam, I can't find any memory issue in your instance. I can "
                      "only account for what occurs on this base.\n")


@command("memory|malloc-stats", 2, group="server")
def memory_malloc_stats(ctx: Context, argv: list[bytes]):
    """MEMORY MALLOC-STATS"""
    # (Redis built without jemalloc)
    return text_reply(ctx.resp, "Stats not supported for the current allocator")


@command("memory|purge", 2, group="server")
def memory_purge(ctx: Context, argv: list[bytes]):
    """MEMORY PURGE"""
    from ..server.memory import release_free_memory

    gc.collect()
    release_free_memory()
    return OK


@command("memory|help", 2, LOADING | STALE, group="server")
def memory_help(ctx: Context, argv: list[bytes]):
    """MEMORY HELP"""
    lines = ["MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "DOCTOR", "    Return memory problems reports.",
             "MALLOC-STATS", "    Return internal statistics report from the memory allocator.",
             "PURGE", "    Attempt to purge dirty pages for reclamation by the allocator.",
             "STATS", "    Return information about the memory usage of the server.",
             "USAGE <key> [SAMPLES <count>]",
             "    Return memory in bytes used by <key> and its value. Nested values are",
             "    sampled up to <count> times (default: 5, 0 means sample all).",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]
