"""The methods' return annotations hold at run time: every command method is called on the
embedded store (with and without decode_responses), covering each shape its annotation allows,
and the value must conform to the annotation (to the overload the arguments select, if any).

This is what keeps the hints honest: mypy cannot see through `execute_command` (it returns Any),
so a wrong annotation would type-check and mislead every caller.
"""

from __future__ import annotations

import collections.abc
import datetime
import inspect
import types
import typing
import warnings
from typing import Any, Literal, Union

import pytest

import kvstore
from kvstore.methods import Methods

# Methods whose reply needs a server connection or configuration the embedded store lacks.
# (script_kill: NOTBUSY unless a script runs, and none can while the store serves the call)
NEEDS_A_SERVER = {"auth", "client_kill", "config_rewrite", "shutdown", "script_kill",
                  "function_kill", "save", "bgsave", "bgrewriteaof", "replicaof", "slaveof",
                  "readonly", "readwrite", "migrate",
                  "acl_load", "acl_save"}  # (they need a server's aclfile)
# redis-py leaves these to redis-cli: they raise NotImplementedError (tests/test_store.py).
NOT_IMPLEMENTED = {"latency_doctor", "latency_graph", "latency_histogram", "memory_doctor",
                   "memory_help", "script_debug"}
FUNCTION_LIB = ("#!lua name=tlib\nredis.register_function{function_name='tf', flags={'no-writes'},"
                " callback=function(keys, args) return args[1] end}")


def function_payload() -> bytes:
    with kvstore.open(active_expire=False) as store:
        store.function_load(FUNCTION_LIB)
        return store.function_dump()


def dump_payload() -> bytes:
    with kvstore.open(active_expire=False) as store:
        store.set("x", "1")
        payload = store.dump("x")
    assert payload is not None
    return payload


# (method, args, kwargs), run in order on the keys of `seeded`: each shape of each reply.
CALLS: list[tuple[str, tuple, dict]] = [
    # strings
    ("get", ("s",), {}), ("get", ("missing",), {}),
    ("set", ("k", "v"), {}), ("set", ("k", "v"), {"nx": True}),
    ("set", ("k", "v2"), {"get": True}), ("set", ("new", "v"), {"get": True}),
    ("__getitem__", ("s",), {}), ("__setitem__", ("k2", "v"), {}),
    ("__contains__", ("s",), {}), ("__delitem__", ("missing",), {}),
    ("setnx", ("k3", "v"), {}), ("setex", ("k4", 10, "v"), {}), ("psetex", ("k5", 1000, "v"), {}),
    ("getset", ("k", "v"), {}), ("getset", ("missing2", "v"), {}), ("getdel", ("k5",), {}),
    ("getex", ("s",), {"ex": 100}), ("getex", ("missing",), {}),
    ("mget", (["s", "missing"],), {}), ("mget", ([],), {}),
    ("mset", ({"m1": 1, "m2": 2.5},), {}), ("msetnx", ({"m1": 1},), {}),
    ("append", ("s", "!"), {}), ("strlen", ("s",), {}), ("getrange", ("s", 0, 2), {}),
    ("substr", ("s", 0, 2), {}), ("setrange", ("k", 0, "x"), {}),
    ("lcs", ("s", "k"), {}), ("lcs", ("s", "k"), {"len": True}),
    ("lcs", ("s", "k"), {"idx": True, "withmatchlen": True}),
    ("incrby", ("n",), {}), ("incr", ("n",), {}), ("decrby", ("n", 2), {}), ("decr", ("n",), {}),
    ("incrbyfloat", ("n", 1.5), {}),
    ("setbit", ("bits", 3, 1), {}), ("getbit", ("bits", 3), {}), ("bitcount", ("bits",), {}),
    ("bitcount", ("bits", 0, 7), {"mode": "BIT"}),
    ("bitpos", ("bits", 1), {}), ("bitpos", ("bits", 0, 0, 7), {"mode": "BIT"}),
    ("bitop", ("OR", "bits2", "bits", "s"), {}), ("bitop", ("AND", "bits3", "missing"), {}),
    ("bitfield", ("bits",), {}), ("bitfield_ro", ("bits", "u8", 0), {"items": [("i4", "#1")]}),
    # scripting
    ("eval", ("return {1, 'x', redis.call('get', KEYS[1])}", 1, "s"), {}),
    ("eval_ro", ("return redis.call('get', KEYS[1])", 1, "missing"), {}),
    ("script_load", ("return ARGV[1]",), {}),
    ("evalsha", ("098e0f0d1448c0a81dafe820f66d460eb09263da", 0, "v"), {}),
    ("evalsha_ro", ("098e0f0d1448c0a81dafe820f66d460eb09263da", 0, "v"), {}),
    ("script_exists", ("098e0f0d1448c0a81dafe820f66d460eb09263da", "0" * 40), {}),
    ("register_script", ("return 1",), {}),
    ("script_flush", (), {}), ("script_flush", ("SYNC",), {}),
    ("function_load", (FUNCTION_LIB,), {}), ("function_load", (FUNCTION_LIB,), {"replace": True}),
    ("fcall", ("tf", 0, "x"), {}), ("fcall_ro", ("tf", 0, "y"), {}),
    ("function_list", (), {}), ("function_list", ("tl*", True), {}),
    ("function_stats", (), {}), ("function_dump", (), {}),
    ("function_delete", ("tlib",), {}), ("function_restore", (function_payload(),), {}),
    ("function_flush", (), {}),
    # hyperloglog
    ("pfadd", ("hll", "a", "b"), {}), ("pfadd", ("hll2", "c"), {}), ("pfcount", ("hll",), {}),
    ("pfcount", ("hll", "hll2", "missing"), {}), ("pfmerge", ("hll3", "hll", "hll2"), {}),
    # keys
    ("delete", ("k2",), {}), ("unlink", ("k3",), {}), ("exists", ("s", "missing"), {}),
    ("touch", ("s",), {}), ("type", ("s",), {}), ("type", ("missing",), {}),
    ("rename", ("k", "k6"), {}), ("renamenx", ("k6", "s"), {}), ("copy", ("s", "s_copy"), {}),
    ("move", ("s_copy", 1), {}), ("swapdb", (0, 1), {}), ("swapdb", (0, 1), {}),
    ("dbsize", (), {}), ("keys", ("*",), {}), ("scan", (), {}), ("scan", (0, "s*", 10), {}),
    ("scan_iter", (), {"match": "*"}), ("randomkey", (), {}),
    ("object", ("encoding", "s"), {}), ("object", ("refcount", "s"), {}),
    ("object", ("encoding", "missing"), {}),
    ("dump", ("s",), {}), ("dump", ("missing",), {}),
    ("sort", ("l",), {"alpha": True}), ("sort", ("l",), {"by": "nosort", "get": "h_*"}),
    ("sort", ("l",), {"get": ["#", "missing_*"], "groups": True, "alpha": True}),
    ("sort", ("l",), {"alpha": True, "store": "sorted"}),
    ("sort_ro", ("l", 0, 2), {"alpha": True, "desc": True}),
    ("restore", ("restored", 0, dump_payload()), {"replace": True}),
    ("expire", ("s", 100), {}), ("expire", ("missing", 100), {}),
    ("pexpire", ("s", datetime.timedelta(seconds=100)), {}),
    ("expireat", ("s", datetime.datetime(2100, 1, 1)), {}),
    ("pexpireat", ("s", 4102444800000), {}),
    ("ttl", ("s",), {}), ("pttl", ("s",), {}), ("expiretime", ("s",), {}),
    ("pexpiretime", ("s",), {}), ("persist", ("s",), {}),
    # hashes
    ("hdel", ("h", "nope"), {}), ("hexists", ("h", "f1"), {}), ("hget", ("h", "f1"), {}),
    ("hget", ("h", "nope"), {}), ("hgetall", ("h",), {}), ("hgetall", ("missing",), {}),
    ("hincrby", ("h", "n", 1), {}), ("hincrbyfloat", ("h", "nf", 1.5), {}),
    ("hkeys", ("h",), {}), ("hlen", ("h",), {}), ("hset", ("h", "f3", "v3"), {}),
    ("hset", ("h",), {"mapping": {"f4": 4}, "items": ["f5", b"5"]}),
    ("hsetnx", ("h", "f1", "x"), {}), ("hmset", ("h", {"f6": 6}), {}),
    ("hmget", ("h", ["f1", "nope"]), {}), ("hvals", ("h",), {}), ("hstrlen", ("h", "f1"), {}),
    ("hrandfield", ("h",), {}), ("hrandfield", ("missing",), {}), ("hrandfield", ("h", 2), {}),
    ("hrandfield", ("h", 2, True), {}), ("hscan", ("h",), {}), ("hscan_iter", ("h",), {}),
    # lists
    ("lpush", ("l2", "a", "b"), {}), ("rpush", ("l2", "c"), {}), ("lpushx", ("missing", "a"), {}),
    ("rpushx", ("l2", "d"), {}), ("lpop", ("l",), {}), ("lpop", ("l", 2), {}),
    ("lpop", ("missing",), {}), ("lpop", ("missing", 2), {}), ("rpop", ("l2",), {}),
    ("rpop", ("l2", 1), {}), ("lmpop", (1, "l2"), {"direction": "LEFT"}),
    ("lmpop", (1, "missing"), {"direction": "LEFT", "count": 2}),
    ("lmove", ("l", "l2"), {}), ("lmove", ("missing", "l2"), {}), ("rpoplpush", ("l", "l2"), {}),
    ("llen", ("l2",), {}), ("lrange", ("l2", 0, -1), {}), ("lindex", ("l2", 0), {}),
    ("lindex", ("l2", 99), {}), ("lpos", ("l2", "a"), {}), ("lpos", ("l2", "zz"), {}),
    ("lpos", ("l2", "a"), {"count": 2}), ("lset", ("l2", 0, "x"), {}),
    ("linsert", ("l2", "BEFORE", "x", "y"), {}), ("lrem", ("l2", 0, "y"), {}),
    ("ltrim", ("l2", 0, 10), {}), ("blpop", ("l2",), {}), ("blpop", (["missing"],), {}),
    ("brpop", ("l2", 1), {}), ("brpoplpush", ("l2", "l3"), {}),
    ("brpoplpush", ("missing", "l3"), {}), ("blmove", ("l3", "l2", 0), {}),
    ("blmpop", (0.1, 1, "l2"), {"direction": "LEFT"}),
    ("blmpop", (0.1, 1, "missing"), {"direction": "RIGHT"}),
    # sets
    ("sadd", ("st", "d"), {}), ("scard", ("st",), {}), ("sdiff", (["st", "st2"],), {}),
    ("sdiff", ("missing",), {}), ("sdiffstore", ("sd", "st", "st2"), {}),
    ("sinter", ("st", "st2"), {}), ("sintercard", (2, ["st", "st2"]), {}),
    ("sinterstore", ("si", ["st", "st2"]), {}), ("sismember", ("st", "a"), {}),
    ("smembers", ("st",), {}), ("smismember", ("st", ["a", "zz"]), {}),
    ("smove", ("st", "st2", "a"), {}), ("spop", ("st",), {}), ("spop", ("st", 2), {}),
    ("spop", ("missing",), {}), ("spop", ("missing", 2), {}), ("srandmember", ("st2",), {}),
    ("srandmember", ("st2", 2), {}), ("srandmember", ("missing", 2), {}),
    ("srem", ("st2", "b"), {}), ("sunion", (["st", "st2"],), {}),
    ("sunionstore", ("su", "st", "st2"), {}), ("sscan", ("st2",), {}),
    ("sscan_iter", ("st2",), {}),
    # sorted sets
    ("zadd", ("z", {"e": 5}), {}), ("zadd", ("z", {"e": 1}), {"incr": True}),
    ("zadd", ("z", {"e": 1}), {"incr": True, "nx": True}), ("zcard", ("z",), {}),
    ("zcount", ("z", "-inf", "+inf"), {}), ("zdiff", (["z", "z2"],), {}),
    ("zdiff", (["z", "z2"],), {"withscores": True}), ("zdiffstore", ("zd", ["z", "z2"]), {}),
    ("zincrby", ("z", 2, "a"), {}), ("zinter", (["z", "z2"],), {}),
    ("zinter", ({"z": 1, "z2": 2},), {"withscores": True}),
    ("zinterstore", ("zi", ["z", "z2"]), {"aggregate": "MAX"}),
    ("zintercard", (2, ["z", "z2"]), {}), ("zlexcount", ("z", "-", "+"), {}),
    ("zpopmax", ("z",), {}), ("zpopmin", ("z", 2), {}), ("zpopmin", ("missing",), {}),
    ("zrandmember", ("z2",), {}), ("zrandmember", ("missing",), {}),
    ("zrandmember", ("z2", 2), {}), ("zrandmember", ("z2", 2, True), {}),
    ("bzpopmax", ("zi",), {}), ("bzpopmin", (["missing"], 0.1), {}),
    ("zmpop", (1, ["z2"]), {"min": True}), ("zmpop", (1, ["missing"]), {"max": True}),
    ("bzmpop", (0.1, 1, ["z2"]), {"min": True, "count": 2}),
    ("zadd", ("z", {"a": 1, "b": 2, "c": 3}), {}), ("zadd", ("z2", {"b": 1, "d": 4}), {}),
    ("zrange", ("z", 0, -1), {}), ("zrange", ("z", 0, -1), {"withscores": True}),
    ("zrange", ("z", 0, -1, True, True), {}),
    ("zrange", ("z", "-inf", "+inf"), {"byscore": True, "offset": 0, "num": 2}),
    ("zrange", ("z", 0, -1), {"withscores": True, "score_cast_func": int}),
    ("zrevrange", ("z", 0, -1), {}), ("zrevrange", ("z", 0, -1, True), {}),
    ("zrangestore", ("zr", "z", 0, 1), {}), ("zrangebylex", ("z", "-", "+"), {}),
    ("zrevrangebylex", ("z", "+", "-", 0, 1), {}), ("zrangebyscore", ("z", 1, 2), {}),
    ("zrangebyscore", ("z", "-inf", "+inf"), {"withscores": True}),
    ("zrevrangebyscore", ("z", "+inf", "-inf"), {"withscores": True}),
    ("zrank", ("z", "a"), {}), ("zrank", ("z", "a"), {"withscore": True}),
    ("zrank", ("z", "zz"), {}), ("zrevrank", ("z", "a"), {}), ("zrem", ("z", "c"), {}),
    ("zremrangebylex", ("zr", "-", "+"), {}), ("zremrangebyrank", ("zd", 0, 0), {}),
    ("zremrangebyscore", ("zi", "-inf", "+inf"), {}), ("zscore", ("z", "a"), {}),
    ("zscore", ("z", "zz"), {}), ("zunion", (["z", "z2"],), {}),
    ("zunion", (["z", "z2"],), {"withscores": True}), ("zunionstore", ("zu", ["z", "z2"]), {}),
    ("zmscore", ("z", ["a", "zz"]), {}), ("zscan", ("z",), {}), ("zscan_iter", ("z",), {}),
    # streams
    ("xadd", ("x", {"f": "v"}), {"id": "1-0"}), ("xadd", ("x", {"f": 2}), {"maxlen": 10}),
    ("xadd", ("nox", {"f": 1}), {"nomkstream": True}), ("xlen", ("x",), {}),
    ("xrange", ("x",), {}), ("xrevrange", ("x", "+", "-", 1), {}), ("xread", ({"x": 0},), {}),
    ("xread", ({"x": "$"},), {"block": 10}), ("xgroup_create", ("x", "g"), {"id": "0"}),
    ("xgroup_createconsumer", ("x", "g", "c0"), {}), ("xreadgroup", ("g", "c", {"x": ">"}), {}),
    ("xreadgroup", ("g", "c", {"x": ">"}), {"block": 10}), ("xpending", ("x", "g"), {}),
    ("xpending_range", ("x", "g", "-", "+", 10), {}),
    ("xclaim", ("x", "g", "c2", 0, ["1-0"]), {}),
    ("xclaim", ("x", "g", "c2", 0, ["1-0"]), {"justid": True}),
    ("xautoclaim", ("x", "g", "c3", 0), {}), ("xautoclaim", ("x", "g", "c3", 0), {"justid": True}),
    ("xack", ("x", "g", "1-0"), {}), ("xinfo_stream", ("x",), {}),
    ("xinfo_stream", ("x",), {"full": True}), ("xinfo_groups", ("x",), {}),
    ("xinfo_consumers", ("x", "g"), {}), ("xgroup_setid", ("x", "g", "0"), {}),
    ("xgroup_delconsumer", ("x", "g", "c3"), {}), ("xgroup_destroy", ("x", "g"), {}),
    ("xdel", ("x", "1-0"), {}), ("xtrim", ("x",), {"maxlen": 0, "approximate": False}),
    # geo
    ("geoadd", ("geo", [13.361389, 38.115556, "a", 15.087269, 37.502669, "b"]), {}),
    ("geopos", ("geo", "a", "zz"), {}), ("geodist", ("geo", "a", "b", "km"), {}),
    ("geodist", ("geo", "a", "zz"), {}), ("geohash", ("geo", "a", "zz"), {}),
    ("georadius", ("geo", 15, 37, 200, "km"), {}),
    ("georadius", ("geo", 15, 37, 200, "km"), {"withdist": True, "withcoord": True,
                                                "withhash": True}),
    ("georadius", ("geo", 15, 37, 200, "km"), {"store": "geo2"}),
    ("georadiusbymember", ("geo", "a", 200, "km"), {"withdist": True, "count": 1}),
    ("geosearch", ("geo",), {"member": "a", "radius": 200, "unit": "km"}),
    ("geosearch", ("geo",), {"longitude": 15, "latitude": 37, "width": 400, "height": 400,
                             "unit": "km", "withcoord": True}),
    ("geosearchstore", ("geo3", "geo"), {"member": "a", "radius": 200, "unit": "km",
                                         "storedist": True}),
    # server and connection
    ("ping", (), {}), ("echo", ("hi",), {}), ("quit", (), {}), ("reset", (), {}),
    ("client_id", (), {}), ("client_setname", ("me",), {}), ("client_getname", (), {}),
    ("client_setinfo", ("LIB-NAME", "x"), {}), ("client_info", (), {}), ("client_list", (), {}),
    ("client_list_iter", (), {}),
    ("client_kill_filter", (), {"_id": 99}), ("client_pause", (1,), {}),
    ("client_unpause", (), {}), ("client_reply", ("ON",), {}), ("client_no_evict", ("on",), {}),
    ("client_no_touch", ("on",), {}), ("info", (), {}), ("info", ("server",), {}),
    ("config_get", ("maxmemory",), {}), ("config_set", ("maxmemory", 0), {}),
    ("config_resetstat", (), {}), ("time", (), {}), ("lastsave", (), {}), ("lolwut", (), {}),
    ("lolwut", (5, 3, 1, 1), {}), ("acl_whoami", (), {}), ("acl_users", (), {}),
    ("acl_list", (), {}), ("acl_cat", (), {}), ("acl_help", (), {}),
    ("acl_getuser", ("default",), {}), ("acl_deluser", ("nobody",), {}),
    ("acl_dryrun", ("default", "get", "k"), {}), ("acl_genpass", (), {}), ("acl_log", (), {}),
    ("acl_log_reset", (), {}),
    ("acl_setuser", ("default",), {"enabled": True, "nopass": True, "categories": ["+@all"],
                                   "keys": ["*"], "channels": ["*"]}),
    ("command_getkeysandflags", ("get", "k"), {}),
    ("slowlog_get", (), {}), ("slowlog_len", (), {}), ("slowlog_reset", (), {}),
    ("latency_latest", (), {}), ("latency_history", ("command",), {}), ("latency_reset", (), {}),
    ("publish", ("ch", "m"), {}), ("spublish", ("ch", "m"), {}), ("pubsub_channels", (), {}),
    ("pubsub_shardchannels", (), {}), ("pubsub_numpat", (), {}),
    ("pubsub_numsub", ("ch",), {}), ("pubsub_shardnumsub", ("ch",), {}),
    ("memory_usage", ("s",), {}), ("memory_usage", ("nokey",), {}), ("memory_stats", (), {}),
    ("memory_purge", (), {}), ("memory_malloc_stats", (), {}), ("wait", (0, 0), {}),
    ("waitaof", (0, 0, 0), {}),
    ("role", (), {}), ("module_list", (), {}), ("client_tracking_on", (), {}),
    ("client_trackinginfo", (), {}), ("client_getredir", (), {}),
    ("client_tracking_off", (), {}), ("client_tracking", (False,), {}),
    ("client_unblock", (5,), {}), ("lock", ("lk",), {"timeout": 1}),
    ("command", (), {}), ("command_count", (), {}), ("command_list", (), {"pattern": "z*"}),
    ("command_getkeys", ("get", "k"), {}), ("command_docs", (), {}),
    # last: they empty the store
    ("flushdb", (), {}), ("flushall", (), {"asynchronous": True}),
]


def conforms(value: Any, tp: Any) -> bool:
    """Whether `value` is of type `tp` (the types the annotations use; int is not a float and
    bool is not an int, as they are not what a caller would be told)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or isinstance(tp, typing.TypeVar):
        return True
    if tp is None or tp is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if origin is Literal:
        return value in args
    if origin in (list, set):
        return type(value) is origin and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return type(value) is dict and all(
            conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if origin is tuple:
        if type(value) is not tuple:
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(v, args[0]) for v in value)
        return len(value) == len(args) and all(map(conforms, value, args))
    if origin is collections.abc.Iterator:
        return all(conforms(v, args[0]) for v in value)  # consumes the generator
    if tp in (int, float, bool):
        return type(value) is tp
    return isinstance(value, tp)


def return_type(name: str, args: tuple, kwargs: dict) -> Any:
    """The return annotation of the overload that these arguments select (the first whose
    Literal / None parameters match, as a type checker picks), else of the method itself."""
    method = getattr(Methods, name)
    for overload in typing.get_overloads(method):
        hints = typing.get_type_hints(overload)
        try:
            bound = inspect.signature(overload).bind(None, *args, **kwargs)
        except TypeError:
            continue
        bound.apply_defaults()
        if all(conforms(value, hints[param]) for param, value in bound.arguments.items()
               if param in hints and _selects(hints[param])):
            return hints["return"]
    return typing.get_type_hints(method)["return"]


def _selects(tp: Any) -> bool:
    """A parameter type that tells overloads apart: a Literal or None (or a union of them)."""
    if tp is None or tp is type(None) or typing.get_origin(tp) is Literal:
        return True
    origin = typing.get_origin(tp)
    return origin in (Union, types.UnionType) and all(map(_selects, typing.get_args(tp)))


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def seeded(request):
    store = kvstore.open(decode_responses=request.param, active_expire=False)
    store.set("s", "hello")
    store.set("n", 10)
    store.hset("h", mapping={"f1": "v1", "f2": 2})
    store.rpush("l", "a", "b", "c", "d")
    store.sadd("st", "a", "b", "c")
    store.sadd("st2", "b", "c", "d")
    store.zadd("z", {"a": 1, "b": 2, "c": 3})
    store.zadd("z2", {"b": 1, "d": 4})
    yield store
    store.close()


def test_every_command_method_is_called():
    public = {n for n in dir(Methods) if not n.startswith("_") and n != "execute_command"}
    called = {name for name, _, _ in CALLS}
    assert public - called - NEEDS_A_SERVER - NOT_IMPLEMENTED == set()


def test_replies_conform_to_the_return_annotations(seeded):
    wrong = []
    for name, args, kwargs in CALLS:
        tp = return_type(name, args, kwargs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # hmset
                value = getattr(seeded, name)(*args, **kwargs)
        except NotImplementedError:
            assert tp is typing.NoReturn, name
            continue
        if not conforms(value, tp):
            wrong.append(f"{name}{args}{kwargs} -> {value!r}, annotated {tp}")
    assert not wrong, "\n".join(wrong)
