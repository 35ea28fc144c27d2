"""Streams in the differential run (fuzz.py): the replies and key states that carry times, made
comparable, and what a stream key's state is.

Times. The stream family never lets a time decide a reply (fuzz_gen's streams section: no `*`
IDs, min-idle-times of 0 or longer than anything is idle, XCLAIM TIME a fixed instant), but some
replies carry times, and the two servers run each command a few ms apart. Exactly those fields
are replaced by tokens, everything around them is compared as is:

* a Unix time in ms (XINFO STREAM FULL: a PEL entry's delivery time, a consumer's seen-time and
  its PEL entries' delivery times) within `WINDOW_MS` of now is "<now>"; any other (the fixed
  instant XCLAIM TIME gave) is compared exactly;
* an idle time in ms (XPENDING's extended form, XINFO CONSUMERS) under `WINDOW_MS` is "<idle>";
  a longer one is compared by the instant it implies, to the minute.

The fields are found by name in RESP2 field arrays and RESP3 maps alike (after `canon`), so a
reply of another shape (an error, a wrong type) is left as it is and shows in the diff.

State. A stream key is compared (`StreamDump`) by its XINFO STREAM FULL COUNT 0 (times as above)
and by the stream itself (`stream_view`: its listpack nodes with their tombstones, its ID and
entry counters, its groups with their PELs and consumers, times as above), read from the engine
on the embedded side and decoded from DUMP (engine/stream.py's `from_rdb`) on a server. The
oracle's DUMP payload travels with it: it is what a resync RESTOREs.
"""

from __future__ import annotations

import time

WINDOW_MS = 600_000   # a time this close to now was set by the run itself
STREAM_TIMES = {"XPENDING", "XINFO"}   # the commands whose replies carry times
XINFO_FULL = [b"XINFO", b"STREAM", None, b"FULL", b"COUNT", b"0"]


def now_ms() -> int:
    return int(time.time() * 1000)


def when(v):
    """A Unix time in ms: "<now>" if set by the run, else itself."""
    if type(v) is int and abs(v - now_ms()) < WINDOW_MS:
        return "<now>"
    return v


def idle(v):
    """An idle time in ms: "<idle>" if short, else the instant it implies, to the minute."""
    if type(v) is not int or v < 0:
        return v
    if v < WINDOW_MS:
        return "<idle>"
    return ("idle since minute", round((now_ms() - v) / 60_000))


# -- replies --------------------------------------------------------------------------------------

def _fields(v):
    """[[name, value], ...] of a RESP2 field array or a (canon'd) RESP3 map; None if neither."""
    if type(v) is tuple and v and v[0] == "map":
        return v[1]
    if type(v) is list and len(v) % 2 == 0 and all(type(k) is bytes for k in v[::2]):
        return [list(p) for p in zip(v[::2], v[1::2])]
    return None


def _fix(v, fixes: dict):
    """`v` (a field array or map) with fixes[name](value) applied to the named fields."""
    pairs = _fields(v)
    if pairs is None:
        return v
    pairs = [[k, fixes[k](x) if k in fixes else x] for k, x in pairs]
    return ("map", pairs) if type(v) is tuple else [x for p in pairs for x in p]


def _each(fix):
    return lambda v: [fix(x) for x in v] if type(v) is list else v


def _at(i, fix, size):
    """An array of `size` elements with fix applied to its i-th."""
    def f(v):
        if type(v) is not list or len(v) != size:
            return v
        return v[:i] + [fix(v[i])] + v[i + 1:]
    return f


_CONSUMER_FULL = {b"seen-time": when, b"pending": _each(_at(1, when, 3))}
_GROUP_FULL = {b"pending": _each(_at(2, when, 4)),
               b"consumers": _each(lambda c: _fix(c, _CONSUMER_FULL))}
_INFO_FULL = {b"groups": _each(lambda g: _fix(g, _GROUP_FULL))}


def stream_times(name: str, argv, v):
    """A successful reply of a STREAM_TIMES command with its time fields as tokens."""
    sub = argv[1].upper() if len(argv) > 1 else b""
    if name == "XPENDING" and len(argv) > 3:      # the extended form
        return _each(_at(2, idle, 4))(v)
    if name == "XINFO" and sub == b"CONSUMERS":
        return _each(lambda c: _fix(c, {b"idle": idle}))(v)
    if name == "XINFO" and sub == b"STREAM" and len(argv) > 3:   # FULL
        return _fix(v, _INFO_FULL)
    return v


# -- key state ------------------------------------------------------------------------------------

class StreamDump:
    """A stream key's compared state (`view`) and, on the oracle's side, its DUMP payload."""

    __slots__ = ("view", "payload")

    def __init__(self, view, payload: bytes | None = None) -> None:
        self.view = view
        self.payload = payload

    def __eq__(self, other) -> bool:
        return type(other) is StreamDump and self.view == other.view

    def __repr__(self) -> str:
        return f"StreamDump({self.view!r})"


def stream_view(s):
    """What a Stream (engine/stream.py) holds, times as tokens (see the module docstring)."""
    nodes = [(n.master, n.fields, list(n.ids), [n.flat(k) for k in range(len(n.ids))],
              bytes(n.alive)) for n in s.nodes]
    groups = []
    for name, g in sorted(s.groups.items()):
        pel = [(i, when(n.delivery_time), n.delivery_count,
                n.consumer.name if n.consumer is not None else None) for i, n in g.pel.items()]
        consumers = [(c.name, when(c.seen_time), list(c.pel)) for _, c in
                     sorted(g.consumers.items())]
        groups.append((name, g.last_id, g.entries_read, pel, consumers))
    return (s.length, s.last_id, s.first_id, s.max_deleted, s.entries_added, nodes, groups)


def stream_state(info_outcome, stream, payload: bytes | None = None) -> StreamDump:
    """The StreamDump of a key from its XINFO_FULL outcome and its Stream."""
    kind, info = info_outcome
    info = stream_times("XINFO", XINFO_FULL, info) if kind == "ok" else info_outcome
    view = stream if type(stream) is str else stream_view(stream)   # (str: why there is none)
    return StreamDump((info, view), payload)


def decode_stream(payload: bytes):
    """The Stream a DUMP payload holds (or why it holds none)."""
    from kvstore.engine import rdb

    body = rdb.unframe(payload) if type(payload) is bytes else None
    if body is None:
        return f"no stream payload: {payload!r}"[:200]
    try:
        kind, data = rdb.load(body)
    except rdb.RdbFormatError as exc:
        return f"bad format: {exc}"
    return data if kind == "stream" else f"not a stream: {kind}"
