"""URL parsing, Unix sockets, and a seeded random differential run of the client's framing."""

from __future__ import annotations

import random

import pytest
import redis

from clients import Client
from clients.url import parse_url
from tests.clients.conftest import start


@pytest.mark.parametrize("url, expected", [
    ("redis://localhost", {"transport": "tcp", "host": "localhost"}),
    ("redis://h:6380/3", {"transport": "tcp", "host": "h", "port": 6380, "db": 3}),
    ("kvstore://:p%40ss@h:1/2", {"transport": "tcp", "host": "h", "port": 1, "db": 2,
                                 "password": "p@ss"}),
    ("redis://user:pw@h", {"transport": "tcp", "host": "h", "username": "user",
                           "password": "pw"}),
    ("redis://h?db=4&socket_timeout=0.5&decode_responses=true&protocol=3",
     {"transport": "tcp", "host": "h", "db": 4, "socket_timeout": 0.5,
      "decode_responses": True, "protocol": 3}),
    ("unix:///tmp/kv.sock?db=1", {"transport": "unix", "unix_socket_path": "/tmp/kv.sock",
                                  "db": 1}),
    ("memory://", {"transport": "memory"}),
    ("memory://?db=2", {"transport": "memory", "db": 2}),
])
def test_parse_url(url, expected):
    assert parse_url(url) == expected


@pytest.mark.parametrize("url", ["http://h", "redis://h/notanumber", "rediss://h"])
def test_parse_url_rejects(url):
    with pytest.raises(ValueError):
        parse_url(url)


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_unix_socket(kind, tmp_path):
    path = str(tmp_path / "s.sock")
    try:
        p = start(kind, tmp_path, "--unixsocket", path)
    except RuntimeError as exc:
        pytest.skip(f"{kind} has no --unixsocket: {exc}")
    try:
        with Client.from_url(f"unix://{path}?db=1") as c:
            assert c.set("k", "v") is True
            assert c.execute_command("CLIENT", "INFO").find(b"db=1") >= 0
        with Client(port=p.port, db=1) as tcp:
            assert tcp.get("k") == b"v"
    finally:
        p.stop()


def _random_ops(rng: random.Random, n: int) -> list[tuple]:
    keys = [f"r{i}" for i in range(8)]
    ops = []
    for _ in range(n):
        k = rng.choice(keys)
        roll = rng.random()
        if roll < 0.25:
            ops.append(("set", (k, rng.choice([b"", b"x" * rng.randint(1, 3000), "été"]))))
        elif roll < 0.45:
            ops.append(("get", (k,)))
        elif roll < 0.55:
            ops.append(("incr", (k,)))
        elif roll < 0.7:
            ops.append(("rpush", (k, *[rng.randint(0, 9) for _ in range(rng.randint(1, 5))])))
        elif roll < 0.8:
            ops.append(("lrange", (k, rng.randint(-5, 5), rng.randint(-5, 5))))
        elif roll < 0.9:
            ops.append(("hset", (k, "f", rng.randint(0, 99))))
        else:
            ops.append(("hgetall", (k,)))
    return ops


def _outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # error replies: compare the class of problem and the text
        return ("error", str(exc).removeprefix("ERR "))


@pytest.mark.parametrize("seed", [1, 2])
def test_random_pipeline_splits_match_redis_py(server, seed):
    """Seeded random commands, sent by our client in random pipeline chunks (one write each,
    replies of mixed sizes parsed across reads) give what redis-py gets one by one."""
    rng = random.Random(seed)
    ops = _random_ops(rng, 600)
    theirs = redis.Redis(port=server.port)
    theirs.flushdb()
    want = [_outcome(getattr(theirs, m), *a) for m, a in ops]
    ours = Client(port=server.port)
    ours.flushdb()
    got: list = []
    i = 0
    while i < len(ops):
        size = rng.choice([1, 1, 2, 7, 50, 200])
        chunk = ops[i:i + size]
        i += size
        if size == 1:
            got.append(_outcome(getattr(ours, chunk[0][0]), *chunk[0][1]))
            continue
        pipe = ours.pipeline(transaction=False)
        for m, a in chunk:
            getattr(pipe, m)(*a)
        for r in pipe.execute(raise_on_error=False):
            got.append(("error", str(r).removeprefix("ERR ")) if isinstance(r, Exception)
                       else r)
    assert got == want
    ours.close()
    theirs.close()


def test_retry_rule_and_blocking_deadlines():
    from clients.resp import block_timeout, retry_safe

    assert retry_safe(b"GET", ("GET", "k"))
    assert retry_safe(b"LRANGE", ("LRANGE", "k", 0, -1))
    assert retry_safe(b"SET", ("SET", "k", "v"))
    assert retry_safe(b"SET", ("SET", "k", "v", "EX", 10))
    assert not retry_safe(b"SET", ("SET", "k", "v", "nx"))
    assert not retry_safe(b"SET", ("SET", "k", "v", "GET"))
    assert not retry_safe(b"INCR", ("INCR", "k"))
    assert not retry_safe(b"BLPOP", ("BLPOP", "k", 0))
    assert not retry_safe(b"EXEC", ("EXEC",))
    assert block_timeout(b"BLPOP", ("BLPOP", "a", "b", 5)) == 5.0
    assert block_timeout(b"BLMPOP", ("BLMPOP", 0.5, 1, "k", "LEFT")) == 0.5
    assert block_timeout(b"BRPOP", ("BRPOP", "k", 0)) == 0.0
    assert block_timeout(b"XREAD", ("XREAD", "BLOCK", 1500, "STREAMS", "s", "$")) == 1.5
    assert block_timeout(b"BLPOP", ("BLPOP", "k", "junk")) == 0.0
