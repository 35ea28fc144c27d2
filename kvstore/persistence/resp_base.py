"""An AOF base written as commands (`.base.aof`), for `aof-use-rdb-preamble no`.

Redis's rewrite writes such a base with one kind of command per type (SET, RPUSH, HMSET...).
Ours writes, after a `#TS:` annotation when aof-timestamp-enabled is on, a FUNCTION LOAD per
library, then per database a SELECT and one `RESTORE key <expire ms> <DUMP payload> ABSTTL` per
key: a single command that carries every type whole (a stream's consumer groups and pending
entries included) and its TTL. Our loader replays it as any AOF, and so does a Redis 7 server
(the payloads are its RDB version 10 format). Keys already expired are left out.

Written like a snapshot (snapshot.write_replacing): to a temp file, fsynced, renamed over it.
"""

from __future__ import annotations

import os
import time

from ..engine.dump import serialize
from .aof import encode_argvs
from .progress import debug_delay
from .snapshot import write_replacing

CHUNK = 1 << 20  # bytes gathered before a write


def dump(keyspace, path: str, timestamps: bool, delay_us: int = 0) -> int:
    """Write the keyspace's live keys to `path` as commands. Returns the file size."""
    now = keyspace.clock()
    return write_replacing(path, lambda tmp: _write(keyspace, tmp, now, timestamps, delay_us))


def _write(keyspace, tmp: str, now: int, timestamps: bool, delay_us: int) -> int:
    size = 0
    buf = bytearray(b"#TS:%d\r\n" % int(time.time()) if timestamps else b"")
    with open(tmp, "wb") as f:
        functions = getattr(keyspace, "functions", None)
        for lib in functions.libraries.values() if functions is not None else ():
            encode_argvs(buf, [[b"FUNCTION", b"LOAD", lib.code]])
        for db in keyspace.dbs:
            if not db.data:
                continue
            encode_argvs(buf, [[b"SELECT", b"%d" % db.id]])
            expires = db.expires
            for key, value in db.data.items():
                when = expires.get(key)
                if when is not None and when < now:
                    continue
                if delay_us:
                    debug_delay(delay_us)
                encode_argvs(buf, [[b"RESTORE", key, b"%d" % (when or 0), serialize(value),
                                    b"ABSTTL"]])
                if len(buf) >= CHUNK:
                    f.write(buf)
                    size += len(buf)
                    buf.clear()
        f.write(buf)
        size += len(buf)
        f.flush()
        os.fsync(f.fileno())
    return size
