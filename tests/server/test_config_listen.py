"""CONFIG SET port / bind move the TCP listeners at once, as in Redis 7.0 (changeListenPort,
changeBindAddr): a listen that fails is refused and the old listeners and value stay; the
connections already accepted stay open. Each case runs against kvstore and redis-server."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import free_port, wait_for_port

from .conftest import start
from .helpers import Conn

PORT_FAILED = ("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen "
               "on this port. Check server logs.")
BIND_FAILED = ("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to "
               "specified addresses.")
UNASSIGNED = "192.0.2.1"  # TEST-NET-1 (RFC 5737): no host has it, so binding it fails


@pytest.fixture(params=["kvstore", "redis"])
def srv(request, tmp_path):
    p = start(request.param, tmp_path, "--bind", "127.0.0.1")
    yield p
    p.stop()


@pytest.fixture
def c(srv):
    conn = Conn(srv.port)
    yield conn
    conn.close()


def ping(port: int, host: str = "127.0.0.1") -> bytes:
    """PING over a new connection."""
    conn = Conn(port, host)
    try:
        return conn("PING")
    finally:
        conn.close()


def refused(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> bool:
    """True once nothing accepts on host:port, within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.2).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.01)
    return False


def logged(p, text: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in p.output():
            return True
        time.sleep(0.01)
    return False


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_port_moves_the_listener(srv, c):
    new = free_port()
    assert c("CONFIG", "SET", "port", new) == b"OK"
    assert c("CONFIG", "GET", "port") == [b"port", str(new).encode()]
    wait_for_port(new)
    assert ping(new) == b"PONG"
    assert refused(srv.port)
    assert c("PING") == b"PONG"  # the connection accepted before stays
    # The same port again changes nothing (a re-listen there would find it in use).
    assert c("CONFIG", "SET", "port", new) == b"OK"
    assert ping(new) == b"PONG"


def test_port_in_use_is_refused_and_the_old_listener_stays(srv, c):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        assert str(c("CONFIG", "SET", "port", busy.getsockname()[1])) == PORT_FAILED
    assert c("CONFIG", "GET", "port") == [b"port", str(srv.port).encode()]
    assert ping(srv.port) == b"PONG"
    assert logged(srv, "Failed applying new configuration. Possibly related to new port "
                       "setting. Restoring previous settings.")


def test_a_failed_port_undoes_the_whole_config_set(srv, c):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        reply = c("CONFIG", "SET", "maxmemory", "12345", "port", busy.getsockname()[1])
    assert str(reply) == PORT_FAILED
    assert c("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    assert ping(srv.port) == b"PONG"


def test_an_alias_and_its_name_are_two_parameters(srv, c):
    assert c("CONFIG", "SET", "list-max-listpack-size", "5", "list-max-ziplist-size", "6") \
        == b"OK"
    assert c("CONFIG", "GET", "list-max-listpack-size") == [b"list-max-listpack-size", b"6"]
    assert str(c("CONFIG", "SET", "hz", "5", "HZ", "6")) == (
        "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter")


def test_port_zero_stops_listening_on_tcp(srv, c):
    assert c("CONFIG", "SET", "port", 0) == b"OK"
    assert c("CONFIG", "GET", "port") == [b"port", b"0"]
    assert refused(srv.port)
    assert c("PING") == b"PONG"
    # A bind change while port is 0 is only recorded; a port listens at it again.
    assert c("CONFIG", "SET", "bind", UNASSIGNED) == b"OK"
    assert c("CONFIG", "SET", "bind", "127.0.0.1") == b"OK"
    new = free_port()
    assert c("CONFIG", "SET", "port", new) == b"OK"
    wait_for_port(new)


def test_bind_rebinds_and_a_failed_bind_keeps_the_old_addresses(srv, c):
    if not has_ipv6_loopback():
        pytest.skip("no IPv6 loopback")
    assert refused(srv.port, "::1")
    assert c("CONFIG", "SET", "bind", "127.0.0.1 ::1") == b"OK"
    assert ping(srv.port, "::1") == b"PONG"
    assert str(c("CONFIG", "SET", "bind", f"127.0.0.1 {UNASSIGNED}")) == BIND_FAILED
    assert c("CONFIG", "GET", "bind") == [b"bind", b"127.0.0.1 ::1"]
    assert ping(srv.port) == b"PONG"
    assert ping(srv.port, "::1") == b"PONG"
    assert logged(srv, "Failed to bind")
    # An optional ("-") address that cannot be bound is skipped.
    assert c("CONFIG", "SET", "bind", f"127.0.0.1 -{UNASSIGNED}") == b"OK"
    assert refused(srv.port, "::1")
    assert ping(srv.port) == b"PONG"
