"""A reply never leaves before its effects reach the AOF (and the disk, under always): replies
of a client's own batch, and out-of-band ones such as a BLPOP served by another client's push.

The server runs in this process (on its own loop thread) so the AOF's write and fsync can be
observed; each write is slowed down, so a reply sent early would reach the client before the
write that logs its effect is recorded.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from contextlib import contextmanager

import pytest
import redis

from kvstore.persistence import aof
from kvstore.server.config import Config
from kvstore.server.server import Log, Server, new_event_loop
from tests.conftest import free_port, wait_for_port

FSYNC = b"<fsync>"


@contextmanager
def running_server(tmp_path, policy: str):
    port = free_port()
    config = Config()
    cwd = os.getcwd()  # `dir` is a chdir: undone at the end
    config.load_text(f'port {port}\ndir "{tmp_path}"\nappendonly yes\nappendfsync {policy}\n'
                     'save ""')
    server = Server(config, Log("warning", str(tmp_path / "log.txt")))
    loop = new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(stop),))
    thread.start()
    try:
        wait_for_port(port, None, timeout=30)
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()
        os.chdir(cwd)


@pytest.fixture
def aof_log(monkeypatch):
    """Everything the AOF writer writes, with a marker at each fsync, in order."""
    log: list[bytes] = []
    real_write, real_fsync = aof._write, aof._fsync

    def slow_write(fd, data):
        time.sleep(0.05)  # widens the window in which an early reply would be seen
        n = real_write(fd, data)
        log.append(bytes(data[:n]))
        return n

    def fsync(fd):
        real_fsync(fd)
        log.append(FSYNC)

    monkeypatch.setattr(aof, "_write", slow_write)
    monkeypatch.setattr(aof, "_fsync", fsync)
    return log


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@pytest.mark.parametrize("policy", ["always", "everysec", "no"])
def test_own_reply_follows_its_write(tmp_path, aof_log, policy):
    with running_server(tmp_path, policy) as port:
        r = redis.Redis(port=port)
        r.set("k", "v1")
        seen = b"".join(aof_log)
        assert b"$2\r\nv1\r\n" in seen
        if policy == "always":
            assert seen.endswith(FSYNC)


@pytest.mark.parametrize("policy", ["always", "everysec"])
def test_served_blpop_reply_follows_its_logged_pop(tmp_path, aof_log, policy):
    with running_server(tmp_path, policy) as port:
        popper, pusher = redis.Redis(port=port), redis.Redis(port=port)
        seen: dict = {}

        def pop():
            seen["reply"] = popper.blpop(["q"], 10)
            seen["log"] = b"".join(aof_log)  # what the AOF held when the reply arrived

        t = threading.Thread(target=pop)
        t.start()
        _wait(lambda: pusher.info("clients")["blocked_clients"] == 1)
        pusher.lpush("q", "x")
        t.join(15)
        assert seen["reply"] == (b"q", b"x")
        log = seen["log"]
        push = log.find(b"LPUSH")
        pop_at = log.find(b"LPOP", push)
        assert push >= 0 and pop_at > push, log
        if policy == "always":
            assert FSYNC in log[pop_at:], log
