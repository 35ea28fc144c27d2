"""Redis 7 functions: FUNCTION LOAD DELETE FLUSH LIST STATS DUMP RESTORE KILL HELP, FCALL,
FCALL_RO (Redis 7.0 `functions.c`, `function_lua.c`).

A library is Lua code that starts with `#!lua name=<library>` and registers functions with
`redis.register_function`; FCALL runs one with its keys and arguments. Libraries live in a Lua
runtime of their own (`Functions.engine`, a `scripting.Scripts` whose code is "user_function"),
so SCRIPT FLUSH leaves them, as in Redis; FLUSHALL does too.

Unlike scripts, libraries are data: FUNCTION LOAD, DELETE, FLUSH and RESTORE are writes (the
AOF and replicas get them as sent), snapshots and AOF bases hold every library's code (record
type FUNCTION_RECORD, persistence/snapshot.py), and the RDB files of SYNC carry them as Redis
7.0 does (opcode 245, engine/dump.py). FUNCTION DUMP's payload is Redis's too, so libraries
move between Redis and kvstore with DUMP / RESTORE.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from ..engine import rdb
from ..engine.glob import match
from ..errors import CommandError, ProtocolError, c_text, spaced, subcommand_syntax
from ..replies import OK, SetReply, Status
from .scripting import (Scripts, busy_script, kill_busy, numkeys_keys, numkeys_of, prepare_run,
                        script_cmd_flags)
from .table import (
    ALLOW_BUSY, DENYOOM, LOADING, MAY_REPLICATE, NO_MANDATORY_KEYS, NOSCRIPT, READONLY, SKIP_MONITOR,
    STALE, WRITE, Context, COMMANDS, command, container,
)

FUNCTION_OPCODE = 245  # RDB_OPCODE_FUNCTION2: a library's code, in FUNCTION DUMP and RDB files
BAD_NAME = ("ERR Library names can only contain letters, numbers, or underscores(_) and must be "
            "at least one character long")


class Function:
    __slots__ = ("name", "callback", "flags", "flag_set", "description", "library")

    def __init__(self, name: str, callback: Any, flags: list[str], description: bytes | None,
                 library: str) -> None:
        self.name = name
        self.callback = callback
        self.flags = flags  # as registered, for FUNCTION LIST
        self.flag_set = frozenset(flags)
        self.description = description
        self.library = library


class Library:
    __slots__ = ("name", "code", "functions")

    def __init__(self, name: str, code: bytes, functions: dict[str, Function]) -> None:
        self.name = name
        self.code = code
        self.functions = functions


def _valid(name: str) -> bool:
    return bool(name) and all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _metadata(code: bytes) -> str:
    """The library name of `#!lua name=<name>` (Redis functionExtractLibMetaData: the shebang
    line, up to a newline it must have, split as sdssplitargs splits)."""
    from ..protocol.request import split_inline

    if not code.startswith(b"#!"):
        raise CommandError("ERR Missing library metadata")
    line, newline, _ = code.partition(b"\n")
    try:
        # (Redis reads the code as a C string there: a NUL before the newline hides it)
        parts = split_inline(line) if newline and b"\0" not in line else []
    except ProtocolError:
        parts = []
    if not parts:
        raise CommandError("ERR Invalid library metadata")
    engine = c_text(parts[0][2:])
    if engine.lower() != "lua":
        raise CommandError(f"ERR Engine '{engine}' not found")
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                raise CommandError("ERR Invalid metadata value, name argument was given "
                                   "multiple times")
            name = part[5:].decode("utf-8", "surrogateescape")
        else:
            raise CommandError(f"ERR Invalid metadata value given: {c_text(part)}")
    if name is None:
        raise CommandError("ERR Library name was not given")
    if not _valid(name):
        raise CommandError(BAD_NAME)
    return name


class Functions:
    """The libraries of one keyspace (`functions_of`)."""

    def __init__(self, ks) -> None:
        self.engine = Scripts(ks, b"@user_function")
        self.libraries: dict[str, Library] = {}
        self.functions: dict[str, Function] = {}

    def load(self, code: bytes, replace: bool = False) -> str:
        """FUNCTION LOAD: compile and run the library's code; returns its name."""
        name = _metadata(code)
        old = self.libraries.get(name)
        if old is not None and not replace:
            raise CommandError(f"ERR Library '{name}' already exists")
        body = b"\n" + code.split(b"\n", 1)[1] if b"\n" in code else b""  # (line numbers kept)
        registered = self.engine.load_library(body, name)
        functions: dict[str, Function] = {}
        for entry in registered.values():
            fname = entry[1].decode("utf-8", "surrogateescape")
            flags = [f.decode() for f in entry[3].values()]
            if fname.lower() in functions:
                raise CommandError("ERR Error registering functions: ERR Function already "
                                   "exists in the library")
            functions[fname.lower()] = Function(fname, entry[2], flags, entry[4], name)
        if not functions:
            raise CommandError("ERR No functions registered")
        for key, fn in functions.items():
            other = self.functions.get(key)
            if other is not None and other.library != name:
                raise CommandError(f"ERR Function {fn.name} already exists")
        if old is not None:
            self._remove(old)
        self.libraries[name] = Library(name, code, functions)
        self.functions.update(functions)
        return name

    def _remove(self, library: Library) -> None:
        del self.libraries[library.name]
        for key in library.functions:
            self.functions.pop(key, None)

    def delete(self, name: str) -> None:
        library = self.libraries.get(name)
        if library is None:
            raise CommandError("ERR Library not found")
        self._remove(library)

    def flush(self) -> None:
        self.libraries.clear()
        self.functions.clear()
        self.engine.flush()

    def dump(self) -> bytes:
        return rdb.frame(b"".join(bytes((FUNCTION_OPCODE,)) + rdb.rdb_string(lib.code)
                                  for lib in self.libraries.values()))

    def restore(self, payload: bytes, policy: str, check_crc: bool = True) -> None:
        body = rdb.unframe(payload, check_crc)
        if body is None:
            raise CommandError("ERR DUMP payload version or checksum are wrong")
        codes = []
        reader = rdb._Reader(body)
        try:
            while reader.pos < len(body):
                if reader.byte() != FUNCTION_OPCODE:
                    raise CommandError("ERR given type is not a function")
                codes.append(reader.string())
        except rdb.RdbFormatError:
            raise CommandError("ERR DUMP payload version or checksum are wrong") from None
        saved = (dict(self.libraries), dict(self.functions))
        try:
            if policy == "flush":
                self.libraries.clear()
                self.functions.clear()
            for code in codes:
                if policy == "append" and _metadata(code) in self.libraries:
                    raise CommandError(f"ERR Library {_metadata(code)} already exists")
                self.load(code, replace=policy == "replace")
        except CommandError:
            self.libraries, self.functions = saved  # all or nothing, as Redis
            raise


def functions_of(ks) -> Functions:
    functions = getattr(ks, "functions", None)
    if functions is None:
        functions = ks.functions = Functions(ks)
    return functions


# -- FCALL --------------------------------------------------------------------------------------


def _fcall(ctx: Context, argv: list[bytes], readonly: bool) -> Any:
    functions = functions_of(ctx.ks)
    # (names compare without case, as in Redis's dict of functions; bytes.lower() is ASCII's)
    fn = functions.functions.get(argv[1].lower().decode("utf-8", "surrogateescape"))
    if fn is None:
        raise CommandError("ERR Function not found")
    numkeys = numkeys_of(argv, "ERR Bad number of keys provided")
    prepare_run(ctx, fn.flag_set, readonly)
    return functions.engine.run(ctx, argv[0], fn.name, fn.callback, numkeys, argv[3:],
                                readonly or "no-writes" in fn.flag_set, function=True,
                                allow_oom="allow-oom" in fn.flag_set)


def fcall_cmd_flags(ctx: Context, argv: list[bytes], cmd_flags: int) -> int:
    """Redis's fcallGetCommandFlags: FCALL's flags as its function declares them."""
    functions = getattr(ctx.ks, "functions", None)
    fn = functions.functions.get(argv[1].lower().decode("utf-8", "surrogateescape")) \
        if functions is not None and len(argv) > 1 else None
    return cmd_flags if fn is None else script_cmd_flags(cmd_flags, fn.flag_set)


_FCALL_FLAGS = NOSCRIPT | SKIP_MONITOR | STALE | NO_MANDATORY_KEYS


@command("fcall", -3, _FCALL_FLAGS | MAY_REPLICATE, group="scripting", getkeys=numkeys_keys)
def fcall(ctx: Context, argv: list[bytes]):
    """FCALL function numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the function's.  Reply: the function's return value.
    """
    return _fcall(ctx, argv, False)


@command("fcall_ro", -3, READONLY | _FCALL_FLAGS, group="scripting", getkeys=numkeys_keys)
def fcall_ro(ctx: Context, argv: list[bytes]):
    """FCALL_RO function numkeys [key [key ...]] [arg [arg ...]]

    Complexity: the function's.  Reply: the function's return value (no-writes functions).
    """
    return _fcall(ctx, argv, True)


for _name in (b"fcall", b"fcall_ro"):
    COMMANDS[_name].dynamic_flags = fcall_cmd_flags


# -- FUNCTION ----------------------------------------------------------------------------------

container("function", -2, group="scripting")


@command("function|load", -3, WRITE | DENYOOM | NOSCRIPT, group="scripting")
def function_load(ctx: Context, argv: list[bytes]):
    """FUNCTION LOAD [REPLACE] function-code

    Complexity: O(1) beyond running the code.  Reply: the library's name.
    """
    replace = False
    for arg in argv[2:-1]:
        if arg.lower() == b"replace":
            replace = True
        else:
            raise CommandError(f"ERR Unknown option given: {c_text(arg)}")
    name = functions_of(ctx.ks).load(argv[-1], replace)
    ctx.ks.dirty += 1
    return name.encode()


@command("function|delete", 3, WRITE | NOSCRIPT, group="scripting")
def function_delete(ctx: Context, argv: list[bytes]):
    """FUNCTION DELETE library-name

    Complexity: O(1).  Reply: OK.
    """
    functions_of(ctx.ks).delete(argv[2].decode("utf-8", "surrogateescape"))
    ctx.ks.dirty += 1
    return OK


@command("function|flush", -2, WRITE | NOSCRIPT, group="scripting")
def function_flush(ctx: Context, argv: list[bytes]):
    """FUNCTION FLUSH [ASYNC|SYNC]

    Complexity: O(N) libraries.  Reply: OK.
    """
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    if len(argv) == 3 and argv[2].lower() not in (b"async", b"sync"):
        raise CommandError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
    functions_of(ctx.ks).flush()
    ctx.ks.dirty += 1
    return OK


@command("function|list", -2, NOSCRIPT, group="scripting")
def function_list(ctx: Context, argv: list[bytes]):
    """FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]

    Complexity: O(N) functions.  Reply: one map per library (name, engine, functions, code).
    """
    pattern = None
    withcode = False
    i = 2
    while i < len(argv):
        arg = argv[i].lower()
        if arg == b"withcode" and not withcode:
            withcode = True
        elif arg == b"libraryname" and pattern is None:
            if i + 1 >= len(argv):
                raise CommandError("ERR library name argument was not given")
            i += 1
            pattern = argv[i]
        else:
            # (addReplyErrorSds: its line ends become spaces, none trimmed as in Format's)
            raise CommandError(f"ERR Unknown argument {spaced(c_text(argv[i]))}")
        i += 1
    out = []
    for lib in functions_of(ctx.ks).libraries.values():
        if pattern is not None and not match(pattern, lib.name.encode(), nocase=True):
            continue
        entry: dict[bytes, Any] = {
            b"library_name": lib.name.encode(), b"engine": b"LUA",
            b"functions": [{b"name": f.name.encode(), b"description": f.description,
                            b"flags": SetReply(Status(flag) for flag in f.flags)}
                           for f in lib.functions.values()],
        }
        if withcode:
            entry[b"library_code"] = lib.code
        out.append(entry)
    return out


@command("function|stats", 2, NOSCRIPT | ALLOW_BUSY, group="scripting")
def function_stats(ctx: Context, argv: list[bytes]):
    """FUNCTION STATS

    Complexity: O(1).  Reply: the function running past busy-reply-threshold (BUSY for a
    script run by EVAL) and counts per engine.
    """
    functions = functions_of(ctx.ks)
    running = None
    busy = busy_script(ctx)
    if busy is not None:
        if busy.is_eval:
            raise CommandError(busy.text)
        caller, numkeys, keys_and_args = busy.script.call
        running = {b"name": busy.script.sha.encode(),
                   b"command": [caller, busy.script.sha.encode(), b"%d" % numkeys,
                                *keys_and_args],
                   b"duration_ms": int((perf_counter() - busy.started) * 1000)}
    return {b"running_script": running,
            b"engines": {b"LUA": {b"libraries_count": len(functions.libraries),
                                  b"functions_count": len(functions.functions)}}}


@command("function|dump", 2, NOSCRIPT, group="scripting")
def function_dump(ctx: Context, argv: list[bytes]):
    """FUNCTION DUMP

    Complexity: O(N) libraries.  Reply: every library as a Redis payload.
    """
    return functions_of(ctx.ks).dump()


@command("function|restore", -3, WRITE | DENYOOM | NOSCRIPT, group="scripting")
def function_restore(ctx: Context, argv: list[bytes]):
    """FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE]

    Complexity: O(N) libraries.  Reply: OK.
    """
    if len(argv) > 4:
        raise subcommand_syntax(argv)
    if len(argv) == 4 and argv[3].lower() not in (b"flush", b"append", b"replace"):
        raise CommandError("ERR Wrong restore policy given, value should be either FLUSH, "
                           "APPEND or REPLACE.")
    policy = argv[3].lower().decode() if len(argv) == 4 else "append"
    functions_of(ctx.ks).restore(argv[2], policy, not ctx.ks.skip_checksum_validation)
    ctx.ks.dirty += 1
    return OK


@command("function|kill", 2, NOSCRIPT | ALLOW_BUSY, group="scripting")
def function_kill(ctx: Context, argv: list[bytes]):
    """FUNCTION KILL

    Complexity: O(1).  Reply: OK once the function running past busy-reply-threshold is told
    to stop; NOTBUSY with none, UNKILLABLE once it wrote, BUSY for a script run by EVAL.
    """
    return kill_busy(ctx, False)


_FUNCTION_HELP = [
    Status(line) for line in (
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME "
        "argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored "
        "using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a "
        "restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
        "abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
        "replace the old",
        "      libraries with the new libraries (notice that even on this option there is a "
        "chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    )
]


@command("function|help", 2, LOADING | STALE, group="scripting")
def function_help(ctx: Context, argv: list[bytes]):
    """FUNCTION HELP

    Reply: array of status lines.
    """
    return list(_FUNCTION_HELP)
