"""Serving clients while the event loop cannot: a script past busy-reply-threshold (Redis's
timed-out scripts), and the data set's loading at start-up (loading.py).

A script runs inside its client's read, on the event loop's thread, so nothing else is served
while it runs. Past `busy-reply-threshold` ms Redis re-enters its event loop from the script's
hook (processEventsWhileBlocked): every command is refused with BUSY except the few flagged
allow_busy (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE, AUTH, HELLO, MULTI, WATCH...), so a user
can stop the script from another redis-cli. asyncio's loop cannot be re-entered, so `Busy` does
that loop's work by hand, from the script's hook (`Scripts._time_up`), every 5 ms. The work
itself is `WhileBlocked`'s, which `Loading` shares:

* it polls the listening sockets and every connection but the script's own (its further
  commands wait, as Redis protects that client), the master link's (its stream waits, as in
  Redis) and those with a reply still held for the AOF (a BUSY error must not overtake it);
* it reads a ready connection's socket itself and feeds the bytes to `Client.data_received`,
  where the server's raised gate turns each command into BUSY unless it is allow_busy
  (`states.refusal`); uvloop writes the replies at once, or keeps them for when the loop runs;
  a connection that hung up is let go at once (Client.connection_lost), a replica's included;
* it accepts new connections, served through `PendingTransport` until the loop adopts them
  (`end`, then `Client.connection_made`); and those the loop accepted in the iteration the
  script started in, whose connection_made still waits in the loop's queue (`arriving`), with
  the loop's transport (`_transport_of`: the loop calls connection_made again afterwards).

The replies queued in the outbox before the script (the iteration's, held for the AOF) stay
queued; those of the busy period are sent at each round.
"""

from __future__ import annotations

import asyncio
import gc
import os
import select
import socket
import time
from typing import Any

from ..commands.scripting import ABANDONED, KILLED
from ..errors import CommandError
from .client import BLOCKED, CLOSING, DROP_LAST, WRITE_HIGH_WATER, Client

READ_SIZE = 65536

BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 "SHUTDOWN NOSAVE.")
# (our master's script: killing it would leave the replica's data other than its master's)
UNKILLABLE_MASTER = ("UNKILLABLE The busy script was sent by a master instance in the context "
                     "of replication and cannot be killed.")
UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the dataset. "
              "You can either wait the script termination or kill the server in a hard way "
              "using the SHUTDOWN NOSAVE command.")


class PendingTransport:
    """A connection accepted while the loop is busy: writes go straight to the socket (what the
    socket cannot take waits), until the loop adopts the socket (`Busy.end`)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.unsent = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            if name == "socket":
                return self.sock
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            pass
        return default

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        if self.unsent:
            self.unsent += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.closing = True
            return
        if sent < len(data):
            self.unsent += data[sent:]

    def flush(self) -> None:
        """Send what the socket can take of what waits."""
        try:
            sent = self.sock.send(self.unsent)
        except BlockingIOError:
            return
        except OSError:
            self.closing = True
            return
        del self.unsent[:sent]

    def get_write_buffer_size(self) -> int:
        return len(self.unsent)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class WhileBlocked:
    """The event loop's work, done by hand while it cannot run (see the module docstring).
    `client`: a connection not to read meanwhile (a busy script's own)."""

    def __init__(self, server, client=None) -> None:
        self.server = server
        outbox = server.outbox
        self.held, outbox.queued = outbox.queued, []
        skip = {c for c, _ in self.held}
        skip.add(client)
        for arriving in list(server.arriving):
            # Accepted by the loop in the iteration the script started in: its connection_made
            # waits in the loop's queue. Made now with the loop's transport, found as the
            # object that refers to the client as its protocol.
            transport = _transport_of(arriving)
            if transport is not None and not transport.is_closing():
                arriving.connection_made(transport)
        self.poll = select.poll()
        self.targets: dict[int, Any] = {}  # fd -> Client, or a listening socket
        for other in list(server.clients.values()):
            if other not in skip and not other.is_master and other.fd >= 0 \
                    and other.transport is not None and not other.transport.is_closing():
                self._watch(other.fd, other)
        self.listeners: list[socket.socket] = []
        for fd in server.listening_fds():
            try:
                lsock = socket.socket(fileno=os.dup(fd))
            except OSError:
                continue
            lsock.setblocking(False)
            self.listeners.append(lsock)
            self._watch(lsock.fileno(), lsock)
        self.accepted: list[tuple[Any, PendingTransport]] = []

    def _watch(self, fd: int, target: Any) -> None:
        self.targets[fd] = target
        self.poll.register(fd, select.POLLIN)

    def _forget(self, fd: int) -> None:
        del self.targets[fd]
        self.poll.unregister(fd)

    def serve(self) -> None:
        """One round: accept, read and answer what is ready, without waiting."""
        server = self.server
        server.now_mono = time.monotonic()
        for fd, _ in self.poll.poll(0):
            target = self.targets.get(fd)
            if target is None:
                continue
            if type(target) is socket.socket:
                self._accept(target)
                continue
            transport = target.transport
            if target.state & CLOSING or target.reading_paused or transport is None:
                self._forget(fd)  # (the loop sees its end, or resumes it, afterwards)
                continue
            if type(transport) is PendingTransport and len(transport.unsent) > WRITE_HIGH_WATER:
                continue  # not reading its replies: not read either, as the loop pauses one
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                # Gone: let go now, as Redis frees a client that hangs up while a script is
                # busy (a replica's end shows in INFO at once). The loop's connection_lost
                # comes later and finds it done; an accepted one closes at `_settle_accepted`.
                self._forget(fd)
                if type(transport) is not PendingTransport:
                    target.connection_lost(None)
                transport.close()
                continue
            target.data_received(data)
        outbox = server.outbox
        if outbox.queued:
            batch, outbox.queued = outbox.queued, []
            outbox.send(batch)
        self._settle_accepted()

    def _accept(self, lsock: socket.socket) -> None:
        for _ in range(100):
            try:
                conn, _ = lsock.accept()
            except OSError:  # (BlockingIOError: none left)
                return
            conn.setblocking(False)
            if conn.family != socket.AF_UNIX:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = Client(self.server)
            transport = PendingTransport(conn)
            client.connection_made(transport)
            self.accepted.append((client, transport))
            if client.transport is transport and not transport.closing:
                self._watch(conn.fileno(), client)

    def _settle_accepted(self) -> None:
        """Send the accepted connections' waiting replies; close those that ended (QUIT,
        refused by maxclients)."""
        for client, transport in self.accepted:
            if transport.unsent and not transport.closing:
                transport.flush()
            if transport.closing and client.transport is transport:
                sock = transport.sock
                if sock.fileno() in self.targets:
                    self._forget(sock.fileno())
                if transport.unsent:  # (best effort, as a closing transport's last bytes)
                    try:
                        sock.send(transport.unsent)
                    except OSError:
                        pass
                sock.close()
                client.connection_lost(None)

    def end(self) -> None:
        """The loop takes over again."""
        server = self.server
        outbox = server.outbox
        outbox.queued = self.held + outbox.queued
        if outbox.queued:
            outbox.schedule()
        for lsock in self.listeners:
            lsock.close()
        self._settle_accepted()
        loop = asyncio.get_running_loop()
        for client, transport in self.accepted:
            if client.transport is transport:
                loop.create_task(_adopt(loop, client, transport.sock))
            else:
                transport.sock.close()
        self.accepted = []


class Busy(WhileBlocked):
    """The server's state while a script is past busy-reply-threshold (`Server.busy`)."""

    def __init__(self, server, script, client, started: float) -> None:
        super().__init__(server, client)
        self.script = script      # the Scripts running it: its `wrote`, `killed`...
        self.client = client      # whose command runs the script (never read meanwhile)
        self.started = started    # perf_counter() when the script started
        self.is_eval = not script.call[0].lower().startswith(b"fcall")
        self.text = BUSY_EVAL if self.is_eval else BUSY_FUNCTION

    def kill(self, by_eval: bool) -> None:
        """SCRIPT KILL (`by_eval`) or FUNCTION KILL, as Redis's scriptKill."""
        if self.client.is_master:
            raise CommandError(UNKILLABLE_MASTER)
        if self.script.wrote:
            raise CommandError(UNKILLABLE)
        if by_eval != self.is_eval:
            raise CommandError(BUSY_FUNCTION if by_eval else BUSY_EVAL)
        self.script.stop(KILLED)
        self.server.log.warning("Lua script killed by user with SCRIPT KILL.")

    def abandon(self) -> None:
        """SHUTDOWN NOSAVE: stop the script, written or not, with none of its effects kept
        (Redis exits before propagating them); its client hears nothing, as from SHUTDOWN."""
        self.script.stop(ABANDONED)
        self.client.state |= BLOCKED | DROP_LAST


def _transport_of(client) -> Any:
    for ref in gc.get_referrers(client):
        get_protocol = getattr(ref, "get_protocol", None)
        if get_protocol is not None and get_protocol() is client:
            return ref
    return None


async def _adopt(loop: asyncio.AbstractEventLoop, client, sock: socket.socket) -> None:
    try:
        await loop.connect_accepted_socket(lambda: client, sock)
    except OSError:
        sock.close()
        client.connection_lost(None)
