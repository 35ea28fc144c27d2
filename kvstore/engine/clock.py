"""The clock. "Now" is read once per command (Redis `commandTimeSnapshot`) and passed down, so a
command sees one instant however long it runs. Tests replace the clock to move time by hand
instead of sleeping.
"""

from __future__ import annotations

import time


def wall_ms() -> int:
    """Milliseconds since the epoch: what absolute expiry times are stored in."""
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock for tests: `clock()` returns `now`, which the test advances with `advance(ms)`."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms
