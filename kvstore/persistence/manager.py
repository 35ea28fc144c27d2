"""Persistence for one keyspace: the AOF directory, snapshots, rewrites, save rules, the lock.

Theory of operation. One `Persistence` belongs to one host (the server's event loop, or the
embedded store under its lock); every method except the reaper threads' runs on that single
writer. The host calls, in order:

* `start()`: lock `dir` (fcntl.flock on `dir/kvstore.lock`: a second process gets "directory is
  locked by another process"), load (AOF directory when appendonly, else the snapshot), then open
  the current incremental file. An `exclusive` host (the embedded store) holds the lock from
  start to close; the server takes it only with an AOF (at start, or when CONFIG SET appendonly
  yes opens one), because two processes appending to one AOF would interleave their records,
  while snapshots go to a temp file renamed into place: servers sharing a directory without an
  AOF overwrite each other's snapshots, as redis-servers sharing one overwrite dump.rdb;
* per write command: `feed(db, effects)`; per batch, before the replies go out: `flush()`;
* about every CRON_MS: `cron()` (flush buffered expiry DELs, retry after a write error, save
  rules, automatic AOF rewrite);
* `close()` at shutdown: flush, fsync, release the lock.

Rewrite (BGREWRITEAOF, or automatic when the AOF has grown by auto-aof-rewrite-percentage over
its size after the last rewrite and is above auto-aof-rewrite-min-size):
1. the writer switches to a NEW incremental file (everything before is flushed and fsynced in
   the old ones), and the manifest becomes old base + old incrs + new incr, so a crash from here
   on still loads everything;
2. a forked child writes the keyspace (copy-on-write: the state at the switch) as the new base,
   while the parent goes on serving and logging to the new incr;
3. when the child exits 0, the parent renames the base into place, switches the manifest to
   new base + new incr, and deletes the old files. If the child fails (or is killed), its temp
   file is deleted and the manifest of step 1 stays: nothing is lost.
BGSAVE forks the same way to write `dbfilename`. A child is reaped by a thread blocked in
waitpid, which hands the result to the host's `run_later` (never blocking the loop).
"""

from __future__ import annotations

import fcntl
import gc
import os
import threading
import time
from typing import Any, Callable

from . import loader, resp_base, snapshot
from . import manifest as mf
from .aof import AofWriter
from .progress import Progress

CRON_MS = 100
LOCK_NAME = "kvstore.lock"
BGSAVE_RETRY_SECS = 5  # after a failed BGSAVE, save rules wait this long (Redis: 5 s)
MISCONF_AOF = "MISCONF Errors writing to the AOF file: %s"
DEFAULTS: dict[str, Any] = {
    "appendonly": False, "appendfsync": "everysec", "appendfilename": "appendonly.aof",
    "appenddirname": "appendonlydir", "dbfilename": "dump.kvs", "save": [],
    "aof-load-truncated": True, "auto-aof-rewrite-percentage": 100,
    "auto-aof-rewrite-min-size": 64 * 1024 * 1024, "aof-timestamp-enabled": False,
    "rdb-key-save-delay": 0, "aof-use-rdb-preamble": True,
}


# The process's forks, for INFO stats' total_forks and latest_fork_usec (CONFIG RESETSTAT
# zeroes both, as Redis's).
fork_stats = {"total": 0, "latest_usec": 0}


def fork_job(job: Callable[[], Any], setup: Callable[[], None] | None = None) -> int:
    """Run `job` in a forked child (copy-on-write: the data as it is now), which exits 0 if the
    job returned; `setup` first (the server's: the child's title and OOM score). Returns the
    child's pid; `reap_child` waits for it."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: the job, then leave without running any parent cleanup
        code = 1
        try:
            if setup is not None:
                setup()
            job()
            code = 0
        finally:
            os._exit(code)
    fork_stats["latest_usec"] = int((time.perf_counter() - start) * 1e6)
    fork_stats["total"] += 1
    return pid


def reap_child(pid: int, exited: Callable[[bool], None]) -> None:
    """Wait for child `pid` in a thread, which then calls `exited(ok)` (the caller hands it to
    its loop)."""

    def reap() -> None:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # reaped by someone else (close(wait=False))
            return
        exited(os.waitstatus_to_exitcode(status) == 0)

    threading.Thread(target=reap, name=f"kvstore-reap-{pid}", daemon=True).start()


class PersistenceError(Exception):
    pass


class Persistence:
    def __init__(self, keyspace, directory: str, options: dict | None = None,
                 log: Callable[[str], None] = print,
                 run_later: Callable[[Callable[[], None]], None] | None = None,
                 exclusive: bool = True) -> None:
        self.ks = keyspace
        self.exclusive = exclusive
        self.dir = os.path.abspath(directory)
        # Where snapshots go: `dir` at first, then the server's CONFIG SET dir (the AOF and the
        # lock stay in `dir`: an open AOF cannot move)
        self.snapshot_dir = self.dir
        self.opt = dict(DEFAULTS)
        self.opt.update(options or {})
        self.log = log
        self.run_later = run_later or (lambda fn: fn())
        self.writer: AofWriter | None = None
        self.manifest: mf.Manifest | None = None
        self.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.last_bgsave_try = 0.0
        self.last_rewrite_ok = True
        self.rewrite_failures = 0  # in a row (INFO aof_rewrites_consecutive_failures)
        self._retry_minutes = 0  # `_rewrite_limited`'s
        self._retry_at = 0.0
        self.rewrite_base_size = 0
        self.child: tuple[str, int, float] | None = None  # (kind, pid, start time)
        # Run first in each child, with its kind ("bgsave" or "aof"): the server's (process.py)
        self.child_setup: Callable[[str], None] | None = None
        # CONFIG SET appendonly yes until its first rewrite is done (Redis's AOF_WAIT_REWRITE):
        # the AOF is on, but the files on disk are still the old ones (`enable_aof`)
        self.aof_starting = False
        self.rewrite_scheduled = False
        self.bgsave_scheduled = False
        self.saves = self.rewrites = 0
        self.last_child_secs: dict[str, int] = {}  # kind -> how long its last child ran
        self.loaded_keys = 0
        self.unsaved_at_bgsave = 0
        self.bgsave_path = ""  # where the BGSAVE child writes (its temp file beside it)
        # EXEC runs (server/states.py): a fork now would take the data set in the middle of the
        # transaction, whose writes are then logged after the fork too (applied twice on load),
        # so BGSAVE, BGREWRITEAOF and the AOF's first rewrite are scheduled instead, as in Redis.
        self.in_exec = False
        self.flush_sleep_us = 0
        self._lock_fd = -1
        self.group: Any = None  # group.GroupCommit, installed by the server
        self.on_state_change: Callable[[], None] = lambda: None
        # Sends every reply held for the AOF (the server's outbox.drain): called before the
        # AOF closes, so that none is overtaken by replies sent once it is gone
        self.drain_replies: Callable[[], None] = lambda: None
        # The replication history the data set is at, for SAVE/BGSAVE's file (installed by the
        # server), and the one the loaded snapshot had
        self.repl_history: Callable[[], tuple[str, int, int] | None] = lambda: None
        self.loaded_history: tuple[str, int, int] | None = None
        self.loaded_expired = 0  # keys found expired at load, and dropped

    # -- paths ---------------------------------------------------------------------------------

    @property
    def aof_dir(self) -> str:
        return os.path.join(self.dir, self.opt["appenddirname"])

    @property
    def snapshot_path(self) -> str:
        return os.path.join(self.snapshot_dir, self.opt["dbfilename"])

    # -- start / stop --------------------------------------------------------------------------

    def start(self, progress: Progress | None = None) -> None:
        """Lock the directory, load the data, open the AOF. Raises PersistenceError,
        loader.AofError, snapshot.SnapshotError; and LoadingStopped from `progress`."""
        os.makedirs(self.dir, exist_ok=True)
        if self.exclusive or self.opt["appendonly"]:
            self._lock()
        t0 = time.perf_counter()
        # The cyclic GC would traverse every container loaded so far, again and again as the
        # heap grows (8 full collections in a load of 1M hashes, a quarter of its time), and a
        # load makes no cycles: it is off meanwhile.
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            if self.opt["appendonly"]:
                loader.upgrade_old_aof(self.dir, self.aof_dir, self.opt["appendfilename"],
                                       self.log)
            # A directory with no data of ours but Redis's dump.rdb: import it once (the AOF
            # base or a snapshot written right after holds it from then on).
            rdb_path = os.path.join(self.dir, loader.REDIS_RDB)
            fresh = not os.path.exists(self.aof_dir) and not os.path.exists(self.snapshot_path)
            imported = None
            if fresh and self.snapshot_path != rdb_path and os.path.exists(rdb_path):
                imported = loader.import_rdb(self.ks, rdb_path, self.log)
                self.log(f"Imported {imported} keys from Redis's {loader.REDIS_RDB}")
            if self.opt["appendonly"]:
                self._remove_temp_files()
                m = loader.load_aof_dir(self.ks, self.aof_dir, self.opt["appendfilename"],
                                        self.opt["aof-load-truncated"], self.log, progress)
                if m is None and os.path.exists(self.snapshot_path):
                    loader.load_snapshot(self.ks, self.snapshot_path, progress=progress,
                                         log=self.log)
                self.manifest = m
                self._open_aof()
            else:
                found: dict = {}
                loader.load_snapshot(self.ks, self.snapshot_path, found, progress, self.log)
                self.loaded_history = found.get("repl")
                self.loaded_expired = found.get("expired", 0)
                if imported is not None:
                    self._dump(self.snapshot_path)
        finally:
            if gc_was_on:
                gc.enable()
        keys = self.loaded_keys = sum(len(db) for db in self.ks.dbs)
        self.log(f"DB loaded from disk: {time.perf_counter() - t0:.3f} seconds ({keys} keys)")
        self.ks.expired_listeners.append(self._expired)

    def _remove_temp_files(self) -> None:
        """A crash mid-rewrite leaves its temp files (a partial base, a first rewrite's temp
        incr): no manifest lists them, and under the lock no other process writes them."""
        try:
            names = os.listdir(self.aof_dir)
        except FileNotFoundError:
            return
        for name in names:
            if name.startswith("temp-"):
                _unlink(os.path.join(self.aof_dir, name))

    def _lock(self) -> None:
        fd = os.open(os.path.join(self.dir, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise PersistenceError(
                f"{self.dir}: directory is locked by another process") from None
        self._lock_fd = fd

    def _open_aof(self) -> None:
        """Open the current incr; create base + incr + manifest on first use."""
        os.makedirs(self.aof_dir, exist_ok=True)
        m = self.manifest
        if m is None or m.base is None and not m.incrs:
            m = mf.Manifest(self.opt["appendfilename"])
            base = m.next_base(self._base_ext())
            self.log(f"Creating AOF base file {base.name} on server start")
            self._write_base(os.path.join(self.aof_dir, base.name))
            m.base = base
            m.incrs = [m.next_incr()]
            self.log(f"Creating AOF incr file {m.incrs[0].name} on server start")
            m.write(self.aof_dir)
            self.manifest = m
        elif not m.incrs:
            m.incrs = [m.next_incr()]
            self.log(f"Creating AOF incr file {m.incrs[0].name} on server start")
            m.write(self.aof_dir)
        self.writer = AofWriter(os.path.join(self.aof_dir, m.incrs[-1].name),
                                self.opt["appendfsync"], self.opt["aof-timestamp-enabled"])
        self.rewrite_base_size = self.aof_size()

    def start_cron_thread(self, lock) -> None:
        """For the embedded store (no event loop): run `cron` under `lock` every CRON_MS."""
        self._cron_stop = threading.Event()

        def loop() -> None:
            while not self._cron_stop.wait(CRON_MS / 1000.0):
                with lock:
                    if self.writer is not None or self.opt["save"]:
                        self.cron()

        self._cron_thread = threading.Thread(target=loop, name="kvstore-persist", daemon=True)
        self._cron_thread.start()

    def close(self, wait: bool = True) -> None:
        """Flush, fsync, unlock. A running child is waited for (`wait`, the embedded store: its
        work is not lost) or killed (the server's shutdown, as Redis does)."""
        stop = getattr(self, "_cron_stop", None)
        if stop is not None:
            stop.set()
            self._cron_thread.join()
        self.aof_starting = False  # (a first rewrite killed here is not tried again)
        if wait:
            self.wait_child()
        elif self.child is not None:
            if self.child[0] == "bgsave":
                self.log("There is a child saving an .rdb. Killing it!")
                self._stop_bgsave()
            else:
                self.log("There is a child rewriting the AOF. Killing it!")
                self._stop_child()
        if self.writer is not None:
            self.log("Calling fsync() on the AOF file.")
            self.writer.close()
            self.writer = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    # -- the write path ------------------------------------------------------------------------

    def feed(self, db: int, argvs: list[list[bytes]]) -> None:
        if self.writer is not None:
            self.writer.feed(db, argvs)

    def mark(self) -> int | None:
        """Where the AOF stands in what is logged (for `revert`); None without an AOF."""
        return None if self.writer is None else self.writer.position()

    def revert(self, mark: int | None) -> None:
        """Drop from the AOF what was logged since `mark`, while still unwritten."""
        if mark is not None and self.writer is not None:
            self.writer.revert(mark)

    def _expired(self, db, key: bytes) -> None:
        if self.writer is not None:
            self.writer.feed(db.id, [[b"DEL", key]])

    def flush(self, fsync: bool | None = None) -> bool:
        """Write (and fsync under always, or if `fsync`) what the batch logged. False on a
        write error."""
        w = self.writer
        if w is None or not w.pending:
            return True
        if self.flush_sleep_us:  # DEBUG AOF-FLUSH-SLEEP: Redis's tests widen a race with it
            time.sleep(self.flush_sleep_us / 1e6)
        was = w.error
        ok = w.flush(fsync)
        if not ok and was is None:
            self.log(f"Error writing to the AOF file: {w.error}")
            self.on_state_change()
        elif ok and was is not None:
            self.log("AOF write error looks solved. Redis can write again.")
            self.on_state_change()
        return ok

    def fatal_write_error(self) -> None:
        self.log("Error: can't recover from AOF write error when the AOF fsync policy is "
                 "'always'. Exiting...")
        os._exit(1)

    def enable_aof(self) -> None:
        """CONFIG SET appendonly yes, as Redis's startAppendOnly: a forked child writes a base of
        the current data while the writes that follow go to a temp incr file; when the child is
        done both take their names and the manifest switches to them (`_first_rewrite_done`).
        Until then the files on disk are the old ones, as in Redis: a crash meanwhile loses what
        it would have with the AOF off, and WAITAOF waits (`durable`)."""
        if self.writer is not None or self.aof_starting:
            return
        if self._lock_fd < 0:
            self._lock()
        self.stop_rewrite()  # a BGREWRITEAOF's child: its base would miss the temp incr's writes
        os.makedirs(self.aof_dir, exist_ok=True)
        self.manifest = mf.read(self.aof_dir, self.opt["appendfilename"]) or \
            mf.Manifest(self.opt["appendfilename"])
        self.aof_starting = True
        if self.child is not None:  # a BGSAVE's: the rewrite starts when it ends
            self.rewrite_scheduled = True
            self.log("AOF was enabled but there is already another background operation. An "
                     "AOF background was scheduled to start when possible.")
            return
        if self.in_exec:
            self.rewrite_scheduled = True
            self.log("AOF was enabled during a transaction. An AOF background was scheduled to "
                     "start when possible.")
            return
        try:
            self._first_rewrite()
        except OSError:
            self.aof_starting = False
            raise

    def _first_rewrite(self) -> None:
        """Open the temp incr and fork the child. Raises OSError (logged, the temp incr closed
        and deleted) if either fails."""
        m = self.manifest
        temp_incr = "temp-" + m.filename + ".incr"
        path = os.path.join(self.aof_dir, temp_incr)
        _unlink(path)  # a crashed attempt's: its records are older than the fork
        self.log(f"Creating AOF incr file {temp_incr} on background rewrite")
        base = m.next_base(self._base_ext())
        target = os.path.join(self.aof_dir, "temp-rewrite-" + base.name)
        try:
            self.writer = AofWriter(path, self.opt["appendfsync"],
                                    self.opt["aof-timestamp-enabled"])
            self.on_state_change()
            self._fork("aof", lambda: self._write_base(target),
                       lambda ok: self._first_rewrite_done(ok, base, target))
        except OSError as exc:
            self.log(f"Can't start the AOF's first rewrite: {exc}")
            if self.writer is not None:
                self._close_writer()
                _unlink(path)
            raise

    def _first_rewrite_done(self, ok: bool, base: mf.Entry, target: str) -> None:
        if not self.aof_starting:  # turned off meanwhile
            _unlink(target)
            return
        w = self.writer
        m = self.manifest
        incr = m.next_incr()
        path = os.path.join(self.aof_dir, incr.name)
        # (the writer's descriptor follows its file)
        ok = ok and self._rename(target, base.name) and self._rename(w.path, incr.name)
        self._count_rewrite(ok)
        if not ok:  # all of it is still in memory: tried again from the cron, as Redis does
            self._rewrite_failed(target)
            self._close_writer()
            _unlink(w.path)
            self.rewrite_scheduled = True
            return
        w.path = path
        self._rewritten(base, [incr], m.files())
        self.aof_starting = False

    def disable_aof(self) -> None:
        """CONFIG SET appendonly no, as Redis's stopAppendOnly: a rewrite is stopped, a
        scheduled one forgotten, the AOF closed (a first rewrite's temp incr deleted)."""
        starting, self.aof_starting = self.aof_starting, False
        self.rewrite_scheduled = False
        self.stop_rewrite()
        w = self.writer
        if w is not None:
            self._close_writer()
            if starting:
                _unlink(w.path)

    def _close_writer(self) -> None:
        self.drain_replies()
        self.writer.close()
        self.writer = None
        self.on_state_change()

    def reload_aof(self) -> bool:
        """DEBUG LOADAOF: flush and fsync the AOF if open, empty the databases, load them back
        from the AOF directory: with appendonly no, what BGREWRITEAOF wrote there, as Redis.
        False (logged) while the first AOF is being written, or if the files fail to load
        (where Redis exits)."""
        if self.aof_starting:
            return False
        if self.writer is not None:
            self.flush(fsync=True)
        for db in self.ks.dbs:
            db.flush()
        try:
            loader.load_aof_dir(self.ks, self.aof_dir, self.opt["appendfilename"],
                                self.opt["aof-load-truncated"], self.log)
        except (OSError, loader.AofError, snapshot.SnapshotError, mf.ManifestError) as exc:
            self.log(f"Error loading the AOF by DEBUG LOADAOF: {exc}")
            return False
        self.log("Append Only File loaded by DEBUG LOADAOF")
        return True

    def durable(self, target: int) -> bool:
        """Whether the AOF on disk holds every write logged up to `target` (a writer
        position): fsynced, and in a file the manifest lists."""
        w = self.writer
        return w is not None and not self.aof_starting and w.synced >= target

    @property
    def write_error(self) -> str | None:
        return self.writer.error if self.writer is not None else None

    def misconf_text(self) -> str:
        return MISCONF_AOF % self.write_error

    # -- cron ----------------------------------------------------------------------------------

    def cron(self) -> None:
        w = self.writer
        if w is not None and (w.pending or w.error):
            if w.error and not w.pending:
                w.error = None  # nothing pending: the next write tells
                self.on_state_change()
            else:
                self.flush()
        if self.child is not None:
            return
        if self.rewrite_scheduled and not self._rewrite_limited():
            self.rewrite_scheduled = False
            self._cron_rewrite()
            return
        if self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self._cron_bgsave()
            return
        now = time.time()
        dirty = self.ks.unsaved
        if dirty and (self.last_bgsave_ok or now - self.last_bgsave_try > BGSAVE_RETRY_SECS):
            for secs, changes in self.opt["save"]:
                if dirty >= changes and now - self.lastsave > secs:
                    self.log(f"{changes} changes in {secs} seconds. Saving...")
                    self._cron_bgsave()
                    return
        if w is not None and self.opt["auto-aof-rewrite-percentage"]:
            size = self.aof_size()
            base = self.rewrite_base_size or 1
            growth = (size - base) * 100 // base
            if size > self.opt["auto-aof-rewrite-min-size"] and \
                    growth >= self.opt["auto-aof-rewrite-percentage"] and \
                    not self._rewrite_limited():
                self.log(f"Starting automatic rewriting of AOF on {growth}% growth")
                self._cron_rewrite()

    def _cron_bgsave(self) -> None:
        try:
            self.bgsave()
        except OSError:  # the fork refused (logged): the save points wait BGSAVE_RETRY_SECS
            pass

    def _cron_rewrite(self) -> None:
        try:
            self.bgrewriteaof()
        except OSError as exc:  # (logged as it happened, or here; the next cron may try again)
            self.log(f"Background AOF rewrite not started: {exc}")

    def aof_size(self) -> int:
        m = self.manifest
        if m is None:
            return 0
        total = 0
        for e in m.files():
            try:
                total += os.path.getsize(os.path.join(self.aof_dir, e.name))
            except OSError:
                pass
        return total

    # -- snapshots -----------------------------------------------------------------------------

    def _base_ext(self) -> str:
        """An AOF base's format: our snapshot, or commands with aof-use-rdb-preamble no."""
        return "kvs" if self.opt["aof-use-rdb-preamble"] else "aof"

    def _write_base(self, path: str) -> None:
        if path.endswith(".kvs"):
            self._dump(path)
        else:
            resp_base.dump(self.ks, path, self.opt["aof-timestamp-enabled"],
                           self.opt["rdb-key-save-delay"])

    def _dump(self, path: str, repl: tuple[str, int, int] | None = None) -> int:
        """snapshot.dump of the keyspace, with rdb-key-save-delay (Redis's debugging knob)."""
        return snapshot.dump(self.ks, path, repl=repl, delay_us=self.opt["rdb-key-save-delay"])

    def remove_temp_snapshot(self) -> None:
        """The half-written snapshot of a save this process is making (Redis's
        rdbRemoveTempFile): for a server exiting at once in the middle of one."""
        directory, name = os.path.split(os.path.abspath(self.snapshot_path))
        _unlink(os.path.join(directory, f"temp-{os.getpid()}-{name}"))

    def save(self) -> None:
        """SAVE: write the snapshot now, on the calling thread."""
        self.flush()
        self._dump(self.snapshot_path, self.repl_history())
        self.ks.mark_saved()
        self.lastsave = int(time.time())
        self.last_bgsave_ok = True
        self.log("DB saved on disk")

    def after_flushall(self) -> None:
        """FLUSHALL, as Redis's flushAllDataAndResetRDB: a BGSAVE in progress would save the
        data just flushed, so it is stopped; with save rules, the empty data set is saved now
        (a failure is logged, as Redis's rdbSave logs it, and FLUSHALL still succeeds)."""
        if self.child is not None and self.child[0] == "bgsave":
            self._stop_bgsave()
            self.log("Background saving terminated by signal 9")
        if self.opt["save"]:
            try:
                self.save()
            except OSError as exc:
                self.log(f"Write error saving DB on disk: {exc.strerror or exc}")

    def bgsave(self) -> str:
        """BGSAVE: fork a child that writes the snapshot. Returns the status text."""
        self.flush()
        path = self.bgsave_path = self.snapshot_path
        self.unsaved_at_bgsave = self.ks.unsaved
        self.last_bgsave_try = time.time()
        self.saves += 1  # (INFO rdb_saves: SAVEs and BGSAVEs started, as Redis counts)
        repl = self.repl_history()  # (read here: the child's data is the fork's)
        try:
            self._fork("bgsave", lambda: self._dump(path, repl),
                       self._bgsave_done)
        except OSError:
            self.last_bgsave_ok = False  # (INFO rdb_last_bgsave_status:err, as Redis's)
            raise
        return "Background saving started"

    def _bgsave_done(self, ok: bool) -> None:
        self.last_bgsave_ok = ok
        if ok:
            # (Redis's dirty -= dirty_before_bgsave: what the child saved is saved)
            ks = self.ks
            ks.saved_dirty = min(ks.saved_dirty + self.unsaved_at_bgsave, ks.dirty)
            self.lastsave = int(time.time())
            self.log("Background saving terminated with success")
        else:
            self.log("Background saving error")

    # -- AOF rewrite ---------------------------------------------------------------------------

    def bgrewriteaof(self) -> str:
        """Start a rewrite (see the module docstring). Returns the status text."""
        if self.aof_starting:  # (scheduled behind a BGSAVE, or tried again)
            try:
                self._first_rewrite()
            except OSError:  # tried again (and limited) as after a failed child
                self._count_rewrite(False)
                self.rewrite_scheduled = True
                raise
            return "Background append only file rewriting started"
        os.makedirs(self.aof_dir, exist_ok=True)
        m = self.manifest or mf.Manifest(self.opt["appendfilename"])
        self.manifest = m
        old = m.files()
        if self.writer is not None:
            new_incr = m.next_incr()
            self.writer.switch(os.path.join(self.aof_dir, new_incr.name))
            m.incrs.append(new_incr)
            m.write(self.aof_dir)
        base = m.next_base(self._base_ext())
        target = os.path.join(self.aof_dir, "temp-rewrite-" + base.name)

        def done(ok: bool) -> None:
            self._rewrite_done(ok, base, target, old)

        self._fork("aof", lambda: self._write_base(target), done)
        return "Background append only file rewriting started"

    def _rewrite_done(self, ok: bool, base: mf.Entry, target: str, old: list) -> None:
        ok = ok and self._rename(target, base.name)
        self._count_rewrite(ok)
        if not ok:
            self._rewrite_failed(target)
            return
        self._rewritten(base, [e for e in self.manifest.incrs if e not in old], old)

    def _rewritten(self, base: mf.Entry, incrs: list, old: list) -> None:
        """A rewrite's end: the manifest switches to `base` + `incrs`, the `old` files go."""
        m = self.manifest
        m.base, m.incrs = base, incrs
        m.write(self.aof_dir)
        for e in old:
            _unlink(os.path.join(self.aof_dir, e.name))
        self.rewrite_base_size = self.aof_size()
        self.rewrites += 1
        self.log("Background AOF rewrite finished successfully")

    def _rewrite_failed(self, target: str) -> None:
        self.log("Background AOF rewrite terminated with error")
        _unlink(target)

    def _rename(self, path: str, name: str) -> bool:
        """A rewrite's temp file into the AOF directory as `name`; False (logged) if it fails."""
        try:
            os.replace(path, os.path.join(self.aof_dir, name))
        except OSError as exc:
            self.log(f"Error trying to rename the temporary AOF file {os.path.basename(path)} "
                     f"into {name}: {exc.strerror}")
            return False
        return True

    def _count_rewrite(self, ok: bool) -> None:
        self.last_rewrite_ok = ok
        self.rewrite_failures = 0 if ok else self.rewrite_failures + 1

    def _rewrite_limited(self) -> bool:
        """Redis's aofRewriteLimited: after 3 failed rewrites in a row, an automatic or
        scheduled one waits 1 minute, then 2, 4... up to 60, so that a rewrite that keeps
        failing (a full disk) is not forked again every cron. BGREWRITEAOF is not limited."""
        if self.rewrite_failures < 3:
            self._retry_minutes, self._retry_at = 0, 0.0
            return False
        if self._retry_at:
            if time.time() < self._retry_at:
                return True
            self._retry_at = 0.0
            return False
        self._retry_minutes = min(60, self._retry_minutes * 2 or 1)
        self._retry_at = time.time() + self._retry_minutes * 60
        self.log("Background AOF rewrite has repeatedly failed and triggered the limit, will "
                 f"retry in {self._retry_minutes} minutes")
        return True

    # -- children ------------------------------------------------------------------------------

    def _fork(self, kind: str, job: Callable[[], Any], done: Callable[[bool], None]) -> None:
        try:
            setup = self.child_setup
            pid = fork_job(job, None if setup is None else lambda: setup(kind))
        except OSError as exc:
            self.log(f"Can't {'save' if kind == 'bgsave' else 'rewrite append only file'} in "
                     f"background: fork: {exc.strerror or exc}")
            raise
        self.log(f"Background {'saving' if kind == 'bgsave' else 'append only file rewriting'}"
                 f" started by pid {pid}")
        self.child = (kind, pid, time.time())
        self._child_callback = done
        reap_child(pid, lambda ok: self.run_later(lambda: self._child_done(pid, ok)))

    def _child_done(self, pid: int, ok: bool) -> None:
        if self.child is None or self.child[1] != pid:
            return  # already handled
        kind, _, started = self.child
        self.last_child_secs[kind] = int(time.time() - started)  # INFO *_last_*_time_sec
        try:
            self._child_callback(ok)
        finally:
            self.child = None

    def wait_child(self, timeout: float = 60.0) -> None:
        """Block until the current child is reaped and finished (tests, SHUTDOWN)."""
        deadline = time.monotonic() + timeout
        while self.child is not None and time.monotonic() < deadline:
            time.sleep(0.005)

    def stop_rewrite(self) -> None:
        """Kill a running AOF rewrite, as Redis does when the AOF is turned off or on: its base
        takes the next base's name, so on finishing it would replace the base `enable_aof`
        writes with the older state it forked with."""
        if self.child is not None and self.child[0] == "aof":
            self.log(f"Killing running AOF rewrite child: {self.child[1]}")
            was = self.last_rewrite_ok, self.rewrite_failures
            self._stop_child()
            self.last_rewrite_ok, self.rewrite_failures = was  # stopped on purpose: no failure

    def _stop_child(self) -> None:
        """Kill the running child and reap it now; its work is discarded, a snapshot's temp
        file too (Redis's rdbRemoveTempFile; a rewrite's goes in its done callback)."""
        kind, pid, _ = self.child
        self.kill_child()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # (the reaping thread got it first)
            pass
        if kind == "bgsave":
            directory, name = os.path.split(os.path.abspath(self.bgsave_path))
            _unlink(os.path.join(directory, f"temp-{pid}-{name}"))
        self._child_done(pid, False)

    def _stop_bgsave(self) -> None:
        """Stop the BGSAVE child on purpose: no save, and no failure in INFO either."""
        self._child_callback = lambda ok: None
        self._stop_child()

    def kill_child(self) -> None:
        if self.child is not None:
            try:
                os.kill(self.child[1], 9)
            except ProcessLookupError:
                pass

    # -- INFO ----------------------------------------------------------------------------------

    def info(self) -> list[tuple[str, Any]]:
        kind = self.child[0] if self.child else ""
        started = self.child[2] if self.child else 0
        w = self.writer
        return [
            # (a fork's copy-on-write is not measured: its fields read 0)
            ("current_cow_peak", 0), ("current_cow_size", 0), ("current_cow_size_age", 0),
            ("current_fork_perc", "0.00"), ("current_save_keys_processed", 0),
            ("current_save_keys_total", 0),
            ("rdb_changes_since_last_save", self.ks.unsaved),
            ("rdb_bgsave_in_progress", int(kind == "bgsave")),
            ("rdb_last_save_time", self.lastsave),
            ("rdb_last_bgsave_status", "ok" if self.last_bgsave_ok else "err"),
            ("rdb_last_bgsave_time_sec", self.last_child_secs.get("bgsave", -1)),
            ("rdb_current_bgsave_time_sec", int(time.time() - started) if kind == "bgsave"
             else -1),
            ("rdb_saves", self.saves), ("rdb_last_cow_size", 0),
            ("rdb_last_load_keys_expired", self.loaded_expired),
            ("rdb_last_load_keys_loaded", self.loaded_keys),
            ("aof_enabled", int(w is not None or self.aof_starting)),
            ("aof_rewrite_in_progress", int(kind == "aof")),
            ("aof_rewrite_scheduled", int(self.rewrite_scheduled)),
            ("aof_last_rewrite_time_sec", self.last_child_secs.get("aof", -1)),
            ("aof_current_rewrite_time_sec", int(time.time() - started) if kind == "aof"
             else -1),
            ("aof_last_bgrewrite_status", "ok" if self.last_rewrite_ok else "err"),
            ("aof_rewrites", self.rewrites), ("aof_rewrites_consecutive_failures", self.rewrite_failures),
            ("aof_last_write_status", "err" if self.write_error else "ok"),
            ("aof_last_cow_size", 0), ("module_fork_in_progress", 0),
            ("module_fork_last_cow_size", 0),
        ] + ([("aof_current_size", self.aof_size()), ("aof_base_size", self.rewrite_base_size),
              ("aof_pending_rewrite", int(self.rewrite_scheduled)),
              ("aof_buffer_length", len(w.buf) if w is not None else 0),
              ("aof_pending_bio_fsync", 0), ("aof_delayed_fsync", 0)]
             if w is not None or self.aof_starting else [])


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
