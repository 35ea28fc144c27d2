"""Group commit: replies leave only after their effects reached the AOF, with one write() per
event-loop iteration for every policy and, under `appendfsync always`, one fsync off the loop.

A batch's replies may only leave once its effects are written to the OS (everysec, no: a process
crash then loses nothing) or fsynced (always). Instead of one write (and fsync) per client batch,
each on the loop, replies are held and released per iteration, as Redis's beforeSleep does:

    deferred  replies of this loop iteration; their effects are still in the AOF buffer
    waiting   (always) their effects were written; they await an fsync
    inflight  (always) the batch whose fsync is running now, in a worker thread

Once per loop iteration `commit` writes the buffer. Under everysec / no the deferred replies are
sent right after that write. Under always they move to `waiting`, and if no fsync is running one
starts for everything waiting; when it returns (back on the loop) the batch's replies are written
and the next fsync starts if more are waiting. So the loop keeps running commands while the disk
syncs, and every fsync covers every command written before it started: a reply never leaves
before its effects are durable, whatever the client.

Out-of-band replies (a served BLPOP, a pub/sub message, a keyspace notification) go through
`defer` too while anything is held, so they never overtake a reply or an effect before them.
Order per connection is kept because batches are released in the order they were written; a
batch that cannot be held (its connection is closing, or it ended with a protocol error) calls
`drain`, which writes (and under always fsyncs) on the loop and releases everything held first.
A write or fsync error is fatal under `always`, as in Redis (the process exits); under the other
policies a failed write keeps the data buffered and turns writes into MISCONF errors, and the
held replies (of writes already applied in memory) are released, as Redis does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


class GroupCommit:
    def __init__(self, persistence, loop) -> None:
        self.p = persistence
        self.loop = loop
        self.deferred: list = []
        self.waiting: list = []
        self.inflight: list | None = None
        self.scheduled = False
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="kvstore-fsync")
        self.fsyncs = 0

    def pending(self) -> bool:
        return bool(self.deferred or self.waiting or self.inflight is not None)

    def defer(self, transport, out: bytes) -> bool:
        """Hold replies until this iteration's effects are written (and fsynced under always).
        False when nothing is logged or held (the caller then writes at once)."""
        w = self.p.writer
        if w is None or not (w.buf or self.deferred or self.waiting or self.inflight is not None):
            return False
        self.deferred.append((transport, out))
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.commit)
        return True

    def commit(self) -> None:
        """Once per loop iteration: write what the iteration logged; release or start an fsync."""
        self.scheduled = False
        p = self.p
        w = p.writer
        always = w is not None and w.policy == "always"
        if not p.flush(fsync=False) and always:
            p.fatal_write_error()
        if not always and self.inflight is None and not self.waiting:
            batch, self.deferred = self.deferred, []
            _send(batch)
            return
        self.waiting += self.deferred
        self.deferred = []
        if self.inflight is None and self.waiting:
            self._start()

    def _start(self) -> None:
        w = self.p.writer
        if w is None:  # CONFIG SET appendonly no meanwhile: nothing left to sync
            batch, self.waiting = self.waiting, []
            _send(batch)
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
        _send(batch)
        if self.waiting:
            self._start()

    def drain(self) -> None:
        """Write (and under always fsync) now, on the loop, and release every held reply in
        order."""
        w = self.p.writer
        always = w is not None and w.policy == "always"
        if not self.p.flush(fsync=always) and always:
            self.p.fatal_write_error()
        if always and (self.inflight or self.waiting or self.deferred):
            w.fsync()
        batch = (self.inflight or []) + self.waiting + self.deferred
        if self.inflight is not None:
            self.inflight = []  # its fsync callback finds nothing left to send
        self.waiting, self.deferred = [], []
        _send(batch)


def _send(batch: list) -> None:
    for transport, out in batch:
        if not transport.is_closing():
            transport.write(out)
