"""Exceptions, named after the error prefix Redis sends.

Handlers raise `CommandError` (or a subclass) with Redis's exact text; the dispatcher turns it into
an error reply and the embedded API re-raises it for the caller. The class is chosen by the text's
first word, so `error_from_message()` maps a reply from any server back to the same class: one
hierarchy for the embedded store and every client.
"""

from __future__ import annotations

import re

# redis-py's pattern for an error code (the first word of an error reply).
_ERROR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class KvstoreError(Exception):
    """Base of every error raised by kvstore."""


class ShutdownRefused(KvstoreError):
    """The final save failed: the server refuses to exit and keeps serving (Redis's
    prepareForShutdown error), unless SHUTDOWN ... FORCE."""


class ResponseError(KvstoreError):
    """The command failed; str(exc) is the text after `-`, e.g. 'ERR syntax error'.
    `counted`: already in INFO errorstats (a script's reply made of a command's error).
    `status_code`: the error code, its first word if that is one ('ERR', 'WRONGTYPE', ...,
    else None), as redis-py's exceptions carry it."""

    counted = False

    def __init__(self, *args: object, status_code: str | None = None) -> None:
        super().__init__(*args)
        if status_code is None and args and isinstance(args[0], str):
            code = args[0].split(" ", 1)[0]
            if _ERROR_CODE.fullmatch(code):
                status_code = code
        self.status_code = status_code


CommandError = ResponseError


class WrongTypeError(ResponseError):
    pass


class ExecAbortError(ResponseError):
    pass


class NoScriptError(ResponseError):
    pass


class OutOfMemoryError(ResponseError):
    pass


class BusyKeyError(ResponseError):
    pass


class ReadOnlyError(ResponseError):
    pass


class MisconfError(ResponseError):
    pass


class AuthenticationError(ResponseError):
    pass


class AuthorizationError(ResponseError):
    pass


NoPermissionError = AuthorizationError  # redis-py's name for a NOPERM reply


class MovedError(ResponseError):
    pass


class ProtocolError(KvstoreError):
    """Malformed RESP input. The server replies with the message and closes the connection."""


class ConnectionError(KvstoreError):  # noqa: A001 - the name users of redis-py expect
    pass


class TimeoutError(KvstoreError):  # noqa: A001
    pass


class BusyLoadingError(ResponseError, ConnectionError):
    """LOADING: the server is loading its data set and ran nothing. A ConnectionError, as
    redis-py's: the clients retry it with their backoff, whatever the command."""


class LockError(KvstoreError, ValueError):
    """A lock could not be acquired, released, extended or reacquired (redis-py's LockError,
    a ValueError as threading.Lock's errors are)."""

    def __init__(self, message: str | None = None, lock_name: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.lock_name = lock_name


class LockNotOwnedError(LockError):
    """The lock's key no longer holds this lock's token (it expired, or another took it)."""


class DataError(KvstoreError):
    """An argument the client library cannot send (e.g. a bool, or None, as a value)."""


_BY_PREFIX: dict[str, type[ResponseError]] = {
    "WRONGTYPE": WrongTypeError,
    "EXECABORT": ExecAbortError,
    "NOSCRIPT": NoScriptError,
    "OOM": OutOfMemoryError,
    "BUSYKEY": BusyKeyError,
    "READONLY": ReadOnlyError,
    "MISCONF": MisconfError,
    "NOAUTH": AuthenticationError,
    "WRONGPASS": AuthenticationError,
    "NOPERM": AuthorizationError,
    "MOVED": MovedError,
    "LOADING": BusyLoadingError,
}


# ERR replies that redis-py's parser raises as AuthenticationError by their whole text (its
# EXCEPTION_CLASSES): AUTH sent to a server without a password (Redis 6+, and older Redis's).
_BY_TEXT: dict[str, type[ResponseError]] = {
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?": AuthenticationError,
    "ERR Client sent AUTH, but no password is set": AuthenticationError,
    "ERR invalid password": AuthenticationError,
}


def error_from_message(message: str) -> ResponseError:
    """The exception for an error reply's text, chosen by its first word (or, for the few ERR
    texts in `_BY_TEXT`, by the whole text)."""
    cls = _BY_PREFIX.get(message.split(" ", 1)[0]) or _BY_TEXT.get(message, ResponseError)
    return cls(message)


# Redis's texts, shared by many handlers. Keep them byte-identical to Redis 7.
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
OVERFLOW = "ERR increment or decrement would overflow"
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."


def wrong_args(name: str) -> ResponseError:
    return ResponseError(f"ERR wrong number of arguments for '{name}' command")


def spaced(text: str) -> str:
    """`text` with each CR and LF turned into a space: what Redis does to a status or error
    line's text so that it cannot desync the protocol."""
    return text.replace("\r", " ").replace("\n", " ")


def line_text(text: str) -> str:
    """An error's text as it goes out on its line: line ends trimmed from the end, the others
    spaced (addReplyErrorFormatEx)."""
    return spaced(text.rstrip("\r\n"))


def c_text(arg: bytes, limit: int | None = None) -> str:
    """An argument as Redis's `%s` (or `%.<limit>s`) prints it into an error: up to its first
    NUL byte, at most `limit` bytes; decoded so that its bytes go back out unchanged."""
    end = arg.find(b"\0")
    if end >= 0:
        arg = arg[:end]
    if limit is not None:
        arg = arg[:limit]
    return arg.decode("utf-8", "surrogateescape")


def subcommand_syntax(argv: list[bytes]) -> ResponseError:
    """Redis `addReplySubcommandSyntaxError`: a subcommand given the wrong arguments, named as
    typed (128 bytes at most), and its container in capitals."""
    sub = c_text(argv[1], 128)
    return ResponseError(f"ERR unknown subcommand or wrong number of arguments for '{sub}'. "
                         f"Try {argv[0].decode('utf-8', 'replace').upper()} HELP.")


def wrongtype() -> WrongTypeError:
    return WrongTypeError(WRONGTYPE)
