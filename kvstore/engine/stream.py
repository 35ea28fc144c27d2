"""Streams: Redis 7.0's stream type (t_stream.c), entries plus consumer groups.

An entry ID is one int, `ms << 64 | seq`, so IDs compare, sort and bisect as plain ints;
`id_text` spells it "ms-seq".

Redis keeps entries in a radix tree of listpack nodes, and that layout shows: `~` trimming
drops whole nodes only, XINFO STREAM counts radix-tree keys and nodes, DUMP writes the
listpacks. So a `Stream` keeps the same nodes: each `Node` holds up to
stream-node-max-entries entries and stream-node-max-bytes of listpack (its byte count is
kept as Redis's listpack would have it, `Node.nbytes`), starts at its first entry's ID (its
"master" ID, with the first entry's field names as master fields), and keeps an entry that
XDEL or an exact trim deleted as a tombstone until the whole node goes, as Redis does. A node
whose live entries are all deleted is dropped. `starts` lists the nodes' master IDs, so an
ID's node is one bisection away, and its entry another: lookups and range starts are
O(log n), a range costs O(log n + entries walked).

A Stream has no len(): an empty stream is still a key (MKSTREAM, XDEL of every entry), and
generic code tests containers' truth to drop empty ones; `length` counts the entries.

Consumer groups (`Group`) keep a pending entries list (PEL, a SortedDict ID -> `Nack`) and
their consumers (`Consumer`, each with its own PEL of the same Nack objects).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from sortedcontainers import SortedDict

from .rdb import _backlen_bytes, _canonical_int
from .values import register_type

SEQ_MASK = (1 << 64) - 1
ID_MAX = (1 << 128) - 1
# Redis's STREAM_LISTPACK_MAX_SIZE: a node's hard byte cap, and an entry's.
LISTPACK_MAX_SIZE = 1 << 30
# SCG_INVALID_ENTRIES_READ: a group's read counter that is not known.
UNKNOWN = -1



def id_text(i: int) -> bytes:
    return b"%d-%d" % (i >> 64, i & SEQ_MASK)


def _int_size(n: int) -> int:
    """Bytes of a listpack integer entry, back-length included (lpEncodeIntegerGetType)."""
    if 0 <= n <= 127:
        return 2
    if -4096 <= n <= 4095:
        return 3
    if -32768 <= n <= 32767:
        return 4
    if -(1 << 23) <= n < 1 << 23:
        return 5
    if -(1 << 31) <= n < 1 << 31:
        return 6
    return 10


def _str_size(s: bytes) -> int:
    """Bytes of a listpack string entry: one that spells an int64 is stored as an integer."""
    size = len(s)
    if size <= 20 and s and s[0] in b"-0123456789":
        n = _canonical_int(s)
        if n is not None:
            return _int_size(n)
    head = size + (1 if size < 64 else 2 if size < 4096 else 5)
    return head + _backlen_bytes(head)


class Node:
    """One listpack of entries: IDs, flat field-value tuples, and which are still alive."""

    __slots__ = ("master", "fields", "ids", "entries", "alive", "live", "deleted", "body")

    def __init__(self, master: int, fields: tuple) -> None:
        self.master = master
        self.fields = fields          # the master entry's field names
        self.ids: list[int] = []
        self.entries: list[tuple] = []
        self.alive = bytearray()
        self.live = 0
        self.deleted = 0
        # listpack bytes but the live and deleted counters and the 7-byte header and end
        self.body = _int_size(len(fields)) + sum(map(_str_size, fields)) + _int_size(0)

    @property
    def nbytes(self) -> int:
        return 7 + _int_size(self.live) + _int_size(self.deleted) + self.body

    def append(self, i: int, flat: tuple) -> None:
        master = self.master
        nfields = len(flat) // 2
        same = flat[0::2] == self.fields
        size = 2 + _int_size((i >> 64) - (master >> 64)) + _int_size((i & SEQ_MASK) - (master & SEQ_MASK))
        if same:
            size += sum(map(_str_size, flat[1::2])) + _int_size(nfields + 3)
        else:
            size += _int_size(nfields) + sum(map(_str_size, flat)) + _int_size(2 * nfields + 4)
        self.body += size
        self.ids.append(i)
        self.entries.append(flat)
        self.alive.append(1)
        self.live += 1

    @property
    def last(self) -> int:
        return self.ids[-1]


class Nack:
    """A pending entry: when it was last delivered, how often, to whom."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, delivery_time: int, consumer: "Consumer | None") -> None:
        self.delivery_time = delivery_time
        self.delivery_count = 1
        self.consumer = consumer


class Consumer:
    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes, now: int) -> None:
        self.name = name
        self.seen_time = now
        self.pel: SortedDict = SortedDict()


class Group:
    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel: SortedDict = SortedDict()
        self.consumers: dict[bytes, Consumer] = {}

    def consumer(self, name: bytes, now: int, refresh: bool = True) -> Consumer | None:
        c = self.consumers.get(name)
        if c is not None and refresh:
            c.seen_time = now
        return c

    def add_consumer(self, name: bytes, now: int) -> Consumer:
        c = self.consumers[name] = Consumer(name, now)
        return c

    def ack(self, i: int) -> bool:
        nack = self.pel.pop(i, None)
        if nack is None:
            return False
        if nack.consumer is not None:
            nack.consumer.pel.pop(i, None)
        return True


class Stream:
    __slots__ = ("nodes", "starts", "length", "last_id", "first_id", "max_deleted",
                 "entries_added", "groups")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.starts: list[int] = []
        self.length = 0
        self.last_id = 0
        self.first_id = 0
        self.max_deleted = 0
        self.entries_added = 0
        self.groups: dict[bytes, Group] = {}

    # -- adding ---------------------------------------------------------------------------------

    def append(self, i: int, flat: tuple, max_bytes: int, max_entries: int) -> None:
        """Add an entry whose ID is past `last_id` (streamAppendItem): into the tail node, or a
        new one when the tail holds max_entries (live and deleted) or would reach max_bytes."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            if node.nbytes + sum(map(len, flat)) >= max_bytes:
                node = None
            elif max_entries and node.live + node.deleted >= max_entries:
                node = None
        if node is None:
            node = Node(i, flat[0::2])
            nodes.append(node)
            self.starts.append(i)
        node.append(i, flat)
        if not self.length:
            self.first_id = i
        self.length += 1
        self.last_id = i
        self.entries_added += 1

    # -- finding --------------------------------------------------------------------------------

    def _locate(self, i: int) -> tuple[Node, int] | None:
        n = bisect_right(self.starts, i) - 1
        if n < 0:
            return None
        node = self.nodes[n]
        k = bisect_left(node.ids, i)
        if k < len(node.ids) and node.ids[k] == i and node.alive[k]:
            return node, k
        return None

    def get(self, i: int) -> tuple | None:
        found = self._locate(i)
        return None if found is None else found[0].entries[found[1]]

    def __contains__(self, i: int) -> bool:
        return self._locate(i) is not None

    def range(self, start: int, end: int, count: int = 0, rev: bool = False) -> list:
        """[(id, flat), ...] of the live entries with start <= id <= end, at most count (0:
        all), oldest first or, with rev, newest first."""
        out: list = []
        if start > end or not self.length:
            return out
        nodes = self.nodes
        if not rev:
            n = max(bisect_right(self.starts, start) - 1, 0)
            while n < len(nodes):
                node = nodes[n]
                ids = node.ids
                k = bisect_left(ids, start) if ids[0] < start else 0
                alive = node.alive
                entries = node.entries
                while k < len(ids):
                    i = ids[k]
                    if i > end:
                        return out
                    if alive[k]:
                        out.append((i, entries[k]))
                        if len(out) == count:
                            return out
                    k += 1
                n += 1
        else:
            n = bisect_right(self.starts, end) - 1
            while n >= 0:
                node = nodes[n]
                ids = node.ids
                k = bisect_right(ids, end) - 1
                alive = node.alive
                entries = node.entries
                while k >= 0:
                    i = ids[k]
                    if i < start:
                        return out
                    if alive[k]:
                        out.append((i, entries[k]))
                        if len(out) == count:
                            return out
                    k -= 1
                n -= 1
        return out

    def first_entry(self) -> tuple | None:
        got = self.range(0, ID_MAX, 1)
        return got[0] if got else None

    def last_entry(self) -> tuple | None:
        got = self.range(0, ID_MAX, 1, True)
        return got[0] if got else None

    # -- removing -------------------------------------------------------------------------------

    def _drop_node(self, n: int) -> None:
        del self.nodes[n]
        del self.starts[n]

    def delete(self, i: int) -> bool:
        """XDEL of one ID (streamDeleteItem plus xdelCommand's bookkeeping)."""
        found = self._locate(i)
        if found is None:
            return False
        node, k = found
        if node.live == 1:
            self._drop_node(self.nodes.index(node))
        else:
            node.alive[k] = 0
            node.live -= 1
            node.deleted += 1
        self.length -= 1
        if i > self.max_deleted:
            self.max_deleted = i
        if not self.length:
            self.first_id = 0
        elif i == self.first_id:
            self.first_id = self.first_entry()[0]
        return True

    def trim(self, maxlen: int | None, minid: int | None, approx: bool, limit: int) -> int:
        """streamTrim: by MAXLEN or MINID; whole nodes first; `approx` stops at the first node
        that cannot go as a whole; `limit` (0: none) caps the entries removed. Returns how
        many were removed."""
        removed = 0
        nodes = self.nodes
        while nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[0]
            entries = node.live
            if limit and removed + entries > limit:
                break
            if maxlen is not None:
                whole = self.length - entries >= maxlen
            else:
                whole = node.ids[-1] < minid  # type: ignore[operator]
            if whole:
                self._drop_node(0)
                self.length -= entries
                removed += entries
                continue
            if approx:
                break
            ids = node.ids
            alive = node.alive
            gone = 0
            for k in range(len(ids)):
                if maxlen is not None:
                    if self.length <= maxlen:
                        break
                elif ids[k] >= minid:  # type: ignore[operator]
                    break
                if alive[k]:
                    alive[k] = 0
                    gone += 1
                    self.length -= 1
            node.live -= gone
            node.deleted += gone
            removed += gone
            break
        if removed:
            self.first_id = self.first_entry()[0] if self.length else 0
        return removed

    # -- consumer groups' read counters (Redis 7.0) ---------------------------------------------

    def has_tombstones_from(self, start: int) -> bool:
        """streamRangeHasTombstones(start, +inf)."""
        if not self.length or not self.max_deleted:
            return False
        if self.first_id > self.max_deleted:
            return False
        return start <= self.max_deleted

    def estimate_read(self, i: int) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the logical read counter of ID i, or
        UNKNOWN."""
        if not self.entries_added:
            return 0
        if not self.length and i <= self.last_id:
            return self.entries_added
        if i == self.last_id:
            return self.entries_added
        if i > self.last_id:
            return UNKNOWN
        if not self.max_deleted or self.max_deleted < self.first_id:
            if i < self.first_id:
                return self.entries_added - self.length
            if i == self.first_id:
                return self.entries_added - self.length + 1
        return UNKNOWN

    def lag(self, group: Group) -> int | None:
        """streamReplyWithCGLag: entries not yet delivered to the group, None if unknown."""
        if not self.entries_added:
            return 0
        if group.entries_read != UNKNOWN and not self.has_tombstones_from(group.last_id):
            return self.entries_added - group.entries_read
        read = self.estimate_read(group.last_id)
        return None if read == UNKNOWN else self.entries_added - read

    def delivered(self, group: Group, i: int) -> None:
        """The group's last delivered ID moves to i (streamReplyWithRange's group update)."""
        if i > group.last_id:
            if group.entries_read != UNKNOWN and not self.has_tombstones_from(i):
                group.entries_read += 1
            elif self.entries_added:
                group.entries_read = self.estimate_read(i)
            group.last_id = i

    # -- introspection --------------------------------------------------------------------------

    def rax_nodes(self) -> int:
        """XINFO's radix-tree-nodes: the nodes of the compressed radix tree (rax) of the
        nodes' 16-byte big-endian master IDs, as Redis's rax builds it for these keys."""
        keys = [s.to_bytes(16, "big") for s in self.starts]
        if not keys:
            return 1

        def count(lo: int, hi: int, depth: int) -> int:
            if hi - lo == 1:
                return (1 if depth < 16 else 0) + 1
            a, b = keys[lo], keys[hi - 1]
            c = depth
            while a[c] == b[c]:
                c += 1
            total = (1 if c > depth else 0) + 1
            start = lo
            while start < hi:
                ch = keys[start][c]
                end = start + 1
                while end < hi and keys[end][c] == ch:
                    end += 1
                total += count(start, end, c + 1)
                start = end
            return total

        return count(0, len(keys), 0)


register_type(Stream, b"stream")


# -- snapshots (persistence/snapshot.py's record of a stream) ---------------------------------

def _id16(i: int) -> bytes:
    return i.to_bytes(16, "big")


def to_record(s: Stream) -> list:
    """A stream as msgpack-able lists, tombstones and consumer groups included (IDs as 16-byte
    big-endian strings: msgpack's integers stop at 64 bits)."""
    nodes = [[list(n.fields), b"".join(map(_id16, n.ids)), [list(e) for e in n.entries],
              bytes(n.alive)] for n in s.nodes]
    groups = []
    for name, g in s.groups.items():
        pel = [[_id16(i), n.delivery_time, n.delivery_count,
                n.consumer.name if n.consumer is not None else None] for i, n in g.pel.items()]
        consumers = [[c.name, c.seen_time] for c in g.consumers.values()]
        groups.append([name, _id16(g.last_id), g.entries_read, pel, consumers])
    return [_id16(s.last_id), _id16(s.first_id), _id16(s.max_deleted), s.entries_added, nodes,
            groups]


def from_record(data: list) -> Stream:
    last, first, max_deleted, entries_added, nodes, groups = data
    s = Stream()
    for fields, ids, entries, alive in nodes:
        ids = [int.from_bytes(ids[k:k + 16], "big") for k in range(0, len(ids), 16)]
        node = Node(ids[0], tuple(fields))
        for i, flat in zip(ids, entries):
            node.append(i, tuple(flat))
        node.alive[:] = alive
        node.live = sum(alive)
        node.deleted = len(alive) - node.live
        s.nodes.append(node)
        s.starts.append(ids[0])
        s.length += node.live
    s.last_id = int.from_bytes(last, "big")
    s.first_id = int.from_bytes(first, "big")
    s.max_deleted = int.from_bytes(max_deleted, "big")
    s.entries_added = entries_added
    for name, last_id, entries_read, pel, consumers in groups:
        g = s.groups[name] = Group(int.from_bytes(last_id, "big"), entries_read)
        for cname, seen in consumers:
            g.add_consumer(cname, seen)
        for i, when, count, owner in pel:
            i = int.from_bytes(i, "big")
            nack = Nack(when, g.consumers.get(owner) if owner is not None else None)
            nack.delivery_count = count
            g.pel[i] = nack
            if nack.consumer is not None:
                nack.consumer.pel[i] = nack
    return s


def copy_stream(s: Stream) -> Stream:
    """COPY's deep copy."""
    return from_record(to_record(s))
