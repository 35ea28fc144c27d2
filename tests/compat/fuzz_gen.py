"""The command generator of the random differential run (see fuzz.py for the runner).

Small key space, small alphabets, numbers that probe every parser edge. Every generator is a
function `g_<command>(g)` returning argv (str/int items); keys are drawn with `g.key()` (or
`g.key_of(pool)`), which records them so the runner knows what to resync. Weights set how often a
command is drawn within its family; the family is drawn uniformly.

Keys: 6 per type (`string:0`..`string:5`, `hash:0`.., `list:`, `set:`, `zset:`, `stream:`) plus
`any:0`..`any:4`, which every family writes, so WRONGTYPE clashes are frequent. A family's
commands pick their own pool 70% of the time, a shared key 15%, another type's pool 10%, and a
never-written key 5%. TTLs are large (>= 1 day) so nothing expires during a run: relative ones are multiples of
100000 s, absolute ones `base + 150007..`, so a reply equal to a generated absolute time can be
compared exactly (the runner's `exact_times`).

Scripting. The "scripting" family draws EVAL / EVALSHA / EVAL_RO / EVALSHA_RO of fixed script
templates (`SCRIPTS`, and generic ones that run another family's command on KEYS[1]), SCRIPT
LOAD / EXISTS / FLUSH, FCALL / FCALL_RO of the functions of `FUNCTION_LIBRARY`, and FUNCTION LOAD
of that library or of broken ones. `Gen.setup_commands` flushes both script caches and loads the
library on both sides before the stream, so EVALSHA, SCRIPT EXISTS and FCALL start from the same
state even on a shared redis-server.

Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP in lists, BZPOPMIN BZPOPMAX BZMPOP in zsets)
only get timeouts that end (`BLOCK_TIMEOUTS`, 1-20 ms) or that are refused; never 0; so do
XREAD and XREADGROUP (`BLOCK_MS`). Streams get explicit IDs only, never `*` (see the streams
section for what keeps their replies independent of the clock). LCS reads its own pool of short
strings (`LCS_POOL`), since it costs len(a) * len(b).
"""

from __future__ import annotations

import hashlib
import random
import re
import time

FAMILIES = ["keys", "expiry", "strings", "hashes", "lists", "sets", "zsets", "hyperloglog",
            "geo", "scripting", "streams"]
TYPE_OF = {"strings": "string", "hashes": "hash", "lists": "list", "sets": "set", "zsets": "zset",
           "streams": "stream"}
POOLS = {t: [f"{t}:{i}".encode() for i in range(6)] for t in TYPE_OF.values()}
POOLS["any"] = [f"any:{i}".encode() for i in range(5)]
# Lex-range commands are only specified when every member has the same score (Redis docs: "the
# returned elements are unspecified" otherwise, and a skiplist's answer depends on its random
# levels). These keys only ever get score 0; lex commands use them half of the time.
LEX_POOL = [f"lexz:{i}".encode() for i in range(3)]

INTS = ["0", "1", "2", "3", "-1", "-2", "5", "10", "-10", "100"]
BAD_INTS = ["abc", "1.5", "", "9223372036854775808", "-9223372036854775809", " 1", "0x10", "+1",
            "01", "-0"]
EDGE_INTS = ["9223372036854775807", "-9223372036854775808", "4294967296", "2147483648"]
FLOATS = ["0", "1", "-1", "2.5", "-3.25", "1e3", "0.1", "10", "inf", "-inf", "+inf", "1.5e2",
          "-0", ".5", "3."]
BAD_FLOATS = ["nan", "abc", "", "1.5e", "1e400", " 1", "1,5", "--1", "NaN", "inf1"]
LONG = "L" * 70          # longer than the listpack value limit (64)
MID = "m" * 45           # longer than an embstr (44)
VALUES = ["", "a", "b", "hello", "0", "1", "-1", "10", "42", "3.5", "-0.5", "1e3",
          "9223372036854775807", "-9223372036854775808", "abc", " 7", "inf", "007", MID]
FIELDS = ["f1", "f2", "f3", "f4", "f5", "1", "2", ""]
ELEMS = ["a", "b", "c", "1", "2", "x", ""]
SMEMBERS = ["1", "2", "3", "10", "-5", "a", "b", "c"]
ZMEMBERS = ["a", "b", "c", "d", "e", "f", "1", ""]
PATTERNS = ["*", "string:*", "*:1", "?et:*", "[sh]*", "nomatch*", "[a-", "any:[0-2]", "*a*",
            "\\*", "h*:?", "f*", "[^f]*"]
TYPES = ["string", "hash", "list", "set", "zset", "stream", "nosuchtype", "STRING"]
SCORE_RANGES = ["-inf", "+inf", "inf", "0", "1", "(1", "2.5", "(2.5", "-1", "(-inf", "(+inf",
                "abc", "(abc", "[1", "((1", "", "nan", "1e400"]
LEX_RANGES = ["-", "+", "[a", "(a", "[c", "(d", "[", "(", "a", "[z", "[1", "+a", "-a", ""]


def rel_seconds(g):
    return g.pick(["100000", "200000", "300000", "1000000"], ["0", "-1", "-100", "abc", "1.5",
                  "9223372036854775807", "9223372036854775", "922337203685477", ""])


def rel_ms(g):
    return g.pick(["100000000", "200000000", "500000000"], ["0", "-1", "abc",
                  "9223372036854775807", "9223372036854775", ""])


def abs_seconds(g):
    if g.r.random() < 0.85:
        v = g.base_s + g.r.choice([150007, 250007, 350007, 450007])
        g.exact_times.add(v)
        g.exact_times.add(v * 1000)
        return str(v)
    return g.r.choice(["1", str(g.base_s - 1000), "abc", "-5", "9223372036854775807", ""])


def abs_ms(g):
    if g.r.random() < 0.85:
        v = (g.base_s + g.r.choice([160007, 260007])) * 1000 + g.r.choice([0, 1, 499, 500, 999])
        g.exact_times.add(v)
        g.exact_times.add((v + 500) // 1000)
        return str(v)
    return g.r.choice(["1", str(g.base_s * 1000 - 5), "abc", "-5", "9223372036854775807"])


class Gen:
    """Seeded generator of commands; see the module docstring."""

    def __init__(self, seed: int, families=None, generators=None) -> None:
        self.r = random.Random(seed)
        self.families = list(families or FAMILIES)
        self.base_s = int(time.time())
        self.exact_times: set[int] = set()
        self.db = 0
        self.stream_ms = 10     # the ms part of the next stream IDs (see `_new_id`)
        self.stream_ids: dict[bytes, list[str]] = {}   # per key, lately seen (`_sid`)
        self.used: list[bytes] = []
        self.own = "string"
        generators = generators or GENERATORS
        self.table = {f: [(w, fn) for w, fn in generators[f]] for f in self.families}
        self.cum = {}
        for f, entries in self.table.items():
            acc, cum = 0, []
            for w, fn in entries:
                acc += w
                cum.append(acc)
            self.cum[f] = (cum, acc)

    # -- draws ---------------------------------------------------------------------------------

    def pick(self, good, bad=(), edge=(), p_bad=0.07, p_edge=0.04):
        x = self.r.random()
        if bad and x < p_bad:
            return self.r.choice(bad)
        if edge and x < p_bad + p_edge:
            return self.r.choice(edge)
        return self.r.choice(good)

    def int_(self):
        return self.pick(INTS, BAD_INTS, EDGE_INTS)

    def small(self, lo=-3, hi=8):
        """A count or index: mostly small, sometimes garbage or huge (never a huge negative
        count for random commands: Redis would build a reply that large)."""
        return self.pick([str(i) for i in range(lo, hi)], BAD_INTS, EDGE_INTS[:1], 0.04, 0.02)

    def float_(self):
        return self.pick(FLOATS, BAD_FLOATS, ["1e308", "-1e308", "1.7976931348623157e308"])

    def opt(self, s: str) -> str:
        """An option keyword in random letter case (options are case-insensitive)."""
        x = self.r.random()
        if x < 0.15:
            return s.lower()
        if x < 0.22:
            return "".join(c.lower() if self.r.random() < 0.5 else c for c in s)
        return s

    def value(self, extra=()):
        if self.r.random() < 0.02:
            return LONG
        return self.r.choice(VALUES + list(extra))

    def key_of(self, pool: str) -> str:
        k = self.r.choice(POOLS[pool])
        self.used.append(k)
        return k.decode()

    def key(self) -> str:
        x = self.r.random()
        if x < 0.70:
            pool = self.own
        elif x < 0.85:
            pool = "any"
        elif x < 0.95:
            pool = self.r.choice(list(POOLS))   # never LEX_POOL: keeps its scores at 0
        else:
            k = f"missing:{self.r.randrange(3)}"
            self.used.append(k.encode())
            return k
        return self.key_of(pool)

    def lex_key(self) -> str:
        if self.r.random() < 0.5:
            return self.key()
        k = self.r.choice(LEX_POOL)
        self.used.append(k)
        return k.decode()

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def numkeys(self, keys):
        """numkeys for a list of keys: usually right, sometimes wrong in every way."""
        x = self.r.random()
        if x < 0.9:
            return [str(len(keys))] + keys
        return [self.r.choice(["0", "-1", "abc", str(len(keys) + 1), "9223372036854775807",
                               str(max(len(keys) - 1, 0))])] + keys

    # -- the stream ----------------------------------------------------------------------------

    def next(self):
        """(argv as bytes, keys named, family) of the next command."""
        return self.draw(self.r.choice(self.families))

    def draw(self, family: str):
        """`next()` from a given family."""
        r = self.r
        self.own = TYPE_OF.get(family) or r.choice(list(TYPE_OF.values()))
        self.used = []
        cum, total = self.cum[family]
        x = r.random() * total
        lo, hi = 0, len(cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        argv = [str(a) for a in self.table[family][lo][1](self)]
        if r.random() < 0.03:             # broken arity, on purpose
            if len(argv) > 1 and r.random() < 0.6:
                argv = argv[:r.randrange(1, len(argv))]
            else:
                # (never a "1" after a blocking pop: its timeout would be 1 s)
                extra = ["extra", "NX"] if argv[0] in BLOCKING else ["extra", "1", "NX"]
                argv = argv + [r.choice(extra) for _ in range(r.randint(1, 2))]
                if argv[0] in ("ZRANK", "ZREVRANK"):
                    # Ours are 7.2's (arity -3): extra arguments get 7.2's errors, not the 7.0
                    # oracle's; tests/commands/test_zsets.py and tests/server/test_transactions.py
                    # check them against 7.2's replies.
                    argv = argv[:3]
        if r.random() < 0.1:
            argv[0] = argv[0].lower()
        return [a.encode() for a in argv], list(dict.fromkeys(self.used)), family

    def observe(self, name, argv, outcome) -> None:
        """Follow what the stream changed in the connection state (the selected database)."""
        if name == "SELECT" and outcome == ("ok", "OK"):
            self.db = int(argv[1])
        elif name in ("XADD", "XREADGROUP", "XAUTOCLAIM") and outcome[0] == "ok":
            # IDs added, or delivered (so pending), per key
            v = outcome[1]
            if name == "XREADGROUP":
                per_key = v[1] if type(v) is tuple and len(v) == 2 else v   # (RESP3: a map)
            else:
                per_key = [[argv[1], v]]
            for key, reply in per_key if type(per_key) is list else ():
                ids = self.stream_ids.setdefault(key, [])
                ids += _ids_in(reply)
                del ids[:-STREAM_RECENT_IDS]

    def setup_commands(self):
        """Run on both sides before the stream: empty script caches, and only the library FCALL
        calls (a shared redis-server keeps both from earlier runs)."""
        return [["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"], ["FUNCTION", "LOAD", FUNCTION_LIBRARY]]

    def seed_commands(self):
        """Initial data: half of each pool, and each shared key with a different type."""
        out = [["SET", "string:0", "10"], ["SET", "string:1", "hello"], ["SET", "string:2", "3.5"],
               ["SET", "any:0", "5"]]
        for i in range(3):
            out.append(["HSET", f"hash:{i}", "f1", "1", "f2", "v2", "f3", "-3.5"])
            out.append(["RPUSH", f"list:{i}", "a", "b", "c", "1", "a", "2"])
            out.append(["ZADD", f"zset:{i}", "1", "a", "2", "b", "2", "c", "-1.5", "d", "inf", "e"])
        out += [["SADD", "set:0", "1", "2", "3", "10"], ["SADD", "set:1", "a", "b", "1", "2"],
                ["SADD", "set:2", "2", "3", "c"], ["HSET", "any:1", "f1", "2"],
                ["RPUSH", "any:2", "x", "y"], ["SADD", "any:3", "1", "a"],
                ["ZADD", "any:4", "1", "a", "2", "b"],
                ["ZADD", "lexz:0", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"]]
        for i in range(3):   # streams below the stream clock (10), with groups and pending
            out += [["XADD", f"stream:{i}", f"{ms}-{seq}", "f", f"{ms}", "g", "x"]
                    for ms in range(1, 7) for seq in (1, 2)]
        out += [["XDEL", "stream:1", "3-1"],
                ["XGROUP", "CREATE", "stream:0", "g1", "0"],
                ["XGROUP", "CREATE", "stream:0", "g2", "$"],
                ["XGROUP", "CREATE", "stream:1", "g1", "2-1"],
                ["XREADGROUP", "GROUP", "g1", "c1", "COUNT", "3", "STREAMS", "stream:0", ">"],
                ["XREADGROUP", "GROUP", "g1", "c2", "COUNT", "2", "STREAMS", "stream:0", ">"],
                ["XREADGROUP", "GROUP", "g1", "c1", "STREAMS", "stream:1", ">"]]
        return out


# -- keys ---------------------------------------------------------------------------------------

def g_del(g): return [g.r.choice(["DEL", "UNLINK"])] + g.keys()
def g_exists(g): return [g.r.choice(["EXISTS", "TOUCH"])] + g.keys(1, 5)
def g_type(g): return ["TYPE", g.key()]
def g_rename(g): return [g.r.choice(["RENAME", "RENAMENX"]), g.key(), g.key()]
def g_keys(g): return ["KEYS", g.r.choice(PATTERNS)]
def g_dbsize(g): return ["DBSIZE"]
def g_randomkey(g): return ["RANDOMKEY"]
def g_dump(g): return ["DUMP", g.key()]


# SORT weights and GET targets: keys of the pools (numbers, text, hashes) and missing ones.
SORT_BY = ["nosort", "string:*", "hash:*->f1", "hash:*->f3", "any:*", "nokey", "#"]
SORT_BY_STAR = [p for p in SORT_BY if "*" in p]
SORT_GET = ["#", "string:*", "hash:*->f2", "hash:*->f1", "nokey", "any:*->f1"]


def g_sort(g):
    """SORT / SORT_RO with random options. Where Redis's order comes from its hash tables
    (BY nosort over a set, ALPHA BY ties among set or zset members), the replies are compared
    as multisets (fuzz.normalise), so BY goes without LIMIT (which would pick different
    members) and without STORE (which would keep the order) except as `BY nosort`, which
    STORE sorts."""
    r = g.r
    ro = r.random() < 0.25
    store = not ro and r.random() < 0.3
    by = limit = False
    opts = []
    for _ in range(r.randint(0, 4)):
        x = r.random()
        if x < 0.2:
            # (after a LIMIT only a pattern with `*`: "nokey" and "#" mean no sorting, as
            # "nosort" does, and a limited hash-table order cannot be compared)
            opts += [g.opt("BY"), "nosort" if store else r.choice(SORT_BY_STAR if limit
                                                                   else SORT_BY)]
            by = True
        elif x < 0.35 and not by:
            opts += [g.opt("LIMIT"), g.small(-2, 6), g.small(-2, 6)]
            limit = True
        elif x < 0.55:
            opts += [g.opt("GET"), r.choice(SORT_GET)]
        elif x < 0.95:
            opts.append(g.opt(r.choice(["ASC", "DESC", "ALPHA"])))
        elif not store:
            opts.append(r.choice(["LIMIT", "GET", "STORE", "BOGUS"]))  # a truncated option
    if store or (ro and r.random() < 0.05):
        opts += [g.opt("STORE"), g.key()]
    return ["SORT_RO" if ro else "SORT", g.key()] + opts


def g_copy(g):
    opts = []
    if g.r.random() < 0.3:
        opts.append([g.opt("DB"), g.pick(["0", "1", "2"], ["16", "-1", "abc"], p_bad=0.2)])
    if g.r.random() < 0.4:
        opts.append([g.opt("REPLACE")])
    if g.r.random() < 0.03:
        opts.append(["BOGUS"])
    g.r.shuffle(opts)
    return ["COPY", g.key(), g.key()] + [a for o in opts for a in o]


def g_scan(g):
    argv = ["SCAN", g.pick(["0"], ["abc", "-x", "1.5", ""], p_bad=0.05)]
    if g.r.random() < 0.5:
        argv += [g.opt("MATCH"), g.r.choice(PATTERNS)]
    if g.r.random() < 0.5:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "5", "10", "1000"], ["0", "-1", "abc"])]
    if g.r.random() < 0.3:
        argv += [g.opt("TYPE"), g.r.choice(TYPES)]
    if g.r.random() < 0.03:
        argv.append("MATCH")
    return argv


def g_flushdb(g):
    return ["FLUSHDB"] + ([g.r.choice(["ASYNC", "SYNC", "async", "bogus"])]
                          if g.r.random() < 0.5 else [])


def g_select(g):
    return ["SELECT", "0" if g.r.random() < 0.5 else g.pick(["1", "2"], ["16", "-1", "abc", ""],
                                                             p_bad=0.3)]


def g_swapdb(g):
    return ["SWAPDB", g.pick(["0", "1", "2"], ["16", "abc", "-1"]),
            g.pick(["0", "1", "2"], ["16", "abc"])]


def g_move(g):
    return ["MOVE", g.key(), g.pick(["0", "1", "2"], ["16", "-1", "abc"])]


def g_object(g):
    sub = g.r.choice(["ENCODING"] * 6 + ["REFCOUNT", "FREQ", "IDLETIME", "HELP", "BOGUS"])
    if sub == "HELP":
        return ["OBJECT", g.opt(sub)]
    return ["OBJECT", g.opt(sub), g.key()]


def g_restore(g):
    return ["RESTORE", g.key(), g.pick(["0"], ["-1", "abc"], p_bad=0.3),
            g.r.choice(["garbage", "", "\x00\x01"])] + (["REPLACE"] if g.r.random() < 0.5 else [])


# -- expiry -------------------------------------------------------------------------------------

def _expire_flags(g):
    if g.r.random() < 0.5:
        return []
    flags = g.r.sample(["NX", "XX", "GT", "LT"], g.r.choice([1, 1, 1, 2]))
    if g.r.random() < 0.03:
        flags.append("BOGUS")
    return [g.opt(f) for f in flags]


def g_expire(g): return ["EXPIRE", g.key(), rel_seconds(g)] + _expire_flags(g)
def g_pexpire(g): return ["PEXPIRE", g.key(), rel_ms(g)] + _expire_flags(g)
def g_expireat(g): return ["EXPIREAT", g.key(), abs_seconds(g)] + _expire_flags(g)
def g_pexpireat(g): return ["PEXPIREAT", g.key(), abs_ms(g)] + _expire_flags(g)
def g_ttl(g): return [g.r.choice(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]), g.key()]
def g_persist(g): return ["PERSIST", g.key()]


# -- strings ------------------------------------------------------------------------------------

def _expire_option(g):
    opt = g.r.choice(["EX", "PX", "EXAT", "PXAT", "KEEPTTL", "PERSIST"])
    arg = {"EX": rel_seconds, "PX": rel_ms, "EXAT": abs_seconds, "PXAT": abs_ms}.get(opt)
    return [g.opt(opt)] + ([arg(g)] if arg else [])


def g_get(g): return ["GET", g.key()]
def g_setnx(g): return ["SETNX", g.key(), g.value()]
def g_setex(g): return ["SETEX", g.key(), rel_seconds(g), g.value()]
def g_psetex(g): return ["PSETEX", g.key(), rel_ms(g), g.value()]
def g_mget(g): return ["MGET"] + g.keys(1, 5)
def g_getset(g): return ["GETSET", g.key(), g.value()]
def g_getdel(g): return ["GETDEL", g.key()]
def g_append(g): return ["APPEND", g.key(), g.r.choice(["x", "1", "", "abc", MID])]
def g_strlen(g): return ["STRLEN", g.key()]
def g_incr(g): return [g.r.choice(["INCR", "DECR"]), g.key()]
def g_incrby(g): return [g.r.choice(["INCRBY", "DECRBY"]), g.key(), g.int_()]
def g_incrbyfloat(g): return ["INCRBYFLOAT", g.key(), g.float_()]
def g_getrange(g): return [g.r.choice(["GETRANGE", "SUBSTR"]), g.key(), g.int_(), g.int_()]
def g_getbit(g): return ["GETBIT", g.key(), g.pick([str(i) for i in range(0, 80, 3)],
                                                     ["-1", "abc", "4294967296"])]


def g_set(g):
    argv = ["SET", g.key(), g.value()]
    opts = []
    r = g.r
    if r.random() < 0.3:
        opts.append([g.opt(r.choice(["NX", "XX"]))])
    if r.random() < 0.25:
        opts.append([g.opt("GET")])
    if r.random() < 0.4:
        opts.append(_expire_option(g))
    if r.random() < 0.04:
        opts.append(_expire_option(g) if r.random() < 0.5 else [g.opt(r.choice(["NX", "XX"]))])
    if r.random() < 0.02:
        opts.append(["BOGUS"])
    r.shuffle(opts)
    for o in opts:
        argv += o
    return argv


def g_mset(g):
    argv = [g.r.choice(["MSET", "MSETNX"])]
    for _ in range(g.r.randint(1, 3)):
        argv += [g.key(), g.value()]
    if g.r.random() < 0.03:
        argv.append("odd")
    return argv


def g_getex(g):
    argv = ["GETEX", g.key()]
    if g.r.random() < 0.6:
        argv += _expire_option(g)
    if g.r.random() < 0.04:
        argv += _expire_option(g)
    return argv


def g_setrange(g):
    off = g.pick([str(i) for i in range(0, 20)], ["-1", "abc", "536870912", "9223372036854775807"])
    return ["SETRANGE", g.key(), off, g.r.choice(["x", "abc", "", "12"])]


def g_setbit(g):
    off = g.pick([str(i) for i in range(0, 64, 3)], ["-1", "abc", "4294967296", ""])
    return ["SETBIT", g.key(), off, g.pick(["0", "1"], ["2", "-1", "abc"])]


def g_bitcount(g):
    argv = ["BITCOUNT", g.key()]
    if g.r.random() < 0.6:
        argv += [g.small(-5, 10), g.small(-5, 10)]
        if g.r.random() < 0.4:
            argv.append(g.opt(g.r.choice(["BYTE", "BIT", "BOGUS"])))
    elif g.r.random() < 0.1:
        argv.append("1")
    return argv


def g_bitpos(g):
    argv = ["BITPOS", g.key(), g.pick(["0", "1"], ["2", "-1", "abc"])]
    n = g.r.choice([0, 1, 2, 2, 3])
    argv += [g.small(-5, 10) for _ in range(min(n, 2))]
    if n == 3:
        argv.append(g.opt(g.r.choice(["BYTE", "BIT", "BIT", "BOGUS"])))
    return argv


def g_bitop(g):
    op = g.opt(g.pick(["AND", "OR", "XOR", "NOT"], ["NAND", ""]))
    n = 1 if op.upper() == "NOT" and g.r.random() < 0.9 else g.r.randint(1, 3)
    return ["BITOP", op, g.key()] + g.keys(n, n)


# BITFIELD types and offsets: small fields near the start of short strings, plus every kind of
# bad one. A bad offset is drawn with u8 only: "#536870912" of u1 would be a 64 MB write.
BF_TYPES = ["i1", "u1", "i4", "u4", "i8", "u8", "i13", "u16", "i32", "u32", "i64", "u63"]
BF_BAD_TYPES = ["u64", "i65", "i0", "x8", "U8", ""]
BF_BAD_OFFSETS = ["-1", "abc", "#-1", "#", "4294967296", "#536870912"]


def _bitfield_op(g, write: bool):
    t = g.pick(BF_TYPES, BF_BAD_TYPES, p_bad=0.03)
    offset = g.r.choice([str(g.r.randrange(0, 70)), f"#{g.r.randrange(0, 5)}"])
    if g.r.random() < 0.03:
        t, offset = "u8", g.r.choice(BF_BAD_OFFSETS)
    if not write:
        return [g.opt("GET"), t, offset]
    return [g.opt(g.r.choice(["SET", "INCRBY"])), t, offset, g.int_()]


def g_bitfield(g):
    ro = g.r.random() < 0.2
    argv = ["BITFIELD_RO" if ro else "BITFIELD", g.key()]
    for _ in range(g.r.randint(0, 3)):
        x = g.r.random()
        if x < 0.15:
            argv += [g.opt("OVERFLOW"), g.opt(g.pick(["WRAP", "SAT", "FAIL"], ["BOGUS"]))]
        else:
            argv += _bitfield_op(g, write=x > 0.55 and (not ro or g.r.random() < 0.1))
    if g.r.random() < 0.02:
        argv.append(g.r.choice(["GET", "OVERFLOW", "BOGUS"]))
    return argv


# LCS reads keys of its own small pool (short strings only SET by g_set_lcs, or a set, or
# nothing), plus missing keys: the pools' strings may be 12 KB HyperLogLogs in a mixed run, and
# LCS costs len(a) * len(b) (0.1 us a cell in kvstore).
LCS_POOL = [f"lcs:{i}".encode() for i in range(3)]
LCS_TEXTS = ["ohmytext", "mynewtext", "", "a", "abc", "cba", "aaaa", "abcabc", "hello", "10"]


def _lcs_key(g):
    if g.r.random() < 0.1:
        return g.key_of("string") if g.r.random() < 0.3 and "hyperloglog" not in g.families \
            else f"missing:{g.r.randrange(3)}"
    k = g.r.choice(LCS_POOL)
    g.used.append(k)
    return k.decode()


def g_set_lcs(g):
    r = g.r
    key = _lcs_key(g)
    if r.random() < 0.08:
        return ["SADD", key, "a"]
    if r.random() < 0.3:
        return ["SET", key, r.choice(LCS_TEXTS)]
    return ["SET", key, "".join(r.choice("abcd") for _ in range(r.randint(0, 16)))]


def g_lcs(g):
    r = g.r
    argv = ["LCS", _lcs_key(g), _lcs_key(g)]
    opts = []
    if r.random() < 0.5:
        opts.append([g.opt("IDX")])
    if r.random() < 0.2:
        opts.append([g.opt("LEN")])
    if r.random() < 0.3:
        opts.append([g.opt("MINMATCHLEN"), g.pick(["0", "1", "2", "3", "4"],
                                                  ["-1", "abc", "9223372036854775808", ""])])
    if r.random() < 0.3:
        opts.append([g.opt("WITHMATCHLEN")])
    if r.random() < 0.03:
        opts.append([r.choice(["BOGUS", "MINMATCHLEN"])])
    r.shuffle(opts)
    return argv + [a for o in opts for a in o]


# -- big containers: past the listpack / intset limits (128 entries, 512 integers) -----------

def g_hset_many(g):
    n = g.r.choice([60, 130])
    return ["HSET", g.key()] + [x for i in range(n) for x in (f"f{i}", str(i))]


def g_sadd_many(g):
    n = g.r.choice([200, 520])
    return ["SADD", g.key()] + [str(i) for i in range(n)]


def g_zadd_many(g):
    n = g.r.choice([60, 130])
    return ["ZADD", g.key()] + [x for i in range(n) for x in (str(i % 7), f"m{i}")]


def g_push_many(g):
    return [g.r.choice(["RPUSH", "LPUSH"]), g.key()] + [g.r.choice(ELEMS) for _ in range(40)]


# -- hashes -------------------------------------------------------------------------------------

def _field(g): return g.r.choice(FIELDS)


def _field_values(g, lo=1, hi=3):
    out = []
    for _ in range(g.r.randint(lo, hi)):
        out += [_field(g), g.value()]
    return out


def g_hset(g): return [g.r.choice(["HSET", "HMSET"]), g.key()] + _field_values(g)
def g_hsetnx(g): return ["HSETNX", g.key(), _field(g), g.value()]
def g_hget(g): return [g.r.choice(["HGET", "HEXISTS", "HSTRLEN"]), g.key(), _field(g)]
def g_hmget(g): return ["HMGET", g.key()] + [_field(g) for _ in range(g.r.randint(1, 4))]
def g_hdel(g): return ["HDEL", g.key()] + [_field(g) for _ in range(g.r.randint(1, 3))]
def g_hlen(g): return [g.r.choice(["HLEN", "HKEYS", "HVALS", "HGETALL"]), g.key()]
def g_hincrby(g): return ["HINCRBY", g.key(), _field(g), g.int_()]
def g_hincrbyfloat(g): return ["HINCRBYFLOAT", g.key(), _field(g), g.float_()]


def g_hrandfield(g):
    argv = ["HRANDFIELD", g.key()]
    if g.r.random() < 0.7:
        argv.append(g.small(-6, 8))
        if g.r.random() < 0.4:
            argv.append(g.opt(g.r.choice(["WITHVALUES"] * 5 + ["BOGUS"])))
    return argv


def _scan_opts(g, pattern_source):
    argv = []
    if g.r.random() < 0.4:
        argv += [g.opt("MATCH"), g.r.choice(pattern_source)]
    if g.r.random() < 0.4:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "10", "100"], ["0", "-1", "abc"])]
    if g.r.random() < 0.03:
        argv.append(g.r.choice(["NOVALUES", "TYPE", "BOGUS"]))
    return argv


def g_hscan(g):
    return ["HSCAN", g.key(), g.pick(["0"], ["abc", "1.5"], p_bad=0.05)] + _scan_opts(
        g, ["f*", "*1", "?", "*", "x*"])


# -- lists --------------------------------------------------------------------------------------

def _elems(g, lo=1, hi=3): return [g.r.choice(ELEMS) for _ in range(g.r.randint(lo, hi))]
def g_push(g): return [g.r.choice(["LPUSH", "RPUSH"]), g.key()] + _elems(g)
def g_pushx(g): return [g.r.choice(["LPUSHX", "RPUSHX"]), g.key()] + _elems(g)
def g_llen(g): return ["LLEN", g.key()]
def g_lrange(g): return ["LRANGE", g.key(), g.int_(), g.int_()]
def g_lindex(g): return ["LINDEX", g.key(), g.int_()]
def g_lset(g): return ["LSET", g.key(), g.small(-8, 8), g.r.choice(ELEMS)]
def g_lrem(g): return ["LREM", g.key(), g.small(-3, 4), g.r.choice(ELEMS)]
def g_ltrim(g): return ["LTRIM", g.key(), g.small(-6, 6), g.small(-6, 12)]
def g_rpoplpush(g): return ["RPOPLPUSH", g.key(), g.key()]


def g_pop(g):
    argv = [g.r.choice(["LPOP", "RPOP"]), g.key()]
    if g.r.random() < 0.4:
        argv.append(g.small(-1, 6))
    return argv


def g_linsert(g):
    where = g.pick(["BEFORE", "AFTER"], ["MIDDLE"], p_bad=0.05)
    return ["LINSERT", g.key(), g.opt(where), g.r.choice(ELEMS), g.r.choice(ELEMS)]


def g_lpos(g):
    argv = ["LPOS", g.key(), g.r.choice(ELEMS)]
    opts = []
    if g.r.random() < 0.4:
        opts.append([g.opt("RANK"), g.pick(["1", "2", "-1", "-2", "3"], ["0", "abc",
                                           "-9223372036854775808"])])
    if g.r.random() < 0.4:
        opts.append([g.opt("COUNT"), g.pick(["0", "1", "2", "5"], ["-1", "abc"])])
    if g.r.random() < 0.3:
        opts.append([g.opt("MAXLEN"), g.pick(["0", "1", "3", "10"], ["-1", "abc"])])
    if g.r.random() < 0.03:
        opts.append(["BOGUS"])
    g.r.shuffle(opts)
    for o in opts:
        argv += o
    return argv


def _dir(g): return g.opt(g.pick(["LEFT", "RIGHT"], ["UP"], p_bad=0.04))


def g_lmove(g): return ["LMOVE", g.key(), g.key(), _dir(g), _dir(g)]


def g_lmpop(g):
    argv = ["LMPOP"] + g.numkeys(g.keys(1, 3)) + [_dir(g)]
    if g.r.random() < 0.4:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "10"], ["0", "-1", "abc"])]
    return argv


# -- blocking pops (lists and zsets) --------------------------------------------------------------
# Only timeouts that end: a good one is 1-20 ms (never 0, which blocks forever on an empty key
# over the wire, nor under 1 ms, nor "-0" or hex, which Redis reads as 0 or 16 s), a bad one is
# refused before anything blocks ("inf" and "1e400" are "timeout is negative" on x86). The
# embedded runner sends them to Redis inside MULTI, where Redis never blocks, as the embedded
# store never does (fuzz.py); over the wire both servers block and time out.
BLOCK_TIMEOUTS = ["0.01", "0.02", "0.001", "0.005"]
BAD_TIMEOUTS = ["-1", "-0.5", "abc", "", "nan", "inf", "1e400", " 1", "1,5"]
BLOCKING = {"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP"}


def _timeout(g):
    return g.pick(BLOCK_TIMEOUTS, BAD_TIMEOUTS, p_bad=0.06)


def g_blpop(g): return [g.r.choice(["BLPOP", "BRPOP"])] + g.keys(1, 3) + [_timeout(g)]


def g_blmove(g):
    if g.r.random() < 0.3:
        return ["BRPOPLPUSH", g.key(), g.key(), _timeout(g)]
    return ["BLMOVE", g.key(), g.key(), _dir(g), _dir(g), _timeout(g)]


def g_blmpop(g):
    argv = ["BLMPOP", _timeout(g)] + g.numkeys(g.keys(1, 3)) + [_dir(g)]
    if g.r.random() < 0.4:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "10"], ["0", "-1", "abc"])]
    return argv


# -- sets ---------------------------------------------------------------------------------------

def _members(g, lo=1, hi=3):
    out = [g.r.choice(SMEMBERS) for _ in range(g.r.randint(lo, hi))]
    if g.r.random() < 0.01:
        out.append(LONG)
    return out


def g_sadd(g): return ["SADD", g.key()] + _members(g)
def g_srem(g): return ["SREM", g.key()] + _members(g)
def g_smembers(g): return [g.r.choice(["SMEMBERS", "SCARD"]), g.key()]
def g_sismember(g): return ["SISMEMBER", g.key(), g.r.choice(SMEMBERS)]
def g_smismember(g): return ["SMISMEMBER", g.key()] + _members(g)
def g_smove(g): return ["SMOVE", g.key(), g.key(), g.r.choice(SMEMBERS)]
def g_setop(g): return [g.r.choice(["SINTER", "SUNION", "SDIFF"])] + g.keys(1, 3)
def g_setopstore(g):
    return [g.r.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), g.key()] + g.keys(1, 3)


def g_spop(g):
    argv = ["SPOP", g.key()]
    if g.r.random() < 0.5:
        argv.append(g.small(0, 6) if g.r.random() < 0.95 else "-1")
    return argv


def g_srandmember(g):
    argv = ["SRANDMEMBER", g.key()]
    if g.r.random() < 0.7:
        argv.append(g.small(-6, 8))
    return argv


def g_sintercard(g):
    argv = ["SINTERCARD"] + g.numkeys(g.keys(1, 3))
    if g.r.random() < 0.4:
        argv += [g.opt("LIMIT"), g.pick(["0", "1", "2", "5"], ["-1", "abc"])]
    return argv


def g_sscan(g):
    return ["SSCAN", g.key(), g.pick(["0"], ["abc"], p_bad=0.05)] + _scan_opts(
        g, ["1*", "*", "a", "[ab]", "x*"])


# -- sorted sets --------------------------------------------------------------------------------

def _zm(g): return g.r.choice(ZMEMBERS) if g.r.random() > 0.01 else LONG
def g_zincrby(g): return ["ZINCRBY", g.key(), g.float_(), _zm(g)]
def g_zrem(g): return ["ZREM", g.key()] + [_zm(g) for _ in range(g.r.randint(1, 3))]
def g_zcard(g): return ["ZCARD", g.key()]
def g_zscore(g): return ["ZSCORE", g.key(), _zm(g)]
def g_zmscore(g): return ["ZMSCORE", g.key()] + [_zm(g) for _ in range(g.r.randint(1, 3))]
def g_zrank(g): return [g.r.choice(["ZRANK", "ZREVRANK"]), g.key(), _zm(g)]
def g_zcount(g): return ["ZCOUNT", g.key(), _score_range(g), _score_range(g)]
def g_zlexcount(g): return ["ZLEXCOUNT", g.lex_key(), _lex_range(g), _lex_range(g)]
def g_zremrangebyrank(g): return ["ZREMRANGEBYRANK", g.key(), g.small(-6, 6), g.small(-6, 6)]
def g_zremrangebyscore(g): return ["ZREMRANGEBYSCORE", g.key(), _score_range(g),
                                   _score_range(g)]
def g_zremrangebylex(g): return ["ZREMRANGEBYLEX", g.lex_key(), _lex_range(g),
                                 _lex_range(g)]


def g_zadd_lex(g):
    k = g.r.choice(LEX_POOL)
    g.used.append(k)
    return ["ZADD", k.decode()] + [x for _ in range(g.r.randint(1, 3))
                                   for x in ("0", g.r.choice(ZMEMBERS + ["ab", "b\xff", "B"]))]


def _score_range(g):
    return g.pick(SCORE_RANGES[:11], SCORE_RANGES[11:], p_bad=0.08)


def _lex_range(g):
    return g.pick(LEX_RANGES[:6] + ["[b", "(c", "[f", "[1"], LEX_RANGES[6:], p_bad=0.08)


def _limit(g):
    return [g.opt("LIMIT"), g.pick(["0", "1", "2"], ["-1", "abc"]),
            g.pick(["-1", "0", "1", "2", "10"], ["abc"])]


def g_zadd(g):
    argv = ["ZADD", g.key()]
    r = g.r
    flags = []
    for f, p in (("NX", 0.1), ("XX", 0.12), ("GT", 0.1), ("LT", 0.1), ("CH", 0.2),
                 ("INCR", 0.1)):
        if r.random() < p:
            flags.append(g.opt(f))
    r.shuffle(flags)
    argv += flags
    for _ in range(r.randint(1, 3) if "INCR" not in [f.upper() for f in flags] or
                   r.random() < 0.1 else 1):
        argv += [g.float_(), _zm(g)]
    if r.random() < 0.02:
        argv.append("dangling")
    return argv


def _withscores(g, p=0.4):
    return [g.opt("WITHSCORES")] if g.r.random() < p else []


def _zrange_args(g):
    r = g.r
    mode = r.choice(["rank", "rank", "BYSCORE", "BYLEX"])
    rev = r.random() < 0.3
    if mode == "rank":
        lo, hi = g.small(-6, 6), g.small(-6, 8)
    elif mode == "BYSCORE":
        lo, hi = _score_range(g), _score_range(g)
    else:
        lo, hi = _lex_range(g), _lex_range(g)
    opts = []
    if mode != "rank":
        opts.append([g.opt(mode)])
    if rev:
        opts.append([g.opt("REV")])
    if r.random() < (0.5 if mode != "rank" else 0.05):
        opts.append(_limit(g))
    if r.random() < (0.4 if mode != "BYLEX" else 0.05):
        opts.append(_withscores(g, 1.0))
    if r.random() < 0.05 and mode == "rank":
        opts.append([g.opt(r.choice(["BYSCORE", "BYLEX"]))])
    r.shuffle(opts)
    out = [lo, hi]
    for o in opts:
        out += o
    return out


def g_zrange(g):
    args = _zrange_args(g)
    return ["ZRANGE", g.lex_key() if "BYLEX" in map(str.upper, args) else g.key()] + args


def g_zrangestore(g):
    args = [a for a in _zrange_args(g) if a.upper() != "WITHSCORES"]
    dst = g.key()
    return ["ZRANGESTORE", dst, g.lex_key() if "BYLEX" in map(str.upper, args) else g.key()] + args
def g_zrevrange(g): return ["ZREVRANGE", g.key(), g.small(-6, 6), g.small(-6, 8)] + \
    _withscores(g)


def g_zrangebyscore(g):
    argv = [g.r.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), g.key(), _score_range(g),
            _score_range(g)]
    opts = [_withscores(g)] + ([_limit(g)] if g.r.random() < 0.4 else [])
    g.r.shuffle(opts)
    return argv + opts[0] + (opts[1] if len(opts) > 1 else [])


def g_zrangebylex(g):
    argv = [g.r.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX"]), g.lex_key(), _lex_range(g),
            _lex_range(g)]
    if g.r.random() < 0.4:
        argv += _limit(g)
    return argv


def g_zpop(g):
    argv = [g.r.choice(["ZPOPMIN", "ZPOPMAX"]), g.key()]
    if g.r.random() < 0.4:
        argv.append(g.small(-1, 5))
    return argv


def g_zmpop(g):
    argv = ["ZMPOP"] + g.numkeys(g.keys(1, 3)) + [g.opt(g.pick(["MIN", "MAX"], ["MID"]))]
    if g.r.random() < 0.4:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "10"], ["0", "-1", "abc"])]
    return argv


def g_bzpop(g):
    return [g.r.choice(["BZPOPMIN", "BZPOPMAX"])] + g.keys(1, 3) + [_timeout(g)]


def g_bzmpop(g):
    argv = ["BZMPOP", _timeout(g)] + g.numkeys(g.keys(1, 3)) + \
        [g.opt(g.pick(["MIN", "MAX"], ["MID"]))]
    if g.r.random() < 0.4:
        argv += [g.opt("COUNT"), g.pick(["1", "2", "10"], ["0", "-1", "abc"])]
    return argv


def g_zrandmember(g):
    argv = ["ZRANDMEMBER", g.key()]
    if g.r.random() < 0.7:
        argv.append(g.small(-6, 8))
        if g.r.random() < 0.4:
            argv.append(g.opt(g.r.choice(["WITHSCORES"] * 5 + ["BOGUS"])))
    return argv


def _zkeys(g):
    # sets are valid inputs of ZUNION & co (score 1): draw them often
    return [g.key() if g.r.random() < 0.8 else g.key_of("set") for _ in range(g.r.randint(1, 3))]


def _weights_aggregate(g, n):
    opts = []
    if g.r.random() < 0.3:
        k = n if g.r.random() < 0.9 else n + g.r.choice([-1, 1])
        opts.append([g.opt("WEIGHTS")] + [g.float_() for _ in range(max(k, 0))])
    if g.r.random() < 0.3:
        opts.append([g.opt("AGGREGATE"), g.opt(g.pick(["SUM", "MIN", "MAX"], ["AVG"]))])
    g.r.shuffle(opts)
    return [a for o in opts for a in o]


def g_zsetop(g):
    name = g.r.choice(["ZUNION", "ZINTER", "ZDIFF"])
    keys = _zkeys(g)
    argv = [name] + g.numkeys(keys)
    if name != "ZDIFF":
        argv += _weights_aggregate(g, len(keys))
    return argv + _withscores(g)


def g_zsetopstore(g):
    name = g.r.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
    keys = _zkeys(g)
    argv = [name, g.key()] + g.numkeys(keys)
    if name != "ZDIFFSTORE":
        argv += _weights_aggregate(g, len(keys))
    return argv


def g_zintercard(g):
    argv = ["ZINTERCARD"] + g.numkeys(_zkeys(g))
    if g.r.random() < 0.4:
        argv += [g.opt("LIMIT"), g.pick(["0", "1", "2"], ["-1", "abc"])]
    return argv


def g_zscan(g):
    return ["ZSCAN", g.key(), g.pick(["0"], ["abc"], p_bad=0.05)] + _scan_opts(
        g, ["a*", "*", "[abc]", "x*"])


# -- hyperloglog --------------------------------------------------------------------------------
# HLLs are strings, so they live in the string pool: the string commands (APPEND, SETRANGE,
# SETBIT...) meet them and the HLL commands meet plain strings. Elements come from small and
# large ranges, so registers rise and often do not, and HLLs go from sparse to dense.

def hll_key(g):
    return g.key_of("string") if g.r.random() < 0.8 else g.key()


def g_pfadd(g):
    r = g.r
    span = r.choice([20, 1000, 1000000])
    n = r.choice([0, 1, 1, 2, 3, 5, 10, 50, 200, 1500])
    return ["PFADD", hll_key(g)] + [str(r.randrange(span)) for _ in range(n)]


def g_pfcount(g):
    return ["PFCOUNT"] + [hll_key(g) for _ in range(g.r.choice([1, 1, 1, 2, 3]))]


def g_pfmerge(g):
    return ["PFMERGE"] + [hll_key(g) for _ in range(g.r.randint(1, 4))]


def g_pfdebug(g):
    sub = g.r.choice(["ENCODING", "ENCODING", "DECODE", "DECODE", "TODENSE", "GETREG", "BOGUS"])
    return ["PFDEBUG", g.opt(sub), hll_key(g)]


def g_pfcorrupt(g):
    """Overwrite bytes of an HLL's payload with ZERO opcodes (ASCII below '@'): runs that no
    longer add up to 16384 registers. (Not XZERO-looking bytes: Redis's edit of an XZERO cut
    at the end reads memory past the string, which no one can reproduce.)"""
    r = g.r
    junk = "".join(r.choice("0123456789 !#$%&()*+,-./:;<=>?") for _ in range(r.randint(1, 3)))
    return ["SETRANGE", hll_key(g), str(r.choice([16, 17, 18, r.randrange(16, 400)])), junk]


def g_pfreset(g):
    """Delete a key, so the corrupt and the plain strings do not take over the pool."""
    return ["DEL", hll_key(g)]


# -- geo ------------------------------------------------------------------------------------------

# Coordinates around Sicily (so searches find each other's points), the limits, and garbage.
GEO_LONS = ["13.361389", "15.087269", "14", "13.5", "14.25", "180", "-180", "0", "-0.5"]
GEO_LATS = ["38.115556", "37.502669", "37", "38", "37.75", "85.05112878", "-85.05112878", "0"]
GEO_BAD = ["200", "-180.5", "85.06", "-90", "abc", "", "nan", "inf", "1e400", " 1"]
GEO_UNITS = ["m", "km", "mi", "ft", "KM", "Mi"]
GEO_BAD_UNITS = ["cm", "", "kms", "yd"]
GEO_DISTANCES = ["0", "1", "50", "100", "150", "250", "1000", "20000", "0.5"]
GEO_BAD_DISTANCES = ["-1", "abc", "", "nan", "-inf", "inf"]


def _geo_key(g):
    """A zset-pool key most of the time (GEO values are zsets), else `g.key()`'s draw."""
    return g.key_of("zset") if g.r.random() < 0.7 else g.key()


def _geo_lon_lat(g):
    return [g.pick(GEO_LONS, GEO_BAD, p_bad=0.04), g.pick(GEO_LATS, GEO_BAD, p_bad=0.04)]


def _geo_by(g):
    """BYRADIUS r unit or BYBOX w h unit, a distance in km scale mostly."""
    unit = g.pick(GEO_UNITS, GEO_BAD_UNITS, p_bad=0.04)
    dist = [g.pick(GEO_DISTANCES, GEO_BAD_DISTANCES, p_bad=0.04)]
    if g.r.random() < 0.5:
        return [g.opt("BYRADIUS")] + dist + [unit]
    return [g.opt("BYBOX")] + dist + [g.pick(GEO_DISTANCES, GEO_BAD_DISTANCES, p_bad=0.04), unit]


def _geo_options(g, withs=True, store=None):
    """Search options in random order: sorting, COUNT [ANY], WITH*, a store option."""
    r = g.r
    opts = []
    if r.random() < 0.4:
        opts.append([g.opt(r.choice(["ASC", "DESC"]))])
    if r.random() < 0.4:
        count = [g.opt("COUNT"), g.pick(["1", "2", "3", "10"], ["0", "-1", "abc"])]
        opts.append(count + ([g.opt("ANY")] if r.random() < 0.3 else []))
    elif r.random() < 0.03:
        opts.append([g.opt("ANY")])
    if withs:
        opts += [[g.opt(w)] for w in ("WITHDIST", "WITHHASH", "WITHCOORD") if r.random() < 0.3]
    if store and r.random() < 0.3:
        opts.append(store(g))
    if r.random() < 0.02:
        opts.append([r.choice(["BOGUS", "STORE", "COUNT"])])
    r.shuffle(opts)
    return [a for o in opts for a in o]


def _geo_store(g):
    return [g.opt(g.r.choice(["STORE", "STOREDIST"])), _geo_key(g)]


def g_geoadd(g):
    argv = ["GEOADD", _geo_key(g)]
    for opt, p in (("NX", 0.1), ("XX", 0.1), ("CH", 0.2)):
        if g.r.random() < p:
            argv.append(g.opt(opt))
    for _ in range(g.r.randint(1, 3)):
        argv += _geo_lon_lat(g) + [_zm(g)]
    if g.r.random() < 0.02:
        argv.append("dangling")
    return argv


def g_geopos(g):
    return [g.r.choice(["GEOPOS", "GEOHASH"]), _geo_key(g)] + \
        [_zm(g) for _ in range(g.r.randint(0, 3))]


def g_geodist(g):
    argv = ["GEODIST", _geo_key(g), _zm(g), _zm(g)]
    if g.r.random() < 0.6:
        argv.append(g.pick(GEO_UNITS, GEO_BAD_UNITS, p_bad=0.05))
    return argv


def _geo_from(g):
    if g.r.random() < 0.5:
        return [g.opt("FROMMEMBER"), _zm(g)]
    return [g.opt("FROMLONLAT")] + _geo_lon_lat(g)


def g_geosearch(g):
    parts = [_geo_from(g), _geo_by(g)]
    if g.r.random() < 0.03:
        parts.pop(g.r.randrange(2))
    g.r.shuffle(parts)
    return ["GEOSEARCH", _geo_key(g)] + [a for p in parts for a in p] + _geo_options(g)


def g_geosearchstore(g):
    parts = [_geo_from(g), _geo_by(g)]
    g.r.shuffle(parts)
    argv = ["GEOSEARCHSTORE", _geo_key(g), _geo_key(g)] + [a for p in parts for a in p]
    argv += _geo_options(g, withs=g.r.random() < 0.05)
    if g.r.random() < 0.3:
        argv.append(g.opt("STOREDIST"))
    return argv


def g_georadius(g):
    ro = g.r.random() < 0.3
    argv = ["GEORADIUS_RO" if ro else "GEORADIUS", _geo_key(g)] + _geo_lon_lat(g) + \
        _geo_by(g)[1:2] + [g.pick(GEO_UNITS, GEO_BAD_UNITS, p_bad=0.04)]
    return argv + _geo_options(g, store=None if ro and g.r.random() < 0.9 else _geo_store)


def g_georadiusbymember(g):
    ro = g.r.random() < 0.3
    argv = ["GEORADIUSBYMEMBER_RO" if ro else "GEORADIUSBYMEMBER", _geo_key(g), _zm(g),
            g.pick(GEO_DISTANCES, GEO_BAD_DISTANCES, p_bad=0.04),
            g.pick(GEO_UNITS, GEO_BAD_UNITS, p_bad=0.04)]
    return argv + _geo_options(g, store=None if ro and g.r.random() < 0.9 else _geo_store)


# -- streams ------------------------------------------------------------------------------------
# IDs are explicit, never a bare `*` (an ID from the clock differs between the two servers):
# they follow the generator's own clock `g.stream_ms`, which XADD advances half of the time, so
# most XADDs succeed (as `ms-*` or `ms-seq`) and the rest are refused as equal or smaller, 0-0,
# or garbage. Groups and consumers come from small pools; min-idle-times are 0 or longer than
# anything is idle, IDLE is 0 and TIME a fixed instant, so no reply depends on when a command
# ran; the times replies still carry (idle, delivery and seen times) are normalised by the
# runner (fuzz.STREAM_TIMES). Blocking reads only get BLOCK 1-20 (ms) or refused values, and run
# as the blocking pops do (`blocking`).
STREAM_MAX_ID = "18446744073709551615-18446744073709551615"
STREAM_BAD_IDS = ["abc", "-1", "1-", "1-x", "", "18446744073709551616", "1.5", "0x10", "*-1",
                  " 1", "1-18446744073709551616", "(", "1--1"]
STREAM_GROUPS = ["g1", "g1", "g1", "g2", "g2", "nogroup"]
STREAM_CONSUMERS = ["c1", "c1", "c2", "c3"]
STREAM_FIELDS = ["f", "f", "g", "1", ""]
BLOCK_MS = ["1", "5", "10", "20"]
BAD_BLOCK_MS = ["-1", "abc", "1.5", "", "9223372036854775808"]
# (min-idle-time / IDLE of XPENDING: nothing delivered by the stream is idle that long, but an
# entry XCLAIM gave TIME 1000 is)
MIN_IDLE = ["0", "0", "0", "1000000000000"]
BAD_MIN_IDLE = ["-1", "abc", "", "1.5"]
STREAM_BLOCKING = {"XREAD", "XREADGROUP"}
STREAM_RECENT_IDS = 40


def blocking(name: str, argv) -> bool:
    """Whether a command may block: a blocking pop, or XREAD / XREADGROUP with BLOCK."""
    return name in BLOCKING or (name in STREAM_BLOCKING
                                and any(a.upper() == b"BLOCK" for a in argv[2:]))


def _sid(g, special=(), p_bad=0.19):
    """An ID: one lately added to or delivered from the command's key, or near the stream clock (ms-seq, ms alone), 0-0, garbage or
    a special form, the maximum."""
    r = g.r
    x = r.random()
    ids = g.stream_ids.get(g.used[0]) if g.used else None
    if x < 0.4 and ids:
        return r.choice(ids)
    if x < 0.6:
        return f"{r.randrange(0, g.stream_ms + 3)}-{r.randrange(0, 4)}"
    if x < 0.75:
        return str(r.randrange(0, g.stream_ms + 3))
    if x < 0.8:
        return r.choice(["0-0", "0", "0-1"])
    if x < 0.8 + p_bad:
        return r.choice(STREAM_BAD_IDS + ["-", "+", "$", ">"] + list(special))
    return STREAM_MAX_ID


def _sids(g, special=(), p_bad=0.19):
    return [_sid(g, special, p_bad) for _ in range(g.r.choice([1, 1, 2, 3]))]


_ID_TEXT = re.compile(rb"\d+-\d+")


def _ids_in(reply) -> list[str]:
    """The stream IDs in a reply, in order (no generated value looks like one)."""
    if type(reply) is bytes:
        return [reply.decode()] if _ID_TEXT.fullmatch(reply) else []
    if type(reply) is tuple:   # a RESP3 map, set, ...: its items
        reply = [x for item in reply[1:] if type(item) is list for x in item]
    if type(reply) is list:
        return [i for x in reply for i in _ids_in(x)]
    return []


def _new_id(g):
    """XADD's ID: mostly past every stream's top, else anything `_sid` draws."""
    r = g.r
    x = r.random()
    if x < 0.5:
        g.stream_ms += r.random() < 0.3
        return f"{g.stream_ms}-*"
    if x < 0.8:
        g.stream_ms += 1
        return f"{g.stream_ms}-{r.randrange(0, 6)}"
    if x < 0.85:
        return r.choice(["0-1", "0-*", "1-1", "5-1", "5-*", "0-0"])
    return _sid(g)


def _stream_count(g):
    return g.pick(["1", "2", "3", "10"], ["0", "-1", "abc", ""], EDGE_INTS[:1], 0.1)


def _trim_opts(g):
    """MAXLEN|MINID [=|~] threshold [LIMIT count]."""
    r = g.r
    strategy = r.choice(["MAXLEN", "MINID"])
    opts = [g.opt(strategy)] + r.choice([[], [], ["="], ["~"]])
    if strategy == "MAXLEN":
        opts.append(g.pick(["0", "1", "3", "10", "25", "60"], ["-1", "abc", ""]))
    else:
        opts.append(_sid(g) if r.random() < 0.3 else str(max(0, g.stream_ms - r.randrange(40))))
    if r.random() < 0.2:
        opts += [g.opt("LIMIT"), g.pick(["0", "1", "5", "100"], ["-1", "abc"])]
    if r.random() < 0.02:
        opts += r.choice([["MAXLEN", "1"], ["BOGUS"], ["LIMIT"]])
    return opts


def _field_values(g):
    r = g.r
    out = []
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        out += [r.choice(STREAM_FIELDS), g.value()]
    if r.random() < 0.03:
        out = out[:-1]
    return out


def g_xadd(g):
    r = g.r
    argv = ["XADD", g.key()]
    if r.random() < 0.1:
        argv.append(g.opt("NOMKSTREAM"))
    if r.random() < 0.3:
        argv += _trim_opts(g)
    return argv + [_new_id(g)] + _field_values(g)


def g_xrange(g):
    r = g.r
    cmd = r.choice(["XRANGE", "XREVRANGE"])
    lo = r.choice(["-", "-", _sid(g, p_bad=0.05), "(" + _sid(g, p_bad=0.05)]) \
        if r.random() < 0.95 else r.choice(["(-", "(+", "(", "-x"])
    hi = r.choice(["+", "+", _sid(g, p_bad=0.05), "(" + _sid(g, p_bad=0.05)])
    argv = [cmd, g.key()] + ([lo, hi] if cmd == "XRANGE" else [hi, lo])
    if r.random() < 0.4:
        argv += [g.opt("COUNT"), _stream_count(g)]
    if r.random() < 0.02:
        argv.append(r.choice(["COUNT", "BOGUS"]))
    return argv


def g_xlen(g): return ["XLEN", g.key()]
def g_xdel(g): return ["XDEL", g.key()] + _sids(g)
def g_xtrim(g): return ["XTRIM", g.key()] + _trim_opts(g)


def g_xread(g):
    r = g.r
    argv = ["XREAD"]
    opts = []
    if r.random() < 0.5:
        opts.append([g.opt("COUNT"), _stream_count(g)])
    if r.random() < 0.15:
        opts.append([g.opt("BLOCK"), g.pick(BLOCK_MS, BAD_BLOCK_MS, p_bad=0.15)])
    r.shuffle(opts)
    keys = g.keys(1, 2)
    ids = [_sid(g, ["$"] * 6) for _ in keys]
    if r.random() < 0.04:
        ids = ids[:-1]
    for o in opts:
        argv += o
    return argv + [g.opt("STREAMS")] + keys + ids


def g_xsetid(g):
    r = g.r
    argv = ["XSETID", g.key(), _sid(g) if r.random() < 0.4 else f"{g.stream_ms + 1}-0"]
    if r.random() < 0.3:
        argv += [g.opt("ENTRIESADDED"), g.pick(["0", "5", "50", "1000"], ["-1", "abc"])]
    if r.random() < 0.3:
        argv += [g.opt("MAXDELETEDID"), _sid(g)]
    return argv


def g_xgroup(g):
    r = g.r
    sub = r.choice(["CREATE"] * 4 + ["SETID"] * 2 + ["DESTROY"] + [
        "CREATECONSUMER", "CREATECONSUMER", "DELCONSUMER"])
    if r.random() < 0.02:
        return ["XGROUP", r.choice(["HELP", "BOGUS", "help", "CREATE"])]
    argv = ["XGROUP", g.opt(sub), g.key(), r.choice(STREAM_GROUPS)]
    if sub in ("CREATE", "SETID"):
        argv.append(r.choice(["$", "0", "$", _sid(g)]))
        if sub == "CREATE" and r.random() < 0.5:
            argv.append(g.opt("MKSTREAM"))
        if r.random() < 0.2:
            argv += [g.opt("ENTRIESREAD"), g.pick(["0", "2", "-1", "100"], ["-2", "abc"])]
        if r.random() < 0.02:
            argv.append("BOGUS")
    elif sub != "DESTROY":
        argv.append(r.choice(STREAM_CONSUMERS))
    return argv


def g_xreadgroup(g):
    r = g.r
    argv = ["XREADGROUP", g.opt("GROUP"), r.choice(STREAM_GROUPS), r.choice(STREAM_CONSUMERS)]
    opts = []
    if r.random() < 0.4:
        opts.append([g.opt("COUNT"), _stream_count(g)])
    if r.random() < 0.15:
        opts.append([g.opt("NOACK")])
    if r.random() < 0.1:
        opts.append([g.opt("BLOCK"), g.pick(BLOCK_MS, BAD_BLOCK_MS, p_bad=0.15)])
    r.shuffle(opts)
    for o in opts:
        argv += o
    keys = g.keys(1, 2) if r.random() < 0.2 else [g.key()]
    ids = [">" if r.random() < 0.6 else _sid(g) for _ in keys]
    if r.random() < 0.03:
        argv = ["XREADGROUP"] + argv[4:]   # no GROUP
    return argv + [g.opt("STREAMS")] + keys + ids


def g_xack(g): return ["XACK", g.key(), g.r.choice(STREAM_GROUPS)] + _sids(g, p_bad=0.05)


def g_xreset(g):
    """Delete a stream now and then: one XSETID to the maximum ID would refuse every XADD."""
    return ["DEL", g.key_of("stream")]


def g_xpending(g):
    r = g.r
    argv = ["XPENDING", g.key(), r.choice(STREAM_GROUPS)]
    if r.random() < 0.35:
        return argv
    if r.random() < 0.3:
        argv += [g.opt("IDLE"), g.pick(MIN_IDLE, BAD_MIN_IDLE)]
    argv += [r.choice(["-", "-", _sid(g)]), r.choice(["+", "+", _sid(g)]), _stream_count(g)]
    if r.random() < 0.3:
        argv.append(r.choice(STREAM_CONSUMERS))
    return argv


def g_xclaim(g):
    r = g.r
    argv = ["XCLAIM", g.key(), r.choice(STREAM_GROUPS), r.choice(STREAM_CONSUMERS),
            g.pick(MIN_IDLE, BAD_MIN_IDLE)] + _sids(g, p_bad=0.04)
    opts = []
    for opt in ("JUSTID", "FORCE"):
        if r.random() < 0.2:
            opts.append([g.opt(opt)])
    if r.random() < 0.2:
        opts.append([g.opt("RETRYCOUNT"), g.pick(["0", "1", "5"], ["-1", "abc"])])
    if r.random() < 0.15:
        opts.append([g.opt("LASTID"), _sid(g)])
    if r.random() < 0.1:
        # a fixed instant (a time in the future is read as now), or no time at all
        opts.append(r.choice([[g.opt("TIME"), g.pick(["1000", "0", "99999999999999"],
                                                      ["-5", "abc"])],
                              [g.opt("IDLE"), g.pick(["0"], ["abc"])]]))
    if r.random() < 0.02:
        opts.append([r.choice(["BOGUS", "TIME", "RETRYCOUNT"])])
    r.shuffle(opts)
    for o in opts:
        argv += o
    return argv


def g_xautoclaim(g):
    r = g.r
    argv = ["XAUTOCLAIM", g.key(), r.choice(STREAM_GROUPS), r.choice(STREAM_CONSUMERS),
            g.pick(MIN_IDLE, BAD_MIN_IDLE), r.choice(["0", "-", "0-0", _sid(g), "(" + _sid(g)])]
    if r.random() < 0.5:
        argv += [g.opt("COUNT"), _stream_count(g)]
    if r.random() < 0.3:
        argv.append(g.opt("JUSTID"))
    if r.random() < 0.02:
        argv.append(r.choice(["BOGUS", "COUNT"]))
    return argv


def g_xinfo(g):
    r = g.r
    sub = r.choice(["STREAM", "STREAM", "FULL", "GROUPS", "CONSUMERS", "CONSUMERS"])
    if r.random() < 0.02:
        return ["XINFO"] + r.choice([["HELP"], ["BOGUS"], ["STREAM"], ["help"]])
    if sub == "FULL":
        argv = ["XINFO", "STREAM", g.key(), g.opt("FULL")]
        if r.random() < 0.5:
            argv += [g.opt("COUNT"), g.pick(["0", "1", "2", "10"], ["-1", "abc"])]
        if r.random() < 0.03:
            argv.append(r.choice(["COUNT", "BOGUS"]))
        return argv
    argv = ["XINFO", g.opt(sub), g.key()]
    if sub == "CONSUMERS":
        argv.append(r.choice(STREAM_GROUPS))
    return argv



# -- scripting ----------------------------------------------------------------------------------
# EVAL & co run templates: fixed bodies (so the script caches stay small and EVALSHA finds them
# by their SHA1) that call commands of the other families on KEYS and ARGV, so every RESP <-> Lua
# conversion is crossed both ways, plus Lua's own values, errors and libraries. Every template is
# deterministic: what a script reads in an order Redis leaves to its hash tables (SMEMBERS,
# HGETALL) it sorts first. A template is (key type, number of keys, body, ARGV codes), the codes
# drawing one argument each (SCRIPT_ARGS).

JSONS = ['[1,2,3]', '{"a":1}', '"x"', '[1.5,-0,1e3,100000000000000]', 'null',
         '[null,true,false]', '{"a":[1,{"b":2}]}', '[]', '{}', 'bad json', '[1,2', '1e400', '"\\u00e9\\n"',
         '[1,"2",[3]]', '12345678901234567890', '0.1', '{"a":1,"b":2,"c":[],"d":{}}', '',
         '[[[[1]]]]', '{"1":2}', '-0.0', '"\\ud800"', 'nul', '{"a":1,"a":2}']
# (No '[1,]' or '{"a":}': kvstore's cjson names the token found only as T_END or "invalid token",
# a difference the README lists.)
TEXTS = ["OK", "PONG", "", "ERR custom", "-ERR dashed", "WRONGTYPE mine", "x\r\ny", "no space",
         "lower case", "a" * 30]
ODD_STRINGS = ['a"b', "x\ny", "\\", "\x00z", "\r", "", "%s", "\xff"]

SCRIPT_ARGS = {
    "v": lambda g: g.value(),
    "i": lambda g: g.int_(),
    "f": lambda g: g.float_(),
    "n": lambda g: g.pick(INTS + ["0.5", "-2.5", "1e3", "3.99", "-3.99"], BAD_INTS + FLOATS
                          + BAD_FLOATS, EDGE_INTS + ["1e308", "-1e308", "4503599627370497"],
                          p_bad=0.25, p_edge=0.1),
    "u": lambda g: g.pick(INTS, EDGE_INTS + ["-9223372036854775808", "2147483647"]),
    "s": lambda g: g.pick(VALUES, ODD_STRINGS, p_bad=0.2),
    "j": lambda g: g.r.choice(JSONS),
    "t": lambda g: g.r.choice(TEXTS),
    "h": lambda g: _field(g),
    "e": lambda g: g.r.choice(ELEMS),
    "m": lambda g: g.r.choice(SMEMBERS),
    "z": lambda g: _zm(g),
    "r": lambda g: g.small(-4, 6),
    "d": lambda g: g.r.choice(["0", "1", "2", "3", "-1", "abc", "16"]),
}

SCRIPTS = [
    # replies of every type, straight through: bulk / nil -> false, status, integer, array
    ("string", 1, "return redis.call('GET', KEYS[1])", ""),
    ("string", 1, "return redis.pcall('GET', KEYS[1])", ""),
    ("string", 1, "return redis.call('SET', KEYS[1], ARGV[1])", "v"),
    ("string", 1, "local r = redis.call('SET', KEYS[1], ARGV[1]) return {type(r), r.ok}", "v"),
    ("string", 1, "return redis.call('INCRBY', KEYS[1], ARGV[1])", "i"),
    ("string", 1, "return redis.pcall('INCRBYFLOAT', KEYS[1], ARGV[1])", "f"),
    ("string", 1, "return tonumber(redis.call('INCRBYFLOAT', KEYS[1], ARGV[1]))", "f"),
    ("string", 2, "return redis.call('MGET', KEYS[1], KEYS[2], 'missing:0')", ""),
    ("string", 1, "local v = redis.call('GET', KEYS[1]) return {v == false, type(v), v}", ""),
    ("string", 1, "return redis.call('APPEND', KEYS[1], ARGV[1]) .. ':' .. "
                  "redis.call('GETRANGE', KEYS[1], 0, 3)", "s"),
    ("string", 1, "redis.call('SET', KEYS[1], tonumber(ARGV[1])) return redis.call('GET', KEYS[1])",
     "n"),
    # (TTL, not PTTL: a script's clock is not frozen in 7.0, a millisecond may pass)
    ("string", 1, "redis.call('SET', KEYS[1], ARGV[1], 'EX', 100000) "
                  "return {redis.call('TTL', KEYS[1]), redis.call('EXISTS', KEYS[1])}", "v"),
    ("string", 1, "return redis.call('SETRANGE', KEYS[1], ARGV[1], ARGV[2])", "rs"),
    ("string", 1, "return {redis.call('SETBIT', KEYS[1], 7, 1), redis.call('BITCOUNT', KEYS[1]),"
                  " redis.call('BITFIELD', KEYS[1], 'GET', 'i8', 0)}", ""),
    # hashes
    ("hash", 1, "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])", "hv"),
    ("hash", 1, "return redis.call('HGET', KEYS[1], ARGV[1])", "h"),
    ("hash", 1, "return redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2], ARGV[3])", "hhh"),
    ("hash", 1, "return redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[2])", "hf"),
    ("hash", 1, "return redis.pcall('HINCRBY', KEYS[1], ARGV[1], ARGV[2])", "hi"),
    ("hash", 1, "local t = redis.call('HGETALL', KEYS[1]) local out = {} "
                "for i = 1, #t, 2 do out[#out + 1] = t[i] .. '=' .. t[i + 1] end "
                "table.sort(out) return out", ""),
    ("hash", 1, "local t = redis.call('HKEYS', KEYS[1]) table.sort(t) "
                "return table.concat(t, ARGV[1])", "s"),
    # lists
    ("list", 1, "return redis.call('RPUSH', KEYS[1], ARGV[1], ARGV[2])", "ee"),
    ("list", 1, "return redis.call('LRANGE', KEYS[1], ARGV[1], ARGV[2])", "rr"),
    ("list", 1, "local t = redis.call('LRANGE', KEYS[1], 0, -1) "
                "return {#t, t, {t[1], {t[2], {t[3]}}}}", ""),
    ("list", 1, "return redis.call('LPOP', KEYS[1], ARGV[1])", "r"),
    ("list", 1, "return {redis.call('LPOS', KEYS[1], ARGV[1]), redis.call('LLEN', KEYS[1])}",
     "e"),
    ("list", 1, "return table.concat(redis.call('LRANGE', KEYS[1], 0, -1), ARGV[1])", "s"),
    ("list", 1, "return redis.call('LINDEX', KEYS[1], ARGV[1])", "r"),
    # sets
    ("set", 1, "return redis.call('SADD', KEYS[1], ARGV[1], ARGV[2])", "mm"),
    ("set", 1, "local t = redis.call('SMEMBERS', KEYS[1]) table.sort(t) return t", ""),
    ("set", 2, "local t = redis.call('SINTER', KEYS[1], KEYS[2]) table.sort(t) "
               "return {#t, t}", ""),
    ("set", 1, "return {redis.call('SISMEMBER', KEYS[1], ARGV[1]), "
               "redis.call('SMISMEMBER', KEYS[1], ARGV[1], ARGV[2]), redis.call('SCARD', KEYS[1])}",
     "mm"),
    # sorted sets: scores as bulk strings, as numbers, and as RESP3 doubles
    ("zset", 1, "return redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])", "fz"),
    ("zset", 1, "return redis.call('ZSCORE', KEYS[1], ARGV[1])", "z"),
    ("zset", 1, "return tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))", "z"),
    ("zset", 1, "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')", ""),
    ("zset", 1, "return redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])", "fz"),
    ("zset", 1, "return {redis.call('ZRANK', KEYS[1], ARGV[1]), redis.call('ZCARD', KEYS[1])}",
     "z"),
    ("zset", 1, "return redis.call('ZPOPMIN', KEYS[1], ARGV[1])", "r"),
    ("zset", 1, "redis.setresp(3) return redis.call('ZSCORE', KEYS[1], ARGV[1])", "z"),
    ("zset", 1, "redis.setresp(3) local r = redis.call('ZSCORE', KEYS[1], ARGV[1]) "
                "if type(r) == 'table' then return {'double', tostring(r.double), r.double} end "
                "return {type(r), tostring(r)}", "z"),
    ("zset", 1, "redis.setresp(3) return redis.call('ZRANGE', KEYS[1], 0, 2, 'WITHSCORES')", ""),
    ("zset", 1, "redis.setresp(3) return redis.pcall('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])",
     "fz"),
    # RESP3 inside the script: maps, sets, nulls, statuses as Lua tables
    ("hash", 1, "redis.setresp(3) local r = redis.call('HGETALL', KEYS[1]) local n, ks = 0, {} "
                "for k, v in pairs(r.map) do n = n + 1 ks[#ks + 1] = k .. '=' .. v end "
                "table.sort(ks) return {n, ks}", ""),
    ("set", 1, "redis.setresp(3) local r = redis.call('SMEMBERS', KEYS[1]) local ks = {} "
               "for k, v in pairs(r.set) do ks[#ks + 1] = k .. ':' .. tostring(v) end "
               "table.sort(ks) return ks", ""),
    ("string", 1, "redis.setresp(3) local v = redis.call('GET', KEYS[1]) "
                  "return {type(v), tostring(v)}", ""),
    ("string", 1, "redis.setresp(3) return redis.call('SET', KEYS[1], ARGV[1], 'GET')", "v"),
    ("string", 0, "redis.setresp(ARGV[1]) return 1", "d"),
    ("string", 0, "redis.setresp(3) return redis.call('HELLO')", ""),
    # hyperloglog, geo, keys
    ("string", 1, "return {redis.call('PFADD', KEYS[1], ARGV[1], ARGV[2]), "
                  "redis.call('PFCOUNT', KEYS[1])}", "ii"),
    ("zset", 1, "return redis.call('GEOPOS', KEYS[1], ARGV[1], 'nosuchmember')", "z"),
    ("zset", 1, "return redis.call('GEODIST', KEYS[1], ARGV[1], ARGV[2], 'km')", "zz"),
    ("zset", 1, "redis.setresp(3) return redis.call('GEODIST', KEYS[1], ARGV[1], ARGV[2])",
     "zz"),
    ("zset", 1, "return redis.call('GEOADD', KEYS[1], '13.361389', '38.115556', ARGV[1])", "z"),
    ("any", 2, "return {redis.call('EXISTS', KEYS[1], KEYS[2]), redis.call('TYPE', KEYS[1]), "
               "redis.call('TYPE', KEYS[2]).ok}", ""),
    ("any", 1, "return redis.call('TYPE', KEYS[1])", ""),
    ("any", 1, "return redis.call('DEL', KEYS[1]) + redis.call('EXISTS', KEYS[1])", ""),
    ("any", 1, "return redis.call('EXPIRE', KEYS[1], ARGV[1])", "i"),
    ("any", 2, "return redis.pcall('RENAME', KEYS[1], KEYS[2])", ""),
    ("any", 1, "redis.call('SELECT', ARGV[1]) return redis.call('EXISTS', KEYS[1])", "d"),
    ("any", 1, "return redis.call('OBJECT', 'REFCOUNT', KEYS[1])", ""),
    # Lua values to replies: floats truncated, booleans, nil ending an array, tables as replies
    ("string", 0, "return tonumber(ARGV[1])", "n"),
    ("string", 0, "return {tonumber(ARGV[1]), -tonumber(ARGV[2] or '1')}", "nn"),
    ("string", 0, "local n = tonumber(ARGV[1]) return {tostring(n), type(n), "
                  "n and tostring(n * 3) or false}", "n"),
    ("string", 0, "return {true, false, 1, 'x'}", ""),
    ("string", 0, "return {1, 2, nil, 4}", ""),
    ("string", 0, "return {1, {2, {3, {4, {}}}}, 'a', {ok = 'fine'}, {err = 'ERR inner'}}", ""),
    ("string", 0, "return 3.99", ""),
    ("string", 0, "return -2.5", ""),
    ("string", 0, "return 0/0", ""),
    ("string", 0, "return {1/0, -1/0, 2^53 + 1, 2^63, -2^63, 1e20}", ""),
    ("string", 0, "return tostring(0/0) .. ' ' .. tostring(1/0) .. ' ' .. tostring(-0.0) .. "
                  "' ' .. tostring(1e15) .. ' ' .. tostring(2^63) .. ' ' .. tostring(0.1)", ""),
    ("string", 0, "return true", ""),
    ("string", 0, "return false", ""),
    ("string", 0, "return nil", ""),
    ("string", 0, "return {}", ""),
    ("string", 0, "return {ok = ARGV[1]}", "t"),
    ("string", 0, "return {err = ARGV[1]}", "t"),
    ("string", 0, "return {ok = 5}", ""),
    ("string", 0, "return {err = {}}", ""),
    ("string", 0, "return redis.status_reply(ARGV[1])", "t"),
    ("string", 0, "return redis.error_reply(ARGV[1])", "t"),
    ("string", 0, "return {redis.status_reply(ARGV[1]), redis.error_reply(ARGV[1])}", "t"),
    ("string", 0, "return {double = tonumber(ARGV[1])}", "n"),
    ("string", 0, "return {map = {a = 1}}", ""),
    ("string", 0, "return {set = {x = true}}", ""),
    ("string", 0, "return {big_number = ARGV[1]}", "u"),
    ("string", 0, "return {verbatim_string = {format = 'txt', string = ARGV[1]}}", "s"),
    ("string", 0, "return {#KEYS, #ARGV, KEYS, ARGV}", "vv"),
    ("any", 2, "return {#KEYS, #ARGV, KEYS[1], KEYS[2], ARGV[1]}", "v"),
    # Lua libraries: string, table, math, cjson, cmsgpack, struct, bit, sha1hex
    ("string", 0, "local n = tonumber(ARGV[1]) or 0 return string.format("
                  "'%d|%5.2f|%s|%q|%x|%g|%-4s|%05d', n, n, ARGV[2], ARGV[2], n, n, 'ab', n)", "us"),
    ("string", 0, "return string.format('%s %s %s', tonumber(ARGV[1]), 1.5, 10)", "n"),
    ("string", 0, "return {string.rep(ARGV[1], 3), string.len(ARGV[1]), string.upper(ARGV[1]), "
                  "string.sub(ARGV[1], 2, -2), string.byte(ARGV[1] .. ' ')}", "s"),
    ("string", 0, "return {string.find(ARGV[1], ARGV[2], 1, true), "
                  "string.gsub(ARGV[1], '%d', '#')}", "ss"),
    ("string", 0, "local t = {} for w in string.gmatch(ARGV[1], '.') do t[#t + 1] = w end "
                  "table.sort(t) return table.concat(t, ',')", "s"),
    ("string", 0, "return {math.floor(tonumber(ARGV[1]) or 0), math.max(1, 2.5), "
                  "math.fmod(7, 3), math.huge > 1, tostring(math.pi)}", "n"),
    ("string", 0, "return cjson.encode(cjson.decode(ARGV[1]))", "j"),
    ("string", 0, "local t = cjson.decode(ARGV[1]) return {type(t), tostring(t == cjson.null)}",
     "j"),
    ("string", 0, "return cjson.decode(ARGV[1])", "j"),
    ("string", 0, "return cjson.encode({ARGV[1], tonumber(ARGV[2]), {1, 2, {a = 1}}, true})", "sn"),
    ("string", 0, "return cjson.encode({[1] = 1, [2] = 2, [4] = 4})", ""),
    ("string", 0, "return cjson.encode({[1] = 1, [20] = 2})", ""),
    ("string", 0, "return cjson.encode({1, 2, 3, x = 1})", ""),
    ("string", 0, "return cmsgpack.pack({1, ARGV[1], {a = 1}, tonumber(ARGV[2])})", "sn"),
    ("string", 0, "return {cmsgpack.unpack(cmsgpack.pack(1, ARGV[1], {2, 3}, true))}", "s"),
    ("string", 0, "return struct.pack('>iHb', tonumber(ARGV[1]) or 0, 7, 1)", "u"),
    ("string", 0, "return {struct.unpack('>i', ARGV[1] .. 'abcd')}", "s"),
    ("string", 0, "return {bit.band(tonumber(ARGV[1]) or 0, 255), bit.tohex(tonumber(ARGV[1]) "
                  "or 0), bit.bnot(0), bit.lshift(1, 31), bit.tobit(tonumber(ARGV[1]) or 0)}", "u"),
    ("string", 0, "return redis.sha1hex(ARGV[1])", "s"),
    ("string", 0, "return {redis.sha1hex(''), type(redis.REDIS_VERSION_NUM), redis.LOG_WARNING}",
     ""),
    ("string", 0, "return redis.log(redis.LOG_DEBUG, ARGV[1])", "s"),
    ("string", 0, "local t = {3, 1, 2} table.insert(t, 0) table.sort(t) "
                  "return {table.concat(t, '-'), table.remove(t), #t, select('#', 1, 2)}", ""),
    ("string", 0, "return {pcall(error, 'x')}", ""),
    ("string", 0, "return {type(loadstring), type(os), type(io), type(require), "
                  "type(print), type(setfenv)}", ""),
    # errors: raised by the script, by Lua, by redis.call; redis.call misused
    ("string", 0, "error('boom')", ""),
    ("string", 0, "error({err = 'CUSTOM fail'})", ""),
    ("string", 0, "error(ARGV[1])", "t"),
    ("string", 0, "error()", ""),
    ("string", 0, "error(42)", ""),
    ("string", 0, "return nil + 1", ""),
    ("string", 0, "local x = nil return x.y", ""),
    ("string", 0, "return undefined_global", ""),
    ("string", 0, "newglobal = 1 return newglobal", ""),
    ("string", 0, "redis = nil return 1", ""),
    ("string", 0, "return (", ""),
    ("string", 0, "return 'unfinished", ""),
    ("string", 0, "return redis.call()", ""),
    ("string", 0, "return redis.call('NOSUCHCOMMAND', 'x')", ""),
    ("string", 0, "return redis.pcall('NOSUCHCOMMAND', 'x')", ""),
    ("string", 1, "return redis.call('GET')", ""),
    ("string", 1, "return redis.pcall('GET', KEYS[1], 'extra')", ""),
    ("string", 1, "return redis.call('SET', KEYS[1], {})", ""),
    ("string", 1, "return redis.call('SET', KEYS[1], nil)", ""),
    ("string", 1, "return redis.call('BLPOP', KEYS[1], 0)", ""),
    ("string", 0, "return redis.call('EVAL', 'return 1', 0)", ""),
    ("string", 0, "return redis.pcall('MULTI')", ""),
    ("list", 1, "local ok, e = pcall(redis.call, 'INCR', KEYS[1]) "
                "return {tostring(ok), type(e), type(e) == 'table' and e.err or e}", ""),
    ("list", 1, "local r = redis.pcall('INCR', KEYS[1]) return {type(r), r.err}", ""),
    ("list", 1, "return {1, redis.pcall('INCR', KEYS[1]), 3}", ""),
    ("hash", 1, "return redis.call('LPUSH', KEYS[1], 'x')", ""),
    ("zset", 1, "return redis.call('HGET', KEYS[1], 'f1')", ""),
    # shebangs and flags
    ("string", 1, "#!lua\nreturn redis.call('GET', KEYS[1])", ""),
    ("string", 1, "#!lua flags=no-writes\nreturn redis.call('SET', KEYS[1], 'x')", ""),
    ("string", 1, "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", ""),
    ("string", 0, "#!lua flags=bogus\nreturn 1", ""),
    ("string", 0, "#!lua name=x\nreturn 1", ""),
    ("string", 0, "#!nolua\nreturn 1", ""),
    ("string", 0, "#!lua flags=allow-oom,no-cluster\nreturn 1", ""),
]

# Commands a generic template runs with KEYS[1] = their key: replies that do not depend on the
# order of a hash table or on chance (no SMEMBERS, HGETALL, SPOP, TTL...), drawn from the other
# families' generators with their key's type. Not ZRANK/ZREVRANK: ours have 7.2's arity (see
# Gen.draw), and a broken arity of EVAL adds arguments to them.
SCRIPT_INNER = [
    ("string", g_get), ("string", g_set), ("string", g_incrby), ("string", g_incrbyfloat),
    ("string", g_append), ("string", g_getrange), ("string", g_getdel), ("string", g_setrange),
    ("string", g_bitcount), ("string", g_bitpos), ("string", g_bitfield), ("string", g_getex),
    ("string", g_pfcount), ("hash", g_hset), ("hash", g_hget), ("hash", g_hmget),
    ("hash", g_hdel), ("hash", g_hincrby), ("hash", g_hincrbyfloat), ("hash", g_hsetnx),
    ("list", g_push), ("list", g_pop), ("list", g_lrange), ("list", g_lindex), ("list", g_lpos),
    ("list", g_linsert), ("list", g_lset), ("list", g_lrem), ("set", g_sadd), ("set", g_srem),
    ("set", g_sismember), ("set", g_smismember), ("zset", g_zadd), ("zset", g_zincrby),
    ("zset", g_zscore), ("zset", g_zmscore), ("zset", g_zpop),
    ("zset", g_zrangebyscore), ("zset", g_zrevrange), ("zset", g_zcount), ("zset", g_geoadd),
    ("zset", g_geopos), ("zset", g_geodist), ("zset", g_georadius), ("any", g_type),
    ("any", g_expire), ("any", g_persist), ("any", g_exists), ("any", g_del),
]
INNER_BODIES = [
    "return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))",
    "return redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 2))",
    "return {redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 2))}",
    "redis.setresp(3) return redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 2))",
    "redis.setresp(3) return {redis.pcall(ARGV[1], KEYS[1], unpack(ARGV, 2))}",
]

# The library FCALL calls, loaded on both sides before the stream (Gen.setup_commands) and
# sometimes reloaded by the stream.
FUNCTION_LIBRARY = """#!lua name=fuzzlib
local function get(keys, args) return redis.call('GET', keys[1]) end
redis.register_function('fz_get', get)
redis.register_function('fz_set', function(keys, args)
  return redis.call('SET', keys[1], args[1]) end)
redis.register_function('fz_incr', function(keys, args)
  return redis.call('INCRBY', keys[1], args[1]) end)
redis.register_function{function_name = 'fz_exists', flags = {'no-writes'},
  callback = function(keys, args) return redis.call('EXISTS', unpack(keys)) end}
redis.register_function{function_name = 'fz_ro_del', flags = {'no-writes'},
  callback = function(keys, args) return redis.call('DEL', keys[1]) end}
redis.register_function('fz_echo', function(keys, args) return {keys, args, #keys, #args} end)
redis.register_function('fz_error', function(keys, args) return redis.error_reply(args[1]) end)
redis.register_function('fz_raise', function(keys, args) error('fz raised ' .. #keys) end)
redis.register_function('fz_pcall', function(keys, args) return redis.pcall(unpack(args)) end)
redis.register_function('fz_float', function(keys, args) return tonumber(args[1]) end)
redis.register_function{function_name = 'fz_stale', flags = {'no-writes', 'allow-stale'},
  callback = function(keys, args) redis.setresp(3) return redis.call('HGET', keys[1], 'f1') end}
"""
BAD_LIBRARIES = [
    "#!lua name=fuzzbad\nreturn (",
    "#!lua name=fuzzbad\nlocal x = 1",
    "#!lua name=fuzzbad\nredis.register_function('fz_get', function() return 1 end)",
    "#!lua name=fuzzbad\nredis.register_function('bad name', function() return 1 end)",
    "#!lua name=fuzzbad\nredis.register_function{function_name = 'fzb', callback = 1}",
    "#!lua name=fuzzbad\nredis.register_function{function_name = 'fzb', "
    "callback = function() end, flags = {'bogus'}}",
    "#!lua name=fuzzbad\nredis.call('SET', 'x', 1)",
    "#!lua name=fuzzbad\nerror('load failed')",
    "#!lua name=bad-name\nreturn 1",
    "#!lua\nreturn 1",
    "#!lua name=fuzzbad bogus=1\nreturn 1",
    "#!nolua name=fuzzbad\nreturn 1",
    "no shebang",
]
FUNCTIONS = ["fz_get", "fz_set", "fz_incr", "fz_exists", "fz_ro_del", "fz_echo", "fz_error",
             "fz_raise", "fz_pcall", "fz_float", "fz_stale"]
FUNCTION_ARGS = {"fz_get": "", "fz_set": "v", "fz_incr": "i", "fz_exists": "", "fz_ro_del": "",
                 "fz_echo": "vv", "fz_error": "t", "fz_raise": "", "fz_pcall": "",
                 "fz_float": "n", "fz_stale": ""}
FUNCTION_KEY = {"fz_get": "string", "fz_set": "string", "fz_incr": "string", "fz_stale": "hash"}


def _sha1(body: str) -> str:
    return hashlib.sha1(body.encode("utf-8", "surrogateescape")).hexdigest()


def _script_call(g, nkeys: int, codes: str, pool: str):
    """KEYS and ARGV of a template: `nkeys` keys of `pool`'s type, one argument per code."""
    if pool in POOLS and pool != "any":
        g.own = pool
    keys = [g.key() for _ in range(nkeys)]
    return g.numkeys(keys) + [SCRIPT_ARGS[c](g) for c in codes]


def _script_body(g):
    """(body, numkeys + keys + args) of a template or of a generic call of another command."""
    r = g.r
    if r.random() < 0.3:
        pool, fn = r.choice(SCRIPT_INNER)
        if pool != "any":
            g.own = pool
        inner = [str(a) for a in fn(g)]
        if len(inner) < 2:
            inner.append(g.key())
        return r.choice(INNER_BODIES), ["1", inner[1], inner[0]] + inner[2:]
    pool, nkeys, body, codes = r.choice(SCRIPTS)
    return body, _script_call(g, nkeys, codes, pool)


def g_eval(g):
    body, rest = _script_body(g)
    return [g.r.choice(["EVAL"] * 4 + ["EVAL_RO"]), body] + rest


def g_evalsha(g):
    body, rest = _script_body(g)
    x = g.r.random()
    sha = _sha1(body)
    if x < 0.1:
        sha = sha.upper()
    elif x < 0.15:
        sha = g.r.choice(["0" * 40, sha[:39], sha + "0", "", "nosuchsha"])
    return [g.r.choice(["EVALSHA"] * 4 + ["EVALSHA_RO"]), sha] + rest


def g_script(g):
    r = g.r
    x = r.random()
    if x < 0.45:
        body = r.choice(SCRIPTS)[2] if r.random() < 0.9 else r.choice(INNER_BODIES)
        return ["SCRIPT", g.opt("LOAD"), body]
    if x < 0.9:
        shas = [_sha1(r.choice(SCRIPTS)[2]) for _ in range(r.randint(1, 3))]
        if r.random() < 0.1:
            shas.append(r.choice(["nosuch", shas[0].upper()]))
        return ["SCRIPT", g.opt("EXISTS")] + shas
    if x < 0.93:
        return ["SCRIPT", g.opt("FLUSH")] + ([g.opt(r.choice(["ASYNC", "SYNC", "BOGUS"]))]
                                             if r.random() < 0.5 else [])
    return ["SCRIPT", r.choice(["BOGUS", "KILL", "HELP"])]


def g_fcall(g):
    r = g.r
    name = g.pick(FUNCTIONS, ["nosuch", "", "FZ_GET", "fuzzlib"], p_bad=0.05)
    g.own = FUNCTION_KEY.get(name, r.choice(list(TYPE_OF.values())))
    if name == "fz_pcall":   # any generic command, as in SCRIPT_INNER
        pool, fn = r.choice(SCRIPT_INNER)
        if pool != "any":
            g.own = pool
        args = [str(a) for a in fn(g)]
        keys = args[1:2]
    else:
        keys = [g.key() for _ in range(r.choice([0, 1, 1, 1, 2]))]
        args = [SCRIPT_ARGS[c](g) for c in FUNCTION_ARGS.get(name, "v")]
    return [r.choice(["FCALL"] * 3 + ["FCALL_RO"]), name] + g.numkeys(keys) + args


def g_function_load(g):
    r = g.r
    x = r.random()
    if x < 0.5:
        return ["FUNCTION", g.opt("LOAD"), g.opt("REPLACE"), FUNCTION_LIBRARY]
    if x < 0.65:
        return ["FUNCTION", g.opt("LOAD"), FUNCTION_LIBRARY]
    return ["FUNCTION", g.opt("LOAD")] + ([g.opt("REPLACE")] if r.random() < 0.3 else []) + \
        [r.choice(BAD_LIBRARIES)]


GENERATORS = {
    "keys": [(6, g_del), (6, g_exists), (6, g_type), (5, g_rename), (4, g_copy), (3, g_keys),
             (4, g_scan), (2, g_dbsize), (0.15, g_flushdb), (2, g_select), (1, g_swapdb),
             (3, g_move), (5, g_object), (1, g_randomkey), (1, g_dump), (1, g_restore), (4, g_sort)],
    "expiry": [(4, g_expire), (3, g_pexpire), (3, g_expireat), (3, g_pexpireat), (8, g_ttl),
               (3, g_persist)],
    "strings": [(6, g_get), (10, g_set), (2, g_setnx), (2, g_setex), (2, g_psetex), (3, g_mget),
                (3, g_mset), (2, g_getset), (2, g_getdel), (3, g_getex), (3, g_append),
                (2, g_strlen), (4, g_incr), (4, g_incrby), (4, g_incrbyfloat), (3, g_getrange),
                (3, g_setrange), (3, g_setbit), (2, g_getbit), (3, g_bitcount), (3, g_bitpos),
                (3, g_bitop), (4, g_bitfield), (2, g_lcs), (1, g_set_lcs)],
    "hashes": [(10, g_hset), (2, g_hsetnx), (6, g_hget), (3, g_hmget), (4, g_hdel), (6, g_hlen),
               (4, g_hincrby), (4, g_hincrbyfloat), (3, g_hrandfield), (3, g_hscan), (0.1, g_hset_many)],
    "lists": [(10, g_push), (3, g_pushx), (6, g_pop), (2, g_llen), (5, g_lrange), (3, g_lindex),
              (3, g_lset), (3, g_linsert), (3, g_lrem), (3, g_ltrim), (4, g_lpos), (3, g_lmove),
              (2, g_rpoplpush), (3, g_lmpop), (0.3, g_push_many), (0.7, g_blpop),
              (0.7, g_blmove), (0.6, g_blmpop)],
    "sets": [(10, g_sadd), (5, g_srem), (5, g_smembers), (3, g_sismember), (3, g_smismember),
             (3, g_spop), (3, g_srandmember), (3, g_smove), (4, g_setop), (4, g_setopstore),
             (3, g_sintercard), (3, g_sscan), (0.08, g_sadd_many)],
    "zsets": [(10, g_zadd), (3, g_zincrby), (4, g_zrem), (2, g_zcard), (3, g_zscore),
              (2, g_zmscore), (3, g_zrank), (3, g_zcount), (2, g_zlexcount), (8, g_zrange),
              (2, g_zrangestore), (2, g_zrevrange), (3, g_zrangebyscore), (3, g_zrangebylex),
              (2, g_zremrangebyrank), (2, g_zremrangebyscore), (2, g_zremrangebylex),
              (3, g_zpop), (2, g_zmpop), (2, g_zrandmember), (4, g_zsetop), (3, g_zsetopstore),
              (2, g_zintercard), (2, g_zscan), (0.1, g_zadd_many), (3, g_zadd_lex),
              (0.8, g_bzpop), (0.6, g_bzmpop)],
    "hyperloglog": [(10, g_pfadd), (6, g_pfcount), (3, g_pfmerge), (2, g_pfdebug),
                    (0.5, g_pfcorrupt), (1, g_pfreset)],
    "geo": [(8, g_geoadd), (4, g_geopos), (3, g_geodist), (6, g_geosearch),
            (3, g_geosearchstore), (4, g_georadius), (3, g_georadiusbymember)],
    "scripting": [(10, g_eval), (4, g_evalsha), (3, g_script), (6, g_fcall),
                  (0.5, g_function_load)],
    "streams": [(10, g_xadd), (5, g_xrange), (2, g_xlen), (3, g_xdel), (2, g_xtrim),
                (3, g_xread), (1, g_xsetid), (5, g_xgroup), (6, g_xreadgroup), (3, g_xack),
                (4, g_xpending), (4, g_xclaim), (3, g_xautoclaim), (4, g_xinfo),
                (0.15, g_xreset)],
}

# Which family a command name belongs to, for the per-family report.
_FAMILY_OF = {
    "keys": "DEL UNLINK EXISTS TOUCH TYPE RENAME RENAMENX COPY KEYS SCAN DBSIZE FLUSHDB FLUSHALL "
            "SELECT SWAPDB MOVE OBJECT RANDOMKEY DUMP RESTORE SORT SORT_RO",
    "expiry": "EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST",
    "connection": "PING ECHO HELLO MULTI EXEC DISCARD WATCH NOSUCHCOMMAND CONFIG INFO CLIENT TIME "
                  "LASTSAVE",
    "strings": "GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX APPEND STRLEN "
               "INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SUBSTR SETRANGE SETBIT GETBIT "
               "BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO LCS",
    "lists": "BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP",
    "zsets": "BZPOPMIN BZPOPMAX BZMPOP",
    "hyperloglog": "PFADD PFCOUNT PFMERGE PFDEBUG",
    "geo": "GEOADD GEOPOS GEOHASH GEODIST GEOSEARCH GEOSEARCHSTORE GEORADIUS GEORADIUS_RO "
           "GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO",
    "scripting": "EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT FCALL FCALL_RO FUNCTION",
}


def family_of(name: str) -> str:
    for fam, names in _FAMILY_OF.items():
        if name in names.split():
            return fam
    return {"H": "hashes", "L": "lists", "R": "lists", "S": "sets", "Z": "zsets",
            "X": "streams"}.get(
        name[:1], "other")
