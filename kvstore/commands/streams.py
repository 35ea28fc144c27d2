"""Stream commands (Redis 7.0 t_stream.c): XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD
XREADGROUP XGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO. The type is engine/stream.py.

Arguments are checked in Redis's order, with its texts. IDs parse as Redis's
streamGenericParseIDOrReply: "ms-seq" or "ms" (the missing part is 0 for a start, the
maximum for an end), "-" and "+" where a range is meant, each part as string2ull reads it
(so strtoull's leading blanks, "+" and wrap-around of "-" are taken too).

Effects (the AOF and replicas): XADD logs its actual ID, and an approximate (~) trim the exact
trim that reproduces it, as Redis rewrites them; XREADGROUP, XCLAIM and XAUTOCLAIM log an
XCLAIM ... FORCE JUSTID per entry they hand over, and the group's new last ID as XGROUP SETID,
as Redis propagates them (streamPropagateXCLAIM, streamPropagateGroupID).

Blocking XREAD / XREADGROUP go through the server's key waiters (server/blocking.py): the
waiter is served when a write touches one of its keys and the stream has an entry past the ID
it waits for (for a group, past the group's last delivered ID, re-read at each wake-up).
"""

from __future__ import annotations

from itertools import islice

from ..engine.stream import ID_MAX, UNKNOWN, Group, Nack, Stream, id_text
from ..errors import NO_SUCH_KEY, SYNTAX, CommandError, c_text, subcommand_syntax, wrong_args
from ..replies import NULL_ARRAY, OK, Error, Status
from .args import to_int
from .table import (
    BLOCKING, DENYOOM, FAST, LOADING, READONLY, STALE, WRITE, Context, KeySpec, command,
    container, no_notify,
)

KEY1 = KeySpec(1, 1, 1)
KEY2 = KeySpec(2, 2, 1)

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
_SPACES = b" \t\n\v\f\r"
_ULLONG_MAX = (1 << 64) - 1
_INT64_MAX = (1 << 63) - 1
# Redis's XREAD_BLOCKED_DEFAULT_COUNT: what a blocked XREAD without COUNT gets at most.
_BLOCKED_DEFAULT_COUNT = 1000


# -- IDs --------------------------------------------------------------------------------------

def _string2ull(s: bytes) -> int | None:
    """Redis's string2ull: string2ll's strict form, else strtoull's lenient one."""
    if s and (s[0] in b"123456789" or s == b"0" or (s[0] == 45 and s[1:2].isdigit())):
        try:
            n = int(s)
        except ValueError:
            n = None
        if n is not None and b"%d" % n == s and -(1 << 63) <= n <= _INT64_MAX:
            return None if n < 0 else n
    t = s.lstrip(_SPACES)
    negative = t[:1] == b"-"
    if t[:1] in (b"-", b"+"):
        t = t[1:]
    if not t or not t.isdigit() or not s:
        return None
    n = int(t)
    if n > _ULLONG_MAX:
        return None
    return (-n) & _ULLONG_MAX if negative else n


def parse_id(arg: bytes, missing_seq: int = 0, strict: bool = False,
             seq_star: bool = False) -> tuple[int, bool]:
    """(id, seq_given): streamGenericParseIDOrReply. `strict` refuses "-" and "+";
    `seq_star` (XADD) takes "ms-*", for which seq_given is False."""
    if len(arg) > 127:
        raise CommandError(INVALID_ID)
    buf = arg.split(b"\0", 1)[0]  # (Redis reads it as a C string)
    if buf == b"-" or buf == b"+":
        if strict:
            raise CommandError(INVALID_ID)
        return (0 if buf == b"-" else ID_MAX), True
    ms_part, dash, seq_part = buf.partition(b"-")
    ms = _string2ull(ms_part)
    if ms is None:
        raise CommandError(INVALID_ID)
    if not dash:
        return ms << 64 | missing_seq, True
    if seq_star and seq_part == b"*":
        return ms << 64, False
    seq = _string2ull(seq_part)
    if seq is None:
        raise CommandError(INVALID_ID)
    return ms << 64 | seq, True


def strict_id(arg: bytes, missing_seq: int = 0) -> int:
    return parse_id(arg, missing_seq, strict=True)[0]


def _interval_start(arg: bytes) -> int:
    """A range's start: "(" excludes it (streamParseIntervalIDOrReply + streamIncrID)."""
    if len(arg) > 1 and arg[:1] == b"(":
        i = strict_id(arg[1:])
        if i == ID_MAX:
            raise CommandError("ERR invalid start ID for the interval")
        return i + 1
    return parse_id(arg)[0]


def _interval_end(arg: bytes) -> int:
    if len(arg) > 1 and arg[:1] == b"(":
        i = strict_id(arg[1:], _ULLONG_MAX)
        if i == 0:
            raise CommandError("ERR invalid end ID for the interval")
        return i - 1
    return parse_id(arg, _ULLONG_MAX)[0]


def entry_reply(i: int, flat: tuple) -> list:
    return [id_text(i), list(flat)]


def _entries_reply(entries: list) -> list:
    return [entry_reply(i, flat) for i, flat in entries]


# -- lookups ----------------------------------------------------------------------------------

def _stream_read(ctx: Context, key: bytes) -> Stream | None:
    return ctx.read_typed(key, Stream)  # type: ignore[return-value]


def _stream_write(ctx: Context, key: bytes) -> Stream | None:
    return ctx.db.lookup_typed(key, ctx.now, Stream)  # type: ignore[return-value]


def _clock(ctx: Context) -> int:
    return ctx.ks.clock()


def _nogroup(key: bytes, group: bytes) -> CommandError:
    return CommandError(f"NOGROUP No such key '{_c(key)}' or consumer group '{_c(group)}'")


def _no_group_for(key: bytes, group: bytes) -> CommandError:
    """XGROUP's and XINFO CONSUMERS' text (the key exists)."""
    return CommandError(f"NOGROUP No such consumer group '{_c(group)}' for key name "
                        f"'{_c(key)}'")


_c = c_text


def _untouched(ctx: Context, argv: list[bytes]) -> None:
    """A write Redis does not signal (no signalModifiedKey): WATCH, client-side caching and
    blocked readers do not see it. XSETID, the consumer-group commands, XACK, XCLAIM."""
    ctx.touched = (argv, [])


def _wake_readers(ctx: Context, key: bytes) -> None:
    """signalKeyAsReady alone (XGROUP DESTROY): readers blocked on the key look again, and a
    group reader finds its group gone, though the write touches nothing else."""
    client = ctx.client
    if client is not None and key in ctx.db.blocked:
        client.server.keywatch.ready.append((ctx.db, key))


# -- XADD / XTRIM -----------------------------------------------------------------------------

class _Trim:
    __slots__ = ("maxlen", "minid", "approx", "at", "limit", "limit_given", "nomkstream", "id",
                 "seq_given", "id_given")

    def __init__(self) -> None:
        self.maxlen: int | None = None
        self.minid: int | None = None
        self.approx = False
        self.at = 0  # where the threshold is in the argv
        self.limit = 0
        self.limit_given = False
        self.nomkstream = False
        self.id = 0
        self.seq_given = True
        self.id_given = False

    @property
    def strategy(self) -> bool:
        return self.maxlen is not None or self.minid is not None


def _parse_add_or_trim(ctx: Context, argv: list[bytes], xadd: bool) -> tuple[_Trim, int]:
    """streamParseAddOrTrimArgsOrReply: the options and the ID's position (XADD)."""
    t = _Trim()
    i = 2
    argc = len(argv)
    while i < argc:
        more = argc - 1 - i
        opt = argv[i].lower()
        if xadd and argv[i] == b"*":
            break
        if opt in (b"maxlen", b"minid") and more:
            if t.strategy:
                raise CommandError("ERR syntax error, MAXLEN and MINID options at the same "
                                   "time are not compatible")
            t.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt == b"~":
                t.approx = True
                i += 1
            elif more >= 2 and nxt == b"=":
                i += 1
            t.at = i + 1
            if opt == b"maxlen":
                maxlen = to_int(argv[i + 1])
                if maxlen < 0:
                    raise CommandError("ERR The MAXLEN argument must be >= 0.")
                t.maxlen = maxlen
            else:
                t.minid = strict_id(argv[i + 1])
            i += 2
        elif opt == b"limit" and more:
            limit = to_int(argv[i + 1])
            if limit < 0:
                raise CommandError("ERR The LIMIT argument must be >= 0.")
            t.limit = limit
            t.limit_given = True
            i += 2
        elif xadd and opt == b"nomkstream":
            t.nomkstream = True
            i += 1
        elif xadd:
            t.id, t.seq_given = parse_id(argv[i], strict=True, seq_star=True)
            t.id_given = True
            break
        else:
            raise CommandError(SYNTAX)
    if t.limit and not t.strategy:
        raise CommandError("ERR syntax error, LIMIT cannot be used without specifying a "
                           "trimming strategy")
    if not xadd and not t.strategy:
        raise CommandError("ERR syntax error, XTRIM must be called with a trimming strategy")
    if ctx.obeyed:
        # A master or an AOF: its ~ was rewritten into the exact trim it did, LIMIT kept
        t.limit = 0
    elif t.limit_given:
        if not t.approx:
            raise CommandError("ERR syntax error, LIMIT cannot be used without the special ~ "
                               "option")
    elif t.approx:
        limit = 100 * ctx.ks.limits.stream_node_max_entries
        t.limit = limit if 0 < limit <= 10000 else 10000
    else:
        t.limit = 0
    return t, i


_PLAIN = _Trim()  # XADD key * ...: never changed
_PLAIN.id_given = False


def _exact_trim(argv: list[bytes], s: Stream, t: _Trim) -> list[bytes]:
    """`argv` with its approximate trim made the exact one it did, as Redis propagates it
    (streamRewriteApproxSpecifier, streamRewriteTrimArgument): `~` becomes `=`, the threshold
    the length or first ID left; LIMIT stays, which a master's or AOF's line may hold."""
    effect = list(argv)
    effect[t.at - 1] = b"="
    if t.maxlen is not None:
        effect[t.at] = b"%d" % s.length
    else:
        effect[t.at] = id_text(s.nodes[0].ids[0] if s.nodes else ID_MAX)
    return effect


def _trim(s: Stream, t: _Trim) -> int:
    return s.trim(t.maxlen, t.minid, t.approx, t.limit)


@command("xadd", -5, WRITE | DENYOOM | FAST, KEY1, "stream")
def xadd(ctx: Context, argv: list[bytes]):
    """XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
    [field value ...]

    Complexity: O(1) to add, O(N) for the entries trimmed. Reply: the new entry's ID, or a
    null with NOMKSTREAM and no stream.
    """
    if argv[2] == b"*":  # the common form: no option to parse
        t, idpos = _PLAIN, 2
    else:
        t, idpos = _parse_add_or_trim(ctx, argv, True)
    fields = argv[idpos + 1:]
    if len(fields) < 2 or len(fields) % 2:
        raise wrong_args("xadd")
    if t.id_given and t.seq_given and t.id == 0:
        raise CommandError("ERR The ID specified in XADD must be greater than 0-0")
    key = argv[1]
    db = ctx.db
    s = db.lookup_typed(key, ctx.now, Stream)
    if s is None:
        if t.nomkstream:
            return None
        s = Stream()
        db.add(key, s)
    last = s.last_id
    if last == ID_MAX:
        raise CommandError("ERR The stream has exhausted the last possible ID, unable to add "
                           "more items")
    if not t.id_given:
        ms = ctx.ks.clock()
        new = ms << 64 if ms > last >> 64 else last + 1
    elif not t.seq_given:
        if t.id >> 64 == last >> 64:
            if last & _ULLONG_MAX == _ULLONG_MAX:
                # Redis 7.0's streamAppendItem fails here without setting errno (7.2 sets
                # EDOM), so xaddCommand gives its other error
                raise CommandError("ERR Elements are too large to be stored")
            else:
                new = last + 1
        else:
            new = t.id
    else:
        new = t.id
    if new <= last:
        raise CommandError("ERR The ID specified in XADD is equal or smaller than the target "
                           "stream top item")
    flat = tuple(fields)
    size = sum(map(len, flat))
    if size > 1 << 30:
        raise CommandError("ERR Elements are too large to be stored")
    limits = ctx.ks.limits
    s.append(new, flat, size, limits.stream_node_max_bytes, limits.stream_node_max_entries)
    ctx.ks.dirty += 1
    if ctx.notify is not no_notify:
        ctx.notify("t", "xadd", key)
    new_text = id_text(new)
    # Propagated as Redis does: as sent, but for an approximate trim made exact and an ID
    # not given whole made the one taken.
    if t is _PLAIN:  # (XADD key * ...: the commonest, without the checks below)
        ctx.effects = [[argv[0], key, new_text, *fields]]
        return new_text
    effect = argv
    if t.strategy:
        if _trim(s, t):
            ctx.notify("t", "xtrim", key)
        if t.approx:
            effect = _exact_trim(argv, s, t)
    if not (t.id_given and t.seq_given):
        if effect is argv:
            effect = list(argv)
        effect[idpos] = new_text
    ctx.effects = None if effect is argv else [effect]
    return new_text


@command("xtrim", -4, WRITE, KEY1, "stream")
def xtrim(ctx: Context, argv: list[bytes]):
    """XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]

    Complexity: O(N) entries removed. Reply: integer, the number of entries removed.
    """
    t, _ = _parse_add_or_trim(ctx, argv, False)
    key = argv[1]
    s = _stream_write(ctx, key)
    if s is None:
        return 0
    removed = _trim(s, t)
    if removed:
        ctx.notify("t", "xtrim", key)
        ctx.ks.dirty += removed
        if t.approx:
            ctx.effects = [_exact_trim(argv, s, t)]
    return removed


# -- reads ------------------------------------------------------------------------------------

def _range(ctx: Context, argv: list[bytes], rev: bool):
    start_arg, end_arg = (argv[3], argv[2]) if rev else (argv[2], argv[3])
    start = _interval_start(start_arg)
    end = _interval_end(end_arg)
    count = -1
    j = 4
    while j < len(argv):
        if argv[j].lower() == b"count" and j + 1 < len(argv):
            count = max(to_int(argv[j + 1]), 0)
            j += 2
        else:
            raise CommandError(SYNTAX)
    s = _stream_read(ctx, argv[1])
    if s is None:
        return []
    if count == 0:
        return NULL_ARRAY
    return _entries_reply(s.range(start, end, max(count, 0), rev))


@command("xrange", -4, READONLY, KEY1, "stream")
def xrange(ctx: Context, argv: list[bytes]):
    """XRANGE key start end [COUNT count]

    Complexity: O(log N + M) entries returned. Reply: array of [id, [field, value, ...]].
    """
    return _range(ctx, argv, False)


@command("xrevrange", -4, READONLY, KEY1, "stream")
def xrevrange(ctx: Context, argv: list[bytes]):
    """XREVRANGE key end start [COUNT count]

    Complexity: O(log N + M) entries returned. Reply: array of [id, [field, value, ...]].
    """
    return _range(ctx, argv, True)


@command("xlen", 2, READONLY | FAST, KEY1, "stream")
def xlen(ctx: Context, argv: list[bytes]):
    """XLEN key

    Complexity: O(1). Reply: integer, the number of entries.
    """
    s = _stream_read(ctx, argv[1])
    return 0 if s is None else s.length


# -- XDEL / XSETID ----------------------------------------------------------------------------

@command("xdel", -3, WRITE | FAST, KEY1, "stream")
def xdel(ctx: Context, argv: list[bytes]):
    """XDEL key id [id ...]

    Complexity: O(log N) per ID. Reply: integer, the number of entries deleted.
    """
    key = argv[1]
    s = _stream_write(ctx, key)
    if s is None:
        return 0
    ids = [strict_id(a) for a in argv[2:]]
    deleted = sum(1 for i in ids if s.delete(i))
    if deleted:
        ctx.notify("t", "xdel", key)
        ctx.ks.dirty += deleted
    return deleted


@command("xsetid", -3, WRITE | DENYOOM | FAST, KEY1, "stream")
def xsetid(ctx: Context, argv: list[bytes]):
    """XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]

    Complexity: O(1). Reply: OK.
    """
    new = strict_id(argv[2])
    entries_added = -1
    max_deleted = 0
    i = 3
    while i < len(argv):
        more = len(argv) - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and more:
            entries_added = to_int(argv[i + 1])
            if entries_added < 0:
                raise CommandError("ERR entries_added must be positive")
        elif opt == b"maxdeletedid" and more:
            max_deleted = strict_id(argv[i + 1])
            if new < max_deleted:
                raise CommandError("ERR The ID specified in XSETID is smaller than the provided "
                                   "max_deleted_entry_id")
        else:
            raise CommandError(SYNTAX)
        i += 2
    key = argv[1]
    s = _stream_write(ctx, key)
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    if s.length:
        if new < s.last_entry()[0]:
            raise CommandError("ERR The ID specified in XSETID is smaller than the target "
                               "stream top item")
        if entries_added != -1 and s.length > entries_added:
            raise CommandError("ERR The entries_added specified in XSETID is smaller than the "
                               "target stream length")
    s.last_id = new
    if entries_added != -1:
        s.entries_added = entries_added
    if max_deleted:
        s.max_deleted = max_deleted
    _untouched(ctx, argv)
    ctx.ks.dirty += 1
    ctx.notify("t", "xsetid", key)
    return OK


# -- consumer groups: delivering --------------------------------------------------------------

def _xclaim_effect(key: bytes, group_name: bytes, group: Group, i: int, nack: Nack) -> list:
    """streamPropagateXCLAIM: the NACK as it now is, forced into being on a replica."""
    consumer = nack.consumer.name if nack.consumer is not None else b""
    return [b"XCLAIM", key, group_name, consumer, b"0", id_text(i),
            b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", id_text(group.last_id)]


def _setid_effect(key: bytes, group_name: bytes, group: Group) -> list:
    """streamPropagateGroupID."""
    return [b"XGROUP", b"SETID", key, group_name, id_text(group.last_id),
            b"ENTRIESREAD", b"%d" % group.entries_read]


def _consumer_for(ctx: Context, key: bytes, group_name: bytes, group: Group, name: bytes,
                  now: int, effects: list):
    """The named consumer, created (notified, logged) when new: streamCreateConsumer."""
    consumer = group.consumer(name, now)
    if consumer is None:
        consumer = group.add_consumer(name, now)
        ctx.ks.dirty += 1
        ctx.notify("t", "xgroup-createconsumer", key)
        effects.append([b"XGROUP", b"CREATECONSUMER", key, group_name, name])
    return consumer


def _deliver(ctx: Context, key: bytes, s: Stream, after: int, count: int, group: Group | None,
             group_name: bytes, consumer, noack: bool, effects: list) -> list:
    """streamReplyWithRange from `after` (exclusive): the entries, and for a group the PEL
    entries they create and the group's new last ID."""
    if after == ID_MAX:
        return []
    entries = s.range(after + 1, ID_MAX, count)
    if group is None:
        return _entries_reply(entries)
    now = _clock(ctx)
    moved = False
    for i, _ in entries:
        if i > group.last_id:
            s.delivered(group, i)
            moved = True
        if not noack:
            nack = group.pel.get(i)
            if nack is None:
                nack = group.pel[i] = Nack(now, consumer)
            else:
                if nack.consumer is not None:
                    nack.consumer.pel.pop(i, None)
                nack.consumer = consumer
                nack.delivery_time = now
                nack.delivery_count = 1
            consumer.pel[i] = nack
            effects.append(_xclaim_effect(key, group_name, group, i, nack))
    if moved:
        effects.append(_setid_effect(key, group_name, group))
    return _entries_reply(entries)


def _deliver_history(ctx: Context, key: bytes, s: Stream, after: int, count: int, group: Group,
                     group_name: bytes, consumer, effects: list) -> list:
    """streamReplyWithRangeFromConsumerPEL: the consumer's pending entries past `after`; an
    entry deleted since comes as [id, null]."""
    out: list = []
    if after == ID_MAX:
        return out
    now = _clock(ctx)
    pel = consumer.pel
    for i in pel.irange(after + 1):
        if count and len(out) >= count:
            break
        flat = s.get(i)
        if flat is None:
            out.append([id_text(i), NULL_ARRAY])
            continue
        nack = pel[i]
        nack.delivery_time = now
        nack.delivery_count += 1
        out.append([id_text(i), list(flat)])
        effects.append(_xclaim_effect(key, group_name, group, i, nack))
    return out


def _parse_xread(ctx: Context, argv: list[bytes], group_read: bool):
    """xreadCommand's argument loop: (timeout or None, count, keys, id args, group, consumer,
    noack)."""
    timeout = None
    count = 0
    streams_at = 0
    group_name = consumer_name = None
    noack = False
    i = 1
    argc = len(argv)
    while i < argc:
        more = argc - i - 1
        opt = argv[i].lower()
        if opt == b"block" and more:
            if ctx.in_script:
                raise CommandError(f"ERR {_c(argv[0])} command is not allowed with BLOCK "
                                   "option from scripts")
            i += 1
            timeout = _block_timeout(argv[i])
        elif opt == b"count" and more:
            i += 1
            count = max(to_int(argv[i]), 0)
        elif opt == b"streams" and more:
            streams_at = i + 1
            n = argc - streams_at
            if n % 2:
                raise CommandError("ERR Unbalanced XREAD list of streams: for each stream key "
                                   "an ID or '$' must be specified.")  # (XREADGROUP's too)
            break
        elif opt == b"group" and more >= 2:
            if not group_read:
                raise CommandError("ERR The GROUP option is only supported by XREADGROUP. You "
                                   "called XREAD instead.")
            group_name, consumer_name = argv[i + 1], argv[i + 2]
            i += 2
        elif opt == b"noack":
            if not group_read:
                raise CommandError("ERR The NOACK option is only supported by XREADGROUP. You "
                                   "called XREAD instead.")
            noack = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if not streams_at:
        raise CommandError(SYNTAX)
    if group_read and group_name is None:
        raise CommandError("ERR Missing GROUP option for XREADGROUP")
    n = (argc - streams_at) // 2
    return (timeout, count, argv[streams_at:streams_at + n], argv[streams_at + n:], group_name,
            consumer_name, noack)


def _block_timeout(arg: bytes) -> int:
    """BLOCK's milliseconds (getTimeoutFromObjectOrReply, UNIT_MILLISECONDS)."""
    ms = to_int(arg, "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    return ms


def _xread(ctx: Context, argv: list[bytes], group_read: bool):
    timeout, count, keys, id_args, group_name, consumer_name, noack = \
        _parse_xread(ctx, argv, group_read)
    afters: list[int] = []
    for key, arg in zip(keys, id_args):
        s = _stream_read(ctx, key)
        if group_name is not None and (s is None or group_name not in s.groups):
            raise CommandError(f"NOGROUP No such key '{_c(key)}' or consumer group "
                               f"'{_c(group_name)}' in XREADGROUP with GROUP option")
        if arg == b"$":
            if group_read:
                raise CommandError("ERR The $ ID is meaningless in the context of XREADGROUP: "
                                   "you want to read the history of this consumer by "
                                   "specifying a proper ID, or use the > ID to get new "
                                   "messages. The $ ID would just return an empty result set.")
            afters.append(s.last_id if s is not None else 0)
        elif arg == b">":
            if not group_read:
                raise CommandError("ERR The > ID can be specified only when calling XREADGROUP "
                                   "using the GROUP <group> <consumer> option.")
            afters.append(ID_MAX)
        else:
            afters.append(strict_id(arg))
    reply = _serve_xread(ctx, keys, afters, count, group_name, consumer_name, noack)
    if group_read:
        _untouched(ctx, argv)
    if reply is not None:
        return reply
    if timeout is None:
        return NULL_ARRAY
    client = ctx.client
    if client is None or ctx.in_multi:
        return NULL_ARRAY
    wanted: dict[bytes, int] = {}
    for key, after in zip(keys, afters):
        wanted.setdefault(key, after)  # a key named twice waits from its first ID (blockForKeys)
    blocked_count = count or _BLOCKED_DEFAULT_COUNT

    def serve(c: Context, key: bytes):  # (what a serve signals: server/blocking.py's loop)
        return _serve_blocked(c, key, wanted, blocked_count, group_name, consumer_name, noack)

    # a group reader whose key goes is told so (Redis 7.0.15); a plain reader waits on
    gone = None if group_name is None else Error("UNBLOCKED the stream key no longer exists")
    client.server.keywatch.block(ctx, list(keys), timeout, Stream, serve, argv, gone)
    return None


def _serve_xread(ctx: Context, keys, afters, count: int, group_name, consumer_name,
                 noack: bool):
    """Serve what can be served now: the reply, or None when there is nothing."""
    out = []
    effects: list = []
    for key, after in zip(keys, afters):
        s = _stream_read(ctx, key)
        if s is None:
            continue
        history = False
        serve = False
        consumer = None
        group = None
        if group_name is not None:
            group = s.groups[group_name]
            if after != ID_MAX:
                serve = history = True
            elif s.length and s.last_entry()[0] > group.last_id:
                serve = True
                after = group.last_id
        elif s.length and s.last_entry()[0] > after:
            serve = True
        if not serve:
            continue
        if group is not None:  # (only a consumer served is created, even when blocking)
            consumer = _consumer_for(ctx, key, group_name, group, consumer_name, _clock(ctx),
                                     effects)
        if history:
            entries = _deliver_history(ctx, key, s, after, count, group, group_name, consumer,
                                       effects)
        else:
            entries = _deliver(ctx, key, s, after, count, group, group_name, consumer, noack,
                               effects)
        out.append((key, entries))
    if group_name is not None and out:
        # Redis counts each stream it serves a group from as a change (xreadCommand's
        # server.dirty++: at least the consumer's seen-time, which an RDB keeps), even an empty
        # read of the history, and propagates only what the read did: the effects, maybe none.
        # (A read of the history changes delivery counts only: logged as XCLAIMs.)
        ctx.ks.dirty += len(out)
        ctx.effects = effects
    if not out:
        return None
    if ctx.resp == 3:
        return _streams_map(out)
    return [[k, e] for k, e in out]


class _NamedAgain(bytes):
    """A stream key named again in one XREAD (STREAMS s s 0 5): a map key of its own, equal
    to nothing else, as Redis's RESP3 map repeats the key where a dict would keep one."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__


def _streams_map(out: list) -> dict:
    """The RESP3 map of XREAD's [(key, entries), ...], a key named twice kept twice."""
    reply: dict = {}
    for key, entries in out:
        reply[_NamedAgain(key) if key in reply else key] = entries
    return reply


def _serve_blocked(ctx: Context, key: bytes, wanted, count: int, group_name, consumer_name,
                   noack: bool):
    """A blocked XREAD / XREADGROUP woken by a write to `key` (serveClientsBlockedOnStreamKey):
    its reply, or None to stay blocked."""
    s = ctx.db.lookup(key, ctx.now)
    if type(s) is not Stream:
        return None
    after = wanted[key]
    effects: list = []
    group = None
    consumer = None
    if group_name is not None:
        group = s.groups.get(group_name)
        if group is None:
            raise CommandError("NOGROUP the consumer group this client was blocked on no "
                               "longer exists")
        after = group.last_id
    # Entries past the reader's ID, not only a last ID past it: XSETID raises that alone, and a
    # write that woke the key (XTRIM, XSETID) must not serve an empty reply. Redis wakes stream
    # readers only by XADD, where both hold.
    if not (s.length and s.last_entry()[0] > after):
        return None
    if group is not None:
        consumer = _consumer_for(ctx, key, group_name, group, consumer_name, _clock(ctx),
                                 effects)
    entries = _deliver(ctx, key, s, after, count, group, group_name, consumer, noack, effects)
    if effects:
        ctx.ks.dirty += 1
        ctx.effects = effects
    return {key: entries} if ctx.resp == 3 else [[key, entries]]


def _xread_keys(argv: list[bytes]) -> list[bytes]:
    """The keys after STREAMS: the first half of what follows it (xreadGetKeys)."""
    for i in range(1, len(argv)):
        if argv[i].lower() == b"streams":
            rest = argv[i + 1:]
            return rest[:len(rest) // 2]
    return []


@command("xread", -4, READONLY | BLOCKING, KeySpec(), "stream", getkeys=_xread_keys)
def xread(ctx: Context, argv: list[bytes]):
    """XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]

    Complexity: O(log N + M) per stream. Reply: the entries past each ID, per stream (a map
    in RESP3), or a null array when there are none.
    """
    return _xread(ctx, argv, False)


@command("xreadgroup", -7, WRITE | BLOCKING, KeySpec(), "stream", getkeys=_xread_keys)
def xreadgroup(ctx: Context, argv: list[bytes]):
    """XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
    [key ...] id [id ...]

    Complexity: O(log N + M) per stream. Reply: as XREAD; each entry delivered joins the
    group's pending entries list (unless NOACK).
    """
    return _xread(ctx, argv, True)


# -- XGROUP -----------------------------------------------------------------------------------

container("xgroup", -2, group="stream")


def _xgroup_target(ctx: Context, argv: list[bytes], mkstream: bool = False,
                   need_group: bool = True) -> tuple[Stream | None, Group | None]:
    key, group_name = argv[2], argv[3]
    s = _stream_write(ctx, key)
    if not mkstream and s is None:
        raise CommandError("ERR The XGROUP subcommand requires the key to exist. Note that for "
                           "CREATE you may want to use the MKSTREAM option to create an empty "
                           "stream automatically.")
    group = s.groups.get(group_name) if s is not None else None
    if need_group and group is None:
        raise _no_group_for(key, group_name)
    return s, group


def _entries_read_arg(arg: bytes) -> int:
    n = to_int(arg)
    if n < 0 and n != UNKNOWN:
        raise CommandError("ERR value for ENTRIESREAD must be positive or -1")
    return n


@command("xgroup|create", -5, WRITE | DENYOOM, KEY2, "stream")
def xgroup_create(ctx: Context, argv: list[bytes]):
    """XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]

    Complexity: O(1). Reply: OK.
    """
    mkstream = False
    entries_read = UNKNOWN
    i = 5
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"mkstream":
            mkstream = True
            i += 1
        elif opt == b"entriesread" and i + 1 < len(argv):
            entries_read = _entries_read_arg(argv[i + 1])
            i += 2
        else:
            raise subcommand_syntax(argv)
    s, group = _xgroup_target(ctx, argv, mkstream, need_group=False)
    if len(argv) > 8:
        raise subcommand_syntax(argv)
    key, group_name = argv[2], argv[3]
    if argv[4] == b"$":
        last = s.last_id if s is not None else 0
    else:
        last = strict_id(argv[4])
    if s is None:  # (MKSTREAM: Redis signals the new key, and only then)
        s = Stream()
        ctx.db.add(key, s)
    else:
        _untouched(ctx, argv)
    if group is not None:
        raise CommandError("BUSYGROUP Consumer Group name already exists")
    s.groups[group_name] = Group(last, entries_read)
    ctx.ks.dirty += 1
    ctx.notify("t", "xgroup-create", key)
    ctx.effects = [[b"XGROUP", b"CREATE", key, group_name, id_text(last)]
                   + ([b"MKSTREAM"] if mkstream else [])
                   + [b"ENTRIESREAD", b"%d" % entries_read]]
    return OK


@command("xgroup|setid", -5, WRITE, KEY2, "stream")
def xgroup_setid(ctx: Context, argv: list[bytes]):
    """XGROUP SETID key group id|$ [ENTRIESREAD entries-read]

    Complexity: O(1). Reply: OK.
    """
    entries_read = UNKNOWN
    i = 5
    while i < len(argv):  # (every option is parsed before the key and the arity are checked)
        if argv[i].lower() == b"entriesread" and i + 1 < len(argv):
            entries_read = _entries_read_arg(argv[i + 1])
            i += 2
        else:
            raise subcommand_syntax(argv)
    s, group = _xgroup_target(ctx, argv)
    if len(argv) not in (5, 7):
        raise subcommand_syntax(argv)
    last = s.last_id if argv[4] == b"$" else parse_id(argv[4])[0]  # type: ignore[union-attr]
    group.last_id = last  # type: ignore[union-attr]
    group.entries_read = entries_read  # type: ignore[union-attr]
    _untouched(ctx, argv)
    ctx.ks.dirty += 1
    ctx.notify("t", "xgroup-setid", argv[2])
    ctx.effects = [[b"XGROUP", b"SETID", argv[2], argv[3], id_text(last),
                    b"ENTRIESREAD", b"%d" % entries_read]]
    return OK


@command("xgroup|destroy", 4, WRITE, KEY2, "stream")
def xgroup_destroy(ctx: Context, argv: list[bytes]):
    """XGROUP DESTROY key group

    Complexity: O(N) pending entries. Reply: integer, 1 if the group was destroyed, else 0.
    """
    s, group = _xgroup_target(ctx, argv, need_group=False)
    if group is None:
        return 0
    del s.groups[argv[3]]  # type: ignore[union-attr]
    _untouched(ctx, argv)
    _wake_readers(ctx, argv[2])
    ctx.ks.dirty += 1
    ctx.notify("t", "xgroup-destroy", argv[2])
    return 1


@command("xgroup|createconsumer", 5, WRITE | DENYOOM, KEY2, "stream")
def xgroup_createconsumer(ctx: Context, argv: list[bytes]):
    """XGROUP CREATECONSUMER key group consumer

    Complexity: O(1). Reply: integer, 1 if the consumer was created, 0 if it existed.
    """
    _, group = _xgroup_target(ctx, argv)
    if argv[4] in group.consumers:  # type: ignore[union-attr]
        return 0
    group.add_consumer(argv[4], _clock(ctx))  # type: ignore[union-attr]
    _untouched(ctx, argv)
    ctx.ks.dirty += 1
    ctx.notify("t", "xgroup-createconsumer", argv[2])
    return 1


@command("xgroup|delconsumer", 5, WRITE, KEY2, "stream")
def xgroup_delconsumer(ctx: Context, argv: list[bytes]):
    """XGROUP DELCONSUMER key group consumer

    Complexity: O(N) of its pending entries. Reply: integer, the pending entries it had.
    """
    _, group = _xgroup_target(ctx, argv)
    consumer = group.consumers.pop(argv[4], None)  # type: ignore[union-attr]
    if consumer is None:
        return 0
    for i in consumer.pel:
        group.pel.pop(i, None)  # type: ignore[union-attr]
    _untouched(ctx, argv)
    ctx.ks.dirty += 1
    ctx.notify("t", "xgroup-delconsumer", argv[2])
    return len(consumer.pel)


@command("xgroup|help", 2, LOADING | STALE, group="stream")
def xgroup_help(ctx: Context, argv: list[bytes]):
    """XGROUP HELP"""
    return [Status(x) for x in (
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.")]


# -- XACK / XPENDING / XCLAIM / XAUTOCLAIM ----------------------------------------------------

@command("xack", -4, WRITE | FAST, KEY1, "stream")
def xack(ctx: Context, argv: list[bytes]):
    """XACK key group id [id ...]

    Complexity: O(log N) per ID. Reply: integer, the number of entries acknowledged.
    """
    s = _stream_read(ctx, argv[1])
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        return 0
    ids = [strict_id(a) for a in argv[3:]]
    acked = 0
    for i in ids:
        if group.ack(i):
            acked += 1
    _untouched(ctx, argv)
    ctx.ks.dirty += acked
    return acked


@command("xpending", -3, READONLY, KEY1, "stream")
def xpending(ctx: Context, argv: list[bytes]):
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]

    Complexity: O(N) with N the entries returned (the consumers for the summary). Reply: the
    summary [count, first, last, [[consumer, count], ...]], or [[id, consumer, idle ms,
    deliveries], ...].
    """
    argc = len(argv)
    if argc != 3 and not 6 <= argc <= 9:
        raise CommandError(SYNTAX)
    min_idle = 0
    consumer_name = None
    if argc >= 6:
        at = 3
        if argv[3].lower() == b"idle":
            min_idle = to_int(argv[4])
            if argc < 8:
                raise CommandError(SYNTAX)
            at = 5
        count = max(to_int(argv[at + 2]), 0)
        start = _interval_start(argv[at])
        end = _interval_end(argv[at + 1])
        if at + 3 < argc:
            consumer_name = argv[at + 3]
    s = _stream_read(ctx, argv[1])
    group = s.groups.get(argv[2]) if s is not None else None
    if group is None:
        raise _nogroup(argv[1], argv[2])
    if argc == 3:
        pel = group.pel
        if not pel:
            return [0, None, None, NULL_ARRAY]
        owners = [[name, b"%d" % len(c.pel)] for name, c in sorted(group.consumers.items())
                  if c.pel]
        return [len(pel), id_text(pel.keys()[0]), id_text(pel.keys()[-1]), owners]
    if consumer_name is not None:
        consumer = group.consumer(consumer_name, 0, refresh=False)
        if consumer is None:
            return []
        pel = consumer.pel
    else:
        pel = group.pel
    now = _clock(ctx)
    out = []
    if count and start <= end:
        for i in pel.irange(start, end):
            nack = pel[i]
            if min_idle and now - nack.delivery_time < min_idle:
                continue
            out.append([id_text(i), nack.consumer.name, max(now - nack.delivery_time, 0),
                        nack.delivery_count])
            if len(out) == count:
                break
    return out


def _claim(key: bytes, group_name: bytes, group: Group, i: int, nack: Nack, consumer,
           deliverytime: int, retrycount: int, justid: bool, effects: list) -> None:
    """Hand a pending entry to `consumer` (XCLAIM's and XAUTOCLAIM's common part)."""
    if nack.consumer is not consumer:
        if nack.consumer is not None:
            nack.consumer.pel.pop(i, None)
        consumer.pel[i] = nack
        nack.consumer = consumer
    nack.delivery_time = deliverytime
    if retrycount >= 0:
        nack.delivery_count = retrycount
    elif not justid:
        nack.delivery_count += 1
    effects.append(_xclaim_effect(key, group_name, group, i, nack))


def _claimed_reply(s: Stream, i: int, justid: bool):
    if justid:
        return id_text(i)
    flat = s.get(i)
    return None if flat is None else [id_text(i), list(flat)]


def _drop_missing(key: bytes, group_name: bytes, group: Group, i: int, nack: Nack,
                  effects: list) -> None:
    """A pending entry whose stream entry is gone leaves the PEL (and is logged so)."""
    effects.append(_xclaim_effect(key, group_name, group, i, nack))
    group.ack(i)


@command("xclaim", -6, WRITE | FAST, KEY1, "stream")
def xclaim(ctx: Context, argv: list[bytes]):
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
    [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]

    Complexity: O(log N) per ID. Reply: the entries claimed (their IDs with JUSTID).
    """
    key, group_name, consumer_name = argv[1], argv[2], argv[3]
    s = _stream_read(ctx, key)
    group = s.groups.get(group_name) if s is not None else None
    if group is None:
        raise _nogroup(key, group_name)
    min_idle = max(to_int(argv[4], "ERR Invalid min-idle-time argument for XCLAIM"), 0)
    j = 5
    ids = []
    while j < len(argv):
        try:
            ids.append(strict_id(argv[j]))
        except CommandError:
            break
        j += 1
    now = _clock(ctx)
    deliverytime = -1
    retrycount = -1
    force = justid = False
    last_id = 0
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and more:
            j += 1
            deliverytime = now - to_int(argv[j], "ERR Invalid IDLE option argument for XCLAIM")
        elif opt == b"time" and more:
            j += 1
            deliverytime = to_int(argv[j], "ERR Invalid TIME option argument for XCLAIM")
        elif opt == b"retrycount" and more:
            j += 1
            retrycount = to_int(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")
        elif opt == b"lastid" and more:
            j += 1
            last_id = strict_id(argv[j])
        else:
            raise CommandError(f"ERR Unrecognized XCLAIM option '{_c(argv[j])}'")
        j += 1
    if deliverytime != -1:
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now
    effects: list = []
    set_last = False
    if last_id > group.last_id:
        group.last_id = last_id
        set_last = True
    out = []
    consumer = None
    for i in ids:
        nack = group.pel.get(i)
        if i not in s:
            if nack is not None:
                _drop_missing(key, group_name, group, i, nack, effects)
                set_last = False
            continue
        if force and nack is None:
            nack = group.pel[i] = Nack(now, None)
        if nack is None:
            continue
        if nack.consumer is not None and min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer_for(ctx, key, group_name, group, consumer_name, now, effects)
        _claim(key, group_name, group, i, nack, consumer, deliverytime, retrycount, justid,
               effects)
        set_last = False
        out.append(_claimed_reply(s, i, justid))
    if set_last:
        effects.append(_setid_effect(key, group_name, group))
    _untouched(ctx, argv)
    if effects:
        ctx.ks.dirty += len(effects)
        ctx.effects = effects
    return out


@command("xautoclaim", -6, WRITE | FAST, KEY1, "stream")
def xautoclaim(ctx: Context, argv: list[bytes]):
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]

    Complexity: O(1) per entry examined (at most 10 * COUNT). Reply: [next start ID,
    [claimed entries], [IDs of deleted entries dropped from the PEL]].
    """
    key, group_name, consumer_name = argv[1], argv[2], argv[3]
    min_idle = max(to_int(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM"), 0)
    start = _interval_start(argv[5])
    count = 100
    justid = False
    attempts_factor = 10
    j = 6
    while j < len(argv):
        more = len(argv) - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and more:
            j += 1
            count = to_int(argv[j], "ERR COUNT must be > 0")
            if not 1 <= count <= _INT64_MAX // 16:  # LONG_MAX / sizeof(streamID)
                raise CommandError("ERR COUNT must be > 0")
        elif opt == b"justid":
            justid = True
        else:
            raise CommandError(SYNTAX)
        j += 1
    s = _stream_read(ctx, key)  # (Redis checks the type after the arguments)
    group = s.groups.get(group_name) if s is not None else None
    if group is None:
        raise _nogroup(key, group_name)
    attempts = count * attempts_factor
    now = _clock(ctx)
    effects: list = []
    claimed = []
    deleted = []
    consumer = None
    pel = group.pel
    cursor = 0
    # (a copy, as deleted entries leave the PEL on the way; at most the entries examined and
    # the next one, the cursor)
    for i in list(islice(pel.irange(start), attempts + 1)):
        if not attempts or not count:
            cursor = i
            break
        attempts -= 1
        nack = pel[i]
        if i not in s:
            _drop_missing(key, group_name, group, i, nack, effects)
            deleted.append(id_text(i))
            count -= 1
            continue
        if min_idle and now - nack.delivery_time < min_idle:
            continue
        if consumer is None:
            consumer = _consumer_for(ctx, key, group_name, group, consumer_name, now, effects)
        _claim(key, group_name, group, i, nack, consumer, now, -1, justid, effects)
        count -= 1
        claimed.append(_claimed_reply(s, i, justid))
    _untouched(ctx, argv)
    if effects:
        ctx.ks.dirty += len(effects)
        ctx.effects = effects
    return [id_text(cursor), claimed, deleted]


# -- XINFO ------------------------------------------------------------------------------------

container("xinfo", -2, group="stream")


def _xinfo_stream_of(ctx: Context, key: bytes) -> Stream:
    s = _stream_read(ctx, key)
    if s is None:
        raise CommandError(NO_SUCH_KEY)
    return s


@command("xinfo|consumers", 4, READONLY, KEY2, "stream")
def xinfo_consumers(ctx: Context, argv: list[bytes]):
    """XINFO CONSUMERS key group

    Complexity: O(1) per consumer. Reply: a map per consumer: name, pending, idle.
    """
    s = _xinfo_stream_of(ctx, argv[2])
    group = s.groups.get(argv[3])
    if group is None:
        raise _no_group_for(argv[2], argv[3])
    now = _clock(ctx)
    return [{b"name": name, b"pending": len(c.pel), b"idle": max(now - c.seen_time, 0)}
            for name, c in sorted(group.consumers.items())]


def _entries_read(group: Group):
    return None if group.entries_read == UNKNOWN else group.entries_read


@command("xinfo|groups", 3, READONLY, KEY2, "stream")
def xinfo_groups(ctx: Context, argv: list[bytes]):
    """XINFO GROUPS key

    Complexity: O(1) per group. Reply: a map per group: name, consumers, pending,
    last-delivered-id, entries-read, lag.
    """
    s = _xinfo_stream_of(ctx, argv[2])
    return [{b"name": name, b"consumers": len(g.consumers), b"pending": len(g.pel),
             b"last-delivered-id": id_text(g.last_id), b"entries-read": _entries_read(g),
             b"lag": s.lag(g)}
            for name, g in sorted(s.groups.items())]


@command("xinfo|stream", -3, READONLY, KEY2, "stream")
def xinfo_stream(ctx: Context, argv: list[bytes]):
    """XINFO STREAM key [FULL [COUNT count]]

    Complexity: O(1), or O(N) with FULL (N capped by COUNT, default 10). Reply: a map.
    """
    s = _xinfo_stream_of(ctx, argv[2])  # (Redis looks the key up before the options)
    opts = argv[3:]
    full = bool(opts)
    count = 10
    if opts:
        if len(opts) not in (1, 3) or opts[0].lower() != b"full":
            raise subcommand_syntax(argv)
        if len(opts) == 3:
            if opts[1].lower() != b"count":
                raise subcommand_syntax(argv)
            count = to_int(opts[2])
            if count < 0:
                count = 10
    info: dict = {b"length": s.length, b"radix-tree-keys": len(s.nodes),
                  b"radix-tree-nodes": s.rax_nodes(),
                  b"last-generated-id": id_text(s.last_id),
                  b"max-deleted-entry-id": id_text(s.max_deleted),
                  b"entries-added": s.entries_added,
                  b"recorded-first-entry-id": id_text(s.first_id)}
    if not full:
        first = s.first_entry()
        last = s.last_entry()
        info[b"groups"] = len(s.groups)
        info[b"first-entry"] = None if first is None else entry_reply(*first)
        info[b"last-entry"] = None if last is None else entry_reply(*last)
        return info
    info[b"entries"] = _entries_reply(s.range(0, ID_MAX, count))
    groups = []
    for name, g in sorted(s.groups.items()):
        pending = [[id_text(i), n.consumer.name, n.delivery_time, n.delivery_count]
                   for i, n in islice(g.pel.items(), count or None)]
        consumers = []
        for cname, c in sorted(g.consumers.items()):
            consumers.append({
                b"name": cname, b"seen-time": c.seen_time, b"pel-count": len(c.pel),
                b"pending": [[id_text(i), n.delivery_time, n.delivery_count]
                             for i, n in islice(c.pel.items(), count or None)]})
        groups.append({b"name": name, b"last-delivered-id": id_text(g.last_id),
                       b"entries-read": _entries_read(g), b"lag": s.lag(g),
                       b"pel-count": len(g.pel), b"pending": pending, b"consumers": consumers})
    info[b"groups"] = groups
    return info


@command("xinfo|help", 2, LOADING | STALE, group="stream")
def xinfo_help(ctx: Context, argv: list[bytes]):
    """XINFO HELP"""
    return [Status(x) for x in (
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.")]
