"""GEO commands over the wire: the raw reply bytes of a kvstore-server and of redis-server, in
RESP2 and RESP3. Coordinates are bulk strings in one and doubles (`,`) in the other, both in
Redis's human form (`%.17Lf`, trailing zeros cut); distances stay bulk strings in both; a
missing GEOPOS member is `*-1` in RESP2, and GEODIST's and GEOHASH's nulls `$-1`.
"""

from __future__ import annotations

import pytest

from .helpers import raw_replies

END = b"end-of-geo"
SCRIPT = [
    ("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania",
     "180", "85.05112878", "corner"),
    ("ZADD", "g", "-1.5", "odd"),
    ("GEOPOS", "g", "Palermo", "nope", "corner", "odd"), ("GEOPOS", "missing", "a"),
    ("GEOHASH", "g", "Palermo", "nope", "odd"), ("GEODIST", "g", "Palermo", "Catania", "km"),
    ("GEODIST", "g", "Palermo", "nope"), ("GEODIST", "missing", "a", "b"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"),
    ("GEORADIUS_RO", "g", "15", "37", "200", "km"),
    ("GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "STOREDIST", "d"),
    ("ZRANGE", "d", "0", "-1", "WITHSCORES"),
    ("GEOSEARCH", "g", "FROMMEMBER", "Catania", "BYBOX", "400", "400", "km", "WITHCOORD", "DESC"),
    ("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m"),
    ("GEOSEARCH", "missing", "FROMMEMBER", "x", "BYRADIUS", "1", "m", "WITHDIST"),
    ("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "COUNT", "1"),
    ("GEOSEARCHSTORE", "d", "missing", "FROMLONLAT", "15", "37", "BYRADIUS", "2", "km"),
    ("GEOADD", "g", "200", "100", "x"), ("GEOSEARCH", "g", "BYRADIUS", "1", "km"),
    ("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "x", "WITHDIST"),
    ("SET", "s", "v"), ("GEOPOS", "s", "a"), ("GEOSEARCH", "s", "FROMLONLAT", "0", "0"),
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_raw_replies_match_redis(ports, protocol):
    want = raw_replies(ports["redis"], protocol, SCRIPT, END)
    assert want.endswith(END + b"\r\n")
    assert raw_replies(ports["kvstore"], protocol, SCRIPT, END) == want
