"""The command table and its families. Importing this package registers every command."""

from .table import COMMANDS, Command, Context, KeySpec, command, execute, lookup

# Each family module registers its commands when imported.
from . import admin, connection, expire, hashes, keys, lists, server, sets, strings, zsets  # noqa: E402,F401
from . import blocking, pubsub, transactions  # noqa: E402,F401
from . import geo, hyperloglog, memory, sort, zsets_multi, zsets_range  # noqa: E402,F401
from . import caching  # noqa: E402,F401  (CLIENT subcommands: after connection)
from . import acl, functions, lolwut, migrate, replication, scripting  # noqa: E402,F401
from . import standalone, streams  # noqa: E402,F401

__all__ = ["COMMANDS", "Command", "Context", "KeySpec", "command", "execute", "lookup"]
