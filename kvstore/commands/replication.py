"""SYNC, PSYNC, REPLCONF, ROLE: the master side of replication (kvstore/server/replication.py).

The embedded store has no replicas: SYNC and PSYNC are refused there, ROLE says master.
"""

from __future__ import annotations

import time

from ..errors import CommandError, ProtocolError
from ..numbers import parse_int
from ..protocol.request import split_inline
from ..replies import OK, Status
from ..server.replication import NO_FAILOVER
from .args import to_int
from .lists import POSITIVE
from .table import (ADMIN, ALLOW_BUSY, BLOCKING, FAST, LOADING, NO_ASYNC_LOADING, NO_MULTI,
                    NOSCRIPT, STALE, Context, command)

WAIT_ON_REPLICA = (
    "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if "
    "a replica is configured to be writable (which is not the default) writes to replicas are "
    "just local and are not propagated.")
NO_SERVER = "ERR %s needs a kvstore-server connection (the embedded store has no replicas)"
ZERO_OR_ONE = "ERR value is out of range, value must between 0 and 1"


def _server(ctx: Context, name: str = "SYNC"):
    client = ctx.client
    server = getattr(client, "server", None) if client is not None else None
    if server is None:
        raise CommandError(NO_SERVER % name)
    return server


@command("sync", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def sync(ctx: Context, argv: list[bytes]):
    """SYNC

    Complexity: O(N) to write the data set, in a child process.  Reply: the data set as an RDB
    file, then the stream of writes (the connection becomes a replica's).
    """
    server = _server(ctx)
    _refuse_sync_while_failing_over(server)
    server.replication.sync(ctx.client, psync=False)


@command("psync", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, group="server")
def psync(ctx: Context, argv: list[bytes]):
    """PSYNC replicationid offset

    Complexity: O(1) and the backlog's bytes from `offset` on, or as SYNC.  Reply: +CONTINUE
    <replid> and the stream from `offset` when the backlog still holds it (a partial resync),
    else +FULLRESYNC <replid> <offset>, then as SYNC.
    """
    server = _server(ctx)
    if len(argv) > 3 and argv[3].lower() == b"failover":
        # A master's FAILOVER hands over to us (Redis's syncCommand): only for the history we
        # share with it, and we are a master before we answer it.
        link = server.master_link
        if argv[1].decode("latin-1") != server.replication.replid:
            raise CommandError("ERR PSYNC FAILOVER replid must match my replid.")
        if link is not None:
            server.replicaof_none()
            server.log.notice("MASTER MODE enabled (failover request from '%s')",
                              ctx.client.describe())
    _refuse_sync_while_failing_over(server)
    try:
        offset = parse_int(argv[2])
    except ValueError:
        offset = -1
    server.replication.sync(ctx.client, psync=True, replid=argv[1], offset=offset)


def _refuse_sync_while_failing_over(server) -> None:
    if server.replication.failover_state != NO_FAILOVER:
        raise CommandError("NOMASTERLINK Can't SYNC while failing over")


@command("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, group="server")
def replconf(ctx: Context, argv: list[bytes]):
    """REPLCONF [option value ...]

    Complexity: O(1).  Reply: OK; nothing for ACK.
    """
    if len(argv) % 2 == 0:
        raise CommandError("ERR syntax error")
    replica = getattr(ctx.client, "replica", None)
    for i in range(1, len(argv), 2):
        option, value = argv[i].lower(), argv[i + 1]
        if option == b"listening-port":
            try:
                port = parse_int(value)
            except ValueError:
                raise CommandError("ERR value is not an integer or out of range") from None
            if replica is not None:
                replica.port = port
            elif ctx.client is not None:
                ctx.client.replica_port = port
        elif option == b"ack":
            if replica is not None:
                try:
                    replica.ack = parse_int(value)
                    replica.ack_time = time.monotonic()
                except ValueError:
                    pass
                replication = ctx.client.server.replication
                if replication.waiting:
                    replication.check_waiting()
                replication.check_failover()
            elif ctx.client is not None:
                from ..server.client import DROP_LAST

                ctx.client.state |= DROP_LAST  # no reply at all (a replica's replies are off)
            return None
        elif option == b"getack":
            if getattr(ctx.client, "is_master", False):
                ctx.client.send_ack()  # our master asks where we are
            return None
        elif option == b"capa":
            if ctx.client is not None:
                capa = value.lower()
                if capa == b"psync2":
                    ctx.client.replica_psync2 = True
                elif capa == b"eof":
                    ctx.client.replica_eof = True
        elif option == b"rdb-only":  # (redis-cli --rdb) the file, no stream after it
            rdb_only = to_int(value)
            if not 0 <= rdb_only <= 1:
                raise CommandError(ZERO_OR_ONE)
            if ctx.client is not None:
                ctx.client.rdb_only = bool(rdb_only)
        elif option == b"rdb-filter-only":
            # What the file includes, from nothing (""): only "functions" exists, for
            # redis-cli --functions-rdb
            try:
                filters = split_inline(value)
            except ProtocolError:
                raise CommandError("ERR Missing rdb-filter-only values") from None
            for name in filters:
                if name.lower() != b"functions":
                    raise CommandError("ERR Unsupported rdb-filter-only option: "
                                       + name.decode("utf-8", "replace"))
            if ctx.client is not None:
                ctx.client.rdb_filter = (False, bool(filters))  # (keys?, functions?)
        elif option != b"ip-address":
            raise CommandError("ERR Unrecognized REPLCONF option: "
                               + argv[i].decode("utf-8", "replace"))
    return OK


def _replicaof(ctx: Context, argv: list[bytes]):
    server = _server(ctx, argv[0].decode("utf-8", "replace").upper())
    if server.replication.failover_state != NO_FAILOVER:
        raise CommandError("ERR REPLICAOF not allowed while failing over.")
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        if server.master_link is not None:
            server.replicaof_none()
        return OK
    if ctx.client.replica is not None:
        raise CommandError("ERR Command is not valid when client is a replica.")
    try:
        port = parse_int(argv[2])
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise CommandError("ERR Invalid master port")
    host = argv[1].decode("utf-8", "replace")
    link = server.master_link
    if link is not None and link.host.lower() == host.lower() and link.port == port:
        server.log.notice("REPLICAOF would result into synchronization with the master we are "
                          "already connected with. No operation performed.")
        return Status("OK Already connected to specified master")
    server.replicaof(host, port)
    server.log.notice("REPLICAOF %s:%d enabled (user request from '%s')", host, port,
                      ctx.client.describe())
    return OK


@command("failover", -1, ADMIN | NOSCRIPT | STALE, group="server")
def failover(ctx: Context, argv: list[bytes]):
    """FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]

    Complexity: O(1).  Reply: OK; the failover then goes on by itself (INFO replication's
    master_failover_state shows it).
    """
    server = _server(ctx, "FAILOVER")
    replication = server.replication
    if len(argv) == 2 and argv[1].lower() == b"abort":
        if replication.failover_state == NO_FAILOVER:
            raise CommandError("ERR No failover in progress.")
        replication.abort_failover("Failover manually aborted")
        return OK
    timeout_ms, force, host, port = 0, False, None, 0
    i = 1
    while i < len(argv):  # (Redis's parse: each option once, else a syntax error)
        word = argv[i].lower()
        if word == b"timeout" and i + 1 < len(argv) and not timeout_ms:
            timeout_ms = to_int(argv[i + 1])
            if timeout_ms <= 0:
                raise CommandError("ERR FAILOVER timeout must be greater than 0")
            i += 2
        elif word == b"to" and i + 2 < len(argv) and host is None:
            port = to_int(argv[i + 2])
            host = argv[i + 1].decode("utf-8", "replace")
            i += 3
        elif word == b"force" and not force:
            force = True
            i += 1
        else:
            raise CommandError("ERR syntax error")
    if replication.failover_state != NO_FAILOVER:
        raise CommandError("ERR FAILOVER already in progress.")
    if server.master_link is not None:
        raise CommandError("ERR FAILOVER is not valid when server is a replica.")
    if not replication.replicas:
        raise CommandError("ERR FAILOVER requires connected replicas.")
    if force and (not timeout_ms or host is None):
        raise CommandError("ERR FAILOVER with force option requires both a timeout and target "
                           "HOST and IP.")
    if host is not None:
        target = replication.find_replica(host, port)
        if target is None:
            raise CommandError("ERR FAILOVER target HOST and PORT is not a replica.")
        if not target.online:
            raise CommandError("ERR FAILOVER target replica is not online.")
    replication.failover(None if host is None else (host, port), timeout_ms, force)
    return OK


@command("replicaof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, group="server")
def replicaof(ctx: Context, argv: list[bytes]):
    """REPLICAOF host port | REPLICAOF NO ONE

    Complexity: O(1) here; the sync then loads the master's data set.  Reply: OK (or "OK
    Already connected to specified master").
    """
    return _replicaof(ctx, argv)


@command("slaveof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, group="server")
def slaveof(ctx: Context, argv: list[bytes]):
    """SLAVEOF host port | SLAVEOF NO ONE

    Complexity: as REPLICAOF, which it is.  Reply: as REPLICAOF.
    """
    return _replicaof(ctx, argv)


@command("wait", 3, NOSCRIPT, group="connection")
def wait(ctx: Context, argv: list[bytes]):
    """WAIT numreplicas timeout

    Complexity: O(1).  Reply: how many replicas acknowledged every write made before it, once
    `numreplicas` have or `timeout` ms passed (0: no limit); at once inside MULTI.
    """
    wanted = to_int(argv[1])
    timeout = _timeout_ms(argv[2])
    client = ctx.client
    server = getattr(client, "server", None) if client is not None else None
    if server is None:
        return 0  # the embedded store has no replicas
    if server.master_link is not None:
        raise CommandError(WAIT_ON_REPLICA)
    return server.replication.wait(client, wanted, timeout)


def _timeout_ms(arg: bytes) -> int:
    """Redis's getTimeoutFromObjectOrReply in milliseconds (WAIT, WAITAOF)."""
    timeout = to_int(arg, "ERR timeout is not an integer or out of range")
    if timeout < 0:
        raise CommandError("ERR timeout is negative")
    return timeout


@command("waitaof", 4, BLOCKING, group="connection")
def waitaof(ctx: Context, argv: list[bytes]):
    """WAITAOF numlocal numreplicas timeout

    Complexity: O(1).  Reply: [1 if every write before it is fsynced to the AOF else 0,
    replicas that reported the same], once `numlocal` (0 or 1) and `numreplicas` are met or
    `timeout` ms passed (0: no limit); at once inside MULTI. Replicas never report it here.
    """
    numlocal = to_int(argv[1])
    if not 0 <= numlocal <= 1:
        raise CommandError(ZERO_OR_ONE)
    numreplicas = to_int(argv[2])
    if numreplicas < 0:
        raise CommandError(POSITIVE)
    timeout = _timeout_ms(argv[3])
    client = ctx.client
    server = getattr(client, "server", None) if client is not None else None
    if server is None:  # the embedded store: its own AOF, fsynced now; no replicas
        p = getattr(ctx.ks, "persistence", None)
        writer = p.writer if p is not None else None
        if numlocal and writer is None:
            raise CommandError(WAITAOF_NO_AOF)
        if writer is not None:
            writer.flush(fsync=True)
        return [int(writer is not None), 0]
    if server.master_link is not None:
        raise CommandError(
            "ERR WAITAOF cannot be used with replica instances. Please also note that writes "
            "to replicas are just local and are not propagated.")
    p = server.persistence
    if numlocal and (p is None or p.writer is None and not p.aof_starting):
        raise CommandError(WAITAOF_NO_AOF)
    return server.replication.waitaof(client, numlocal, numreplicas, timeout)


WAITAOF_NO_AOF = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled."


@command("role", 1, NOSCRIPT | LOADING | STALE | FAST, group="server")
def role(ctx: Context, argv: list[bytes]):
    """ROLE

    Complexity: O(1).  Reply: [master, replication offset, [[ip, port, acked offset], ...]].
    """
    client = ctx.client
    server = getattr(client, "server", None) if client is not None else None
    if server is None:
        return [b"master", 0, []]
    return server.replication.role()
