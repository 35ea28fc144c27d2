"""Sets methods (redis-py shapes)."""

from __future__ import annotations


class SetMethods:
    __slots__ = ()
