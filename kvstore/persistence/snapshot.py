"""Snapshots: the whole keyspace in one file (SAVE/BGSAVE's dbfilename, and the AOF's base).

File layout:

    b"KVSNAP" | version (2 bytes, big endian) | LZ4 frame of msgpack records | blake2b-64

Each record is the msgpack array `[db, key, type, data, expire_ms]`: `type` is Redis's RDB type
number (0 string, 1 list, 2 set, 3 zset, 4 hash, as in engine/rdb.py), `data` is the string's
bytes or a flat list (list elements; set members; hash field, value, ...; zset member, score, ...),
`expire_ms` the absolute expiry in ms since the epoch, or nil. A function library (FUNCTION
LOAD) is a record of db -1 and type FUNCTION_RECORD whose data is the library's code. A server's
SAVE/BGSAVE may start with a record of db -1 and type REPL_RECORD whose data is [replication ID,
offset, stream database] (Redis's repl-id / repl-offset / repl-stream-db aux fields): where the
data set is in a replication history, so that it can be continued after a restart. The
checksum covers every byte before it, so a torn or bit-flipped file is refused before a single
record is applied.

Encodings are not stored: like Redis's RDB loader, loading re-derives them (listpack / intset /
hashtable ...) from the thresholds in force.

Writing is crash-safe: the file is written as `temp-<pid>-<name>`, fsynced, renamed over the
target, and the directory is fsynced, so a reader sees either the old snapshot or the new one.
`dump` streams: it packs and compresses a chunk of records at a time, so it never holds a second
copy of the keyspace; `load` checks the checksum in one streaming pass, then decodes in a second,
yielding records one by one (both passes read the file in pieces of `Progress.chunk` bytes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
from typing import Callable, Iterator

import lz4.frame
import msgpack

from ..engine.dump import zset_type
from ..engine.rdb import T_HASH, T_LIST, T_SET, T_STREAM, T_STRING, T_ZSET
from ..engine.stream import Stream, from_record, to_record
from ..engine.values import Hash, List, Set
from .progress import Progress, debug_delay

# A function library's record (Redis's RDB opcode for one): [-1, name, FUNCTION_RECORD, code, nil].
FUNCTION_RECORD = 245
# The replication history the data set is at (Redis's RDB aux opcode): [-1, b"repl",
# REPL_RECORD, [replid, offset, stream db], nil].
REPL_RECORD = 250
MAGIC = b"KVSNAP"
VERSION = 1
HEADER = MAGIC + struct.pack(">H", VERSION)
CHECKSUM_BYTES = 8
# Records are packed into a buffer that is compressed and written once it passes this size: big
# enough that lz4 and write() costs are amortised, small enough to stay out of the way of memory.
CHUNK = 1 << 20  # bytes


class SnapshotError(Exception):
    """A snapshot that cannot be loaded: `path` and the byte `offset` where it went wrong."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"Bad snapshot file {path} at offset {offset}: {reason}")
        self.path = path
        self.offset = offset


def fsync_dir(path: str) -> None:
    """Make a rename or a new file in `path` durable (the directory entry itself)."""
    fd = os.open(path or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flatten(pairs) -> list:
    """[a1, b1, a2, b2, ...] from pairs: a hash's or a zset's record form."""
    flat: list = []
    append = flat.append
    for a, b in pairs:
        append(a)
        append(b)
    return flat


def iter_records(keyspace, now: int | None) -> Iterator[list]:
    """[db, key, type, data, expire] for every live key (keys already expired at `now` are
    skipped; with None, kept), after a [-1, library name, FUNCTION_RECORD, code, None] per
    function library."""
    functions = getattr(keyspace, "functions", None)
    if functions is not None:
        for lib in functions.libraries.values():
            yield [-1, lib.name.encode(), FUNCTION_RECORD, lib.code, None]
    zset_cls = zset_type()
    for db in keyspace.dbs:
        expires = db.expires
        for key, value in db.data.items():
            when = expires.get(key)
            if when is not None and now is not None and when < now:
                continue
            t = type(value)
            if t is bytes:
                yield [db.id, key, T_STRING, value, when]
            elif t is Hash:
                yield [db.id, key, T_HASH, flatten(value.items()), when]
            elif t is List:
                yield [db.id, key, T_LIST, list(value), when]
            elif t is Set:
                yield [db.id, key, T_SET, list(value), when]
            elif t is zset_cls:
                yield [db.id, key, T_ZSET, flatten(value.scores().items()), when]
            elif t is Stream:
                yield [db.id, key, T_STREAM, to_record(value), when]
            else:
                raise TypeError(f"cannot snapshot a {t.__name__}")


def dump(keyspace, path: str, now: int | None = None,
         repl: tuple[str, int, int] | None = None, delay_us: int = 0) -> int:
    """Write the keyspace's live keys to `path` atomically (and `repl`, the replication
    history the data set is at, if given). Returns the file size in bytes. O(n) time; memory:
    one CHUNK of packed records plus lz4's frame state. `delay_us`: rdb-key-save-delay, a
    wait at each key (Redis's debugging knob, to look at a save in progress)."""
    now = keyspace.clock() if now is None else now
    return write_replacing(path, lambda tmp: _write(keyspace, tmp, now, repl, delay_us))


def write_replacing(path: str, write: Callable[[str], int]) -> int:
    """`write(tmp)` to `temp-<pid>-<name>` beside `path`, then rename it over `path` and fsync
    the directory: a crash leaves the old file or the new one. Returns what `write` returns."""
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f"temp-{os.getpid()}-{name}")
    try:
        size = write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # no temp file left behind by a failed save
        raise
    fsync_dir(directory)
    return size


def _write(keyspace, tmp: str, now: int, repl: tuple[str, int, int] | None,
           delay_us: int) -> int:
    digest = hashlib.blake2b(digest_size=CHECKSUM_BYTES)
    comp = lz4.frame.LZ4FrameCompressor()
    pack = msgpack.Packer(use_bin_type=True).pack
    size = 0
    with open(tmp, "wb") as f:
        def out(data: bytes) -> None:
            nonlocal size
            if data:
                digest.update(data)
                f.write(data)
                size += len(data)

        out(HEADER)
        out(comp.begin())
        buf: list[bytes] = []
        held = 0
        if repl is not None:
            replid, offset, stream_db = repl
            buf.append(pack([-1, b"repl", REPL_RECORD, [replid.encode(), offset, stream_db],
                             None]))
        # With a history, the keys expired but not deleted yet are kept: no DEL for them is in
        # the stream before its offset, so they belong to the data set there (as in Redis's
        # files; a master loading the file deletes them with DELs in its stream).
        for record in iter_records(keyspace, now if repl is None else None):
            if delay_us:
                debug_delay(delay_us)
            b = pack(record)
            buf.append(b)
            held += len(b)
            if held >= CHUNK:
                out(comp.compress(b"".join(buf)))
                buf, held = [], 0
        out(comp.compress(b"".join(buf)))
        out(comp.flush())
        f.write(digest.digest())
        size += CHECKSUM_BYTES
        f.flush()
        os.fsync(f.fileno())
    return size


def verify(path: str, progress: Progress | None = None) -> None:
    """Raise SnapshotError unless `path` has our magic, a known version and a good checksum."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(len(HEADER))
        if head[: len(MAGIC)] != MAGIC:
            raise SnapshotError(path, 0, "not a kvstore snapshot (bad magic)")
        if len(head) < len(HEADER) or size < len(HEADER) + CHECKSUM_BYTES:
            raise SnapshotError(path, len(head), "file too short")
        version = struct.unpack(">H", head[len(MAGIC):])[0]
        if version != VERSION:
            raise SnapshotError(path, len(MAGIC), f"unsupported version {version}")
        digest = hashlib.blake2b(head, digest_size=CHECKSUM_BYTES)
        left = size - CHECKSUM_BYTES - len(HEADER)
        progress = progress or Progress()
        while left > 0:
            chunk = f.read(min(progress.chunk, left))
            if not chunk:
                break
            progress.step()
            digest.update(chunk)
            left -= len(chunk)
        if f.read(CHECKSUM_BYTES) != digest.digest():
            raise SnapshotError(path, size - CHECKSUM_BYTES, "checksum mismatch")


def load(path: str, check: bool = True, progress: Progress | None = None) -> Iterator[list]:
    """Yield the records of a snapshot, streaming. The checksum is verified first (unless
    `check` is False), so no record comes out of a corrupted file. `progress` counts the
    bytes read and steps after each chunk (between two records)."""
    progress = progress or Progress()
    if check:
        verify(path, progress)
    size = os.path.getsize(path)
    decomp = lz4.frame.LZ4FrameDecompressor()
    unpacker = msgpack.Unpacker(raw=True, use_list=True, strict_map_key=False)
    with open(path, "rb") as f:
        f.seek(len(HEADER))
        left = size - CHECKSUM_BYTES - len(HEADER)
        while left > 0:
            chunk = f.read(min(progress.chunk, left))
            left -= len(chunk)
            progress.loaded += len(chunk)
            progress.step()
            try:
                unpacker.feed(decomp.decompress(chunk))
            except RuntimeError as exc:
                raise SnapshotError(path, size - left, f"bad lz4 frame: {exc}") from None
            yield from unpacker


def apply(keyspace, records: Iterator[list], now: int | None = None,
          found: dict | None = None, progress: Progress | None = None) -> int:
    """Put records into the keyspace (keys already expired at `now` are skipped, unless the
    file records a replication history: see `_write`). Returns the number of keys loaded. The
    history, if the file has one, goes into `found` ("repl": (replid, offset, stream db)),
    with the number of keys skipped as expired ("expired")."""
    now = keyspace.clock() if now is None else now
    dbs = keyspace.dbs
    limits = keyspace.limits
    zset_cls = zset_type()
    n = 0
    expired = 0
    history = False
    paced = progress is not None and progress.paced
    for dbi, key, kind, data, when in records:
        if paced:
            progress.step()
        if when is not None and when < now and not history:
            expired += 1
            continue
        if kind == FUNCTION_RECORD:
            from ..commands.functions import functions_of

            functions_of(keyspace).load(data, replace=True)
            continue
        if kind == REPL_RECORD:
            if found is not None:
                found["repl"] = (data[0].decode("latin-1"), data[1], data[2])
            history = True  # (the first record)
            continue
        if kind == T_STRING:
            value: object = data
        elif kind == T_HASH:
            value = Hash()
            it = iter(data)
            value.update(zip(it, it))
            value.grew(limits, *data)
        elif kind == T_LIST:
            value = List(data)
        elif kind == T_SET:
            value = Set(data)
            value.grew(limits, *data)
        elif kind == T_ZSET:
            members = data[0::2]
            value = zset_cls.from_scores(dict(zip(members, data[1::2])))
            value.grew(limits, *members)
        elif kind == T_STREAM:
            value = from_record(data)
        else:
            raise ValueError(f"unknown record type {kind}")
        db = dbs[dbi]
        db.data[key] = value
        if when is not None:
            db.set_expire(key, when)
        n += 1
    if found is not None:
        found["expired"] = expired
    return n
