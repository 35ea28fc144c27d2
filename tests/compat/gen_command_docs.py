"""Regenerate kvstore/commands/redis_commands.json from a running redis-server.

    python -m tests.compat.gen_command_docs [--port 6379]

COMMAND DOCS (summary, since, group, complexity, history, arguments...) and COMMAND INFO's tips
and key specifications are Redis's own descriptions of its commands: redis-cli builds its help
and its argument hints from them, cluster clients read the key specs. kvstore answers with
Redis's text for every command both have, so this script copies them from redis-server's
replies, read in RESP3 so that every reply type survives: a set is stored as {"~": [...]}, a
simple string as {"+": "..."}, a map as an object (in Redis's order), an array as a list, a bulk
string as a string. `EXTRA` adds the entries of commands newer than the redis-server this runs
against (kvstore reports 7.2), written from Redis 7.2's command JSON files, and ZRANK and
ZREVRANK get 7.2's WITHSCORE argument.
"""

from __future__ import annotations

import argparse
import json
import os
import socket

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "kvstore", "commands",
                   "redis_commands.json")


# Redis 7.2's entries for the commands 7.0 lacks (src/commands/client-no-touch.json,
# client-setinfo.json and waitaof.json).
EXTRA = {
    "docs": {
        "client|no-touch": {
            "summary": "Controls whether commands sent by the client affect the LRU/LFU of "
                       "accessed keys.",
            "since": "7.2.0", "group": "connection", "complexity": "O(1)",
            "arguments": [{"name": "enabled", "type": "oneof", "arguments": [
                {"name": "on", "type": "pure-token", "token": "ON"},
                {"name": "off", "type": "pure-token", "token": "OFF"}]}],
        },
        "waitaof": {
            "summary": "Blocks until all of the preceding write commands sent by the connection "
                       "are written to the append-only file of the master and/or replicas.",
            "since": "7.2.0", "group": "generic", "complexity": "O(1)",
            "arguments": [{"name": "numlocal", "type": "integer"},
                          {"name": "numreplicas", "type": "integer"},
                          {"name": "timeout", "type": "integer"}],
        },
        "client|setinfo": {
            "summary": "Sets information specific to the client or connection.",
            "since": "7.2.0", "group": "connection", "complexity": "O(1)",
            "arguments": [{"name": "attr", "type": "oneof", "arguments": [
                {"name": "libname", "type": "string", "token": "lib-name"},
                {"name": "libver", "type": "string", "token": "lib-ver"}]}],
        },
    },
    "info": {
        "client|no-touch": {"tips": {"~": []}, "key_specs": {"~": []}},
        "client|setinfo": {"tips": {"~": []}, "key_specs": {"~": []}},
        "waitaof": {"tips": {"~": ["request_policy:all_shards", "response_policy:agg_min"]},
                    "key_specs": {"~": []}},
    },
}


class _Reader:
    """A RESP3 reader that keeps what hiredis folds away: sets apart from arrays, simple
    strings apart from bulk strings."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def line(self) -> bytes:
        return self.file.readline()[:-2]

    def read(self):
        head = self.line()
        kind, rest = head[:1], head[1:]
        if kind == b"$":
            data = self.file.read(int(rest) + 2)[:-2]
            return data.decode()
        if kind == b"=":  # verbatim (INFO): "txt:" and the text
            return self.file.read(int(rest) + 2)[4:-2].decode()
        if kind == b"+":
            return {"+": rest.decode()}
        if kind == b":":
            return int(rest)
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        if kind == b"~":
            return {"~": [self.read() for _ in range(int(rest))]}
        if kind == b"%":
            out = {}
            for _ in range(int(rest)):
                key = self.read()
                out[key] = self.read()
            return out
        if kind == b"_":
            return None
        if kind == b"-":
            raise RuntimeError(rest.decode())
        raise RuntimeError(f"unexpected RESP3 type {head[:20]!r}")


def fetch(port: int) -> dict:
    sock = socket.create_connection(("127.0.0.1", port))
    reader = _Reader(sock)

    def call(*args: str):
        sock.sendall(b"*%d\r\n" % len(args)
                     + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
        return reader.read()

    call("HELLO", "3")
    docs: dict = {}
    for name, doc in call("COMMAND", "DOCS").items():
        for sub, subdoc in doc.pop("subcommands", {}).items():
            docs[sub] = subdoc  # Redis names them "parent|sub"
        docs[name] = doc
    info: dict = {}

    def add_info(entry: list) -> None:
        info[entry[0]] = {"tips": entry[7], "key_specs": entry[8]}
        subs = entry[9]  # an empty set when there are none, else an array
        for sub in subs if isinstance(subs, list) else subs["~"]:
            add_info(sub)

    for entry in call("COMMAND", "INFO"):
        add_info(entry)
    version = call("INFO", "server").split("redis_version:")[1].split("\r\n")[0]
    sock.close()
    for section in ("docs", "info"):
        for name, entry in EXTRA[section].items():
            (docs if section == "docs" else info)[name] = entry
    for name in ("zrank", "zrevrank"):  # Redis 7.2's WITHSCORE, which kvstore takes
        args = docs[name].pop("arguments")
        docs[name]["history"] = {"~": [["7.2.0", "Added the optional `WITHSCORE` argument."]]}
        docs[name]["arguments"] = args + [{"name": "withscore", "type": "pure-token",
                                           "token": "WITHSCORE",
                                           "flags": {"~": [{"+": "optional"}]}}]
    return {"source": f"redis-server {version}: COMMAND DOCS and COMMAND INFO (BSD-3-Clause, "
                      "Copyright Redis Ltd. and contributors)",
            "docs": dict(sorted(docs.items())), "info": dict(sorted(info.items()))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    data = fetch(args.port)
    with open(args.out, "w") as f:
        json.dump(data, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    print(f"{args.out}: {len(data['docs'])} docs, {len(data['info'])} info entries")


if __name__ == "__main__":
    main()
