"""The server's two shortcuts (kvstore/server/client.py) must give what the general path gives.

Run handlers (`commands.table.run_handler`): the same seeded pipelines run on two servers, one
with the run handlers and one with them switched off, both on the same fake clock; the bytes the
client is sent, the keyspace (values and TTLs), `dirty` and the commandstats counts must be
equal. The pipelines mix the plain forms the run handlers take with the forms they must leave to
the handler (options, other spellings, TTLs, non-integers, wrong types, overflow), so runs start,
break and resume at every place.

The one-command read (`Client.data_received`): the same seeded commands, one per read, on a
server as it is and on one whose reads all take `Client.read`; the same comparison, plus the
error and network counters, including commands that change the connection's state (MULTI,
SUBSCRIBE, HELLO, QUIT), unknown ones and wrong arities.
"""

from __future__ import annotations

import random

import pytest

from kvstore.commands.table import COMMANDS
from kvstore.server.client import Client

from .test_outbox import connect, end_iteration, make_server, send

NOW_MS = 1_700_000_000_000
RUN_COMMANDS = [name for name, cmd in COMMANDS.items() if cmd.many is not None]


def _command(rng: random.Random) -> tuple:
    key = rng.choice(["a", "b", "c", "n", "big", "list", "ttl"])
    return rng.choice([
        ("SET", key, str(rng.randrange(100))),
        ("SET", key, "x" * rng.randrange(3)),
        ("set", key, "1"),
        ("SET", key, "1", "EX", "100"),
        ("SET", key, "1", "KEEPTTL"),
        ("SET", "big", "9223372036854775806"),
        ("SET", key, "007"),
        ("SET",),
        ("INCR", key),
        ("INCR", key),
        ("incr", key),
        ("INCR", key, "extra"),
        ("INCR", "ttl"),
        ("PEXPIRE", key, "100000"),
        ("PEXPIRE", key, "30"),  # gone a pipeline or two later (the clock moves 20 ms a time)
        ("SET", key, "5", "PX", "30"),
        ("LPUSH", "list", "x"),
        ("MSET", key, "1", "n", "2"),
        ("MSET", key, "3", rng.choice(["a", "ttl"]), "9"),
        ("MSET", key),
        ("mset", key, "4"),
        ("MSET", *["k%d" % i for i in range(40)]),  # 41 arguments, a whole run form
        ("MSET", *["k%d" % i for i in range(70)]),  # 71: past the run limit, the handler
        ("HSET", rng.choice(["h", "h", key]), "f%d" % rng.randrange(4), "v"),
        ("HSET", "h", "f%d" % rng.randrange(200), "v"),  # past 128 fields: hashtable
        ("HSET", "h", "f", "v" * rng.choice([1, 70])),    # past 64 bytes: hashtable
        ("hset", "h", "f1", "w"),
        ("HSET", "h", "f1", "w", "f2", "x"),
        ("HSET", "h", "f1"),
        ("PEXPIRE", "h", "30"),
        ("OBJECT", "ENCODING", "h"),
        ("HRANDFIELD", "h"),
        ("SADD", rng.choice(["s", "s", key]), "m%d" % rng.randrange(4)),
        ("SADD", "s", str(rng.randrange(600))),  # past 512 integers: hashtable
        ("SADD", "s", "m", "n"),
        ("sadd", "s", "m"),
        ("PEXPIRE", "s", "30"),
        ("SPOP", "s"),
        ("LPUSH", rng.choice(["list", "list", key]), "x"),
        ("RPUSH", "list", "y" * rng.randrange(3)),
        ("lpush", "list", "z"),
        ("RPUSH", "list", "a", "b"),
        ("LPOP", "list"),
        ("RPOP", rng.choice(["list", "list", "none", key])),
        ("rpop", "list"),
        ("LPOP", "list", "2"),
        ("RPUSH", "list", "v" * rng.choice([1, 1030])),  # a reply past the 1 KB header table
        ("PEXPIRE", "list", "30"),
        ("PING",),
        ("ping",),
        ("PING", "hello"),
        ("GET", key),
        ("GET", key),
        ("get", key),
        ("GET", key, "extra"),
        ("SET", key, "v" * 1100),
        ("HELLO", rng.choice(["2", "3"])),  # GET's null differs
        ("DEL", key),
    ])


def _run(pipelines: list[list[tuple]]) -> tuple:
    server, scheduled = make_server()
    random.seed(1)  # HRANDFIELD draws the same in both runs
    now = [NOW_MS]
    server.ks.clock = lambda: now[0]
    client = connect(server)
    calls_before = {name: COMMANDS[name].calls for name in RUN_COMMANDS}
    for commands in pipelines:
        send(client, *commands)
        end_iteration(scheduled)
        now[0] += 20
    db = server.ks.dbs[0]
    for value in db.data.values():
        if getattr(value, "picker", None) is not None:
            value.picker._check(value)  # every HSET reported its new field
    calls = {name: COMMANDS[name].calls - calls_before[name] for name in RUN_COMMANDS}
    return (b"".join(client.transport.writes), dict(db.data), dict(db.expires), server.ks.dirty,
            calls)


def test_there_are_run_handlers():
    assert {b"get", b"set", b"incr", b"mset", b"hset", b"sadd", b"lpush", b"rpush",
            b"ping", b"lpop", b"rpop"} <= set(RUN_COMMANDS)


@pytest.mark.parametrize("seed", range(6))
def test_run_handlers_give_what_the_handlers_give(seed, monkeypatch):
    rng = random.Random(seed)
    pipelines = [[_command(rng) for _ in range(rng.randint(1, 40))] for _ in range(60)]
    with_runs = _run(pipelines)
    for name in RUN_COMMANDS:
        monkeypatch.setattr(COMMANDS[name], "many", None)
    without = _run(pipelines)
    assert with_runs[0] == without[0]
    assert with_runs[1:] == without[1:]


def test_long_runs_give_what_the_handlers_give(monkeypatch):
    # Runs of one command longer than the replies SET, MSET and PING precompute (64)
    pipelines = [[("SET", "k%d" % (i % 7), "v%d" % i) for i in range(150)],
                 [("PING",)] * 100 + [("SET", "a", "b")] * 65,
                 [("MSET", "x", "1", "y", "2")] * 80 + [("PING",)] * 64 + [("GET", "x")]]
    with_runs = _run(pipelines)
    for name in RUN_COMMANDS:
        monkeypatch.setattr(COMMANDS[name], "many", None)
    assert _run(pipelines) == with_runs


def _propagated(pipelines: list[list[tuple]], runs: bool) -> tuple:
    """`_run` under a write hook that records what it is given, with or without a run variant
    (without one, the server leaves every write to its handler)."""
    server, scheduled = make_server()
    random.seed(1)
    now = [NOW_MS]
    server.ks.clock = lambda: now[0]
    logged: list[tuple[int, list[bytes]]] = []
    run_calls = []

    def hook(ctx, argv):
        logged.append((ctx.db.id, list(argv)))

    def hook_run(ctx, argvs):
        run_calls.append(len(argvs))
        logged.extend((ctx.db.id, list(argv)) for argv in argvs)

    server.add_write_hook(hook, run=hook_run if runs else None)
    client = connect(server)
    for commands in pipelines:
        send(client, *commands)
        end_iteration(scheduled)
        now[0] += 20
    keyspace = [(dict(db.data), dict(db.expires)) for db in server.ks.dbs[:2]]
    return b"".join(client.transport.writes), keyspace, server.ks.dirty, logged, run_calls


@pytest.mark.parametrize("seed", range(4))
def test_write_hooks_that_take_runs_see_each_write_of_a_run(seed):
    rng = random.Random(seed)
    pipelines = [[_command(rng) if rng.random() < 0.95 else ("SELECT", rng.choice("01"))
                  for _ in range(rng.randint(1, 40))] for _ in range(60)]
    with_runs = _propagated(pipelines, runs=True)
    without = _propagated(pipelines, runs=False)
    assert with_runs[0] == without[0]
    assert with_runs[1:4] == without[1:4]
    assert with_runs[4] and max(with_runs[4]) > 1 and not without[4]


def test_runs_leave_writes_to_the_handler_when_notifications_are_on():
    server, scheduled = make_server()
    listener, writer = connect(server), connect(server)
    send(writer, ("CONFIG", "SET", "notify-keyspace-events", "KA"))
    send(listener, ("SUBSCRIBE", "__keyspace@0__:a", "__keyspace@0__:n"))
    send(writer, ("SET", "a", "1"), ("SET", "a", "2"), ("INCR", "n"), ("INCR", "n"),
         ("MSET", "a", "3"), ("MSET", "a", "4"))
    end_iteration(scheduled)
    pushed = b"".join(listener.transport.writes)
    assert pushed.count(b"$3\r\nset\r\n") == 4 and pushed.count(b"$6\r\nincrby\r\n") == 2


def _one_command(rng: random.Random) -> tuple:
    key = rng.choice(["a", "n", "h"])
    return rng.choice([
        _command(rng), _command(rng), _command(rng),
        ("MULTI",), ("EXEC",), ("DISCARD",), ("WATCH", key),
        ("SUBSCRIBE", "ch"), ("UNSUBSCRIBE",), ("PUBLISH", "ch", "m"), ("PSUBSCRIBE", "c*"),
        ("HELLO", rng.choice(["2", "3"])), ("SELECT", rng.choice(["0", "1"])),
        ("PING",), ("PING", "x"), ("ECHO", "x"), ("NOSUCH", key), ("GET",), ("get", key, key),
        ("CLIENT", "SETNAME", "n"), ("CLIENT", "REPLY", rng.choice(["ON", "OFF", "SKIP"])),
        ("HGETALL", "h"), ("LRANGE", "list", "0", "-1"), ("DBSIZE",), ("TYPE", key),
    ])


def _one_per_read(commands: list[tuple]) -> tuple:
    server, scheduled = make_server()
    random.seed(1)
    now = [NOW_MS]
    server.ks.clock = lambda: now[0]
    client = connect(server)
    names = {c[0].lower().encode() for c in commands if c[0].lower().encode() in COMMANDS}
    before = {name: _counts(COMMANDS[name]) for name in names}
    for command in commands + [("QUIT",)]:
        send(client, command)
        end_iteration(scheduled)
        now[0] += 20
        if client.transport.closed:
            break
    counts = {name: tuple(a - b for a, b in zip(_counts(COMMANDS[name]), before[name]))
              for name in names}
    stats = server.stats
    keyspace = [(dict(db.data), dict(db.expires)) for db in server.ks.dbs[:2]]
    return (b"".join(client.transport.writes), keyspace, server.ks.dirty, counts,
            dict(stats.errors), stats.total_errors, stats.net_input, stats.net_output)


def _counts(cmd) -> tuple:
    return cmd.calls, cmd.failed, cmd.rejected


@pytest.mark.parametrize("seed", range(8))
def test_one_command_reads_give_what_the_general_path_gives(seed, monkeypatch):
    rng = random.Random(seed)
    commands = [_one_command(rng) for _ in range(150)]
    short = _one_per_read(commands)
    monkeypatch.setattr(Client, "data_received", Client.read)
    general = _one_per_read(commands)
    assert short[0] == general[0]
    assert short[1:] == general[1:]
