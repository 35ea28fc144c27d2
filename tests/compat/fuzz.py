"""The large random differential run: one seeded command stream on the real redis-server and on
an embedded kvstore (or, with --server, a kvstore-server over the wire in RESP2 or RESP3), every
reply and error text compared.

    python -m tests.compat.fuzz --commands 50000 --seed 1 [--port P] [--family zsets[,lists]]
    python -m tests.compat.fuzz --server --protocol 3 --commands 20000 --seed 1

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

Wire mode (`--server`, fuzz_wire.py). The same stream, plus a connection family (fuzz_gen_wire.py:
MULTI/EXEC/DISCARD with queued commands and EXECABORT, HELLO 2/3 switches mid-stream, PING, ECHO,
CONFIG GET, INFO, CLIENT), runs on redis-server and on a `python -m kvstore` process, each over
its own socket starting in RESP `--protocol`. Replies are parsed with every RESP3 type kept
distinct (double vs bulk, map vs array, set vs array, boolean vs integer, null vs $-1 vs *-1,
verbatim, big number), then normalised as below; maps and sets compare as unordered collections.
Everything the harness does between commands goes over a second RESP2 connection per server, so
it never lands inside the stream's MULTI or in RESP3 shapes. `--notify` also compares, command
by command, what observers got (WireSide.drain): the keyspace events and a BCAST tracker's
invalidations, what INFO commandstats and errorstats counted (calls, rejected and failed
calls, errors by prefix), what MONITOR showed and SLOWLOG kept, and whether a WATCH of the
command's keys (and one more) made just before it still lets an EXEC run after it, and which
invalidations a default-mode tracker that read those keys just before gets; `--blockers
N` adds N connections per server that block on the stream's keys and
compares how and when the stream's commands serve them (fuzz_blocking.py).

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
  distinctness, membership, the values/scores paired with fields/members); DUMP by the value its
  payload decodes to (Redis LZF-compresses, we do not; hashes, sets and zsets in any order,
  streams as fuzz_streams.stream_view); OBJECT IDLETIME only by type (we do not track access
  times);
* the time fields of XPENDING's extended form, XINFO CONSUMERS and XINFO STREAM FULL (idle,
  delivery and seen times) become tokens (fuzz_streams.stream_times), nothing else of them;
* connection commands (wire mode): HELLO without the client id and version, INFO by frame and
  section titles, CLIENT ID by type, CLIENT INFO by frame and the fields of the connection's
  state, TIME and LASTSAVE by type (fuzz_wire.WIRE_NORMALISERS).

Blocking pops. The embedded store has no connection to block, so BLPOP & co (and XREAD /
XREADGROUP with BLOCK: fuzz_gen.blocking) with nothing to pop
answer at once, as Redis does where a client may not block; the runner sends them to Redis inside
MULTI/EXEC (`call_counted_in_multi`), where Redis never blocks either (and answers BLMOVE and
BRPOPLPUSH with a null bulk, not a timeout's null array). Over the wire both servers block for the
generated 1-20 ms timeout.

Scripts and functions. Before the stream both sides run `Gen.setup_commands()` (SCRIPT FLUSH,
FUNCTION FLUSH, FUNCTION LOAD of the fuzz library), through each side's `harness_call`. Status
and error texts of the embedded side are compared as its encoder sends them (CR and LF as
spaces, `one_line`), which is what Redis makes of them.

Dirty. Both sides also report whether the command changed the dirty counter (Redis's
`server.dirty`, read from INFO persistence in the same round trip; kvstore's `ks.dirty`; neither
counts expiries). It drives AOF logging and WATCH, so "changed
something" vs "changed nothing" must agree; a disagreement is a "dirty" mismatch. FLUSHDB and
FLUSHALL are left out (Redis force-propagates them whatever dirty says), and so are lex ranges
over mixed scores (which members they remove is unspecified).

Self-test. `--self-test` puts a second redis-server where kvstore stands; anything but 100% is a
harness bug (non-determinism the normalisers do not cover).

Resync. A random command leaves the two sides in different states, and a mismatch may too. After
either, the keys the command named are copied from Redis into kvstore *through the engine*
(`Database.delete/add/set_expire`, values built from `kvstore.engine.values`, the `big` encoding
flag copied from OBJECT ENCODING; sorted sets are rebuilt with kvstore's own ZADD since the ZSet
type is not ours to build). Going through the engine rather than kvstore's commands keeps the
resync independent of which commands exist yet, and copies the encoding exactly. Commands that
act on other databases (MOVE, COPY DB, SWAPDB, SELECT, FLUSHDB) resync every database. Random
commands are also resynced *before* they run, so both sides draw from the same state. In wire
mode the copy goes through plain commands instead (`fuzz_wire.wire_copy`, which also forces
Redis's sticky big encodings), and a mismatched EXEC resyncs every database. Every `check_every`
commands the whole keyspace of databases 0-2 is compared (type, contents, TTL within 1000 ms,
container encoding), differences are recorded as "state" mismatches, then resynced. A stream's
contents are its XINFO STREAM FULL and the stream itself, times as tokens, and it is copied by
its DUMP payload (RESTORE over the wire, engine/stream.py's reader embedded): fuzz_streams.py.

Self-test over the wire: `--server --self-test` runs the wire mode against a second redis-server.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import kvstore
from kvstore.engine import rdb
from kvstore.engine import values as V
from kvstore.errors import ResponseError
from kvstore.replies import Error, HumanDouble, NullArray, ScorePairs, Status
from kvstore.numbers import format_double, format_long_double

from .fuzz_blocking import Blockers
from .fuzz_pubsub import Subscribers
from .fuzz_gen import FAMILIES, POOLS, Gen, blocking, family_of
from .fuzz_streams import (STREAM_TIMES, XINFO_FULL, decode_stream, stream_state, stream_times,
                           stream_view)
from .fuzz_gen_wire import WIRE_FAMILIES, WireGen
from .fuzz_wire import (INFO_DIRTY, NIL_ARRAY, WIRE_NORMALISERS, RawRedis, WireSide, canon,
                        dirty_of, oracle_dump, oracle_dumps, pairs, plain, shape, start_server,
                        wire_copy)

DBS = (0, 1, 2)          # the databases the stream uses (SELECT/MOVE/SWAPDB/COPY DB)
HISTORY = 12             # recent commands kept to explain a state mismatch
# --notify: what the watcher WATCHes besides the command's keys (in the stream's database).
WATCH_POOL = [key for pool in POOLS.values() for key in pool[:2]]

# -- the two sides ----------------------------------------------------------------------------


def one_line(text: str) -> str:
    """A status or error text as the encoder sends it (protocol/encoder.py `_line`): CR and LF
    become spaces, as Redis makes them when it builds the reply (a script's error_reply of "a",
    CR, LF, "b" is "a  b" on both wires; embedded, only kvstore's encoder would make it so)."""
    return text.replace("\r", " ").replace("\n", " ")


def wire_value(reply):
    """A kvstore handler's reply as RESP2 carries it, keeping status (str) apart from bulk."""
    t = type(reply)
    if t is bytes or t is int or reply is None:
        return reply
    if t is Status:
        return one_line(str(reply))
    if t is float:
        return format_double(reply)
    if t is HumanDouble:
        return format_long_double(reply)
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
        return NIL_ARRAY
    if t is bool:
        return int(reply)
    if hasattr(reply, "value"):  # replies.Bool
        return int(reply.value)
    if t is Error:   # an error inside an aggregate (EXEC, a script's table): as parsed
        return ("err", one_line(reply.message))
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
        before = ks.dirty
        outcome = self.call(argv)
        return outcome, ks.dirty != before

    def call(self, argv: list[bytes]):
        try:
            return ("ok", wire_value(self.store._call(argv)))
        except ResponseError as exc:
            return ("err", one_line(str(exc)))
        except Exception as exc:  # a bug in a handler: report it, keep fuzzing
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{os.path.basename(tb.filename)}:{tb.lineno}"
            return ("crash", f"{type(exc).__name__}: {exc} at {where}")

    def harness_call(self, argv: list[bytes]):
        """A command of the harness's own (Runner.setup), not part of the stream."""
        return self.call(argv)

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
        # (a Stream has no len(): an empty stream is a key, as in Redis)
        if value is not None and type(value) is not bytes and hasattr(value, "__len__") \
                and len(value) == 0:
            return ("empty container left in keyspace", got)
        return got

    def copy(self, key: bytes, dump) -> bool:
        # A key already the same is left as it is: a RESTORE would lose what its history gave
        # it and Redis's still has (a string's encoding, COPY's unshared integer).
        got = self.dump(key)
        if dump is not None and got is not None and len(got) == 4 and got[:3] == dump[:3] \
                and (got[0] == "string" or got[3] == dump[3]):
            return True
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

    def harness_call(self, argv):
        return RawRedis.call(self, argv)

    def select(self, index: int) -> None:
        self.call([b"SELECT", b"%d" % index])

    def key_names(self) -> set:
        return set(self.ok("KEYS", "*"))

    def dump(self, key: bytes):
        return oracle_dump(self, key)

    def copy(self, key: bytes, dump) -> bool:
        wire_copy(self, key, dump, encodings=False)
        return True


# -- normalisers ------------------------------------------------------------------------------

SORTED = {"SMEMBERS", "SINTER", "SUNION", "SDIFF", "KEYS"}
HASH_ORDER = {"HKEYS", "HVALS", "HGETALL"}
SORTS = {"SORT", "SORT_RO"}
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
    return ("ok", ("scan", sorted(set(pairs(items) if name in PAIR_SCANS else items))))


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
    if with_values and v and isinstance(v[0], list):   # RESP3: [[member, score], ...]
        v = [x for pair in v for x in pair]
    items = pairs(v) if with_values else v
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
    v = canon(v)
    if name in SORTED and isinstance(v, list):
        return ("ok", sorted(v))
    if name in HASH_ORDER and pre == b"hashtable" and isinstance(v, list):
        return ("ok", sorted(pairs(v)) if name == "HGETALL" else sorted(v))
    if name in SORTS and isinstance(v, list) and any(a.upper() == b"BY" for a in argv):
        return ("ok", sorted(v, key=repr))  # (see fuzz_gen.g_sort: orders from hash tables)
    if name in SCANS and isinstance(v, list) and len(v) == 2:
        return _full_scan(name, argv, v, call)
    if name in RANDOM and pre is not None:
        flat = plain(v)   # the properties are RESP2's; a RESP3 reply's types are compared too
        props = _random_props(name, argv, flat, pre)
        return ("ok", props if flat == v else (props, shape(v)))
    if name == "DUMP" and type(v) is bytes:
        return ("ok", ("dump payload", _decoded(v)))
    if pre is MIXED:
        return ("ok", MIXED)
    if name == "OBJECT" and argv[1].upper() == b"IDLETIME" and type(v) is int:
        return ("ok", ("idletime", "int"))
    if name in STREAM_TIMES:
        return ("ok", stream_times(name, argv, v))
    special = WIRE_NORMALISERS.get(name)
    if special is not None:
        return ("ok", special(argv, v))
    return ("ok", v)


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


def _decoded(payload: bytes):
    """What a DUMP payload holds, whatever its encoding: (kind, data), or why it is refused."""
    body = rdb.unframe(payload)
    if body is None:
        return "bad version or checksum"
    try:
        kind, data = rdb.load(body)
    except rdb.RdbFormatError as exc:
        return f"bad format: {exc}"
    if kind == "set":
        data = sorted(data)
    elif kind == "hash":
        data = sorted(zip(data[::2], data[1::2]))
    elif kind == "zset":   # (a skiplist is saved from its tail, a listpack from its head)
        data = sorted(zip(data[::2], data[1::2]), key=lambda pair: (pair[1], pair[0]))
    elif kind == "stream":   # (times as tokens: fuzz_streams)
        data = stream_view(data)
    return kind, data


def kv_dump(kv: KvSide, key: bytes, now: int):
    """The same view of a key in kvstore, read from the engine (zsets through ZRANGE)."""
    # Expired: gone, as the oracle's KEYS and DUMP delete it (so DBSIZE agrees afterwards).
    value = kv.db.lookup(key, now)
    if value is None:
        return None
    when = kv.db.expires.get(key)
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
        data = pairs(flat) if kind == "ok" else (kind, flat)
    elif t == "stream":
        data = stream_state(kv.call([a if a is not None else key for a in XINFO_FULL]), value)
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
    elif t == "stream":   # Redis's own payload, as RESTORE reads it
        value = decode_stream(data.payload)
        if type(value) is str:
            return False
    elif t == "zset":
        argv = [b"ZADD", key]
        for member, score in data:
            argv += [score, member]
        if kv.call(argv)[0] != "ok":
            return False
        value = db.data[key]
        if hasattr(value, "big"):
            value.big = enc == "skiplist"
            if value.big:  # a skiplist keeps a -0 made by arithmetic, which ZADD stores as 0
                for member, score in data:
                    if score == b"-0":
                        value.remove(member)
                        value.add(member, -0.0)
    else:
        return False
    db.data[key] = value
    if t == "string" and enc.encode() != V.string_encoding(value):
        db.mark_encoding(key, value, enc.encode())  # raw after APPEND, embstr after INCRBYFLOAT
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
# Commands that may act on other databases (EXEC through the commands it ran).
MULTI_DB = {"MOVE", "COPY", "SWAPDB", "SELECT", "FLUSHDB", "FLUSHALL", "EXEC"}


_WRAPPERS = {(b"multi",), (b"exec",)}


def _dels_first(sent: list[list[bytes]]) -> list[list[bytes]]:
    """Propagated commands without MULTI/EXEC and with the DELs first: equal for two streams
    that differ only by where the DEL of a key a command found expired goes (Redis 7.0 sends
    it inside a MULTI/EXEC with that command; we send it first, alone: README, known
    differences)."""
    rest = [argv for argv in sent if argv not in ([b"multi"], [b"exec"])]
    return [argv for argv in rest if argv[0] == b"del"] + \
        [argv for argv in rest if argv[0] != b"del"]


def _groups_left_out(sent: list[list[bytes]]) -> list[list[bytes]]:
    """Propagated commands but XGROUP's and XCLAIM's, and a MULTI/EXEC left around one command
    or none: consumer groups propagate as Redis 7.2 does (README, known differences;
    tests/server/test_propagation.py leaves them out too)."""
    kept = [argv for argv in sent if argv[0] not in (b"xgroup", b"xclaim")]
    if len(kept) == len(sent):
        return kept
    out: list[list[bytes]] = []
    for argv in kept:
        out.append(argv)
        if argv == [b"exec"]:
            if len(out) >= 2 and out[-2] == [b"multi"]:
                del out[-2:]
            elif len(out) >= 3 and out[-3] == [b"multi"]:
                out[-3:] = [out[-2]]
    return out


def _hello_redacted(seen):
    """The MONITOR and SLOWLOG view of a HELLO (WireSide.drain) with AUTH's username and
    password redacted, as kvstore always shows them: Redis 7.0 redacts them only once its
    parsing reaches AUTH, so a HELLO refused for an option before it (SETNAME) shows the
    password (README, known differences). tests/server/test_blackbox.py checks ours."""
    def mask(args: list) -> list:
        out = list(args)
        if not out or out[0].upper() not in (b"HELLO", '"HELLO"'):
            return out  # (a script's ARGV that spells a HELLO: shown as it is, by both)
        for i in range(2, len(out) - 2):
            if out[i].upper() in (b"AUTH", '"AUTH"'):
                out[i + 1] = out[i + 2] = b"(redacted)" if type(out[i]) is bytes \
                    else '"(redacted)"'
        return out
    shown, logged = seen
    shown = [(db, who, " ".join(mask(args.split(" ")))) for db, who, args in shown]
    logged = [(mask(args), client_name) for args, client_name in logged]
    return shown, logged


def queueable(name: str, argv) -> bool:
    """Whether a command may be queued in a generated MULTI: inside EXEC's reply nothing is
    normalised, so only commands whose replies are compared exactly."""
    return not (name in SORTED or name in HASH_ORDER or name in SORTS or name in SCANS or name in TOLERANCE
                or name in RANDOM or name in FORCED or name in ("DUMP", "OBJECT")
                or name in STREAM_TIMES
                or lex_source(name, argv) is not None)


def next_millisecond() -> None:
    """Wait for the wall clock's next millisecond. A relative EXPIRE ... GT repeating the TTL a
    command before it set wins only if it runs a millisecond later, which each server decides
    by its own reading of the clock: once the clock has moved past every reading made for the
    earlier command (its replies are in), both servers see a later one."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        pass


class Runner:
    """One differential run. `twin_port`: compare Redis with a second redis-server instead of
    kvstore, which must give 100% (a self-test of the generator and the normalisers).
    `server_port`: compare over the wire with the server on that port (kvstore-server, or a second
    redis-server for the self-test), speaking RESP `protocol`, and add the connection family."""

    def __init__(self, port: int, seed: int = 1, families=None, check_every: int = 250,
                 twin_port: int | None = None, server_port: int | None = None,
                 protocol: int = 2, notify: bool = False, blockers: int = 0,
                 subscribers: int = 0, replication: bool = False) -> None:
        if server_port is None:
            self.r = self.ro = RawRedis(port)
            self.kv = KvSide() if twin_port is None else RedisSide(twin_port)
            self.followers = [self.kv]
            self.families = list(families or FAMILIES)
            self.gen = Gen(seed, self.families)
        else:
            # the oracle's stream runs on `ro`; `r` is its admin connection
            self.ro = WireSide(port, protocol, notify, replication)
            self.r = self.ro.admin
            self.kv = WireSide(server_port, protocol, notify, replication)
            self.followers = [self.ro, self.kv]
            twin_port = None if self.kv.is_kvstore else server_port
            self.families = list(families or FAMILIES + WIRE_FAMILIES)
            self.gen = WireGen(seed, self.families, queueable)
        self.twin = twin_port
        self.wire = server_port is not None
        self.notify = notify and self.wire
        self.replication = replication and self.wire
        self.txn_names: set[str] | None = None   # the commands since the last MULTI
        self.watch_rng = random.Random(seed ^ 0x3A7C)   # (the stream's own draws stay as they were)
        self.watches: Counter = Counter()   # True: the EXEC after the command failed (on Redis)
        self.blockers = Blockers(port, server_port, blockers, seed) \
            if blockers and self.wire else None
        self.subscribers = Subscribers(port, server_port, subscribers, seed) \
            if subscribers and self.wire else None
        self.check_every = check_every
        self.stats: dict[str, Counter] = defaultdict(Counter)
        self.mismatches: list[Mismatch] = []
        self.history: list[str] = []
        self.index = 0
        self.state_checks = 0
        self.dropped = 0   # keys deleted from Redis because kvstore cannot hold their type yet

    # the database the stream has selected: Redis's is the truth
    def _follow_db(self) -> None:
        for side in self.followers:
            if side.db_index() != self.gen.db:
                side.select(self.gen.db)

    def setup(self) -> None:
        """Both sides empty, then a few keys of every type (so keys/expiry commands and type
        clashes have data from the first command on), created in Redis and copied over; the
        script caches and function libraries made alike on both (Gen.setup_commands)."""
        self.r.ok("FLUSHALL")
        for argv in self.gen.setup_commands():
            argv = [a.encode() for a in argv]
            want, got = self.r.call(argv), self.kv.harness_call(argv)
            if want[0] != "ok" or got != want:
                raise RuntimeError(f"setup {argv[:2]!r}: redis {want!r}, kvstore {got!r}")
        for argv in self.gen.seed_commands():
            self.r.ok(*argv)
        self.resync_all()

    def copy(self, key: bytes, dump=False) -> None:
        """Copy one key from Redis to kvstore. A value kvstore cannot hold yet (its family's
        commands are missing, e.g. no ZADD) is deleted from Redis too, so one missing family
        does not turn into type-clash mismatches in every other family."""
        if dump is False:
            dump = oracle_dump(self.r, key)
        if self.blockers is not None and same_state(dump, self.kv.dump(key)):
            return  # (a write would serve a blocker on kvstore's side only)
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
                if same_state(want, got, self.twin is None or self.wire):
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

    # --through-eval: every command runs inside a script, whose reply is the command's reply
    # after the trip RESP2 -> Lua -> RESP2 (the same values, but for Redis's conversions)
    through_eval = False

    def step(self) -> None:
        argv, keys, family = self.gen.next()
        name = argv[0].decode().upper()
        pre = self._prefetch(name, argv, keys)
        if name in ("EXPIRE", "PEXPIRE") and b"GT" in (a.upper() for a in argv[3:]):
            next_millisecond()
        sent = [b"EVAL", PCALL_ARGV, b"0", *argv] if self.through_eval else argv
        if self.blockers is not None:
            self._blocking(self.blockers.before(self.r, self.kv.admin))
        if self.subscribers is not None:
            for what, want_ps, got_ps in self.subscribers.before():
                self.stats[name]["pubsub"] += 1
                self.mismatches.append(Mismatch(self.index, what, want_ps, got_ps, "pubsub"))
        if self.replication:  # what the harness's own copies propagated
            self.ro.propagated()
            self.kv.propagated()
        if self.notify:  # what the harness's own reads and copies made the servers publish
            self.ro.drain()
            self.kv.drain()
            watched = self.watch_rng.sample(keys + WATCH_POOL, min(len(keys) + 1, 3))
            self.ro.watch(watched, self.gen.db)
            self.kv.watch(watched, self.gen.db)
        if blocking(name, argv) and not (self.wire or self.through_eval):
            # The embedded store has no connection to block: a blocking pop with nothing to pop
            # answers at once, as Redis does where it may not block (MULTI, scripts). Redis gets
            # it inside MULTI, where it never blocks either (and BLMOVE/BRPOPLPUSH answer a null
            # bulk there, not a timeout's null array).
            want, want_dirty = call_counted_in_multi(self.ro, sent)
            got, got_dirty = (call_counted_in_multi(self.kv, sent) if self.twin
                              else self.kv.call_counted(sent))
        else:
            want, want_dirty = self.ro.call_counted(sent)
            got, got_dirty = self.kv.call_counted(sent)
        if not (self.through_eval and name == "SELECT"):  # (a script's SELECT is its own)
            self.gen.observe(name, argv, want)
        self._follow_db()
        wn = normalise(name, argv, want, pre, self.ro.call)
        gn = normalise(name, argv, got, pre, self.kv.call)
        if self.twin and name == "OBJECT":   # a resync into Redis cannot copy sticky encodings
            wn = gn
        st = self.stats[name]
        st["total"] += 1
        if want[0] == "ok":
            st["redis-ok"] += 1
        self.history.append(f"#{self.index} " + " ".join(_show_arg(a) for a in argv))
        del self.history[:-200]
        if want_dirty != got_dirty and got[0] != "crash" and name not in FORCED \
                and pre is not MIXED and not (
                got[0] == "err" and got[1].startswith("ERR unknown command")):
            # dirty drives AOF logging and WATCH: a write that changed something must raise
            # it, a command that changed nothing must not
            st["dirty"] += 1
            self.mismatches.append(Mismatch(self.index, argv, ("dirty changed", want_dirty, want),
                                            ("dirty changed", got_dirty, got), "dirty"))
        if name == "MULTI":
            self.txn_names = set()
        elif self.txn_names is not None:
            self.txn_names.add(name)
        # (MIXED: a lex range over members of different scores; what it changes is unspecified,
        # so what observers see of it too)
        if self.notify:
            (want_events, want_seen), (got_events, got_seen) = self.ro.drain(), self.kv.drain()
            if want_events != got_events and self._swapdb(name, argv):
                # A SWAPDB serves the clients blocked on the keys it brings in in the order of
                # a hash table of Redis's (two redis-servers differ): their events too, and a
                # client blocked on two of them gets the first one's (see `_blocking`).
                want_events, got_events = sorted(want_events), sorted(got_events)
                if self.blockers is not None:
                    want_events = got_events
            if want_events != got_events and pre is not MIXED:
                st["notify"] += 1
                self.mismatches.append(Mismatch(self.index, argv, ("events", want_events, want),
                                                ("events", got_events, got), "notify",
                                                self.history[-HISTORY:]))
            if self.ro.counts != self.kv.counts:
                st["counts"] += 1
                self.mismatches.append(Mismatch(
                    self.index, argv, ("INFO counts", self.ro.counts, want),
                    ("INFO counts", self.kv.counts, got), "counts", self.history[-HISTORY:]))
            if name == "HELLO":
                want_seen, got_seen = _hello_redacted(want_seen), _hello_redacted(got_seen)
            # (a SCAN's normaliser went on with each side's own cursors on the stream)
            if want_seen != got_seen and name not in SCANS:
                st["observed"] += 1
                self.mismatches.append(Mismatch(
                    self.index, argv, ("MONITOR, SLOWLOG", *want_seen, want),
                    ("MONITOR, SLOWLOG", *got_seen, got), "observed", self.history[-HISTORY:]))
            want_exec, got_exec = self.ro.watched(), self.kv.watched()
            self.watches[want_exec[0] != ("ok", ["PONG"])] += 1
            if want_exec != got_exec and pre is not MIXED:
                st["watch"] += 1
                self.mismatches.append(Mismatch(
                    self.index, argv, ("EXEC after WATCH, invalidations", watched, want_exec, want),
                    ("EXEC after WATCH, invalidations", watched, got_exec, got), "watch",
                    self.history[-HISTORY:]))
        if self.replication:
            want_sent, got_sent = (_groups_left_out(side.propagated())
                                   for side in (self.ro, self.kv))
            if self._swapdb(name, argv):  # (the pops it served: see the events above)
                want_sent, got_sent = sorted(want_sent), sorted(got_sent)
                if self.blockers is not None:
                    want_sent = got_sent
            if name in SORTS and any(a.upper() == b"STORE" for a in argv):
                # With BY or GET patterns ours logs the result it stored, not the SORT (README)
                want_sent = got_sent
            if name in RANDOM:
                # What it took is random: which commands on which keys; and SPOP with a count
                # sends one SREM per member in Redis 7.0, SREMs of up to 1,024 in 7.2 and ours.
                want_sent = sorted({tuple(argv[:2]) for argv in want_sent} - _WRAPPERS)
                got_sent = sorted({tuple(argv[:2]) for argv in got_sent} - _WRAPPERS)
            if want_sent != got_sent and any(argv[0] == b"del" for argv in want_sent) \
                    and _dels_first(want_sent) == _dels_first(got_sent):
                want_sent = got_sent  # (only where the DELs of expired keys go: README)
            if want_sent != got_sent and pre is not MIXED:
                st["propagated"] += 1
                self.mismatches.append(Mismatch(
                    self.index, argv, ("propagated", want_sent, want),
                    ("propagated", got_sent, got), "propagated", self.history[-HISTORY:]))
        if self.blockers is not None:
            self._blocking(self.blockers.after(self.r, self.kv.admin), self._swapdb(name, argv))
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

    def _swapdb(self, name: str, argv: list[bytes]) -> bool:
        """Whether the command, a script's ARGV or the transaction it ends ran a SWAPDB."""
        if name == "SWAPDB" or any(a.upper() == b"SWAPDB" for a in argv[1:]):
            return True
        return name == "EXEC" and "SWAPDB" in (self.txn_names or ())

    def _blocking(self, diffs, swapdb: bool = False) -> None:
        """Record what the blockers did (in the history) and saw differently (fuzz_blocking),
        and resync their keys. After a SWAPDB a difference is no mismatch: Redis serves the
        keys it made ready in the order of a hash table of its own (two redis-servers differ),
        and a client blocked on several keys gets the first one's entries."""
        self.history += (f"#{self.index} ({line})" for line in self.blockers.log)
        self.blockers.log.clear()
        for argv, want, got in diffs:
            if swapdb:
                self.blockers.counts["served otherwise after a SWAPDB"] += 1
            else:
                self.stats[argv[0].decode().upper()]["blocking"] += 1
                self.mismatches.append(Mismatch(self.index, argv, want, got, "blocking",
                                                self.history[-HISTORY:]))
            self.resync_all()

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
        if self.blockers is not None:
            self.blockers.close()
        if self.subscribers is not None:
            self.subscribers.close()
        (self.ro if self.wire else self.r).close()  # (a raw replica holds up Redis's shutdown)
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
        if self.notify:
            p(f"watches: {sum(self.watches.values())}, broken by the command on Redis: "
              f"{self.watches[True]}")
        if self.subscribers is not None:
            p("subscribers: " + ", ".join(
                f"{what} {n}" for what, n in sorted(self.subscribers.counts.items())))
        if self.blockers is not None:
            p("blockers (on Redis): " + ", ".join(
                f"{what} {n}" for what, n in sorted(self.blockers.counts.items())))
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


PCALL_ARGV = b"return redis.pcall(unpack(ARGV))"


def call_counted_in_multi(conn: RawRedis, argv):
    """`RawRedis.call_counted` of a command sent inside MULTI/EXEC, with the outcome the command
    itself had: its queue-time error, or EXEC's only element."""
    before, _, queued, result, after = conn.pipeline(
        [INFO_DIRTY, [b"MULTI"], argv, [b"EXEC"], INFO_DIRTY])
    if queued[0] == "err":
        outcome = queued                 # refused when queued (EXEC answers EXECABORT)
    elif result[0] == "ok" and type(result[1]) is list and len(result[1]) == 1:
        v = result[1][0]
        outcome = v if type(v) is tuple and v[:1] == ("err",) else ("ok", v)
    else:
        outcome = ("harness", result)
    return outcome, dirty_of(before) != dirty_of(after)


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
    ap.add_argument("--server", action="store_true",
                    help="compare over the wire with a kvstore-server (python -m kvstore) "
                         "instead of the embedded store, adding connection-level commands")
    ap.add_argument("--protocol", type=int, choices=(2, 3), default=2,
                    help="the RESP version the stream starts with (--server only)")
    ap.add_argument("--notify", action="store_true",
                    help="also compare the keyspace events and BCAST invalidations of each "
                         "command (--server only; notify-keyspace-events KEAn)")
    ap.add_argument("--blockers", type=int, default=0, metavar="N",
                    help="N more connections per server that block on the stream's keys "
                         "(--server only; see fuzz_blocking.py)")
    ap.add_argument("--subscribers", type=int, default=0, metavar="N",
                    help="N pub/sub connections per server and a publisher, with a random "
                         "stream of their own (--server only; see fuzz_pubsub.py)")
    ap.add_argument("--replication", action="store_true",
                    help="also compare what each command propagates to a raw replica (SYNC), "
                         "absolute times masked (--server only)")
    ap.add_argument("--through-eval", action="store_true",
                    help="run every command as EVAL \"return redis.pcall(unpack(ARGV))\" 0 ...")
    args = ap.parse_args(argv)
    if (args.notify or args.blockers or args.subscribers or args.replication) \
            and not args.server:
        ap.error("--notify, --blockers, --subscribers and --replication need --server: the "
                 "embedded store has no connections")
    families = args.family.split(",") if args.family else None
    known = FAMILIES + WIRE_FAMILIES if args.server else FAMILIES
    for f in families or ():
        if f not in known:
            ap.error(f"unknown family {f!r}; choose from {', '.join(known)}")
    procs = []
    port = args.port
    if port is None:
        procs.append(start_server("redis"))
        port = procs[-1][0]
    twin = server = None
    if args.self_test or args.server:
        procs.append(start_server("redis" if args.self_test else "kvstore"))
        twin = procs[-1][0] if not args.server else None
        server = procs[-1][0] if args.server else None
    try:
        t0 = time.perf_counter()
        runner = Runner(port, args.seed, families, args.check_every, twin, server,
                        args.protocol, args.notify, args.blockers, args.subscribers,
                        args.replication)
        runner.through_eval = args.through_eval
        runner.run(args.commands)
        elapsed = time.perf_counter() - t0
        wire = f" protocol={args.protocol} over the wire" if args.server else ""
        print(f"seed={args.seed} commands={args.commands} "
              f"families={','.join(runner.families)}{wire} in {elapsed:.1f}s")
        runner.report(args.show)
        runner.close()
    finally:
        for _, proc, workdir in procs:
            proc.terminate()
            proc.wait(10)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
