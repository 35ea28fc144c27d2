"""List commands against the real redis-server: replies, error texts, null kinds, dirty counts,
keyspace notifications, and the redis-py-shaped methods.

Keys are checked for absence with `LPUSHX key probe` (0 when absent, and no change then), since
the list family must not depend on the generic key commands.
"""

from __future__ import annotations

import inspect
import random
import socket

import pytest
import redis
from redis.commands.core import BasicKeyCommands, ListCommands

import kvstore
from kvstore.commands.lists import LEFT, RIGHT, mpop_keys, serve_move, serve_mpop, serve_pop
from kvstore.commands.table import COMMANDS, Context, execute
from kvstore.engine import List, ManualClock
from kvstore.errors import ResponseError
from kvstore.replies import NULL_ARRAY

from .helpers import keyevent_streams, method_outcome

BIG = "9223372036854775807"
SMALL = "-9223372036854775808"
EXTREMES = [BIG, SMALL, "9223372036854775808", "-9223372036854775809"]
NOT_INTS = ["abc", "1.5", "", " 1", "+1", "01", "0x10"]


def absent(both, key):
    assert both("LPUSHX", key, "probe") == 0


# -- push -------------------------------------------------------------------------------------

def test_push_variants(both):
    both("LPUSH", "l", "a", "b", "c")
    both("RPUSH", "l", "d", "e")
    both("LRANGE", "l", 0, -1)
    both("LPUSHX", "l", "x", "y")
    both("RPUSHX", "l", "z")
    both("LPUSHX", "nokey", "x")
    both("RPUSHX", "nokey", "x", "y")
    both("LRANGE", "l", 0, -1)
    absent(both, "nokey")
    both("LPUSH", "one", "")
    both("LRANGE", "one", 0, -1)
    both("RPUSH", "bin", b"\x00\xff\r\n", "1" * 10000)
    both("LRANGE", "bin", 0, -1)


@pytest.mark.parametrize("cmd", ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"])
def test_push_wrongtype_and_arity(both, cmd):
    both("SET", "s", "v")
    both(cmd, "s", "a")
    both(cmd, "s")
    both(cmd)
    both(cmd.lower(), "s")


# -- pop --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["LPOP", "RPOP"])
def test_pop(both, cmd):
    both("RPUSH", "l", *"abcdefg")
    both(cmd, "l")
    both(cmd, "l", 0)
    both(cmd, "l", 1)
    both(cmd, "l", 2)
    both("LRANGE", "l", 0, -1)
    for bad in ["-1", SMALL, "9223372036854775808", *NOT_INTS]:
        both(cmd, "l", bad)
        both(cmd, "nokey", bad)
    both(cmd, "l", 1, 2)
    both(cmd, "nokey", 1, 2)
    both(cmd)
    both(cmd, "nokey")
    both(cmd, "nokey", 0)
    both(cmd, "nokey", 3)
    both(cmd, "l", BIG)
    absent(both, "l")
    both("RPUSH", "l", "x")
    both(cmd, "l")
    absent(both, "l")
    both("RPUSH", "l", "x", "y")
    both(cmd, "l", 2)
    absent(both, "l")
    both("SET", "s", "v")
    both(cmd, "s")
    both(cmd, "s", 0)
    both(cmd, "s", -1)
    both(cmd, "s", "abc")


# -- ranges -----------------------------------------------------------------------------------

def test_lrange_matrix(both):
    both("RPUSH", "l", *"abcde")
    points = list(range(-7, 8)) + EXTREMES[:2]
    for start in points:
        for end in points:
            both("LRANGE", "l", start, end)
    both("RPUSH", "long", *[str(i) for i in range(300)])
    for start, end in [(0, 99), (250, 260), (-10, -1), (-300, -290), (100, 99), (5, 1000)]:
        both("LRANGE", "long", start, end)


def test_lrange_errors(both):
    both("RPUSH", "l", "a")
    both("SET", "s", "v")
    for bad in NOT_INTS + EXTREMES[2:]:
        both("LRANGE", "l", bad, 1)
        both("LRANGE", "l", 0, bad)
        both("LRANGE", "nokey", bad, 1)
        both("LRANGE", "s", bad, 1)
    both("LRANGE", "s", 0, 1)
    both("LRANGE", "nokey", 0, 1)
    both("LRANGE", "l", 0)
    both("LRANGE", "l", 0, 1, 2)


def test_ltrim_matrix(both):
    points = list(range(-7, 8)) + EXTREMES[:2]
    rng = random.Random(7)
    for start in points:
        for end in rng.sample(points, 6):
            key = f"l{start}:{end}"
            both("RPUSH", key, *"abcde")
            both("LTRIM", key, start, end)
            both("LRANGE", key, 0, -1)
            both("LLEN", key)
    both("RPUSH", "long", *[str(i) for i in range(200)])
    both("LTRIM", "long", 150, 160)  # rebuild path: keeps less than it drops
    both("LRANGE", "long", 0, -1)
    both("LTRIM", "long", 1, -2)  # pop path
    both("LRANGE", "long", 0, -1)
    both("LTRIM", "long", 5, 1)
    absent(both, "long")


def test_ltrim_errors(both):
    both("SET", "s", "v")
    both("RPUSH", "l", "a")
    for bad in NOT_INTS[:3] + EXTREMES[2:]:
        both("LTRIM", "l", bad, 1)
        both("LTRIM", "l", 0, bad)
        both("LTRIM", "nokey", bad, 0)
    both("LTRIM", "s", 0, 1)
    both("LTRIM", "s", "x", 1)
    both("LTRIM", "nokey", 0, 1)
    both("LTRIM", "l", 0)


# -- index access -----------------------------------------------------------------------------

def test_lindex_and_llen(both):
    both("RPUSH", "l", *"abcde")
    for i in list(range(-7, 8)) + EXTREMES[:2]:
        both("LINDEX", "l", i)
    for bad in NOT_INTS + EXTREMES[2:]:
        both("LINDEX", "l", bad)
        both("LINDEX", "nokey", bad)
    both("SET", "s", "v")
    both("LINDEX", "s", 0)
    both("LINDEX", "s", "abc")
    both("LLEN", "l")
    both("LLEN", "nokey")
    both("LLEN", "s")
    both("LLEN")
    both("LINDEX", "l")


def test_lset(both):
    both("RPUSH", "l", *"abcde")
    for i in list(range(-7, 8)) + EXTREMES[:2]:
        both("LSET", "l", i, f"v{i}")
        both("LRANGE", "l", 0, -1)
    for bad in NOT_INTS + EXTREMES[2:]:
        both("LSET", "l", bad, "x")
        both("LSET", "nokey", bad, "x")
    both("LSET", "nokey", 0, "x")
    absent(both, "nokey")
    both("SET", "s", "v")
    both("LSET", "s", 0, "x")
    both("LSET", "s", "abc", "x")
    both("LSET", "l", 0)


def test_linsert(both):
    both("RPUSH", "l", "a", "b", "a", "c")
    both("LINSERT", "l", "BEFORE", "a", "x")
    both("LINSERT", "l", "after", "a", "y")
    both("LINSERT", "l", "AfTeR", "c", "z")
    both("LINSERT", "l", "before", "nope", "z")
    both("LRANGE", "l", 0, -1)
    both("LINSERT", "l", "middle", "a", "z")
    both("LINSERT", "nokey", "before", "a", "z")
    both("LINSERT", "nokey", "middle", "a", "z")
    absent(both, "nokey")
    both("SET", "s", "v")
    both("LINSERT", "s", "before", "a", "z")
    both("LINSERT", "s", "middle", "a", "z")
    both("LINSERT", "l", "before", "a")


def test_lrem(both):
    base = ["a", "b", "a", "c", "a", "b", "a"]
    for n in [-5, -3, -2, -1, 0, 1, 2, 3, 5, BIG, SMALL]:
        key = f"l{n}"
        both("RPUSH", key, *base)
        both("LREM", key, n, "a")
        both("LRANGE", key, 0, -1)
        both("LREM", key, n, "zzz")
    both("RPUSH", "same", "x", "x", "x")
    both("LREM", "same", 0, "x")
    absent(both, "same")
    both("RPUSH", "same", "x", "x")
    both("LREM", "same", -2, "x")
    absent(both, "same")
    both("RPUSH", "one", "x")
    both("LREM", "one", 1, "x")
    absent(both, "one")
    for bad in NOT_INTS + EXTREMES[2:]:
        both("LREM", "l0", bad, "a")
        both("LREM", "nokey", bad, "a")
    both("LREM", "nokey", 0, "a")
    both("SET", "s", "v")
    both("LREM", "s", 0, "a")
    both("LREM", "s", "x", "a")
    both("LREM", "s", 0)


# -- LPOS -------------------------------------------------------------------------------------

def test_lpos_options(both):
    both("RPUSH", "l", "a", "b", "a", "c", "a", "b", "a", "d")
    ranks = [None, 1, 2, 4, 5, -1, -2, -4, -5, BIG, "-" + BIG, SMALL]
    counts = [None, 0, 1, 2, 10, BIG]
    maxlens = [None, 0, 1, 3, 100]
    for elem in ["a", "b", "d", "zzz"]:
        for rank in ranks:
            for count in counts:
                for maxlen in maxlens:
                    args = ["LPOS", "l", elem]
                    if rank is not None:
                        args += ["RANK", rank]
                    if count is not None:
                        args += ["COUNT", count]
                    if maxlen is not None:
                        args += ["MAXLEN", maxlen]
                    both(*args)


def test_lpos_errors(both):
    both("RPUSH", "l", "a", "b", "a")
    both("LPOS", "l", "a", "RANK", 0)
    both("LPOS", "l", "a", "rank", 0, "COUNT", -1)
    both("LPOS", "l", "a", "COUNT", -1, "rank", 0)
    for bad in NOT_INTS + EXTREMES[2:]:
        both("LPOS", "l", "a", "RANK", bad)
        both("LPOS", "l", "a", "COUNT", bad)
        both("LPOS", "l", "a", "MAXLEN", bad)
    both("LPOS", "l", "a", "MAXLEN", -1)
    both("LPOS", "l", "a", "RANK")
    both("LPOS", "l", "a", "COUNT")
    both("LPOS", "l", "a", "foo", 1)
    both("LPOS", "l", "a", "foo")
    both("LPOS", "l", "a", "count", 1, "count", 0)
    both("LPOS", "l", "a", "rank", -1, "rank", 2)
    both("LPOS", "nokey", "a")
    both("LPOS", "nokey", "a", "COUNT", 0)
    both("LPOS", "nokey", "a", "RANK", 0)
    both("LPOS", "nokey", "a", "bogus")
    both("SET", "s", "v")
    both("LPOS", "s", "a")
    both("LPOS", "s", "a", "COUNT", 1)
    both("LPOS", "s", "a", "RANK", 0)
    both("LPOS", "l")


# -- LMOVE / RPOPLPUSH ------------------------------------------------------------------------

@pytest.mark.parametrize("wf", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("wt", ["left", "Right"])
def test_lmove_directions(both, wf, wt):
    both("RPUSH", "src", "a", "b", "c")
    both("RPUSH", "dst", "x", "y")
    both("LMOVE", "src", "dst", wf, wt)
    both("LRANGE", "src", 0, -1)
    both("LRANGE", "dst", 0, -1)
    both("LMOVE", "src", "new", wf, wt)
    both("LRANGE", "new", 0, -1)
    both("LMOVE", "src", "src", wf, wt)  # rotation
    both("LRANGE", "src", 0, -1)
    both("LMOVE", "src", "dst", wf, wt)
    absent(both, "src")
    both("RPUSH", "one", "z")
    both("LMOVE", "one", "one", wf, wt)
    both("LRANGE", "one", 0, -1)


def test_lmove_errors_and_rpoplpush(both):
    both("SET", "s", "v")
    both("RPUSH", "l", "a", "b")
    both("LMOVE", "l", "dst", "up", "left")
    both("LMOVE", "l", "dst", "left", "down")
    both("LMOVE", "nokey", "dst", "up", "down")
    both("LMOVE", "nokey", "s", "left", "left")  # no source: nil, dst type not checked
    both("LMOVE", "l", "s", "left", "left")
    both("LRANGE", "l", 0, -1)
    both("LMOVE", "s", "l", "left", "left")
    both("LMOVE", "l", "dst", "left")
    both("RPOPLPUSH", "l", "dst")
    both("RPOPLPUSH", "l", "l")
    both("RPOPLPUSH", "dst", "dst")
    both("LRANGE", "dst", 0, -1)
    both("RPOPLPUSH", "nokey", "dst")
    both("RPOPLPUSH", "l", "s")
    both("RPOPLPUSH", "s", "l")
    both("RPOPLPUSH", "l", "new")
    absent(both, "l")
    both("RPOPLPUSH", "l")


# -- LMPOP ------------------------------------------------------------------------------------

def test_lmpop(both):
    both("RPUSH", "b", *"abcde")
    both("RPUSH", "c", "x")
    both("LMPOP", 3, "a", "b", "c", "LEFT")
    both("LMPOP", 3, "a", "b", "c", "right", "COUNT", 2)
    both("LMPOP", 1, "b", "left", "count", 10)
    absent(both, "b")
    both("LMPOP", 2, "a", "b", "RIGHT")
    both("LMPOP", 3, "a", "b", "c", "RIGHT", "COUNT", BIG)
    both("LMPOP", 1, "c", "LEFT")
    both("SET", "s", "v")
    both("RPUSH", "d", "y")
    both("LMPOP", 2, "s", "d", "left")
    both("LMPOP", 2, "d", "s", "left")
    both("LMPOP", 2, "nokey", "s", "left")


def test_lmpop_errors(both):
    both("RPUSH", "l", "a")
    for bad in ["0", "-1", "abc", "", SMALL, "9223372036854775808"]:
        both("LMPOP", bad, "l", "LEFT")
    for n in [2, 3, BIG, "4611686018427387904"]:
        both("LMPOP", n, "l", "LEFT")
    both("LMPOP", 1, "l", "UP")
    both("LMPOP", 1, "l", "LEFT", "COUNT")
    both("LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 1)
    both("LMPOP", 1, "l", "LEFT", "extra")
    both("LMPOP", 1, "l", "LEFT", "COUNT", 1, "extra")
    for bad in ["0", "-1", "abc", "9223372036854775808"]:
        both("LMPOP", 1, "l", "LEFT", "COUNT", bad)
    both("LMPOP", 1, "l")
    both("LMPOP", 1)
    both("LRANGE", "l", 0, -1)


def test_mpop_getkeys():
    assert mpop_keys([b"LMPOP", b"2", b"a", b"b", b"LEFT"]) == [b"a", b"b"]
    assert mpop_keys([b"LMPOP", b"2x", b"a", b"b", b"LEFT"]) == [b"a", b"b"]  # atoi
    assert mpop_keys([b"LMPOP", b"3", b"a", b"b"]) == []
    assert mpop_keys([b"LMPOP", b"4", b"a", b"b", b"LEFT"]) == []
    assert mpop_keys([b"LMPOP", b"0", b"a", b"LEFT"]) == []
    assert mpop_keys([b"LMPOP", b"x", b"a", b"LEFT"]) == []
    assert mpop_keys([b"BLMPOP", b"0", b"1", b"a", b"LEFT"], 2) == [b"a"]
    assert COMMANDS[b"lmpop"].keys([b"LMPOP", b"1", b"k", b"RIGHT"]) == [b"k"]


# -- random differential ----------------------------------------------------------------------

def test_random_sequence_matches_redis(both):
    rng = random.Random(2024)
    keys = ["a", "b", "c"]
    elems = ["x", "y", "z", "1", "10"]

    def idx():
        return rng.choice([rng.randint(-8, 8), rng.randint(-100, 100)])

    ops = [
        lambda: ("LPUSH", rng.choice(keys), *rng.choices(elems, k=rng.randint(1, 4))),
        lambda: ("RPUSH", rng.choice(keys), *rng.choices(elems, k=rng.randint(1, 4))),
        lambda: (rng.choice(["LPUSHX", "RPUSHX"]), rng.choice(keys), rng.choice(elems)),
        lambda: (rng.choice(["LPOP", "RPOP"]), rng.choice(keys)),
        lambda: (rng.choice(["LPOP", "RPOP"]), rng.choice(keys), rng.randint(0, 5)),
        lambda: ("LRANGE", rng.choice(keys), idx(), idx()),
        lambda: ("LTRIM", rng.choice(keys), idx(), idx()),
        lambda: ("LINDEX", rng.choice(keys), idx()),
        lambda: ("LSET", rng.choice(keys), idx(), rng.choice(elems)),
        lambda: ("LINSERT", rng.choice(keys), rng.choice(["BEFORE", "AFTER"]),
                 rng.choice(elems), rng.choice(elems)),
        lambda: ("LREM", rng.choice(keys), rng.randint(-3, 3), rng.choice(elems)),
        lambda: ("LPOS", rng.choice(keys), rng.choice(elems), "RANK",
                 rng.choice([1, 2, -1, -2]), "COUNT", rng.randint(0, 3)),
        lambda: ("LMOVE", rng.choice(keys), rng.choice(keys), rng.choice(["LEFT", "RIGHT"]),
                 rng.choice(["LEFT", "RIGHT"])),
        lambda: ("RPOPLPUSH", rng.choice(keys), rng.choice(keys)),
        lambda: ("LMPOP", 2, *rng.sample(keys, 2), rng.choice(["LEFT", "RIGHT"]), "COUNT",
                 rng.randint(1, 4)),
        lambda: ("LLEN", rng.choice(keys)),
    ]
    for _ in range(600):
        both(*rng.choice(ops)())
    for key in keys:
        both("LRANGE", key, 0, -1)


# -- null kinds, dirty, effects, notifications ------------------------------------------------

def _raw(port: int, *args) -> bytes:
    """One command's reply frame, raw, from redis-server (to tell `$-1` from `*-1`)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        sock.sendall(b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a)
                                                       for a in argv))
        return sock.recv(1 << 16)


def _frame(reply) -> bytes:
    if reply is None:
        return b"$-1\r\n"
    if reply is NULL_ARRAY:
        return b"*-1\r\n"
    if reply == []:
        return b"*0\r\n"
    return b"other"


@pytest.mark.parametrize("args", [
    ("LPOP", "nokey"), ("RPOP", "nokey"), ("LPOP", "nokey", 2), ("RPOP", "nokey", 0),
    ("LPOP", "l", 0), ("LMPOP", 1, "nokey", "LEFT"), ("LINDEX", "nokey", 0),
    ("LINDEX", "l", 9), ("LPOS", "nokey", "a"), ("LPOS", "l", "zz"),
    ("LPOS", "nokey", "a", "COUNT", 1), ("LPOS", "l", "zz", "COUNT", 1),
    ("LRANGE", "nokey", 0, -1), ("LMOVE", "nokey", "d", "LEFT", "LEFT"),
    ("RPOPLPUSH", "nokey", "d"),
])
def test_null_kinds_match_redis(redis_server, oracle, args):
    """hiredis maps both `$-1` and `*-1` to None, so compare the frames Redis sends with the
    reply types our handlers return."""
    oracle.execute("RPUSH", "l", "a")
    want = _raw(redis_server, *args)
    ks = kvstore.engine.Keyspace()
    ctx = Context(ks)
    execute(ctx, [b"RPUSH", b"l", b"a"])
    got = execute(ctx, [str(a).encode() for a in args])
    assert _frame(got) == want


def _rdb_changes(oracle) -> int:
    info = oracle.execute("INFO", "persistence").decode()
    return int(info.split("rdb_changes_since_last_save:")[1].split("\r\n")[0])


def test_dirty_counts_match_redis(oracle, store):
    """Every command adds to `dirty` what Redis adds to server.dirty (INFO persistence)."""
    seq = [
        ("RPUSH", "l", "a", "b", "c", "a"), ("LPUSH", "l", "x", "y"), ("LPUSHX", "no", "x"),
        ("RPUSHX", "l", "z"), ("LPOP", "l"), ("RPOP", "l", 2), ("LPOP", "l", 0),
        ("LPOP", "no"), ("LSET", "l", 0, "q"), ("LINSERT", "l", "BEFORE", "a", "w"),
        ("LINSERT", "l", "BEFORE", "nope", "w"), ("LREM", "l", 0, "a"), ("LREM", "l", 0, "zz"),
        ("LTRIM", "l", 0, -1), ("LTRIM", "l", 1, 1), ("RPUSH", "m", *"abcdef"),
        ("LMOVE", "m", "n", "LEFT", "RIGHT"), ("RPOPLPUSH", "m", "m"), ("RPOPLPUSH", "no", "m"),
        ("LMPOP", 2, "no", "m", "LEFT", "COUNT", 3), ("LMPOP", 1, "no", "LEFT"),
        ("LRANGE", "m", 0, -1), ("LINDEX", "m", 0), ("LPOS", "m", "a"), ("LLEN", "m"),
        ("LTRIM", "m", 5, 1), ("LTRIM", "m", 0, 1),
    ]
    for args in seq:
        before_r, before_k = _rdb_changes(oracle), store.keyspace.dirty
        try:
            oracle.execute(*args)
        except ResponseError:
            pass
        try:
            store.execute(*args)
        except ResponseError:
            pass
        assert store.keyspace.dirty - before_k == _rdb_changes(oracle) - before_r, args


def test_notifications_match_redis(redis_server, oracle, store):
    """The (event, key) stream equals Redis's __keyevent@0__ messages; classes are l / g."""
    seq = [
        ("RPUSH", "l", "a", "b", "c"), ("LPUSH", "l", "x"), ("LPUSHX", "no", "x"),
        ("RPUSHX", "l", "y"), ("LPOP", "l"), ("RPOP", "l", 2), ("LSET", "l", 0, "q"),
        ("LINSERT", "l", "AFTER", "q", "w"), ("LINSERT", "l", "AFTER", "nope", "w"),
        ("LREM", "l", 1, "w"), ("LREM", "l", 0, "zzz"), ("LTRIM", "l", 0, -1),
        ("LMOVE", "l", "m", "RIGHT", "LEFT"), ("RPOPLPUSH", "m", "m"),
        ("RPOPLPUSH", "m", "l"), ("RPUSH", "n", "1", "2"), ("LMPOP", 1, "n", "RIGHT"),
        ("LPOP", "n", 5), ("RPUSH", "t", "1"), ("LTRIM", "t", 1, 0), ("RPUSH", "r", "1"),
        ("LREM", "r", 0, "1"),
    ]
    events, want = keyevent_streams(redis_server, oracle, store, "Elg", seq)
    assert [(e, k) for _, e, k in events] == want
    assert all(cls == ("g" if e == "del" else "l") for cls, e, _ in events)


def test_effects_and_serve_helpers():
    ks = kvstore.engine.Keyspace()
    ctx = Context(ks)
    execute(ctx, [b"RPUSH", b"a", b"1", b"2", b"3"])
    assert ctx.effects is None
    for argv in ([b"LPOP", b"a"], [b"LMOVE", b"a", b"b", b"LEFT", b"LEFT"]):
        execute(ctx, argv)
        assert ctx.effects is None  # logged as sent
    execute(ctx, [b"LMPOP", b"2", b"none", b"a", b"LEFT", b"COUNT", b"5"])
    assert ctx.effects == [[b"LPOP", b"a", b"1"]]  # as Redis propagates it
    execute(ctx, [b"RPUSH", b"a", b"4", b"5", b"6"])
    ctx.effects = None
    assert serve_pop(ctx, [b"none", b"a"], RIGHT) == [b"a", b"6"]
    assert ctx.effects == [[b"RPOP", b"a"]]
    assert serve_mpop(ctx, [b"a"], LEFT, 10) == [b"a", [b"4", b"5"]]
    assert ctx.effects == [[b"LPOP", b"a", b"2"]]
    assert b"a" not in ctx.db.data
    ctx.effects = None
    assert serve_pop(ctx, [b"a"], LEFT) is None and ctx.effects is None
    assert serve_mpop(ctx, [b"a"], LEFT, 1) is None and ctx.effects is None
    assert serve_move(ctx, b"a", b"b", LEFT, RIGHT) is None and ctx.effects is None
    assert serve_move(ctx, b"b", b"c", RIGHT, LEFT) == b"2"
    assert ctx.effects == [[b"LMOVE", b"b", b"c", b"right", b"left"]]  # (Redis's shared.left)
    assert serve_move(ctx, b"c", b"b", RIGHT, LEFT, sides=[b"Right", b"lefT"]) == b"2"
    assert ctx.effects == [[b"LMOVE", b"c", b"b", b"Right", b"lefT"]]  # (as sent, at once)
    assert serve_move(ctx, b"b", b"c", RIGHT, LEFT) == b"2"
    assert serve_move(ctx, b"c", b"b", RIGHT, LEFT, rpoplpush=True) == b"2"
    assert ctx.effects == [[b"RPOPLPUSH", b"c", b"b"]]  # BRPOPLPUSH's


def test_lazy_expiry_and_encoding():
    clock = ManualClock()
    s = kvstore.open(clock=clock, active_expire=False)
    try:
        s.rpush("l", "a", "b")
        s.keyspace.dbs[0].set_expire(b"l", clock.now + 100)
        assert s.lrange("l", 0, -1) == [b"a", b"b"]
        clock.advance(101)
        assert s.lpop("l") is None
        assert s.lpushx("l", "x") == 0
        assert s.lpush("l", "c") == 1
        assert b"l" not in s.keyspace.dbs[0].expires
        value = s.keyspace.dbs[0].data[b"l"]
        assert type(value) is List
        assert kvstore.engine.encoding_of(value) == b"quicklist"
    finally:
        s.close()


def test_command_table_entries_match_redis(oracle):
    for name in ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange",
                 "lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush",
                 "lmpop"]:
        info = oracle.execute("COMMAND", "INFO", name)[0]
        cmd = COMMANDS[name.encode()]
        assert cmd.arity == info[1], name
        flags = [f.decode() for f in info[2]]
        assert cmd.flag_names() == flags, name
        assert (cmd.keyspec.first, cmd.keyspec.last, cmd.keyspec.step) == tuple(info[3:6]), name


# -- methods (redis-py shapes) ----------------------------------------------------------------

METHODS = ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange", "lindex",
           "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop", "blpop",
           "brpop", "blmove", "brpoplpush", "blmpop"]


def _redis_py_method(name):
    return getattr(ListCommands, name, None) or getattr(BasicKeyCommands, name)


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", METHODS)
def test_method_signatures_match_redis_py(name):
    assert _params(getattr(kvstore.Store, name)) == _params(_redis_py_method(name))


class _Recorder:
    """Stands in for a client: records the argv a method builds and applies its callback."""

    def execute_command(self, *args, callback=None, **options):
        self.args = args
        self.callback = callback
        return "sent"


@pytest.mark.parametrize("name, args, kwargs", [
    ("blpop", (["a", "b"],), {}), ("blpop", ("a", 5), {}), ("blpop", ("a", None), {}),
    ("brpop", (["a"], 1.5), {}), ("brpoplpush", ("a", "b"), {}),
    ("brpoplpush", ("a", "b", None), {}), ("blmove", ("a", "b", 3), {}),
    ("blmove", ("a", "b", 3, "RIGHT", "LEFT"), {}),
    ("blmpop", (1, 2, "a", "b"), {"direction": "LEFT"}),
    ("blmpop", (0, 1, "a"), {"direction": "RIGHT", "count": 3}),
    ("lmpop", (2, "a", "b"), {"direction": "LEFT"}),
    ("lmpop", (1, "a"), {"direction": "LEFT", "count": 2}),
    ("lpos", ("l", "v"), {"rank": -1, "count": 0, "maxlen": 9}),
    ("lpop", ("l",), {}), ("lpop", ("l", 0), {}), ("rpop", ("l", 2), {}),
])
def test_methods_build_redis_py_argv(name, args, kwargs):
    ours, theirs = _Recorder(), _Recorder()
    getattr(kvstore.Store, name)(ours, *args, **kwargs)
    _redis_py_method(name)(theirs, *args, **kwargs)
    assert ours.args == theirs.args


def test_blocking_method_callbacks():
    rec = _Recorder()
    kvstore.Store.blpop(rec, "a")
    assert rec.callback([b"a", b"x"]) == (b"a", b"x")
    assert rec.callback(None) is None


def test_methods_match_redis_py(pair):
    r, s = pair
    calls = [
        ("rpush", ("l", "a", "b", "c", "a"), {}), ("lpush", ("l", 1, 2.5), {}),
        ("lpushx", ("l", "x"), {}), ("rpushx", ("nokey", "x"), {}), ("llen", ("l",), {}),
        ("lrange", ("l", 0, -1), {}), ("lrange", ("l", -2, 100), {}), ("lindex", ("l", -1), {}),
        ("lindex", ("l", 99), {}), ("lset", ("l", 0, "z"), {}), ("lset", ("l", 99, "z"), {}),
        ("lset", ("nokey", 0, "z"), {}), ("linsert", ("l", "BEFORE", "a", "p"), {}),
        ("linsert", ("l", "AFTER", "nope", "p"), {}), ("lrem", ("l", -1, "a"), {}),
        ("lpos", ("l", "a"), {}), ("lpos", ("l", "a"), {"rank": -1}),
        ("lpos", ("l", "a"), {"count": 0}), ("lpos", ("l", "a"), {"rank": 0}),
        ("lpos", ("l", "a"), {"count": 1, "maxlen": 2}), ("lpop", ("l",), {}),
        ("rpop", ("l", 2), {}), ("lpop", ("nokey", 2), {}), ("lpop", ("l", 0), {}),
        ("rpop", ("nokey",), {}), ("lmove", ("l", "m"), {}),
        ("lmove", ("l", "m", "RIGHT", "LEFT"), {}), ("rpoplpush", ("m", "l"), {}),
        ("rpoplpush", ("nokey", "l"), {}), ("ltrim", ("l", 0, 1), {}),
        ("lrange", ("l", 0, -1), {}), ("lmpop", (2, "nokey", "l"), {"direction": "RIGHT"}),
        ("lmpop", (2, "m", "l"), {"direction": "LEFT", "count": 5}),
        ("lmpop", (1, "nokey"), {"direction": "LEFT"}), ("ltrim", ("nokey", 0, 1), {}),
        ("set", ("s", "v"), {}), ("lpush", ("s", "x"), {}), ("lrange", ("s", 0, 1), {}),
        ("lpop", ("s", -1), {}),
    ]
    for name, args, kwargs in calls:
        got = method_outcome(s, name, *args, **kwargs)
        assert got == method_outcome(r, name, *args, **kwargs), (name, args)


def test_methods_decode_responses(redis_server):
    r = redis.Redis(port=redis_server, decode_responses=True)
    r.flushall()
    s = kvstore.open(decode_responses=True)
    try:
        for c in (r, s):
            c.rpush("l", "a", "b", "c")
        for name, args, kwargs in [("lrange", ("l", 0, -1), {}), ("lpop", ("l",), {}),
                                   ("lmpop", (1, "l"), {"direction": "RIGHT", "count": 2})]:
            got = method_outcome(s, name, *args, **kwargs)
            assert got == method_outcome(r, name, *args, **kwargs)
    finally:
        r.close()
        s.close()
