"""The engine: keyspace, value types, expiry. Knows nothing of sockets, RESP or files."""

from .clock import ManualClock, wall_ms
from .keyspace import Database, Keyspace
from .values import Hash, List, Set, Thresholds, encoding_of, type_name

__all__ = [
    "Database", "Hash", "Keyspace", "List", "ManualClock", "Set", "Thresholds",
    "encoding_of", "type_name", "wall_ms",
]
