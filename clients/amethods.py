"""`AsyncMethods`: the shared methods that asyncio's clients cannot share, redone for them.

Theory of operation
-------------------
A method of kvstore.methods builds its argv and returns `self.execute_command(...)`, with all
shaping of the reply in the callback, so it works unchanged where execute_command is a coroutine
function (AsyncClient; AsyncPipeline after watch()). What needs a reply at once cannot work so,
and is replaced here for AsyncClient and AsyncPipeline, as redis-py's asyncio client does:

- the dunders: `"k" in c` would test a coroutine's truth (always True), `c["k"] = v` would drop
  an unawaited SET, and `c["k"]` cannot raise KeyError for a value it has not read. They raise
  redis-py's TypeError, with its texts;
- the *scan_iter generators, which loop over the replies of SCAN & co.: async generators here
  (`async for key in c.scan_iter()`).
"""

from __future__ import annotations

from typing import Any, AsyncIterator, NoReturn

from kvstore.methods import Methods


class AsyncMethods(Methods):
    """See the module docstring."""

    __slots__ = ()

    def __contains__(self, name: Any) -> NoReturn:
        raise TypeError("Async Redis client does not support class inclusion")

    def __getitem__(self, name: Any) -> NoReturn:
        raise TypeError("Async Redis client does not support class retrieval")

    def __setitem__(self, name: Any, value: Any) -> NoReturn:
        raise TypeError("Async Redis client does not support class assignment")

    def __delitem__(self, name: Any) -> NoReturn:
        raise TypeError("Async Redis client does not support class deletion")

    async def scan_iter(self, match=None, count=None, _type=None, **kwargs) -> AsyncIterator:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = await self.scan(cursor=cursor, match=match, count=count, _type=_type)
            for item in data:
                yield item

    async def sscan_iter(self, name, match=None, count=None) -> AsyncIterator:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = await self.sscan(name, cursor=cursor, match=match, count=count)
            for item in data:
                yield item

    async def hscan_iter(self, name, match=None, count=None, no_values=None) -> AsyncIterator:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = await self.hscan(name, cursor=cursor, match=match, count=count,
                                            no_values=no_values)
            for item in (data if no_values else data.items()):
                yield item

    async def zscan_iter(self, name, match=None, count=None,
                         score_cast_func=float) -> AsyncIterator:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = await self.zscan(name, cursor=cursor, match=match, count=count,
                                            score_cast_func=score_cast_func)
            for item in data:
                yield item
