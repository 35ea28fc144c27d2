"""String commands (Redis `t_string.c`). A string value is a plain `bytes` object in the keyspace.

Values are immutable `bytes`, so every in-place change Redis makes to an sds (APPEND, SETRANGE,
INCR, SETBIT in `bitmaps.py`) builds a new object and stores it with `db.data[key] = new`, which
keeps the key's TTL as Redis's in-place edits do; `db.set_value()` is for commands that replace
the value and drop the TTL (SET, GETSET, MSET). APPEND is therefore O(len) here, not amortised
O(1) as with sds: fine for values of a few KB, slow for a string grown by many small appends.

Error precedence follows Redis exactly, because clients see it: e.g. GETRANGE parses its indexes
before looking at the key, GETEX looks at the key before validating its expire time, BITCOUNT of a
missing key is 0 whatever its arguments. Those orders are the reason some handlers below parse
arguments late.

AOF effects (DESIGN decision 7): relative expiries become absolute (`SET k v PXAT ms`,
`PEXPIREAT k ms`), INCRBYFLOAT becomes `SET k v KEEPTTL`, a GETEX that deletes becomes `DEL k`.
Every other write replays as sent.
"""

from __future__ import annotations

from ..errors import NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX, CommandError, wrong_args, wrongtype
from ..engine.values import (EMBSTR_MAX, SHARED_INT_BYTES, SHARED_INTEGERS, int_bytes,
                             shared_int_value)
from ..numbers import INT64_MAX, INT64_MIN, incrbyfloat as _incrbyfloat
from ..protocol.encoder import BULK_HEADERS
from ..replies import OK
from .args import to_int
from .table import (DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, RunReplies, command,
                    no_notify, run_handler)

KEY1 = KeySpec(1, 1, 1)

# redis.conf `proto-max-bulk-len` (default 512 MB): no command may build a longer string.
# Until CONFIG SET supports it, the default is a constant.
PROTO_MAX_BULK_LEN = 512 * 1024 * 1024   # bytes
TOO_BIG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"

# Largest absolute expiry, in ms since the epoch, that fits Redis's signed 64-bit `long long`.
_MAX_MS = INT64_MAX

# Option flags of SET / GETEX (Redis `OBJ_SET_NX`, ...). The expire option is returned apart.
_NX, _XX, _GET, _KEEPTTL, _PERSIST = 1, 2, 4, 8, 16
_EXPIRE_OPTS = (b"ex", b"px", b"exat", b"pxat")


def check_length(size: int) -> None:
    """Redis `checkStringLength`: refuse to build a string longer than proto-max-bulk-len."""
    if size > PROTO_MAX_BULK_LEN:
        raise CommandError(TOO_BIG)


def get_string(ctx: Context, key: bytes) -> bytes | None:
    """The string at key (a read: counted, see Context.read), None if absent; WRONGTYPE for
    another type."""
    value = ctx.read(key)
    if value is None or type(value) is bytes:
        return value
    raise wrongtype()


@command("get", 2, READONLY | FAST, KEY1, "string")
def get(ctx: Context, argv: list[bytes]):
    """GET key

    Complexity: O(1). Reply: the value, or nil.
    """
    db = ctx.db
    key = argv[1]
    if key in db.expires:
        return get_string(ctx, key)
    # Context.read, inlined: GET is the hottest command
    value = db.data.get(key)
    if value is None:
        ctx.ks.misses += 1
        if ctx.notify is not no_notify:
            ctx.notify("m", "keymiss", key)
        return None
    ctx.ks.hits += 1
    if type(value) is bytes:
        return value
    raise wrongtype()


@run_handler("get")
def get_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `get` of keys without a TTL holding strings under 1 KB, with no keymiss listener
    if ctx.notify is not no_notify:
        return 0
    db = ctx.db
    data = db.data
    expires = db.expires
    null = b"_\r\n" if ctx.resp == 3 else b"$-1\r\n"
    name = argvs[0][0]
    done = misses = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 2:
            break
        key = argv[1]
        if key in expires:
            break
        value = data.get(key)
        if value is None:
            append(null)
            misses += 1
        elif type(value) is bytes and len(value) < 1024:
            append(BULK_HEADERS[len(value)])
            append(value)
            append(b"\r\n")
        else:
            break
        done += 1
    ks = ctx.ks
    ks.hits += done - misses
    ks.misses += misses
    return done


# -- SET and its variants ------------------------------------------------------------------------


def parse_string_options(argv: list[bytes], is_set: bool) -> tuple[int, bytes | None, bytes]:
    """Redis `parseExtendedStringArgumentsOrReply` for SET (`is_set`) or GETEX.

    Returns (flags, expire option as lowercase bytes or None, its argument). As in Redis, an
    option may repeat (the last expire argument wins) but two different expire options, or one
    with KEEPTTL / PERSIST, are a syntax error; so are NX with XX, and a trailing EX.
    """
    flags = 0
    expire_opt = None
    expire_arg = b""
    i = 3 if is_set else 2
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if is_set and opt == b"nx" and not flags & _XX:
            flags |= _NX
        elif is_set and opt == b"xx" and not flags & _NX:
            flags |= _XX
        elif is_set and opt == b"get":
            flags |= _GET
        elif is_set and opt == b"keepttl" and expire_opt is None:
            flags |= _KEEPTTL
        elif not is_set and opt == b"persist" and expire_opt is None:
            flags |= _PERSIST
        elif (
            opt in _EXPIRE_OPTS and (expire_opt is None or expire_opt == opt)
            and not flags & (_KEEPTTL | _PERSIST) and i + 1 < n
        ):
            expire_opt = opt
            i += 1
            expire_arg = argv[i]
        else:
            raise CommandError(SYNTAX)
        i += 1
    return flags, expire_opt, expire_arg


def parse_expire_option(ctx: Context, name: str, opt: bytes, arg: bytes) -> int:
    """Absolute ms expiry for EX/PX/EXAT/PXAT `arg` (Redis `getExpireMillisecondsOrReply`), with
    Redis's errors for command `name`: not an integer, <= 0, or overflowing 64 bits."""
    n = to_int(arg)
    if n <= 0:
        raise CommandError(f"ERR invalid expire time in '{name}' command")
    if opt == b"ex" or opt == b"exat":
        if n > _MAX_MS // 1000:
            raise CommandError(f"ERR invalid expire time in '{name}' command")
        n *= 1000
    if opt == b"ex" or opt == b"px":
        if n > _MAX_MS - ctx.now:  # Redis detects the signed overflow of n + now
            raise CommandError(f"ERR invalid expire time in '{name}' command")
        n += ctx.now
    return n


def set_generic(ctx: Context, name: str, key: bytes, value: bytes, flags: int,
                expire_opt: bytes | None, expire_arg: bytes, argv: list[bytes]):
    """Redis `setGenericCommand`: SET with options, SETEX, PSETEX (`name` is for errors, `argv`
    the command's, for what it propagates).

    Order matters: the expire time is validated first, then GET's type check, then NX / XX.
    """
    when = None
    if expire_opt is not None:
        when = parse_expire_option(ctx, name, expire_opt, expire_arg)
    db = ctx.db
    # With GET, Redis reads the key first (getGenericCommand: a counted read)
    old = ctx.read(key) if flags & _GET else db.lookup(key, ctx.now)
    if flags & _GET and old is not None and type(old) is not bytes:
        raise wrongtype()
    if (flags & _NX and old is not None) or (flags & _XX and old is None):
        return old if flags & _GET else None
    if flags & _KEEPTTL and old is not None:
        db.data[key] = value
    else:
        db.set_value(key, value, ctx.now)
    ctx.ks.dirty += 1
    late = flags & _GET != 0  # (GET's reply is written first, as in Redis)
    ctx.notify("$", "set", key, late)
    if when is not None:
        # An absolute time in the past is stored as is: the key is expired on its next access,
        # as in Redis 7.0 (it neither deletes it nor logs a DEL here).
        db.set_expire(key, when)
        ctx.notify("g", "expire", key, late)
        ctx.effects = [[b"SET", key, value, b"PXAT", b"%d" % when]]
    elif flags & _GET:
        # Propagated without its GETs, as Redis does (only SET has the flag).
        ctx.effects = [argv[:3] + [a for a in argv[3:] if a.lower() != b"get"]]
    return old if flags & _GET else OK


@command("set", -3, WRITE | DENYOOM, KEY1, "string")
def set_(ctx: Context, argv: list[bytes]):
    """SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | KEEPTTL]

    Complexity: O(1). Reply: OK; nil if NX / XX prevented the write; with GET, the old value.
    """
    if len(argv) == 3:  # the common case, kept short
        key = argv[1]
        db = ctx.db
        if ctx.notify is not no_notify:  # (its events: maybe `expired`, maybe `new`, `set`)
            db.set_value(key, argv[2], ctx.now)
            ctx.ks.dirty += 1
            ctx.notify("$", "set", key)
            return OK
        if key in db.expires:
            db.untime(key, ctx.now)
        db.data[key] = argv[2]
        ctx.ks.dirty += 1
        return OK
    flags, expire_opt, expire_arg = parse_string_options(argv, True)
    return set_generic(ctx, "set", argv[1], argv[2], flags, expire_opt, expire_arg, argv)


_OKS = RunReplies(b"+OK\r\n")


@run_handler("set", logged=True)
def set_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `set_`'s common case, SET key value
    if len(argvs[0]) != 3:
        return 0
    db = ctx.db
    data = db.data
    expires = db.expires
    name = argvs[0][0]
    done = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 3:
            break
        key = argv[1]
        if key in expires:
            db.untime(key, ctx.now)
        data[key] = argv[2]
        done += 1
    append(_OKS[done])
    ctx.ks.dirty += done
    return done


@command("setnx", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def setnx(ctx: Context, argv: list[bytes]):
    """SETNX key value

    Complexity: O(1). Reply: 1 if the key was set, 0 if it already existed (any type).
    """
    key = argv[1]
    db = ctx.db
    if db.lookup(key, ctx.now) is not None:
        return 0
    db.add(key, argv[2])  # absent and, after lookup's lazy expiry, without a TTL
    ctx.ks.dirty += 1
    ctx.notify("$", "set", key)
    return 1


@command("setex", 4, WRITE | DENYOOM, KEY1, "string")
def setex(ctx: Context, argv: list[bytes]):
    """SETEX key seconds value

    Complexity: O(1). Reply: OK. Logged as SET key value PXAT <absolute ms>.
    """
    return set_generic(ctx, "setex", argv[1], argv[3], 0, b"ex", argv[2], argv)


@command("psetex", 4, WRITE | DENYOOM, KEY1, "string")
def psetex(ctx: Context, argv: list[bytes]):
    """PSETEX key milliseconds value

    Complexity: O(1). Reply: OK. Logged as SET key value PXAT <absolute ms>.
    """
    return set_generic(ctx, "psetex", argv[1], argv[3], 0, b"px", argv[2], argv)


@command("getset", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def getset(ctx: Context, argv: list[bytes]):
    """GETSET key value

    Complexity: O(1). Reply: the old value, or nil. Drops the TTL, as SET does.
    """
    key = argv[1]
    db = ctx.db
    old = ctx.read(key)
    if old is not None and type(old) is not bytes:
        raise wrongtype()
    db.set_value(key, argv[2], ctx.now)
    ctx.ks.dirty += 1
    ctx.notify("$", "set", key)
    ctx.effects = [[b"SET", key, argv[2]]]  # propagated as Redis does
    return old


# -- multi-key -----------------------------------------------------------------------------------


@command("mget", -2, READONLY | FAST, KeySpec(1, -1, 1), "string")
def mget(ctx: Context, argv: list[bytes]):
    """MGET key [key ...]

    Complexity: O(N). Reply: one value per key; nil for a missing key or one of another type.
    """
    read = ctx.read
    out = []
    append = out.append
    for key in argv[1:]:
        value = read(key)
        append(value if type(value) is bytes else None)
    return out


def _check_pairs(argv: list[bytes], name: str) -> None:
    if len(argv) % 2 == 0:  # Redis `addReplyErrorArity`: same text as a wrong arity
        raise wrong_args(name)


@command("mset", -3, WRITE | DENYOOM, KeySpec(1, -1, 2), "string")
def mset(ctx: Context, argv: list[bytes]):
    """MSET key value [key value ...]

    Complexity: O(N). Reply: OK. Every key loses its TTL; a repeated key takes its last value.
    """
    if not len(argv) & 1:  # `_check_pairs`, inlined: a tenth of a pipelined MSET's opcodes
        raise wrong_args("mset")
    db = ctx.db
    keys = argv[1::2]
    if ctx.notify is not no_notify:  # key by key, for Redis's order of events
        for key, value in zip(keys, argv[2::2]):
            db.set_value(key, value, ctx.now)
            ctx.notify("$", "set", key)
    else:
        expires = db.expires
        if expires:
            for key in keys:
                if key in expires:
                    db.untime(key, ctx.now)
        db.data.update(zip(keys, argv[2::2]))  # in order: a repeated key keeps its last value
    ctx.ks.dirty += len(keys)
    return OK


@run_handler("mset", logged=True)
def mset_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `mset` (a run holds calls of one size, up to Command.argcs's 64 arguments)
    if not len(argvs[0]) & 1:
        return 0  # an odd pair: the handler's error
    db = ctx.db
    data = db.data
    expires = db.expires
    name = argvs[0][0]
    size = len(argvs[0])
    done = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != size:
            break
        pairs = iter(argv)
        next(pairs)  # (the name; zip(it, it) then pairs the rest without two slices' copies)
        if expires:
            for key in argv[1::2]:
                if key in expires:
                    db.untime(key, ctx.now)
        data.update(zip(pairs, pairs))
        done += 1
    append(_OKS[done])
    ctx.ks.dirty += done * (size >> 1)
    return done


@command("msetnx", -3, WRITE | DENYOOM, KeySpec(1, -1, 2), "string")
def msetnx(ctx: Context, argv: list[bytes]):
    """MSETNX key value [key value ...]

    Complexity: O(N). Reply: 1 if all keys were set, 0 (and nothing set) if any existed.
    """
    _check_pairs(argv, "msetnx")
    db = ctx.db
    now = ctx.now
    for i in range(1, len(argv), 2):
        if db.lookup(argv[i], now) is not None:
            return 0
    notify = ctx.notify
    for i in range(1, len(argv), 2):
        db.set_value(argv[i], argv[i + 1], now)
        notify("$", "set", argv[i])
    ctx.ks.dirty += len(argv) // 2
    return 1


# -- read, delete, expire ------------------------------------------------------------------------


@command("getdel", 2, WRITE | FAST, KEY1, "string")
def getdel(ctx: Context, argv: list[bytes]):
    """GETDEL key

    Complexity: O(1). Reply: the value, or nil; the key is deleted if it held a string.
    """
    key = argv[1]
    db = ctx.db
    value = ctx.read(key)
    if value is None:
        return None
    if type(value) is not bytes:
        raise wrongtype()
    db.delete(key)
    ctx.ks.dirty += 1
    ctx.notify("g", "del", key)
    ctx.effects = [[b"DEL", key]]  # propagated as Redis does
    return value


@command("getex", -2, WRITE | FAST, KEY1, "string")
def getex(ctx: Context, argv: list[bytes]):
    """GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
    PXAT unix-time-milliseconds | PERSIST]

    Complexity: O(1). Reply: the value, or nil. Logged as PEXPIREAT / PERSIST / DEL.
    """
    flags, expire_opt, expire_arg = parse_string_options(argv, False)
    key = argv[1]
    db = ctx.db
    value = ctx.read(key)
    if value is None:
        return None
    if type(value) is not bytes:
        raise wrongtype()
    if expire_opt is not None:
        when = parse_expire_option(ctx, "getex", expire_opt, expire_arg)
        if (expire_opt == b"exat" or expire_opt == b"pxat") and when <= ctx.now:
            db.delete(key)  # an absolute time already past deletes, unlike SET's
            ctx.effects = [[b"DEL", key]]
            ctx.notify("g", "del", key)
        else:
            db.set_expire(key, when)
            ctx.effects = [[b"PEXPIREAT", key, b"%d" % when]]
            ctx.notify("g", "expire", key)
        ctx.ks.dirty += 1
    elif flags & _PERSIST and db.persist(key):
        ctx.effects = [[b"PERSIST", key]]
        ctx.notify("g", "persist", key)
        ctx.ks.dirty += 1
    return value


# -- length, append, ranges ----------------------------------------------------------------------


@command("strlen", 2, READONLY | FAST, KEY1, "string")
def strlen(ctx: Context, argv: list[bytes]):
    """STRLEN key

    Complexity: O(1). Reply: the length in bytes, 0 for a missing key.
    """
    value = get_string(ctx, argv[1])
    return 0 if value is None else len(value)


@command("append", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def append(ctx: Context, argv: list[bytes]):
    """APPEND key value

    Complexity: O(N) here (bytes are immutable; Redis: amortised O(1)). Reply: the new length.
    Creates the key, even with an empty value; keeps the TTL.
    """
    key, tail = argv[1], argv[2]
    db = ctx.db
    old = db.lookup(key, ctx.now)
    if old is None:
        db.add(key, tail)
        new = tail
    else:
        if type(old) is not bytes:
            raise wrongtype()
        check_length(len(old) + len(tail))
        new = old + tail
        if new is old:
            # An empty tail gives the very object back, maybe a shared integer
            # (SHARED_INT_BYTES), which must carry no key's mark: Redis unshares it too.
            new = bytes(bytearray(old))
        db.data[key] = new
        db.mark_encoding(key, new, b"raw")
    ctx.ks.dirty += 1
    ctx.notify("$", "append", key)
    return len(new)


def _getrange(ctx: Context, argv: list[bytes]) -> bytes:
    """Redis `getrangeCommand` (7.0 semantics: an end before the start of the string clamps to
    0, so GETRANGE k 0 -100 of "hello" is "h")."""
    start = to_int(argv[2])
    end = to_int(argv[3])
    value = get_string(ctx, argv[1])
    if not value:
        return b""
    if start < 0 and end < 0 and start > end:
        return b""
    n = len(value)
    if start < 0:
        start = max(start + n, 0)
    if end < 0:
        end = max(end + n, 0)
    if end >= n:
        end = n - 1
    if start > end:
        return b""
    return value[start : end + 1]


@command("getrange", 4, READONLY, KEY1, "string")
def getrange(ctx: Context, argv: list[bytes]):
    """GETRANGE key start end

    Complexity: O(N) in the returned length. Reply: the substring (inclusive, negative indexes
    count from the end), "" when empty or the key is missing.
    """
    return _getrange(ctx, argv)


@command("substr", 4, READONLY, KEY1, "string")
def substr(ctx: Context, argv: list[bytes]):
    """SUBSTR key start end

    Deprecated alias of GETRANGE.
    """
    return _getrange(ctx, argv)


@command("setrange", 4, WRITE | DENYOOM, KEY1, "string")
def setrange(ctx: Context, argv: list[bytes]):
    """SETRANGE key offset value

    Complexity: O(N) here. Reply: the new length. Pads with zero bytes up to offset; an empty
    value changes nothing (and creates nothing) and replies the current length.
    """
    key, value = argv[1], argv[3]
    offset = to_int(argv[2])
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    db = ctx.db
    old = db.lookup(key, ctx.now)
    if old is None:
        if not value:
            return 0
        check_length(offset + len(value))
        new = bytes(offset) + value
        db.add(key, new)
    else:
        if type(old) is not bytes:
            raise wrongtype()
        if not value:
            return len(old)
        check_length(offset + len(value))
        if offset > len(old):
            new = old + bytes(offset - len(old)) + value
        else:
            new = old[:offset] + value + old[offset + len(value):]
        db.data[key] = new  # keeps the TTL
    db.mark_encoding(key, new, b"raw")
    ctx.ks.dirty += 1
    ctx.notify("$", "setrange", key)
    return len(new)


# -- counters ------------------------------------------------------------------------------------


def stored_int(old: object) -> int:
    """The integer a stored string holds, as Redis's string2ll reads it (WRONGTYPE for another
    type). `int()` is lenient (" 1", "+1", "1_0", "01"): plain digits without a leading zero
    are canonical, anything else must re-format to itself, which the digit test mostly skips."""
    if type(old) is not bytes:
        raise wrongtype()
    try:
        value = int(old)
    except ValueError:
        raise CommandError(NOT_INTEGER) from None
    if not (old.isdigit() and (old[0] != 48 or len(old) == 1)) and b"%d" % value != old \
            or value > INT64_MAX or value < INT64_MIN:
        raise CommandError(NOT_INTEGER)
    return value


def incr_by(ctx: Context, key: bytes, delta: int) -> int:
    """Redis `incrDecrCommand`: add `delta` to the integer at key (0 if missing); keeps the TTL.
    (`int()` refuses strings over 4300 digits quickly, so a huge value costs nothing.)"""
    db = ctx.db
    old = db.lookup(key, ctx.now) if key in db.expires else db.data.get(key)  # hot: see INCR
    if old is None:
        value = delta
    else:
        value = stored_int(old) + delta
        if value > INT64_MAX or value < INT64_MIN:
            raise CommandError(OVERFLOW)
    stored = int_bytes(value)
    if old is None:
        db.add(key, stored)
    else:
        db.data[key] = stored
    ctx.ks.dirty += 1
    ctx.notify("$", "incrby", key)
    return value


@command("incr", 2, WRITE | DENYOOM | FAST, KEY1, "string")
def incr(ctx: Context, argv: list[bytes]):
    """INCR key

    Complexity: O(1). Reply: the new value.
    """
    # INCR is benchmarked: this is `incr_by(ctx, argv[1], 1)` inlined, and so is `db.lookup`
    # for a key without a TTL, saving two calls.
    key = argv[1]
    db = ctx.db
    old = db.lookup(key, ctx.now) if key in db.expires else db.data.get(key)
    if old is None:
        db.add(key, SHARED_INT_BYTES[1])
        value = 1
    elif type(old) is bytes and old.isdigit() and old[0] != 48 and len(old) < 19:
        # stored_int's common case: canonical digits, far from INT64_MAX. Under five of them
        # it is a shared integer 1..9999 (SHARED_INT_BYTES): one probe instead of a parse,
        # and the next one's object; a big counter pays one length test more.
        if len(old) < 5:
            value = shared_int_value(old) + 1
            db.data[key] = SHARED_INT_BYTES[value] if value < SHARED_INTEGERS else b"10000"
        else:
            value = int(old) + 1
            db.data[key] = b"%d" % value
    else:
        value = stored_int(old)
        if value == INT64_MAX:
            raise CommandError(OVERFLOW)
        value += 1
        db.data[key] = int_bytes(value)
    ctx.ks.dirty += 1
    if ctx.notify is not no_notify:
        ctx.notify("$", "incrby", key)
    return value


@run_handler("incr", logged=True)
def incr_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # `incr`'s common case: no TTL, canonical digits far from the limit
    db = ctx.db
    data = db.data
    expires = db.expires
    name = argvs[0][0]
    done = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 2:
            break
        key = argv[1]
        if key in expires:
            break
        old = data.get(key)
        if old is None:
            value = SHARED_INT_BYTES[1]
        elif type(old) is bytes and old.isdigit() and old[0] != 48 and len(old) < 19:
            if len(old) < 5:  # a shared integer 1..9999: see `incr`
                n = shared_int_value(old) + 1
                value = SHARED_INT_BYTES[n] if n < SHARED_INTEGERS else b"10000"
            else:
                value = b"%d" % (int(old) + 1)
        else:
            break
        data[key] = value
        append(b":%b\r\n" % value)
        done += 1
    ctx.ks.dirty += done
    return done


@command("decr", 2, WRITE | DENYOOM | FAST, KEY1, "string")
def decr(ctx: Context, argv: list[bytes]):
    """DECR key

    Complexity: O(1). Reply: the new value.
    """
    return incr_by(ctx, argv[1], -1)


@command("incrby", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def incrby(ctx: Context, argv: list[bytes]):
    """INCRBY key increment

    Complexity: O(1). Reply: the new value.
    """
    # Also hot: redis-py's incr() sends INCRBY key 1. to_int's checks, inlined.
    arg = argv[2]
    try:
        delta = int(arg)
    except ValueError:
        raise CommandError(NOT_INTEGER) from None
    if b"%d" % delta != arg or delta > INT64_MAX or delta < INT64_MIN:
        raise CommandError(NOT_INTEGER)
    return incr_by(ctx, argv[1], delta)


@command("decrby", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def decrby(ctx: Context, argv: list[bytes]):
    """DECRBY key decrement

    Complexity: O(1). Reply: the new value.
    """
    delta = to_int(argv[2])
    if delta == INT64_MIN:  # its negation does not fit: Redis has a text of its own
        raise CommandError("ERR decrement would overflow")
    return incr_by(ctx, argv[1], -delta)


@command("incrbyfloat", 3, WRITE | DENYOOM | FAST, KEY1, "string")
def incrbyfloat(ctx: Context, argv: list[bytes]):
    """INCRBYFLOAT key increment

    Complexity: O(1). Reply: the new value (bulk), computed in long double as Redis does.
    Logged as SET key <new value> KEEPTTL, so replay does not depend on float arithmetic.
    """
    key = argv[1]
    db = ctx.db
    old = db.lookup(key, ctx.now)
    if old is not None and type(old) is not bytes:
        raise wrongtype()
    try:
        new = _incrbyfloat(old, argv[2])
    except ValueError:
        raise CommandError(NOT_FLOAT) from None
    except OverflowError:
        raise CommandError("ERR increment would produce NaN or Infinity") from None
    if old is None:
        db.add(key, new)
    else:
        db.data[key] = new  # keeps the TTL
    db.mark_encoding(key, new, b"embstr" if len(new) <= EMBSTR_MAX else b"raw")
    ctx.ks.dirty += 1
    ctx.notify("$", "incrbyfloat", key)
    ctx.effects = [[b"SET", key, new, b"KEEPTTL"]]
    return new


# The bit commands (bitmaps.py, bitfield.py) and LCS (lcs.py) live in modules of their own;
# importing them here registers them with the rest of the family, so commands/__init__ needs no
# change.
from . import bitfield, bitmaps, lcs  # noqa: E402,F401
