"""The redis-py-shaped methods, written once for the embedded store and every client transport.

A class that provides `execute_command(*args, callback=None)` and inherits `Methods` gets one
method per command, with redis-py's names, arguments and reply shapes (see `base`).
"""

from .acl import ACLMethods
from .geo import GeoMethods
from .hashes import HashMethods
from .hyperloglog import HyperLogLogMethods
from .keys import KeyMethods
from .lists import ListMethods
from .lock import LockMethods
from .scripting import ScriptingMethods
from .server import ServerMethods
from .sets import SetMethods
from .streams import StreamMethods
from .strings import StringMethods
from .zsets import SortedSetMethods


class Methods(
    StringMethods, KeyMethods, HashMethods, ListMethods, SetMethods, SortedSetMethods,
    StreamMethods, HyperLogLogMethods, GeoMethods, ServerMethods, ScriptingMethods, LockMethods,
    ACLMethods,
):
    """All families' methods."""

    __slots__ = ()


__all__ = ["Methods"]
