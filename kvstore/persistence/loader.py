"""Start-up and recovery: rebuild the keyspace from the AOF directory or from a snapshot.

Order: with appendonly yes, the manifest's base (a snapshot `.kvs`, a RESP `.aof`, or Redis's
RDB preamble), then each incremental file in manifest order; with appendonly no, the snapshot
`dbfilename`. An old-style single AOF (`dir/appendonly.aof`, Redis < 7) is first moved into the
AOF directory as its base, as Redis 7 does (`upgrade_old_aof`).

Replay is Redis's loading client. RESP commands run through the command table, so every effect
is re-applied by the handler that produced it; SELECT switches the replay's database; MULTI
queues the commands that follow until EXEC runs them, so a transaction is applied whole or not
at all. The clock stands at LOADING_NOW, before any time a TTL can hold: as in Redis, nothing
expires while loading (a PEXPIREAT in the past sets the TTL, later writes apply to the key) and
keys past their TTL go once loading ends, lazily or by the active cycle. Every writer logs
absolute times (EXPIRE as PEXPIREAT, SET EX as SET PXAT, RESTORE with ABSTTL); a command holding
a time relative to "now" (a hand-written file, Redis 6's RESTORE) runs on the real clock. Lines
starting with '#' are annotations (Redis's `#TS:<unix time>`, aof-timestamp-enabled): skipped.

Parsing. The fast path feeds the file to the RESP reply reader (`kvstore.protocol.make_reader`,
hiredis when installed) a chunk at a time. That reader cannot say at which byte a record ends, so
a file that does not end cleanly (checked by feeding a probe record after the last byte: a clean
file parses it alone), or that holds an annotation or a malformed record, is re-scanned by
`scan()`, a strict parser of the AOF's only shape (arrays of bulk strings) that knows offsets.
Records the fast path applied are complete by construction (the reader only returns complete
replies), so the re-scan continues from there: after an annotation, with a new fast pass;
otherwise record by record:

* a truncated last record of the last file (a crash mid-write), or a transaction its file does
  not finish: with aof-load-truncated yes, the file is cut back (to its last complete record, or
  to before the unfinished MULTI, so later appends are not swallowed by it) and a warning
  logged; with no, loading fails with Redis's "Unexpected end of file";
* anything else (garbage, a record cut short that is not at the end, an unknown command): loading
  fails with AofError naming the file and the byte offset of the bad record.
"""

from __future__ import annotations

import errno
import mmap
import os
from typing import Callable

from ..commands.table import COMMANDS, Context, lookup
from ..errors import CommandError
from ..protocol import make_reader
from . import manifest as mf
from . import snapshot
from .progress import Progress

_PROBE_ITEM = [b"__kvstore_probe__"]
_PROBE = b"*1\r\n$%d\r\n%s\r\n" % (len(_PROBE_ITEM[0]), _PROBE_ITEM[0])
LOADING_NOW = -(1 << 63)  # the replay's "now", ms: before every TTL, so none has passed
# Commands that may hold a time relative to "now" (see `_relative_time`): never run by the hot
# loop, which keeps the loading clock.
_CLOCKED = frozenset((b"expire", b"pexpire", b"setex", b"psetex", b"set", b"getex", b"restore"))

# Redis's texts (aof.c loadSingleAppendOnlyFile), then ours: where, and what to do.
_BAD_FORMAT = ("Bad file format reading the append only file {name} at offset {offset}: {reason}. "
               "Make a backup of your AOF file, then use kvstore-check-aof --fix <file> to "
               "truncate it to its last valid record")
_UNEXPECTED_EOF = (
    "Unexpected end of file reading the append only file {name} at offset {offset}: {reason}. "
    "You can: 1) Make a backup of your AOF file, then use kvstore-check-aof --fix <file>. "
    "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and "
    "restart the server")
_UNKNOWN_COMMAND = ("Unknown command '{reason}' reading the append only file {name} at offset "
                    "{offset}")
_MISSING = "Unable to obtain the AOF file {name} length. stat: {reason}"


class AofError(Exception):
    """An AOF that cannot be loaded: `path` and `offset` of the first bad record. The message is
    `text` (one of the templates above) filled in."""

    def __init__(self, path: str, offset: int, reason: str, text: str = _BAD_FORMAT) -> None:
        super().__init__(text.format(name=os.path.basename(path), offset=offset, reason=reason))
        self.path = path
        self.offset = offset
        self.reason = reason


class UnknownCommand(Exception):
    """A logged command the command table does not know: Redis refuses the file."""


# -- the strict scanner ------------------------------------------------------------------------

OK, TRUNCATED, BAD = "ok", "truncated", "bad"


def scan(buf, pos: int = 0, limit: int = -1, out: list | None = None) -> tuple[int, int, str]:
    """Walk records of `buf` (bytes or mmap) from `pos`, skipping '#' annotation lines. Returns
    (end, count, state): `end` is the offset after the last complete record or annotation
    (where a bad or truncated one starts), `count` how many complete records were walked,
    `state` OK / TRUNCATED / BAD. Stops after `limit` records if limit >= 0. Appends each argv
    to `out` if given. O(size)."""
    end = len(buf)
    find = buf.find
    count = 0
    while pos < end and count != limit:
        if buf[pos] != 42:  # '*'
            if buf[pos] != 35:  # '#'
                return pos, count, BAD
            r = find(b"\n", pos)  # an annotation line, skipped (a cut one is a torn write)
            if r < 0:
                return pos, count, TRUNCATED
            pos = r + 1
            continue
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

def _relative_time(name: bytes, argv: list) -> bool:
    """Whether `argv` (a known command, arity checked) holds a time counted from "now"."""
    if name == b"set" or name == b"getex":
        return any(a.lower() in (b"ex", b"px") for a in argv[3 if name == b"set" else 2:])
    if name == b"restore":
        return argv[2] != b"0" and b"absttl" not in [a.lower() for a in argv[4:]]
    return name in _CLOCKED


class _LoadingContext(Context):
    """An AOF's commands are obeyed as Redis's loading client's (Context.obeyed)."""

    __slots__ = ()
    obeyed = True


class Replayer:
    """Runs AOF commands against a keyspace through the command table, as Redis's loading client
    does (see the module docstring)."""

    def __init__(self, keyspace) -> None:
        self.ctx = _LoadingContext(keyspace, 0)
        self.ctx.now = LOADING_NOW
        self.clock = keyspace.clock
        # Commands the hot loop may run directly, by the name as logged.
        self.cache: dict[bytes, object] = {}
        self.queue: list | None = None  # the commands of an open MULTI, run by its EXEC

    def apply(self, argv: list) -> None:
        """Run one command, or queue it inside MULTI. Raises UnknownCommand, or CommandError for
        a wrong arity."""
        name = argv[0].lower()
        if name == b"exec":  # (without MULTI: an error reply in Redis, which changes nothing)
            queue, self.queue = self.queue or [], None
            for queued in queue:
                self._run(queued, queued[0].lower())
        elif name == b"multi":
            if self.queue is None:
                self.queue = []
        elif name != b"select" and COMMANDS.get(argv[0]) is None and COMMANDS.get(name) is None:
            raise UnknownCommand(argv[0].decode("utf-8", "replace"))
        elif self.queue is not None:
            if name != b"select":
                lookup(argv)  # a wrong arity refuses the file here, as outside a transaction
            self.queue.append(argv)
        else:
            self._run(argv, name)

    def _run(self, argv: list, name: bytes) -> None:
        ctx = self.ctx
        if name == b"select":
            ctx.select(int(argv[1]))
            return
        cmd = lookup(argv)
        ctx.effects = None
        if _relative_time(name, argv):
            ctx.now = self.clock()
        try:
            cmd.handler(ctx, argv)
        except CommandError:
            pass  # as in Redis: a command that failed when logged fails again, harmlessly
        finally:
            ctx.now = LOADING_NOW
        if name not in _CLOCKED and not cmd.subcommands and COMMANDS.get(name) is cmd:
            self.cache[argv[0]] = cmd


def replay_file(path: str, replayer: Replayer, last: bool, load_truncated: bool,
                warn: Callable[[str], None], progress: Progress | None = None) -> int:
    """Replay one RESP file. Returns the number of records read (MULTI, EXEC and SELECT
    included). Raises AofError."""
    progress = progress or Progress()
    replayer.queue = None  # a transaction never spans files (Redis: a new client per file)
    multi = [-1]  # index of the open MULTI's record
    start = done = 0  # where the current fast pass started: byte offset, records before it
    while True:
        n, clean = _fast_pass(path, start, done, replayer, multi, progress)
        done += n
        if clean:
            break
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            stop = scan(buf, start, n)[0]
            eol = buf.find(b"\n", stop) if stop < len(buf) and buf[stop] == 35 else -1
        if eol >= 0:  # an annotation line: a new fast pass after it
            start = eol + 1
            continue
        return _recover(path, replayer, done, multi, last, load_truncated, warn)
    if replayer.queue is not None:
        warn(f"Revert incomplete MULTI/EXEC transaction in AOF file {os.path.basename(path)}")
        replayer.queue = None
        _cut(path, _offset_of(path, multi[0]), "a MULTI without its EXEC", last, load_truncated,
             warn)
    return done


def _fast_pass(path: str, start: int, base: int, replayer: Replayer, multi: list,
               progress: Progress) -> tuple[int, bool]:
    """Replay from byte `start` (record `base`) with the RESP reader until the end or the first
    record it cannot take. Returns (records applied, whether the file ended cleanly)."""
    reader = make_reader()
    gets = reader.gets
    apply = replayer.apply
    cache = replayer.cache
    ctx = replayer.ctx
    in_multi = replayer.queue is not None
    done = 0
    paced = progress.paced
    try:
        with open(path, "rb") as f:
            f.seek(start)
            while True:
                chunk = f.read(progress.chunk)
                if not chunk:
                    break
                progress.loaded += len(chunk)
                progress.step()
                reader.feed(chunk)
                item = gets()
                # The hot loop (one iteration per logged command), kept flat on purpose: plain
                # SET key value goes straight to the engine (what the SET handler does for it),
                # a cached command with a good arity to its handler, anything else (and all
                # inside MULTI) to `apply`.
                while item is not False:
                    if type(item) is not list or not item:
                        raise ValueError("not a command")
                    name = item[0]
                    if not in_multi and len(item) == 3 and (name == b"SET" or name == b"set"):
                        db = ctx.db
                        db.data[item[1]] = item[2]
                        if db.expires:
                            db.expires.pop(item[1], None)
                    else:
                        cmd = cache.get(name)
                        arity = cmd.arity if cmd is not None else 0
                        if in_multi or cmd is None or (arity > 0 and len(item) != arity) or \
                                len(item) < -arity:
                            apply(item)
                            if in_multi != (replayer.queue is not None):
                                in_multi = not in_multi
                                multi[0] = base + done
                        else:
                            try:
                                cmd.handler(ctx, item)
                            except CommandError:
                                pass
                    done += 1
                    if paced:
                        progress.step()
                    item = gets()
        reader.feed(_PROBE)
        return done, gets() == _PROBE_ITEM and gets() is False
    except (CommandError, UnknownCommand) as exc:
        raise _refusal(path, base + done, exc) from None
    except Exception:  # noqa: BLE001 - an annotation or a malformed record: the scanner says
        return done, False


def _refusal(path: str, index: int, exc: Exception) -> AofError:
    offset = _offset_of(path, index)
    if isinstance(exc, UnknownCommand):
        return AofError(path, offset, str(exc), _UNKNOWN_COMMAND)
    return AofError(path, offset, str(exc))


def _offset_of(path: str, index: int) -> int:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return scan(buf, 0, index)[0]


def _recover(path: str, replayer: Replayer, done: int, multi: list, last: bool,
             load_truncated: bool, warn: Callable[[str], None]) -> int:
    """The slow path: exact offsets for a file the fast path could not finish cleanly."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        rest: list = []
        end, count, state = scan(buf, scan(buf, 0, done)[0], -1, rest)
    for argv in rest:
        was = replayer.queue is not None
        try:
            replayer.apply(argv)
        except (CommandError, UnknownCommand) as exc:
            raise _refusal(path, done, exc) from None
        if was != (replayer.queue is not None):
            multi[0] = done
        done += 1
    if state == BAD:
        raise AofError(path, end, "invalid record")
    if replayer.queue is not None:
        warn(f"Revert incomplete MULTI/EXEC transaction in AOF file {os.path.basename(path)}")
        replayer.queue = None
        end = _offset_of(path, multi[0])
    elif state == OK:
        return done
    _cut(path, end, "truncated record", last, load_truncated, warn)
    return done


def _cut(path: str, end: int, reason: str, last: bool, load_truncated: bool,
         warn: Callable[[str], None]) -> None:
    """An unexpected end of file at `end`: cut the file there, or refuse it."""
    if not last:
        raise AofError(path, end, reason + " in a file that is not the last one",
                       _UNEXPECTED_EOF)
    if not load_truncated:
        raise AofError(path, end, reason + " (aof-load-truncated is no)", _UNEXPECTED_EOF)
    name = os.path.basename(path)
    size = os.path.getsize(path)
    warn(f"!!! Warning: short read while loading the AOF file {name}!!! AOF loaded anyway "
         f"because aof-load-truncated is enabled; truncated from {size} to {end} bytes")
    os.truncate(path, end)


# -- whole directories -------------------------------------------------------------------------

def load_aof_dir(keyspace, directory: str, filename: str, load_truncated: bool = True,
                 warn: Callable[[str], None] = print,
                 progress: Progress | None = None) -> mf.Manifest | None:
    """Load base + incrs of `directory` into `keyspace`. Returns the manifest, or None if the
    directory has none (nothing loaded). Raises AofError, SnapshotError or ManifestError."""
    m = mf.read(directory, filename)
    if m is None:
        return None
    progress = progress or Progress()
    replayer = Replayer(keyspace)
    files = m.files()
    for entry in files:
        try:
            progress.total += os.path.getsize(os.path.join(directory, entry.name))
        except OSError:
            pass  # (a missing file is refused below)
    for i, entry in enumerate(files):
        path = os.path.join(directory, entry.name)
        if not os.path.exists(path):  # (Redis's getAppendOnlyFileSize: a fatal error)
            raise AofError(path, 0, os.strerror(errno.ENOENT), _MISSING)
        last = i == len(files) - 1
        # Keys past their TTL too: the incrs may write to them (as Redis loads its preamble).
        if entry.type == mf.BASE and entry.name.endswith(".kvs"):
            snapshot.apply(keyspace, snapshot.load(path, progress=progress), LOADING_NOW,
                           progress=progress)
        elif entry.type == mf.BASE and is_rdb(path):
            # Redis 7's base with an RDB preamble (its default): a directory moved from Redis
            import_rdb(keyspace, path, warn, progress, skip_expired=False)
        else:
            replay_file(path, replayer, last, load_truncated, warn, progress)
    keyspace.mark_saved()
    return m


def upgrade_old_aof(data_dir: str, directory: str, filename: str,
                    log: Callable[[str], None] = print) -> None:
    """Make an old-style single AOF (`data_dir/<filename>`, Redis < 7) the base of the AOF
    `directory`, as Redis 7 does on start (aofUpgradePrepare) when the directory has no manifest,
    one naming no file, or one naming only that base while it is still outside. The manifest is
    written before the file moves, so a crash between the two leaves a layout finished here on
    the next start."""
    old = os.path.join(data_dir, filename)
    if not os.path.isfile(old):
        return
    m = mf.read(directory, filename) if os.path.isdir(directory) else None
    if m is not None and (m.incrs or m.base is not None and (
            m.base.name != filename or os.path.exists(os.path.join(directory, filename)))):
        return
    os.makedirs(directory, exist_ok=True)
    mf.Manifest(filename, mf.Entry(filename, 1, mf.BASE)).write(directory)
    os.replace(old, os.path.join(directory, filename))
    snapshot.fsync_dir(directory)
    snapshot.fsync_dir(data_dir)
    log(f"Successfully migrated an old-style AOF file ({filename}) into the AOF directory "
        f"({os.path.basename(directory)}).")


def load_snapshot(keyspace, path: str, found: dict | None = None,
                  progress: Progress | None = None, log: Callable[[str], None] = print) -> int:
    """Load a snapshot file if it exists. Returns the number of keys loaded (`found`: as
    snapshot.apply's). A Redis RDB file there (a `dbfilename` naming one) is read as such."""
    if not os.path.exists(path):
        return 0
    if is_rdb(path):
        return import_rdb(keyspace, path, log)
    progress = progress or Progress()
    progress.total += os.path.getsize(path)
    n = snapshot.apply(keyspace, snapshot.load(path, progress=progress), found=found,
                       progress=progress)
    keyspace.mark_saved()
    return n


REDIS_RDB = "dump.rdb"


def is_rdb(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(5) == b"REDIS"


class RdbImportError(snapshot.SnapshotError):
    """A Redis RDB file that cannot be read: `reason` as Redis's loader words it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, 0, f"cannot import this RDB file: {reason}")
        self.reason = reason


def import_rdb(keyspace, path: str, log: Callable[[str], None] = print,
               progress: Progress | None = None, skip_expired: bool = True) -> int:
    """Load a Redis RDB file (what redis-server SAVEs as dump.rdb, or the RDB preamble of its
    AOF base) into an empty keyspace: the way in for an operator moving a Redis data directory
    to kvstore. Keys already expired are skipped, as a Redis master loading its file skips
    them (not with `skip_expired` False: an AOF's later records may write to them), and so are
    empty containers (with Redis's log lines: old versions could write them). Returns the
    number of keys loaded. Raises RdbImportError for a file we cannot read (a module type, a
    bad checksum, a corrupt value): nothing is loaded then."""
    from ..commands.functions import functions_of
    from ..engine.dump import PayloadFormatError, install, read_rdb_file

    with open(path, "rb") as f:
        data = f.read()
    try:
        tables, n, libraries, _, empty = read_rdb_file(
            data, keyspace, progress, now=keyspace.clock() if skip_expired else None)
        for code in libraries:
            functions_of(keyspace).load(code, replace=True)
    except (PayloadFormatError, CommandError) as exc:
        raise RdbImportError(path, str(exc)) from None
    install(keyspace, tables)
    keyspace.mark_saved()
    if empty:
        for key in empty[:10]:  # (Redis names the first ten)
            log(f"rdbLoadObject skipping empty key: {key.decode('utf-8', 'replace')}")
        log(f"Done loading RDB, keys loaded: {n}, empty keys skipped: {len(empty)}.")
    return n
