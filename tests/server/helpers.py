"""A raw RESP connection for black-box tests: bytes out, hiredis-parsed or raw bytes in."""

from __future__ import annotations

import socket
import time

import hiredis


class Conn:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.reader = hiredis.Reader()

    @staticmethod
    def encode(*args) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self):
        """The next reply (errors come back as hiredis ReplyError values, not raised)."""
        while True:
            r = self.reader.gets()
            if r is not False:
                return r
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def __call__(self, *args):
        self.send(self.encode(*args))
        return self.reply()

    def read_raw(self, until: bytes | None = None, timeout: float = 5.0) -> bytes:
        """Raw bytes until `until` is seen, the peer closes, or the timeout passes."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until is not None and until in out:
                break
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not data:
                break
            out += data
        return out

    def available(self) -> bytes:
        """What the server has sent that is not read yet, without waiting."""
        timeout = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            return self.sock.recv(65536)
        except BlockingIOError:
            return b""
        finally:
            self.sock.settimeout(timeout)

    def closed(self, timeout: float = 5.0) -> bool:
        """True if the server closes the connection within `timeout` (data read is dropped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False

    def close(self) -> None:
        self.sock.close()


def err(reply) -> str | None:
    return str(reply) if isinstance(reply, hiredis.ReplyError) else None


def raw_replies(port: int, protocol: int, script, end: bytes) -> bytes:
    """The bytes a server sends back for `script` (argv tuples), pipelined in one write after
    FLUSHALL and HELLO `protocol`, ending with the reply to `ECHO end`. (Read up to a further
    ECHO of a token no reply holds, not up to `end`'s own bytes: COMMAND DOCS names an argument
    "end".)"""
    conn = Conn(port)
    token = b"kvstore-raw-replies-end-7f3c9a"
    marker = b"$%d\r\n%s\r\n" % (len(token), token)
    try:
        conn("FLUSHALL")
        conn("HELLO", str(protocol))
        conn.send(b"".join(Conn.encode(*argv) for argv in script) + Conn.encode("ECHO", end)
                  + Conn.encode("ECHO", token))
        out = b""
        deadline = time.monotonic() + 60  # (COMMAND DOCS of everything is megabytes)
        while not out.endswith(marker) and time.monotonic() < deadline:
            out += conn.read_raw(until=marker, timeout=max(deadline - time.monotonic(), 0.1))
        return out[:-len(marker)] if out.endswith(marker) else out
    finally:
        conn.close()


def wait_until(check, timeout: float = 15.0, what="condition"):
    """Poll `check()` every 20 ms until it is truthy (returned) or `timeout` s pass (raises,
    naming `what`, a text or a callable giving one)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for "
                                 f"{what() if callable(what) else what}")
        time.sleep(0.02)


def server_has_read(port: int, client: Conn, timeout: float = 5.0) -> None:
    """Wait until the server has read everything `client` sent (its socket's receive queue, in
    /proc/net/tcp, is empty): the command is in the server's hands, not still in the kernel."""
    client_port = client.sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                raise RuntimeError("no /proc/net/tcp") from None
            for row in rows:
                fields = row.split()
                local, remote = fields[1], fields[2]
                if (int(local.rsplit(":", 1)[1], 16) == port
                        and int(remote.rsplit(":", 1)[1], 16) == client_port):
                    if int(fields[4].split(":")[1], 16) == 0:
                        return
        time.sleep(0.001)
    raise TimeoutError("the server did not read the command")
