"""Type aliases for the signatures of the method layer.

A method's return type is what its SYNC form returns: the embedded store and `clients.Client`
return it directly; `clients.AsyncClient` returns a coroutine of it and the pipelines return
themselves, which the stubs written by `python -m clients._stubgen` declare. Every methods module
uses `from __future__ import annotations`, so nothing here is evaluated on a call; the names
exist at run time for `typing.get_type_hints` and the stub generator.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, Iterable, TypeAlias, TypeVar

# A bulk or simple string reply: bytes, or str when the store or client was opened with
# decode_responses=True. A method cannot tell which from its arguments, so its type says both.
Reply: TypeAlias = bytes | str

KeyT: TypeAlias = bytes | str | memoryview
# One key, or several in any iterable: list_or_args's convention (f("a", "b") == f(["a", "b"])).
KeysT: TypeAlias = KeyT | Iterable[KeyT]
# What the argument encoder accepts (kvstore.protocol.encoder.encode_arg). It refuses bool,
# which a type checker cannot tell from int.
EncodableT: TypeAlias = bytes | bytearray | memoryview | str | int | float
PatternT: TypeAlias = bytes | str
# A BITFIELD offset: bits, or "#N" for N fields of the type's width.
BitfieldOffsetT: TypeAlias = int | str
ExpiryT: TypeAlias = int | datetime.timedelta  # a duration: seconds (or ms), or a timedelta
AbsExpiryT: TypeAlias = int | datetime.datetime  # a Unix time (s or ms), or a datetime
# A score bound: a number, or text such as "(1.5", "-inf", "+inf".
ZScoreBoundT: TypeAlias = float | str | bytes
LexBoundT: TypeAlias = str | bytes  # "[a", "(a", "-", "+"
# zrange's start and end: a rank, or a score (byscore) or lex (bylex) bound.
RangeBoundT: TypeAlias = float | str | bytes
# score_cast_func gets a score's text (falling back to its float) and its result is the score.
ScoreCastT: TypeAlias = Callable[[Any], Any]
CastScore: TypeAlias = Any  # a score as score_cast_func returns it: float by default
# A sorted-set range with withscores: (member, score) pairs; without, its members.
ScoredMembers: TypeAlias = list[tuple[Reply, CastScore]]
ZRangeResult: TypeAlias = list[Reply] | ScoredMembers  # withscores not known statically
# SORT: elements or GET values (None where a pattern finds nothing), one tuple per element with
# groups, or the stored length with store; which one is not known statically.
SortResult: TypeAlias = list[Reply | None] | list[tuple[Reply | None, ...]] | int
# A GEO search: members, or a list per member of the fields asked for ([member, dist, hash,
# (lon, lat)]); with store / store_dist, the number stored.
GeoSearchResult: TypeAlias = list[Any] | int

# Streams (redis-py's aliases): an entry ID ("1-1", "*", "$", ">", "-", "+", a millisecond time),
# a consumer group's and a consumer's name.
StreamIdT: TypeAlias = int | bytes | str | memoryview
GroupT: TypeAlias = bytes | str | memoryview
ConsumerT: TypeAlias = bytes | str | memoryview
# An entry as redis-py's parse_stream_list gives it: (id, {field: value}); (id, {}) for an entry
# deleted since it was delivered (XREADGROUP's history), (None, None) for a null entry.
StreamEntry: TypeAlias = tuple[Reply | None, dict[Reply, Reply] | None]
# XREAD / XREADGROUP: [[stream, [entry, ...]], ...]; [] when nothing was read (or on timeout).
XReadResult: TypeAlias = list[list[Reply | list[StreamEntry]]]

# Mapping is invariant in its key type, so a dict[str, ...] is not a Mapping[KeyT, ...]: the keys
# of the mappings a method takes are typed by these.
AnyKeyT = TypeVar("AnyKeyT", bound=KeyT)
AnyFieldT = TypeVar("AnyFieldT", bound=EncodableT)
