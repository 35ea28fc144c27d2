"""Start-up and recovery: rebuild the keyspace from the AOF directory or from a snapshot.

Order: with appendonly yes, the manifest's base (a snapshot `.kvs`, or a RESP `.aof`), then each
incremental file in manifest order; with appendonly no, the snapshot `dbfilename`. RESP commands
are replayed through the command table, with the real clock, so a PEXPIREAT in the past deletes
its key (nothing expired is resurrected) and every effect is re-applied by the same handler that
produced it. SELECT switches the replay's database; MULTI/EXEC are skipped (the commands between
them are replayed in order, which is the transaction's effect).

Parsing. The fast path feeds the file to the RESP reply reader (`kvstore.protocol.make_reader`,
hiredis when installed) a chunk at a time. That reader cannot say at which byte a record ends, so
a file that does not end cleanly (checked by feeding a probe record after the last byte: a clean
file parses it alone), or that holds a malformed record, is re-scanned by `scan()`, a strict
parser of the AOF's only shape (arrays of bulk strings) that knows offsets. Records the fast path
applied are complete by construction (the reader only returns complete replies), so the re-scan
continues from there:

* a truncated last record of the last file (a crash mid-write): with aof-load-truncated yes, the
  file is cut back to its last complete record and a warning logged; with no, loading fails;
* anything else (garbage, a record cut short that is not at the end, an unknown command): loading
  fails with AofError naming the file and the byte offset of the bad record.
"""

from __future__ import annotations

import mmap
import os
from typing import Callable

from ..commands.table import COMMANDS, Context, lookup
from ..errors import CommandError
from ..protocol import make_reader
from . import manifest as mf
from . import snapshot

READ_CHUNK = 1 << 20  # bytes per read() of an AOF file
_PROBE_ITEM = [b"__kvstore_probe__"]
_PROBE = b"*1\r\n$%d\r\n%s\r\n" % (len(_PROBE_ITEM[0]), _PROBE_ITEM[0])
_SKIP = (b"multi", b"exec")


class AofError(Exception):
    """An AOF that cannot be loaded: `path` and `offset` of the first bad record."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(
            f"Bad file format reading the append only file {os.path.basename(path)} at offset "
            f"{offset}: {reason}. Make a backup of your AOF file, then use "
            f"kvstore-check-aof --fix <file> to truncate it to its last valid record")
        self.path = path
        self.offset = offset
        self.reason = reason


# -- the strict scanner ------------------------------------------------------------------------

OK, TRUNCATED, BAD = "ok", "truncated", "bad"


def scan(buf, pos: int = 0, limit: int = -1, out: list | None = None) -> tuple[int, int, str]:
    """Walk records of `buf` (bytes or mmap) from `pos`. Returns (end, count, state): `end` is
    the offset after the last complete record (where a bad or truncated one starts), `count`
    how many complete records were walked, `state` OK / TRUNCATED / BAD. Stops after `limit`
    records if limit >= 0. Appends each argv to `out` if given. O(size)."""
    end = len(buf)
    find = buf.find
    count = 0
    while pos < end and count != limit:
        if buf[pos] != 42:  # '*'
            return pos, count, BAD
        r = find(b"\r\n", pos, pos + 24)
        if r < 0:
            return pos, count, TRUNCATED if end - pos < 24 else BAD
        try:
            n = int(buf[pos + 1 : r])
        except ValueError:
            return pos, count, BAD
        if n < 1:
            return pos, count, BAD
        p = r + 2
        argv = []
        for _ in range(n):
            if p >= end:
                return pos, count, TRUNCATED
            if buf[p] != 36:  # '$'
                return pos, count, BAD
            r = find(b"\r\n", p, p + 24)
            if r < 0:
                return pos, count, TRUNCATED if end - p < 24 else BAD
            try:
                ln = int(buf[p + 1 : r])
            except ValueError:
                return pos, count, BAD
            s = r + 2
            e = s + ln
            if ln < 0:
                return pos, count, BAD
            if e + 2 > end:  # (the 2 bytes after the data are skipped unread, as Redis does)
                return pos, count, TRUNCATED
            if out is not None:
                argv.append(buf[s:e])
            p = e + 2
        if out is not None:
            out.append(argv)
        pos = p
        count += 1
    return pos, count, OK


# -- replay ------------------------------------------------------------------------------------

class Replayer:
    """Runs AOF commands against a keyspace through the command table."""

    def __init__(self, keyspace) -> None:
        self.ctx = Context(keyspace, 0)
        self.clock = keyspace.clock
        self.cache: dict[bytes, object] = {}

    def apply(self, argv: list) -> None:
        """Run one command; raises CommandError for an unknown command or a wrong arity."""
        cmd = self.cache.get(argv[0])
        if cmd is None:
            name = argv[0].lower()
            if name == b"select":
                self.ctx.select(int(argv[1]))
                return
            if name in _SKIP:
                return
            cmd = lookup(argv)
            if not cmd.subcommands and COMMANDS.get(name) is cmd:
                self.cache[argv[0]] = cmd
        else:
            arity = cmd.arity
            if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
                lookup(argv)  # raises the arity error
        ctx = self.ctx
        ctx.now = self.clock()
        ctx.effects = None
        try:
            cmd.handler(ctx, argv)
        except CommandError:
            pass  # as in Redis: a command that failed when logged fails again, harmlessly


def replay_file(path: str, replayer: Replayer, last: bool, load_truncated: bool,
                warn: Callable[[str], None]) -> int:
    """Replay one RESP file. Returns the number of commands applied. Raises AofError."""
    reader = make_reader()
    gets = reader.gets
    apply = replayer.apply
    cache = replayer.cache
    ctx = replayer.ctx
    clock = replayer.clock
    done = 0
    clean = False
    try:
        with open(path, "rb") as f:
            while True:
                chunk = f.read(READ_CHUNK)
                if not chunk:
                    break
                reader.feed(chunk)
                # "Now" once per chunk: replaying one takes milliseconds, and expiry decisions
                # only need a clock that never runs ahead of the real one.
                ctx.now = clock()
                item = gets()
                # The hot loop (one iteration per logged command), kept flat on purpose: plain
                # SET key value goes straight to the engine (what the SET handler does for it),
                # a cached command with a good arity to its handler, anything else to `apply`.
                while item is not False:
                    if type(item) is not list or not item:
                        raise ValueError("not a command")
                    name = item[0]
                    if len(item) == 3 and (name == b"SET" or name == b"set"):
                        db = ctx.db
                        db.data[item[1]] = item[2]
                        if db.expires:
                            db.expires.pop(item[1], None)
                    else:
                        cmd = cache.get(name)
                        arity = cmd.arity if cmd is not None else 0
                        if cmd is None or (arity > 0 and len(item) != arity) or \
                                len(item) < -arity:
                            apply(item)
                        else:
                            try:
                                cmd.handler(ctx, item)
                            except CommandError:
                                pass
                    done += 1
                    item = gets()
        reader.feed(_PROBE)
        clean = gets() == _PROBE_ITEM and gets() is False
    except CommandError as exc:
        raise AofError(path, _offset_of(path, done), str(exc)) from None
    except Exception:  # noqa: BLE001 - a malformed record: the scanner says where
        clean = False
    if clean:
        return done
    return done + _recover(path, replayer, done, last, load_truncated, warn)


def _offset_of(path: str, index: int) -> int:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return scan(buf, 0, index)[0]


def _recover(path: str, replayer: Replayer, done: int, last: bool, load_truncated: bool,
             warn: Callable[[str], None]) -> int:
    """The slow path: exact offsets for a file the fast path could not finish cleanly."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return 0
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            pos = scan(buf, 0, done)[0]
            rest: list = []
            end, count, state = scan(buf, pos, -1, rest)
    applied = 0
    for argv in rest:
        try:
            replayer.apply(argv)
        except CommandError as exc:
            raise AofError(path, _offset_of(path, done + applied), str(exc)) from None
        applied += 1
    if state == BAD:
        raise AofError(path, end, "invalid record")
    if state == TRUNCATED:
        if not last:
            raise AofError(path, end, "truncated record in a file that is not the last one")
        if not load_truncated:
            raise AofError(path, end, "unexpected end of file (aof-load-truncated is no)")
        size = os.path.getsize(path)
        warn(f"!!! Warning: short read while loading the AOF file {os.path.basename(path)}!!! "
             f"AOF loaded anyway because aof-load-truncated is enabled; truncated from {size} "
             f"to {end} bytes")
        os.truncate(path, end)
    return applied


# -- whole directories -------------------------------------------------------------------------

def load_aof_dir(keyspace, directory: str, filename: str, load_truncated: bool = True,
                 warn: Callable[[str], None] = print) -> mf.Manifest | None:
    """Load base + incrs of `directory` into `keyspace`. Returns the manifest, or None if the
    directory has none (nothing loaded). Raises AofError, SnapshotError or ManifestError."""
    m = mf.read(directory, filename)
    if m is None:
        return None
    replayer = Replayer(keyspace)
    files = m.files()
    for i, entry in enumerate(files):
        path = os.path.join(directory, entry.name)
        if not os.path.exists(path):
            raise AofError(path, 0, "file named in the manifest does not exist")
        last = i == len(files) - 1
        if entry.type == mf.BASE and entry.name.endswith(".kvs"):
            snapshot.apply(keyspace, snapshot.load(path))
        else:
            replay_file(path, replayer, last, load_truncated, warn)
    keyspace.dirty = 0
    return m


def load_snapshot(keyspace, path: str) -> int:
    """Load a snapshot file if it exists. Returns the number of keys loaded."""
    if not os.path.exists(path):
        return 0
    n = snapshot.apply(keyspace, snapshot.load(path))
    keyspace.dirty = 0
    return n


REDIS_RDB = "dump.rdb"


def import_rdb(keyspace, path: str) -> int:
    """Load a Redis RDB file (what redis-server SAVEs as dump.rdb) into an empty keyspace: the
    way in for an operator moving a Redis data directory to kvstore. Keys already expired are
    skipped, as a Redis master loading its file skips them. Returns the number of keys loaded.
    Raises snapshot.SnapshotError for a file we cannot read (a stream or module type, a bad
    checksum): nothing is loaded then."""
    from ..commands.functions import functions_of
    from ..engine.dump import PayloadFormatError, read_rdb_file, store_keys

    with open(path, "rb") as f:
        data = f.read()
    try:
        keys, libraries = read_rdb_file(data, keyspace)
        for code in libraries:
            functions_of(keyspace).load(code, replace=True)
    except (PayloadFormatError, CommandError) as exc:
        raise snapshot.SnapshotError(f"{path}: cannot import this RDB file: {exc}") from None
    n = store_keys(keyspace, keys, keyspace.clock())
    keyspace.dirty = 0
    return n
