"""Zsets methods (redis-py shapes)."""

from __future__ import annotations


class SortedSetMethods:
    __slots__ = ()
