"""The large random differential run: one seeded command stream on the real redis-server and on
an embedded kvstore, every reply and error text compared.

    python -m tests.compat.fuzz --commands 50000 --seed 1 [--port P] [--family zsets[,lists]]

Theory of operation
-------------------
`Gen` (in fuzz_gen.py) draws commands from a small key space (6 keys per type, `string:0`..,
`hash:0`.., plus shared `any:0..4` keys that every family writes, so type clashes are frequent)
and small member/field/value alphabets, so commands hit existing data. Numbers mix ordinary
values, edges (2^63-1, -2^63), garbage, inf and nan; options come in random combinations and
random letter case, and ~3% of commands get their arity broken on purpose.

Each command runs on both sides. The oracle side is a raw RESP2 socket with our own small parser,
which keeps simple strings (`+OK`, str) apart from bulk strings (bytes); the kvstore side calls the
store's front door `Store._call(argv)` and converts the reply the same way, so a handler that
answers a bulk where Redis answers a status (or a double where Redis answers an integer) is a
mismatch, as it would be on the wire. A Python exception escaping a handler is a "crash".

Replies are compared after a per-command normaliser (`normalise`):
* order-insensitive replies (SMEMBERS, SINTER/SUNION/SDIFF, KEYS, and HKEYS/HVALS/HGETALL of a
  hash Redis holds as a hashtable) are sorted; listpack hashes keep insertion order and are
  compared in order;
* a SCAN-family call that succeeds is continued on each side until its cursor returns to 0 and the
  set of elements is compared (cursors themselves are implementation details);
* TTL / PTTL / EXPIRETIME / PEXPIRETIME are compared within 1 s / 1000 ms, because a relative TTL
  is set at slightly different instants on the two sides; EXPIRETIME/PEXPIRETIME replies equal to
  an absolute time the generator produced (EXPIREAT, PEXPIREAT, EXAT, PXAT) are compared exactly;
* random commands (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, RANDOMKEY) are compared by
  properties checked against the key's state read from Redis just before the command (count,
  distinctness, membership, the values/scores paired with fields/members); DUMP only by kind (our
  payload format is our own); OBJECT IDLETIME only by type (we do not track access times).

Dirty. Both sides also report whether the command changed the dirty counter (Redis's
`server.dirty`, read from INFO persistence in the same round trip; kvstore's `ks.dirty` minus lazy
expiries, which kvstore counts and Redis does not). It drives AOF logging and WATCH, so "changed
something" vs "changed nothing" must agree; a disagreement is a "dirty" mismatch. FLUSHDB and
FLUSHALL are left out (Redis force-propagates them whatever dirty says).

Self-test. `--self-test` puts a second redis-server where kvstore stands; anything but 100% is a
harness bug (non-determinism the normalisers do not cover).

Resync. A random command leaves the two sides in different states, and a mismatch may too. After
either, the keys the command named are copied from Redis into kvstore *through the engine*
(`Database.delete/add/set_expire`, values built from `kvstore.engine.values`, the `big` encoding
flag copied from OBJECT ENCODING; sorted sets are rebuilt with kvstore's own ZADD since the ZSet
type is not ours to build). Going through the engine rather than kvstore's commands keeps the
resync independent of which commands exist yet, and copies the encoding exactly. Commands that
act on other databases (MOVE, COPY DB, SWAPDB, SELECT, FLUSHDB) resync every database. Random
commands are also resynced *before* they run, so both sides draw from the same state. Every
`check_every` commands the whole keyspace of databases 0-2 is compared (type, contents, TTL within
1000 ms, container encoding), differences are recorded as "state" mismatches, then resynced.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import kvstore
from kvstore.engine import values as V
from kvstore.errors import ResponseError
from kvstore.replies import NullArray, ScorePairs, Status
from kvstore.numbers import format_double

from .fuzz_gen import FAMILIES, POOLS, Gen, family_of

DBS = (0, 1, 2)          # the databases the stream uses (SELECT/MOVE/SWAPDB/COPY DB)
HISTORY = 12             # recent commands kept to explain a state mismatch

# -- the two sides ----------------------------------------------------------------------------


class RawRedis:
    """RESP2 over a socket: bulk -> bytes, simple string -> str, integer -> int, nil -> None,
    array -> list; an error reply becomes ("err", text) in `call`."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def call(self, argv: list[bytes]):
        out = [b"*%d\r\n" % len(argv)]
        for a in argv:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self._read()

    def _read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("redis-server closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"$":
            n = int(rest)
            return ("ok", None) if n < 0 else ("ok", self.f.read(n + 2)[:-2])
        if t == b":":
            return ("ok", int(rest))
        if t == b"+":
            return ("ok", rest.decode())
        if t == b"-":
            return ("err", rest.decode("utf-8", "replace"))
        if t == b"*":
            n = int(rest)
            if n < 0:
                return ("ok", None)
            items = []
            for _ in range(n):
                kind, v = self._read()
                items.append(v if kind == "ok" else ("err", v))
            return ("ok", items)
        raise ValueError(f"bad RESP line {line!r}")

    def pipeline(self, cmds: list[list[bytes]]) -> list:
        """Several commands in one round trip; their outcomes in order."""
        out = []
        for argv in cmds:
            out.append(b"*%d\r\n" % len(argv))
            for a in argv:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return [self._read() for _ in cmds]

    def call_counted(self, argv: list[bytes]):
        """(outcome, whether the command changed Redis's `server.dirty`), in one round trip:
        INFO persistence's rdb_changes_since_last_save is server.dirty."""
        info = [b"INFO", b"persistence"]
        before, outcome, after = self.pipeline([info, argv, info])
        return outcome, _dirty(before) != _dirty(after)

    def ok(self, *args):
        """A helper command that must succeed; returns its value."""
        kind, v = self.call([a if type(a) is bytes else str(a).encode() for a in args])
        if kind != "ok":
            raise RuntimeError(f"oracle helper {args!r} failed: {v}")
        return v

    def close(self) -> None:
        self.f.close()
        self.sock.close()


def _dirty(info) -> int:
    text = info[1]
    i = text.index(b"rdb_changes_since_last_save:") + 28
    return int(text[i:text.index(b"\r", i)])


def wire_value(reply):
    """A kvstore handler's reply as RESP2 carries it, keeping status (str) apart from bulk."""
    t = type(reply)
    if t is bytes or t is int or reply is None:
        return reply
    if t is Status:
        return str(reply)
    if t is float:
        return format_double(reply)
    if t is ScorePairs:
        out = []
        for member, score in reply:
            out.append(member)
            out.append(format_double(score))
        return out
    if isinstance(reply, list):
        return [wire_value(x) for x in reply]
    if t is dict:
        out = []
        for k, v in reply.items():
            out.append(wire_value(k))
            out.append(wire_value(v))
        return out
    if t is NullArray:
        return None
    if t is bool:
        return int(reply)
    if hasattr(reply, "value"):  # replies.Bool
        return int(reply.value)
    if isinstance(reply, bytes):
        return bytes(reply)
    return ("unexpected reply type", t.__name__)


class KvSide:
    """The embedded store, driven through its single front door."""

    def __init__(self) -> None:
        self.store = kvstore.open(active_expire=False)

    def call_counted(self, argv: list[bytes]):
        """(outcome, whether the command changed the keyspace's dirty counter)."""
        ks = self.store.keyspace
        before, expired = ks.dirty, ks.expired_keys
        outcome = self.call(argv)
        # The keyspace also counts lazy expiries in dirty (so their DEL reaches the AOF); Redis
        # does not (expireIfNeeded leaves server.dirty alone): leave those out of the comparison.
        return outcome, ks.dirty - (ks.expired_keys - expired) != before

    def call(self, argv: list[bytes]):
        try:
            return ("ok", wire_value(self.store._call(argv)))
        except ResponseError as exc:
            return ("err", str(exc))
        except Exception as exc:  # a bug in a handler: report it, keep fuzzing
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{os.path.basename(tb.filename)}:{tb.lineno}"
            return ("crash", f"{type(exc).__name__}: {exc} at {where}")

    @property
    def db(self):
        return self.store._ctx.db

    def db_index(self) -> int:
        return self.db.id

    def select(self, index: int) -> None:
        self.store._ctx.select(index)

    def key_names(self) -> set:
        return set(self.db.data)

    def dump(self, key: bytes):
        """kv_dump, or a marker when a container was left empty (Redis deletes those)."""
        value = self.db.data.get(key)
        got = kv_dump(self, key, self.store.keyspace.clock())
        if value is not None and type(value) is not bytes and len(value) == 0:
            return ("empty container left in keyspace", got)
        return got

    def copy(self, key: bytes, dump) -> bool:
        return copy_key(self, key, dump)

    def close(self) -> None:
        self.store.close()


class RedisSide(RawRedis):
    """A second redis-server standing where kvstore stands (the harness's self-test)."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.ok("FLUSHALL")
        self.index = 0

    def call(self, argv):
        outcome = super().call(argv)
        if argv[0].upper() == b"SELECT" and outcome == ("ok", "OK"):
            self.index = int(argv[1])
        return outcome

    def call_counted(self, argv):
        outcome, dirty = super().call_counted(argv)
        if argv[0].upper() == b"SELECT" and outcome == ("ok", "OK"):
            self.index = int(argv[1])
        return outcome, dirty

    def db_index(self) -> int:
        return self.index

    def select(self, index: int) -> None:
        self.call([b"SELECT", b"%d" % index])

    def key_names(self) -> set:
        return set(self.ok("KEYS", "*"))

    def dump(self, key: bytes):
        return oracle_dump(self, key)

    def copy(self, key: bytes, dump) -> bool:
        self.ok("DEL", key)
        if dump is None:
            return True
        t, data, when, _ = dump
        if t == "string":
            self.ok("SET", key, data)
        else:
            flat = [x for pair in data for x in (pair if t != "zset" else pair[::-1])] \
                if t in ("hash", "zset") else data
            self.ok({"hash": "HSET", "list": "RPUSH", "set": "SADD", "zset": "ZADD"}[t], key, *flat)
        if when != -1:
            self.ok("PEXPIREAT", key, when)
        return True


# -- normalisers ------------------------------------------------------------------------------

SORTED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "KEYS"}
HASH_ORDER = {"HKEYS", "HVALS", "HGETALL"}
SCANS = {"SCAN": 1, "SSCAN": 2, "HSCAN": 2, "ZSCAN": 2}   # -> position of the cursor
PAIR_SCANS = {"HSCAN", "ZSCAN"}
TOLERANCE = {"TTL": 1, "PTTL": 1000, "EXPIRETIME": 1, "PEXPIRETIME": 1000}
RANDOM = {"SPOP", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER", "RANDOMKEY"}
LEX = {"ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"}   # + ZRANGE* BYLEX
MIXED = "lex range over members of different scores: unspecified"


def lex_source(name, argv):
    """The key a lex-range command reads, or None if the command is not one."""
    if name in LEX and len(argv) > 1:
        return argv[1]
    if name in ("ZRANGE", "ZRANGESTORE") and b"BYLEX" in (a.upper() for a in argv):
        return argv[1 if name == "ZRANGE" else 2] if len(argv) > 2 else None
    return None


def _pairs(flat):
    return list(zip(flat[::2], flat[1::2]))


def _full_scan(name, argv, first, call):
    """Continue a successful SCAN-family call on one side until its cursor is 0."""
    pos = SCANS[name]
    cursor, items = first
    items = list(items)
    for _ in range(10000):
        if cursor == b"0":
            break
        argv = argv[:pos] + [cursor] + argv[pos + 1:]
        kind, v = call(argv)
        if kind != "ok":
            return (kind, v)
        cursor, more = v
        items.extend(more)
    else:
        return ("ok", ("scan never ended", cursor))
    return ("ok", ("scan", sorted(set(_pairs(items) if name in PAIR_SCANS else items))))


def _random_props(name, argv, v, pre):
    """Properties of a random command's reply, checked against the state before it ran.
    Returns a canonical value that both sides produce when both replies are valid."""
    typ, data = pre
    if name == "RANDOMKEY":
        return ("randomkey", v is None) if (v is None) == (not data) and (
            v is None or v in data) else ("INVALID", v)
    # members and, where the reply pairs them, their values / formatted scores
    pool = dict(data) if typ in ("hash", "zset") else {m: None for m in (data or [])}
    card = len(pool)
    with_values = len(argv) == 4 and argv[3].upper() in (b"WITHVALUES", b"WITHSCORES")
    if len(argv) == 2:                       # one element or nil
        return ("one", v is None) if (v is None) == (card == 0) and (
            v is None or v in pool) else ("INVALID", v)
    count = int(argv[2])
    items = _pairs(v) if with_values else v
    names = [x[0] for x in items] if with_values else items
    ok = isinstance(v, list) and all(n in pool for n in names)
    if with_values:
        ok = ok and all(pool[n] == val for n, val in items)
    unique = name == "SPOP" or count >= 0
    if unique:
        ok = ok and len(set(names)) == len(names) == min(count, card)
    else:
        ok = ok and len(names) == (-count if card else 0)
    return ("many", len(names)) if ok else ("INVALID", v)


def normalise(name, argv, outcome, pre, call):
    """The comparable form of one outcome (see the module docstring)."""
    kind, v = outcome
    if kind != "ok":
        return outcome
    if name in SORTED and isinstance(v, list):
        return ("ok", sorted(v))
    if name in HASH_ORDER and pre == b"hashtable" and isinstance(v, list):
        return ("ok", sorted(_pairs(v)) if name == "HGETALL" else sorted(v))
    if name in SCANS and isinstance(v, list) and len(v) == 2:
        return _full_scan(name, argv, v, call)
    if name in RANDOM and pre is not None:
        return ("ok", _random_props(name, argv, v, pre))
    if name == "DUMP":
        return ("ok", ("dump payload", v is None))
    if pre is MIXED:
        return ("ok", MIXED)
    if name == "OBJECT" and argv[1].upper() == b"IDLETIME" and type(v) is int:
        return ("ok", ("idletime", "int"))
    return outcome


def tolerated(name, want, got, exact_times) -> bool:
    """TTL-family replies within the tolerance (see the module docstring)."""
    tol = TOLERANCE.get(name)
    if tol is None or want[0] != "ok" or got[0] != "ok":
        return False
    a, b = want[1], got[1]
    if type(a) is not int or type(b) is not int or a < 0 or b < 0:
        return False
    if name.endswith("EXPIRETIME") and a in exact_times:
        return False
    return abs(a - b) <= tol


# -- state copy and comparison ----------------------------------------------------------------


_READ = {"string": [b"GET"], "hash": [b"HGETALL"], "list": [b"LRANGE", None, b"0", b"-1"],
         "set": [b"SMEMBERS"], "zset": [b"ZRANGE", None, b"0", b"-1", b"WITHSCORES"]}


def oracle_dumps(r: RawRedis, keys) -> dict:
    """{key: (type, contents, pexpiretime, encoding) or None} for keys of Redis's current
    database, in two pipelined round trips."""
    keys = list(keys)
    types = [v for _, v in r.pipeline([[b"TYPE", k] for k in keys])]
    cmds, live = [], []
    for key, t in zip(keys, types):
        if t == "none" or t not in _READ:
            continue
        read = _READ[t]
        cmds.append([read[0], key] + read[2:])
        cmds.append([b"PEXPIRETIME", key])
        cmds.append([b"OBJECT", b"ENCODING", key])
        live.append((key, t))
    replies = [v for _, v in r.pipeline(cmds)]
    out = dict.fromkeys(keys)
    for i, (key, t) in enumerate(live):
        data, when, enc = replies[3 * i: 3 * i + 3]
        if t == "hash" or t == "zset":
            data = _pairs(data)
        elif t == "set":
            data = sorted(data)
        out[key] = (t, data, when, enc.decode())
    return out


def oracle_dump(r: RawRedis, key: bytes):
    """(type, contents, pexpiretime, encoding) of a key in Redis's current database."""
    return oracle_dumps(r, [key])[key]


def kv_dump(kv: KvSide, key: bytes, now: int):
    """The same view of a key in kvstore, read from the engine (zsets through ZRANGE)."""
    db = kv.db
    when = db.expires.get(key)
    if when is not None and when <= now:
        return None
    value = db.data.get(key)
    if value is None:
        return None
    try:
        t = V.type_name(value).decode()
    except KeyError:
        t = type(value).__name__
    if t == "string":
        data = value
    elif t == "hash":
        data = list(value.items())
    elif t == "list":
        data = list(value)
    elif t == "set":
        data = sorted(value)
    elif t == "zset":
        kind, flat = kv.call([b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])
        data = _pairs(flat) if kind == "ok" else (kind, flat)
    else:
        data = repr(value)[:200]
    try:
        enc = V.encoding_of(value).decode()
    except Exception as exc:  # noqa: BLE001 - report, not crash
        enc = f"<{type(exc).__name__}>"
    return (t, data, -1 if when is None else when, enc)


def _zero(dump):
    """A zset score of -0 (Redis keeps one made by arithmetic, e.g. ZINCRBY) compared as 0 in
    state checks: a resync can only ZADD it, which stores 0. The replies of the commands that
    make or read it are still compared exactly."""
    if dump[0] != "zset" or not isinstance(dump[1], list):
        return dump
    return (dump[0], [(m, b"0" if s == b"-0" else s) for m, s in dump[1]]) + tuple(dump[2:])


def same_state(want, got, encodings: bool = True) -> bool:
    if want is None or got is None or len(got) != 4:
        return want == got
    want, got = _zero(want), _zero(got)
    if want[:2] != got[:2]:
        # listpack hashes keep order; hashtable order is Redis's own: compare as sets
        if not (want[0] == "hash" and want[3] == "hashtable" and got[0] == "hash"
                and sorted(want[1]) == sorted(got[1])):
            return False
    if (want[2] == -1) != (got[2] == -1) or abs(want[2] - got[2]) > 1000:
        return False
    # string encodings depend on history (APPEND -> raw, INCR -> int); OBJECT ENCODING commands
    # test them; the state check compares container encodings only
    return want[0] == "string" or not encodings or want[3] == got[3]


def copy_key(kv: KvSide, key: bytes, dump) -> bool:
    """Make kvstore's `key` (current database) what Redis holds (its `oracle_dump`).
    False if it cannot."""
    db = kv.db
    db.delete(key)
    if dump is None:
        return True
    t, data, when, enc = dump
    if t == "string":
        value = data
    elif t == "hash":
        value = V.Hash()
        value.update(data)
        value.big = enc == "hashtable"
    elif t == "list":
        value = V.List(data)
    elif t == "set":
        value = V.Set(data)
        value.big = enc == "hashtable"
    elif t == "zset":
        argv = [b"ZADD", key]
        for member, score in data:
            argv += [score, member]
        if kv.call(argv)[0] != "ok":
            return False
        value = db.data[key]
        if hasattr(value, "big"):
            value.big = enc == "skiplist"
    else:
        return False
    db.data[key] = value
    if when != -1:
        db.set_expire(key, when)
    return True


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Mismatch:
    index: int
    argv: list
    want: tuple
    got: tuple
    kind: str                      # reply | error-text | unimplemented | crash | state
    history: list = field(default_factory=list)

    def command(self) -> str:
        return self.argv[0].decode().upper() if self.kind != "state" else "(state)"

    def show(self) -> str:
        args = " ".join(_show_arg(a) for a in self.argv)
        s = f"#{self.index} [{self.kind}] {args}\n    redis:   {_short(self.want)}\n" \
            f"    kvstore: {_short(self.got)}"
        if self.history:
            s += "\n    recent: " + "\n            ".join(self.history)
        return s


def _show_arg(a) -> str:
    s = a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else str(a)
    if len(s) > 24:
        s = s[:20] + f"..({len(s)})"
    return repr(s) if (not s or " " in s) else s


def _short(v, limit: int = 300) -> str:
    s = repr(v)
    return s if len(s) <= limit else s[:limit] + "..."


def classify(want, got) -> str:
    if got[0] == "crash":
        return "crash"
    if got[0] == "err" and got[1].startswith("ERR unknown command") and not (
            want[0] == "err" and want[1].startswith("ERR unknown command")):
        return "unimplemented"
    if want[0] == "err" and got[0] == "err":
        return "error-text"
    if want[0] == "err" or got[0] == "err":
        return "error-vs-reply"
    return "reply"


# Redis propagates these to the AOF even when they change nothing (forceCommandPropagation), so
# its dirty counter says nothing about whether they are logged: left out of the dirty check.
FORCED = {"FLUSHDB", "FLUSHALL"}
MULTI_DB = {"MOVE", "COPY", "SWAPDB", "SELECT", "FLUSHDB", "FLUSHALL"}


class Runner:
    """One differential run. `twin_port`: compare Redis with a second redis-server instead of
    kvstore, which must give 100% (a self-test of the generator and the normalisers)."""

    def __init__(self, port: int, seed: int = 1, families=None, check_every: int = 250,
                 twin_port: int | None = None) -> None:
        self.r = RawRedis(port)
        self.twin = twin_port
        self.kv = KvSide() if twin_port is None else RedisSide(twin_port)
        self.families = list(families or FAMILIES)
        self.gen = Gen(seed, self.families)
        self.check_every = check_every
        self.stats: dict[str, Counter] = defaultdict(Counter)
        self.mismatches: list[Mismatch] = []
        self.history: list[str] = []
        self.index = 0
        self.state_checks = 0
        self.dropped = 0   # keys deleted from Redis because kvstore cannot hold their type yet

    # the database both sides have selected: Redis's is the truth
    def _follow_db(self) -> None:
        if self.kv.db_index() != self.gen.db:
            self.kv.select(self.gen.db)

    def setup(self) -> None:
        """Both sides empty, then a few keys of every type (so keys/expiry commands and type
        clashes have data from the first command on), created in Redis and copied over."""
        self.r.ok("FLUSHALL")
        for argv in self.gen.seed_commands():
            self.r.ok(*argv)
        self.resync_all()

    def copy(self, key: bytes, dump=False) -> None:
        """Copy one key from Redis to kvstore. A value kvstore cannot hold yet (its family's
        commands are missing, e.g. no ZADD) is deleted from Redis too, so one missing family
        does not turn into type-clash mismatches in every other family."""
        if dump is False:
            dump = oracle_dump(self.r, key)
        if not self.kv.copy(key, dump):
            self.r.ok("DEL", key)
            self.dropped += 1

    def resync_keys(self, keys) -> None:
        dumps = oracle_dumps(self.r, keys)
        for key in keys:
            self.copy(key, dumps[key])

    def all_keys(self) -> set:
        keys = set()
        for pool in POOLS.values():
            keys.update(pool)
        return keys | set(self.r.ok("KEYS", "*")) | self.kv.key_names()

    def resync_all(self) -> None:
        for d in DBS:
            self.r.ok("SELECT", d)
            self.kv.select(d)
            keys = list(self.all_keys())
            dumps = oracle_dumps(self.r, keys)
            for key in keys:
                self.copy(key, dumps[key])
        self.r.ok("SELECT", self.gen.db)
        self.kv.select(self.gen.db)

    def check_state(self) -> None:
        """Compare every key of every database; record and repair differences."""
        self.state_checks += 1
        for d in DBS:
            self.r.ok("SELECT", d)
            self.kv.select(d)
            keys = sorted(self.all_keys())
            dumps = oracle_dumps(self.r, keys)
            for key in keys:
                want = dumps[key]
                got = self.kv.dump(key)
                if same_state(want, got, self.twin is None):
                    continue
                if not self.kv.copy(key, want):  # kvstore cannot hold the type yet
                    self.r.ok("DEL", key)
                    self.dropped += 1
                    continue
                hist = [h for h in self.history if key.decode() in h]
                self.mismatches.append(Mismatch(self.index, [b"(db %d)" % d, key], want, got,
                                                "state", hist[-HISTORY:]))
        self.r.ok("SELECT", self.gen.db)
        self.kv.select(self.gen.db)

    def step(self) -> None:
        argv, keys, family = self.gen.next()
        name = argv[0].decode().upper()
        pre = self._prefetch(name, argv, keys)
        want, want_dirty = self.r.call_counted(argv)
        got, got_dirty = self.kv.call_counted(argv)
        self.gen.observe(name, argv, want)
        self._follow_db()
        wn = normalise(name, argv, want, pre, self.r.call)
        gn = normalise(name, argv, got, pre, self.kv.call)
        if self.twin and name == "OBJECT":   # the twin's resync cannot copy sticky encodings
            wn = gn
        st = self.stats[name]
        st["total"] += 1
        if want[0] == "ok":
            st["redis-ok"] += 1
        self.history.append(f"#{self.index} " + " ".join(_show_arg(a) for a in argv))
        del self.history[:-200]
        if want_dirty != got_dirty and got[0] != "crash" and name not in FORCED and not (
                got[0] == "err" and got[1].startswith("ERR unknown command")):
            # dirty drives AOF logging and WATCH: a write that changed something must raise
            # it, a command that changed nothing must not
            st["dirty"] += 1
            self.mismatches.append(Mismatch(self.index, argv, ("dirty changed", want_dirty, want),
                                            ("dirty changed", got_dirty, got), "dirty"))
        if wn == gn or tolerated(name, wn, gn, self.gen.exact_times):
            st["match"] += 1
            if name in RANDOM or pre is MIXED:
                self.resync_keys(keys)
        else:
            kind = classify(wn, gn)
            st[kind] += 1
            self.mismatches.append(Mismatch(self.index, argv, wn, gn, kind))
            if name in MULTI_DB:
                self.resync_all()
            else:   # any argument may have been used as a key (e.g. with a broken arity)
                self.resync_keys(list(dict.fromkeys(keys + argv[1:])))
        self.index += 1
        if self.check_every and self.index % self.check_every == 0:
            self.check_state()

    def _prefetch(self, name, argv, keys):
        """Oracle-side facts a normaliser needs, read before the command runs."""
        if name in HASH_ORDER and len(argv) == 2:
            kind, enc = self.r.call([b"OBJECT", b"ENCODING", argv[1]])
            return enc if kind == "ok" else None
        src = lex_source(name, argv)
        if src is not None:
            self.resync_keys(keys)
            dump = oracle_dump(self.r, src)
            if dump and dump[0] == "zset" and len({s for _, s in dump[1]}) > 1:
                return MIXED
            return None
        if name == "RANDOMKEY":
            self.resync_all()
            return ("keys", set(self.r.ok("KEYS", "*")))
        if name in RANDOM and len(argv) >= 2:
            self.resync_keys(keys)  # both sides draw from the same state
            dump = oracle_dump(self.r, argv[1])
            return ("none", []) if dump is None else (dump[0], dump[1])
        return None

    def run(self, commands: int) -> "Runner":
        self.setup()
        for _ in range(commands):
            self.step()
        self.check_state()
        return self

    def close(self) -> None:
        self.r.close()
        self.kv.close()

    # -- results ---------------------------------------------------------------------------------

    def family_stats(self) -> dict[str, Counter]:
        fam: dict[str, Counter] = defaultdict(Counter)
        for name, st in self.stats.items():
            fam[family_of(name)].update(st)
        return fam

    def report(self, show: int = 40, out=sys.stdout) -> None:
        p = lambda *a: print(*a, file=out)  # noqa: E731
        total = sum(st["total"] for st in self.stats.values())
        match = sum(st["match"] for st in self.stats.values())
        unimpl = sum(st["unimplemented"] for st in self.stats.values())
        p(f"{'command':<18}{'total':>7}{'match':>7}{'reply':>7}{'errtxt':>7}{'err/ok':>7}"
          f"{'unimpl':>7}{'crash':>7}{'dirty':>6}{'match%':>8}{'ok%':>6}")
        for name in sorted(self.stats, key=lambda n: (family_of(n), n)):
            st = self.stats[name]
            p(f"{name:<18}{st['total']:>7}{st['match']:>7}{st['reply']:>7}"
              f"{st['error-text']:>7}{st['error-vs-reply']:>7}{st['unimplemented']:>7}"
              f"{st['crash']:>7}{st['dirty']:>6}{100.0 * st['match'] / st['total']:>7.1f}%"
              f"{100.0 * st['redis-ok'] / st['total']:>5.0f}%")
        p("")
        for fam, st in sorted(self.family_stats().items()):
            impl = st["total"] - st["unimplemented"]
            p(f"family {fam:<8} {100.0 * st['match'] / st['total']:6.2f}% of {st['total']}"
              f"  ({100.0 * st['match'] / impl if impl else 0:6.2f}% of the {impl} commands"
              f" kvstore implements)")
        impl = total - unimpl
        p(f"\nOVERALL {100.0 * match / max(total, 1):.2f}% identical ({match}/{total}); "
          f"{100.0 * match / max(impl, 1):.2f}% of implemented commands ({match}/{impl})")
        states = [m for m in self.mismatches if m.kind == "state"]
        p(f"state checks: {self.state_checks}, key state differences: {len(states)}, keys"
          f" dropped from Redis because kvstore cannot hold their type yet: {self.dropped}")
        groups: dict[tuple, list] = defaultdict(list)
        for m in self.mismatches:
            groups[(m.command(), m.kind)].append(m)
        p(f"\nmismatch groups (command, kind): {len(groups)}")
        for (cmd, kind), ms in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            if kind == "unimplemented":
                continue
            p(f"- {cmd} [{kind}] x{len(ms)}\n  " + ms[0].show().replace("\n", "\n  "))
        missing = sorted(cmd for cmd, kind in groups if kind == "unimplemented")
        if missing:
            p(f"\nunimplemented in kvstore ({len(missing)}): {' '.join(missing)}")
        real = [m for m in self.mismatches if m.kind != "unimplemented"]
        if show and real:
            p(f"\nfirst {min(show, len(real))} mismatches (unimplemented commands left out):")
            for m in real[:show]:
                p(m.show())


def start_redis() -> tuple[int, subprocess.Popen, str]:
    """A private redis-server on a free port (no persistence); caller terminates it."""
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found: apt-get install redis-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="fuzz-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return port, proc, workdir
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    proc.kill()
    sys.exit("redis-server did not start")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commands", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, help="an existing redis-server (it gets FLUSHALLed)")
    ap.add_argument("--family", help=f"comma-separated subset of {','.join(FAMILIES)}")
    ap.add_argument("--show", type=int, default=40, help="mismatches to print in full")
    ap.add_argument("--check-every", type=int, default=250,
                    help="compare the whole keyspace every N commands (0: only at the end)")
    ap.add_argument("--self-test", action="store_true",
                    help="compare Redis with a second redis-server instead of kvstore "
                         "(anything but 100%% is a harness bug)")
    args = ap.parse_args(argv)
    families = args.family.split(",") if args.family else None
    for f in families or ():
        if f not in FAMILIES:
            ap.error(f"unknown family {f!r}; choose from {', '.join(FAMILIES)}")
    procs = []
    port = args.port
    if port is None:
        port, proc, _ = start_redis()
        procs.append(proc)
    twin = None
    if args.self_test:
        twin, proc, _ = start_redis()
        procs.append(proc)
    try:
        t0 = time.perf_counter()
        runner = Runner(port, args.seed, families, args.check_every, twin).run(args.commands)
        elapsed = time.perf_counter() - t0
        print(f"seed={args.seed} commands={args.commands} "
              f"families={','.join(runner.families)} in {elapsed:.1f}s")
        runner.report(args.show)
        runner.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
