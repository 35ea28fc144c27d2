"""Transport-independent pieces of the clients: reply shaping, blocking deadlines, retry safety.

Theory of operation
-------------------
Every transport (socket, asyncio, in-process) hands the method layer's callbacks RESP2-shaped
values (bytes or str, int, None, flat lists), because the callbacks in `kvstore.methods` are
redis-py's RESP2 callbacks. A RESP3 connection (HELLO 3) gets richer types from the reader, so
`to_resp2()` brings them back: map -> flat list, double -> its `%.17g` text (Redis's RESP2 form),
boolean -> 1/0, set -> list. Commands whose RESP3 reply nests [member, score] pairs where RESP2
sends a flat list (ZRANGE ... WITHSCORES, HRANDFIELD ... WITHVALUES) are flattened by name; XREAD
and XREADGROUP, whose RESP3 reply is a map {stream: entries} where RESP2 sends [[stream,
entries], ...], are paired again by name.

Blocking commands carry their own timeout in their arguments; `block_timeout()` extracts it so the
connection waits that long plus the socket timeout, instead of failing a BLPOP after
socket_timeout seconds (a well-known redis-py trap).

Retry rule (`retry_safe()`): a connection error while connecting is always retried; a command
is retried after a connection error only if it was not sent at all, or if running it twice is
harmless: commands flagged `readonly` in kvstore's command table (Redis's own flags), plus a few
writes whose effect and reply do not change when repeated (plain SET, MSET, PING, ECHO, SELECT).
Blocking commands, MULTI/EXEC and every other write are never resent once sent.
"""

from __future__ import annotations

from typing import Any

from kvstore.commands.table import COMMANDS, READONLY
from kvstore.errors import ResponseError, error_from_message
from kvstore.numbers import format_double

# RESP3 replies nesting [member, score] (or [field, value]) pairs that RESP2 sends flat.
_PAIR_COMMANDS = frozenset((
    b"ZRANGE", b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE", b"ZREVRANGE", b"ZRANDMEMBER", b"ZUNION",
    b"ZINTER", b"ZDIFF", b"ZPOPMIN", b"ZPOPMAX", b"HRANDFIELD",
))
# RESP3 replies that are a map where RESP2 sends an array of [key, value] pairs.
_MAP_AS_PAIRS_COMMANDS = frozenset((b"XREAD", b"XREADGROUP"))
# Writes that may be sent twice: same effect, same reply.
_IDEMPOTENT_WRITES = frozenset((b"MSET", b"PING", b"ECHO", b"SELECT"))
_SET_UNSAFE_OPTIONS = frozenset((b"NX", b"XX", b"GET"))

# Blocking commands -> index of their timeout argument (seconds, 0 = forever). BLMPOP and
# BZMPOP carry it first; the others last.
_BLOCKING_LAST = frozenset((b"BLPOP", b"BRPOP", b"BRPOPLPUSH", b"BLMOVE", b"BZPOPMIN",
                            b"BZPOPMAX"))
_BLOCKING_FIRST = frozenset((b"BLMPOP", b"BZMPOP"))
# Commands whose reply waits: their read deadline comes from their own timeout argument.
BLOCKING = _BLOCKING_LAST | _BLOCKING_FIRST | frozenset((b"XREAD", b"XREADGROUP", b"WAIT"))

# Command names of the methods, by their first argument as passed (a str like "GET" mostly):
# saves encoding and upper-casing on every call. Bounded: only names seen are cached.
_NAMES: dict[Any, bytes] = {}
_NAMES_MAX = 4096


def command_name(args: tuple | list) -> bytes:
    """The upper-cased command name of an argument tuple (str or bytes first argument)."""
    name = args[0]
    if type(name) is str:
        name = name.encode()
    elif not isinstance(name, bytes):
        name = bytes(name)
    return name.split(b" ", 1)[0].upper()


def name_of(args: tuple) -> bytes:
    """The upper-case command name for args (cached by its first argument)."""
    first = args[0]
    try:
        return _NAMES[first]
    except (KeyError, TypeError):
        name = command_name(args)
        if len(_NAMES) < _NAMES_MAX and isinstance(first, (str, bytes)):
            _NAMES[first] = name
        return name


def block_timeout(name: bytes, args: tuple | list) -> float | None:
    """Seconds a blocking command may legitimately wait (None: not blocking, 0.0: forever)."""
    if name in _BLOCKING_LAST:
        raw = args[-1]
    elif name in _BLOCKING_FIRST:
        raw = args[1] if len(args) > 1 else 0
    elif name == b"XREAD" or name == b"XREADGROUP":
        upper = [a.upper() if isinstance(a, (bytes, str)) else a for a in args]
        for i, a in enumerate(upper[:-1]):
            if a in (b"BLOCK", "BLOCK"):
                try:
                    return float(args[i + 1]) / 1000.0
                except (TypeError, ValueError):
                    return 0.0
        return None
    elif name == b"WAIT":
        raw = float(args[-1]) / 1000.0 if len(args) > 2 else 0
    else:
        return None
    try:
        return max(float(raw), 0.0)
    except (TypeError, ValueError):
        return 0.0  # the server will reject it at once; wait as if forever


def retry_safe(name: bytes, args: tuple | list) -> bool:
    """May this command be sent again after a connection error hit it in flight? (see module)."""
    if name == b"SET":
        return not any(isinstance(a, (bytes, str)) and
                       (a.encode() if isinstance(a, str) else a).upper() in _SET_UNSAFE_OPTIONS
                       for a in args[3:])
    if name in _IDEMPOTENT_WRITES:
        return True
    cmd = COMMANDS.get(name.lower())
    return cmd is not None and bool(cmd.flags & READONLY)


def to_resp2(value: Any, name: bytes, encoding: str | None) -> Any:
    """A RESP3 reply in the shape a RESP2 connection would have received (see module)."""
    return flatten_pairs(_convert(value, encoding), name)


def flatten_pairs(value: Any, name: bytes) -> Any:
    """[[m, s], ...] -> [m, s, ...] for the commands whose RESP3 reply nests pairs; a map's
    [k, v, ...] (as _convert flattened it) -> [[k, v], ...] for those whose RESP2 reply pairs."""
    if name in _PAIR_COMMANDS and type(value) is list and value and type(value[0]) is list:
        flat: list = []
        for pair in value:
            flat.extend(pair)
        return flat
    if name in _MAP_AS_PAIRS_COMMANDS and type(value) is list and value \
            and type(value[0]) is not list:
        it = iter(value)
        return [[k, v] for k, v in zip(it, it)]
    return value


def _convert(value: Any, encoding: str | None) -> Any:
    t = type(value)
    if t is bytes or t is int or t is str or value is None:
        return value
    if t is list:
        return [_convert(x, encoding) for x in value]
    if t is float:
        text = format_double(value)
        return text.decode(encoding) if encoding else text
    if t is bool:
        return int(value)
    if t is dict:
        out: list = []
        for k, v in value.items():
            out.append(_convert(k, encoding))
            out.append(_convert(v, encoding))
        return out
    if t is set or t is frozenset or t is tuple:
        return [_convert(x, encoding) for x in value]
    return value


def raise_if_error(reply: Any) -> Any:
    """A top-level error reply raised as its typed exception (WrongTypeError, ...)."""
    if isinstance(reply, ResponseError):
        raise error_from_message(str(reply)) from None
    return reply


def typed_errors(value: Any) -> Any:
    """Error replies nested in a list (EXEC results) turned into their typed exceptions."""
    if type(value) is list:
        return [typed_errors(x) for x in value]
    if isinstance(value, ResponseError) and type(value) is ResponseError:
        return error_from_message(str(value))
    return value
