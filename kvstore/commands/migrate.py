"""MIGRATE: move keys to another Redis-protocol server (Redis 7.0 `cluster.c` migrateCommand).

As Redis does, it talks to the target synchronously, within `timeout` ms per step: it connects,
sends AUTH / AUTH2 if asked, SELECT, then one RESTORE per key (its DUMP payload and the time it
has left, with REPLACE if asked), pipelined, and reads the replies. A key the target accepted is
deleted here unless COPY (logged as DEL); the first error the target gave is the reply. The
server waits meanwhile, as Redis does: MIGRATE is for moving data, not for the hot path.

Connections are kept per host:port, as Redis's migrate_cached_sockets: up to 64 (a random one
makes room), each closed after 10 s unused (`close_idle`: at each MIGRATE, and from the
server's cron). A kept one remembers its database, so SELECT is sent only when it changes;
after a socket error other than a timeout (a kept connection the target closed meanwhile) the
command is tried once more.
"""

from __future__ import annotations

import random
import socket
import time

from ..engine.dump import serialize
from ..errors import CommandError, ConnectionError, ResponseError, TimeoutError
from ..numbers import parse_int
from ..protocol import pack_command
from ..replies import OK, Status
from .keyspecs import migrate_keys
from .table import WRITE, Context, KeySpec, command

NOKEY = Status("NOKEY")


def _migrate_keys(argv: list[bytes]) -> list[bytes]:
    """The keys MIGRATE moves, as Redis's migrateGetKeys finds them."""
    return [argv[pos] for pos, _ in migrate_keys(argv)]


# COMMAND INFO shows the legacy range of Redis's first key spec (the single key, argument 3);
# the keys come from `_migrate_keys`.
@command("migrate", -6, WRITE, KeySpec(3, 3, 1), "generic", getkeys=_migrate_keys)
def migrate(ctx: Context, argv: list[bytes]):
    """MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
    [AUTH2 username password] [KEYS key [key ...]]

    Complexity: O(N) in the size of the keys moved, plus the round trip.  Reply: OK, NOKEY when
    no key exists, or the target's first error / an IOERR.
    """
    copy = replace = False
    auth: list[bytes] | None = None
    keys = [argv[3]]
    i = 6
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"copy":
            copy = True
        elif opt == b"replace":
            replace = True
        elif opt == b"auth" and i + 1 < len(argv):
            auth = [argv[i + 1]]
            i += 1
        elif opt == b"auth2" and i + 2 < len(argv):
            auth = [argv[i + 1], argv[i + 2]]
            i += 2
        elif opt == b"keys":
            if argv[3]:
                raise CommandError("ERR When using MIGRATE KEYS option, the key argument must be "
                                   "set to the empty string")
            keys = argv[i + 1 :]
            break
        else:
            raise CommandError("ERR syntax error")
        i += 1
    try:
        timeout = parse_int(argv[5])
        dbid = parse_int(argv[4])
    except ValueError:
        raise CommandError("ERR value is not an integer or out of range") from None
    if timeout <= 0:
        timeout = 1000
    db = ctx.db
    moving = []
    for key in keys:
        value = ctx.read(key)
        if value is not None:
            moving.append((key, value, db.expires.get(key)))
    if not moving:
        return NOKEY

    restores = []
    sent = []
    for key, value, when in moving:
        ttl = 0 if when is None else max(when - ctx.now, 1)
        restore = [b"RESTORE", key, b"%d" % ttl, serialize(value)]
        if replace:
            restore.append(b"REPLACE")
        restores.append(pack_command(*restore))
        sent.append(key)
    try:
        port = int(argv[2])
    except ValueError:
        raise CommandError("IOERR error or timeout connecting to the client") from None
    cache = sockets(ctx.ks)
    address = (argv[1].decode("utf-8", "replace"), port)
    may_retry = True
    while True:
        kept = _socket(cache, address, timeout / 1000)
        request = [pack_command(b"AUTH", *auth)] if auth is not None else []
        if kept.dbid != dbid:
            request.append(pack_command(b"SELECT", b"%d" % dbid))
        setup = len(request)  # the AUTH and SELECT replies come first
        try:
            replies = _exchange(kept.conn, b"".join(request + restores),
                                setup + len(restores), timeout / 1000)
            break
        except _Failed as exc:
            cache.pop(address, None)
            kept.conn.disconnect()
            if exc.timed_out or not may_retry:
                raise CommandError(exc.text) from None
            may_retry = False

    error = None
    for reply in replies[:setup]:
        if isinstance(reply, ResponseError) and error is None:
            error = f"ERR Target instance replied with error: {reply}"
    setup_failed = error is not None  # then, as in Redis, no key counts as moved
    kept.dbid = -1 if setup_failed else dbid  # (after an error, SELECT again next time)
    moved = []
    for key, reply in zip(sent, replies[setup:]):
        if isinstance(reply, ResponseError):
            if error is None:
                error = f"ERR Target instance replied with error: {reply}"
        elif not copy and not setup_failed:
            moved.append(key)
    if moved:
        for key in moved:
            db.delete(key)
            ctx.notify("g", "del", key)
        ctx.ks.dirty += len(moved)
        ctx.effects = [[b"DEL", *moved]]
    if error is not None:
        raise CommandError(error)
    return OK


_CACHE_ITEMS = 64
_CACHE_TTL = 10.0


class _Kept:
    """A connection kept for later MIGRATEs to the same target."""

    __slots__ = ("conn", "dbid", "used")

    def __init__(self, conn) -> None:
        self.conn = conn
        self.dbid = -1  # the database last selected on it; -1: not known
        self.used = time.monotonic()


class _Failed(Exception):
    def __init__(self, text: str, timed_out: bool) -> None:
        super().__init__(text)
        self.text = text
        self.timed_out = timed_out


def sockets(ks) -> dict:
    """The keyspace's kept connections, (host, port) -> _Kept (INFO migrate_cached_sockets)."""
    cache = getattr(ks, "migrate_sockets", None)
    if cache is None:
        cache = ks.migrate_sockets = {}
    return cache


def close_idle(cache: dict) -> None:
    """Close the kept connections unused for 10 s (Redis's migrateCloseTimedoutSockets)."""
    now = time.monotonic()
    for address, kept in list(cache.items()):
        if now - kept.used > _CACHE_TTL:
            del cache[address]
            kept.conn.disconnect()


def _socket(cache: dict, address: tuple[str, int], timeout: float) -> _Kept:
    """The kept connection to `address`, or a new one (kept)."""
    from clients.connection import Connection

    if cache:
        close_idle(cache)  # (an embedded store has no cron to do it)
    kept = cache.get(address)
    if kept is not None:
        kept.used = time.monotonic()
        return kept
    if len(cache) >= _CACHE_ITEMS:
        cache.pop(random.choice(list(cache))).conn.disconnect()
    conn = Connection(address[0], address[1], socket_timeout=timeout,
                      socket_connect_timeout=timeout)
    try:
        conn.connect()
    except TimeoutError:
        raise CommandError("IOERR error or timeout connecting to the client") from None
    except ConnectionError:  # refused at once: Redis meets it on its first write
        raise CommandError("IOERR error or timeout writing to target instance") from None
    kept = cache[address] = _Kept(conn)
    return kept


def _exchange(conn, request: bytes, count: int, timeout: float) -> list:
    """Send `request` and read `count` replies (errors as ResponseError values), each step
    within `timeout` seconds. Raises _Failed on a socket error."""
    conn.sock.settimeout(timeout)
    try:
        conn.send(request)
    except (ConnectionError, TimeoutError) as exc:
        raise _Failed("IOERR error or timeout writing to target instance",
                      isinstance(exc, TimeoutError)) from None
    try:
        return _reply_lines(conn.sock, count, timeout)
    except (ConnectionError, OSError) as exc:
        raise _Failed("IOERR error or timeout reading to target instance",
                      isinstance(exc, socket.timeout)) from None


# A reply line longer than this is no reply MIGRATE expects (Redis reads them into 1 KB).
_MAX_LINE = 64 * 1024


def _reply_lines(sock, count: int, timeout: float) -> list:
    """`count` replies read as Redis's MIGRATE reads them (syncReadLine): one line each, an
    error line as a ResponseError, any other line as success. A reply is never parsed past its
    first line, so a target cannot make us build what an aggregate's header claims."""
    sock.settimeout(timeout)
    out: list = []
    buf = b""
    while len(out) < count:
        end = buf.find(b"\r\n")
        if end < 0:
            if len(buf) > _MAX_LINE:
                raise ConnectionError("reply line too long")
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the target")
            buf += data
            continue
        line, buf = buf[:end], buf[end + 2:]
        out.append(ResponseError(line[1:].decode("utf-8", "replace")) if line[:1] == b"-"
                   else line)
    return out
