"""MIGRATE: move keys to another Redis-protocol server (Redis 7.0 `cluster.c` migrateCommand).

As Redis does, it talks to the target synchronously, within `timeout` ms per step: it connects,
sends AUTH / AUTH2 if asked, SELECT, then one RESTORE per key (its DUMP payload and the time it
has left, with REPLACE if asked), pipelined, and reads the replies. A key the target accepted is
deleted here unless COPY (logged as DEL); the first error the target gave is the reply. The
server waits meanwhile, as Redis does: MIGRATE is for moving data, not for the hot path.
"""

from __future__ import annotations

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

    request = [pack_command(b"AUTH", *auth)] if auth is not None else []
    request.append(pack_command(b"SELECT", b"%d" % dbid))
    sent = []
    for key, value, when in moving:
        ttl = 0 if when is None else max(when - ctx.now, 1)
        restore = [b"RESTORE", key, b"%d" % ttl, serialize(value)]
        if replace:
            restore.append(b"REPLACE")
        request.append(pack_command(*restore))
        sent.append(key)
    replies = _exchange(argv[1].decode("utf-8", "replace"), argv[2], b"".join(request),
                        len(request), timeout / 1000)

    setup = len(request) - len(sent)  # the AUTH and SELECT replies
    error = None
    for reply in replies[:setup]:
        if isinstance(reply, ResponseError) and error is None:
            error = f"ERR Target instance replied with error: {reply}"
    setup_failed = error is not None  # then, as in Redis, no key counts as moved
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


def _exchange(host: str, port: bytes, request: bytes, count: int, timeout: float) -> list:
    """Send `request` and read `count` replies (errors as ResponseError values), each step
    within `timeout` seconds, over the client library's connection."""
    from clients.connection import Connection

    try:
        port_number = int(port)
    except ValueError:
        raise CommandError("IOERR error or timeout connecting to the client") from None
    conn = Connection(host, port_number, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        try:
            conn.connect()
        except TimeoutError:
            raise CommandError("IOERR error or timeout connecting to the client") from None
        except ConnectionError:  # refused at once: Redis meets it on its first write
            raise CommandError("IOERR error or timeout writing to target instance") from None
        try:
            conn.send(request)
        except (ConnectionError, TimeoutError):
            raise CommandError("IOERR error or timeout writing to target instance") from None
        try:
            return _reply_lines(conn.sock, count, timeout)
        except (ConnectionError, OSError):
            raise CommandError("IOERR error or timeout reading to target instance") from None
    finally:
        conn.disconnect()


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
