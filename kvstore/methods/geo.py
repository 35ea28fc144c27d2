"""GEO methods, with redis-py 8.2's names, parameters, DataErrors and (RESP2 / legacy) reply
shapes: geopos -> [(lon, lat) or None] as floats, geodist -> float or None, geohash -> [str or
None] (redis-py decodes them), georadius / georadiusbymember / geosearch -> members, or with
withdist / withhash / withcoord a list per member of [member, dist float, hash int,
(lon, lat) floats] (`parse_geosearch_generic`), the count stored with store / store_dist.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Sequence

from ..errors import DataError
from .base import float_or_none
from .types import EncodableT, GeoSearchResult, KeyT

_UNITS = ("m", "km", "mi", "ft")


def _geopos(reply: Any) -> list[tuple[float, float] | None]:
    return [(float(ll[0]), float(ll[1])) if ll is not None else None for ll in reply]


def _geohash(reply: Any) -> list[str | None]:
    return [x.decode("utf-8", errors="replace") if isinstance(x, bytes) else x for x in reply]


def _search_reply(withdist: bool, withhash: bool, withcoord: bool, reply: Any) -> Any:
    """parse_geosearch_generic: each member's fields cast in Redis's order (dist, hash, coord)."""
    if not (withdist or withhash or withcoord):
        return reply
    casts: list = [lambda x: x]
    if withdist:
        casts.append(float)
    if withhash:
        casts.append(int)
    if withcoord:
        casts.append(lambda ll: (float(ll[0]), float(ll[1])))
    return [[cast(v) for cast, v in zip(casts, item)] for item in reply]


class GeoMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def geoadd(self, name: KeyT, values: Sequence[EncodableT], nx: bool = False,
               xx: bool = False, ch: bool = False) -> int:
        if nx and xx:
            raise DataError("GEOADD allows either 'nx' or 'xx', not both")
        if len(values) % 3 != 0:
            raise DataError("GEOADD requires places with lon, lat and name values")
        pieces: list = [name]
        for flag, opt in ((nx, "NX"), (xx, "XX"), (ch, "CH")):
            if flag:
                pieces.append(opt)
        pieces.extend(values)
        return self.execute_command("GEOADD", *pieces)

    def geodist(self, name: KeyT, place1: EncodableT, place2: EncodableT,
                unit: str | None = None) -> float | None:
        pieces: list = [name, place1, place2]
        if unit and unit not in _UNITS:
            raise DataError("GEODIST invalid unit")
        if unit:
            pieces.append(unit)
        return self.execute_command("GEODIST", *pieces, callback=float_or_none)

    def geohash(self, name: KeyT, *values: EncodableT) -> list[str | None]:
        return self.execute_command("GEOHASH", name, *values, callback=_geohash)

    def geopos(self, name: KeyT, *values: EncodableT) -> list[tuple[float, float] | None]:
        return self.execute_command("GEOPOS", name, *values, callback=_geopos)

    def georadius(self, name: KeyT, longitude: float, latitude: float, radius: float,
                  unit: str | None = None, withdist: bool = False, withcoord: bool = False,
                  withhash: bool = False, count: int | None = None, sort: str | None = None,
                  store: KeyT | None = None, store_dist: KeyT | None = None,
                  any: bool = False) -> GeoSearchResult:  # noqa: A002 - redis-py's name
        return self._georadius("GEORADIUS", [name, longitude, latitude, radius], unit,
                               withdist, withcoord, withhash, count, sort, store, store_dist,
                               any)

    def georadiusbymember(self, name: KeyT, member: EncodableT, radius: float,
                          unit: str | None = None, withdist: bool = False,
                          withcoord: bool = False, withhash: bool = False,
                          count: int | None = None, sort: str | None = None,
                          store: KeyT | None = None, store_dist: KeyT | None = None,
                          any: bool = False) -> GeoSearchResult:  # noqa: A002
        return self._georadius("GEORADIUSBYMEMBER", [name, member, radius], unit, withdist,
                               withcoord, withhash, count, sort, store, store_dist, any)

    def _georadius(self, command, pieces, unit, withdist, withcoord, withhash, count, sort,
                   store, store_dist, any):  # noqa: A002
        """redis-py's _georadiusgeneric, with its checks in its order."""
        if unit and unit not in _UNITS:
            raise DataError("GEORADIUS invalid unit")
        pieces.append(unit or "m")
        if any and count is None:
            raise DataError("``any`` can't be provided without ``count``")
        for flag, opt in ((withdist, "WITHDIST"), (withcoord, "WITHCOORD"),
                          (withhash, "WITHHASH")):
            if flag:
                pieces.append(opt)
        if count is not None:
            pieces.extend(["COUNT", count])
            if any:
                pieces.append("ANY")
        if sort:
            if sort not in ("ASC", "DESC"):
                raise DataError("GEORADIUS invalid sort")
            pieces.append(sort)
        if store and store_dist:
            raise DataError("GEORADIUS store and store_dist can't be set together")
        if store:
            pieces.extend([b"STORE", store])
        if store_dist:
            pieces.extend([b"STOREDIST", store_dist])
        if store or store_dist:
            return self.execute_command(command, *pieces)
        return self.execute_command(
            command, *pieces, callback=partial(_search_reply, withdist, withhash, withcoord))

    def geosearch(self, name: KeyT, member: EncodableT | None = None,
                  longitude: float | None = None, latitude: float | None = None,
                  unit: str = "m", radius: float | None = None, width: float | None = None,
                  height: float | None = None, sort: str | None = None,
                  count: int | None = None, any: bool = False,  # noqa: A002
                  withcoord: bool = False, withdist: bool = False,
                  withhash: bool = False) -> list[Any]:
        pieces = self._geosearch_args([name], member, longitude, latitude, unit, radius, width,
                                      height, sort, count, any)
        for flag, opt in ((withdist, b"WITHDIST"), (withcoord, b"WITHCOORD"),
                          (withhash, b"WITHHASH")):
            if flag:
                pieces.append(opt)
        return self.execute_command(
            "GEOSEARCH", *pieces,
            callback=partial(_search_reply, withdist, withhash, withcoord))

    def geosearchstore(self, dest: KeyT, name: KeyT, member: EncodableT | None = None,
                       longitude: float | None = None, latitude: float | None = None,
                       unit: str = "m", radius: float | None = None,
                       width: float | None = None, height: float | None = None,
                       sort: str | None = None, count: int | None = None,
                       any: bool = False, storedist: bool = False) -> int:  # noqa: A002
        pieces = self._geosearch_args([dest, name], member, longitude, latitude, unit, radius,
                                      width, height, sort, count, any)
        if storedist:
            pieces.append(b"STOREDIST")
        return self.execute_command("GEOSEARCHSTORE", *pieces)

    def _geosearch_args(self, pieces, member, longitude, latitude, unit, radius, width, height,
                        sort, count, any):  # noqa: A002
        """redis-py's _geosearchgeneric up to the WITH* flags, with its checks in its order."""
        if member is None and (longitude is None or latitude is None):
            raise DataError("GEOSEARCH must have member or longitude and latitude")
        if member is not None:
            if longitude is not None or latitude is not None:
                raise DataError(
                    "GEOSEARCH member and longitude or latitude can't be set together")
            pieces.extend([b"FROMMEMBER", member])
        if longitude is not None and latitude is not None:
            pieces.extend([b"FROMLONLAT", longitude, latitude])
        if radius is None and (width is None or height is None):
            raise DataError("GEOSEARCH must have radius or width and height")
        if unit is None:
            raise DataError("GEOSEARCH must have unit")
        if unit.lower() not in _UNITS:
            raise DataError("GEOSEARCH invalid unit")
        if radius is not None:
            if width is not None or height is not None:
                raise DataError(
                    "GEOSEARCH radius and width or height can't be set together")
            pieces.extend([b"BYRADIUS", radius, unit])
        if width is not None and height is not None:
            pieces.extend([b"BYBOX", width, height, unit])
        if sort:
            if sort.upper() not in ("ASC", "DESC"):
                raise DataError("GEOSEARCH invalid sort")
            pieces.append(sort.upper().encode())
        if count is not None:
            pieces.extend([b"COUNT", count])
            if any:
                pieces.append(b"ANY")
        elif any:
            raise DataError("GEOSEARCH ``any`` can't be provided without count")
        return pieces
