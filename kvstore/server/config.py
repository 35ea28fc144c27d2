"""Server configuration: every option by its redis.conf name, with type, default and validation.

One `Config` holds the values in force. It is filled, in order, from the defaults below, a
redis.conf-syntax file (`name value...` lines, `#` comments, quoted arguments as Redis's
`sdssplitargs` reads them, `include other.conf`), then command-line `--name value...` pairs, which
Redis also treats as config lines appended to the file (config_lines.py reads that text).
A single-value option takes exactly one argument; a list option (save, bind, ...) takes the
line's words, as Redis's MULTI_ARG_CONFIG. CONFIG GET/SET/REWRITE work on the same table
(CONFIG REWRITE: config_rewrite.py).

Options Redis 7.0 has but kvstore ignores (defrag, syslog, CPU lists, replication tuning, ...)
are kept with Redis's type, default and validation, so CONFIG GET answers and config files
written for Redis load unchanged; so are Redis's TLS and cluster options, though kvstore has
neither.

Validation texts are Redis 7.0's; CONFIG SET reports them as
"ERR CONFIG SET failed (possibly related to argument 'NAME') - TEXT".
Listeners (`Config.listeners[name]`) let the server apply a change at once (maxmemory, ...); one
that cannot (a port in use) raises ConfigError, and the option keeps its old value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..engine import values as V
from ..engine.glob import compile_glob
from ..errors import CommandError
from ..numbers import parse_float, parse_int
from .config_lines import C_SPACE, FatalConfigError, read_config_file, split_args

LLONG_MAX = (1 << 63) - 1
ULLONG_MAX = (1 << 64) - 1
UINT_MAX = (1 << 32) - 1
INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)


class ConfigError(ValueError):
    """A bad value; str(exc) is Redis's reason text."""


# -- value parsers ------------------------------------------------------------------------------

_MEMORY = re.compile(r"([0-9]*)([A-Za-z]*)")
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
          "g": 1000 ** 3, "gb": 1024 ** 3}


def parse_memory(text: str) -> int:
    """Redis's memtoull: '100', '1k' (1000), '1kb' (1024), '1gb', case-insensitive; ASCII
    digits only, no spaces, and no digits at all reads as 0 ('' and 'kb' are 0, as in Redis).
    Its C arithmetic too: up to 127 digits, a number past ULLONG_MAX reads as ULLONG_MAX
    (strtoull), and the unit's product wraps at 2**64 ('99999999999999999999' sets maxmemory
    to 18446744073709551615, '9223372036854775808kb' to 0)."""
    m = _MEMORY.fullmatch(text)
    if m is None or m.group(2).lower() not in _UNITS or len(m.group(1)) >= 128:
        raise ConfigError("argument must be a memory value")
    return min(int(m.group(1) or 0), ULLONG_MAX) * _UNITS[m.group(2).lower()] % (ULLONG_MAX + 1)


# Options that are encoding thresholds, and the `engine.values.Thresholds` field each sets (the
# server and an embedded store's CONFIG both keep their keyspace's thresholds in step).
THRESHOLDS = (("hash-max-listpack-entries", "hash_entries"),
              ("hash-max-listpack-value", "hash_value"),
              ("set-max-intset-entries", "set_intset"),
              ("zset-max-listpack-entries", "zset_entries"),
              ("zset-max-listpack-value", "zset_value"),
              ("hll-sparse-max-bytes", "hll_sparse_max_bytes"),
              ("stream-node-max-bytes", "stream_node_max_bytes"),
              ("stream-node-max-entries", "stream_node_max_entries"))


def _parse_int(text: str) -> int:
    """Redis's string2ll: no spaces, signs but '-', leading zeros or '-0'."""
    try:
        return parse_int(text.encode("utf-8", "surrogateescape"))
    except ValueError:
        raise ConfigError("argument couldn't be parsed into an integer") from None


def _parse_hz(text: str) -> int:
    """hz: any int from 0 up, kept between 1 and 500 as Redis's updateHZ keeps it."""
    value = _parse_int(text)
    if not 0 <= value <= INT_MAX:
        raise ConfigError(f"argument must be between 0 and {INT_MAX} inclusive")
    return min(max(value, 1), 500)


def _parse_bool(text: str) -> bool:
    t = text.lower()
    if t == "yes":
        return True
    if t == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


@dataclass(slots=True)
class Option:
    """One option: kind is int | memory | octal | bool | enum | string | special."""

    name: str
    kind: str
    default: str
    lo: int = 0
    hi: int = LLONG_MAX
    choices: tuple[str, ...] = ()
    mutable: bool = True
    alias: str = ""
    # Redis's HIDDEN_CONFIG (debugging knobs): CONFIG GET names it only when asked by name
    hidden: bool = False
    # CONFIG SET only with enable-protected-configs yes (or local, from a local connection):
    # Redis 7's guard against writing files where a client chooses.
    protected: bool = False
    # Redis's DENY_LOADING_CONFIG: CONFIG SET answers LOADING while the data set loads
    deny_loading: bool = False
    # special: parse(text) -> value, fmt(value) -> text, and merge(old, new) -> value in force
    # when a value sets only part of the option (client-output-buffer-limit's classes)
    parse: Callable[[Any], Any] | None = None
    fmt: Callable[[Any], str] | None = None
    merge: Callable[[Any, Any], Any] | None = None
    # Redis's MULTI_ARG_CONFIG: parse takes the list of arguments. A config line gives them as
    # its words (one quoted word is split again); CONFIG SET splits its value at each space.
    multi: bool = False
    # What the value does outside the table, at start-up as at CONFIG SET (dir: chdir, in
    # whatever process holds the Config), returning the value to keep; raises ConfigError,
    # and the option keeps its old value.
    effect: Callable[[Any], Any] | None = None

    def convert(self, text: str) -> Any:
        """The value of a CONFIG SET argument (or a default)."""
        if self.multi:
            return self.parse(text.split(" ") if text else [])  # type: ignore[misc]
        kind = self.kind
        if kind == "octal":
            return self._bounded(_parse_octal(text))
        if kind == "int" or kind == "memory":
            if kind == "memory":
                t = text  # no strip: Redis refuses " 10" for a memory value
                value = -parse_memory(t[1:]) if t[:1] == "-" and self.lo < 0 else parse_memory(t)
            else:
                value = _parse_int(text)
            return self._bounded(value)
        if kind == "bool":
            return _parse_bool(text)
        if kind == "enum":
            t = text.lower()
            if t not in self.choices:
                raise ConfigError("argument(s) must be one of the following: "
                                  + ", ".join(self.choices))
            return t
        if kind == "special":
            return self.parse(text)  # type: ignore[misc]
        return text

    def convert_words(self, words: list[str]) -> Any:
        """The value of a config line's arguments (Redis checks their count first)."""
        if not self.multi:
            if len(words) != 1:
                raise ConfigError("wrong number of arguments")
            return self.convert(words[0])
        if len(words) == 1 and words[0]:
            try:
                words = split_args(words[0])
            except ValueError:
                raise ConfigError("Unbalanced quotes in configuration line") from None
        return self.parse(words)  # type: ignore[misc]

    def _bounded(self, value: int) -> int:
        if not self.lo <= value <= self.hi:
            fmt = "o" if self.kind == "octal" else "d"
            raise ConfigError(f"argument must be between {self.lo:{fmt}} and {self.hi:{fmt}} "
                              "inclusive")
        return value

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "octal":
            return f"{value:o}"
        if self.fmt is not None:
            return self.fmt(value)
        return str(value)


# -- special options ----------------------------------------------------------------------------


# strtoll's whole-string forms: leading C spaces, a sign, digits; or nothing at all (read as 0).
_STRTOLL = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+|")
_STRTOLL_OCTAL = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-7]+|")
LLONG_MIN = -LLONG_MAX - 1


def _strtoll(word: str) -> int | None:
    """C's strtoll(word, &end, 10) when it reads the whole word (clamped as it clamps), else
    None."""
    if _STRTOLL.fullmatch(word) is None:
        return None
    digits = word.strip(C_SPACE)
    return min(max(int(digits) if digits else 0, LLONG_MIN), LLONG_MAX)


def _c_int(value: int) -> int:
    """A long long stored in a C int (two's complement truncation)."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _parse_octal(text: str) -> int:
    """unixsocketperm: strtoll base 8 (overflow is refused)."""
    digits = text.strip(C_SPACE)
    if _STRTOLL_OCTAL.fullmatch(text) is None or \
            not LLONG_MIN <= (value := int(digits, 8) if digits else 0) <= LLONG_MAX:
        raise ConfigError("argument couldn't be parsed as an octal number")
    # The bound is checked as unsigned: -1 is past 777 too
    return value % (ULLONG_MAX + 1)


def _parse_replicaof(words: list[str]) -> str:
    """`replicaof <masterip> <masterport>` or `replicaof no one`, kept as "host port" ("" for
    none)."""
    if len(words) != 2:
        raise ConfigError("wrong number of arguments")
    host, port_text = words
    if host.lower() == "no" and port_text.lower() == "one":
        return ""
    port = _strtoll(port_text)  # strtol
    if port is None or not 0 <= port <= 65535:
        raise ConfigError("Invalid master port")
    return f"{host} {port}"


def _parse_bind(words: list[str]) -> str:
    if len(words) > 16:  # CONFIG_BINDADDR_MAX
        raise ConfigError("Too many bind addresses specified.")
    return " ".join(words)

OUTPUT_CLASSES = ("normal", "replica", "pubsub")


def _parse_obuf(args: list[str]) -> dict[str, tuple[int, int, int]]:
    """client-output-buffer-limit: '<class> <hard> <soft> <soft-seconds>' repeated, for the
    classes named (`_merge_obuf` keeps the others; no argument names none)."""
    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    limits: dict[str, tuple[int, int, int]] = {}
    for i in range(0, len(args), 4):
        cls = args[i].lower()
        cls = "replica" if cls == "slave" else cls
        if cls not in OUTPUT_CLASSES:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        secs = _strtoll(args[i + 3])
        secs = -1 if secs is None else _c_int(secs)  # kept in an int, as Redis keeps it
        try:
            hard, soft = parse_memory(args[i + 1]), parse_memory(args[i + 2])
        except ConfigError:
            secs = -1
        if secs < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit "
                              "configuration.")
        limits[cls] = (hard, soft, secs)
    return limits


def _merge_obuf(old: dict[str, tuple[int, int, int]],
               new: dict[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    return {**old, **new}


def _fmt_obuf(limits: dict[str, tuple[int, int, int]]) -> str:
    out = []
    for cls in OUTPUT_CLASSES:
        hard, soft, secs = limits[cls]
        out.append(f"{'slave' if cls == 'replica' else cls} {hard} {soft} {secs}")
    return " ".join(out)


def _parse_save(args: list[str]) -> list[tuple[int, int]]:
    """`save <seconds> <changes>...` (one "" for none): seconds from 1, changes from 0, read by
    strtoll; changes are kept in a C int, as Redis keeps them."""
    if args == [""]:
        args = []
    values = [_strtoll(word) for word in args]
    if len(args) % 2 or any(v is None or v < (1 - j % 2) for j, v in enumerate(values)):
        raise ConfigError("Invalid save parameters")
    return [(values[j], _c_int(values[j + 1])) for j in range(0, len(values), 2)]


def _fmt_save(rules: list[tuple[int, int]]) -> str:
    return " ".join(f"{s} {c}" for s, c in rules)


_SHUTDOWN_FLAGS = ("save", "nosave", "now", "force")


def _parse_shutdown_flags(args: list[str]) -> tuple[str, ...]:
    """shutdown-on-sigterm / shutdown-on-sigint: SHUTDOWN's flags for the signal, any of
    save, nosave, now and force ("default": none), in that order."""
    words = {word.lower() for word in args}
    if not words or not words <= {"default", *_SHUTDOWN_FLAGS}:
        raise ConfigError("argument(s) must be one of the following: default, "
                          + ", ".join(_SHUTDOWN_FLAGS))
    if {"save", "nosave"} <= words:
        raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
    return tuple(flag for flag in _SHUTDOWN_FLAGS if flag in words)


def _parse_keyspace_events(text: str) -> int:
    """The flags, as Redis keeps them: "KEA" reads back "AKE" (`_fmt_keyspace_events`), and
    "KEAn" reads back "AKE" too, its `new` events on all the same, as in Redis."""
    if any(c not in "KEg$lshzxetmdnA" for c in text):
        raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    from .pubsub import parse_flags

    return parse_flags(text)


def _fmt_keyspace_events(flags: int) -> str:
    from .pubsub import flags_to_text

    return flags_to_text(flags)


def _parse_percentiles(words: list[str]) -> list[float]:
    """latency-tracking-info-percentiles: numbers from 0 to 100 (one "" for none)."""
    if words == [""]:
        words = []
    try:
        values = [parse_float(word.encode("utf-8", "surrogateescape")) for word in words]
    except ValueError:
        raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
    if not all(0.0 <= v <= 100.0 for v in values):
        raise ConfigError("latency-tracking-info-percentiles parameters should sit between "
                          "[0.0,100.0]")
    return values


def _fmt_percentiles(values: list[float]) -> str:
    from .latency import format_percentile

    return " ".join(format_percentile(v) for v in values)


def _parse_memory_or_percent(text: str) -> int:
    """maxmemory-clients: a memory value, or 'N%' of maxmemory, kept as -N as Redis keeps it."""
    try:
        value = parse_memory(text)
    except ConfigError:
        percent = -1
        if len(text) > 1 and text.endswith("%"):
            try:
                percent = parse_int(text[:-1].encode("utf-8", "surrogateescape"))
            except ValueError:
                pass
        if percent < 0:
            raise ConfigError("argument must be a memory or percent value") from None
        value = -percent
    # Redis reads the memory value as signed: past LLONG_MAX it is taken for a percentage
    # (ULLONG_MAX, what '99999999999999999999' reads as, is -1: "1%").
    if value > LLONG_MAX:
        value -= ULLONG_MAX + 1
    if value < -100:
        raise ConfigError("percentage argument must be less or equal to 100")
    return value


def _fmt_memory_or_percent(value: int) -> str:
    return f"{-value}%" if value < 0 else str(value)


def _parse_oom_values(words: list[str]) -> tuple[int, ...]:
    """oom-score-adj-values: three integers for master, replica and child (CONFIG SET splits at
    single spaces, so a double space there makes an empty, 0, fourth value)."""
    if len(words) != 3:
        raise ConfigError("wrong number of arguments")
    if not all(_STRTOLL.fullmatch(w) and -2000 <= int(w or 0) <= 2000 for w in words):
        raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and "
                          "2000.")
    return tuple(int(w or 0) for w in words)


def _fmt_oom_values(values: tuple[int, ...]) -> str:
    return " ".join(map(str, values))


# proc-title-template's variables, and whether each expands to text when Redis validates a
# template: the title is empty then, and so are the server mode (no cluster) and unix socket.
_TITLE_VARIABLES = {"title": False, "listen-addr": True, "server-mode": False,
                    "config-file": True, "port": True, "tls-port": True, "unixsocket": False}
_BAD_TEMPLATE = "template format is invalid or contains unknown variables"


def _parse_title_template(text: str) -> str:
    """Redis's sdstemplate syntax ('{name}', '{{' for a brace), known names only, and not blank
    once expanded ('{title}' alone is refused)."""
    shown, i = False, 0
    while (j := text.find("{", i)) >= 0:
        shown = shown or bool(text[i:j].strip(" "))
        if text[j + 1:j + 2] == "{":
            shown, i = True, j + 2
            continue
        k = text.find("}", j + 1)
        if k < 0 or text[j + 1:k] not in _TITLE_VARIABLES:
            raise ConfigError(_BAD_TEMPLATE)
        shown, i = shown or _TITLE_VARIABLES[text[j + 1:k]], k + 1
    if not (shown or text[i:].strip(" ")):
        raise ConfigError(_BAD_TEMPLATE)
    return text


def _file_name(option: str, what: str = "") -> Callable[[str], str]:
    """dbfilename, appendfilename, appenddirname: a name in `dir`, not a path (the AOF names
    not empty either)."""
    def parse(text: str) -> str:
        if what and not text:
            raise ConfigError(f"{option} can't be empty")
        if "/" in text:
            raise ConfigError(f"{option} can't be a path, just {what or 'a filename'}")
        return text

    return parse


def _chdir(path: str) -> str:
    """dir: the working directory (kept absolute, so that putting it back is a chdir too)."""
    try:
        os.chdir(path)
    except OSError as exc:
        raise ConfigError(exc.strerror) from None
    return os.getcwd()


def _parse_hostname(text: str) -> str:
    """cluster-announce-hostname: letters, digits, '-' and '.', under NET_HOST_STR_LEN."""
    if len(text.encode("utf-8", "surrogateescape")) >= 256:
        raise ConfigError("Hostnames must be less than 256 characters")
    if any(not (c.isascii() and (c.isalnum() or c in "-.")) for c in text):
        raise ConfigError("Hostnames may only contain alphanumeric characters, hyphens or dots")
    return text


def _parse_activedefrag(text: str) -> bool:
    """activedefrag: 'no' only, as in a Redis built without its patched jemalloc (this one has
    no defragmenter either)."""
    if _parse_bool(text):
        raise ConfigError("Active defragmentation cannot be enabled: it requires a Redis server "
                          "compiled with a modified Jemalloc like the one shipped by default "
                          "with the Redis source distribution")
    return False


# -- the table ----------------------------------------------------------------------------------

_POLICIES = ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
             "allkeys-lfu", "allkeys-random", "noeviction")

OPTIONS: list[Option] = [
    Option("port", "int", "6379", 0, 65535),
    Option("bind", "special", "127.0.0.1 -::1", parse=_parse_bind, multi=True),
    Option("unixsocket", "string", "", mutable=False),
    Option("unixsocketperm", "octal", "0", 0, 0o777, mutable=False),
    Option("protected-mode", "bool", "yes"),
    Option("requirepass", "string", ""),
    # In force as the working directory, which CONFIG GET shows (Redis's getcwd)
    Option("dir", "special", ".", protected=True, deny_loading=True, parse=str,
           fmt=lambda _: os.getcwd(), effect=_chdir),
    # yes: main.py forks into the background, as Redis does
    Option("daemonize", "bool", "no", mutable=False),
    Option("databases", "int", "16", 1, INT_MAX, mutable=False),
    Option("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    Option("logfile", "string", "", mutable=False),
    Option("pidfile", "string", "", mutable=False),
    Option("maxclients", "int", "10000", 1, UINT_MAX),
    Option("timeout", "int", "0", 0, INT_MAX),
    Option("tcp-keepalive", "int", "300", 0, INT_MAX),
    Option("tcp-backlog", "int", "511", 0, INT_MAX, mutable=False),
    Option("hz", "special", "10", parse=_parse_hz),
    # Redis's watchdog: the stacks go to the log when the loop stalls this long (ms; server.py)
    Option("watchdog-period", "int", "0", 0, INT_MAX, hidden=True),
    # The start-up load serves clients after each this many bytes of file it reads (1 MB at
    # most); key-load-delay, Redis's knob to look at a server while it loads, waits so many
    # microseconds at each record (negative: 1 us at one in -N). See server/loading.py.
    Option("loading-process-events-interval-bytes", "int", "2097152", 1024, INT_MAX,
           hidden=True),
    Option("key-load-delay", "int", "0", INT_MIN, INT_MAX, hidden=True),
    # ...and rdb-key-save-delay at each key a save writes (persistence/snapshot.py)
    Option("rdb-key-save-delay", "int", "0", INT_MIN, INT_MAX, hidden=True),
    Option("maxmemory", "memory", "0", 0, ULLONG_MAX),
    Option("maxmemory-policy", "enum", "noeviction", choices=_POLICIES),
    Option("maxmemory-samples", "int", "5", 1, INT_MAX),
    Option("maxmemory-eviction-tenacity", "int", "10", 0, 100),
    # Client eviction: server/client_eviction.py
    Option("maxmemory-clients", "special", "0", parse=_parse_memory_or_percent,
           fmt=_fmt_memory_or_percent),
    Option("proto-max-bulk-len", "memory", "536870912", 1024 * 1024, LLONG_MAX),
    Option("client-query-buffer-limit", "memory", "1073741824", 1024 * 1024, LLONG_MAX),
    Option("client-output-buffer-limit", "special", "normal 0 0 0 slave 268435456 67108864 60 "
           "pubsub 33554432 8388608 60", parse=_parse_obuf, fmt=_fmt_obuf, merge=_merge_obuf,
           multi=True),
    Option("slowlog-log-slower-than", "int", "10000", -1, LLONG_MAX),
    Option("slowlog-max-len", "int", "128", 0, LLONG_MAX),
    Option("latency-monitor-threshold", "int", "0", 0, LLONG_MAX),
    Option("latency-tracking", "bool", "yes"),
    Option("latency-tracking-info-percentiles", "special", "50 99 99.9",
           parse=_parse_percentiles, fmt=_fmt_percentiles, multi=True),
    Option("notify-keyspace-events", "special", "", parse=_parse_keyspace_events,
           fmt=_fmt_keyspace_events),
    Option("save", "special", "3600 1 300 100 60 10000", parse=_parse_save, fmt=_fmt_save,
           multi=True),
    Option("appendonly", "bool", "no", deny_loading=True),
    Option("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    Option("appendfilename", "special", "appendonly.aof", mutable=False,
           parse=_file_name("appendfilename", "a filename")),
    Option("appenddirname", "special", "appendonlydir", mutable=False,
           parse=_file_name("appenddirname", "a dirname")),
    Option("dbfilename", "special", "dump.rdb", protected=True, parse=_file_name("dbfilename")),
    Option("auto-aof-rewrite-percentage", "int", "100", 0, INT_MAX),
    Option("auto-aof-rewrite-min-size", "memory", "67108864", 0, LLONG_MAX),
    Option("aof-load-truncated", "bool", "yes"),
    Option("aof-use-rdb-preamble", "bool", "yes"),
    Option("stop-writes-on-bgsave-error", "bool", "yes"),
    Option("rdbcompression", "bool", "yes"),
    Option("rdbchecksum", "bool", "yes", mutable=False),
    # The engine's thresholds are the defaults, so the server converts encodings where the
    # embedded store (and Redis 7.0: hashes at 512 entries, zsets at 128) does.
    Option("hash-max-listpack-entries", "int", str(V.HASH_MAX_LISTPACK_ENTRIES), 0, LLONG_MAX,
           alias="hash-max-ziplist-entries"),
    Option("hash-max-listpack-value", "memory", str(V.HASH_MAX_LISTPACK_VALUE), 0, LLONG_MAX,
           alias="hash-max-ziplist-value"),
    Option("set-max-intset-entries", "int", str(V.SET_MAX_INTSET_ENTRIES), 0, LLONG_MAX),
    Option("zset-max-listpack-entries", "int", str(V.ZSET_MAX_LISTPACK_ENTRIES), 0, LLONG_MAX,
           alias="zset-max-ziplist-entries"),
    Option("zset-max-listpack-value", "memory", str(V.ZSET_MAX_LISTPACK_VALUE), 0, LLONG_MAX,
           alias="zset-max-ziplist-value"),
    Option("hll-sparse-max-bytes", "memory", str(V.HLL_SPARSE_MAX_BYTES), 0, LLONG_MAX),
    Option("list-max-listpack-size", "int", "-2", -INT_MAX - 1, INT_MAX,
           alias="list-max-ziplist-size"),
    Option("list-compress-depth", "int", "0", 0, INT_MAX),
    Option("lfu-log-factor", "int", "10", 0, INT_MAX),
    Option("lfu-decay-time", "int", "1", 0, INT_MAX),
    Option("active-expire-effort", "int", "1", 1, 10),
    Option("activerehashing", "bool", "yes"),
    Option("lazyfree-lazy-eviction", "bool", "no"),
    Option("lazyfree-lazy-expire", "bool", "no"),
    Option("lazyfree-lazy-server-del", "bool", "no"),
    Option("lazyfree-lazy-user-del", "bool", "no"),
    Option("lazyfree-lazy-user-flush", "bool", "no"),
    Option("io-threads", "int", "1", 1, 128, mutable=False),
    Option("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), mutable=False),
    Option("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"),
           mutable=False),
    Option("enable-module-command", "enum", "no", choices=("no", "yes", "local"),
           mutable=False),
    Option("shutdown-timeout", "int", "10", 0, INT_MAX),
    *(Option(name, "special", "default", parse=_parse_shutdown_flags, multi=True,
             fmt=lambda flags: " ".join(flags) or "default")
      for name in ("shutdown-on-sigint", "shutdown-on-sigterm")),
    Option("busy-reply-threshold", "int", "5000", 0, LLONG_MAX, alias="lua-time-limit"),
    Option("always-show-logo", "bool", "no", mutable=False),
    Option("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"),
           mutable=False),
    Option("replicaof", "special", "no one", mutable=False, alias="slaveof", parse=_parse_replicaof,
           multi=True),
    Option("masterauth", "string", ""),
    Option("masteruser", "string", ""),
    Option("repl-ping-replica-period", "int", "10", 1, INT_MAX, alias="repl-ping-slave-period"),
    Option("repl-timeout", "int", "60", 1, INT_MAX),
    Option("min-replicas-to-write", "int", "0", 0, INT_MAX, alias="min-slaves-to-write"),
    Option("min-replicas-max-lag", "int", "10", 0, INT_MAX, alias="min-slaves-max-lag"),
    Option("repl-backlog-size", "memory", "1mb", 1, LLONG_MAX),
    # Kept so redis.conf files load; the file always goes as `$<length>` once written.
    Option("repl-diskless-sync", "bool", "yes"),
    Option("repl-diskless-sync-delay", "int", "5", 0, INT_MAX),
    Option("repl-diskless-sync-max-replicas", "int", "0", 0, INT_MAX),
    Option("repl-diskless-load", "enum", "disabled", choices=("disabled", "on-empty-db",
                                                              "swapdb"), deny_loading=True),
    Option("repl-backlog-ttl", "int", "3600", 0, LLONG_MAX),
    Option("replica-read-only", "bool", "yes", alias="slave-read-only"),
    Option("replica-serve-stale-data", "bool", "yes", alias="slave-serve-stale-data"),
    # Tuning a distribution's redis.conf sets (Debian's has each): kept, so the file loads and
    # CONFIG GET answers as Redis; they change nothing here.
    Option("aof-rewrite-incremental-fsync", "bool", "yes"),
    Option("aof-timestamp-enabled", "bool", "no"),
    Option("disable-thp", "bool", "yes", mutable=False),
    Option("dynamic-hz", "bool", "yes"),
    Option("jemalloc-bg-thread", "bool", "yes"),
    Option("no-appendfsync-on-rewrite", "bool", "no"),
    Option("rdb-del-sync-files", "bool", "no"),
    Option("rdb-save-incremental-fsync", "bool", "yes"),
    Option("repl-disable-tcp-nodelay", "bool", "no"),
    Option("replica-lazy-flush", "bool", "no", alias="slave-lazy-flush"),
    Option("replica-priority", "int", "100", 0, INT_MAX, alias="slave-priority"),
    # (in force; these seven: the process's OOM score, title and CPUs, process.py)
    # "relative" is another name of "yes", which CONFIG GET shows
    Option("oom-score-adj", "enum", "no", choices=("no", "yes", "relative", "absolute"),
           fmt=lambda value: "yes" if value == "relative" else value),
    Option("oom-score-adj-values", "special", "0 200 800", parse=_parse_oom_values,
           fmt=_fmt_oom_values, multi=True),
    Option("proc-title-template", "special", "{title} {listen-addr} {server-mode}",
           parse=_parse_title_template),
    Option("set-proc-title", "bool", "yes", mutable=False),
    Option("server_cpulist", "string", "", mutable=False),
    Option("aof_rewrite_cpulist", "string", "", mutable=False),
    Option("bgsave_cpulist", "string", "", mutable=False),
    Option("stream-node-max-bytes", "memory", "4096", 0, LLONG_MAX),
    Option("stream-node-max-entries", "int", "100", 0, LLONG_MAX),
    Option("tracking-table-max-keys", "int", "1000000", 0, LLONG_MAX),
    Option("acllog-max-len", "int", "128", 0, LLONG_MAX),
    Option("aclfile", "string", "", mutable=False),
    Option("acl-pubsub-default", "enum", "resetchannels",
           choices=("allchannels", "resetchannels")),
    # Log lines go to syslog too with syslog-enabled (server.Log), as Redis's.
    Option("syslog-enabled", "bool", "no", mutable=False),
    Option("syslog-ident", "string", "redis", mutable=False),
    Option("syslog-facility", "enum", "local0", mutable=False, choices=(
        "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7")),
    # Accepted, validated and shown only: kvstore has no defragmenter, background threads
    # to pin (bio_cpulist), crash report, I/O threads, socket marks, or source address for outgoing links. Some name
    # a behaviour kvstore has, fixed at one setting: RESTORE checks every payload in full
    # (engine/dump.py), as sanitize-dump-payload yes; a replica's INFO says it is announced; an
    # AOF rewrite deletes the old files at once, as aof-disable-auto-gc no.
    Option("activedefrag", "special", "no", parse=_parse_activedefrag,
           fmt=lambda value: "yes" if value else "no"),
    Option("active-defrag-ignore-bytes", "memory", "104857600", 1, LLONG_MAX),
    Option("active-defrag-threshold-lower", "int", "10", 0, 1000),
    Option("active-defrag-threshold-upper", "int", "100", 0, 1000),
    Option("active-defrag-cycle-min", "int", "1", 1, 99),
    Option("active-defrag-cycle-max", "int", "25", 1, 99),
    Option("active-defrag-max-scan-fields", "int", "1000", 1, LLONG_MAX),
    Option("bio_cpulist", "string", "", mutable=False),
    Option("crash-log-enabled", "bool", "yes"),
    Option("crash-memcheck-enabled", "bool", "yes"),
    # Redis exits instead of aborting on a panic under it; nothing here aborts (a bug in a
    # command is its client's error reply), so it is accepted for configs and tests that set it
    Option("use-exit-on-panic", "bool", "no", hidden=True),
    Option("io-threads-do-reads", "bool", "no", mutable=False),
    Option("socket-mark-id", "int", "0", 0, UINT_MAX, mutable=False),
    Option("bind-source-addr", "string", ""),
    Option("ignore-warnings", "string", ""),
    Option("sanitize-dump-payload", "enum", "no", choices=("no", "yes", "clients")),
    Option("replica-announced", "bool", "yes"),
    Option("replica-announce-ip", "string", "", alias="slave-announce-ip"),
    Option("replica-announce-port", "int", "0", 0, 65535, alias="slave-announce-port"),
    Option("replica-ignore-maxmemory", "bool", "yes", alias="slave-ignore-maxmemory"),
    Option("replica-ignore-disk-write-errors", "bool", "no"),
    Option("propagation-error-behavior", "enum", "ignore",
           choices=("ignore", "panic", "panic-on-replicas")),
    Option("aof-disable-auto-gc", "bool", "no"),
    # Redis's cluster and TLS options, so that config files written for Redis load: kept with
    # Redis's types, defaults and validation, and inert. kvstore has neither, so turning TLS on
    # (tls-port, tls-replication, tls-cluster) stops the start-up (main.py) and CONFIG SET
    # refuses it (server.py).
    Option("cluster-enabled", "bool", "no", mutable=False),
    Option("cluster-config-file", "string", "nodes.conf", mutable=False),
    Option("cluster-port", "int", "0", 0, 65535, mutable=False),
    Option("cluster-node-timeout", "int", "15000", 0, LLONG_MAX),
    Option("cluster-announce-ip", "string", ""),
    Option("cluster-announce-hostname", "special", "", parse=_parse_hostname),
    Option("cluster-announce-port", "int", "0", 0, 65535),
    Option("cluster-announce-bus-port", "int", "0", 0, 65535),
    Option("cluster-announce-tls-port", "int", "0", 0, 65535),
    Option("cluster-replica-validity-factor", "int", "10", 0, INT_MAX,
           alias="cluster-slave-validity-factor"),
    Option("cluster-replica-no-failover", "bool", "no", alias="cluster-slave-no-failover"),
    Option("cluster-migration-barrier", "int", "1", 0, INT_MAX),
    Option("cluster-require-full-coverage", "bool", "yes"),
    Option("cluster-allow-reads-when-down", "bool", "no"),
    Option("cluster-allow-pubsubshard-when-down", "bool", "yes"),
    Option("cluster-allow-replica-migration", "bool", "yes"),
    Option("cluster-link-sendbuf-limit", "memory", "0", 0, ULLONG_MAX),
    Option("cluster-preferred-endpoint-type", "enum", "ip",
           choices=("ip", "hostname", "unknown-endpoint")),
    Option("tls-port", "int", "0", 0, 65535),
    Option("tls-replication", "bool", "no"),
    Option("tls-cluster", "bool", "no"),
    Option("tls-auth-clients", "enum", "yes", choices=("no", "yes", "optional")),
    Option("tls-session-caching", "bool", "yes"),
    Option("tls-session-cache-size", "int", "20480", 0, INT_MAX),
    Option("tls-session-cache-timeout", "int", "300", 0, INT_MAX),
    Option("tls-prefer-server-ciphers", "bool", "no"),
    *(Option(f"tls-{name}", "string", "") for name in (
        "cert-file", "key-file", "key-file-pass", "client-cert-file", "client-key-file",
        "client-key-file-pass", "dh-params-file", "ca-cert-file", "ca-cert-dir", "protocols",
        "ciphers", "ciphersuites")),
]

BY_NAME: dict[str, Option] = {}
for _opt in OPTIONS:
    BY_NAME[_opt.name] = _opt
    if _opt.alias:
        BY_NAME[_opt.alias] = _opt


class Config:
    """The values in force, by canonical option name."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {o.name: o.convert(o.default) for o in OPTIONS}
        self.listeners: dict[str, list[Callable[[Any], None]]] = {}
        self.config_file: str | None = None
        # Reading config lines, the first `save` replaces the defaults and the others add rules;
        # but after an `include`, as in Redis (whose flag the included file's end clears), each
        # replaces them.
        self._save_loaded = False
        self._reading = False
        # `user <name> <rules...>` lines (checked when read; the server creates the users)
        self.users: list[tuple[bytes, list[bytes]]] = []
        # `loadmodule <path>` lines: kvstore loads no modules, so these stop the start-up
        self.modules: list[str] = []
        # `rename-command <name> <new name or "">` lines, in order (the server applies them to
        # the command table), and the command names they leave
        self.renames: list[tuple[bytes, bytes]] = []
        self._command_names: set[bytes] | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[BY_NAME[name].name]

    def get(self, name: str, default: Any = None) -> Any:
        opt = BY_NAME.get(name)
        return default if opt is None else self.values[opt.name]

    def set(self, name: str, text: str, startup: bool = False) -> None:
        """Validate and apply one value (raises KeyError if unknown, ConfigError if bad, and
        CommandError, the old value restored, if a listener cannot apply it)."""
        opt = BY_NAME[name.lower()]
        if not startup and not opt.mutable:
            raise ConfigError("can't set immutable config")
        self._assign(opt, opt.convert(text), startup, name.lower())

    def _assign(self, opt: Option, value: Any, startup: bool, name: str) -> None:
        old = self.values[opt.name]
        if opt.merge is not None:
            value = opt.merge(old, value)
        if opt.effect is not None:
            value = opt.effect(value)
        self.values[opt.name] = value
        if not startup:
            try:
                for fn in self.listeners.get(opt.name, ()):
                    fn(value)
            except ConfigError as exc:
                self.restore(opt.name, old)
                # Redis names the option as its table does (an alias as the alias)
                raise CommandError(f"ERR CONFIG SET failed (possibly related to argument "
                                   f"'{name}') - {exc}") from None

    def restore(self, name: str, value: Any) -> None:
        """Put back a value applied before (a CONFIG SET undone): it applied then, so it
        applies again."""
        opt = BY_NAME[name]
        if opt.effect is not None:
            opt.effect(value)
        self.values[name] = value
        for fn in self.listeners.get(name, ()):
            fn(value)

    def on_change(self, name: str, fn: Callable[[Any], None]) -> None:
        self.listeners.setdefault(name, []).append(fn)

    def text(self, name: str) -> str:
        opt = BY_NAME[name]
        return opt.format(self.values[opt.name])

    def matching(self, *patterns: str) -> dict[str, str]:
        """CONFIG GET: name -> text for every option (and alias) named or matching a pattern,
        as Redis's configGetCommand: a name without glob characters is looked up (hidden
        options too) and answered as spelled; a pattern is matched without case
        (stringmatchlen nocase) by the options not hidden; each option once, names compared
        without case."""
        out: dict[str, str] = {}
        seen: set[str] = set()
        for pattern in patterns:
            if not any(c in pattern for c in "[*?"):
                opt = BY_NAME.get(pattern.lower())
                if opt is not None and pattern.lower() not in seen:
                    seen.add(pattern.lower())
                    out[pattern] = opt.format(self.values[opt.name])
                continue
            matches = compile_glob(pattern.encode("utf-8", "surrogateescape"), nocase=True)
            for name, opt in BY_NAME.items():
                if not opt.hidden and name not in seen and matches(name.encode()):
                    seen.add(name)
                    out[name] = opt.format(self.values[opt.name])
        return out

    # -- files and the command line -------------------------------------------------------------

    def load_text(self, text: str) -> None:
        """Apply config lines as Redis's loadServerConfigFromString: a line is `name args...`
        (sdssplitargs), `#` starts a comment line. Raises FatalConfigError naming the line."""
        self._reading = True
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.strip(" \t\r\n")
            if not line or line.startswith("#"):
                continue
            try:
                args = split_args(line)
            except ValueError:
                raise FatalConfigError("Unbalanced quotes in configuration line", lineno,
                                       line) from None
            try:
                if args:
                    self._load_line(args[0].lower(), args[1:])
            except ConfigError as exc:
                raise FatalConfigError(str(exc), lineno, line) from None
        self._reading = False

    def _load_line(self, name: str, words: list[str]) -> None:
        opt = BY_NAME.get(name)
        if opt is not None:
            value = opt.convert_words(words)
            if name == "save" and self._reading and self._save_loaded and words != [""]:
                value = self.values["save"] + value  # (`save ""` resets)
            self._save_loaded = self._save_loaded or name == "save"
            self._assign(opt, value, True, name)
        elif name in _DEPRECATED and len(words) == 1:
            pass  # options Redis 7.0 still reads and ignores
        elif name == "include" and len(words) == 1:
            self.load_text(read_config_file(words[0]))
        elif name == "user" and words:
            self._add_user(words)
        elif name == "loadmodule" and words:
            self.modules.append(words[0])
        elif name == "sentinel" and words:
            raise ConfigError("sentinel directive while not in sentinel mode")
        elif name == "rename-command" and len(words) == 2:
            self._rename_command(*(w.encode("utf-8", "surrogateescape").lower() for w in words))
        else:
            raise ConfigError("Bad directive or wrong number of arguments")

    def _rename_command(self, old: bytes, new: bytes) -> None:
        """A `rename-command` line, checked as Redis's: the command must exist (renames before
        included), an empty new name removes it, and the new name must be free."""
        if self._command_names is None:
            from ..commands.table import COMMANDS

            self._command_names = set(COMMANDS)
        names = self._command_names
        if old not in names:
            raise ConfigError("No such command in rename-command")
        names.discard(old)
        if new:
            if new in names:
                raise ConfigError("Target command name already exists")
            names.add(new)
        self.renames.append((old, new))

    def _add_user(self, words: list[str]) -> None:
        """A `user` line, its rules tried on a user of their own (Redis's
        ACLAppendUserForLoading). An unknown command is left for the server's start-up to
        report, as Redis does (a module could add it)."""
        from .acl import UNKNOWN, Acl, RuleError, merge_selectors

        name, *rules = (w.encode("utf-8", "surrogateescape") for w in words)
        try:
            rules = merge_selectors(rules)
            Acl().set_user(name, rules)
        except RuleError as exc:
            if exc.args[1] != UNKNOWN:
                raise ConfigError(f"Error in user declaration '{words[0]}': "
                                  f"{exc.args[1]}") from None
        except ValueError:
            raise ConfigError("Unmatched parenthesis in acl selector") from None
        if any(known == name for known, _ in self.users):
            raise ConfigError(f"Error in user declaration '{words[0]}': Duplicate user found. A "
                              "user can only be defined once in config files")
        self.users.append((name, rules))

    def rewrite(self, users: list[str] = (), force_all: bool = False) -> None:
        """CONFIG REWRITE (config_rewrite.py); `users` are the `user` lines to write;
        `force_all` writes the options left at their defaults too."""
        if not self.config_file:
            raise ConfigError("The server is running without a config file")
        from .config_rewrite import rewrite

        rewrite(self, list(users), force_all)


# Options Redis 7.0 no longer has but still reads, and ignores (its deprecated_configs)
_DEPRECATED = frozenset(("list-max-ziplist-entries", "list-max-ziplist-value",
                         "lua-replicate-commands"))
