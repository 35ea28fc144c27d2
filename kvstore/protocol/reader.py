"""A sans-IO RESP2 + RESP3 reply reader with the interface of `hiredis.Reader`.

Theory of operation
-------------------
`feed(data)` appends bytes; `gets()` returns one complete reply, or the `notEnoughData` sentinel
(default False) when the buffer does not hold one yet. Incomplete input is the common case, so it is
a return value, never an exception. Malformed input raises `protocolError`; the reader then stays
broken (every later `gets()` raises the same error), like hiredis, because the byte stream can no
longer be framed. Error replies (`-ERR ...`, RESP3 `!`) are *returned* as `replyError(message)`
instances, so a pipeline's other replies are still delivered.

Buffering. The unread input is one `bytes` object plus a read position, so the parser slices and
`find(b"\\r\\n", pos)`s it without per-byte Python loops. Data fed while a reply is incomplete goes
to a list of chunks; they are joined with the unread tail only when enough bytes may have arrived
(`_need`, known exactly once a bulk header has been read), so a 10 MB value arriving in 1 KB
chunks is copied O(1) times, not O(n) times. A consumed prefix is never copied either: the next
join keeps only the unread tail, and a buffer read to its end is dropped.

Aggregates are resumable. Arrays, maps, sets, pushes and attributes being read live on `_stack` as
`[items, missing, type_byte]`. Each element that completes is appended to the innermost aggregate
and its bytes are consumed, so an LRANGE reply of a million elements streaming in is parsed once,
not re-parsed from its start on every `feed()`. Only the element being read (one header line, or
one bulk) is ever parsed twice.

Reply types (matching hiredis-py 3.x wherever it supports a type):
    + simple string -> bytes (str when an encoding is set)    - error -> replyError(text)
    : integer -> int       $ bulk -> bytes/str, $-1 -> None   * array -> list, *-1 -> None
    _ null -> None         # boolean -> True/False            , double -> float
    ( big number -> int (hiredis returns bytes)
    ! blob error -> replyError (hiredis 3.x cannot parse it)
    = verbatim -> the text without its "txt:" prefix
    % map -> dict          ~ set -> list (as hiredis)         > push -> list
    | attribute -> dropped (hiredis returns it as an extra reply; RESP3 lets clients ignore them).
Error texts are decoded as UTF-8 with "replace", whatever the encoding, as hiredis does.
"""

from __future__ import annotations

from typing import Any

from kvstore.errors import ProtocolError, ResponseError

try:  # the C reader, when installed: same interface, ~5-10x faster
    import hiredis as _hiredis
except ImportError:  # pragma: no cover - CI has hiredis; the pure reader is the fallback
    _hiredis = None

HIREDIS_AVAILABLE = _hiredis is not None
# Which implementation make_reader() returns: "hiredis" or "python".
READER_IMPL = "hiredis" if HIREDIS_AVAILABLE else "python"

# Type bytes of the aggregates, and how many elements each announced entry stands for.
_STAR, _MAP, _SET, _PUSH, _ATTR = 42, 37, 126, 62, 124  # * % ~ > |
_AGGREGATE_WIDTH = {_STAR: 1, _SET: 1, _PUSH: 1, _MAP: 2, _ATTR: 2}
# Short lengths are looked up rather than int()-parsed (a dict hit is ~3x cheaper): the digits of
# a header line, and whole "$<n>\r\n" headers for the array-of-bulks fast path.
_SMALL_INTS = {b"%d" % i: i for i in range(1024)}
_SHORT_BULK_HEADERS = {b"$%d\r\n" % i: i for i in range(100)}
_INCOMPLETE = object()  # from _resp3_scalar: the blob is not all here yet


def make_reader(**kwargs: Any) -> Any:
    """A reply reader: `hiredis.Reader` when importable, else `Reader`, with our error classes."""
    kwargs.setdefault("protocolError", ProtocolError)
    kwargs.setdefault("replyError", ResponseError)
    if _hiredis is not None:
        return _hiredis.Reader(**kwargs)
    return Reader(**kwargs)


class Reader:
    """Pure-Python RESP2/RESP3 reply reader; drop-in for `hiredis.Reader` (see module docstring).

    `feed()` is amortised O(len(data)); `gets()` is O(size of the reply returned) amortised.
    """

    def __init__(
        self,
        protocolError: type[Exception] = ProtocolError,  # noqa: N803 - hiredis's keyword names
        replyError: Any = ResponseError,  # noqa: N803
        notEnoughData: Any = False,  # noqa: N803
        encoding: str | None = None,
        errors: str | None = None,
    ) -> None:
        self._protocol_error = protocolError
        self._reply_error = replyError
        self._not_enough = notEnoughData
        self.set_encoding(encoding, errors)
        self._buf = b""  # unread input is _buf[_pos:] followed by _chunks
        self._pos = 0
        self._chunks: list[bytes] = []
        self._pending = 0  # total length of _chunks
        self._need = 0  # parsing again is pointless until this many bytes are unread
        self._stack: list[list[Any]] = []  # aggregates being read: [items, missing, type byte]
        self._error: Exception | None = None  # a protocol error is final
        self._decode_error: UnicodeDecodeError | None = None  # raised when its reply completes
        self._maxbuf = 16 * 1024  # hiredis API only; our buffer never keeps consumed bytes

    # --- hiredis-compatible API ---------------------------------------------------------------

    def set_encoding(self, encoding: str | None = None, errors: str | None = None) -> None:
        """Decode bulk and simple strings with `encoding` (None: return bytes)."""
        if encoding is not None:
            "".encode(encoding)  # raise LookupError now for an unknown codec, as hiredis does
        self._encoding = encoding
        self._errors = errors or "strict"

    def feed(self, data: Any, offset: int = 0, length: int = -1) -> None:
        """Append `data[offset:offset+length]` (any bytes-like) to the input. O(len)."""
        if offset or length != -1:
            data = memoryview(data)[offset : None if length == -1 else offset + length]
        if not data:
            return
        if self._pos >= len(self._buf) and not self._chunks:
            self._buf = bytes(data)  # no copy when data is already bytes
            self._pos = 0
            self._need = 0
        else:
            self._chunks.append(bytes(data))
            self._pending += len(data)

    def has_data(self) -> bool:
        """True while fed bytes remain unread (an incomplete reply, or more replies)."""
        return self._pos < len(self._buf) or bool(self._chunks)

    def len(self) -> int:  # noqa: A003 - hiredis's name
        """Number of unread bytes buffered."""
        return len(self._buf) - self._pos + self._pending

    def getmaxbuf(self) -> int:
        return self._maxbuf

    def setmaxbuf(self, maxbuf: int) -> None:
        self._maxbuf = maxbuf

    def gets(self, shouldDecode: bool = True) -> Any:  # noqa: N803
        """The next complete reply, or the notEnoughData sentinel. Raises protocolError.

        A string that does not decode raises UnicodeDecodeError after its whole reply has been
        consumed, so the next gets() returns the next reply (as hiredis does).
        """
        if self._error is not None:
            raise self._error
        if self._chunks:
            if len(self._buf) - self._pos + self._pending < self._need:
                return self._not_enough
            self._chunks.insert(0, self._buf[self._pos :])
            self._buf = b"".join(self._chunks)
            self._pos = 0
            self._chunks = []
            self._pending = 0
        if self._pos >= len(self._buf):
            return self._not_enough
        try:
            reply = self._parse(self._encoding if shouldDecode else None)
        except ProtocolError as exc:
            self._fail(str(exc))
        except (ValueError, TypeError) as exc:  # int()/float()/dict() on garbage
            self._fail(f"Protocol error: {exc}")
        if self._decode_error is not None and reply is not self._not_enough:
            exc, self._decode_error = self._decode_error, None
            raise exc
        return reply

    # --- internals ----------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self._error = self._protocol_error(message)
        self._stack = []
        raise self._error

    def _decode(self, raw: bytes, encoding: str) -> Any:
        try:
            return raw.decode(encoding, self._errors)
        except UnicodeDecodeError as exc:
            self._decode_error = exc  # raised when the reply is complete
            return None

    def _parse(self, encoding: str | None) -> Any:
        # One loop reads scalars and aggregate headers; a completed value climbs the stack until
        # it completes nothing more. Kept as one function with locals because it is the hot path
        # of every client call and of AOF replay; it is longer than 50 lines for that reason.
        buf = self._buf
        pos = self._pos
        n = len(buf)
        find = buf.find
        stack = self._stack
        short_bulk = _SHORT_BULK_HEADERS.get
        while True:
            end = find(b"\r\n", pos)
            if end < 0:
                return self._incomplete(pos, n - pos + 1)
            t = buf[pos]
            if t == 36:  # $ bulk string
                size = _SMALL_INTS.get(buf[pos + 1 : end])
                if size is None:
                    size = int(buf[pos + 1 : end])
                if size >= 0:
                    stop = end + 2 + size
                    if stop + 2 > n:
                        return self._incomplete(pos, stop + 2 - pos)
                    value = buf[end + 2 : stop]
                    if encoding is not None:
                        value = self._decode(value, encoding)
                    pos = stop + 2  # like hiredis and Redis, the 2 terminator bytes are skipped
                elif size == -1:
                    value = None
                    pos = end + 2
                else:
                    raise ProtocolError("Bad bulk string length")
            elif t in _AGGREGATE_WIDTH:
                count = _SMALL_INTS.get(buf[pos + 1 : end])
                if count is None:
                    count = int(buf[pos + 1 : end])
                pos = end + 2
                if count > 0:
                    items = []
                    if t == _STAR:
                        # Fast path for the most common aggregate, an array of bulk strings (a
                        # command in an AOF, MGET, LRANGE...): read them here, no stack traffic.
                        while count:
                            # A whole "$3\r\n" header is one dict hit (as in request.py).
                            size = short_bulk(buf[pos : pos + 4])
                            if size is not None:
                                start = pos + 4
                            else:
                                size = short_bulk(buf[pos : pos + 5])
                                if size is None:
                                    break  # longer, null, bad or partial: the general loop
                                start = pos + 5
                            stop = start + size
                            if stop + 2 > n:
                                break
                            value = buf[start:stop]
                            items.append(
                                value if encoding is None else self._decode(value, encoding)
                            )
                            pos = stop + 2
                            count -= 1
                        if not count:
                            value = items
                            # fall through to attach the finished array
                        else:
                            stack.append([items, count, t])
                            continue
                    else:
                        stack.append([items, count * _AGGREGATE_WIDTH[t], t])
                        continue
                elif count < -1:
                    raise ProtocolError("Bad multi-bulk length")
                elif count == -1:
                    value = None
                elif t == _ATTR:
                    continue  # an empty attribute: nothing to drop
                else:
                    value = {} if t == _MAP else []
            elif t == 58:  # : integer
                value = int(buf[pos + 1 : end])
                pos = end + 2
            elif t == 43:  # + simple string
                value = buf[pos + 1 : end]
                if encoding is not None:
                    value = self._decode(value, encoding)
                pos = end + 2
            elif t == 45:  # - error
                value = self._reply_error(buf[pos + 1 : end].decode("utf-8", "replace"))
                pos = end + 2
            else:
                value, pos = self._resp3_scalar(buf, pos, end, t, encoding)
                if value is _INCOMPLETE:
                    return self._not_enough
            # Attach the value to the innermost aggregate; a completed aggregate is itself a
            # value for its parent. A completed attribute is dropped: its parent gets nothing.
            while stack:
                top = stack[-1]
                top[0].append(value)
                top[1] -= 1
                if top[1]:
                    break
                stack.pop()
                items, _, kind = top
                if kind == _STAR or kind == _SET or kind == _PUSH:
                    value = items
                elif kind == _MAP:
                    it = iter(items)
                    value = dict(zip(it, it))
                else:
                    break  # attribute
            else:  # a complete top-level reply (self._consumed(pos), inlined: once per reply)
                if pos >= n:
                    self._buf = b""
                    self._pos = 0
                else:
                    self._pos = pos
                return value
            if pos >= n:
                return self._incomplete(pos, 1)

    def _resp3_scalar(
        self, buf: bytes, pos: int, end: int, t: int, encoding: str | None
    ) -> tuple[Any, int]:
        """The RESP3 scalars, off the hot path: (value, new position), or _INCOMPLETE."""
        line = buf[pos + 1 : end]
        if t == 95:  # _ null
            if line:
                raise ProtocolError("Bad nil value")
            return None, end + 2
        if t == 35:  # # boolean
            if line == b"t":
                return True, end + 2
            if line == b"f":
                return False, end + 2
            raise ProtocolError("Bad bool value")
        if t == 44:  # , double
            return float(line), end + 2
        if t == 40:  # ( big number
            return int(line), end + 2
        if t == 33 or t == 61:  # ! blob error, = verbatim string
            size = int(line)
            if size < 0:
                raise ProtocolError("Bad blob length")
            stop = end + 2 + size
            if stop + 2 > len(buf):
                self._incomplete(pos, stop + 2 - pos)
                return _INCOMPLETE, pos
            blob = buf[end + 2 : stop]
            if t == 33:
                return self._reply_error(blob.decode("utf-8", "replace")), stop + 2
            if size < 4 or blob[3] != 58:  # "txt:" / "mkd:" prefix
                raise ProtocolError("Verbatim string 4 bytes of content type are missing")
            blob = blob[4:]
            return (self._decode(blob, encoding) if encoding is not None else blob), stop + 2
        shown = chr(t) if 32 <= t < 127 else f"\\x{t:02x}"
        raise ProtocolError(f'Protocol error, got "{shown}" as reply type byte')

    def _incomplete(self, pos: int, need: int) -> Any:
        """Keep what was read: elements already on the stack are consumed, the rest waits."""
        self._consumed(pos)
        self._need = need
        return self._not_enough

    def _consumed(self, pos: int) -> None:
        if pos >= len(self._buf):
            self._buf = b""
            self._pos = 0
        else:
            self._pos = pos
