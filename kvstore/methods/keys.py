"""Keys methods (redis-py shapes)."""

from __future__ import annotations


class KeyMethods:
    __slots__ = ()
