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
    if size <= 20 and s and s[0] in _INT_STARTS:
        n = _canonical_int(s)
        if n is not None:
            return _int_size(n)
    if size < 64:
        return size + 2  # a 1-byte header, a 1-byte back-length
    head = size + (2 if size < 4096 else 5)
    return head + _backlen_bytes(head)


_INT_STARTS = frozenset(b"-0123456789")


_SMALL_DELTAS = 128 << 64  # an ID difference whose ms part is at most 127


def _delta(a: int, b: int) -> int:
    """a - b as Redis stores an ID part's delta: uint64 arithmetic read as an int64 (the
    seq delta of 5-3 from 4-7 is -4; of the maximum ID from 0-0, -1)."""
    return (a - b + (1 << 63) & SEQ_MASK) - (1 << 63)


class Node:
    """One listpack of entries: IDs, flat field-value tuples, and which are still alive."""

    __slots__ = ("master", "master_ms", "master_seq", "small_seq", "fields", "ids", "entries",
                 "alive", "live", "deleted", "body", "ordered")

    def __init__(self, master: int, fields: tuple) -> None:
        self.master = master
        self.master_ms = master >> 64
        self.master_seq = master & SEQ_MASK
        self.small_seq = self.master_seq < SEQ_MASK - 126
        self.fields = fields          # the master entry's field names
        self.ids: list[int] = []
        # Each entry's flat (field, value, ...) tuple; or, for the commonest shape, one field
        # that is the node's only master field, the value alone (`flat` rebuilds the tuple):
        # a tuple less per entry (about 56 bytes).
        self.entries: list[tuple | bytes] = []
        self.alive = bytearray()
        self.live = 0
        self.deleted = 0
        # Whether `ids` is sorted, so bisectable. An XSETID below deleted tail entries lets a
        # smaller ID follow them, as in Redis's listpack; live entries stay in order anyway.
        self.ordered = True
        # listpack bytes but the live and deleted counters and the 7-byte header and end
        self.body = _int_size(len(fields)) + sum(map(_str_size, fields)) + _int_size(0)

    @property
    def nbytes(self) -> int:
        live, deleted = self.live, self.deleted  # (small counts: 2 bytes each, tested inline)
        return 7 + self.body + (2 if live <= 127 else _int_size(live)) \
            + (2 if deleted <= 127 else _int_size(deleted))

    def append(self, i: int, flat: tuple) -> None:
        """Add an entry: flags, the ID's two deltas from the master ID, the values alone when
        the field names are the master's (else the count, fields and values), the item count.
        Small integers take 2 bytes, the usual case, tested first on the ID's difference from
        the master's: both parts in 0..127 (no borrow from the ms part is possible unless the
        master's seq is within 127 of the maximum, `small_seq` False)."""
        d = i - self.master
        if 0 <= d < _SMALL_DELTAS and d & SEQ_MASK <= 127 and self.small_seq:
            size = 6  # flags, ms delta, seq delta
        else:
            d_ms = _delta(i >> 64, self.master_ms)
            d_seq = _delta(i & SEQ_MASK, self.master_seq)
            size = 2 + (2 if 0 <= d_ms <= 127 else _int_size(d_ms)) \
                + (2 if 0 <= d_seq <= 127 else _int_size(d_seq))
        n = len(flat) // 2
        fields = self.fields
        if flat[0::2] == fields:
            size += sum(map(_str_size, flat[1::2])) + (2 if n <= 124 else _int_size(n + 3))
            # the master's field names, not equal copies: 30-40 bytes less per field
            flat = flat[1] if n == 1 else \
                tuple(x for pair in zip(fields, flat[1::2]) for x in pair)
        else:
            size += _int_size(n) + sum(map(_str_size, flat)) + _int_size(2 * n + 4)
        self.body += size
        if self.ids and i <= self.ids[-1]:
            self.ordered = False
        self.ids.append(i)
        self.entries.append(flat)
        self.alive.append(1)
        self.live += 1

    def flat(self, k: int) -> tuple:
        e = self.entries[k]
        return e if type(e) is tuple else (self.fields[0], e)


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

    def append(self, i: int, flat: tuple, size: int, max_bytes: int, max_entries: int) -> None:
        """Add an entry whose ID is past `last_id` (streamAppendItem), `size` the bytes of its
        fields and values: into the tail node, or a new one when the tail holds max_entries
        (live and deleted) or would reach max_bytes."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            if max_bytes == 0 or max_bytes > LISTPACK_MAX_SIZE:
                max_bytes = LISTPACK_MAX_SIZE
            if node.nbytes + size >= max_bytes:
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

    def _locate(self, i: int) -> tuple[int, int] | None:
        """(node index, entry index) of the live entry i, or None."""
        n = bisect_right(self.starts, i) - 1
        if n < 0:
            return None
        node = self.nodes[n]
        ids = node.ids
        if not node.ordered:
            alive = node.alive
            return next(((n, k) for k in range(len(ids)) if ids[k] == i and alive[k]), None)
        k = bisect_left(ids, i)
        if k < len(ids) and ids[k] == i and node.alive[k]:
            return n, k
        return None

    def get(self, i: int) -> tuple | None:
        found = self._locate(i)
        return None if found is None else self.nodes[found[0]].flat(found[1])

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
                k = bisect_left(ids, start) if node.ordered and ids[0] < start else 0
                alive = node.alive
                entries = node.entries
                while k < len(ids):
                    if alive[k]:  # (a tombstone may be out of order: never compared)
                        i = ids[k]
                        if i > end:
                            return out
                        if i >= start:
                            e = entries[k]
                            out.append((i, e if type(e) is tuple else (node.fields[0], e)))
                            if len(out) == count:
                                return out
                    k += 1
                n += 1
        else:
            n = bisect_right(self.starts, end) - 1
            while n >= 0:
                node = nodes[n]
                ids = node.ids
                k = bisect_right(ids, end) - 1 if node.ordered else len(ids) - 1
                alive = node.alive
                entries = node.entries
                while k >= 0:
                    if alive[k]:
                        i = ids[k]
                        if i < start:
                            return out
                        if i <= end:
                            e = entries[k]
                            out.append((i, e if type(e) is tuple else (node.fields[0], e)))
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
        n, k = found
        node = self.nodes[n]
        if node.live == 1:
            self._drop_node(n)
        else:
            node.alive[k] = 0
            node.live -= 1
            node.deleted += 1
        self.length -= 1
        if i > self.max_deleted:
            self.max_deleted = i
        if i == self.first_id or not self.length:
            self._first_moved()
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
            self._first_moved()
        return removed

    def _first_moved(self) -> None:
        """first_id after entries went from the head: the first live one, 0 when empty."""
        self.first_id = self.first_entry()[0] if self.length else 0

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
    nodes = [[list(n.fields), b"".join(map(_id16, n.ids)), [list(n.flat(k)) for k in range(len(n.ids))],
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


# -- RDB (DUMP / RESTORE, SYNC): RDB_TYPE_STREAM_LISTPACKS_2 and its siblings -----------------

T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, T_STREAM_LISTPACKS_3 = 15, 19, 21
_DELETED, _SAMEFIELDS = 1, 2


def _node_listpack(node: Node) -> bytes:
    """The node's listpack byte for byte as Redis holds it: the master entry, then each entry
    (deleted ones flagged), delta-encoded from the master ID."""
    from .rdb import _listpack, _lp_entry

    def num(n: int) -> bytes:
        return _lp_entry(b"%d" % n)

    fields = node.fields
    items = [num(node.live), num(node.deleted), num(len(fields))]
    items += map(_lp_entry, fields)
    items.append(num(0))
    master_ms, master_seq = node.master_ms, node.master_seq
    for k, (i, alive) in enumerate(zip(node.ids, node.alive)):
        flat = node.flat(k)
        n = len(flat) // 2
        same = flat[0::2] == fields
        items += (num((0 if alive else _DELETED) | (_SAMEFIELDS if same else 0)),
                  num(_delta(i >> 64, master_ms)), num(_delta(i & SEQ_MASK, master_seq)))
        if same:
            items += map(_lp_entry, flat[1::2])
            items.append(num(n + 3))
        else:
            items.append(num(n))
            items += map(_lp_entry, flat)
            items.append(num(2 * n + 4))
    return _listpack(items, len(items))


def rdb_object(s: Stream) -> bytes:
    """The stream as Redis 7.0 saves it (rdbSaveObject), type byte first."""
    from .rdb import _length, _string

    def stream_id(i: int) -> bytes:
        return _length(i >> 64) + _length(i & SEQ_MASK)

    out = [bytes((T_STREAM_LISTPACKS_2,)), _length(len(s.nodes))]
    for node in s.nodes:
        out.append(_string(_id16(node.master)))
        out.append(_string(_node_listpack(node)))
    out += [_length(s.length), stream_id(s.last_id), stream_id(s.first_id),
            stream_id(s.max_deleted), _length(s.entries_added), _length(len(s.groups))]
    for name, g in sorted(s.groups.items()):
        out += [_string(name), stream_id(g.last_id), _length(g.entries_read & SEQ_MASK),
                _length(len(g.pel))]
        for i, nack in g.pel.items():
            out += [_id16(i), nack.delivery_time.to_bytes(8, "little", signed=True),
                    _length(nack.delivery_count)]
        out.append(_length(len(g.consumers)))
        for cname, c in sorted(g.consumers.items()):
            out += [_string(cname), c.seen_time.to_bytes(8, "little", signed=True),
                    _length(len(c.pel))]
            out += map(_id16, c.pel)
    return b"".join(out)


def _node_from_listpack(master: int, blob: bytes) -> Node:
    """Rebuild a node from its listpack, checking every count, flag and ID (a payload may be
    hostile): RdbFormatError on anything Redis would not have written."""
    from .rdb import RdbFormatError, listpack_items

    items = listpack_items(blob)

    def num(k: int) -> int:
        if k >= len(items):
            raise RdbFormatError("truncated stream listpack")
        n = _canonical_int(items[k])
        if n is None:
            raise RdbFormatError("stream listpack integer expected")
        return n

    live, deleted, nfields = num(0), num(1), num(2)
    if nfields < 1 or 3 + nfields >= len(items) or num(3 + nfields) != 0:
        raise RdbFormatError("bad stream master entry")
    node = Node(master, tuple(items[3:3 + nfields]))
    k = 4 + nfields
    previous = -1
    while k < len(items):
        flags, ms, seq = num(k), num(k + 1), num(k + 2)
        k += 3
        if flags & ~(_DELETED | _SAMEFIELDS):
            raise RdbFormatError("bad stream entry flags")
        if flags & _SAMEFIELDS:
            n = nfields
            values = items[k:k + n]
            flat = tuple(x for pair in zip(node.fields, values) for x in pair)
            k += n
            count = n + 3
        else:
            n = num(k)
            k += 1
            flat = tuple(items[k:k + 2 * n])
            k += 2 * n
            count = 2 * n + 4
        if n < 1 or len(flat) != 2 * n or num(k) != count:
            raise RdbFormatError("bad stream entry")
        k += 1
        i = ((master >> 64) + ms & SEQ_MASK) << 64 | ((master & SEQ_MASK) + seq & SEQ_MASK)
        # Live IDs increase; a tombstone may precede smaller IDs (after an XSETID below it).
        if i < master or (not flags & _DELETED and i <= previous):
            raise RdbFormatError("stream entry IDs out of order")
        if not flags & _DELETED:
            previous = i
        node.append(i, flat)
        if flags & _DELETED:
            node.alive[-1] = 0
            node.live -= 1
            node.deleted += 1
    if not node.ids or node.live != live or node.deleted != deleted or not node.live:
        raise RdbFormatError("stream node counts mismatch")
    return node


def _last_live(node: Node) -> int:
    """The ID of a node's last entry not deleted (a loaded node has one)."""
    return node.ids[node.alive.rindex(1)]


def from_rdb(r, t: int) -> Stream:
    """A stream from an RDB reader (engine.rdb._Reader) past its type byte: types 15, 19
    (Redis 7.0) and 21 (7.2, with consumers' active time)."""
    from .rdb import RdbFormatError

    def stream_id() -> int:
        ms, seq = r.count(), r.count()
        if ms > SEQ_MASK or seq > SEQ_MASK:
            raise RdbFormatError("stream ID out of range")
        return ms << 64 | seq

    s = Stream()
    for _ in range(r.count()):
        key = r.string()
        if len(key) != 16:
            raise RdbFormatError("Stream node key entry is not the size of a stream ID")
        master = int.from_bytes(key, "big")
        try:
            node = _node_from_listpack(master, r.string())
        except RdbFormatError:  # (what any fault of a node is to Redis's loader)
            raise RdbFormatError("Stream listpack integrity check failed.") from None
        if node.ids[0] != master or (s.nodes and master <= _last_live(s.nodes[-1])):
            raise RdbFormatError("stream nodes out of order")
        s.nodes.append(node)
        s.starts.append(master)
    length = r.count()
    if length != sum(n.live for n in s.nodes):
        raise RdbFormatError("stream length mismatch")
    s.length = length
    s.last_id = stream_id()
    # (Deleted entries may lie past it: Redis's XSETID may go below them.)
    if s.nodes and s.last_id < _last_live(s.nodes[-1]):
        raise RdbFormatError("stream last ID before its last entry")
    if t >= T_STREAM_LISTPACKS_2:
        s.first_id = stream_id()
        s.max_deleted = stream_id()
        s.entries_added = r.count()
    else:
        first = s.first_entry()
        s.first_id = first[0] if first else 0
        s.entries_added = length
    for _ in range(r.count()):
        name = r.string()
        last = stream_id()
        if t >= T_STREAM_LISTPACKS_2:
            read = r.count()
            entries_read = UNKNOWN if read == SEQ_MASK else read
        else:
            entries_read = s.estimate_read(last)
        if name in s.groups:
            raise RdbFormatError("Duplicated consumer group name")
        g = s.groups[name] = Group(last, entries_read)
        for _ in range(r.count()):
            i = int.from_bytes(r.take(16), "big")
            nack = Nack(int.from_bytes(r.take(8), "little", signed=True), None)
            nack.delivery_count = r.count()
            if i in g.pel:
                raise RdbFormatError("Duplicated global PEL entry")
            g.pel[i] = nack
        for _ in range(r.count()):
            cname = r.string()
            if cname in g.consumers:
                raise RdbFormatError("Duplicate stream consumer detected.")
            c = g.add_consumer(cname, int.from_bytes(r.take(8), "little", signed=True))
            if t >= T_STREAM_LISTPACKS_3:
                r.take(8)  # active time (Redis 7.2): not kept
            for _ in range(r.count()):
                i = int.from_bytes(r.take(16), "big")
                nack = g.pel.get(i)
                if nack is None or nack.consumer is not None:
                    raise RdbFormatError("Consumer entry not found in group global PEL")
                nack.consumer = c
                c.pel[i] = nack
        if any(n.consumer is None for n in g.pel.values()):
            raise RdbFormatError("Stream CG PEL entry without consumer")
    return s
