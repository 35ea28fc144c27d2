"""Durability: the AOF (multi-part, fsync policies, group commit), snapshots, rewrite, recovery.

`Persistence` (manager.py) is what a host attaches to a keyspace; `aof.py` writes, `loader.py`
reads back, `snapshot.py` is the msgpack+lz4 file format, `manifest.py` the AOF directory's
manifest, `commands.py` SAVE/BGSAVE/BGREWRITEAOF, `check.py` the `kvstore-check-aof` tool.
"""

from .loader import AofError
from .manager import PersistenceError, Persistence
from .snapshot import SnapshotError
from . import commands  # noqa: F401 - registers SAVE, BGSAVE, BGREWRITEAOF

__all__ = ["AofError", "Persistence", "PersistenceError", "SnapshotError"]
