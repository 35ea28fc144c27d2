"""DEBUG DIGEST and DIGEST-VALUE: Redis's dataset digest (`debug.c`), byte for byte, so the
same data gives the same 40 hex digits on kvstore and on redis-server.

Two SHA-1 mixers: `xor` folds SHA1(data) into a digest (order-free: sets, hashes, zsets and
the keys of a database), `mix` does that and then hashes the digest itself (ordered: a list's
elements, a key's type before its value). A value's digest mixes its type (big-endian uint32),
then its content; a key with a TTL xors in "!!expire!!" (not the time). A database's digest
mixes its index, then xors each key's (key, value) digest.
"""

from __future__ import annotations

import hashlib
import struct

from .stream import ID_MAX, SEQ_MASK, Stream
from .values import Hash, List, Set
from .zset import ZSet

ZERO = bytes(20)
_TYPES = {bytes: 0, List: 1, Set: 2, ZSet: 3, Hash: 4, Stream: 6}  # Redis's OBJ_* codes


def _xor(digest: bytearray, data: bytes) -> None:
    for i, b in enumerate(hashlib.sha1(data).digest()):
        digest[i] ^= b


def _mix(digest: bytearray, data: bytes) -> None:
    _xor(digest, data)
    digest[:] = hashlib.sha1(digest).digest()


def _object(digest: bytearray, value: object, has_ttl: bool) -> None:
    """Redis's xorObjectDigest: mix one value into `digest`."""
    kind = _TYPES.get(type(value))
    if kind is None:  # (a subclass, as engine.dump's zset_type may give)
        kind = next(code for cls, code in _TYPES.items() if isinstance(value, cls))
    _mix(digest, struct.pack(">I", kind))
    if kind == 0:
        _mix(digest, value)  # type: ignore[arg-type]
    elif kind == 1:
        for element in value:  # type: ignore[attr-defined]
            _mix(digest, element)
    elif kind == 2:
        for member in value:  # type: ignore[attr-defined]
            _xor(digest, member)
    elif kind == 6:  # each live entry: "ms.seq", then its fields and values, in order
        for i, flat in value.range(0, ID_MAX):  # type: ignore[attr-defined]
            _mix(digest, b"%d.%d" % (i >> 64, i & SEQ_MASK))
            for item in flat:
                _mix(digest, item)
    elif kind == 3:
        for member, score in value.scores().items():  # type: ignore[attr-defined]
            element = bytearray(ZERO)
            _mix(element, member)
            _mix(element, b"%.17g" % score)
            _xor(digest, element)
    else:
        for field, item in value.items():  # type: ignore[attr-defined]
            element = bytearray(ZERO)
            _mix(element, field)
            _mix(element, item)
            _xor(digest, element)
    if has_ttl:
        _xor(digest, b"!!expire!!")


def value_digest(value: object, has_ttl: bool) -> bytes:
    """DEBUG DIGEST-VALUE of one value."""
    digest = bytearray(ZERO)
    _object(digest, value, has_ttl)
    return bytes(digest)


def dataset_digest(keyspace) -> bytes:
    """Redis's computeDatasetDigest over every database, every stored key (one past its TTL
    that nothing deleted yet included, as Redis walks its dict)."""
    final = bytearray(ZERO)
    for index, db in enumerate(keyspace.dbs):
        if not db.data:
            continue
        _mix(final, struct.pack(">I", index))
        expires = db.expires
        for key, value in db.data.items():
            digest = bytearray(ZERO)
            _mix(digest, key)
            _object(digest, value, key in expires)
            _xor(final, digest)
    return bytes(final)
