"""Redis's glob patterns (`stringmatchlen` in util.c), for KEYS, SCAN MATCH and the other scans.

Syntax: `*` any run of bytes, `?` one byte, `[abc]` one of, `[^abc]` none of, `[a-z]` a range,
`\\x` the byte x literally (also inside brackets). Matching is on bytes. With nocase (CONFIG GET,
COMMAND LIST FILTERBY PATTERN) a byte matches a pattern byte or range when they are equal once
lowered (ASCII), as the C code compares them, but for an escaped byte inside brackets, which the C
code compares as it is.

Theory of operation: a pattern is translated once into a compiled regular expression (cached), so
matching a million keys runs in C. The translation walks the pattern exactly as the C code does,
which has quirks a naive translation would miss:

* An unclosed `[` is a class that ends at the end of the pattern (`a[bc` matches "ab", "ac").
* In a class, `x-y` is a range even when y is `]` (`[a-]x]` is one class), endpoints are swapped
  when reversed, and are compared as C `char`, which is signed on x86: bytes >= 0x80 sort below
  0x00, so `[a-\\xff]` means {0x00..'a'} plus {0xff}. We reproduce that by enumerating bytes.
* `\\` as the last byte of a pattern (or of a class) is a literal backslash.
* The empty string matches only the empty pattern: the C loop never runs, and trailing `*` are
  stripped only after a byte was consumed. So `**` matches everything except "".

Backtracking: Redis bounds its recursion on `*` with `skipLongerMatches`; a regex like `.*a.*a.*b`
would backtrack polynomially instead. Every element between two stars matches exactly one byte, so
placing each middle segment at its leftmost occurrence is optimal (the classic glob argument); the
translation commits to that placement with atomic groups, `(?>.*?seg)`, which keeps matching linear
in the key length for each segment.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

_STAR = object()  # marks a `*` in the element list

# Patterns compiled and kept; KEYS/SCAN callers reuse a handful of patterns.
_CACHE_SIZE = 512


def _signed(b: int) -> int:
    """A byte as C's (signed) `char` on x86."""
    return b - 256 if b >= 128 else b


def _class_regex(members: bytearray) -> bytes:
    """A regex character class for the bytes whose flag is set in `members` (256 flags)."""
    parts: list[bytes] = []
    b = 0
    while b < 256:
        if members[b]:
            start = b
            while b + 1 < 256 and members[b + 1]:
                b += 1
            if start == b:
                parts.append(b"\\x%02x" % start)
            else:
                parts.append(b"\\x%02x-\\x%02x" % (start, b))
        b += 1
    if not parts:
        return b"(?!)"  # an empty class matches nothing
    return b"[" + b"".join(parts) + b"]"


def _lower(b: int) -> int:
    return b + 32 if 65 <= b <= 90 else b


def _parse_class(p: bytes, i: int, nocase: bool) -> tuple[bytes, int]:
    """Parse a class whose `[` is at p[i-1]; returns (regex, index of its last byte)."""
    fold = _lower if nocase else int
    n = len(p)
    negate = i < n and p[i] == 0x5E  # '^'
    if negate:
        i += 1
    members = bytearray(256)
    while True:
        if i < n and p[i] == 0x5C and n - i >= 2:  # '\\' escapes the next byte
            i += 1
            members[p[i]] = 1
        elif i < n and p[i] == 0x5D:  # ']'
            break
        elif i >= n:  # unclosed: the class ends with the pattern (C steps back one byte)
            i = n - 1
            break
        elif n - i >= 3 and p[i + 1] == 0x2D:  # 'x-y'
            start, end = _signed(p[i]), _signed(p[i + 2])
            if start > end:
                start, end = end, start
            start, end = _signed(fold(start % 256)), _signed(fold(end % 256))
            for b in range(256):
                if start <= _signed(fold(b)) <= end:
                    members[b] = 1
            i += 2
        else:
            for b in range(256):
                if fold(b) == fold(p[i]):
                    members[b] = 1
        i += 1
    if negate:
        members = bytearray(1 - x for x in members)
    return _class_regex(members), i


def _elements(p: bytes, nocase: bool) -> list:
    """The pattern as a list of one-byte regexes and _STAR markers (runs of `*` collapsed)."""
    out: list = []
    n = len(p)
    i = 0
    while i < n:
        c = p[i]
        if c == 0x2A:  # '*'
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
        elif c == 0x3F:  # '?'
            out.append(b".")
        elif c == 0x5B:  # '['
            rx, i = _parse_class(p, i + 1, nocase)
            out.append(rx)
        else:
            if c == 0x5C and n - i >= 2:  # '\\x' is x, literally
                i += 1
                c = p[i]
            if nocase and c != _lower(c):
                out.append(b"[%c%c]" % (c, _lower(c)))
            elif nocase and 97 <= c <= 122:
                out.append(b"[%c%c]" % (c - 32, c))
            else:
                out.append(re.escape(bytes((c,))))
        i += 1
    return out


def translate(pattern: bytes, nocase: bool = False) -> bytes:
    """The regex (for `fullmatch`, flags DOTALL) equivalent to a glob pattern."""
    if not pattern:
        return b""
    segments: list[list[bytes]] = [[]]
    for element in _elements(pattern, nocase):
        if element is _STAR:
            segments.append([])
        else:
            segments[-1].append(element)
    # "(?=.)": the empty string never matches a non-empty pattern (see the module docstring).
    out = [b"(?=.)", b"".join(segments[0])]
    if len(segments) > 1:
        for middle in segments[1:-1]:
            if middle:
                out.append(b"(?>.*?" + b"".join(middle) + b")")
        out.append(b".*" + b"".join(segments[-1]))
    return b"".join(out)


@lru_cache(maxsize=_CACHE_SIZE)
def compile_glob(pattern: bytes, nocase: bool = False) -> Callable[[bytes], object]:
    """A predicate for `pattern`: `compile_glob(p)(key)` is truthy when key matches. O(len(key))
    per call for most patterns; compiling is O(len(pattern)) and cached."""
    return re.compile(translate(bytes(pattern), nocase), re.DOTALL).fullmatch


def match(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    """`stringmatchlen(pattern, string, nocase)`."""
    return compile_glob(pattern, nocase)(string) is not None
