"""MONITOR, as redis-py's `monitor()` gives it: a connection of its own, taken from the client's
pool for as long as the `with` block lasts, on which the server streams every command it runs;
each line is read into a dict (`parse_line`).

    with client.monitor() as m:
        for command in m.listen():  # {"time", "db", "client_address", "client_port",
            ...                      #  "client_type", "command"}
"""

from __future__ import annotations

import re
from typing import Any, AsyncIterator, Iterator

from kvstore.errors import ResponseError

# `<time> [<db> <client>] "<arg>" "<arg>"...`: the client is `ip:port`, `unix:<path>` or `lua`
_LINE = re.compile(r"\[(\d+) (.*?)\] (.*)", re.S)
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)


def parse_line(line: Any) -> dict[str, Any]:
    """One MONITOR line as redis-py's Monitor.next_command returns it: its arguments joined by
    spaces, the quotes MONITOR escaped (`\\"`) given back."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else str(line)
    when, rest = text.split(" ", 1)
    found = _LINE.match(rest)
    if found is None:
        raise ResponseError(f"MONITOR line not understood: {text!r}")
    db, client, args = found.groups()
    command = " ".join(_ARG.findall(args)).replace('\\"', '"')
    if client == "lua":
        address, port, kind = "lua", "", "lua"
    elif client.startswith("unix"):
        address, port, kind = "unix", client[5:], "unix"
    else:  # (an IPv6 address holds colons: the port is after the last)
        address, port = client.rsplit(":", 1)
        kind = "tcp"
    return {"time": float(when), "db": int(db), "client_address": address,
            "client_port": port, "client_type": kind, "command": command}


def _started(reply: Any) -> None:
    if reply not in (b"OK", "OK"):
        raise ResponseError(f"MONITOR failed: {reply!r}")


class Monitor:
    """`Client.monitor()`: a context manager; `next_command()`, `listen()`."""

    def __init__(self, connection_pool: Any) -> None:
        self.connection_pool = connection_pool
        self.connection: Any = None

    def __enter__(self) -> "Monitor":
        if not hasattr(self.connection_pool, "make_connection"):
            raise ResponseError("MONITOR needs a server: memory:// runs no command stream")
        self.connection = self.connection_pool.get_connection()
        self.connection.send_command("MONITOR")
        _started(self.connection.read(b"monitor"))
        return self

    def __exit__(self, *exc: object) -> None:
        conn, self.connection = self.connection, None
        conn.disconnect()  # (a monitoring connection serves nothing else)
        self.connection_pool.release(conn)

    def next_command(self) -> dict[str, Any]:
        """The next command the server ran (waits for it)."""
        return parse_line(self.connection.read_raw(None))

    def listen(self) -> Iterator[dict[str, Any]]:
        while True:
            yield self.next_command()


class AsyncMonitor:
    """`AsyncClient.monitor()`: `async with`; `await next_command()`, `async for ... listen()`."""

    def __init__(self, connection_pool: Any) -> None:
        self.connection_pool = connection_pool
        self.connection: Any = None

    async def __aenter__(self) -> "AsyncMonitor":
        if not hasattr(self.connection_pool, "make_connection"):
            raise ResponseError("MONITOR needs a server: memory:// runs no command stream")
        self.connection = await self.connection_pool.get_connection()
        self.connection.send_command("MONITOR")
        _started(await self.connection.read(b"monitor"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        conn, self.connection = self.connection, None
        conn.disconnect()
        self.connection_pool.release(conn)

    async def next_command(self) -> dict[str, Any]:
        return parse_line(await self.connection.read_raw(None))

    async def listen(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.next_command()
