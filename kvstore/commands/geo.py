"""GEO commands (Redis `geo.c`): GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE and
the older GEORADIUS, GEORADIUSBYMEMBER and their _RO forms.

A GEO value is a sorted set whose scores are geohashes (engine.geohash), so every zset command
works on it and GEOADD is ZADD with computed scores (it runs ZADD's own code, for its options,
encoding, dirty count and `zadd` event). The searches are one function, `_search`, a port of
georadiusGeneric: the same order of checks (the source's type first, then each argument in
order, then the options' compatibility), so every error comes out as Redis's would.

A search scans the 9 cells of `geohash.areas` in Redis's order, each by score, and keeps the
points inside the shape. Unsorted replies come in that order, as in Redis. ASC/DESC (or COUNT
without ANY, which implies ASC) sort by distance: all results with a stable sort, as glibc's
qsort (a merge sort) leaves ties in scan order; only the first COUNT with Redis's pqsort, whose
tie order `pqsort.partial_sort` reproduces. ANY stops the scan at COUNT matches.

Replies: distances with 4 decimals (`distance_text`), hashes as integers, coordinates as
`HumanDouble`s (addReplyHumanLongDouble). STORE / STOREDIST / GEOSEARCHSTORE write a zset of
geohash scores or of distances (in the query's unit), or delete the destination when nothing
matched.
"""

from __future__ import annotations

import math

from ..engine import geohash
from ..engine.zset import ZSet
from ..errors import SYNTAX, CommandError
from ..replies import NULL_ARRAY, HumanDouble
from .args import to_int
from .pqsort import partial_sort
from .table import DENYOOM, READONLY, WRITE, Context, KeySpec, command
from .zsets import KEY1, _lookup, _zadd_generic, store_scores, to_score

GROUP = "geo"

# Meters per unit (extractUnitOrReply).
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
BAD_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
NO_MEMBER = "ERR could not decode requested zset member"

# georadiusGeneric's flags.
RADIUS_COORDS = 1 << 0      # GEORADIUS[_RO]: search around lon lat
RADIUS_MEMBER = 1 << 1      # GEORADIUSBYMEMBER[_RO]: search around a member
RADIUS_NOSTORE = 1 << 2     # the _RO forms: no STORE / STOREDIST
GEOSEARCH = 1 << 3          # FROMMEMBER / FROMLONLAT, BYRADIUS / BYBOX
GEOSEARCHSTORE = 1 << 4     # destination first; STOREDIST is a flag

SORT_NONE, SORT_ASC, SORT_DESC = 0, 1, 2


def _c_word(arg: bytes) -> bytes:
    """An option or unit as Redis's strcasecmp sees it: up to a NUL byte, lower-cased."""
    return arg.partition(b"\0")[0].lower()


def _lon_lat(lon: bytes, lat: bytes) -> tuple[float, float]:
    """extractLongLatOrReply."""
    x, y = to_score(lon), to_score(lat)
    if not (geohash.LONG_MIN <= x <= geohash.LONG_MAX
            and geohash.LAT_MIN <= y <= geohash.LAT_MAX):
        raise CommandError(f"ERR invalid longitude,latitude pair {x:f},{y:f}")
    return x, y


def _unit(arg: bytes) -> float:
    conversion = UNITS.get(_c_word(arg))
    if conversion is None:
        raise CommandError(BAD_UNIT)
    return conversion


def _radius(radius: bytes, unit: bytes) -> tuple[float, float]:
    """extractDistanceOrReply: (radius, meters per unit)."""
    r = to_score(radius, "ERR need numeric radius")
    if r < 0:
        raise CommandError("ERR radius cannot be negative")
    return r, _unit(unit)


def _member_lon_lat(zs: ZSet, member: bytes) -> tuple[float, float]:
    score = zs.score(member)
    if score is None:
        raise CommandError(NO_MEMBER)
    return geohash.decode(score)


def distance_text(d: float) -> bytes:
    """addReplyDoubleDistance: fixedpoint_d2string(d, 4), i.e. llrint(d * 10000) (ties to even,
    where printf's "%.4f" would round the exact value: 19521575.96725 -> "19521575.9672"), then
    its digits with a dot. NaN and inf become LLONG_MIN, as llrint returns them on x86-64."""
    if d == 0:
        return b"0.0000"
    scaled = d * 10000.0
    n = round(scaled) if math.isfinite(scaled) else -(1 << 63)
    sign = b"-" if n < 0 else b""
    whole, frac = divmod(abs(n), 10000)
    return b"%s%d.%04d" % (sign, whole, frac)


# -- GEOADD, GEOPOS, GEODIST, GEOHASH ------------------------------------------------------------


@command("geoadd", -5, WRITE | DENYOOM, KEY1, GROUP)
def geoadd(ctx: Context, argv: list[bytes]):
    """GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]

    Complexity: O(log N) per member. Reply: members added (or changed, with CH).
    """
    options = []
    i = 2
    while i < len(argv):
        opt = _c_word(argv[i])
        if opt not in (b"nx", b"xx", b"ch"):
            break
        options.append(opt)
        i += 1
    if (len(argv) - i) % 3 or (b"nx" in options and b"xx" in options):
        raise CommandError(SYNTAX)
    zargv = [b"zadd", argv[1], *options]
    for j in range(i, len(argv), 3):
        lon, lat = _lon_lat(argv[j], argv[j + 1])
        zargv += [b"%d" % geohash.encode(lon, lat), argv[j + 2]]
    reply = _zadd_generic(ctx, zargv, False)
    # Propagated as Redis does: the ZADD it ran, with the options as they were sent.
    ctx.effects = [[b"zadd", *argv[1:i], *zargv[2 + len(options):]]]
    return reply


@command("geopos", -2, READONLY, KEY1, GROUP)
def geopos(ctx: Context, argv: list[bytes]):
    """GEOPOS key [member ...]

    Complexity: O(1) per member. Reply: [longitude, latitude] per member, or a null array.
    """
    zs = _lookup(ctx, argv[1])
    out: list = []
    for member in argv[2:]:
        score = None if zs is None else zs.score(member)
        if score is None:
            out.append(NULL_ARRAY)
        else:
            lon, lat = geohash.decode(score)
            out.append([HumanDouble(lon), HumanDouble(lat)])
    return out


@command("geodist", -4, READONLY, KEY1, GROUP)
def geodist(ctx: Context, argv: list[bytes]):
    """GEODIST key member1 member2 [M | KM | FT | MI]

    Complexity: O(1). Reply: the distance with 4 decimals, or null when a member is missing.
    """
    conversion = 1.0
    if len(argv) == 5:
        conversion = _unit(argv[4])
    elif len(argv) > 5:
        raise CommandError(SYNTAX)
    zs = _lookup(ctx, argv[1])
    if zs is None:
        return None
    score1, score2 = zs.score(argv[2]), zs.score(argv[3])
    if score1 is None or score2 is None:
        return None
    return distance_text(
        geohash.distance(*geohash.decode(score1), *geohash.decode(score2)) / conversion)


@command("geohash", -2, READONLY, KEY1, GROUP)
def geohash_command(ctx: Context, argv: list[bytes]):
    """GEOHASH key [member ...]

    Complexity: O(1) per member. Reply: an 11-character geohash per member, or null.
    """
    zs = _lookup(ctx, argv[1])
    out: list = []
    for member in argv[2:]:
        score = None if zs is None else zs.score(member)
        out.append(None if score is None else geohash.standard_geohash(score))
    return out


# -- searches ------------------------------------------------------------------------------------


class _Query:
    """What the arguments of a search asked for (georadiusGeneric's locals)."""

    __slots__ = ("shape", "store", "storedist", "withdist", "withhash", "withcoord", "sort",
                 "any", "count", "frommember", "fromloc", "byradius", "bybox")

    def __init__(self) -> None:
        self.shape: geohash.Shape | None = None
        self.store: bytes | None = None
        self.storedist = self.withdist = self.withhash = self.withcoord = False
        self.frommember = self.fromloc = self.byradius = self.bybox = self.any = False
        self.sort = SORT_NONE
        self.count = 0  # 0: no limit


def _parse(argv: list[bytes], base: int, flags: int, zs: ZSet | None, q: _Query,
           centre: list) -> None:
    """The optional arguments from argv[base], each checked as it is read, as Redis does.
    `centre` receives [lon, lat] from FROMMEMBER / FROMLONLAT; q.shape gets the unit and size."""
    search = bool(flags & GEOSEARCH)
    may_store = not (flags & (RADIUS_NOSTORE | GEOSEARCH))
    i, n = base, len(argv)
    while i < n:
        arg = _c_word(argv[i])
        more = n - i - 1  # arguments after this one
        if arg == b"withdist":
            q.withdist = True
        elif arg == b"withhash":
            q.withhash = True
        elif arg == b"withcoord":
            q.withcoord = True
        elif arg == b"any":
            q.any = True
        elif arg == b"asc":
            q.sort = SORT_ASC
        elif arg == b"desc":
            q.sort = SORT_DESC
        elif arg == b"count" and more >= 1:
            q.count = to_int(argv[i + 1])
            if q.count <= 0:
                raise CommandError("ERR COUNT must be > 0")
            i += 1
        elif arg in (b"store", b"storedist") and more >= 1 and may_store:
            q.store, q.storedist = argv[i + 1], arg == b"storedist"
            i += 1
        elif arg == b"storedist" and flags & GEOSEARCHSTORE:
            q.storedist = True
        elif arg == b"frommember" and more >= 1 and search and not q.fromloc:
            if zs is not None:  # with no source, the search is empty: the member is not looked up
                centre[:] = _member_lon_lat(zs, argv[i + 1])
            q.frommember = True
            i += 1
        elif arg == b"fromlonlat" and more >= 2 and search and not q.frommember:
            centre[:] = _lon_lat(argv[i + 1], argv[i + 2])
            q.fromloc = True
            i += 2
        elif arg == b"byradius" and more >= 2 and search and not q.bybox:
            radius, conversion = _radius(argv[i + 1], argv[i + 2])
            q.shape = geohash.Shape(0.0, 0.0, conversion, radius=radius)
            q.byradius = True
            i += 2
        elif arg == b"bybox" and more >= 3 and search and not q.byradius:
            width = to_score(argv[i + 1], "ERR need numeric width")
            height = to_score(argv[i + 2], "ERR need numeric height")
            if height < 0 or width < 0:
                raise CommandError("ERR height or width cannot be negative")
            q.shape = geohash.Shape(0.0, 0.0, _unit(argv[i + 3]), width=width, height=height)
            q.bybox = True
            i += 3
        else:
            raise CommandError(SYNTAX)
        i += 1


def _search(ctx: Context, argv: list[bytes], src: int, flags: int):
    """georadiusGeneric: every search command, its errors in Redis's order."""
    zs = _lookup(ctx, argv[src])
    q = _Query()
    centre = [0.0, 0.0]
    if flags & RADIUS_COORDS:
        base = 6
        centre[:] = _lon_lat(argv[2], argv[3])
        radius, conversion = _radius(argv[4], argv[5])
        q.shape = geohash.Shape(0.0, 0.0, conversion, radius=radius)
    elif flags & RADIUS_MEMBER:
        base = 5
        if zs is not None:  # with no source, neither the member nor the radius is read
            centre[:] = _member_lon_lat(zs, argv[2])
            radius, conversion = _radius(argv[3], argv[4])
            q.shape = geohash.Shape(0.0, 0.0, conversion, radius=radius)
    else:
        base = 3 if flags & GEOSEARCHSTORE else 2
        if flags & GEOSEARCHSTORE:
            q.store = argv[1]
    _parse(argv, base, flags, zs, q, centre)
    if q.store is not None:
        ctx.touched = (argv, [q.store])  # not the source
    if q.store is not None and (q.withdist or q.withhash or q.withcoord):
        name = "GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"
        raise CommandError(
            f"ERR {name} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    name = argv[0].decode("utf-8", "surrogateescape")
    if flags & GEOSEARCH and not (q.frommember or q.fromloc):
        raise CommandError(
            f"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")
    if flags & GEOSEARCH and not (q.byradius or q.bybox):
        raise CommandError(f"ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")
    if q.any and not q.count:
        raise CommandError("ERR the ANY argument requires COUNT argument")
    if zs is None:
        return [] if q.store is None else store_scores(ctx, q.store, {}, "")
    if q.count and q.sort == SORT_NONE and not q.any:
        q.sort = SORT_ASC
    shape = q.shape
    assert shape is not None  # the radius arguments, BYRADIUS or BYBOX, required above
    shape.lon, shape.lat = centre
    points = _points(zs, shape, q.count if q.any else 0)
    return _reply(ctx, q, points, flags)


def _points(zs: ZSet, shape: geohash.Shape, limit: int) -> list[tuple]:
    """membersOfAllNeighbors: (member, score, lon, lat, distance in meters) of the points in
    the shape, in scan order; at most `limit` of them if it is not 0."""
    out: list[tuple] = []
    last = None
    within, decode = shape.within, geohash.decode
    for i, cell in enumerate(geohash.areas(shape)):
        if cell == geohash.NO_CELL:
            continue
        # Neighbours coincide when cells are coarse: one equal to the last neighbour scanned is
        # skipped (Redis's `last_processed`, which is 0 until a neighbour is scanned, so a
        # neighbour equal to the centre is scanned again).
        if last is not None and cell == last:
            continue
        if limit and len(out) >= limit:
            break
        lo, hi = geohash.score_range(cell)
        start, stop = zs.score_span(lo, hi, False, True)
        for member, score in zs.items(start, stop):
            lon, lat = decode(score)
            dist = within(lon, lat)
            if dist is not None:
                out.append((member, score, lon, lat, dist))
                if limit and len(out) >= limit:
                    break
        if i:
            last = cell
    return out


def _sorted(points: list[tuple], sort: int, keep: int) -> list[tuple]:
    """The first `keep` points by distance, as Redis sorts them (see the module docstring)."""
    if sort == SORT_NONE:
        return points[:keep]
    desc = sort == SORT_DESC
    if keep == len(points):
        return sorted(points, key=lambda p: p[4], reverse=desc)
    by_rank = {d: r for r, d in enumerate(sorted({p[4] for p in points}, reverse=desc))}
    order = partial_sort([by_rank[p[4]] for p in points], 0, keep - 1)
    return [points[k] for k in order[:keep]]


def _reply(ctx: Context, q: _Query, points: list[tuple], flags: int):
    keep = len(points) if not q.count else min(q.count, len(points))
    points = _sorted(points, q.sort, keep)
    conversion = q.shape.conversion  # type: ignore[union-attr]
    if q.store is not None:
        scores = {p[0]: (p[4] / conversion if q.storedist else p[1]) for p in points}
        event = "geosearchstore" if flags & GEOSEARCH else "georadiusstore"
        stored = store_scores(ctx, q.store, scores, event)
        if stored:
            ctx.ks.dirty += stored - 1  # Redis counts one change per member stored
        return stored
    if not (q.withdist or q.withhash or q.withcoord):
        return [p[0] for p in points]
    out = []
    for member, score, lon, lat, dist in points:
        item: list = [member]
        if q.withdist:
            item.append(distance_text(dist / conversion))
        if q.withhash:
            item.append(int(score))
        if q.withcoord:
            item.append([HumanDouble(lon), HumanDouble(lat)])
        out.append(item)
    return out


def _store_keys(first_option: int):
    """The key finder of GEORADIUS[BYMEMBER]: as COMMAND GETKEYS answers in Redis 7.0, from the
    key specs it prefers to georadiusGetKeys (the source, then the argument after the first
    STORE and after the first STOREDIST among the options, neither as the last argument), plus
    the destination the command writes, the last STORE / STOREDIST, if the specs missed it (two
    STOREs): WATCH and cluster routing must see it."""

    def keys(argv: list[bytes]) -> list[bytes]:
        positions = [1]
        for keyword in (b"store", b"storedist"):
            for i in range(first_option, len(argv) - 1):
                if _c_word(argv[i]) == keyword:
                    positions.append(i + 1)
                    break
        written = None
        i = 5  # georadiusGetKeys starts here for both commands
        while i < len(argv) - 1:
            if _c_word(argv[i]) in (b"store", b"storedist"):
                written = i + 1
                i += 1
            i += 1
        if written is not None and written not in positions:
            positions.append(written)
        return [argv[i] for i in positions]

    return keys


@command("georadius", -6, WRITE | DENYOOM, KEY1, GROUP, getkeys=_store_keys(6))
def georadius(ctx: Context, argv: list[bytes]):
    """GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]

    Complexity: O(N + log M) for the N points of the scanned cells. Reply: members (with
    WITHDIST / WITHHASH / WITHCOORD, arrays of each member's fields), or with STORE the
    number stored.
    """
    return _search(ctx, argv, 1, RADIUS_COORDS)


@command("georadius_ro", -6, READONLY, KEY1, GROUP)
def georadius_ro(ctx: Context, argv: list[bytes]):
    """GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST]
    [WITHHASH] [COUNT count [ANY]] [ASC | DESC]

    Complexity: O(N + log M). Reply: as GEORADIUS without STORE.
    """
    return _search(ctx, argv, 1, RADIUS_COORDS | RADIUS_NOSTORE)


@command("georadiusbymember", -5, WRITE | DENYOOM, KEY1, GROUP,
         getkeys=_store_keys(5))
def georadiusbymember(ctx: Context, argv: list[bytes]):
    """GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key]

    Complexity: O(N + log M). Reply: as GEORADIUS, around a member's position.
    """
    return _search(ctx, argv, 1, RADIUS_MEMBER)


@command("georadiusbymember_ro", -5, READONLY, KEY1, GROUP)
def georadiusbymember_ro(ctx: Context, argv: list[bytes]):
    """GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
    [COUNT count [ANY]] [ASC | DESC]

    Complexity: O(N + log M). Reply: as GEORADIUSBYMEMBER without STORE.
    """
    return _search(ctx, argv, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


@command("geosearch", -7, READONLY, KEY1, GROUP)
def geosearch(ctx: Context, argv: list[bytes]):
    """GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
    BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC]
    [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]

    Complexity: O(N + log M). Reply: as GEORADIUS, in a circle or an axis-aligned box.
    """
    return _search(ctx, argv, 1, GEOSEARCH)


@command("geosearchstore", -8, WRITE | DENYOOM, KeySpec(1, 2, 1), GROUP)
def geosearchstore(ctx: Context, argv: list[bytes]):
    """GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude
    BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC]
    [COUNT count [ANY]] [STOREDIST]

    Complexity: O(N + log M). Reply: the number of members stored at destination.
    """
    return _search(ctx, argv, 2, GEOSEARCH | GEOSEARCHSTORE)
