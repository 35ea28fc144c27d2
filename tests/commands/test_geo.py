"""GEO commands against the real redis-server: replies compared exactly (distances, coordinates
and hashes as Redis prints them), error texts and their order, dirty counts, encodings and
keyspace events of the STORE forms, COMMAND GETKEYS, the redis-py-shaped methods, and seeded
random searches. Unsorted results are compared in order too: kvstore scans Redis's cells in
Redis's order, and sorts ties as glibc's qsort and Redis's pqsort do.
"""

from __future__ import annotations

import random

import pytest

from kvstore.commands.table import COMMANDS

from .helpers import keyevent_streams, same, same_keyspace
from .test_zsets import Diff, small  # noqa: F401 - `small` is a fixture

SICILY = ["13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]


@pytest.fixture
def d(both):
    return Diff(both)


@pytest.fixture
def sicily(d):
    d("GEOADD", "Sicily", *SICILY)
    d("GEOADD", "Sicily", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2",
      "14", "37", "Agrigento-ish", "14", "37", "twin", "13.583333", "37.316667", "Agrigento")
    d("SET", "str", "x")
    return d


# -- GEOADD, GEOPOS, GEODIST, GEOHASH -------------------------------------------------------------


def test_geoadd_options_scores_and_errors(d, both):
    d.run(("GEOADD", "g", *SICILY), ("GEOADD", "g", *SICILY), ("ZRANGE", "g", 0, -1, "WITHSCORES"),
          ("GEOADD", "g", "CH", "13", "38", "Palermo", "1", "2", "new"),
          ("GEOADD", "g", "NX", "0", "0", "Palermo", "0", "0", "nx"),
          ("GEOADD", "g", "xx", "ch", "1", "1", "Palermo", "1", "1", "absent"),
          ("GEOADD", "g", "XX", "CH", "NX", "1", "1", "a"), ("GEOADD", "g", "ch", "ch", "ch"),
          ("GEOADD", "g", "GT", "1", "2", "a"), ("GEOADD", "g", "GT", "1", "2"),
          ("GEOADD", "g", "1", "2", "a", "3"), ("GEOADD", "g", "1", "2"),
          ("GEOADD", "nokey", "XX", "1", "2", "a"), ("EXISTS", "nokey"),
          ("GEOADD", "g", "180", "85.05112878", "corner", "-180", "-85.05112878", "corner2"),
          ("GEOADD", "g", "0", "0", "zero", "-0", "-0", "negzero"),
          ("ZRANGE", "g", 0, -1, "WITHSCORES"), ("SET", "str", "x"))
    for lon, lat in [("180.0000001", "0"), ("-180.1", "0"), ("0", "85.05112879"),
                     ("0", "-86"), ("inf", "0"), ("0", "-inf"), ("1e300", "1"), ("abc", "1"),
                     ("1", ""), ("nan", "1"), ("0x10", "1"), ("1e400", "0")]:
        d("GEOADD", "g", lon, lat, "bad")
        d("GEOADD", "g", "1", "1", "ok", lon, lat, "bad")  # nothing added when any pair is bad
        d("GEOADD", "str", lon, lat, "bad")  # coordinates are checked before the type
    d("GEOADD", "str", "1", "1", "m")
    d("ZRANGE", "g", 0, -1, "WITHSCORES")
    same_keyspace(both, "g", "nokey")


def test_geoadd_encoding_follows_zadd(d, both, small):
    d.run(("GEOADD", "g", "1", "1", "a", "2", "2", "b", "3", "3", "c", "4", "4", "d"),
          ("GEOADD", "long", "1", "1", "a-member-longer-than-eight"))
    same_keyspace(both, "g", "long")
    d("GEOADD", "g", "5", "5", "e")
    same_keyspace(both, "g")


# Scores no GEOADD writes still decode (C's double -> uint64 conversion, then clamping).
ODD_SCORES = ["-1.5", "-0.5", "inf", "-inf", "1e300", "-1e300", "1.5", "4503599627370496",
              "4503599627370497", "13510798882111488", "9007199254740993", "9223372036854775807",
              "9223372036854775808", "18446744073709551615", "18446744073709551616",
              "-9223372036854775808", "-9223372036854777856", "0"]


def test_geopos_geohash_geodist(sicily):
    d = sicily
    for i, score in enumerate(ODD_SCORES):
        d("ZADD", "Sicily", score, f"odd{i}")
    members = ["Palermo", "Catania", "nope", "twin", *(f"odd{i}" for i in range(len(ODD_SCORES)))]
    d.run(("GEOPOS", "Sicily", *members), ("GEOHASH", "Sicily", *members),
          ("GEOPOS", "Sicily"), ("GEOHASH", "Sicily"), ("GEOPOS", "nokey", "a", "b"),
          ("GEOHASH", "nokey", "a"), ("GEOPOS", "nokey"), ("GEOPOS", "str", "a"),
          ("GEOHASH", "str"), ("GEOPOS",), ("GEOHASH",))
    for unit in [(), ("m",), ("km",), ("KM",), ("ft",), ("mi",), ("Mi",), ("cm",), ("",),
                 ("km", "x"), ("m\x00x",)]:
        d("GEODIST", "Sicily", "Palermo", "Catania", *unit)
        d("GEODIST", "nokey", "Palermo", "Catania", *unit)
        d("GEODIST", "str", "Palermo", "Catania", *unit)
    for i in range(len(ODD_SCORES)):
        d("GEODIST", "Sicily", "Palermo", f"odd{i}", "mi")
    d.run(("GEODIST", "Sicily", "Palermo", "nope"), ("GEODIST", "Sicily", "nope", "Palermo"),
          ("GEODIST", "Sicily", "twin", "Agrigento-ish"), ("GEODIST", "Sicily", "Palermo"))


# -- searches: errors -----------------------------------------------------------------------------

SEARCH_ERRORS = [
    # GEORADIUS: the source's type first, then centre, radius, unit, options in order
    ("GEORADIUS", "str", "1", "2", "-1", "km"), ("GEORADIUS", "Sicily", "200", "2", "1", "km"),
    ("GEORADIUS", "Sicily", "x", "2", "-1", "km"), ("GEORADIUS", "Sicily", "1", "2", "-1", "km"),
    ("GEORADIUS", "Sicily", "1", "2", "abc", "km"), ("GEORADIUS", "Sicily", "1", "2", "1", "xx"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "COUNT", "0"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "COUNT", "-3", "bogus"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "COUNT", "abc"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "COUNT"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "bogus", "COUNT", "0"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "STORE", "x", "WITHDIST"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "WITHHASH", "STOREDIST", "x"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "STORE"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "ANY"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "ANY", "STORE", "x", "WITHCOORD"),
    ("GEORADIUS", "Sicily", "1", "2", "1", "km", "FROMMEMBER", "Palermo"),
    ("GEORADIUS", "nokey", "1", "2", "1", "km", "COUNT", "1", "ANY", "bogus"),
    ("GEORADIUS", "nokey", "1", "2", "-1", "km"),
    ("GEORADIUS_RO", "Sicily", "1", "2", "1", "km", "STORE", "x"),
    ("GEORADIUS_RO", "Sicily", "1", "2", "1", "km", "STOREDIST", "x"),
    ("GEORADIUS_RO", "str", "1", "2", "1", "km"),
    # GEORADIUSBYMEMBER: with no source, neither the member nor the radius is read
    ("GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "-1", "km"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "parsec"),
    ("GEORADIUSBYMEMBER", "nokey", "nope", "-1", "parsec"),
    ("GEORADIUSBYMEMBER", "nokey", "nope", "-1", "parsec", "bogus"),
    ("GEORADIUSBYMEMBER", "nokey", "nope", "1", "km", "STORE", "x", "WITHDIST"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "1", "km", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "str", "nope", "1", "km"),
    # GEOSEARCH / GEOSEARCHSTORE
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "COUNT", "1", "WITHDIST"),
    ("GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"),
    ("geosearch", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"),
    ("GeoSearch", "Sicily", "FROMLONLAT", "1", "2", "ASC", "DESC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "-2", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "x", "-2", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "x", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "2", "yd"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "2"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
     "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "FROMMEMBER", "a", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "FROMLONLAT", "3", "4", "BYRADIUS", "1", "m"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "nope", "BYRADIUS", "-1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "99", "BYRADIUS", "-1", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "-1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STOREDIST"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "x"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCH", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "WITHDIST"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "x"),
    ("geosearchstore", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "ASC"),
    ("GEOSEARCHSTORE", "d", "str", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "x\x00"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "k\x00m", "withdist\x00x"),
    ("GEOSEARCH", "Sicily"), ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "a"),
    ("GEORADIUS", "Sicily", "1", "2", "3"), ("GEORADIUSBYMEMBER", "Sicily", "a", "3"),
]


def test_search_errors_in_redis_order(sicily):
    for argv in SEARCH_ERRORS:
        sicily(*argv)


# -- searches: options ----------------------------------------------------------------------------

CENTRES = [("FROMLONLAT", "15", "37"), ("FROMMEMBER", "Palermo"), ("FROMMEMBER", "twin"),
           ("FROMLONLAT", "13.583333", "37.316667")]
SHAPES = [("BYRADIUS", "200", "km"), ("BYRADIUS", "0", "m"), ("BYRADIUS", "100", "MI"),
          ("BYRADIUS", "400000", "ft"), ("BYBOX", "400", "400", "km"),
          ("BYBOX", "500", "50", "km"),
          ("BYBOX", "0", "0", "m"), ("BYRADIUS", "inf", "m")]
OPTIONS = [(), ("ASC",), ("DESC",), ("COUNT", "1"), ("COUNT", "3", "DESC"), ("COUNT", "2", "ANY"),
           ("COUNT", "2", "ANY", "ASC"), ("COUNT", "100"), ("WITHDIST",), ("WITHHASH",),
           ("WITHCOORD",), ("WITHDIST", "WITHHASH", "WITHCOORD", "DESC"),
           ("withcoord", "withdist", "count", "4", "asc", "any")]


def test_search_options(sicily):
    d = sicily
    for centre in CENTRES:
        for shape in SHAPES:
            for options in OPTIONS:
                d("GEOSEARCH", "Sicily", *centre, *shape, *options)
    for options in OPTIONS:
        d("GEORADIUS", "Sicily", "15", "37", "200", "km", *options)
        d("GEORADIUS_RO", "Sicily", "15", "37", "100", "mi", *options)
        d("GEORADIUSBYMEMBER", "Sicily", "Agrigento", "150", "km", *options)
        d("GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "500", "km", *options)
        d("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYBOX", "1", "1", "m", *options)
        d("GEORADIUS", "nokey", "15", "37", "200", "km", *options)


def test_store_forms(sicily, both):
    d = sicily
    d("SET", "dst", "old", "EX", "1000")
    for argv in [("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"),
                 ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst", "DESC"),
                 ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "x", "STOREDIST",
                  "dst"),
                 ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "mi", "STOREDIST", "dst",
                  "COUNT", "2"),
                 ("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "300",
                  "300", "km"),
                 ("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "twin", "BYRADIUS", "90", "km",
                  "STOREDIST", "COUNT", "2", "ANY"),
                 ("GEOSEARCHSTORE", "Sicily", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS",
                  "100", "km", "STOREDIST")]:
        d(*argv)
        d("ZRANGE", "dst", 0, -1, "WITHSCORES")
        same_keyspace(both, "dst", "x", "Sicily")
        d("TTL", "dst")
    # nothing found, or no source: the destination is deleted (once)
    d.run(("GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "dst"), ("EXISTS", "dst"),
          ("SET", "dst", "v"), ("GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "dst"),
          ("EXISTS", "dst"), ("GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "dst"),
          ("SET", "dst", "v"), ("GEORADIUSBYMEMBER", "nokey", "x", "-1", "yd", "STORE", "dst"),
          ("SET", "dst", "v"),
          ("GEOSEARCHSTORE", "dst", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "m"),
          ("EXISTS", "dst"))


def test_store_encoding(d, both, small):
    d("GEOADD", "g", *[x for i in range(6) for x in (f"{i / 10}", "0", f"m{i}")],
      "0.05", "0.05", "a-long-member-name")
    for count in ("4", "5", "10"):
        d("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "100", "km",
          "COUNT", count)
        same_keyspace(both, "dst")
    d("GEORADIUS", "g", "0", "0", "5", "km", "STOREDIST", "dst")
    same_keyspace(both, "dst")


def test_store_events(redis_server, oracle, store):
    seq = [("GEOADD", "g", *SICILY), ("GEOADD", "g", "XX", "1", "1", "Palermo"),
           ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "a"),
           ("GEOSEARCHSTORE", "b", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"),
           ("GEORADIUS", "g", "0", "0", "1", "m", "STORE", "a"),
           ("GEOSEARCHSTORE", "b", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "2", "km"),
           ("GEORADIUS", "g", "15", "37", "200", "km")]
    events, want = keyevent_streams(redis_server, oracle, store, "KEA", seq)
    assert [(e, k) for _, e, k in events] == want


def test_getkeys(d):
    for argv in [("GEORADIUS", "g", "1", "2", "3", "km", "STORE", "a", "STOREDIST", "b"),
                 ("GEORADIUS", "g", "1", "2", "3", "km", "STORE"),
                 ("GEORADIUS", "g", "1", "2", "3", "km", "storedist", "x", "STORE"),
                 ("GEORADIUS", "g", "1", "2", "store", "km", "STORE", "a"),
                 ("GEORADIUSBYMEMBER", "g", "m", "3", "km", "STORE", "a"),
                 ("GEORADIUSBYMEMBER", "g", "m", "store", "a", "km"),
                 ("GEORADIUSBYMEMBER", "g", "m", "3", "store", "store", "store"),
                 ("GEOSEARCHSTORE", "a", "b", "FROMMEMBER", "m", "BYRADIUS", "1", "m"),
                 ("GEOSEARCH", "a", "FROMMEMBER", "m", "BYRADIUS", "1", "m"),
                 ("GEORADIUS_RO", "g", "1", "2", "3", "km", "STORE", "a"),
                 ("GEOADD", "g", "1", "2", "m"), ("GEOPOS", "g"), ("GEODIST", "g", "a", "b")]:
        d("COMMAND", "GETKEYS", *argv)
    # COMMAND GETKEYS answers as Redis's key specs do, naming the first STORE only; the command
    # writes the last one, so the keys WATCH and tracking see name it too.
    argv = [b"GEORADIUS", b"g", b"1", b"2", b"3", b"km", b"STORE", b"a", b"STORE", b"b"]
    d("COMMAND", "GETKEYS", *argv)
    assert COMMANDS[b"georadius"].keys(argv) == [b"g", b"a", b"b"]


# -- seeded random searches -----------------------------------------------------------------------


def _coord(rng):
    x = rng.random()
    if x < 0.08:
        return rng.choice(["180", "-180", "0"]), rng.choice(["85.05112878", "-85.05112878", "0"])
    if x < 0.35:  # a dense patch, so that searches find many points
        return f"{rng.uniform(10, 12):.6f}", f"{rng.uniform(40, 42):.6f}"
    if x < 0.45:  # near the poles and the antimeridian
        return f"{rng.uniform(175, 180):.5f}", f"{rng.choice([-1, 1]) * rng.uniform(60, 85):.5f}"
    return f"{rng.uniform(-180, 180):.6f}", f"{rng.uniform(-85.05, 85.05):.6f}"


def test_random_searches_match_redis(d):
    rng = random.Random(20240611)
    for _ in range(20):
        d.both("FLUSHALL")  # (Redis counts no change: it propagates FLUSHALL regardless)
        n = rng.choice([10, 120, 400])
        points = []
        for i in range(n):  # a fifth of the points share a spot: ties in distance
            lon, lat = rng.choice(points) if points and rng.random() < 0.2 else _coord(rng)
            points.append((lon, lat))
        d("GEOADD", "g", *[x for i, (lon, lat) in enumerate(points) for x in (lon, lat, f"m{i}")])
        for _ in range(60):
            lon, lat = _coord(rng) if rng.random() < 0.5 else rng.choice(points)
            unit = rng.choice(["m", "km", "mi", "ft"])
            scale = {"m": 1000, "km": 1, "mi": 0.6, "ft": 3000}[unit]
            if rng.random() < 0.5:
                radius = rng.choice([0, 1, 50, 300, 1000, 5000]) * scale
                shape = ["BYRADIUS", f"{radius:.3f}", unit]
            else:
                shape = ["BYBOX", f"{rng.uniform(0, 3000) * scale:.2f}",
                         f"{rng.uniform(0, 3000) * scale:.2f}", unit]
            options = [rng.choice(["ASC", "DESC"])] if rng.random() < 0.5 else []
            if rng.random() < 0.5:
                options += ["COUNT", str(rng.choice([1, 2, 5, 30, 1000]))]
                if rng.random() < 0.3:
                    options.append("ANY")
            options += [o for o in ("WITHDIST", "WITHHASH", "WITHCOORD") if rng.random() < 0.4]
            centre = (["FROMLONLAT", lon, lat] if rng.random() < 0.7
                      else ["FROMMEMBER", f"m{rng.randrange(n)}"])
            d("GEOSEARCH", "g", *centre, *shape, *options)
            if rng.random() < 0.2:
                store = [rng.choice(["STORE", "STOREDIST"]), "dst"]
                plain = [o for o in options if not o.startswith("WITH")]
                d("GEORADIUS", "g", lon, lat, shape[1], unit, *plain, *store)
                d("ZRANGE", "dst", 0, -1, "WITHSCORES")
            a, b = rng.randrange(n), rng.randrange(n)
            d("GEODIST", "g", f"m{a}", f"m{b}", unit)
        d("GEOPOS", "g", *(f"m{i}" for i in range(n)))
        d("GEOHASH", "g", *(f"m{i}" for i in range(n)))


def test_ties_keep_redis_order(d):
    """Many members on a few spots: COUNT below the number found sorts with pqsort, whose
    order of equal distances is its own; with all of them, glibc's stable qsort."""
    rng = random.Random(7)
    for spots, n in [(1, 40), (3, 129), (10, 300)]:
        d("DEL", "g")
        places = [(f"{rng.uniform(9, 10):.5f}", f"{rng.uniform(45, 46):.5f}")
                  for _ in range(spots)]
        names = [f"p{i}" for i in range(n)]
        rng.shuffle(names)
        d("GEOADD", "g", *[x for name in names for x in (*rng.choice(places), name)])
        for count in (1, 2, 5, 17, 50, 128, 1000):
            for sort in ((), ("ASC",), ("DESC",)):
                d("GEOSEARCH", "g", "FROMLONLAT", "9.5", "45.5", "BYRADIUS", "200", "km",
                  "WITHDIST", "COUNT", count, *sort)


# -- methods --------------------------------------------------------------------------------------


def test_methods_match_redis_py(pair):
    places = [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania", 2.35, 48.85,
              b"Paris"]
    same(pair, "geoadd", "g", places)
    same(pair, "geoadd", "g", places, ch=True, xx=True)
    same(pair, "geoadd", "g", places, nx=True, xx=True)
    same(pair, "geoadd", "g", places[:4])
    same(pair, "geoadd", "g", [200, 1, "x"])
    same(pair, "geopos", "g", "Palermo", "nope", "Paris")
    same(pair, "geohash", "g", "Palermo", "nope")
    for unit in (None, "m", "km", "mi", "ft", "KM", "cm"):
        same(pair, "geodist", "g", "Palermo", "Catania", unit)
    same(pair, "geodist", "g", "Palermo", "nope")
    for kwargs in [{}, {"withdist": True, "withcoord": True, "withhash": True, "sort": "ASC"},
                   {"count": 1, "sort": "DESC", "withdist": True}, {"count": 2, "any": True},
                   {"store": "d"}, {"store_dist": "d"}, {"unit": "cm"}, {"any": True},
                   {"sort": "asc"}, {"store": "a", "store_dist": "b"}, {"withhash": True}]:
        kwargs = {"unit": "km", **kwargs}
        same(pair, "georadius", "g", 15, 37, 2000, **kwargs)
        same(pair, "georadiusbymember", "g", "Palermo", 2000, **kwargs)
        same(pair, "zrange", "d", 0, -1, withscores=True)
    for kwargs in [{"member": "Palermo", "radius": 2000, "unit": "km", "withdist": True},
                   {"longitude": 2, "latitude": 48, "width": 2000, "height": 300, "unit": "km",
                    "sort": "desc", "withcoord": True, "withhash": True},
                   {"member": "Palermo", "radius": 3000, "unit": "km", "count": 2, "any": True},
                   {}, {"member": "x", "longitude": 1}, {"member": "x"},
                   {"member": "x", "radius": 1, "width": 2}, {"member": "x", "radius": 1,
                                                              "unit": "cm"},
                   {"member": "x", "radius": 1, "sort": "up"}, {"member": "x", "radius": 1,
                                                                "any": True},
                   {"member": "nope", "radius": 1}]:
        same(pair, "geosearch", "g", **kwargs)
        if not any(k.startswith("with") for k in kwargs):
            same(pair, "geosearchstore", "d", "g", **kwargs)
            same(pair, "geosearchstore", "d", "g", storedist=True, **kwargs)
            same(pair, "zrange", "d", 0, -1, withscores=True)
