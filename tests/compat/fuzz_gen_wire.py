"""The command generator of the wire-level run (`fuzz.py --server`): `Gen` plus the connection
family and transactions.

The connection family draws what only a server has: PING, ECHO, HELLO (switching RESP2/RESP3
mid-stream, with SETNAME and AUTH), CONFIG GET, INFO, CLIENT, TIME, LASTSAVE, and MULTI. A MULTI
plans 0-5 commands; once the oracle has answered OK, the next commands are that many drawn from
the data families (only those `queueable` accepts, since nothing inside EXEC's reply is
normalised; sometimes an unknown command, so that EXEC answers EXECABORT, or a nested MULTI
or a WATCH, refused without aborting), then EXEC or DISCARD. EXEC names the keys of every queued command, for the runner's resync. `observe` follows
the transaction and the database a queued SELECT selects, from the oracle's replies.
"""

from __future__ import annotations

from .fuzz_gen import GENERATORS, VALUES, Gen

WIRE_FAMILIES = ["connection"]
MAX_QUEUED = 5
CONFIG_PARAMS = ["maxmemory", "maxmemory-policy", "timeout", "databases", "appendonly",
                 "hash-max-listpack-entries", "hash-max-ziplist-value", "set-max-intset-entries",
                 "zset-max-listpack-entries", "zset-max-ziplist-value", "list-max-listpack-size",
                 "notify-keyspace-events", "slowlog-max-len", "lfu-log-factor", "nosuch",
                 "*-max-listpack-entries", "zset-*", "maxmemory-p*"]
INFO_SECTIONS = ["server", "keyspace", "persistence", "stats", "nosuch", "SERVER", "all"]
CLIENT_NAMES = ["fuzz", "x-1", "", "a b", "\n"]
NOT_QUEUED = [[b"NOSUCHCOMMAND", b"x"], [b"MULTI"], [b"WATCH", b"string:0"]]


def g_ping(g): return ["PING"] + ([g.value()] if g.r.random() < 0.5 else [])
def g_echo(g): return ["ECHO", g.r.choice(VALUES)]
def g_time(g): return [g.r.choice(["TIME", "LASTSAVE"])]
def g_info(g): return ["INFO"] + ([g.r.choice(INFO_SECTIONS)] if g.r.random() < 0.8 else [])


def g_hello(g):
    r = g.r
    argv = ["HELLO"]
    if r.random() < 0.85:
        argv.append(g.pick(["2", "3"], ["4", "1", "abc", "-1", "9223372036854775808"],
                           p_bad=0.1))
        if r.random() < 0.2:
            argv += [g.opt("SETNAME"), r.choice(CLIENT_NAMES)]
        if r.random() < 0.1:
            argv += [g.opt("AUTH"), r.choice(["default", "nobody"]), "secret"]
    return argv


def g_multi(g):
    g.txn_plan = g.r.randint(0, MAX_QUEUED)
    return ["MULTI"]


def g_exec(g):
    """EXEC or DISCARD outside a transaction (inside one, WireGen draws them itself)."""
    return [g.r.choice(["EXEC", "DISCARD"])]


def g_config(g):
    return ["CONFIG", g.opt("GET")] + g.r.sample(CONFIG_PARAMS, g.r.choice([1, 1, 2]))


def g_client(g):
    sub = g.r.choice(["GETNAME", "SETNAME", "ID", "INFO", "INFO"])
    return ["CLIENT", g.opt(sub)] + ([g.r.choice(CLIENT_NAMES)] if sub == "SETNAME" else [])


WIRE_GENERATORS = dict(GENERATORS, connection=[
    (3, g_ping), (2, g_echo), (4, g_hello), (8, g_multi), (1, g_exec), (3, g_config),
    (1, g_info), (3, g_client), (1, g_time)])


class WireGen(Gen):
    """See the module docstring. `queueable(name, argv)`: whether a command may be queued."""

    def __init__(self, seed: int, families, queueable) -> None:
        super().__init__(seed, families, WIRE_GENERATORS)
        self.queueable = queueable
        self.data_families = [f for f in self.families if f not in WIRE_FAMILIES]
        self.txn_plan = 0
        self.in_multi = False
        self.queued_left = 0
        self.queued: list[list[bytes]] = []    # what the oracle answered QUEUED to
        self.txn_keys: list[bytes] = []

    def next(self):
        if not self.in_multi:
            return super().next()
        r = self.r
        if self.queued_left == 0:
            end = b"EXEC" if r.random() < 0.85 or not self.data_families else b"DISCARD"
            return [end], list(dict.fromkeys(self.txn_keys)), "connection"
        self.queued_left -= 1
        if r.random() < 0.05 or not self.data_families:
            # rejected at queue time (EXECABORT follows), or refused without aborting
            return r.choice(NOT_QUEUED), [], "connection"
        for _ in range(50):
            argv, keys, family = self.draw(r.choice(self.data_families))
            if self.queueable(argv[0].decode().upper(), argv):
                break
        else:
            argv, keys, family = [b"PING"], [], "connection"
        self.txn_keys += keys
        return argv, keys, family

    def observe(self, name, argv, outcome) -> None:
        super().observe(name, argv, outcome)
        kind, v = outcome
        if not self.in_multi:
            if name == "MULTI" and outcome == ("ok", "OK"):
                self.in_multi = True
                self.queued_left = self.txn_plan
                self.queued, self.txn_keys = [], []
        elif outcome == ("ok", "QUEUED"):
            self.queued.append(argv)
        elif name == "EXEC" and (kind == "ok" or v.startswith("EXECABORT")):
            self.in_multi = False
            if kind == "ok" and type(v) is list:
                for queued, result in zip(self.queued, v):
                    if queued[0].upper() == b"SELECT" and result == "OK":
                        self.db = int(queued[1])
        elif name == "DISCARD" and kind == "ok":
            self.in_multi = False
