"""How far a load has gone, and the server's chance to serve its clients meanwhile.

Redis listens while it loads its data set at start-up and answers LOADING to most commands: it
runs its event loop every loading-process-events-interval-bytes (2 MB) of the file. Our loaders
read their files in chunks of that many bytes (`chunk`, 1 MB at most: 10-80 ms of loading) and
call `Progress.step` after each, always between two records, where the keyspace is whole. The
server's `on_step` serves its clients there (server/loading.py) and may stop the load by raising
LoadingStopped. A Progress() with no hook only counts: the loads of the embedded store.

`key-load-delay` is Redis's debugging config that slows a load down (its tests use it to look at
a server while it loads): a delay in microseconds at each record, or, negative, 1 us at one
record in -delay. With it (`paced`) the loaders step at each record too; without it, a count
per record would cost 5% of a load.
"""

from __future__ import annotations

import random
import time
from typing import Callable

MAX_CHUNK = 1 << 20  # bytes per read of a file being loaded


def debug_delay(usec: int) -> None:
    """Redis's debugDelay, for key-load-delay and rdb-key-save-delay: sleep `usec`
    microseconds, or when negative 1 us once in -usec calls."""
    if usec > 0:
        time.sleep(usec / 1e6)
    elif usec and not random.randrange(-usec):
        time.sleep(1e-6)


class LoadingStopped(BaseException):
    """Raised by `on_step` to give the load up (SHUTDOWN or a signal meanwhile). A
    BaseException, as the loaders' `except Exception` must not take it for a bad record."""


class Progress:
    """A load's bytes, and the hook called at each step (see the module docstring)."""

    __slots__ = ("total", "loaded", "chunk", "delay_us", "paced", "on_step")

    def __init__(self, on_step: Callable[["Progress"], None] | None = None,
                 delay_us: int = 0, interval_bytes: int = MAX_CHUNK) -> None:
        self.total = 0   # bytes of the files to load
        self.loaded = 0  # bytes read of them so far
        self.chunk = min(interval_bytes, MAX_CHUNK)
        self.delay_us = delay_us
        self.paced = delay_us != 0  # a step at each record
        self.on_step = on_step

    def step(self) -> None:
        if self.delay_us:
            debug_delay(self.delay_us)
        if self.on_step is not None:
            self.on_step(self)

