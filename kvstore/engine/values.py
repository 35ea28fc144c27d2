"""The value types of the keyspace and the encodings Redis would report for them.

A string is stored as a plain `bytes` object (no wrapper: 1M keys must fit in ~200 bytes each,
and `type(v) is bytes` is the fastest type test there is). The other types subclass the builtin
container that already has the right complexity, so handlers use them directly:

    hash -> Hash(dict)     list -> List(deque)     set -> Set(set)     zset -> ZSet (engine.zset)

Redis converts small hashes, sets and sorted sets from a compact encoding (listpack, intset) to a
hash table / skiplist once they pass a size threshold, and never back. OBJECT ENCODING must report
what Redis would, so each container carries a `big` flag that mutating handlers raise through
`grew()` once a threshold is passed; the flag is sticky, as Redis's conversion is.

A big hash or set may also carry a `picker` (engine.picker), the random-access index that makes
SPOP / SRANDMEMBER / HRANDFIELD O(1); it is None until a random pick needs one, and every
in-place mutation of a container that has one must report to it (see engine.picker).
"""

from __future__ import annotations

from collections import deque
from sys import getsizeof
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .picker import Picker

# Redis 7.0 defaults (redis.conf); CONFIG SET changes them through `Thresholds`.
HASH_MAX_LISTPACK_ENTRIES = 512  # config.c's default in 7.0 (not 128 as for zsets)
HASH_MAX_LISTPACK_VALUE = 64      # bytes, per field and per value
SET_MAX_INTSET_ENTRIES = 512
ZSET_MAX_LISTPACK_ENTRIES = 128
ZSET_MAX_LISTPACK_VALUE = 64      # bytes, per member
HLL_SPARSE_MAX_BYTES = 3000       # a sparse HyperLogLog string longer than this turns dense
STREAM_NODE_MAX_BYTES = 4096      # a stream node's listpack bytes, and its entries
STREAM_NODE_MAX_ENTRIES = 100
# Strings up to this length are allocated with their object header (embstr).
EMBSTR_MAX = 44
# Redis shares one object for each integer 0..9999 (OBJ_SHARED_INTEGERS), and so do INCR and
# its kin here: a small counter costs no object of its own, and reading it back is one probe of
# SHARED_INT_VALUES instead of a digit check and a parse (INCR's embedded call: 700 -> 460 ns).
SHARED_INTEGERS = 10000
SHARED_INT_BYTES = [b"%d" % i for i in range(SHARED_INTEGERS)]
# The value of a shared integer's bytes, else None. Bound once: CPython 3.11 compiles a method
# call on an imported name (`SHARED_INT_VALUES.get(x)`) without LOAD_METHOD, 70 ns dearer.
shared_int_value = {b: i for i, b in enumerate(SHARED_INT_BYTES)}.get


# A dict or set never gives its table back as members go: a hash that held 1M fields keeps ~40 MB
# at 10, and maxmemory counts them. Redis shrinks a hash table under 10% full (htNeedsResize:
# from its cron for the keyspace, at each delete for a hash, set or zset). `give_back` rebuilds
# such a table in place (the same object, a dict in the same order) once it holds at most
# SHRINK_MAX members: a copy of a millisecond or so, after one pass over the old table.
SHRINK_MAX = 10_000
SHRINK_MIN_BYTES = 1 << 16
# ...and only a table that pass takes a few milliseconds over: a dict that held up to 1.4M
# members (its table 40 MB: 4 ms to go over), a set that held up to 700K (16 MB: 8 ms; a
# set's pass is slower). A bigger one keeps its memory: Redis rehashes step by step, a Python
# table is copied whole, and a 2M-member set took 32 ms, one SREM's.
SHRINK_MAX_DICT_BYTES = 41 << 20
SHRINK_MAX_SET_BYTES = 17 << 20
# Bytes a member past which a table is under ~10% full (fresh: dict 30-60, set 27-54)
SPARSE_DICT_BYTES = 400
SPARSE_SET_BYTES = 160


def give_back(table: dict | set, most: int = SHRINK_MAX) -> None:
    """Rebuild a mostly empty dict or set holding at most `most` members, in place (see
    SHRINK_MAX). O(1) when it does not."""
    n = len(table)
    if n <= most:
        size = getsizeof(table)
        is_dict = isinstance(table, dict)
        sparse = SPARSE_DICT_BYTES if is_dict else SPARSE_SET_BYTES
        if SHRINK_MIN_BYTES < size <= (SHRINK_MAX_DICT_BYTES if is_dict else SHRINK_MAX_SET_BYTES) \
                and size > sparse * n:
            copy = dict(table) if is_dict else set(table)
            table.clear()  # (frees the table)
            table.update(copy)


def int_bytes(value: int) -> bytes:
    """How INCR & co. store an integer: the shared object for 0..9999, else its digits."""
    return SHARED_INT_BYTES[value] if 0 <= value < SHARED_INTEGERS else b"%d" % value


class Thresholds:
    """The encoding thresholds in force (one instance per keyspace, changed by CONFIG SET)."""

    __slots__ = ("hash_entries", "hash_value", "set_intset", "zset_entries", "zset_value",
                 "hll_sparse_max_bytes", "stream_node_max_bytes", "stream_node_max_entries")

    def __init__(self) -> None:
        self.hash_entries = HASH_MAX_LISTPACK_ENTRIES
        self.hash_value = HASH_MAX_LISTPACK_VALUE
        self.set_intset = SET_MAX_INTSET_ENTRIES
        self.zset_entries = ZSET_MAX_LISTPACK_ENTRIES
        self.zset_value = ZSET_MAX_LISTPACK_VALUE
        self.hll_sparse_max_bytes = HLL_SPARSE_MAX_BYTES
        self.stream_node_max_bytes = STREAM_NODE_MAX_BYTES
        self.stream_node_max_entries = STREAM_NODE_MAX_ENTRIES


class Hash(dict):
    """field (bytes) -> value (bytes). Weakly referable: a scan's snapshot (HSCAN) refers to
    its hash so."""

    __slots__ = ("big", "picker", "__weakref__")

    def __init__(self) -> None:
        super().__init__()
        self.big = False
        self.picker: Picker | None = None

    def grew(self, limits: Thresholds, *items: bytes) -> None:
        """Call after adding fields: flips to hashtable past the entry count or value size."""
        if not self.big and (
            len(self) > limits.hash_entries or any(len(x) > limits.hash_value for x in items)
        ):
            self.big = True


class List(deque):
    """Elements (bytes), head at index 0. Redis 7.0 reports every list as quicklist."""

    __slots__ = ()


def _is_intset_member(member: bytes) -> bool:
    # Redis keeps a set as an intset while every member is a canonical 64-bit integer.
    if not member or len(member) > 20:
        return False
    try:
        n = int(member)
    except ValueError:
        return False
    return -(1 << 63) <= n < (1 << 63) and str(n).encode() == member


class Set(set):
    """Members (bytes). (Weakly referable, as sets are: a scan's snapshot refers to it so.)"""

    __slots__ = ("big", "picker")

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.big = False
        self.picker: Picker | None = None

    def grew(self, limits: Thresholds, *members: bytes) -> None:
        """Call after adding members: leaves intset on a non-integer member or past the count."""
        if not self.big and (
            len(self) > limits.set_intset or not all(map(_is_intset_member, members))
        ):
            self.big = True

    def start_over(self, limits: Thresholds) -> None:
        """Encode the members afresh, as Redis's copy of them into a new set (SPOP's CASE 3):
        an intset again if they allow it. A picker goes with the hashtable flag (engine.picker:
        only a big container has one)."""
        self.big = False
        self.picker = None
        self.grew(limits, *self)

    def encoding(self) -> bytes:
        return b"hashtable" if self.big else b"intset"


def string_encoding(value: bytes) -> bytes:
    """OBJECT ENCODING of a string value, by Redis's rules for a freshly set value."""
    if len(value) <= 20:
        try:
            n = int(value)
        except ValueError:
            n = None
        if n is not None and -(1 << 63) <= n < (1 << 63) and str(n).encode() == value:
            return b"int"
    return b"embstr" if len(value) <= EMBSTR_MAX else b"raw"


def type_name(value: object) -> bytes:
    """The TYPE reply for a value."""
    return _TYPE_NAMES[type(value)]


def encoding_of(value: object) -> bytes:
    """The OBJECT ENCODING reply for a value."""
    t = type(value)
    if t is bytes:
        return string_encoding(value)  # type: ignore[arg-type]
    if t is Hash:
        return b"hashtable" if value.big else b"listpack"  # type: ignore[attr-defined]
    if t is List:
        return b"quicklist"
    if t is Set:
        return value.encoding()  # type: ignore[attr-defined]
    if _TYPE_NAMES[t] == b"stream":
        return b"stream"
    return b"skiplist" if value.big else b"listpack"  # type: ignore[attr-defined]


_TYPE_NAMES: dict[type, bytes] = {bytes: b"string", Hash: b"hash", List: b"list", Set: b"set"}


def register_type(cls: type, name: bytes) -> None:
    """Lets engine.zset add ZSet without a circular import."""
    _TYPE_NAMES[cls] = name
