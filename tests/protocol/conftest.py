"""Fixtures for the protocol tests: the real redis-server as an oracle for raw-socket exchanges.

The oracle server is started once per session on a free port, with no persistence; the tests that
use it skip (with the reason) when `redis-server` is not installed. CI always has it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kvstore.protocol.encoder import pack_command
from kvstore.protocol.reader import Reader

PING = b"*1\r\n$4\r\nPING\r\n"
SOCKET_TIMEOUT = 5.0  # seconds; a healthy exchange takes milliseconds, this only bounds a hang


class RedisOracle:
    """Raw-socket access to a running redis-server."""

    def __init__(self, port: int, version: str) -> None:
        self.port = port
        self.version = version

    def exchange(
        self, data: bytes, *, hello3: bool = False, password: bytes | None = None, ping: bool = True
    ) -> list:
        """Send `data` on a fresh connection, followed by PING; return the parsed replies up to
        (not including) the PONG, or up to the connection close after a protocol error.

        Every reply is parsed with our pure Reader (error replies come back as ResponseError).
        `data` must not end inside a command (the PING would be swallowed by it). With
        ping=False, nothing follows `data` and the server must close the connection (a line
        that breaks a length limit: the PING's line end would complete it).
        """
        prefix = b""
        skip = 0
        if password is not None:
            prefix += b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%b\r\n" % (len(password), password)
            skip += 1
        if hello3:
            prefix += b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"
            skip += 1
        with socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT) as sock:
            sock.sendall(prefix + data + (PING if ping else b""))
            reader = Reader()
            replies: list = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:  # closed after a protocol error
                    return replies[skip:]
                reader.feed(chunk)
                while (reply := reader.gets()) is not False:
                    if reply == b"PONG":
                        return replies[skip:]
                    replies.append(reply)

    def command(self, *args: bytes | str, hello3: bool = False) -> bytes:
        """The raw reply bytes of one command (read until the PONG that follows it)."""
        data = pack_command(*args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT) as sock:
            if hello3:
                sock.sendall(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
                _read_one_reply(sock)
            sock.sendall(data + PING)
            raw = b""
            while not raw.endswith(b"+PONG\r\n"):
                chunk = sock.recv(65536)
                assert chunk, "redis-server closed the connection"
                raw += chunk
            return raw[: -len(b"+PONG\r\n")]

    @contextmanager
    def requirepass(self, password: bytes) -> Iterator[None]:
        """Temporarily require a password, so connections start unauthenticated."""
        self.exchange(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$%d\r\n%b\r\n"
                      % (len(password), password))
        try:
            yield
        finally:
            self.exchange(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$0\r\n\r\n",
                          password=password)


def _read_one_reply(sock: socket.socket) -> object:
    reader = Reader()
    while (reply := reader.gets()) is False:
        chunk = sock.recv(65536)
        assert chunk, "redis-server closed the connection"
        reader.feed(chunk)
    return reply


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_oracle() -> Iterator[RedisOracle]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed: oracle comparisons need the real Redis 7.0")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--logfile", "", "--daemonize", "no"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert proc.stdout is not None
        version = ""
        for line in proc.stdout:  # blocks until the server logs readiness: no sleeping
            if b"version=" in line:
                version = line.split(b"version=", 1)[1].split(b",", 1)[0].decode()
            if b"Ready to accept connections" in line:
                break
        else:
            pytest.fail("redis-server exited before accepting connections")
        # Keep draining its log so the server never blocks on a full pipe.
        threading.Thread(target=proc.stdout.read, daemon=True).start()
        yield RedisOracle(port, version)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def redis70(redis_oracle: RedisOracle) -> RedisOracle:
    """The oracle, for tests of output that changed after Redis 7.0 (e.g. double formatting)."""
    if not redis_oracle.version.startswith("7.0."):
        pytest.skip(f"needs redis-server 7.0.x (the behaviour we copy), found {redis_oracle.version}")
    return redis_oracle
