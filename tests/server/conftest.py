"""Fixtures for black-box server tests: real processes on free ports.

`server` is parametrised over ["kvstore", "redis"]: every black-box case runs against
`python -m kvstore` and against the real redis-server, proving the test checks Redis's behaviour.
`kv_server` is kvstore only (for kvstore-specific behaviour: logs, config file, shutdown).
`c` is a raw connection to `server` on a flushed keyspace.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.conftest import free_port, require_binary, wait_for_port

from .helpers import Conn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Proc:
    kind: str
    port: int
    proc: subprocess.Popen
    log: str
    args: list = field(default_factory=list)

    def output(self) -> str:
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def start(kind: str, tmp_path, *extra: str, config_file: str | None = None,
          loaded: bool = True) -> Proc:
    """A server of `kind` on a free port, once it answers (`loaded`: and has loaded its data)."""
    # A port free_port gave out may be taken before the server binds it (another test's or
    # another program's server starting at the same time): ours then exits, and whatever
    # answers there is not it. So the server must say it is ours, else a new port is tried.
    for attempt in range(3):
        port = free_port()
        log = str(tmp_path / f"{kind}-{port}.log")
        if kind == "kvstore":
            cmd = [sys.executable, "-m", "kvstore"]
        else:
            cmd = [require_binary("redis-server")]
        if config_file:
            cmd.append(config_file)
        cmd += ["--port", str(port), "--save", "", "--appendonly", "no", "--dir",
                str(tmp_path), "--enable-debug-command", "yes", *extra]
        env = dict(os.environ, PYTHONPATH=ROOT)
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                    env=env)
        p = Proc(kind, port, proc, log, cmd)
        try:
            wait_for_port(port, proc, loaded=loaded)
            if _answers_as(port, proc):
                return p
        except Exception:
            p.stop()
            raise RuntimeError(f"{kind} did not start:\n{p.output()}") from None
        p.stop()
    raise RuntimeError(f"{kind}: another process took each port given to it")


def _answers_as(port: int, proc: subprocess.Popen) -> bool:
    """Whether the server on `port` is `proc`: its INFO's process_id (a server that wants AUTH
    first cannot say: then whether `proc` is still running)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        data = b""
        while not data.startswith(b"-") and not re.search(rb"process_id:\d+\r\n", data):
            chunk = sock.recv(65536)
            if not chunk:
                return False
            data += chunk
    found = re.search(rb"process_id:(\d+)\r\n", data)
    return proc.poll() is None if found is None else int(found.group(1)) == proc.pid


@pytest.fixture(scope="module", params=["kvstore", "redis"])
def server(request, tmp_path_factory):
    """A running server of each kind, shared by a module's tests (they must clean up)."""
    p = start(request.param, tmp_path_factory.mktemp(request.param))
    yield p
    p.stop()


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    """{"kvstore": port, "redis": port}: one server of each kind, side by side, for a module
    whose tests compare their bytes."""
    procs = {kind: start(kind, tmp_path_factory.mktemp(kind)) for kind in ("kvstore", "redis")}
    yield {kind: p.port for kind, p in procs.items()}
    for p in procs.values():
        p.stop()


@pytest.fixture
def c(server):
    """A raw connection to `server`, after FLUSHALL."""
    conn = Conn(server.port)
    conn("FLUSHALL")
    yield conn
    conn.close()


@pytest.fixture
def kv_factory(tmp_path):
    """Start kvstore servers with extra options; all stopped at the end of the test."""
    procs: list[Proc] = []

    def factory(*extra: str, kind: str = "kvstore", config_file: str | None = None) -> Proc:
        p = start(kind, tmp_path, *extra, config_file=config_file)
        procs.append(p)
        return p

    yield factory
    for p in procs:
        p.stop()
