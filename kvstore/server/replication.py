"""Replication, the master side: SYNC, PSYNC, REPLCONF, ROLE, INFO replication.

What it serves. A Redis replica (`replicaof <our host> <port>` on a redis-server) and
`redis-cli --rdb` (a backup over the replication protocol) both start with SYNC or PSYNC. A
first sync is a full resynchronisation: PSYNC gets `+FULLRESYNC <replid> <offset>`, then
either gets the data set as an RDB file (`$<length>\\r\\n<bytes>`, Redis 7.0's format, written
by `engine.dump.write_rdb`), then the stream of writes from the moment of the snapshot on.

The backlog. From the first replica on, the stream's last `repl-backlog-size` bytes are kept
(up to twice that before the front is cut, so the cut is a memmove now and then rather than on
every write), and fed even while no replica is connected, until `repl-backlog-ttl` seconds
without one. A replica that reconnects with `PSYNC <our replid> <offset>` for an offset the
backlog still holds gets `+CONTINUE <replid>` and the stream from there (a partial resync, as
Redis's `masterTryPartialResynchronization`); any other PSYNC gets a full one.

One history (psync2). A replica's replication ID and offset are its master's: it keeps a backlog
of the master's stream and hands that stream on to its own replicas byte for byte (`proxy`), so
that any server of a chain can continue any other's. When a replica is promoted (REPLICAOF NO
ONE, or a FAILOVER's PSYNC) its ID becomes `replid2`, valid up to `second_offset`, and it takes a
new one (Redis's shiftReplicationId): the old master and the sibling replicas, which ask for the
old ID at an offset it has, continue with it instead of loading its whole data set.

How. The snapshot is written by a forked child (copy-on-write: the data at the fork) to a
temporary file in `dir`, as BGSAVE writes; the parent reads it back when the child is done and
queues it to the replica. From the fork on, every write's effects (the same argvs the AOF gets,
with SELECTs, and a DEL for each expired key) are appended to one stream; a replica still
waiting for its file collects them, an online one gets them as they happen, through the outbox
(so after the AOF, with the replies of the same iteration). Every `repl-ping-replica-period`
seconds a PING goes down the stream, so a replica does not time out on a quiet master: as in
Redis's replicationCron, a one-second tick counts, so a CONFIG SET applies at the next tick.

A replica's connection is a client whose replies are off (REPLCONF ACK needs none), under the
"replica" class's output-buffer limit (256mb 64mb 60 by default), which counts its stream only,
as Redis's: the stream it collects while its file is written, then what it has not read of the
stream queued after the file (`Replica.streamed`; the transport's buffer is first in, first
out, so the file is what was queued before). The write hook and the expiry listener are
installed only while there is a replica.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from ..commands.table import AofOnly
from ..engine.dump import write_rdb
from ..persistence.aof import encode_argvs, select_record
from ..persistence.manager import fork_job, reap_child
from ..persistence.progress import debug_delay

MAX_SYNCING = 4     # replicas whose file is being written at once
GETACK = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"
NO_REPLID = "0" * 40

# FAILOVER's states, as INFO replication's master_failover_state names them.
NO_FAILOVER = "no-failover"
WAIT_FOR_SYNC = "waiting-for-sync"
IN_PROGRESS = "failover-in-progress"


class Replica:
    __slots__ = ("client", "pending", "online", "port", "ack", "ack_time", "acks", "streamed")

    def __init__(self, client, acks: bool) -> None:
        self.client = client
        # A replica that came by PSYNC sends REPLCONF ACKs, and one silent for repl-timeout is
        # dropped; one that came by SYNC (Redis's CLIENT_PRE_PSYNC: redis-cli --replica) never
        # acks and is not timed out.
        self.acks = acks
        self.pending: bytearray | None = bytearray()  # the stream while the file is written
        self.online = False
        self.port = 0   # REPLCONF listening-port
        self.ack = 0    # the offset of the last REPLCONF ACK
        self.ack_time = time.monotonic()  # when it came (or went online): lag, repl-timeout
        self.streamed = 0  # bytes of stream queued to it once online (its output-buffer limit)

    @property
    def ip(self) -> str:
        return self.client.addr.rsplit(":", 1)[0]

    @property
    def name(self) -> str:
        """As Redis's log names a replica: ip:listening-port."""
        return f"{self.ip}:{self.port}"


class Replication:
    def __init__(self, server) -> None:
        self.server = server
        self.replid = os.urandom(20).hex()
        self.offset = 0           # bytes of stream produced so far (master_repl_offset)
        # The history we continue (see the module docstring), valid up to second_offset
        self.replid2 = NO_REPLID
        self.second_offset = -1
        self.replicas: list[Replica] = []
        # Children writing a replica's file: when the first started (monotonic s) and how
        # many run (INFO's rdb_bgsave_in_progress counts them: Redis's is an RDB child too)
        self.sync_children = 0
        self.sync_started = 0.0
        self.stream_db = -1       # the database the stream last SELECTed
        # The stream's last bytes, up to `offset`; None until a replica first syncs, and again
        # after repl-backlog-ttl seconds without one. The write hooks feed it while it exists.
        self.backlog: bytearray | None = None
        self.backlog_size = 1 << 20  # repl-backlog-size, set by the server's configuration
        self._ping: asyncio.TimerHandle | None = None
        self._ticks = 0           # seconds ticked while replicas were attached
        self._ttl: asyncio.TimerHandle | None = None
        # WAIT: client -> (offset it waits for, replicas wanted, its timeout's handle or None)
        self.waiting: dict[Any, tuple[int, int, asyncio.TimerHandle | None]] = {}
        # WAITAOF: client -> (AOF position it waits for or None, whether it waits for replicas
        # (which no replica can satisfy here), its timeout's handle or None)
        self.aof_waiting: dict[Any, tuple[int | None, bool, asyncio.TimerHandle | None]] = {}
        # FAILOVER (see `failover`): its state, the replica handed over to, when waiting ends
        # (monotonic seconds, 0: never) and whether it then goes on anyway (FORCE)
        self.failover_state = NO_FAILOVER
        self.failover_to: tuple[str, int] | None = None
        self.failover_end = 0.0
        self.failover_force = False

    # -- SYNC / PSYNC ---------------------------------------------------------------------------

    def sync(self, client, psync: bool, replid: bytes = b"?", offset: int = -1) -> None:
        """Make `client` a replica: from the backlog if PSYNC asks for what it holds, else
        FULLRESYNC (for PSYNC), then the file, then the stream."""
        from ..errors import CommandError

        server = self.server
        link = server.master_link
        if link is not None and not link.can_serve():
            # Our data set is not (yet, or not exactly) the stream's at our offset.
            raise CommandError("NOMASTERLINK Can't SYNC while not connected with my master")
        if client.rdb_filter is not None and not client.replica_eof:
            # (Redis writes a filtered file only to a socket, in the EOF-marked format)
            raise CommandError("ERR Filtered replica requires EOF capability")
        if psync and replid != b"?" and client.rdb_filter is None:
            if self._continue(client, replid, offset):
                server.stats.sync_partial_ok += 1
                return
            server.stats.sync_partial_err += 1
        if sum(not r.online for r in self.replicas) >= MAX_SYNCING:
            # each waiting replica has a child writing its file: a bound on forks and disk
            raise CommandError("ERR too many replicas are synchronizing, try again later")
        server.stats.sync_full += 1
        if psync:
            server.outbox.put(client, b"+FULLRESYNC %s %d\r\n" % (self.replid.encode(),
                                                                   self.offset))
        replica = self._attach(client, psync)
        self.keep_backlog()
        if link is None:
            self.stream_db = -1  # the stream after the file starts with a SELECT
        directory = server.config["dir"]
        path = os.path.join(directory if os.path.isabs(directory) else os.getcwd(),
                            f"temp-sync-{os.getpid()}-{client.id}.rdb")
        ks = server.ks
        now = ks.clock()
        server.log.notice("Replica %s asks for synchronization", client.addr)
        # A replica's replica goes on in its master's stream, in the database it is in
        stream_db = link.client.ctx.db.id if link is not None else None

        keys, functions = client.rdb_filter or (True, True)
        delay = server.config["rdb-key-save-delay"]

        def write() -> None:
            with open(path, "wb") as f:
                write_rdb(ks, f, now, stream_db, keys=keys, functions=functions,
                          per_key=(lambda: debug_delay(delay)) if delay else None)

        loop = asyncio.get_running_loop()
        process = server.process
        setup = None if process is None else lambda: process.in_child("sync")
        if not self.sync_children:
            self.sync_started = time.monotonic()
        self.sync_children += 1
        reap_child(fork_job(write, setup),
                   lambda ok: loop.call_soon_threadsafe(self._file_done, replica, path, ok))

    def keep_backlog(self) -> None:
        """Start keeping the stream, from the next byte on (a first replica, a replica's sync)."""
        if self.backlog is None:
            self.backlog = bytearray()
            server = self.server
            # (first: before blocking.py's pops)
            server.add_write_hook(self.feed, first=True, run=self.feed_run)
            server.ks.expired_listeners.append(self.expired)

    def _attach(self, client, psync: bool) -> Replica:
        from .client import DROP_LAST, REPLY_OFF

        replica = Replica(client, psync)
        replica.port = client.replica_port
        client.replica = replica
        client.kind = "replica"  # (its output-buffer class)
        client.state |= REPLY_OFF | DROP_LAST  # (the replica's REPLCONF ACKs get no reply)
        self.replicas.append(replica)
        if self._ttl is not None:
            self._ttl.cancel()
            self._ttl = None
        if self._ping is None:
            self._schedule_ping()
        return replica

    def _continue(self, client, replid: bytes, offset: int) -> bool:
        """A partial resync from `offset` (the first byte the replica lacks), if possible."""
        backlog = self.backlog
        asked = replid.decode("latin-1")
        if backlog is None or (asked != self.replid and (
                asked != self.replid2 or offset > self.second_offset)):
            return False
        first = self.offset - len(backlog) + 1
        if not first <= offset <= self.offset + 1:
            return False
        replica = self._attach(client, True)
        replica.pending = None
        replica.online = True
        head = b"+CONTINUE %s\r\n" % self.replid.encode() if client.replica_psync2 \
            else b"+CONTINUE\r\n"
        data = head + bytes(backlog[offset - first:])
        self.server.outbox.put(client, data)
        replica.streamed = len(data)
        self.server.log.notice("Partial resynchronization request from %s accepted. Sending "
                               "%d bytes of backlog starting from offset %d.", client.addr,
                               self.offset + 1 - offset, offset)
        return True

    def _file_done(self, replica: Replica, path: str, ok: bool) -> None:
        self.sync_children -= 1
        client = replica.client
        try:
            data = None
            if ok:
                with open(path, "rb") as f:
                    data = f.read()
        except OSError:
            ok = False
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        if replica not in self.replicas:
            return  # it left meanwhile
        if not ok or data is None:
            self.server.log.warning("Could not write the synchronization file for %s",
                                    client.addr)
            client.close()
            return
        outbox = self.server.outbox
        outbox.put(client, b"$%d\r\n" % len(data) + data)
        if client.rdb_only:
            self.server.log.notice("RDB transfer completed, rdb only replica (%s) should be "
                                   "disconnected asap", client.addr)
            client.close()
            return
        if replica.pending:
            outbox.put(client, bytes(replica.pending))
            replica.streamed = len(replica.pending)
        replica.pending = None
        replica.online = True
        replica.ack_time = time.monotonic()  # (Redis's putSlaveOnline: its lag starts here)
        self.server.log.notice("Synchronization with replica %s succeeded", client.addr)

    def drop(self, client) -> None:
        """The replica's connection is gone."""
        replica = client.replica
        client.replica = None
        if replica in self.replicas:
            self.replicas.remove(replica)
            if not self.replicas:
                if self._ping is not None:
                    self._ping.cancel()
                    self._ping = None
                self.alone()

    def alone(self) -> None:
        """A master without replicas (the last one left, a promotion, a restart): the backlog
        lives on for one that comes back for repl-backlog-ttl seconds, as in Redis (0: for
        good). A replica keeps its backlog: it may be promoted."""
        ttl = self.server.config["repl-backlog-ttl"]
        if ttl and self.backlog is not None and self.server.master_link is None \
                and not self.replicas and self._ttl is None:
            self._ttl = asyncio.get_running_loop().call_later(ttl, self.free_backlog)

    def free_backlog(self) -> None:
        """No replica for repl-backlog-ttl seconds: stop keeping the stream; a replica that
        comes back syncs in full. Our offset stops while the data set goes on changing, so
        the history ends too (a new ID, no replid2), as Redis's replicationCron does: told
        to follow a server that shares the old one, we would continue it with other data."""
        self._ttl = None
        if self.backlog is not None and not self.replicas and self.server.master_link is None:
            self.new_history()
            self.backlog = None
            self.server.remove_write_hook(self.feed)
            self.server.ks.expired_listeners.remove(self.expired)

    # -- the stream --------------------------------------------------------------------------

    def feed(self, ctx, argv: list[bytes]) -> None:
        """Write hook: a write's effects, in its database. On a replica, nothing: its stream is
        its master's (`proxy`), and its own writes (replica-read-only no) stay local."""
        effects = ctx.effects
        if self.server.master_link is not None:
            return
        if effects is None:
            self._append(ctx.db.id, [argv])
        elif effects:  # ([]: nothing to log)
            sent = [e for e in effects if type(e) is not AofOnly]  # (for the AOF only)
            if sent:
                self._append(ctx.db.id, sent)

    def feed_run(self, ctx, argvs: list[list[bytes]]) -> None:
        """Write hook for a pipelined run of writes each propagated as sent: one chunk, the
        same bytes as the writes one by one."""
        if self.server.master_link is None:
            self._append(ctx.db.id, argvs)

    def expired(self, db, key: bytes) -> None:
        """Expiry listener: the replicas delete it too (they never expire keys themselves)."""
        if self.server.master_link is None:
            self._append(db.id, [[b"DEL", key]])

    def feed_as_is(self, argv: list[bytes]) -> None:
        """DEBUG REPLICATE: a command into the stream, in the database it is at (Redis's
        tests make a replica diverge with it)."""
        if self.server.master_link is None and self.backlog is not None:
            self._append(self.stream_db, [argv])

    def proxy(self, chunk: bytes) -> None:
        """Bytes of our master's stream, run here: they go on, as they came, to our backlog and
        replicas (Redis's replicationFeedStreamFromMasterStream)."""
        self._send(chunk)

    def _append(self, db: int, argvs: list[list[bytes]]) -> None:
        chunk = bytearray()
        if db != self.stream_db:
            chunk += select_record(db)
            self.stream_db = db
        encode_argvs(chunk, argvs)
        self._send(bytes(chunk))

    def _send(self, chunk: bytes) -> None:
        self.offset += len(chunk)
        backlog = self.backlog
        if backlog is not None:
            backlog += chunk
            if len(backlog) > 2 * self.backlog_size:
                del backlog[:len(backlog) - self.backlog_size]
        outbox = self.server.outbox
        for replica in self.replicas:
            if replica.online:
                outbox.put(replica.client, chunk)
                replica.streamed += len(chunk)
            else:
                replica.pending += chunk  # type: ignore[operator]

    def _schedule_ping(self) -> None:
        self._ping = asyncio.get_running_loop().call_later(1.0, self._ping_tick)

    def _ping_tick(self) -> None:
        self._ping = None
        timeout = self.server.config["repl-timeout"]
        now = time.monotonic()
        for replica in list(self.replicas):
            if replica.online and replica.acks and now - replica.ack_time > timeout:
                self.server.log.warning("Disconnecting timedout replica (streaming sync): %s",
                                        replica.name)
                replica.client.kill()  # (drop() removes it)
            else:  # (the soft limit's time, and a syncing one's stream, go by without writes)
                self.server.check_output_limits(replica.client)
        if self.replicas:
            self._ticks += 1
            # (a replica's replicas get its master's PINGs)
            if self._ticks % self.server.config["repl-ping-replica-period"] == 0 \
                    and self.server.master_link is None:
                self._send(b"*1\r\n$4\r\nPING\r\n")
            self._schedule_ping()

    # -- WAIT ------------------------------------------------------------------------------------

    def good_replicas(self) -> int:
        """Online replicas whose last ACK is at most min-replicas-max-lag seconds old."""
        lag = self.server.config["min-replicas-max-lag"]
        now = time.monotonic()
        return sum(r.online and int(now - r.ack_time) <= lag for r in self.replicas)

    def enough_replicas(self) -> bool:
        """Redis's checkGoodReplicasStatus: may a write run under min-replicas-to-write?"""
        cfg = self.server.config
        wanted = cfg["min-replicas-to-write"]
        return (not wanted or not cfg["min-replicas-max-lag"]
                or self.server.master_link is not None or self.good_replicas() >= wanted)

    def acked(self, offset: int) -> int:
        return sum(r.online and r.ack >= offset for r in self.replicas)

    def in_sync(self) -> bool:
        """Redis's isReadyToShutdown: every replica, online or not, acknowledged the whole
        stream."""
        return all(r.ack == self.offset for r in self.replicas)

    def ask_acks(self) -> None:
        if self.replicas:
            self._send(GETACK)

    def log_lagging(self) -> None:
        """What a shutting down master says of its replicas (Redis's finishShutdown)."""
        log = self.server.log
        now = time.monotonic()
        lagging = [r for r in self.replicas if r.ack != self.offset]
        for r in lagging:
            log.warning("Lagging replica %s reported offset %d behind master, lag=%d, state=%s.",
                        r.name, self.offset - r.ack, now - r.ack_time if r.online else 0,
                        "online" if r.online else "wait_bgsave")
        if self.replicas:
            log.notice("%d of %d replicas are in sync when shutting down.",
                       len(self.replicas) - len(lagging), len(self.replicas))

    def wait(self, client, wanted: int, timeout_ms: int) -> int | None:
        """WAIT: the number of replicas that acknowledged every write so far, at once when there
        are `wanted` of them (or inside MULTI); else None, and `client` blocks until they are
        there or `timeout_ms` passes (0: for ever), with the replicas asked for an ACK now."""
        from .client import BLOCKED, DROP_LAST, MULTI

        target = self.offset
        count = self.acked(target)
        if count >= wanted or client.state & MULTI or client.ctx.in_multi:
            return count
        if self.replicas:
            self._send(GETACK)
        handle = None
        if timeout_ms:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(timeout_ms / 1000, self._wake, client)
        self.waiting[client] = (target, wanted, handle)
        client.state |= BLOCKED | DROP_LAST  # the reply comes from _wake
        return None

    def check_waiting(self) -> None:
        """After an ACK: wake the WAITs it satisfies."""
        for client, (target, wanted, _) in list(self.waiting.items()):
            if self.acked(target) >= wanted:
                self._wake(client)

    def _wake(self, client) -> None:
        from .blocking import resume
        from .client import BLOCKED

        entry = self.waiting.pop(client, None)
        if entry is None:
            return
        target, _, handle = entry
        if handle is not None:
            handle.cancel()
        self.server.outbox.put(client, b":%d\r\n" % self.acked(target))
        client.state &= ~BLOCKED
        resume(client)

    def unblock(self, client, error: bool, text: str | None = None) -> bool:
        """CLIENT UNBLOCK of a WAIT or WAITAOF: the reply its timeout would give, or the
        UNBLOCKED error (or `text`). Returns whether the client was waiting here."""
        from .blocking import UNBLOCKED

        if client not in self.waiting and client not in self.aof_waiting:
            return False
        if not error:
            (self._wake if client in self.waiting else self._wake_aof)(client)
            return True
        from .blocking import resume
        from .client import BLOCKED

        self.unwait(client)
        self.server.outbox.put(client, b"-%s\r\n" % (text or UNBLOCKED).encode())
        client.state &= ~BLOCKED
        resume(client)
        return True

    def unwait(self, client) -> None:
        """The waiting client left."""
        for waiting in (self.waiting, self.aof_waiting):
            entry = waiting.pop(client, None)
            if entry is not None and entry[2] is not None:
                entry[2].cancel()

    # -- WAITAOF ----------------------------------------------------------------------------

    def waitaof(self, client, numlocal: int, numreplicas: int, timeout_ms: int) -> list | None:
        """WAITAOF: [1 if every write logged so far is fsynced to our AOF, replicas that
        reported the same of theirs], at once when that meets `numlocal` and `numreplicas` (or
        inside MULTI); else None, and `client` blocks until it does or `timeout_ms` passes (0:
        for ever). No replica reports its AOF here (REPLCONF ACK ... FACK, Redis 7.2's), so
        the replicas' count is 0. The writes waited for are all those logged before it, the
        client's own included (Redis waits for the client's last write only)."""
        from .client import BLOCKED, DROP_LAST, MULTI

        p = self.server.persistence
        writer = p.writer if p is not None else None
        # (an AOF whose first rewrite waits for a BGSAVE has no writer yet: all it will hold
        # is in the base it starts with, position 0 of its writer)
        target = writer.position() if writer is not None else \
            0 if p is not None and p.aof_starting else None
        acked = int(target is not None and p.durable(target))
        if acked >= numlocal and numreplicas <= 0 or client.state & MULTI or client.ctx.in_multi:
            return [acked, 0]
        handle = None
        if timeout_ms:
            handle = asyncio.get_running_loop().call_later(timeout_ms / 1000, self._wake_aof,
                                                          client)
        self.aof_waiting[client] = (target, numreplicas > 0, handle)
        client.state |= BLOCKED | DROP_LAST  # the reply comes from _wake_aof
        return None

    def check_aof_waiting(self) -> None:
        """From the cron (and after a group commit's fsync): wake the WAITAOFs now met."""
        p = self.server.persistence
        for client, (target, replicas, _) in list(self.aof_waiting.items()):
            if not replicas and target is not None and p is not None and p.durable(target):
                self._wake_aof(client)

    def _wake_aof(self, client) -> None:
        from .blocking import resume
        from .client import BLOCKED

        entry = self.aof_waiting.pop(client, None)
        if entry is None:
            return
        target, _, handle = entry
        if handle is not None:
            handle.cancel()
        p = self.server.persistence
        acked = int(target is not None and p is not None and p.durable(target))
        self.server.outbox.put(client, b"*2\r\n:%d\r\n:0\r\n" % acked)
        client.state &= ~BLOCKED
        resume(client)

    # -- FAILOVER -------------------------------------------------------------------------------

    def find_replica(self, host: str, port: int) -> Replica | None:
        for r in self.replicas:
            if r.port == port and r.ip == host:
                return r
        return None

    def failover(self, to: tuple[str, int] | None, timeout_ms: int, force: bool) -> None:
        """FAILOVER (Redis 6.2's coordinated failover; the command checked its arguments):
        writes are paused, then once a replica (`to`, or any) has acknowledged the whole
        stream, this server becomes its replica and asks it with PSYNC ... FAILOVER to take
        over. Past `timeout_ms` (0: never) it gives up, or with `force` goes on anyway."""
        server = self.server
        self.failover_to = to
        self.failover_end = time.monotonic() + timeout_ms / 1000 if timeout_ms else 0.0
        self.failover_force = force
        self.failover_state = WAIT_FOR_SYNC
        server.log.notice("FAILOVER requested to %s.",
                          f"{to[0]}:{to[1]}" if to else "any replica")
        server.pause(float("inf"), write_only=True)
        self._send(GETACK)
        self.check_failover()

    def check_failover(self) -> None:
        """While waiting for a replica to catch up: after each ACK and from the cron."""
        if self.failover_state != WAIT_FOR_SYNC:
            return
        if self.failover_end and time.monotonic() >= self.failover_end:
            if self.failover_force:
                self.server.log.notice("FAILOVER to %s:%d time out exceeded, failing over.",
                                       *self.failover_to)  # (FORCE needs TO)
                self._hand_over()
            else:
                self.abort_failover("Replica never caught up before timeout")
            return
        if self.failover_to is not None:
            caught_up = self.find_replica(*self.failover_to)
        else:  # any replica that has acknowledged the whole stream
            caught_up = next((r for r in self.replicas if r.online and r.ack == self.offset),
                             None)
        if caught_up is not None and caught_up.online and caught_up.ack == self.offset:
            self.failover_to = (caught_up.ip, caught_up.port)
            self.server.log.notice("Failover target %s:%d is synced, failing over.",
                                   *self.failover_to)
            self._hand_over()

    def _hand_over(self) -> None:
        """Become the target's replica, continuing our own stream: PSYNC <our replid> <our
        offset + 1> FAILOVER, which makes it a master (`failover_done` when it answers)."""
        self.failover_state = IN_PROGRESS
        server = self.server
        host, port = self.failover_to  # type: ignore[misc]
        server.replicaof(host, port)
        server.master_link.failover = True  # type: ignore[union-attr]

    def failover_done(self) -> None:
        """The target accepted PSYNC FAILOVER (+CONTINUE or +FULLRESYNC): writes resume."""
        self.failover_state = NO_FAILOVER
        self.failover_to = None
        self.server.unpause()

    def abort_failover(self, why: str) -> None:
        """FAILOVER ABORT, a timeout, or a target that refused: a master again, writes resume."""
        server = self.server
        server.log.notice("FAILOVER to %s aborted: %s",
                          "%s:%d" % self.failover_to if self.failover_to else "any replica",
                          why)
        was_in_progress = self.failover_state == IN_PROGRESS
        self.failover_state = NO_FAILOVER
        self.failover_to = None
        if was_in_progress:
            server.replicaof_none()
        server.unpause()

    def disconnect_replicas(self) -> None:
        """Our data set is about to be replaced (a full sync from our own master): our
        replicas must sync again, as Redis makes them."""
        for replica in list(self.replicas):
            replica.client.kill()

    def new_history(self) -> None:
        """The data set is no longer the one our stream describes (DEBUG CHANGE-REPL-ID, a
        promotion whose stream is not whole): a new replication ID, and no partial resync
        from before."""
        self.replid = os.urandom(20).hex()
        self.replid2 = NO_REPLID
        self.second_offset = -1
        self.stream_db = -1
        if self.backlog is not None:
            self.backlog.clear()

    def follow(self, replid: str, offset: int) -> None:
        """A full sync from our master loaded its data set at `offset` of its history `replid`:
        that is our history now, and our backlog starts after it."""
        self.replid = replid
        self.offset = offset
        self.replid2 = NO_REPLID
        self.second_offset = -1
        self.keep_backlog()
        self.backlog.clear()  # type: ignore[union-attr]

    def save_history(self) -> tuple[str, int, int] | None:
        """Where our data set is in a replication history, for a SAVE/BGSAVE file (Redis's
        rdbPopulateSaveInfo): a master's once it has a backlog (it is in a chain), a
        replica's while its data set is its stream's at our offset."""
        link = self.server.master_link
        if link is None:
            return (self.replid, self.offset, max(self.stream_db, 0)) \
                if self.backlog is not None else None
        return link.history()

    def resume_history(self, history: tuple[str, int, int] | None, replica: bool) -> None:
        """A start from a file that recorded `save_history`: its offset, and a backlog from
        there, so that our replicas (our master, for a replica) continue with us rather than
        sync in full. A master goes on under a new ID, the file's valid up to here, as Redis's
        loadDataFromDisk does; a replica keeps its master's."""
        if history is not None:
            self.replid, self.offset, _ = history
            self.keep_backlog()
            if not replica:
                self.shift_history()
                self.alone()

    def shift_history(self, replid: str | None = None) -> None:
        """Our history goes on under another ID: `replid` (a master that continued us under
        its new one) or a new one of ours (a promotion). The old one stays valid up to here,
        for whoever shared it; our replicas reconnect to learn the new one."""
        self.replid2 = self.replid
        self.second_offset = self.offset + 1
        self.replid = replid or os.urandom(20).hex()
        self.stream_db = -1  # our own stream (a promotion) starts with a SELECT
        self.disconnect_replicas()

    # -- what INFO and ROLE show -------------------------------------------------------------

    def info(self) -> list[tuple[str, Any]]:
        link = self.server.master_link
        rows: list[tuple[str, Any]] = [("role", "master" if link is None else "slave")]
        if link is not None:
            rows += link.info()
        rows.append(("connected_slaves", len(self.replicas)))
        cfg = self.server.config
        if cfg["min-replicas-to-write"] and cfg["min-replicas-max-lag"]:
            rows.append(("min_slaves_good_slaves", self.good_replicas()))
        now = time.monotonic()
        for i, r in enumerate(self.replicas):
            state = "online" if r.online else "wait_bgsave"
            lag = int(now - r.ack_time) if r.online else 0
            rows.append((f"slave{i}", f"ip={r.ip},port={r.port},state={state},offset={r.ack},"
                         f"lag={lag}"))
        return rows + [
            ("master_failover_state", self.failover_state),
            ("master_replid", self.replid),
            ("master_replid2", self.replid2),
            ("master_repl_offset", self.offset),
            ("second_repl_offset", self.second_offset),
            ("repl_backlog_active", int(self.backlog is not None)),
            ("repl_backlog_size", self.backlog_size),
            ("repl_backlog_first_byte_offset",
             self.offset - len(self.backlog) + 1 if self.backlog is not None else 0),
            ("repl_backlog_histlen", len(self.backlog) if self.backlog is not None else 0),
        ]

    def role(self) -> list:
        if self.server.master_link is not None:
            return self.server.master_link.role()
        return [b"master", self.offset,
                [[r.ip.encode(), b"%d" % r.port, b"%d" % r.ack]
                 for r in self.replicas]]
