"""Config text as Redis reads it: lines split by sdssplitargs, the command line turned into
config lines as redis-server's main() turns it, config files (with include's globs), and the
fatal block that reports a bad line.

Redis reads the config file, then stdin, then the command-line options, as one text: so a bad
option is reported at its line past the file's, showing the line as main() wrote it
(`>>> 'maxmemory "abc"'`). `parse_command_line` builds that text, `split_args` reads it back.
"""

from __future__ import annotations

import glob
import os

from ..version import REDIS_VERSION


class FatalConfigError(Exception):
    """A bad config line (or setting) at start-up. str() is Redis's fatal block, for stderr."""

    def __init__(self, reason: str, lineno: int | None = None, line: str = "") -> None:
        where = "" if lineno is None else \
            f"Reading the configuration file, at line {lineno}\n>>> '{line}'\n"
        super().__init__(f"\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n"
                         f"{where}{reason}")


class ConfigFileError(Exception):
    """A config file that cannot be read: Redis logs this (a warning) and exits."""


def read_config_file(path: str) -> str:
    """A config file's text, as Redis's loadServerConfig reads it: a path with glob characters
    reads every file matching (in order; none is fine), and a directory reads as nothing
    (fopen succeeds, fgets reads nothing)."""
    paths = sorted(glob.glob(path)) if any(c in path for c in "*?[") else [path]
    text = []
    for each in paths:
        if os.path.isdir(each):
            continue
        try:
            with open(each, encoding="utf-8", errors="surrogateescape", newline="") as f:
                text.append(f.read())
        except OSError as exc:
            raise ConfigFileError(f"Fatal error, can't open config file '{each}': "
                                  f"{exc.strerror}") from None
    return "".join(text)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
C_SPACE = " \t\n\v\f\r"  # C isspace(): skipped between arguments and allowed after a quote
_WORD_END = " \n\r\t"      # what ends an unquoted word (sdssplitargs's switch)


def split_args(line: str, utf8: bool = True) -> list[str]:
    """Redis's sdssplitargs: spaces separate; "double quotes" with \\n \\xHH escapes; 'single
    quotes' with \\' only. A quote may open inside a word (`abc"def"` is abcdef), and a closing
    quote must end the word. A NUL ends the line, as it ends the C string. Raises ValueError on
    unbalanced quotes.

    `utf8`: `line` is text read as UTF-8 (surrogateescape), and a \\xHH escape is a byte, so
    `"p\\xc3\\xa4ss"` (what Redis's CONFIG REWRITE writes for "päss") reads as "päss". Without
    it, `line` is bytes as latin-1 and an escape is the character of that code."""
    line = line.split("\0", 1)[0]
    args: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in C_SPACE:
            i += 1
        if i >= n:
            return args
        cur: list[str] = []
        quote = ""
        while True:
            c = line[i] if i < n else ""
            if not quote:
                if c == "" or c in _WORD_END:
                    break
                if c in "\"'":
                    quote = c
                else:
                    cur.append(c)
                i += 1
                continue
            if c == "":
                raise ValueError("unbalanced quotes")
            if c == quote:
                i += 1
                if i < n and line[i] not in C_SPACE:
                    raise ValueError("closing quote must be followed by a space")
                break
            if quote == '"' and c == "\\" and line[i + 1:i + 2] == "x" \
                    and _ishex(line[i + 2:i + 4]):
                code = int(line[i + 2:i + 4], 16)
                # (a byte past ASCII as surrogateescape holds it, decoded with its arg below)
                cur.append(chr(0xDC00 + code) if utf8 and code > 127 else chr(code))
                i += 4
            elif quote == '"' and c == "\\" and i + 1 < n:
                cur.append(_ESCAPES.get(line[i + 1], line[i + 1]))
                i += 2
            elif quote == "'" and c == "\\" and line[i + 1:i + 2] == "'":
                cur.append("'")
                i += 2
            else:
                cur.append(c)
                i += 1
        arg = "".join(cur)
        if utf8 and not arg.isascii():
            arg = arg.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
        args.append(arg)


def _ishex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def parse_command_line(argv: list[str]) -> tuple[str | None, bool, str]:
    """`[CONFIG-FILE] [-] [--name value...]...` -> (file, read stdin, the options as config
    lines), built as Redis's main() builds them: each `--name` starts a line, and its values
    follow, quoted as sdscatrepr quotes them, until the next `--` that comes after a value (so
    `--requirepass --port` sets no port). An argument holding name and value (`"--port 7000"`)
    is a whole line; a `--save` with no value is `save ""`."""
    path, stdin, j, n = None, False, 0, len(argv)
    if argv and not argv[0].startswith("-"):
        path, j = argv[0], 1
    options: list[str] = []
    named_only = False  # the last option has no value yet
    for j in range(j, n):
        arg = argv[j]
        if arg == "-" and j in (0, n - 1):
            stdin = True
        elif not named_only and arg.startswith("--"):
            if options:
                options.append("\n")
            options.append(arg[2:] + " ")
            try:
                named_only = len(split_args(arg)) == 1
            except ValueError:
                named_only = False
            if named_only and arg.lower() == "--save" and \
                    (j == n - 1 or argv[j + 1].startswith("--")):
                options.append('""')
                named_only = False
        else:
            options.append(sdsrepr(arg) + " ")
            named_only = False
    return path, stdin, "".join(options)


_REPR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a",
         "\b": "\\b"}


def sdsrepr(text: str) -> str:
    """sdscatrepr of `text`'s UTF-8 bytes (surrogateescape): a byte that is not printable ASCII
    is \\xHH, as Redis writes it; split_args reads it back."""
    data = text.encode("utf-8", "surrogateescape")
    return '"' + "".join(_REPR.get(c) or (c if 32 <= ord(c) < 127 else f"\\x{ord(c):02x}")
                         for c in data.decode("latin-1")) + '"'
