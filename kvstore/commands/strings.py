"""String commands. A string value is a plain `bytes` object in the keyspace."""

from __future__ import annotations

from ..errors import SYNTAX, CommandError, wrongtype
from ..replies import OK
from .args import to_int
from .table import DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command

KEY1 = KeySpec(1, 1, 1)

# Largest relative expire (seconds / ms) whose absolute ms time still fits a signed 64-bit int.
_MAX_MS = (1 << 63) - 1


def get_string(ctx: Context, key: bytes) -> bytes | None:
    """The string at key, None if absent; WRONGTYPE for another type."""
    value = ctx.db.lookup(key, ctx.now)
    if value is None or type(value) is bytes:
        return value
    raise wrongtype()


@command("get", 2, READONLY | FAST, KEY1, "string")
def get(ctx: Context, argv: list[bytes]):
    """GET key"""
    return get_string(ctx, argv[1])


def parse_expire_option(ctx: Context, name: str, opt: bytes, arg: bytes) -> int:
    """Absolute ms expiry for EX/PX/EXAT/PXAT `arg`, with Redis's errors for `name` command."""
    n = to_int(arg)
    invalid = CommandError(f"ERR invalid expire time in '{name}' command")
    if n <= 0:
        raise invalid
    if opt == b"ex" or opt == b"exat":
        if n > _MAX_MS // 1000:
            raise invalid
        n *= 1000
    if opt == b"ex" or opt == b"px":
        if n > _MAX_MS - ctx.now:
            raise invalid
        n += ctx.now
    return n


@command("set", -3, WRITE | DENYOOM, KEY1, "string")
def set_(ctx: Context, argv: list[bytes]):
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | KEEPTTL]"""
    key, value = argv[1], argv[2]
    db = ctx.db
    if len(argv) == 3:  # the common case, kept short
        db.set_value(key, value)
        ctx.ks.dirty += 1
        ctx.notify("$", "set", key)
        return OK
    nx = xx = get_old = keepttl = False
    expire_opt = None
    expire_at = None
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        has_next = i + 1 < len(argv)
        if opt == b"nx" and not xx:
            nx = True
        elif opt == b"xx" and not nx:
            xx = True
        elif opt == b"get":
            get_old = True
        elif opt == b"keepttl" and expire_opt is None:
            keepttl = True
        elif opt in (b"ex", b"px", b"exat", b"pxat") and expire_opt is None and not keepttl \
                and has_next:
            expire_opt = opt
            i += 1
            expire_arg = argv[i]
        else:
            raise CommandError(SYNTAX)
        i += 1
    if expire_opt is not None:
        expire_at = parse_expire_option(ctx, "set", expire_opt, expire_arg)
    old = db.lookup(key, ctx.now)
    if get_old and old is not None and type(old) is not bytes:
        raise wrongtype()
    if (nx and old is not None) or (xx and old is None):
        return old if get_old else None
    if keepttl:
        db.data[key] = value
    else:
        db.set_value(key, value)
    if expire_at is not None:
        db.set_expire(key, expire_at)
        ctx.effects = [[b"SET", key, value, b"PXAT", str(expire_at).encode()]]
    ctx.ks.dirty += 1
    ctx.notify("$", "set", key)
    if expire_at is not None:
        ctx.notify("g", "expire", key)
    return old if get_old else OK
