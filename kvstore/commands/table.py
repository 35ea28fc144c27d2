"""The command table: every command declared once, as data, and one front door to run them.

A command is a `Command` record (name, arity, flags, key positions, handler), registered with the
`@command` decorator in the family module that implements it. The table drives dispatch and the
arity check (Redis `commandCheckArity`), COMMAND INFO / DOCS, AOF logging (only WRITE and
MAY_CHANGE commands that changed something), MULTI queueing, and cluster routing (key positions).

Arity follows Redis: it counts the command name; a negative arity -N means "at least N".
Container commands (OBJECT, CLIENT, CONFIG, ...) have `subcommands`, each a `Command` of its own
with its full name "object|encoding", as in Redis 7.

Handlers are plain synchronous functions `handler(ctx, argv) -> reply`: argv includes the command
name at argv[0]; the reply is a value of `kvstore.replies`; a failure raises `CommandError` with
Redis's text. A handler that changes the keyspace adds the number of changes to `ctx.ks.dirty`;
one whose request would not replay to the same state (relative TTLs, random choices, float
arithmetic) sets `ctx.effects` to the commands to log instead (see `Context`).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..errors import CommandError, c_text, subcommand_syntax, wrong_args, wrongtype

# Flags, as Redis names them in COMMAND INFO.
WRITE = 1 << 0
READONLY = 1 << 1
DENYOOM = 1 << 2
ADMIN = 1 << 3
PUBSUB = 1 << 4
NOSCRIPT = 1 << 5
BLOCKING = 1 << 6
LOADING = 1 << 7
STALE = 1 << 8
FAST = 1 << 9
NO_AUTH = 1 << 10
MAY_REPLICATE = 1 << 11
NO_MULTI = 1 << 12
ALLOW_BUSY = 1 << 13
SKIP_SLOWLOG = 1 << 14
SKIP_MONITOR = 1 << 15
# Not a Redis flag (COMMAND INFO leaves it out): a read that may still change its key, as
# PFCOUNT caches the cardinality in the HLL string. The front doors treat such a change as a
# write's: logged to the AOF, seen by WATCH.
MAY_CHANGE = 1 << 16
# Descriptive only, for COMMAND INFO: every key may be absent (EVAL's numkeys 0), and a command
# refused while the server loads a replication stream asynchronously (which kvstore never does).
NO_MANDATORY_KEYS = 1 << 17
NO_ASYNC_LOADING = 1 << 18
# Descriptive too: a command a cluster node accepts for a slot it is importing (RESTORE-ASKING).
ASKING = 1 << 19
# The flags under which a command that changed the keyspace is logged and touches its keys.
LOGGED = WRITE | MAY_CHANGE

# MAY_REPLICATE has no name: Redis hides it from COMMAND INFO on purpose (addReplyCommandFlags).
FLAG_NAMES = {  # (in the order Redis lists them)
    WRITE: "write", READONLY: "readonly", DENYOOM: "denyoom", ADMIN: "admin",
    PUBSUB: "pubsub", NOSCRIPT: "noscript", BLOCKING: "blocking", LOADING: "loading",
    STALE: "stale", SKIP_MONITOR: "skip_monitor", SKIP_SLOWLOG: "skip_slowlog", ASKING: "asking",
    FAST: "fast",
    NO_AUTH: "no_auth", NO_MANDATORY_KEYS: "no_mandatory_keys",
    NO_ASYNC_LOADING: "no_async_loading", NO_MULTI: "no_multi", ALLOW_BUSY: "allow_busy",
}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """Key positions in argv: first, last (negative counts from the end), step. (0, 0, 0): none.

    `not_key`: the positions name shard channels, not keys (Redis's NOT_KEY key-spec flag).
    COMMAND INFO shows them, so cluster clients route SPUBLISH by them, but they are no key
    for COMMAND GETKEYS, WATCH or LRU touches.
    """

    first: int = 0
    last: int = 0
    step: int = 0
    not_key: bool = False

    def keys(self, argv: list[bytes]) -> list[bytes]:
        if not self.first or self.not_key:
            return []
        last = self.last if self.last >= 0 else len(argv) + self.last
        return argv[self.first : last + 1 : self.step]


NO_KEYS = KeySpec()


@dataclass(slots=True)
class Command:
    name: str
    arity: int
    flags: int
    keyspec: KeySpec
    handler: Callable[["Context", list[bytes]], Any] | None
    group: str = ""
    summary: str = ""
    subcommands: dict[bytes, "Command"] = field(default_factory=dict)
    # For commands whose keys cannot be described by first/last/step (ZUNIONSTORE's numkeys,
    # LMPOP, ...): returns the keys of an argv. Used by COMMAND GETKEYS and cluster routing.
    getkeys: Callable[[list[bytes]], list[bytes]] | None = None
    # Stats for INFO commandstats.
    calls: int = 0
    seconds: float = 0.0
    failed: int = 0
    rejected: int = 0
    # While latency-tracking is on: durations in whole microseconds -> calls, and the seconds
    # of the latest single calls not yet counted there (appending costs less than half of
    # counting; server/latency.py `fold` moves them in).
    latency: dict[int, int] = field(default_factory=dict)
    durations: array = field(default_factory=lambda: array("d"))
    # The argv lengths up to 64 that `arity` allows: the server's hot loop tests membership,
    # a dozen opcodes less than the arity arithmetic, which longer argvs still go through.
    argcs: frozenset[int] = frozenset()
    # Whether the server may time a pipelined run of this command as a whole (client.py): the
    # FAST ones, SET, O(1) here (Redis leaves it unflagged), and MSET and MGET, whose run
    # continues only through calls of up to 64 arguments (`argcs`), a bounded cost.
    runs: bool = False
    # For the commonest pipelined commands, a handler of a whole run (`run_handler`), and
    # whether each call it does is a change logged as sent (`run_handler`'s `logged`).
    many: Callable[["Context", list[list[bytes]], Callable], int] | None = None
    many_logged: bool = False
    # EVAL and FCALL: their flags as the script or function declares them (Redis's
    # getCommandFlags), given (ctx, argv, flags); the server judges refusals by these.
    dynamic_flags: Callable[["Context", list[bytes], int], int] | None = None
    # A container that is one command in Redis (DEBUG): its first argument picks what it does,
    # COMMAND lists no subcommands, and an unknown one or a wrong argument count gets Redis's
    # "unknown subcommand or wrong number of arguments" text.
    one_command: bool = False

    def flags_for(self, ctx: "Context", argv: list[bytes]) -> int:
        if self.dynamic_flags is None:
            return self.flags
        return self.dynamic_flags(ctx, argv, self.flags)

    def __post_init__(self) -> None:
        arity = self.arity
        self.argcs = frozenset((arity,) if arity > 0 else range(-arity, 65))
        self.runs = bool(self.flags & FAST) or self.name in ("set", "mset", "mget")

    def keys(self, argv: list[bytes]) -> list[bytes]:
        if self.getkeys is not None:
            return self.getkeys(argv)
        return self.keyspec.keys(argv)

    def flag_names(self) -> list[str]:
        """COMMAND INFO's flags, in Redis's order: `movablekeys` (a command whose keys a
        function finds) goes before `allow_busy`."""
        names = [name for bit, name in FLAG_NAMES.items() if self.flags & bit]
        if self.getkeys is not None:
            names.insert(len(names) - (self.flags & ALLOW_BUSY != 0), "movablekeys")
        return names


COMMANDS: dict[bytes, Command] = {}


def command(
    name: str,
    arity: int,
    flags: int = 0,
    keys: KeySpec = NO_KEYS,
    group: str = "",
    getkeys: Callable[[list[bytes]], list[bytes]] | None = None,
) -> Callable:
    """Register the decorated handler as command `name` ("object|encoding" for a subcommand).

    The handler's docstring's first line is its syntax, used for COMMAND DOCS.
    """

    def register(handler: Callable) -> Callable:
        doc = (handler.__doc__ or "").strip().splitlines()
        cmd = Command(name, arity, flags, keys, handler, group, doc[0] if doc else "",
                      getkeys=getkeys)
        if "|" in name:
            parent, sub = name.split("|", 1)
            COMMANDS[parent.encode()].subcommands[sub.encode()] = cmd
        else:
            COMMANDS[name.encode()] = cmd
        return handler

    return register


class RunReplies(dict):
    """`replies[k]`: a run handler's constant reply `piece` for k calls, one piece for the
    batch's join (one append per call was 3% of a pipelined SET). Made ahead up to 64 calls."""

    __slots__ = ("piece",)

    def __init__(self, piece: bytes) -> None:
        super().__init__((k, piece * k) for k in range(65))
        self.piece = piece

    def __missing__(self, k: int) -> bytes:
        return self.piece * k


def run_handler(name: str, logged: bool = False) -> Callable:
    """Register the decorated function as the run handler of command `name` (`Command.many`).

    In a pipelined batch, the server calls `many(ctx, argvs, append)` with the batch's commands
    from a call of `name` on, when no keyspace notification listener or server gate needs to see
    each call (a run handler notifies nothing). It does the handler's work for argvs[0],
    argvs[1], ... while they are a run (spelled as argvs[0] and of its length: what
    redis-benchmark -P and bulk loads send) in the plainest form it takes, appends each encoded
    reply, and returns how many it did; the server runs the next one (and a run whose first it
    refuses) through the handler. (The run's end is the handler's to find: a separate pass over
    the batch cost a -P 16 SET 3% of its instructions.) Replies, effects and `dirty` must be
    the handler's, call for call (tests/server/test_shortcuts.py).

    Write hooks (an AOF, replicas, WATCH, blocked clients) see each write. A read's run handler
    runs under them all; a write's only with `logged`: each call it does changes the keyspace
    and is propagated as sent (its argv, no other effects), so the server hands the hooks the
    run's argvs in one call (`Server.propagate_run`), when every hook installed takes runs.
    """

    def register(fn: Callable) -> Callable:
        cmd = COMMANDS[name.encode()]
        assert not logged or cmd.flags & LOGGED, name
        cmd.many = fn
        cmd.many_logged = logged
        return fn

    return register


def container(name: str, arity: int = -2, flags: int = 0, group: str = "",
              one_command: bool = False) -> None:
    """Declare a command made of subcommands (OBJECT, CLIENT, ...)."""
    COMMANDS[name.encode()] = Command(name, arity, flags, NO_KEYS, None, group,
                                      one_command=one_command)


class Context:
    """What a handler may touch: the keyspace, the selected database, the command's "now", and
    the connection state the server attaches (`client`, None when embedded).

    `effects`: None to log the request as is (if it changed something), or the list of argvs
    that reproduce its effect at any later time, e.g. SET k v EX 10 -> SET k v PXAT <abs>; an
    empty list when what it changed is counted in `dirty` but not propagated (an XREADGROUP
    of an empty history: Redis counts the consumer's new seen-time, and logs nothing).

    `touched`: (argv, keys) when a write changed fewer keys than it names (a STORE's sources,
    DEL's absent keys, the keys LMPOP did not pop from, SMOVE's destination that already held
    the member), so WATCH and tracking see only `keys`, as Redis signals them. It counts only
    for the argv it names; any other write touches every key it names.
    """

    __slots__ = ("ks", "db", "now", "effects", "client", "resp", "conn_resp", "in_multi",
                 "in_script", "notify", "on_write", "touched", "unit")

    # Redis's mustObeyClient: the commands of our master or of an AOF being loaded were checked
    # where they first ran, and may hold what a client may not send (an XADD's LIMIT beside the
    # = its ~ became). Their contexts' classes say so.
    obeyed = False

    def __init__(self, ks, db_index: int = 0, client: Any = None) -> None:
        self.ks = ks
        self.db = ks.dbs[db_index]
        self.now = 0
        self.effects: list[list[bytes]] | None = None
        self.touched: tuple[list[bytes], list[bytes]] | None = None
        self.client = client
        # The protocol replies take (a script's own while it runs: redis.setresp), and the
        # connection's (HELLO), which its pushes take: a script's PUBLISH to its caller, too.
        self.resp = self.conn_resp = 2
        self.in_multi = False
        self.in_script = False  # a script or function runs the command (Scripts.run)
        # Keyspace notifications: notify(event_class, event, key). The server installs a real
        # one when notify-keyspace-events is set; the default costs one call and nothing else.
        self.notify: Callable[..., None] = no_notify
        # on_write() -> the front door's write hook, hook(ctx, argv), or None when it has none:
        # what a script calls after each of its writes (commands/scripting.py), as the front
        # door does after a write command of its own.
        self.on_write: Callable[[], Callable[["Context", list[bytes]], None] | None] | None = None
        # The EXEC or script being run, whose unit its writes go to (`UnitLog`).
        self.unit: UnitLog | None = None

    def select(self, index: int) -> None:
        self.db = self.ks.dbs[index]

    def read(self, key: bytes, notify: bool = True) -> object | None:
        """The live value of a key the command reads, or None: Redis's lookupKeyRead, which
        counts INFO's keyspace_hits / keyspace_misses and raises the `keymiss` event on a miss
        (not with `notify` False: OBJECT's lookup). Writes look keys up with `db.lookup`,
        which counts nothing, as Redis's lookupKeyWrite."""
        value = self.db.lookup(key, self.now)
        if value is None:
            self.ks.misses += 1
            if notify and self.notify is not no_notify:
                self.notify("m", "keymiss", key)
        else:
            self.ks.hits += 1
        return value

    def read_typed(self, key: bytes, cls: type) -> object | None:
        """`read`, raising WRONGTYPE when the value is not a `cls` (after counting a hit, as
        Redis checks the type after the lookup)."""
        value = self.read(key)
        if value is not None and type(value) is not cls:
            raise wrongtype()
        return value


class UnitLog:
    """The writes of one EXEC or script, propagated as Redis 7.0's propagatePendingCommands
    does: a lone command as it is, two or more (or one with several effects) inside MULTI ...
    EXEC. The first write waits, its context saved, until a second one comes or the unit
    closes. `hook(ctx, argv)` is the front door's write hook; `mark()`, if given, says where
    the AOF stood before the unit's first line, for `abandon`. A script run by EXEC writes
    into EXEC's unit (`Context.unit`), so the two make one transaction, as in Redis."""

    __slots__ = ("hook", "mark", "first", "wrapped", "at", "db")

    def __init__(self, hook: Callable[["Context", list[bytes]], None],
                 mark: Callable[[], Any] | None = None) -> None:
        self.hook = hook
        self.mark = mark
        self.first: tuple | None = None  # (db, effects, touched, argv) of the waiting write
        self.wrapped = False
        self.at = None  # `mark()` before the first line went out
        self.db = None  # the database of the last write that went out

    def write(self, ctx: Context, argv: list[bytes]) -> None:
        effects = ctx.effects
        if self.wrapped or effects == []:  # ([]: observers only, nothing to log)
            if effects != []:
                self.db = ctx.db
            self.hook(ctx, argv)
        elif self.first is None and (effects is None or len(effects) == 1):
            self.first = (ctx.db, effects, ctx.touched, argv)
        else:
            self._emit(ctx, True)
            self.db = ctx.db
            self.hook(ctx, argv)

    def close(self, ctx: Context) -> None:
        """The unit ended: what it wrote goes out (then EXEC, if it is a transaction, in the
        last write's database as Redis's exec_dbid: a SELECT the transaction ran after its
        writes is no line inside it)."""
        if self.wrapped:
            saved, ctx.db = ctx.db, self.db or ctx.db
            ctx.effects = None
            self.hook(ctx, [b"EXEC"])
            ctx.db = saved
        elif self.first is not None:
            self._emit(ctx, False)

    def abandon(self, revert: Callable[[Any], None]) -> None:
        """SHUTDOWN NOSAVE stopped the unit: none of it is kept."""
        if self.at is not None:
            revert(self.at)
        self.first = None
        self.wrapped = False

    def _emit(self, ctx: Context, wrap: bool) -> None:
        if self.mark is not None:
            self.at = self.mark()
        saved = ctx.db, ctx.effects, ctx.touched
        first = self.first
        self.first = None
        if wrap:
            self.wrapped = True
            if first is not None:
                ctx.db = first[0]  # (MULTI goes to the first write's database)
            ctx.effects = None
            self.hook(ctx, [b"MULTI"])
        if first is not None:
            ctx.db, ctx.effects, ctx.touched = first[:3]
            self.db = ctx.db
            self.hook(ctx, first[3])
        ctx.db, ctx.effects, ctx.touched = saved


class ReplOnly(list):
    """An effect for the replicas, not the AOF (Redis's PROPAGATE_REPL)."""

    __slots__ = ()


class AofOnly(list):
    """An effect for the AOF, not the replicas (Redis's PROPAGATE_AOF): a script's writes after
    redis.set_repl(redis.REPL_AOF)."""

    __slots__ = ()


def propagate_to_replicas(ctx: Context, argv: list[bytes]) -> None:
    """Send a command that changed nothing to the replicas (Redis's forceCommandPropagation
    with PROPAGATE_REPL): PUBLISH, so that a replica's subscribers get its master's
    messages. Inside EXEC or a script it takes its place in their unit."""
    hook = ctx.on_write() if ctx.on_write is not None else None
    if hook is None:
        return
    saved = ctx.effects
    ctx.effects = [ReplOnly(argv)]
    if ctx.unit is not None:
        ctx.unit.write(ctx, argv)
    else:
        hook(ctx, argv)
    ctx.effects = saved


def propagate_effects(hook: Callable[[Context, list[bytes]], None], ctx: Context,
                      argv: list[bytes]) -> None:
    """A lone command's write whose `ctx.effects` are set: several go out inside MULTI ... EXEC
    (an XREADGROUP's XCLAIMs), as Redis wraps a command's propagated commands."""
    effects = ctx.effects
    if effects is None or len(effects) < 2:
        hook(ctx, argv)
        return
    unit = UnitLog(hook)
    unit.write(ctx, argv)
    unit.close(ctx)


def popped_from(ctx: Context, argv: list[bytes], reply: list | None) -> list | None:
    """A multi-key pop's reply, [key, ...] or None: it changed only that key."""
    if reply is not None:
        ctx.touched = (argv, [reply[0]])
    return reply


def no_notify(event_class: str, event: str, key: bytes, late: bool = False) -> None:
    """The default `ctx.notify`. The handlers of the benchmarked writes test
    `ctx.notify is not no_notify` first: calling it costs about a twentieth of a SET."""
    return None


def unknown_command(argv: list[bytes]) -> CommandError:
    # Redis's text: each argument quoted while the list is under 128 bytes, the last one cut
    # to fit, every one at its first NUL byte (C strings)
    args = ""
    size = 0
    for arg in argv[1:]:
        if size >= 128:
            break
        text = c_text(arg, 128 - size)
        args += f"'{text}' "
        size += len(text.encode("utf-8", "surrogateescape")) + 3
    return CommandError(
        f"ERR unknown command '{c_text(argv[0], 128)}', with args beginning with: {args}")


def rename_command(name: bytes, new: bytes) -> None:
    """redis.conf's rename-command (checked when read: server/config.py): the command answers to
    `new` only, or to nothing when `new` is empty. Its own name (COMMAND INFO, commandstats)
    stays, as in Redis."""
    cmd = COMMANDS.pop(name)
    if new:
        COMMANDS[new] = cmd


def resolve(argv: list[bytes]) -> Command | None:
    """The Command argv names (a container itself when it has no subcommand argument), arity
    unchecked; None for an unknown command or subcommand. What a rejection is counted on
    (INFO commandstats rejected_calls), as Redis counts it on `c->cmd`."""
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is not None and cmd.subcommands and len(argv) >= 2 and not cmd.one_command:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


def reported() -> Iterator[tuple[str, list[Command]]]:
    """(name, commands) as INFO commandstats, latencystats and LATENCY HISTOGRAM report them:
    each command and subcommand alone, but a one-command container (DEBUG) with all of its
    subcommands, as Redis counts it."""
    for cmd in COMMANDS.values():
        if cmd.one_command:
            yield cmd.name, [cmd, *cmd.subcommands.values()]
        else:
            yield cmd.name, [cmd]
            for sub in cmd.subcommands.values():
                yield sub.name, [sub]


def merged_latency(commands: list[Command]) -> dict[int, int]:
    """The latency histograms (usec -> calls) of `commands` added up."""
    if len(commands) == 1:
        return commands[0].latency
    out: dict[int, int] = {}
    for c in commands:
        for usec, calls in c.latency.items():
            out[usec] = out.get(usec, 0) + calls
    return out


def every_command() -> Iterator[Command]:
    """Every command of the table, each container followed by its subcommands (the stats)."""
    for cmd in COMMANDS.values():
        yield cmd
        yield from cmd.subcommands.values()


def lookup(argv: list[bytes]) -> Command:
    """The Command for argv (resolving subcommands), with its arity checked. Raises CommandError
    with Redis's text for unknown commands, unknown subcommands and wrong arity."""
    name = argv[0]
    cmd = COMMANDS.get(name) or COMMANDS.get(name.lower())
    if cmd is None:
        raise unknown_command(argv)
    if cmd.subcommands:
        if len(argv) < 2:
            if cmd.handler is not None:  # a container that also runs bare (COMMAND)
                return cmd
            raise wrong_args(cmd.name)
        sub = cmd.subcommands.get(argv[1].lower())
        if cmd.one_command and (sub is None or not _arity_ok(sub.arity, len(argv))):
            raise subcommand_syntax(argv)
        if sub is None:
            raise CommandError(
                f"ERR unknown subcommand '{c_text(argv[1], 128)}'. Try {cmd.name.upper()} HELP.")
        cmd = sub
    if not _arity_ok(cmd.arity, len(argv)):
        raise wrong_args(cmd.name)
    return cmd


def _arity_ok(arity: int, argc: int) -> bool:
    return argc == arity if arity > 0 else argc >= -arity


# Plain (non-container) commands by the exact bytes callers send ("GET", "get", ...), so the hot
# path skips lower() and a second probe. Bounded: random names cannot grow it.
_BY_EXACT_NAME: dict[bytes, Command] = {}
_BY_EXACT_NAME_MAX = 1024


def fast_lookup(argv: list[bytes]) -> Command:
    """`lookup` with a cache of plain commands by exact name; same results and errors."""
    cmd = _BY_EXACT_NAME.get(argv[0])
    if cmd is not None:
        arity = cmd.arity
        n = len(argv)
        if n == arity or (arity < 0 and n >= -arity):
            return cmd
        raise wrong_args(cmd.name)
    cmd = lookup(argv)
    if not cmd.subcommands and "|" not in cmd.name and len(_BY_EXACT_NAME) < _BY_EXACT_NAME_MAX:
        _BY_EXACT_NAME[argv[0]] = cmd
    return cmd


def execute(ctx: Context, argv: list[bytes]) -> Any:
    """Look up, check and run one command. Raises CommandError on failure."""
    cmd = fast_lookup(argv)
    ctx.now = ctx.ks.clock()
    ctx.effects = None
    return cmd.handler(ctx, argv)  # type: ignore[misc]
