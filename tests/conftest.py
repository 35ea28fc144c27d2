"""Shared fixtures: the real redis-server as the oracle, differential helpers, a hand-moved clock.

The oracle is Debian's `redis-server`, started once per session on a free port. Where the binary
is absent locally, tests that need it are skipped with a message; under CI (`KVSTORE_CI=1`, set by
.ci/run) its absence is an error, so the compat suite can never silently not run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time

import pytest
from redis.backoff import NoBackoff
from redis.retry import Retry

import kvstore
from kvstore.engine import ManualClock
from kvstore.errors import ResponseError


# For redis-py clients of a server that closes the connection on purpose (SHUTDOWN, an AUTH
# error, which redis-py raises as a ConnectionError): its default retries reconnect with 3-4 s of
# backoff before giving the same outcome.
NO_RETRY = Retry(NoBackoff(), 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10.0,
                  loaded: bool = True) -> None:
    """Block until a server accepts on 127.0.0.1:port and (`loaded`) has loaded its data set (a
    condition, not a fixed sleep): both servers listen while they load, answering LOADING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening")
        try:
            if not loaded:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            if not _loading(port):
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"no server ready on port {port} after {timeout}s")


def _loading(port: int) -> bool:
    """Whether the server on `port` says it is loading (INFO persistence; a server that wants
    AUTH first cannot say: then no)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n")
        data = b""
        while b"\r\n" not in data or (data.startswith(b"$")
                                       and not re.search(rb"loading:\d\r", data)):
            chunk = sock.recv(65536)
            if not chunk:
                return False
            data += chunk
    return b"loading:1\r\n" in data


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("KVSTORE_CI"):
            pytest.fail(f"{name} is required in CI (apt-get install redis-server redis-tools)")
        pytest.skip(f"{name} not installed: apt-get install redis-server redis-tools")
    return path


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Port of a real redis-server (no persistence), for the session."""
    binary = require_binary("redis-server")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--enable-debug-command", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Oracle:
    """Raw commands against the real redis-server over a socket, parsed by hiredis: replies as
    RESP2 values with no client-side shaping; errors raised as kvstore's ResponseError with
    Redis's full text (redis-py would strip the "ERR " prefix)."""

    def __init__(self, port: int) -> None:
        import hiredis

        self.sock = socket.create_connection(("127.0.0.1", port))
        self.reader = hiredis.Reader(replyError=ResponseError)

    def execute(self, *args):
        argv = [kvstore.store.encode_arg(a) for a in args]
        out = [b"*%d\r\n" % len(argv)]
        for a in argv:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                break
            data = self.sock.recv(1 << 16)
            if not data:
                raise ConnectionError("redis-server closed the connection")
            self.reader.feed(data)
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    def close(self) -> None:
        self.sock.close()


def outcome(fn, *args):
    """('ok', reply) or ('err', text): comparable results of one command."""
    try:
        return ("ok", fn(*args))
    except ResponseError as exc:
        return ("err", str(exc))


class Both:
    """Run each command on the real Redis and on an embedded kvstore; assert equal outcomes."""

    def __init__(self, oracle: Oracle, store: kvstore.Store) -> None:
        self.oracle = oracle
        self.store = store

    def __call__(self, *args, sort: bool = False):
        want = outcome(self.oracle.execute, *args)
        got = outcome(self.store.execute, *args)
        if sort:
            want = (want[0], sorted(want[1]) if isinstance(want[1], list) else want[1])
            got = (got[0], sorted(got[1]) if isinstance(got[1], list) else got[1])
        assert got == want, f"{args!r}: kvstore {got!r} != redis {want!r}"
        return want[1] if want[0] == "ok" else want


@pytest.fixture
def oracle(redis_server):
    o = Oracle(redis_server)
    o.execute("FLUSHALL")
    yield o
    o.close()


@pytest.fixture
def store():
    s = kvstore.open()
    yield s
    s.close()


@pytest.fixture
def clock():
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
def timed(clock):
    """An embedded store on `clock`, with no active expiry (only lazy expiry removes keys)."""
    s = kvstore.open(clock=clock, active_expire=False)
    yield s
    s.close()


@pytest.fixture
def both(oracle, store):
    """`both("SET", "k", "v")` runs on Redis and kvstore and asserts the outcomes match."""
    return Both(oracle, store)
