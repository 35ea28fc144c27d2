"""Numbers as Redis 7.0 reads and writes them.

Redis is strict about number syntax and exact about number output, and clients compare bytes, so
these helpers reproduce the C library calls Redis makes rather than Python's own conversions:

* `parse_int` is `string2ll`: canonical decimal only (no '+', no spaces, no leading zeros, no "-0"),
  signed 64-bit. Python's `int()` accepts far more ("+1", " 1", "1_0", "01"), so we accept a string
  exactly when it is the canonical spelling `b"%d" % value` of a value in range: that language is
  the same one `string2ll` accepts.
* `parse_float` is `string2d` (`strtod` + checks), used for sorted-set scores and other doubles:
  decimal, hex (`0x1.8p3`) and `inf`/`infinity` in any case, with a sign; rejects NaN, empty input,
  leading or trailing garbage (including spaces) and values that overflow to +-inf or underflow to
  zero (`strtod` sets ERANGE; a literal "inf" or a literal zero is fine).
* `format_double` is `addReplyDouble`: `%.17g`, so ZSCORE of 1.1 is "1.1000000000000001"
  (7.2 switched to shortest round-trip; we follow 7.0.15, our oracle), with "inf" / "-inf".
* INCRBYFLOAT and HINCRBYFLOAT compute in C `long double` (x87 80-bit: 64-bit significand, 15-bit
  exponent) and print with `%.17Lf`, trailing zeros and dot stripped. A Python float cannot
  reproduce that ("10.5" + "0.1" is "10.6" in Redis, 10.59999999999999964 with doubles), so the
  long-double helpers keep values as exact `Fraction`s rounded to the 80-bit format after every
  operation (`strtold` and `+` are correctly rounded, so the emulation is exact). They cost a few
  microseconds, which is fine for a command that also parses and formats a string.

Every parser raises ValueError on rejection; callers turn it into Redis's error text
(`errors.NOT_INTEGER`, `errors.NOT_FLOAT`).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# string2ll refuses strings of LONG_STR_SIZE (21) bytes or more before looking at them.
_LONG_STR_SIZE = 21
# string2ld copies into a MAX_LONG_DOUBLE_CHARS (5 KiB) buffer and refuses longer input.
MAX_LONG_DOUBLE_CHARS = 5 * 1024

# The strtod grammar (after Redis has refused a leading space): sign, then a decimal number with an
# optional exponent, a hex number with an optional binary exponent, or inf/infinity. "nan" parses
# in C but Redis rejects it, so it is simply absent here.
_FLOAT_RE = re.compile(
    rb"([+-]?)(?:"
    rb"(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    rb"|0[xX](?P<hex>(?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    rb"|(?P<inf>[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)"
    rb")"
)
_NONZERO_DIGIT_RE = re.compile(rb"[1-9a-fA-F]")


def parse_int(b: bytes) -> int:
    """`string2ll`: the signed 64-bit integer spelled canonically by `b`, else ValueError. O(1)."""
    if len(b) < _LONG_STR_SIZE:
        try:
            v = int(b)
        except ValueError:
            pass
        else:
            # int() is lenient; the canonical spelling check makes it exactly string2ll.
            if INT64_MIN <= v <= INT64_MAX and b"%d" % v == b:
                return v
    raise ValueError(f"not an integer: {bytes(b)[:40]!r}")


def _mantissa_is_zero(digits: bytes) -> bool:
    """True when a matched number's digits before its exponent are all zero ("0.00e-999")."""
    for marker in (b"e", b"E", b"p", b"P"):
        cut = digits.find(marker)
        if cut >= 0:
            digits = digits[:cut]
            break
    return _NONZERO_DIGIT_RE.search(digits) is None


def parse_float(b: bytes) -> float:
    """`string2d`: the double spelled by `b` (strtod syntax), else ValueError. O(len(b)).

    Overflow and underflow to zero are rejected, as strtod flags them with ERANGE.
    """
    m = _FLOAT_RE.fullmatch(b)
    if m is None:
        raise ValueError(f"not a float: {bytes(b)[:40]!r}")
    if m.group("dec") is not None:
        v = float(b)  # correctly rounded, like glibc's strtod
    elif m.group("inf") is not None:
        return -math.inf if b[0] == 45 else math.inf  # 45 == ord("-")
    else:
        try:
            v = float.fromhex(b.decode("ascii"))
        except OverflowError:
            raise ValueError(f"float overflow: {bytes(b)[:40]!r}") from None
    if v == 0.0:
        if not _mantissa_is_zero(m.group("dec") or m.group("hex")):
            raise ValueError(f"float underflow: {bytes(b)[:40]!r}")
    elif v in (math.inf, -math.inf):
        raise ValueError(f"float overflow: {bytes(b)[:40]!r}")
    return v


def format_double(x: float) -> bytes:
    """`addReplyDouble` in Redis 7.0: `%.17g`, and "inf" / "-inf" / "-0" / "-nan" (a script's
    0/0) as C prints them. O(1)."""
    if x == x:
        return b"%.17g" % x
    return b"-nan" if math.copysign(1.0, x) < 0 else b"nan"


# --- long double (x87 80-bit extended) emulation, for INCRBYFLOAT / HINCRBYFLOAT ---------------

LongDouble = Fraction | float  # finite values are exact Fractions; infinities are float +-inf

_LD_MANT_BITS = 64  # significand bits, including the explicit integer bit
_LD_EMIN = -16382  # exponent of the smallest normal number (2**-16382)
_LD_EMAX = 16383  # exponent of the largest finite binade
# Decimal exponent bounds outside of which a nonzero value surely overflows / underflows, so we
# never build 10**1000000000 for "1e1000000000".
# LDBL_MAX ~ 1.19e4932; the smallest subnormal ~ 3.6e-4951.
_LD_DEC_MAX = 4933
_LD_DEC_MIN = -4952


def _div_round_even(num: int, den: int) -> int:
    """num / den rounded to the nearest integer, ties to even (num >= 0, den > 0)."""
    q, r = divmod(num, den)
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    return q


def _round_ld(x: Fraction) -> Fraction | float:
    """Round an exact value to the nearest 80-bit long double (ties to even); +-inf on overflow.

    Integer arithmetic only (Fraction powers cost ~100x more): O(size of x's terms).
    """
    p, q = abs(x.numerator), x.denominator
    if p == 0:
        return Fraction(0)
    # e = floor(log2(p/q)): the bit lengths give it or one more; one comparison tells which.
    e = p.bit_length() - q.bit_length()
    if (p << -e if e < 0 else p) < (q << e if e > 0 else q):
        e -= 1
    shift = max(e, _LD_EMIN) - (_LD_MANT_BITS - 1)  # weight of the last significand bit
    m = _div_round_even(p << -shift, q) if shift < 0 else _div_round_even(p, q << shift)
    if m.bit_length() - 1 + shift > _LD_EMAX:  # m * 2**shift >= 2**16384
        return -math.inf if x < 0 else math.inf
    r = Fraction(m, 1 << -shift) if shift < 0 else Fraction(m << shift)
    return -r if x < 0 else r


def parse_long_double(b: bytes) -> LongDouble:
    """`string2ld`: the long double spelled by `b` (strtold syntax), else ValueError.

    Returns an exact Fraction (already rounded to 80-bit precision) or +-inf for "inf" literals.
    Overflow / underflow to zero, NaN, spaces and input of 5 KiB or more are rejected.
    """
    if len(b) >= MAX_LONG_DOUBLE_CHARS:
        raise ValueError("float too long")
    m = _FLOAT_RE.fullmatch(b)
    if m is None:
        raise ValueError(f"not a float: {bytes(b)[:40]!r}")
    neg = b[0] == 45
    if m.group("inf") is not None:
        return -math.inf if neg else math.inf
    if m.group("dec") is not None:
        d = Decimal(m.group("dec").decode("ascii"))
        if d == 0:
            return Fraction(0)
        adjusted = d.adjusted()  # decimal exponent of the leading digit
        if adjusted > _LD_DEC_MAX:
            raise ValueError("float overflow")
        if adjusted < _LD_DEC_MIN:
            raise ValueError("float underflow")
        exact = Fraction(d)
    else:
        text = m.group("hex").decode("ascii").lower()
        mant, _, exp = text.partition("p")
        whole, _, frac = mant.partition(".")
        digits = (whole + frac) or "0"
        n = int(digits, 16)
        if n == 0:
            return Fraction(0)
        e2 = int(exp or "0") - 4 * len(frac)
        top = e2 + n.bit_length()  # value lies in [2**(top-1), 2**top)
        if top > _LD_EMAX + 2:
            raise ValueError("float overflow")
        if top < _LD_EMIN - _LD_MANT_BITS - 2:
            raise ValueError("float underflow")
        exact = Fraction(n, 1 << -e2) if e2 < 0 else Fraction(n << e2)
    v = _round_ld(exact)
    if v == 0 or isinstance(v, float):
        raise ValueError("float out of range")  # strtold's ERANGE to zero or HUGE_VALL
    return -v if neg else v


def add_long_double(a: LongDouble, b: LongDouble) -> LongDouble:
    """`a + b` in long double arithmetic. May return +-inf or NaN (a float); the caller checks."""
    if isinstance(a, float) or isinstance(b, float):
        # An infinity is involved: finite + inf == inf, inf + -inf == nan, as in C.
        fa = a if isinstance(a, float) else 0.0
        fb = b if isinstance(b, float) else 0.0
        return fa + fb
    return _round_ld(a + b)


def is_finite_long_double(x: LongDouble) -> bool:
    """True unless x is +-inf or NaN (Fractions are always finite; math.isfinite would overflow)."""
    return not isinstance(x, float) or math.isfinite(x)


def format_long_double(x: LongDouble | int) -> bytes:
    """`ld2string(..., LD_STR_HUMAN)`: `%.17Lf` with trailing zeros and '.' removed; "-0" -> "0".

    Accepts a float or int (their exact value is formatted) or a Fraction from the helpers above.
    Infinity prints as "inf" / "-inf" (Redis never stores those; INCRBYFLOAT refuses them first).
    """
    if isinstance(x, float):
        if math.isinf(x):
            return b"-inf" if x < 0 else b"inf"
        if math.isnan(x):
            return b"nan"
    exact = Fraction(x)
    n = _div_round_even(abs(exact.numerator) * 10**17, exact.denominator)  # as glibc's printf
    if exact < 0:
        n = -n
    if n == 0:
        return b"0"  # "-0.00000000000000000" becomes "-0", which Redis rewrites to "0"
    sign = b"-" if n < 0 else b""
    n = abs(n)
    if n.bit_length() < 12000:
        digits = b"%d" % n
    else:  # beyond sys.int_info.str_digits_check_threshold territory: Decimal has no such limit
        digits = format(Decimal(n), "f").encode("ascii")
    if len(digits) <= 17:
        digits = b"0" * (18 - len(digits)) + digits
    whole, frac = digits[:-17], digits[-17:].rstrip(b"0")
    return sign + whole + (b"." + frac if frac else b"")


def incrbyfloat(current: bytes | None, increment: bytes) -> bytes:
    """The new value of INCRBYFLOAT / HINCRBYFLOAT, as the bytes Redis stores and replies.

    `current` None means a missing key (0). Raises ValueError when either string is not a valid
    float (reply `errors.NOT_FLOAT`) and OverflowError when the sum is NaN or infinite (reply
    "ERR increment would produce NaN or Infinity").
    """
    a = parse_long_double(current) if current is not None else Fraction(0)
    b = parse_long_double(increment)
    s = add_long_double(a, b)
    if not is_finite_long_double(s):
        raise OverflowError("increment would produce NaN or Infinity")
    return format_long_double(s)
