"""Group commit: replies leave only after their effects reached the AOF, with one write() per
event-loop iteration for every policy and, under `appendfsync always`, one fsync off the loop.

A batch's replies may only leave once its effects are written to the OS (everysec, no: a process
crash then loses nothing) or fsynced (always). The server already queues every reply of a loop
iteration and sends them together (kvstore/server/outbox.py); while an AOF is open, that queue
is handed to `commit` instead of being sent, as Redis's beforeSleep writes the AOF before the
client buffers:

    waiting   (always) their effects were written; they await an fsync
    inflight  (always) the batch whose fsync is running now, in a worker thread

`commit` writes the AOF buffer. Under everysec / no the batch is sent right after that write.
Under always it moves to `waiting`, and if no fsync is running one starts for everything
waiting; when it returns (back on the loop) the batch's replies are sent and the next fsync
starts if more are waiting. So the loop keeps running commands while the disk syncs, and every
fsync covers every command written before it started: a reply never leaves before its effects
are durable, whatever the client.

Order per connection is kept because batches are released in the order they were queued; a
batch that cannot be held (its connection is closing, or it ended with a protocol error) makes
the outbox `drain`, which writes (and under always fsyncs) on the loop and releases everything
held first. A write or fsync error is fatal under `always`, as in Redis (the process exits);
under the other policies a failed write keeps the data buffered and turns writes into MISCONF
errors, and the held replies (of writes already applied in memory) are released, as Redis does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


class GroupCommit:
    def __init__(self, persistence, loop, send) -> None:
        self.p = persistence
        self.loop = loop
        self.send = send  # the outbox's: writes each (client, bytes) to its transport
        self.waiting: list = []
        self.inflight: list | None = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="kvstore-fsync")
        self.fsyncs = 0

    def commit(self, batch: list) -> None:
        """Once per loop iteration, with its replies: write what it logged; send or hold them."""
        p = self.p
        w = p.writer
        always = w is not None and w.policy == "always"
        if not p.flush(fsync=False) and always:
            p.fatal_write_error()
        if not always and self.inflight is None and not self.waiting:
            if batch:
                self.send(batch)
            return
        self.waiting += batch
        if self.inflight is None and self.waiting:
            self._start()

    def _start(self) -> None:
        w = self.p.writer
        if w is None:  # CONFIG SET appendonly no meanwhile: nothing left to sync
            batch, self.waiting = self.waiting, []
            self.send(batch)
            return
        self.inflight, self.waiting = self.waiting, []
        self.fsyncs += 1
        fut = self.loop.run_in_executor(self.executor, w.fsync)
        fut.add_done_callback(self._done)

    def _done(self, fut) -> None:
        batch, self.inflight = self.inflight or [], None
        if fut.exception() is not None:
            self.p.log(f"Error: fsync of the AOF failed: {fut.exception()}")
            self.p.fatal_write_error()
        self.send(batch)
        if self.waiting:
            self._start()

    def drain(self, batch: list) -> None:
        """Write (and under always fsync) now, on the loop, and send every held reply, then
        `batch`, in order."""
        w = self.p.writer
        always = w is not None and w.policy == "always"
        if not self.p.flush(fsync=always) and always:
            self.p.fatal_write_error()
        if always and (self.inflight or self.waiting or batch):
            w.fsync()
        held = (self.inflight or []) + self.waiting + batch
        if self.inflight is not None:
            self.inflight = []  # its fsync callback finds nothing left to send
        self.waiting = []
        if held:
            self.send(held)
