"""Write hooks, shared by both front doors (the server's `propagate`, the store's `_after_write`).

A write that changed the keyspace calls ONE callable: None when nothing listens (the caller skips
the call), the only hook itself in the common case (the AOF feed alone), else a fan-out that
calls each hook in order. Rebuilt whenever the list of hooks changes, never per write.
"""

from __future__ import annotations

from typing import Any, Callable


def fan_out(hooks: list[Callable[..., None]]) -> Callable[..., None] | None:
    """The one callable that runs `hooks` in order (see the module docstring)."""
    frozen = tuple(hooks)
    if len(frozen) < 2:
        return frozen[0] if frozen else None

    def call_all(*args: Any) -> None:
        for hook in frozen:
            hook(*args)

    return call_all
