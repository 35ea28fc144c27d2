"""List commands (Redis 7.0 `t_list.c`).

A list is a `values.List`, a `collections.deque` of bytes with the head at index 0. The deque
gives what the list commands need most: O(1) push and pop at both ends, O(n/64) indexing (it
skips whole 64-item blocks), and C-speed iteration. Redis 7.0 reports every list as "quicklist"
whatever its size, so a list carries no encoding state.

Invariant: a key never holds an empty list. Every command that removes elements deletes the key
(and sends the "del" notification, as Redis's `listElementsRemoved` does) when the last one goes.

Ranges (LRANGE, LTRIM, the COUNT of LPOP/RPOP) walk from whichever end is nearer, so a range
costs O(its distance from that end + its length), never O(n) for a range near the tail.

Reused by the blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP), which the server
implements: `pop_elements`, `move` and `mpop` are the non-blocking cores (they mutate, count
`dirty`, notify, and delete emptied keys); `serve_pop`, `serve_move` and `serve_mpop` call them for a
blocked client whose key became ready (or for the first, non-blocking attempt) and set
`ctx.effects` to the command Redis propagates instead (LPOP key / LPOP key count / LMOVE), since
a blocking command must never be replayed from the AOF as a blocking command.

Plain pops and moves are deterministic, so the non-blocking commands leave `ctx.effects` None and
are logged as sent.
"""

from __future__ import annotations

import sys
from itertools import compress, count as counter, islice, repeat
from typing import Callable

from ..errors import INDEX_OUT_OF_RANGE, NO_SUCH_KEY, SYNTAX, CommandError, wrong_args, wrongtype
from ..engine.values import List
from ..protocol.encoder import BULK_HEADERS
from ..replies import NULL_ARRAY, OK
from .args import to_int
from .table import (DENYOOM, FAST, READONLY, WRITE, Context, KeySpec, command, no_notify,
                    popped_from, run_handler)
from .watching import signal_unchanged

KEY1 = KeySpec(1, 1, 1)
KEY1_2 = KeySpec(1, 2, 1)
NO_KEYS = KeySpec()

# Which end of a list: Redis's LIST_HEAD / LIST_TAIL.
LEFT = 0
RIGHT = 1

POSITIVE = "ERR value is out of range, must be positive"
RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
    "or use negative to start from the end of the list"
)
COUNT_NEGATIVE = "ERR COUNT can't be negative"
MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_POSITIVE = "ERR count should be greater than 0"

_POP_EVENTS = ("lpop", "rpop")
_PUSH_EVENTS = ("lpush", "rpush")
# What a served blocked BLMOVE is propagated with (Redis's shared.left and shared.right).
_WHERE_NAMES = (b"left", b"right")
# C's LONG_MIN: negating it overflows, which LPOS's RANK reproduces below.
_LONG_MIN = -(1 << 63)


# -- shared helpers ---------------------------------------------------------------------------

def parse_where(arg: bytes) -> int:
    """LEFT or RIGHT (any case), else a syntax error (Redis `getListPositionFromObjectOrReply`)."""
    word = arg.lower()
    if word == b"left":
        return LEFT
    if word == b"right":
        return RIGHT
    raise CommandError(SYNTAX)


def _at_least(arg: bytes, minimum: int, message: str) -> int:
    """Redis `getRangeLongFromObjectOrReply(minimum, LONG_MAX, message)`: a non-integer gets
    the same message as a number below `minimum`."""
    try:
        n = to_int(arg)
    except CommandError:
        raise CommandError(message) from None
    if n < minimum:
        raise CommandError(message)
    return n


def _get_list(ctx: Context, key: bytes) -> List | None:
    """The list at key for a write (uncounted; the reads use `ctx.read_typed`)."""
    return ctx.db.lookup_typed(key, ctx.now, List)  # type: ignore[return-value]


def _emptied(ctx: Context, key: bytes, lst: List) -> None:
    """Delete the key of a list that just lost its last element, as Redis does."""
    if not lst:
        ctx.db.delete(key)
        ctx.notify("g", "del", key)


def _span(n: int, start: int, end: int) -> tuple[int, int]:
    """Redis's index rules for a list of n: negative counts from the tail, then clamp. Returns
    inclusive (start, end); start > end means an empty range."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return 0, -1
    return start, end if end < n else n - 1


def list_range(lst: List, start: int, end: int) -> list[bytes]:
    """Elements start..end inclusive, by Redis's index rules.

    O(distance from the nearer end + range length).
    """
    n = len(lst)
    start, end = _span(n, start, end)
    if start > end:
        return []
    if end + 1 <= n - start:  # the head is nearer (also the whole-list case)
        if start == 0 and end == n - 1:
            return list(lst)
        return list(islice(lst, start, end + 1))
    out = list(islice(reversed(lst), n - 1 - end, n - start))
    out.reverse()
    return out


def pop_elements(ctx: Context, key: bytes, lst: List, where: int, count: int) -> list[bytes]:
    """Pop up to `count` (>= 1) elements of the live list `lst` at `key` from `where`, in pop
    order; deletes the key when emptied. Counts dirty and notifies. O(count)."""
    n = len(lst)
    if count >= n:
        # Taking everything: copy once and drop the key, instead of n single pops.
        out = list(lst) if where == LEFT else list(reversed(lst))
        count = n
        lst.clear()
    else:
        pop = lst.popleft if where == LEFT else lst.pop
        out = [pop() for _ in repeat(None, count)]
    ctx.ks.dirty += count
    if ctx.notify is not no_notify:
        ctx.notify("l", _POP_EVENTS[where], key)
    _emptied(ctx, key, lst)
    return out


def move(ctx: Context, src: bytes, dst: bytes, wherefrom: int, whereto: int,
         argv: list[bytes] | None = None) -> bytes | None:
    """Pop from `src`'s `wherefrom` end, push onto `dst`'s `whereto` end; the element, or None
    when src is absent. WRONGTYPE for a non-list src, or a non-list dst when src has data.
    With src == dst this rotates the list. O(1). `argv`: the request, whose keys are then
    signalled destination first, as Redis's lmoveHandlePush does (trackers hear it so)."""
    db = ctx.db
    slist = _get_list(ctx, src)
    if slist is None:
        return None
    dlist = _get_list(ctx, dst)
    value = slist.popleft() if wherefrom == LEFT else slist.pop()
    # Push before deleting an emptied src: with src == dst the list is the same object.
    if dlist is None:
        dlist = List()
        db.add(dst, dlist)
    if whereto == LEFT:
        dlist.appendleft(value)
    else:
        dlist.append(value)
    ctx.notify("l", _PUSH_EVENTS[whereto], dst)
    ctx.notify("l", _POP_EVENTS[wherefrom], src)
    _emptied(ctx, src, slist)
    ctx.ks.dirty += 1
    if argv is not None:
        ctx.touched = (argv, [dst, src] if dst != src else [src])
    return value


def mpop(ctx: Context, keys: list[bytes], where: int, count: int) -> list | None:
    """Pop up to `count` elements from the first non-empty list of `keys`: [key, [elements]],
    or None when every key is absent. WRONGTYPE stops the scan at the first non-list key."""
    for key in keys:
        lst = _get_list(ctx, key)
        if lst:
            return [key, pop_elements(ctx, key, lst, where, count)]
    return None


def serve_pop(ctx: Context, keys: list[bytes], where: int) -> list | None:
    """BLPOP / BRPOP without blocking: [key, element] from the first non-empty list, or None.
    Sets the effect Redis propagates: LPOP key / RPOP key."""
    reply = mpop(ctx, keys, where, 1)
    if reply is None:
        return None
    ctx.effects = [[b"LPOP" if where == LEFT else b"RPOP", reply[0]]]
    return [reply[0], reply[1][0]]


def serve_mpop(ctx: Context, keys: list[bytes], where: int, count: int) -> list | None:
    """LMPOP, and BLMPOP without blocking: as `mpop`; the effect Redis propagates is
    LPOP/RPOP key <popped count>."""
    reply = mpop(ctx, keys, where, count)
    if reply is not None:
        ctx.effects = [[b"LPOP" if where == LEFT else b"RPOP", reply[0], b"%d" % len(reply[1])]]
    return reply


def serve_move(ctx: Context, src: bytes, dst: bytes, wherefrom: int, whereto: int,
               rpoplpush: bool = False, sides: list[bytes] | None = None,
               argv: list[bytes] | None = None):
    """BLMOVE / BRPOPLPUSH without blocking: as `move`; the effect Redis propagates is
    LMOVE src dst from to, or RPOPLPUSH src dst for BRPOPLPUSH. `sides`: the LEFT/RIGHT words
    as the client sent them, which Redis keeps when it moves at once (`left` and `right` when
    it serves a blocked client). `argv`: as `move`'s."""
    value = move(ctx, src, dst, wherefrom, whereto, argv)
    if value is not None:
        ctx.effects = [[b"RPOPLPUSH", src, dst] if rpoplpush else
                       [b"LMOVE", src, dst, *(sides or (_WHERE_NAMES[wherefrom],
                                                        _WHERE_NAMES[whereto]))]]
    return value


# -- push -------------------------------------------------------------------------------------

def _push_run(push: Callable[[List, bytes], None]) -> Callable:
    """The run handler of LPUSH or RPUSH (`push` is List.appendleft or List.append): one
    element onto an existing list without a TTL. (With a client blocked on a list, the
    blocking write hook is installed, which takes no runs: the server does not use this.)"""
    def run(ctx: Context, argvs: list[list[bytes]], append) -> int:
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
            lst = data.get(key)
            if type(lst) is not List or key in expires:
                break
            push(lst, argv[2])
            append(b":%d\r\n" % len(lst))
            done += 1
        ctx.ks.dirty += done
        return done

    return run


@command("lpush", -3, WRITE | DENYOOM | FAST, KEY1, "list")
def lpush(ctx: Context, argv: list[bytes]):
    """LPUSH key element [element ...]

    Complexity: O(1) per element.  Reply: integer, the length after the push.
    """
    key = argv[1]
    db = ctx.db
    if key in db.expires:
        lst = db.lookup_typed(key, ctx.now, List)
    else:  # Database.lookup_typed, inlined (LPUSH is benchmarked)
        lst = db.data.get(key)
        if lst is not None and type(lst) is not List:
            raise wrongtype()
    if lst is None:
        lst = List()
        db.add(key, lst)
    if len(argv) == 3:
        lst.appendleft(argv[2])
    else:
        # extendleft pushes one at a time, so LPUSH k a b c leaves c b a, as in Redis.
        lst.extendleft(islice(argv, 2, None))
    ctx.ks.dirty += len(argv) - 2
    if ctx.notify is not no_notify:
        ctx.notify("l", "lpush", key)
    return len(lst)


@command("rpush", -3, WRITE | DENYOOM | FAST, KEY1, "list")
def rpush(ctx: Context, argv: list[bytes]):
    """RPUSH key element [element ...]

    Complexity: O(1) per element.  Reply: integer, the length after the push.
    """
    key = argv[1]
    db = ctx.db
    if key in db.expires:
        lst = db.lookup_typed(key, ctx.now, List)
    else:  # Database.lookup_typed, inlined (RPUSH is benchmarked)
        lst = db.data.get(key)
        if lst is not None and type(lst) is not List:
            raise wrongtype()
    if lst is None:
        lst = List()
        db.add(key, lst)
    if len(argv) == 3:
        lst.append(argv[2])
    else:
        lst.extend(islice(argv, 2, None))
    ctx.ks.dirty += len(argv) - 2
    if ctx.notify is not no_notify:
        ctx.notify("l", "rpush", key)
    return len(lst)


run_handler("lpush", logged=True)(_push_run(List.appendleft))
run_handler("rpush", logged=True)(_push_run(List.append))


def _pushx(ctx: Context, argv: list[bytes], where: int) -> int:
    key = argv[1]
    lst = _get_list(ctx, key)
    if lst is None:
        return 0
    if where == LEFT:
        lst.extendleft(islice(argv, 2, None))
    else:
        lst.extend(islice(argv, 2, None))
    ctx.ks.dirty += len(argv) - 2
    ctx.notify("l", _PUSH_EVENTS[where], key)
    return len(lst)


@command("lpushx", -3, WRITE | DENYOOM | FAST, KEY1, "list")
def lpushx(ctx: Context, argv: list[bytes]):
    """LPUSHX key element [element ...]

    Complexity: O(1) per element.  Reply: integer, the length after the push, 0 if no key.
    """
    return _pushx(ctx, argv, LEFT)


@command("rpushx", -3, WRITE | DENYOOM | FAST, KEY1, "list")
def rpushx(ctx: Context, argv: list[bytes]):
    """RPUSHX key element [element ...]

    Complexity: O(1) per element.  Reply: integer, the length after the push, 0 if no key.
    """
    return _pushx(ctx, argv, RIGHT)


# -- pop --------------------------------------------------------------------------------------

def _pop(ctx: Context, argv: list[bytes], where: int):
    """LPOP / RPOP with a count (Redis `popGenericCommand`): the count is checked before the
    key. (The handlers do the form without one themselves.)"""
    if len(argv) > 3:
        raise wrong_args(_POP_EVENTS[where])
    key = argv[1]
    count = _at_least(argv[2], 0, POSITIVE)
    lst = _get_list(ctx, key)
    if lst is None:
        return NULL_ARRAY
    if count == 0:
        return []
    return pop_elements(ctx, key, lst, where, count)


def _pop_command(name: str, where: int, doc: str) -> Callable:
    """The LPOP or RPOP handler: the form without a count done here, `_pop`'s common case
    inlined with Database.lookup_typed for a key without a TTL (three calls less: LPOP and
    RPOP are benchmarked); the form with one goes to `_pop`."""
    pop = List.popleft if where == LEFT else List.pop

    def handler(ctx: Context, argv: list[bytes]):
        if len(argv) != 2:
            return _pop(ctx, argv, where)
        key = argv[1]
        db = ctx.db
        lst = db.lookup_typed(key, ctx.now, List) if key in db.expires else db.data.get(key)
        if lst is None:
            return None
        if type(lst) is not List:
            raise wrongtype()
        value = pop(lst)
        ctx.ks.dirty += 1
        if ctx.notify is not no_notify:
            ctx.notify("l", name, key)
        if not lst:
            _emptied(ctx, key, lst)
        return value

    handler.__name__ = handler.__qualname__ = name
    handler.__doc__ = doc
    return command(name, -2, WRITE | FAST, KEY1, "list")(handler)


def _pop_run(pop: Callable[[List], bytes]) -> Callable:
    """The run handler of LPOP or RPOP (`pop` is List.popleft or List.pop), the form without a
    count, on a missing key or a list without a TTL."""
    def run(ctx: Context, argvs: list[list[bytes]], append) -> int:
        if len(argvs[0]) != 2:
            return 0
        db = ctx.db
        data = db.data
        expires = db.expires
        null = b"_\r\n" if ctx.resp == 3 else b"$-1\r\n"
        name = argvs[0][0]
        done = missing = 0
        for argv in argvs:
            if argv[0] != name or len(argv) != 2:
                break
            key = argv[1]
            lst = data.get(key)
            if type(lst) is List and key not in expires:
                value = pop(lst)
                if not lst:
                    _emptied(ctx, key, lst)
                size = len(value)
                if size < 1024:
                    append(BULK_HEADERS[size])
                    append(value)
                    append(b"\r\n")
                else:
                    append(b"$%d\r\n%b\r\n" % (size, value))
            elif lst is None and key not in expires:
                append(null)
                missing += 1
            else:
                break
            done += 1
        ctx.ks.dirty += done - missing
        return done

    return run


lpop = _pop_command("lpop", LEFT, """LPOP key [count]

    Complexity: O(count).  Reply: the element (nil if no key); with count, an array (a null
    array if no key).
    """)
rpop = _pop_command("rpop", RIGHT, """RPOP key [count]

    Complexity: O(count).  Reply: the element (nil if no key); with count, an array (a null
    array if no key).
    """)
run_handler("lpop")(_pop_run(List.popleft))
run_handler("rpop")(_pop_run(List.pop))


def mpop_keys(argv: list[bytes], numkeys_index: int = 1) -> list[bytes]:
    """The keys of an LMPOP (numkeys_index 1) or BLMPOP (2) argv, for COMMAND GETKEYS and
    routing. Like Redis's `genericGetKeys`: none when numkeys is out of range."""
    if numkeys_index >= len(argv):
        return []
    numkeys = _atoi(argv[numkeys_index])
    first = numkeys_index + 1
    if numkeys < 1 or numkeys > len(argv) - first:
        return []
    return argv[first:first + numkeys]


def _atoi(arg: bytes) -> int:
    """C's atoi, which genericGetKeys uses: optional blanks and sign, then digits up to the
    first non-digit; 0 when there are none."""
    text = arg.lstrip(b" \t\n\v\f\r")
    sign = 1
    if text[:1] in (b"+", b"-"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = len(text) - len(text.lstrip(b"0123456789"))
    return sign * int(text[:digits]) if digits else 0


def parse_mpop(argv: list[bytes], numkeys_index: int) -> tuple[list[bytes], int, int]:
    """(keys, where, count) of `... numkeys key [key ...] LEFT|RIGHT [COUNT count]`, checked in
    Redis's order (`lmpopGenericCommand`)."""
    numkeys = _at_least(argv[numkeys_index], 1, NUMKEYS_POSITIVE)
    where_index = numkeys_index + numkeys + 1
    if where_index >= len(argv):
        raise CommandError(SYNTAX)
    where = parse_where(argv[where_index])
    count = -1
    j = where_index + 1
    while j < len(argv):
        if count == -1 and j + 1 < len(argv) and argv[j].lower() == b"count":
            count = _at_least(argv[j + 1], 1, COUNT_POSITIVE)
            j += 2
        else:
            raise CommandError(SYNTAX)
    return argv[numkeys_index + 1:where_index], where, 1 if count == -1 else count


@command("lmpop", -4, WRITE, NO_KEYS, "list", getkeys=mpop_keys)
def lmpop(ctx: Context, argv: list[bytes]):
    """LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]

    Complexity: O(N + M), N keys scanned, M elements popped.  Reply: [key, [elements]] from the
    first non-empty list, or a null array.
    """
    keys, where, count = parse_mpop(argv, 1)
    reply = popped_from(ctx, argv, serve_mpop(ctx, keys, where, count))
    return NULL_ARRAY if reply is None else reply


@command("lmove", 5, WRITE | DENYOOM, KEY1_2, "list")
def lmove(ctx: Context, argv: list[bytes]):
    """LMOVE source destination LEFT|RIGHT LEFT|RIGHT

    Complexity: O(1).  Reply: the element moved, nil if source does not exist.
    """
    wherefrom = parse_where(argv[3])
    whereto = parse_where(argv[4])
    return move(ctx, argv[1], argv[2], wherefrom, whereto, argv)


@command("rpoplpush", 3, WRITE | DENYOOM, KEY1_2, "list")
def rpoplpush(ctx: Context, argv: list[bytes]):
    """RPOPLPUSH source destination

    Complexity: O(1).  Reply: the element moved, nil if source does not exist.
    """
    return move(ctx, argv[1], argv[2], RIGHT, LEFT, argv)


# -- read -------------------------------------------------------------------------------------

@command("llen", 2, READONLY | FAST, KEY1, "list")
def llen(ctx: Context, argv: list[bytes]):
    """LLEN key

    Complexity: O(1).  Reply: integer, 0 if no key.
    """
    lst = ctx.read_typed(argv[1], List)
    return 0 if lst is None else len(lst)


@command("lrange", 4, READONLY, KEY1, "list")
def lrange(ctx: Context, argv: list[bytes]):
    """LRANGE key start stop

    Complexity: O(S + N), S the distance of the range from the nearer end, N its length.
    Reply: array of elements (empty if no key).
    """
    start = to_int(argv[2])
    end = to_int(argv[3])
    lst = ctx.read_typed(argv[1], List)
    if lst is None:
        return []
    return list_range(lst, start, end)  # type: ignore[arg-type]


@command("lindex", 3, READONLY, KEY1, "list")
def lindex(ctx: Context, argv: list[bytes]):
    """LINDEX key index

    Complexity: O(N/64) to reach the index.  Reply: the element, nil if out of range or no key.
    """
    lst = ctx.read_typed(argv[1], List)
    if lst is None:
        return None
    index = to_int(argv[2])
    if index < 0:
        index += len(lst)
    if 0 <= index < len(lst):
        return lst[index]
    return None


@command("lpos", -3, READONLY, KEY1, "list")
def lpos(ctx: Context, argv: list[bytes]):
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]

    Complexity: O(N) elements scanned (at most MAXLEN).  Reply: the index of the match (nil if
    none); with COUNT, an array of indexes.
    """
    rank, count, maxlen = 1, -1, 0
    i = 3
    n = len(argv)
    while i < n:
        opt = argv[i].lower()
        if i + 1 >= n:
            raise CommandError(SYNTAX)
        if opt == b"rank":
            # Redis 7.0 takes any long here: LONG_MIN is handled after negation below.
            rank = to_int(argv[i + 1])
            if rank == 0:
                raise CommandError(RANK_ZERO)
        elif opt == b"count":
            count = _at_least(argv[i + 1], 0, COUNT_NEGATIVE)
        elif opt == b"maxlen":
            maxlen = _at_least(argv[i + 1], 0, MAXLEN_NEGATIVE)
        else:
            raise CommandError(SYNTAX)
        i += 2
    lst = ctx.read_typed(argv[1], List)
    if lst is None:
        return None if count == -1 else []
    return _positions(lst, argv[2], rank, count, maxlen)


def _positions(lst: List, element: bytes, rank: int, count: int, maxlen: int):
    """The LPOS search: comparisons and index counting run in C (map/compress), not bytecode."""
    from_tail = rank < 0
    if from_tail:
        if rank == _LONG_MIN:
            # C negates LONG_MIN to itself, so every match passes `matches >= rank` and the
            # COUNT test `matches - rank + 1 >= count` never holds: first match, or all of them.
            rank = 1
            count = 0 if count > 0 else count
        else:
            rank = -rank
    it = reversed(lst) if from_tail else iter(lst)
    if maxlen:
        it = islice(it, maxlen)
    hits = compress(counter(), map(element.__eq__, it))
    skip = min(rank - 1, sys.maxsize)
    last = len(lst) - 1
    if count == -1:
        pos = next(islice(hits, skip, None), None)
        if pos is None:
            return None
        return last - pos if from_tail else pos
    picked = islice(hits, skip, min(skip + count, sys.maxsize) if count else None)
    if from_tail:
        return [last - p for p in picked]
    return list(picked)


# -- modify in place --------------------------------------------------------------------------

@command("lset", 4, WRITE | DENYOOM, KEY1, "list")
def lset(ctx: Context, argv: list[bytes]):
    """LSET key index element

    Complexity: O(N/64) to reach the index.  Reply: OK.
    """
    key = argv[1]
    lst = _get_list(ctx, key)
    if lst is None:
        raise CommandError(NO_SUCH_KEY)
    index = to_int(argv[2])
    if index < 0:
        index += len(lst)
    if not 0 <= index < len(lst):
        raise CommandError(INDEX_OUT_OF_RANGE)
    lst[index] = argv[3]
    ctx.ks.dirty += 1
    ctx.notify("l", "lset", key)
    return OK


@command("linsert", 5, WRITE | DENYOOM, KEY1, "list")
def linsert(ctx: Context, argv: list[bytes]):
    """LINSERT key BEFORE|AFTER pivot element

    Complexity: O(N) to find the pivot.  Reply: the new length, -1 if no pivot, 0 if no key.
    """
    where = argv[2].lower()
    if where == b"after":
        after = 1
    elif where == b"before":
        after = 0
    else:
        raise CommandError(SYNTAX)
    key = argv[1]
    lst = _get_list(ctx, key)
    if lst is None:
        return 0
    try:
        index = lst.index(argv[3])
    except ValueError:
        return -1
    lst.insert(index + after, argv[4])
    ctx.ks.dirty += 1
    ctx.notify("l", "linsert", key)
    return len(lst)


@command("lrem", 4, WRITE, KEY1, "list")
def lrem(ctx: Context, argv: list[bytes]):
    """LREM key count element

    Complexity: O(N).  Reply: integer, elements removed (count > 0 from the head, < 0 from
    the tail, 0 all).
    """
    limit = to_int(argv[2])
    key = argv[1]
    lst = _get_list(ctx, key)
    if lst is None:
        return 0
    element = argv[3]
    if limit == 1:
        # The common "remove one" case: deque.remove scans in C and shifts in place.
        try:
            lst.remove(element)
        except ValueError:
            return 0
        removed = 1
    else:
        removed = _remove(lst, element, limit)
        if not removed:
            return 0
    ctx.ks.dirty += removed
    ctx.notify("l", "lrem", key)
    _emptied(ctx, key, lst)
    return removed


def _remove(lst: List, element: bytes, limit: int) -> int:
    """Remove up to |limit| (all if 0) copies of element, from the head (limit > 0) or the tail
    (limit < 0), rebuilding the deque in one pass. Returns how many were removed."""
    matches = lst.count(element)
    if not matches:
        return 0
    todo = matches if limit == 0 else min(abs(limit), matches)
    if todo == matches:
        kept = [x for x in lst if x != element]
    else:
        kept = []
        keep = kept.append
        left = todo
        for x in (lst if limit > 0 else reversed(lst)):
            if left and x == element:
                left -= 1
            else:
                keep(x)
        if limit < 0:
            kept.reverse()
    lst.clear()
    lst.extend(kept)
    return todo


@command("ltrim", 4, WRITE, KEY1, "list")
def ltrim(ctx: Context, argv: list[bytes]):
    """LTRIM key start stop

    Complexity: O(removed) or O(kept), whichever is smaller.  Reply: OK.
    """
    start = to_int(argv[2])
    end = to_int(argv[3])
    key = argv[1]
    lst = _get_list(ctx, key)
    if lst is None:
        return OK
    n = len(lst)
    start, end = _span(n, start, end)
    head, tail = (start, n - end - 1) if start <= end else (n, 0)
    if head + tail == n:
        lst.clear()
    elif head + tail <= n - head - tail:
        popleft, pop = lst.popleft, lst.pop
        for _ in repeat(None, head):
            popleft()
        for _ in repeat(None, tail):
            pop()
    else:
        kept = list_range(lst, head, n - tail - 1)
        lst.clear()
        lst.extend(kept)
    ctx.ks.dirty += head + tail
    # Redis notifies "ltrim", and signals the key (a WATCH of it breaks, trackers are told),
    # even when nothing was trimmed; only a change is logged.
    ctx.notify("l", "ltrim", key)
    if not head + tail:
        signal_unchanged(ctx, key)
    _emptied(ctx, key, lst)
    return OK
