"""maxmemory-clients: client eviction (Redis 7.0 `evictClients`).

While the clients together use more than the limit (`maxmemory-clients` bytes, or a percentage
of `maxmemory`), the biggest are closed first, as Redis does, until they fit; a client with
CLIENT NO-EVICT on, a replica and our master's link are never evicted. A client's memory here
is what it makes the server hold: its query buffer (with the arguments of a command still
arriving), its output waiting to be written, its queued MULTI commands, and an entry's
worth (ENTRY_BYTES) for each key it WATCHes and each channel or pattern it subscribes to, as
Redis counts those entries' overhead (not their names' bytes).

When. A read that leaves a client holding more than the whole limit evicts it at once (one
client growing a huge unfinished request); the sum over all clients is checked by the server's
cron, every 100 ms: O(clients), and only while the limit is set.
"""

from __future__ import annotations

from typing import Any


def limit(server: Any) -> int:
    """The limit in force, in bytes (0: none)."""
    value = server.config["maxmemory-clients"]
    if value >= 0:
        return value
    return server.memory.maxmemory * -value // 100  # a percentage of maxmemory (0 if unset)


# The overhead of one watched key or one subscription (a list node and a watchedKey, or a
# dict entry and its bucket, in Redis).
ENTRY_BYTES = 48


def entries_bytes(client: Any) -> int:
    """The watched keys' and subscriptions' share of a client's memory."""
    return ENTRY_BYTES * (len(client.watched) + len(client.subs) + len(client.psubs)
                          + len(client.ssubs))


def usage(client: Any) -> int:
    """Bytes `client` makes the server hold (see the module docstring): CLIENT LIST's
    tot-mem."""
    out = client.transport.get_write_buffer_size() if client.transport is not None else 0
    return client.parser.held() + out + client.queued_bytes() + entries_bytes(client)


def evictable(client: Any) -> bool:
    return not (client.no_evict or client.is_master or client.replica is not None)


def evict(server: Any, client: Any) -> None:
    server.log.verbose("Evicting client: %s", client.info_line())
    server.stats.evicted_clients += 1
    client.kill()


def check_client(server: Any, client: Any) -> None:
    """After a read: a client alone over the limit goes now."""
    cap = limit(server)
    if cap and evictable(client) and usage(client) > cap:
        evict(server, client)


def check_all(server: Any) -> None:
    """Cron: evict the biggest clients while all of them together exceed the limit."""
    cap = limit(server)
    if not cap:
        return
    # A client already closing (evicted or killed, its connection_lost not yet delivered)
    # frees its memory within an iteration: evicting it again would count it twice.
    sizes = [(usage(c), c) for c in server.clients.values()
             if c.transport is not None and not c.transport.is_closing()]
    total = sum(size for size, _ in sizes)
    if total <= cap:
        return
    for size, client in sorted(sizes, key=lambda sc: sc[0], reverse=True):
        if total <= cap:
            break
        if evictable(client):
            evict(server, client)
            total -= size
