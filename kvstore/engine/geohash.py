"""Geohashes, as Redis 7.0 computes them (`geohash.c`, `geohash_helper.c`).

A GEO value is a sorted set whose scores are 52-bit geohashes: 26 bits of longitude (-180..180)
interleaved with 26 bits of latitude (-85.05112878..85.05112878, the Web Mercator limits), the
latitude bits in the even positions. A cell of `step` bits per axis covers every score between
its hash shifted left to 52 bits (inclusive) and the next hash shifted likewise (exclusive), so
a search is a few score ranges: the cell holding the centre and its 8 neighbours, at the
coarsest step whose cells still cover the search area (`areas`), each point in them then
filtered by its true distance (`within`).

Redis's replies depend on double arithmetic to the last bit (a point exactly on a search
radius, a coordinate printed with 17 decimals), so this is a line-by-line port on Python floats,
which are the same IEEE doubles, with the same libm (`math` calls the C library's sin, cos,
asin, sqrt). Where C would quietly return NaN (cos(inf), asin of 1 + 1e-16) Python raises; the
`_c*` wrappers return NaN as C does. `score_bits` reproduces the x86-64 conversion of a double
score to uint64 that Redis's `(uint64_t)score` compiles to, since any double may be a score.
"""

from __future__ import annotations

import math

LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
STEP_MAX = 26                                # bits per axis of a stored score
EARTH_RADIUS_IN_METERS = 6372797.560856      # Redis's quadratic mean radius for WGS-84
MERCATOR_MAX = 20037726.37
_D_R = math.pi / 180.0
_BASE32 = b"0123456789bcdefghjkmnpqrstuvwxyz"

_U64 = (1 << 64) - 1
_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA
_TWO63 = 9223372036854775808.0
_INT64_INDEFINITE = 1 << 63                  # what cvttsd2si returns for out-of-range input
# interleave64's and deinterleave64's (shift, mask) rounds.
_SPREAD = ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
           (2, 0x3333333333333333), (1, _EVEN))
_GATHER = ((1, 0x3333333333333333), (2, 0x0F0F0F0F0F0F0F0F), (4, 0x00FF00FF00FF00FF),
           (8, 0x0000FFFF0000FFFF), (16, 0x00000000FFFFFFFF))

# A cell: (bits, step). Redis's GZERO cell (0, 0) marks a neighbour left out of a search.
Cell = tuple[int, int]
NO_CELL: Cell = (0, 0)


def _csin(x: float) -> float:
    try:
        return math.sin(x)
    except ValueError:
        return math.nan


def _ccos(x: float) -> float:
    try:
        return math.cos(x)
    except ValueError:
        return math.nan


def _casin_sqrt(a: float) -> float:
    try:
        return math.asin(math.sqrt(a))
    except ValueError:
        return math.nan


def score_bits(score: float) -> int:
    """`(uint64_t)score` as gcc compiles it for x86-64: truncation below 2**63 (negative values
    wrap; out-of-int64 ones and -inf give 1 << 63), else 2**63 subtracted first (>= 2**64 and
    +inf give 0)."""
    if score >= _TWO63:
        rest = score - _TWO63
        return (_INT64_INDEFINITE if rest >= _TWO63 else int(rest)) ^ _INT64_INDEFINITE
    if score != score or score < -_TWO63:
        return _INT64_INDEFINITE
    return int(score) & _U64


def _interleave(lat: int, lon: int) -> int:
    """interleave64 (Bit Twiddling Hacks, "Interleave bits by Binary Magic Numbers"): lat's 32
    bits in the even positions, lon's in the odd ones."""
    for shift, mask in _SPREAD:
        lat = (lat | (lat << shift)) & mask
        lon = (lon | (lon << shift)) & mask
    return lat | (lon << 1)


def _deinterleave(bits: int) -> tuple[int, int]:
    """deinterleave64: (the even-position bits, the odd-position bits) = (lat, lon)."""
    lat, lon = bits & _EVEN, (bits >> 1) & _EVEN
    for shift, mask in _GATHER:
        lat = (lat | (lat >> shift)) & mask
        lon = (lon | (lon >> shift)) & mask
    return lat, lon


def encode(lon: float, lat: float, step: int = STEP_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX) -> int:
    """geohashEncode over longitude -180..180 and the given latitude range; the caller has
    checked that the point is within the Mercator limits. A coordinate on the upper limit
    yields 1 << step, one bit more than the step holds, as in Redis."""
    lat_offset = (lat - lat_min) / (lat_max - lat_min) * (1 << step)
    lon_offset = (lon - LONG_MIN) / (LONG_MAX - LONG_MIN) * (1 << step)
    return _interleave(int(lat_offset), int(lon_offset))


def cell_area(bits: int, step: int) -> tuple[float, float, float, float]:
    """geohashDecode: (lon_min, lon_max, lat_min, lat_max) of a cell. The uint32 halves wrap
    on +1, as in C."""
    ilat, ilon = _deinterleave(bits)
    scale = float(1 << step)
    lat_scale = LAT_MAX - LAT_MIN
    lon_scale = LONG_MAX - LONG_MIN
    return (LONG_MIN + (ilon * 1.0 / scale) * lon_scale,
            LONG_MIN + (((ilon + 1) & 0xFFFFFFFF) * 1.0 / scale) * lon_scale,
            LAT_MIN + (ilat * 1.0 / scale) * lat_scale,
            LAT_MIN + (((ilat + 1) & 0xFFFFFFFF) * 1.0 / scale) * lat_scale)


def decode(score: float) -> tuple[float, float]:
    """A score's (lon, lat): its 26-step cell's centre, clamped to the valid ranges (a score
    that is no geohash still decodes, to somewhere)."""
    lon_min, lon_max, lat_min, lat_max = cell_area(score_bits(score), STEP_MAX)
    lon = (lon_min + lon_max) / 2
    lat = (lat_min + lat_max) / 2
    lon = LONG_MAX if lon > LONG_MAX else (LONG_MIN if lon < LONG_MIN else lon)
    lat = LAT_MAX if lat > LAT_MAX else (LAT_MIN if lat < LAT_MIN else lat)
    return lon, lat


def standard_geohash(score: float) -> bytes:
    """GEOHASH's 11 characters: the decoded point re-encoded over latitude -90..90 (the
    standard geohash), 10 base32 characters of its 52 bits and a final '0'."""
    lon, lat = decode(score)
    bits = encode(lon, lat, STEP_MAX, -90.0, 90.0)
    return bytes(_BASE32[(bits >> (52 - (i + 1) * 5)) & 0x1F] for i in range(10)) + b"0"


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """geohashGetDistance: haversine on Redis's earth radius, in meters."""
    lat1r = lat1 * _D_R
    lon1r = lon1 * _D_R
    lat2r = lat2 * _D_R
    lon2r = lon2 * _D_R
    u = _csin((lat2r - lat1r) / 2)
    v = _csin((lon2r - lon1r) / 2)
    return 2.0 * EARTH_RADIUS_IN_METERS * _casin_sqrt(u * u + _ccos(lat1r) * _ccos(lat2r) * v * v)


# -- searches ------------------------------------------------------------------------------------


class Shape:
    """A search area (Redis's GeoShape): centre (lon, lat), and either `radius` or `width` and
    `height`, in the unit whose size in meters is `conversion`."""

    __slots__ = ("lon", "lat", "radius", "width", "height", "conversion")

    def __init__(self, lon: float, lat: float, conversion: float, radius: float | None = None,
                 width: float = 0.0, height: float = 0.0) -> None:
        self.lon, self.lat, self.conversion = lon, lat, conversion
        self.radius, self.width, self.height = radius, width, height

    def within(self, lon: float, lat: float) -> float | None:
        """The point's distance from the centre in meters if it is inside, else None
        (geohashGetDistanceIfInRadiusWGS84 / geohashGetDistanceIfInRectangle)."""
        if self.radius is not None:
            d = distance(self.lon, self.lat, lon, lat)
            return None if d > self.radius * self.conversion else d
        lon_distance = distance(lon, lat, self.lon, lat)
        lat_distance = distance(lon, lat, lon, self.lat)
        if (lon_distance > self.width * self.conversion / 2
                or lat_distance > self.height * self.conversion / 2):
            return None
        return distance(self.lon, self.lat, lon, lat)

    def bounds(self) -> tuple[float, float, float, float]:
        """geohashBoundingBox: (min_lon, min_lat, max_lon, max_lat), wider on the side nearer
        a pole."""
        if self.radius is not None:
            height = width = self.conversion * self.radius
        else:
            height = self.conversion * (self.height / 2)
            width = self.conversion * (self.width / 2)
        lat_delta = (height / EARTH_RADIUS_IN_METERS) / _D_R
        top = (width / EARTH_RADIUS_IN_METERS / _ccos((self.lat + lat_delta) * _D_R)) / _D_R
        bottom = (width / EARTH_RADIUS_IN_METERS / _ccos((self.lat - lat_delta) * _D_R)) / _D_R
        delta = bottom if self.lat < 0 else top
        return self.lon - delta, self.lat - lat_delta, self.lon + delta, self.lat + lat_delta

    def radius_meters(self) -> float:
        if self.radius is not None:
            return self.radius * self.conversion
        half_w, half_h = self.width / 2, self.height / 2
        return math.sqrt(half_w * half_w + half_h * half_h) * self.conversion


def estimate_steps(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the step whose cells are about as wide as the range."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(26, step))


def _move_x(bits: int, step: int, d: int) -> int:
    """geohash_move_x: the cell d (+1 east, -1 west) along the longitude bits, wrapping."""
    x = bits & _ODD
    y = bits & _EVEN
    zz = _EVEN >> (64 - step * 2)
    x = x + (zz + 1) if d > 0 else (x | zz) - (zz + 1)
    return ((x & _U64) & (_ODD >> (64 - step * 2))) | y


def _move_y(bits: int, step: int, d: int) -> int:
    """geohash_move_y: the cell d (+1 north, -1 south) along the latitude bits, wrapping."""
    x = bits & _ODD
    y = bits & _EVEN
    zz = _ODD >> (64 - step * 2)
    y = y + (zz + 1) if d > 0 else (y | zz) - (zz + 1)
    return x | ((y & _U64) & (_EVEN >> (64 - step * 2)))


# The 9 cells in Redis's scan order (membersOfAllNeighbors): self, N, S, E, W, NE, NW, SE, SW,
# as (east-west, north-south) moves.
_SCAN_MOVES = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _neighbours(bits: int, step: int) -> list[int]:
    out = []
    for dx, dy in _SCAN_MOVES:
        b = bits
        if dx:
            b = _move_x(b, step, dx)
        if dy:
            b = _move_y(b, step, dy)
        out.append(b)
    return out


def areas(shape: Shape) -> list[Cell]:
    """geohashCalculateAreasByShapeWGS84: the 9 cells to scan, in scan order, NO_CELL for
    those that cannot reach the search area."""
    min_lon, min_lat, max_lon, max_lat = shape.bounds()
    lon, lat = shape.lon, shape.lat
    steps = estimate_steps(shape.radius_meters(), lat)
    cells = _neighbours(encode(lon, lat, steps), steps)
    # North, south, east and west neighbours must reach past the bounding box, else one step
    # coarser.
    north, south, east, west = (cell_area(b, steps) for b in cells[1:5])
    if steps > 1 and (north[3] < max_lat or south[2] > min_lat or east[1] < max_lon
                      or west[0] > min_lon):
        steps -= 1
        cells = _neighbours(encode(lon, lat, steps), steps)
    out = [(b, steps) for b in cells]
    if steps >= 2:
        a_lon_min, a_lon_max, a_lat_min, a_lat_max = cell_area(cells[0], steps)
        useless = set()
        if a_lat_min < min_lat:
            useless.update((2, 7, 8))  # south, south-east, south-west
        if a_lat_max > max_lat:
            useless.update((1, 5, 6))  # north, north-east, north-west
        if a_lon_min < min_lon:
            useless.update((4, 6, 8))  # west, north-west, south-west
        if a_lon_max > max_lon:
            useless.update((3, 5, 7))  # east, north-east, south-east
        for i in useless:
            out[i] = NO_CELL
    return out


def score_range(cell: Cell) -> tuple[float, float]:
    """The scores [min, max) of a cell's points (scoresOfGeoHashBox)."""
    bits, step = cell
    shift = 52 - step * 2
    return float((bits << shift) & _U64), float(((bits + 1) << shift) & _U64)
