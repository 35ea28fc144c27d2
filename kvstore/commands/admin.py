"""Server administration commands: COMMAND, INFO, CONFIG, TIME, LASTSAVE, SLOWLOG, MONITOR,
SHUTDOWN and DEBUG (SLEEP, SET-ACTIVE-EXPIRE, POPULATE).

COMMAND replies are built from the command table (DESIGN decision 1), so they cannot drift from
what dispatch does. Server-wide state (config, stats, slowlog) lives on the `Server`, reached as
`ctx.client.server`; in the embedded store (`ctx.client` is None) the few commands that need it
answer from a default configuration.
"""

from __future__ import annotations

import json
import os
import time

from ..engine.glob import compile_glob
from ..errors import SYNTAX, CommandError, c_text, spaced, subcommand_syntax
from ..replies import (OK, Attribute, BigNumber, Bool, Error, Frames, Push, SetReply, Status,
                       Verbatim, text_reply)
from .args import to_int
from .keyspecs import keys_and_flags
from .table import (
    ADMIN, ALLOW_BUSY, BLOCKING, COMMANDS, FAST, LOADING, NO_MANDATORY_KEYS, NO_MULTI, NOSCRIPT,
    PUBSUB, READONLY, STALE, WRITE, Command, Context, command, container, every_command,
    merged_latency, reported,
)


# -- COMMAND --------------------------------------------------------------------------------------

container("command", -1, LOADING | STALE, group="server")

# A command's ACL categories: its group's (as Redis's command tables give them), those its table
# entry adds (`_ACL_EXTRA`, by command or by container for its subcommands), plus those Redis
# derives from its flags (setImplicitACLCategories), listed in Redis's order. The pubsub group
# has none of its own: @pubsub comes from the PUBSUB flag, so PUBSUB HELP is only @slow. A
# container (CLIENT, OBJECT...) is only @slow (COMMAND @connection too, as it runs alone): its
# subcommands carry the categories.
_GROUP_CATEGORY = {"string": "@string", "hash": "@hash", "list": "@list", "set": "@set",
                   "sorted_set": "@sortedset", "sorted-set": "@sortedset", "zset": "@sortedset",
                   "bitmap": "@bitmap", "generic": "@keyspace", "keys": "@keyspace",
                   "connection": "@connection", "transactions": "@transaction",
                   "hyperloglog": "@hyperloglog", "geo": "@geo", "scripting": "@scripting",
                   "stream": "@stream"}
_ACL_EXTRA = {"command": ("@connection",), "readonly": ("@connection",),
              "readwrite": ("@connection",), "asking": ("@connection",),
              "dbsize": ("@keyspace",), "flushall": ("@keyspace", "@dangerous"),
              "flushdb": ("@keyspace", "@dangerous"), "swapdb": ("@keyspace", "@dangerous"),
              "info": ("@dangerous",), "keys": ("@dangerous",), "migrate": ("@dangerous",),
              "restore": ("@dangerous",), "restore-asking": ("@dangerous",),
              "lastsave": ("@admin", "@dangerous"),
              "role": ("@admin", "@dangerous")}
# SORT reads lists, sets and sorted sets: those categories instead of its group's @keyspace
_ACL_ONLY = {"sort": ("@set", "@sortedset", "@list", "@dangerous"),
             "sort_ro": ("@set", "@sortedset", "@list", "@dangerous")}
_CATEGORY_ORDER = ("@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash",
                   "@string", "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin",
                   "@fast", "@slow", "@blocking", "@dangerous", "@connection", "@transaction",
                   "@scripting")


def _categories(cmd: Command) -> list[str]:
    flags = cmd.flags
    name = cmd.name
    if _subcommands(cmd):
        return [c for c in _CATEGORY_ORDER if c == "@slow" or c in _ACL_EXTRA.get(name, ())]
    cats = {"@fast" if flags & FAST else "@slow", *_ACL_EXTRA.get(name.split("|")[0], ())}
    cats.update(_ACL_ONLY.get(name) or (_GROUP_CATEGORY.get(cmd.group),))
    for flag, implied in ((WRITE, "@write"), (READONLY, "@read"), (ADMIN, "@admin"),
                          (ADMIN, "@dangerous"), (PUBSUB, "@pubsub"), (BLOCKING, "@blocking")):
        if flags & flag:
            cats.add(implied)
    if "@scripting" in cats:  # a read-only script may still write: never implicitly @read
        cats.discard("@read")
    return [c for c in _CATEGORY_ORDER if c in cats]


def _info(cmd: Command) -> list:
    """One COMMAND INFO entry: name, arity, flags, first, last, step, ACL categories, tips, key
    specs, subcommands (Redis 7 layout, with its RESP3 types: sets, but an array for a
    container's subcommands). A command whose keys a function finds is `movablekeys`, as in
    Redis, so that cluster clients ask COMMAND GETKEYS for them."""
    ks = cmd.keyspec
    # A container's flags are its own only when it runs alone (bare COMMAND), as in Redis.
    flags = cmd.flag_names() if cmd.handler is not None or not _subcommands(cmd) else []
    subs = [_info(s) for s in _subcommands(cmd)] or SetReply()
    meta = _redis_meta()["info"].get(cmd.name)
    tips, specs = (meta[b"tips"], meta[b"key_specs"]) if meta else (SetReply(), SetReply())
    return [cmd.name.encode(), cmd.arity, SetReply(Status(f) for f in flags),
            ks.first, ks.last, ks.step, SetReply(Status(c) for c in _categories(cmd)),
            tips, specs, subs]


def _docs(cmd: Command) -> dict:
    meta = _redis_meta()["docs"].get(cmd.name)
    if meta is not None:
        doc = dict(meta)
    else:  # a command Redis does not have: what the table knows
        doc = {b"summary": cmd.summary.encode(), b"since": b"1.0.0",
               b"group": (cmd.group or "generic").encode(), b"complexity": b""}
    subs = _subcommands(cmd)
    if subs:
        doc[b"subcommands"] = {s.name.encode(): _docs(s) for s in subs}
    return doc


def _subcommands(cmd: Command) -> list[Command]:
    """The subcommands COMMAND lists for `cmd` (Redis lists them in its hash table's order,
    which changes from one process to the next)."""
    if cmd.one_command:
        return []
    return list(cmd.subcommands.values())


def _listed():
    """Every command COMMAND lists, each container followed by its subcommands."""
    for cmd in COMMANDS.values():
        yield cmd
        yield from _subcommands(cmd)


_META: dict | None = None


def _redis_meta() -> dict:
    """Redis's own descriptions of its commands (COMMAND DOCS; COMMAND INFO's tips and key
    specs), by command name ("parent|sub" for a subcommand), as reply values. Read once, on
    first use: redis_commands.json (see tests/compat/gen_command_docs.py for its format)."""
    global _META
    if _META is None:
        with open(os.path.join(os.path.dirname(__file__), "redis_commands.json"), "rb") as f:
            raw = json.load(f)
        _META = {section: {name: _reply(entry) for name, entry in raw[section].items()}
                 for section in ("docs", "info")}
    return _META


def _reply(value):
    """A tagged JSON value of redis_commands.json as a reply value."""
    if type(value) is str:
        return value.encode()
    if type(value) is list:
        return [_reply(v) for v in value]
    if type(value) is dict:
        if "~" in value and len(value) == 1:
            return SetReply(_reply(v) for v in value["~"])
        if "+" in value and len(value) == 1:
            return Status(value["+"])
        return {k.encode(): _reply(v) for k, v in value.items()}
    return value


@command("command|count", 2, LOADING | STALE, group="server")
def command_count(ctx: Context, argv: list[bytes]):
    """COMMAND COUNT"""
    return len(COMMANDS)


@command("command|list", -2, LOADING | STALE, group="server")
def command_list(ctx: Context, argv: list[bytes]):
    """COMMAND LIST [FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]"""
    if len(argv) == 2:  # every command, and (as Redis lists them) every subcommand
        out = []
        for n, c in COMMANDS.items():
            out.append(n)
            out += [s.name.encode() for s in _subcommands(c)]
        return out
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(SYNTAX)
    kind, arg = argv[3].lower(), argv[4]
    if kind == b"module":
        return []
    if kind == b"aclcat":
        cat = "@" + arg.decode("utf-8", "replace").lower()
        return [c.name.encode() for c in _listed() if cat in _categories(c)]
    if kind == b"pattern":
        matches = compile_glob(arg, nocase=True)  # Redis: stringmatchlen(..., nocase=1)
        out = []
        for n, c in COMMANDS.items():
            if matches(n):
                out.append(n)
            out += [s.name.encode() for s in _subcommands(c) if matches(s.name.encode())]
        return out
    raise CommandError(SYNTAX)


@command("command|info", -2, LOADING | STALE, group="server")
def command_info(ctx: Context, argv: list[bytes]):
    """COMMAND INFO [command-name [command-name ...]]"""
    if len(argv) == 2:
        return [_info(c) for c in COMMANDS.values()]
    return [_info(c) if c is not None else None for c in map(_find, argv[2:])]


def _find(name: bytes) -> Command | None:
    if b"|" in name:
        parent, sub = name.lower().split(b"|", 1)
        p = COMMANDS.get(parent)
        return p.subcommands.get(sub) if p is not None and _subcommands(p) else None
    return COMMANDS.get(name.lower())


@command("command|docs", -2, LOADING | STALE, group="server")
def command_docs(ctx: Context, argv: list[bytes]):
    """COMMAND DOCS [command-name [command-name ...]]"""
    if len(argv) == 2:
        return {n: _docs(c) for n, c in COMMANDS.items()}
    out = {}
    for name in argv[2:]:
        c = _find(name)
        if c is not None:
            out[name.lower()] = _docs(c)
    return out


def _keys_command(argv: list[bytes]) -> Command:
    """The command COMMAND GETKEYS[ANDFLAGS] asks about, checked as Redis checks it: known,
    with keys, then its arity."""
    sub = argv[2:]
    cmd = COMMANDS.get(sub[0].lower())
    if cmd is not None and cmd.subcommands and len(sub) > 1 and not cmd.one_command:
        cmd = cmd.subcommands.get(sub[1].lower())
    if cmd is None:
        raise CommandError("ERR Invalid command specified")
    if cmd.getkeys is None and (not cmd.keyspec.first or cmd.keyspec.not_key):
        raise CommandError("ERR The command has no key arguments")
    if cmd.arity > 0 and cmd.arity != len(sub) or len(sub) < -cmd.arity:
        raise CommandError("ERR Invalid number of arguments specified for command")
    return cmd


def _no_keys_found(cmd: Command) -> list:
    if not cmd.flags & NO_MANDATORY_KEYS:
        raise CommandError("ERR Invalid arguments specified for command")
    return []


def _keys_and_flags(cmd: Command, argv: list[bytes]) -> list[tuple[bytes, list[str]]]:
    """The keys of a command's argv with their key-spec flags, found as Redis finds them (its
    key specs, then its key functions); a command Redis lacks: the table's keys, no flags."""
    meta = _redis_meta()["info"].get(cmd.name)
    if meta is None:
        return [(key, []) for key in cmd.keys(argv)]
    return [(argv[pos], flags) for pos, flags in keys_and_flags(cmd.name, meta[b"key_specs"],
                                                                argv)]


@command("command|getkeys", -4, LOADING | STALE, group="server")
def command_getkeys(ctx: Context, argv: list[bytes]):
    """COMMAND GETKEYS command [arg [arg ...]]"""
    cmd = _keys_command(argv)
    return [key for key, _ in _keys_and_flags(cmd, argv[2:])] or _no_keys_found(cmd)


@command("command|getkeysandflags", -4, LOADING | STALE, group="server")
def command_getkeysandflags(ctx: Context, argv: list[bytes]):
    """COMMAND GETKEYSANDFLAGS command [arg [arg ...]]"""
    cmd = _keys_command(argv)
    return [[key, SetReply(Status(f) for f in flags)]
            for key, flags in _keys_and_flags(cmd, argv[2:])] or _no_keys_found(cmd)


@command("command|help", 2, LOADING | STALE, group="server")
def command_help(ctx: Context, argv: list[bytes]):
    """COMMAND HELP"""
    lines = ["COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "(no subcommand)", "    Return details about all Redis commands.",
             "COUNT", "    Return the total number of commands in this Redis server.",
             "LIST", "    Return a list of all commands in this Redis server.",
             "INFO [<command-name> ...]",
             "    Return details about multiple Redis commands.",
             "    If no command names are given, documentation details for all",
             "    commands are returned.",
             "DOCS [<command-name> ...]",
             "    Return documentation details about multiple Redis commands.",
             "    If no command names are given, documentation details for all",
             "    commands are returned.",
             "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
             "GETKEYSANDFLAGS <full-command>",
             "    Return the keys and the access flags from a full Redis command.",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]


def _command_all(ctx: Context, argv: list[bytes]):
    """COMMAND"""
    return [_info(c) for c in COMMANDS.values()]


# Bare COMMAND (no subcommand) lists everything: the container's own handler, which
# `table.lookup` runs when a container with a handler gets no subcommand.
COMMANDS[b"command"].handler = _command_all
COMMANDS[b"command"].summary = "COMMAND"


# -- INFO -----------------------------------------------------------------------------------------

@command("info", -1, LOADING | STALE, group="server")
def info(ctx: Context, argv: list[bytes]):
    """INFO [section [section ...]]"""
    from ..server.info import info_text

    sections = [a.decode("utf-8", "replace").lower() for a in argv[1:]]
    return text_reply(ctx.resp, info_text(ctx, sections))


# -- CONFIG ---------------------------------------------------------------------------------------

container("config", -2, group="server")


def _config(ctx: Context):
    """The Config in force: the server's, or one per embedded keyspace, created on first use,
    whose encoding thresholds apply to that keyspace as CONFIG SET changes them."""
    cfg = getattr(ctx.ks, "server_config", None)
    if cfg is None:
        from ..server.config import THRESHOLDS, Config

        cfg = ctx.ks.server_config = Config()
        limits = ctx.ks.limits
        for name, attr in THRESHOLDS:
            cfg.on_change(name, lambda v, attr=attr: setattr(limits, attr, v))
    return cfg


@command("config|get", -3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def config_get(ctx: Context, argv: list[bytes]):
    """CONFIG GET parameter [parameter ...]"""
    found = _config(ctx).matching(*(a.decode("utf-8", "surrogateescape") for a in argv[2:]))
    return {name.encode("utf-8", "surrogateescape"): value.encode("utf-8", "surrogateescape")
            for name, value in found.items()}


@command("config|set", -4, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def config_set(ctx: Context, argv: list[bytes]):
    """CONFIG SET parameter value [parameter value ...]"""
    from ..server.client import protected_action_allowed
    from ..server.config import BY_NAME, ConfigError

    if len(argv) % 2:
        raise CommandError(SYNTAX)
    cfg = _config(ctx)
    pairs = []
    seen = set()
    # As Redis's configSetCommand: every name is checked first (the first unknown, immutable,
    # protected or repeated one is the error, named as spelled), then every value in order
    # (named as the option table does: lowercase, an alias as the alias).
    for i in range(2, len(argv), 2):
        raw = argv[i].decode("utf-8", "replace")
        opt = BY_NAME.get(raw.lower())
        if opt is None:
            raise CommandError(f"ERR Unknown option or number of arguments for CONFIG SET - "
                               f"'{raw}'")
        why = ""
        if not opt.mutable:
            why = "can't set immutable config"
        elif opt.protected and not protected_action_allowed(cfg["enable-protected-configs"],
                                                           ctx.client):
            why = "can't set protected config"
        elif opt.deny_loading and _loading(ctx):
            raise _loading_error()
        # An alias and its name are two parameters to Redis: both apply, the later one wins.
        elif raw.lower() in seen:
            why = "duplicate parameter"
        if why:
            raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{raw}') - "
                               f"{why}")
        seen.add(raw.lower())
        pairs.append((raw.lower(), opt, argv[i + 1].decode("utf-8", "surrogateescape")))
    # Validate every value before applying any: CONFIG SET is all or nothing.
    for name, opt, text in pairs:
        try:
            opt.convert(text)
        except ConfigError as exc:
            raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{name}') "
                               f"- {exc}") from None
    applied = []
    try:
        for name, opt, text in pairs:
            # What puts it back: its value; for one in force outside the table (dir, "." until
            # changed), its value as CONFIG GET shows it, which is how Redis backs up every one
            old = opt.convert(cfg.text(opt.name)) if opt.effect else cfg.values[opt.name]
            try:
                cfg.set(name, text)
            except ConfigError as exc:  # its effect failed (dir: chdir)
                raise CommandError(f"ERR CONFIG SET failed (possibly related to argument "
                                   f"'{name}') - {exc}") from None
            applied.append((opt.name, old))
    except CommandError:  # one could not be applied (a port in use): undo the others, as Redis
        for name, old in reversed(applied):
            cfg.restore(name, old)
        raise
    return OK


@command("config|resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def config_resetstat(ctx: Context, argv: list[bytes]):
    """CONFIG RESETSTAT"""
    for c in every_command():
        c.calls = c.failed = c.rejected = 0
        c.seconds = 0.0
        c.latency.clear()
        del c.durations[:]
    if ctx.client is not None:
        from ..server.server import Stats

        ctx.client.server.stats = Stats()
    ctx.ks.reset_stats()
    from ..persistence.manager import fork_stats

    # Redis's resetServerStats: fork count and time, and the saves and rewrites done
    fork_stats["total"] = fork_stats["latest_usec"] = 0
    persistence = getattr(ctx.ks, "persistence", None)
    if persistence is not None:
        persistence.saves = persistence.rewrites = 0
    return OK


@command("config|rewrite", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def config_rewrite(ctx: Context, argv: list[bytes]):
    """CONFIG REWRITE"""
    from ..server.config import ConfigError

    try:
        _rewrite_config(ctx, False)
    except ConfigError as exc:
        raise CommandError(f"ERR {exc}") from None
    except OSError as exc:
        raise CommandError(f"ERR Rewriting config file: {exc.strerror}") from None
    return OK


def _rewrite_config(ctx: Context, force_all: bool) -> None:
    from .acl import registry

    config = _config(ctx)
    # The users, as `user` lines, unless they live in an ACL file (Redis's
    # rewriteConfigUserOption): then the file's `user` lines are dropped.
    users = [] if config["aclfile"] else [
        u.describe() for _, u in sorted(registry(ctx).users.items())]
    config.rewrite(users, force_all)


@command("config|help", 2, LOADING | STALE, group="server")
def config_help(ctx: Context, argv: list[bytes]):
    """CONFIG HELP"""
    lines = ["CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their "
             "values.", "SET <directive> <value>", "    Set the configuration <directive> to "
             "<value>.", "RESETSTAT", "    Reset statistics reported by the INFO command.",
             "REWRITE", "    Rewrite the configuration file.", "HELP", "    Prints this help."]
    return [Status(x) for x in lines]


# -- TIME, LASTSAVE -------------------------------------------------------------------------------

@command("time", 1, LOADING | STALE | FAST, group="server")
def time_(ctx: Context, argv: list[bytes]):
    """TIME"""
    ns = time.time_ns()
    return [str(ns // 1_000_000_000).encode(), str(ns // 1000 % 1_000_000).encode()]


@command("lastsave", 1, LOADING | STALE | FAST, group="server")
def lastsave(ctx: Context, argv: list[bytes]):
    """LASTSAVE"""
    persistence = getattr(ctx.ks, "persistence", None)
    if persistence is not None:
        return persistence.lastsave
    if ctx.client is not None:
        return ctx.client.server.lastsave
    return int(time.time())


# -- SLOWLOG --------------------------------------------------------------------------------------

container("slowlog", -2, ADMIN | LOADING | STALE, group="server")


def _slowlog(ctx: Context):
    return ctx.client.server.slowlog if ctx.client is not None else []


@command("slowlog|get", -2, ADMIN | LOADING | STALE, group="server")
def slowlog_get(ctx: Context, argv: list[bytes]):
    """SLOWLOG GET [count]"""
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    count = 10
    if len(argv) == 3:
        count = to_int(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise CommandError("ERR count should be greater than or equal to -1")
    entries = list(_slowlog(ctx))
    if count != -1:
        entries = entries[:count]
    return [[e[0], e[1], e[2], list(e[3]), e[4], e[5]] for e in entries]


@command("slowlog|len", 2, ADMIN | LOADING | STALE, group="server")
def slowlog_len(ctx: Context, argv: list[bytes]):
    """SLOWLOG LEN"""
    return len(_slowlog(ctx))


@command("slowlog|reset", 2, ADMIN | LOADING | STALE, group="server")
def slowlog_reset(ctx: Context, argv: list[bytes]):
    """SLOWLOG RESET"""
    if ctx.client is not None:
        ctx.client.server.slowlog.clear()
    return OK


@command("slowlog|help", 2, LOADING | STALE, group="server")
def slowlog_help(ctx: Context, argv: list[bytes]):
    """SLOWLOG HELP"""
    lines = ["SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 "
             "mean all).", "    Entries are made of:",
             "    id, timestamp, time in microseconds, arguments array, client IP and port,",
             "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
             "    Reset the slowlog.", "HELP", "    Prints this help."]
    return [Status(x) for x in lines]


# -- LATENCY --------------------------------------------------------------------------------------

container("latency", -2, group="server")

_LATENCY = ADMIN | NOSCRIPT | LOADING | STALE


def _latency(ctx: Context):
    """The server's latency monitor; None in an embedded store, which times no command."""
    return ctx.client.server.latency if ctx.client is not None else None


@command("latency|latest", 2, _LATENCY, group="server")
def latency_latest(ctx: Context, argv: list[bytes]):
    """LATENCY LATEST"""
    monitor = _latency(ctx)
    return [] if monitor is None else monitor.latest()


@command("latency|history", 3, _LATENCY, group="server")
def latency_history(ctx: Context, argv: list[bytes]):
    """LATENCY HISTORY event"""
    monitor = _latency(ctx)
    return [] if monitor is None else monitor.history(argv[2].decode("utf-8", "surrogateescape"))


@command("latency|reset", -2, _LATENCY, group="server")
def latency_reset(ctx: Context, argv: list[bytes]):
    """LATENCY RESET [event ...]"""
    monitor = _latency(ctx)
    if monitor is None:
        return 0
    names = [a.decode("utf-8", "surrogateescape") for a in argv[2:]]
    return monitor.reset(names or None)


@command("latency|graph", 3, _LATENCY, group="server")
def latency_graph(ctx: Context, argv: list[bytes]):
    """LATENCY GRAPH event"""
    name = argv[2].decode("utf-8", "surrogateescape")
    monitor = _latency(ctx)
    graph = None if monitor is None else monitor.graph(name)
    if graph is None:
        raise CommandError(f"ERR No samples available for event '{c_text(argv[2], 128)}'")
    return text_reply(ctx.resp, graph)


@command("latency|doctor", 2, _LATENCY, group="server")
def latency_doctor(ctx: Context, argv: list[bytes]):
    """LATENCY DOCTOR"""
    from ..server.latency import LatencyMonitor

    monitor = _latency(ctx)
    if monitor is None:
        return text_reply(ctx.resp, LatencyMonitor().doctor(0, 10))
    cfg = ctx.client.server.config
    return text_reply(ctx.resp, monitor.doctor(cfg["slowlog-log-slower-than"], cfg["hz"]))


@command("latency|histogram", -2, _LATENCY, group="server")
def latency_histogram(ctx: Context, argv: list[bytes]):
    """LATENCY HISTOGRAM [command ...]: for each command with recorded durations (all of
    them, or those named: a container names its subcommands), {calls, histogram_usec}."""
    from ..server.latency import fold_all, histogram_usec

    fold_all()
    groups = dict(reported())
    if len(argv) == 2:
        chosen = list(groups)
    else:
        chosen = []
        for arg in argv[2:]:
            name = arg.lower().decode("utf-8", "replace")
            cmd = COMMANDS.get(arg.lower())
            if name in groups and cmd is not None and cmd.subcommands and not cmd.one_command:
                chosen += [s.name for s in cmd.subcommands.values()]  # a container: its own
            elif name in groups:
                chosen.append(name)
    out = {}
    for name in chosen:
        latency = merged_latency(groups[name])
        if latency:
            out[name.encode()] = {b"calls": sum(latency.values()),
                                  b"histogram_usec": histogram_usec(latency)}
    return out


@command("latency|help", 2, LOADING | STALE, group="server")
def latency_help(ctx: Context, argv: list[bytes]):
    """LATENCY HELP"""
    lines = ["LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "DOCTOR", "    Return a human readable latency analysis report.",
             "GRAPH <event>", "    Return an ASCII latency graph for the <event> class.",
             "HISTORY <event>", "    Return time-latency samples for the <event> class.",
             "LATEST", "    Return the latest latency samples for all events.",
             "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
             "    (default: reset all data for all event classes)",
             "HISTOGRAM [COMMAND ...]",
             "    Return a cumulative distribution of latencies in the format of a histogram "
             "for the specified command names.",
             "    If no commands are specified then all histograms are replied.",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]


# -- MONITOR, SHUTDOWN, DEBUG ---------------------------------------------------------------------

@command("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def monitor(ctx: Context, argv: list[bytes]):
    """MONITOR"""
    if ctx.client is not None:
        ctx.client.server.add_monitor(ctx.client)
    return OK


@command("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
         group="server")
def shutdown(ctx: Context, argv: list[bytes]):
    """SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]"""
    flags = set()
    for arg in argv[1:]:
        opt = arg.lower().decode("utf-8", "replace")
        if opt not in ("nosave", "save", "now", "force", "abort"):
            raise CommandError(SYNTAX)
        flags.add(opt)
    if ("nosave" in flags and "save" in flags) or ("abort" in flags and len(flags) > 1):
        raise CommandError(SYNTAX)
    if ctx.client is None:
        raise CommandError("ERR SHUTDOWN is only available on a server")
    client = ctx.client
    if "abort" in flags:  # (before the busy script's refusal, as in Redis)
        if not client.server.abort_shutdown():
            raise CommandError("ERR No shutdown in progress.")
        return OK
    busy = client.server.busy
    if busy is not None:  # a script past busy-reply-threshold: only NOSAVE, which stops it
        if "nosave" not in flags:
            raise CommandError(busy.text)
        busy.abandon()
    # The server stops at the end of this loop iteration and closes the connection without
    # a reply, or, if the final save fails, answers this client with Redis's error; the
    # client's next commands wait for that outcome (BLOCKED holds them).
    client.server.request_shutdown(flags, client)
    from ..server.client import BLOCKED, DROP_LAST

    client.state |= BLOCKED | DROP_LAST
    return OK


container("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, group="server", one_command=True)


@command("debug|error", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_error(ctx: Context, argv: list[bytes]):
    """DEBUG ERROR string"""
    # The string is the whole error line, with no code added: clients' tests make any error
    # with it (LOADING, READONLY, OOM...). Like Redis's, the reply is not a failure of the
    # command, so it is not counted in errorstats or failed_calls.
    text = argv[2].decode("utf-8", "surrogateescape")
    return Error(spaced(text))


@command("debug|sleep", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_sleep(ctx: Context, argv: list[bytes]):
    """DEBUG SLEEP seconds"""
    try:
        secs = float(argv[2])
    except ValueError:
        secs = 0.0
    time.sleep(max(secs, 0.0))  # blocks the whole server on purpose, as in Redis
    return OK


@command("debug|set-active-expire", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_set_active_expire(ctx: Context, argv: list[bytes]):
    """DEBUG SET-ACTIVE-EXPIRE <0 | 1>"""
    ctx.ks.active_expire_enabled = bool(to_int(argv[2]))
    return OK


@command("debug|set-skip-checksum-validation", 3, ADMIN | NOSCRIPT | LOADING | STALE,
         group="server")
def debug_set_skip_checksum_validation(ctx: Context, argv: list[bytes]):
    """DEBUG SET-SKIP-CHECKSUM-VALIDATION <0 | 1>: RESTORE ignores the payload's CRC."""
    ctx.ks.skip_checksum_validation = bool(to_int(argv[2]))
    return OK


@command("debug|aof-flush-sleep", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_aof_flush_sleep(ctx: Context, argv: list[bytes]):
    """DEBUG AOF-FLUSH-SLEEP <microseconds>: sleep before each write of the AOF buffer."""
    p = getattr(ctx.ks, "persistence", None)
    if p is not None:
        p.flush_sleep_us = max(to_int(argv[2]), 0)
    return OK


@command("debug|replicate", -3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_replicate(ctx: Context, argv: list[bytes]):
    """DEBUG REPLICATE <arg> [<arg> ...]: send that command to the replicas, run here or not."""
    if ctx.client is not None:
        ctx.client.server.replication.feed_as_is(argv[2:])
    return OK


@command("debug|pause-cron", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_pause_cron(ctx: Context, argv: list[bytes]):
    """DEBUG PAUSE-CRON <0 | 1>: stop the server's periodic work (active expiry, save rules,
    a signal's shutdown) until 0 again."""
    if ctx.client is not None:
        ctx.client.server.pause_cron(bool(to_int(argv[2])))
    return OK


@command("debug|config-rewrite-force-all", 2, ADMIN | NOSCRIPT | LOADING | STALE,
         group="server")
def debug_config_rewrite_force_all(ctx: Context, argv: list[bytes]):
    """DEBUG CONFIG-REWRITE-FORCE-ALL: CONFIG REWRITE writing every option, defaults too."""
    from ..server.config import ConfigError

    try:
        _rewrite_config(ctx, True)
    except ConfigError:  # (no config file: Redis's fopen(NULL) gives EFAULT's text)
        raise CommandError("ERR CONFIG-REWRITE-FORCE-ALL failed: Bad address") from None
    except OSError as exc:
        raise CommandError(f"ERR CONFIG-REWRITE-FORCE-ALL failed: {exc.strerror}") from None
    return OK


@command("debug|set-disable-deny-scripts", 3, ADMIN | NOSCRIPT | LOADING | STALE,
         group="server")
def debug_set_disable_deny_scripts(ctx: Context, argv: list[bytes]):
    """DEBUG SET-DISABLE-DENY-SCRIPTS <0 | 1> (not in DEBUG HELP, as in Redis): 1 lets scripts
    run the commands flagged noscript."""
    ctx.ks.scripts_deny_noscript = not to_int(argv[2])
    return OK


# Redis formats populate's keys into a 128-byte buffer, so a key is cut at 127 bytes.
_POPULATE_KEY_MAX = 127
_MUST_BE_POSITIVE = "ERR value is out of range, must be positive"


# WRITE (which Redis's DEBUG lacks) so that the front doors log the created keys to the AOF and
# count them in dirty; Redis 7.0 neither propagates them nor counts them.
@command("debug|populate", -2, ADMIN | NOSCRIPT | LOADING | STALE | WRITE, group="server")
def debug_populate(ctx: Context, argv: list[bytes]):
    """DEBUG POPULATE count [prefix] [size]

    Complexity: O(count). Reply: OK. Creates string keys <prefix>:<i> = "value:<i>" (zero-padded
    or cut to `size` bytes when size > 0), leaving existing keys alone.
    """
    if not 3 <= len(argv) <= 5:
        raise subcommand_syntax(argv)
    count = to_int(argv[2], _MUST_BE_POSITIVE)
    size = to_int(argv[4], _MUST_BE_POSITIVE) if len(argv) == 5 else 0
    if count < 0 or size < 0:
        raise CommandError(_MUST_BE_POSITIVE)
    prefix = argv[3].split(b"\0", 1)[0] if len(argv) >= 4 else b"key"  # a C string in Redis
    db = ctx.db
    now = ctx.now
    created = []
    for i in range(count):
        key = b"%b:%d" % (prefix, i)
        if len(key) > _POPULATE_KEY_MAX:
            key = key[:_POPULATE_KEY_MAX]
        if db.lookup(key, now) is not None:
            continue
        value = b"value:%d" % i
        if size:
            value = value[:size].ljust(size, b"\0")
        db.add(key, value)
        created.append([b"SET", key, value])
    if created:
        ctx.ks.dirty += len(created)
        ctx.effects = created
    return OK


@command("debug|object", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_object(ctx: Context, argv: list[bytes]):
    """DEBUG OBJECT key: Redis's low-level line (address, refcount, encoding, serialized length,
    LRU clock and idle time, and for a quicklist its node figures, estimated here)."""
    from ..engine.dump import serialize
    from .keys import value_encoding, value_refcount

    key = argv[2]
    value = ctx.db.data.get(key)  # (an expired key too, as Redis's dictFind: it is there)
    if value is None:
        raise CommandError("ERR no such key")
    encoding = value_encoding(ctx, key, value).decode()
    refcount = value_refcount(ctx, key, value)
    access = ctx.ks.access
    idle = (access.idle_seconds(ctx.db.id, key) if access is not None else 0) or 0
    lru = int(time.time()) & 0xFFFFFF  # Redis's LRU clock: seconds, 24 bits
    line = (f"Value at:0x{id(value):x} refcount:{refcount} encoding:{encoding} "
            f"serializedlength:{len(serialize(value)) - 11} lru:{lru} lru_seconds_idle:{idle}")
    if encoding == "quicklist":
        size = sum(map(len, value)) + 2 * len(value)  # its listpack bytes, about
        nodes = max(1, -(-size // 8192))  # list-max-listpack-size -2: 8 KB nodes
        line += (f" ql_nodes:{nodes} ql_avg_node:{len(value) / nodes:.2f} ql_listpack_max:-2 "
                 f"ql_compressed:0 ql_uncompressed_size:{size}")
    return Status(line)


@command("debug|listpack", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_listpack(ctx: Context, argv: list[bytes]):
    """DEBUG LISTPACK key: Redis prints the listpack's entries on its stdout."""
    from .keys import object_encoding

    if ctx.db.lookup(argv[2], ctx.now) is None:
        raise CommandError("ERR no such key")
    if object_encoding(ctx, [b"OBJECT", b"", argv[2]]) != b"listpack":
        raise CommandError("ERR Not a listpack encoded object.")
    print(f"{{listpack {c_text(argv[2])}}}", flush=True)
    return Status("Listpack structure printed on stdout")


@command("debug|quicklist-packed-threshold", 3, ADMIN | NOSCRIPT | LOADING | STALE,
         group="server")
def debug_quicklist_packed_threshold(ctx: Context, argv: list[bytes]):
    """DEBUG QUICKLIST-PACKED-THRESHOLD size: accepted in Redis's range; lists here have no
    plain nodes for it to move."""
    from ..server.config import ConfigError, parse_memory

    try:
        size = parse_memory(argv[2].decode("utf-8", "replace"))  # 0: back to the default
    except ConfigError:
        size = -1
    if not 0 <= size <= 1 << 32:
        raise CommandError("ERR argument must be a memory value bigger than 1 and smaller "
                           "than 4gb")
    return OK


@command("debug|reload", -2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_reload(ctx: Context, argv: list[bytes]):
    """DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the snapshot, empty the databases, load
    it back (what survives a restart), as Redis does with its RDB file. With NOSAVE a Redis RDB
    file named by `dbfilename` (one `redis-cli --rdb` fetched, say) is loaded in place of our
    snapshot, as Redis would load it."""
    from ..persistence import snapshot

    opts = {a.lower() for a in argv[2:]}
    if not opts <= {b"merge", b"noflush", b"nosave"}:
        raise CommandError("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                           "options.")
    if _loading(ctx):
        raise _loading_error()
    ks = ctx.ks
    p = getattr(ks, "persistence", None)
    if p is None and ctx.client is None:  # an embedded store without files: in memory
        records = list(snapshot.iter_records(ks, ks.clock()))
    else:
        named = os.path.join(_config(ctx)["dir"], _config(ctx)["dbfilename"])
        path = p.snapshot_path if p is not None else named
        try:
            if b"nosave" not in opts:
                snapshot.dump(ks, path)
                records = list(snapshot.load(path))
            else:
                records = _redis_rdb_records(ks, named)
                if records is None:
                    records = list(snapshot.load(path))
        except (OSError, snapshot.SnapshotError):
            raise CommandError("ERR Error trying to load the RDB dump") from None
    functions = getattr(ks, "functions", None)
    if b"noflush" not in opts:
        for db in ks.dbs:
            db.flush()
        if functions is not None:
            functions.flush()  # (Redis's emptyData empties the function libraries too)
    elif b"merge" not in opts:
        libraries = functions.libraries if functions is not None else {}
        if any(r[1].decode() in libraries if r[2] == snapshot.FUNCTION_RECORD
               else r[1] in ks.dbs[r[0]].data for r in records):
            # Redis: a duplicate key, or a library already there
            raise CommandError("ERR Error trying to load the RDB dump")
    with ks.loading():
        snapshot.apply(ks, iter(records))
    return OK


def _redis_rdb_records(ks, path: str) -> list | None:
    """The snapshot records (persistence.snapshot's) of the Redis RDB file at `path`, or None if
    there is none there. Raises snapshot.SnapshotError if it is bad."""
    from ..engine import Keyspace
    from ..persistence import loader, snapshot

    try:
        with open(path, "rb") as f:
            if f.read(5) != b"REDIS":
                return None
    except FileNotFoundError:
        return None
    aside = Keyspace(len(ks.dbs), ks.clock)  # (the live data set stays until the file is read)
    aside.limits = ks.limits
    loader.import_rdb(aside, path, lambda _line: None)
    return list(snapshot.iter_records(aside, None))


def _loading(ctx: Context) -> bool:
    """Whether the server loads a data set (server/loading.py)."""
    return ctx.client is not None and ctx.client.server.loading is not None


def _loading_error() -> CommandError:
    """LOADING: for what Redis refuses while it loads, and for what would save or reload the
    part loaded so far and lose the rest (DEBUG RELOAD and LOADAOF: Redis does it)."""
    from ..server.loading import LOADING_TEXT

    return CommandError(LOADING_TEXT)


@command("debug|loadaof", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_loadaof(ctx: Context, argv: list[bytes]):
    """DEBUG LOADAOF: write and fsync what the AOF holds in memory, empty the databases, load
    them back from the AOF directory (what a restart with appendonly yes would load), as
    Redis does. Files that fail to load are an error (Redis 7.0 exits there)."""
    if _loading(ctx):
        raise _loading_error()
    p = getattr(ctx.ks, "persistence", None)
    with ctx.ks.loading():
        if p is None or not p.reload_aof():
            raise CommandError("ERR Error trying to load the AOF files, check server logs.")
    return OK


@command("debug|change-repl-id", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_change_repl_id(ctx: Context, argv: list[bytes]):
    """DEBUG CHANGE-REPL-ID: a new replication ID (replicas then resynchronize in full)."""
    if ctx.client is not None:
        ctx.client.server.replication.new_history()
    return OK


@command("debug|digest", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_digest(ctx: Context, argv: list[bytes]):
    """DEBUG DIGEST: Redis's digest of the whole dataset (engine/digest.py), 40 hex digits;
    the same data gives the same digest on redis-server."""
    from ..engine.digest import dataset_digest

    return Status(dataset_digest(ctx.ks).hex())


@command("debug|digest-value", -2, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_digest_value(ctx: Context, argv: list[bytes]):
    """DEBUG DIGEST-VALUE key [key ...]: each value's digest (zeros for a missing key)."""
    from ..engine.digest import ZERO, value_digest

    db = ctx.db
    out = []
    for key in argv[2:]:
        value = db.lookup(key, ctx.now)
        out.append(Status((ZERO if value is None else
                           value_digest(value, key in db.expires)).hex()))
    return out


_PROTOCOL_TYPES = "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"


@command("debug|protocol", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="server")
def debug_protocol(ctx: Context, argv: list[bytes]):
    """DEBUG PROTOCOL type"""
    # A sample of each RESP type, which clients' own tests of their RESP3 parsers read.
    name = argv[2].lower()
    resp3 = ctx.resp == 3
    if name == b"attrib":
        reply = b"Some real reply following the attribute"
        return Frames([Attribute({b"key-popularity": [b"key:123", 90]}), reply]) if resp3 \
            else reply
    if name == b"push":
        if not resp3:
            raise CommandError("ERR RESP2 is not supported by this command")
        return Frames([Push([b"server-cpu-usage", 42]),
                       b"Some real reply following the push reply"])
    samples = {b"string": b"Hello World", b"integer": 12345, b"double": 3.141,
               b"bignum": BigNumber(b"1234567999999999999999999999999999999"), b"null": None,
               b"array": [0, 1, 2], b"set": SetReply([0, 1, 2]),
               b"map": {0: Bool(False), 1: Bool(True), 2: Bool(False)},
               b"verbatim": Verbatim(b"This is a verbatim\nstring"), b"true": Bool(True),
               b"false": Bool(False)}
    if name not in samples:
        raise CommandError("ERR Wrong protocol type name. Please use one of the following: "
                           + _PROTOCOL_TYPES)
    return samples[name]


@command("debug|help", 2, LOADING | STALE, group="server")
def debug_help(ctx: Context, argv: list[bytes]):
    """DEBUG HELP"""
    lines = ["DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "AOF-FLUSH-SLEEP <microsec>",
             "    Server will sleep before flushing the AOF, this is used for testing.",
             "CHANGE-REPL-ID", "    Change the replication IDs of the instance.",
             "DIGEST",
             "    Output a hex signature representing the current DB content.",
             "DIGEST-VALUE <key> [<key> ...]",
             "    Output a hex signature of the values of all the specified keys.",
             "ERROR <string>",
             "    Return a Redis protocol error with <string> as message. Useful for clients",
             "    unit tests to simulate Redis errors.",
             "LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory.",
             "REPLICATE <string>",
             "    Replicates the provided string to replicas, allowing data divergence.",
             "OBJECT <key>", "    Show low level info about `key` and associated value.",
             "POPULATE <count> [<prefix>] [<size>]",
             "    Create <count> string keys named key:<num>. If <prefix> is specified then",
             "    it is used instead of the 'key' prefix. These are not propagated to",
             "    replicas. Cluster slots are not respected so keys not belonging to the",
             "    current node can be created in cluster mode.",
             "PROTOCOL <type>",
             "    Reply with a test value of the specified type. <type> can be: string,",
             "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
             "    true, false.",
             "RELOAD [option ...]",
             "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
             "    * MERGE: conflicting keys will be loaded from RDB.",
             "    * NOFLUSH: the existing database will not be removed before load, but",
             "      conflicting keys will generate an exception and kill the server.",
             "    * NOSAVE: the database will be loaded from an existing RDB file.",
             "    Examples:",
             "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
             "      the database.",
             "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
             "      existing RDB file.",
             "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
             "      file to the database.",
             "SET-ACTIVE-EXPIRE <0|1>",
             "    Setting it to 0 disables expiring keys in background when they are not",
             "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
             "    default.",
             "QUICKLIST-PACKED-THRESHOLD <size>",
             "    Sets the threshold for elements to be inserted as plain vs packed nodes",
             "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to "
             "default.",
             "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
             "LISTPACK <key>",
             "    Show low level info about the listpack encoding of <key>.",
             "PAUSE-CRON <0|1>",
             "    Stop periodic cron job processing.",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]

