"""DUMP / RESTORE payloads, and deep copies of values (COPY).

Redis's DUMP payload is an RDB object followed by a 2-byte RDB version and a CRC64. Producing the
RDB encodings (listpack, intset, ziplist...) byte for byte would cost a lot for nothing: a payload
is only meant to be RESTOREd by the same kind of server. So ours keeps Redis's frame with our own
body:

    msgpack([type, data])  +  version (2 bytes, little endian)  +  blake2b-64 of the above

`type` is Redis's RDB type number (0 string, 1 list, 2 set, 3 zset, 4 hash); `data` is the bytes
of a string or a flat list (members; field, value, ...; member, score, ...). The version bytes
spell "kv", which as an RDB version (30315) is newer than any Redis knows, so Redis refuses our
payloads, and a Redis payload fails our checksum: both reply "DUMP payload version or checksum
are wrong", which is what a RESTORE of a foreign or corrupted payload should say.

A payload that passes the checksum but does not decode to a valid value ("Bad data format" in
Redis) raises `PayloadFormatError`. Empty containers are refused too: Redis never holds one.

Encodings (OBJECT ENCODING) are not carried over: like Redis's RDB loader, RESTORE picks them
from the thresholds in force (a hash that once grew big and shrank comes back as listpack).
COPY keeps them, as Redis's `dupObject` keeps the source's encoding.
"""

from __future__ import annotations

import hashlib
import math

import msgpack

from .values import Hash, List, Set, Thresholds

DUMP_VERSION = b"kv"  # little-endian RDB version 0x766b
_CHECKSUM_BYTES = 8
_FOOTER = len(DUMP_VERSION) + _CHECKSUM_BYTES

# Redis's RDB type numbers, reused as our type tags.
TYPE_STRING, TYPE_LIST, TYPE_SET, TYPE_ZSET, TYPE_HASH = 0, 1, 2, 3, 4


class PayloadChecksumError(ValueError):
    """Wrong version or checksum: "ERR DUMP payload version or checksum are wrong"."""


class PayloadFormatError(ValueError):
    """Checksum fine but the body is not a value: "ERR Bad data format"."""


def _checksum(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_CHECKSUM_BYTES).digest()


def zset_type() -> type:
    """The ZSet class (persistence.snapshot uses it too)."""
    # engine.zset registers its own type; imported lazily so this module never depends on it.
    from .zset import ZSet

    return ZSet


def flatten(pairs) -> list:
    """[a1, b1, a2, b2, ...] from pairs: a hash's or a zset's wire form (DUMP and snapshots)."""
    flat: list = []
    append = flat.append
    for a, b in pairs:
        append(a)
        append(b)
    return flat


def serialize(value: object) -> bytes:
    """The DUMP payload of a value. O(n) in the value's size."""
    t = type(value)
    if t is bytes:
        body = [TYPE_STRING, value]
    elif t is Hash:
        body = [TYPE_HASH, flatten(value.items())]  # type: ignore[attr-defined]
    elif t is List:
        body = [TYPE_LIST, list(value)]  # type: ignore[call-overload]
    elif t is Set:
        body = [TYPE_SET, list(value)]  # type: ignore[call-overload]
    elif t is zset_type():
        body = [TYPE_ZSET, flatten(value.scores().items())]  # type: ignore[attr-defined]
    else:
        raise TypeError(f"cannot dump a {t.__name__}")
    data = msgpack.packb(body, use_bin_type=True) + DUMP_VERSION
    return data + _checksum(data)


def verify(payload: bytes) -> bytes:
    """The msgpack body of a payload whose version and checksum are right; else raises
    PayloadChecksumError (Redis's `verifyDumpPayload`)."""
    if len(payload) < _FOOTER:
        raise PayloadChecksumError("payload too short")
    data, checksum = payload[:-_CHECKSUM_BYTES], payload[-_CHECKSUM_BYTES:]
    if data[-len(DUMP_VERSION):] != DUMP_VERSION or _checksum(data) != checksum:
        raise PayloadChecksumError("version or checksum mismatch")
    return data[: -len(DUMP_VERSION)]


def _all_bytes(items: list) -> bool:
    return all(type(x) is bytes for x in items)


def deserialize(payload: bytes, limits: Thresholds) -> object:
    """The value a payload holds, with the encoding `limits` give it. Raises
    PayloadChecksumError or PayloadFormatError."""
    body = verify(payload)
    try:
        kind, data = msgpack.unpackb(body, raw=True, use_list=True, strict_map_key=False)
    except Exception:  # noqa: BLE001 - any decoding failure is a bad payload
        raise PayloadFormatError("undecodable body") from None
    if kind == TYPE_STRING and type(data) is bytes:
        return data
    if type(data) is not list or not data:
        raise PayloadFormatError("not a non-empty container")
    if kind == TYPE_LIST and _all_bytes(data):
        return List(data)
    if kind == TYPE_SET and _all_bytes(data):
        s = Set(data)
        s.grew(limits, *s)
        return s
    if kind == TYPE_HASH and len(data) % 2 == 0 and _all_bytes(data):
        h = Hash()
        it = iter(data)
        h.update(zip(it, it))
        h.grew(limits, *data)
        return h
    if kind == TYPE_ZSET and len(data) % 2 == 0:
        return _zset_from_flat(data, limits)
    raise PayloadFormatError("unknown type or malformed data")


def _zset_from_flat(data: list, limits: Thresholds) -> object:
    members = data[0::2]
    scores = dict(zip(members, data[1::2]))
    if len(scores) != len(members) or not _all_bytes(members) or not all(
        type(s) is float and not math.isnan(s) for s in scores.values()
    ):
        raise PayloadFormatError("malformed zset")
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
    raise TypeError(f"cannot copy a {t.__name__}")
