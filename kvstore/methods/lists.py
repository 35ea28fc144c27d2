"""Lists methods (redis-py shapes)."""

from __future__ import annotations


class ListMethods:
    __slots__ = ()
