"""kvstore: a Redis-compatible in-memory store, embedded (`kvstore.open()`) or as a server."""

from .errors import (
    AuthenticationError, ConnectionError, DataError, ExecAbortError, KvstoreError, LockError,
    LockNotOwnedError, ResponseError, TimeoutError, WrongTypeError,
)
from .store import Store, open
from .version import __version__

__all__ = [
    "AuthenticationError", "ConnectionError", "DataError", "ExecAbortError", "KvstoreError",
    "LockError", "LockNotOwnedError", "ResponseError", "Store", "TimeoutError", "WrongTypeError", "open", "__version__",
]
