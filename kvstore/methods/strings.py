"""String methods (redis-py shapes)."""

from __future__ import annotations

from typing import Any

from .base import ok_or_none


class StringMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    def get(self, name):
        return self.execute_command("GET", name)

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False, get=False,
            exat=None, pxat=None):
        args: list = ["SET", name, value]
        for opt, arg in ((b"EX", ex), (b"PX", px), (b"EXAT", exat), (b"PXAT", pxat)):
            if arg is not None:
                if hasattr(arg, "total_seconds"):  # datetime.timedelta, as redis-py accepts
                    arg = int(arg.total_seconds() * (1000 if opt == b"PX" else 1))
                args += [opt, arg]
        if keepttl:
            args.append(b"KEEPTTL")
        if nx:
            args.append(b"NX")
        if xx:
            args.append(b"XX")
        if get:
            args.append(b"GET")
            return self.execute_command(*args)
        return self.execute_command(*args, callback=ok_or_none)
