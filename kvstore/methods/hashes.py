"""Hashes methods (redis-py shapes)."""

from __future__ import annotations


class HashMethods:
    __slots__ = ()
