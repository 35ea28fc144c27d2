"""Replies leave once per loop iteration (kvstore/server/outbox.py), in the order they were queued.

Clients are fed reads directly, as the event loop would, with transports that record writes; the
outbox's end-of-iteration callback is captured instead of scheduled, so each test decides when
the iteration ends.
"""

from __future__ import annotations

import os

from kvstore.protocol.encoder import pack_command
from kvstore.server.client import Client
from kvstore.server.config import Config
from kvstore.server.server import Log, Server


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    abort = close

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name):
        return None

    def set_write_buffer_limits(self, **limits) -> None:
        pass


def make_server() -> tuple[Server, list]:
    config = Config()
    config.load_text('save ""')
    server = Server(config, Log("warning", os.devnull))
    scheduled: list = []
    server.outbox.call_soon = scheduled.append
    return server, scheduled


def connect(server: Server) -> Client:
    client = Client(server)
    client.transport = Transport()  # type: ignore[assignment]
    server.clients[client.id] = client
    return client


def send(client: Client, *commands) -> None:
    client.data_received(b"".join(pack_command(*c) for c in commands))


def end_iteration(scheduled: list) -> None:
    while scheduled:
        scheduled.pop(0)()


def test_replies_wait_for_the_end_of_the_iteration():
    server, scheduled = make_server()
    a, b = connect(server), connect(server)
    send(a, ("SET", "k", "1"), ("GET", "k"))
    send(b, ("INCR", "k"))
    assert a.transport.writes == [] and b.transport.writes == []
    assert len(scheduled) == 1  # one flush for the whole iteration
    end_iteration(scheduled)
    assert a.transport.writes == [b"+OK\r\n$1\r\n1\r\n"]
    assert b.transport.writes == [b":2\r\n"]


def test_a_lone_command_is_answered_at_once_when_nothing_waits():
    """One command in a read (a request-reply client) gains nothing from waiting for the end of
    the iteration: with nothing queued for anyone and no AOF, its reply leaves at once."""
    server, scheduled = make_server()
    a = connect(server)
    send(a, ("SET", "k", "1"))
    assert a.transport.writes == [b"+OK\r\n"] and scheduled == []
    send(a, ("GET", "k"), ("GET", "k"))  # a pipeline still waits
    assert a.transport.writes == [b"+OK\r\n"]
    end_iteration(scheduled)
    assert a.transport.writes == [b"+OK\r\n", b"$1\r\n1\r\n$1\r\n1\r\n"]


def test_a_lone_command_waits_behind_what_was_queued_for_its_connection():
    """A message queued for a RESP3 subscriber (it takes the one-command path) must reach it
    before the reply of the command it sends next in the same iteration."""
    server, scheduled = make_server()
    sub, pub = connect(server), connect(server)
    send(sub, ("HELLO", "3"), ("SUBSCRIBE", "ch"))
    end_iteration(scheduled)
    sub.transport.writes.clear()
    send(pub, ("PUBLISH", "ch", "hi"), ("PING",))  # the message is queued for sub
    send(sub, ("PING",))
    end_iteration(scheduled)
    assert b"".join(sub.transport.writes) == (
        b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n+PONG\r\n")


def test_a_lone_command_waits_for_the_aof():
    """With an AOF attached its commit writes the iteration's effects before any reply leaves:
    a lone command's reply goes through it too."""
    server, scheduled = make_server()
    committed: list = []
    server.outbox.commit = committed.extend
    a = connect(server)
    send(a, ("SET", "k", "1"))
    assert a.transport.writes == []
    end_iteration(scheduled)
    assert committed == [(a, b"+OK\r\n")]


def test_a_closing_connection_drains_what_was_queued_before_it():
    server, scheduled = make_server()
    a, b = connect(server), connect(server)
    send(a, ("PING",), ("PING",))
    send(b, ("PING",), ("QUIT",))
    # QUIT replies and closes at once; a's replies, queued earlier, left first.
    assert a.transport.writes == [b"+PONG\r\n+PONG\r\n"]
    assert b.transport.writes == [b"+PONG\r\n+OK\r\n"] and b.transport.closed
    end_iteration(scheduled)
    assert a.transport.writes == [b"+PONG\r\n+PONG\r\n"]


def test_a_message_queues_behind_the_subscribers_own_replies():
    server, scheduled = make_server()
    sub, pub = connect(server), connect(server)
    send(sub, ("SUBSCRIBE", "ch"))
    send(pub, ("PUBLISH", "ch", "hello"))
    end_iteration(scheduled)
    assert b"".join(sub.transport.writes) == (
        b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n")
    assert pub.transport.writes == [b":1\r\n"]


def test_a_protocol_error_sends_the_queue_then_the_error_and_closes():
    server, scheduled = make_server()
    a, b = connect(server), connect(server)
    send(a, ("PING",))
    b.data_received(b"*1\r\n$4\r\nPING\r\n*x\r\n")
    assert a.transport.writes == [b"+PONG\r\n"]
    assert b"".join(b.transport.writes).startswith(b"+PONG\r\n-ERR Protocol error")
    assert b.transport.closed


def test_a_killed_client_gets_nothing_more():
    server, scheduled = make_server()
    victim, killer = connect(server), connect(server)
    send(victim, ("PING",), ("PING",))
    send(killer, ("CLIENT", "KILL", "ID", str(victim.id)))
    end_iteration(scheduled)
    assert victim.transport.writes == [] and victim.transport.closed
    assert killer.transport.writes == [b":1\r\n"]


def test_a_command_that_raises_gets_an_error_reply_and_the_connection_stays(monkeypatch):
    """A bug in a handler (anything but its error reply) must not drop the connection: the
    client gets an error reply, in order, and the next commands run, alone, pipelined or in
    MULTI."""
    from kvstore.commands.table import COMMANDS

    def broken(ctx, argv):
        raise KeyError("oops")

    monkeypatch.setattr(COMMANDS[b"echo"], "handler", broken)
    server, scheduled = make_server()
    client = connect(server)
    want = b"-ERR internal error in 'echo': KeyError\r\n"
    for read in (pack_command("ECHO", "x"),
                 pack_command("ECHO", "x") + pack_command("PING"),
                 pack_command("MULTI") + pack_command("ECHO", "x") + pack_command("EXEC")):
        client.data_received(read)
        end_iteration(scheduled)
        assert want.rstrip(b"\r\n") in b"".join(client.transport.writes)
        client.transport.writes.clear()
    client.data_received(pack_command("PING"))
    end_iteration(scheduled)
    assert client.transport.writes == [b"+PONG\r\n"] and not client.transport.closed
