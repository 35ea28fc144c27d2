"""HyperLogLog methods (redis-py 8 shapes): pfadd and pfcount return the integer reply, pfmerge
True (redis-py's OK callback)."""

from __future__ import annotations

from typing import Any

from .base import bool_ok
from .types import EncodableT, KeyT


class HyperLogLogMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def pfadd(self, name: KeyT, *values: EncodableT) -> int:
        """Add ``values`` to the HyperLogLog at ``name`` (created if missing). Returns 1 if its
        estimate may have changed, else 0."""
        return self.execute_command("PFADD", name, *values)

    def pfcount(self, *sources: KeyT) -> int:
        """The estimated number of distinct elements added to the HyperLogLogs ``sources``
        (of their union, for several)."""
        return self.execute_command("PFCOUNT", *sources)

    def pfmerge(self, dest: KeyT, *sources: KeyT) -> bool:
        """Merge the HyperLogLogs ``sources`` into ``dest`` (which counts as one of them)."""
        return self.execute_command("PFMERGE", dest, *sources, callback=bool_ok)
