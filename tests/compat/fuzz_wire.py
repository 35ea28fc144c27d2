"""The wire side of the differential run (see fuzz.py): a RESP2/RESP3 socket whose parser keeps
every reply type distinct, the key-state reader and writer the resync uses, a side that drives a
server over two connections, and the normalisers of connection-level commands.

Values. `RawRedis` parses replies into plain Python values where RESP2 has them and tagged tuples
where RESP3 adds a type, so two replies compare equal only if their types are equal too:

    +simple -> str             $bulk -> bytes              :integer -> int
    $-1 -> None                *-1 -> NIL_ARRAY            _ -> NULL
    *array -> list             %map -> ("map", [[k, v], ...])        ~set -> ("set", [...])
    >push -> ("push", [...])   ,double -> ("double", text)  #t -> ("bool", True)
    (big -> ("bignum", text)   =verbatim -> ("verbatim", format, data)
    -error -> outcome ("err", text), and ("err", text) as an element of an aggregate

`canon` puts maps and sets in a fixed order (both are unordered in RESP3); `plain` turns a reply
back into what RESP2 would carry, for the property checks of random commands, while `shape`
keeps its types for the comparison.

WireSide. The generated stream runs on one connection (`stream`: RESP `protocol`, switched by
HELLO, inside MULTI when the stream is); everything the harness does between commands (dirty
counter, key dumps, resync) runs on a second RESP2 connection (`admin`), so no harness command is
ever queued in a transaction or answered in RESP3 shapes. Dirty is read on `admin` before and
after the stream command: three round trips instead of one, ordered because each waits for its
reply (neither server counts expiries in it). Both servers run with active expiry off (DEBUG
SET-ACTIVE-EXPIRE 0, with enable-debug-command yes), as the embedded side does, so expired keys
are reclaimed by the same accesses on both sides, not by two racing cycles.

Resync over the wire (`wire_copy`) writes a key with plain commands (a stream: RESTORE of the
oracle's DUMP payload, fuzz_streams); a container Redis holds in
its big encoding (hashtable, skiplist) after shrinking is forced there by adding, then removing,
one member longer than every listpack/intset limit, since neither server converts back; a -0
score there (made by arithmetic, which only a skiplist keeps) is remade with ZADD INCR -0.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time

from kvstore.engine.values import string_encoding

from .fuzz_streams import XINFO_FULL, decode_stream, stream_state

NIL_ARRAY = ("nil-array",)   # RESP2 *-1
NULL = ("null",)             # RESP3 _


def read_reply(f):
    """One reply read from the binary file `f`: ("ok", value) or ("err", text)."""
    line = f.readline()
    if not line:
        raise ConnectionError("the server closed the connection")
    t, rest = line[:1], line[1:-2]
    if t == b"$":
        n = int(rest)
        return ("ok", None) if n < 0 else ("ok", f.read(n + 2)[:-2])
    if t == b":":
        return ("ok", int(rest))
    if t == b"+":
        return ("ok", rest.decode())
    if t == b"-":
        return ("err", rest.decode("utf-8", "replace"))
    if t in (b"*", b"~", b">", b"%"):
        n = int(rest)
        if n < 0:
            return ("ok", NIL_ARRAY)
        items = [_element(f) for _ in range(2 * n if t == b"%" else n)]
        if t == b"*":
            return ("ok", items)
        if t == b"%":
            return ("ok", ("map", [list(kv) for kv in zip(items[::2], items[1::2])]))
        return ("ok", ("set" if t == b"~" else "push", items))
    if t == b"_":
        return ("ok", NULL)
    if t == b",":
        return ("ok", ("double", rest))
    if t == b"#":
        return ("ok", ("bool", rest == b"t"))
    if t == b"(":
        return ("ok", ("bignum", rest))
    if t == b"=":
        data = f.read(int(rest) + 2)[:-2]
        return ("ok", ("verbatim", data[:3], data[4:]))
    if t == b"!":
        return ("err", f.read(int(rest) + 2)[:-2].decode("utf-8", "replace"))
    if t == b"|":   # an attribute precedes the reply it describes: skip it
        for _ in range(2 * int(rest)):
            _element(f)
        return read_reply(f)
    raise ValueError(f"bad RESP line {line!r}")


def _element(f):
    kind, v = read_reply(f)
    return v if kind == "ok" else ("err", v)


class RawRedis:
    """One RESP connection; `call` returns what `read_reply` reads (see the module docstring)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def call(self, argv: list[bytes]):
        out = [b"*%d\r\n" % len(argv)]
        for a in argv:
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return read_reply(self.f)

    def pipeline(self, cmds: list[list[bytes]]) -> list:
        """Several commands in one round trip; their outcomes in order."""
        out = []
        for argv in cmds:
            out.append(b"*%d\r\n" % len(argv))
            for a in argv:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return [read_reply(self.f) for _ in cmds]

    def call_counted(self, argv: list[bytes]):
        """(outcome, whether the command changed Redis's `server.dirty`), in one round trip:
        INFO persistence's rdb_changes_since_last_save is server.dirty."""
        before, outcome, after = self.pipeline([INFO_DIRTY, argv, INFO_DIRTY])
        return outcome, dirty_of(before) != dirty_of(after)

    def ok(self, *args):
        """A helper command that must succeed; returns its value."""
        kind, v = self.call([a if type(a) is bytes else str(a).encode() for a in args])
        if kind != "ok":
            raise RuntimeError(f"helper {args!r} failed: {v}")
        return v

    def close(self) -> None:
        self.f.close()
        self.sock.close()


INFO_DIRTY = [b"INFO", b"persistence"]
INFO_COUNTS = [b"INFO", b"persistence", b"commandstats", b"errorstats"]
# --notify: every class of keyspace event Redis 7.0 has but key misses (one per failed read);
# the channel whose message ends a drain (WireSide.drain).
NOTIFY_CLASSES = "KEAn"
EVENTS_END = b"fuzz:events-end"
MONITOR_END = b"fuzz:monitor-end"
REPLICATION_END = b"fuzz:replication-end"


def info_field(text: bytes, name: bytes) -> int:
    i = text.index(name + b":") + len(name) + 1
    return int(text[i:text.index(b"\r", i)])


def dirty_of(info) -> int:
    return info_field(info[1], b"rdb_changes_since_last_save")


_COUNT_FIELDS = (b"calls", b"rejected_calls", b"failed_calls", b"count")


def counts_delta(before: bytes, after: bytes) -> dict[bytes, tuple]:
    """What INFO commandstats / errorstats counted between two readings: for each command (its
    calls, rejected and failed calls) and error prefix (its count) that moved, by how much.
    (Times are left out: they are each server's own.)"""
    def lines(text: bytes) -> dict[bytes, bytes]:
        return dict(line.partition(b":")[::2] for line in text.split(b"\r\n")
                    if line.startswith((b"cmdstat_", b"errorstat_")))

    def counts(fields: bytes) -> tuple:
        values = dict(field.split(b"=", 1) for field in fields.split(b","))
        return tuple(int(values[f]) for f in _COUNT_FIELDS if f in values)

    old, new = lines(before), lines(after)
    delta = {}
    for name, fields in new.items():
        if old.get(name) != fields:  # (only the lines of what ran change: parse just those)
            values = counts(fields)
            was = counts(old[name]) if name in old else (0,) * len(values)
            if values != was:
                delta[name] = tuple(a - b for a, b in zip(values, was))
    return delta


# -- reply values -------------------------------------------------------------------------------


def canon(v):
    """`v` with the elements of every map and set in one fixed order."""
    t = type(v)
    if t is list:
        return [canon(x) for x in v]
    if t is tuple and v and v[0] in ("map", "set"):
        return (v[0], sorted((canon(x) for x in v[1]), key=repr))
    return v


def plain(v):
    """`v` as RESP2 would carry it: doubles as bulk text, nulls as None, sets, maps and pushes
    as (flat) arrays, booleans as 0/1."""
    t = type(v)
    if t is list:
        return [plain(x) for x in v]
    if t is not tuple or not v:
        return v
    tag = v[0]
    if tag in ("double", "bignum"):
        return v[1]
    if tag in ("null", "nil-array"):
        return None
    if tag == "bool":
        return int(v[1])
    if tag == "map":
        return [plain(x) for kv in v[1] for x in kv]
    if tag in ("set", "push"):
        return [plain(x) for x in v[1]]
    if tag == "verbatim":
        return v[2]
    return v


def shape(v):
    """The types in `v`, without its values (the elements of maps and sets in a fixed order)."""
    t = type(v)
    if t is list:
        return [shape(x) for x in v]
    if t is tuple and v:
        if v[0] in ("map", "set", "push"):
            items = [shape(x) for x in v[1]]
            return (v[0], items if v[0] == "push" else sorted(items, key=repr))
        if v[0] in ("err", "null", "nil-array"):
            return v[:1]
        return (v[0], type(v[1]).__name__)
    return t.__name__


# -- key state over RESP2 -----------------------------------------------------------------------

_READ = {"string": [b"GET"], "hash": [b"HGETALL"], "list": [b"LRANGE", None, b"0", b"-1"],
         "set": [b"SMEMBERS"], "zset": [b"ZRANGE", None, b"0", b"-1", b"WITHSCORES"]}


def pairs(flat):
    return list(zip(flat[::2], flat[1::2]))


def oracle_dumps(r: RawRedis, keys) -> dict:
    """{key: (type, contents, pexpiretime, encoding) or None} for keys of the current database of
    a RESP2 connection, in two pipelined round trips."""
    keys = list(keys)
    types = [v for _, v in r.pipeline([[b"TYPE", k] for k in keys])]
    cmds, live = [], []
    for key, t in zip(keys, types):
        if t == "stream":   # (fuzz_streams: its state, and its payload for a resync)
            cmds += [[b"DUMP", key], [a if a is not None else key for a in XINFO_FULL]]
        elif t in _READ:
            read = _READ[t]
            cmds.append([read[0], key] + read[2:])
        else:
            continue
        cmds.append([b"PEXPIRETIME", key])
        cmds.append([b"OBJECT", b"ENCODING", key])
        live.append((key, t))
    replies = r.pipeline(cmds)
    out = dict.fromkeys(keys)
    i = 0
    for key, t in live:
        if t == "stream":
            payload, info = replies[i][1], replies[i + 1]
            data = stream_state(info, decode_stream(payload), payload)
            i += 1
        else:
            data = replies[i][1]
        when, enc = replies[i + 1][1], replies[i + 2][1]
        i += 3
        if t == "hash" or t == "zset":
            data = pairs(data)
        elif t == "set":
            data = sorted(data)
        out[key] = (t, data, when, enc.decode())
    return out


def oracle_dump(r: RawRedis, key: bytes):
    """(type, contents, pexpiretime, encoding) of a key in the current database."""
    return oracle_dumps(r, [key])[key]


_CREATE = {"hash": b"HSET", "list": b"RPUSH", "set": b"SADD", "zset": b"ZADD"}
# Longer than any listpack value and not an integer: one such member converts any container.
_HUGE = b"resync:" + b"x" * 80
_GROW = {"hash": ([b"HSET", None, _HUGE, b"1"], [b"HDEL", None, _HUGE]),
         "set": ([b"SADD", None, _HUGE], [b"SREM", None, _HUGE]),
         "zset": ([b"ZADD", None, b"0", _HUGE], [b"ZREM", None, _HUGE])}


def wire_copy(conn: RawRedis, key: bytes, dump, encodings: bool) -> None:
    """Make `key` (current database of a RESP2 connection) what `dump` describes, with plain
    commands in one round trip; `encodings`: also force a big container encoding."""
    cmds = [[b"DEL", key]]
    if dump is not None:
        t, data, when, enc = dump
        if t == "stream":
            cmds.append([b"RESTORE", key, b"0", data.payload])
        elif t == "string":
            cmds.append([b"SET", key, data])
            if encodings and enc.encode() != string_encoding(data):
                # How Redis made it raw or embstr, redone: an APPEND to an existing string
                # leaves it raw, INCRBYFLOAT leaves even an integer embstr.
                cmds.append([b"APPEND", key, b""] if enc == "raw" else
                            [b"INCRBYFLOAT", key, b"0"])
        else:
            flat = [x for pair in data for x in (pair if t != "zset" else pair[::-1])] \
                if t in ("hash", "zset") else data
            cmds.append([_CREATE[t], key, *flat])
            if encodings and enc in ("hashtable", "skiplist"):
                grow, shrink = ([a if a is not None else key for a in argv] for argv in _GROW[t])
                cmds.append(grow)
                # A skiplist keeps a -0 made by arithmetic, which ZADD stores as 0. Redone while
                # the big member holds the key: a lone member's ZREM would delete it, and the
                # ZADD then make a listpack again.
                negative_zeros = [m for m, score in data if score == b"-0"] if t == "zset" else []
                for member in negative_zeros:
                    cmds += [[b"ZREM", key, member], [b"ZADD", key, b"INCR", b"-0", member]]
                cmds.append(shrink)
        if when != -1:
            cmds.append([b"PEXPIREAT", key, b"%d" % when])
    for argv, (kind, v) in zip(cmds, conn.pipeline(cmds)):
        if kind != "ok":
            raise RuntimeError(f"resync {argv[:2]!r} failed: {v}")


class WireSide:
    """A server driven over the wire: the stream on `stream`, the harness on `admin` (see the
    module docstring). Offers what the runner needs of a side."""

    def __init__(self, port: int, protocol: int, notify: bool = False,
                 replica: bool = False) -> None:
        self.stream = RawRedis(port)
        self.admin = RawRedis(port)
        self.admin.ok("FLUSHALL")
        # With `notify`, a third connection hears every keyspace event and every invalidation
        # of a fourth, which tracks every key (BCAST): what each command counts as a change to
        # a key; a fifth WATCHes keys across each command (`watch`) and a sixth, tracking in
        # the default mode over RESP3, reads them first (MGET: it is told of those only); a
        # seventh is a MONITOR, and the slow log keeps every command (`drain`).
        self.events = self.tracker = self.watcher = self.monitor = self.reader = None
        host, stream_port = self.stream.sock.getsockname()[:2]
        self.stream_addr = f"{host}:{stream_port}"
        self.counts: dict[bytes, tuple] = {}   # (--notify) counts_delta of the last stream command
        self.watcher_db = 0
        self.read_keys: set[bytes] = set()
        # With `replica`, a raw replica reads what each command propagates (`propagated`).
        self.replica = None
        if replica:
            from tests.server.test_propagation import ReplicationStream

            self.admin.ok("CONFIG", "SET", "repl-ping-replica-period", "3600")
            self.admin.call([b"CONFIG", b"SET", b"repl-diskless-sync-delay", b"0"])
            self.replica = ReplicationStream(port)
        if notify:
            self.admin.ok("CONFIG", "SET", "slowlog-log-slower-than", "0")
            self.admin.ok("CONFIG", "SET", "slowlog-max-len", "1024")
            self.monitor = RawRedis(port)
            self.monitor.ok("MONITOR")
            self.watcher = RawRedis(port)
            self.reader = RawRedis(port)
            self.reader.ok("HELLO", "3")
            self.reader.ok("CLIENT", "TRACKING", "ON")
            self.admin.ok("CONFIG", "SET", "notify-keyspace-events", NOTIFY_CLASSES)
            self.events = RawRedis(port)
            events_id = self.events.ok("CLIENT", "ID")
            self.events.ok("PSUBSCRIBE", "*")
            self.tracker = RawRedis(port)
            self.tracker.ok("CLIENT", "TRACKING", "ON", "REDIRECT", events_id, "BCAST")
        # Only lazy expiry, as on the embedded side: when each server's active cycle reclaims a
        # key that expired is a race (DBSIZE counts keys not reclaimed yet). Best effort: a
        # redis-server not started by us may refuse DEBUG.
        self.admin.call([b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"])
        if protocol == 3:
            self.stream.ok("HELLO", "3")
        self.index = 0
        self.is_kvstore = b"kvstore_version:" in self.admin.ok("INFO", "server")

    def call(self, argv):
        return self.stream.call(argv)

    def harness_call(self, argv):
        """A command of the harness's own (Runner.setup), on the admin connection."""
        return self.admin.call(argv)

    def call_counted(self, argv):
        if self.events is None:
            before = self._dirty()
            outcome = self.stream.call(argv)
            return outcome, before != self._dirty()
        # (--notify) the same round trips, reading the command's counts too
        before = self.admin.call(INFO_COUNTS)
        outcome = self.stream.call(argv)
        after = self.admin.call(INFO_COUNTS)
        self.counts = counts_delta(before[1], after[1])
        return outcome, dirty_of(before) != dirty_of(after)

    def _dirty(self) -> int:
        return dirty_of(self.admin.call(INFO_DIRTY))

    def db_index(self) -> int:
        return self.index

    def select(self, index: int) -> None:
        self.admin.ok("SELECT", index)
        self.index = index

    def key_names(self) -> set:
        return set(self.admin.ok("KEYS", "*"))

    def dump(self, key: bytes):
        return oracle_dump(self.admin, key)

    def copy(self, key: bytes, dump) -> bool:
        wire_copy(self.admin, key, dump, encodings=True)
        return True

    def drain(self) -> tuple[list, tuple[list, list]]:
        """What the observers got since the last drain, in one round trip of the admin
        connection, whose PUBLISH and ECHO mark where the events and the MONITOR lines end (a
        server sends a client its messages in order):

        * events: the (channel, message) of every keyspace event and invalidation (its keys,
          or None for a flush), in order;
        * shown: what MONITOR showed of the stream's commands, as (database, "stream" or
          "lua", the arguments as shown); other clients' lines are left out;
        * logged: what the slow log kept of them, as (arguments, client name); then reset."""
        replies = self.admin.pipeline([[b"PUBLISH", EVENTS_END, b""], [b"ECHO", MONITOR_END],
                                       [b"SLOWLOG", b"GET", b"-1"], [b"SLOWLOG", b"RESET"]])
        kind, entries = replies[2]
        if kind != "ok":
            raise RuntimeError(f"SLOWLOG GET failed: {entries}")
        addr = self.stream_addr.encode()
        logged = [(entry[3], entry[5]) for entry in reversed(entries) if entry[4] == addr]
        return self._events(), (self._shown(), logged)

    def _events(self) -> list[tuple[bytes, object]]:
        events = []
        while True:
            kind, message = read_reply(self.events.f)
            if kind == "ok" and type(message) is list and len(message) == 4:  # pmessage
                if message[2] == EVENTS_END:
                    return events
                events.append((message[2], message[3]))
            elif kind == "ok" and type(message) is list and len(message) == 3 \
                    and message[1] == b"__redis__:invalidate":
                events.append((message[1], message[2]))
            else:
                raise RuntimeError(f"not an event on the events connection: {message!r}")

    def _shown(self) -> list[tuple[str, str, str]]:
        end = f'"ECHO" "{MONITOR_END.decode()}"'
        shown = []
        while True:
            kind, line = read_reply(self.monitor.f)
            if kind != "ok" or type(line) is not str or " [" not in line:
                raise RuntimeError(f"not a MONITOR line: {line!r}")
            where, _, args = line.partition(" [")[2].partition("] ")
            db, _, addr = where.partition(" ")
            if addr == self.stream_addr:
                shown.append((db, "stream", args))
            elif addr == "lua":
                shown.append((db, "lua", args))
            elif args == end:
                return shown

    def propagated(self) -> list[list[bytes]]:
        """The commands propagated to replicas since the last call (times masked, PINGs left
        out), up to a PUBLISH of the admin connection's (Redis sends those to replicas)."""
        self.admin.ok("PUBLISH", REPLICATION_END, "")
        sent = self.replica.until_end((b"PUBLISH", REPLICATION_END, b""))
        # (the markers of --notify's drains are published, so propagated, too)
        return [argv for argv in sent if argv[0] != b"publish" or argv[1:2] != [EVENTS_END]]

    def watch(self, keys: list[bytes], db: int) -> None:
        """WATCH keys of database `db` on the watcher connection, and read them on the tracking
        one (after what it was told before); `watched` tells their fate."""
        if db != self.watcher_db:
            self.watcher.ok("SELECT", db)
            self.reader.ok("SELECT", db)
            self.watcher_db = db
        self.watcher.ok("WATCH", *keys)
        self._invalidations()
        self.reader.ok("MGET", *keys)
        self.read_keys = set(keys)

    def _invalidations(self) -> list:
        """The tracking connection's pushes since the last call, up to a PING's reply."""
        self.reader.sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        pushes = []
        while True:
            reply = read_reply(self.reader.f)
            if reply == ("ok", "PONG"):
                return pushes
            pushes.append(reply)

    def watched(self):
        """Whether the keys watched were left alone since `watch` (EXEC's outcome), and the
        invalidations the tracking connection got for them (not for keys it read before: the
        harness's copies write to one server only, so their entries differ)."""
        told = []
        for kind, push in self._invalidations():
            keys = push[1][1] if kind == "ok" and type(push) is tuple else None
            if type(keys) is list:
                keys = [k for k in keys if k in self.read_keys]
                if not keys:
                    continue
            told.append((kind, keys if type(keys) is list else push))
        return self.watcher.pipeline([[b"MULTI"], [b"PING"], [b"EXEC"]])[2], told

    def close(self) -> None:
        self.stream.close()
        self.admin.close()
        if self.events is not None:
            self.events.close()
            self.tracker.close()
            self.watcher.close()
            self.reader.close()
            self.monitor.close()
        if self.replica is not None:
            self.replica.close()


def start_server(kind: str, log=None) -> tuple[int, subprocess.Popen, str]:
    """A private redis-server or kvstore-server (`python -m kvstore`) on a free port, with no
    persistence, its output to the file `log` (or nowhere); the caller terminates it."""
    if kind == "redis":
        binary = shutil.which("redis-server")
        if binary is None:
            sys.exit("redis-server not found: apt-get install redis-server")
        cmd = [binary]
    else:
        cmd = [sys.executable, "-m", "kvstore"]
    cmd += ["--enable-debug-command", "yes"]  # (DEBUG SET-ACTIVE-EXPIRE 0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix=f"fuzz-{kind}-")
    out = subprocess.DEVNULL if log is None else log
    proc = subprocess.Popen(cmd + ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", workdir],
                            stdout=out, stderr=subprocess.STDOUT)
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
    sys.exit(f"{kind} server did not start")


# -- connection-level normalisers ---------------------------------------------------------------
# Each takes (argv, value) of a successful reply and returns what is compared.

VARIES = "(differs by design)"


def _hello(argv, v):
    """HELLO: every field but the client id and the version (kvstore says 7.2.4 on purpose)."""
    flat = plain(v) if type(v) is tuple else v
    if type(flat) is not list:
        return v
    fields = [[k, VARIES if k in (b"id", b"version") else x] for k, x in pairs(flat)]
    return (shape(v) if type(v) is tuple else "array", fields)


def _text_kind(v):
    """The frame a text reply came in: verbatim (RESP3) or bulk, and its text."""
    if type(v) is tuple and v[0] == "verbatim":
        return ("verbatim", v[1]), v[2]
    return type(v).__name__, v if type(v) is bytes else b""


def _info(argv, v):
    """INFO: the frame and the section titles (the fields are each server's own)."""
    kind, text = _text_kind(v)
    return kind, [line for line in text.split(b"\r\n") if line.startswith(b"# ")]


CLIENT_FIELDS = (b"name", b"db", b"sub", b"psub", b"multi", b"flags", b"user", b"resp")


def _client(argv, v):
    """CLIENT ID by type; CLIENT INFO by frame and the fields that describe the connection's
    state (not its addresses, ages or buffer sizes); anything else exactly."""
    sub = argv[1].upper() if len(argv) > 1 else b""
    if sub == b"ID":
        return ("client id", type(v).__name__)
    if sub == b"INFO":
        kind, text = _text_kind(v)
        fields = dict(f.split(b"=", 1) for f in text.split() if b"=" in f)
        return kind, [(k, fields.get(k)) for k in CLIENT_FIELDS]
    return v


def _config(argv, v):
    """CONFIG GET: in RESP2 a flat array in each server's dict order."""
    if argv[1].upper() == b"GET" and type(v) is list:
        return sorted(pairs(v))
    return v


WIRE_NORMALISERS = {
    "HELLO": _hello,
    "INFO": _info,
    "CLIENT": _client,
    "CONFIG": _config,
    "TIME": lambda argv, v: ("time", shape(v)),
    "LASTSAVE": lambda argv, v: ("lastsave", shape(v)),
}
