"""ACL users (Redis 7.0 `acl.c`): who may authenticate, and what each user may run and touch.

A `User` has flags (on/off, nopass, the payload sanitizing choice), SHA-256 password digests and
selectors: its root selector, then any added with `(...)`. A `Selector` holds the commands it
allows (by full name, "config|get" for a subcommand, as Redis's command-id bitmap), first
arguments allowed for a command it does not allow (`+select|0`), key patterns with read/write
permissions and channel patterns. A command is allowed when one selector allows the command,
every key it names (`%R~`, `%W~`, `~` patterns; `allkeys`) and every channel it publishes or
subscribes to.

The rules (`Acl.set_user`) and their errors are Redis's, applied to a copy of the user so that a
failing rule changes nothing. ACL LIST and GETUSER describe the command rules as Redis 7.0 does:
+@all or -@all, then the categories that fit the user's commands best (`commands_text`),
then single commands; so `+@hash +@set -hset` reads back as `-@all +@set +@hash -hset`.

The server checks permissions only for connections whose user is restricted (client state bit
ACL_CHECK), in its slow path: a connection of an unrestricted user (the default user, as it
starts) pays nothing. The ACL log records refused authentications and refused commands, grouped
as Redis groups them.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import deque
from typing import Callable, Iterable

from ..engine.glob import compile_glob

GROUPING_MS = 60000  # Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA

# ACLCommandCategories, in Redis's order: the description picks categories in this order.
CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
              "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
              "blocking", "dangerous", "connection", "transaction", "scripting")

# The client state bit (server/client.py) of a connection whose user is restricted.
ACL_CHECK = 1024

READ, WRITE = 1, 2
ALL = READ | WRITE

# What a check refused (Redis's ACL_DENIED_*), ordered as Redis ranks them across selectors.
DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 1, 2, 3, 4

UNKNOWN = "Unknown command or category name in ACL"
_SYNTAX = "Syntax error"
_ALLKEYS = ("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
            "not have any effect. Try 'resetkeys' to start with an empty list of patterns")
_ALLCHANNELS = ("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid "
                "and does not have any effect. Try 'resetchannels' to start with an empty list "
                "of channels")
_NO_PASSWORD = "The password you are trying to remove from the user does not exist"
_BAD_HASH = ("The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters")
_SUBCOMMAND_FIRST_ARG = "Allowing first-arg of a subcommand is not supported"
_HASH = re.compile(rb"[0-9a-f]{64}")
_SPACES = re.compile(rb"[\s\0]")


def digest(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


class RuleError(Exception):
    """A rule ACL SETUSER refuses; str() is Redis's reason."""


# -- the commands as ACL sees them --------------------------------------------------------------

class Catalog:
    """Every command and subcommand of the table by full name, with its categories; DEBUG-like
    containers (one command in Redis) are one entry."""

    def __init__(self) -> None:
        from ..commands.admin import _categories, _subcommands
        from ..commands.table import COMMANDS, NO_AUTH

        self.names: list[str] = []            # parents then their subcommands, table order
        self.subs: dict[str, list[str]] = {}  # parent -> its subcommands
        self.parent: dict[str, str] = {}      # subcommand -> parent
        self.cats: dict[str, frozenset[str]] = {}
        self.no_auth: set[str] = set()
        for cmd in COMMANDS.values():
            subs = _subcommands(cmd)
            for c in (cmd, *subs):
                self.names.append(c.name)
                self.cats[c.name] = frozenset(x[1:] for x in _categories(c))
                if c.flags & NO_AUTH:
                    self.no_auth.add(c.name)
            self.subs[cmd.name] = [s.name for s in subs]
            for s in subs:
                self.parent[s.name] = cmd.name
        self.in_category = {cat: [n for n in self.names if cat in self.cats[n]]
                            for cat in CATEGORIES}

    def find(self, name: str) -> str | None:
        """The full name of a command or `parent|sub`, as ACLLookupCommand finds it."""
        name = name.lower()
        return name if name in self.cats else None


_CATALOG: Catalog | None = None


def acl_lookup(argv: list[bytes]):
    """The command ACL judges argv as, Redis's lookupCommand: a DEBUG-like container is one
    command whatever its first argument (a subcommand kvstore lacks is still refused by ACL
    first). Raises CommandError as `lookup` does."""
    from ..commands.table import COMMANDS, lookup

    cmd = COMMANDS.get(argv[0].lower())
    if cmd is not None and cmd.one_command and len(argv) >= 2:
        return cmd
    return lookup(argv)


def acl_name(cmd) -> str:
    """The name ACL knows a looked-up command by: a DEBUG-like container's subcommands are the
    container itself."""
    name = cmd.name
    return name if name in catalog().cats else name.partition("|")[0]


def catalog() -> Catalog:
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = Catalog()
    return _CATALOG


# -- selectors and users ------------------------------------------------------------------------

class Selector:
    """One set of permissions: commands, key patterns, channel patterns."""

    __slots__ = ("allowed", "future", "allcommands", "firstargs", "keys", "allkeys",
                 "channels", "allchannels", "_commands_text")

    def __init__(self, allchannels: bool = False) -> None:
        self.allowed: set[str] = set()
        self.future = False        # +@all was the last of +@all / -@all: Redis's reserved bit
        self.allcommands = False   # +@all and no command taken away since
        self.firstargs: dict[str, list[str]] = {}
        self.keys: list[list] = []  # [pattern, READ|WRITE], in order
        self.allkeys = False
        self.channels: list[bytes] = []
        self.allchannels = allchannels
        self._commands_text: str | None = None  # `commands_text`, until a rule changes it

    def copy(self) -> "Selector":
        s = Selector()
        s.allowed = set(self.allowed)
        s.future, s.allcommands = self.future, self.allcommands
        s.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        s.keys = [list(k) for k in self.keys]
        s.allkeys = self.allkeys
        s.channels = list(self.channels)
        s.allchannels = self.allchannels
        return s

    @property
    def unrestricted(self) -> bool:
        return self.allcommands and self.allkeys and self.allchannels

    # -- rules (ACLSetSelector) --

    def apply(self, rule: bytes) -> None:
        self._commands_text = None
        low = rule.lower()
        cat = catalog()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.keys = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.keys = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.allowed = set(cat.names)
            self.future = self.allcommands = True
            self.firstargs = {}
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.future = self.allcommands = False
            self.firstargs = {}
        elif rule[:1] in (b"~", b"%"):
            self._add_key_pattern(rule)
        elif rule[:1] == b"&":
            if self.allchannels:
                raise RuleError(_ALLCHANNELS)
            pattern = rule[1:]
            if _SPACES.search(pattern):
                raise RuleError(_SYNTAX)
            if pattern not in self.channels:
                self.channels.append(pattern)
        elif rule[:2] in (b"+@", b"-@"):
            name = low[2:].decode("latin-1")
            if name not in CATEGORIES:
                raise RuleError(UNKNOWN)
            allow = rule[:1] == b"+"
            for command in cat.in_category[name]:
                self.change(command, allow)
        elif rule[:1] == b"+":
            self._allow(rule[1:].decode("latin-1"))
        elif rule[:1] == b"-":
            command = cat.find(rule[1:].decode("latin-1"))
            if command is None:
                raise RuleError(UNKNOWN)
            self.change(command, False)
        else:
            raise RuleError(_SYNTAX)

    def _add_key_pattern(self, rule: bytes) -> None:
        if self.allkeys:
            raise RuleError(_ALLKEYS)
        if rule[:1] == b"%":
            flags, offset = 0, 1
            while offset < len(rule):
                c = rule[offset:offset + 1]
                if c in (b"R", b"r") and not flags & READ:
                    flags |= READ
                elif c in (b"W", b"w") and not flags & WRITE:
                    flags |= WRITE
                elif c == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError(_SYNTAX)
                offset += 1
            if not flags:
                raise RuleError(_SYNTAX)
            pattern = rule[offset:]
        else:
            flags, pattern = ALL, rule[1:]
        if _SPACES.search(pattern):
            raise RuleError(_SYNTAX)
        for entry in self.keys:
            if entry[0] == pattern:
                entry[1] |= flags
                return
        self.keys.append([pattern, flags])

    def _allow(self, spec: str) -> None:
        cat = catalog()
        if "|" not in spec:
            command = cat.find(spec)
            if command is None:
                raise RuleError(UNKNOWN)
            self.change(command, True)
            return
        head, _, first = spec.rpartition("|")
        command = cat.find(head)
        if command is None:
            raise RuleError(UNKNOWN)
        if command in cat.parent:
            raise RuleError(_SUBCOMMAND_FIRST_ARG)
        if not first:
            raise RuleError(_SYNTAX)
        if cat.subs.get(command):
            sub = cat.find(spec)
            if sub is None:
                raise RuleError(UNKNOWN)
            self.change(sub, True)
            return
        allowed = self.firstargs.setdefault(command, [])
        if first.lower() not in (f.lower() for f in allowed):
            allowed.append(first)

    def change(self, command: str, allow: bool) -> None:
        """ACLChangeSelectorPerm: a command, with all its subcommands for a container."""
        self._commands_text = None
        self.firstargs.pop(command, None)
        for name in (command, *catalog().subs.get(command, ())):
            if allow:
                self.allowed.add(name)
            else:
                self.allowed.discard(name)
                self.allcommands = False

    # -- checks (ACLSelectorCheckCmd) --

    def check(self, command: str, argv: list[bytes], keys: "KeyCache") -> tuple[int, int]:
        """(0, 0) when allowed, else (DENIED_*, index of the argument refused)."""
        if not self.allcommands and command not in self.allowed \
                and command not in catalog().no_auth:
            firsts = self.firstargs.get(command)
            if len(argv) < 2 or not firsts \
                    or argv[1].lower() not in {f.lower().encode("latin-1") for f in firsts}:
                return DENIED_CMD, 0
        if not self.allkeys:
            patterns = self.keys
            for pos, need in keys.keys():
                key = argv[pos]
                for pattern, flags in patterns:
                    if flags & need == need and compile_glob(pattern)(key) is not None:
                        break
                else:
                    return DENIED_KEY, pos
        if not self.allchannels:
            for pos, is_pattern in keys.channels():
                channel = argv[pos]
                for pattern in self.channels:
                    if pattern == channel if is_pattern \
                            else compile_glob(pattern)(channel) is not None:
                        break
                else:
                    return DENIED_CHANNEL, pos
        return 0, 0

    # -- descriptions --

    def describe(self) -> str:
        """ACLDescribeSelector: keys, channels, commands."""
        parts = [self.keys_text()] if self.allkeys or self.keys else []
        if self.allchannels:
            parts.append("&*")
        else:
            parts.append(" ".join(["resetchannels", *("&" + _text(c) for c in self.channels)]))
        parts.append(self.commands_text())
        return " ".join(parts)

    def keys_text(self) -> str:
        if self.allkeys:
            return "~*"
        return " ".join({ALL: "~", READ: "%R~", WRITE: "%W~"}[flags] + _text(pattern)
                        for pattern, flags in self.keys)

    def channels_text(self) -> str:
        return "&*" if self.allchannels else " ".join("&" + _text(c) for c in self.channels)

    def commands_text(self) -> str:
        """ACLDescribeSelectorCommandRules (Redis 7.0): +@all or -@all, the categories that
        fit best, then single commands and first arguments. Kept until a rule changes the
        selector (ACL LIST describes every user: about 150 us a selector to work out)."""
        if self._commands_text is None:
            self._commands_text = self._describe_commands()
        return self._commands_text

    def _describe_commands(self) -> str:
        cat = catalog()
        additive = not self.future
        rules = ["-@all" if additive else "+@all"]
        fake = Selector()
        fake.apply(b"-@all" if additive else b"+@all")
        # A copy the chosen categories are applied to inversely: what is left to explain.
        temp = Selector()
        temp.allowed = set(self.allowed)
        applied: set[str] = set()
        while True:
            best, mindiff, maxsame = None, 1 << 62, 0
            for name in CATEGORIES:
                if name in applied:
                    continue
                members = cat.in_category[name]
                on = sum(1 for m in members if m in temp.allowed)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = name, diff, same
            if best is None:
                break
            op, inverse = ("+@", "-@") if additive else ("-@", "+@")
            fake.apply((op + best).encode())
            temp.apply((inverse + best).encode())
            rules.append(op + best)
            applied.add(best)
        for command in cat.names:
            if command in cat.parent:
                continue
            self._single(command, fake, rules)
            for sub in cat.subs.get(command, ()):
                self._single(sub, fake, rules)
            if command not in self.allowed:
                rules.extend(f"+{command}|{first}" for first in self.firstargs.get(command, ()))
        return " ".join(rules)

    def _single(self, command: str, fake: "Selector", rules: list[str]) -> None:
        mine = command in self.allowed
        if mine != (command in fake.allowed):
            rules.append(("+" if mine else "-") + command)
            fake.change(command, mine)


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


class User:
    __slots__ = ("name", "enabled", "nopass", "sanitize", "passwords", "selectors")

    def __init__(self, name: bytes, allchannels: bool = False) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.sanitize = ""  # "", "sanitize-payload" or "skip-sanitize-payload"
        self.passwords: list[str] = []
        self.selectors = [Selector(allchannels)]  # the root selector first

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    @property
    def unrestricted(self) -> bool:
        return self.root.unrestricted

    def copy(self) -> "User":
        u = User(self.name)
        u.enabled, u.nopass, u.sanitize = self.enabled, self.nopass, self.sanitize
        u.passwords = list(self.passwords)
        u.selectors = [s.copy() for s in self.selectors]
        return u

    def assign(self, other: "User") -> None:
        """Take `other`'s rules, staying the same object: connections authenticated as this
        user follow the change."""
        self.enabled, self.nopass, self.sanitize = other.enabled, other.nopass, other.sanitize
        self.passwords, self.selectors = other.passwords, other.selectors

    def flags(self) -> list[str]:
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        if self.sanitize:
            out.append(self.sanitize)
        return out

    def describe(self) -> str:
        """ACL LIST's line."""
        parts = ["user", _text(self.name), *self.flags(), *("#" + p for p in self.passwords),
                 self.root.describe()]
        parts += [f"({s.describe()})" for s in self.selectors[1:]]
        return " ".join(parts)

    def check_password(self, password: bytes) -> bool:
        return self.enabled and (self.nopass or digest(password) in self.passwords)

    def check(self, command: str, argv: list[bytes]) -> tuple[int, int]:
        """(0, 0) when some selector allows argv, else Redis's most relevant refusal."""
        keys = KeyCache(command, argv)
        worst, where = DENIED_CMD, 0
        for selector in self.selectors:
            denied, pos = selector.check(command, argv, keys)
            if not denied:
                return 0, 0
            if denied > worst or (denied == worst and pos > where):
                worst, where = denied, pos
        return worst, where

    def full_key_access(self, command: str, argv: list[bytes]) -> bool:
        """Whether a selector that may read every key (`allkeys`, or a `*` pattern with read
        access such as %R~*) allows argv: SORT's BY and GET (Redis's
        ACLUserCheckCmdWithUnrestrictedKeyAccess)."""
        keys = KeyCache(command, argv)
        return any((s.allkeys or any(p == b"*" and flags & READ for p, flags in s.keys))
                   and not s.check(command, argv, keys)[0] for s in self.selectors)

    # -- rules (ACLSetUser) --

    def apply(self, rule: bytes, pubsub_default: bool) -> None:
        low = rule.lower()
        if not rule:  # as in Redis: an empty rule does nothing
            return
        if low == b"on":
            self.enabled = True
        elif low == b"off":
            self.enabled = False
        elif low in (b"skip-sanitize-payload", b"sanitize-payload"):
            self.sanitize = low.decode()
        elif low == b"nopass":
            self.nopass, self.passwords = True, []
        elif low == b"resetpass":
            self.nopass, self.passwords = False, []
        elif rule[:1] in (b">", b"#"):
            if rule[:1] == b"#" and not _HASH.fullmatch(rule[1:]):
                raise RuleError(_BAD_HASH)
            value = digest(rule[1:]) if rule[:1] == b">" else rule[1:].decode()
            if value not in self.passwords:
                self.passwords.append(value)
            self.nopass = False
        elif rule[:1] in (b"<", b"!"):
            if rule[:1] == b"!" and not _HASH.fullmatch(rule[1:]):
                raise RuleError(_BAD_HASH)
            value = digest(rule[1:]) if rule[:1] == b"<" else rule[1:].decode()
            if value not in self.passwords:
                raise RuleError(_NO_PASSWORD)
            self.passwords.remove(value)
            self.nopass = False
        elif rule[:1] == b"(" and rule[-1:] == b")":
            selector = Selector(pubsub_default)
            for part in _split_args(rule[1:-1]):
                selector.apply(part)
            self.selectors.append(selector)
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            for step in (b"resetpass", b"resetkeys", b"resetchannels",
                         *((b"allchannels",) if pubsub_default else ()), b"off",
                         b"sanitize-payload", b"clearselectors", b"-@all"):
                self.apply(step, pubsub_default)
        else:
            self.root.apply(rule)


def _split_args(text: bytes) -> list[bytes]:
    """sdssplitargs for a selector's rules (quotes and escapes as in redis.conf); unbalanced
    quotes are a syntax error."""
    from .config_lines import split_args

    try:
        return [p.encode("latin-1") for p in split_args(text.decode("latin-1"), utf8=False)]
    except ValueError:
        raise RuleError(_SYNTAX) from None


def merge_selectors(args: list[bytes]) -> list[bytes]:
    """ACLMergeSelectorArguments: `(` ... `)` spread over several arguments become one rule.
    ValueError(the argument an unclosed selector starts at)."""
    out: list[bytes] = []
    start: int | None = None
    for i, arg in enumerate(args):
        if arg[:1] == b"(" and arg[-1:] != b")":
            if start is not None:  # an opening inside one starts afresh, as in Redis
                out.pop()
            start = i
            out.append(arg)
        elif start is not None:
            out[-1] += b" " + arg
            if arg[-1:] == b")":
                start = None
        else:
            out.append(arg)
    if start is not None:
        raise ValueError(args[start])
    return out


class KeyCache:
    """The keys (with the permission each needs) and channels of one argv, found once for all
    selectors."""

    __slots__ = ("command", "argv", "_keys", "_channels")

    def __init__(self, command: str, argv: list[bytes]) -> None:
        self.command = command
        self.argv = argv
        self._keys: list[tuple[int, int]] | None = None
        self._channels: list[tuple[int, bool]] | None = None

    def keys(self) -> list[tuple[int, int]]:
        if self._keys is None:
            self._keys = command_keys(self.command, self.argv)
        return self._keys

    def channels(self) -> list[tuple[int, bool]]:
        if self._channels is None:
            self._channels = command_channels(self.command, self.argv)
        return self._channels


def command_keys(command: str, argv: list[bytes]) -> list[tuple[int, int]]:
    """(position, permission needed) of each key, as getKeysFromCommandWithSpecs finds them,
    from the key specs' flags as Redis reads them: ACCESS needs read, INSERT, DELETE and UPDATE
    need write."""
    plan = _KEY_PLANS.get(command)
    if plan is None:
        plan = _KEY_PLANS[command] = _key_plan(command) or False
    if type(plan) is list:  # index-and-range specs only: the positions, computed here
        argc = len(argv)
        out = []
        for first, lastkey, step, limit, need in plan:
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
            if last >= argc or last < first or first >= argc:
                return _general_keys(command, argv)  # as by_specs' InvalidSpec
            out += [(i, need) for i in range(first, last + 1, step)]
        return out
    if plan is not False:  # Redis's key function for the command (SET, SORT, MIGRATE...)
        return [(pos, _need(flags)) for pos, flags in plan(argv)]
    return _general_keys(command, argv)


_KEY_PLANS: dict[str, list | Callable | bool] = {}  # `_key_plan`s; False: the general way


def _need(flags: list[str]) -> int:
    need = READ if "access" in flags else 0
    if "insert" in flags or "delete" in flags or "update" in flags:
        need |= WRITE
    return need


def _key_plan(command: str) -> list | Callable | None:
    """How to find a command's keys: a list of (first, lastkey, keystep, limit, permission)
    when every key spec is an index and a range; the key function when its specs send
    keys_and_flags there at once (variable flags); else None (`_general_keys`)."""
    from ..commands.admin import _redis_meta
    from ..commands.keyspecs import PROCS

    meta = _redis_meta()["info"].get(command)
    if meta is None:
        return None
    specs = [[str(f) for f in spec[b"flags"]] for spec in meta[b"key_specs"]]
    if command in PROCS and (any("variable_flags" in flags for flags in specs)
                             or all("not_key" in flags for flags in specs)):
        return PROCS[command]
    plan = []
    for spec, flags in zip(meta[b"key_specs"], specs):
        if "not_key" in flags:
            continue
        begin, find = spec[b"begin_search"], spec[b"find_keys"]
        if "variable_flags" in flags or "incomplete" in flags or begin[b"type"] != b"index" \
                or find[b"type"] != b"range":
            return None
        how = find[b"spec"]
        plan.append((begin[b"spec"][b"index"], how[b"lastkey"], how[b"keystep"], how[b"limit"],
                     _need(flags)))
    return plan


def _general_keys(command: str, argv: list[bytes]) -> list[tuple[int, int]]:
    from ..commands.admin import _redis_meta
    from ..commands.keyspecs import keys_and_flags
    from ..commands.table import COMMANDS

    meta = _redis_meta()["info"].get(command)
    if meta is None:  # a command Redis lacks: its table keys, needing both
        parent, _, sub = command.partition("|")
        cmd = COMMANDS[parent.encode()]
        if sub:
            cmd = cmd.subcommands[sub.encode()]
        found = set(cmd.keys(argv))
        return [(i, ALL) for i, a in enumerate(argv) if i and a in found]
    return [(pos, _need([str(f) for f in flags]))
            for pos, flags in keys_and_flags(command, meta[b"key_specs"], argv)]


# Commands that publish (position 1) or subscribe (every argument; PSUBSCRIBE's are patterns).
_PUBLISH = {"publish", "spublish"}
_SUBSCRIBE = {"subscribe": False, "ssubscribe": False, "psubscribe": True}


def command_channels(command: str, argv: list[bytes]) -> list[tuple[int, bool]]:
    if command in _PUBLISH:
        return [(1, False)] if len(argv) > 1 else []
    if command in _SUBSCRIBE:
        return [(i, _SUBSCRIBE[command]) for i in range(1, len(argv))]
    return []


# -- the registry -------------------------------------------------------------------------------

class Acl:
    """The users and the ACL log."""

    def __init__(self, requirepass: str = "", log_max: int = 128,
                 pubsub_default: bool = False) -> None:
        self.pubsub_default = pubsub_default  # acl-pubsub-default allchannels
        default = User(b"default")
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            default.apply(rule, True)
        self.users: dict[bytes, User] = {b"default": default}
        self.require(requirepass)
        self.log: deque[dict] = deque()
        self.log_max = log_max

    @property
    def default(self) -> User:
        return self.users[b"default"]

    @property
    def open(self) -> bool:
        """Whether a new connection is authenticated as the default user without AUTH."""
        d = self.default
        return d.nopass and d.enabled

    def require(self, password: str) -> None:
        """`requirepass`: that one password for the default user, or nopass ("")."""
        d = self.default
        if password:
            d.passwords = [digest(password.encode("utf-8", "surrogateescape"))]
            d.nopass = False
        else:
            d.passwords, d.nopass = [], True

    def authenticate(self, name: bytes, password: bytes) -> User | None:
        user = self.users.get(name)
        return user if user is not None and user.check_password(password) else None

    def set_user(self, name: bytes, rules: Iterable[bytes]) -> tuple[User, User | None]:
        """Apply rules to a copy of the user (a new one if absent); RuleError(rule, reason)
        leaves everything as it was. Returns (the user now, its state before or None)."""
        old = self.users.get(name)
        user = old.copy() if old is not None else User(name, self.pubsub_default)
        for rule in rules:
            try:
                user.apply(rule, self.pubsub_default)
            except RuleError as exc:
                raise RuleError(rule, str(exc)) from None
        if old is None:
            self.users[name] = user
            return user, None
        before = old.copy()
        old.assign(user)
        return old, before

    def add_log(self, reason: str, context: str, obj: str, username: bytes,
                client_info: str) -> None:
        """addACLLogEntry: a refusal, counted into a recent entry like it (same reason,
        context, object and user within 60 s) or added first."""
        now_ms = int(time.time() * 1000)
        for entry in self.log:
            if (entry["reason"] == reason and entry["context"] == context
                    and entry["object"] == obj and entry["username"] == username
                    and now_ms - entry["ctime"] < GROUPING_MS):
                entry["count"] += 1
                entry["ctime"] = now_ms
                entry["client-info"] = client_info
                self.log.remove(entry)
                self.log.appendleft(entry)
                return
        self.log.appendleft({"count": 1, "reason": reason, "context": context, "object": obj,
                             "username": username, "ctime": now_ms,
                             "client-info": client_info})
        while len(self.log) > self.log_max:
            self.log.pop()

    def failed_auth(self, username: bytes, command: str, context: str,
                    client_info: str) -> None:
        """Log a refused AUTH / HELLO AUTH; `command` is the log's object."""
        self.add_log("auth", context, command, username, client_info)
