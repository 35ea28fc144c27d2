"""One client connection: its state and its `asyncio.Protocol`, which is the server's hot path.

`read` feeds the parser, runs every complete command with no await between them, encodes each
reply into one list and queues the batch as one bytes object; the server's outbox writes it with
ONE `transport.write` at the end of the loop iteration (DESIGN decisions 2, 4; outbox.py).
A command error becomes `-ERR ...` and the connection stays; a protocol error is replied after
the good commands before it, then the connection closes (Redis `networking.c`).

Two shortcuts keep the commonest shapes cheap, each falling back to the general path for anything
it does not take. `data_received` runs a read that is exactly one small command (a request-reply
client; redis-benchmark without -P) without the batch machinery. In a batch, a run of one
command that has a run handler (SET, GET, INCR, MSET, HSET: `commands.table.run_handler`) is
done by that handler in one call while nothing watches writes.

The per-command path checks one integer, `state`, that is non-zero only when the connection needs
special handling (not yet authenticated, CLIENT REPLY OFF/SKIP, closing, MULTI, pub/sub,
blocked, CLIENT TRACKING), and one server-wide flag, `server.gate` (see server.py), raised only
while some feature must see every command. Everything else (stats, slowlog) is a few integer
operations per command.

Flow control: the transport's high-water mark makes asyncio call `pause_writing`; we then stop
reading from that client, so a client that pipelines without reading its replies cannot make the
server buffer them without bound. Output-buffer limits per client class (hard, soft + seconds)
are enforced where the outbox writes and by the server's cron.
"""

from __future__ import annotations

import asyncio
import socket
import time
from time import perf_counter

from ..commands.table import (COMMANDS, LOGGED, NO_AUTH, WRITE, Context, lookup, no_notify,
                              propagate_effects, resolve)
from ..errors import CommandError, line_text, wrong_args
from ..replies import OK, PONG, QUEUED, Status
from ..errors import ProtocolError
from ..persistence.aof import encode_argvs
from ..protocol import RequestParser, encode_into
from ..protocol.encoder import BULK_HEADERS
from . import acl
from .client_eviction import entries_bytes

# `state` bits: any of them sends a command through `_special`.
NEEDS_AUTH = 1
REPLY_OFF = 2
SKIP_NEXT = 4        # CLIENT REPLY SKIP: drop the reply of the next command
CLOSING = 8
DROP_LAST = 16       # drop the reply of the command that just ran
MULTI = 32           # inside MULTI: commands are queued (states.py)
SUBSCRIBED = 64      # RESP2 with subscriptions: only (un)subscribe, PING, QUIT, RESET
BLOCKED = 128        # waiting in BLPOP & co.: later commands wait too (blocking.py)
TRACKING = 256       # CLIENT TRACKING in default mode: reads are remembered (tracking.py)
PUSHES = 512         # invalidations wait for the reply of the command that caused them
ACL_CHECK = acl.ACL_CHECK  # a restricted ACL user's connection: each command is checked
_TXPS = MULTI | SUBSCRIBED | BLOCKED
_BATCH_END = DROP_LAST | PUSHES  # the bits the end of a batch acts on (one global load)

VERBOSE = 1  # the loglevel (server.Log) at which connections coming and going are logged

# A transport holding more than this many unsent bytes pauses reading from its client.
WRITE_HIGH_WATER = 4 * 1024 * 1024
WRITE_LOW_WATER = 1024 * 1024

DEBUG_NOT_ALLOWED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you '
    'can run it from a local connection, otherwise you need to set this option in the '
    'configuration file, and then restart the server.')

PROTECTED_DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from the "
    b"loopback interface. If you want to connect from external computers to Redis you may adopt "
    b"one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    b"SET protected-mode no' from the loopback interface by connecting to Redis from the same "
    b"host the server is running, however MAKE SURE Redis is not publicly accessible from "
    b"internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    b"you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. 3) If you "
    b"started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    b"to do one of the above things in order for the server to start accepting connections from "
    b"the outside.\r\n"
)
NOAUTH = "NOAUTH Authentication required."
MAX_CLIENTS = b"-ERR max number of clients reached\r\n"

# Pre-encoded constant replies (DESIGN decision 4).
_STATUS_BYTES = {OK: b"+OK\r\n", PONG: b"+PONG\r\n", QUEUED: b"+QUEUED\r\n"}

# Command lookups by the exact bytes clients send ("GET", "get", ...), for plain commands only:
# containers (CLIENT, CONFIG) resolve their subcommand through `lookup`. Bounded, so random
# command names cannot grow it.
_CACHE: dict[bytes, object] = {}
_CACHE_MAX = 4096


def _error_line(text: str) -> bytes:
    text = line_text(text)
    try:  # (an argument's bytes quoted in the text go back out as they came)
        return b"-%s\r\n" % text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return b"-%s\r\n" % text.encode("utf-8", "replace")


def _is_local(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost") or host.startswith("::ffff:127.")


def protected_action_allowed(setting: str, client) -> bool:
    """Redis's allowProtectedAction, for enable-protected-configs / enable-module-command:
    "yes", or "local" and a local connection. A caller that is no connection (the embedded
    store's) is the process itself."""
    if setting == "yes" or not isinstance(client, Client):
        return True
    return setting == "local" and (client.unix or _is_local(client.addr.rsplit(":", 1)[0]))


class Client(asyncio.Protocol):
    """A connection. Attributes are read by CLIENT LIST/INFO and the connection commands."""

    is_master = False  # the replica's link to its master (replica_link.MasterClient)

    def __init__(self, server) -> None:
        self.server = server
        self.id = server.next_client_id()
        self.ctx = Context(server.ks, 0, client=self)
        self.ctx.on_write = server.script_hook
        self.user = server.acl.default
        self.authenticated = server.acl.open
        self.parser = RequestParser(
            max_bulk_len=server.config["proto-max-bulk-len"], authenticated=self.authenticated)
        self.state = 0 if self.authenticated else NEEDS_AUTH
        # enable-debug-command (immutable), for a connection: set again once its address is known
        self.debug_allowed = server.config["enable-debug-command"] == "yes"
        if not self.user.unrestricted:
            self.state |= ACL_CHECK
        self.transport: asyncio.Transport | None = None
        self.name = b""
        self.lib_name = ""
        self.lib_ver = ""
        self.created = time.time()
        self.last_interaction = time.monotonic()
        self.addr = self.laddr = ""
        self.fd = -1
        self.unix = False
        self.last_cmd = None  # the Command last run (CLIENT LIST cmd=)
        self.in_exec = None   # the Command EXEC runs now (states.run_exec)
        self.monitor = False
        self.no_evict = self.no_touch = False
        self.reading_paused = False
        self.obuf_soft_since = 0.0   # when the soft output limit was first passed, 0 = not over
        self.obuf_seen = 0           # output waiting at the idle check's last look
        self.kind = "normal"
        self.held: list[bytes] = []  # data received during CLIENT PAUSE (or while blocked)
        self.held_bytes = 0          # their total length
        # Transactions, pub/sub, blocking (server/states.py, pubsub.py, blocking.py).
        self.queue: list = []        # MULTI: (Command, argv) queued for EXEC
        self.multi_error = False     # a queued command was rejected: EXEC aborts
        self.watched: dict = {}      # (db, key) -> [db, key, expired-at-WATCH] (watching.py)
        self.dirty_cas = False       # a watched key changed: EXEC fails
        self.subs: dict[bytes, None] = {}
        self.psubs: dict[bytes, None] = {}
        self.ssubs: dict[bytes, None] = {}   # shard channels (SSUBSCRIBE)
        self.waiter = None           # blocking.Waiter while blocked
        self.pending: list = []      # commands received after the blocking one
        self.out: list | None = None  # the batch's reply parts while it runs (pubsub.deliver)
        self.tracker = None          # tracking.Tracker once CLIENT TRACKING was turned on
        self.ldb: str | None = None  # SCRIPT DEBUG's mode: "yes", "sync" (scripting_ldb.py)
        self.after_reply: list[bytes] = []  # MONITOR lines of its own command (bit PUSHES)
        self.kept_pushes: list[bytes] = []  # its pushes that a dropped reply let by (bit PUSHES)
        self.mid_pushes: list[bytes] = []   # its pushes for inside the running reply (pubsub.py)
        self.replica = None          # replication.Replica once it sent SYNC or PSYNC
        self.replica_port = 0        # REPLCONF listening-port, before SYNC
        self.replica_psync2 = False  # REPLCONF capa psync2: +CONTINUE names the replid
        self.replica_eof = False     # REPLCONF capa eof (needed for a filtered file)
        self.rdb_only = False        # REPLCONF rdb-only 1: closed once its file is sent
        self.rdb_filter: tuple[bool, bool] | None = None  # rdb-filter-only: (keys?, functions?)
        if server.notifier.flags:
            server.notifier.attach(self)

    # -- asyncio callbacks ---------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        pending = self.transport
        if pending is transport:
            return  # made already, while a script kept the loop busy (busy.py)
        if pending is not None:
            # Accepted while a script kept the loop busy (busy.py), now the loop's: what its
            # stand-in transport could not send goes first.
            self.transport = transport
            transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
            if pending.unsent:
                transport.write(bytes(pending.unsent))
            if pending.closing:  # (CLIENT KILL in between)
                transport.close()
            return
        self.transport = transport
        server = self.server
        server.arriving.discard(self)
        sock = transport.get_extra_info("socket")
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.addr = f"{peer[0]}:{peer[1]}" if ":" not in peer[0] else f"{peer[0]}:{peer[1]}"
            local = transport.get_extra_info("sockname")
            self.laddr = f"{local[0]}:{local[1]}"
            host = peer[0]
        else:
            self.unix = True
            self.addr = f"{server.config['unixsocket']}:0"
            self.laddr = self.addr
            host = "127.0.0.1"
        if sock is not None:
            self.fd = sock.fileno()
        self.debug_allowed = protected_action_allowed(server.config["enable-debug-command"], self)
        if server.log.level <= VERBOSE:  # (Redis's texts, before its own refusals)
            server.log.verbose("Accepted connection to %s" if self.unix else "Accepted %s",
                               server.config["unixsocket"] if self.unix else self.addr)
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        server.clients[self.id] = self
        if len(server.clients) > server.config["maxclients"]:
            server.stats.rejected_conn += 1
            self._refuse(MAX_CLIENTS)
            return
        if server.config["protected-mode"] and server.acl.default.nopass \
                and not _is_local(host):
            server.log.warning("Possible SECURITY ATTACK detected. ... (protected mode denied "
                               "a connection from %s)", self.addr)
            self._refuse(PROTECTED_DENIED)
            return
        server.stats.connections += 1

    def lookup(self, argv: list[bytes]):
        """`table.lookup`, with Redis's check of DEBUG against enable-debug-command: after the
        arity, before the subcommand (any DEBUG is refused) and before any other check."""
        if self.debug_refused(argv):
            raise CommandError(DEBUG_NOT_ALLOWED)
        return lookup(argv)

    def debug_refused(self, argv: list[bytes]) -> bool:
        return not self.debug_allowed and len(argv) > 1 and argv[0].lower() == b"debug"

    def _refuse(self, message: bytes) -> None:
        self.state |= CLOSING
        self.transport.write(message)  # type: ignore[union-attr]
        self.transport.close()  # type: ignore[union-attr]

    def connection_lost(self, exc) -> None:
        if self.transport is None and self.state & CLOSING:
            return  # (let go already: its end was read while a script was busy, busy.py)
        self.state |= CLOSING
        server = self.server
        server.clients.pop(self.id, None)
        server.postponed.pop(self, None)
        if self.monitor:
            server.remove_monitor(self)
        if self.watched or self.waiter is not None or self.subs or self.psubs or self.ssubs:
            from .states import disconnect

            disconnect(self)
        if self.tracker is not None:
            server.tracking.disable(self)
        if self.replica is not None:
            server.replication.drop(self)
        if server.replication.waiting or server.replication.aof_waiting:
            server.replication.unwait(self)
        self.transport = None
        self.release_input()

    def release_input(self) -> None:
        """The connection is gone: its unread input is freed now, where the client object
        itself would wait for the garbage collector (a half-sent bulk may be 512 MB)."""
        self.parser.discard()
        self.held = []

    def pause_writing(self) -> None:
        # The client is not reading its replies: stop reading its requests until it drains.
        if self.transport is not None and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    def hold(self, data: bytes) -> None:
        """Keep data that arrived while blocked or during CLIENT PAUSE; `blocking.resume` runs
        it at unblock or unpause (Server.unpause). Reading goes on, as in Redis, so that a
        client that hangs up while blocked is seen to go (and leaves no waiter to take an
        element); held input counts against client-query-buffer-limit like Redis's query
        buffer."""
        if not self.held:
            self.held_bytes = 0
            if not self.state & BLOCKED:  # CLIENT PAUSE ALL: released in the order it stopped
                self.server.postponed[self] = None
        self.held.append(data)
        self.held_bytes += len(data)
        if self.held_bytes > self.server.qbuf_limit and not self.is_master:
            self._query_buffer_full(drop=True)

    def eof_received(self):
        if self.server.log.level <= VERBOSE:
            self.server.log.verbose("Client closed connection %s", self.info_line())
        return False  # close our side too, as Redis does on read of 0 bytes

    # -- the hot path --------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # The commonest read of all, one small command (a request-reply client, redis-benchmark
        # -c 50) on a connection and a server with nothing special on, takes this path: the same
        # steps as `read`'s for one command, without its batch machinery (a third of its
        # instructions per read). Anything else, an unknown spelling or a wrong arity included,
        # goes to `read`, which stays the reference; `take_one` consumes nothing then.
        server = self.server
        if self.state or server.gate or server.paused_until \
                or len(data) > 128 and data.find(b"*", 1) >= 0:
            # (a long read holding a second `*` is most likely a pipeline, -P 16 of GET or SET:
            # 500-800 bytes, which `take_one` would only look at to give up)
            self.read(data)
            return
        parser = self.parser
        argv = parser.take_one(data)
        cmd = _CACHE.get(argv[0]) if argv is not None else None
        if cmd is None or len(argv) not in cmd.argcs:
            self.read(data)
            return
        self.last_interaction = server.now_mono
        self.last_cmd = cmd
        stats = server.stats
        stats.net_input += len(data)
        ctx = self.ctx
        ks = ctx.ks
        ctx.now = ks.clock()
        prop = server.propagate
        if prop is not None:
            ctx.effects = None
            dirty = ks.dirty
        self.out = parts = []
        t0 = perf_counter()
        try:
            reply = cmd.handler(ctx, argv)
        except CommandError as exc:
            cmd.failed += 1
            if not exc.counted:
                server.count_error(str(exc), None)
            out = _error_line(str(exc))
        except Exception as exc:  # a bug: an error reply, the traceback in the log
            cmd.failed += 1
            out = _error_line(server.internal_error(exc, cmd))
        else:
            t = type(reply)
            if t is bytes and len(reply) < 1024:
                out = BULK_HEADERS[len(reply)] + reply + b"\r\n"
            elif reply is OK:
                out = b"+OK\r\n"
            elif t is int:
                out = b":%d\r\n" % reply
            elif reply is None:
                out = b"_\r\n" if ctx.resp == 3 else b"$-1\r\n"
            else:
                pieces: list[bytes] = []
                encode_into(pieces, reply, ctx.resp)
                out = b"".join(pieces)
        if prop is not None and ks.dirty != dirty and cmd.flags & LOGGED:
            if ctx.effects is None:
                prop(ctx, argv)
            else:
                propagate_effects(prop, ctx, argv)
        dt = perf_counter() - t0
        cmd.calls += 1
        cmd.seconds += dt
        if server.track_latency:
            cmd.durations.append(dt)
        if dt > server.watch_s and not self.state & BLOCKED:  # (a blocked one: when served)
            server.slow_command(self, cmd, argv, dt)
        if server.log_batch is not None:
            batch = [argv]
            if data[0] == 42:  # (an inline line is logged as a multibulk)
                parser.last_read = (batch, data)  # the AOF may log the read as it came
            server.log_batch(parser, batch)
        if parts or self.state or self.transport is None:
            # Messages published to ourselves (they go before the reply, as in the batch), or a
            # state the command set (QUIT, MULTI, a blocking pop...): `read`'s ending does it.
            parts.append(out)
            self._finish(parts, 0, None, data)
            return
        self.out = None
        stats.net_output += len(out)
        outbox = server.outbox
        if outbox.queued or outbox.commit is not None or len(out) > 65536:
            outbox.put(self, out)
            return
        # Nothing waits in the outbox for anyone and no AOF holds replies: this one can leave
        # now, in order. A read of one command gains nothing from the end-of-iteration write
        # (outbox.py), and queueing cost 3-6% of the CPU per request at redis-benchmark -c 50.
        transport = self.transport
        transport.write(out)
        if transport.get_write_buffer_size():
            server.check_output_limits(self)

    def read(self, data: bytes) -> None:  # noqa: C901 - the hot loop, kept flat on purpose
        """Run every complete command of a read (see the module docstring)."""
        server = self.server
        if self.state & (CLOSING | BLOCKED) or server.paused_until:  # one test when neither
            if not self.state and not self.held and not self.pending \
                    and self.parser.authenticated:
                self._pause_all(data)
            elif not self.state & CLOSING:
                self.hold(data)  # CLIENT PAUSE / blocked: hold it
            return
        parser = self.parser
        self.last_interaction = server.now_mono
        server.stats.net_input += len(data)
        # (our master's stream is not limited, as in Redis: a long write is its master's to allow)
        if len(data) >= 1024 and parser.bulk_past(len(data), server.qbuf_limit) \
                and not self.is_master:
            self._query_buffer_full()  # (before the read's commands run, as in Redis)
            return
        parts: list[bytes] = []
        append = parts.append
        self.out = parts  # a message published to ourselves goes in order with our replies
        ctx = self.ctx
        ks = ctx.ks
        cache_get = _CACHE.get
        clock = perf_counter  # float seconds: ~400 instructions a command less than int ns
        error = None
        mark = 0
        # Authenticated, one call returns every complete command; before AUTH the parser
        # returns one at a time (its limits depend on the command before), so loop.
        authenticated = parser.authenticated
        try:
            batch = parser.take(data)
        except ProtocolError as exc:
            error = str(exc)
            batch = None
        while batch:
            # "Now" is read once per batch (a pipeline runs within a millisecond), and again
            # after any command slower than a millisecond, so expiry stays exact to the ms.
            # Only EXEC (its own reading per command) and those two places set ctx.now.
            ctx.now = ks.clock()
            t0 = clock()
            runs = server.slow_s >= 0.001
            n = len(batch)
            i = 0
            while i < n:
                argv = batch[i]
                i += 1
                if self.state or server.gate:
                    handled = self._special(argv, parts, mark)
                    if handled is not None:
                        mark = handled
                        t0 = clock()  # (EXEC runs a whole transaction in there)
                        continue
                    if self.state & CLOSING:
                        break
                mark = len(parts)
                cmd = cache_get(argv[0])
                try:
                    if cmd is None:
                        cmd = self.lookup(argv)
                        name = argv[0]
                        if not cmd.subcommands and COMMANDS.get(name.lower()) is cmd \
                                and len(_CACHE) < _CACHE_MAX:
                            _CACHE[name] = cmd
                    elif len(argv) not in cmd.argcs:
                        arity = cmd.arity
                        k = len(argv)
                        if k != arity and (arity > 0 or k < -arity):
                            raise wrong_args(cmd.name)
                except CommandError as exc:
                    append(self._refused(argv, exc))
                    t0 = clock()
                    continue
                self.last_cmd = cmd
                # A run: this call, then the next commands of the batch while they are the same
                # FAST command (or SET, MSET, MGET), spelled the same, with a valid arity (for
                # MSET and MGET, up to 64 arguments: `Command.runs`), and neither the
                # connection (`state`) nor the server (`gate`) needs the slow path. Its calls
                # skip the lookup and the checks above (~10% of a pipelined SET) and are timed
                # together, with one clock read: INFO commandstats shares the run's time among
                # them, and a run slower than slowlog-log-slower-than is one SLOWLOG entry, for
                # its last command. Below a 1 ms threshold every command is its own run.
                name = argv[0] if runs and cmd.runs and not server.gate and not self.state \
                    else None
                handler = cmd.handler
                argcs = cmd.argcs
                # Write hooks (an AOF, WATCH, blocked clients); None without any. Read once per
                # run: within a run of one FAST command none is added before a write (a blocking
                # pop that blocks ends the run), and one removed (its last waiter served) is
                # harmless to call until the run ends.
                prop = server.propagate
                first = i  # (the run's calls are i - first + 1 when it ends)
                many = cmd.many
                # Under write hooks, a write's run handler only if they take its run in one call
                if many is not None and name is not None and ctx.notify is no_notify \
                        and (prop is None or not cmd.flags & WRITE or cmd.many_logged
                             and (prop_run := server.propagate_run) is not None) \
                        and (done := many(ctx, batch[i - 1:] if i > 1 else batch, append)):
                    # The run handler did `done` commands from argv on (table.run_handler)
                    i += done - 1
                    argv = batch[i - 1]
                    if prop is not None and cmd.flags & WRITE:
                        prop_run(ctx, batch[first - 1:i])
                else:
                    while True:
                        if prop is not None:
                            ctx.effects = None
                            dirty = ks.dirty
                        try:
                            reply = handler(ctx, argv)
                        except CommandError as exc:
                            cmd.failed += 1
                            if not exc.counted:
                                server.count_error(str(exc), None)
                            append(_error_line(str(exc)))
                        except Exception as exc:  # a bug (see data_received)
                            cmd.failed += 1
                            append(_error_line(server.internal_error(exc, cmd)))
                        else:
                            t = type(reply)
                            if t is bytes and len(reply) < 1024:  # (a lookup beats b"%d" %)
                                # (three pieces for the batch's join: no bytes built here)
                                append(BULK_HEADERS[len(reply)])
                                append(reply)
                                append(b"\r\n")
                            elif reply is OK:
                                append(b"+OK\r\n")
                            elif t is int:  # mostly 0 or 1 (SADD, HSET, ZADD, DEL, EXISTS)
                                append(b":1\r\n" if reply == 1 else b":0\r\n" if reply == 0
                                       else b":%d\r\n" % reply)
                            elif reply is None:
                                # encoder.NULL, spelled out: ~220 instructions less than
                                # indexing it
                                append(b"_\r\n" if ctx.resp == 3 else b"$-1\r\n")
                            elif t is Status and reply in _STATUS_BYTES:
                                append(_STATUS_BYTES[reply])
                            elif t is list and not reply:  # (ZPOPMIN, LRANGE... of no key)
                                append(b"*0\r\n")
                            else:
                                encode_into(parts, reply, ctx.resp)
                        if prop is not None and ks.dirty != dirty and cmd.flags & LOGGED:
                            if ctx.effects is None:
                                prop(ctx, argv)
                            else:
                                propagate_effects(prop, ctx, argv)
                        if name is None or i == n:
                            break
                        following = batch[i]
                        # (no FAST command raises the gate: MONITOR, CLIENT PAUSE and CONFIG
                        # are slow)
                        if following[0] != name or len(following) not in argcs or self.state:
                            break
                        argv = following
                        i += 1
                calls = i - first + 1
                cmd.calls += calls
                t1 = clock()
                dt = t1 - t0
                t0 = t1
                cmd.seconds += dt
                if server.track_latency:  # (each call of a run is given its share)
                    us = int(dt * 1e6 / calls)
                    latency = cmd.latency
                    latency[us] = latency.get(us, 0) + calls
                if dt > server.slow_s:  # min(1 ms, the slowlog threshold)
                    ctx.now = ks.clock()  # expiry stays exact to the ms after a slow one
                    if dt > server.watch_s and not self.state & BLOCKED:  # (when served)
                        server.slow_command(self, cmd, argv, dt)
            if server.log_batch is not None:  # (an AOF is open)
                server.log_batch(parser, batch)
            # (after QUIT nothing more is parsed, a protocol error included)
            if self.state & CLOSING or (authenticated and parser.error is None):
                break
            authenticated = parser.authenticated
            try:
                batch = parser.get_commands()
            except ProtocolError as exc:
                error = str(exc)
                break
        self._finish(parts, mark, error, data)

    def _pause_all(self, data: bytes) -> None:
        """A read under CLIENT PAUSE ALL, of a client in no special state: as Redis, what it
        refuses before its pause check (an unknown command, a wrong arity, a protocol error)
        is answered now; the first command it would run waits for the unpause with all after
        it, postponed as PAUSE WRITE's writers are (Server.unpause)."""
        server = self.server
        self.last_interaction = server.now_mono
        server.stats.net_input += len(data)
        parts: list[bytes] = []
        error = None
        try:
            batch = self.parser.take(data)
        except ProtocolError as exc:
            error = str(exc)
            batch = []
        for i, argv in enumerate(batch):
            try:
                cmd = self.lookup(argv)
            except CommandError as exc:
                parts.append(self._refused(argv, exc))
                continue
            server.stop_until_unpause(self, cmd, batch[i:])
            break
        self._finish(parts, len(parts), error, data)

    def _refused(self, argv: list[bytes], exc: CommandError) -> bytes:
        """The reply to a command its lookup refused (unknown, or of a wrong arity), as Redis's
        rejectCommand: a rejected EXEC discards the transaction, and CLIENT LIST's cmd= becomes
        what was found (NULL for nothing), Redis's lastcmd."""
        text = str(exc)
        if argv[0].lower() == b"exec":
            from .states import abort_exec

            text = abort_exec(self, text, argv)
        self.last_cmd = resolve(argv)
        self.server.count_error(text, self.last_cmd, argv)
        return _error_line(text)

    def _finish(self, parts: list[bytes], mark: int, error: str | None, data: bytes) -> None:
        """The end of a read: `parts` holds its replies (the last command's from `mark` on),
        `error` a protocol error that ended it."""
        server = self.server
        parser = self.parser
        if self.state & _BATCH_END:
            if self.state & DROP_LAST:
                if self.is_master and len(parts) > mark and parts[mark][:1] == b"-":
                    self.stream_error(parts[mark])  # (replica_link.py)
                del parts[mark:]
                self.state &= ~DROP_LAST
            if self.state & PUSHES:  # (after the reply they follow, which DROP_LAST may drop)
                self.flush_pushes()
        self.out = None
        transport = self.transport
        # Replies leave at the end of the loop iteration, after the AOF write that logs their
        # effects (outbox.py). A batch that cannot wait (closing, protocol error) drains the
        # queue first, so its connection's earlier replies still go before it.
        if parts and transport is not None:
            out = b"".join(parts) if len(parts) > 1 else parts[0]
            server.stats.net_output += len(out)
            if error is None and not self.state & CLOSING:
                server.outbox.put(self, out)
            else:
                server.outbox.drain()
                transport.write(out)
        elif error is not None:
            server.outbox.drain()
        else:
            p = server.persistence
            if p is not None and p.writer is not None and p.writer.pending:
                # Writes with no reply to carry them (CLIENT REPLY OFF, a connection gone).
                server.outbox.schedule()
        if transport is None:
            return
        if error is not None:
            server.stats.protocol_errors += 1
            server.log.verbose("Protocol error (%s) from client: %s", error, self.describe())
            transport.write(_error_line(error))
            self.close()
        elif self.state & CLOSING:
            self.close()
        elif len(data) >= 1024 and parser.buffered() > server.qbuf_limit and not self.is_master:
            # Only a large read can take the buffer near the limit (the parser caps lines at
            # 64 KiB and bulks at proto-max-bulk-len), so small reads skip the check.
            self._query_buffer_full()
        elif len(data) >= 1024 and server.config["maxmemory-clients"]:
            from .client_eviction import check_client

            check_client(server, self)

    def _query_buffer_full(self, drop: bool = False) -> None:
        """Close (`drop`: at once, replies pending or not) a client over the query buffer
        limit."""
        self.server.log.warning("Closing client that reached max query buffer length: %s",
                                self.describe())
        if drop:
            self.kill()
        else:
            self.close()

    def _special(self, argv: list[bytes], parts: list[bytes], mark: int) -> int | None:
        """The slow path for connections with `state` bits or a server-wide gate. `mark` is
        where the previous command's reply starts in `parts`. Returns where this command's
        reply starts when it handled the command itself (a refusal, QUEUED...); None lets the
        normal path run it."""
        state = self.state
        if state & DROP_LAST:  # the previous command's reply is not to be sent
            if self.is_master and len(parts) > mark and parts[mark][:1] == b"-":
                self.stream_error(parts[mark])  # (replica_link.py)
            del parts[mark:]
            state = self.state = state & ~DROP_LAST
        if state & PUSHES:  # invalidations caused by the previous command follow its reply
            self.flush_pushes()
            state = self.state
        start = len(parts)
        if state & CLOSING:
            return None
        # CLIENT PAUSE WRITE stops a writer before anything else, even one queued in MULTI
        if self.server.write_paused_until and not state & BLOCKED \
                and self.server.postpone(self, argv):
            return start
        if state & (REPLY_OFF | SKIP_NEXT):
            # This command's reply (a refusal, QUEUED, a subscribed PING's too) is dropped at the
            # next command or at the end of the batch; (un)subscribe confirmations stay.
            state = self.state = (state & ~SKIP_NEXT) | DROP_LAST
        if state & ACL_CHECK and not state & (MULTI | BLOCKED | NEEDS_AUTH):
            # (in MULTI: states.special checks when queueing; blocked: when it runs)
            if self.debug_refused(argv):
                return None  # the normal path refuses it
            try:
                cmd = acl.acl_lookup(argv)
            except CommandError:
                return None  # the normal path reports an unknown command or a wrong arity
            self.last_cmd = cmd  # (Redis's lastcmd is set before the check: the log shows it)
            refused = self.acl_refusal(cmd, argv, "toplevel")
            if refused is not None:
                text = refused[1]
                if cmd.name == "exec":
                    from .states import abort_exec

                    text = abort_exec(self, text, argv)
                parts.append(_error_line(text))
                self.server.count_error(text, cmd)
                return start
        if state & _TXPS:
            from .states import special

            if special(self, argv, parts):
                return start
        if state & NEEDS_AUTH:
            try:
                cmd = self.lookup(argv)
            except CommandError:
                return None  # Redis reports an unknown command or a wrong arity before NOAUTH
            if not cmd.flags & NO_AUTH:
                text = NOAUTH
                if cmd.name == "exec":
                    from .states import abort_exec

                    text = abort_exec(self, text, argv)
                parts.append(_error_line(text))
                self.server.count_error(text, cmd)
                return start
        if self.server.gate:
            err = self.server.before_command(self, argv)
            if err is not None:
                self.server.count_error(err, None, argv)
                parts.append(_error_line(err))
                return start
        if state & TRACKING:
            self.server.tracking.before_command(self, argv)
        return None

    # -- helpers for commands and the server ----------------------------------------------------

    def queued_bytes(self) -> int:
        """The arguments of the commands queued in MULTI (CLIENT LIST's multi-mem)."""
        return sum(len(a) for _, argv in self.queue for a in argv) if self.queue else 0

    def flush_pushes(self) -> None:
        """Send what waited for the reply of the last command (state bit PUSHES): tracking
        invalidations it caused, the MONITOR line of a monitor's own command, the pushes that
        CLIENT REPLY OFF / SKIP let by."""
        self.state &= ~PUSHES
        if self.kept_pushes:
            from .pubsub import deliver_bytes

            pushes, self.kept_pushes = self.kept_pushes, []
            for data in pushes:
                deliver_bytes(self, data)
        if self.tracker is not None and self.tracker.pending:
            self.server.tracking.flush_pending(self)
        if self.after_reply:
            from .pubsub import deliver_bytes

            lines, self.after_reply = self.after_reply, []
            # A RESET ended MONITOR (Redis feeds monitors after the command); after QUIT Redis
            # writes nothing more to the client (CLIENT_CLOSE_AFTER_REPLY), not even its line.
            if self.monitor and not self.state & CLOSING:
                for line in lines:
                    deliver_bytes(self, line)

    def authenticate(self, user) -> None:
        self.authenticated = True
        self.parser.authenticated = True
        self.state &= ~NEEDS_AUTH
        self.set_user(user)

    def set_user(self, user) -> None:
        """Run as `user` (server/acl.py): its commands are checked unless it may do anything
        (or this is our master's stream, which nothing refuses)."""
        self.user = user
        if user.unrestricted or self.is_master:
            self.state &= ~ACL_CHECK
        else:
            self.state |= ACL_CHECK

    def deauthenticate(self) -> None:
        """RESET: back to the default user, unauthenticated if it needs a password."""
        acl = self.server.acl
        self.set_user(acl.default)
        if not acl.open:
            self.authenticated = False
            self.parser.authenticated = False
            self.state |= NEEDS_AUTH

    def acl_refusal(self, cmd, argv: list[bytes], context: str) -> tuple[int, str] | None:
        """The ACL's refusal of argv for this connection's user (Redis's ACLCheckAllPerm, the
        refusal logged in the ACL log): (DENIED_*, NOPERM text), or None when allowed."""
        name = acl.acl_name(cmd)
        denied, pos = self.user.check(name, argv)
        if not denied:
            return None
        if denied == acl.DENIED_CMD:
            obj = name
            text = f"NOPERM this user has no permissions to run the '{name}' command"
        elif denied == acl.DENIED_CHANNEL:
            obj = argv[pos].decode("utf-8", "surrogateescape")
            text = ("NOPERM this user has no permissions to access one of the channels used "
                    "as arguments")
        else:
            obj = argv[pos].decode("utf-8", "surrogateescape")
            text = ("NOPERM this user has no permissions to access one of the keys used as "
                    "arguments")
        reason = {acl.DENIED_CMD: "command", acl.DENIED_CHANNEL: "channel"}.get(denied, "key")
        self.server.acl.add_log(reason, context, obj, self.user.name, self.info_line())
        return denied, text

    def close_after_reply(self) -> None:
        self.state |= CLOSING

    def close(self) -> None:
        """Close after the replies queued so far have been written."""
        self.state |= CLOSING
        if self.transport is not None:
            self.server.outbox.drain()
            self.transport.close()

    def kill(self) -> None:
        """CLIENT KILL / limits: drop the connection without waiting for replies to drain.
        The peer sees the close at once, as Redis's freeClient gives it, before the killer's
        reply: the transport's own close waits for the next loop iteration."""
        self.state |= CLOSING
        transport = self.transport
        if transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                try:  # (uvloop's socket refuses shutdown(); a duplicate of its fd does not)
                    with socket.fromfd(sock.fileno(), sock.family, sock.type) as dup:
                        dup.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            transport.abort()

    @property
    def blocked(self) -> bool:
        """Blocked as Redis counts it (flags=b, blocked_clients): waiting on keys, WAIT, or
        stopped by CLIENT PAUSE."""
        return bool(self.state & BLOCKED) or self in self.server.postponed

    def describe(self) -> str:
        return self.info_line()

    def type_name(self) -> str:
        """CLIENT LIST / KILL TYPE: Redis's getClientType (`kind` is the output-buffer class,
        which stays "normal" for a replica: see server/replication.py)."""
        if self.is_master:
            return "master"
        if self.replica is not None and not self.monitor:
            return "replica"
        return "pubsub" if self.kind == "pubsub" else "normal"

    def flags_text(self) -> str:
        """CLIENT LIST flags, in Redis's order (networking.c `getClientInfoString`)."""
        flags = ""
        if self.monitor:
            flags += "O"
        elif self.replica is not None:
            flags += "S"
        elif self.is_master:
            flags += "M"
        if self.subs or self.psubs or self.ssubs:
            flags += "P"
        if self.state & MULTI:
            flags += "x"
        if self.blocked:
            flags += "b"
        tracker = self.tracker
        if tracker is not None and tracker.on:
            flags += "t"
            if tracker.broken:
                flags += "R"
            if tracker.bcast:
                flags += "B"
        if self.dirty_cas:
            flags += "d"
        if self.state & CLOSING:
            flags += "A"
        if self.unix:
            flags += "U"
        if self.no_evict:
            flags += "e"
        if self.no_touch:
            flags += "T"
        return flags or "N"

    def info_line(self, running: list[bytes] | None = None) -> str:
        """One CLIENT LIST line, fields in Redis 7.2's order. `running`: the command this
        client runs now (CLIENT LIST / INFO), which Redis's query buffer still holds."""
        now = time.time()
        idle = int(time.monotonic() - self.last_interaction)
        obuf = self.transport.get_write_buffer_size() if self.transport is not None else 0
        qbuf = self.parser.buffered()
        argv_mem = self.parser.held() - qbuf  # the bulks of a command still arriving
        if running is not None:
            request = bytearray()
            encode_argvs(request, [running])
            qbuf += len(request)
            argv_mem += sum(map(len, running))
        multi = self.queued_bytes()
        name = self.name.decode("utf-8", "replace")
        redir = self.tracker.redirect if self.tracker is not None and self.tracker.on else -1
        return (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={self.fd} name={name} "
            f"age={int(now - self.created)} idle={idle} flags={self.flags_text()} "
            f"db={self.ctx.db.id} sub={len(self.subs)} psub={len(self.psubs)} ssub={len(self.ssubs)} "
            f"multi={len(self.queue) if self.state & MULTI else -1} qbuf={qbuf} qbuf-free=0 "
            f"argv-mem={argv_mem} multi-mem={multi} rbs=16384 rbp=0 obl=0 oll=0 omem={obuf} "
            f"tot-mem={qbuf + argv_mem + obuf + multi + entries_bytes(self)} events=r "
            f"cmd={self.last_cmd.name if self.last_cmd else 'NULL'} "
            f"user={self.user.name.decode('utf-8', 'surrogateescape')} redir={redir} "
            f"resp={self.ctx.conn_resp} lib-name={self.lib_name} lib-ver={self.lib_ver}"
        )


__all__ = ["Client", "Status"]
