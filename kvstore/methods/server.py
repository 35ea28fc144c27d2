"""Server and connection methods (redis-py 8.1 shapes): ping, echo, info, config_*, client_*,
slowlog_*, time, lastsave, command_*, auth, shutdown, ...

Each builds argv (redis-py sends "CLIENT LIST" as one string that its connection splits; we pass
the words separately) and shapes the RESP2 reply as redis-py's RESP2 callbacks do
(redis/_parsers/helpers.py and response_callbacks.py). Commands without a callback there return
the raw reply here too (CLIENT ID, CLIENT UNPAUSE, CONFIG REWRITE, ...).
"""

from __future__ import annotations

import datetime
from typing import Any, Iterator, NoReturn

from ..errors import ConnectionError, DataError, KvstoreError
from .base import bool_ok, list_or_args, pairs_to_dict
from .types import EncodableT, KeyT, KeysT, PatternT, Reply


def _str(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _true(reply: Any) -> bool:
    return True  # (redis-py's BGSAVE / BGREWRITEAOF callback: the reply is a status text)


def _pairs(reply: list) -> list[tuple[Any, int]]:
    """PUBSUB NUMSUB: [channel, count, ...] -> [(channel, count), ...]."""
    return list(zip(reply[0::2], reply[1::2]))


def _memory_stats(reply: list) -> dict[str, Any]:
    """MEMORY STATS, as redis-py's parse_memory_stats: str keys and string values, the
    db.N entries dicts too."""
    def to_dict(flat: list) -> dict[str, Any]:
        return {_str(k): _str(v) for k, v in zip(flat[0::2], flat[1::2])}

    stats = to_dict(reply)
    for key, value in stats.items():
        if key.startswith("db.") and isinstance(value, list):
            stats[key] = to_dict(value)
    return stats


def decode_info(reply: Any, encoding: str, errors: str) -> Any:
    """redis-py's decode_info: an INFO reply decoded as the client decodes replies, and with
    "replace" where that fails (Redis copies an error reply's first word, any bytes a script
    gave it, into `errorstat_<word>`)."""
    if not isinstance(reply, bytes):
        return reply
    try:
        return reply.decode(encoding, errors)
    except UnicodeDecodeError:
        return reply.decode(encoding, "replace")


def parse_info(reply: Any) -> dict[str, Any]:
    """INFO text -> dict, with redis-py's value typing (int, float, sub-dicts for a=b,c=d)."""

    def get_value(value: str) -> Any:
        if "," not in value and "=" not in value:
            try:
                return float(value) if "." in value else int(value)
            except ValueError:
                return value
        if "=" not in value:
            return [get_value(v) for v in value.split(",") if v]
        sub: dict = {}
        for item in value.split(","):
            if not item:
                continue
            if "=" in item:
                k, v = item.rsplit("=", 1)
                sub[k] = get_value(v)
            else:
                sub[item] = True
        return sub

    info: dict = {}
    for line in _str(reply).splitlines():
        if not line or line.startswith("#"):
            continue
        if ":" in line:
            key, value = line.split(":", 1)
            if key == "cmdstat_host":
                key, value = line.rsplit(":", 1)
            if key == "module":
                info.setdefault("modules", []).append(get_value(value))
            else:
                info[key] = get_value(value)
        else:
            info.setdefault("__raw__", []).append(line)
    return info


def parse_config_get(reply: Any) -> dict[str, str]:
    items: list[Any] = [_str(x) if x is not None else None for x in reply]
    it = iter(items)
    return dict(zip(it, it)) if items else {}


def parse_client_list(reply: Any) -> list[dict[str, str]]:
    return list(iter_client_list(reply))


def iter_client_list(reply: Any) -> Iterator[dict[str, str]]:
    """CLIENT LIST's records, parsed one at a time (client_list_iter)."""
    for line in _str(reply).splitlines():
        entry: dict = {}
        last = None
        for token in line.split(" "):
            if "=" in token:
                key, value = token.split("=", 1)
                entry[key] = value
                last = key
            elif last is not None:
                entry[last] += " " + token  # unix socket paths may contain spaces
        if entry:
            yield entry


def _client_list_args(_type: str | None, client_id: Any) -> list:
    """CLIENT LIST's arguments after LIST, checked as redis-py checks them."""
    args: list = []
    if _type is not None:
        types = ("normal", "master", "replica", "pubsub")
        if str(_type).lower() not in types:
            raise DataError(f"CLIENT LIST _type must be one of {types!r}")
        args += [b"TYPE", _type]
    if not isinstance(client_id, list):
        raise DataError("client_id must be a list")
    if client_id:
        args.append(b"ID")
        args += client_id
    return args


_CLIENT_INFO_INTS = {"id", "age", "idle", "db", "sub", "psub", "multi", "qbuf", "qbuf-free",
                     "obl", "argv-mem", "oll", "omem", "tot-mem"}


def parse_client_info(reply: Any) -> dict[str, str | int]:
    info: dict = {}
    for item in _str(reply).strip().split():
        key, value = item.split("=", 1)
        info[key] = int(value) if key in _CLIENT_INFO_INTS else value
    return info


def parse_client_kill(reply: Any) -> bool | int:
    if isinstance(reply, int):
        return reply
    return _str(reply) == "OK"


def parse_slowlog_get(reply: Any) -> list[dict[str, Any]]:
    out = []
    for item in reply:
        entry = {"id": item[0], "start_time": int(item[1]), "duration": int(item[2]),
                 "command": b" ".join(item[3])}
        if len(item) >= 6:
            entry["client_address"] = item[4]
            entry["client_name"] = item[5]
        out.append(entry)
    return out


def parse_command(reply: Any) -> dict[str, dict[str, Any]]:
    commands = {}
    for c in reply:
        name = _str(c[0])
        entry = {"name": name, "arity": int(c[1]), "flags": [_str(f) for f in c[2]],
                 "first_key_pos": c[3], "last_key_pos": c[4], "step_count": c[5]}
        if len(c) > 6:
            entry["acl_categories"] = [_str(x) for x in c[6]]
        if len(c) > 7:
            entry["tips"] = c[7]
            entry["key_specifications"] = c[8]
            entry["subcommands"] = c[9]
        commands[name] = entry
    return commands


def timestamp_to_datetime(reply: Any) -> datetime.datetime | None:
    if not reply:
        return None
    try:
        return datetime.datetime.fromtimestamp(int(reply))
    except ValueError:
        return None


def shutdown_args(save: bool, nosave: bool, now: bool, force: bool, abort: bool) -> list[str]:
    if save and nosave:
        raise DataError("SHUTDOWN save and nosave cannot both be set")
    args = ["SHUTDOWN"]
    for flag, name in ((save, "SAVE"), (nosave, "NOSAVE"), (now, "NOW"), (force, "FORCE"),
                       (abort, "ABORT")):
        if flag:
            args.append(name)
    return args


def _not_in_client(command: str, page: str) -> str:
    """redis-py's NotImplementedError text for a command it leaves to redis-cli."""
    return f"""
            {command} is intentionally not implemented in the client.

            For more information, see https://redis.io/commands/{page}
            """


class ServerMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- connection -------------------------------------------------------------------------

    def ping(self, **kwargs: Any) -> bool:
        return self.execute_command("PING", callback=lambda r: _str(r) == "PONG")

    def echo(self, value: EncodableT, **kwargs: Any) -> Reply:
        return self.execute_command("ECHO", value)

    def auth(self, password: str, username: str | None = None, **kwargs: Any) -> bool:
        pieces = [username, password] if username is not None else [password]
        return self.execute_command("AUTH", *pieces, callback=bool_ok)

    def quit(self, **kwargs: Any) -> bool:
        return self.execute_command("QUIT", callback=bool_ok)

    def reset(self) -> str:
        return self.execute_command("RESET", callback=_str)

    # -- CLIENT -----------------------------------------------------------------------------

    def client_id(self, **kwargs: Any) -> int:
        return self.execute_command("CLIENT", "ID")

    def client_setname(self, name: str, **kwargs: Any) -> bool:
        return self.execute_command("CLIENT", "SETNAME", name, callback=bool_ok)

    def client_getname(self, **kwargs: Any) -> str | None:
        return self.execute_command("CLIENT", "GETNAME", callback=_str)

    def client_setinfo(self, attr: str, value: str, **kwargs: Any) -> bool:
        return self.execute_command("CLIENT", "SETINFO", attr, value, callback=bool_ok)

    def client_info(self, **kwargs: Any) -> dict[str, str | int]:
        return self.execute_command("CLIENT", "INFO", callback=parse_client_info)

    def client_list(self, _type: str | None = None,
                    client_id: list[Any] = [],  # noqa: B006 - redis-py's default
                    **kwargs: Any) -> list[dict[str, str]]:
        return self.execute_command("CLIENT", "LIST", *_client_list_args(_type, client_id),
                                    callback=parse_client_list)

    def client_list_iter(self, _type: str | None = None,
                         client_id: list[Any] = [],  # noqa: B006 - redis-py's default
                         **kwargs: Any) -> Iterator[dict[str, str]]:
        """client_list(), as an iterator that parses one record at a time (the reply is still
        read whole), as redis-py's."""
        return self.execute_command("CLIENT", "LIST", *_client_list_args(_type, client_id),
                                    callback=iter_client_list)

    def client_kill(self, address: str, **kwargs: Any) -> bool | int:
        return self.execute_command("CLIENT", "KILL", address, callback=parse_client_kill)

    def client_kill_filter(self, _id: int | None = None, _type: str | None = None,
                           addr: str | None = None, skipme: bool | None = None,
                           laddr: str | None = None, user: str | None = None,
                           maxage: int | None = None, **kwargs: Any) -> bool | int:
        args: list = []
        if _type is not None:
            types = ("normal", "master", "slave", "replica", "pubsub")
            if str(_type).lower() not in types:
                raise DataError(f"CLIENT KILL type must be one of {types!r}")
            args += [b"TYPE", _type]
        if skipme is not None:
            if not isinstance(skipme, bool):
                raise DataError("CLIENT KILL skipme must be a bool")
            args += [b"SKIPME", b"YES" if skipme else b"NO"]
        for opt, value in ((b"ID", _id), (b"ADDR", addr), (b"LADDR", laddr), (b"USER", user),
                           (b"MAXAGE", maxage)):
            if value is not None:
                args += [opt, value]
        if not args:
            raise DataError("CLIENT KILL <filter> <value> ... ... <filter> <value> must specify "
                            "at least one filter")
        return self.execute_command("CLIENT", "KILL", *args, callback=parse_client_kill)

    def client_pause(self, timeout: int, all: bool = True,  # noqa: A002 - redis-py's name
                     **kwargs: Any) -> bool:
        if not isinstance(timeout, int):
            raise DataError("CLIENT PAUSE timeout must be an integer")
        args = ["CLIENT", "PAUSE", str(timeout)]
        if not all:
            args.append("WRITE")
        return self.execute_command(*args, callback=bool_ok)

    def client_unpause(self, **kwargs: Any) -> Reply:
        return self.execute_command("CLIENT", "UNPAUSE")

    def client_reply(self, reply: str, **kwargs: Any) -> Reply:
        if reply not in ("ON", "OFF", "SKIP"):
            raise DataError("CLIENT REPLY must be one of 'ON', 'OFF', 'SKIP'")
        return self.execute_command("CLIENT", "REPLY", reply)

    def client_no_evict(self, mode: str) -> Reply:
        return self.execute_command("CLIENT", "NO-EVICT", mode)

    def client_no_touch(self, mode: str) -> Reply:
        return self.execute_command("CLIENT", "NO-TOUCH", mode)

    # -- server -----------------------------------------------------------------------------

    def info(self, section: str | None = None, *args: str, **kwargs: Any) -> dict[str, Any]:
        """INFO is read as bytes and decoded by `decode_info` (as redis-py reads it), so that
        an error text in `errorstats` that is not valid in the encoding cannot fail the call."""
        argv = ["INFO"] if section is None else ["INFO", section, *args]
        if getattr(self, "decode_responses", False):
            encoding = getattr(self, "encoding", "utf-8")
            errors = getattr(self, "encoding_errors", "strict")
            return self.execute_command(
                *argv, never_decode=True,
                callback=lambda r: parse_info(decode_info(r, encoding, errors)))
        return self.execute_command(*argv, callback=parse_info, never_decode=True)

    def config_get(self, pattern: PatternT = "*", *args: PatternT,
                   **kwargs: Any) -> dict[str, str]:
        return self.execute_command("CONFIG", "GET", pattern, *args, callback=parse_config_get)

    def config_set(self, name: KeyT, value: EncodableT, *args: EncodableT,
                   **kwargs: Any) -> bool:
        return self.execute_command("CONFIG", "SET", name, value, *args, callback=bool_ok)

    def config_resetstat(self, **kwargs: Any) -> bool:
        return self.execute_command("CONFIG", "RESETSTAT", callback=bool_ok)

    def config_rewrite(self, **kwargs: Any) -> Reply:
        return self.execute_command("CONFIG", "REWRITE")

    def time(self, **kwargs: Any) -> tuple[int, int]:
        return self.execute_command("TIME", callback=lambda r: (int(r[0]), int(r[1])))

    def lastsave(self, **kwargs: Any) -> datetime.datetime | None:
        return self.execute_command("LASTSAVE", callback=timestamp_to_datetime)

    def lolwut(self, *version_numbers: EncodableT, **kwargs: Any) -> Reply:
        """The server's version, and with VERSION 5 or 6 (and their arguments) a drawing."""
        if version_numbers:
            return self.execute_command("LOLWUT", "VERSION", *version_numbers)
        return self.execute_command("LOLWUT")

    def slowlog_get(self, num: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """The entries of the slow log, their texts bytes even with decode_responses (redis-py
        reads this reply undecoded: a logged argument need not be text)."""
        args = ["SLOWLOG", "GET"] if num is None else ["SLOWLOG", "GET", num]
        return self.execute_command(*args, callback=parse_slowlog_get, never_decode=True)

    def slowlog_len(self, **kwargs: Any) -> int:
        return self.execute_command("SLOWLOG", "LEN")

    def slowlog_reset(self, **kwargs: Any) -> bool:
        return self.execute_command("SLOWLOG", "RESET", callback=bool_ok)

    def latency_latest(self) -> list[list[Reply]]:
        return self.execute_command("LATENCY", "LATEST")

    def latency_history(self, event: str) -> list[list[int]]:
        return self.execute_command("LATENCY", "HISTORY", event)

    def latency_reset(self, *events: str) -> int:
        return self.execute_command("LATENCY", "RESET", *events)

    # redis-py leaves these human-oriented reports to redis-cli, and so do we (same errors).
    def latency_doctor(self) -> None:
        raise NotImplementedError(_not_in_client("LATENCY DOCTOR", "latency-doctor"))

    def latency_graph(self) -> None:
        raise NotImplementedError(_not_in_client("LATENCY GRAPH", "latency-graph"))

    def latency_histogram(self, *args: Any) -> None:
        raise NotImplementedError(
            "LATENCY HISTOGRAM is intentionally not implemented in the client."
        )

    def command(self, **kwargs: Any) -> dict[str, dict[str, Any]]:
        return self.execute_command("COMMAND", callback=parse_command)

    def command_count(self, **kwargs: Any) -> int:
        return self.execute_command("COMMAND", "COUNT")

    def command_list(self, module: str | None = None, category: str | None = None,
                     pattern: str | None = None) -> list[Reply]:
        pieces: list = []
        for opt, value in (("MODULE", module), ("ACLCAT", category), ("PATTERN", pattern)):
            if value is not None:
                pieces += [opt, value]
        if pieces:
            pieces.insert(0, "FILTERBY")
        return self.execute_command("COMMAND", "LIST", *pieces)

    def command_getkeys(self, *args: EncodableT) -> list[str]:
        return self.execute_command("COMMAND", "GETKEYS", *args,
                                    callback=lambda r: [_str(x) for x in r])

    def command_getkeysandflags(self, *args: EncodableT) -> list[list[Any]]:
        """[[key, [flag, ...]], ...] as Redis sends it (redis-py has no callback for it)."""
        return self.execute_command("COMMAND", "GETKEYSANDFLAGS", *args)

    def command_docs(self, *args: Any) -> NoReturn:
        raise NotImplementedError("COMMAND DOCS is intentionally not implemented in the client.")

    # -- pub/sub (publishing and introspection; subscribing is clients.PubSub's) -------------

    def publish(self, channel: KeyT, message: EncodableT, **kwargs: Any) -> int:
        return self.execute_command("PUBLISH", channel, message)

    def spublish(self, shard_channel: KeyT, message: EncodableT) -> int:
        return self.execute_command("SPUBLISH", shard_channel, message)

    def pubsub_channels(self, pattern: PatternT = "*", **kwargs: Any) -> list[Reply]:
        return self.execute_command("PUBSUB", "CHANNELS", pattern)

    def pubsub_shardchannels(self, pattern: PatternT = "*", **kwargs: Any) -> list[Reply]:
        return self.execute_command("PUBSUB", "SHARDCHANNELS", pattern)

    def pubsub_numpat(self, **kwargs: Any) -> int:
        return self.execute_command("PUBSUB", "NUMPAT")

    def pubsub_numsub(self, *args: KeyT, **kwargs: Any) -> list[tuple[Reply, int]]:
        return self.execute_command("PUBSUB", "NUMSUB", *args, callback=_pairs)

    def pubsub_shardnumsub(self, *args: KeyT, **kwargs: Any) -> list[tuple[Reply, int]]:
        return self.execute_command("PUBSUB", "SHARDNUMSUB", *args, callback=_pairs)

    # -- memory, persistence, replication ----------------------------------------------------

    def memory_usage(self, key: KeyT, samples: int | None = None, **kwargs: Any) -> int | None:
        args: list[Any] = [b"SAMPLES", samples] if isinstance(samples, int) else []
        return self.execute_command("MEMORY", "USAGE", key, *args)

    def memory_stats(self, **kwargs: Any) -> dict[str, Any]:
        return self.execute_command("MEMORY", "STATS", callback=_memory_stats)

    def memory_doctor(self, **kwargs: Any) -> None:
        raise NotImplementedError(_not_in_client("MEMORY DOCTOR", "memory-doctor"))

    def memory_help(self, **kwargs: Any) -> None:
        raise NotImplementedError(_not_in_client("MEMORY HELP", "memory-help"))

    def memory_purge(self, **kwargs: Any) -> bool:
        return self.execute_command("MEMORY", "PURGE", callback=bool_ok)

    def memory_malloc_stats(self, **kwargs: Any) -> Reply:
        return self.execute_command("MEMORY", "MALLOC-STATS")

    def save(self, **kwargs: Any) -> bool:
        return self.execute_command("SAVE", callback=bool_ok)

    def bgsave(self, schedule: bool = True, **kwargs: Any) -> bool:
        return self.execute_command("BGSAVE", *(["SCHEDULE"] if schedule else []),
                                    callback=_true)

    def bgrewriteaof(self, **kwargs: Any) -> bool:
        return self.execute_command("BGREWRITEAOF", callback=_true)

    def wait(self, num_replicas: int, timeout: int, **kwargs: Any) -> int:
        return self.execute_command("WAIT", num_replicas, timeout)

    def waitaof(self, num_local: int, num_replicas: int, timeout: int,
                **kwargs: Any) -> list[int]:
        return self.execute_command("WAITAOF", num_local, num_replicas, timeout)

    def role(self) -> list[Any]:
        return self.execute_command("ROLE")

    def replicaof(self, *args: Any, **kwargs: Any) -> Reply:
        return self.execute_command("REPLICAOF", *args)

    def slaveof(self, host: str | None = None, port: int | None = None,
                **kwargs: Any) -> bool:
        if host is None and port is None:
            return self.execute_command("SLAVEOF", b"NO", b"ONE", callback=bool_ok)
        return self.execute_command("SLAVEOF", host, port, callback=bool_ok)

    def readonly(self, **kwargs: Any) -> bool:
        return self.execute_command("READONLY", callback=bool_ok)

    def readwrite(self, **kwargs: Any) -> bool:
        return self.execute_command("READWRITE", callback=bool_ok)

    def module_list(self) -> list[dict[Any, Any]]:
        return self.execute_command("MODULE", "LIST",
                                    callback=lambda r: [pairs_to_dict(m) for m in r])

    def migrate(self, host: str, port: int, keys: KeysT, destination_db: int, timeout: int,
                copy: bool = False, replace: bool = False, auth: str | None = None,
                **kwargs: Any) -> Reply:
        keys = list_or_args(keys, None)
        if not keys:
            raise DataError("MIGRATE requires at least one key")
        pieces: list[Any] = []
        if copy:
            pieces.append(b"COPY")
        if replace:
            pieces.append(b"REPLACE")
        if auth:
            pieces += [b"AUTH", auth]
        pieces += [b"KEYS", *keys]
        return self.execute_command("MIGRATE", host, port, "", destination_db, timeout,
                                    *pieces)

    # -- client-side caching -------------------------------------------------------------------

    def client_tracking(self, on: bool = True, clientid: int | None = None,
                        prefix: list[KeyT] | tuple[KeyT, ...] = (), bcast: bool = False,
                        optin: bool = False, optout: bool = False, noloop: bool = False,
                        **kwargs: Any) -> Reply:
        if prefix and not bcast:
            raise DataError("Prefix can only be used with bcast")
        pieces: list[Any] = ["ON" if on else "OFF"]
        if clientid is not None:
            pieces += ["REDIRECT", clientid]
        for p in prefix:
            pieces += ["PREFIX", p]
        for flag, word in ((bcast, "BCAST"), (optin, "OPTIN"), (optout, "OPTOUT"),
                           (noloop, "NOLOOP")):
            if flag:
                pieces.append(word)
        return self.execute_command("CLIENT", "TRACKING", *pieces)

    def client_tracking_on(self, clientid: int | None = None,
                           prefix: list[KeyT] | tuple[KeyT, ...] = (), bcast: bool = False,
                           optin: bool = False, optout: bool = False,
                           noloop: bool = False) -> Reply:
        return self.client_tracking(True, clientid, prefix, bcast, optin, optout, noloop)

    def client_tracking_off(self, clientid: int | None = None,
                            prefix: list[KeyT] | tuple[KeyT, ...] = (), bcast: bool = False,
                            optin: bool = False, optout: bool = False,
                            noloop: bool = False) -> Reply:
        return self.client_tracking(False, clientid, prefix, bcast, optin, optout, noloop)

    def client_trackinginfo(self, **kwargs: Any) -> list[Any]:
        return self.execute_command("CLIENT", "TRACKINGINFO",
                                    callback=lambda r: [_str(x) for x in r])

    def client_getredir(self, **kwargs: Any) -> int:
        return self.execute_command("CLIENT", "GETREDIR")

    def client_unblock(self, client_id: int, error: bool = False, **kwargs: Any) -> bool:
        args: list[Any] = [int(client_id)] + ([b"ERROR"] if error else [])
        return self.execute_command("CLIENT", "UNBLOCK", *args, callback=bool)

    def shutdown(self, save: bool = False, nosave: bool = False, now: bool = False,
                 force: bool = False, abort: bool = False, **kwargs: Any) -> None:
        """SHUTDOWN: the server closes the connection instead of replying, which is success
        (AsyncClient awaits its own copy of this)."""
        try:
            self.execute_command(*shutdown_args(save, nosave, now, force, abort))
        except (ConnectionError, OSError):
            return None  # the server went away: what SHUTDOWN is for
        raise KvstoreError("SHUTDOWN seems to have failed.")
