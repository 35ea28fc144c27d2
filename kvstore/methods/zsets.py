"""Sorted-set methods, with redis-py 8.1's names, parameters, defaults and (RESP2 / legacy) reply
shapes: WITHSCORES replies -> [(member, score), ...] with `score_cast_func` applied, zscore /
zincrby -> float or None, zadd -> int (float with incr), zpopmin / zpopmax -> [(member, score)],
zrank with withscore -> [rank, score], zmscore -> [float or None], zscan -> (cursor, pairs).
Replies redis-py leaves raw stay raw: zrandmember, zdiff, zmpop, zrangebylex.

The blocking forms (bzpopmin, bzpopmax, bzmpop) are here too, for the clients of a server; the
embedded store has no one to wait for.
"""

from __future__ import annotations

from collections import abc
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping, Sequence, overload

from ..errors import DataError
from .base import float_or_none, list_or_args
from .types import (
    AnyFieldT, AnyKeyT, CastScore, EncodableT, KeysT, KeyT, LexBoundT, PatternT, RangeBoundT,
    Reply, ScoreCastT, ScoredMembers, ZRangeResult, ZScoreBoundT,
)


def _cast(score_cast_func: Callable) -> Callable:
    """redis-py's _wrap_score_cast_func: a custom cast gets the score's text, and its float when
    it cannot read the text (int(b"1e+18") fails)."""
    if score_cast_func is float:
        return float

    def cast(x: Any) -> Any:
        try:
            return score_cast_func(x)
        except (ValueError, TypeError):
            return score_cast_func(float(x))

    return cast


def _pairs(cast: Callable, reply: Any) -> Any:
    """zset_score_pairs / zpop_score_pairs: [m1, s1, ...] -> [(m1, cast(s1)), ...]."""
    if not reply:
        return reply
    it = iter(reply)
    return list(zip(it, map(_cast(cast), it)))


def _rank_with_score(cast: Callable, reply: Any) -> Any:
    """zset_score_for_rank (WITHSCORE): [rank, score] -> [rank, cast(score)]."""
    if not reply:
        return reply
    return [reply[0], _cast(cast)(reply[1])]


def _zscan(cast: Callable, reply: Any) -> tuple[int, list[Any]]:
    cursor, items = reply
    it = iter(items)
    return int(cursor), list(zip(it, map(_cast(cast), it)))


def _zadd_score(reply: Any) -> Any:
    return None if reply is None else float(reply)


def _zmscore(reply: Any) -> list[float | None]:
    return [None if s is None else float(s) for s in reply]


def _bzpop(reply: Any) -> Any:
    return reply and (reply[0], reply[1], float(reply[2])) or None


class SortedSetMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def zadd(self, name: KeyT, mapping: Mapping[AnyFieldT, EncodableT], nx: bool = False,
             xx: bool = False, ch: bool = False, incr: bool = False, gt: bool = False,
             lt: bool = False) -> int | float | None:
        if not mapping:
            raise DataError("ZADD requires at least one element/score pair")
        if nx and xx:
            raise DataError("ZADD allows either 'nx' or 'xx', not both")
        if gt and lt:
            raise DataError("ZADD allows either 'gt' or 'lt', not both")
        if incr and len(mapping) != 1:
            raise DataError(
                "ZADD option 'incr' only works when passing a single element/score pair"
            )
        if nx and (gt or lt):
            raise DataError("Only one of 'nx', 'gt', or 'lt' may be defined.")
        pieces: list = ["ZADD", name]
        for flag, opt in ((nx, b"NX"), (xx, b"XX"), (ch, b"CH"), (incr, b"INCR"), (gt, b"GT"),
                          (lt, b"LT")):
            if flag:
                pieces.append(opt)
        for member, score in mapping.items():
            pieces.append(score)
            pieces.append(member)
        return self.execute_command(*pieces, callback=_zadd_score if incr else None)

    def zcard(self, name: KeyT) -> int:
        return self.execute_command("ZCARD", name)

    def zcount(self, name: KeyT, min: ZScoreBoundT,  # noqa: A002 - redis-py's names
               max: ZScoreBoundT) -> int:
        return self.execute_command("ZCOUNT", name, min, max)

    def zdiff(self, keys: Sequence[KeyT], withscores: bool = False) -> list[Reply]:
        pieces = [len(keys), *keys]
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command("ZDIFF", *pieces)

    def zdiffstore(self, dest: KeyT, keys: Sequence[KeyT]) -> int:
        return self.execute_command("ZDIFFSTORE", dest, len(keys), *keys)

    def zincrby(self, name: KeyT, amount: float, value: EncodableT) -> float:
        return self.execute_command("ZINCRBY", name, amount, value, callback=float_or_none)

    # The overloads tell a type checker the reply's shape from withscores (and count) when it
    # is a literal; the last of each set is the general case.
    @overload
    def zinter(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: Literal[False] = False) -> list[Reply]: ...
    @overload
    def zinter(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               *, withscores: Literal[True]) -> list[tuple[Reply, float]]: ...
    @overload
    def zinter(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: bool = False) -> list[Reply] | list[tuple[Reply, float]]: ...

    def zinter(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: bool = False) -> list[Reply] | list[tuple[Reply, float]]:
        return self._zaggregate("ZINTER", None, keys, aggregate, withscores)

    def zinterstore(self, dest: KeyT, keys: Sequence[KeyT] | dict[AnyKeyT, float],
                    aggregate: str | None = None) -> int:
        return self._zaggregate("ZINTERSTORE", dest, keys, aggregate)

    def zintercard(self, numkeys: int, keys: Iterable[KeyT], limit: int = 0) -> int:
        return self.execute_command("ZINTERCARD", numkeys, *keys, "LIMIT", limit)

    def zlexcount(self, name: KeyT, min: LexBoundT, max: LexBoundT) -> int:  # noqa: A002
        return self.execute_command("ZLEXCOUNT", name, min, max)

    def zpopmax(self, name: KeyT, count: int | None = None) -> list[tuple[Reply, float]]:
        args = [count] if count is not None else []
        return self.execute_command("ZPOPMAX", name, *args, callback=partial(_pairs, float))

    def zpopmin(self, name: KeyT, count: int | None = None) -> list[tuple[Reply, float]]:
        args = [count] if count is not None else []
        return self.execute_command("ZPOPMIN", name, *args, callback=partial(_pairs, float))

    @overload
    def zrandmember(self, key: KeyT, count: None = None,
                    withscores: bool = False) -> Reply | None: ...
    @overload
    def zrandmember(self, key: KeyT, count: int, withscores: bool = False) -> list[Reply]: ...

    def zrandmember(self, key: KeyT, count: int | None = None,
                    withscores: bool = False) -> Reply | list[Reply] | None:
        params: list[Any] = []
        if count is not None:
            params.append(count)
        if withscores:
            params.append("WITHSCORES")
        return self.execute_command("ZRANDMEMBER", key, *params)

    def bzpopmax(self, keys: KeysT,
                 timeout: float | None = 0) -> tuple[Reply, Reply, float] | None:
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMAX", *keys, callback=_bzpop)

    def bzpopmin(self, keys: KeysT,
                 timeout: float | None = 0) -> tuple[Reply, Reply, float] | None:
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMIN", *keys, callback=_bzpop)

    def zmpop(self, num_keys: int, keys: list[AnyKeyT], min: bool = False,  # noqa: A002
              max: bool = False, count: int = 1) -> list[Reply | list[list[Reply]]] | None:
        args: list[Any] = [num_keys] + keys
        if (min and max) or (not min and not max):
            raise DataError
        args.append("MIN" if min else "MAX")
        if count != 1:
            args.extend(["COUNT", count])
        return self.execute_command("ZMPOP", *args)

    def bzmpop(self, timeout: float, numkeys: int, keys: Iterable[KeyT],
               min: bool = False, max: bool = False,  # noqa: A002
               count: int = 1) -> list[Reply | list[list[Reply]]] | None:
        args: list[Any] = [timeout, numkeys, *keys]
        if (min and max) or (not min and not max):
            raise DataError("Either min or max, but not both must be set")
        args.append("MIN" if min else "MAX")
        args.extend(["COUNT", count])
        return self.execute_command("BZMPOP", *args)

    def _zrange(self, command, dest, name, start, end, desc=False, byscore=False, bylex=False,
                withscores=False, score_cast_func=float, offset=None, num=None):
        if byscore and bylex:
            raise DataError("``byscore`` and ``bylex`` can not be specified together.")
        if (offset is not None and num is None) or (num is not None and offset is None):
            raise DataError("``offset`` and ``num`` must both be specified.")
        if bylex and withscores:
            raise DataError("``withscores`` not supported in combination with ``bylex``.")
        pieces = [command]
        if dest is not None:  # an empty name is a name
            pieces.append(dest)
        pieces.extend([name, start, end])
        if byscore:
            pieces.append("BYSCORE")
        if bylex:
            pieces.append("BYLEX")
        if desc:
            pieces.append("REV")
        if offset is not None and num is not None:
            pieces.extend(["LIMIT", offset, num])
        if withscores:
            pieces.append("WITHSCORES")
            return self.execute_command(*pieces, callback=partial(_pairs, score_cast_func))
        return self.execute_command(*pieces)

    @overload
    def zrange(self, name: KeyT, start: RangeBoundT, end: RangeBoundT, desc: bool = False,
               withscores: Literal[False] = False, score_cast_func: ScoreCastT = float,
               byscore: bool = False, bylex: bool = False, offset: int | None = None,
               num: int | None = None, use_rev: bool = False) -> list[Reply]: ...
    @overload
    def zrange(self, name: KeyT, start: RangeBoundT, end: RangeBoundT, desc: bool = False,
               *, withscores: Literal[True], score_cast_func: ScoreCastT = float,
               byscore: bool = False, bylex: bool = False, offset: int | None = None,
               num: int | None = None, use_rev: bool = False) -> ScoredMembers: ...
    @overload
    def zrange(self, name: KeyT, start: RangeBoundT, end: RangeBoundT, desc: bool = False,
               withscores: bool = False, score_cast_func: ScoreCastT = float,
               byscore: bool = False, bylex: bool = False, offset: int | None = None,
               num: int | None = None, use_rev: bool = False) -> ZRangeResult: ...

    def zrange(self, name: KeyT, start: RangeBoundT, end: RangeBoundT, desc: bool = False,
               withscores: bool = False, score_cast_func: ScoreCastT = float,
               byscore: bool = False, bylex: bool = False, offset: int | None = None,
               num: int | None = None, use_rev: bool = False) -> ZRangeResult:
        # redis-py 8.2: by rank with desc sends ZREVRANGE unless use_rev asks for ZRANGE REV.
        if not byscore and not bylex and offset is None and num is None and desc \
                and not use_rev:
            # start and end are ranks here (neither byscore nor bylex)
            return self.zrevrange(name, start, end,  # type: ignore[call-overload]
                                  withscores, score_cast_func)
        return self._zrange("ZRANGE", None, name, start, end, desc, byscore, bylex, withscores,
                            score_cast_func, offset, num)

    @overload
    def zrevrange(self, name: KeyT, start: int, end: int, withscores: Literal[False] = False,
                  score_cast_func: ScoreCastT = float) -> list[Reply]: ...
    @overload
    def zrevrange(self, name: KeyT, start: int, end: int, withscores: Literal[True],
                  score_cast_func: ScoreCastT = float) -> ScoredMembers: ...
    @overload
    def zrevrange(self, name: KeyT, start: int, end: int, withscores: bool = False,
                  score_cast_func: ScoreCastT = float) -> ZRangeResult: ...

    def zrevrange(self, name: KeyT, start: int, end: int, withscores: bool = False,
                  score_cast_func: ScoreCastT = float) -> ZRangeResult:
        if withscores:
            return self.execute_command("ZREVRANGE", name, start, end, b"WITHSCORES",
                                        callback=partial(_pairs, score_cast_func))
        return self.execute_command("ZREVRANGE", name, start, end)

    def zrangestore(self, dest: KeyT, name: KeyT, start: RangeBoundT, end: RangeBoundT,
                    byscore: bool = False, bylex: bool = False, desc: bool = False,
                    offset: int | None = None, num: int | None = None) -> int:
        return self._zrange("ZRANGESTORE", dest, name, start, end, desc, byscore, bylex, False,
                            None, offset, num)

    def zrangebylex(self, name: KeyT, min: LexBoundT, max: LexBoundT,  # noqa: A002
                    start: int | None = None, num: int | None = None) -> list[Reply]:
        return self._by("ZRANGEBYLEX", name, min, max, start, num, False, float)

    def zrevrangebylex(self, name: KeyT, max: LexBoundT, min: LexBoundT,  # noqa: A002
                       start: int | None = None, num: int | None = None) -> list[Reply]:
        return self._by("ZREVRANGEBYLEX", name, max, min, start, num, False, float)

    @overload
    def zrangebyscore(self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT,  # noqa: A002
                      start: int | None = None, num: int | None = None,
                      withscores: Literal[False] = False,
                      score_cast_func: ScoreCastT = float) -> list[Reply]: ...
    @overload
    def zrangebyscore(self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT,  # noqa: A002
                      start: int | None = None, num: int | None = None, *,
                      withscores: Literal[True],
                      score_cast_func: ScoreCastT = float) -> ScoredMembers: ...
    @overload
    def zrangebyscore(self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT,  # noqa: A002
                      start: int | None = None, num: int | None = None,
                      withscores: bool = False,
                      score_cast_func: ScoreCastT = float) -> ZRangeResult: ...

    def zrangebyscore(self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT,  # noqa: A002
                      start: int | None = None, num: int | None = None,
                      withscores: bool = False,
                      score_cast_func: ScoreCastT = float) -> ZRangeResult:
        return self._by("ZRANGEBYSCORE", name, min, max, start, num, withscores, score_cast_func)

    @overload
    def zrevrangebyscore(self, name: KeyT, max: ZScoreBoundT, min: ZScoreBoundT,  # noqa: A002
                         start: int | None = None, num: int | None = None,
                         withscores: Literal[False] = False,
                         score_cast_func: ScoreCastT = float) -> list[Reply]: ...
    @overload
    def zrevrangebyscore(self, name: KeyT, max: ZScoreBoundT, min: ZScoreBoundT,  # noqa: A002
                         start: int | None = None, num: int | None = None, *,
                         withscores: Literal[True],
                         score_cast_func: ScoreCastT = float) -> ScoredMembers: ...
    @overload
    def zrevrangebyscore(self, name: KeyT, max: ZScoreBoundT, min: ZScoreBoundT,  # noqa: A002
                         start: int | None = None, num: int | None = None,
                         withscores: bool = False,
                         score_cast_func: ScoreCastT = float) -> ZRangeResult: ...

    def zrevrangebyscore(self, name: KeyT, max: ZScoreBoundT, min: ZScoreBoundT,  # noqa: A002
                         start: int | None = None, num: int | None = None,
                         withscores: bool = False,
                         score_cast_func: ScoreCastT = float) -> ZRangeResult:
        return self._by("ZREVRANGEBYSCORE", name, max, min, start, num, withscores,
                        score_cast_func)

    def _by(self, command, name, lo, hi, start, num, withscores, score_cast_func):
        """Z[REV]RANGEBY{SCORE,LEX}: bounds in the command's order, LIMIT start num."""
        if (start is not None and num is None) or (num is not None and start is None):
            raise DataError("``start`` and ``num`` must both be specified")
        pieces = [command, name, lo, hi]
        if start is not None and num is not None:
            pieces.extend([b"LIMIT", start, num])
        if withscores:
            pieces.append("WITHSCORES")
            return self.execute_command(*pieces, callback=partial(_pairs, score_cast_func))
        return self.execute_command(*pieces)

    def zrank(self, name: KeyT, value: EncodableT, withscore: bool = False,
              score_cast_func: ScoreCastT = float) -> int | list[Any] | None:
        return self._rank("ZRANK", name, value, withscore, score_cast_func)

    def zrevrank(self, name: KeyT, value: EncodableT, withscore: bool = False,
                 score_cast_func: ScoreCastT = float) -> int | list[Any] | None:
        return self._rank("ZREVRANK", name, value, withscore, score_cast_func)

    def _rank(self, command, name, value, withscore, score_cast_func):
        if withscore:
            return self.execute_command(command, name, value, "WITHSCORE",
                                        callback=partial(_rank_with_score, score_cast_func))
        return self.execute_command(command, name, value)

    def zrem(self, name: KeyT, *values: EncodableT) -> int:
        return self.execute_command("ZREM", name, *values)

    def zremrangebylex(self, name: KeyT, min: LexBoundT,  # noqa: A002
                       max: LexBoundT) -> int:
        return self.execute_command("ZREMRANGEBYLEX", name, min, max)

    def zremrangebyrank(self, name: KeyT, min: int, max: int) -> int:  # noqa: A002
        return self.execute_command("ZREMRANGEBYRANK", name, min, max)

    def zremrangebyscore(self, name: KeyT, min: ZScoreBoundT,  # noqa: A002
                         max: ZScoreBoundT) -> int:
        return self.execute_command("ZREMRANGEBYSCORE", name, min, max)

    def zscore(self, name: KeyT, value: EncodableT) -> float | None:
        return self.execute_command("ZSCORE", name, value, callback=float_or_none)

    @overload
    def zunion(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: Literal[False] = False,
               score_cast_func: ScoreCastT = float) -> list[Reply]: ...
    @overload
    def zunion(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               *, withscores: Literal[True],
               score_cast_func: ScoreCastT = float) -> ScoredMembers: ...
    @overload
    def zunion(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: bool = False, score_cast_func: ScoreCastT = float) -> ZRangeResult: ...

    def zunion(self, keys: Sequence[KeyT] | dict[AnyKeyT, float], aggregate: str | None = None,
               withscores: bool = False, score_cast_func: ScoreCastT = float) -> ZRangeResult:
        return self._zaggregate("ZUNION", None, keys, aggregate, withscores, score_cast_func)

    def zunionstore(self, dest: KeyT, keys: Sequence[KeyT] | dict[AnyKeyT, float],
                    aggregate: str | None = None) -> int:
        return self._zaggregate("ZUNIONSTORE", dest, keys, aggregate)

    def zmscore(self, key: KeyT, members: Sequence[EncodableT]) -> list[float | None]:
        if not members:
            raise DataError("ZMSCORE members must be a non-empty list")
        return self.execute_command("ZMSCORE", key, *members, callback=_zmscore)

    def _zaggregate(self, command, dest, keys, aggregate=None, withscores=False,
                    score_cast_func=float):
        """Z{UNION,INTER}[STORE]: `keys` a list, or a mapping (any) of key -> weight."""
        pieces: list = [command]
        if dest is not None:
            pieces.append(dest)
        pieces.append(len(keys))
        if isinstance(keys, abc.Mapping):
            keys, weights = keys.keys(), keys.values()
        else:
            weights = None
        pieces.extend(keys)
        if weights:
            pieces.append(b"WEIGHTS")
            pieces.extend(weights)
        if aggregate:
            if aggregate.upper() in ["SUM", "MIN", "MAX", "COUNT"]:
                pieces.append(b"AGGREGATE")
                pieces.append(aggregate)
            else:
                raise DataError("aggregate can be sum, min, max or count.")
        if withscores:
            pieces.append(b"WITHSCORES")
            return self.execute_command(*pieces, callback=partial(_pairs, score_cast_func))
        return self.execute_command(*pieces)

    def zscan(self, name: KeyT, cursor: int = 0, match: PatternT | None = None,
              count: int | None = None,
              score_cast_func: ScoreCastT = float) -> tuple[int, list[tuple[Reply, CastScore]]]:
        pieces = [name, cursor]
        if match is not None:
            pieces.extend([b"MATCH", match])
        if count is not None:
            pieces.extend([b"COUNT", count])
        return self.execute_command("ZSCAN", *pieces, callback=partial(_zscan, score_cast_func))

    def zscan_iter(self, name: KeyT, match: PatternT | None = None, count: int | None = None,
                   score_cast_func: ScoreCastT = float) -> Iterator[tuple[Reply, CastScore]]:
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = self.zscan(name, cursor=cursor, match=match, count=count,
                                      score_cast_func=score_cast_func)
            yield from data
