"""Pools, timeouts, cancellation, retries, health checks, server restarts, AUTH."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from clients import (
    AsyncClient, AuthenticationError, Client, ConnectionError, Retry, TimeoutError,
)
from clients.connection import Connection
from clients.pool import AsyncConnectionPool, ConnectionPool
from tests.clients.conftest import need, start, supports


@pytest.fixture
def silent_port():
    """A listener that accepts connections and never answers (a hung server)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        lsock.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(lsock.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield lsock.getsockname()[1]
    stop.set()
    t.join()
    for s in accepted:
        s.close()
    lsock.close()


# -- pool ------------------------------------------------------------------------------------

def test_pool_exhaustion_waits_then_times_out(server):
    pool = ConnectionPool(Connection, max_connections=1, timeout=0.2, port=server.port)
    c = Client(connection_pool=pool)
    held = pool.get_connection()
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="Too many connections"):
        c.get("k")
    assert 0.15 < time.monotonic() - t0 < 2
    # a waiter gets the connection as soon as it is released
    threading.Timer(0.05, pool.release, (held,)).start()
    assert c.set("k", "v") is True
    assert c.get("k") == b"v"
    c.delete("k")
    pool.close()


def test_async_pool_exhaustion(server):
    async def main():
        pool = AsyncConnectionPool(__import__("clients.aconnection").aconnection.AsyncConnection,
                                   max_connections=1, timeout=0.2, port=server.port)
        c = AsyncClient(connection_pool=pool)
        held = await pool.get_connection()
        with pytest.raises(ConnectionError, match="Too many connections"):
            await c.get("k")
        asyncio.get_running_loop().call_later(0.05, pool.release, held)
        assert await c.ping() is True
        await c.aclose()

    asyncio.run(main())


# -- timeouts and cancellation ---------------------------------------------------------------

def test_read_timeout_raises_and_discards_the_connection(silent_port):
    c = Client(port=silent_port, socket_timeout=0.1, retry=Retry(0))
    with pytest.raises(TimeoutError):
        c.get("k")
    assert all(not conn.is_connected for conn in c.connection_pool._idle)
    c.close()


def test_connect_timeout_and_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    c = Client(port=port, retry=Retry(2, base=0.001))
    with pytest.raises(ConnectionError, match="connecting"):
        c.get("k")


def test_slow_reply_times_out_then_pool_is_clean(redis_server):
    c = Client(port=redis_server, socket_timeout=0.1, max_connections=1)
    c.set("k", "v")
    with pytest.raises(TimeoutError):
        c.execute_command("DEBUG", "SLEEP", 0.3)
    # the +OK of DEBUG SLEEP must not be read as the reply of the next command (the server
    # itself sleeps: let it finish, or the next command times out too)
    time.sleep(0.3)
    assert c.get("k") == b"v"
    c.close()


def test_blocking_pop_waits_its_own_timeout_not_socket_timeout(server):
    need(server.port, "BLPOP", "client-test:none", "0.01")
    c = Client(port=server.port, socket_timeout=0.1)
    t0 = time.monotonic()
    assert c.blpop(["client-test:none"], timeout=0.3) is None
    assert time.monotonic() - t0 >= 0.28
    c.rpush("client-test:q", "x")
    assert c.blpop(["client-test:q"], timeout=1) == (b"client-test:q", b"x")
    c.close()


def test_async_cancelled_blpop_leaves_the_pool_correct(server):
    need(server.port, "BLPOP", "client-test:none", "0.01")

    async def main():
        c = AsyncClient(port=server.port, max_connections=1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.blpop(["client-test:aq"], timeout=0), 0.1)
        # the cancelled BLPOP's connection was closed: it cannot steal this element
        assert await c.rpush("client-test:aq", "x") == 1
        assert await c.lpop("client-test:aq") == b"x"
        assert await c.ping() is True
        await c.aclose()

    asyncio.run(main())


def test_async_cancelled_read_on_hung_server(silent_port):
    async def main():
        c = AsyncClient(port=silent_port, max_connections=1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.get("k"), 0.05)
        assert not any(conn.is_connected for conn in c.connection_pool._idle)
        with pytest.raises(TimeoutError):
            await AsyncClient(port=silent_port, socket_timeout=0.05).get("k")

    asyncio.run(main())


# -- restarts, retries, health checks -----------------------------------------------------------

def test_kill_and_restart_only_in_flight_calls_fail(restartable):
    c = Client(port=restartable.port, retry=Retry(1, base=0.001))
    assert c.set("a", "1") is True
    errors: list = []
    blocked = None
    if supports(restartable.port, "BLPOP", "none", "0.01"):
        def pop():
            try:
                c.blpop(["q"], timeout=0)
            except ConnectionError as exc:
                errors.append(exc)

        blocked = threading.Thread(target=pop)
        blocked.start()
        time.sleep(0.1)  # let the BLPOP reach the server (nothing to wait on from here)
    restartable.kill()
    if blocked is not None:
        blocked.join(5)
        assert len(errors) == 1  # in flight when the server died; a blocking pop is not resent
    with pytest.raises(ConnectionError):  # the server is down during this call
        c.set("a", "2")
    restartable.start()
    # a write (never resent) on a pooled connection to the dead server: the stale socket is
    # noticed before sending, so it succeeds
    assert c.set("a", "3") is True
    assert c.get("a") == b"3"
    assert c.incr("n") == 1
    c.close()


def test_connect_is_retried_with_backoff_until_the_server_is_back(restartable):
    c = Client(port=restartable.port, retry=Retry(12, base=0.02, cap=0.5))
    c.ping()
    restartable.kill()
    threading.Timer(0.2, restartable.start).start()
    assert c.set("back", "1") is True  # connect retries span the restart
    c.close()


def test_async_restart(restartable):
    async def main():
        c = AsyncClient(port=restartable.port, retry=Retry(1, base=0.001))
        assert await c.set("a", "1") is True
        restartable.kill()
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectionError):
            await c.get("a")
        restartable.start()
        assert await c.set("a", "2") is True
        assert await c.get("a") == b"2"
        await c.aclose()

    asyncio.run(main())


def test_server_closing_an_idle_connection_is_noticed(server):
    c = Client(port=server.port, client_name="victim", max_connections=1)
    my_id = c.client_id()
    with Client(port=server.port) as killer:
        killer.execute_command("CLIENT", "KILL", "ID", my_id)
    time.sleep(0.05)  # the FIN must arrive; nothing to wait on from this side
    assert c.set("k", "v") is True  # a write, not resent: the stale socket was replaced
    assert c.client_id() != my_id
    c.delete("k")
    c.close()


def test_health_check_pings_idle_connections(server):
    c = Client(port=server.port, health_check_interval=0.01)
    c.set("k", "v")
    time.sleep(0.02)
    conn = c.connection_pool._idle[0]
    before = conn.last_used
    assert c.get("k") == b"v"
    assert conn.last_used > before
    c.delete("k")
    c.close()


# -- AUTH ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_auth_on_connect(kind, tmp_path):
    try:
        p = start(kind, tmp_path, "--requirepass", "s3cret")
    except RuntimeError as exc:
        pytest.skip(f"{kind} cannot start with requirepass: {exc}")
    try:
        for protocol in (2, 3):
            with Client(port=p.port, password="s3cret", protocol=protocol, db=1) as c:
                assert c.set("k", "v") is True
            url = f"redis://:s3cret@localhost:{p.port}/1"
            with Client.from_url(url, protocol=protocol) as c:
                assert c.get("k") == b"v"
            with pytest.raises(AuthenticationError):
                Client(port=p.port, password="wrong", protocol=protocol, retry=Retry(0)).get("k")
            with pytest.raises(AuthenticationError):
                Client(port=p.port, protocol=protocol, retry=Retry(0)).get("k")
    finally:
        p.stop()
