"""Keys and their flags from Redis's key specifications (COMMAND GETKEYSANDFLAGS).

A key spec (Redis 7's COMMAND INFO) says where a command's keys begin (an index, or the
argument after a keyword) and how many follow (a range, or a count read from the arguments),
and what the command does to them (RO, RW, OW, RM; access, update, insert, delete). This is
Redis's getKeysUsingKeySpecs over the specs of redis_commands.json, and, where Redis prefers a
function (a spec marked incomplete or variable_flags), the same functions: SET's flags depend
on GET, BITFIELD's on whether it writes, SORT's and GEORADIUS's STORE and MIGRATE's KEYS are
found by scanning the arguments.
"""

from __future__ import annotations

from collections.abc import Callable

KeyFlags = list[tuple[int, list[str]]]  # (argument position, key-spec flag names)


class InvalidSpec(Exception):
    """The arguments do not fit a spec (or a spec is incomplete): Redis then asks the
    command's key function."""


def _number(arg: bytes) -> int | None:
    """A count as Redis's string2ll reads it: digits with an optional minus, no leading zero,
    no sign on zero, in the int64 range; None otherwise."""
    digits = arg[1:] if arg[:1] == b"-" else arg
    if not digits.isdigit() or (digits[:1] == b"0" and arg != b"0") or len(digits) > 19:
        return None
    value = int(arg)
    return value if -(1 << 63) <= value < (1 << 63) else None


def by_specs(specs: list[dict], argv: list[bytes]) -> KeyFlags:
    """Redis's getKeysUsingKeySpecs (GET_KEYSPEC_DEFAULT). Raises InvalidSpec."""
    argc = len(argv)
    out: KeyFlags = []
    for spec in specs:
        flags = [str(f) for f in spec[b"flags"]]
        if "not_key" in flags:
            continue
        begin = spec[b"begin_search"]
        kind = begin[b"type"]
        if kind == b"index":
            first = begin[b"spec"][b"index"]
        elif kind == b"keyword":
            keyword = begin[b"spec"][b"keyword"].lower()
            startfrom = begin[b"spec"][b"startfrom"]
            # forward up to the one before last, or backward down to argument 2: a keyword as
            # the last (first) argument is no keyword, as in Redis's loop
            scan = (range(startfrom, argc - 1) if startfrom > 0
                    else range(argc + startfrom, 1, -1))
            first = next((i + 1 for i in scan if 1 <= i < argc and argv[i].lower() == keyword), 0)
            if not first:
                continue
        else:
            raise InvalidSpec
        find = spec[b"find_keys"]
        kind, how = find[b"type"], find[b"spec"]
        if kind == b"range":
            step = how[b"keystep"]
            if how[b"lastkey"] >= 0:
                last = first + how[b"lastkey"]
            elif not how[b"limit"]:
                last = argc + how[b"lastkey"]
            else:
                last = first + ((argc - first) // how[b"limit"] + how[b"lastkey"])
        elif kind == b"keynum":
            step = how[b"keystep"]
            if how[b"keynumidx"] >= argc - first:
                raise InvalidSpec
            count = _number(argv[first + how[b"keynumidx"]])
            if count is None or count < 0:
                raise InvalidSpec
            first += how[b"firstkey"]
            last = first + ((count + (1 << 31)) % (1 << 32) - (1 << 31)) - 1  # (int)numkeys
        else:
            raise InvalidSpec
        if last >= argc or last < first or first >= argc:
            raise InvalidSpec
        out += [(i, flags) for i in range(first, last + 1, step)]
        if "incomplete" in flags:
            raise InvalidSpec
    return out


_RO = ["RO", "access"]
_RW = ["RW", "access", "update"]
_OW = ["OW", "update"]


def _set_keys(argv: list[bytes]) -> KeyFlags:
    writes_only = not any(a.lower() == b"get" for a in argv[3:])
    return [(1, _OW if writes_only else _RW)]


def _bitfield_keys(argv: list[bytes]) -> KeyFlags:
    readonly = True
    i = 2
    while i < len(argv):
        rest = len(argv) - i - 1
        op = argv[i].lower()
        if op == b"get" and rest >= 2:
            i += 2
        elif op == b"overflow" and rest >= 1:
            i += 1
        else:  # SET, INCRBY, or a syntax error: safer taken as a write
            readonly = False
            break
        i += 1
    return [(1, _RO if readonly else _RW)]


def sort_keys(argv: list[bytes]) -> KeyFlags:
    """SORT's source, and the last STORE's destination, skipping the arguments of LIMIT, GET
    and BY (sortGetKeys)."""
    out: KeyFlags = [(1, _RO)]
    store = None
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    i = 2
    while i < len(argv):
        arg = argv[i].lower()
        if arg in skip:
            i += skip[arg]
        elif arg == b"store" and i + 1 < len(argv):
            store = i + 1  # the last STORE wins (its key is then looked at as an option)
        i += 1
    if store is not None:
        out.append((store, _OW))
    return out


_MIGRATE_SKIP = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def migrate_keys(argv: list[bytes]) -> KeyFlags:
    """MIGRATE's key, or with an empty one the keys after KEYS (AUTH's and AUTH2's arguments
    skipped), as migrateGetKeys finds them."""
    flags = ["RW", "access", "delete"]
    i = 6
    while i < len(argv):
        arg = argv[i].lower()
        if arg == b"keys":
            if argv[3]:  # KEYS with a key too: a syntax error, MIGRATE's to report
                return []
            return [(j, flags) for j in range(i + 1, len(argv))]
        i += _MIGRATE_SKIP.get(arg, 0) + 1
    return [(3, flags)]


def _atoi(arg: bytes) -> int:
    """C's atoi as glibc does it (strtol, then cut to an int)."""
    text = arg.lstrip(b" \t\n\v\f\r")
    sign = -1 if text[:1] == b"-" else 1
    if text[:1] in (b"-", b"+"):
        text = text[1:]
    digits = len(text) - len(text.lstrip(b"0123456789"))
    value = sign * int(text[:digits]) if digits else 0
    value = max(-(1 << 63), min(value, (1 << 63) - 1))
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _counted_keys(store: int, count_at: int, first: int) -> Callable[[list[bytes]], KeyFlags]:
    """Redis's genericGetKeys: a key count at `count_at` (read by atoi), the keys from `first`,
    and a destination at `store` (0: none); it gives no flags."""
    def keys(argv: list[bytes]) -> KeyFlags:
        count = _atoi(argv[count_at]) if count_at < len(argv) else 0
        if count < 1 or count > len(argv) - first:
            return []
        return [(first + i, []) for i in range(count)] + ([(store, [])] if store else [])
    return keys


def _georadius_keys(argv: list[bytes]) -> KeyFlags:
    out: KeyFlags = [(1, _RO)]
    store = None
    i = 5
    while i < len(argv) - 1:
        if argv[i].lower() in (b"store", b"storedist"):  # the last one wins
            store = i + 1
            i += 1
        i += 1
    if store is not None:
        out.append((store, _OW))
    return out


# Redis's key functions (getkeys_proc) of the commands whose specs it does not trust alone.
PROCS: dict[str, Callable[[list[bytes]], KeyFlags]] = {
    "set": _set_keys, "bitfield": _bitfield_keys, "sort": sort_keys,
    "sort_ro": lambda argv: [(1, _RO)], "migrate": migrate_keys,
    "georadius": _georadius_keys, "georadiusbymember": _georadius_keys,
    **dict.fromkeys(["eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "blmpop",
                     "bzmpop"], _counted_keys(0, 2, 3)),
    **dict.fromkeys(["sintercard", "zunion", "zinter", "zdiff", "zintercard", "lmpop", "zmpop"],
                    _counted_keys(0, 1, 2)),
    **dict.fromkeys(["zunionstore", "zinterstore", "zdiffstore"], _counted_keys(1, 2, 3)),
}


def keys_and_flags(name: str, specs: list[dict], argv: list[bytes]) -> KeyFlags:
    """The keys of `argv` (positions) with their flags, as Redis's
    getKeysFromCommandWithSpecs finds them; [] when it finds none."""
    has_keys = any("not_key" not in [str(f) for f in s[b"flags"]] for s in specs)
    variable = any("variable_flags" in [str(f) for f in s[b"flags"]] for s in specs)
    if has_keys and not variable:
        try:
            return by_specs(specs, argv)
        except InvalidSpec:
            pass
    proc = PROCS.get(name)
    return proc(argv) if proc is not None else []
