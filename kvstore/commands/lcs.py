"""LCS: the longest common subsequence of two strings (Redis 7 `lcsCommand` in `t_string.c`).

Redis fills the classic (len(a)+1) x (len(b)+1) dynamic-programming table, then walks it back
from the bottom-right corner to spell the subsequence and, for IDX, the ranges of contiguous
matches. We do the same, row by row in Python lists. The walk's tie-breaking (step in `b` unless
going up in `a` is strictly better) decides *which* longest subsequence is reported, so it copies
Redis's exactly.

Cost: O(len(a) * len(b)) time and memory, about 0.1 us per cell, so 1,000 x 1,000 characters take
~0.1 s on the single command thread. Redis refuses tables over proto-max-bulk-len bytes (4 bytes
a cell); we keep that limit, which still allows tables far too slow for Python: a deliberate
compatibility choice, noted in the report to the lead.
"""

from __future__ import annotations

from ..errors import SYNTAX, CommandError
from .args import to_int
from .strings import PROTO_MAX_BULK_LEN
from .table import READONLY, Context, KeySpec, command

LCS_WRONGTYPE = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"


def lcs_table(a: bytes, b: bytes) -> list[list[int]]:
    """table[i][j] = length of the LCS of a[:i] and b[:j]. O(len(a) * len(b))."""
    prev = [0] * (len(b) + 1)
    table = [prev]
    for ca in a:
        row = [0]
        append = row.append
        left = 0
        for j, cb in enumerate(b):  # hot loop: locals only
            if ca == cb:
                left = prev[j] + 1
            else:
                up = prev[j + 1]
                if up > left:
                    left = up
            append(left)
        table.append(row)
        prev = row
    return table


def _parse_options(argv: list[bytes]) -> tuple[bool, bool, int, bool]:
    """(LEN, IDX, MINMATCHLEN, WITHMATCHLEN) from argv[3:], with Redis's errors."""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    i = 3
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and i + 1 < len(argv):
            minmatchlen = max(to_int(argv[i + 1]), 0)
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if getidx and getlen:
        raise CommandError(LCS_LEN_AND_IDX)
    return getlen, getidx, minmatchlen, withmatchlen


def _walk(a: bytes, b: bytes, table: list[list[int]], minmatchlen: int, withmatchlen: bool):
    """Walk the table back (Redis's loop, step for step): the LCS and its match ranges."""
    m = len(a)
    idx = table[m][len(b)]
    result = bytearray(idx)
    matches = []
    astart = m  # m means "no range open"
    aend = bstart = bend = 0
    i, j = m, len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if astart == m:
                astart = aend = i - 1
                bstart = bend = j - 1
            elif astart == i and bstart == j:  # contiguous: extend the range backwards
                astart -= 1
                bstart -= 1
            else:
                emit = True
            if astart == 0 or bstart == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if astart != m:
                emit = True
        if emit:
            match_len = aend - astart + 1
            if minmatchlen == 0 or match_len >= minmatchlen:
                item = [[astart, aend], [bstart, bend]]
                if withmatchlen:
                    item.append(match_len)
                matches.append(item)
            astart = m
    return bytes(result), matches


@command("lcs", -3, READONLY, KeySpec(1, 2, 1), "string")
def lcs(ctx: Context, argv: list[bytes]):
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]

    Complexity: O(N*M). Reply: the subsequence; with LEN its length; with IDX a map
    {matches: [[[a_start, a_end], [b_start, b_end](, len)], ...], len: n}. Missing keys are "".
    """
    a = ctx.read(argv[1])
    b = ctx.read(argv[2])
    if (a is not None and type(a) is not bytes) or (b is not None and type(b) is not bytes):
        raise CommandError(LCS_WRONGTYPE)
    a = a or b""
    b = b or b""
    getlen, getidx, minmatchlen, withmatchlen = _parse_options(argv)
    if (len(a) + 1) * (len(b) + 1) * 4 > PROTO_MAX_BULK_LEN:
        raise CommandError(LCS_TOO_BIG)
    table = lcs_table(a, b)
    if getlen:
        return table[-1][-1]
    text, matches = _walk(a, b, table, minmatchlen, withmatchlen)
    if getidx:
        return {b"matches": matches, b"len": table[-1][-1]}
    return text
