"""A data set's loading, with clients served meanwhile (Redis's LOADING): the server's own at
start-up, or a replica's from the file its master sent.

Redis listens before it loads its data set, and runs its event loop while it loads: a client
that connects gets `LOADING Redis is loading the dataset in memory` for every command but those
flagged loading (INFO, CONFIG, CLIENT, SHUTDOWN, SELECT, MULTI, SUBSCRIBE, PUBLISH...; a PING
too is refused), INFO says how far the load has gone, and SHUTDOWN or a signal stops the server
there, without saving: the data set is not whole, and the files on disk still hold all of it.

The load runs on the loop's thread (`Server.loading_state`), so `Loading` does the loop's work
by hand, as for a busy script (busy.py), at the loaders' steps (persistence/progress.py), at
most every LOADING_POLL_S. The loop's signal handlers cannot run meanwhile either: Python's take
SIGTERM and SIGINT for the load's time, log Redis's line and ask for the shutdown, which the
next step carries out (a replica keeps its old data set); a second SIGINT exits there and then,
as Redis's "You insist...".
"""

from __future__ import annotations

import time

from ..persistence.progress import LoadingStopped, Progress
from .busy import WhileBlocked

LOADING_TEXT = "LOADING Redis is loading the dataset in memory"
LOADING_POLL_S = 0.005  # between two rounds of serving clients


class Loading(WhileBlocked):
    """The server's state while a data set loads (`Server.loading`); `client`: a replica's
    master link, not read meanwhile."""

    def __init__(self, server, client=None) -> None:
        super().__init__(server, client)
        config = server.config
        self.progress = Progress(self.step, config["key-load-delay"],
                                 config["loading-process-events-interval-bytes"])
        self.started = int(time.time())  # INFO's loading_start_time
        self.last = 0.0

    def step(self, progress: Progress) -> None:
        """The loaders' hook: serve, and give the load up once a shutdown is asked for."""
        now = time.perf_counter()
        if now - self.last >= LOADING_POLL_S:
            self.last = now
            self.serve()
        if self.server.stop_requested():
            raise LoadingStopped

    def info(self) -> list[tuple[str, object]]:
        """INFO persistence's loading_* fields, as Redis computes them."""
        p = self.progress
        perc = p.loaded / p.total * 100 if p.total else 0.0
        remaining = p.total - p.loaded if p.total else 1
        elapsed = int(time.time()) - self.started
        eta = 1 if elapsed == 0 else elapsed * remaining // (p.loaded + 1)
        return [("loading_start_time", self.started), ("loading_total_bytes", p.total),
                ("loading_rdb_used_mem", 0), ("loading_loaded_bytes", p.loaded),
                ("loading_loaded_perc", f"{perc:.2f}"), ("loading_eta_seconds", eta)]

    def abort(self) -> None:
        """The load was given up and the server stops: close what was accepted by hand."""
        for lsock in self.listeners:
            lsock.close()
        self._settle_accepted()
        for _, transport in self.accepted:
            transport.sock.close()
        self.accepted = []
