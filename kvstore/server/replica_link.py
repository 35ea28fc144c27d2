"""Replication, the replica side: REPLICAOF / SLAVEOF and the `replicaof` option.

What it does. The server connects to its master and goes through Redis 7.0's handshake: PING,
AUTH (with `masterauth`, and `masteruser` if set), REPLCONF listening-port, REPLCONF capa eof
capa psync2, then PSYNC ? -1 the first time. A full resynchronisation follows:
`+FULLRESYNC <replid> <offset>`, then the data set as an RDB file,
either `$<length>\\r\\n<bytes>` or, from a diskless master, `$EOF:<40-byte mark>\\r\\n<bytes><mark>`
(newlines before it are the master's keep-alives). The file is loaded whole: it is read to the
end and its checksum verified before the old data set is dropped, so a broken transfer leaves
the replica as it was. Then the master's stream of writes runs on the same connection.
After a link that was up drops, the replica asks to continue where it stopped (`PSYNC
<master replid> <offset + 1>`); a master whose backlog still holds that answers `+CONTINUE`
and the rest of the stream, and the data set is kept (a partial resync). The same goes for a
server told to follow another master, whether it was a master (it continues its own history)
or a replica (its master's): a promoted sibling still knows that history (psync2, see
replication.py).

The stream goes on. Whatever part of the stream has run here goes on to our own backlog and
replicas as it came (`MasterClient._proxy`), so our replication ID and offset stay the master's.
An open transaction waits for its EXEC, as Redis counts it run only then; the replication
offset is that of the last whole command run.

How the stream runs. The connection is a `Client` (`MasterClient`) whose replies are off, so the
master's commands go through the normal path: MULTI/EXEC, SELECT, the AOF, WATCH, blocked
clients, keyspace notifications and our own replicas all see them as any write. Differences, as
in Redis: the master's commands are never refused (maxmemory, read-only), and they see no key as
expired (the master decides expiry, and sends a DEL), which `_MasterContext` does by reading
"now" as 0; the keyspace's `replica` flag keeps every other client from deleting an expired key
(it reads as absent) and stops the active expiry cycle. `REPLCONF GETACK` is answered with
`REPLCONF ACK <offset>`, as is every second; the offset is the master's at FULLRESYNC plus the
stream bytes run since.

Reconnection. When the link drops (or the master is silent for `repl-timeout` seconds) the
replica logs it and tries again every second, serving its data meanwhile (Redis's
replica-serve-stale-data yes). Clients writing to a read-only replica (`replica-read-only yes`,
the default) get Redis's READONLY error (server/states.py `refusal`).
"""

from __future__ import annotations

import asyncio
import time

from ..commands.table import Context
from ..engine.dump import PayloadFormatError, install, read_rdb_file
from ..errors import CommandError
from ..persistence.aof import encode_argvs
from ..persistence.progress import LoadingStopped
from .supervise import notify_systemd
from .client import BLOCKED, CLOSING, MULTI, REPLY_OFF, Client

RETRY_S = 1.0
# After a file we could not load (say, a stream), each retry waits twice as long, up to this:
# every retry makes the master write its whole data set again.
RETRY_MAX_S = 60.0
ACK_PERIOD_S = 1.0
EOF_MARK_LEN = 40
# `*1\r\n$5\r\nMULTI\r\n`: how a master's stream opens a transaction
MULTI_LEN = 15

# Link states, as ROLE names them (Redis's replstateToString), and what INFO shows.
CONNECT, CONNECTING, HANDSHAKE, SYNC, CONNECTED = (
    "connect", "connecting", "handshake", "sync", "connected")


class _MasterContext(Context):
    """The master client's context: "now" reads as 0, so no key is expired for its commands
    (they come with absolute times: the master turns EX into PXAT, EXPIRE into PEXPIREAT)."""

    __slots__ = ()
    now = property(lambda self: 0, lambda self, value: None)
    obeyed = True


class MasterClient(Client):
    """The connection to the master: the handshake, the file, then the stream as commands."""

    is_master = True

    def __init__(self, server, link: "MasterLink") -> None:
        super().__init__(server)
        self.link = link
        self.ctx = _MasterContext(server.ks, 0, client=self)
        self.ctx.on_write = server.script_hook
        self.authenticate(server.acl.default)  # (set_user: never checked)
        self.state |= REPLY_OFF
        self.buf = bytearray()     # handshake lines and the file, before the stream
        self.step = 0              # index into `link.steps` of the reply awaited
        self.file_size = -1        # the file's length, or -1 for the EOF-mark form
        self.eof_mark = b""
        self.scanned = 0           # how far the file was searched for the EOF mark
        self.streamed = 0          # stream bytes received
        self.proxied = 0           # of which handed on (`_proxy`)
        self.raw = bytearray()     # the stream bytes received and not yet handed on

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self.transport = transport
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if isinstance(peer, tuple):
            self.addr = f"{peer[0]}:{peer[1]}"
            self.laddr = f"{local[0]}:{local[1]}"
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.fd = sock.fileno()
        self.server.clients[self.id] = self
        self.link.connected(self)

    def connection_lost(self, exc) -> None:
        super().connection_lost(exc)
        self.link.lost(self)

    def release_input(self) -> None:
        """Kept: our master's unread bytes say where its next link resumes (`offset`); they
        go with the link."""

    def data_received(self, data: bytes) -> None:
        link = self.link
        link.last_io = time.monotonic()
        if link.state == CONNECTED:
            self.streamed += len(data)
            self.raw += data
            self.read(data)
            self._proxy()
            return
        self.buf += data
        try:
            while self.buf and link.state != CONNECTED and not self.state & CLOSING:
                if not (self._transfer() if link.state == SYNC else self._handshake_line()):
                    break
        except _LinkError as exc:
            self.server.log.warning("%s", exc)
            self.kill()
            return
        if link.state == CONNECTED and self.buf:
            rest, self.buf = bytes(self.buf), bytearray()
            self.streamed += len(rest)
            self.raw += rest
            self.read(rest)
            self._proxy()

    def read(self, data: bytes) -> None:
        ks = self.server.ks
        ks.from_master = True  # (TTLs it sets are its master's to expire)
        try:
            super().read(data)
        finally:
            ks.from_master = False

    def release(self) -> None:
        # (held input was counted in `streamed` when it came)
        held, self.held = self.held, []
        if held:
            self.read(b"".join(held))
            self._proxy()

    def offset(self) -> int:
        """The master's replication offset we have run up to (REPLCONF ACK's, Redis's
        reploff): not what a CLIENT PAUSE WRITE holds, commands or bytes. A new link continues
        from here, and what was held is dropped, as Redis drops its cached master's."""
        done = self.link.base_offset + self.streamed - self.parser.unreturned() \
            - (self.held_bytes if self.held else 0)
        if self.pending:
            held = bytearray()
            encode_argvs(held, self.pending)  # (as the master sent them: canonical multibulks)
            done -= len(held)
        return done

    def read_offset(self) -> int:
        """The master's replication offset we have read up to (Redis's read_reploff)."""
        return self.link.base_offset + self.streamed

    def unsent(self) -> int:
        """Bytes of the stream run here and not yet handed on: commands before an open
        transaction's MULTI, or whole ones; not the transaction itself."""
        run = self.streamed - self.parser.unreturned() - self.proxied
        if self.state & MULTI:
            # Not run yet: the MULTI and the queue, as the master encodes them (canonically)
            queued = bytearray()
            encode_argvs(queued, [argv for _, argv in self.queue])
            run -= MULTI_LEN + len(queued)
        return run

    def _proxy(self) -> None:
        """Hand on what has run of the stream (see the module docstring). Not while commands
        wait (CLIENT PAUSE): what came before them is sent with them."""
        if self.state & (BLOCKED | CLOSING) or self.held or self.link.state != CONNECTED:
            return
        n = self.unsent()
        if n > 0:
            chunk = bytes(self.raw[:n])
            del self.raw[:n]
            self.proxied += n
            self.server.replication.proxy(chunk)

    def stream_error(self, line: bytes) -> None:
        """A command of the master's stream failed here: its error reply goes nowhere, so it is
        logged, as Redis's afterErrorReply does (a sign that the data sets differ)."""
        self.server.stats.unexpected_errors += 1
        cmd = self.last_cmd.name if self.last_cmd is not None else "<unknown>"
        # (as Redis words it: most of its ERR errors are built without their code, the others
        # keep their `-CODE`)
        text = line[5:-2] if line.startswith(b"-ERR ") else line[:-2]
        self.server.log.warning("== CRITICAL == This replica is sending an error to its master: "
                                "'%s' after processing the command '%s'",
                                text[:4096].decode("utf-8", "replace"), cmd)

    def send(self, *argv: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            out = bytearray()
            encode_argvs(out, [list(argv)])
            self.transport.write(bytes(out))

    def send_ack(self) -> None:
        if self.link.state == CONNECTED:
            self.send(b"REPLCONF", b"ACK", b"%d" % self.offset())

    # -- before the stream ---------------------------------------------------------------------

    def _handshake_line(self) -> bool:
        while self.buf[:1] == b"\n":  # the master's keep-alives (while it waits to fork)
            del self.buf[:1]
        end = self.buf.find(b"\r\n")
        if end < 0:
            if len(self.buf) > 64 * 1024:
                raise _LinkError("Master sent an overlong handshake line")
            return False
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        self.link.reply(self, line)
        return True

    def _transfer(self) -> bool:
        """The RDB file: its header line, then its bytes. Returns False to wait for more."""
        buf = self.buf
        if self.file_size < 0 and not self.eof_mark:
            while buf[:1] == b"\n":  # the master's keep-alives while it prepares the file
                del buf[:1]
            end = buf.find(b"\r\n")
            if end < 0:
                return False
            header = bytes(buf[:end])
            del buf[:end + 2]
            if header[:1] == b"-":
                raise _LinkError("MASTER aborted replication with an error: "
                                 + header[1:].decode("utf-8", "replace"))
            if header.startswith(b"$EOF:") and len(header) == 5 + EOF_MARK_LEN:
                self.eof_mark = header[5:]
            else:
                try:
                    self.file_size = int(header[1:]) if header[:1] == b"$" else -1
                except ValueError:
                    self.file_size = -1
                if self.file_size < 0:
                    raise _LinkError("Bad protocol from MASTER, the first byte is not '$' "
                                     "(we received '%s'), are you sure the host and port are "
                                     "right?" % header[:64].decode("utf-8", "replace"))
            self.server.log.notice("MASTER <-> REPLICA sync: receiving %s bytes from master",
                                   self.file_size if self.file_size >= 0 else "streamed")
        if self.eof_mark:
            at = buf.find(self.eof_mark, self.scanned)
            if at < 0:
                self.scanned = max(0, len(buf) - EOF_MARK_LEN)  # each byte searched once
                return False
            data, rest = bytes(buf[:at]), buf[at + EOF_MARK_LEN:]
        else:
            if len(buf) < self.file_size:
                return False
            data, rest = bytes(buf[:self.file_size]), buf[self.file_size:]
        self.buf = bytearray(rest)
        self.link.load(self, data)
        return True


class _LinkError(Exception):
    pass


class MasterLink:
    """Our replication towards one master (`host`:`port`), with its retries. See the module
    docstring."""

    def __init__(self, server, host: str, port: int) -> None:
        self.server = server
        self.host = host
        self.port = port
        self.state = CONNECT
        self.client: MasterClient | None = None
        self.base_offset = 0       # the master's offset at FULLRESYNC (or +CONTINUE)
        self.master_replid = "?"
        # (master replid, offset run up to, database selected) of the last link that was up:
        # what PSYNC asks to continue from, and the stream's database at that point
        self.cached: tuple[str, int, int] | None = None
        self.last_io = time.monotonic()
        self.down_since = time.monotonic()
        self.closed = False
        # The link a FAILOVER opens to the replica it hands over to: PSYNC says FAILOVER, and
        # its answer ends the failover (replication.py)
        self.failover = False
        self.retry_s = RETRY_S     # wait between attempts (see RETRY_MAX_S)
        self.steps: list[tuple[bytes, ...]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._connecting: asyncio.Task | None = None

    # -- connecting ----------------------------------------------------------------------------

    def start(self) -> None:
        self._connecting = asyncio.get_running_loop().create_task(self._connect())
        self._tick()

    async def _connect(self) -> None:
        self.state = CONNECTING
        self.server.log.notice("Connecting to MASTER %s:%d", self.host, self.port)
        loop = asyncio.get_running_loop()
        source = self.server.config["bind-source-addr"]  # (the address the master sees)
        try:
            await asyncio.wait_for(loop.create_connection(
                lambda: MasterClient(self.server, self), self.host, self.port,
                local_addr=(source, 0) if source else None),
                self.server.config["repl-timeout"])
        except (OSError, asyncio.TimeoutError) as exc:
            self.server.log.warning("Error condition on socket for SYNC: %s",
                                    getattr(exc, "strerror", None) or exc or "timeout")
            self.state = CONNECT
        finally:
            self._connecting = None

    def connected(self, client: MasterClient) -> None:
        if self.closed:
            client.kill()
            return
        self.client = client
        self.state = HANDSHAKE
        self.last_io = time.monotonic()
        cfg = self.server.config
        self.server.log.notice("MASTER <-> REPLICA sync started")
        steps: list[tuple[bytes, ...]] = [(b"PING",)]
        if cfg["masterauth"]:
            auth = cfg["masterauth"].encode()
            user = cfg["masteruser"].encode() if cfg["masteruser"] else None
            steps.append((b"AUTH", user, auth) if user else (b"AUTH", auth))
        port = self.server.ports[0] if self.server.ports else cfg["port"]
        steps += [(b"REPLCONF", b"listening-port", b"%d" % port),
                  (b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"),
                  (b"PSYNC", self.cached[0].encode(), b"%d" % (self.cached[1] + 1))
                  if self.cached else (b"PSYNC", b"?", b"-1")]
        if self.failover:
            steps[-1] += (b"FAILOVER",)
        self.steps = steps
        client.step = 0
        client.send(*steps[0])

    def reply(self, client: MasterClient, line: bytes) -> None:
        """A reply line of the handshake, to the step `client.step`."""
        step = self.steps[client.step]
        name = step[0]
        text = line.decode("utf-8", "replace")
        if name == b"PSYNC":
            if self.failover:
                self.failover = False
                replication = self.server.replication
                if not line.startswith((b"+CONTINUE", b"+FULLRESYNC")):
                    replication.abort_failover("Failover target rejected psync request")
                    return
                replication.failover_done()
            if line.startswith(b"+CONTINUE") and self.cached is not None:
                replication = self.server.replication
                parts = line.split()
                if len(parts) > 1:  # psync2: the master may have a new ID for the same history
                    self.master_replid = parts[1].decode("latin-1")
                    if self.master_replid != replication.replid:
                        self.server.log.notice("Master replication ID changed to %s",
                                               self.master_replid)
                        replication.shift_history(self.master_replid)
                self.base_offset = self.cached[1]
                client.ctx.select(self.cached[2])
                self.cached = None
                self.state = CONNECTED
                replication.keep_backlog()
                self.server.log.notice("Successful partial resynchronization with master.")
                return
            if line.startswith((b"-NOMASTERLINK", b"-LOADING")):
                # A master not ready to serve (a replica not linked to its own): ask again
                # later, for the same history (Redis's PSYNC_TRY_LATER)
                raise _LinkError(f"Master is currently unable to PSYNC but should be in the "
                                 f"future: {text}")
            self.cached = None
            if not line.startswith(b"+FULLRESYNC"):
                raise _LinkError(f"Unexpected reply to PSYNC from master: {text}")
            parts = line.split()
            try:
                self.master_replid = parts[1].decode()
                self.base_offset = int(parts[2])
            except (IndexError, ValueError, UnicodeDecodeError):
                raise _LinkError(f"Unexpected reply to PSYNC from master: {text}") from None
            self.server.log.notice("Full resync from master: %s:%d", self.master_replid,
                                   self.base_offset)
            self.state = SYNC
            return
        if line.startswith(b"-"):
            # As Redis: a master that wants AUTH before PING (or denies it) still gets the
            # rest of the handshake; any other error ends this attempt.
            if name == b"PING" and line[1:].startswith((b"NOAUTH", b"NOPERM", b"ERR operation "
                                                        b"not permitted")):
                pass
            elif name == b"AUTH":
                raise _LinkError(f"Unable to AUTH to MASTER: {text}")
            elif name == b"PING":
                raise _LinkError(f"Error reply to PING from master: '{text}'")
            else:
                self.server.log.warning("Master does not understand %s: %s",
                                        b" ".join(step).decode("utf-8", "replace"), text)
        client.step += 1
        client.send(*self.steps[client.step])

    def load(self, client: MasterClient, data: bytes) -> None:
        """The master's RDB file: check it whole, then replace the data set with it. While it
        is read the other clients get LOADING, as from a Redis replica loading its file."""
        server = self.server
        ks = server.ks
        server.log.notice("MASTER <-> REPLICA sync: Loading DB in memory")
        try:
            with server.loading_state(client) as loading:
                loading.progress.total = len(data)
                tables, loaded, libraries, aux, _ = read_rdb_file(data, ks, loading.progress)
        except PayloadFormatError as exc:
            self.retry_s = min(self.retry_s * 2, RETRY_MAX_S)
            raise _LinkError(f"Failed trying to load the MASTER synchronization DB from "
                             f"socket: {exc}") from None
        except LoadingStopped:  # the server stops once the loop runs: the old data set stays
            raise _LinkError("MASTER <-> REPLICA sync: given up for the shutdown") from None
        server.log.notice("MASTER <-> REPLICA sync: Flushing old data")
        from ..commands.functions import functions_of
        from ..commands.scan import forget_db

        server.replication.disconnect_replicas()  # they would keep the old data set
        server.replication.follow(self.master_replid, self.base_offset)
        # replica-lazy-flush: the old data set is freed a slice at a time (engine/lazyfree.py)
        old = [(db.data, db.expires) for db in ks.dbs] \
            if server.config["replica-lazy-flush"] else []
        ks.flushall()
        for db in ks.dbs:
            forget_db(ks, db)
        for data, expires in old:
            ks.lazyfree.free_table(data, expires)
        del old
        functions = functions_of(ks)
        functions.flush()
        for code in libraries:
            try:
                functions.load(code, replace=True)
            except CommandError as exc:  # the keys still load; the library is named
                server.log.warning("Skipping a function library from the MASTER: %s", exc)
        install(ks, tables)  # (expired keys too: on a replica the master's DEL removes them)
        ks.dirty += 1
        server.log.notice("MASTER <-> REPLICA sync: Finished with success (%d keys)", loaded)
        if server.supervised == "systemd":
            notify_systemd(server.log, "STATUS=MASTER <-> REPLICA sync: Finished with success. "
                           "Ready to accept connections in read-write mode.\n")
        self.state = CONNECTED
        self.retry_s = RETRY_S
        # A replica's file says where its stream is (its master's database), a master's
        # stream starts with a SELECT
        stream_db = aux.get(b"repl-stream-db", b"0")
        client.ctx.select(int(stream_db) if stream_db.isdigit()
                          and int(stream_db) < len(ks.dbs) else 0)
        client.send_ack()  # a diskless master starts the stream on the first ACK
        p = server.persistence
        if p is not None and (p.writer is not None or p.aof_starting):
            # The AOF holds the old data set: restarted, it gets a base of the loaded one
            # (Redis's restartAOFAfterSYNC).
            p.disable_aof()
            p.enable_aof()

    # -- while linked --------------------------------------------------------------------------

    def _tick(self) -> None:
        """Every second: an ACK to the master, the silence check, a retry when unlinked."""
        self._timer = asyncio.get_running_loop().call_later(ACK_PERIOD_S, self._tick)
        client = self.client
        if client is not None:
            if time.monotonic() - self.last_io > self.server.config["repl-timeout"]:
                self.server.log.warning("MASTER timeout: no data nor PING received...")
                client.kill()
            else:
                client._proxy()  # (what a pause held back)
                client.send_ack()
        elif self._connecting is None and not self.closed \
                and time.monotonic() - self.down_since >= self.retry_s:
            self._connecting = asyncio.get_running_loop().create_task(self._connect())

    def lost(self, client: MasterClient) -> None:
        if client is not self.client:
            return
        if self.state == CONNECTED:
            self.server.log.notice("Connection with master lost.")
            # (a transaction cut in the middle was never run: it comes again, whole)
            self.cached = self.history()
        self.client = None
        self.state = CONNECT
        self.down_since = time.monotonic()

    def close(self) -> None:
        """REPLICAOF NO ONE, another master, or shutdown."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._connecting is not None:
            self._connecting.cancel()
        if self.client is not None:
            self.client.kill()
            self.client = None

    def history(self) -> tuple[str, int, int] | None:
        """(replication ID, offset, database) our data set is at, to continue from; None when
        something has run here that our own stream does not hold yet (a CLIENT PAUSE held
        back part of a read): only a full sync is safe then."""
        replication = self.server.replication
        client = self.client
        if self.state == CONNECTED and client is not None:
            if client.unsent():
                return None
            db = client.ctx.db.id
        else:
            db = self.cached[2] if self.cached else 0
        return replication.replid, replication.offset, db

    def can_serve(self) -> bool:
        """Whether our data set is exactly our stream's at our offset, so that a replica of
        ours can start from a copy of it (Redis: only while linked to our master)."""
        client = self.client
        if self.state != CONNECTED or client is None:
            return False
        client._proxy()
        return not client.unsent()

    # -- what INFO and ROLE show ---------------------------------------------------------------

    def offset(self) -> int | None:
        """Where we are in the master's stream: the link's, or, between links, where PSYNC is
        to continue (Redis's cached master); None when neither."""
        if self.client is not None and self.state == CONNECTED:
            return self.client.offset()
        return self.cached[1] if self.cached is not None else None

    def info(self) -> list[tuple[str, object]]:
        up = self.state == CONNECTED
        rows: list[tuple[str, object]] = [
            ("master_host", self.host), ("master_port", self.port),
            ("master_link_status", "up" if up else "down"),
            ("master_last_io_seconds_ago", int(time.monotonic() - self.last_io) if up else -1),
            ("master_sync_in_progress", int(self.state == SYNC)),
        ]
        client = self.client
        if self.state == SYNC and client is not None:
            started = client.file_size >= 0 or bool(client.eof_mark)
            done = len(client.buf) if started else 0
            total = client.file_size  # -1 for a diskless master's file of unknown length
            rows += [("master_sync_total_bytes", total), ("master_sync_read_bytes", done),
                     ("master_sync_left_bytes", total - done if total >= 0 else -1),
                     ("master_sync_perc", "%.2f" % (done * 100 / total if total > 0 else 0)),
                     ("master_sync_last_io_seconds_ago", int(time.monotonic() - self.last_io))]
        offset = self.offset()
        read = self.client.read_offset() if up and self.client is not None else offset
        rows += [("slave_read_repl_offset", 1 if read is None else read),  # (Redis's 1)
                 ("slave_repl_offset", 1 if offset is None else offset)]
        if not up:
            rows.append(("master_link_down_since_seconds",
                         int(time.monotonic() - self.down_since)))
        return rows + [("slave_priority", 100),
                       ("slave_read_only", int(bool(self.server.config["replica-read-only"]))),
                       ("replica_announced", 1)]

    def role(self) -> list:
        linked = self.client is not None and self.state == CONNECTED
        return [b"slave", self.host.encode(), self.port, self.state.encode(),
                self.client.offset() if linked else -1]  # (Redis's: no cached master here)


