"""Fixtures for the client tests: servers of both kinds, and clients on every transport.

`server` (from tests/server/conftest.py) runs each test module against `python -m kvstore` and
the real redis-server. `restartable` starts a server on a fixed port that a test may kill and
start again on the same port. `supports(port, *cmd)` tells whether a server knows a command, so
features still being added to kvstore-server (MULTI, SUBSCRIBE, BLPOP) are skipped there, never
faked.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import wait_for_port
from tests.server.conftest import ROOT, Proc, server, start  # noqa: F401 - `server` is a fixture
from tests.server.helpers import Conn


def pytest_collection_modifyitems(config, items):
    """A test parametrised over servers and transports runs memory:// once, with the kvstore
    server: its twin with redis-server is deselected rather than reported as a skip."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        is_memory = "memory" in (params.get("client"), params.get("env"))
        (drop if is_memory and params.get("server") == "redis" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def supports(port: int, *probe: str) -> bool:
    """False if the server answers `probe` with "unknown command"."""
    c = Conn(port)
    try:
        reply = c(*probe)
        return not (isinstance(reply, Exception) and "unknown command" in str(reply))
    finally:
        c.sock.close()


def need(port: int, *probe: str) -> None:
    if not supports(port, *probe):
        pytest.skip(f"this server does not implement {probe[0]} yet")


class Restartable:
    """A server process that can be killed and started again on the same port."""

    def __init__(self, proc: Proc) -> None:
        self.p = proc
        self.port = proc.port

    def kill(self) -> None:
        self.p.proc.kill()
        self.p.proc.wait(10)

    def start(self) -> None:
        with open(self.p.log, "a") as out:
            self.p.proc = subprocess.Popen(self.p.args, stdout=out, stderr=subprocess.STDOUT,
                                           cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
        wait_for_port(self.port, self.p.proc)

    def stop(self) -> None:
        self.p.stop()


@pytest.fixture(params=["kvstore", "redis"])
def restartable(request, tmp_path):
    r = Restartable(start(request.param, tmp_path))
    yield r
    r.stop()
