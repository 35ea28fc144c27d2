"""The Lua debugger: SCRIPT DEBUG YES|SYNC, then EVAL (what `redis-cli --ldb` drives), as Redis's
LDB does it.

A session takes the client's connection over while its script runs: the script stops before
its first line, and on each stop the session sends what it logged, as one array of status
lines, then reads debugger commands (arrays of bulk strings) from the socket itself until one
lets the script go on (step, continue) or ends it (abort). When the script returns, the session
sends its remaining lines and `<endsession>`, then the EVAL reply, and the connection closes.

With YES the session runs in a forked child, so the server goes on serving and the script's
writes are thrown away with the child; with SYNC it runs in the server process, which serves
nobody else meanwhile, and the writes stay. The Lua side (the line hook, the views of locals,
frames and values) is in scripting_lua.lua; `Scripts` (scripting.py) holds the session while it
runs.
"""

from __future__ import annotations

import os
import select
import socket
import time
from typing import Any

from ..protocol.encoder import encode_into

MAX_LEN_DEFAULT = 256    # Redis's LDB_MAX_LEN_DEFAULT: replies and values logged are cut here
BREAKPOINTS_MAX = 64     # LDB_BREAKPOINTS_MAX
MAX_ARGS = 1024          # a debugger command's arguments, and each one's length
MAX_BUFFER = 1 << 20     # unparsed input past this ends the script
SEND_TIMEOUT_S = 5.0     # as Redis's connSendTimeout(5000) on the session's connection

_REPR = {0x5C: b"\\\\", 0x22: b'\\"', 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x07: b"\\a",
         0x08: b"\\b"}

HELP = [
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
]


def sdsrepr(data: bytes) -> str:
    """Redis's sdscatrepr: quoted, with escapes for what is not printable ASCII."""
    out = bytearray(b'"')
    for c in data:
        if c in _REPR:
            out += _REPR[c]
        elif 32 <= c < 127:
            out.append(c)
        else:
            out += b"\\x%02x" % c
    out += b'"'
    return out.decode("ascii")


def _atoi(text: bytes) -> int:
    """C's atoi: an optional sign and the digits that follow, else 0."""
    text = text.lstrip(b" \t\n\r\v\f")
    end = 1 if text[:1] in (b"-", b"+") else 0
    while end < len(text) and 48 <= text[end] <= 57:
        end += 1
    try:
        return int(text[:end])
    except ValueError:
        return 0


def _strict_int(text: bytes) -> int | None:
    """Redis's string2l: the whole text a canonical integer, else None."""
    try:
        n = int(text)
    except ValueError:
        return None
    return n if str(n).encode() == text else None


def human(reply: bytes) -> str:
    """Redis's ldbRedisProtocolToHuman of a whole RESP reply."""
    out: list[str] = []
    _human(reply, 0, out)
    return "".join(out)


def _human(data: bytes, pos: int, out: list[str]) -> int:
    end = data.index(b"\r\n", pos)
    kind, line = data[pos:pos + 1], data[pos + 1:end]
    pos = end + 2
    if kind == b":":
        out.append(line.decode("latin-1"))
    elif kind == b"$":
        n = int(line)
        if n < 0:
            out.append("NULL")
        else:
            out.append(sdsrepr(data[pos:pos + n]))
            pos += n + 2
    elif kind in (b"+", b"-"):
        out.append(sdsrepr(kind + line))
    elif kind in (b"*", b"~", b"%"):
        n = int(line)
        if n < 0:
            out.append("NULL")
            return pos
        out.append({b"*": "[", b"~": "~(", b"%": "{"}[kind])
        for i in range(n):
            pos = _human(data, pos, out)
            if kind == b"%":
                out.append(" => ")
                pos = _human(data, pos, out)
            if i != n - 1:
                out.append(",")
        out.append({b"*": "]", b"~": ")", b"%": "}"}[kind])
    elif kind == b"_":
        out.append("(null)")
    elif kind == b"#":
        out.append("#true" if line == b"t" else "#false")
    elif kind == b",":
        out.append("(double) " + line.decode("latin-1"))
    return pos


class Session:
    """One debugging session: the connection it reads and writes, the script's source lines,
    and the debugger's state (stepping, breakpoints, what is logged until the next send)."""

    def __init__(self, sock: socket.socket, source: bytes, time_limit_ms: int) -> None:
        self.sock = sock  # non-blocking (the server's own socket, or the child's copy)
        self.lines = source.rstrip(b"\r\n").split(b"\n")
        self.time_limit_s = (time_limit_ms or 5000) / 1000
        # Stop at the next line (a session starts stopped at the first); while set, the
        # commands the script runs are logged with their replies
        self.step = True
        self.breakpoints: list[int] = []
        self.luabp = False  # redis.breakpoint() was called
        self.maxlen = MAX_LEN_DEFAULT
        self.hint_sent = False
        self.logs: list[str] = []
        self.buf = b""
        self.current = 0
        self.started = time.monotonic()
        self.connected = True

    # -- logs ----------------------------------------------------------------------------------

    def log(self, entry: str) -> None:
        self.logs.append(entry)

    def log_cut(self, entry: str) -> None:
        """A reply or a value: cut at maxlen, with a hint the first time."""
        if self.maxlen and len(entry) > self.maxlen:
            self.logs.append(entry[:self.maxlen] + " ...")
            if not self.hint_sent:
                self.hint_sent = True
                self.logs.append("<hint> The above reply was trimmed. Use 'maxlen 0' to "
                                 "disable trimming.")
        else:
            self.logs.append(entry)

    def log_value(self, entry: bytes) -> None:
        """A line of the Lua side's: a value shown (cut at maxlen), or a message."""
        text = entry.decode("latin-1")
        (self.log_cut if text.startswith(("<value>", "<retval>")) else self.log)(text)

    def log_command(self, argv: list[bytes]) -> None:
        parts = ["<redis>"]
        for j, arg in enumerate(argv):
            if j == 10:  # (Redis counts one less than what is left)
                parts.append(f" ... ({len(argv) - j - 1} more)")
                break
            parts.append(" " + arg.decode("latin-1"))
        self.log("".join(parts))

    def log_reply(self, reply: Any, resp: int) -> None:
        pieces: list[bytes] = []
        encode_into(pieces, reply, resp)
        self.log_cut("<reply> " + human(b"".join(pieces)))

    def send_logs(self) -> None:
        lines = [b"*%d\r\n" % len(self.logs)]
        for entry in self.logs:
            lines.append(b"+" + entry.replace("\r", " ").replace("\n", " ").encode(
                "latin-1", "replace") + b"\r\n")
        self.logs = []
        self.write(b"".join(lines))

    def source_line(self, line: int) -> None:
        text = self.lines[line - 1].decode("latin-1") if 0 < line <= len(self.lines) \
            else "<out of range source code line>"
        bp = line in self.breakpoints
        prefix = ("->#" if bp else "-> ") if line == self.current else ("  #" if bp else "   ")
        self.log(f"{prefix}{line:<3d} {text}")

    def list(self, around: int, context: int) -> None:
        for j in range(1, len(self.lines) + 1):
            if around == 0 or abs(around - j) <= context:
                self.source_line(j)

    # -- the connection -----------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Send all of `data` (waiting up to SEND_TIMEOUT_S for room); a failure is left for the
        next read to find, as in Redis."""
        view = memoryview(data)
        deadline = time.monotonic() + SEND_TIMEOUT_S
        while view and self.connected:
            try:
                sent = self.sock.send(view)
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [self.sock], [], left)[1]:
                    return
                continue
            except OSError:
                return
            view = view[sent:]

    def _read(self) -> bool:
        """Wait for more input; False when the client is gone."""
        while True:
            select.select([self.sock], [], [])
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                return False
            self.buf += data
            return True

    def _command(self) -> list[bytes] | None | str:
        """The next debugger command from the buffer (Redis's forgiving parser), None to read
        more, or "protocol error"."""
        buf = self.buf
        star = buf.find(b"*")
        if star < 0:
            return "protocol error" if buf else None
        head = self._header(star)
        if type(head) is not tuple:
            return head
        argc, pos = head
        argv = []
        while len(argv) < argc:
            if pos >= len(buf):
                return None
            if buf[pos:pos + 1] != b"$":
                return "protocol error"
            head = self._header(pos)
            if type(head) is not tuple:
                return head
            size, pos = head
            if pos + size + 2 > len(buf):
                return None
            argv.append(buf[pos:pos + size])
            pos += size
            if buf[pos:pos + 2] != b"\r\n":
                return "protocol error"
            pos += 2
        return argv

    def _header(self, at: int) -> tuple[int, int] | None | str:
        """The count or length on the line whose `*` or `$` is at `at` (1 to MAX_ARGS), and
        where the next line starts; None while the line is incomplete, else "protocol error"."""
        end = self.buf.find(b"\r\n", at)
        if end < 0:
            return None
        n = _atoi(self.buf[at + 1:end])
        return (n, end + 2) if 0 < n <= MAX_ARGS else "protocol error"

    # -- stops ---------------------------------------------------------------------------------

    def line(self, scripts: Any, line: int, count: bool) -> str | None:
        """The hook's report of a line of the script (`count`: the instruction count's, to
        notice a loop): stop there if stepping or at a breakpoint. The text of an error that
        ends the script, or None."""
        self.current = line
        bp = self.luabp or line in self.breakpoints
        timeout = False
        if count and not self.step and not bp:
            if time.monotonic() - self.started < self.time_limit_s:
                return None
            timeout = self.step = True
        if not (self.step or bp):
            return None
        reason = "step over"
        if bp:
            reason = "redis.breakpoint() called" if self.luabp else "break point"
        elif timeout:
            reason = "timeout reached, infinite loop?"
        self.step = self.luabp = False
        self.log(f"* Stopped at {line}, stop reason = {reason}")
        self.source_line(line)
        self.send_logs()
        ended = self.repl(scripts)
        if ended is not None:
            return ended
        if not self.connected and timeout:
            return "timeout during Lua debugging with client closing connection"
        self.started = time.monotonic()
        return None

    def repl(self, scripts: Any) -> str | None:
        """Debugger commands until one lets the script go on (None) or ends it (its error)."""
        while True:
            argv = self._command()
            while argv is None:
                if not self._read():
                    self.connected = False
                    self.step = False  # the script runs on, unattended
                    self.breakpoints = []
                    return None
                if len(self.buf) > MAX_BUFFER:
                    self.buf = b""
                    return "max client buffer reached"
                argv = self._command()
            self.buf = b""  # (what came after the command is dropped, as in Redis)
            if isinstance(argv, str):
                return argv
            name = argv[0].lower()
            if name in (b"s", b"step", b"n", b"next"):
                self.step = True
                return None
            if name in (b"c", b"continue"):
                return None
            if name in (b"a", b"abort"):
                return "script aborted for user request"
            if name in (b"h", b"help"):
                self.logs.extend(HELP)
            elif name in (b"t", b"trace"):
                for frame in scripts.ldb_lua.trace().values():
                    self.log(frame[1].decode("latin-1"))
                    self.source_line(frame[2])
            elif name in (b"m", b"maxlen"):
                self.set_maxlen(argv)
            elif name in (b"b", b"break"):
                self.breaks(argv)
            elif name in (b"e", b"eval"):
                self.log_value(scripts.ldb_lua.eval(b" ".join(argv[1:])))
            elif name in (b"r", b"redis") and len(argv) > 1:
                scripts.ldb_redis(argv[1:])
            elif name in (b"p", b"print"):
                for entry in scripts.ldb_lua.print(argv[1] if len(argv) == 2 else None).values():
                    self.log_value(entry)
            elif name in (b"l", b"list"):
                around, context = self.current, 5
                if len(argv) > 1 and _atoi(argv[1]) > 0:
                    around = _atoi(argv[1])
                if len(argv) > 2:
                    context = _atoi(argv[2])
                self.list(around, context)
            elif name in (b"w", b"whole"):
                self.list(1, 1000000)
            else:
                self.log("<error> Unknown Redis Lua debugger command or wrong number of "
                         "arguments.")
            self.send_logs()

    def set_maxlen(self, argv: list[bytes]) -> None:
        if len(argv) == 2:
            value = _atoi(argv[1])
            self.hint_sent = True  # (the user knows of it)
            self.maxlen = 60 if 0 < value <= 60 else value
        self.log(f"<value> replies are truncated at {self.maxlen} bytes." if self.maxlen
                 else "<value> replies are unlimited.")

    def breaks(self, argv: list[bytes]) -> None:
        if len(argv) == 1:
            if not self.breakpoints:
                self.log("No breakpoints set. Use 'b <line>' to add one.")
                return
            self.log(f"{len(self.breakpoints)} breakpoints set:")
            for line in self.breakpoints:
                self.source_line(line)
            return
        for arg in argv[1:]:
            line = _strict_int(arg)
            if line is None:
                self.log(f"Invalid argument:'{arg.decode('latin-1')}'")
            elif line == 0:
                self.breakpoints = []
                self.log("All breakpoints removed.")
            elif line > 0:
                if len(self.breakpoints) == BREAKPOINTS_MAX:
                    self.log("Too many breakpoints set.")
                elif line <= len(self.lines) and line not in self.breakpoints:
                    self.breakpoints.append(line)
                    self.list(line, 1)
                else:  # (an existing one too, as Redis says)
                    self.log("Wrong line number.")
            elif -line in self.breakpoints:
                self.breakpoints.remove(-line)
                self.log("Breakpoint removed.")
            else:
                self.log("No breakpoint in the specified line.")

    def end(self) -> None:
        self.log("<endsession>")
        self.send_logs()


def client_socket(client: Any) -> socket.socket | None:
    """A socket object on a duplicate of the client's connection (non-blocking, as the server
    keeps it), or None (a unix socket or a transport without one is served too: any stream)."""
    transport = getattr(client, "transport", None)
    raw = transport.get_extra_info("socket") if transport is not None else None
    if raw is None:
        return None
    sock = socket.socket(raw.family, raw.type, fileno=os.dup(raw.fileno()))
    sock.setblocking(False)
    return sock


def debug_eval(ctx: Any, source: bytes, run: Any, mode: str) -> Any:
    """EVAL under the debugger (`run(session)` runs the script): its reply for SYNC; for YES,
    no reply, as the connection is the child's from here on."""
    from ..errors import CommandError
    from ..persistence.manager import reap_child
    from ..server.client import CLOSING, DROP_LAST

    client = ctx.client
    server = client.server
    client.ldb = None  # one EVAL per session: the connection closes after it
    limit = server.config["busy-reply-threshold"]
    if mode == "sync":
        server.log.warning("Redis synchronous debugging eval session started")
        sock = client_socket(client)
        session = Session(sock, source, limit)
        try:
            return run(session)
        finally:
            session.end()
            sock.close()
            client.state |= CLOSING  # after the reply, which ends the session for the client
            server.log.warning("Redis synchronous debugging eval session ended")
    try:
        pid = os.fork()
    except OSError as exc:
        raise CommandError("ERR Fork() failed: can't run EVAL in debugging mode: "
                           f"{exc.strerror}") from None
    if pid:
        server.ldb_children.add(pid)  # (killed if the server shuts down first)
        reap_child(pid, lambda ok: server.ldb_children.discard(pid))
        client.state |= CLOSING | DROP_LAST  # the child answers
        return None
    code = 1
    try:  # the child: the session, the reply, and out, never back to the event loop
        _leave_the_server(server, client)
        if server.process is not None:
            server.process.in_child("ldb")
        server.log.warning("Redis forked for debugging eval")
        session = Session(client_socket(client), source, limit)
        pieces: list[bytes] = []
        try:
            encode_into(pieces, run(session), client.ctx.resp)
        except CommandError as exc:
            from ..errors import line_text

            pieces = [b"-%s\r\n" % line_text(str(exc)).encode("utf-8", "surrogateescape")]
        session.end()
        session.write(b"".join(pieces))
        server.log.warning("Lua debugging session child exiting")
        code = 0
    finally:
        os._exit(code)


def _leave_the_server(server: Any, client: Any) -> None:
    """In a session's child: nothing of the server's may reach anyone but the debugged client
    (the child's writes are thrown away with it), and the server's signals stay the server's."""
    import signal

    server.log.role = "C"  # (its log lines are a child's, as Redis marks them)
    signal.set_wakeup_fd(-1)  # (a copy of the server's: a signal here would wake the server)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for other in list(server.clients.values()):
        if other is not client:
            other.transport = None
