"""A server started under a low open files limit (`ulimit -n 1024`, a common default) lowers
maxclients to what fits, as Redis's adjustOpenFilesLimit does: the clients past it are told
"max number of clients reached" instead of having their connection reset when accept() runs out
of descriptors. Runs on both servers."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys

import pytest
import redis

from tests.conftest import free_port, require_binary, wait_for_port

from .conftest import ROOT

LIMIT = 1024
RESERVED_FDS = 32  # Redis's CONFIG_MIN_RESERVED_FDS


def _low_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


@pytest.fixture(params=["kvstore", "redis"])
def low(request, tmp_path):
    """(port, log path) of a server started with an open files limit of 1024."""
    port = free_port()
    exe = [sys.executable, "-m", "kvstore"] if request.param == "kvstore" else \
        [require_binary("redis-server")]
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*exe, "--port", str(port), "--save", "", "--dir", str(tmp_path)],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                preexec_fn=_low_limit, env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        wait_for_port(port, proc)
        yield port, log
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def many_sockets():
    """This process may open 1,000 sockets (its soft limit raised while the test runs)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    if want < 2048:
        pytest.fail(f"the open files hard limit ({hard}) leaves no room for 1,000 clients")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_maxclients_is_lowered_to_fit_the_open_files_limit(low, many_sockets):
    port, log = low
    r = redis.Redis(port=port)
    fitting = LIMIT - RESERVED_FDS
    assert r.config_get("maxclients") == {"maxclients": str(fitting)}
    assert f"maxclients has been reduced to {fitting} to compensate for low ulimit" \
        in log.read_text()
    r.ping()  # (`r` holds one of the places)
    socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(1000)]
    try:
        for s in socks:
            s.sendall(b"PING\r\n")
        replies = [s.recv(100) for s in socks]
    finally:
        for s in socks:
            s.close()
    assert replies.count(b"+PONG\r\n") == fitting - 1
    assert replies.count(b"-ERR max number of clients reached\r\n") == 1000 - (fitting - 1)
