"""One blocking socket connection to a RESP server (TCP or Unix socket).

Theory of operation
-------------------
A `Connection` owns a socket and one reply reader from `kvstore.protocol.make_reader` (hiredis
when installed): the same sans-IO codec as the server. `send(data)` writes packed commands with
one `sendall`; `read(...)` feeds the reader from `recv` until it yields a reply. Nothing else
reads the socket, so replies can never be matched to the wrong request.

Connecting runs the handshake in one round trip: `HELLO 3` (RESP3, carrying AUTH) or `AUTH`,
then `CLIENT SETNAME` and `SELECT`, all sent in one write and read back in order.

Invariant: a connection never goes back to a pool with a reply still owed to it. Any exception
between sending a command and reading its reply (timeout, connection error, KeyboardInterrupt)
closes the socket (`disconnect()`), so the next user reconnects instead of reading a stale reply.

Deadlines: `socket_timeout` bounds each wait for data; a blocking command (BLPOP k 5) passes its
own timeout and the read waits that long *plus* socket_timeout (0 = forever: no deadline).
"""

from __future__ import annotations

import select
import socket
import time
from typing import Any, Sequence

from kvstore.errors import ConnectionError, ResponseError, TimeoutError
from kvstore.protocol import make_reader, pack_command

from .resp import raise_if_error, to_resp2

# Extra wait for a blocking command's reply beyond its own timeout plus socket_timeout: a server
# fires timeouts on its timer, late by up to 1/hz (100 ms at Redis's default hz 10).
BLOCK_GRACE = 0.25  # seconds

# Bytes asked of the kernel per recv(): large enough for a pipeline's replies in one call.
READ_SIZE = 65536


class ConnectionOptions:
    """The options a connection takes, checked and stored; `Connection` and
    `aconnection.AsyncConnection` add the I/O."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        *,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        client_name: str | None = None,
        protocol: int = 2,
        socket_timeout: float | None = None,
        socket_connect_timeout: float | None = None,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        health_check_interval: float = 0,
    ) -> None:
        if protocol not in (2, 3):
            raise ValueError("protocol must be 2 or 3")
        self.host = host
        self.port = port
        self.path = path
        self.db = db
        self.username = username
        self.password = password
        self.client_name = client_name
        self.protocol = protocol
        self.socket_timeout = socket_timeout
        self.socket_connect_timeout = socket_connect_timeout
        self.decode_responses = decode_responses
        self.encoding = encoding
        self.encoding_errors = encoding_errors
        self.health_check_interval = health_check_interval

    @property
    def address(self) -> str:
        return self.path or f"{self.host}:{self.port}"


class Connection(ConnectionOptions):
    """A socket connection; see the module docstring. Not thread-safe: a pool hands it to one
    thread at a time."""

    # Per-connection state (instance attributes once set).
    sock: socket.socket | None = None
    _reader: Any = None
    _poll: Any = None
    _timeout: float | None = None  # the timeout currently set on the socket
    last_used = 0.0  # monotonic time of the last reply read
    pid_generation = 0  # bumped on every (re)connect, so owners can notice

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.address} db={self.db}>"

    # -- lifecycle ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the socket and run the handshake (no retry here: the pool decides)."""
        if self.sock is not None:
            return
        try:
            if self.path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.socket_connect_timeout)
                sock.connect(self.path)
            else:
                sock = socket.create_connection((self.host, self.port),
                                                timeout=self.socket_connect_timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except socket.timeout:
            raise TimeoutError(f"Timeout connecting to {self.address}") from None
        except OSError as exc:
            raise ConnectionError(f"Error {exc.errno} connecting to {self.address}. "
                                  f"{exc.strerror or exc}.") from None
        sock.settimeout(self.socket_timeout)
        self._timeout = self.socket_timeout
        self.sock = sock
        self._reader = self._new_reader()
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        self.pid_generation += 1
        try:
            self._handshake()
        except BaseException:
            self.disconnect()
            raise
        self.last_used = time.monotonic()

    def _new_reader(self) -> Any:
        if self.decode_responses:
            return make_reader(encoding=self.encoding, errors=self.encoding_errors)
        return make_reader()

    def handshake_commands(self) -> list[tuple]:
        """The commands run on every (re)connect, in order."""
        cmds: list[tuple] = []
        if self.protocol == 3:
            hello: tuple = ("HELLO", 3)
            if self.password is not None:
                hello += ("AUTH", self.username or "default", self.password)
            cmds.append(hello)
        elif self.password is not None:
            cmds.append(("AUTH", self.username, self.password) if self.username
                        else ("AUTH", self.password))
        if self.client_name:
            cmds.append(("CLIENT", "SETNAME", self.client_name))
        if self.db:
            cmds.append(("SELECT", self.db))
        return cmds

    def _handshake(self) -> None:
        cmds = self.handshake_commands()
        if not cmds:
            return
        self.send(b"".join(pack_command(*c) for c in cmds))
        first_error = None
        for _ in cmds:
            reply = self._read_raw(self.socket_timeout, True)
            if isinstance(reply, ResponseError) and first_error is None:
                first_error = reply
        if first_error is not None:
            raise_if_error(first_error)

    def disconnect(self) -> None:
        """Close the socket; the next use reconnects. Idempotent."""
        sock, self.sock = self.sock, None
        self._reader = None
        self._poll = None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    close = disconnect

    @property
    def is_connected(self) -> bool:
        return self.sock is not None

    def is_stale(self) -> bool:
        """True if the socket has something to read while no reply is owed: the server closed
        it (restart, idle timeout) or sent garbage. One poll(0) syscall, as redis-py's pool
        checks `can_read()` before handing a connection out."""
        poll = self._poll
        return poll is not None and bool(poll.poll(0))

    def check_health(self) -> None:
        """PING if idle longer than health_check_interval; reconnect if that fails."""
        if self.sock is None:
            return
        if self.is_stale():
            self.disconnect()
            return
        interval = self.health_check_interval
        if interval and time.monotonic() - self.last_used > interval:
            try:
                self.send(b"*1\r\n$4\r\nPING\r\n")
                reply = self._read_raw(self.socket_timeout, False)
                if reply not in (b"PONG", "PONG"):
                    raise ConnectionError(f"Bad response to health check PING: {reply!r}")
            except (ConnectionError, TimeoutError):
                self.disconnect()

    # -- I/O ---------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write packed commands with one sendall. Raises ConnectionError / TimeoutError and
        closes the connection on failure."""
        if self.sock is None:
            self.connect()
        try:
            self.sock.sendall(data)  # type: ignore[union-attr]
        except socket.timeout:
            self.disconnect()
            raise TimeoutError(f"Timeout writing to {self.address}") from None
        except OSError as exc:
            self.disconnect()
            raise ConnectionError(f"Error {exc.errno} while writing to {self.address}. "
                                  f"{exc.strerror or exc}.") from None

    def send_command(self, *args: Any) -> None:
        """Pack one command and send it."""
        self.send(pack_command(*args))

    def send_commands(self, commands: Sequence[Sequence[Any]]) -> None:
        """Pack several commands and send them with one write (pipelines)."""
        self.send(b"".join([pack_command(*c) for c in commands]))

    def read(self, name: bytes = b"", block: float | None = None,
             never_decode: bool = False) -> Any:
        """The next reply, RESP2-shaped; error replies raised as typed exceptions."""
        timeout = self.socket_timeout
        if block is not None:
            timeout = None if block == 0 or timeout is None else block + timeout + BLOCK_GRACE
        reply = self._read_raw(timeout, not never_decode)
        if isinstance(reply, ResponseError):
            raise_if_error(reply)
        if self.protocol == 3:
            return to_resp2(reply, name, None if never_decode or not self.decode_responses
                            else self.encoding)
        return reply

    def read_raw(self, timeout: float | None = None, decode: bool = True) -> Any:
        """The next reply as parsed (errors returned, not raised), waiting up to `timeout`."""
        return self._read_raw(timeout, decode)

    def _read_raw(self, timeout: float | None, decode: bool) -> Any:
        reader = self._reader
        if reader is None:
            raise ConnectionError(f"Connection to {self.address} closed")
        reply = reader.gets(decode)
        if reply is not False:
            return reply
        sock = self.sock
        if timeout != self._timeout:
            sock.settimeout(timeout)  # type: ignore[union-attr]
            self._timeout = timeout
        recv = sock.recv  # type: ignore[union-attr]
        try:
            while True:
                data = recv(READ_SIZE)
                if not data:
                    raise ConnectionError(f"Connection closed by server {self.address}.")
                reader.feed(data)
                reply = reader.gets(decode)
                if reply is not False:
                    self.last_used = time.monotonic()
                    return reply
        except socket.timeout:
            self.disconnect()
            raise TimeoutError(f"Timeout reading from {self.address}") from None
        except OSError as exc:
            self.disconnect()
            raise ConnectionError(f"Error while reading from {self.address}: {exc}") from None
        except ConnectionError:
            self.disconnect()
            raise

    def read_many(self, items: Sequence[tuple[bytes, bool]],
                  block: float | None = None) -> list[Any]:
        """One reply per (name, never_decode), error replies returned in place (pipelines),
        RESP2-shaped. `block`: the longest blocking timeout among them, as in read()."""
        timeout = self.socket_timeout
        if block is not None:
            timeout = None if block == 0 or timeout is None else block + timeout + BLOCK_GRACE
        out = []
        for name, never_decode in items:
            reply = self._read_raw(timeout, not never_decode)
            if self.protocol == 3 and not isinstance(reply, ResponseError):
                reply = to_resp2(reply, name, None if never_decode or not self.decode_responses
                                 else self.encoding)
            out.append(reply)
        return out

    def read_push(self, timeout: float | None) -> Any:
        """The next message of a subscribed connection, or None if none came within `timeout`
        seconds (None: wait forever). A timeout here is normal and keeps the connection."""
        reader = self._reader
        if reader is None:
            raise ConnectionError(f"Connection to {self.address} closed")
        reply = reader.gets()
        if reply is not False:
            return reply
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not self._poll.poll(None if left is None else int(left * 1000 + 0.999)):
                return None
            try:
                data = self.sock.recv(READ_SIZE)  # type: ignore[union-attr]
            except OSError as exc:
                self.disconnect()
                raise ConnectionError(f"Error while reading from {self.address}: {exc}") from None
            if not data:
                self.disconnect()
                raise ConnectionError(f"Connection closed by server {self.address}.")
            reader.feed(data)
            reply = reader.gets()
            if reply is not False:
                return reply
            if left == 0.0:
                return None
