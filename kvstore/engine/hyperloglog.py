"""HyperLogLog strings in Redis's own format (Redis `hyperloglog.c`), byte for byte.

An HLL is an ordinary string value, so GET, DUMP, replication and clients see Redis's bytes:

    "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8, little endian)

The top bit of the cached cardinality's last byte marks the cache invalid. Dense: 16384 6-bit
registers packed from the least significant bit of each byte up (12288 bytes). Sparse: opcodes,
ZERO `00xxxxxx` (1..64 zero registers), XZERO `01xxxxxx yyyyyyyy` (1..16384 zero registers),
VAL `1vvvvvxx` (1..4 registers of value 1..32). An element is hashed with MurmurHash64A (seed
0xadc83b19); the low 14 bits choose the register, the run of zeros above them plus one is the
value it may raise the register to.

Byte identity. Redis edits a sparse string in place (`hllSparseSet`): it splits the opcode
covering a register, then merges equal VAL neighbours among the next five opcodes only, so the
encoding is not canonical and must be reproduced edit by edit. `Sparse` holds the opcodes as a
list of ints (XZERO as 0x4000 | length-1) beside the index of each one's first register; an
opcode is found by bisection, and a split or merge only shifts the list, in C. The first
registers of the other opcodes never change, which is what makes that bookkeeping cheap.

Hostile strings. Any string with the header is accepted as an HLL (as Redis does), so sparse
payloads are validated: a payload whose runs do not cover exactly 16384 registers is `Corrupt`
when read (PFCOUNT, PFMERGE, promotion to dense: Redis 7.0.15 with the CVE-2025-32023 fix).
Parsing stops a few opcodes past register 16383, so no work or memory grows with the length of
what a client SET. A final XZERO cut after its first byte reads its second byte as 0, the NUL
that ends every sds string; an edit of it writes one byte past the new end (`_cut_last`).

Registers unpacked (`registers()`) are a 16384-byte string, one register a byte in index order;
the dense packing and unpacking go through slices and `bytes.translate`, the maximum of two
register strings through big-int arithmetic, so no per-register Python loop runs on them.

`selftest` is PFSELFTEST: Redis's checks of its register macros and of sparse against dense
counting, run on this module's own code (see its section at the end).
"""

from __future__ import annotations

import math
import re
import struct
from bisect import bisect_right
from collections import Counter
from itertools import accumulate, compress

REGISTERS = 16384            # 2**14: the low 14 bits of the hash choose a register
Q = 50                       # hash bits left to count zeros in: the largest value is Q + 1
HEADER = 16
DENSE_SIZE = HEADER + REGISTERS * 6 // 8
DENSE, SPARSE = 0, 1
SPARSE_VAL_MAX = 32          # larger values do not fit a VAL opcode: the HLL turns dense
ZERO_MAX = 64                # longest run of a ZERO opcode; longer runs take an XZERO
# A new HLL (Redis `createHLLObject`): sparse, one XZERO over every register, cached count 0.
EMPTY = b"HYLL\x01" + bytes(11) + b"\x7f\xff"

_SEED = 0xADC83B19
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1
_ALPHA_INF = 0.721347520444481703680   # 0.5 / ln(2)
# Opcodes parsed past the one covering register 16383: an edit looks at most at the opcode
# after the five it may merge, starting one before the edited one.
_LOOKAHEAD = 4


class Corrupt(ValueError):
    """A sparse payload that does not describe 16384 registers (Redis's INVALIDOBJ)."""


def is_hll(value: bytes) -> bool:
    """Redis `isHLLObjectOrReply`: the header, a known encoding, and a dense one's exact size."""
    return (len(value) >= HEADER and value[:4] == b"HYLL" and value[4] <= SPARSE
            and (value[4] == SPARSE or len(value) == DENSE_SIZE))


def murmur64a(data: bytes, seed: int = _SEED) -> int:
    """MurmurHash64A as Redis computes it (little-endian words, whatever the platform)."""
    n = len(data)
    h = seed ^ (n * _M & _MASK)
    body = n & ~7
    if body:
        for k in struct.unpack_from("<%dQ" % (body >> 3), data):
            k = k * _M & _MASK
            k ^= k >> 47
            h = (h ^ (k * _M & _MASK)) * _M & _MASK
    if n & 7:
        h = (h ^ int.from_bytes(data[body:], "little")) * _M & _MASK
    h ^= h >> 47
    h = h * _M & _MASK
    return h ^ (h >> 47)


def pattern(element: bytes) -> tuple[int, int]:
    """Redis `hllPatLen`: (register index, 1 + the zeros above the index bits, at most Q + 1)."""
    h = murmur64a(element)
    rest = h >> 14 | 1 << Q
    return h & (REGISTERS - 1), (rest & -rest).bit_length()


def cached_count(value: bytes) -> int | None:
    """The cardinality cached in the header, None if marked invalid."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def with_count(value: bytes, card: int) -> bytes:
    """`value` with `card` cached (card >= 2**63 reads back as invalid, as in Redis)."""
    return value[:8] + card.to_bytes(8, "little") + value[16:]


def invalidated(header: bytes) -> bytes:
    """A 16-byte header with the cached cardinality marked invalid."""
    return header[:15] + bytes((header[15] | 0x80,))


# -- dense ---------------------------------------------------------------------------------------

def _table(fn) -> bytes:
    return bytes(fn(b) & 0xFF for b in range(256))


_LOW6 = _table(lambda b: b & 63)
_SHR6 = _table(lambda b: b >> 6)
_LOW4_SHL2 = _table(lambda b: (b & 15) << 2)
_SHR4 = _table(lambda b: b >> 4)
_LOW2_SHL4 = _table(lambda b: (b & 3) << 4)
_SHR2 = _table(lambda b: b >> 2)
_LOW2_SHL6 = _table(lambda b: (b & 3) << 6)
_LOW4_SHL4 = _table(lambda b: (b & 15) << 4)
_SHL2 = _table(lambda b: b << 2)


def _or(a: bytes, b: bytes) -> bytes:
    """Bytewise OR of two equal-length strings."""
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(len(a), "little")


def dense_registers(value: bytes) -> bytes:
    """The 16384 registers of a dense HLL, one byte each. Every 3 bytes hold 4 registers."""
    b0 = value[HEADER::3]
    b1 = value[HEADER + 1::3]
    b2 = value[HEADER + 2::3]
    out = bytearray(REGISTERS)
    out[0::4] = b0.translate(_LOW6)
    out[1::4] = _or(b0.translate(_SHR6), b1.translate(_LOW4_SHL2))
    out[2::4] = _or(b1.translate(_SHR4), b2.translate(_LOW2_SHL4))
    out[3::4] = b2.translate(_SHR2)
    return bytes(out)


def pack_dense(registers: bytes) -> bytes:
    """The dense packing of 16384 one-byte registers (each below 64)."""
    r0, r1, r2, r3 = registers[0::4], registers[1::4], registers[2::4], registers[3::4]
    out = bytearray(REGISTERS * 6 // 8)
    out[0::3] = _or(r0, r1.translate(_LOW2_SHL6))
    out[1::3] = _or(r1.translate(_SHR2), r2.translate(_LOW4_SHL4))
    out[2::3] = _or(r2.translate(_SHR4), r3.translate(_SHL2))
    return bytes(out)


def dense_set(buf: bytearray, index: int, count: int) -> int:
    """Redis `hllDenseSet` on a whole dense value: raise register `index` to `count`; 1 if it
    rose. A register straddles two bytes when it starts above bit 2 of its first byte."""
    bit = index * 6
    pos = HEADER + (bit >> 3)
    shift = bit & 7
    if shift <= 2:
        old = buf[pos] >> shift & 63
        if count <= old:
            return 0
        buf[pos] = buf[pos] & ~(63 << shift) | count << shift
        return 1
    pair = buf[pos] | buf[pos + 1] << 8
    if count <= pair >> shift & 63:
        return 0
    pair = pair & ~(63 << shift) | count << shift
    buf[pos] = pair & 0xFF
    buf[pos + 1] = pair >> 8
    return 1


_HIGH_BITS = int.from_bytes(b"\x80" * REGISTERS, "little")


def max_registers(a: bytes, b: bytes) -> bytes:
    """Register-wise maximum of two register strings (values below 128). Per byte lane,
    (a | 0x80) - b keeps its top bit exactly where a >= b, and never borrows across lanes."""
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    keep = ((((x | _HIGH_BITS) - y) & _HIGH_BITS) >> 7) * 0xFF
    return ((x & keep) | (y & ~keep)).to_bytes(REGISTERS, "little")


# -- sparse --------------------------------------------------------------------------------------
# An opcode as an int: the byte of a ZERO or VAL, 0x4000 | (run - 1) for an XZERO.

# A token of a sparse payload: an XZERO (its second byte missing at the very end), or a run of
# one-byte opcodes no longer than a valid HLL's, so a huge hostile string is never copied whole.
_TOKENS = re.compile(rb"[\x40-\x7f][\x00-\xff]?|[\x00-\x3f\x80-\xff]{1,%d}" % REGISTERS)
# Registers covered by each one-byte opcode (ZERO or VAL; XZERO's first bytes unused).
_ONE_BYTE_SPANS = bytes((b & 3) + 1 if b & 0x80 else b + 1 if b < 0x40 else 0 for b in range(256))


# Whether an opcode is a VAL, and the registers a VAL opcode stands for, by opcode.
_IS_VAL = bytes(0x80 <= op < 0x100 for op in range(0x8000))
_RUNS = {op: bytes((((op >> 2) & 31) + 1,)) * ((op & 3) + 1) for op in range(0x80, 0x100)}


class _OpBytes(dict):
    """Opcode -> its bytes, filled as met: `map(__getitem__)` over a sparse HLL's opcodes then
    runs in C (a Python step per opcode was most of a PFADD's time)."""

    def __missing__(self, op: int) -> bytes:
        self[op] = encoded = op.to_bytes(1 if op < 0x100 else 2, "big")
        return encoded


_OP_BYTES = _OpBytes()


def _span(op: int) -> int:
    if op >= 0x4000:
        return (op & 0x3FFF) + 1
    if op & 0x80:
        return (op & 3) + 1
    return op + 1


def _val(value: int, run: int) -> int:
    return 0x80 | (value - 1) << 2 | (run - 1)


def _zeros(run: int) -> int:
    return 0x4000 | (run - 1) if run > ZERO_MAX else run - 1


class Sparse:
    """The opcodes of a sparse HLL, edited as Redis edits the string. See the module docstring.

    Invariants: `firsts[i]` is the first register of `ops[i]`, `covered` the registers up to
    the end of the last parsed opcode, `size` Redis's string length; `cut` says the last
    opcode is an XZERO whose second byte is missing; `tail` is the unparsed rest, far past
    register 16383, which no edit reaches.
    """

    __slots__ = ("header", "ops", "firsts", "covered", "size", "cut", "tail")

    def __init__(self, value: bytes) -> None:
        self.header = value[:HEADER]
        ops: list[int] = []
        firsts: list[int] = []
        covered = 0
        pos = HEADER
        self.cut = False
        # Whole runs of one-byte opcodes at a time, in C: a Python step per opcode costs more
        # than the rest of a PFADD of one element.
        for match in _TOKENS.finditer(value, HEADER):
            token = match.group()
            if token[0] & 0xC0 == 0x40:
                op = token[0] << 8 | (token[1] if len(token) == 2 else 0)
                self.cut = len(token) == 1
                ops.append(op)
                firsts.append(covered)
                covered += (op & 0x3FFF) + 1
            else:
                ops += token
                starts = list(accumulate(token.translate(_ONE_BYTE_SPANS), initial=covered))
                covered = starts.pop()
                firsts += starts
            pos = match.end()
            if covered >= REGISTERS:
                break
        if covered >= REGISTERS:  # keep the opcode of register 16383 and _LOOKAHEAD more
            keep = bisect_right(firsts, REGISTERS - 1) + _LOOKAHEAD
            if len(ops) > keep:  # all from the last run of one-byte opcodes
                pos -= len(ops) - keep
                del ops[keep:], firsts[keep:]
                covered = firsts[-1] + _span(ops[-1])
            n = len(value)
            while len(ops) < keep and pos < n:
                op = value[pos]
                pos += 1
                if op & 0xC0 == 0x40:
                    self.cut = pos == n
                    op = op << 8 | (value[pos] if pos < n else 0)
                    pos += 1
                ops.append(op)
                firsts.append(covered)
                covered += _span(op)
        self.ops = ops
        self.firsts = firsts
        self.covered = covered
        self.size = len(value)
        self.tail = value[pos:]

    def to_bytes(self) -> bytes:
        out = self.header + b"".join(map(_OP_BYTES.__getitem__, self.ops))
        if self.cut:
            out = out[:-1]
        return out + self.tail

    def valid(self) -> bool:
        """Whether the runs cover exactly the 16384 registers (Redis 7.0.15's check)."""
        return not self.tail and self.covered == REGISTERS

    def registers(self) -> bytes:
        """The 16384 registers; Corrupt unless valid()."""
        if not self.valid():
            raise Corrupt
        out = bytearray(REGISTERS)
        for op, first in compress(zip(self.ops, self.firsts), map(_IS_VAL.__getitem__, self.ops)):
            run = (op & 3) + 1
            out[first:first + run] = _RUNS[op]
        return bytes(out)

    def histogram(self) -> list[int]:
        """Registers by value (64 slots); Corrupt unless valid()."""
        if not self.valid():
            raise Corrupt
        hist = [0] * 64
        for op, times in Counter(self.ops).items():  # a few dozen distinct opcodes
            if op & 0x80 and op < 0x100:
                hist[((op >> 2) & 31) + 1] += ((op & 3) + 1) * times
            else:
                hist[0] += _span(op) * times
        return hist

    def set(self, index: int, count: int, max_bytes: int) -> int | None:
        """Redis `hllSparseSet`: raise register `index` to `count`. Returns 1 if it rose, 0 if
        not, None when the HLL must turn dense first (count above 32, or the string would
        pass `max_bytes`); Corrupt when no opcode covers `index`."""
        if count > SPARSE_VAL_MAX:
            return None
        if index >= self.covered:
            raise Corrupt
        ops = self.ops
        firsts = self.firsts
        i = bisect_right(firsts, index) - 1
        op = ops[i]
        first = firsts[i]
        run = _span(op)
        is_val = op & 0x80 and op < 0x100
        current = 0
        if is_val:
            current = ((op >> 2) & 31) + 1
            if current >= count:
                return 0
            if run == 1:
                ops[i] = _val(count, 1)
                self._merge(i)
                return 1
        elif run == 1:  # a ZERO of one register
            ops[i] = _val(count, 1)
            self._merge(i)
            return 1
        last = first + run - 1
        seq: list[int] = []
        starts: list[int] = []
        if index != first:
            seq.append(_val(current, index - first) if is_val else _zeros(index - first))
            starts.append(first)
        seq.append(_val(count, 1))
        starts.append(index)
        if index != last:
            seq.append(_val(current, last - index) if is_val else _zeros(last - index))
            starts.append(index + 1)
        grow = sum(2 if o >= 0x4000 else 1 for o in seq) - (2 if op >= 0x4000 else 1)
        if grow > 0 and self.size + grow > max_bytes:
            return None
        ops[i:i + 1] = seq
        firsts[i:i + 1] = starts
        self.size += grow
        if self.cut and i + len(seq) == len(ops):
            self._cut_last()
        self._merge(i)
        return 1

    def _cut_last(self) -> None:
        """Redis grew the string over the cut XZERO by fewer bytes than it then wrote, so the
        last byte written lies past the end: a one-byte opcode there is lost; an XZERO's second
        byte is, but Redis still reads it from its buffer while this command runs."""
        if self.ops[-1] < 0x100:
            self.ops.pop()
            self.firsts.pop()
            self.cut = False
            self.covered = self.firsts[-1] + _span(self.ops[-1]) if self.ops else 0

    def _merge(self, i: int) -> None:
        """Redis's step 4: from the opcode before the edited one, scan five opcodes and merge
        neighbouring VALs of one value while their runs fit a VAL (4 registers)."""
        ops = self.ops
        k = i - 1 if i else 0
        scan = 5
        while k < len(ops) and scan:
            scan -= 1
            op = ops[k]
            if op & 0x80 and op < 0x100 and k + 1 < len(ops):
                nxt = ops[k + 1]
                if nxt & 0x80 and nxt < 0x100 and (op ^ nxt) & 0x7C == 0:
                    run = (op & 3) + (nxt & 3) + 2
                    if run <= 4:
                        ops[k] = _val(((op >> 2) & 31) + 1, run)
                        del ops[k + 1]
                        del self.firsts[k + 1]
                        self.size -= 1
                        continue
            k += 1


# Sparse HLLs parsed from strings still stored, by the string's identity (each entry keeps its
# string alive, so the id cannot be reused meanwhile): PFADDs to a hot key re-parse nothing.
# Parsing walks every opcode in Python, 100-200 us for a few hundred; an edit touches a few.
_PARSED: dict[int, tuple[bytes, Sparse]] = {}
_PARSED_MAX = 64


def parse_sparse(value: bytes) -> Sparse:
    """The Sparse of `value`: the one `remember` kept for this very string, else a new parse.
    The caller owns it (it may edit it): it leaves the cache."""
    hit = _PARSED.pop(id(value), None)
    if hit is not None and hit[0] is value:
        return hit[1]
    return Sparse(value)


def remember(value: bytes, sparse: Sparse) -> None:
    """Keep `sparse`, equal to a parse of `value` (the string just stored), for the next edit."""
    if sparse.cut or sparse.tail:
        return  # (hostile strings: always parsed afresh)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    sparse.header = value[:HEADER]
    _PARSED[id(value)] = (value, sparse)


def sparse_merge(value: bytes, registers: bytes, max_bytes: int) -> bytes | None:
    """PFMERGE into a sparse HLL when every input is sparse (Redis 7.0 `pfmergeCommand`): raise
    each register of `value` to its non-zero maximum in `registers`, in index order, with
    `Sparse.set`. None when that would turn it dense. `value` must be valid."""
    hll = Sparse(value)
    for index, count in enumerate(registers):
        if count and hll.set(index, count, max_bytes) is None:
            return None
    return hll.to_bytes()


# -- counting ------------------------------------------------------------------------------------

def _sigma(x: float) -> float:
    """Ertl's sigma (arXiv:1702.01284), with Redis's float operations in Redis's order."""
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if before == z:
            return z


def _tau(x: float) -> float:
    """Ertl's tau, as Redis computes it."""
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if before == z:
            return z / 3


def histogram(registers: bytes) -> list[int]:
    """Registers by value (64 slots), counting values upward until all are accounted for."""
    hist = [0] * 64
    total = 0
    value = 0
    while total < REGISTERS:
        n = registers.count(value)
        hist[value] = n
        total += n
        value += 1
    return hist


def estimate(hist: list[int]) -> int:
    """Redis `hllCount` from a register histogram: Ertl's improved estimator, rounded half away
    from zero (llroundl). A histogram with every register above Q + 1 divides by zero: Redis's
    llroundl(inf) is 2**63, which the caller caches and reports as Redis does."""
    m = float(REGISTERS)
    z = m * _tau((m - hist[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += hist[j]
        z *= 0.5
    z += m * _sigma(hist[0] / m)
    if z == 0.0:
        return 1 << 63
    e = _ALPHA_INF * m * m / z
    whole = math.floor(e)
    return whole + 1 if e - whole >= 0.5 else whole


def registers(value: bytes) -> bytes:
    """The 16384 registers of a valid HLL string; Corrupt for a bad sparse payload."""
    if value[4] == DENSE:
        return dense_registers(value)
    return Sparse(value).registers()


def count(value: bytes) -> int:
    """The estimated cardinality of one HLL string (ignoring its cache)."""
    if value[4] == DENSE:
        return estimate(histogram(dense_registers(value)))
    return estimate(Sparse(value).histogram())


def to_dense(value: bytes) -> bytes:
    """Redis `hllSparseToDense`: the same header (cached count included), dense registers."""
    regs = Sparse(value).registers()
    return value[:4] + bytes((DENSE,)) + value[5:HEADER] + pack_dense(regs)


# -- self-test (PFSELFTEST) ----------------------------------------------------------------------
# Redis `pfselftestCommand`, over this module's code: the register packing (every value in every
# register, beside random neighbours), `dense_set` (PFADD's write), then one sparse HLL grown as
# PFADD grows it (promotion included) beside a dense one, which must count alike, within
# SELFTEST_SIGMAS standard errors of the truth at each power of ten.

# Rounds of random registers through pack_dense and back; each round costs ~0.15 ms (Redis runs
# 1000 rounds of its get/set macros; the sweep of all 64 values at every register covers more).
SELFTEST_RANDOM_ROUNDS = 64
SELFTEST_SET_PASSES = 2           # passes of dense_set over every register, ~6 ms each
# Elements added in test 2: Redis adds 10**7 in C (0.3 s); hashing one in Python costs ~1.3 us
# and two register updates ~0.6 us, so 10**5 (checkpoints 1, 10, ..., 10**5) take ~0.2 s.
SELFTEST_ELEMENTS = 10 ** 5
SELFTEST_SIGMAS = 6               # Redis 7.0: maxerr = ceil(relerr * 6 * card)
_STDERR = 1.04 / math.sqrt(REGISTERS)   # relative standard error of the estimate
_ADD = [_table(lambda b, k=k: (b + k) & 63) for k in range(64)]


def selftest(max_bytes: int, rng) -> str | None:
    """PFSELFTEST: None if this module passes, else Redis's text for the first failure (which
    Redis replies after "ERR "). `max_bytes`: hll-sparse-max-bytes; `rng`: a random.Random.
    Runs in ~0.25 s (longer with a large max_bytes: sparse edits cost more than dense ones)."""
    return _selftest_registers(rng) or _selftest_counts(max_bytes, rng)


def _register_error(want: bytes, got: bytes) -> str | None:
    if got == want:
        return None
    i = next(i for i in range(REGISTERS) if got[i] != want[i])
    return f"TESTFAILED Register {i} should be {want[i]} but is {got[i]}"


def _selftest_registers(rng) -> str | None:
    """Test 1: registers written are the registers read back, neighbours untouched."""
    base = rng.randbytes(REGISTERS).translate(_LOW6)
    rounds = [base.translate(add) for add in _ADD]  # register i takes every value once
    rounds += [rng.randbytes(REGISTERS).translate(_LOW6)
               for _ in range(SELFTEST_RANDOM_ROUNDS)]
    header = bytes(HEADER)
    for regs in rounds:
        error = _register_error(regs, dense_registers(header + pack_dense(regs)))
        if error:
            return error
    for _ in range(SELFTEST_SET_PASSES):  # raise every register of random ones to random values
        old = rng.randbytes(REGISTERS).translate(_LOW6)
        new = rng.randbytes(REGISTERS).translate(_LOW6)
        buf = bytearray(header + pack_dense(old))
        for i in range(REGISTERS):
            if dense_set(buf, i, new[i]) != (new[i] > old[i]):
                return (f"TESTFAILED Register {i} raised from {old[i]} to {new[i]}"
                        " reported wrongly")  # (kvstore's: Redis's set has no reply)
        error = _register_error(max_registers(old, new), dense_registers(buf))
        if error:
            return error
    return None


def _selftest_counts(max_bytes: int, rng) -> str | None:
    """Test 2: distinct elements into a dense HLL and into one that starts sparse and turns
    dense as PFADD's does; at each power of ten both count alike, close to the truth."""
    dense = bytearray(HEADER + REGISTERS * 6 // 8)
    sparse: Sparse | None = Sparse(EMPTY)
    promoted = bytearray()
    seed = rng.getrandbits(64)
    checkpoint = 1
    for j in range(1, SELFTEST_ELEMENTS + 1):
        index, value = pattern((j ^ seed).to_bytes(8, "little"))
        dense_set(dense, index, value)
        if sparse is not None and sparse.set(index, value, max_bytes) is None:
            promoted = bytearray(to_dense(sparse.to_bytes()))
            sparse = None
        if sparse is None:
            dense_set(promoted, index, value)
        if j != checkpoint:
            continue
        if sparse is None and j < max_bytes // 2:
            return "TESTFAILED sparse encoding not used"
        card = count(bytes(dense))
        if card != count(sparse.to_bytes() if sparse is not None else bytes(promoted)):
            return "TESTFAILED dense/sparse disagree"
        maxerr = math.ceil(_STDERR * SELFTEST_SIGMAS * j)  # (Redis's special 1 at j = 10 too)
        if abs(j - card) > maxerr:
            return f"TESTFAILED Too big error. card:{j} abserr:{abs(j - card)}"
        checkpoint *= 10
    return None
