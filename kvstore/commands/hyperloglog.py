"""HyperLogLog commands (Redis 7.0 `hyperloglog.c`): PFADD, PFCOUNT, PFMERGE, PFDEBUG,
PFSELFTEST.

The values are Redis's own HLL strings (`engine/hyperloglog.py`), so after the same commands
GET returns Redis's bytes and PFCOUNT Redis's number. Three behaviours a reader may not expect,
all Redis's:
- PFCOUNT of one key caches the cardinality in the string: a change of the value, counted in
  dirty, logged to the AOF and seen by WATCH, though PFCOUNT is a read (`MAY_CHANGE`).
- Every command that accepts an HLL leaves it `raw` (Redis unshares the string before looking
  at it), even when nothing changes.
- A PFADD that meets a corrupt sparse payload keeps the registers it had already raised and
  replies INVALIDOBJ without counting a change.
PFMERGE keeps the target sparse when every input is, and announces itself as "pfadd".
PFSELFTEST runs Redis's self-test against this implementation (`engine.hyperloglog.selftest`).
"""

from __future__ import annotations

import random

from ..engine import hyperloglog as hll
from ..errors import CommandError, c_text, wrongtype
from ..replies import OK, Status
from .table import (
    ADMIN, DENYOOM, FAST, MAY_CHANGE, MAY_REPLICATE, NO_KEYS, READONLY, WRITE, Context, KeySpec,
    command,
)

NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"

KEYS = KeySpec(1, -1, 1)


def hll_value(ctx: Context, key: bytes, read: bool = False) -> bytes | None:
    """The HLL string at key, None if absent; WRONGTYPE for another type or a string that is
    not an HLL (Redis `isHLLObjectOrReply`). `read`: a counted lookup (PFCOUNT, PFMERGE's
    inputs; see Context.read)."""
    value = ctx.read(key) if read else ctx.db.lookup(key, ctx.now)
    if value is None:
        return None
    if type(value) is not bytes:
        raise wrongtype()
    if not hll.is_hll(value):
        raise CommandError(NOT_HLL)
    return value


def store(ctx: Context, key: bytes, value: bytes, existed: bool) -> None:
    """Put an HLL string at key, keeping the TTL of an existing key; `raw`, as Redis's are."""
    db = ctx.db
    if existed:
        db.data[key] = value
    else:
        db.add(key, value)
    db.mark_encoding(key, value, b"raw")


def signed(card: int) -> int:
    """Redis replies the uint64 cardinality through a long long."""
    return card - (1 << 64) if card >= 1 << 63 else card


@command("pfadd", -2, WRITE | DENYOOM | FAST, KeySpec(1, 1, 1), "hyperloglog")
def pfadd(ctx: Context, argv: list[bytes]):
    """PFADD key [element [element ...]]

    Complexity: O(1) per element on a dense HLL, O(opcodes) on a sparse one. Reply: 1 if a
    register changed (or the key was created), else 0.
    """
    key = argv[1]
    original = value = hll_value(ctx, key)
    existed = value is not None
    if value is None:
        value = hll.EMPTY
    updated = 0 if existed else 1
    elements = iter(argv[2:])
    if value[4] == hll.SPARSE:
        sparse = hll.parse_sparse(value)
        limit = ctx.ks.limits.hll_sparse_max_bytes
        promote = None
        try:
            for element in elements:
                index, count = hll.pattern(element)
                changed = sparse.set(index, count, limit)
                if changed is None:
                    promote = index, count
                    break
                updated += changed
            if promote is None:
                value = sparse.to_bytes()
            else:
                value = hll.to_dense(sparse.to_bytes())
        except hll.Corrupt:
            # Redis edits in place: the registers raised so far stay, without a change counted.
            if updated:
                sparse.header = hll.invalidated(sparse.header)
            store(ctx, key, sparse.to_bytes(), existed)
            raise CommandError(CORRUPT) from None
        if promote is None:
            stored = _added(ctx, key, original, value, updated)
            hll.remember(ctx.db.data[key], sparse)
            return stored
        buf = bytearray(value)
        hll.dense_set(buf, *promote)
        updated += 1
    else:
        buf = bytearray(value)
    dense_set = hll.dense_set
    pattern = hll.pattern
    for element in elements:
        index, count = pattern(element)
        updated += dense_set(buf, index, count)
    return _added(ctx, key, original, bytes(buf), updated)


def _added(ctx: Context, key: bytes, original: bytes | None, value: bytes, updated: int) -> int:
    """PFADD's end: store and announce a change, or only unshare the unchanged original."""
    if not updated:
        ctx.db.mark_encoding(key, original, b"raw")  # type: ignore[arg-type]
        return 0
    store(ctx, key, hll.invalidated(value[:hll.HEADER]) + value[hll.HEADER:],
          original is not None)
    ctx.ks.dirty += updated
    ctx.notify("$", "pfadd", key)
    return 1


def merged_registers(ctx: Context, keys: list[bytes]) -> tuple[bytes | None, bool]:
    """The register-wise maximum of the HLLs at keys (missing keys count as empty), None if
    all are missing, and whether any is dense. Errors come in key order, as in Redis."""
    acc = None
    any_dense = False
    for key in keys:
        value = hll_value(ctx, key, True)
        if value is None:
            continue
        any_dense = any_dense or value[4] == hll.DENSE
        try:
            regs = hll.registers(value)
        except hll.Corrupt:
            raise CommandError(CORRUPT) from None
        acc = regs if acc is None else hll.max_registers(acc, regs)
    return acc, any_dense


@command("pfcount", -2, READONLY | MAY_CHANGE | MAY_REPLICATE, KEYS, "hyperloglog")
def pfcount(ctx: Context, argv: list[bytes]):
    """PFCOUNT key [key ...]

    Complexity: O(1) with a cached count, else O(registers); several keys are merged into a
    temporary HLL. Reply: the estimated cardinality (of the union, for several keys).
    """
    if len(argv) > 2:
        acc, _ = merged_registers(ctx, argv[1:])
        return 0 if acc is None else signed(hll.estimate(hll.histogram(acc)))
    key = argv[1]
    value = hll_value(ctx, key, True)
    if value is None:
        return 0
    card = hll.cached_count(value)
    if card is not None:
        ctx.db.mark_encoding(key, value, b"raw")
        return card
    try:
        card = hll.count(value)
    except hll.Corrupt:
        ctx.db.mark_encoding(key, value, b"raw")
        raise CommandError(CORRUPT) from None
    store(ctx, key, hll.with_count(value, card), True)
    ctx.ks.dirty += 1
    return signed(card)


@command("pfmerge", -2, WRITE | DENYOOM, KEYS, "hyperloglog")
def pfmerge(ctx: Context, argv: list[bytes]):
    """PFMERGE destkey [sourcekey [sourcekey ...]]

    Complexity: O(N) in the number of keys. Reply: OK. The target is one of the inputs; it
    stays sparse if every input is sparse and the result fits hll-sparse-max-bytes.
    """
    acc, any_dense = merged_registers(ctx, argv[1:])
    dest = argv[1]
    ctx.touched = (argv, [dest])  # not its sources
    value = ctx.db.data.get(dest)  # checked, and live, as an input above
    existed = value is not None
    if value is None:
        value = hll.EMPTY
    header = hll.invalidated(value[:hll.HEADER])
    merged = None
    if acc is None:
        merged = value
    elif not any_dense:
        merged = hll.sparse_merge(value, acc, ctx.ks.limits.hll_sparse_max_bytes)
    if merged is not None:
        merged = header + merged[hll.HEADER:]
    else:
        regs = acc if acc is not None else bytes(hll.REGISTERS)
        merged = header[:4] + bytes((hll.DENSE,)) + header[5:] + hll.pack_dense(regs)
    store(ctx, dest, merged, existed)
    ctx.ks.dirty += 1
    ctx.notify("$", "pfadd", dest)
    return OK


@command("pfdebug", 3, WRITE | DENYOOM | ADMIN, KeySpec(2, 2, 1), "hyperloglog")
def pfdebug(ctx: Context, argv: list[bytes]):
    """PFDEBUG subcommand key

    Complexity: O(registers). Reply: GETREG, the 16384 registers (turning a sparse HLL
    dense); DECODE, a sparse HLL's opcodes as text; ENCODING, "dense" or "sparse"; TODENSE, 1
    if it turned the HLL dense, else 0.
    """
    key = argv[2]
    value = hll_value(ctx, key)
    if value is None:
        raise CommandError("ERR The specified key does not exist")
    ctx.db.mark_encoding(key, value, b"raw")
    sub = argv[1].lower()
    if sub == b"getreg" or sub == b"todense":
        dense = value[4] == hll.DENSE
        if not dense:
            try:
                value = hll.to_dense(value)
            except hll.Corrupt:
                raise CommandError(CORRUPT) from None
            store(ctx, key, value, True)
            # Redis forces the encoding change to replicas, but signals no change of the key:
            # no WATCH breaks, no tracker is told
            ctx.ks.dirty += 1
            ctx.touched = (argv, [])
        if sub == b"todense":
            return 0 if dense else 1
        return list(hll.dense_registers(value))
    if sub == b"decode":
        if value[4] != hll.SPARSE:
            raise CommandError("ERR HLL encoding is not sparse")
        return decode(value).encode()
    if sub == b"encoding":
        return Status("sparse" if value[4] == hll.SPARSE else "dense")
    raise CommandError(f"ERR Unknown PFDEBUG subcommand '{c_text(argv[1])}'")


@command("pfselftest", 1, ADMIN, NO_KEYS, "hyperloglog")
def pfselftest(ctx: Context, argv: list[bytes]):
    """PFSELFTEST

    Complexity: constant, ~0.25 s (Redis's own takes ~0.3 s). Reply: OK, or an error naming
    the first check that failed: a register read back wrong, the sparse encoding given up
    too early, sparse and dense counts that disagree, or an estimate too far from the truth.
    """
    error = hll.selftest(ctx.ks.limits.hll_sparse_max_bytes, random.Random())
    if error is not None:
        raise CommandError("ERR " + error)
    return OK


def decode(value: bytes) -> str:
    """PFDEBUG DECODE: every opcode of a sparse payload ("z:run", "Z:run", "v:value,run"); a
    final XZERO cut short reads the string's NUL terminator as its second byte."""
    out = []
    pos = hll.HEADER
    n = len(value)
    while pos < n:
        op = value[pos]
        if op & 0x80:
            out.append(f"v:{((op >> 2) & 31) + 1},{(op & 3) + 1}")
            pos += 1
        elif op & 0x40:
            low = value[pos + 1] if pos + 1 < n else 0
            out.append(f"Z:{((op & 0x3F) << 8 | low) + 1}")
            pos += 2
        else:
            out.append(f"z:{op + 1}")
            pos += 1
    return " ".join(out)
