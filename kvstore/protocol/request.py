"""Server-side request parsing: bytes from a client -> commands (argv lists), as Redis 7.0 does.

Theory of operation
-------------------
The server feeds every read into `RequestParser.feed(data)` and then takes the complete commands:

    parser.feed(data)
    while True:
        try:
            batch = parser.get_commands()      # [[b"SET", b"k", b"v"], [b"GET", b"k"], ...]
        except ProtocolError as exc:           # str(exc): "ERR Protocol error: ..."
            reply -exc, then close the connection
            break
        if not batch:
            break
        run the batch

Error semantics (chosen so the good commands of a pipeline run before the error, as in Redis,
where `processInputBuffer` executes each command before it parses the next): `get_commands()`
returns the commands that were complete *before* a protocol error and remembers the error; the
next call raises it (and so does every later call: the stream cannot be framed any more). When no
command precedes the error, the call raises at once. `parser.error` exposes the pending error, so
a server may also run the batch, then check `parser.error` instead of calling again.

Authentication. While `authenticated` is False (a server with `requirepass`, before AUTH), Redis
applies small limits (10 arguments, 16 KiB per argument), and it checks them when it reaches each
command, that is after running the previous one (`AUTH pw` then a big command in one packet is
fine). So while not authenticated, get_commands() returns at most ONE command per call; the loop
above runs it (possibly flipping `authenticated`) before the next is parsed.

Both request forms of Redis are accepted: multibulk (`*<n>\\r\\n$<len>\\r\\n<bytes>\\r\\n...`),
chosen when a command starts with `*`, and inline (a line split with `sdssplitargs` quoting
rules), otherwise. Details copied from `networking.c` because clients and tests can see them:
header lines end at the first `\\r` and the following byte is skipped unchecked, as are the two
bytes after a bulk; `*0` and `*-5` are no-ops; empty inline lines are skipped; a NUL byte in a
header or inline line hides the line end (Redis's `strchr` stops there), so the parser waits until
the line limit and then reports it, exactly like Redis.

Buffering and speed. Unread input is one `bytes` plus a position; a partly received command keeps
its finished arguments (`_args`, `_left`) so parsing resumes at the next bulk instead of starting
over, and data fed meanwhile is kept as chunks joined only when the awaited bulk or line end can
be complete (`_need`, `_want`). A 10 MB value in 1 KB reads costs O(10 MB), not O(10 MB^2 / 1 KB).
Short headers are looked up whole ("$3\\r\\n" -> 3) in dicts of their canonical spellings, which
validates and converts at once (Redis's `string2ll` accepts exactly the canonical spellings);
the rest go through `kvstore.numbers.parse_int`, which is `string2ll`. A buffer that starts a
read and holds exactly one command with such headers (one GET or SET per read, as at
`redis-benchmark -c 50`) is taken by `_one_command` without the resumable machinery; any other
buffer falls through to `_parse`, so that branch only has to be right when it answers.

hiredis assists, behind guards (`HiredisRequestParser`, the default when hiredis is installed).
`hiredis.Reader` parses arrays of bulks in C, but knows neither inline commands nor our limits,
accepts frames Redis refuses (simple strings, verbatim strings, big numbers, sets, pushes,
attributes where Redis wants `$` or `*`), words errors its own way, and sizes a reply list from
its header, so the 14-byte input `*2147483647\\r\\n` would make a 16 GB (virtual) list whose
release costs ~16 s of CPU. So it only sees a whole read that passes cheap checks, and its result
is used only when it must equal the pure parser's; anything else goes to the pure parser, which
stays the reference (every check below is exercised by tests/protocol/test_request_hiredis.py):

* the connection is authenticated, no error is pending, the pure parser holds nothing (hiredis
  never sees the middle of a stream), and the read starts with `*` and holds a second command
  (`\\r\\n*`); a read of one command alone goes to `take_one`, which the server tries first
  (the same guards, cheaper for a read of at most 1 KB: see HiredisRequestParser.take_one);
* `_BIG_COUNT` finds no `*` followed by 6+ digits (hiredis allocates at most 99999 slots per
  array), and the read is shorter than proto-max-bulk-len (so no bulk in it can exceed it);
* after the read we feed `*0\\r\\n`: it comes back as the empty list, with nothing left in the
  reader, only if the read ended between two commands (hiredis consumes a partial command, so
  `has_data()` alone cannot tell); otherwise the read, partial command included, goes to the
  pure parser, which then owns the partial command until its buffer is empty again;
* every command is a non-empty list of bytes (`b"".join` raises TypeError on a nested array,
  an integer, an error or a null; a top-level simple string is not a list);
* if the read holds any of the lookalike bytes `+=(~>|%` (types hiredis returns as bytes or lists
  where the pure parser wants `$` or `*`, e.g. after the two unchecked bytes that end a bulk),
  re-encoding the commands canonically must give the read back byte for byte;
* a read of over 1 KB goes to the pure parser when its first command's arguments average 512
  bytes or more (64 with a lookalike byte): the scans above read every byte, at 0.7 to 4 ns a
  byte, where the pure parser slices a long value whole (16 SETs of 4 KB values of
  redis-benchmark's random letters: 13.6 us a command through hiredis, 1.8 us without).

hiredis's number parsing (`string2ll`, copied from Redis) accepts exactly Redis's canonical
spellings, and a header whose first `\\r` is not followed by `\\n` fails it, so within those
guards both parsers frame a read identically. hiredis's results are discarded before anything
runs, so a fallback never runs a command twice; false positives only cost speed.

    one read of 16 commands, us/command   pure   hiredis-assisted   (Python 3.11, hiredis 3.5)
    SET key:NNNNNNNNNNNN xxx              1.3    0.46
    GET key:NNNNNNNNNNNN                  1.0    0.43
    SET key:NNNNNNNNNNNN <100 bytes>      1.9    0.58
"""

from __future__ import annotations

import re
from collections import deque

from kvstore.errors import ProtocolError
from kvstore.numbers import parse_int

# Limits, Redis 7.0 defaults (networking.c / server.h). A client that breaks one gets the error and
# the connection is closed after the reply.
PROTO_MAX_BULK_LEN = 512 * 1024 * 1024  # bytes per argument: `proto-max-bulk-len`
# Arguments per command. Redis 7.0 checks `ll > INT_MAX` (verified against redis-server 7.0.15:
# `*1048577` waits for data, `*2147483648` is refused); older versions refused over 1024*1024.
PROTO_MAX_MULTIBULK_LEN = 2**31 - 1
PROTO_INLINE_MAX_SIZE = 64 * 1024  # bytes of a header or inline line still lacking its line end
PROTO_IOBUF_LEN = 16 * 1024  # Redis's read size
# Before AUTH succeeds (only when the server requires a password), much smaller limits, so an
# unauthenticated client cannot make the server buffer megabytes.
UNAUTH_MAX_MULTIBULK_LEN = 10
UNAUTH_MAX_BULK_LEN = 16384

ERR_INVALID_MULTIBULK = "ERR Protocol error: invalid multibulk length"
ERR_INVALID_BULK = "ERR Protocol error: invalid bulk length"
ERR_UNAUTH_MULTIBULK = "ERR Protocol error: unauthenticated multibulk length"
ERR_UNAUTH_BULK = "ERR Protocol error: unauthenticated bulk length"
ERR_BIG_INLINE = "ERR Protocol error: too big inline request"
ERR_BIG_MBULK = "ERR Protocol error: too big mbulk count string"
ERR_BIG_BULK = "ERR Protocol error: too big bulk count string"
ERR_QUOTES = "ERR Protocol error: unbalanced quotes in request"

# Whole header lines of short lengths, "$0\r\n".."$99\r\n" and "*1\r\n".."*9\r\n": one dict hit on
# the next 4 or 5 bytes validates and converts the most common headers. They are far below the
# unauthenticated limits, so a hit needs no limit check.
_SHORT_BULK_HEADERS = {b"$%d\r\n" % i: i for i in range(100)}
_SHORT_COUNT_HEADERS = {b"*%d\r\n" % i: i for i in range(1, 10)}
# Longer lengths, up to MID_BULK_MAX, are looked up without their line end ("$1234") after a
# find(b"\r"); larger ones (values of 10 KB and more are dominated by copying) are parsed by int().
MID_BULK_MAX = 9999
_MID_BULK_HEADERS = {b"$%d" % i: i for i in range(100, MID_BULK_MAX + 1)}
# An inline line without these splits exactly like sdssplitargs with bytes.split(); with them
# (quotes, or \v \f, which sdssplitargs skips between arguments but keeps inside one) it takes
# the slow path.
_INLINE_SPECIAL = re.compile(rb"[\"'\x0b\x0c]")
# A read without these bytes that ends a line holds only plain inline lines: none quoted, none
# starting a multibulk, none cut short by a NUL (Redis's strchr would stop there).
_INLINE_READ_SPECIAL = re.compile(rb"[\"'\x0b\x0c\x00*]")
_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_CISSPACE = b" \t\n\r\x0b\x0c"  # C isspace() in the "C" locale


def _string2ll(digits: bytes) -> int | None:
    """Redis's string2ll: the integer spelled canonically by `digits`, else None."""
    try:
        return parse_int(digits)
    except ValueError:
        return None


def split_inline(line: bytes) -> list[bytes]:
    """`sdssplitargs`: split an inline request line into arguments. Raises ProtocolError on
    unbalanced quotes, or a closing quote not followed by a space. O(len(line))."""
    if _INLINE_SPECIAL.search(line) is None:
        return line.split()
    return _split_quoted(line)


def _split_quoted(line: bytes) -> list[bytes]:
    # A transliteration of sds.c's sdssplitargs (a byte at a time: quoting is rare, so clarity
    # beats speed here). End of input plays the role of C's terminating NUL.
    args: list[bytes] = []
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in _CISSPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_dq = in_sq = False
        while True:
            c = line[i] if i < n else 0
            if in_dq:
                if c == 92 and i + 3 < n + 0 and line[i + 1] == 120 and _is_hex_pair(line, i + 2):
                    current.append(int(line[i + 2 : i + 4], 16))  # \xHH
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    current.append(_ESCAPES.get(line[i], line[i]))
                elif c == 34:  # closing "
                    if i + 1 < n and line[i + 1] not in _CISSPACE:
                        raise ProtocolError(ERR_QUOTES)
                    break
                elif i >= n:
                    raise ProtocolError(ERR_QUOTES)
                else:
                    current.append(c)
            elif in_sq:
                if c == 92 and i + 1 < n and line[i + 1] == 39:  # \'
                    i += 1
                    current.append(39)
                elif c == 39:  # closing '
                    if i + 1 < n and line[i + 1] not in _CISSPACE:
                        raise ProtocolError(ERR_QUOTES)
                    break
                elif i >= n:
                    raise ProtocolError(ERR_QUOTES)
                else:
                    current.append(c)
            elif i >= n or c in b" \n\r\t":  # NOT \v \f: those stay inside an argument
                break
            elif c == 34:
                in_dq = True
            elif c == 39:
                in_sq = True
            else:
                current.append(c)
            i += 1
        args.append(bytes(current))
        i += 1  # past the closing quote or the separator


def _is_hex_pair(line: bytes, i: int) -> bool:
    return i + 1 < len(line) and line[i] in _HEX and line[i + 1] in _HEX


class PythonRequestParser:
    """Incremental parser of client requests; see the module docstring for the protocol.

    feed(): O(len(data)). get_commands(): O(bytes parsed), amortised over a command's reads.
    """

    _fast: bytes | None = None  # a read kept for HiredisRequestParser (always None here)
    # (commands, read): the last commands hiredis returned and the exact bytes they were parsed
    # from, which an AOF may log as they are (persistence/aof.py: log_batch).
    last_read: tuple[list[list[bytes]], bytes] | None = None

    def __init__(
        self,
        *,
        authenticated: bool = True,
        max_bulk_len: int = PROTO_MAX_BULK_LEN,
        max_multibulk_len: int = PROTO_MAX_MULTIBULK_LEN,
        inline_max_size: int = PROTO_INLINE_MAX_SIZE,
    ) -> None:
        # True when no password is required (Redis's authRequired() is false) or after AUTH.
        self.authenticated = authenticated
        self.max_bulk_len = max_bulk_len
        self.max_multibulk_len = max_multibulk_len
        self.inline_max_size = inline_max_size
        self.error: ProtocolError | None = None  # pending: raised by the next get_commands()
        self._buf = b""  # unread input is _buf[_pos:] followed by _chunks
        self._pos = 0
        self._chunks: list[bytes] = []
        self._pending = 0  # total length of _chunks
        self._need = 0  # join and parse again once this many bytes are unread...
        self._want: bytes | None = None  # ...or once a chunk brings this line-end byte
        self._args: list[bytes] | None = None  # a multibulk command whose bulks are arriving
        self._left = 0  # bulks _args still lacks
        self._args_bytes = 0  # the lengths of _args's first _args_counted bulks (`held`)
        self._args_counted = 0
        self._args_wire = 0  # the bytes _args was parsed from: its headers too (`unreturned`)
        # The short-header fast paths skip the limit checks, so they are off for tiny limits.
        self._short_bulk = _SHORT_BULK_HEADERS if max_bulk_len >= 99 else {}
        self._short_count = _SHORT_COUNT_HEADERS if max_multibulk_len >= 9 else {}
        self._mid_bulk = _MID_BULK_HEADERS if max_bulk_len >= MID_BULK_MAX else {}
        self._fast = None  # (an instance attribute: found faster than the class default)

    def discard(self) -> None:
        """Drop whatever is buffered: the connection is gone, and a half-sent command (up to
        a bulk's 512 MB) must not stay in memory until the garbage collector frees the
        client's reference cycles."""
        self._buf = b""
        self._pos = self._pending = self._need = self._left = 0
        self._chunks = []
        self._args = None
        self._fast = None
        self.last_read = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes. Never parses, never raises. O(len(data))."""
        if not data:
            return
        if self._pos >= len(self._buf) and not self._chunks:
            self._buf = bytes(data)  # no copy for bytes, the usual case
            self._pos = 0
            self._need = 0
            return
        data = bytes(data)
        self._chunks.append(data)
        self._pending += len(data)
        if self._want is not None and self._want in data:
            self._need = 0

    def buffered(self) -> int:
        """Bytes received and not parsed yet: Redis's query buffer (`client-query-buffer-limit`,
        CLIENT LIST's qbuf), which the finished bulks of a command still arriving have left."""
        return len(self._buf) - self._pos + self._pending

    def bulk_past(self, incoming: int, limit: int) -> bool:
        """Whether `incoming` more bytes take the bulk being waited for past `limit`. Redis
        reads an argument that long into a query buffer of its own, the bulk and its CRLF only,
        and closes the client once that buffer passes client-query-buffer-limit: so an argument
        longer than the limit (less 2) closes it, whatever follows it in the same read."""
        if self._args is None or not self._need:
            return False
        # A bulk waited for starts what is buffered with its header, which _parse accepted.
        head = self._buf[self._pos : self._pos + 24]
        end = head.find(b"\r\n")
        if head[:1] != b"$" or end < 0 or int(head[1:end]) + 2 <= limit:
            return False
        return self.buffered() + incoming - (end + 2) > limit

    def unreturned(self) -> int:
        """Bytes received that belong to no command returned yet: `buffered` plus what the
        command still arriving was parsed from. A replica's offset in its master's stream is
        the bytes received minus these."""
        return self.buffered() + self._args_wire

    def held(self) -> int:
        """Bytes this connection's input holds: `buffered`, plus the bulks of a command still
        arriving (each with a bytes object's ~41 bytes of overhead): what client eviction and
        CLIENT LIST's argv-mem count."""
        return self.buffered() + self._args_bytes + 41 * self._args_counted

    def take(self, data: bytes) -> list[list[bytes]]:
        """`feed(data)` then `get_commands()`: the server's call for each read."""
        self.feed(data)
        return self.get_commands()

    def take_one(self, data: bytes) -> list[bytes] | None:
        """The command when the parser holds nothing and `data` is exactly one small command
        (one GET or SET per read, as at `redis-benchmark -c 50`); then it is consumed. Otherwise
        None, and nothing is consumed: the caller goes on with `take(data)`. Unlike `take`, it
        leaves `last_read` alone: a caller that logs the read sets it."""
        if self._pos < len(self._buf) or self._args is not None or self._chunks \
                or not self.authenticated or self.error is not None or type(data) is not bytes:
            return None
        if 4 < len(data) <= _ONE_READ_MAX and data[2] == 13 and 48 < data[1] < 53:
            command = _split_small(data)
            if command is not None:
                return command
        if data[:1] != b"*":
            return _one_inline(data) if len(data) <= _ONE_READ_MAX else None
        self._buf = data
        self._pos = 0
        one = self._one_command()
        self._buf = b""
        if one is None:
            return None
        return one[0]

    def get_commands(self) -> list[list[bytes]]:
        """Every complete command buffered (at most one while not authenticated), in order.

        Returns [] when none is complete. Raises ProtocolError as described in the module
        docstring: commands before an error are returned first, the error on the next call.
        """
        if self._fast is not None:  # only HiredisRequestParser sets it
            return self._take_fast()
        if self.error is not None:
            raise self.error
        if self._chunks:
            if len(self._buf) - self._pos + self._pending < self._need:
                return []
            self._chunks.insert(0, self._buf[self._pos :])
            self._buf = b"".join(self._chunks)
            self._pos = 0
            self._chunks = []
            self._pending = 0
        if self._args is None:
            if self._pos == 0:
                if not self._buf:
                    return []
                one = self._one_command()
                if one is not None:
                    return one
                if self._buf[0] != 42 and self.authenticated:
                    lines = self._inline_lines()
                    if lines is not None:
                        return lines
            elif self._pos >= len(self._buf):
                return []
        commands: list[list[bytes]] = []
        try:
            self._parse(commands)
        except ProtocolError as exc:
            self.error = exc
            self._buf = b""  # nothing after an error will be parsed
            self._pos = 0
            self._chunks = []
            if not commands:
                raise
        return commands

    # --- parsing ------------------------------------------------------------------------------

    def _one_command(self) -> list[list[bytes]] | None:
        # The commonest read (one small command per read, as at redis-benchmark -c 50): a buffer
        # holding exactly one multibulk whose headers are all short. Parsed here without
        # _parse's set-up and _save's stores (-4,600 instructions per read under callgrind;
        # str.split() + a canonical check costs more: it allocates every header). Anything else
        # (None) goes to _parse, which starts over at the same position.
        buf = self._buf
        count = self._short_count.get(buf[:4])  # b"*3\r\n" -> 3
        if count is None:
            return None
        short_bulk = self._short_bulk.get
        args = []
        pos = 4
        try:
            while count:
                if buf[pos + 2] == 13:  # b"$3\r\n": one digit
                    start = pos + 4
                else:  # b"$16\r\n" (or not a short header: the lookup misses)
                    start = pos + 5
                size = short_bulk(buf[pos:start])
                if size is None:
                    # A longer header ("$4096\r\n"): canonical digits (string2ll's), within
                    # proto-max-bulk-len. (A value of over 99 bytes went through `_parse`: 3 us
                    # more per read.)
                    end = buf.find(b"\r", pos + 2, pos + 13)
                    if end < 0 or buf[pos] != 36 or buf[end + 1] != 10:
                        return None
                    digits = buf[pos + 1 : end]
                    if not digits.isdigit() or digits[0] == 48 \
                            or (size := int(digits)) > self.max_bulk_len:
                        return None
                    start = end + 2
                pos = start + size + 2  # the 2 bytes after the data are skipped unchecked
                args.append(buf[start : pos - 2])
                count -= 1
        except IndexError:  # the read ends inside a header
            return None
        if pos != len(buf):  # more follows, or the last bulk is incomplete
            return None
        self._buf = b""
        return [args]

    def _inline_lines(self) -> list[list[bytes]] | None:
        # A read of whole plain inline lines (telnet, redis-benchmark's ping_inline): each line
        # split as _inline would, without its per-line find, slice and checks. None: _parse.
        buf = self._buf
        if buf[-1] != 10 or len(buf) > self.inline_max_size \
                or _INLINE_READ_SPECIAL.search(buf) is not None:
            return None
        self._buf = b""
        return [args for args in map(bytes.split, buf.split(b"\n")) if args]

    def _parse(self, out: list[list[bytes]]) -> None:
        # The hot loop: locals only, no method call per argument. A bulk header of 1 or 2 digits
        # is recognised by looking up its exact bytes ("$3\r\n") in a dict, which checks the '$',
        # the digits and the line end at once: 1.6x faster than find() + slice + int (measured).
        # Everything else (longer lengths, odd framing, errors) goes to _bulk_header().
        # Longer than 50 lines because splitting it would cost a call per command or argument.
        buf = self._buf
        pos = self._pos
        n = len(buf)
        short_bulk = self._short_bulk.get
        short_count = self._short_count.get
        mid_bulk = self._mid_bulk.get
        find = buf.find
        one = not self.authenticated
        self._need = 0  # the wait paths below set these again
        self._want = None
        args = self._args
        left = self._left
        while True:
            if args is None:
                if pos >= n:
                    break
                count = short_count(buf[pos : pos + 4])  # b"*3\r\n" -> 3
                if count is not None:
                    pos += 4
                elif buf[pos] != 42:  # not '*': an inline command
                    pos = self._inline(buf, pos, out)
                    if pos < 0:
                        return
                    if one and out:
                        break
                    continue
                else:
                    header = self._multibulk_header(buf, pos)
                    if header is None:
                        return  # waiting for the rest of the header line
                    count, pos = header
                    if count <= 0:
                        continue  # `*0`, `*-1`: nothing to run
                args = []
                left = count
            while left:
                size = short_bulk(buf[pos : pos + 4])  # b"$3\r\n" -> 3
                if size is not None:
                    start = pos + 4
                else:
                    size = short_bulk(buf[pos : pos + 5])  # b"$10\r\n" -> 10
                    if size is not None:
                        start = pos + 5
                    else:
                        r = find(b"\r", pos)
                        size = mid_bulk(buf[pos:r]) if 0 <= r < n - 1 else None  # b"$100"
                        if size is not None:
                            start = r + 2
                        else:
                            header = self._bulk_header(buf, pos)
                            if header is None:
                                self._save(pos, args, left)
                                return
                            size, start = header
                stop = start + size
                if stop + 2 > n:
                    self._need = stop + 2 - pos
                    self._save(pos, args, left)
                    return
                args.append(buf[start:stop])
                pos = stop + 2  # the 2 bytes after the data are skipped unchecked, as in Redis
                left -= 1
            out.append(args)
            args = None
            if one:
                break
        self._save(pos, None, 0)

    def _save(self, pos: int, args: list[bytes] | None, left: int) -> None:
        if args is None:
            if self._args_wire:  # (a store per read less in the common case)
                self._args_bytes = self._args_counted = self._args_wire = 0
        else:  # count the bulks that arrived since (linear over a command's reads)
            if args is not self._args:
                self._args_bytes = self._args_counted = 0
                self._args_wire = len(b"*%d\r\n" % (len(args) + left))
            arrived = args[self._args_counted:]
            self._args_bytes += sum(map(len, arrived))
            # `$<length>\r\n<bulk>\r\n`: the parser accepts only canonical lengths
            self._args_wire += sum(len(a) + len(str(len(a))) + 5 for a in arrived)
            self._args_counted = len(args)
        self._args = args
        self._left = left
        if pos >= len(self._buf):
            self._buf = b""  # drop the consumed buffer rather than keep a reference to it
            self._pos = 0
        else:
            self._pos = pos

    def _wait_line(self, buf: bytes, pos: int, r: int, too_big: str) -> None:
        """No complete line at pos (r: the `\\r` found, or -1): raise if too long, else wait."""
        if r < 0:
            if len(buf) - pos > self.inline_max_size:
                raise ProtocolError(too_big)
            self._need = self.inline_max_size + 1
            self._want = b"\r"
        else:  # the `\r` is the last byte: wait for one more
            self._need = len(buf) - pos + 1
            self._want = None

    def _multibulk_header(self, buf: bytes, pos: int) -> tuple[int, int] | None:
        """A `*` header line at pos: (count, position after it), or None to wait for data."""
        r = buf.find(b"\r", pos)
        if r >= 0 and b"\0" in buf[pos:r]:
            r = -1  # Redis's strchr stops at the NUL: the line end is invisible
        if r < 0 or r + 1 >= len(buf):
            self._wait_line(buf, pos, r, ERR_BIG_MBULK)
            self._save(pos, None, 0)
            return None
        count = _string2ll(buf[pos + 1 : r])
        if count is None or count > self.max_multibulk_len:
            raise ProtocolError(ERR_INVALID_MULTIBULK)
        if count > UNAUTH_MAX_MULTIBULK_LEN and not self.authenticated:
            raise ProtocolError(ERR_UNAUTH_MULTIBULK)
        return count, r + 2  # the byte after the \r is skipped unchecked, as in Redis

    def _bulk_header(self, buf: bytes, pos: int) -> tuple[int, int] | None:
        """A `$` header line at pos: (length, data start), or None to wait for data."""
        r = buf.find(b"\r", pos)
        if r >= 0 and b"\0" in buf[pos:r]:
            r = -1  # Redis's strchr stops at the NUL: the line end is invisible
        if r < 0 or r + 1 >= len(buf):
            self._wait_line(buf, pos, r, ERR_BIG_BULK)
            return None
        if buf[pos] != 36:  # '$'
            got = buf[pos : pos + 1].replace(b"\r", b" ").replace(b"\n", b" ")
            text = got.decode("utf-8", "surrogateescape")
            raise ProtocolError(f"ERR Protocol error: expected '$', got '{text}'")
        size = _string2ll(buf[pos + 1 : r])
        if size is None or size < 0 or size > self.max_bulk_len:
            raise ProtocolError(ERR_INVALID_BULK)
        if size > UNAUTH_MAX_BULK_LEN and not self.authenticated:
            raise ProtocolError(ERR_UNAUTH_BULK)
        return size, r + 2

    def _inline(self, buf: bytes, pos: int, out: list[list[bytes]]) -> int:
        """Parse one inline line at pos; returns the new position, or -1 to wait for data."""
        nl = buf.find(b"\n", pos)
        if nl < 0 or b"\0" in buf[pos:nl]:  # Redis's strchr stops at a NUL: no line end yet
            if len(buf) - pos > self.inline_max_size:
                raise ProtocolError(ERR_BIG_INLINE)
            self._need = self.inline_max_size + 1
            self._want = b"\n" if nl < 0 else None  # after a NUL, only the size limit can end it
            self._save(pos, None, 0)
            return -1
        if nl - pos > self.inline_max_size + PROTO_IOBUF_LEN:
            # Redis reads 16 KB at a time and refuses a line still without its end past the
            # limit: no longer line gets through there, however it arrived here
            raise ProtocolError(ERR_BIG_INLINE)
        end = nl - 1 if nl > pos and buf[nl - 1] == 13 else nl  # drop the \r of \r\n
        argv = split_inline(buf[pos:end])
        if argv:
            out.append(argv)
        return nl + 1


# --- hiredis-assisted parsing (see "hiredis assists, behind guards" in the module docstring) ------

try:
    import hiredis as _hiredis
except ImportError:  # pragma: no cover - hiredis is optional
    _hiredis = None

# A count of 6+ digits sends the read to the pure parser: hiredis sizes an array, set, push or
# attribute from its header (99999 slots is 800 KB at most; `>999999999` alone took 7.6 GB and
# 20 s to build and free). `\*` first: the regex engine then skips to each `*` quickly; the other
# aggregate types are looked for only in a read that holds one of their bytes (a character class
# first is 5-10x slower).
_BIG_COUNT = re.compile(rb"\*\d{6}")
_BIG_OTHER_COUNT = re.compile(rb"[~>%|]\d{6}")
# RESP types that hiredis turns into bytes (`+` simple, `=` verbatim, `(` big number), into a list
# (`~` set, `>` push, `|` attribute) or into a dict (`%`, whose keys join like bytes), where the
# pure parser wants `$` or `*`. A read holding any of these bytes is used only if it is canonical
# (re-encoding the commands gives it back exactly). `_hiredis` and `take_one` test them as the
# byte values 43 61 40 126 62 124 37.
_JOIN = b"".join
_consume = deque  # deque(iterator, 0) runs an iterator to its end in C
# The limit the guards enforce: the hiredis path is off for parsers configured below it.
_HIREDIS_MAX_COUNT = 99999
# Reads up to this long hold one small command (two GETs of 12-byte keys make 64 bytes).
_HIREDIS_MIN_READ = 63
# The average argument length (bytes) from which the pure parser takes a read faster than hiredis
# behind its guards, for reads with and without lookalike bytes (16 SETs of redis-benchmark's
# random letters: equal at ~200-byte values, or ~1.5 KB without a lookalike); reads up to
# _HIREDIS_LONG_READ bytes skip that check
_HIREDIS_ARG_BYTES = 512
_HIREDIS_LOOKALIKE_ARG_BYTES = 64
_HIREDIS_LONG_READ = 1024
# `take_one` takes reads up to this long (an MSET of ten short keys is ~350 bytes).
_ONE_READ_MAX = 1024


# "$0".."$1024", indexed by length: the bulk header lines of a read of at most _ONE_READ_MAX
# bytes, canonical
_SMALL_BULK_LINES = tuple(b"$%d" % i for i in range(_ONE_READ_MAX + 1))


def _one_inline(data: bytes) -> list[bytes] | None:
    """The arguments when `data` is exactly one plain inline line (redis-benchmark's
    ping_inline; a telnet user's command), split as `_inline_lines` splits it; else None. The
    batch path took 2.2 us more for an inline PING than for its multibulk form."""
    if data.find(b"\n") != len(data) - 1 or not data \
            or _INLINE_READ_SPECIAL.search(data) is not None:
        return None
    return data.split() or None


def _next_command(data: bytes) -> int:
    """Where the second command of `data` starts: its first `*` after a line end (`\r\n*`; or
    one inside a value), or -1. By memchr steps: a find() of `\r\n*` costs 0.6 ns a byte
    (letters share its skip table's bits), of `*` 0.02."""
    at = data.find(b"*", 1)
    for _ in range(8):
        if at < 0 or data[at - 1] == 10 and data[at - 2] == 13:
            return at
        at = data.find(b"*", at + 1)
    at = data.find(b"\r\n*", at - 2)  # (many `*` in values)
    return at + 2 if at >= 0 else -1


def _short_args(data: bytes, lookalike: bool) -> bool:
    """Whether the arguments of the command `data` starts with average under
    _HIREDIS_LOOKALIKE_ARG_BYTES (with `lookalike`) or _HIREDIS_ARG_BYTES. That command ends
    where the next starts (`_next_command`: a value holding `\r\n*` makes it look shorter)."""
    end = _next_command(data)
    if end < 0:
        end = len(data)
    cr = data.find(b"\r", 1, 12)
    header = data[1:cr] if cr > 0 else b""
    count = int(header) if header.isdigit() else 1  # (not a count: hiredis will refuse it)
    return end < (_HIREDIS_LOOKALIKE_ARG_BYTES if lookalike else _HIREDIS_ARG_BYTES) * count


def _split_small(data: bytes) -> list[bytes] | None:
    """The arguments when `data` is exactly one command of one to four arguments (PING; GET,
    INCR, LPOP... SET, LPUSH, SADD... HSET, ZADD: most of the one-command reads of
    `redis-benchmark -c 50`), from one split at the line ends; else None. Exact: with every
    header canonical and every piece after a bulk header as long as it says, the pieces
    rejoined are `data` and frame as Redis frames them (a bulk holding `\r\n` breaks into
    pieces of other lengths: None). 1,200-3,200 instructions a read less than hiredis behind
    its guards. Callers check for `*1\r` to `*4\r` and a read of at most _ONE_READ_MAX bytes
    first: other shapes would only pay for the split."""
    parts = data.split(b"\r\n", 10)  # (a pipeline: its first 10 lines and the rest, no more)
    n = len(parts)
    lines = _SMALL_BULK_LINES  # (a piece is shorter than the read: the index exists)
    if n == 8:
        count, line1, arg1, line2, arg2, line3, arg3, rest = parts
        if count == b"*3" and not rest and lines[len(arg1)] == line1 \
                and lines[len(arg2)] == line2 and lines[len(arg3)] == line3:
            return [arg1, arg2, arg3]
    elif n == 6:
        count, line1, arg1, line2, arg2, rest = parts
        if count == b"*2" and not rest and lines[len(arg1)] == line1 \
                and lines[len(arg2)] == line2:
            return [arg1, arg2]
    elif n == 10:
        count, line1, arg1, line2, arg2, line3, arg3, line4, arg4, rest = parts
        if count == b"*4" and not rest and lines[len(arg1)] == line1 \
                and lines[len(arg2)] == line2 and lines[len(arg3)] == line3 \
                and lines[len(arg4)] == line4:
            return [arg1, arg2, arg3, arg4]
    elif n == 4:
        count, line1, arg1, rest = parts
        if count == b"*1" and not rest and lines[len(arg1)] == line1:
            return [arg1]
    return None


def _canonical(commands: list[list[bytes]]) -> bytes:
    """`commands` encoded as canonical RESP multibulks."""
    parts = []
    append = parts.append
    for args in commands:
        append(b"*%d\r\n" % len(args))
        for a in args:
            append(b"$%d\r\n%b\r\n" % (len(a), a))
    return b"".join(parts)


class HiredisRequestParser(PythonRequestParser):
    """PythonRequestParser whose common case (whole pipelines of bulk arrays) hiredis parses.

    Same interface and results, errors included. `feed()` keeps an eligible read aside;
    `get_commands()` tries hiredis on it and hands it to the pure parser when any guard fails.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._reader = _hiredis.Reader()

    def discard(self) -> None:
        super().discard()
        self._reader = _hiredis.Reader()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append received bytes. Never parses, never raises."""
        if self._fast is None and not self._chunks and self._pos >= len(self._buf):
            # Nothing buffered (PythonRequestParser.feed's own fast path, inlined: one call less
            # per read). hiredis costs ~1 us more per read and less per command and argument:
            # worth it from two commands on (a second command starts with `\r\n*`; a value
            # holding that costs speed only), or from one command of 4 arguments or more
            # (`*4`..`*9`, or a count of two digits: MSET, HSET with several fields, ...).
            # Reads of up to _HIREDIS_MIN_READ bytes (one GET or small SET, the `-c 50` case)
            # skip even that scan.
            if type(data) is not bytes:
                data = bytes(data)
            if (len(data) > _HIREDIS_MIN_READ and data[0] == 42
                    and (data[1] > 51 or data[2] != 13 or _next_command(data) > 0)
                    and self._args is None and self.authenticated
                    and self.error is None and self.max_multibulk_len >= _HIREDIS_MAX_COUNT):
                self._fast = data
            elif data:
                self._buf = data
                self._pos = 0
                self._need = 0
            return
        if self._fast is not None:  # a second read before get_commands(): the pure path
            fast, self._fast = self._fast, None
            PythonRequestParser.feed(self, fast)
        PythonRequestParser.feed(self, data)

    def take_one(self, data: bytes) -> list[bytes] | None:
        """PythonRequestParser.take_one by hiredis, behind `_hiredis`'s guards made cheaper by
        the read's size: at most _ONE_READ_MAX bytes (and so under proto-max-bulk-len, 1 MB at
        least) cannot break a bulk limit, and with a count of at most three digits and no `*`
        past the first byte it holds no big or nested array."""
        if not (type(data) is bytes and 4 < len(data) <= _ONE_READ_MAX and self._fast is None
                and self._pos >= len(self._buf) and not self._chunks and self._args is None
                and self.error is None and self.authenticated):
            if type(data) is bytes and len(data) > _ONE_READ_MAX and self._fast is None:
                # one long command (a long value): the pure parser's, which slices it whole
                return PythonRequestParser.take_one(self, data)
            return None
        if data[2] == 13 and 48 < data[1] < 53:  # (cheaper still for the commonest shapes)
            command = _split_small(data)
            if command is not None:
                return command
        if data[0] != 42:
            return _one_inline(data)
        # (no second `*`: the server sends a long read holding one to its batch path before
        # calling this, but the guard is the parser's own)
        if (data[2] == 13 or data[3] == 13 or data[4] == 13) and data.find(b"*", 1) < 0:
            # The usual command holds no lookalike byte. One that does (a script) is taken only
            # with no big aggregate count, and only if re-encoding gives back its bytes. (Seven
            # memchr as in `_hiredis`: a translate() of an MSET of ten keys cost 4,700
            # instructions, a tenth of the read's.)
            aggregate = 126 in data or 62 in data or 124 in data or 37 in data
            if aggregate and _BIG_OTHER_COUNT.search(data) is not None:
                return None
            reader = self._reader
            try:
                reader.feed(data)
                command = reader.gets()
                # A complete reply and nothing left: the read held exactly this command.
                if type(command) is list and command and not reader.has_data():
                    _JOIN(command)  # TypeError unless a list of bytes
                    if not (aggregate or 43 in data or 61 in data or 40 in data) \
                            or _canonical([command]) == data:
                        return command
            except (_hiredis.HiredisError, TypeError):
                pass
            self._reader = _hiredis.Reader()  # it may hold the rest of the read
        return None

    def buffered(self) -> int:
        fast = self._fast
        return PythonRequestParser.buffered(self) + (len(fast) if fast is not None else 0)

    def _take_fast(self) -> list[list[bytes]]:
        data = self._fast
        self._fast = None
        commands = self._hiredis(data)
        if commands is not None:
            self.last_read = (commands, data)
            return commands
        PythonRequestParser.feed(self, data)
        return PythonRequestParser.get_commands(self)

    def _hiredis(self, data: bytes) -> list[list[bytes]] | None:
        """The commands of a whole read by hiredis, or None when the pure parser must take it."""
        aggregate = 126 in data or 62 in data or 124 in data or 37 in data
        lookalike = aggregate or 43 in data or 61 in data or 40 in data
        # Long arguments: the pure parser's slices cost less than the scans below (and, with a
        # lookalike byte, the check that the read is canonical), which read every byte.
        if len(data) > _HIREDIS_LONG_READ and not _short_args(data, lookalike):
            return None
        if len(data) >= self.max_bulk_len or _BIG_COUNT.search(data) is not None:
            return None  # (a bulk over proto-max-bulk-len cannot fit in a shorter read)
        if aggregate and _BIG_OTHER_COUNT.search(data) is not None:
            return None
        reader = self._reader
        reader.feed(data)
        # hiredis consumes what it has parsed, even a lone `*`, so has_data() cannot tell a read
        # that ends mid-command. `*0\r\n` can: fed after the read, it comes back as the empty
        # list only if the reader stood between commands (otherwise it completes or extends a
        # pending command, or breaks its header line, and any of those gives something else).
        reader.feed(b"*0\r\n")
        try:
            commands = list(iter(reader.gets, False))  # every reply, up to an incomplete one
            # Ours came back last, as the empty list, and nothing is left: the reader stood
            # between commands, and can be reused from here. Any other empty or null reply (an
            # `*0` or `*-1` of the read) sends the read to the pure parser.
            if commands and commands.pop() == [] and commands and all(commands) \
                    and not reader.has_data():
                # A command is a non-empty list of bytes: join() raises TypeError for anything
                # but bytes in a list (nested arrays, integers, errors, top-level simple strings).
                _consume(map(_JOIN, commands), 0)
                # (`int in bytes` is a memchr: seven of them cost a third of a translate()
                # copy of a small read, an eighth of a 5 KB one)
                if not lookalike or _canonical(commands) == data:
                    return commands
                return None
        except (_hiredis.HiredisError, TypeError):
            pass
        self._reader = _hiredis.Reader()  # it holds unread data or a sticky error
        return None


# Every implementation; the tests run each case against all of them.
PARSERS: dict[str, type[PythonRequestParser]] = {"python": PythonRequestParser}
if _hiredis is not None:
    PARSERS["hiredis"] = HiredisRequestParser
RequestParser = HiredisRequestParser if _hiredis is not None else PythonRequestParser
