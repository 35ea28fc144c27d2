"""The AOF writer: effects in, RESP appended to the current incremental file.

Theory of operation. Commands run in batches (all the complete commands of a read, on the event
loop; or one call of the embedded store). During a batch, `feed()` appends each write's effects
as RESP (`*N\\r\\n$len\\r\\n...`) to an in-memory buffer, preceded by a SELECT when the database
differs from the last one written to this file, and, with aof-timestamp-enabled, by a
`#TS:<unix seconds>` annotation line when the second changed (Redis's; loaders skip '#' lines).
The server logs a write whose effects are its own command, in that database, to `plain` instead;
when a whole batch was such writes, the read it was parsed from is its record (`log_batch`),
otherwise they are encoded. `flush()` runs once
per batch, BEFORE the batch's replies are sent: one `os.write` of the whole buffer, then, with
`appendfsync always`, one fsync. Every command and every client of the batch shares that fsync
(group commit), and no reply can leave before its effects are on disk. With `everysec` a
background thread fsyncs once a second when something was written (never on the loop); with `no`
the kernel decides.

Errors. A failed or short write (ENOSPC, EIO, ...) truncates the file back to its last good
size (so no half record is left in the middle of the log), keeps the buffer, and sets `error`
to the strerror text: the host then refuses write commands with Redis's
"MISCONF Errors writing to the AOF file: <strerror>" and INFO says aof_last_write_status:err.
Every later flush (and `retry()`, which the host calls from its cron) tries again; the first
write that succeeds clears the error.

Threads: `feed`/`flush`/`switch` run on the single writer (loop thread, or under the embedded
store's lock). The fsync thread only reads `fd` and a counter, and takes `_fd_lock` so it never
fsyncs a descriptor that `switch` is closing.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from operator import is_

# Indirection so tests can simulate a full disk or an I/O error.
_write = os.write
# fdatasync: the data and the file size, without the inode times nobody needs back.
_fsync = getattr(os, "fdatasync", os.fsync)

EVERYSEC_PERIOD = 1.0  # seconds between background fsyncs (appendfsync everysec)

_SELECT_CACHE: dict[int, bytes] = {}
_FMT2 = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_FMT3 = b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def select_record(db: int) -> bytes:
    rec = _SELECT_CACHE.get(db)
    if rec is None:
        d = b"%d" % db
        rec = _SELECT_CACHE[db] = b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(d), d)
    return rec


def encode_argvs(buf: bytearray, argvs: list[list[bytes]]) -> None:
    """Append `argvs` to `buf` as RESP arrays of bulk strings."""
    for argv in argvs:
        n = len(argv)
        # The common shapes (SET k v, DEL k, ...) in one formatting operation.
        if n == 3:
            a, b, c = argv
            buf += _FMT3 % (len(a), a, len(b), b, len(c), c)
        elif n == 2:
            a, b = argv
            buf += _FMT2 % (len(a), a, len(b), b)
        else:
            buf += b"*%d\r\n" % n
            buf += b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])


class AofWriter:
    """Appends to one incremental file at a time; see the module docstring."""

    def __init__(self, path: str, fsync: str = "everysec", timestamps: bool = False) -> None:
        self.policy = fsync
        self.timestamps = timestamps  # aof-timestamp-enabled
        self.stamped = 0  # the second of the last `#TS:` annotation (kept across files, as Redis)
        self.buf = bytearray()
        # Commands run in database `db` and logged after everything in `buf`, not yet encoded:
        # at the end of a server batch they become the very bytes they were read from, or RESP
        # (`log_batch`); any other record or a flush encodes them first (`_settle`).
        self.plain: list[list[bytes]] = []
        self.db = -1             # database of the last record in this file (-1: emit SELECT)
        self.error: str | None = None
        self.errno = 0
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        # Bytes written by this writer (all its files), and how many of them an fsync covers.
        # The loop thread advances `total`; `synced` is what `total` was when the last fsync
        # began, so bytes written while an fsync runs are never taken for synced.
        self.total = 0
        self.synced = 0
        self.last_fsync = time.monotonic()
        self.fsyncs = 0
        self._fd_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if fsync == "everysec":
            self._start_thread()

    # -- the batch ----------------------------------------------------------------------------

    def feed(self, db: int, argvs: list[list[bytes]]) -> None:
        """Buffer the effects of one write command run in database `db`."""
        if self.plain:
            self._settle()
        if self.timestamps:
            self._stamp()
        buf = self.buf
        if db != self.db:
            buf += select_record(db)
            self.db = db
        encode_argvs(buf, argvs)

    def log_batch(self, data: bytes | None, batch: list[list[bytes]]) -> None:
        """The end of a server batch: `batch`, its commands, were parsed from exactly `data`
        (or None). When every one of them, and nothing else, was logged plain since the last
        record, `data` is their log record: the same bytes re-encoding would give, or bytes
        that parse to the same commands (the 2 bytes after a bulk are skipped unread by hiredis,
        Redis and our loader alike). Otherwise the plain commands are encoded."""
        plain = self.plain
        if data is not None and len(plain) == len(batch) and all(map(is_, plain, batch)):
            if self.timestamps:
                self._stamp()
            self.buf += data
            plain.clear()
        elif plain:
            self._settle()

    def _settle(self) -> None:
        if self.timestamps:
            self._stamp()
        encode_argvs(self.buf, self.plain)
        self.plain.clear()

    def _stamp(self) -> None:
        """`#TS:<unix seconds>` before the next record if the second changed since the last one
        (Redis's genAofTimestampAnnotationIfNeeded): what redis-check-aof --truncate-to-timestamp
        cuts at. Loaders skip '#' lines."""
        now = int(time.time())
        if now > self.stamped:
            self.buf += b"#TS:%d\r\n" % now
            self.stamped = now

    def position(self) -> int:
        """The byte count `total` reaches once everything logged so far is written: what an
        fsync must cover for WAITAOF (`synced` >= it)."""
        if self.plain:
            self._settle()
        return self.total + len(self.buf)

    def revert(self, mark: int) -> None:
        """Drop what was logged since `position()` returned `mark`, if none of it is written
        yet (a script SHUTDOWN NOSAVE stopped: Redis never propagates its effects)."""
        if self.plain:
            self._settle()
        cut = mark - self.total
        if 0 <= cut <= len(self.buf):
            del self.buf[cut:]
            self.db = -1  # (a SELECT may have gone with it)

    @property
    def pending(self) -> bool:
        """Whether anything is logged but not written."""
        return bool(self.buf) or bool(self.plain)

    def flush(self, fsync: bool | None = None) -> bool:
        """Write the buffer with one write() (and fsync under `always`, or as `fsync` says).
        Returns False if the data could not be written (see `error`)."""
        if self.plain:
            self._settle()
        buf = self.buf
        if not buf:
            return self.error is None
        fd = self.fd
        start = self.size
        try:
            n = _write(fd, buf)
            while n < len(buf):  # a short write: the rest, or the error that caused it
                n += _write(fd, memoryview(buf)[n:])
        except OSError as exc:
            self._failed(exc, start)
            return False
        self.size = start + len(buf)
        self.total += len(buf)
        self.buf = bytearray()
        if fsync or (fsync is None and self.policy == "always"):
            try:
                _fsync(fd)
            except OSError as exc:
                self._failed(exc, None)
                return False
            self.fsyncs += 1
            self.synced = self.total
        if self.error is not None:
            self.error = None
            self.errno = 0
        return True

    def _failed(self, exc: OSError, start: int | None) -> None:
        self.errno = exc.errno or errno.EIO
        self.error = os.strerror(self.errno)
        if start is not None:
            # Never leave half a record in the log: cut back to the last complete one.
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass

    def retry(self) -> bool:
        """Called by the host's cron while in the error state."""
        return self.flush()

    # -- files --------------------------------------------------------------------------------

    def switch(self, path: str) -> None:
        """Continue in a new file (an AOF rewrite starts): the buffer goes to the old file,
        which is fsynced and closed, so everything before the switch is in the old files."""
        self.flush()
        with self._fd_lock:
            old = self.fd
            try:
                _fsync(old)
            except OSError:
                pass
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.close(old)
        self.path = path
        self.size = os.fstat(self.fd).st_size
        self.db = -1
        self.synced = self.total

    def fsync(self) -> None:
        with self._fd_lock:
            target = self.total
            if self.fd >= 0:
                _fsync(self.fd)
            self.synced = max(self.synced, target)
        self.fsyncs += 1
        self.last_fsync = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close (shutdown, Store.close)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()
        with self._fd_lock:
            if self.fd >= 0:
                try:
                    _fsync(self.fd)
                except OSError:
                    pass
                os.close(self.fd)
                self.fd = -1

    # -- everysec -----------------------------------------------------------------------------

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._fsync_loop, name="kvstore-aof-fsync",
                                         daemon=True)
        self._thread.start()

    def set_policy(self, policy: str) -> None:
        self.policy = policy
        if policy == "everysec" and self._thread is None:
            self._stop.clear()
            self._start_thread()

    def _fsync_loop(self) -> None:
        while not self._stop.wait(EVERYSEC_PERIOD):
            if self.policy != "everysec":
                continue
            if self.synced < self.total:
                try:
                    self.fsync()
                except OSError:
                    pass  # the next write reports the disk's state
