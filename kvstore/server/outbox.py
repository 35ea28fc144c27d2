"""Replies leave once per event-loop iteration, after every read of that iteration has run.

Redis queues replies in client buffers and writes them in beforeSleep. Writing each client's
batch as soon as it ran instead makes every write() wake a reader that has gone back to sleep
(on this VM an inter-processor interrupt each time: at `redis-benchmark -P 16` that wakeup was
15% of the server's perf samples; serving all the iteration's reads before writing any reply
cut the server's CPU per request by 18-20%). So a batch's replies are queued here and `flush`
writes them all once the iteration's reads are done (a `call_soon`, run before the loop polls
again, so no request waits for another poll).

Everything a connection is sent goes through here, so it arrives in the order it was queued: its
own replies, pub/sub messages, a served BLPOP's reply, MONITOR lines. One exception keeps that
order: the reply to a read of a single command (`Client.data_received`) is written at once when
nothing is queued for anyone and no AOF is attached; waiting would gain it nothing. With an AOF
open, `commit` (persistence/group.py) takes each iteration's queue: it writes the iteration's
effects first and sends the replies after (under `appendfsync always`, after their fsync). A batch
that cannot wait (its connection is closing, or it ended with a protocol error) calls `drain`,
which sends everything queued before it, then the caller writes its own.

Output-buffer limits are checked where the bytes are handed to the transport, for the one client
whose transport kept some unsent.
"""

from __future__ import annotations

from typing import Any, Callable


class Outbox:
    __slots__ = ("server", "queued", "scheduled", "call_soon", "commit", "drain_held", "limited")

    def __init__(self, server) -> None:
        self.server = server
        self.limited = False  # a "normal" class output-buffer limit is set (server config)
        self.queued: list[tuple[Any, bytes]] = []  # (client, bytes) of this iteration
        self.scheduled = False
        self.call_soon: Callable | None = None  # the running loop's, set by Server.serve
        # Set while an AOF is attached (persistence/group.py): commit(batch) writes the AOF and
        # sends the batch (after an fsync under always); drain_held(batch) does it all now.
        self.commit: Callable[[list], None] | None = None
        self.drain_held: Callable[[list], None] | None = None

    def put(self, client, out: bytes) -> None:
        """Queue bytes for a client; they leave at the end of this loop iteration."""
        self.queued.append((client, out))
        if not self.scheduled:  # `schedule`, inlined: one call less per read
            self.scheduled = True
            self.call_soon(self.flush)  # type: ignore[misc]

    def schedule(self) -> None:
        """Flush at the end of this iteration even with nothing queued (an AOF write with no
        reply to carry it, under CLIENT REPLY OFF)."""
        if not self.scheduled:
            self.scheduled = True
            self.call_soon(self.flush)  # type: ignore[misc]

    def flush(self) -> None:
        self.scheduled = False
        batch, self.queued = self.queued, []
        if self.commit is not None:
            self.commit(batch)
        elif batch:
            self.send(batch)

    def drain(self) -> None:
        """Send now, in order, everything queued or held for the AOF."""
        batch, self.queued = self.queued, []
        if self.drain_held is not None:
            self.drain_held(batch)
        elif batch:
            self.send(batch)

    def send(self, batch: list[tuple[Any, bytes]]) -> None:
        limited = self.limited
        now = self.server.now_mono
        for client, out in batch:
            transport = client.transport
            if transport is not None and not transport.is_closing():
                # Redis counts a reply against the hard limit before writing any of it: one
                # reply over it closes the client (only a big one can be).
                if limited and len(out) > 65536 and self.server.over_hard_limit(client, len(out)):
                    continue
                transport.write(out)
                if transport.get_write_buffer_size():
                    self.server.check_output_limits(client)
                else:  # written through: as in Redis, a write that reaches the client is an
                    client.last_interaction = now  # interaction (`timeout`: a served BLPOP)
