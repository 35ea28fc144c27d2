"""DUMP / RESTORE payloads, whole RDB files (SYNC, redis-cli --rdb), and deep copies of values
(COPY).

Payloads are Redis's: an RDB object, the RDB version and a CRC-64 (engine/rdb.py), so a value
DUMPed by Redis RESTOREs here and the other way round, and a Redis MIGRATE into kvstore works.

Encodings (OBJECT ENCODING) are not carried over: like Redis's RDB loader, RESTORE picks them
from the thresholds in force (a hash that once grew big and shrank comes back as listpack).
COPY keeps them, as Redis's `dupObject` keeps the source's encoding.

A payload whose version is too new or whose CRC is wrong raises `PayloadChecksumError`; one that
passes but does not decode to a valid value ("Bad data format" in Redis) raises
`PayloadFormatError`. Empty containers and duplicate members are refused too: Redis never holds
the first, and its loader refuses the second.
"""

from __future__ import annotations

from typing import Callable

from ..version import REDIS_VERSION
from . import rdb
from .stream import Stream, copy_stream
from .stream import rdb_object as stream_rdb_object
from .values import Hash, List, Set, Thresholds


class PayloadChecksumError(ValueError):
    """Wrong version or checksum: "ERR DUMP payload version or checksum are wrong"."""


class PayloadFormatError(ValueError):
    """Checksum fine but the body is not a value: "ERR Bad data format". Its text is the reason
    as Redis's loader gives it ("Ziplist integrity check failed.", ...), for the log."""


class EmptyKeyError(PayloadFormatError):
    """An empty container: refused by RESTORE, skipped by a whole file's loader (old Redis
    versions could write them, #8453)."""


def zset_type() -> type:
    """The ZSet class (persistence.snapshot uses it too)."""
    # engine.zset registers its own type; imported lazily so this module never depends on it.
    from .zset import ZSet

    return ZSet


def serialize(value: object) -> bytes:
    """The DUMP payload of a value, as Redis 7.0 writes it. O(n) in the value's size."""
    return rdb.frame(rdb_object(value))


def rdb_object(value: object) -> bytes:
    """The value as an RDB object: its type byte, then its encoding. O(n)."""
    t = type(value)
    if t is bytes:
        body = rdb.dump_string(value)  # type: ignore[arg-type]
    elif t is Hash:
        body = rdb.dump_hash(value.items(), not value.big)  # type: ignore[attr-defined]
    elif t is List:
        body = rdb.dump_list(value)
    elif t is Set:
        body = rdb.dump_set(value) if value.big else rdb.dump_intset(value)  # type: ignore
    elif t is zset_type():
        body = rdb.dump_zset(list(value.iter_items()), not value.big)  # type: ignore[attr-defined]
    elif t is Stream:
        body = stream_rdb_object(value)  # type: ignore[arg-type]
    else:
        raise TypeError(f"cannot dump a {t.__name__}")
    return body


def deserialize(payload: bytes, limits: Thresholds, check_crc: bool = True) -> object:
    """The value a payload holds, with the encoding `limits` give it. Raises
    PayloadChecksumError or PayloadFormatError."""
    body = rdb.unframe(payload, check_crc)
    if body is None:
        raise PayloadChecksumError("version or checksum mismatch")
    try:
        kind, data = rdb.load(body)
    except rdb.RdbFormatError as exc:
        raise PayloadFormatError(str(exc)) from None
    return build_value(kind, data, limits)


# A database's contents as a file gives them, before they replace the live ones: its key -> value
# and key -> expiry (ms) tables.
Tables = tuple[dict, dict]


def read_rdb_file(data: bytes, ks, progress=None, now: int | None = None) -> tuple[
        list[Tables], int, list[bytes], dict[bytes, bytes], list[bytes]]:
    """The contents of a whole RDB file (a dump.rdb, a master's sync file), checked whole first:
    (each database's tables, how many keys they hold, function libraries' code, auxiliary
    fields, the keys left out for being empty containers, as Redis skips them). With `now`,
    keys already expired are left out (as a Redis master loading its file does; a replica keeps
    them for its master's DEL). The live data set is not touched: the tables are built aside as
    the file is read, and `install` puts them in at once. Raises PayloadFormatError.
    `progress`: see rdb.read_file."""
    tables: list[Tables] = [({}, {}) for _ in ks.dbs]
    empty: list[bytes] = []
    count = 0
    libraries: list[bytes] = []
    aux: dict[bytes, bytes] = {}
    limits = ks.limits
    try:
        for record in rdb.read_file(data, progress):
            if record[0] == "key":
                _, index, key, kind, body, expire = record
                if not 0 <= index < len(tables):
                    raise rdb.RdbFormatError("a database index out of range")
                try:
                    value = build_value(kind, body, limits)  # (checked, even if left out)
                except EmptyKeyError:
                    empty.append(key)
                    continue
                if expire is not None and now is not None and expire < now:
                    continue
                values, expires = tables[index]
                if key not in values:
                    count += 1
                values[key] = value
                if expire is not None:
                    expires[key] = expire
                else:
                    expires.pop(key, None)
            elif record[0] == "function":
                libraries.append(record[1])
            else:
                aux[record[1]] = record[2]
    except rdb.RdbFormatError as exc:
        raise PayloadFormatError(str(exc)) from None
    return tables, count, libraries, aux, empty


def install(ks, tables: list[Tables]) -> None:
    """Make `read_rdb_file`'s tables the databases' contents, in place of the (flushed) ones:
    O(databases), so a replica swapping in its master's data set stops for no per-key work."""
    for db, (values, expires) in zip(ks.dbs, tables):
        db.data = values
        db.expires = expires
        db.volatile = list(expires)
        db.expire_pos = 0


def build_value(kind: str, data: list | bytes, limits: Thresholds) -> object:
    """The value for an RDB object as `rdb.load` reads it, with the encoding `limits` give it.
    Raises PayloadFormatError for an empty container or duplicate members."""
    if kind == "string" or kind == "stream":  # (an empty stream is a value)
        return data
    if not data:
        raise EmptyKeyError("Empty keys are not allowed")
    if kind == "list":
        return List(data)
    if kind == "set":
        s = Set(data)
        if len(s) != len(data):
            raise PayloadFormatError("Duplicate set members detected")
        s.grew(limits, *s)
        return s
    if kind == "hash":
        h = Hash()
        it = iter(data)
        h.update(zip(it, it))
        if 2 * len(h) != len(data):
            raise PayloadFormatError("Duplicate hash fields detected")
        h.grew(limits, *data)
        return h
    return _zset_from_flat(data, limits)


def _zset_from_flat(data: list, limits: Thresholds) -> object:
    members = data[0::2]
    scores = dict(zip(members, data[1::2]))
    if len(scores) != len(members):
        raise PayloadFormatError("Duplicate zset fields detected")
    if len(scores) <= limits.zset_entries and all(len(m) <= limits.zset_value for m in members):
        # It will be a listpack, which stores an integral score as an integer: -0 becomes 0
        # (Redis's loader converts the same way).
        for member, score in scores.items():
            if score == 0.0:
                scores[member] = 0.0
    zset = zset_type().from_scores(scores)
    zset.grew(limits, *members)
    return zset


def copy_value(value: object) -> object:
    """A deep copy of a value for COPY, keeping its encoding. O(n)."""
    t = type(value)
    if t is bytes:
        return value  # immutable: sharing is a copy
    if t is Hash:
        h = Hash()
        h.update(value)  # type: ignore[call-overload]
        h.big = value.big  # type: ignore[attr-defined]
        return h
    if t is List:
        return List(value)  # type: ignore[call-overload]
    if t is Set:
        s = Set(value)  # type: ignore[call-overload]
        s.big = value.big  # type: ignore[attr-defined]
        return s
    if t is zset_type():
        z = t.from_scores(dict(value.scores()))  # type: ignore[attr-defined]
        z.big = value.big  # type: ignore[attr-defined]
        return z
    if t is Stream:
        return copy_stream(value)  # type: ignore[arg-type]
    raise TypeError(f"cannot copy a {t.__name__}")


def write_rdb(ks, out, now: int, stream_db: int | None = None, *, keys: bool = True,
              functions: bool = True, per_key: Callable[[], None] | None = None) -> None:
    """The whole keyspace as an RDB file (Redis 7.0's format, version 10) written to `out` (a
    binary file): what SYNC sends a replica or `redis-cli --rdb`. Function libraries come first;
    keys expired at `now` are left out, the others keep their absolute expiry. O(data).
    `stream_db`: the database the replication stream that follows the file is in (a replica's
    file for its own replica, whose stream is the master's: Redis's repl-stream-db).
    `keys` / `functions` False leave those out (REPLCONF rdb-filter-only). `per_key` is called
    after each key is written (rdb-key-save-delay, Redis's debugging knob)."""
    crc = 0
    pending: list[bytes] = []
    size = 0

    def emit(piece: bytes) -> None:
        nonlocal crc, size
        pending.append(piece)
        size += len(piece)
        if size >= 1 << 20:
            flush()

    def flush() -> None:
        nonlocal crc, size
        chunk = b"".join(pending)
        crc = rdb.crc64(chunk, crc)
        out.write(chunk)
        pending.clear()
        size = 0

    emit(b"REDIS%04d" % rdb.RDB_VERSION)
    aux = [(b"redis-ver", REDIS_VERSION.encode()), (b"redis-bits", b"64"),
           (b"ctime", b"%d" % (now // 1000)), (b"aof-base", b"0")]
    if stream_db is not None:
        aux.append((b"repl-stream-db", b"%d" % stream_db))
    for name, value in aux:
        emit(b"\xfa" + rdb.rdb_string(name) + rdb.rdb_string(value))
    libraries = getattr(ks, "functions", None) if functions else None
    if libraries is not None:  # RDB_OPCODE_FUNCTION2 and each library's code, as Redis 7.0
        for lib in libraries.libraries.values():
            emit(b"\xf5" + rdb.rdb_string(lib.code))
    for db in ks.dbs if keys else ():
        live = [(k, v) for k, v in db.data.items()
                if not (k in db.expires and db.expires[k] < now)]
        if not live:
            continue
        expiring = sum(1 for k, _ in live if k in db.expires)
        emit(b"\xfe" + rdb.rdb_length(db.id) + b"\xfb" + rdb.rdb_length(len(live))
             + rdb.rdb_length(expiring))
        for key, value in live:
            when = db.expires.get(key)
            if when is not None:
                emit(b"\xfc" + when.to_bytes(8, "little"))
            body = rdb_object(value)
            emit(body[:1] + rdb.rdb_string(key) + body[1:])
            if per_key is not None:
                per_key()
    emit(b"\xff")
    flush()
    out.write(crc.to_bytes(8, "little"))
