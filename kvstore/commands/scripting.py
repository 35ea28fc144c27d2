"""Lua scripting: EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT (Redis 7.0 `eval.c`, `script_lua.c`).

Scripts run in Lua 5.1, the version Redis embeds, through lupa's `lupa.lua51`. One runtime per
keyspace (`Scripts`, created at the first script) holds the sandbox of `scripting_lua.lua`:
read-only globals, `redis.call/pcall/...`, `cjson`, `bit`, and the error handler that names the
script line, so replies and error texts are Redis's.

Atomicity and effects. A script runs as one command: nothing else runs meanwhile (the server is
one thread; the embedded store holds its lock). Each write a script makes goes, as it happens,
through the front door's write hooks (`ctx.on_write`: the AOF feed, WATCH, blocked clients),
between a MULTI and an EXEC as Redis 7 propagates a script's effects, so the AOF replays the
effects, never the script. A SELECT inside a script does not change the caller's database.

Limits. The runtime refuses to grow past MAX_MEMORY ("not enough memory" inside the script). On
a server, a script still running after `busy-reply-threshold` ms (lua-time-limit) runs on while
its hook serves the other clients every BUSY_POLL_S (server/busy.py): BUSY to most commands,
SCRIPT KILL / FUNCTION KILL stop it unless it wrote, SHUTDOWN NOSAVE whatever it did. Elsewhere
(the embedded store, whose other threads wait on its lock; an AOF being loaded) such a script is
stopped with an error, as is a FUNCTION LOAD past its 500 ms. Python objects never reach a
script (`_no_attributes`, and only Lua closures around the callbacks), and binary chunks are
refused, so a script cannot leave Lua.
EVAL's scripts stay cached (EVALSHA works after EVAL, as in Redis), the oldest beyond EVAL_CACHE
dropped; SCRIPT LOAD's stay until SCRIPT FLUSH.

Errors from Python. redis.call & co fail by raising, through lupa: the Lua error value keeps the
exception until Lua's GC (blind to Python memory), and lupa keeps the last one. Their traceback
would pin every frame of the call, the script's arguments with them: `_error_table` drops it,
and when the run ends `_forget_errors` drops those the handler never saw (xpcall, coroutines)
and makes lupa let go of its copy.
"""

from __future__ import annotations

import hashlib
import json
import json.decoder
import json.scanner
import logging
import math
import os
import re
import types
from time import perf_counter
from typing import Any

from ..errors import MASTERDOWN, NOT_INTEGER, CommandError, NoScriptError, line_text, spaced
from ..server.acl import ACL_CHECK, DENIED_CHANNEL, DENIED_CMD, DENIED_KEY, acl_name
from ..version import REDIS_VERSION
from ..numbers import format_double, format_long_double, parse_int
from ..replies import (
    OK, BigNumber, Bool, Error, FormattedVerbatim, Frames, HumanDouble, NullArray, ScorePairs,
    SetReply, Status, Verbatim,
)
from . import lua_msgpack, lua_struct
from .table import (
    ALLOW_BUSY, COMMANDS, DENYOOM, LOADING, LOGGED, MAY_REPLICATE, NO_MANDATORY_KEYS, NOSCRIPT,
    READONLY, SKIP_MONITOR, STALE, WRITE, AofOnly, Context, ReplOnly, UnitLog, command,
    container, fast_lookup, resolve,
)

MAX_MEMORY = 512 * 1024 * 1024  # bytes the Lua runtime may hold (scripts, their tables)
EVAL_CACHE = 500                # scripts cached by EVAL (not SCRIPT LOAD) kept for EVALSHA
BODY_KEY_MAX = 4096             # bodies up to this size find their script without a SHA1
MAX_REPLY_DEPTH = 400           # tables nested in a script's reply (Python recursion, twice)
MANY_ARGS = 1000                # keys + args past which they reach Lua as two tables
DEFAULT_TIME_LIMIT_MS = 5000    # busy-reply-threshold without a server config (embedded)
BUSY_POLL_S = 0.005             # between two rounds of serving others while a script is busy
LOAD_TIME_LIMIT_MS = 500        # a library's loading code (Redis's LOAD_TIMEOUT_MS)


class _Abandoned(str):
    """The text of a script SHUTDOWN NOSAVE stops, told apart from SCRIPT KILL's by identity:
    its effects are dropped (busy.py)."""


KILLED = "ERR Script killed by user with SCRIPT KILL..."
ABANDONED = _Abandoned(KILLED)

NOSCRIPT_TEXT = "NOSCRIPT No matching script. Please use EVAL."
_UNKNOWN = "ERR Unknown Redis command called from script"
# scriptVerifyACL's texts, by refusal (server/acl.py DENIED_*).
# redis.set_repl's flags (redis.REPL_AOF...): bit 1 the AOF, bit 2 the replicas
_REPL_AOF, _REPL_ALL = 1, 3

_ACL_REFUSALS = {
    DENIED_CMD: "ERR The user executing the script can't run this command or subcommand",
    DENIED_KEY: "ERR The user executing the script can't access at least one of the keys "
                "mentioned in the command arguments",
    DENIED_CHANNEL: "ERR The user executing the script can't publish to the channel mentioned "
                    "in the command",
}
# Who a script's calls are in SLOWLOG: Redis's script client, which has no connection.
_SCRIPT_CALLER = types.SimpleNamespace(addr="?:0", name=b"")
OOM_TEXT = "OOM command not allowed when used memory > 'maxmemory'."

# The flags a `#!lua flags=...` shebang may declare (Redis's scripts_flags_def)
SCRIPT_FLAGS = frozenset(
    ("no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"))

_log = logging.getLogger("kvstore.scripting")
_LOG_LEVELS = (logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING)
# The kinds of a script's reply table (`_REPLY_SHAPE`), in the order Redis tests them; 0 is
# an array.
_ERR, _OK, _DOUBLE, _BIG_NUMBER, _VERBATIM, _MAP, _SET = range(1, 8)
_REPLY_SHAPE = """function(t)
  local e = rawget(t, 'err')
  if type(e) == 'string' then return 1, e, rawget(t, 'ignore_error_stats_update') == true end
  local ok = rawget(t, 'ok')
  if type(ok) == 'string' then return 2, ok, nil end
  local d = rawget(t, 'double')
  if type(d) == 'number' then return 3, d, d == 0 and 1 / d < 0 end
  local b = rawget(t, 'big_number')
  if type(b) == 'string' then return 4, b, nil end
  local v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local f, s = rawget(v, 'format'), rawget(v, 'string')
    if type(f) == 'string' and type(s) == 'string' then return 5, s, f end
  end
  local m = rawget(t, 'map')
  if type(m) == 'table' then return 6, m, nil end
  local set = rawget(t, 'set')
  if type(set) == 'table' then return 7, set, nil end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return 0, n, nil
end"""
_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripting_lua.lua")


# The ScriptErrors made since a run last ended (`Scripts._forget_errors`): a script can keep one
# (xpcall with its own handler, a coroutine) where the error handler never sees it.
_raised: list = []


class ScriptError(Exception):
    """An error redis.call & co raise inside a script; `err` is Redis's error text. `where`:
    the text is a Lua error's, to which the error handler adds "ERR user_script:<line>: " as
    Lua adds the position of the script line a C function was called from. `counted`: the
    error reply of a command, already in INFO errorstats."""

    def __init__(self, text: str, where: bool = False, counted: bool = False) -> None:
        super().__init__(text)
        self.err = text.encode("utf-8", "surrogateescape")
        self.where = where
        self.counted = counted
        _raised.append(self)


class _Failed(str):
    """The error reply of a command a script ran, counted in errorstats when it happened: its
    error table says so (Redis's ignore_error_stats_update), and the script's reply made of it
    is not counted again."""

    def __str__(self) -> str:
        return self.err.decode("utf-8", "surrogateescape")


def _counted(exc: CommandError, counted: bool) -> CommandError:
    """A script's error reply; `counted` when it is a command's, already in errorstats."""
    exc.counted = counted
    return exc


def _text(value: Any) -> str:
    """A Lua string or number as the text Lua's tostring gives."""
    if type(value) is bytes:
        return value.decode("utf-8", "surrogateescape")
    if type(value) is float:
        return "%.14g" % value
    return str(value)


def _to_int(x: float) -> int:
    """A Lua number as Redis replies it: (long long) cast, truncating; x86 gives INT64_MIN for
    NaN and out-of-range values."""
    if x != x or not -9.223372036854776e18 <= x < 9.223372036854776e18:
        return -(1 << 63)
    return int(x)


class _Forgotten(Exception):
    """Raised to make lupa forget the previous error (`Scripts._forget_errors`)."""


def _raise_forgotten() -> None:
    raise _Forgotten


class Scripts:
    """The Lua runtime and script cache of one keyspace, and the state of the running script."""

    def __init__(self, ks, chunkname: bytes = b"@user_script") -> None:
        self.ks = ks
        self.chunkname = chunkname  # what Lua names the code in errors ("user_script:3: ...")
        self.loaded: dict[str, Any] = {}   # sha -> compiled function, SCRIPT LOAD'ed or EVAL'ed
        self.evaled: dict[str, None] = {}  # shas cached by EVAL, oldest first
        self.bodies: dict[bytes, tuple[str, Any]] = {}  # body -> (sha, function): no SHA1 per EVAL
        # sha -> the flags its shebang declared; None without a shebang (compatibility mode)
        self.flags: dict[str, frozenset | None] = {}
        self.ctx: Context | None = None    # the running script's
        self.server: Any = None            # its server (None embedded): MONITOR, maxmemory
        self.ldb: Any = None               # a debugging session's (scripting_ldb.Session)
        self.unkillable = False            # a loader's replay: never stopped (see `run`)
        self._start()

    def _start(self) -> None:
        from lupa import lua51

        rt = lua51.LuaRuntime(encoding=None, register_eval=False, register_builtins=False,
                              unpack_returned_tuples=True, attribute_filter=self._attribute_filter,
                              max_memory=MAX_MEMORY)
        self.rt = rt
        self.table = rt.table_from
        self.lua_type = lua51.lua_type
        self.lua_error = lua51.LuaError
        with open(_SOURCE, "rb") as f:
            source = f.read()
        version_num = 0
        for part in REDIS_VERSION.split("."):
            version_num = version_num * 256 + int(part)
        null = rt.eval("newproxy()")
        self.null = null
        # What a reply table is, read as Redis's luaReplyToRedisReply does, with rawget (a
        # metatable's __index must not run, nor fail the conversion): (kind, a, b) from
        # _REPLY_SHAPE. One call where indexing from Python took up to eight.
        self.reply_shape = rt.eval(_REPLY_SHAPE)
        # The Python functions a script can call, by their name in Lua (`_attribute_filter`).
        self.functions = {
            b"call": self._redis_call, b"pcall": self._redis_pcall, b"log": self._log,
            b"sha1hex": self._sha1, b"setresp": self._set_resp, b"set_repl": self._set_repl,
            b"acl_check_cmd": self._acl_check, b"decode": self._json_decode,
            b"encode": self._json_encode, b"encode_with": self._json_encode_with,
            b"decode_with": self._json_decode_with, b"pack": self._mp_pack,
            b"unpack": self._mp_unpack,
            b"unpack_one": self._mp_unpack_one, b"unpack_limit": self._mp_unpack_limit,
            b"struct_pack": self._struct_pack, b"struct_unpack": self._struct_unpack,
            b"struct_size": self._struct_size, b"ldb_line": self._ldb_line,
            b"ldb_breakpoint": self._ldb_breakpoint, b"ldb_debug": self._ldb_debug,
        }
        (self._compile, self._run, self._encode, self._execute,
         self._load_library, self.ldb_lua, self.cjson_cfg) = rt.execute(
            source, self.functions, self._error_table, self._time_up, _bit,
            REDIS_VERSION.encode(), version_num, null, self.chunkname)
        self.raised = False  # a Python callback raised: lupa keeps that error (_forget_errors)
        self._reraise = rt.eval("function(f) return function() f() end end")(_raise_forgotten)

    def _forget_errors(self) -> None:
        """Drop the tracebacks of the errors the run's Python callbacks raised (Lua keeps the
        exceptions until its GC), and make lupa drop the last one, which it keeps until
        another: lupa forgets an error when it re-raises it, as it does when the Lua code
        called from Python does not catch it. So one is raised there, uncaught."""
        for exc in _raised:
            exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        _raised.clear()
        self.raised = False
        try:
            self._reraise()
        except Exception as exc:  # (raised in a `finally`: its context may be an error too)
            exc.__traceback__ = exc.__context__ = None

    def _attribute_filter(self, obj: Any, name: Any, setting: bool) -> Any:
        """No Python attribute is reachable from a script but a caught error's `err`; indexing
        one of the functions fails as indexing a Lua function does."""
        if not setting and type(obj) is ScriptError and name in (b"err", "err"):
            return "err"
        for field, fn in self.functions.items():
            if obj == fn:
                raise ScriptError(f"attempt to index field '{field.decode()}' (a function value)",
                                  True)
        raise ScriptError("attempt to index a function value", True)

    def flush(self) -> None:
        """SCRIPT FLUSH: forget every script, and start a fresh runtime (Redis resets its VM)."""
        self.loaded.clear()
        self.evaled.clear()
        self.bodies.clear()
        self.flags.clear()
        self._start()

    # -- the script cache --------------------------------------------------------------------

    def load(self, body: bytes, by_eval: bool) -> tuple[str, Any]:
        """(sha, compiled function) for a script body; compiles it on first sight."""
        known = self.bodies.get(body)
        if known is not None and by_eval:
            return known
        sha = hashlib.sha1(body).hexdigest()
        fn = self.loaded.get(sha)
        if fn is None:
            shebang, flags = parse_shebang(body)
            # (the shebang line is skipped but its line feed kept: line numbers stay right)
            fn, error = self._compile(body[shebang:] if shebang else body)
            if fn is None:
                raise CommandError("ERR Error compiling script (new function): " + _text(error))
            self.loaded[sha] = fn
            self.flags[sha] = flags
            if by_eval:
                self.evaled[sha] = None
                if len(self.evaled) > EVAL_CACHE:
                    old = next(iter(self.evaled))
                    del self.evaled[old]
                    self.loaded.pop(old, None)
                    self.flags.pop(old, None)
                    self.bodies = {b: v for b, v in self.bodies.items() if v[0] != old}
        elif not by_eval:
            self.evaled.pop(sha, None)  # SCRIPT LOAD keeps it for good
        if len(body) <= BODY_KEY_MAX:
            self.bodies[body] = (sha, fn)
        return sha, fn

    # -- running -------------------------------------------------------------------------------

    def run(self, ctx: Context, caller: bytes, sha: str, fn: Any, numkeys: int,
            keys_and_args: list[bytes], readonly: bool, function: bool = False,
            allow_oom: bool = False, session: Any = None) -> Any:
        """Run a script (`fn` from `load`), or with `function` a registered function (FCALL),
        `sha` then being its name, for the command named `caller` (EVAL, FCALL_RO...); the
        reply, or CommandError. With a debugging `session` (scripting_ldb.py), under the
        debugger and without the time limit."""
        ks = ctx.ks
        self.ctx = ctx
        self.reply_failures = 0
        self.uncounted_failure = False
        self.sha = sha
        self.readonly = readonly
        self.resp = 2
        self.repl = _REPL_ALL  # redis.set_repl's flags: where its writes' effects go
        self.wrote = False  # a write command ran: SCRIPT KILL refuses (Redis's WRITE_DIRTY)
        self.call = (caller, numkeys, keys_and_args)  # (busy.py: FUNCTION STATS...)
        # The front door's write hook: fetched once, since no command a script may run adds or
        # removes one (CONFIG, WATCH, MULTI are refused in scripts, blocking pops do not block).
        hook = ctx.on_write() if ctx.on_write is not None else None
        cfg = getattr(ks, "server_config", None)
        self._arm(0 if session is not None else cfg["busy-reply-threshold"] if cfg is not None
                  else DEFAULT_TIME_LIMIT_MS)
        self.ldb = session
        if session is not None:  # (a call into Lua: ~1 us, so only for a session)
            self.ldb_lua.on(True)
        server = ctx.client.server if ctx.client is not None and hasattr(ctx.client,
                                                                          "server") else None
        self.server = server
        # A script replayed by a loader (an AOF, a verbatim script from an old Redis): stopping
        # it would lose the writes it has still to make, so past the limit it is only logged
        self.unkillable = server is None and ks.from_master
        self.oom = not allow_oom and server is not None and server.memory.maxmemory > 0 \
            and not server.memory.make_room()
        # Why the server refuses writes now (it cannot change while the script runs); only
        # a replica link or min-replicas-to-write can, and each raises the server's gate
        self.no_writes = None
        if server is not None and server.gate:
            from ..server.states import write_refusal

            self.no_writes = write_refusal(ctx.client)
        # A tracking caller (default mode) remembers the script's declared keys once the
        # script runs a read-only command, as Redis 7.0's call() remembers its caller's keys.
        self.track_keys = None
        tracker = getattr(ctx.client, "tracker", None) if server is not None else None
        if tracker is not None and tracker.on and not tracker.bcast and numkeys:
            self.track_keys = keys_and_args[:numkeys]
        keywatch = server.keywatch if server is not None else None
        deferred = keywatch is not None and keywatch.defer
        if keywatch is not None:
            keywatch.defer = True  # blocked clients are served after the script, as after EXEC
        db, in_multi = ctx.db, ctx.in_multi
        ctx.in_multi = True  # blocking commands do not block, as in MULTI
        ctx.in_script = True
        # Its writes go out as one unit (UnitLog), or into that of the EXEC running it.
        persistence = server.persistence if server is not None else None
        outer = ctx.unit
        self.unit = ctx.unit = outer or (UnitLog(hook, persistence and persistence.mark)
                                         if hook is not None else None)
        try:
            try:
                if len(keys_and_args) <= MANY_ARGS:
                    ok, result = self._run(fn, function, numkeys, *keys_and_args)
                else:  # (Lua's stack takes a few thousand arguments to a call)
                    ok, result = self._execute(fn, self.table(keys_and_args[:numkeys]),
                                               self.table(keys_and_args[numkeys:]), function)
            except self.lua_error as exc:  # (raised by lupa itself, e.g. out of Lua memory)
                raise CommandError("ERR Error running script: " + (
                    str(exc).split("\n", 1)[0] or type(exc).__name__)) from None
            if not ok:
                raise _counted(CommandError(self._failure(result)),
                               self.lua_type(result) == "table"
                               and result[b"ignore_error_stats_update"] is True)
            reply = self._reply(result, 0)
            if self.reply_failures:
                resolve([caller]).failed += self.reply_failures
            return reply
        finally:
            unit = self.unit
            ctx.unit = outer
            if unit is not None and unit is not outer:
                ctx.effects = None
                if self.killed is ABANDONED:  # SHUTDOWN NOSAVE: none of it is kept (busy.py)
                    if server.persistence is not None:
                        unit.abandon(server.persistence.revert)
                else:
                    unit.close(ctx)
            self.unit = None
            if server is not None and server.busy is not None:
                server.end_busy()
            ctx.db, ctx.in_multi = db, in_multi
            ctx.in_script = False
            ctx.effects = None
            self.ctx = None
            if session is not None:
                self.ldb = None
                self.ldb_lua.on(False)
            if keywatch is not None and not deferred:
                keywatch.defer = False
                if keywatch.ready:
                    keywatch.serve_ready()
            if self.raised or _raised:
                self._forget_errors()

    def load_library(self, body: bytes, name: str) -> Any:
        """FUNCTION LOAD: compile and run a library's code (its first line blanked); returns
        what it registered (a Lua table of {name, callback, flags, description}), or raises
        CommandError with Redis's text."""
        fn, error = self._compile(body)
        if fn is None:
            raise CommandError("ERR Error compiling function: " + _text(error))
        self.sha = name
        self._arm(LOAD_TIME_LIMIT_MS, "ERR FUNCTION LOAD timeout")
        registered, error = self._load_library(fn)
        if self.raised or _raised:
            self._forget_errors()
        if registered is None:
            raise CommandError("ERR Error registering functions: "
                               + self._failure(error, where=False))
        return registered

    def _arm(self, limit_ms: int, text: str | None = None) -> None:
        """Start the time limit of a run (0: none); `text`: the error that stops it (else the
        busy-reply-threshold one)."""
        self.killed: str | None = None
        self.timeout_text = text
        self.limit_ms = limit_ms
        self.deadline = perf_counter() + limit_ms / 1000 if limit_ms > 0 else math.inf

    def _failure(self, err: Any, where: bool = True) -> str:
        """The error reply of a script that raised (Redis luaCallFunction), naming the script
        and line (`where`) when the error handler found them."""
        if self.lua_type(err) != "table":
            return "ERR Error running script " + _text(err)
        msg = err[b"err"]
        text = _text(msg) if msg is not None else "ERR unknown error"
        source, line = err[b"source"], err[b"line"]
        if where and source is not None and line is not None:
            text += f" script: {self.sha}, on {_text(source)}:{_text(line)}."
        return text

    def _time_up(self) -> str | None:
        if perf_counter() < self.deadline:
            return None
        if self.killed is None:
            server = self.server
            if server is not None and self.timeout_text is None and server.serving:
                # A server's script: it goes on, and the server answers others meanwhile
                server.serve_busy(self, self.deadline - self.limit_ms / 1000)
                if self.killed is None:
                    self.deadline = perf_counter() + BUSY_POLL_S
                return self.killed
            if self.unkillable and self.timeout_text is None:
                _log.warning("Slow script detected: still in execution after %d milliseconds. "
                             "Script name is: %s.", self.limit_ms, self.sha)
                self.deadline = math.inf
                return None
            self.killed = self.timeout_text or (
                "ERR Script killed after running longer than busy-reply-threshold "
                f"({self.limit_ms} ms)")
            _log.warning("Lua script %s ran longer than %d ms: stopped", self.sha, self.limit_ms)
        return self.killed

    def stop(self, text: str) -> None:
        """End the running script with the error `text` at its next hook (SCRIPT KILL);
        ABANDONED also drops its effects from the AOF (SHUTDOWN NOSAVE)."""
        self.killed = text
        self.deadline = 0.0

    # -- redis.call / redis.pcall ------------------------------------------------------------

    def _error_table(self, exc: Any) -> Any:
        """The error handler's view of an error raised from Python: a table {err=text}."""
        # Its traceback holds every frame of the call (the script's arguments, the command's
        # input): dropped here, since the Lua error value keeps `exc` until Lua's GC runs; the
        # copy lupa keeps goes when the run ends (`_forget_errors`).
        exc.__traceback__ = exc.__context__ = exc.__cause__ = None
        self.raised = True
        if type(exc) is ScriptError:
            if exc.counted:
                return self.table({b"ignore_error_stats_update": True, b"err": exc.err,
                                   b"where": exc.where})
            return self.table({b"err": exc.err, b"where": exc.where})
        return self.table({b"err": ("ERR " + str(exc)).encode("utf-8", "surrogateescape")})

    def _redis_call(self, *args: Any) -> Any:
        """redis.call: the reply as Lua sees it; raises the error of a failed command."""
        reply = self._command(args, False)
        if isinstance(reply, str):
            raise ScriptError(reply, counted=type(reply) is _Failed)
        return reply

    def _redis_pcall(self, *args: Any) -> Any:
        """redis.pcall: the reply as Lua sees it, an error as a table {err=text}."""
        reply = self._command(args, False)
        if isinstance(reply, str):
            if type(reply) is _Failed:
                return self.table({b"ignore_error_stats_update": True,
                                   b"err": reply.encode("utf-8", "surrogateescape")})
            return self.table({b"err": reply.encode("utf-8", "surrogateescape")})
        return reply

    def _acl_check(self, *args: Any) -> bool:
        """redis.acl_check_cmd: whether the caller's user may run that command."""
        if not args:
            raise ScriptError("ERR Please specify at least one argument for this redis lib call")
        reply = self._command(args, True)
        if isinstance(reply, str):
            if reply == _UNKNOWN:
                raise ScriptError("ERR Invalid command passed to redis.acl_check_cmd()")
            raise ScriptError(reply)
        return reply

    def _command(self, args: tuple, check_only: bool) -> Any:
        """Run one command from a script: its reply in Lua values, or an error text (str)."""
        if not args:
            return self._ldb_error("ERR Please specify at least one argument for this redis lib "
                                   "call", check_only)
        argv = list(args)
        for i, a in enumerate(args):
            t = type(a)
            if t is bytes:
                continue
            if t is int and -10**17 < a < 10**17:
                argv[i] = b"%d" % a
            elif t is int or t is float:
                argv[i] = format_double(a)  # as Redis prints a Lua number it passes on
            else:
                return self._ldb_error("ERR Lua redis lib command arguments must be strings or "
                                       "integers", check_only)
        ldb = self.ldb  # a debugging session, while it steps: it logs the command and reply
        if ldb is not None and (check_only or not ldb.step):
            ldb = None
        if ldb is not None:
            ldb.log_command(argv)
        try:
            cmd = fast_lookup(argv)
        except CommandError:  # the table's texts; scripts say it their own way
            known = resolve(argv)
            if check_only:
                return _UNKNOWN if known is None else "ERR Wrong number of args calling Redis " \
                    "command from script"
            if known is None:
                return self._rejected(_UNKNOWN, None)
            return self._rejected("ERR Wrong number of args calling Redis command from script",
                                  known)
        client = self.ctx.client
        restricted = client is not None and client.state & ACL_CHECK
        if check_only:
            return not restricted or client.user.check(acl_name(cmd), argv)[0] == 0
        flags = cmd.flags
        if flags & NOSCRIPT and self.ctx.ks.scripts_deny_noscript:
            return self._rejected("ERR This Redis command is not allowed from script", cmd)
        if restricted:
            refused = client.acl_refusal(cmd, argv, "lua")
            if refused is not None:
                return self._rejected(_ACL_REFUSALS[refused[0]], cmd)
        ctx = self.ctx
        ks = ctx.ks
        if flags & (WRITE | MAY_REPLICATE) and self.readonly:  # (PFCOUNT, PUBLISH... too)
            return self._rejected("ERR Write commands are not allowed from read-only scripts.",
                                  cmd)
        if flags & WRITE:
            p = getattr(ks, "persistence", None)
            if p is not None and p.write_error is not None:
                return self._rejected(p.misconf_text(), cmd)
            if self.no_writes is not None:
                return self._rejected(self.no_writes, cmd)
        if flags & DENYOOM and self.oom:
            return self._rejected(OOM_TEXT, cmd)
        if flags & WRITE:
            self.wrote = True
        server = self.server
        if not flags & STALE and running_stale(server):
            # (an allow-stale script on a stale replica: Redis's scriptVerifyAllowStale)
            return self._rejected("ERR Can not execute the command on a stale replica", cmd)
        if flags & READONLY and self.track_keys is not None:
            self.server.tracking.remember(ctx.client, cmd, self.track_keys)
            self.track_keys = None
        dirty = ks.dirty
        ctx.effects = None
        cmd.calls += 1
        if server is not None and server.monitors:  # shown as "[<db> lua]", as Redis does
            server.monitor_command(ctx.client, cmd, argv, "lua")
        start = perf_counter()
        # Replies take the script's protocol (redis.setresp), not its caller's: XREAD's map,
        # HRANDFIELD's pairs.
        resp, ctx.resp = ctx.resp, self.resp
        try:
            reply = cmd.handler(ctx, argv)
        except CommandError as exc:
            cmd.failed += 1
            if server is not None:
                server.timed(_SCRIPT_CALLER, cmd, argv, perf_counter() - start)
                server.count_error(str(exc), None)  # caught by pcall or not, as Redis counts
            text = line_text(str(exc))
            if ldb is not None:
                ldb.log("<error> -" + text)
                ldb.log_reply(Error(text), self.resp)
            return _Failed(text)  # (the reply's line, as the script sees it)
        finally:
            ctx.resp = resp
        if server is not None:
            server.timed(_SCRIPT_CALLER, cmd, argv, perf_counter() - start)
        if ks.dirty != dirty and flags & LOGGED and self.repl:
            unit = self.unit
            if unit is not None:
                if self.repl != _REPL_ALL and ctx.effects != []:  # ([]: nothing to log)
                    only = AofOnly if self.repl == _REPL_AOF else ReplOnly
                    ctx.effects = [only(e) for e in ctx.effects or [argv]]
                unit.write(ctx, argv)
        if ldb is not None:
            ldb.log_reply(reply, self.resp)
        return self._lua2(reply) if self.resp == 2 else self._lua3(reply)

    def _rejected(self, text: str, cmd: Any) -> _Failed:
        """A command the script may not run now (Redis scriptCall's refusals): counted as an
        error reply, and in the command's rejected_calls, when it happens, as Redis does."""
        if self.server is not None:
            self.server.count_error(text, cmd)
        return _Failed(self._ldb_error(text, False))

    # -- the debugger (scripting_ldb.py) ---------------------------------------------------

    def _ldb_error(self, text: str, check_only: bool) -> str:
        """`text`, an error refusing a script's command; logged first while stepping."""
        ldb = self.ldb
        if ldb is not None and not check_only and ldb.step:
            ldb.log("<error> " + (text[4:] if text.startswith("ERR ") else text))
        return text

    def _ldb_line(self, line: int, count: bool) -> bytes | None:
        stop = self.ldb.line(self, line, count)
        return None if stop is None else stop.encode()

    def _ldb_breakpoint(self) -> None:
        self.ldb.luabp = True

    def _ldb_debug(self, text: bytes) -> None:
        self.ldb.log(f"<debug> line {self.ldb.current}: " + text.decode("latin-1"))

    def ldb_redis(self, argv: list[bytes]) -> None:
        """The debugger's `redis` command: the command run as redis.call runs it, logged."""
        ldb = self.ldb
        ldb.step = True
        try:
            self._command(tuple(argv), False)
        finally:
            ldb.step = False

    def _lua2(self, r: Any) -> Any:
        """A reply as a RESP2 client reads it, in Lua values (Redis redisProtocolToLuaType)."""
        t = type(r)
        if t is bytes or t is int:
            return r
        if r is None or t is NullArray:
            return False
        if t is Status:
            return self.table({b"ok": r.encode("utf-8", "surrogateescape")})
        if t is ScorePairs:
            flat = []
            for member, score in r:
                flat.append(member)
                flat.append(format_double(score))
            return self.table(flat)
        if t is Frames:  # an attribute and the reply it describes: a script sees the reply
            return self._lua2(r[-1])
        if isinstance(r, list):
            return self.table([self._lua2(x) for x in r])
        if t is HumanDouble:
            return format_long_double(r)
        if t is float:
            return format_double(r)
        if t is dict:
            flat = []
            for k, v in r.items():
                flat.append(self._lua2(k))
                flat.append(self._lua2(v))
            return self.table(flat)
        if t is Bool or t is bool:
            return int(r.value if t is Bool else r)
        if isinstance(r, bytes):
            return bytes(r)
        if t is str:
            return r.encode("utf-8", "surrogateescape")
        if t is Error:
            return self.table({b"err": r.message.encode("utf-8", "surrogateescape")})
        raise TypeError(f"no Lua form for a {t.__name__} reply")

    def _lua3(self, r: Any) -> Any:
        """A reply as a RESP3 client reads it (after redis.setresp(3)), in Lua values."""
        t = type(r)
        if t is bytes or t is int:
            return r
        if r is None or t is NullArray:
            return None
        if t is Bool or t is bool:
            return r.value if t is Bool else r
        if t is float:
            return self.table({b"double": r})
        if t is HumanDouble:  # (the client parses the `%.17Lf` text Redis sends)
            return self.table({b"double": float(format_long_double(r))})
        if t is BigNumber:
            return self.table({b"big_number": bytes(r)})
        if t is ScorePairs:
            return self.table([self.table([m, self.table({b"double": s})]) for m, s in r])
        if t is SetReply:
            return self.table({b"set": self.table({self._lua3(m): True for m in r})})
        if t is dict:
            return self.table({b"map": self.table(
                {self._lua3(k): self._lua3(v) for k, v in r.items()})})
        if isinstance(r, Verbatim):
            return self.table({b"verbatim_string": self.table(
                {b"format": r.fmt, b"string": bytes(r)})})
        if t is Frames:  # (see `_lua2`)
            return self._lua3(r[-1])
        if isinstance(r, list):
            return self.table([self._lua3(x) for x in r])
        return self._lua2(r)

    # -- the script's reply ------------------------------------------------------------------

    def _reply(self, v: Any, depth: int) -> Any:
        """A Lua value as the script's reply (Redis luaReplyToRedisReply); `depth` counts the
        tables around it. A table nested past MAX_REPLY_DEPTH is an error element, where Redis
        runs out of Lua stack (the encoder recurses too)."""
        t = type(v)
        if t is bytes or t is int:
            return v
        if v is None:
            return None
        if t is bool:
            return (1 if v else None) if self.resp == 2 else Bool(v)
        if t is float:
            return _to_int(v)
        if self.lua_type(v) != "table":
            return None  # a function, a coroutine, userdata: Redis replies null
        if depth >= MAX_REPLY_DEPTH:
            return Error("ERR reached lua stack limit")
        kind, a, b = self.reply_shape(v)
        if kind == _ERR:
            text = _text(a)
            if not depth:
                raise _counted(CommandError(text), b)
            self._nested_error(text, b)
            return Error(text)
        if kind == _OK:
            return Status(spaced(_text(a)))
        if kind == _DOUBLE:
            return -0.0 if b else float(a)  # (lupa hands -0.0 over as int 0)
        if kind == _BIG_NUMBER:
            return BigNumber(a.replace(b"\r", b" ").replace(b"\n", b" "))
        if kind == _VERBATIM:
            return FormattedVerbatim(a, b.split(b"\0", 1)[0])
        if kind == _MAP:
            return {self._reply(k, depth + 1): self._reply(x, depth + 1) for k, x in a.items()}
        if kind == _SET:
            return SetReply(self._reply(k, depth + 1) for k in a.keys())
        # An array: its elements 1..a are there, so indexing them runs no metamethod.
        return [self._reply(v[i], depth + 1) for i in range(1, a + 1)]

    def _nested_error(self, text: str, counted: bool) -> None:
        """An error table inside the script's reply is an error reply all the same (Redis's
        afterErrorReply, run for each): in errorstats unless a command's error already counted
        there, and in the script command's failed_calls, once for all the uncounted ones (as
        call() compares the error total) and once for each counted one."""
        if self.server is None:
            return
        if counted:
            self.reply_failures += 1
            return
        self.server.count_error(text, None)
        if not self.uncounted_failure:
            self.uncounted_failure = True
            self.reply_failures += 1

    # -- the rest of the library ---------------------------------------------------------------

    def _log(self, *args: Any) -> tuple:
        if len(args) < 2:
            raise ScriptError("ERR redis.log() requires two arguments or more.")
        level = args[0]
        if type(level) not in (int, float):
            raise ScriptError("ERR First argument must be a number (log level).")
        if not 0 <= level <= 3:
            raise ScriptError("ERR Invalid debug level.")
        text = " ".join(_text(a) for a in args[1:] if type(a) in (bytes, int, float))
        ctx = self.ctx
        server = ctx.client.server if ctx is not None and ctx.client is not None \
            and hasattr(ctx.client, "server") else None
        if server is not None:
            (server.log.debug, server.log.verbose, server.log.notice,
             server.log.warning)[int(level)]("%s", text)
        else:
            _log.log(_LOG_LEVELS[int(level)], "%s", text)
        return ()  # (no value at all, as Redis's redis.log returns)

    def _sha1(self, *args: Any) -> bytes:
        if len(args) != 1:
            raise ScriptError("ERR wrong number of arguments")
        data = args[0]
        data = data if type(data) is bytes else _text(data).encode() \
            if type(data) in (int, float) else b""
        return hashlib.sha1(data).hexdigest().encode()

    def _set_resp(self, *args: Any) -> tuple:
        if len(args) != 1:
            raise ScriptError("ERR redis.setresp() requires one argument.")
        # Redis: `int resp = lua_tonumber(...)`: a numeric string counts as its number, any
        # other value as 0, and the C cast truncates (2.5 is 2)
        version = args[0]
        if type(version) is bytes:
            try:
                version = float(version.strip())
            except ValueError:
                version = 0
        elif type(version) not in (int, float):
            version = 0
        if not math.isfinite(version) or int(version) not in (2, 3):
            raise ScriptError("ERR RESP version must be 2 or 3.")
        self.resp = int(version)
        return ()

    def _set_repl(self, *args: Any) -> tuple:
        if len(args) != 1:
            raise ScriptError("ERR redis.set_repl() requires one argument.")
        flags = args[0]
        if type(flags) not in (int, float) or flags not in (0, 1, 2, 3):
            raise ScriptError("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, "
                              "REPL_ALL or REPL_NONE.")
        self.repl = int(flags)
        return ()

    def _json_encode(self, *args: Any) -> bytes:
        """cjson.encode: the encoder is Lua (it walks tables in the order Redis's does)."""
        return self._json_encode_with(self.cjson_cfg, *args)

    def _json_encode_with(self, cfg: Any, *args: Any) -> bytes:
        """The encode of a cjson module with settings `cfg` (cjson.new() makes one)."""
        if len(args) != 1:
            raise ScriptError("bad argument #1 to 'encode' (expected 1 argument)", True)
        try:
            return self._encode(args[0], cfg)
        except self.lua_error as exc:
            text = _text(exc.args[0]) if exc.args else "encode failed"
            raise ScriptError(text.split("\nstack traceback:", 1)[0], True) from None

    # -- struct (lua_struct.py) ----------------------------------------------------------------

    def _struct_fmt(self, args: tuple, fn: str) -> bytes:
        fmt = args[0] if args else None
        if type(fmt) is not bytes:
            raise ScriptError(f"bad argument #1 to '{fn}' (string expected, got "
                              f"{'no value' if fmt is None else 'non-string'})", True)
        return fmt

    def _struct_pack(self, *args: Any) -> bytes:
        try:
            return lua_struct.pack(self._struct_fmt(args, "pack"), args[1:])
        except ValueError as exc:
            raise ScriptError(str(exc), True) from None

    def _struct_unpack(self, *args: Any) -> tuple:
        fmt = self._struct_fmt(args, "unpack")
        data = args[1] if len(args) > 1 else None
        if type(data) is not bytes:
            raise ScriptError("bad argument #2 to 'unpack' (string expected, got "
                              f"{'no value' if data is None else 'non-string'})", True)
        init = args[2] if len(args) > 2 and args[2] is not None else 1
        try:
            return tuple(lua_struct.unpack(fmt, data, int(init)))
        except ValueError as exc:
            raise ScriptError(str(exc), True) from None

    def _struct_size(self, *args: Any) -> int:
        try:
            return lua_struct.size(self._struct_fmt(args, "size"))
        except ValueError as exc:
            raise ScriptError(str(exc), True) from None

    # -- cmsgpack (lua_msgpack.py) -------------------------------------------------------------

    def _mp_pack(self, *args: Any) -> bytes:
        if not args:
            raise ScriptError("bad argument #0 to 'pack' (MessagePack pack needs input.)", True)
        out = bytearray()
        for arg in args:
            lua_msgpack.pack(arg, out, 1, self.lua_type)
        return bytes(out)

    def _mp_unpack_from(self, data: Any, limit: int, offset: int) -> tuple:
        """(next offset or -1 at the end, values...) of up to `limit` objects (0: all)."""
        if type(data) is not bytes:
            raise ScriptError("bad argument #1 to 'unpack' (string expected)", True)
        values = []
        pos = offset
        try:
            while pos < len(data) and (limit <= 0 or len(values) < limit):
                value, pos = lua_msgpack.unpack_one(data, pos, self.table)
                values.append(value)
        except lua_msgpack.MsgpackError as exc:
            raise ScriptError(str(exc), True) from None
        return (pos if pos < len(data) else -1, *values)

    def _mp_unpack(self, data: Any = None) -> tuple:
        return self._mp_unpack_from(data, 0, 0)[1:]

    def _mp_unpack_one(self, data: Any = None, offset: Any = 0) -> tuple:
        return self._mp_unpack_from(data, 1, int(offset or 0))

    def _mp_unpack_limit(self, data: Any = None, limit: Any = 0, offset: Any = 0) -> tuple:
        return self._mp_unpack_from(data, int(limit or 0), int(offset or 0))

    def _json_decode(self, *args: Any) -> Any:
        """cjson.decode."""
        return self._json_decode_with(self.cjson_cfg, *args)

    def _json_decode_with(self, cfg: Any, *args: Any) -> Any:
        """The decode of a cjson module with settings `cfg`: its decode_max_depth and
        decode_invalid_numbers."""
        if len(args) != 1:
            raise ScriptError("bad argument #1 to 'decode' (expected 1 argument)", True)
        data = args[0]
        if type(data) in (int, float) and type(data) is not bool:
            data = _text(data).encode()  # (luaL_checklstring takes a number as its text)
        elif type(data) is not bytes:
            raise ScriptError("bad argument #1 to 'decode' (string expected, got "
                              f"{self._type_name(data)})", True)
        if len(data) >= 2 and not (data[0] and data[1]):
            # lua-cjson's guess at a wide encoding: a NUL among the first two bytes
            raise ScriptError("JSON parser does not support UTF-16 or UTF-32", True)
        data = data.split(b"\0", 1)[0]  # (cjson reads a C string: a NUL ends the input)
        lenient = cfg[b"decode_invalid"] == 1
        too_deep = _too_deep(data, cfg[b"decode_max_depth"])
        try:
            value = (_CJSON if lenient else _CJSON_STRICT).decode(data.decode("latin-1"))
        except json.JSONDecodeError as exc:
            if too_deep is None or exc.pos < too_deep[1]:  # (an error met before the depth)
                raise ScriptError(_json_error(exc, data, lenient), True) from None
        except (ValueError, RecursionError):
            if too_deep is None:
                raise ScriptError("Found too many nested data structures", True) from None
        if too_deep is not None:
            raise ScriptError("Found too many nested data structures (%d) at character %d"
                              % too_deep, True)
        return self._from_json(value)

    def _type_name(self, v: Any) -> str:
        """Lua's type() of a value handed to Python."""
        if v is None:
            return "nil"
        if type(v) is bool:
            return "boolean"
        return str(self.lua_type(v) or "userdata")

    def _from_json(self, v: Any) -> Any:
        if type(v) is str:
            return _latin1_or_utf8(v)
        if type(v) is list:
            return self.table([self._from_json(x) for x in v])
        if type(v) is dict:
            return self.table({_latin1_or_utf8(k): self._from_json(x) for k, x in v.items()})
        if v is None:
            return self.null
        return v


# lua-cjson's string escapes other than \\u
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}
_STRING_CHUNK = re.compile(r'([^"\\]*)(["\\])', re.DOTALL)
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_BAD_ESCAPE = "invalid escape code"
_BAD_UNICODE = "invalid unicode escape code"
_END_OF_STRING = "unexpected end of string"


def _cjson_string(s: str, end: int, strict: bool = True) -> tuple[str, int]:
    """A JSON string as lua-cjson reads it, for json's scanner (`s` is the input read as
    latin-1): raw bytes kept as they are (control characters too), a \\u escape written as
    the UTF-8 of its code point (a surrogate pair combined, a lone surrogate an error), so the
    string's latin-1 encoding is the bytes cjson returns."""
    chunks = []
    begin = end - 1  # (the opening quote: `_json_error` tells a key from a value by it)
    while True:
        chunk = _STRING_CHUNK.match(s, end)
        if chunk is None:
            raise _string_error(_END_OF_STRING, s, len(s), begin)
        end = chunk.end()
        content, terminator = chunk.groups()
        chunks.append(content)
        if terminator == '"':
            return "".join(chunks), end
        escape = s[end : end + 1]
        if escape != "u":
            char = _ESCAPES.get(escape)
            if char is None:
                raise _string_error(_BAD_ESCAPE, s, end - 1, begin)
            chunks.append(char)
            end += 1
            continue
        code = _hex4(s, end + 1)
        if code is not None and 0xD800 <= code <= 0xDBFF:
            low = _hex4(s, end + 7) if s[end + 5 : end + 7] == "\\u" else None
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) \
                if low is not None and 0xDC00 <= low <= 0xDFFF else None
            width = 11
        else:
            width = 5
        if code is None or 0xDC00 <= code <= 0xDFFF:
            raise _string_error(_BAD_UNICODE, s, end - 1, begin)
        chunks.append(chr(code).encode("utf-8").decode("latin-1"))
        end += width


def _string_error(what: str, s: str, pos: int, begin: int) -> json.JSONDecodeError:
    exc = json.JSONDecodeError(what, s, pos)
    exc.begin = begin  # type: ignore[attr-defined]
    return exc


def _hex4(s: str, pos: int) -> int | None:
    m = _HEX4.match(s, pos)
    return int(m.group(), 16) if m is not None else None


# json.decoder's JSONObject reading its keys with `_cjson_string` too: the same code, with its
# module-level `scanstring` (the name it reads keys with) bound to ours.
_cjson_object = types.FunctionType(
    json.decoder.JSONObject.__code__, dict(vars(json.decoder), scanstring=_cjson_string),
    "_cjson_object", json.decoder.JSONObject.__defaults__)


# Numbers as Redis's cjson reads them (decode_invalid_numbers on): strtod's longest prefix, at a
# sign, a digit, or inf/nan; so "+1", "05", "2.", "-.5", "0x10" and "inf" are numbers. (Three
# groups, as json's scanner unpacks: the whole text, then two empty ones.)
_STRTOD_BODY = (r"(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][-+]?\d+)?"
                r"|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
                r"|(?i:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?))")
_CJSON_NUMBER = re.compile(
    rf"([-+]{_STRTOD_BODY}|(?=\d){_STRTOD_BODY}|(?=[iInN]){_STRTOD_BODY})()()")


def _strtod(text: str) -> float:
    body = text.lstrip("+-").lower()
    value = float.fromhex(body) if body.startswith("0x") else float(body.split("(", 1)[0])
    return -value if text.startswith("-") else value


class _CJsonDecoder(json.JSONDecoder):
    """json's decoder with lua-cjson's strings (`_cjson_string`), keys included, and numbers
    (`_CJSON_NUMBER`, all doubles)."""

    def __init__(self, numbers: re.Pattern = _CJSON_NUMBER) -> None:
        super().__init__(parse_int=_strtod)
        self.parse_string = _cjson_string
        self.parse_object = _cjson_object
        # (json's scanner reads its NUMBER_RE global; the C scanner ignores all of these)
        self.scan_once = types.FunctionType(json.scanner.py_make_scanner.__code__,
                                            dict(vars(json.scanner), NUMBER_RE=numbers))(self)


_CJSON = _CJsonDecoder()

# With decode_invalid_numbers off: a number starts at '-' or a digit, and is refused with a
# '+', a leading zero, hex, inf or nan (lua-cjson's json_is_invalid_number); strtod otherwise.
_STRICT_NUMBER = re.compile(
    r"((?=[-\d])-?(?!0[xX\d])(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)()()")
_CJSON_STRICT = _CJsonDecoder(_STRICT_NUMBER)


def _too_deep(data: bytes, most: int) -> tuple[int, int] | None:
    """(depth, character) where the arrays and objects of `data` first nest deeper than
    `most`, as lua-cjson reports it, or None. (Brackets inside strings do not count.)"""
    if data.count(b"[") + data.count(b"{") <= most:
        return None
    depth = 0
    in_string = False
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if in_string:
            if c == 92:  # backslash
                i += 1
            elif c == 34:
                in_string = False
        elif c == 34:
            in_string = True
        elif c == 91 or c == 123:
            depth += 1
            if depth > most:
                return depth, i + 1
        elif c == 93 or c == 125:
            depth -= 1
        i += 1
    return None


def _json_error(exc: json.JSONDecodeError, data: bytes, lenient: bool = True) -> str:
    """lua-cjson's text for the commonest decode errors (what was expected, at which 1-based
    character; the token found is reported as cjson names the end of input or else as invalid)."""
    pos = exc.pos
    if exc.msg in (_BAD_ESCAPE, _BAD_UNICODE, _END_OF_STRING):
        # a string where an object wants its next key (after `{` or `,` inside an object)
        begin = exc.begin  # type: ignore[attr-defined]
        before = data[:begin].rstrip()[-1:]
        key = before in (b"{", b",") and _innermost(data, begin) == "{"
        return (f"Expected {'object key string' if key else 'value'} but found {exc.msg} at "
                f"character {pos + 1}")
    found = "T_END" if pos >= len(data.rstrip()) else "invalid token"
    if not lenient and pos < len(data) and data[pos] in b"-0123456789":
        found = "invalid number"  # (refused by decode_invalid_numbers off: '05', '0x1', '-inf')
    if exc.msg == "Extra data":  # a whole value, then more than white space
        return f"Expected the end but found {_json_token(data, pos)} at character {pos + 1}"
    expected = {
        "Expecting property name enclosed in double quotes": "object key string",
        "Expecting ':' delimiter": "colon",
        "Expecting ',' delimiter": "comma or array end" if _innermost(data, pos) == "["
        else "comma or object end",
    }.get(exc.msg, "value")
    return f"Expected {expected} but found {found} at character {pos + 1}"


_JSON_TOKENS = {ord("{"): "T_OBJ_BEGIN", ord("}"): "T_OBJ_END", ord("["): "T_ARR_BEGIN",
                ord("]"): "T_ARR_END", ord(","): "T_COMMA", ord(":"): "T_COLON",
                ord('"'): "T_STRING"}


def _json_token(data: bytes, pos: int) -> str:
    """lua-cjson's name for the token that starts at `pos`."""
    c = data[pos]
    if c in _JSON_TOKENS:
        return _JSON_TOKENS[c]
    for word, name in ((b"true", "T_BOOLEAN"), (b"false", "T_BOOLEAN"), (b"null", "T_NULL")):
        if data.startswith(word, pos):
            return name
    # '-' or a digit starts a number, and so do the forms cjson reads though JSON has none
    # ('+', inf, nan): strtod then takes it, or it is an invalid number
    word = data[pos:pos + 3].lower()
    if c == 45 or 48 <= c <= 57 or c == 43 or word == b"inf" or word == b"nan":
        return "T_NUMBER" if _CJSON_NUMBER.match(data.decode("latin-1"), pos) else \
            "invalid number"
    return "invalid token"


def _innermost(data: bytes, pos: int) -> str:
    """The bracket of the innermost array or object open at `pos` (strings skipped roughly)."""
    stack = []
    in_string = False
    i = 0
    while i < pos and i < len(data):
        c = data[i : i + 1]
        if in_string:
            if c == b"\\":
                i += 1
            elif c == b'"':
                in_string = False
        elif c == b'"':
            in_string = True
        elif c in (b"[", b"{"):
            stack.append(c.decode())
        elif c in (b"]", b"}") and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else ""


def _latin1_or_utf8(s: str) -> bytes:
    """A decoded JSON string back to bytes: the input's bytes as they were (read as latin-1),
    and a \\u escape above U+00FF as UTF-8, as cjson writes it."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return b"".join(c.encode("latin-1") if ord(c) < 256 else c.encode("utf-8") for c in s)


def _tobit(x: Any) -> int:
    if type(x) is bytes:
        try:
            x = float(x)
        except ValueError:
            raise ValueError("number expected, got string") from None
    elif type(x) not in (int, float):
        raise ValueError("number expected")
    if x != x or x in (math.inf, -math.inf):
        return 0
    n = round(x) & 0xFFFFFFFF  # LuaBitOp's double -> int32: round to nearest even, wrap
    return n - (1 << 32) if n & 0x80000000 else n


def _bit(name: bytes, *args: Any) -> tuple[bool, Any]:
    """LuaBitOp's functions on 32-bit integers: (True, result) or (False, error text)."""
    op = name.decode()
    try:
        if not args:
            raise ValueError("number expected, got no value")
        x = [_tobit(a) for a in args]
        a = x[0]
        if op == "tobit":
            r = a
        elif op == "bnot":
            r = ~a
        elif op in ("band", "bor", "bxor"):
            r = a
            for b in x[1:]:
                r = r & b if op == "band" else r | b if op == "bor" else r ^ b
        elif op == "tohex":
            n = x[1] if len(x) > 1 else 8
            digits = "0123456789ABCDEF" if n < 0 else "0123456789abcdef"
            n = min(abs(n), 8) or 8
            u = a & 0xFFFFFFFF
            return True, "".join(digits[(u >> (4 * i)) & 15] for i in range(n - 1, -1, -1)) \
                .encode()
        elif op == "bswap":
            u = a & 0xFFFFFFFF
            r = int.from_bytes(u.to_bytes(4, "little"), "big")
        else:
            if len(x) < 2:
                raise ValueError("number expected, got no value")
            u, s = a & 0xFFFFFFFF, x[1] & 31
            if op == "lshift":
                r = u << s
            elif op == "rshift":
                r = u >> s
            elif op == "arshift":
                r = a >> s
            elif op == "rol":
                r = (u << s) | (u >> (32 - s))
            else:  # ror
                r = (u >> s) | (u << (32 - s))
        r &= 0xFFFFFFFF
        return True, r - (1 << 32) if r & 0x80000000 else r
    except ValueError as exc:
        return False, f"bad argument #1 to '{op}' ({exc})".encode()


# -- the commands ---------------------------------------------------------------------------------


def parse_shebang(body: bytes) -> tuple[int, frozenset | None]:
    """Redis's evalExtractShebangFlags: (length of the `#!lua ...` line, its flags), or
    (0, None) for a body without one, which runs in Redis's EVAL compatibility mode."""
    if not body.startswith(b"#!"):
        return 0, None
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    from ..protocol.request import ProtocolError, split_inline

    try:
        parts = split_inline(body[:end])
    except ProtocolError:
        parts = []
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError("ERR Unexpected engine in script shebang: " + _text(parts[0]))
    flags = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError("ERR Unknown lua shebang option: " + _text(part))
        for flag in part[6:].split(b",") if len(part) > 6 else ():
            name = flag.decode("utf-8", "surrogateescape")
            if name not in SCRIPT_FLAGS:
                raise CommandError("ERR Unexpected flag in script shebang: " + _text(flag))
            flags.add(name)
    return end, frozenset(flags)


def script_cmd_flags(cmd_flags: int, script_flags: frozenset) -> int:
    """Redis's scriptFlagsToCmdFlags: the flags the server judges EVAL or FCALL by (OOM,
    READONLY, MASTERDOWN...) once its script or function has declared flags."""
    cmd_flags &= ~(STALE | DENYOOM | WRITE | MAY_REPLICATE)
    if "allow-oom" not in script_flags and "no-writes" not in script_flags:
        cmd_flags |= DENYOOM
    if "no-writes" not in script_flags:
        cmd_flags |= WRITE
    if "allow-stale" in script_flags:
        cmd_flags |= STALE
    return cmd_flags


def running_stale(server: Any) -> bool:
    """A replica cut off from its master that may not serve stale data."""
    if server is None:
        return False
    link = server.master_link
    return link is not None and link.state != "connected" \
        and not server.config["replica-serve-stale-data"]


def prepare_run(ctx: Context, script_flags: frozenset, ro: bool) -> None:
    """Redis's scriptPrepareForRun for a script with declared flags (or a function): refuse
    it, with Redis's texts, when what it declares does not fit the server's state."""
    client = ctx.client
    server = getattr(client, "server", None)
    master = server is not None and client.is_master
    link = server.master_link if server is not None else None
    if "allow-stale" not in script_flags and running_stale(server):
        raise CommandError("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is "
                           "set to 'no' and 'allow-stale' flag is not set on the script.")
    if "no-writes" not in script_flags:
        if link is not None and server.config["replica-read-only"] and not master:
            raise CommandError("READONLY Can not run script with write flag on readonly replica")
        p = server.persistence if server is not None else None
        if p is not None and p.write_error is not None and not master:
            raise CommandError(p.misconf_text())
        if ro:
            raise CommandError("ERR Can not execute a script with write flag using *_ro "
                               "command.")
        if server is not None and not server.replication.enough_replicas():
            raise CommandError("NOREPLICAS Not enough good replicas to write.")
        if "allow-oom" not in script_flags and server is not None \
                and server.memory.maxmemory > 0 and not master \
                and not server.memory.make_room():
            raise CommandError("OOM allow-oom flag is not set on the script, can not run it "
                               "when used memory > 'maxmemory'")


def scripts_of(ks) -> Scripts:
    scripts = getattr(ks, "scripts", None)
    if scripts is None:
        scripts = ks.scripts = Scripts(ks)
    return scripts


def numkeys_keys(argv: list[bytes]) -> list[bytes]:
    """The keys of `<command> <script or name> numkeys key ... arg ...` (EVAL, FCALL, ...)."""
    try:
        n = parse_int(argv[2])
    except ValueError:
        return []
    return argv[3 : 3 + n] if 0 <= n <= len(argv) - 3 else []


def numkeys_of(argv: list[bytes], not_integer: str) -> int:
    """argv[2] as the number of keys, checked as Redis checks it."""
    try:
        numkeys = parse_int(argv[2])
    except ValueError:
        raise CommandError(not_integer) from None
    if numkeys > len(argv) - 3:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    if numkeys < 0:
        raise CommandError("ERR Number of keys can't be negative")
    return numkeys


def _eval(ctx: Context, argv: list[bytes], by_sha: bool, readonly: bool) -> Any:
    if by_sha and len(argv[1]) != 40:
        raise NoScriptError(NOSCRIPT_TEXT)
    numkeys = numkeys_of(argv, NOT_INTEGER)
    scripts = scripts_of(ctx.ks)
    if by_sha:
        sha = argv[1].decode("latin-1").lower()  # (the length was checked first)
        fn = scripts.loaded.get(sha)
        if fn is None:
            raise NoScriptError(NOSCRIPT_TEXT)
    else:
        sha, fn = scripts.load(argv[1], True)
    flags = scripts.flags.get(sha)
    if flags is not None:
        prepare_run(ctx, flags, readonly)
        readonly = readonly or "no-writes" in flags
    elif running_stale(getattr(ctx.client, "server", None)):
        # Without a shebang (Redis's compatibility mode) EVAL passes the server's check as a
        # STALE command, then its script is refused as a whole.
        raise CommandError(MASTERDOWN)

    allow_oom = flags is not None and "allow-oom" in flags
    mode = getattr(ctx.client, "ldb", None)
    if mode is None or ctx.in_multi:
        return scripts.run(ctx, argv[0], sha, fn, numkeys, argv[3:], readonly, allow_oom=allow_oom)
    if by_sha:
        raise CommandError("ERR Please use EVAL instead of EVALSHA for debugging")
    from .scripting_ldb import debug_eval

    return debug_eval(ctx, argv[1], lambda session: scripts.run(
        ctx, argv[0], sha, fn, numkeys, argv[3:], readonly, allow_oom=allow_oom,
        session=session), mode)


def eval_cmd_flags(ctx: Context, argv: list[bytes], cmd_flags: int) -> int:
    """Redis's evalGetCommandFlags: EVAL's flags as its script's shebang declares them."""
    if len(argv) < 2:
        return cmd_flags
    by_sha = argv[0].lower().startswith(b"evalsha")
    scripts = getattr(ctx.ks, "scripts", None)
    if by_sha:
        if len(argv[1]) != 40 or scripts is None:
            return cmd_flags
        flags = scripts.flags.get(argv[1].decode("latin-1").lower())
    else:
        known = scripts.bodies.get(argv[1]) if scripts is not None else None
        sha = known[0] if known is not None else hashlib.sha1(argv[1]).hexdigest()
        if scripts is not None and sha in scripts.flags:
            flags = scripts.flags[sha]
        else:
            try:
                flags = parse_shebang(argv[1])[1]
            except CommandError:
                return cmd_flags
    return cmd_flags if flags is None else script_cmd_flags(cmd_flags, flags)


_EVAL_FLAGS = NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS


# MAY_REPLICATE (hidden from COMMAND INFO, as Redis hides it): a script may write, so CLIENT
# PAUSE WRITE holds EVAL and EVALSHA; the _RO forms run.
@command("eval", -3, _EVAL_FLAGS | MAY_REPLICATE, group="scripting", getkeys=numkeys_keys)
def eval_(ctx: Context, argv: list[bytes]):
    """EVAL script numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the script's.  Reply: the script's return value.
    """
    return _eval(ctx, argv, False, False)


@command("evalsha", -3, _EVAL_FLAGS | MAY_REPLICATE, group="scripting", getkeys=numkeys_keys)
def evalsha(ctx: Context, argv: list[bytes]):
    """EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the script's.  Reply: the script's return value; NOSCRIPT if not cached.
    """
    return _eval(ctx, argv, True, False)


@command("eval_ro", -3, READONLY | _EVAL_FLAGS, group="scripting", getkeys=numkeys_keys)
def eval_ro(ctx: Context, argv: list[bytes]):
    """EVAL_RO script numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the script's.  Reply: the script's return value; writes are refused.
    """
    return _eval(ctx, argv, False, True)


@command("evalsha_ro", -3, READONLY | _EVAL_FLAGS, group="scripting", getkeys=numkeys_keys)
def evalsha_ro(ctx: Context, argv: list[bytes]):
    """EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the script's.  Reply: the script's return value; writes are refused.
    """
    return _eval(ctx, argv, True, True)


for _name in (b"eval", b"evalsha", b"eval_ro", b"evalsha_ro"):
    COMMANDS[_name].dynamic_flags = eval_cmd_flags


container("script", -2, group="scripting")


@command("script|load", 3, NOSCRIPT | STALE, group="scripting")
def script_load(ctx: Context, argv: list[bytes]):
    """SCRIPT LOAD script

    Complexity: O(N) with N the script's length.  Reply: the script's SHA1 digest.
    """
    sha, _ = scripts_of(ctx.ks).load(argv[2], False)
    return sha.encode()


@command("script|exists", -3, NOSCRIPT, group="scripting")
def script_exists(ctx: Context, argv: list[bytes]):
    """SCRIPT EXISTS sha1 [sha1 ...]

    Complexity: O(N) with N the number of digests.  Reply: array of 1 (cached) or 0.
    """
    scripts = getattr(ctx.ks, "scripts", None)
    loaded = scripts.loaded if scripts is not None else {}
    return [int(sha.decode("latin-1").lower() in loaded) for sha in argv[2:]]


@command("script|flush", -2, NOSCRIPT, group="scripting")
def script_flush(ctx: Context, argv: list[bytes]):
    """SCRIPT FLUSH [ASYNC|SYNC]

    Complexity: O(N) with N the number of cached scripts.  Reply: OK.
    """
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"async", b"sync")):
        raise CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
    scripts = getattr(ctx.ks, "scripts", None)
    if scripts is not None:
        scripts.flush()
    return OK


@command("script|kill", 2, NOSCRIPT | ALLOW_BUSY, group="scripting")
def script_kill(ctx: Context, argv: list[bytes]):
    """SCRIPT KILL

    Complexity: O(1).  Reply: OK once the script running past busy-reply-threshold is told to
    stop; NOTBUSY with none, UNKILLABLE once it wrote, BUSY for a function.
    """
    return kill_busy(ctx, True)


def busy_script(ctx: Context) -> Any:
    """The server's `Busy` (server/busy.py) while a script runs past busy-reply-threshold."""
    server = getattr(ctx.client, "server", None)
    return None if server is None else server.busy


def kill_busy(ctx: Context, by_eval: bool) -> Any:
    """SCRIPT KILL (`by_eval`) or FUNCTION KILL."""
    busy = busy_script(ctx)
    if busy is None:
        raise CommandError("NOTBUSY No scripts in execution right now.")
    busy.kill(by_eval)
    return OK


@command("script|debug", 3, NOSCRIPT, group="scripting")
def script_debug(ctx: Context, argv: list[bytes]):
    """SCRIPT DEBUG YES|SYNC|NO

    Complexity: O(1).  Reply: OK; the connection's next EVAL then runs under the Lua debugger
    (scripting_ldb.py), in a forked child (YES) or in the server, which waits for it (SYNC).
    The embedded store has no connection to debug on: only NO.
    """
    client = ctx.client
    if ctx.in_multi or (client is not None and client.out):
        # Redis: the debugger takes the connection over, so no reply may be waiting before it
        raise CommandError("ERR SCRIPT DEBUG must be called outside a pipeline")
    mode = argv[2].lower()
    if mode not in (b"yes", b"sync", b"no"):
        raise CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO")
    if mode != b"no" and getattr(client, "transport", None) is None:
        raise CommandError("ERR SCRIPT DEBUG YES and SYNC need a connection: the embedded "
                           "store has none to debug on")
    if client is not None and hasattr(client, "ldb"):
        client.ldb = None if mode == b"no" else mode.decode()
    return OK


_SCRIPT_HELP = [
    Status(line) for line in (
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    )
]


@command("script|help", 2, LOADING | STALE, group="scripting")
def script_help(ctx: Context, argv: list[bytes]):
    """SCRIPT HELP

    Reply: array of status lines.
    """
    return list(_SCRIPT_HELP)
