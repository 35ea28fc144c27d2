"""Group commit for the server under `appendfsync always`, with the fsync off the event loop.

A batch's replies may only leave once its effects are fsynced. Instead of one fsync per client
batch, each on the loop, replies are held and released per fsync:

    deferred  replies of this loop iteration; their effects are still in the AOF buffer
    waiting   their effects were written (one os.write per iteration); they await an fsync
    inflight  the batch whose fsync is running now, in a worker thread

Once per loop iteration `commit` writes the buffer and moves `deferred` to `waiting`; if no
fsync is running it starts one for everything waiting. When that fsync returns (back on the loop)
the batch's replies are written, and the next fsync starts if more are waiting. So the loop keeps
running commands while the disk syncs, and every fsync covers every command written before it
started: a reply never leaves before its effects are durable, whatever the client.

Order per connection is kept because batches are released in the order they were written; a
batch that cannot be held (its connection is closing, or it ended with a protocol error) calls
`drain`, which writes, fsyncs on the loop and releases everything held first.
A write or fsync error is fatal under `always`, as in Redis (the process exits).
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

    def defer(self, transport, parts: list[bytes]) -> bool:
        """Hold a batch's replies until its effects are fsynced. False when the policy is not
        `always` or nothing is pending (the caller then flushes and writes at once)."""
        w = self.p.writer
        if w is None or w.policy != "always" or not (w.buf or self.pending()):
            return False
        self.deferred.append((transport, b"".join(parts)))
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.commit)
        return True

    def commit(self) -> None:
        """Once per loop iteration: write what the iteration logged, start an fsync."""
        self.scheduled = False
        if not self.p.flush(fsync=False):
            self.p.fatal_write_error()
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
        """Write and fsync now, on the loop, and release every held reply in order."""
        if not self.p.flush(fsync=True):
            self.p.fatal_write_error()
        w = self.p.writer
        if w is not None and (self.inflight or self.waiting or self.deferred):
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
