"""Attach persistence to a `kvstore.server.Server` (called from `Server.serve` before listening).

What it installs, all through hooks the server already has or that were added for this:
* `server.persistence`, `server.write_hooks` (feeds each write's effects), the outbox's
  `commit` (while an AOF is open, each loop iteration's replies leave only after its effects are
  written, group.py), `server.on_shutdown` (SAVE if save points are configured or SHUTDOWN SAVE,
  then flush + fsync + unlock);
* a loop timer every CRON_MS for `Persistence.cron` (buffered expiry DELs, write-error retry,
  save rules, automatic rewrite), and config listeners for appendfsync / appendonly / save.

`dbfilename`: Redis's default `dump.rdb` is replaced by `dump.kvs`, since our snapshot is not an
RDB and Redis tools must not mistake it for one; any other name the operator sets is used as is.
"""

from __future__ import annotations

import asyncio
import gc
import os

from ..commands.table import ReplOnly
from ..errors import ShutdownRefused
from ..server.config import ConfigError
from .loader import AofError, RdbImportError
from .manager import CRON_MS, Persistence, PersistenceError
from .group import GroupCommit
from .manifest import ManifestError
from .progress import LoadingStopped, Progress
from .snapshot import SnapshotError

_OPTIONS = ("appendonly", "appendfsync", "appendfilename", "appenddirname", "dbfilename", "save",
            "aof-load-truncated", "auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size",
            "aof-timestamp-enabled", "rdb-key-save-delay", "aof-use-rdb-preamble")


def options_from(config) -> dict:
    opts = {name: config[name] for name in _OPTIONS}
    opts["dbfilename"] = _snapshot_name(opts["dbfilename"])
    return opts


def _snapshot_name(dbfilename: str) -> str:
    return "dump.kvs" if dbfilename == "dump.rdb" else dbfilename


def attach(server, progress: Progress | None = None) -> Persistence:
    """Load the data set and install the hooks. Exits the process (status 1) if the data on
    disk cannot be loaded, as redis-server does. LoadingStopped from `progress` leaves
    nothing held."""
    loop = asyncio.get_running_loop()
    cfg = server.config
    directory = cfg["dir"] if os.path.isabs(cfg["dir"]) else os.getcwd()
    log = server.log
    p = Persistence(server.ks, directory, options_from(cfg), log=_logger(log),
                    run_later=loop.call_soon_threadsafe, exclusive=False)
    if server.process is not None:
        p.child_setup = server.process.in_child
    try:
        p.start(progress)
    except LoadingStopped:
        p.close(wait=False)
        raise
    except RdbImportError as exc:  # (a Redis RDB file: Redis's own last line too)
        log.warning("Internal error in RDB reading %s -> %s", exc.path, exc.reason)
        log.warning("Fatal error loading the DB: %s. Exiting.", exc)
        log.warning("Terminating server after rdb file reading failure.")
        raise SystemExit(1) from None
    except (AofError, SnapshotError, ManifestError, PersistenceError, OSError) as exc:
        log.warning("Fatal error loading the DB: %s. Exiting.", exc)
        raise SystemExit(1) from None
    # What was loaded stays (it is the data set): frozen, later full collections skip it rather
    # than pause ~130 ms per million containers. Collected first, so no garbage is frozen.
    gc.collect()
    gc.freeze()
    server.ks.persistence = p
    server.persistence = p
    server.lastsave = p.lastsave
    p.repl_history = server.replication.save_history
    server.replication.resume_history(p.loaded_history, replica=bool(cfg["replicaof"]))
    if p.loaded_history is not None and not cfg["replicaof"]:
        # Keys that expired while we were down: deleted now, with their DELs in our stream
        # after the file's offset, so that our replicas continue and delete them too (Redis's
        # RDBFLAGS_FEED_REPL). A replica keeps them for its master's DELs.
        p.loaded_expired += server.ks.expire_all()

    def feed(ctx, argv) -> None:
        w = p.writer
        if w is None:
            return
        effects = ctx.effects
        if effects is None:
            if ctx.db.id == w.db:
                w.plain.append(argv)  # the hot case: encoded at the batch's end, if at all
            else:
                w.feed(ctx.db.id, [argv])
        elif effects:  # ([]: a change with nothing to log, see Context)
            logged = [e for e in effects if type(e) is not ReplOnly]  # (for replicas only)
            if logged:
                w.feed(ctx.db.id, logged)

    def feed_run(ctx, argvs) -> None:
        # A pipelined run of writes, each logged as sent (commands.table.run_handler)
        w = p.writer
        if w is not None:
            if ctx.db.id == w.db:
                w.plain += argvs
            else:
                w.feed(ctx.db.id, argvs)

    def log_batch(parser, batch) -> None:
        # Encoding each command was a third of a pipelined SET under an AOF; a whole read of
        # plain writes is logged as the bytes it came in (AofWriter.log_batch).
        w = p.writer
        if w is not None and w.plain:  # (a batch of reads or effects has nothing left here)
            last = parser.last_read
            w.log_batch(last[1] if last is not None and last[0] is batch else None, batch)

    def state_changed() -> None:
        sync_feed()  # (the AOF also opens and closes in its first rewrite, `enable_aof`)
        server.gate = server.gate_wanted()

    def cron() -> None:
        loop.call_later(CRON_MS / 1000.0, cron)
        if not server.cron_paused:  # (DEBUG PAUSE-CRON)
            p.cron()
            server.lastsave = p.lastsave

    def shutdown() -> None:
        server.outbox.drain()  # replies held for the AOF
        flags = server.shutdown_flags
        if p.aof_starting and p.child is not None and p.child[0] == "aof":
            # The data set is in no AOF yet: exiting now would leave the old one, so Redis
            # refuses (its prepareForShutdown), SIGTERM included, unless FORCE.
            if "force" not in flags:
                log.warning("Writing initial AOF, can't exit.")
                raise ShutdownRefused("initial AOF")
            log.warning("Writing initial AOF. Exit anyway.")
        if "save" in flags or (cfg["save"] and "nosave" not in flags):
            log.notice("Saving the final snapshot before exiting.")
            try:
                p.save()
            except OSError as exc:
                log.warning("Error saving the final snapshot: %s", exc)
                if "force" not in flags:  # exiting would lose what was not saved
                    log.warning("Error trying to save the DB, can't exit.")
                    raise ShutdownRefused(str(exc)) from None
                log.warning("Error trying to save the DB. Exit anyway.")
        p.close(wait=False)

    def sync_feed() -> None:
        # `feed` and the group commit are installed only while an AOF is open: with appendonly
        # no, every write would pay a call for nothing. First in the list: blocking.py's hook
        # must run after it.
        hooks = server.write_hooks
        outbox = server.outbox
        if p.writer is not None and feed not in hooks:
            server.add_write_hook(feed, first=True, run=feed_run)
            server.log_batch = log_batch
            outbox.commit, outbox.drain_held = p.group.commit, p.group.drain
        elif p.writer is None and feed in hooks:
            server.remove_write_hook(feed)
            server.log_batch = None
            outbox.commit = outbox.drain_held = None

    def set_appendonly(on: bool) -> None:
        try:
            _set_appendonly(p, on)
        except (PersistenceError, OSError) as exc:
            log.warning("Can't turn on the AOF: %s", exc)
            raise ConfigError("Unable to turn on AOF. Check server logs.") from None
        sync_feed()

    p.on_state_change = state_changed
    p.drain_replies = server.outbox.drain
    p.group = GroupCommit(p, loop, server.outbox.send)
    sync_feed()
    server.on_shutdown.append(shutdown)
    listeners = {
        "appendfsync": lambda v: p.writer and p.writer.set_policy(v),
        "aof-timestamp-enabled": lambda v: _set_timestamps(p, v),
        "save": lambda v: p.opt.__setitem__("save", v),
        "dbfilename": lambda v: p.opt.__setitem__("dbfilename", _snapshot_name(v)),
        "dir": lambda v: setattr(p, "snapshot_dir", os.path.abspath(v)),
        "appendonly": set_appendonly,
    }
    for name in ("auto-aof-rewrite-percentage", "auto-aof-rewrite-min-size", "aof-load-truncated",
                 "rdb-key-save-delay", "aof-use-rdb-preamble"):
        listeners[name] = lambda v, name=name: p.opt.__setitem__(name, v)
    for name, listener in listeners.items():
        cfg.on_change(name, listener)
    # What CONFIG SET changed while the data set loaded, after `p` read the options and before
    # these listeners were there (server/loading.py): applied now, to the whole data set.
    for name, value in options_from(cfg).items():
        if p.opt[name] != value and name in listeners:
            try:
                listeners[name](cfg[name])
            except ConfigError as exc:
                log.warning("CONFIG SET %s during the load: %s", name, exc)
    loop.call_later(CRON_MS / 1000.0, cron)
    return p


def _set_appendonly(p: Persistence, on: bool) -> None:
    """CONFIG SET appendonly: yes starts the AOF (its first base written in the background), no
    closes it."""
    if on:
        p.enable_aof()
    elif p.writer is not None or p.aof_starting:  # (as Redis: a no while off changes nothing)
        p.disable_aof()
    p.opt["appendonly"] = on


def _set_timestamps(p: Persistence, on: bool) -> None:
    p.opt["aof-timestamp-enabled"] = on
    if p.writer is not None:
        p.writer.timestamps = on


def _logger(log):
    def emit(message: str) -> None:
        if "rror" in message or "arning" in message:
            log.warning("%s", message)
        else:
            log.notice("%s", message)

    return emit
