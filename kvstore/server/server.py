"""The server: listeners (TCP and unix socket), the cron, stats, slowlog, monitors and shutdown.

Theory of operation. One `Server` owns one `Keyspace` and runs on one asyncio (uvloop) event loop
thread: every command of every client runs there, one at a time (DESIGN decision 2), inside
`Client.data_received` (see client.py for the hot path). The server itself only does what is not
per command:

* the cron (`_cron`, every ACTIVE_EXPIRE_PERIOD_MS while keys have a TTL, ACTIVE_EXPIRE_IDLE_MS
  otherwise): active expiry within its time budget, and every
  CRON_SLOW_MS the coarse clock, idle-client timeouts, output-buffer soft limits and the memory
  estimate used by maxmemory;
* `gate`: a server-wide flag the hot path reads once per command; it is raised only while a
  MONITOR is attached, maxmemory is set, an LFU policy tracks access, CLIENT PAUSE WRITE holds
  or a write to the AOF failed (`gate_wanted`), so those features cost nothing otherwise;
* shutdown: SIGTERM/SIGINT/SHUTDOWN set `_stop`; `run()` then closes the listeners, calls the
  `on_shutdown` hooks (persistence flushes there), closes the clients and returns 0. Commands run
  synchronously, so the batch in hand is always finished before the loop gets to the shutdown.

Memory accounting for maxmemory: tracemalloc is far too slow and RSS never shrinks when Python
frees objects, so "used memory" is what glibc's allocator has handed out (`mallinfo2`: in-use
heap bytes + mmapped bytes), which does go down when keys are freed. It is read at most every
MEMORY_SAMPLE_MS, and again during eviction (see eviction.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import faulthandler
import logging
import os
import resource
import signal
import socket
import sys
import syslog
import time
import traceback
import weakref
from collections import deque
from typing import Any, Callable, Iterator

from ..version import REDIS_VERSION, __version__
from ..hooks import fan_out
from ..commands.table import (ADMIN, ALLOW_BUSY, COMMANDS, LOADING, MAY_REPLICATE, NO_AUTH,
                              READONLY, WRITE, lookup, resolve)
from ..commands.migrate import close_idle as close_idle_migrate_sockets
from ..commands.scan import sweep as sweep_scans
from ..engine import Keyspace
from ..engine.glob import match
from ..persistence.progress import LoadingStopped
from ..errors import CommandError, ShutdownRefused
from ..replies import Error
from ..numbers import parse_int
from . import client_eviction, memory
from .client import BLOCKED, CLOSING, MULTI, NEEDS_AUTH, PUSHES, SUBSCRIBED, Client
from .acl import UNKNOWN, Acl, RuleError, User
from .blocking import KeyWatch, resume
from .busy import Busy
from .loading import Loading
from .supervise import notify_systemd, supervision
from .config import THRESHOLDS, Config, ConfigError
from .info import total_calls
from .latency import LatencyMonitor, fold_all
from .outbox import Outbox
from .process import ProcessControls, pin, warn_of_oom_values
from .replica_link import MasterLink
from .replication import WAIT_FOR_SYNC, NO_FAILOVER, Replication
from .pubsub import Notifier, PubSub, deliver
from .states import SUBSCRIBED_OK, refusal
from .tracking import Tracking

# Redis's CONFIG_MIN_RESERVED_FDS: file descriptors kept for logs, files and links, beyond the
# clients', when the open files limit is sized for maxclients.
RESERVED_FDS = 32
REPL_BACKLOG_MIN_SIZE = 16 * 1024  # Redis's CONFIG_REPL_BACKLOG_MIN_SIZE
CRON_SLOW_MS = 100               # timeouts, soft output limits, memory sampling
LAZYFREE_SLICE_MS = 0.2          # freeing UNLINKed values per loop iteration (_lazyfree_slice)
SLOWLOG_ARGS_MAX = 32            # Redis SLOWLOG_ENTRY_MAX_ARGC
SLOWLOG_ARG_LEN_MAX = 128        # Redis SLOWLOG_ENTRY_MAX_STRING

_ACL_NO_CHANGE = ("WARNING: ACL errors detected, no change to the previously active ACL rules was "
                  "performed")
_REDACTED = b"(redacted)"  # what MONITOR shows for a password
_KEYSPACE_FLAGS = WRITE | READONLY | MAY_REPLICATE
# Commands that read keys without updating their LRU/LFU data (Redis's LOOKUP_NOTOUCH).
_NO_TOUCH = frozenset(("object|encoding", "object|freq", "object|idletime", "object|refcount",
                       "type", "ttl", "pttl", "expiretime", "pexpiretime", "exists",
                       "memory|usage"))
# CONFIG SET's reasons (Redis 7.0's) when the server cannot listen at a new port or bind.
_LISTEN_FAILED = {"port": "Unable to listen on this port. Check server logs.",
                  "bind": "Failed to bind to specified addresses."}
_LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}
_LEVEL_CHARS = ".-*#"
_SYSLOG_PRIORITIES = (syslog.LOG_DEBUG, syslog.LOG_INFO, syslog.LOG_NOTICE, syslog.LOG_WARNING)


def _raise_open_files(need: int, with_hard: bool) -> tuple[int, int, str]:
    """Redis's adjustOpenFilesLimit: raise the open files limit to `need`, or to the highest of
    `need` minus steps of 16 that is allowed (`with_hard`: the hard limit set to it too, as
    Redis does at start). Returns (the soft limit before, the one now, why `need` was refused).
    Past the hard limit (or fs.nr_open) the steps start below it: a maxclients of 4 billion
    would otherwise take 268 million tries."""
    old, hard_now = resource.getrlimit(resource.RLIMIT_NOFILE)
    if old >= need:
        return old, old, ""
    hard = hard_now
    if hard == resource.RLIM_INFINITY:
        try:
            with open("/proc/sys/fs/nr_open") as f:
                hard = int(f.read())
        except (OSError, ValueError):
            hard = 1 << 20
    best, reason = need, ""
    while best > old:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (best, best if with_hard else hard_now))
            return old, best, reason
        except ValueError as exc:  # (CPython's texts for EPERM and EINVAL)
            reason = reason or os.strerror(errno.EPERM if "raise" in str(exc) else errno.EINVAL)
        except OSError as exc:
            reason = reason or exc.strerror or str(exc)
        # (the first try may raise the hard limit too, when privileged; the next ones fit it)
        best = need - (need - hard + 15) // 16 * 16 if best > hard else best - 16
    return old, old, reason


def _raise_open_files_limit(maxclients: int) -> None:
    """CONFIG SET maxclients: the open files limit raised for it (`_raise_open_files`); short
    of it, the value is refused with the number of clients that fit."""
    _, best, _ = _raise_open_files(maxclients + RESERVED_FDS, False)
    if best < maxclients + RESERVED_FDS:
        raise ConfigError("The operating system is not able to handle the specified number of "
                          f"clients, try with {best - RESERVED_FDS}")


def adjust_open_files_limit(config: Config, log: "Log") -> None:
    """At start: the open files limit (soft and hard) raised for maxclients
    (`_raise_open_files`); short of it, maxclients is lowered to fit, with Redis's warnings (992
    under `ulimit -n 1024`), so that the clients past it get Redis's "max number of clients
    reached" rather than a reset connection when accept() runs out of descriptors."""
    maxclients = config["maxclients"]
    need = maxclients + RESERVED_FDS
    old, best, reason = _raise_open_files(need, True)
    if best >= need:
        if old < need:
            log.notice("Increased maximum number of open files to %d (it was originally set to "
                       "%d).", need, old)
        return
    if best <= RESERVED_FDS:
        log.warning("Your current 'ulimit -n' of %d is not enough for the server to start. Please "
                    "increase your open file limit to at least %d. Exiting.", old, need)
        raise SystemExit(1)
    config.values["maxclients"] = best - RESERVED_FDS
    log.warning("You requested maxclients of %d requiring at least %d max file descriptors.",
                maxclients, need)
    log.warning("Server can't set maximum open files to %d because of OS error: %s.", need,
                reason)
    log.warning("Current maximum open files is %d. maxclients has been reduced to %d to "
                "compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
                best, best - RESERVED_FDS)


def _refuse_tls(enabled: Any) -> None:
    if enabled:
        raise ConfigError("Unable to update TLS configuration. Check server logs.")


class LogHandler(logging.Handler):
    """What the library logs through Python's logging (the "kvstore" logger: a script stopped
    or slow while an AOF loads, ...) as the server's own lines, in its file and format."""

    def __init__(self, log: "Log") -> None:
        super().__init__()
        self.server_log = log

    def emit(self, record: logging.LogRecord) -> None:
        level = 3 if record.levelno >= logging.WARNING else 2 if record.levelno >= logging.INFO \
            else 0
        self.server_log.log(level, "%s", record.getMessage())


class Log:
    """Redis-style log lines: `<pid>:M 25 Nov 2026 23:36:23.123 * message`."""

    def __init__(self, level: str = "notice", path: str = "") -> None:
        self.level = _LEVELS[level]
        self.path = path
        self.stream = open(path, "a", encoding="utf-8") if path else sys.stdout  # noqa: SIM115
        self.role = "M"
        self.to_syslog = False

    def open_syslog(self, ident: str, facility: str) -> None:
        """syslog-enabled: every line goes to syslog too, its text alone, as Redis's openlog
        with LOG_PID (the daemon puts the time, the ident and the pid)."""
        syslog.openlog(ident, syslog.LOG_PID | syslog.LOG_NDELAY | syslog.LOG_NOWAIT,
                       getattr(syslog, f"LOG_{facility.upper()}"))
        self.to_syslog = True

    def log(self, level: int, msg: str, *args: Any) -> None:
        if level < self.level:
            return
        if args:
            msg = msg % args
        now = time.time()
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now))
        self._write(level, f"{os.getpid()}:{self.role} {stamp}.{int(now * 1000) % 1000:03d} "
                           f"{_LEVEL_CHARS[level]} {msg}\n", msg)

    def raw(self, level: int, text: str) -> None:
        """Text as it is, no prefix (Redis's LL_RAW): the logo."""
        if level >= self.level:
            self._write(level, text, text)

    def _write(self, level: int, line: str, syslog_text: str) -> None:
        self.stream.write(line)
        self.stream.flush()
        if self.to_syslog:
            syslog.syslog(_SYSLOG_PRIORITIES[level], syslog_text)

    def debug(self, msg: str, *args: Any) -> None:
        self.log(0, msg, *args)

    def verbose(self, msg: str, *args: Any) -> None:
        self.log(1, msg, *args)

    def notice(self, msg: str, *args: Any) -> None:
        self.log(2, msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self.log(3, msg, *args)


class Stats:
    """Counters for INFO stats (reset by CONFIG RESETSTAT)."""

    def __init__(self) -> None:
        self.connections = 0
        self.rejected_conn = 0
        self.net_input = 0
        self.net_output = 0
        self.protocol_errors = 0
        self.evicted_keys = 0
        self.evicted_clients = 0   # maxmemory-clients (client_eviction.py)
        self.sync_full = 0         # replicas sent the whole data set
        self.sync_partial_ok = 0   # PSYNCs answered from the backlog
        self.sync_partial_err = 0  # PSYNCs that asked to continue and could not
        self.total_errors = 0
        self.errors: dict[str, int] = {}
        self.unexpected_errors = 0  # our master's stream commands that failed here
        # (monotonic seconds, commands, input bytes, output bytes), taken by the cron every
        # 100 ms, as Redis keeps 16 samples for its instantaneous_* figures.
        self.samples: deque[tuple[float, int, int, int]] = deque(maxlen=16)

    def sample(self, now: float, commands: int) -> None:
        self.samples.append((now, commands, self.net_input, self.net_output))

    def instantaneous(self) -> tuple[int, float, float]:
        """Commands per second, input and output KB per second over the samples kept."""
        if len(self.samples) < 2:
            return 0, 0.0, 0.0
        (t0, c0, i0, o0), (t1, c1, i1, o1) = self.samples[0], self.samples[-1]
        dt = t1 - t0
        return int((c1 - c0) / dt), (i1 - i0) / dt / 1024, (o1 - o0) / dt / 1024


def _repr_arg(arg: bytes) -> str:
    """Redis's sdscatrepr: "quoted", with \\n \\r \\t \\a \\b \\\\ \\" escapes and \\xHH."""
    out = ['"']
    for c in arg:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x22:
            out.append('\\"')
        elif c == 10:
            out.append("\\n")
        elif c == 13:
            out.append("\\r")
        elif c == 9:
            out.append("\\t")
        elif c == 7:
            out.append("\\a")
        elif c == 8:
            out.append("\\b")
        elif 32 <= c < 127:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    out.append('"')
    return "".join(out)


class Server:
    """All server-wide state. Create it, then `await serve(stop_event)`; see `run()`."""

    def __init__(self, config: Config | None = None, log: Log | None = None) -> None:
        self.config = config or Config()
        cfg = self.config
        self.log = log or Log(cfg["loglevel"], cfg["logfile"])
        self.ks = Keyspace(cfg["databases"])
        self.ks.server_config = cfg  # what CONFIG GET/SET use (commands/admin.py)
        self.clients: dict[int, Client] = {}
        self.ldb_children: set[int] = set()  # forked Lua debugging sessions' pids
        self._next_id = 0
        self.stats = Stats()
        self.start_time = time.time()
        self.now_mono = time.monotonic()
        self.lastsave = int(time.time())
        self.slowlog: deque = deque(maxlen=max(cfg["slowlog-max-len"], 0) or None)
        self.slowlog_next_id = 0
        self.slowlog_s = 0.0
        self.latency = LatencyMonitor()
        self.monitors: list[Client] = []
        # (ctx, argv) after a write that changed data: the AOF feed, then WATCH/blocking.
        # Changed only through add/remove_write_hook, which keep `propagate` their fan-out,
        # and `propagate_run` the fan-out of their run variants while every hook has one.
        self.write_hooks: list[Callable] = []
        self.run_hooks: dict[Callable, Callable] = {}
        self.propagate: Callable | None = None
        self.propagate_run: Callable | None = None
        # (parser, batch) after each batch of commands while an AOF is open (server_hook.py).
        self.log_batch: Callable | None = None
        self.on_shutdown: list[Callable[[], Any]] = []
        # kvstore.persistence.Persistence once serve() has attached it (AOF, snapshots).
        self.persistence: Any = None
        self.outbox = Outbox(self)
        self.gate = False
        self.busy: Busy | None = None  # a script past busy-reply-threshold (busy.py)
        self.loading: Loading | None = None  # a data set loading (loading.py)
        self.signals = False  # whether SIGTERM and SIGINT are ours (`install_signals`)
        self._wakeup_fd = -1  # the loop's, set aside while Python's handlers are in force
        self.supervised = "no"  # systemd or upstart, as told at start-up (supervise.py)
        self.arriving: weakref.WeakSet[Client] = weakref.WeakSet()  # (new_client)
        self.obuf_check = False    # a "normal" class output-buffer limit is set
        self.obuf_pubsub = False   # a "pubsub" class one is (the default: 32mb 8mb 60)
        self.paused_until = 0.0          # CLIENT PAUSE ALL: every client holds its input
        self.write_paused_until = 0.0    # CLIENT PAUSE WRITE: writers wait (`postponed`)
        # Clients CLIENT PAUSE stopped (WRITE: at a write, ALL: holding their input); a dict as
        # an ordered set: unpause resumes them in the order they stopped, as Redis's list
        self.postponed: dict[Client, None] = {}
        self.memory = memory.Memory(self)
        self.ks.access = self.memory
        self.ports: list[int] = []
        self._servers: list[asyncio.base_events.Server] = []  # the unix socket's
        # The TCP listening sockets in force, each with the server accepting on it once
        # `_serve_tcp` has made it, and the (bind, port) they listen at.
        self._tcp: dict[socket.socket, asyncio.base_events.Server | None] = {}
        self._listening = ("", 0)
        self._stop: asyncio.Event | None = None
        self._cron_handle: asyncio.TimerHandle | None = None
        self._lazyfree_scheduled = False
        self._watchdog = False  # a watchdog timer is armed (_arm_watchdog)
        self._last_slow = 0.0
        self.shutdown_flags: set[str] = set()
        self.shutdown_requesters: list[Client] = []
        # While a shutdown waits for lagging replicas (`_replicas_caught_up`): SHUTDOWN ABORT
        # sets `shutdown_aborted`
        self.shutdown_waiting = False
        self.shutdown_aborted = False
        self.shutdown_deadline = 0.0  # (monotonic) when the waiting shutdown gives up on them
        # DEBUG PAUSE-CRON 1: the cron does nothing, and a signal's shutdown waits for it (in
        # Redis the cron starts it), as Redis's tests rely on.
        self.cron_paused = False
        self.signalled_shutdown: set[str] | None = None
        # Pub/sub, keyspace notifications, WATCH and blocked clients (pubsub.py, blocking.py).
        self.pubsub = PubSub(self)
        self.notifier = Notifier(self)
        self.keywatch = KeyWatch(self)
        self.tracking = Tracking(self)
        self.replication = Replication(self)
        self.master_link: Any = None  # replica_link.MasterLink while we are a replica
        # The process's OOM score and title (process.py): the program's server only (main.py)
        self.process: ProcessControls | None = None
        self.notifier.configure(cfg["notify-keyspace-events"])
        cfg.on_change("notify-keyspace-events", self.notifier.configure)
        self._apply_config()
        cfg.on_change("proto-max-bulk-len", self._set_max_bulk)
        cfg.on_change("repl-backlog-size", self._floor_backlog)  # before _apply_config reads it
        cfg.on_change("maxclients", _raise_open_files_limit)
        for name in ("tls-port", "tls-replication", "tls-cluster"):
            cfg.on_change(name, _refuse_tls)
        for name in ("slowlog-log-slower-than", "slowlog-max-len", "maxmemory",
                     "latency-monitor-threshold", "latency-tracking",
                     "client-query-buffer-limit",
                     "maxmemory-policy", "client-output-buffer-limit", "loglevel",
                     *(name for name, _ in THRESHOLDS), "requirepass",
                     "min-replicas-to-write", "repl-backlog-size", "lazyfree-lazy-user-del",
                     "lazyfree-lazy-user-flush", "lazyfree-lazy-expire"):
            cfg.on_change(name, lambda _v: self._apply_config())
        self.ks.lazyfree.background = True
        self.ks.lazyfree.on_pending = self._schedule_lazyfree
        cfg.on_change("watchdog-period", lambda _v: self._arm_watchdog())  # (as Redis: at once)
        cfg.on_change("port", lambda _v: self._relisten("port"))
        cfg.on_change("bind", lambda _v: self._relisten("bind"))
        self.acl = Acl(cfg["requirepass"], cfg["acllog-max-len"],
                       cfg["acl-pubsub-default"] == "allchannels")
        for name, rules in cfg.users:
            if name == b"default":  # configured from scratch, as ACLLoadConfiguredUsers does
                rules = [b"reset", *rules]
            try:
                self.acl.set_user(name, rules)
            except RuleError as exc:
                self.log.warning("Error loading ACL rule '%s' for the user named '%s': %s",
                                 exc.args[0].decode("utf-8", "replace"),
                                 name.decode("utf-8", "replace"), exc.args[1])
                self.log.warning("Critical error while loading ACLs. Exiting.")
                raise SystemExit(1) from None
        if cfg["aclfile"]:
            try:
                self.load_aclfile(cfg["aclfile"])
            except ValueError as exc:
                self.log.warning("Aborting Redis startup because of ACL errors: %s", exc)
                raise SystemExit(1) from None
        cfg.on_change("requirepass", self.acl.require)
        cfg.on_change("acllog-max-len", lambda v: setattr(self.acl, "log_max", v))
        cfg.on_change("acl-pubsub-default",
                      lambda v: setattr(self.acl, "pubsub_default", v == "allchannels"))

    def _floor_backlog(self, size: int) -> None:
        """Redis's resizeReplicationBacklog: CONFIG SET keeps the backlog at 16 KiB at least."""
        if size < REPL_BACKLOG_MIN_SIZE:
            self.config.values["repl-backlog-size"] = REPL_BACKLOG_MIN_SIZE

    # -- ACL users ------------------------------------------------------------------------------

    def acl_changed(self, user: User, before: User) -> None:
        """ACL SETUSER changed `user`: its connections follow (checked or not), and those
        subscribed to a channel it may no longer use are closed, as Redis's
        ACLKillPubsubClientsIfNeeded decides: only when no selector has every channel and a
        channel pattern it had (or every channel) is gone, a subscription to a channel no
        pattern left matches, or to a pattern no longer listed as such."""
        upcoming = [c for s in user.selectors for c in s.channels]
        revoked = not any(s.allchannels for s in user.selectors) and any(
            s.allchannels or any(c not in upcoming for c in s.channels)
            for s in before.selectors)
        for client in list(self.clients.values()):
            if client.user is not user:
                continue
            client.set_user(user)
            if revoked and (any(p not in upcoming for p in client.psubs) or any(
                    not any(match(p, ch) for p in upcoming)
                    for ch in (*client.subs, *client.ssubs))):
                client.kill()

    def acl_deleted(self, user: User, caller: Client | None) -> None:
        """ACL DELUSER: its connections are closed (the caller's after its reply)."""
        for client in list(self.clients.values()):
            if client.user is user:
                client.close_after_reply() if client is caller else client.kill()

    def load_aclfile(self, path: str, caller: Client | None = None) -> None:
        """Replace the users with an ACL file's (Redis's ACLLoadFromFile): each line
        `user <name> <rules...>`. An error (ValueError naming the line) changes nothing. The
        default user stays the same object with the file's rules (or its initial ones), and
        the connections of every other user replaced are closed."""
        from .acl import merge_selectors

        fresh = Acl(log_max=self.acl.log_max, pubsub_default=self.acl.pubsub_default)
        del fresh.users[b"default"]
        try:
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")
        except OSError as exc:
            raise ValueError(f"Error loading ACLs, opening file '{path}': {exc.strerror}") \
                from None
        for number, line in enumerate(lines, 1):
            words = line.split()
            if not words:
                continue
            where = f"{path}:{number}"
            if words[0] != b"user" or len(words) < 2:
                raise ValueError(f"{where} should start with user keyword followed by the "
                                 f"username. {_ACL_NO_CHANGE}")
            if words[1] in fresh.users:
                raise ValueError(f"WARNING: Duplicate user '{words[1].decode()}' found on line "
                                 f"{number}. {_ACL_NO_CHANGE}")
            try:
                fresh.set_user(words[1], merge_selectors(words[2:]))
            except RuleError as exc:
                rule, reason = exc.args
                if reason == UNKNOWN:  # (the only text naming the rule: no secret in it)
                    reason = f"Error in applying operation '{rule.decode()}': {reason}"
                raise ValueError(f"{where}: {reason}. {_ACL_NO_CHANGE}") from None
            except ValueError:
                raise ValueError(f"{where}: Unmatched parenthesis in acl selector. "
                                 f"{_ACL_NO_CHANGE}") from None
        default = self.acl.default
        default.assign(fresh.users.pop(b"default", None) or Acl().default)
        fresh.users[b"default"] = default
        self.acl.users = fresh.users
        for client in list(self.clients.values()):
            if client.user is default:
                client.set_user(default)
            else:  # (the caller after its reply)
                client.close_after_reply() if client is caller else client.kill()

    def save_aclfile(self, path: str) -> None:
        lines = b"".join(u.describe().encode("utf-8", "surrogateescape") + b"\n"
                         for _, u in sorted(self.acl.users.items()))
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    # -- configuration --------------------------------------------------------------------------

    def _apply_config(self) -> None:
        cfg = self.config
        slower = cfg["slowlog-log-slower-than"]
        # Redis logs a command of at least `slower` us; durations are float seconds.
        self.slowlog_s = float("inf") if slower < 0 else (slower - 0.5) / 1e6
        self.slow_s = min(self.slowlog_s, 0.001)
        threshold = self.latency.threshold = cfg["latency-monitor-threshold"]
        # Commands at least this slow go to `slow_command` (SLOWLOG, latency events)
        self.watch_s = min(self.slowlog_s, threshold / 1000 - 1e-9) if threshold \
            else self.slowlog_s
        self.track_latency = cfg["latency-tracking"]
        self.qbuf_limit = cfg["client-query-buffer-limit"]
        maxlen = cfg["slowlog-max-len"]
        if self.slowlog.maxlen != maxlen:
            self.slowlog = deque(list(self.slowlog)[-maxlen:] if maxlen else [], maxlen=maxlen)
        obuf = cfg["client-output-buffer-limit"]
        self.obuf_check = self.outbox.limited = any(obuf["normal"])
        self.obuf_pubsub = any(obuf["pubsub"])
        self.log.level = _LEVELS[cfg["loglevel"]]
        for name, attr in THRESHOLDS:
            setattr(self.ks.limits, attr, cfg[name])
        self.memory.configure(cfg["maxmemory"], cfg["maxmemory-policy"])
        ks = self.ks
        ks.lazy_user_del = cfg["lazyfree-lazy-user-del"]
        ks.lazy_user_flush = cfg["lazyfree-lazy-user-flush"]
        ks.lazy_expire = cfg["lazyfree-lazy-expire"]
        self.replication.backlog_size = cfg["repl-backlog-size"]  # (read on every write)
        self.gate = self.gate_wanted()

    def _set_max_bulk(self, value: int) -> None:
        for client in self.clients.values():
            client.parser.max_bulk_len = value

    def gate_wanted(self) -> bool:
        return bool(self.monitors) or self.memory.maxmemory > 0 or self.memory.atime is not None \
            or self.write_paused_until > 0 or (
            self.persistence is not None and self.persistence.write_error is not None) \
            or self.master_link is not None or self.config["min-replicas-to-write"] > 0 \
            or self.busy is not None or self.loading is not None

    # -- a script past busy-reply-threshold (busy.py) ---------------------------------------------

    @property
    def serving(self) -> bool:
        """Whether the event loop serves clients (a script may then go busy)."""
        return self.outbox.call_soon is not None

    def serve_busy(self, script, started: float) -> None:
        """From the hook of a script still running past busy-reply-threshold: serve the other
        clients once, as Redis's processEventsWhileBlocked (`started`: its perf_counter)."""
        busy = self.busy
        if busy is None:
            busy = self.busy = Busy(self, script, script.ctx.client, started)
            self.gate = True
            self._signals_while_blocked()
            self.log.warning(
                "Slow script detected: still in execution after %d milliseconds. You can try "
                "killing the script using the %s command. Script name is: %s.",
                (time.perf_counter() - started) * 1000,
                "SCRIPT KILL" if busy.is_eval else "FUNCTION KILL", script.sha)
        busy.serve()

    def end_busy(self) -> None:
        busy, self.busy = self.busy, None
        self.gate = self.gate_wanted()
        busy.end()  # type: ignore[union-attr]
        self._signals_from_loop()

    def listening_fds(self) -> list[int]:
        fds = [sock.fileno() for sock in self._tcp]
        for srv in self._servers:
            fds += [sock.fileno() for sock in srv.sockets]
        return fds

    def new_client(self) -> Client:
        """The listeners' protocol factory. The loop calls the connection's connection_made
        later, from its queue: until then the client is `arriving` (busy.py needs it)."""
        client = Client(self)
        self.arriving.add(client)
        return client

    def next_client_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- per-command hooks (only while `gate` is up) --------------------------------------------

    def before_command(self, client: Client, argv: list[bytes]) -> str | None:
        """Monitor feed and maxmemory check. Returns an error text to refuse the command."""
        try:
            cmd = client.lookup(argv)
        except CommandError:
            return None  # the normal path replies with the lookup error
        if (client.monitor or client.replica is not None) and cmd.flags & _KEYSPACE_FLAGS:
            # Redis: a replica (a MONITOR is one) may not touch the keyspace
            return "ERR Replica can't interact with the keyspace"
        if self.busy is not None and not cmd.flags & ALLOW_BUSY \
                or self.loading is not None and not cmd.flags & LOADING:  # (refused: unmonitored)
            return None if client.state & MULTI else refusal(client, cmd, argv[0].lower(), argv)
        if self.monitors and cmd.name != "exec":  # EXEC: after the commands it runs (states.py)
            self.monitor_command(client, cmd, argv)
        if self.memory.atime is not None and cmd.name not in _NO_TOUCH and (
                not client.no_touch or cmd.name == "touch"):
            self.memory.touch(client.ctx.db, cmd.keys(argv))
        if client.state & MULTI:
            return None  # states.special already judged it (EXEC by what it would run)
        refused = refusal(client, cmd, argv[0].lower(), argv)  # OOM, MISCONF... as processCommand
        if refused is None and self.master_link is not None and cmd.flags & WRITE \
                and not client.is_master:
            # A writable replica's own write: the keys it writes that expired without their
            # DEL yet go first, as Redis 7.0's write lookups delete them there; the write must
            # not inherit their past TTL (a key it creates would read as absent).
            db = client.ctx.db
            now = self.ks.clock()
            for key in cmd.keys(argv):
                when = db.expires.get(key)
                if when is not None and when < now:
                    db.expire_key(key, force=True)
        return refused

    def monitor_command(self, client: Client, cmd, argv: list[bytes],
                        where: str | None = None) -> None:
        """Show a command to MONITOR clients as Redis shows it after running it: not if it is
        an admin command, with passwords "(redacted)", SELECT in the database it selects.
        `where` replaces the client's address ("lua" for a command a script ran)."""
        if cmd.flags & ADMIN:
            return
        name = cmd.name
        db = client.ctx.db.id
        argv = redacted(name, argv)
        if name == "select":
            try:
                index = parse_int(argv[1])
            except ValueError:
                index = -1
            if 0 <= index < len(self.ks.dbs):
                db = index
        self.feed_monitors(client, argv, db, where)

    def feed_monitors(self, client: Client, argv: list[bytes], db: int | None = None,
                      where: str | None = None) -> None:
        now = time.time()
        if where is None:
            where = f"unix:{self.config['unixsocket']}" if client.unix else client.addr
        line = (f"+{now:.6f} [{client.ctx.db.id if db is None else db} {where}] "
                + " ".join(_repr_arg(a) for a in argv) + "\r\n").encode()
        for mon in self.monitors:
            if mon is client:
                # Redis feeds monitors after the command ran: its reply comes first.
                client.after_reply.append(line)
                client.state |= PUSHES
            elif mon.transport is not None:
                self.outbox.put(mon, line)

    def add_monitor(self, client: Client) -> None:
        if client not in self.monitors:
            self.monitors.append(client)
            client.monitor = True
        self.gate = True

    def remove_monitor(self, client: Client) -> None:
        if client in self.monitors:
            self.monitors.remove(client)
        client.monitor = False
        self.gate = self.gate_wanted()

    def add_write_hook(self, hook: Callable, first: bool = False,
                       run: Callable | None = None) -> None:
        """`hook(ctx, argv)` after each write that changed data. `run(ctx, argvs)`, if given,
        does the hook's work for a pipelined run of writes each propagated as sent (see
        `commands.table.run_handler`)."""
        self.write_hooks.insert(0 if first else len(self.write_hooks), hook)
        if run is not None:
            self.run_hooks[hook] = run
        self._set_propagate()

    def remove_write_hook(self, hook: Callable) -> None:
        self.write_hooks.remove(hook)
        self.run_hooks.pop(hook, None)
        self._set_propagate()

    def _set_propagate(self) -> None:
        hooks = self.write_hooks
        self.propagate = fan_out(hooks)  # None without hooks: the loop skips it
        runs = [self.run_hooks[hook] for hook in hooks if hook in self.run_hooks]
        self.propagate_run = fan_out(runs) if len(runs) == len(hooks) else None

    def script_hook(self) -> Callable | None:
        """`Context.on_write`: the write hooks, for the writes inside a script."""
        return self.propagate

    def count_error(self, text: str, cmd, argv: list[bytes] | None = None) -> None:
        """An error reply. A command rejected before it ran (`cmd`, or the one `argv` names)
        counts it in its rejected_calls; pass neither for an error the command itself gave."""
        # Redis's afterErrorReply: the code is what precedes a space in the reply's first 32
        # bytes ("-" and 31 of the text, its CR and LF sent as spaces), ERR when there is none.
        head = text[:31].replace("\r", " ").replace("\n", " ")
        space = head.find(" ")
        prefix = head[:space] if space >= 0 else "ERR"
        stats = self.stats
        stats.errors[prefix] = stats.errors.get(prefix, 0) + 1
        stats.total_errors += 1
        if cmd is None and argv:
            cmd = resolve(argv)
        if cmd is not None:
            if cmd.one_command and argv and len(argv) > 1:
                # DEBUG's own argument errors: Redis's debugCommand ran and replied with it
                cmd.calls += 1
                cmd.failed += 1
            else:
                cmd.rejected += 1

    def internal_error(self, exc: Exception, cmd) -> str:
        """A command raised something other than its error reply: a bug in kvstore. The
        connection gets an error reply and stays, the log gets the traceback (Redis would
        crash with a report instead)."""
        self.log.warning("Internal error in '%s': %s", cmd.name,
                         "".join(traceback.format_exception(exc)).rstrip())
        text = f"ERR internal error in '{cmd.name}': {type(exc).__name__}"
        self.count_error(text, None)
        return text

    def timed(self, caller, cmd, argv: list[bytes], seconds: float) -> None:
        """A command run by EXEC or a script took `seconds`: its own commandstats time,
        latency histogram, SLOWLOG entry and latency event, as Redis's call() gives it.
        `caller` is the client, or for a script's call one with Redis's "?:0" address."""
        cmd.seconds += seconds
        if self.track_latency:
            cmd.durations.append(seconds)
        if seconds > self.watch_s:
            self.slow_command(caller, cmd, argv, seconds)

    def slow_command(self, client: Client, cmd, argv: list[bytes], seconds: float) -> None:
        """A command (or a timed run of one) took at least `watch_s`. (One that blocked comes
        here when it is served, from blocking.py, as Redis logs it then.)"""
        if seconds > self.slowlog_s:
            self.slowlog_add(client, argv, seconds)
        self.latency.command(cmd, seconds)

    def slowlog_add(self, client: Client, argv: list[bytes], seconds: float) -> None:
        name = argv[0].lower()
        cmd = COMMANDS.get(name)
        if cmd is not None and name == b"exec":  # Redis: SKIP_SLOWLOG
            return
        if cmd is not None:
            if cmd.subcommands and len(argv) > 1:
                cmd = cmd.subcommands.get(argv[1].lower(), cmd)
            argv = redacted(cmd.name, argv)
        args = []
        for i, a in enumerate(argv[:SLOWLOG_ARGS_MAX]):
            if i == SLOWLOG_ARGS_MAX - 1 and len(argv) > SLOWLOG_ARGS_MAX:
                a = b"... (%d more arguments)" % (len(argv) - SLOWLOG_ARGS_MAX + 1)
            elif len(a) > SLOWLOG_ARG_LEN_MAX:
                a = a[:SLOWLOG_ARG_LEN_MAX] + b"... (%d more bytes)" % (
                    len(a) - SLOWLOG_ARG_LEN_MAX)
            args.append(a)
        self.slowlog.appendleft([self.slowlog_next_id, int(time.time()), int(seconds * 1e6), args,
                                 client.addr.encode(), client.name])
        self.slowlog_next_id += 1

    # -- output buffer limits -------------------------------------------------------------------

    def over_hard_limit(self, client: Client, size: int) -> bool:
        """Before writing `size` bytes: True (and the client killed) when they and what waits
        already exceed its class's hard limit."""
        if client.kind == "replica":  # (a snapshot to a replica is not reply data)
            return False
        hard = self.config["client-output-buffer-limit"][client.kind][0]
        if not hard or size + client.transport.get_write_buffer_size() <= hard:
            return False
        self._close_over_limit(client)
        return True

    def _close_over_limit(self, client: Client) -> None:
        self.log.warning("Client %s scheduled to be closed ASAP for overcoming of output "
                         "buffer limits.", client.describe())
        client.kill()

    def check_output_limits(self, client: Client) -> None:
        transport = client.transport
        if transport is None or client.state & CLOSING:
            return
        size = transport.get_write_buffer_size()
        replica = client.replica
        if replica is not None:  # its stream counts, not its file (replication.py)
            size = len(replica.pending) if replica.pending is not None \
                else min(size, replica.streamed)
        hard, soft, secs = self.config["client-output-buffer-limit"][client.kind]
        over_soft = soft and size > soft
        if over_soft and not client.obuf_soft_since:
            client.obuf_soft_since = self.now_mono
        elif not over_soft:
            client.obuf_soft_since = 0.0
        # Over the soft limit for more than `secs` whole seconds, as Redis counts in unixtime
        if (hard and size > hard) or (
                over_soft and int(self.now_mono) - int(client.obuf_soft_since) > secs):
            self._close_over_limit(client)

    # -- watchdog -------------------------------------------------------------------------------

    def _arm_watchdog(self) -> None:
        """Redis's software watchdog (watchdog-period, ms): if the loop does not come back here
        within the period, the stacks of every thread go to the log (faulthandler's timer
        thread writes them: "Timeout (...)!" and where each thread is), which shows the
        command or script that stalls the server. Re-armed at each cron, as Redis re-arms
        its SIGALRM; the period is at least two cron intervals, as Redis's is (2 / hz)."""
        period = self.config["watchdog-period"]
        if period:
            seconds = max(period, 2 * CRON_SLOW_MS) / 1000.0
            faulthandler.dump_traceback_later(seconds, file=self.log.stream)
            self._watchdog = True
        elif self._watchdog:
            faulthandler.cancel_dump_traceback_later()
            self._watchdog = False

    # -- lazy freeing ---------------------------------------------------------------------------

    def _schedule_lazyfree(self) -> None:
        if not self._lazyfree_scheduled:
            try:
                asyncio.get_running_loop().call_soon(self._lazyfree_slice)
            except RuntimeError:  # (no loop yet: loading at start-up; the cron starts it)
                return
            self._lazyfree_scheduled = True

    def _lazyfree_slice(self) -> None:
        """Free a slice of what UNLINK & co. left (engine/lazyfree.py), once per loop iteration
        while any is left: a client's command waits for one slice at most."""
        if self.ks.lazyfree.step(LAZYFREE_SLICE_MS):
            asyncio.get_running_loop().call_soon(self._lazyfree_slice)
        else:
            self._lazyfree_scheduled = False

    # -- cron -----------------------------------------------------------------------------------

    def _cron(self) -> None:
        loop = asyncio.get_running_loop()
        self._cron_handle = loop.call_later(self.ks.expire_period(), self._cron)
        if self.cron_paused:
            return
        self._arm_watchdog()
        if self.ks.lazyfree:
            self._schedule_lazyfree()
        spent_us = self.ks.expire_cycle_us
        self.ks.active_expire()
        if self.ks.own_expires:
            if self.master_link is not None:
                self.ks.expire_own()
            else:  # (a master's active cycle expires every key)
                self.ks.own_expires.clear()
        if self.latency.threshold:
            self.latency.add("expire-cycle", (self.ks.expire_cycle_us - spent_us) // 1000)
        now = time.monotonic()
        # (5 ms short of the period: a timer of ACTIVE_EXPIRE_IDLE_MS, the same 100 ms, may fire
        # a little early by this clock, and the slow part would then wait for the next one)
        if now - self._last_slow < (CRON_SLOW_MS - 5) / 1000.0:
            return
        self._last_slow = self.now_mono = now
        self.stats.sample(now, total_calls())
        fold_all()
        sweep_scans(self.ks)
        kept = getattr(self.ks, "migrate_sockets", None)
        if kept:
            close_idle_migrate_sockets(kept)
        for db in self.ks.dbs:
            db.shrink()
        if (self.paused_until or self.write_paused_until) \
                and time.time() >= max(self.paused_until, self.write_paused_until):
            self.unpause()
        timeout = self.config["timeout"]
        check_obuf = self.obuf_check
        # A subscriber over its soft limit goes in time even if no message comes (clientsCron).
        check_pubsub = self.obuf_pubsub
        if timeout or check_obuf or check_pubsub:
            for client in list(self.clients.values()):
                # Redis's clientsCronHandleTimeout: never monitors, replicas, our master,
                # blocked clients (BLPOP & co., WAIT, a postponed one, one whose input CLIENT
                # PAUSE holds: their own timeouts) or subscribers; an idle one is freed at once,
                # output it never read dropped.
                if timeout and now - client.last_interaction > timeout \
                        and not client.state & (BLOCKED | CLOSING) and not client.held \
                        and client.kind == "normal" and not client.monitor \
                        and not client.is_master and client.replica is None:
                    transport = client.transport
                    pending = transport.get_write_buffer_size() if transport is not None else 0
                    if pending != client.obuf_seen:
                        # Its output drained since the last look (to nothing, maybe: the rest
                        # is in the kernel's buffers, still to be read): Redis counts a write
                        # that reaches the client as an interaction, so a slow reader stays (one
                        # that stopped goes a timeout later than in Redis at most).
                        client.obuf_seen = pending
                        client.last_interaction = now
                    else:
                        self.log.verbose("Closing idle client")
                        client.kill()
                elif check_obuf or check_pubsub and client.kind == "pubsub":
                    self.check_output_limits(client)
        if self.memory.maxmemory:
            self.memory.estimate_small()
            self.memory.sample()
            if self.memory.used > self.memory.maxmemory:
                self.memory.make_room()  # (what the last command left over: Redis's timer proc)
        if self.config["maxmemory-clients"]:
            client_eviction.check_all(self)
        if self.replication.aof_waiting:
            self.replication.check_aof_waiting()
        if self.replication.failover_state == WAIT_FOR_SYNC:
            self.replication.check_failover()

    # -- CLIENT PAUSE ---------------------------------------------------------------------------

    def pause(self, until: float, write_only: bool) -> None:
        """CLIENT PAUSE until `until` (wall seconds). As in Redis, one end time (the latest
        asked for) and the stricter mode hold. ALL: clients hold their input themselves
        (`Client.hold`) while `paused_until` is set. WRITE: the gate is raised and a client
        that reaches a write is postponed (`postpone`) with what it sent after it."""
        end = max(self.paused_until, self.write_paused_until, until)
        if write_only and not self.paused_until:
            self.write_paused_until = end
        else:
            self.paused_until = end
            self.write_paused_until = 0.0
        # Redis suspends expiry while paused (PAUSE_ACTION_EXPIRE): an expired key is hidden
        # from reads but stays, as on a replica, until the pause ends
        self.ks.replica = True
        self.gate = self.gate_wanted()

    def postpone(self, client: Client, argv: list[bytes]) -> bool:
        """Under CLIENT PAUSE WRITE, stop `client` at a command that writes or may propagate
        (EXEC of a transaction holding one included), as Redis's BLOCKED_POSTPONE does: it and
        the client's later commands run at unpause. True when the client was stopped."""
        try:
            cmd = lookup(argv)
        except CommandError:
            return False
        # Redis refuses before its pause check: NOAUTH, and a RESP2 subscriber's other commands
        if client.state & NEEDS_AUTH and not cmd.flags & NO_AUTH or \
                client.state & SUBSCRIBED and argv[0].lower() not in SUBSCRIBED_OK:
            return False
        ctx = client.ctx  # (EVAL and FCALL: as their script or function declares)
        writes = cmd.flags_for(ctx, argv) & (WRITE | MAY_REPLICATE)
        if not writes and cmd.name == "exec" and client.state & MULTI:
            writes = any(queued.flags_for(ctx, queued_argv) & (WRITE | MAY_REPLICATE)
                         for queued, queued_argv in client.queue)
        if not writes:
            return False
        self.stop_until_unpause(client, cmd, [argv])
        return True

    def stop_until_unpause(self, client: Client, cmd, argvs: list[list[bytes]]) -> None:
        """Redis's BLOCKED_POSTPONE: `argvs` (from `cmd` on) and whatever the client sends
        after them run at unpause, in the order clients stopped."""
        client.pending += argvs
        client.state |= BLOCKED
        client.last_cmd = cmd  # (CLIENT LIST cmd=, as Redis's)
        self.postponed[client] = None

    def unpause(self) -> None:
        """The end of CLIENT PAUSE (and of a FAILOVER's, which only the failover's end
        lifts: CLIENT UNPAUSE leaves writes paused meanwhile)."""
        self.paused_until = 0.0
        self.write_paused_until = float("inf") if self.replication.failover_state != \
            NO_FAILOVER else 0.0
        self.ks.replica = self.master_link is not None or bool(self.write_paused_until)
        self.gate = self.gate_wanted()
        postponed, self.postponed = self.postponed, {}
        loop = asyncio.get_running_loop()
        for client in postponed:
            # Blocked until its turn, after this iteration's reads: input arriving meanwhile
            # waits behind what the pause stopped
            client.state |= BLOCKED
            loop.call_soon(_release, client)

    # -- lifecycle ------------------------------------------------------------------------------

    def stop_requested(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def abort_shutdown(self) -> bool:
        """SHUTDOWN ABORT, as Redis's abortShutdown: a shutdown waiting for its replicas, or one
        a signal asked for that has not begun (the loop held up by a busy script, say), is
        called off. False when there is none."""
        if self.shutdown_waiting:
            self.shutdown_aborted = True  # (`_replicas_caught_up` logs it and resumes writes)
        elif self.signalled_shutdown is not None:  # (held by DEBUG PAUSE-CRON)
            self.signalled_shutdown = None
            self.log.notice("Shutdown manually aborted.")
        elif self.stop_requested() and not self.shutdown_requesters:
            self._stop.clear()
            self.log.notice("Shutdown manually aborted.")
        else:
            return False
        return True

    def request_shutdown(self, flags: set[str] | None = None, requester=None) -> None:
        """Stop at the end of this loop iteration. `requester`: a client whose SHUTDOWN hears
        why, if the server refuses to stop. One waiting for its replicas keeps its flags."""
        if not self.shutdown_waiting:
            self.shutdown_flags = flags or set()
        if requester is not None:
            self.shutdown_requesters.append(requester)
        if self._stop is not None:
            self._stop.set()

    async def start(self) -> None:
        """Open the listeners (raises OSError if a mandatory address cannot be bound)."""
        loop = asyncio.get_running_loop()
        cfg = self.config
        port = cfg["port"]
        backlog = cfg["tcp-backlog"]
        # The unix socket first: whoever waits for the TCP port then finds it too.
        if cfg["unixsocket"]:
            path = cfg["unixsocket"]
            if os.path.exists(path):
                os.unlink(path)
            try:
                srv = await loop.create_unix_server(self.new_client, path, backlog=backlog)
            except OSError as exc:
                raise OSError(f"Failed opening Unix socket: bind: {exc.strerror}") from None
            if cfg["unixsocketperm"]:
                os.chmod(path, cfg["unixsocketperm"])
            self._servers.append(srv)
        socks = self._open_tcp(cfg["bind"], port)
        if port and not socks and cfg["bind"].split():
            raise OSError("Failed listening on port %d (tcp), aborting." % port)
        if not socks and not cfg["unixsocket"]:
            raise OSError("Configured to not listen anywhere, exiting.")
        self._listen_on(socks, cfg["bind"], port)

    def _open_tcp(self, bind: str, port: int) -> list[socket.socket]:
        """Listening sockets at `port` on each address of `bind` (none for port 0). An optional
        ("-") address that fails is skipped; another failure is logged, closes the sockets
        opened and raises OSError."""
        socks: list[socket.socket] = []
        for addr in bind.split() if port else ():
            optional = addr.startswith("-")
            host = addr.lstrip("-")
            host = {"*": "0.0.0.0", "::*": "::"}.get(host, host)
            try:
                socks.append(_listening_socket(host, port, self.config["tcp-backlog"]))
            except OSError as exc:
                if optional:
                    continue
                self.log.warning("Warning: Could not create server TCP listening socket "
                                 "%s:%d: %s", host, port, exc.strerror or exc)
                for sock in socks:
                    sock.close()
                raise
        return socks

    def _listen_on(self, socks: list[socket.socket], bind: str, port: int) -> None:
        """Make `socks` the TCP listeners in force. They queue connections already; the server
        accepts them from the next loop iteration."""
        self._tcp = dict.fromkeys(socks)
        self._listening = (bind, port)
        self.ports = sorted({sock.getsockname()[1] for sock in socks})
        asyncio.get_running_loop().create_task(self._serve_tcp(socks))

    async def _serve_tcp(self, socks: list[socket.socket]) -> None:
        """Accept on those of `socks` still in force (a later CONFIG SET in the same batch may
        have closed them already)."""
        loop = asyncio.get_running_loop()
        for sock in socks:
            if sock in self._tcp:
                # Not serving yet, create_server returns without yielding to another task:
                # the server is in `_tcp` before anything can close the socket under it.
                srv = self._tcp[sock] = await loop.create_server(
                    self.new_client, sock=sock, backlog=self.config["tcp-backlog"],
                    start_serving=False)
                await srv.start_serving()

    def _close_tcp(self) -> None:
        """Stop listening on TCP; the connections accepted stay open."""
        for sock, srv in self._tcp.items():
            (sock if srv is None else srv).close()
        self._tcp = {}

    def _relisten(self, name: str) -> None:
        """CONFIG SET port / bind: listen at the new address at once, as Redis's
        changeListenPort / changeBindAddr. A new port is opened before the old listeners close,
        so they stay if it fails; new addresses may include old ones at the same port, so the
        old listeners close first and reopen if it fails. Raises ConfigError on failure."""
        cfg = self.config
        old = self._listening
        if (cfg["bind"], cfg["port"]) == old:
            return  # Redis does nothing for an unchanged value
        if name == "bind":
            self._close_tcp()
        try:
            socks = self._open_tcp(cfg["bind"], cfg["port"])
        except OSError:
            if name == "bind":
                self.log.warning("Failed to bind")
                self._listen_on(self._open_tcp(*old), *old)
            self.log.warning("Failed applying new configuration. Possibly related to new %s "
                             "setting. Restoring previous settings.", name)
            raise ConfigError(_LISTEN_FAILED[name]) from None
        self._close_tcp()
        self._listen_on(socks, cfg["bind"], cfg["port"])
        if self.process is not None and cfg["set-proc-title"]:
            self.process.set_title()

    def load(self) -> None:
        """Load the data set (persistence/server_hook.attach), serving the clients that connect
        meanwhile (loading.py). Raises LoadingStopped when a shutdown is asked for first."""
        from ..persistence.server_hook import attach

        with self.loading_state() as loading, self.ks.loading():
            attach(self, loading.progress)

    @contextlib.contextmanager
    def loading_state(self, client=None) -> Iterator[Loading]:
        """While a data set loads on the loop's thread (at start-up, or a replica's from its
        master, whose link is `client`): clients are served by hand, LOADING to most commands
        (loading.py). LoadingStopped (a shutdown asked for meanwhile) goes through."""
        loading = self.loading = Loading(self, client)
        self.gate = True
        self._signals_while_blocked()
        try:
            yield loading
        except LoadingStopped:
            loading.abort()  # (the server stops: Python's handlers stay, for a second SIGINT)
            raise
        else:
            loading.end()
            self._signals_from_loop()
        finally:
            self.loading = None
            self.gate = self.gate_wanted()

    def install_signals(self) -> None:
        """SIGTERM and SIGINT shut the server down, from the loop."""
        loop = asyncio.get_running_loop()
        for sig, name in SHUTDOWN_SIGNALS:
            loop.add_signal_handler(sig, self.on_signal, name)
        self.signals = True

    def _signals_while_blocked(self) -> None:
        """The loop's handlers wait for the loop, which a load or a busy script holds up:
        Python's run at once meanwhile (`_on_blocked_signal`). The loop's wakeup fd is set
        aside too, or the loop would take each such signal again afterwards."""
        if self.signals and self._wakeup_fd < 0:
            loop = asyncio.get_running_loop()
            for sig, _ in SHUTDOWN_SIGNALS:
                loop.remove_signal_handler(sig)
                signal.signal(sig, self._on_blocked_signal)
            self._wakeup_fd = signal.set_wakeup_fd(-1)

    def _signals_from_loop(self) -> None:
        if self._wakeup_fd >= 0:
            signal.set_wakeup_fd(self._wakeup_fd)
            self._wakeup_fd = -1
            self.install_signals()

    def _on_blocked_signal(self, signum: int, frame) -> None:
        """As Redis's sigShutdownHandler: a second SIGINT exits there and then; otherwise the
        shutdown is asked for (a load stops at its next step, a busy script runs to its end)."""
        if signum == signal.SIGINT and self.stop_requested():
            self.log.warning("You insist... exiting now.")
            if self.persistence is not None:  # (a final save may be half written)
                self.persistence.remove_temp_snapshot()
            os._exit(1)
        self.on_signal(signal.Signals(signum).name)

    def on_signal(self, name: str) -> None:
        """SIGTERM or SIGINT: a shutdown with shutdown-on-sigterm / shutdown-on-sigint's
        flags."""
        if self.loading is not None:
            self.log.warning("Received shutdown signal during loading, scheduling shutdown.")
        else:
            self.log.warning("Received %s scheduling shutdown...", name)
        flags = set(self.config["shutdown-on-" + name.lower()])
        if self.cron_paused:
            self.signalled_shutdown = flags  # (`pause_cron` starts it when the cron resumes)
        else:
            self.request_shutdown(flags)

    def pause_cron(self, paused: bool) -> None:
        """DEBUG PAUSE-CRON: the cron's work stops or resumes, with a signal's shutdown."""
        self.cron_paused = paused
        if not paused and self.signalled_shutdown is not None:
            flags, self.signalled_shutdown = self.signalled_shutdown, None
            self.request_shutdown(flags)

    async def serve(self, shutdown_event: asyncio.Event | None = None) -> int:
        """Run until `shutdown_event` (or SHUTDOWN, or a signal) fires. Returns the exit code."""
        self._stop = shutdown_event or asyncio.Event()
        log = self.log
        adjust_open_files_limit(self.config, log)
        log.warning("Server initialized")  # (a warning in Redis 7.0)
        self.outbox.call_soon = asyncio.get_running_loop().call_soon
        # A replica from the start: keys expired in its file wait for its master's DELs
        self.ks.replica = bool(self.config["replicaof"])
        await self.start()  # listening first, as Redis: a client gets LOADING meanwhile
        try:
            self.load()
        except LoadingStopped:
            code = await self.stop()  # (no persistence hook yet: nothing is saved)
            return 1 if code is None else code
        self.memory.baseline()
        if self.process is not None:  # (as Redis, once loaded)
            pin(self.config["server_cpulist"])
            self.process.set_oom_score()
        if self.ports:
            log.notice("Ready to accept connections tcp")
        if self.config["unixsocket"]:
            log.notice("The server is now ready to accept connections at %s",
                       self.config["unixsocket"])
            log.notice("Ready to accept connections unix")
        if self.supervised == "systemd":
            notify_systemd(log, "STATUS=Ready to accept connections in read-only mode. Waiting "
                           "for MASTER <-> REPLICA sync\n" if self.config["replicaof"]
                           else "STATUS=Ready to accept connections\n")
            notify_systemd(log, "READY=1\n")
        self._cron()
        if self.config["replicaof"]:  # "host port", checked when the configuration was read
            host, port = self.config["replicaof"].split()
            self.replicaof(host, int(port), continue_history=False)
            # (a snapshot that says where its data set is in a history: ask to continue it)
            loaded = self.persistence.loaded_history if self.persistence is not None else None
            self.master_link.cached = loaded  # type: ignore[union-attr]
        while True:
            await self._stop.wait()
            if not self._stop.is_set():
                continue  # a signal's shutdown called off before it began (`abort_shutdown`)
            code = await self.stop()
            if code is not None:
                return code
            self._stop.clear()  # refused (the final save failed, an ABORT): serving goes on
            requesters, self.shutdown_requesters = self.shutdown_requesters, []
            for requester in requesters:
                if requester.transport is not None:
                    deliver(requester, Error("ERR Errors trying to SHUTDOWN. Check logs."))
                    requester.state &= ~BLOCKED
                    asyncio.get_running_loop().call_soon(resume, requester)

    # -- REPLICAOF (replica_link.py) ---------------------------------------------------------

    def replicaof(self, host: str, port: int, continue_history: bool = True) -> None:
        """Become (or stay) a replica of host:port, dropping any link to another master. With
        `continue_history`, ask it to continue the history our data set is at (ours as a
        master, our old master's as a replica), as Redis does: a promoted sibling knows it."""
        replication = self.replication
        link = self.master_link
        history = None
        if continue_history:
            history = (replication.replid, replication.offset, max(replication.stream_db, 0)) \
                if link is None else link.history()
        if link is not None:
            link.close()
        self.unblock_all_blocked()
        # (our replicas stay: the same history goes on, or we let them go when it changes)
        self.config.values["replicaof"] = f"{host} {port}"
        self.master_link = MasterLink(self, host, port)
        self.master_link.cached = history
        self.ks.replica = True
        self.log.role = "S"  # Redis's log lines say a replica's
        self.gate = self.gate_wanted()
        if self.process is not None:
            self.process.set_oom_score()
        self.master_link.start()

    def unblock_all_blocked(self) -> None:
        """Redis's disconnectAllBlockedClients, as the server becomes a replica: a client
        blocked on keys (BLPOP...) or in WAIT gets the UNBLOCKED error and is closed after
        it. Served by its new master's stream, a pop would make the data sets differ."""
        text = ("UNBLOCKED force unblock from blocking operation, instance state changed "
                "(master -> replica?)")
        for client in list(self.clients.values()):
            waiter = getattr(client, "waiter", None)
            if waiter is not None:
                self.keywatch.finish(waiter, Error(text))
            elif not self.replication.unblock(client, True, text):
                continue
            client.close()

    def replicaof_none(self) -> None:
        """REPLICAOF NO ONE: a master again, with the data set as it is."""
        link = self.master_link
        if link is None:
            return
        whole = link.history() is not None
        link.close()
        self.master_link = None
        self.config.values["replicaof"] = ""
        self.log.role = "M"
        if self.process is not None:
            self.process.set_oom_score()
        self.ks.replica = bool(self.paused_until or self.write_paused_until)
        # Our history goes on under a new ID: who shared it continues with us (psync2)
        if whole:
            self.replication.shift_history()
        else:
            self.replication.new_history()
            self.replication.disconnect_replicas()
        self.replication.alone()
        self.gate = self.gate_wanted()
        self.log.notice("MASTER MODE enabled")

    async def _replicas_caught_up(self) -> bool:
        """Redis 7's shutdown-timeout: with replicas behind, writes pause and the shutdown waits
        up to that many seconds for their ACKs (not with NOW, nor during a load). False when
        SHUTDOWN ABORT came meanwhile: writes resume and the server goes on."""
        replication = self.replication
        timeout = self.config["shutdown-timeout"]
        if "now" in self.shutdown_flags or not timeout or self.loading is not None \
                or replication.in_sync():
            return True
        self.log.notice("Waiting for replicas before shutting down.")
        self._signals_while_blocked()  # (a second SIGINT meanwhile exits at once, as in Redis)
        paused = self.paused_until, self.write_paused_until
        self.pause(float("inf"), write_only=True)
        replication.ask_acks()
        deadline = self.shutdown_deadline = time.monotonic() + timeout
        self.shutdown_waiting, self.shutdown_aborted = True, False
        try:
            while True:
                # (an ABORT first: the ACK it came before may have arrived since)
                if self.shutdown_aborted:
                    self.log.notice("Shutdown manually aborted.")
                    self._signals_from_loop()
                    self.unpause()
                    if any(paused):  # a CLIENT PAUSE from before goes on
                        self.pause(max(paused), write_only=not paused[0])
                    return False
                if time.monotonic() >= deadline or replication.in_sync():
                    break
                await asyncio.sleep(0.01)  # (an ACK is read meanwhile)
        finally:
            self.shutdown_waiting = False
        return True

    async def stop(self) -> int | None:
        """Shut down: the exit code, or None when a final save failed and the server must keep
        serving (Redis's prepareForShutdown refusal)."""
        log = self.log
        log.warning("User requested shutdown...")
        for pid in list(self.ldb_children):  # (as Redis's ldbKillForkedSessions)
            log.warning("Killing debugging session %d", pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.ldb_children.clear()
        if not await self._replicas_caught_up():
            return None
        self.replication.log_lagging()
        if self.supervised == "systemd":
            notify_systemd(log, "STOPPING=1\n")
        self.outbox.drain()  # the replies of the last loop iteration
        code = 0
        # Persistence first, while nothing is closed yet: a refusal leaves the server whole. A
        # final save holds the loop up: a second SIGINT meanwhile exits at once, as in Redis.
        self._signals_while_blocked()
        for hook in self.on_shutdown:
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
            except ShutdownRefused:
                log.warning("Errors trying to shut down the server. Check the logs for more "
                            "information.")
                self._signals_from_loop()
                return None
            except Exception as exc:  # noqa: BLE001 - a failing hook must not stop the exit
                log.warning("Error in shutdown hook: %s", exc)
                code = 1
        for srv in self._servers:
            srv.close()
        self._close_tcp()
        if self.master_link is not None:
            self.master_link.close()
        if self._cron_handle is not None:
            self._cron_handle.cancel()
        if self._watchdog:
            faulthandler.cancel_dump_traceback_later()
        for client in list(self.clients.values()):
            client.close()
        if self.config["unixsocket"] and os.path.exists(self.config["unixsocket"]):
            log.notice("Removing the unix socket file.")
            os.unlink(self.config["unixsocket"])
        await asyncio.sleep(0)  # let the transports flush and close
        log.warning("Redis is now ready to exit, bye bye...")
        return code


# Configs whose values Redis never shows in MONITOR or SLOWLOG (its SENSITIVE_CONFIG flag)
_SENSITIVE_CONFIGS = frozenset((b"requirepass", b"masterauth"))


def _release(client: Client) -> None:
    """A client's turn after CLIENT PAUSE: what the pause stopped runs."""
    client.state &= ~BLOCKED
    resume(client)


def redacted(name: str, argv: list[bytes]) -> list[bytes]:
    """argv as MONITOR and SLOWLOG show it: passwords "(redacted)", as Redis's
    redactClientCommandArgument does while a command parses them. `name`: the command's."""
    if name == "auth":
        return argv[:1] + [_REDACTED] * (len(argv) - 1)
    if name == "hello":
        argv = list(argv)
        for i in range(2, len(argv) - 2):
            if argv[i].lower() == b"auth":
                argv[i + 1] = argv[i + 2] = _REDACTED
        return argv
    if name == "migrate":
        return _redact_migrate(argv)
    if name == "acl|setuser":  # the user's name and every rule
        return argv[:2] + [_REDACTED] * (len(argv) - 2)
    if name == "config|set":
        argv = list(argv)
        for i in range(2, len(argv) - 1, 2):
            if argv[i].lower() in _SENSITIVE_CONFIGS:
                argv[i + 1] = _REDACTED
    return argv


def _redact_migrate(argv: list[bytes]) -> list[bytes]:
    """MIGRATE's argv with AUTH / AUTH2 credentials "(redacted)", as far as Redis's option
    loop reads them (not in the keys after KEYS)."""
    argv = list(argv)
    j = 6
    while j < len(argv):
        opt = argv[j].lower()
        if opt == b"auth" and j + 1 < len(argv):
            argv[j + 1] = _REDACTED
            j += 1
        elif opt == b"auth2" and j + 2 < len(argv):
            argv[j + 1] = argv[j + 2] = _REDACTED
            j += 2
        elif opt not in (b"copy", b"replace"):
            break
        j += 1
    return argv


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """As Redis's anetTcpServer (not socket.create_server, whose error text names the address).
    IPv6 only on an IPv6 address, so "* -::*" listens on both at the same port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency, but stay runnable
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(config: Config | None = None, shutdown_event: asyncio.Event | None = None,
        install_signals: bool = True, server: Server | None = None) -> int:
    """Run a server until shutdown; returns the exit code. Blocks the calling thread.

    `shutdown_event`: an asyncio.Event (created for the server's loop by the caller, or None) that
    stops the server when set, so tests and the binary each choose the trigger.
    """
    server = server or Server(config)
    log = server.log

    async def main() -> int:
        if install_signals:
            server.install_signals()
            # As Redis: SIGALRM (its watchdog's) and SIGHUP (the terminal it was started from
            # closing) do not stop the server, and a crash by SIGSEGV, SIGABRT, SIGBUS, SIGFPE
            # or SIGILL leaves a report (the stacks) in the log.
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            faulthandler.enable(file=log.stream, all_threads=True)
        return await server.serve(shutdown_event)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        try:
            return runner.run(main())
        except OSError as exc:
            log.warning("%s", exc)
            return 1


SHUTDOWN_SIGNALS = ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT"))
_LOGO = r"""
  _                _
 | | ____   _____ | |_  ___   _ __  ___     kvstore %s (Redis %s compatible) 64 bit
 | |/ /\ \ / / __|| __|/ _ \ | '__|/ _ \    Running in standalone mode
 |   <  \ V /\__ \| |_| (_) || |  |  __/    Port: %d
 |_|\_\  \_/ |___/ \__|\___/ |_|   \___|    PID: %d

"""


def startup_banner(server: Server) -> None:
    log = server.log
    log.role = "C"
    warn_of_oom_values(server.config, log)  # (Redis: as it reads its configuration)
    log.warning("oO0OoO0OoO0Oo kvstore is starting oO0OoO0OoO0Oo")
    log.warning("kvstore version=%s, redis-compatible=%s, bits=64, pid=%d, just started",
                __version__, REDIS_VERSION, os.getpid())
    server.supervised = supervision(server.config["supervised"], log)
    log.role = "M"
    cfg = server.config
    # As Redis: the logo on a terminal the log goes to, or with always-show-logo (with its
    # "Port:" and "PID:" lines, which Redis's own test harness waits for); a line otherwise.
    if cfg["always-show-logo"] or (not cfg["syslog-enabled"] and not cfg["logfile"]
                                   and sys.stdout.isatty()):
        log.raw(_LEVELS["notice"], _LOGO % (__version__, REDIS_VERSION, cfg["port"], os.getpid()))
    else:
        log.notice("Running mode=standalone, port=%d.", cfg["port"])


__all__ = ["Log", "Server", "run"]
