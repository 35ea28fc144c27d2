"""The EXPIRE family (Redis `expire.c`): EXPIRE PEXPIRE EXPIREAT PEXPIREAT, TTL PTTL EXPIRETIME
PEXPIRETIME, PERSIST.

Times are absolute milliseconds since the epoch in the keyspace (`db.expires`), so a relative
EXPIRE is `now + seconds * 1000` with "now" taken once per command. Redis 7 rules, in its order:
options are parsed first (an unknown one is "Unsupported option"), then NX with anything else or
GT with LT is refused, then the time is read, and a time whose ms value would not fit a signed
64-bit integer is "invalid expire time". Negative times are allowed: a time at or before now
deletes the key at once (reply 1, logged as DEL). GT treats "no TTL" as infinite, LT as well
(so LT on a key without TTL always sets).

AOF effects (DESIGN decision 7): every successful set is logged as `PEXPIREAT key <abs ms>`
and the options given, so replaying the log later gives the same expiry; a deletion is logged
as `DEL key`.
"""

from __future__ import annotations

from ..errors import CommandError, c_text
from ..numbers import INT64_MAX
from .args import to_int
from .table import FAST, READONLY, WRITE, Context, KeySpec, command

KEY1 = KeySpec(1, 1, 1)

# Bounds of a time in seconds whose ms value fits a long long (C division truncates to zero).
_MAX_SECONDS = INT64_MAX // 1000
_MIN_SECONDS = -(INT64_MAX // 1000)
_NX, _XX, _GT, _LT = 1, 2, 4, 8
_FLAGS = {b"nx": _NX, b"xx": _XX, b"gt": _GT, b"lt": _LT}


def _expire_flags(argv: list[bytes]) -> int:
    """Redis `parseExtendedExpireArgumentsOrReply`."""
    flags = 0
    for opt in argv[3:]:
        flag = _FLAGS.get(opt.lower())
        if flag is None:
            raise CommandError(f"ERR Unsupported option {c_text(opt)}")
        flags |= flag
    if flags & _NX and flags & (_XX | _GT | _LT):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if flags & _GT and flags & _LT:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    return flags


def _expire(ctx: Context, argv: list[bytes], seconds: bool, relative: bool):
    """Redis `expireGenericCommand`."""
    flags = _expire_flags(argv) if len(argv) > 3 else 0
    when = to_int(argv[2])
    if seconds:
        if not _MIN_SECONDS <= when <= _MAX_SECONDS:
            raise _invalid_time(argv[0])
        when *= 1000
    now = ctx.now
    if relative:
        if when > INT64_MAX - now:
            raise _invalid_time(argv[0])
        when += now
    key = argv[1]
    db = ctx.db
    if db.lookup(key, now) is None:
        return 0
    if flags:
        current = db.expires.get(key)
        if flags & _NX and current is not None:
            return 0
        if flags & _XX and current is None:
            return 0
        if flags & _GT and (current is None or when <= current):
            return 0
        if flags & _LT and current is not None and when >= current:
            return 0
    ctx.ks.dirty += 1
    if when <= now:
        db.delete(key)
        ctx.effects = [[b"DEL", key]]
        ctx.notify("g", "del", key)
        return 1
    db.set_expire(key, when)
    # (its NX/XX/GT/LT too, as Redis, which only rewrites the name and the time)
    ctx.effects = [[b"PEXPIREAT", key, b"%d" % when, *argv[3:]]]
    ctx.notify("g", "expire", key)
    return 1


def _invalid_time(name: bytes) -> CommandError:
    # Redis names the command as its table does (lowercase), whatever the client sent.
    name_text = name.decode("utf-8", "replace").lower()
    return CommandError(f"ERR invalid expire time in '{name_text}' command")


@command("expire", -3, WRITE | FAST, KEY1, "generic")
def expire(ctx: Context, argv: list[bytes]):
    """EXPIRE key seconds [NX | XX | GT | LT]

    Complexity: O(1). Reply: integer, 1 if the TTL was set (or the key deleted), else 0.
    """
    return _expire(ctx, argv, True, True)


@command("pexpire", -3, WRITE | FAST, KEY1, "generic")
def pexpire(ctx: Context, argv: list[bytes]):
    """PEXPIRE key milliseconds [NX | XX | GT | LT]

    Complexity: O(1). Reply: integer, 1 if the TTL was set (or the key deleted), else 0.
    """
    return _expire(ctx, argv, False, True)


@command("expireat", -3, WRITE | FAST, KEY1, "generic")
def expireat(ctx: Context, argv: list[bytes]):
    """EXPIREAT key unix-time-seconds [NX | XX | GT | LT]

    Complexity: O(1). Reply: integer, 1 if the TTL was set (or the key deleted), else 0.
    """
    return _expire(ctx, argv, True, False)


@command("pexpireat", -3, WRITE | FAST, KEY1, "generic")
def pexpireat(ctx: Context, argv: list[bytes]):
    """PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]

    Complexity: O(1). Reply: integer, 1 if the TTL was set (or the key deleted), else 0.
    """
    return _expire(ctx, argv, False, False)


def _ttl(ctx: Context, key: bytes, ms: bool, absolute: bool) -> int:
    """Redis `ttlGenericCommand`: -2 no key, -1 no TTL; seconds are rounded to nearest."""
    db = ctx.db
    if ctx.read(key) is None:
        return -2
    when = db.expires.get(key)
    if when is None:
        return -1
    # (the live clock, as Redis's mstime(): inside EXEC or a script, where time stands still
    # for expiry, a key past its TTL still exists and shows 0)
    ttl = when if absolute else when - ctx.ks.clock()
    if ttl < 0:
        ttl = 0
    return ttl if ms else (ttl + 500) // 1000


@command("ttl", 2, READONLY | FAST, KEY1, "generic")
def ttl(ctx: Context, argv: list[bytes]):
    """TTL key

    Complexity: O(1). Reply: integer, seconds to live (rounded), -1 without TTL, -2 no key.
    """
    return _ttl(ctx, argv[1], False, False)


@command("pttl", 2, READONLY | FAST, KEY1, "generic")
def pttl(ctx: Context, argv: list[bytes]):
    """PTTL key

    Complexity: O(1). Reply: integer, ms to live, -1 without TTL, -2 no key.
    """
    return _ttl(ctx, argv[1], True, False)


@command("expiretime", 2, READONLY | FAST, KEY1, "generic")
def expiretime(ctx: Context, argv: list[bytes]):
    """EXPIRETIME key

    Complexity: O(1). Reply: integer, absolute expiry in unix seconds, -1 or -2.
    """
    return _ttl(ctx, argv[1], False, True)


@command("pexpiretime", 2, READONLY | FAST, KEY1, "generic")
def pexpiretime(ctx: Context, argv: list[bytes]):
    """PEXPIRETIME key

    Complexity: O(1). Reply: integer, absolute expiry in unix ms, -1 or -2.
    """
    return _ttl(ctx, argv[1], True, True)


@command("persist", 2, WRITE | FAST, KEY1, "generic")
def persist(ctx: Context, argv: list[bytes]):
    """PERSIST key

    Complexity: O(1). Reply: integer, 1 if a TTL was removed, else 0.
    """
    key = argv[1]
    db = ctx.db
    if db.lookup(key, ctx.now) is None or not db.persist(key):
        return 0
    ctx.ks.dirty += 1
    ctx.notify("g", "persist", key)
    return 1
