"""Server methods (redis-py shapes)."""

from __future__ import annotations


class ServerMethods:
    __slots__ = ()
